// SPDX-License-Identifier: MIT
/* The jail.  The pure rules (paths, directory owners and modes, ids, which
 * descriptors to close, /proc status parsing, rlimits) are tested in
 * process.  The tests named root_* need root (CAP_SYS_ADMIN and friends):
 * each forks a child that really enters a jail built in a temporary
 * directory, reports what it sees from inside over a pipe, and is also
 * inspected from outside through /proc/PID.  Without root they fail with
 * a message saying so. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/capability.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "jail/jail.h"

#define JAIL_UID 4242
#define JAIL_GID 4343
#define HELLO "hello from the jail dir\n"

extern char **environ;

/* ---- pure rules ---------------------------------------------------------- */

static void test_path_rules(void **state)
{
	char longp[PATH_MAX + 8], longc[NAME_MAX + 3];

	(void)state;
	assert_null(jail_path_problem("/srv/rivet/vm1"));
	assert_null(jail_path_problem("/a"));
	assert_null(jail_path_problem("/a/.hidden/..x/x.."));
	assert_non_null(jail_path_problem(NULL));
	assert_non_null(jail_path_problem(""));
	assert_non_null(jail_path_problem("srv/rivet"));
	assert_non_null(jail_path_problem("./srv"));
	assert_non_null(jail_path_problem("/"));
	assert_non_null(jail_path_problem("//"));
	assert_non_null(jail_path_problem("//srv"));
	assert_non_null(jail_path_problem("/srv//rivet"));
	assert_non_null(jail_path_problem("/srv/"));
	assert_non_null(jail_path_problem("/srv/."));
	assert_non_null(jail_path_problem("/srv/./x"));
	assert_non_null(jail_path_problem("/srv/../etc"));
	assert_non_null(jail_path_problem("/.."));
	memset(longp, 'a', sizeof(longp));
	longp[0] = '/';
	longp[PATH_MAX] = '\0';
	assert_non_null(jail_path_problem(longp));
	longc[0] = '/';
	memset(longc + 1, 'b', NAME_MAX + 1);
	longc[NAME_MAX + 2] = '\0';
	assert_non_null(jail_path_problem(longc));
	longc[NAME_MAX + 1] = '\0';
	assert_null(jail_path_problem(longc));
}

static void test_dir_rules(void **state)
{
	(void)state;
	/* Ancestors: root-owned, not writable by others unless sticky. */
	assert_null(jail_dir_problem(0, 0, S_IFDIR | 0755, false, 1));
	assert_null(jail_dir_problem(0, 0, S_IFDIR | 0700, false, 1));
	assert_null(jail_dir_problem(0, 0, S_IFDIR | 01777, false, 1));
	assert_null(jail_dir_problem(0, 5, S_IFDIR | 01775, false, 1));
	assert_non_null(jail_dir_problem(0, 0, S_IFDIR | 0777, false, 1));
	assert_non_null(jail_dir_problem(0, 0, S_IFDIR | 0775, false, 1));
	assert_non_null(jail_dir_problem(0, 0, S_IFDIR | 0757, false, 1));
	assert_non_null(jail_dir_problem(1000, 0, S_IFDIR | 0755, false, 1));
	assert_non_null(jail_dir_problem(0, 0, S_IFREG | 0755, false, 1));
	assert_non_null(jail_dir_problem(0, 0, S_IFLNK | 0777, false, 1));
	/* The jail itself: never writable by others, even sticky; the jail's
	 * ids must be able to search it. */
	assert_null(jail_dir_problem(0, 0, S_IFDIR | 0755, true, 7));
	assert_null(jail_dir_problem(0, 0, S_IFDIR | 0711, true, 7));
	assert_null(jail_dir_problem(0, 7, S_IFDIR | 0750, true, 7));
	assert_null(jail_dir_problem(0, 7, S_IFDIR | 0710, true, 7));
	assert_non_null(jail_dir_problem(0, 8, S_IFDIR | 0750, true, 7));
	assert_non_null(jail_dir_problem(0, 0, S_IFDIR | 0700, true, 7));
	assert_non_null(jail_dir_problem(0, 0, S_IFDIR | 01777, true, 7));
	assert_non_null(jail_dir_problem(0, 7, S_IFDIR | 0770, true, 7));
	assert_non_null(jail_dir_problem(0, 0, S_IFDIR | 0757, true, 7));
	assert_non_null(jail_dir_problem(7, 7, S_IFDIR | 0755, true, 7));
	assert_non_null(jail_dir_problem(0, 0, S_IFREG | 0755, true, 7));
}

static void test_id_rules(void **state)
{
	uint32_t v = 99;

	(void)state;
	assert_null(jail_ids_problem(1000, 1000));
	assert_null(jail_ids_problem(1, 1));
	assert_null(jail_ids_problem(4294967294U, 4294967294U));
	assert_non_null(jail_ids_problem(0, 1000));
	assert_non_null(jail_ids_problem(1000, 0));
	assert_non_null(jail_ids_problem((uid_t)-1, 1000));
	assert_non_null(jail_ids_problem(1000, (gid_t)-1));

	assert_int_equal(jail_parse_id("1000", &v), 0);
	assert_int_equal(v, 1000);
	assert_int_equal(jail_parse_id("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(jail_parse_id("007", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(jail_parse_id("4294967294", &v), 0);
	assert_int_equal(v, 4294967294U);
	assert_int_equal(jail_parse_id("4294967295", &v), -ERANGE);
	assert_int_equal(jail_parse_id("99999999999999999999999", &v),
			 -ERANGE);
	assert_int_equal(jail_parse_id(NULL, &v), -EINVAL);
	assert_int_equal(jail_parse_id("", &v), -EINVAL);
	assert_int_equal(jail_parse_id("-1", &v), -EINVAL);
	assert_int_equal(jail_parse_id("+5", &v), -EINVAL);
	assert_int_equal(jail_parse_id(" 5", &v), -EINVAL);
	assert_int_equal(jail_parse_id("5 ", &v), -EINVAL);
	assert_int_equal(jail_parse_id("0x10", &v), -EINVAL);
	assert_int_equal(jail_parse_id("nobody", &v), -EINVAL);
	assert_int_equal(v, 4294967294U);	/* untouched on error */
}

#define PLAN(keep, r) \
	jail_close_plan(keep, sizeof(keep) / sizeof(keep[0]), r, \
			sizeof(r) / sizeof(r[0]))

static void test_close_plan(void **state)
{
	struct jail_fd_range r[8];
	int one[] = { 5 }, three[] = { 3 }, std[] = { 0, 1, 2, 2 };
	int mixed[] = { 7, 5, 5, 6, 1, 20 }, neg[] = { 4, -1 };
	int top[] = { INT_MAX };

	(void)state;
	assert_int_equal(jail_close_plan(NULL, 0, r, 8), 1);
	assert_int_equal(r[0].first, 3);
	assert_int_equal(r[0].last, UINT_MAX);

	assert_int_equal(PLAN(std, r), 1);
	assert_int_equal(r[0].first, 3);

	assert_int_equal(PLAN(one, r), 2);
	assert_int_equal(r[0].first, 3);
	assert_int_equal(r[0].last, 4);
	assert_int_equal(r[1].first, 6);
	assert_int_equal(r[1].last, UINT_MAX);

	assert_int_equal(PLAN(three, r), 1);
	assert_int_equal(r[0].first, 4);
	assert_int_equal(r[0].last, UINT_MAX);

	/* 5, 6, 7 contiguous, duplicates, 1 ignored, 20 alone. */
	assert_int_equal(PLAN(mixed, r), 3);
	assert_int_equal(r[0].first, 3);
	assert_int_equal(r[0].last, 4);
	assert_int_equal(r[1].first, 8);
	assert_int_equal(r[1].last, 19);
	assert_int_equal(r[2].first, 21);
	assert_int_equal(r[2].last, UINT_MAX);

	assert_int_equal(PLAN(top, r), 2);
	assert_int_equal(r[0].last, (unsigned int)INT_MAX - 1);
	assert_int_equal(r[1].first, (unsigned int)INT_MAX + 1);

	assert_int_equal(PLAN(neg, r), -EBADF);
	assert_int_equal(jail_close_plan(one, 1, r, 1), -ENOSPC);
	assert_int_equal(jail_close_plan(NULL, 0, r, 0), -ENOSPC);
}

static const char status_text[] =
	"Name:\trivet\n"
	"Umask:\t0077\n"
	"State:\tR (running)\n"
	"Pid:\t1\n"
	"Uid:\t1000\t1001\t1002\t1003\n"
	"Gid:\t2000\t2001\t2002\t2003\n"
	"Groups:\t\n"
	"Threads:\t3\n"
	"SigBlk:\t0000000000014003\n"
	"CapInh:\t0000000000000000\n"
	"CapPrm:\t000001ffffffffff\n"
	"CapEff:\t0000000000000400\n"
	"CapBnd:\t000001ffffffffff\n"
	"CapAmb:\t0000000000000001\n"
	"NoNewPrivs:\t1\n"
	"Seccomp:\t2\n";

static void test_parse_status(void **state)
{
	struct jail_status st;
	char buf[sizeof(status_text) + 32];
	char *live;
	size_t len = 0;
	ssize_t n;
	FILE *f;

	(void)state;
	assert_int_equal(jail_parse_status(status_text, &st), 0);
	assert_int_equal(st.uid[0], 1000);
	assert_int_equal(st.uid[3], 1003);
	assert_int_equal(st.gid[1], 2001);
	assert_int_equal(st.threads, 3);
	assert_int_equal(st.no_new_privs, 1);
	assert_int_equal(st.cap_inh, 0);
	assert_int_equal(st.cap_prm, 0x1ffffffffffULL);
	assert_int_equal(st.cap_eff, 0x400);
	assert_int_equal(st.cap_amb, 1);

	/* A missing field, a malformed one, a short Uid line. */
	assert_int_equal(jail_parse_status("Uid:\t1\t1\t1\t1\n", &st),
			 -EINVAL);
	assert_int_equal(jail_parse_status("", &st), -EINVAL);
	strcpy(buf, status_text);
	memcpy(strstr(buf, "CapEff:\t0") + 7, "z", 1);
	assert_int_equal(jail_parse_status(buf, &st), -EINVAL);
	strcpy(buf, status_text);
	memcpy(strstr(buf, "\t1003"), "\n   ", 4);
	assert_int_equal(jail_parse_status(buf, &st), -EINVAL);
	strcpy(buf, status_text);
	memcpy(strstr(buf, "NoNewPrivs"), "NoOldPrivs", 10);
	assert_int_equal(jail_parse_status(buf, &st), -EINVAL);
	strcpy(buf, status_text);
	memcpy(strstr(buf, "Threads:\t3"), "Threads:\tx", 10);
	assert_int_equal(jail_parse_status(buf, &st), -EINVAL);
	strcpy(buf, status_text);
	memcpy(strstr(buf, "Uid:\t1000"), "Uid:\t-100", 9);
	assert_int_equal(jail_parse_status(buf, &st), -EINVAL);

	/* This process's own status parses and agrees with the syscalls. */
	live = malloc(65536);
	assert_non_null(live);
	f = fopen("/proc/self/status", "r");
	assert_non_null(f);
	while ((n = (ssize_t)fread(live + len, 1, 65535 - len, f)) > 0)
		len += (size_t)n;
	fclose(f);
	live[len] = '\0';
	assert_int_equal(jail_parse_status(live, &st), 0);
	assert_int_equal(st.uid[0], getuid());
	assert_int_equal(st.uid[1], geteuid());
	assert_int_equal(st.gid[0], getgid());
	assert_int_equal(st.threads, 1);
	assert_int_equal(st.no_new_privs, prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0,
						0));
	free(live);
}

static void test_rlimit_value(void **state)
{
	(void)state;
	assert_int_equal(jail_rlimit_value(RLIM_INFINITY, 256), 256);
	assert_int_equal(jail_rlimit_value(1024, 256), 256);
	assert_int_equal(jail_rlimit_value(100, 256), 100);
	assert_int_equal(jail_rlimit_value(0, 0), 0);
	assert_int_equal(jail_rlimit_value(RLIM_INFINITY, RLIM_INFINITY),
			 RLIM_INFINITY);
}

/* ---- real jails (root) --------------------------------------------------- */

/* A temporary tree: BASE (0700) / root (0755) / jail (0755) / hello, all
 * root's. */
struct tree {
	char base[64];
	char root[80];
	char jail[96];
	struct stat jail_st;
};

static void need_root(void)
{
	if (geteuid() != 0)
		fail_msg("this test enters a real jail and needs root "
			 "(CAP_SYS_ADMIN, CAP_SETUID, CAP_MKNOD...); run the "
			 "unit tests as root");
}

static void make_tree(struct tree *t)
{
	char path[160];
	int fd;

	strcpy(t->base, "/tmp/rivet-jail-XXXXXX");
	assert_non_null(mkdtemp(t->base));
	snprintf(t->root, sizeof(t->root), "%s/root", t->base);
	snprintf(t->jail, sizeof(t->jail), "%s/jail", t->root);
	assert_int_equal(mkdir(t->root, 0755), 0);
	assert_int_equal(chmod(t->root, 0755), 0);
	assert_int_equal(mkdir(t->jail, 0755), 0);
	assert_int_equal(chmod(t->jail, 0755), 0);
	snprintf(path, sizeof(path), "%s/hello", t->jail);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, HELLO, strlen(HELLO)), strlen(HELLO));
	close(fd);
	assert_int_equal(stat(t->jail, &t->jail_st), 0);
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void remove_tree(struct tree *t)
{
	assert_int_equal(nftw(t->base, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* What the jailed child sees. */
struct report {
	int ret;			/* jail_enter(), or a set-up error */
	pid_t pid;
	uid_t uid[3];
	gid_t gid[3];
	int ngroups;
	uint32_t cap_eff, cap_prm, cap_inh;
	int bnd_left;			/* capabilities left in bounding */
	int nnp, dumpable;
	dev_t root_dev;
	ino_t root_ino;
	int kvm_stat;			/* stat("/dev/kvm") */
	mode_t kvm_mode;
	dev_t kvm_rdev;
	uid_t kvm_uid;
	gid_t kvm_gid;
	int dev_write_errno;		/* creating /dev/x */
	int victim_errno;		/* fcntl() on the fd not kept */
	int kept_ok;			/* fcntl() on a kept fd */
	int env_empty;
	rlim_t nofile_cur, nofile_max, core_max;
	int hello_ok;			/* /hello has HELLO */
	int host_hidden;		/* the jail's absolute path is gone */
	unsigned long root_flags;	/* statvfs("/").f_flag */
	int setuid0_errno;
	int netifs;			/* interfaces seen (-1: not asked) */
	int lo_only;
	mode_t umask;
	int stop_blocked;		/* SIGINT, SIGTERM, SIGHUP blocked */
};

enum { OPT_PIDNS = 1, OPT_NETNS = 2, OPT_CHROOT_FIRST = 4 };

static void fill_report(struct report *r, const struct tree *t,
			int victim, int kept, int opts)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];
	struct rlimit rl;
	struct statvfs sv;
	struct stat st;
	char buf[64];
	int fd;

	r->pid = getpid();
	getresuid(&r->uid[0], &r->uid[1], &r->uid[2]);
	getresgid(&r->gid[0], &r->gid[1], &r->gid[2]);
	r->ngroups = getgroups(0, NULL);
	memset(d, 0xff, sizeof(d));
	if (syscall(SYS_capget, &h, d) == 0) {
		r->cap_eff = d[0].effective | d[1].effective;
		r->cap_prm = d[0].permitted | d[1].permitted;
		r->cap_inh = d[0].inheritable | d[1].inheritable;
	}
	for (unsigned long c = 0; c < 64; c++) {
		int v = prctl(PR_CAPBSET_READ, c, 0, 0, 0);

		if (v < 0)
			break;
		r->bnd_left += v;
	}
	r->nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	r->dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	if (stat("/", &st) == 0) {
		r->root_dev = st.st_dev;
		r->root_ino = st.st_ino;
	}
	r->kvm_stat = stat("/dev/kvm", &st);
	r->kvm_mode = st.st_mode;
	r->kvm_rdev = st.st_rdev;
	r->kvm_uid = st.st_uid;
	r->kvm_gid = st.st_gid;
	fd = open("/dev/x", O_WRONLY | O_CREAT | O_EXCL, 0600);
	r->dev_write_errno = fd < 0 ? errno : 0;
	r->victim_errno = fcntl(victim, F_GETFD) < 0 ? errno : 0;
	r->kept_ok = fcntl(kept, F_GETFD) >= 0;
	r->env_empty = !environ || !environ[0];
	getrlimit(RLIMIT_NOFILE, &rl);
	r->nofile_cur = rl.rlim_cur;
	r->nofile_max = rl.rlim_max;
	getrlimit(RLIMIT_CORE, &rl);
	r->core_max = rl.rlim_max;
	fd = open("/hello", O_RDONLY);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);

		r->hello_ok = n == (ssize_t)strlen(HELLO) &&
			      !memcmp(buf, HELLO, strlen(HELLO));
		close(fd);
	}
	r->host_hidden = stat(t->jail, &st) < 0 && errno == ENOENT &&
			 stat("/tmp", &st) < 0 && errno == ENOENT;
	if (statvfs("/", &sv) == 0)
		r->root_flags = sv.f_flag;
	r->setuid0_errno = setresuid(0, 0, 0) < 0 ? errno : 0;
	r->netifs = -1;
	if (opts & OPT_NETNS) {
		struct if_nameindex *ifs = if_nameindex();

		if (ifs) {
			r->netifs = 0;
			r->lo_only = 1;
			for (struct if_nameindex *i = ifs; i->if_index; i++) {
				r->netifs++;
				if (strcmp(i->if_name, "lo"))
					r->lo_only = 0;
			}
			if_freenameindex(ifs);
		}
	}
	r->umask = umask(077);
	{
		sigset_t cur;

		sigprocmask(SIG_BLOCK, NULL, &cur);
		r->stop_blocked = sigismember(&cur, SIGINT) &&
				  sigismember(&cur, SIGTERM) &&
				  sigismember(&cur, SIGHUP);
	}
}

/* Before the jail, in the child: make pivot_root refuse (EINVAL) as it
 * does on an initramfs, so the move-and-chroot fallback is taken.  "/"
 * becomes ROOT, a mount point (as rootfs is) whose parent mount BASE is
 * shared, which pivot_root does not accept.  /proc is bound in since
 * jail_enter() reads /proc/self/status. */
static int chroot_first(const struct tree *t)
{
	char proc[96];

	snprintf(proc, sizeof(proc), "%s/proc", t->root);
	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount(t->base, t->base, NULL, MS_BIND, NULL) ||
	    mount(NULL, t->base, NULL, MS_SHARED, NULL) ||
	    mount(t->root, t->root, NULL, MS_BIND, NULL) ||
	    mkdir(proc, 0555) ||
	    mount("/proc", proc, NULL, MS_BIND | MS_REC, NULL) ||
	    chroot(t->root) || chdir("/"))
		return -errno;
	return 0;
}

/* The child: enter the jail, report, wait for the parent's go (EOF on
 * @go), then exit 0 (or, as PID 1 of a new namespace, wait for a
 * forwarded SIGTERM and exit 42). */
static void child(const struct tree *t, int opts, int rep, int go,
		  int victim)
{
	struct jail_config jc = {
		.dir = t->jail, .uid = JAIL_UID, .gid = JAIL_GID,
		.new_pidns = opts & OPT_PIDNS, .new_netns = opts & OPT_NETNS,
		.nofile = 64,
	};
	struct report r;
	int keep[2] = { rep, go };
	sigset_t set;
	char c;

	memset(&r, 0, sizeof(r));
	setenv("RIVET_JAIL_TEST_SECRET", "1", 1);
	/* Nothing blocked: jail_pidns_fork() must block the stop signals
	 * for PID 1 itself. */
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	sigaddset(&set, SIGTERM);
	if (opts & OPT_CHROOT_FIRST) {
		log_set_level(LOG_INFO);	/* shows the fallback */
		r.ret = chroot_first(t);
		jc.dir = "/jail";
	}
	if (!r.ret)
		r.ret = jail_enter(&jc, keep, 2);
	if (!r.ret && (opts & OPT_PIDNS)) {
		int status = -1;

		r.ret = jail_pidns_fork(&status);
		if (r.ret == JAIL_PIDNS_OUTSIDE)
			_exit(status);
	}
	if (!r.ret)
		fill_report(&r, t, victim, rep, opts);
	if (write(rep, &r, sizeof(r)) != sizeof(r))
		_exit(99);
	if (r.ret)
		_exit(98);
	while (read(go, &c, 1) > 0)
		;
	if (opts & OPT_PIDNS) {
		int sig = 0;

		sigwait(&set, &sig);
		_exit(sig == SIGTERM ? 42 : 97);
	}
	_exit(0);
}

static void ns_link(pid_t pid, const char *ns, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns);
	n = readlink(path, buf, len - 1);
	assert_true(n > 0);
	buf[n] = '\0';
}

static void assert_ns(pid_t pid, const char *ns, bool differs)
{
	char mine[64], theirs[64];

	ns_link(getpid(), ns, mine, sizeof(mine));
	ns_link(pid, ns, theirs, sizeof(theirs));
	if (differs)
		assert_string_not_equal(mine, theirs);
	else
		assert_string_equal(mine, theirs);
}

/* From outside, as the e2e test does: ids, capabilities, namespaces. */
static void inspect(pid_t pid, int opts)
{
	struct jail_status st;
	char path[64], buf[8192];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_int_equal(jail_parse_status(buf, &st), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(st.uid[i], JAIL_UID);
		assert_int_equal(st.gid[i], JAIL_GID);
	}
	assert_int_equal(st.cap_inh, 0);
	assert_int_equal(st.cap_prm, 0);
	assert_int_equal(st.cap_eff, 0);
	assert_int_equal(st.cap_bnd, 0);
	assert_int_equal(st.cap_amb, 0);
	assert_int_equal(st.no_new_privs, 1);
	assert_int_equal(st.threads, 1);
	assert_ns(pid, "mnt", true);
	assert_ns(pid, "ipc", true);
	assert_ns(pid, "net", opts & OPT_NETNS);
	assert_ns(pid, "pid", false);	/* the jailed process itself */
	assert_ns(pid, "pid_for_children", opts & OPT_PIDNS);
}

static void check_report(const struct report *r, const struct tree *t,
			 int opts)
{
	assert_int_equal(r->ret, 0);
	if (opts & OPT_PIDNS)
		assert_int_equal(r->pid, 1);
	else
		assert_int_not_equal(r->pid, 1);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(r->uid[i], JAIL_UID);
		assert_int_equal(r->gid[i], JAIL_GID);
	}
	assert_int_equal(r->ngroups, 0);
	assert_int_equal(r->cap_eff, 0);
	assert_int_equal(r->cap_prm, 0);
	assert_int_equal(r->cap_inh, 0);
	assert_int_equal(r->bnd_left, 0);
	assert_int_equal(r->nnp, 1);
	assert_int_equal(r->dumpable, 0);
	/* "/" is the jail directory; nothing of the host shows. */
	assert_int_equal(r->root_dev, t->jail_st.st_dev);
	assert_int_equal(r->root_ino, t->jail_st.st_ino);
	assert_true(r->hello_ok);
	assert_true(r->host_hidden);
	assert_true(r->root_flags & ST_NOSUID);
	assert_true(r->root_flags & ST_NOEXEC);
	/* /dev/kvm: char 10:232, uid:gid, 0660, on a read-only /dev. */
	assert_int_equal(r->kvm_stat, 0);
	assert_true(S_ISCHR(r->kvm_mode));
	assert_int_equal(r->kvm_mode & 07777, 0660);
	assert_int_equal(major(r->kvm_rdev), 10);
	assert_int_equal(minor(r->kvm_rdev), 232);
	assert_int_equal(r->kvm_uid, JAIL_UID);
	assert_int_equal(r->kvm_gid, JAIL_GID);
	assert_true(r->dev_write_errno == EROFS ||
		    r->dev_write_errno == EACCES);
	/* Descriptors, environment, limits. */
	assert_int_equal(r->victim_errno, EBADF);
	assert_true(r->kept_ok);
	assert_true(r->env_empty);
	assert_int_equal(r->nofile_cur, 64);
	assert_int_equal(r->nofile_max, 64);
	assert_int_equal(r->core_max, 0);
	assert_int_equal(r->setuid0_errno, EPERM);
	assert_int_equal(r->umask, 077);
	if (opts & OPT_NETNS) {
		assert_int_equal(r->netifs, 1);
		assert_true(r->lo_only);
	}
	if (opts & OPT_PIDNS)
		assert_true(r->stop_blocked);
}

static void run_jail(int opts)
{
	struct report r;
	struct tree t;
	int rep[2], go[2], victim, ws;
	pid_t pid;

	need_root();
	make_tree(&t);
	assert_int_equal(pipe(rep), 0);
	assert_int_equal(pipe(go), 0);
	victim = open("/dev/null", O_RDONLY);	/* inherited, not kept */
	assert_true(victim >= 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(rep[0]);
		close(go[1]);
		child(&t, opts, rep[1], go[0], victim);
	}
	close(victim);
	close(rep[1]);
	close(go[0]);
	memset(&r, 0, sizeof(r));
	r.ret = -1000;
	assert_int_equal(read(rep[0], &r, sizeof(r)), sizeof(r));
	close(rep[0]);
	if (r.ret == 0)
		inspect(pid, opts);
	close(go[1]);
	if (opts & OPT_PIDNS)
		assert_int_equal(kill(pid, SIGTERM), 0);
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	check_report(&r, &t, opts);
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws), opts & OPT_PIDNS ? 42 : 0);
	remove_tree(&t);
}

static void test_root_jail(void **state)
{
	(void)state;
	run_jail(0);
}

static void test_root_jail_pidns_netns(void **state)
{
	(void)state;
	run_jail(OPT_PIDNS | OPT_NETNS);
}

static void test_root_jail_initramfs_fallback(void **state)
{
	(void)state;
	run_jail(OPT_CHROOT_FIRST);
}

/* jail_enter() in a child; its result as a positive errno (0: entered). */
static int enter_in_child(const char *dir, uid_t uid, gid_t gid,
			  const int *keep, unsigned int nr_keep, bool thread);

static void *sleeper(void *arg)
{
	(void)arg;
	pause();
	return NULL;
}

static int enter_in_child(const char *dir, uid_t uid, gid_t gid,
			  const int *keep, unsigned int nr_keep, bool thread)
{
	struct jail_config jc = { .dir = dir, .uid = uid, .gid = gid };
	int ws, ret;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pthread_t th;

		if (thread && pthread_create(&th, NULL, sleeper, NULL))
			_exit(100);
		ret = jail_enter(&jc, keep, nr_keep);
		_exit(ret < 0 ? -ret : 0);
	}
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFEXITED(ws));
	return WEXITSTATUS(ws);
}

/* jail_validate() in process and jail_enter() in a child agree. */
static void expect(const char *dir, uid_t uid, gid_t gid, int err)
{
	struct jail_config jc = { .dir = dir, .uid = uid, .gid = gid };

	assert_int_equal(jail_validate(&jc), -err);
	assert_int_equal(enter_in_child(dir, uid, gid, NULL, 0, false), err);
}

static void test_root_rejects(void **state)
{
	char path[192];
	struct tree t;
	int fd, dirfd, closed;

	(void)state;
	need_root();
	make_tree(&t);
	/* Sanity: the tree as made is accepted (in a child, then gone). */
	expect(t.jail, JAIL_UID, JAIL_GID, 0);

	expect("tmp/x", 1, 1, EINVAL);
	expect("/", 1, 1, EINVAL);
	expect(NULL, 1, 1, EINVAL);
	expect(t.jail, 0, JAIL_GID, EINVAL);
	expect(t.jail, JAIL_UID, 0, EINVAL);
	expect(t.jail, (uid_t)-1, JAIL_GID, EINVAL);
	snprintf(path, sizeof(path), "%s/nope", t.base);
	expect(path, 1, 1, ENOENT);
	snprintf(path, sizeof(path), "%s/hello", t.jail);
	expect(path, 1, 1, ENOTDIR);
	snprintf(path, sizeof(path), "%s/link", t.base);
	assert_int_equal(symlink("root/jail", path), 0);
	expect(path, 1, 1, ELOOP);
	snprintf(path, sizeof(path), "%s/link/sub", t.base);
	expect(path, 1, 1, ELOOP);

	/* Owner and modes of DIR and of its ancestors. */
	assert_int_equal(chmod(t.jail, 0777), 0);
	expect(t.jail, 1, 1, EPERM);
	assert_int_equal(chmod(t.jail, 0700), 0);
	expect(t.jail, 1, 1, EPERM);
	assert_int_equal(chmod(t.jail, 0750), 0);
	assert_int_equal(chown(t.jail, 0, 7), 0);
	expect(t.jail, 1, 8, EPERM);
	expect(t.jail, 1, 7, 0);		/* g+x with the jail's gid */
	assert_int_equal(chown(t.jail, JAIL_UID, 0), 0);
	assert_int_equal(chmod(t.jail, 0755), 0);
	expect(t.jail, 1, 1, EPERM);
	assert_int_equal(chown(t.jail, 0, 0), 0);
	assert_int_equal(chmod(t.root, 0775), 0);
	expect(t.jail, 1, 1, EPERM);
	assert_int_equal(chmod(t.root, 01777), 0);	/* sticky is fine */
	expect(t.jail, JAIL_UID, JAIL_GID, 0);
	assert_int_equal(chmod(t.root, 0755), 0);
	assert_int_equal(chown(t.root, JAIL_UID, 0), 0);
	expect(t.jail, 1, 1, EPERM);
	assert_int_equal(chown(t.root, 0, 0), 0);

	/* Descriptors to keep: open, and no directory. */
	fd = open("/dev/null", O_RDONLY);
	assert_true(fd >= 0);
	closed = fd;
	close(closed);
	assert_int_equal(enter_in_child(t.jail, 1, 1, &closed, 1, false),
			 EBADF);
	dirfd = open("/", O_RDONLY | O_DIRECTORY);
	assert_true(dirfd >= 0);
	assert_int_equal(enter_in_child(t.jail, 1, 1, &dirfd, 1, false),
			 EBADF);
	close(dirfd);
	fd = -1;
	assert_int_equal(enter_in_child(t.jail, 1, 1, &fd, 1, false), EBADF);

	/* A second thread would keep root and the host's mounts. */
	assert_int_equal(enter_in_child(t.jail, 1, 1, NULL, 0, true), EINVAL);
	remove_tree(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_rules),
		cmocka_unit_test(test_dir_rules),
		cmocka_unit_test(test_id_rules),
		cmocka_unit_test(test_close_plan),
		cmocka_unit_test(test_parse_status),
		cmocka_unit_test(test_rlimit_value),
		cmocka_unit_test(test_root_jail),
		cmocka_unit_test(test_root_jail_pidns_netns),
		cmocka_unit_test(test_root_jail_initramfs_fallback),
		cmocka_unit_test(test_root_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
