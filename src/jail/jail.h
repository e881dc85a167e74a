/* SPDX-License-Identifier: MIT */
/* The jail: `rivet run --jail DIR --uid U --gid G` confines the rivet
 * process before any guest input is read.  jail_enter() validates DIR and
 * the ids, closes inherited descriptors, clears the environment, sets
 * PR_SET_NO_NEW_PRIVS and rlimits, enters new mount (and IPC, optionally
 * network and PID) namespaces, makes DIR the root with /dev/kvm as its only
 * device, drops every capability and changes to U:G, then checks that all
 * of it took.  Rules, reasons and set-up: docs/jail.md.
 *
 * Errors: one log_err() line naming the step and the reason, and -errno.
 * Nothing here exits.  After a failure past validation the process is
 * half-jailed: the caller must exit. */
#ifndef RIVET_JAIL_H
#define RIVET_JAIL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#define JAIL_DEFAULT_NOFILE 256	/* RLIMIT_NOFILE when jail_config has 0 */
#define JAIL_MAX_KEEP_FDS 64	/* most descriptors jail_enter() can keep */
#define JAIL_KVM_MAJOR 10	/* KVM_MINOR in linux/miscdevice.h: fixed */
#define JAIL_KVM_MINOR 232

struct jail_config {
	const char *dir;	/* canonical absolute path; becomes "/" */
	uid_t uid;		/* not 0, not -1 */
	gid_t gid;		/* not 0, not -1 */
	bool new_pidns;		/* children start in a new PID namespace */
	bool new_netns;		/* a new, empty network namespace */
	unsigned int nofile;	/* RLIMIT_NOFILE; 0: JAIL_DEFAULT_NOFILE */
};

/* Confine the calling process as described above.  Must be called while
 * the process is single-threaded.  Descriptors 0-2 and @keep_fds (at most
 * JAIL_MAX_KEEP_FDS; none may be a directory) stay open, every other one is
 * closed.  On success the process runs as jc->uid:jc->gid with no
 * capabilities, "/" is DIR and "/dev/kvm" is a character device 10:232
 * owned by uid:gid, mode 0660; paths are then resolved inside DIR.
 * With jc->new_pidns, call jail_pidns_fork() next, before any other fork. */
int jail_enter(const struct jail_config *jc, const int *keep_fds,
	       unsigned int nr_keep);

/* The checks jail_enter() starts with, without changing anything: DIR's
 * path, the owner and mode of DIR and of each directory above it, the ids.
 * For the command line: a failure is the operator's (one log_err() line,
 * -EINVAL, -ENOENT, -ENOTDIR, -ELOOP or -EPERM). */
int jail_validate(const struct jail_config *jc);

/* jail_pidns_fork() results. */
enum jail_pidns_side { JAIL_PIDNS_INIT = 0, JAIL_PIDNS_OUTSIDE = 1 };

/* After jail_enter() with new_pidns: fork the process that is PID 1 of the
 * new PID namespace.  Only one process can ever be PID 1 there (when it
 * exits the namespace is gone and fork() fails), so it must be the
 * long-lived monitor that forks the VM processes, not a VM process.
 *
 * Returns JAIL_PIDNS_INIT in that child: it goes on as the monitor.  PID 1
 * drops signals it neither blocks nor handles, so the child starts with the
 * caller's signal mask plus SIGINT, SIGTERM and SIGHUP blocked: read them
 * from a signalfd, as rivet's monitor does.  The child gets SIGKILL if the
 * original process dies.
 *
 * Returns JAIL_PIDNS_OUTSIDE in the original process once the child has
 * ended, with its status in @exit_status (its exit code, or 128 + N if
 * signal N killed it); meanwhile SIGINT, SIGTERM and SIGHUP sent to it are
 * forwarded to the child.  The caller exits with that status.
 * -errno if fork() failed. */
int jail_pidns_fork(int *exit_status);

/* ---- pure helpers (unit-tested without privileges) ----------------------- */

/* Why @path cannot name a jail directory (not absolute, "/", not canonical:
 * empty, "." or ".." components, trailing '/'), or NULL if it can. */
const char *jail_path_problem(const char *path);

/* Why a directory with this owner/group/mode is unfit as an ancestor of the
 * jail directory (@jail_root false: root-owned, not writable by group or
 * others unless sticky) or as the jail directory itself (@jail_root true:
 * root-owned, not writable by group or others, searchable by the jail's
 * ids: o+x, or g+x with group @jail_gid), or NULL if fit. */
const char *jail_dir_problem(uid_t owner, gid_t group, mode_t mode,
			     bool jail_root, gid_t jail_gid);

/* Why @uid:@gid cannot be the jail's ids (0 or -1), or NULL. */
const char *jail_ids_problem(uid_t uid, gid_t gid);

/* "1000" -> 1000: decimal digits only, 0 to 4294967294.  -EINVAL for
 * anything else, -ERANGE if too large. */
int jail_parse_id(const char *s, uint32_t *out);

/* Descriptors [first, last] to close. */
struct jail_fd_range {
	unsigned int first, last;
};

/* The ranges covering every descriptor from 3 up that is not in @keep
 * (duplicates and 0-2 allowed).  Returns the number of ranges written to
 * @r, -EBADF for a negative descriptor, -ENOSPC if @max is too small
 * (nr_keep + 1 always suffices). */
int jail_close_plan(const int *keep, unsigned int nr_keep,
		    struct jail_fd_range *r, unsigned int max);

/* What jail_enter() reads from /proc/self/status. */
struct jail_status {
	uint32_t uid[4], gid[4];	/* real, effective, saved, fs */
	unsigned int threads;
	unsigned int no_new_privs;
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
};

/* Parse /proc/PID/status text.  -EINVAL if a field above is missing or
 * malformed. */
int jail_parse_status(const char *text, struct jail_status *st);

/* The rlimit to set for @want when the current hard limit is @hard: never
 * above @hard (raising needs CAP_SYS_RESOURCE). */
rlim_t jail_rlimit_value(rlim_t hard, rlim_t want);

#endif
