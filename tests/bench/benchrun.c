// SPDX-License-Identifier: MIT
/*
 * benchrun: launch a VMM (rivet or QEMU) for the benchmark harness, stamp
 * its console output as it arrives and sample its memory once the guest is
 * up.  Runs on the (riscv64 Linux) benchmark host.
 *
 *   benchrun [-t TIMEOUT_S] [-g GUEST_RAM_MIB] [-d SAMPLE_DELAY_MS]
 *            [-m MARKER] [-q] -- CMD [ARG...]
 *
 *   -t TIMEOUT_S        kill CMD's process group after this many seconds
 *                       (a decimal number; 0 = never; default 120)
 *   -g GUEST_RAM_MIB    the guest's RAM size, to find its mapping (512)
 *   -d SAMPLE_DELAY_MS  sample memory this long after the marker (1000)
 *   -m MARKER           the guest's "I am up" text (RIVET-GUEST-UP)
 *   -q                  do not echo CMD's output
 *
 * Launch.  t_launch is read (CLOCK_REALTIME for the figures, CLOCK_MONOTONIC
 * for the timers) just before fork().  The child makes itself a process
 * group leader (setpgid), takes /dev/null as stdin and ONE pipe as both
 * stdout and stderr, resets SIGPIPE to its default and execvp()s CMD; if
 * that fails it writes "benchrun: cannot run CMD: ERROR" into the pipe and
 * exits 127.
 *
 * Output of CMD.  The pipe is read with poll(); a line is stamped with
 * CLOCK_REALTIME when the read() completing it returns.  CR and NUL bytes
 * are dropped, a line longer than 4 MiB is cut into 4 MiB pieces, and text
 * after the last '\n' counts as a line at EOF.  Unless -q, every line is
 * echoed to stdout as it arrives (BLKBENCH lines, among others, are for the
 * harness to parse there).  Recognised lines, the first of each kind only:
 *  - a line containing MARKER: t_marker; if "uptime=" followed by a decimal
 *    number of seconds is in it, that is the guest's own uptime;
 *  - rivet --boot-timer's line (src/devices/boot_timer.c)
 *      rivet: boot-timer: guest init +T ms, first KVM_RUN +R ms
 *        (realtime start=S first_run=F init=I)
 *    (one line): F and I, realtime seconds with 6 decimals, are the first
 *    KVM_RUN and the guest's write to the device (first_run=0.000000 means
 *    no KVM_RUN was seen and counts as absent; +T and +R are not used);
 *  - QEMU's trace of the first KVM_RUN (-trace kvm_vcpu_ioctl, log backend
 *    with its timestamps):
 *      PID@SEC.USEC:kvm_vcpu_ioctl cpu_index N, type 0xae80, arg ...
 *    matched loosely: starts with digits '@' digits '.' digits ':' and
 *    contains "kvm_vcpu_ioctl" and "0xae80" or "type 44672"; SEC.USEC is
 *    realtime.
 *
 * Memory.  SAMPLE_DELAY_MS after t_marker (a poll() timeout: reading goes
 * on meanwhile) the process tree rooted at CMD's pid is sampled once: CMD
 * and its descendants, found by the ppid in every /proc/PID/stat.  For each
 * process: the sum of Rss and Pss over all mappings of /proc/PID/smaps, its
 * "Threads:" from /proc/PID/status, and the shared objects it maps (paths
 * containing ".so" followed by the end or '.', counted once across the
 * tree).  Guest RAM is the anonymous mappings (no path, or one starting
 * "/memfd:", "/dev/zero" or "[anon") sized from GUEST_RAM_MIB - 1 to
 * GUEST_RAM_MIB + 64 MiB; their Rss and Pss are also summed apart.  If CMD
 * has exited (or is a zombie) by then, nothing is sampled.
 *
 * End.  benchrun waits until CMD has exited AND the pipe is at EOF.  On
 * TIMEOUT_S, or on SIGINT, SIGTERM or SIGHUP to benchrun, the process group
 * gets SIGKILL; then it waits at most 2 s more for CMD's exit and EOF.
 *
 * Output.  After the echoed lines, exactly one line on stdout:
 *   BENCHRUN rc=%d timeout=%d launch_to_marker_ms=%.3f
 *     guest_uptime_ms=%.3f launch_to_first_run_ms=%.3f
 *     boottimer_init_ms=%.3f rss_kib=%ld pss_kib=%ld guest_rss_kib=%ld
 *     guest_pss_kib=%ld overhead_rss_kib=%ld overhead_pss_kib=%ld
 *     procs=%d threads=%d shlibs=%d
 * (one line, single spaces) where
 *   rc                     CMD's exit code, or 128 + the signal that
 *                          killed it (137 after a timeout); -1 unknown
 *   timeout                1 if TIMEOUT_S expired, else 0
 *   launch_to_marker_ms    t_marker - t_launch
 *   guest_uptime_ms        the marker line's uptime= figure, in ms
 *   launch_to_first_run_ms first KVM_RUN - t_launch: the boot-timer's F,
 *                          else QEMU's trace stamp
 *   boottimer_init_ms      the boot-timer's I - t_launch
 *   rss_kib, pss_kib       the tree's total Rss and Pss
 *   guest_rss_kib, ..._pss guest RAM's share of them
 *   overhead_rss_kib, ...  total - guest
 *   procs, threads         processes in the tree, their threads
 *   shlibs                 distinct shared objects mapped in the tree
 * Any figure not measured is -1 (all memory figures when no sample was
 * taken; the guest and overhead ones when no guest RAM mapping was found).
 * Diagnostics go to stderr, prefixed "benchrun: ".
 *
 * Exit status: 0 if CMD exited 0 without a timeout, 1 otherwise, 2 for bad
 * usage.
 *
 * The QMP client (a VMM already running with a QMP socket; written from
 * QEMU's qmp-spec, not from rivet's server, so it measures QEMU the same
 * way):
 *
 *   benchrun qmp [-n RTTS] [-c CYCLES] [-i GAP_MS] [-t TIMEOUT_S] [-q] SOCKET
 *
 * connects to the UNIX socket SOCKET (retrying for up to TIMEOUT_S while it
 * does not exist or refuses), reads the greeting, sends qmp_capabilities,
 * then:
 *  - RTTS (default 200) round trips of query-status, one at a time: each is
 *    CLOCK_MONOTONIC from just before write() of the command to the read()
 *    that completes its reply line;
 *  - CYCLES (default 10) pause/resume cycles, GAP_MS (default 100) apart so
 *    the guest runs in between: a cycle is from just before write() of
 *    "stop" to the read() completing the reply to "cont", which is written
 *    as soon as the reply to "stop" is in; so stop's and cont's round trips
 *    back to back (the STOP and RESUME events are counted, not waited for:
 *    both QEMU and rivet send them before the reply);
 *  - with -q, "quit" (the VMM then exits).
 * Event lines ({"event": ...}) met while waiting for a reply are skipped;
 * an "error" reply, EOF or TIMEOUT_S (default 60) without progress fail.
 * Output, one line:
 *   BENCHQMP rtts=N rtt_p50_us=%.1f rtt_p99_us=%.1f rtt_max_us=%.1f
 *     cycles=M pause_resume_ms=%.3f stop_ms=%.3f cont_ms=%.3f
 *     stop_events=K resume_events=K
 * (medians; p99 is the nearest-rank 99th percentile.)  Exit status 0, or 1
 * on a failure (after "benchrun: qmp: ..." on stderr), 2 for bad usage.
 *
 * The snapshot client (the same QMP session):
 *
 *   benchrun snap [-i POLL_MS] [-t TIMEOUT_S] [-q] SOCKET URI
 *
 * sends {"execute": "migrate", "arguments": {"uri": URI}} (URI without '"'
 * or '\'), then query-migrate every POLL_MS (default 5) ms until its
 * "status" is "completed"; "failed" or "cancelled" (with its error-desc)
 * or TIMEOUT_S (default 120) in all fail.  snapshot_ms is CLOCK_MONOTONIC
 * from just before write() of migrate to the read() completing the reply
 * that says completed (so up to POLL_MS plus a round trip late).  With -q,
 * then "quit".  Output, one line:
 *   BENCHSNAP snapshot_ms=%.3f total_time_ms=T ram_bytes=B polls=N
 * T and B: that reply's "total-time" and "normal-bytes" (-1 if absent).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEF_TIMEOUT_S	120.0
#define DEF_GUEST_MIB	512L
#define DEF_DELAY_MS	1000L
#define DEF_MARKER	"RIVET-GUEST-UP"

#define LINE_CAP	(4u << 20)	/* longer lines are cut */
#define READ_CHUNK	65536
#define DRAIN_GRACE_NS	2000000000LL	/* after the kill */
#define NS		1000000000LL
#define MIB		(1ULL << 20)

#define BT_TAG		"rivet: boot-timer: "

struct opts {
	double timeout_s;
	long guest_mib;
	long delay_ms;
	const char *marker;
	bool quiet;
	char **cmd;
};

/* Realtime stamps in ns since the epoch; -1 = not seen. */
struct stamps {
	int64_t launch;
	int64_t marker;
	double uptime_ms;	/* -1 = not seen */
	int64_t bt_first_run;
	int64_t bt_init;
	int64_t qemu_first_run;
	bool bt_seen;
};

struct sample {
	long rss, pss, guest_rss, guest_pss;	/* KiB; -1 = not measured */
	int procs, threads, shlibs;
};

/* A set of strings (the shared objects), small enough for linear search. */
struct strset {
	char **s;
	size_t n, cap;
};

struct linebuf {
	char *buf;
	size_t len, cap;
};

struct run {
	pid_t pid;		/* CMD, also its process group */
	int out_fd;		/* the read end of CMD's stdout+stderr */
	bool eof, reaped, timed_out, killed;
	int rc;
	int64_t launch_mono;
	int64_t deadline;	/* monotonic; 0 = no timeout */
	int64_t drain_until;	/* monotonic, once killed */
	int64_t sample_at;	/* monotonic; 0 = none pending */
	bool sampled;
	bool echo;
	struct stamps st;
	struct sample sm;
	struct linebuf lb;
};

static const struct opts *opt;
static int sig_wr = -1;				/* the self-pipe's write end */
static volatile sig_atomic_t got_term;		/* SIGINT/SIGTERM/SIGHUP */

/* ---- small helpers ------------------------------------------------------- */

static int64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	if (clock_gettime(clk, &ts) != 0) {
		perror("benchrun: clock_gettime");
		exit(1);
	}
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static double ms_since(int64_t from, int64_t to)
{
	return from >= 0 && to >= 0 ? (double)(to - from) / 1e6 : -1.0;
}

static void *xrealloc(void *p, size_t size)
{
	void *q = realloc(p, size);

	if (!q) {
		fprintf(stderr, "benchrun: out of memory\n");
		exit(1);
	}
	return q;
}

/*
 * "SEC.FRAC" (digits, '.', digits) at @s as ns; digits past the 9th are
 * ignored.  Sets *endp past it.  False if @s does not start like that.
 */
static bool parse_stamp(const char *s, int64_t *ns, const char **endp)
{
	int64_t sec = 0, frac = 0, scale = NS / 10;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return false;
	for (; isdigit((unsigned char)*p); p++) {
		if (sec > INT64_MAX / NS / 10)
			return false;
		sec = sec * 10 + (*p - '0');
	}
	if (*p != '.' || !isdigit((unsigned char)p[1]))
		return false;
	for (p++; isdigit((unsigned char)*p); p++) {
		frac += (*p - '0') * scale;
		scale /= 10;
	}
	*ns = sec * NS + frac;
	if (endp)
		*endp = p;
	return true;
}

/* ---- options ------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr, "usage: benchrun [-t TIMEOUT_S] [-g GUEST_RAM_MIB] "
		"[-d SAMPLE_DELAY_MS] [-m MARKER] [-q] -- CMD [ARG...]\n"
		"       benchrun qmp [-n RTTS] [-c CYCLES] [-i GAP_MS] "
		"[-t TIMEOUT_S] [-q] SOCKET\n"
		"       benchrun snap [-i POLL_MS] [-t TIMEOUT_S] [-q] "
		"SOCKET URI\n");
	exit(2);
}

static long parse_long(const char *s, const char *what, long min)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > INT_MAX) {
		fprintf(stderr, "benchrun: bad %s '%s'\n", what, s);
		usage();
	}
	return v;
}

static double parse_secs(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isdigit((unsigned char)*s) ||
	    v < 0 || v > 1e7) {
		fprintf(stderr, "benchrun: bad timeout '%s'\n", s);
		usage();
	}
	return v;
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	int c;

	o->timeout_s = DEF_TIMEOUT_S;
	o->guest_mib = DEF_GUEST_MIB;
	o->delay_ms = DEF_DELAY_MS;
	o->marker = DEF_MARKER;
	o->quiet = false;
	while ((c = getopt(argc, argv, "+t:g:d:m:q")) != -1) {
		switch (c) {
		case 't': o->timeout_s = parse_secs(optarg); break;
		case 'g': o->guest_mib = parse_long(optarg, "guest RAM size", 1); break;
		case 'd': o->delay_ms = parse_long(optarg, "sample delay", 0); break;
		case 'm':
			if (!*optarg) {
				fprintf(stderr, "benchrun: empty marker\n");
				usage();
			}
			o->marker = optarg;
			break;
		case 'q': o->quiet = true; break;
		default: usage();
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "benchrun: no command\n");
		usage();
	}
	o->cmd = argv + optind;
}

/* ---- signals ------------------------------------------------------------- */

static void on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if (sig != SIGCHLD)
		got_term = sig;
	if (write(sig_wr, &c, 1) < 0) {
		/* The pipe is full: a wakeup is pending anyway. */
	}
	errno = saved;
}

/* Returns the self-pipe's read end. */
static int setup_signals(void)
{
	static const int sigs[] = { SIGCHLD, SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;
	int fds[2];

	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
		perror("benchrun: pipe2");
		exit(1);
	}
	sig_wr = fds[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	if (sigemptyset(&sa.sa_mask) != 0) {
		perror("benchrun: sigemptyset");
		exit(1);
	}
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (sigaction(sigs[i], &sa, NULL) != 0) {
			perror("benchrun: sigaction");
			exit(1);
		}
	}
	/* A closed stdout shows as write errors, handled where they happen. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		perror("benchrun: signal");
		exit(1);
	}
	return fds[0];
}

/* ---- the child ----------------------------------------------------------- */

static void child_fail(const char *what)
{
	int e = errno;

	/* stderr is the pipe by now, or still ours: either way it is seen. */
	if (dprintf(STDERR_FILENO, "benchrun: %s: %s\n", what, strerror(e)) < 0)
		_exit(127);
	_exit(127);
}

static void child_exec(char **cmd, int pipe_rd, int pipe_wr)
{
	int null_fd;

	if (setpgid(0, 0) != 0)
		child_fail("setpgid");
	if (close(pipe_rd) != 0)
		child_fail("close");
	null_fd = open("/dev/null", O_RDONLY);
	if (null_fd < 0)
		child_fail("/dev/null");
	if (dup2(null_fd, STDIN_FILENO) < 0 ||
	    dup2(pipe_wr, STDOUT_FILENO) < 0 ||
	    dup2(pipe_wr, STDERR_FILENO) < 0)
		child_fail("dup2");
	if (null_fd != STDIN_FILENO && close(null_fd) != 0)
		child_fail("close");
	if (pipe_wr != STDOUT_FILENO && pipe_wr != STDERR_FILENO &&
	    close(pipe_wr) != 0)
		child_fail("close");
	if (signal(SIGPIPE, SIG_DFL) == SIG_ERR)
		child_fail("signal");
	execvp(cmd[0], cmd);
	if (dprintf(STDERR_FILENO, "benchrun: cannot run %s: %s\n", cmd[0],
		    strerror(errno)) < 0)
		_exit(127);
	_exit(127);
}

/* Stamps the launch, forks, and returns the child's pid; sets r->out_fd. */
static pid_t launch(struct run *r)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) != 0) {
		perror("benchrun: pipe2");
		exit(1);
	}
	if (fflush(NULL) != 0) {
		perror("benchrun: fflush");
		exit(1);
	}
	r->st.launch = now_ns(CLOCK_REALTIME);
	r->launch_mono = now_ns(CLOCK_MONOTONIC);
	pid = fork();
	if (pid < 0) {
		perror("benchrun: fork");
		exit(1);
	}
	if (pid == 0)
		child_exec(opt->cmd, fds[0], fds[1]);
	/* Also here, so a kill(-pid) cannot come before the child's own. */
	if (setpgid(pid, pid) != 0 && errno != EACCES && errno != ESRCH)
		perror("benchrun: setpgid");
	if (close(fds[1]) != 0) {
		perror("benchrun: close");
		exit(1);
	}
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0) {
		perror("benchrun: fcntl");
		exit(1);
	}
	r->out_fd = fds[0];
	return pid;
}

/* ---- recognising lines --------------------------------------------------- */

static void parse_marker(struct run *r, const char *line, int64_t rt,
			 int64_t mono)
{
	const char *u;
	char *end;
	double v;

	if (r->st.marker >= 0 || !strstr(line, opt->marker))
		return;
	r->st.marker = rt;
	r->sample_at = mono + (int64_t)opt->delay_ms * 1000000;
	u = strstr(line, "uptime=");
	if (!u || !isdigit((unsigned char)u[7]))
		return;
	errno = 0;
	v = strtod(u + 7, &end);
	if (!errno && end != u + 7)
		r->st.uptime_ms = v * 1000.0;
}

/* The stamp after @key in @line, or -1. */
static int64_t stamp_after(const char *line, const char *key)
{
	const char *p = strstr(line, key);
	int64_t ns;

	if (!p || !parse_stamp(p + strlen(key), &ns, NULL))
		return -1;
	return ns;
}

static void parse_boot_timer(struct run *r, const char *line)
{
	const char *p = strstr(line, BT_TAG);
	int64_t run, init;

	if (r->st.bt_seen || !p)
		return;
	p += strlen(BT_TAG);
	run = stamp_after(p, " first_run=");
	init = stamp_after(p, " init=");
	if (run < 0 && init < 0)
		return;
	r->st.bt_seen = true;
	r->st.bt_first_run = run > 0 ? run : -1;	/* 0: no KVM_RUN seen */
	r->st.bt_init = init > 0 ? init : -1;
}

static void parse_qemu_trace(struct run *r, const char *line)
{
	const char *p = line;
	int64_t ns;

	if (r->st.qemu_first_run >= 0 || !strstr(line, "kvm_vcpu_ioctl") ||
	    (!strstr(line, "0xae80") && !strstr(line, "type 44672")))
		return;
	if (!isdigit((unsigned char)*p))
		return;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p++ != '@' || !parse_stamp(p, &ns, &p) || *p != ':')
		return;
	r->st.qemu_first_run = ns;
}

static void echo_line(struct run *r, const char *line, size_t len)
{
	if (!r->echo)
		return;
	if (fwrite(line, 1, len, stdout) != len || putchar('\n') == EOF) {
		fprintf(stderr, "benchrun: stdout: %s; echo stopped\n",
			strerror(errno));
		r->echo = false;
		clearerr(stdout);
	}
}

static void handle_line(struct run *r, int64_t rt, int64_t mono)
{
	char *line = r->lb.buf;

	line[r->lb.len] = '\0';
	echo_line(r, line, r->lb.len);
	parse_marker(r, line, rt, mono);
	parse_boot_timer(r, line);
	parse_qemu_trace(r, line);
	r->lb.len = 0;
}

/* Appends @n bytes of CMD's output, handling each line it completes. */
static void feed(struct run *r, const char *data, size_t n, int64_t rt,
		 int64_t mono)
{
	struct linebuf *lb = &r->lb;

	for (size_t i = 0; i < n; i++) {
		char c = data[i];

		if (c == '\n') {
			handle_line(r, rt, mono);
			continue;
		}
		if (c == '\r' || c == '\0')
			continue;
		if (lb->len + 1 >= lb->cap) {
			lb->cap = lb->cap ? lb->cap * 2 : 4096;
			lb->buf = xrealloc(lb->buf, lb->cap);
		}
		lb->buf[lb->len++] = c;
		if (lb->len >= LINE_CAP)
			handle_line(r, rt, mono);
	}
}

static void read_output(struct run *r)
{
	static char chunk[READ_CHUNK];
	ssize_t n = read(r->out_fd, chunk, sizeof(chunk));
	int64_t rt = now_ns(CLOCK_REALTIME), mono = now_ns(CLOCK_MONOTONIC);

	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		perror("benchrun: read");
		n = 0;			/* treated as EOF */
	}
	if (n == 0) {
		r->eof = true;
		if (r->lb.len)
			handle_line(r, rt, mono);
		return;
	}
	feed(r, chunk, (size_t)n, rt, mono);
}

/* ---- the process tree ---------------------------------------------------- */

/* ppid and state of @pid from /proc/PID/stat; false if it is gone. */
static bool read_stat(pid_t pid, pid_t *ppid, char *state)
{
	char path[64], buf[1024];
	const char *p;
	ssize_t n;
	int fd, pp;

	if (snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid) < 0)
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	if (close(fd) != 0 || n <= 0)
		return false;
	buf[n] = '\0';
	/* "pid (comm) S ppid ...": comm may hold spaces and parentheses. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c %d", state, &pp) != 2)
		return false;
	*ppid = pp;
	return true;
}

static bool pid_in(const pid_t *set, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == pid)
			return true;
	return false;
}

/*
 * The tree rooted at @root (root first), as a malloc()ed array; *n = its
 * size, 0 if the root is gone or a zombie.
 */
static pid_t *find_tree(pid_t root, size_t *n)
{
	pid_t *pids = NULL, *ppids = NULL, *tree;
	size_t np = 0, cap = 0, nt = 0;
	struct dirent *de;
	bool grew = true;
	char state;
	pid_t pp;
	DIR *d;

	*n = 0;
	if (!read_stat(root, &pp, &state) || state == 'Z' || state == 'X')
		return NULL;
	d = opendir("/proc");
	if (!d) {
		perror("benchrun: /proc");
		return NULL;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (!isdigit((unsigned char)de->d_name[0]) || *end ||
		    pid == root || !read_stat((pid_t)pid, &pp, &state))
			continue;
		if (np == cap) {
			cap = cap ? cap * 2 : 256;
			pids = xrealloc(pids, cap * sizeof(*pids));
			ppids = xrealloc(ppids, cap * sizeof(*ppids));
		}
		pids[np] = (pid_t)pid;
		ppids[np++] = pp;
	}
	if (errno)
		perror("benchrun: readdir /proc");
	if (closedir(d) != 0)
		perror("benchrun: closedir");
	tree = xrealloc(NULL, (np + 1) * sizeof(*tree));
	tree[nt++] = root;
	while (grew) {
		grew = false;
		for (size_t i = 0; i < np; i++) {
			if (pids[i] && pid_in(tree, nt, ppids[i])) {
				tree[nt++] = pids[i];
				pids[i] = 0;
				grew = true;
			}
		}
	}
	free(pids);
	free(ppids);
	*n = nt;
	return tree;
}

/* ---- memory -------------------------------------------------------------- */

static void strset_add(struct strset *set, const char *s)
{
	for (size_t i = 0; i < set->n; i++)
		if (!strcmp(set->s[i], s))
			return;
	if (set->n == set->cap) {
		set->cap = set->cap ? set->cap * 2 : 64;
		set->s = xrealloc(set->s, set->cap * sizeof(*set->s));
	}
	set->s[set->n] = strdup(s);
	if (!set->s[set->n]) {
		fprintf(stderr, "benchrun: out of memory\n");
		exit(1);
	}
	set->n++;
}

static void strset_free(struct strset *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->s[i]);
	free(set->s);
}

/* A shared object: ".so" followed by the end or '.'. */
static bool is_shlib(const char *path)
{
	const char *p = path;

	if (path[0] != '/')
		return false;
	while ((p = strstr(p, ".so")) != NULL) {
		if (p[3] == '\0' || p[3] == '.' || !strcmp(p + 3, " (deleted)"))
			return true;
		p += 3;
	}
	return false;
}

static bool is_anon(const char *path)
{
	return !path[0] || !strncmp(path, "/memfd:", 7) ||
	       !strncmp(path, "/dev/zero", 9) || !strncmp(path, "[anon", 5);
}

/*
 * A mapping header "START-END PERMS OFFSET DEV INODE [PATH]": true, with
 * *size and *path (empty when there is none; a pointer into @line).
 */
static bool parse_map_header(char *line, unsigned long long *size,
			     const char **path)
{
	unsigned long long start, end;
	size_t hex = strspn(line, "0123456789abcdefABCDEF");
	size_t len;
	int off = -1;

	if (!hex || line[hex] != '-')
		return false;
	if (sscanf(line, "%llx-%llx %*s %*s %*s %*s %n", &start, &end,
		   &off) != 2 || off < 0 || end < start)
		return false;
	len = strlen(line + off);
	while (len && (line[off + len - 1] == '\n' || line[off + len - 1] == ' '))
		line[off + --len] = '\0';
	*size = end - start;
	*path = line + off;
	return true;
}

/* The kB figure of a "NAME: N kB" line. */
static long kb_value(const char *line)
{
	const char *p = strchr(line, ':');

	return p ? strtol(p + 1, NULL, 10) : 0;
}

/*
 * Adds /proc/PID/smaps to @sm (the counts are not touched) and its shared
 * objects to @libs.  False if the process is gone.
 */
static bool sample_smaps(pid_t pid, struct sample *sm, struct strset *libs)
{
	unsigned long long lo = ((unsigned long long)opt->guest_mib - 1) * MIB;
	unsigned long long hi = ((unsigned long long)opt->guest_mib + 64) * MIB;
	unsigned long long size;
	char path[64], *line = NULL;
	const char *mpath;
	bool guest = false;
	size_t cap = 0;
	FILE *f;

	if (snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid) < 0)
		return false;
	f = fopen(path, "re");
	if (!f) {
		if (errno != ENOENT && errno != ESRCH)
			fprintf(stderr, "benchrun: %s: %s\n", path,
				strerror(errno));
		return false;
	}
	while (getline(&line, &cap, f) > 0) {
		if (parse_map_header(line, &size, &mpath)) {
			guest = is_anon(mpath) && size >= lo && size <= hi;
			if (is_shlib(mpath))
				strset_add(libs, mpath);
		} else if (!strncmp(line, "Rss:", 4)) {
			long kb = kb_value(line);

			sm->rss += kb;
			if (guest)
				sm->guest_rss += kb;
		} else if (!strncmp(line, "Pss:", 4)) {
			long kb = kb_value(line);

			sm->pss += kb;
			if (guest)
				sm->guest_pss += kb;
		}
	}
	if (ferror(f))
		fprintf(stderr, "benchrun: %s: read error\n", path);
	free(line);
	if (fclose(f) != 0)
		fprintf(stderr, "benchrun: %s: close error\n", path);
	return true;
}

/* "Threads:" of /proc/PID/status; 0 if it cannot be read. */
static int read_threads(pid_t pid)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	int threads = 0;
	FILE *f;

	if (snprintf(path, sizeof(path), "/proc/%d/status", (int)pid) < 0)
		return 0;
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (getline(&line, &cap, f) > 0) {
		if (!strncmp(line, "Threads:", 8)) {
			threads = (int)strtol(line + 8, NULL, 10);
			break;
		}
	}
	free(line);
	if (fclose(f) != 0)
		return 0;
	return threads;
}

static void sample_memory(struct run *r)
{
	struct sample sm = { 0, 0, 0, 0, 0, 0, 0 };
	struct strset libs = { NULL, 0, 0 };
	size_t n;
	pid_t *tree = r->reaped ? NULL : find_tree(r->pid, &n);

	if (!tree) {
		fprintf(stderr, "benchrun: %d gone before the memory sample\n",
			(int)r->pid);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (!sample_smaps(tree[i], &sm, &libs)) {
			if (i == 0)
				break;	/* the root is gone: no sample */
			continue;
		}
		sm.procs++;
		sm.threads += read_threads(tree[i]);
	}
	free(tree);
	if (sm.procs > 0) {
		sm.shlibs = (int)libs.n;
		if (sm.guest_rss == 0 && sm.guest_pss == 0) {
			fprintf(stderr, "benchrun: no guest RAM mapping of about "
				"%ld MiB found\n", opt->guest_mib);
			sm.guest_rss = sm.guest_pss = -1;
		}
		r->sm = sm;
	}
	strset_free(&libs);
}

/* ---- the loop ------------------------------------------------------------ */

static void kill_group(struct run *r, int64_t mono)
{
	if (r->killed)
		return;
	if (kill(-r->pid, SIGKILL) != 0 && errno != ESRCH)
		perror("benchrun: kill");
	r->killed = true;
	r->drain_until = mono + DRAIN_GRACE_NS;
}

static void reap(struct run *r)
{
	int status;
	pid_t p;

	if (r->reaped)
		return;
	p = waitpid(r->pid, &status, WNOHANG);
	if (p < 0) {
		if (errno == EINTR)
			return;
		perror("benchrun: waitpid");
		r->reaped = true;	/* rc stays -1 */
		return;
	}
	if (p == 0)
		return;
	r->reaped = true;
	if (WIFEXITED(status))
		r->rc = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		r->rc = 128 + WTERMSIG(status);
}

static void drain_signals(int sig_rd)
{
	char buf[64];

	while (read(sig_rd, buf, sizeof(buf)) > 0)
		;
}

/* ms until the next timed event (-1: none), rounded up. */
static int next_timeout(const struct run *r, int64_t mono)
{
	int64_t next = INT64_MAX, ms;

	if (r->deadline && !r->killed)
		next = r->deadline;
	if (r->sample_at && !r->sampled && r->sample_at < next)
		next = r->sample_at;
	if (r->killed && r->drain_until < next)
		next = r->drain_until;
	if (next == INT64_MAX)
		return -1;
	if (next <= mono)
		return 0;
	ms = (next - mono + 999999) / 1000000;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* Runs the timers; true when the run is over. */
static bool timers(struct run *r, int64_t mono)
{
	if (r->deadline && !r->killed && mono >= r->deadline) {
		fprintf(stderr, "benchrun: timeout after %g s: killing %d\n",
			opt->timeout_s, (int)r->pid);
		r->timed_out = true;
		kill_group(r, mono);
	}
	if (got_term && !r->killed) {
		fprintf(stderr, "benchrun: signal %d: killing %d\n",
			(int)got_term, (int)r->pid);
		kill_group(r, mono);
	}
	if (r->sample_at && !r->sampled && mono >= r->sample_at) {
		r->sampled = true;
		sample_memory(r);
	}
	if (r->reaped && r->eof)
		return true;
	if (r->killed && mono >= r->drain_until) {
		fprintf(stderr, "benchrun: gave up waiting for %s\n",
			r->reaped ? "EOF" : "the exit");
		return true;
	}
	return false;
}

static void run_loop(struct run *r, int sig_rd)
{
	struct pollfd pfd[2];

	for (;;) {
		int64_t mono = now_ns(CLOCK_MONOTONIC);
		int n;

		reap(r);
		if (timers(r, mono))
			break;
		pfd[0] = (struct pollfd){ .fd = sig_rd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = r->eof ? -1 : r->out_fd,
					  .events = POLLIN };
		n = poll(pfd, 2, next_timeout(r, mono));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("benchrun: poll");
			exit(1);
		}
		if (pfd[0].revents)
			drain_signals(sig_rd);
		if (pfd[1].revents)
			read_output(r);
	}
	if (!r->eof && r->lb.len)	/* gave up: flush the partial line */
		handle_line(r, now_ns(CLOCK_REALTIME), now_ns(CLOCK_MONOTONIC));
}

/* ---- the result ---------------------------------------------------------- */

static long minus(long a, long b)
{
	return a >= 0 && b >= 0 ? a - b : -1;
}

static int report(const struct run *r)
{
	const struct stamps *st = &r->st;
	const struct sample *sm = &r->sm;
	int64_t first_run = st->bt_first_run >= 0 ? st->bt_first_run :
			    st->qemu_first_run;

	if (printf("BENCHRUN rc=%d timeout=%d launch_to_marker_ms=%.3f "
		   "guest_uptime_ms=%.3f launch_to_first_run_ms=%.3f "
		   "boottimer_init_ms=%.3f rss_kib=%ld pss_kib=%ld "
		   "guest_rss_kib=%ld guest_pss_kib=%ld overhead_rss_kib=%ld "
		   "overhead_pss_kib=%ld procs=%d threads=%d shlibs=%d\n",
		   r->rc, r->timed_out ? 1 : 0,
		   ms_since(st->launch, st->marker),
		   st->uptime_ms,
		   ms_since(st->launch, first_run),
		   ms_since(st->launch, st->bt_init),
		   sm->rss, sm->pss, sm->guest_rss, sm->guest_pss,
		   minus(sm->rss, sm->guest_rss), minus(sm->pss, sm->guest_pss),
		   sm->procs, sm->threads, sm->shlibs) < 0 ||
	    fflush(stdout) != 0) {
		perror("benchrun: stdout");
		return 1;
	}
	return r->rc == 0 && !r->timed_out ? 0 : 1;
}

/* ---- the QMP client (benchrun qmp) --------------------------------------- */

#define QMP_BUF		65536

struct qmp {
	int fd;
	char buf[QMP_BUF];	/* received; the first @used bytes consumed */
	size_t len, used;
	int64_t t_read;		/* monotonic, when the last read() returned */
	int64_t timeout_ns;
	int stops, resumes;	/* events seen */
};

__attribute__((format(printf, 1, 2)))
static int qmp_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("benchrun: qmp: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/*
 * Whether the JSON object @line has the top-level key @key.  Loose but
 * enough for QMP's replies: depth counted on brackets outside strings, a
 * string at depth 1 followed by ':' is a key.
 */
static bool qmp_has_key(const char *line, const char *key)
{
	size_t klen = strlen(key);
	int depth = 0;

	for (const char *p = line; *p; p++) {
		const char *s;

		if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			depth--;
		} else if (*p == '"') {
			for (s = ++p; *p && *p != '"'; p++)
				if (*p == '\\' && p[1])
					p++;
			if (!*p)
				return false;
			if (depth == 1 && (size_t)(p - s) == klen &&
			    !strncmp(s, key, klen) &&
			    p[1 + strspn(p + 1, " \t")] == ':')
				return true;
		}
	}
	return false;
}

/*
 * The next complete line (NUL-terminated, without CR LF; valid until the
 * next call) and when the read() that completed it returned: lines are
 * taken out before anything more is read, so a buffered complete line
 * was completed by the last read().
 */
static int qmp_line(struct qmp *q, char **line, int64_t *t)
{
	int64_t deadline = now_ns(CLOCK_MONOTONIC) + q->timeout_ns;
	char *nl;

	if (q->used) {
		memmove(q->buf, q->buf + q->used, q->len - q->used);
		q->len -= q->used;
		q->used = 0;
	}
	while (!(nl = memchr(q->buf, '\n', q->len))) {
		struct pollfd pfd = { .fd = q->fd, .events = POLLIN };
		int64_t left = deadline - now_ns(CLOCK_MONOTONIC);
		ssize_t n;

		if (q->len == sizeof(q->buf))
			return qmp_fail("a line longer than %d bytes", QMP_BUF);
		if (left <= 0)
			return qmp_fail("nothing from the VMM for %g s",
					(double)q->timeout_ns / NS);
		n = poll(&pfd, 1, (int)((left + 999999) / 1000000));
		if (n < 0 && errno != EINTR)
			return qmp_fail("poll: %s", strerror(errno));
		if (n <= 0)
			continue;
		n = read(q->fd, q->buf + q->len, sizeof(q->buf) - q->len);
		q->t_read = now_ns(CLOCK_MONOTONIC);
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return qmp_fail("read: %s", strerror(errno));
		if (n == 0)
			return qmp_fail("the VMM closed the connection");
		if (n > 0)
			q->len += (size_t)n;
	}
	q->used = (size_t)(nl + 1 - q->buf);
	*nl = '\0';
	if (nl > q->buf && nl[-1] == '\r')
		nl[-1] = '\0';
	*line = q->buf;
	*t = q->t_read;
	return 0;
}

/*
 * Waits for the reply to the command in flight, skipping events; @reply,
 * if not NULL, gets the reply line (valid until the next qmp_line()).
 */
static int qmp_reply(struct qmp *q, const char *cmd, int64_t *t, char **reply)
{
	char *line;

	for (;;) {
		if (qmp_line(q, &line, t))
			return -1;
		if (reply)
			*reply = line;
		if (qmp_has_key(line, "event")) {
			q->stops += strstr(line, "\"STOP\"") != NULL;
			q->resumes += strstr(line, "\"RESUME\"") != NULL;
			continue;
		}
		if (qmp_has_key(line, "return"))
			return 0;
		return qmp_fail("%s: %s", cmd, line);
	}
}

/*
 * Sends @cmd with the JSON object @args (NULL: none); its round trip in
 * ns, or -1.  @reply as for qmp_reply().
 */
static int64_t qmp_exec(struct qmp *q, const char *cmd, const char *args,
			char **reply)
{
	char req[PATH_MAX + 128];
	int len = args ? snprintf(req, sizeof(req), "{\"execute\": \"%s\", "
				  "\"arguments\": %s}\n", cmd, args) :
			 snprintf(req, sizeof(req), "{\"execute\": \"%s\"}\n", cmd);
	int64_t t0, t1;

	if (len < 0 || (size_t)len >= sizeof(req))
		return qmp_fail("%s: arguments too long", cmd);
	t0 = now_ns(CLOCK_MONOTONIC);
	for (int off = 0; off < len;) {
		ssize_t n = write(q->fd, req + off, (size_t)(len - off));

		if (n < 0 && errno != EINTR)
			return qmp_fail("%s: write: %s", cmd, strerror(errno));
		if (n > 0)
			off += (int)n;
	}
	if (qmp_reply(q, cmd, &t1, reply))
		return -1;
	return t1 - t0;
}

/* @cmd without arguments. */
static int64_t qmp_cmd(struct qmp *q, const char *cmd)
{
	return qmp_exec(q, cmd, NULL, NULL);
}

/* Connects, retrying while the socket is not there yet or not listening. */
static int qmp_connect(struct qmp *q, const char *path)
{
	int64_t deadline = now_ns(CLOCK_MONOTONIC) + q->timeout_ns;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(sa.sun_path))
		return qmp_fail("%s: path too long", path);
	strcpy(sa.sun_path, path);
	for (;;) {
		q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (q->fd < 0)
			return qmp_fail("socket: %s", strerror(errno));
		if (!connect(q->fd, (struct sockaddr *)&sa, sizeof(sa)))
			return 0;
		if ((errno != ENOENT && errno != ECONNREFUSED) ||
		    now_ns(CLOCK_MONOTONIC) >= deadline)
			return qmp_fail("%s: %s", path, strerror(errno));
		close(q->fd);
		usleep(50000);
	}
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Sorts @v; the median. */
static double median(int64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_i64);
	return n % 2 ? (double)v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/*
 * Connects to @path (TIMEOUT_S @tmo for it and for every reply), reads the
 * greeting and negotiates.  SIGPIPE is ignored from here on: a VMM gone
 * shows as a write error.
 */
static int qmp_open(struct qmp *q, const char *path, double tmo)
{
	char *line;
	int64_t t;

	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return qmp_fail("signal: %s", strerror(errno));
	q->timeout_ns = (int64_t)(tmo * 1e9);
	if (qmp_connect(q, path) || qmp_line(q, &line, &t))
		return -1;
	if (!qmp_has_key(line, "QMP"))
		return qmp_fail("not a QMP greeting: %s", line);
	return qmp_cmd(q, "qmp_capabilities") < 0 ? -1 : 0;
}

static void qmp_usage(void)
{
	fprintf(stderr, "usage: benchrun qmp [-n RTTS] [-c CYCLES] [-i GAP_MS] "
		"[-t TIMEOUT_S] [-q] SOCKET\n");
	exit(2);
}

static int qmp_main(int argc, char **argv)
{
	static struct qmp q;
	long rtts = 200, cycles = 10, gap_ms = 100;
	int64_t *rtt, *cyc, *stop, *cont;
	double tmo = 60, p50;
	bool quit = false;
	int c;

	while ((c = getopt(argc, argv, "n:c:i:t:q")) != -1) {
		switch (c) {
		case 'n': rtts = parse_long(optarg, "round trip count", 1); break;
		case 'c': cycles = parse_long(optarg, "cycle count", 1); break;
		case 'i': gap_ms = parse_long(optarg, "gap", 0); break;
		case 't': tmo = parse_secs(optarg); break;
		case 'q': quit = true; break;
		default: qmp_usage();
		}
	}
	if (optind != argc - 1 || tmo <= 0 || tmo > 3600)
		qmp_usage();
	rtt = xrealloc(NULL, (size_t)rtts * sizeof(*rtt));
	cyc = xrealloc(NULL, (size_t)cycles * 3 * sizeof(*cyc));
	stop = cyc + cycles;
	cont = stop + cycles;
	if (qmp_open(&q, argv[optind], tmo))
		return 1;
	for (long i = 0; i < rtts; i++)
		if ((rtt[i] = qmp_cmd(&q, "query-status")) < 0)
			return 1;
	for (long i = 0; i < cycles; i++) {
		usleep((useconds_t)gap_ms * 1000);
		if ((stop[i] = qmp_cmd(&q, "stop")) < 0 ||
		    (cont[i] = qmp_cmd(&q, "cont")) < 0)
			return 1;
		cyc[i] = stop[i] + cont[i];
	}
	p50 = median(rtt, (int)rtts);	/* sorts: p99 and max after it */
	/* p99 by nearest rank: the ceil(0.99 n)-th smallest. */
	printf("BENCHQMP rtts=%ld rtt_p50_us=%.1f rtt_p99_us=%.1f "
	       "rtt_max_us=%.1f cycles=%ld pause_resume_ms=%.3f stop_ms=%.3f "
	       "cont_ms=%.3f stop_events=%d resume_events=%d\n",
	       rtts, p50 / 1e3, (double)rtt[(rtts * 99 + 99) / 100 - 1] / 1e3,
	       (double)rtt[rtts - 1] / 1e3, cycles,
	       median(cyc, (int)cycles) / 1e6, median(stop, (int)cycles) / 1e6,
	       median(cont, (int)cycles) / 1e6, q.stops, q.resumes);
	if (fflush(stdout) != 0) {
		perror("benchrun: stdout");
		return 1;
	}
	/* The VMM may close before its reply to quit reaches us. */
	if (quit && qmp_cmd(&q, "quit") < 0)
		fprintf(stderr, "benchrun: qmp: no reply to quit\n");
	free(rtt);
	free(cyc);
	return close(q.fd) ? 1 : 0;
}

/* ---- the snapshot client (benchrun snap) --------------------------------- */

/*
 * The value of the first "@key": in @line into @buf: a string's contents
 * (escapes kept as they are) or a number's text.  Loose, as
 * qmp_has_key(), but query-migrate's keys are unique in its reply.
 */
static bool qmp_value(const char *line, const char *key, char *buf,
		      size_t size)
{
	char pat[64];
	const char *p;
	size_t n;

	if (snprintf(pat, sizeof(pat), "\"%s\"", key) >= (int)sizeof(pat) ||
	    !(p = strstr(line, pat)))
		return false;
	p += strlen(pat);
	p += strspn(p, " \t");
	if (*p++ != ':')
		return false;
	p += strspn(p, " \t");
	if (*p == '"') {
		for (n = 0, p++; p[n] && p[n] != '"'; n++)
			if (p[n] == '\\' && p[n + 1])
				n++;
	} else {
		n = strspn(p, "-+.0123456789eE");
	}
	if (!n || n >= size)
		return false;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return true;
}

static void snap_usage(void)
{
	fprintf(stderr, "usage: benchrun snap [-i POLL_MS] [-t TIMEOUT_S] [-q] "
		"SOCKET URI\n");
	exit(2);
}

static int snap_main(int argc, char **argv)
{
	static struct qmp q;
	char args[PATH_MAX + 32], st[64], desc[256], total[32], bytes[32];
	long poll_ms = 5;
	double tmo = 120;
	bool quit = false;
	int64_t t0, deadline;
	const char *uri;
	char *line;
	int c, polls;

	while ((c = getopt(argc, argv, "i:t:q")) != -1) {
		switch (c) {
		case 'i': poll_ms = parse_long(optarg, "poll interval", 0); break;
		case 't': tmo = parse_secs(optarg); break;
		case 'q': quit = true; break;
		default: snap_usage();
		}
	}
	if (optind != argc - 2 || tmo <= 0 || tmo > 3600)
		snap_usage();
	uri = argv[optind + 1];
	/* Put into a JSON string as it is: nothing to escape allowed. */
	if (strpbrk(uri, "\"\\") ||
	    snprintf(args, sizeof(args), "{\"uri\": \"%s\"}", uri) >=
	    (int)sizeof(args)) {
		fprintf(stderr, "benchrun: snap: bad URI '%s'\n", uri);
		snap_usage();
	}
	if (qmp_open(&q, argv[optind], tmo))
		return 1;
	t0 = now_ns(CLOCK_MONOTONIC);
	deadline = t0 + q.timeout_ns;
	if (qmp_exec(&q, "migrate", args, NULL) < 0)
		return 1;
	for (polls = 1;; polls++) {
		if (qmp_exec(&q, "query-migrate", NULL, &line) < 0)
			return 1;
		if (!qmp_value(line, "status", st, sizeof(st)))
			st[0] = '\0';	/* {}: not started yet */
		if (!strcmp(st, "completed"))
			break;
		if (!strcmp(st, "failed") || !strcmp(st, "cancelled")) {
			if (!qmp_value(line, "error-desc", desc, sizeof(desc)))
				strcpy(desc, "no error-desc");
			qmp_fail("migrate %s: %s", st, desc);
			return 1;
		}
		if (now_ns(CLOCK_MONOTONIC) >= deadline) {
			qmp_fail("migrate not completed after %g s (status '%s')",
				 tmo, st);
			return 1;
		}
		usleep((useconds_t)poll_ms * 1000);
	}
	/* The read() that brought "completed" in. */
	if (!qmp_value(line, "total-time", total, sizeof(total)))
		strcpy(total, "-1");
	if (!qmp_value(line, "normal-bytes", bytes, sizeof(bytes)))
		strcpy(bytes, "-1");
	printf("BENCHSNAP snapshot_ms=%.3f total_time_ms=%s ram_bytes=%s "
	       "polls=%d\n", ms_since(t0, q.t_read), total, bytes, polls);
	if (fflush(stdout) != 0) {
		perror("benchrun: stdout");
		return 1;
	}
	if (quit && qmp_cmd(&q, "quit") < 0)
		fprintf(stderr, "benchrun: qmp: no reply to quit\n");
	return close(q.fd) ? 1 : 0;
}

int main(int argc, char **argv)
{
	static struct run r;
	struct opts o;
	int sig_rd;

	if (argc > 1 && !strcmp(argv[1], "qmp"))
		return qmp_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "snap"))
		return snap_main(argc - 1, argv + 1);
	parse_opts(argc, argv, &o);
	opt = &o;
	if (setvbuf(stdout, NULL, _IOLBF, 0) != 0) {
		perror("benchrun: setvbuf");
		return 1;
	}
	r.rc = -1;
	r.echo = !o.quiet;
	r.st = (struct stamps){ -1, -1, -1.0, -1, -1, -1, false };
	r.sm = (struct sample){ -1, -1, -1, -1, -1, -1, -1 };
	sig_rd = setup_signals();
	r.pid = launch(&r);
	if (o.timeout_s > 0)
		r.deadline = r.launch_mono + (int64_t)(o.timeout_s * 1e9);
	run_loop(&r, sig_rd);
	free(r.lb.buf);
	return report(&r);
}
