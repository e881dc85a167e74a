// SPDX-License-Identifier: MIT
/*
 * sysinject: make one thread of a running process make a syscall of the
 * tester's choosing, to prove that the thread's seccomp filter kills the
 * process for it.  The process is the real, unmodified program: rivet has no
 * test hook for this (tests/e2e/host/seccomp.sh, docs/seccomp.md).
 *
 *   sysinject [-t SECS] TID SYSCALL [argN=VALUE]...
 *
 *   TID         the thread (a task id from /proc/PID/task)
 *   SYSCALL     the call to make instead of the thread's next one: openat,
 *               ioctl, rt_sigprocmask, getpid, write, or a native number
 *   argN=VALUE  set argument N (1..5) to VALUE (decimal, 0x hex); e.g.
 *               arg1=0xae41 makes an ioctl KVM_CREATE_VCPU.  Argument 0
 *               stays the thread's own: riscv64's NT_PRSTATUS cannot set it
 *   -t SECS     give up after SECS seconds (default 30)
 *
 * How.  PTRACE_SEIZE the thread, PTRACE_INTERRUPT it and resume it with
 * PTRACE_SYSCALL up to its next syscall-entry stop (a blocked call, such as
 * KVM_RUN or ppoll, returns EINTR or is restarted by the kernel, so that is
 * at once).  There the syscall number (x86_64: orig_rax; riscv64: a7) and
 * the chosen arguments are rewritten (PTRACE_SETREGSET NT_PRSTATUS).  Since
 * Linux 4.8 seccomp runs after the syscall-entry stop, on the rewritten
 * call (kernel/entry/common.c, syscall_trace_enter: "Do seccomp after
 * ptrace, to catch any tracer changes").  At the syscall-exit stop that
 * follows, the thread's pending signals tell what the filter did
 * (PTRACE_PEEKSIGINFO):
 *
 *  - a SIGSYS is pending: SECCOMP_RET_TRAP skipped the call and queued it.
 *    The thread is resumed to its signal-delivery-stop, the siginfo checked
 *    (si_code SYS_SECCOMP, si_syscall the injected number) and the signal
 *    delivered to the thread's own handler as the tracer detaches
 *    (PTRACE_DETACH with SIGSYS: the kernel keeps the siginfo, so the
 *    handler sees what the filter raised).  What the process does then is
 *    its own business: rivet's handler prints its message and exits 148.
 *    Exit status 0.
 *  - no SIGSYS: the call was allowed and ran.  The thread's own syscall is
 *    then restarted (its number, arguments and pc put back: it makes the
 *    call again, as after a signal), the tracer detaches and the process
 *    goes on unharmed.  Exit status 1.
 *
 * Output: one line per step on stdout, prefixed "sysinject: "; the verdict
 * is one of
 *   sysinject: tid T: NAME (NR) killed by seccomp: SIGSYS delivered
 *   sysinject: tid T: NAME (NR) allowed: returned R; ORIG (NR) restarted
 * Exit status 2 for bad usage, a ptrace failure, the thread's end or the
 * time limit (the kernel detaches a tracer that exits: the thread goes on).
 *
 * Needs ptrace rights over the thread (root, or the same user with Yama's
 * ptrace_scope 0).  Built for x86_64 (tests/sysinject/check.sh checks it
 * against rivet's filters there) and riscv64 (the emulated host).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1	/* si_code of a seccomp SIGSYS */
#endif

/* ---- the architecture's registers ---------------------------------------- */
#if defined(__x86_64__)
#include <sys/user.h>
typedef struct user_regs_struct regs_t;
#define INSN_LEN 2	/* syscall */
static unsigned long long *reg_nr(regs_t *r) { return &r->orig_rax; }
static unsigned long long *reg_arg(regs_t *r, int i)
{
	unsigned long long *a[6] = { &r->rdi, &r->rsi, &r->rdx,
				     &r->r10, &r->r8, &r->r9 };
	return a[i];
}
static void set_restart(regs_t *r, uint64_t nr, uint64_t pc)
{
	r->rax = nr;	/* the syscall instruction takes the number in rax */
	r->orig_rax = (unsigned long long)-1;
	r->rip = pc;
}
#elif defined(__riscv) && __riscv_xlen == 64
/* NT_PRSTATUS is the kernel's struct user_regs_struct (asm/ptrace.h; glibc's
 * sys/user.h is empty on riscv64): pc and x1..x31. */
typedef struct {
	unsigned long pc, ra, sp, gp, tp, t0, t1, t2, s0, s1;
	unsigned long a[8];
	unsigned long s2_11[10], t3_6[4];
} regs_t;
_Static_assert(sizeof(regs_t) == 32 * 8, "NT_PRSTATUS is pc + x1..x31");
#define INSN_LEN 4	/* ecall (no compressed form) */
static unsigned long *reg_nr(regs_t *r) { return &r->a[7]; }
/* a0 is the return value by now; the kernel keeps argument 0 in orig_a0,
 * which NT_PRSTATUS does not carry: only the restart writes a0. */
static unsigned long *reg_arg(regs_t *r, int i) { return &r->a[i]; }
static void set_restart(regs_t *r, uint64_t nr, uint64_t pc)
{
	r->a[7] = nr;
	r->pc = pc;
}
#else
#error "sysinject: x86_64 or riscv64 only"
#endif

static const struct {
	const char *name;
	long nr;
} known[] = {
	{ "openat", SYS_openat },
	{ "ioctl", SYS_ioctl },
	{ "rt_sigprocmask", SYS_rt_sigprocmask },
	{ "getpid", SYS_getpid },
	{ "write", SYS_write },
	{ "read", SYS_read },
	{ "ppoll", SYS_ppoll },
	{ "futex", SYS_futex },
};

static const char *sys_name(uint64_t nr)
{
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if ((uint64_t)known[i].nr == nr)
			return known[i].name;
	return "syscall";
}

static pid_t tid;
static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
}

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
	va_list ap;

	printf("sysinject: tid %d: ", (int)tid);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void fail(const char *what)
{
	out("%s: %s", what, strerror(errno));
	exit(2);
}

static void usage(void)
{
	fprintf(stderr, "usage: sysinject [-t SECS] TID SYSCALL [argN=VALUE]...\n"
		"  SYSCALL: openat, ioctl, rt_sigprocmask, getpid, write, read, "
		"ppoll, futex or a number\n");
	exit(2);
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return !errno && *s && !*end && *s != '-';
}

static void get_regs(regs_t *r)
{
	struct iovec iov = { r, sizeof(*r) };

	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &iov))
		fail("PTRACE_GETREGSET");
}

static void set_regs(regs_t *r)
{
	struct iovec iov = { r, sizeof(*r) };

	if (ptrace(PTRACE_SETREGSET, tid, (void *)NT_PRSTATUS, &iov))
		fail("PTRACE_SETREGSET");
}

static void get_info(struct __ptrace_syscall_info *si)
{
	memset(si, 0, sizeof(*si));
	if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, (void *)sizeof(*si), si) < 0)
		fail("PTRACE_GET_SYSCALL_INFO");
}

/* Resume with @req and @sig; wait for the next stop.  Returns the wait
 * status of a stop; exits if the thread ended or on the time limit. */
static int resume_wait(int req, int sig, const char *waiting_for)
{
	int st;

	if (ptrace(req, tid, NULL, (void *)(long)sig))
		fail("resuming the thread");
	while (waitpid(tid, &st, __WALL) < 0) {
		if (errno != EINTR)
			fail("waitpid");
		if (timed_out) {
			out("time limit waiting for %s", waiting_for);
			exit(2);
		}
	}
	if (WIFEXITED(st) || WIFSIGNALED(st)) {
		out("ended (wait status 0x%x) waiting for %s", st, waiting_for);
		exit(2);
	}
	return st;
}

enum stop { STOP_SYSCALL, STOP_EVENT, STOP_SIGNAL };

static enum stop stop_kind(int st)
{
	if (WSTOPSIG(st) == (SIGTRAP | 0x80))
		return STOP_SYSCALL;
	if (st >> 16)
		return STOP_EVENT;	/* PTRACE_EVENT_STOP: interrupt, group stop */
	return STOP_SIGNAL;
}

/* Is a SIGSYS queued for the thread itself (seccomp's force_sig)? */
static bool sigsys_pending(void)
{
	struct __ptrace_peeksiginfo_args a = { .off = 0, .flags = 0, .nr = 64 };
	siginfo_t q[64];
	long n = ptrace(PTRACE_PEEKSIGINFO, tid, &a, q);

	if (n < 0)
		fail("PTRACE_PEEKSIGINFO");
	for (long i = 0; i < n; i++)
		if (q[i].si_signo == SIGSYS)
			return true;
	return false;
}

int main(int argc, char *argv[])
{
	struct __ptrace_syscall_info entry, ex;
	struct sigaction sa;
	uint64_t nr, v, set_mask = 0, set_val[6] = { 0 };
	unsigned int secs = 30;
	regs_t regs;
	int opt, st, sig;
	siginfo_t si;

	while ((opt = getopt(argc, argv, "t:")) != -1) {
		if (opt != 't' || !parse_u64(optarg, &v) || !v || v > 86400)
			usage();
		secs = (unsigned int)v;
	}
	if (argc - optind < 2 || !parse_u64(argv[optind], &v) || !v ||
	    v > INT32_MAX)
		usage();
	tid = (pid_t)v;
	nr = (uint64_t)-1;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(argv[optind + 1], known[i].name))
			nr = (uint64_t)known[i].nr;
	if (nr == (uint64_t)-1 && !parse_u64(argv[optind + 1], &nr))
		usage();
	for (int i = optind + 2; i < argc; i++) {
		const char *s = argv[i];

		if (strncmp(s, "arg", 3) || s[3] < '1' || s[3] > '5' ||
		    s[4] != '=' || !parse_u64(s + 5, &set_val[s[3] - '0']))
			usage();
		set_mask |= 1U << (s[3] - '0');
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;	/* no SA_RESTART: waitpid returns */
	sigaction(SIGALRM, &sa, NULL);
	alarm(secs);

	if (ptrace(PTRACE_SEIZE, tid, NULL, (void *)PTRACE_O_TRACESYSGOOD))
		fail("PTRACE_SEIZE");
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL))
		fail("PTRACE_INTERRUPT");
	while (waitpid(tid, &st, __WALL) < 0)
		if (errno != EINTR || timed_out)
			fail("waiting for the interrupt stop");

	/* To the next syscall-entry stop, passing signals on. */
	sig = 0;
	for (;;) {
		enum stop k = stop_kind(st);

		if (k == STOP_SYSCALL) {
			get_info(&entry);
			if (entry.op == PTRACE_SYSCALL_INFO_ENTRY)
				break;
		}
		sig = k == STOP_SIGNAL ? WSTOPSIG(st) : 0;
		st = resume_wait(PTRACE_SYSCALL, sig, "a syscall entry");
	}

	get_regs(&regs);
	*reg_nr(&regs) = nr;
	for (int i = 1; i <= 5; i++)
		if (set_mask & (1U << i))
			*reg_arg(&regs, i) = set_val[i];
	set_regs(&regs);
	out("%s (%llu) replaces %s (%llu) at pc 0x%llx", sys_name(nr),
	    (unsigned long long)nr, sys_name(entry.entry.nr),
	    (unsigned long long)entry.entry.nr,
	    (unsigned long long)entry.instruction_pointer);

	/* The syscall-exit stop (also reported for a call seccomp skipped).
	 * A signal-delivery-stop first would be a signal that was already on
	 * its way: pass it on (or take it, if it is the SIGSYS). */
	sig = 0;
	for (;;) {
		st = resume_wait(PTRACE_SYSCALL, sig, "the syscall's exit");
		sig = 0;
		if (stop_kind(st) == STOP_SYSCALL) {
			get_info(&ex);
			if (ex.op == PTRACE_SYSCALL_INFO_EXIT)
				break;
		} else if (stop_kind(st) == STOP_SIGNAL) {
			sig = WSTOPSIG(st);
			if (sig == SIGSYS)
				break;
		}
	}

	if (sig != SIGSYS && !sigsys_pending()) {
		/* Allowed: make the thread's own call again, as if nothing
		 * had happened (a restart after a signal looks the same). */
		get_regs(&regs);
		for (int i = 0; i < 6; i++)
			*reg_arg(&regs, i) = entry.entry.args[i];
		set_restart(&regs, entry.entry.nr,
			    entry.instruction_pointer - INSN_LEN);
		set_regs(&regs);
		if (ptrace(PTRACE_DETACH, tid, NULL, NULL))
			fail("PTRACE_DETACH");
		out("%s (%llu) allowed: returned %lld; %s (%llu) restarted",
		    sys_name(nr), (unsigned long long)nr,
		    (long long)ex.exit.rval, sys_name(entry.entry.nr),
		    (unsigned long long)entry.entry.nr);
		return 1;
	}

	/* Killed: on to the SIGSYS's signal-delivery-stop (synchronous
	 * signals are dequeued first; anything else is passed on). */
	while (sig != SIGSYS) {
		st = resume_wait(PTRACE_CONT, sig, "the SIGSYS delivery");
		sig = stop_kind(st) == STOP_SIGNAL ? WSTOPSIG(st) : 0;
	}
	if (ptrace(PTRACE_GETSIGINFO, tid, NULL, &si))
		fail("PTRACE_GETSIGINFO");
	if (si.si_code != SYS_SECCOMP || (uint64_t)si.si_syscall != nr) {
		out("SIGSYS with si_code %d for syscall %d, not seccomp's for "
		    "%llu; delivered", si.si_code, si.si_syscall,
		    (unsigned long long)nr);
		ptrace(PTRACE_DETACH, tid, NULL, (void *)(long)SIGSYS);
		return 2;
	}
	if (ptrace(PTRACE_DETACH, tid, NULL, (void *)(long)SIGSYS))
		fail("PTRACE_DETACH with SIGSYS");
	out("%s (%llu) killed by seccomp: SIGSYS delivered", sys_name(nr),
	    (unsigned long long)nr);
	return 0;
}
