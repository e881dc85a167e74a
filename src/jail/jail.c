// SPDX-License-Identifier: MIT
/* The jail (docs/jail.md).  jail_enter() runs its steps in a fixed order;
 * each step says in a comment why it is there and logs one line naming
 * itself when it fails. */
#include "jail/jail.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"

#define STATUS_MAX 8192		/* /proc/self/status is ~1.5 KiB */
#define CAP_WORDS 2		/* _LINUX_CAPABILITY_U32S_3 */

/* ---- pure helpers -------------------------------------------------------- */

const char *jail_path_problem(const char *path)
{
	const char *p;
	size_t len;

	if (!path || !*path)
		return "empty path";
	len = strlen(path);
	if (len >= PATH_MAX)
		return "path too long";
	if (path[0] != '/')
		return "not an absolute path";
	if (len == 1)
		return "the host's root directory cannot be the jail";
	if (path[len - 1] == '/')
		return "trailing '/' (give the canonical path)";
	for (p = path; *p;) {
		const char *c = p + 1, *end = strchrnul(c, '/');
		size_t n = (size_t)(end - c);

		if (n == 0)
			return "empty component '//' (give the canonical path)";
		if ((n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.'))
			return "'.' or '..' component (give the canonical "
			       "path)";
		if (n > NAME_MAX)
			return "component longer than NAME_MAX";
		p = end;
	}
	return NULL;
}

const char *jail_dir_problem(uid_t owner, gid_t group, mode_t mode,
			     bool jail_root, gid_t jail_gid)
{
	if (!S_ISDIR(mode))
		return "not a directory";
	if (owner != 0)
		return "not owned by root";
	if (jail_root) {
		if (mode & (S_IWGRP | S_IWOTH))
			return "writable by group or others";
		if (!(mode & S_IXOTH) &&
		    !(group == jail_gid && (mode & S_IXGRP)))
			return "not searchable by the jail's ids (needs o+x, "
			       "or g+x and the jail's gid as group)";
		return NULL;
	}
	/* In a sticky directory only root can rename the root-owned entry
	 * that leads on to the jail, so /tmp-like ancestors are fine. */
	if ((mode & (S_IWGRP | S_IWOTH)) && !(mode & S_ISVTX))
		return "writable by group or others (and not sticky)";
	return NULL;
}

const char *jail_ids_problem(uid_t uid, gid_t gid)
{
	if (uid == (uid_t)-1 || gid == (gid_t)-1)
		return "id 4294967295 (-1) is reserved";
	if (uid == 0)
		return "uid 0 (root) defeats the jail";
	if (gid == 0)
		return "gid 0 (root) defeats the jail";
	return NULL;
}

int jail_parse_id(const char *s, uint32_t *out)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v >= UINT32_MAX)
			return -ERANGE;
	}
	*out = (uint32_t)v;
	return 0;
}

static int add_range(struct jail_fd_range *r, unsigned int *n,
		     unsigned int max, unsigned int first, unsigned int last)
{
	if (*n >= max)
		return -ENOSPC;
	r[*n].first = first;
	r[*n].last = last;
	(*n)++;
	return 0;
}

int jail_close_plan(const int *keep, unsigned int nr_keep,
		    struct jail_fd_range *r, unsigned int max)
{
	unsigned int next = 3, n = 0, i;
	int ret;

	for (i = 0; i < nr_keep; i++)
		if (keep[i] < 0)
			return -EBADF;
	for (;;) {
		/* The smallest kept descriptor >= next: lists are short. */
		unsigned int k = UINT_MAX;

		for (i = 0; i < nr_keep; i++)
			if ((unsigned int)keep[i] >= next &&
			    (unsigned int)keep[i] < k)
				k = (unsigned int)keep[i];
		if (k == UINT_MAX)
			return add_range(r, &n, max, next, UINT_MAX) ?: (int)n;
		if (k > next) {
			ret = add_range(r, &n, max, next, k - 1);
			if (ret)
				return ret;
		}
		next = k + 1;	/* k <= INT_MAX: no overflow */
	}
}

/* "Key:" at the start of @line?  Then the text after it. */
static const char *field(const char *line, const char *key)
{
	size_t n = strlen(key);

	return strncmp(line, key, n) ? NULL : line + n;
}

/* @n numbers in @base, separated by blanks, up to the end of the line. */
static int parse_nums(const char *p, int base, uint64_t *v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		char *end;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!(base == 16 ? isxdigit((unsigned char)*p)
				 : (*p >= '0' && *p <= '9')))
			return -EINVAL;
		errno = 0;
		v[i] = strtoull(p, &end, base);
		if (errno)
			return -EINVAL;
		p = end;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	return (*p == '\n' || *p == '\0') ? 0 : -EINVAL;
}

int jail_parse_status(const char *text, struct jail_status *st)
{
	static const struct {
		const char *key;
		int base;
		unsigned int n;
	} keys[] = {
		{ "Uid:", 10, 4 }, { "Gid:", 10, 4 }, { "Threads:", 10, 1 },
		{ "NoNewPrivs:", 10, 1 }, { "CapInh:", 16, 1 },
		{ "CapPrm:", 16, 1 }, { "CapEff:", 16, 1 },
		{ "CapBnd:", 16, 1 }, { "CapAmb:", 16, 1 },
	};
	unsigned int seen = 0;
	uint64_t v[9][4];
	const char *line;

	memset(st, 0, sizeof(*st));
	for (line = text; line && *line;) {
		for (unsigned int k = 0; k < sizeof(keys) / sizeof(keys[0]);
		     k++) {
			const char *p = field(line, keys[k].key);

			if (!p)
				continue;
			if (parse_nums(p, keys[k].base, v[k], keys[k].n))
				return -EINVAL;
			if (keys[k].base == 10)
				for (unsigned int i = 0; i < keys[k].n; i++)
					if (v[k][i] > UINT32_MAX)
						return -EINVAL;
			seen |= 1U << k;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	if (seen != (1U << (sizeof(keys) / sizeof(keys[0]))) - 1)
		return -EINVAL;
	for (unsigned int i = 0; i < 4; i++) {
		st->uid[i] = (uint32_t)v[0][i];
		st->gid[i] = (uint32_t)v[1][i];
	}
	st->threads = (unsigned int)v[2][0];
	st->no_new_privs = (unsigned int)v[3][0];
	st->cap_inh = v[4][0];
	st->cap_prm = v[5][0];
	st->cap_eff = v[6][0];
	st->cap_bnd = v[7][0];
	st->cap_amb = v[8][0];
	return 0;
}

rlim_t jail_rlimit_value(rlim_t hard, rlim_t want)
{
	return want < hard ? want : hard;
}

/* ---- the steps ----------------------------------------------------------- */

struct jail_ctx {
	const struct jail_config *jc;
	int dir_fd;		/* O_PATH: the validated DIR */
	int status_fd;		/* /proc/self/status, read again at the end */
	struct stat dir_st;
};

static int fail(int err, const char *step, const char *what)
{
	log_err("jail: %s: %s", step, what ? what : strerror(err));
	return -err;
}

static int fail_errno(const char *step)
{
	int err = errno ? errno : EIO;

	return fail(err, step, NULL);
}

static int read_status(int fd, struct jail_status *st)
{
	static char buf[STATUS_MAX];
	size_t len = 0;

	for (;;) {
		ssize_t n = pread(fd, buf + len, sizeof(buf) - 1 - len,
				  (off_t)len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		len += (size_t)n;
		if (n == 0 || len == sizeof(buf) - 1)
			break;
	}
	buf[len] = '\0';
	return jail_parse_status(buf, st);
}

/* Descriptors 0-2 must be open before anything else is opened: a closed
 * stdin would otherwise be reused by a directory outside the jail, and
 * kept across it as "stdin". */
static int open_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		int nfd;

		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		nfd = open("/dev/null", O_RDWR);
		if (nfd != fd) {
			if (nfd >= 0)
				close(nfd);
			return fail(EBADF, "descriptors 0-2",
				    "cannot fill a closed one with /dev/null");
		}
	}
	return 0;
}

/* A directory descriptor kept across the jail is a way out of it (openat
 * with ".." from there), so none may be one. */
static int check_keep_fds(const int *keep, unsigned int nr_keep)
{
	struct stat st;

	if (nr_keep > JAIL_MAX_KEEP_FDS)
		return fail(EINVAL, "descriptors to keep", "too many");
	for (unsigned int i = 0; i < nr_keep + 3; i++) {
		int fd = i < 3 ? (int)i : keep[i - 3];

		if (fd < 0 || fstat(fd, &st)) {
			log_err("jail: descriptor %d to keep: not open", fd);
			return -EBADF;
		}
		if (S_ISDIR(st.st_mode)) {
			log_err("jail: descriptor %d to keep: a directory "
				"would lead out of the jail", fd);
			return -EBADF;
		}
	}
	return 0;
}

/* Open DIR one component at a time from "/", without following symlinks,
 * checking that nobody but root can change where the path leads
 * (jail_dir_problem).  The descriptor pins what was checked. */
static int open_jail_dir(struct jail_ctx *c)
{
	const char *path = c->jc->dir, *why;
	char name[NAME_MAX + 1];
	struct stat st;
	const char *p = path;
	int fd, nfd;

	fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return fail_errno("open /");
	for (;;) {
		bool last;
		size_t n;

		if (fstat(fd, &st)) {
			close(fd);
			return fail_errno("stat DIR");
		}
		last = *p == '\0';
		why = jail_dir_problem(st.st_uid, st.st_gid, st.st_mode, last,
				       c->jc->gid);
		if (why) {
			if (last)
				log_err("jail: DIR %s: %s", path, why);
			else
				log_err("jail: DIR %s: %.*s%s (above it): %s",
					path, (int)(p - path), path,
					p == path ? "/" : "", why);
			close(fd);
			return -EPERM;
		}
		if (last)
			break;
		p++;
		n = strcspn(p, "/");
		memcpy(name, p, n);
		name[n] = '\0';
		p += n;
		nfd = openat(fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW |
				       O_CLOEXEC);
		if (nfd < 0) {
			int err = errno;

			if (err == ENOTDIR &&
			    !fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) &&
			    S_ISLNK(st.st_mode))
				err = ELOOP;
			log_err("jail: DIR %s: %.*s: %s", path,
				(int)(p - path), path,
				err == ELOOP ? "a symbolic link (give the "
					       "canonical path)"
					     : strerror(err));
			/* e.g. "DIR /a/b/c: /a/b: No such file or directory" */
			close(fd);
			return -err;
		}
		close(fd);
		fd = nfd;
	}
	c->dir_fd = fd;
	c->dir_st = st;
	return 0;
}

/* DIR's path and ownership and the ids; on success @c->dir_fd pins DIR. */
static int check_config(struct jail_ctx *c)
{
	const struct jail_config *jc = c->jc;
	const char *why;

	why = jail_path_problem(jc->dir);
	if (why) {
		log_err("jail: DIR '%s': %s", jc->dir ? jc->dir : "", why);
		return -EINVAL;
	}
	why = jail_ids_problem(jc->uid, jc->gid);
	if (why) {
		log_err("jail: --uid %u --gid %u: %s", (unsigned int)jc->uid,
			(unsigned int)jc->gid, why);
		return -EINVAL;
	}
	return open_jail_dir(c);
}

int jail_validate(const struct jail_config *jc)
{
	struct jail_ctx c = { .jc = jc, .dir_fd = -1, .status_fd = -1 };
	int ret = check_config(&c);

	if (c.dir_fd >= 0)
		close(c.dir_fd);
	return ret;
}

/* Validate everything before changing anything. */
static int validate(struct jail_ctx *c, const int *keep,
		    unsigned int nr_keep)
{
	struct jail_status st;
	int ret;

	ret = open_std_fds();
	if (!ret)
		ret = check_keep_fds(keep, nr_keep);
	if (ret)
		return ret;
	c->status_fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (c->status_fd < 0)
		return fail(errno, "/proc/self/status",
			    "cannot open it (is /proc mounted?)");
	ret = read_status(c->status_fd, &st);
	if (ret)
		return fail(-ret, "/proc/self/status", "cannot parse it");
	/* Credentials, capabilities and unshare(CLONE_NEWNS) are per thread:
	 * another thread would keep them all. */
	if (st.threads != 1) {
		log_err("jail: %u threads: the jail must be entered before any "
			"thread is started", st.threads);
		return -EINVAL;
	}
	return check_config(c);
}

/* Nothing the parent had open may reach into the jail: close everything
 * but 0-2, the caller's @keep and our two descriptors. */
static int close_fds(const struct jail_ctx *c, const int *keep,
		     unsigned int nr_keep)
{
	int all[JAIL_MAX_KEEP_FDS + 2];
	struct jail_fd_range r[JAIL_MAX_KEEP_FDS + 3];
	int n;

	if (nr_keep)
		memcpy(all, keep, nr_keep * sizeof(*keep));
	all[nr_keep] = c->dir_fd;
	all[nr_keep + 1] = c->status_fd;
	n = jail_close_plan(all, nr_keep + 2, r, JAIL_MAX_KEEP_FDS + 3);
	if (n < 0)
		return fail(-n, "close inherited descriptors", NULL);
	for (int i = 0; i < n; i++)
		if (close_range(r[i].first, r[i].last, 0))
			return fail_errno("close_range");
	return 0;
}

/* The environment is the caller's, not ours: nothing in it may steer the
 * VMM (and it may hold secrets).  A private umask keeps what the jailed
 * process creates (e.g. --dump-dtb) to its own uid. */
static void clear_env(void)
{
	clearenv();
	umask(077);
}

/* Neither execve() nor anything else may ever gain privileges again; it
 * also lets the VM process install seccomp filters without privileges. */
static int set_no_new_privs(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return fail_errno("PR_SET_NO_NEW_PRIVS");
	return 0;
}

static int set_rlimit(int res, const char *name, rlim_t want)
{
	struct rlimit rl;

	if (getrlimit(res, &rl))
		return fail_errno(name);
	rl.rlim_cur = rl.rlim_max = jail_rlimit_value(rl.rlim_max, want);
	if (setrlimit(res, &rl))
		return fail_errno(name);
	return 0;
}

/* RLIMIT_NOFILE bounds a descriptor leak (soft = hard: it cannot be raised
 * back); RLIMIT_CORE 0 keeps guest RAM out of core files.  No RLIMIT_NPROC:
 * it counts every thread of the uid on the whole host (see docs/jail.md). */
static int set_rlimits(const struct jail_config *jc)
{
	return set_rlimit(RLIMIT_NOFILE, "RLIMIT_NOFILE",
			  jc->nofile ? jc->nofile : JAIL_DEFAULT_NOFILE) ?:
	       set_rlimit(RLIMIT_CORE, "RLIMIT_CORE", 0);
}

/* A mount namespace of our own, so the jail's mounts are invisible to the
 * host and the host's are dropped from ours; a private IPC namespace (no
 * SysV/POSIX IPC with other processes of the uid); optionally an empty
 * network namespace and a PID namespace for our children. */
static int enter_namespaces(const struct jail_config *jc)
{
	int flags = CLONE_NEWNS | CLONE_NEWIPC;

	if (jc->new_netns)
		flags |= CLONE_NEWNET;
	if (jc->new_pidns)
		flags |= CLONE_NEWPID;
	if (unshare(flags))
		return fail_errno("unshare namespaces");
	return 0;
}

static unsigned long mount_flags(const struct statvfs *sv)
{
	static const struct {
		unsigned long st, ms;
	} map[] = {
		{ ST_RDONLY, MS_RDONLY }, { ST_NODEV, MS_NODEV },
		{ ST_NOATIME, MS_NOATIME }, { ST_NODIRATIME, MS_NODIRATIME },
		{ ST_RELATIME, MS_RELATIME },
		{ ST_SYNCHRONOUS, MS_SYNCHRONOUS },
	};
	unsigned long ms = 0;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (sv->f_flag & map[i].st)
			ms |= map[i].ms;
	return ms;
}

/* Make DIR a mount of its own (pivot_root wants a mount point), nosuid and
 * noexec on top of what it had, and make it the working directory.  Every
 * mount is private first: nothing we do propagates back to the host. */
static int mount_jail(const struct jail_ctx *c)
{
	const char *dir = c->jc->dir;
	struct statvfs sv;
	struct stat st;
	int fd;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return fail_errno("make / private");
	if (mount(dir, dir, NULL, MS_BIND | MS_REC, NULL))
		return fail_errno("bind-mount DIR");
	fd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fail_errno("open DIR's bind mount");
	if (fstat(fd, &st) || st.st_dev != c->dir_st.st_dev ||
	    st.st_ino != c->dir_st.st_ino) {
		close(fd);
		return fail(ESTALE, "bind-mount DIR",
			    "DIR changed while the jail was set up");
	}
	if (fchdir(fd)) {
		close(fd);
		return fail_errno("chdir DIR");
	}
	close(fd);
	if (statvfs(".", &sv))
		return fail_errno("statvfs DIR");
	if (mount(NULL, ".", NULL, MS_REMOUNT | MS_BIND | MS_NOSUID |
		  MS_NOEXEC | mount_flags(&sv), NULL))
		return fail_errno("remount DIR nosuid,noexec");
	return 0;
}

/* DIR (the working directory, a mount) becomes "/" and the host's tree is
 * detached.  pivot_root(".", ".") stacks the old root on the new one, and
 * umount2(".") takes it off (pivot_root(2)).  An initramfs root cannot be
 * pivoted (EINVAL): then DIR is moved over "/" and chroot'ed into, as
 * switch_root does; the host's tree stays attached below, but unreachable
 * without capabilities and without a descriptor into it. */
static int switch_root(void)
{
	if (syscall(SYS_pivot_root, ".", ".") == 0) {
		if (umount2(".", MNT_DETACH))
			return fail_errno("detach the old root");
	} else if (errno == EINVAL) {
		log_info("jail: pivot_root not possible (root on initramfs?): "
			 "moving DIR over / and chroot");
		if (mount(".", "/", NULL, MS_MOVE, NULL))
			return fail_errno("move DIR over /");
		if (chroot("."))
			return fail_errno("chroot DIR");
	} else {
		return fail_errno("pivot_root DIR");
	}
	if (chdir("/"))
		return fail_errno("chdir /");
	return 0;
}

/* /dev is a small tmpfs of our own holding only kvm (10:232, uid:gid,
 * 0660), remounted read-only.  Nothing is written on the host's disk, no
 * stale node outlives the jail, DIR may be nodev, and the node's owner is
 * this jail's uid whatever the host's /dev/kvm permissions are. */
static int make_dev(const struct jail_config *jc)
{
	struct stat st;

	if (lstat("/dev", &st)) {
		if (errno != ENOENT)
			return fail_errno("stat DIR/dev");
		if (mkdir("/dev", 0755) || chmod("/dev", 0755))
			return fail_errno("create DIR/dev");
	} else if (!S_ISDIR(st.st_mode)) {
		return fail(ENOTDIR, "DIR/dev", "not a directory");
	}
	if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC,
		  "mode=0755,size=4k,nr_inodes=8"))
		return fail_errno("mount tmpfs on /dev");
	if (mknod("/dev/kvm", S_IFCHR | 0660,
		  makedev(JAIL_KVM_MAJOR, JAIL_KVM_MINOR)))
		return fail_errno("mknod /dev/kvm");
	if (fchownat(AT_FDCWD, "/dev/kvm", jc->uid, jc->gid,
		     AT_SYMLINK_NOFOLLOW) ||
	    fchmodat(AT_FDCWD, "/dev/kvm", 0660, 0))
		return fail_errno("chown /dev/kvm");
	if (mount(NULL, "/dev", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY |
		  MS_NOSUID | MS_NOEXEC, NULL))
		return fail_errno("remount /dev read-only");
	return 0;
}

/* The bounding set limits what any later execve() could grant; dropping
 * from it needs CAP_SETPCAP, so it comes before the uid change.  Ambient
 * capabilities would survive the uid change; KEEPCAPS would keep the
 * permitted set across it. */
static int drop_bounding(void)
{
	unsigned long cap;

	for (cap = 0; cap < 64; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
			continue;
		if (errno == EINVAL && cap > 0)
			break;	/* past the kernel's CAP_LAST_CAP */
		return fail_errno("PR_CAPBSET_DROP");
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0))
		return fail_errno("PR_CAP_AMBIENT_CLEAR_ALL");
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0))
		return fail_errno("PR_SET_KEEPCAPS");
	return 0;
}

/* Supplementary groups first (root's would stay otherwise), then gid
 * while we still may, then uid: all three of real, effective, saved. */
static int change_ids(const struct jail_config *jc)
{
	if (setgroups(0, NULL))
		return fail_errno("setgroups");
	if (setresgid(jc->gid, jc->gid, jc->gid))
		return fail_errno("setresgid");
	if (setresuid(jc->uid, jc->uid, jc->uid))
		return fail_errno("setresuid");
	return 0;
}

static int capget_all(struct __user_cap_data_struct d[CAP_WORDS])
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};

	return (int)syscall(SYS_capget, &h, d);
}

/* Leaving root already empties the effective and permitted sets unless a
 * securebit said otherwise; set all three sets empty explicitly.  Not
 * dumpable: other processes of the uid cannot ptrace or read us. */
static int clear_caps(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[CAP_WORDS];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capset, &h, d))
		return fail_errno("capset");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		return fail_errno("PR_SET_DUMPABLE");
	return 0;
}

static int verify_caps(void)
{
	struct __user_cap_data_struct d[CAP_WORDS];

	if (capget_all(d))
		return fail_errno("verify: capget");
	for (int i = 0; i < CAP_WORDS; i++)
		if (d[i].effective || d[i].permitted || d[i].inheritable)
			return fail(EPERM, "verify", "capabilities remain");
	for (unsigned long cap = 0; cap < 64; cap++) {
		int r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);

		if (r < 0 && errno == EINVAL)
			break;
		if (r != 0)
			return fail(EPERM, "verify",
				    "bounding set not empty");
	}
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return fail(EPERM, "verify", "no_new_privs not set");
	return 0;
}

static int verify_status(const struct jail_ctx *c)
{
	const struct jail_config *jc = c->jc;
	struct jail_status st;
	int ret = read_status(c->status_fd, &st);

	if (ret)
		return fail(-ret, "verify: /proc/self/status", NULL);
	for (int i = 0; i < 4; i++)
		if (st.uid[i] != jc->uid || st.gid[i] != jc->gid)
			return fail(EPERM, "verify: /proc/self/status",
				    "uid/gid not changed");
	if (st.cap_inh || st.cap_prm || st.cap_eff || st.cap_bnd ||
	    st.cap_amb || st.no_new_privs != 1)
		return fail(EPERM, "verify: /proc/self/status",
			    "capabilities remain or no_new_privs unset");
	return 0;
}

/* Check what the kernel says, not what we asked for. */
static int verify(const struct jail_ctx *c)
{
	const struct jail_config *jc = c->jc;
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	struct stat st;
	int ret;

	if (getresuid(&ru, &eu, &su) || getresgid(&rg, &eg, &sg))
		return fail_errno("verify: getresuid");
	if (ru != jc->uid || eu != jc->uid || su != jc->uid ||
	    rg != jc->gid || eg != jc->gid || sg != jc->gid)
		return fail(EPERM, "verify", "uid/gid not changed");
	if (getgroups(0, NULL) != 0)
		return fail(EPERM, "verify", "supplementary groups remain");
	ret = verify_caps();
	if (!ret)
		ret = verify_status(c);
	if (ret)
		return ret;
	if (setresuid(0, 0, 0) == 0 || errno != EPERM)
		return fail(EPERM, "verify", "could become root again");
	if (stat("/", &st) || st.st_dev != c->dir_st.st_dev ||
	    st.st_ino != c->dir_st.st_ino)
		return fail(EPERM, "verify", "/ is not DIR");
	return 0;
}

int jail_enter(const struct jail_config *jc, const int *keep_fds,
	       unsigned int nr_keep)
{
	struct jail_ctx c = { .jc = jc, .dir_fd = -1, .status_fd = -1 };
	int ret;

	ret = validate(&c, keep_fds, nr_keep);
	if (!ret)
		ret = close_fds(&c, keep_fds, nr_keep);
	if (!ret) {
		clear_env();
		ret = set_no_new_privs() ?: set_rlimits(jc) ?:
		      enter_namespaces(jc) ?: mount_jail(&c) ?:
		      switch_root() ?: make_dev(jc) ?: drop_bounding() ?:
		      change_ids(jc) ?: clear_caps() ?: verify(&c);
	}
	if (c.dir_fd >= 0)
		close(c.dir_fd);
	if (c.status_fd >= 0)
		close(c.status_fd);
	if (!ret)
		log_info("jail: in %s as %u:%u%s%s", jc->dir,
			 (unsigned int)jc->uid, (unsigned int)jc->gid,
			 jc->new_pidns ? ", new PID namespace" : "",
			 jc->new_netns ? ", new network namespace" : "");
	return ret;
}

/* ---- the PID namespace's init -------------------------------------------- */

/* The stop signals forwarded to the PID namespace's init. */
static void stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

/* In the child: die with the original process.  Its write end of @alive
 * is closed when it dies: a hang-up means it died before PDEATHSIG was
 * armed.  The caller's signal mask comes back, plus the stop signals: PID 1
 * would drop them unblocked and unhandled. */
static int pidns_child(int alive, sigset_t *old)
{
	struct pollfd p = { .fd = alive, .events = POLLIN };
	sigset_t stop;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0))
		return fail_errno("PR_SET_PDEATHSIG");
	if (poll(&p, 1, 0) != 0) {
		close(alive);
		return fail(ESRCH, "PID namespace", "parent died");
	}
	close(alive);
	if (getpid() != 1)
		return fail(EINVAL, "PID namespace",
			    "not PID 1: jail_enter() without new_pidns?");
	stop_signals(&stop);
	sigorset(old, old, &stop);
	sigprocmask(SIG_SETMASK, old, NULL);
	return JAIL_PIDNS_INIT;
}

/* In the original process: wait for the child, forwarding stop signals. */
static int pidns_wait(pid_t pid, const sigset_t *set, int *exit_status)
{
	siginfo_t si;
	int ws;

	for (;;) {
		pid_t r;

		if (sigwaitinfo(set, &si) < 0) {
			if (errno == EINTR)
				continue;
			return fail_errno("PID namespace: sigwaitinfo");
		}
		if (si.si_signo != SIGCHLD) {
			kill(pid, si.si_signo);
			continue;
		}
		r = waitpid(pid, &ws, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return fail_errno("PID namespace: waitpid");
	}
	*exit_status = WIFEXITED(ws) ? WEXITSTATUS(ws)
		     : 128 + (WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
	return JAIL_PIDNS_OUTSIDE;
}

int jail_pidns_fork(int *exit_status)
{
	sigset_t set, old;
	int alive[2], ret;
	pid_t pid;

	stop_signals(&set);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, &old))
		return fail_errno("PID namespace: sigprocmask");
	if (pipe2(alive, O_CLOEXEC)) {
		ret = fail_errno("PID namespace: pipe");
		sigprocmask(SIG_SETMASK, &old, NULL);
		return ret;
	}
	signal(SIGCHLD, SIG_DFL);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		ret = fail_errno("PID namespace: fork");
		close(alive[0]);
		close(alive[1]);
		sigprocmask(SIG_SETMASK, &old, NULL);
		return ret;
	}
	if (pid == 0) {
		close(alive[1]);
		return pidns_child(alive[0], &old);
	}
	close(alive[0]);
	ret = pidns_wait(pid, &set, exit_status);
	close(alive[1]);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return ret;
}
