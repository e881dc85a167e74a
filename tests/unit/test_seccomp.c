// SPDX-License-Identifier: MIT
/* The seccomp allowlists: each role's list builds, stays within its budget
 * and names only real riscv64 syscalls; under the compiled filter every
 * allowed rule works for real and anything else (a forbidden syscall, an
 * ioctl request or argument not on the list, PROT_EXEC) ends the process
 * with status 148 and a message naming the role and the syscall.
 *
 * Every filter is installed in a fork()ed child (filters cannot be removed)
 * whose fate the parent reads with waitpid; children only _exit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/futex.h>
#include <linux/if_tun.h>
#include <linux/io_uring.h>
#include <linux/kvm.h>
#include <poll.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "core/iothread.h"
#include "core/log.h"
#include "cmd/cmd.h"
#include "seccomp/seccomp.h"

#if defined(__SANITIZE_ADDRESS__)
/* ASan's thread teardown removes the alternate signal stack it gave the
 * thread (sigaltstack), which no rivet thread does: make none. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "use_sigaltstack=0";
}
#endif

#define WATCHDOG_S 20
#define ROLES RIVET_SECCOMP_NR_ROLES

static const struct rivet_seccomp_ctx no_pins = { .vm_fd = -1,
						  .vcpu_fd = -1 };

/* ---- running a child --------------------------------------------------- */

struct outcome {
	int status;		/* from waitpid */
	char out[32768];	/* the child's stdout and stderr */
};

typedef void (*child_fn)(void *arg);

static struct outcome outcome;

/* In a filtered child: exit_group directly (a sanitizer's _exit hook
 * makes syscalls of its own).  Not declared noreturn: ASan precedes calls
 * to noreturn functions with a sigaltstack query. */
static void sys_exit(int code)
{
	syscall(SYS_exit_group, code);
}

/* In a child: report @what on stderr (write is on every list) and fail. */
static void child_fail(const char *what)
{
	ssize_t ignored = write(STDERR_FILENO, what, strlen(what));

	(void)ignored;
	ignored = write(STDERR_FILENO, "\n", 1);
	sys_exit(99);
}

#define CHECK(cond)                                                      \
	do {                                                             \
		if (!(cond))                                             \
			child_fail("child check failed: " #cond);              \
	} while (0)

static void install(enum rivet_seccomp_role role,
		    const struct rivet_seccomp_ctx *ctx)
{
	if (rivet_seccomp_install(role, ctx))
		child_fail("rivet_seccomp_install failed");
}

static void run_child(child_fn fn, void *arg, struct outcome *o)
{
	size_t len = 0;
	int p[2];
	pid_t pid;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		close(p[0]);
		close(p[1]);
		alarm(WATCHDOG_S);
		fn(arg);
		sys_exit(0);
	}
	close(p[1]);
	for (;;) {
		ssize_t n = read(p[0], o->out + len, sizeof(o->out) - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	o->out[len] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &o->status, 0), pid);
}

static void expect_exit(const struct outcome *o, int code)
{
	if (!WIFEXITED(o->status) || WEXITSTATUS(o->status) != code) {
		print_error("child: %s %d, expected exit %d; output:\n%s\n",
			    WIFEXITED(o->status) ? "exit" : "signal",
			    WIFEXITED(o->status) ? WEXITSTATUS(o->status)
						 : WTERMSIG(o->status),
			    code, o->out);
		fail_msg("unexpected child fate");
	}
}

/* The child died for @sys under @role's filter, with the documented status
 * and message. */
static void expect_killed(const struct outcome *o,
			  enum rivet_seccomp_role role, const char *sys)
{
	char want[160];

	expect_exit(o, RIVET_EXIT_SECCOMP);
	snprintf(want, sizeof(want),
		 "rivet: seccomp: %s thread made forbidden syscall %s (%d)\n",
		 rivet_seccomp_role_name(role), sys,
		 seccomp_syscall_resolve_name(sys));
	if (!strstr(o->out, want)) {
		print_error("wanted: %soutput: %s\n", want, o->out);
		fail_msg("no seccomp message");
	}
}

/* ---- the tables ---------------------------------------------------------- */

static bool role_allows(enum rivet_seccomp_role role, const char *sys)
{
	const char *s;

	for (unsigned int i = 0; (s = rivet_seccomp_rule_syscall("microvm", NULL, role, i)); i++)
		if (!strcmp(s, sys))
			return true;
	return false;
}

static void test_roles_parse(void **state)
{
	enum rivet_seccomp_role r;

	(void)state;
	for (int i = 0; i < ROLES; i++) {
		const char *name = rivet_seccomp_role_name(i);

		assert_non_null(name);
		assert_int_equal(rivet_seccomp_role_parse(name, &r), 0);
		assert_int_equal(r, i);
	}
	assert_string_equal(rivet_seccomp_role_name(RIVET_SECCOMP_VCPU),
			    "vcpu");
	assert_int_equal(rivet_seccomp_role_parse("vCPU", &r), -EINVAL);
	assert_int_equal(rivet_seccomp_role_parse("", &r), -EINVAL);
	assert_int_equal(rivet_seccomp_role_parse(NULL, &r), -EINVAL);
	assert_null(rivet_seccomp_role_name(ROLES));
	assert_int_equal(rivet_seccomp_count("microvm", NULL, ROLES), -EINVAL);
	assert_int_equal(rivet_seccomp_count("microvm", "pic",
					     RIVET_SECCOMP_VCPU), -EINVAL);
	assert_int_equal(rivet_seccomp_install(ROLES, NULL), -EINVAL);
	assert_null(rivet_seccomp_rule_syscall("microvm", NULL, ROLES, 0));
}

/* Firecracker's x86_64 figures are the budget, on every board with every
 * interrupt controller (each adds request numbers, not syscalls). */
static void test_budgets(void **state)
{
	static const char *const boards[] = { "microvm", "virt" };
	static const char *const irqchips[] = { "aia", "split", "plic" };

	(void)state;
	for (int b = 0; b < 2; b++) {
		for (int i = 0; i < 3; i++) {
			int vcpu = rivet_seccomp_count(boards[b], irqchips[i],
						       RIVET_SECCOMP_VCPU);
			int main_ = rivet_seccomp_count(boards[b], irqchips[i],
							RIVET_SECCOMP_MAIN);
			int mon = rivet_seccomp_count(boards[b], irqchips[i],
						      RIVET_SECCOMP_MONITOR);
			int io = rivet_seccomp_count(boards[b], irqchips[i],
						     RIVET_SECCOMP_IO);

			print_message("# %s %s: syscalls vcpu %d, main %d, "
				      "monitor %d, io %d\n", boards[b],
				      irqchips[i], vcpu, main_, mon, io);
			assert_true(vcpu > 0 && vcpu <= 27);
			assert_true(main_ > 0 && main_ <= 50);
			assert_true(mon > 0 && mon <= 16);
			assert_true(io > 0 && io <= 20);
			/* The QMP thread's list is the same everywhere,
			 * and smaller than an I/O thread's. */
			assert_int_equal(rivet_seccomp_count(boards[b],
					 irqchips[i], RIVET_SECCOMP_QMP),
					 rivet_seccomp_count("microvm", NULL,
					 RIVET_SECCOMP_QMP));
			assert_true(rivet_seccomp_count(boards[b], irqchips[i],
					RIVET_SECCOMP_QMP) <= 16);
		}
	}
	assert_int_equal(rivet_seccomp_count("microvm", NULL,
					     RIVET_SECCOMP_VCPU),
			 rivet_seccomp_count("microvm", "aia",
					     RIVET_SECCOMP_VCPU));
}

/* Names only, and each one a real syscall on riscv64 (where rivet runs;
 * a name libseccomp knows only as a pseudo-syscall there, like "poll" or
 * "open", resolves negative) and on this host (where the tests run). */
static void test_names_exist_on_riscv64(void **state)
{
	(void)state;
	for (int r = 0; r < ROLES; r++) {
		const char *s;

		for (unsigned int i = 0;
		     (s = rivet_seccomp_rule_syscall("microvm", NULL, r, i)); i++) {
			if (seccomp_syscall_resolve_name_arch(
				    SCMP_ARCH_RISCV64, s) < 0 ||
			    seccomp_syscall_resolve_name(s) < 0)
				fail_msg("%s: '%s' is not a riscv64 syscall",
					 rivet_seccomp_role_name(r), s);
		}
	}
}

/* Every list lets the SIGSYS handler report and exit; none lets a thread
 * open files, start programs or create processes or threads. */
static void test_required_and_forbidden(void **state)
{
	static const char *const never[] = {
		"open", "openat", "openat2", "execve", "execveat", "clone",
		"clone3", "fork", "vfork", "ptrace", "socket", "connect",
		"prctl", "seccomp", "rt_sigaction", "mremap", "pkey_mprotect",
		"process_vm_writev", "memfd_create", "mount", "setns",
	};

	(void)state;
	for (int r = 0; r < ROLES; r++) {
		assert_true(role_allows(r, "write"));
		assert_true(role_allows(r, "exit_group"));
		for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
			if (role_allows(r, never[i]))
				fail_msg("%s allows %s",
					 rivet_seccomp_role_name(r), never[i]);
	}
	assert_false(role_allows(RIVET_SECCOMP_MAIN, "pread64"));
	/* Host file I/O is vectored only (core/fileio.c). */
	assert_false(role_allows(RIVET_SECCOMP_VCPU, "pread64"));
	assert_false(role_allows(RIVET_SECCOMP_VCPU, "pwrite64"));
	assert_false(role_allows(RIVET_SECCOMP_VCPU, "ppoll"));
	assert_false(role_allows(RIVET_SECCOMP_MONITOR, "futex"));
}

/* ---- the audit listing --------------------------------------------------- */

static char *print_irqchip(const char *board, const char *irqchip,
			   enum rivet_seccomp_role role, int *ret)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	assert_non_null(f);
	*ret = rivet_seccomp_print(f, board, irqchip, role);
	fclose(f);
	return buf;
}

static char *print_role(const char *board, enum rivet_seccomp_role role,
			int *ret)
{
	return print_irqchip(board, NULL, role, ret);
}

/* One line per rule, each starting with its syscall; ioctl rules name
 * their request and number; the header gives the counts; no rule is there
 * twice (same syscall and argument rule). */
static void test_print_lists_every_rule(void **state)
{
	(void)state;
	for (int r = 0; r < ROLES; r++) {
		char header[96], *out, *line, *save = NULL, *seen[48];
		unsigned int nr_rules = 0, lines = 0;
		int ret;

		while (rivet_seccomp_rule_syscall("microvm", NULL, r, nr_rules))
			nr_rules++;
		out = print_role("microvm", r, &ret);
		assert_int_equal(ret, 0);
		snprintf(header, sizeof(header), "role %s: %d syscalls, %u "
			 "rules\n", rivet_seccomp_role_name(r),
			 rivet_seccomp_count("microvm", NULL, r), nr_rules);
		assert_non_null(strstr(out, header));
		assert_non_null(strstr(out, "exit status 148"));
		for (line = strtok_r(out, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			const char *s;
			size_t n;

			if (line[0] == '#')
				continue;
			s = rivet_seccomp_rule_syscall("microvm", NULL, r, lines);
			assert_non_null(s);
			n = strlen(s);
			assert_memory_equal(line, s, n);
			assert_true(line[n] == ' ');
			assert_non_null(strstr(line, " # "));
			if (!strcmp(s, "ioctl"))
				assert_non_null(strstr(line, "request == "));
			if (!strcmp(s, "mmap") || !strcmp(s, "mprotect"))
				assert_non_null(strstr(line, "PROT_EXEC"));
			*strstr(line, " # ") = '\0';	/* rule without reason */
			assert_true(lines < sizeof(seen) / sizeof(seen[0]));
			for (unsigned int j = 0; j < lines; j++)
				if (!strcmp(seen[j], line))
					fail_msg("rule twice: %s", line);
			seen[lines] = line;
			lines++;
		}
		assert_int_equal(lines, nr_rules);
		free(out);
	}
}

static void test_print_details(void **state)
{
	char *out;
	int ret;

	(void)state;
	out = print_role("microvm", RIVET_SECCOMP_VCPU, &ret);
	assert_int_equal(ret, 0);
	assert_non_null(strstr(out, "fd == vcpu_fd && request == KVM_RUN "
				    "(0xae80)"));
	assert_non_null(strstr(out, "fd == vm_fd && request == KVM_IRQ_LINE "
				    "(0x4008ae61)"));
	free(out);
	out = print_role("microvm", RIVET_SECCOMP_MAIN, &ret);
	assert_non_null(strstr(out, "tgid == own pid && sig == SIGUSR1"));
	free(out);
	out = print_role("microvm", RIVET_SECCOMP_MONITOR, &ret);
	assert_non_null(strstr(out, "fd == 0 && request == TCSETS (0x5402)"));
	assert_non_null(strstr(out, "sig == SIGTERM (15)"));
	free(out);

	/* virt adds request numbers, not syscalls, to vcpu and main. */
	out = print_role("virt", RIVET_SECCOMP_VCPU, &ret);
	assert_int_equal(ret, 0);
	assert_non_null(strstr(out, "request == KVM_SIGNAL_MSI"));
	assert_non_null(strstr(out, "request == KVM_SET_USER_MEMORY_REGION"));
	free(out);
	out = print_role("microvm", RIVET_SECCOMP_VCPU, &ret);
	assert_null(strstr(out, "KVM_SIGNAL_MSI"));
	free(out);
	out = print_role("pc", RIVET_SECCOMP_MAIN, &ret);
	assert_int_equal(ret, -EINVAL);
	assert_string_equal(out, "");
	free(out);
	out = print_role(NULL, RIVET_SECCOMP_MAIN, &ret);
	assert_int_equal(ret, -EINVAL);
	free(out);
	out = print_role("microvm", ROLES, &ret);
	assert_int_equal(ret, -EINVAL);
	free(out);
}

/* ---- `rivet seccomp` ----------------------------------------------------- */

struct cli_args {
	int argc;
	char *argv[8];
};

static void cli_child(void *arg)
{
	struct cli_args *a = arg;
	int ret = cmd_seccomp(a->argc, a->argv);

	fflush(NULL);
	_exit(ret);
}

#define CLI(o, ...)                                                      \
	do {                                                             \
		struct cli_args a_ = { .argv = { "seccomp", __VA_ARGS__ } }; \
		while (a_.argv[a_.argc])                                 \
			a_.argc++;                                       \
		run_child(cli_child, &a_, (o));                          \
	} while (0)

static void test_cli(void **state)
{
	struct outcome *o = &outcome;

	(void)state;
	CLI(o, NULL);
	expect_exit(o, 0);
	assert_non_null(strstr(o->out, "board microvm, irqchip aia, role monitor"));
	assert_non_null(strstr(o->out, "board microvm, irqchip aia, role main"));
	assert_non_null(strstr(o->out, "board microvm, irqchip aia, role vcpu"));
	assert_non_null(strstr(o->out, "board microvm, irqchip aia, role io"));

	CLI(o, "--board", "microvm", "--role", "vcpu", NULL);
	expect_exit(o, 0);
	assert_non_null(strstr(o->out, "role vcpu"));
	assert_non_null(strstr(o->out, "KVM_RUN"));
	assert_null(strstr(o->out, "role main"));

	CLI(o, "--role=main", "--board=microvm", NULL);
	expect_exit(o, 0);
	assert_non_null(strstr(o->out, "role main"));
	assert_non_null(strstr(o->out, "ppoll"));

	CLI(o, "--help", NULL);
	expect_exit(o, 0);
	assert_non_null(strstr(o->out, "Usage: rivet seccomp"));

	CLI(o, "--board", "pc", NULL);
	expect_exit(o, 2);
	assert_non_null(strstr(o->out, "rivet: seccomp: --board: no allowlist "
					"for board 'pc'"));
	assert_null(strstr(o->out, "# rivet seccomp allowlist"));

	CLI(o, "--role", "io", NULL);
	expect_exit(o, 0);
	assert_non_null(strstr(o->out, "role io"));
	assert_non_null(strstr(o->out, "pwritev"));
	assert_null(strstr(o->out, "KVM_RUN"));

	CLI(o, "--role", "disk", NULL);
	expect_exit(o, 2);
	assert_non_null(strstr(o->out, "--role: unknown role 'disk' (monitor, "
					"main, vcpu, io, qmp or console)"));
	assert_non_null(strstr(o->out, "Try 'rivet seccomp --help'."));

	CLI(o, "--role", "console", NULL);
	expect_exit(o, 0);
	assert_non_null(strstr(o->out, "role console"));
	assert_non_null(strstr(o->out, "accept4"));
	assert_null(strstr(o->out, "KVM_RUN"));

	CLI(o, "--role", NULL);
	expect_exit(o, 2);
	assert_non_null(strstr(o->out, "--role: missing value"));

	CLI(o, "--role", "main", "--board", NULL);
	expect_exit(o, 2);
	assert_non_null(strstr(o->out, "--board: missing value"));

	CLI(o, "--bogus", NULL);
	expect_exit(o, 2);
	assert_non_null(strstr(o->out, "unknown option '--bogus'"));

	CLI(o, "vcpu", NULL);
	expect_exit(o, 2);
	assert_non_null(strstr(o->out, "unexpected argument 'vcpu'"));
}

/* ---- filters in force ---------------------------------------------------- */

/* The filter is really on: /proc/PID/status says mode 2 with one filter. */
static void test_proc_status(void **state)
{
	(void)state;
	for (int r = 0; r < ROLES; r++) {
		char path[64], buf[4096], ready;
		int p[2], fd;
		ssize_t n;
		pid_t pid;

		assert_int_equal(pipe(p), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			alarm(WATCHDOG_S);
			install(r, &no_pins);
			if (write(p[1], "r", 1) != 1)
				sys_exit(98);
			for (;;)	/* no syscalls: wait to be killed */
				__asm__ volatile("" ::: "memory");
		}
		close(p[1]);
		assert_int_equal(read(p[0], &ready, 1), 1);
		close(p[0]);
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		assert_true(fd >= 0);
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		assert_true(n > 0);
		buf[n] = '\0';
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &fd, 0), pid);
		assert_non_null(strstr(buf, "\nSeccomp:\t2\n"));
		assert_non_null(strstr(buf, "\nNoNewPrivs:\t1\n"));
	}
}

struct forbid {
	enum rivet_seccomp_role role;
	const char *sys;	/* what the child tries */
};

static void forbid_child(void *arg)
{
	const struct forbid *f = arg;
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	pid_t pid;

	CHECK(devnull >= 0);
	install(f->role, &no_pins);
	if (!strcmp(f->sys, "openat")) {
		syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY);
	} else if (!strcmp(f->sys, "socket")) {
		socket(AF_UNIX, SOCK_STREAM, 0);
	} else if (!strcmp(f->sys, "clone")) {
		pid = (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
		if (pid == 0)
			sys_exit(0);
	} else if (!strcmp(f->sys, "execve")) {
		char *argv[] = { "/bin/true", NULL };

		execve(argv[0], argv, argv + 1);
	} else if (!strcmp(f->sys, "prctl")) {
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	} else if (!strcmp(f->sys, "io_uring_setup")) {
		uint8_t params[120] = { 0 };	/* struct io_uring_params */

		syscall(SYS_io_uring_setup, 8, params);
	} else if (!strcmp(f->sys, "io_uring_register")) {
		syscall(SYS_io_uring_register, devnull, 0, NULL, 0);
	}
	child_fail("forbidden syscall returned");
}

/* openat, socket, clone, execve and prctl (which could add filters or
 * change the process) end every role's process; so do a new io_uring and
 * changes to one (only io=uring's rings, made and restricted before any
 * filter, may be used, and only through io_uring_enter). */
static void test_forbidden_syscalls(void **state)
{
	static const char *const tries[] = { "openat", "socket", "clone",
					     "execve", "prctl",
					     "io_uring_setup",
					     "io_uring_register" };
	struct outcome *o = &outcome;

	(void)state;
	for (int r = 0; r < ROLES; r++) {
		for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
			struct forbid f = { r, tries[i] };

			run_child(forbid_child, &f, o);
			expect_killed(o, r, tries[i]);
		}
	}
}

/* A forbidden call from a vCPU thread names the vcpu role even though the
 * process's main thread has another filter. */
static void *vcpu_forbid_thread(void *arg)
{
	install(RIVET_SECCOMP_VCPU, &no_pins);
	syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY);
	child_fail("openat returned");
	return arg;
}

static void thread_forbid_child(void *arg)
{
	pthread_t t;

	(void)arg;
	CHECK(pthread_create(&t, NULL, vcpu_forbid_thread, NULL) == 0);
	install(RIVET_SECCOMP_MAIN, &no_pins);
	pthread_join(t, NULL);
	child_fail("joined");
}

static void test_forbidden_in_thread(void **state)
{
	struct outcome *o = &outcome;

	(void)state;
	run_child(thread_forbid_child, NULL, o);
	expect_killed(o, RIVET_SECCOMP_VCPU, "openat");
}

/* ---- argument rules ------------------------------------------------------ */

enum arg_case {
	IOCTL_CREATE_VM,	/* not on any list */
	IOCTL_RUN_OTHER_FD,	/* KVM_RUN on a fd other than the vCPU's */
	IOCTL_RUN,		/* KVM_RUN on the vCPU fd */
	IOCTL_IRQ_OTHER_FD,	/* KVM_IRQ_LINE on a fd other than the VM's */
	IOCTL_TCSETS_FD3,	/* TCSETS on a fd other than 0 */
	IOCTL_TCSETSW,		/* tcsetattr TCSADRAIN: not on the list */
	MMAP_EXEC,
	MMAP_RWX,
	MPROTECT_EXEC,
	TGKILL_OTHER_SIG,
	TGKILL_OTHER_PID,
	KILL_SIGKILL,
};

struct arg_test {
	enum rivet_seccomp_role role;
	enum arg_case what;
};

static void arg_child(void *arg)
{
	const struct arg_test *t = arg;
	struct kvm_irq_level irq = { .irq = 5, .level = 1 };
	pid_t self = getpid(), other;
	int a = open("/dev/null", O_RDWR | O_CLOEXEC);
	int b = open("/dev/null", O_RDWR | O_CLOEXEC);
	struct rivet_seccomp_ctx ctx = { .vm_fd = a, .vcpu_fd = a };
	struct termios tio;
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	memset(&tio, 0, sizeof(tio));
	CHECK(a >= 0 && b >= 0 && p != MAP_FAILED);
	CHECK(dup2(a, STDIN_FILENO) == STDIN_FILENO);
	/* A bystander for signals that must not be sent: dies with us. */
	other = fork();
	CHECK(other >= 0);
	if (other == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(STDOUT_FILENO);
		close(STDERR_FILENO);
		for (;;)
			pause();
	}
	install(t->role, &ctx);
	switch (t->what) {
	case IOCTL_CREATE_VM:
		ioctl(a, KVM_CREATE_VM, 0);
		break;
	case IOCTL_RUN_OTHER_FD:
		ioctl(b, KVM_RUN, 0);
		break;
	case IOCTL_RUN:
		ioctl(a, KVM_RUN, 0);
		break;
	case IOCTL_IRQ_OTHER_FD:
		ioctl(b, KVM_IRQ_LINE, &irq);
		break;
	case IOCTL_TCSETS_FD3:
		ioctl(b, TCSETS, &tio);
		break;
	case IOCTL_TCSETSW:
		ioctl(STDIN_FILENO, TCSETSW, &tio);
		break;
	case MMAP_EXEC:
		mmap(NULL, 4096, PROT_READ | PROT_EXEC,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		break;
	case MMAP_RWX:
		mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		break;
	case MPROTECT_EXEC:
		mprotect(p, 4096, PROT_READ | PROT_EXEC);
		break;
	case TGKILL_OTHER_SIG:
		syscall(SYS_tgkill, self, self, SIGKILL);
		break;
	case TGKILL_OTHER_PID:
		syscall(SYS_tgkill, other, other, SIGUSR1);
		break;
	case KILL_SIGKILL:
		kill(other, SIGKILL);
		break;
	}
	child_fail("call with forbidden arguments returned");
}

/* Each rule's arguments are exact: another ioctl request, the right request
 * on another fd, PROT_EXEC, another signal or process: all fatal. */
static void test_argument_rules(void **state)
{
	static const struct {
		enum rivet_seccomp_role role;
		enum arg_case what;
		const char *sys;
	} cases[] = {
		{ RIVET_SECCOMP_VCPU, IOCTL_CREATE_VM, "ioctl" },
		{ RIVET_SECCOMP_VCPU, IOCTL_RUN_OTHER_FD, "ioctl" },
		{ RIVET_SECCOMP_VCPU, IOCTL_IRQ_OTHER_FD, "ioctl" },
		{ RIVET_SECCOMP_VCPU, MMAP_EXEC, "mmap" },
		{ RIVET_SECCOMP_VCPU, MMAP_RWX, "mmap" },
		{ RIVET_SECCOMP_VCPU, MPROTECT_EXEC, "mprotect" },
		{ RIVET_SECCOMP_MAIN, IOCTL_CREATE_VM, "ioctl" },
		{ RIVET_SECCOMP_MAIN, IOCTL_RUN, "ioctl" },
		{ RIVET_SECCOMP_MAIN, IOCTL_IRQ_OTHER_FD, "ioctl" },
		{ RIVET_SECCOMP_MAIN, MMAP_EXEC, "mmap" },
		{ RIVET_SECCOMP_MAIN, MPROTECT_EXEC, "mprotect" },
		{ RIVET_SECCOMP_MAIN, TGKILL_OTHER_SIG, "tgkill" },
		{ RIVET_SECCOMP_MAIN, TGKILL_OTHER_PID, "tgkill" },
		{ RIVET_SECCOMP_MAIN, KILL_SIGKILL, "kill" },
		{ RIVET_SECCOMP_MONITOR, IOCTL_CREATE_VM, "ioctl" },
		{ RIVET_SECCOMP_MONITOR, IOCTL_RUN, "ioctl" },
		{ RIVET_SECCOMP_MONITOR, IOCTL_TCSETS_FD3, "ioctl" },
		{ RIVET_SECCOMP_MONITOR, IOCTL_TCSETSW, "ioctl" },
		{ RIVET_SECCOMP_MONITOR, MMAP_RWX, "mmap" },
		{ RIVET_SECCOMP_MONITOR, MPROTECT_EXEC, "mprotect" },
		{ RIVET_SECCOMP_MONITOR, KILL_SIGKILL, "kill" },
	};
	struct outcome *o = &outcome;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct arg_test t = { cases[i].role, cases[i].what };

		run_child(arg_child, &t, o);
		expect_killed(o, cases[i].role, cases[i].sys);
	}
}

/* ---- each interrupt controller's requests --------------------------------- */

enum irq_call { CALL_INTERRUPT, CALL_INTERRUPT_OTHER_FD, CALL_IRQ_LINE,
		CALL_SIGNAL_MSI, CALL_TUN_CONTROL, CALL_TUN_SETIFF };

struct irq_test {
	enum rivet_seccomp_role role;
	const char *irqchip;
	enum irq_call call;
	const char *board;	/* NULL: microvm */
};

static void irq_child(void *arg)
{
	const struct irq_test *t = arg;
	int a = open("/dev/null", O_RDWR | O_CLOEXEC);	/* VM and vCPU 0 */
	int b = open("/dev/null", O_RDWR | O_CLOEXEC);	/* not a vCPU */
	int c = open("/dev/null", O_RDWR | O_CLOEXEC);	/* vCPU 1 */
	const int vcpus[2] = { a, c };
	struct rivet_seccomp_ctx ctx = {
		.vm_fd = a, .vcpu_fd = a, .irqchip = t->irqchip,
		.board = t->board,
		.vcpu_fds = vcpus, .nr_vcpu_fds = 2,
	};
	struct kvm_interrupt irq = { .irq = 1 };	/* any: not filtered */
	struct kvm_irq_level line = { .irq = 5, .level = 1 };
	struct kvm_msi msi = { .address_lo = 0x28000000, .data = 1 };

	CHECK(a >= 0 && b >= 0 && c >= 0);
	install(t->role, &ctx);
	/* /dev/null answers every allowed request with ENOTTY. */
	switch (t->call) {
	case CALL_INTERRUPT:
		CHECK(ioctl(a, KVM_INTERRUPT, &irq) < 0 && errno == ENOTTY);
		CHECK(ioctl(c, KVM_INTERRUPT, &irq) < 0 && errno == ENOTTY);
		break;
	case CALL_INTERRUPT_OTHER_FD:
		ioctl(b, KVM_INTERRUPT, &irq);
		child_fail("KVM_INTERRUPT on a non-vCPU fd returned");
		break;
	case CALL_IRQ_LINE:
		CHECK(ioctl(a, KVM_IRQ_LINE, &line) < 0 && errno == ENOTTY);
		break;
	case CALL_SIGNAL_MSI:
		CHECK(ioctl(a, KVM_SIGNAL_MSI, &msi) < 0 && errno == ENOTTY);
		break;
	case CALL_TUN_CONTROL: {
		struct ifreq ifr = { .ifr_flags = IFF_DETACH_QUEUE };

		CHECK(ioctl(b, TUNSETOFFLOAD, 0UL) < 0 && errno == ENOTTY);
		CHECK(ioctl(b, TUNSETQUEUE, &ifr) < 0 && errno == ENOTTY);
		break;
	}
	case CALL_TUN_SETIFF: {
		struct ifreq ifr = { .ifr_flags = IFF_TAP };

		ioctl(b, TUNSETIFF, &ifr);
		child_fail("TUNSETIFF returned");
		break;
	}
	}
}

/* Each mode allows exactly its own way of raising an interrupt: KVM_IRQ_LINE
 * (aia), KVM_SIGNAL_MSI (split), KVM_INTERRUPT on the vCPU fds only (plic);
 * another mode's request kills. */
static void test_irqchip_rules(void **state)
{
	static const struct {
		struct irq_test t;
		bool allowed;
	} cases[] = {
		{ { RIVET_SECCOMP_VCPU, "plic", CALL_INTERRUPT, NULL }, true },
		{ { RIVET_SECCOMP_MAIN, "plic", CALL_INTERRUPT, NULL }, true },
		{ { RIVET_SECCOMP_VCPU, "plic", CALL_INTERRUPT_OTHER_FD, NULL },
		  false },
		{ { RIVET_SECCOMP_MAIN, "plic", CALL_INTERRUPT_OTHER_FD, NULL },
		  false },
		{ { RIVET_SECCOMP_MAIN, "plic", CALL_IRQ_LINE, NULL }, false },
		{ { RIVET_SECCOMP_VCPU, "plic", CALL_SIGNAL_MSI, NULL }, false },
		{ { RIVET_SECCOMP_VCPU, "split", CALL_SIGNAL_MSI, NULL }, true },
		{ { RIVET_SECCOMP_MAIN, "split", CALL_SIGNAL_MSI, NULL }, true },
		{ { RIVET_SECCOMP_VCPU, "split", CALL_IRQ_LINE, NULL }, false },
		{ { RIVET_SECCOMP_MAIN, "split", CALL_INTERRUPT, NULL }, false },
		{ { RIVET_SECCOMP_VCPU, "aia", CALL_IRQ_LINE, NULL }, true },
		{ { RIVET_SECCOMP_MAIN, NULL, CALL_IRQ_LINE, NULL }, true },
		{ { RIVET_SECCOMP_MAIN, "aia", CALL_INTERRUPT, NULL }, false },
		{ { RIVET_SECCOMP_VCPU, "aia", CALL_SIGNAL_MSI, NULL }, false },
		{ { RIVET_SECCOMP_MONITOR, "plic", CALL_INTERRUPT, NULL }, false },
		/* virt: MSI-X only where there is an IMSIC. */
		{ { RIVET_SECCOMP_VCPU, "aia", CALL_SIGNAL_MSI, "virt" }, true },
		/* ... from the threads that serve devices, and the main
		 * thread, which presses the power button (QMP); not on
		 * microvm (no MSI-X there). */
		{ { RIVET_SECCOMP_MAIN, "aia", CALL_SIGNAL_MSI, "virt" }, true },
		{ { RIVET_SECCOMP_MAIN, "aia", CALL_SIGNAL_MSI, NULL }, false },
		{ { RIVET_SECCOMP_MAIN, "split", CALL_SIGNAL_MSI, "virt" },
		  true },
		{ { RIVET_SECCOMP_VCPU, "plic", CALL_SIGNAL_MSI, "virt" },
		  false },
		{ { RIVET_SECCOMP_MAIN, "plic", CALL_SIGNAL_MSI, "virt" },
		  false },
		{ { RIVET_SECCOMP_VCPU, "plic", CALL_INTERRUPT, "virt" }, true },
		/* virtio-net's TAP control: the threads that serve the
		 * driver, never the main thread; no thread attaches a TAP. */
		{ { RIVET_SECCOMP_VCPU, "aia", CALL_TUN_CONTROL, NULL }, true },
		{ { RIVET_SECCOMP_IO, "plic", CALL_TUN_CONTROL, "virt" }, true },
		{ { RIVET_SECCOMP_MAIN, "aia", CALL_TUN_CONTROL, NULL }, false },
		{ { RIVET_SECCOMP_MONITOR, "aia", CALL_TUN_CONTROL, NULL },
		  false },
		{ { RIVET_SECCOMP_VCPU, "aia", CALL_TUN_SETIFF, NULL }, false },
		{ { RIVET_SECCOMP_IO, "split", CALL_TUN_SETIFF, NULL }, false },
	};
	struct outcome *o = &outcome;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct irq_test t = cases[i].t;

		run_child(irq_child, &t, o);
		if (cases[i].allowed)
			expect_exit(o, 0);
		else
			expect_killed(o, t.role, "ioctl");
	}
	/* The listing shows them, and an unknown controller has none. */
	{
		char *out;
		int ret;

		out = print_irqchip("microvm", "plic", RIVET_SECCOMP_VCPU, &ret);
		assert_int_equal(ret, 0);
		assert_non_null(strstr(out, "irqchip plic"));
		assert_non_null(strstr(out, "fd == a vcpu_fd && request == "
					    "KVM_INTERRUPT (0x4004ae86)"));
		assert_null(strstr(out, "KVM_IRQ_LINE"));
		free(out);
		/* virt + split: KVM_SIGNAL_MSI once, not twice. */
		out = print_irqchip("virt", "split", RIVET_SECCOMP_MAIN, &ret);
		assert_int_equal(ret, 0);
		assert_non_null(strstr(out, "KVM_SIGNAL_MSI"));
		assert_null(strstr(strstr(out, "KVM_SIGNAL_MSI") + 1,
				   "KVM_SIGNAL_MSI"));
		free(out);
		out = print_irqchip("microvm", "pic", RIVET_SECCOMP_MAIN, &ret);
		assert_int_equal(ret, -EINVAL);
		free(out);
	}
}

/* ---- every allowed rule, for real ---------------------------------------- */

/* What the "allowed" children below exercise; a rule added to a list
 * without a test here fails test_every_rule_exercised. */
static const char *const exercised[ROLES][24] = {
	[RIVET_SECCOMP_VCPU] = {
		"ioctl", "write", "preadv", "pwritev", "fdatasync",
		"getrandom", "futex", "clock_gettime", "rt_sigreturn",
		"rt_sigprocmask", "mmap", "mprotect", "munmap", "madvise",
		"brk", "exit", "exit_group", NULL },
	[RIVET_SECCOMP_MAIN] = {
		"ppoll", "read", "write", "ioctl", "futex", "getpid",
		"tgkill", "rt_sigprocmask", "rt_sigreturn", "clock_gettime",
		"close", "munmap", "mmap", "madvise", "brk", "exit_group",
		"io_uring_register", "recvmsg", "pwritev", "preadv", "ftruncate",
		"fdatasync", "lseek", NULL },
	[RIVET_SECCOMP_MONITOR] = {
		"wait4", "read", "rt_sigtimedwait", "rt_sigprocmask", "kill",
		"ioctl", "write", "close", "brk", "mmap", "munmap",
		"exit_group", NULL },
	[RIVET_SECCOMP_IO] = {
		"ppoll", "read", "write", "preadv", "pwritev", "fdatasync",
		"io_uring_enter", "ioctl", "futex", "clock_gettime", "rt_sigprocmask", "mmap",
		"mprotect", "munmap", "madvise", "exit", "exit_group", NULL },
	/* Exercised for real by test_qmp's confined server. */
	[RIVET_SECCOMP_QMP] = {
		"ppoll", "accept4", "read", "write", "close", "futex",
		"clock_gettime", "brk", "rt_sigprocmask", "mmap", "mprotect",
		"munmap", "madvise", "exit", "exit_group", "sendmsg", NULL },
	/* Exercised for real by test_serial_relay's confined relay. */
	[RIVET_SECCOMP_CONSOLE] = {
		"ppoll", "accept4", "read", "write", "close", "futex",
		"clock_gettime", "rt_sigprocmask", "mmap", "mprotect",
		"munmap", "madvise", "exit", "exit_group", NULL },
};

static void test_every_rule_exercised(void **state)
{
	(void)state;
	for (int r = 0; r < ROLES; r++) {
		const char *s;

		for (unsigned int i = 0;
		     (s = rivet_seccomp_rule_syscall("microvm", NULL, r, i)); i++) {
			bool found = false;

			for (int j = 0; exercised[r][j]; j++)
				found |= !strcmp(exercised[r][j], s);
			if (!found)
				fail_msg("%s: rule for %s is not exercised",
					 rivet_seccomp_role_name(r), s);
		}
	}
}

/* What every worker thread does besides its job: the log's clock, a
 * futex, and malloc's needs (anonymous memory, never executable). */
static void thread_basics(void)
{
	struct timespec ts;
	int futex_word = 0;
	void *p, *big;

	CHECK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) == 0);
	CHECK(syscall(SYS_futex, &futex_word, FUTEX_WAKE_PRIVATE, 1, NULL,
		      NULL, 0) == 0);
	p = mmap(NULL, 2 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	CHECK(p != MAP_FAILED);
	CHECK(mprotect(p, 4096, PROT_READ | PROT_WRITE) == 0);
	memset(p, 1, 4096);
	CHECK(madvise(p, 4096, MADV_DONTNEED) == 0);
	CHECK(munmap(p, 2 * 4096) == 0);
	big = malloc(1 << 20);
	CHECK(big);
	memset(big, 2, 1 << 20);
	free(big);
}

/* Set by the SIGUSR1 handler on the thread that took the signal. */
static _Thread_local volatile sig_atomic_t kicked;

static void kick_handler(int sig)
{
	(void)sig;
	kicked = 1;
}

struct vm_sim {
	int vm_fd, vcpu_fd;	/* /dev/null: KVM ioctls fail with ENOTTY */
	int disk_fd;		/* a temporary file */
	int stop_fd;		/* eventfd: "the VM ended" */
	int out_fd;		/* where "console output" goes */
	atomic_int vcpu_ready;
	pid_t main_tid;
};

/* A vCPU thread's life under its filter: the exits it serves, the kick out
 * of KVM_RUN, the wake-up of the main loop, and thread exit. */
static void *vcpu_sim_thread(void *arg)
{
	struct vm_sim *vm = arg;
	struct rivet_seccomp_ctx ctx = { .vm_fd = vm->vm_fd,
					 .vcpu_fd = vm->vcpu_fd };
	struct kvm_irq_level irq = { .irq = 5, .level = 1 };
	uint8_t buf[4096], back[512];
	sigset_t set;
	uint64_t one = 1;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	install(RIVET_SECCOMP_VCPU, &ctx);

	/* ioctl: KVM_RUN on the vCPU fd, KVM_IRQ_LINE on the VM fd. */
	CHECK(ioctl(vm->vcpu_fd, KVM_RUN, 0) < 0 && errno == ENOTTY);
	CHECK(ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0 && errno == ENOTTY);
	/* virtio-blk, virtio-rng, console, log. */
	CHECK(getrandom(buf, sizeof(buf), 0) == sizeof(buf));
	CHECK(pwritev(vm->disk_fd, &(struct iovec){ buf, 512 }, 1, 4096) ==
	      512);
	CHECK(preadv(vm->disk_fd, &(struct iovec){ back, 512 }, 1, 4096) ==
	      512);
	CHECK(!memcmp(buf, back, 512));
	CHECK(fdatasync(vm->disk_fd) == 0);
	CHECK(write(vm->out_fd, "console\n", 8) == 8);
	log_err("a log line from the vcpu role");
	thread_basics();
	CHECK(syscall(SYS_brk, 0) != -1);
	CHECK(pthread_sigmask(SIG_BLOCK, &set, NULL) == 0);
	CHECK(pthread_sigmask(SIG_UNBLOCK, &set, NULL) == 0);

	/* Wait in "KVM_RUN" for the kick: its handler returns through
	 * rt_sigreturn. */
	atomic_store(&vm->vcpu_ready, 1);
	while (!kicked)
		__asm__ volatile("" ::: "memory");
	CHECK(write(vm->stop_fd, &one, sizeof(one)) == sizeof(one));
	return NULL;	/* thread exit: rt_sigprocmask, madvise, exit */
}

/* A VM process: a vCPU thread under its filter, the main thread under its
 * own, kicking, waiting for and joining the vCPU, tearing down, _exit. */
/* A descriptor over a UNIX socket, as the monitor hands a VM process a
 * snapshot's files. */
static int send_fd(int sock, int fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	char b = 'm';
	struct iovec iov = { &b, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(fd));
	return sendmsg(sock, &mh, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	char b;
	struct iovec iov = { &b, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	return fd;
}

static void vm_sim_child(void *arg)
{
	struct sigaction sa = { .sa_handler = kick_handler,
				.sa_flags = SA_RESTART };
	struct vm_sim vm = { 0 };
	struct rivet_seccomp_ctx ctx;
	struct kvm_irq_level irq = { .irq = 5, .level = 0 };
	struct pollfd pfd;
	struct timespec ts;
	int p[2], futex_word = 0;
	uint64_t v;
	pthread_t t;
	char c;
	void *mem;
	FILE *disk = tmpfile(), *snap;
	int ctl[2];

	(void)arg;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	vm.vm_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	vm.vcpu_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	vm.stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vm.out_fd = STDOUT_FILENO;
	vm.main_tid = gettid();
	CHECK(disk && vm.vm_fd >= 0 && vm.vcpu_fd >= 0 && vm.stop_fd >= 0);
	vm.disk_fd = fileno(disk);
	CHECK(pipe(p) == 0 && write(p[1], "i", 1) == 1);
	mem = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK(mem != MAP_FAILED);

	CHECK(pthread_create(&t, NULL, vcpu_sim_thread, &vm) == 0);
	while (!atomic_load(&vm.vcpu_ready))
		sched_yield();
	ctx = (struct rivet_seccomp_ctx){ .vm_fd = vm.vm_fd, .vcpu_fd = -1,
					  .vcpu_fds = &vm.vcpu_fd,
					  .nr_vcpu_fds = 1 };
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) == 0);
	snap = tmpfile();
	CHECK(snap && send_fd(ctl[0], fileno(snap)) == 0);
	install(RIVET_SECCOMP_MAIN, &ctx);

	/* A snapshot: the monitor's request with a file, a parked vCPU's
	 * registers, the RAM written sparse and synced. */
	{
		struct kvm_one_reg reg = { .id = 0 };
		char back[4];
		int fd = recv_fd(ctl[1]);

		CHECK(fd >= 0);
		CHECK(ioctl(vm.vcpu_fd, KVM_GET_ONE_REG, &reg) < 0 &&
		      errno == ENOTTY);
		CHECK(ftruncate(fd, 1 << 20) == 0);
		CHECK(pwritev(fd, &(struct iovec){ "data", 4 }, 1, 4096) ==
		      4);
		CHECK(preadv(fd, &(struct iovec){ back, 4 }, 1, 4096) == 4);
		/* A restored VM's: where its old memory file has data. */
		CHECK(lseek(fd, 0, SEEK_DATA) == 4096);
		CHECK(lseek(fd, 4096, SEEK_HOLE) >= 4100);
		CHECK(fdatasync(fd) == 0 && close(fd) == 0);
	}

	/* The event loop: console input, the UART interrupt, logging. */
	pfd = (struct pollfd){ .fd = p[0], .events = POLLIN };
	CHECK(ppoll(&pfd, 1, NULL, NULL) == 1);
	CHECK(read(p[0], &c, 1) == 1 && c == 'i');
	CHECK(ioctl(vm.vm_fd, KVM_IRQ_LINE, &irq) < 0 && errno == ENOTTY);
	log_warn("a log line from the main role");
	CHECK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) == 0);
	CHECK(syscall(SYS_futex, &futex_word, FUTEX_WAKE_PRIVATE, 1, NULL,
		      NULL, 0) == 0);
	CHECK(syscall(SYS_brk, 0) != -1);
	CHECK(madvise(mem, 1 << 20, MADV_DONTNEED) == 0);
	/* A SIGUSR1 to the process lands on the main thread: its handler
	 * returns through rt_sigreturn. */
	CHECK(syscall(SYS_tgkill, getpid(), vm.main_tid, SIGUSR1) == 0);
	CHECK(kicked);
	/* Stop the vCPU: kick (pthread_kill: rt_sigprocmask, getpid,
	 * tgkill), wait for its eventfd write, join. */
	CHECK(pthread_kill(t, SIGUSR1) == 0);
	pfd = (struct pollfd){ .fd = vm.stop_fd, .events = POLLIN };
	CHECK(ppoll(&pfd, 1, NULL, NULL) == 1);
	CHECK(read(vm.stop_fd, &v, sizeof(v)) == sizeof(v) && v == 1);
	CHECK(pthread_join(t, NULL) == 0);
	/* Teardown: an io=uring ring lets go of its disk (no ring here: the
	 * kernel refuses the fd, the filter let it through). */
	CHECK(syscall(SYS_io_uring_register, vm.stop_fd,
		      IORING_UNREGISTER_FILES, NULL, 0) < 0);
	CHECK(munmap(mem, 1 << 20) == 0);
	mem = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(mem != MAP_FAILED && munmap(mem, 1 << 16) == 0);
	CHECK(close(vm.vcpu_fd) == 0 && close(vm.vm_fd) == 0);
	CHECK(close(vm.stop_fd) == 0 && close(p[0]) == 0);
	sys_exit(0);
}

static void test_vm_process_allowed(void **state)
{
	struct outcome *o = &outcome;

	(void)state;
	run_child(vm_sim_child, NULL, o);
	expect_exit(o, 0);
	assert_non_null(strstr(o->out, "console\n"));
	assert_non_null(strstr(o->out, "a log line from the vcpu role"));
	assert_non_null(strstr(o->out, "a log line from the main role"));
}

/* An I/O thread's and a pool thread's life under the io filter, started by
 * the real iothread module: the kick, a disk request, the completion
 * interrupt, a log line, malloc, and thread exit. */
struct io_sim {
	int vm_fd, disk_fd, done_fd;
	struct rivet_seccomp_prog *prog;	/* built once, loaded by each */
	struct iothread *t;
	struct iopool *pool;
	struct iojob job;
};

static int io_sim_confine(void *ctx)
{
	struct io_sim *s = ctx;

	return rivet_seccomp_load(s->prog);
}

static void io_sim_job(struct iojob *job)
{
	struct io_sim *s = (struct io_sim *)((char *)job -
					     offsetof(struct io_sim, job));
	uint64_t one = 1;

	CHECK(fdatasync(s->disk_fd) == 0);
	CHECK(write(s->done_fd, &one, sizeof(one)) == sizeof(one));
}

static void io_sim_serve(void *ctx)
{
	struct io_sim *s = ctx;
	struct kvm_irq_level irq = { .irq = 5, .level = 1 };
	uint8_t buf[512], back[512];

	memset(buf, 0x5a, sizeof(buf));
	CHECK(pwritev(s->disk_fd, &(struct iovec){ buf, 512 }, 1, 0) == 512);
	CHECK(preadv(s->disk_fd, &(struct iovec){ back, 512 }, 1, 0) == 512);
	CHECK(!memcmp(buf, back, 512));
	CHECK(ioctl(s->vm_fd, KVM_IRQ_LINE, &irq) < 0 && errno == ENOTTY);
	/* No ring here (test_virtio_blk runs real ones): the call is let
	 * through to the kernel, which refuses the fd. */
	CHECK(syscall(SYS_io_uring_enter, s->done_fd, 0, 0, 0, NULL, 0) < 0);
	log_err("a log line from the io role");
	thread_basics();
	/* The flush on a pool thread, which says when it is done. */
	iopool_submit(s->pool, &s->job);
}

static void io_sim_child(void *arg)
{
	struct io_sim s = { .job.fn = io_sim_job };
	struct io_confine conf = { io_sim_confine, &s };
	struct rivet_seccomp_ctx ctx;
	struct pollfd pfd;
	uint64_t v;
	FILE *disk = tmpfile();

	(void)arg;
	s.vm_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	s.done_fd = eventfd(0, EFD_CLOEXEC);
	CHECK(disk && s.vm_fd >= 0 && s.done_fd >= 0);
	s.disk_fd = fileno(disk);
	ctx = (struct rivet_seccomp_ctx){ .vm_fd = s.vm_fd, .vcpu_fd = -1 };
	CHECK(rivet_seccomp_prepare(RIVET_SECCOMP_IO, &ctx, &s.prog) == 0);
	CHECK(iopool_start(&s.pool, "sim-pool", 2, &conf) == 0);
	CHECK(iothread_start(&s.t, "sim-io", io_sim_serve, &s, &conf) == 0);
	rivet_seccomp_prog_free(s.prog);
	install(RIVET_SECCOMP_MAIN, &ctx);
	iothread_kick(s.t);
	pfd = (struct pollfd){ .fd = s.done_fd, .events = POLLIN };
	CHECK(ppoll(&pfd, 1, NULL, NULL) == 1);
	CHECK(read(s.done_fd, &v, sizeof(v)) == sizeof(v) && v == 1);
	iothread_stop(s.t);
	iopool_stop(s.pool);
	sys_exit(0);
}

static void test_io_threads_allowed(void **state)
{
	struct outcome *o = &outcome;

	(void)state;
	run_child(io_sim_child, NULL, o);
	expect_exit(o, 0);
	assert_non_null(strstr(o->out, "a log line from the io role"));
}

/* An I/O thread whose confinement fails never serves, and says so. */
static int io_fail_confine(void *ctx)
{
	(void)ctx;
	return -EPERM;
}

static void io_never(void *ctx)
{
	(void)ctx;
	abort();
}

static void test_io_confine_failure(void **state)
{
	struct io_confine conf = { io_fail_confine, NULL };
	struct iothread *t = NULL;
	struct iopool *p = NULL;

	(void)state;
	assert_int_equal(iothread_start(&t, "never", io_never, NULL, &conf),
			 -EPERM);
	assert_null(t);
	assert_int_equal(iopool_start(&p, "never", 3, &conf), -EPERM);
	assert_null(p);
}

/* The monitor once the VM process runs: signals forwarded, the VM
 * process reaped, the terminal restored, exit. */
static void monitor_child(void *arg)
{
	struct termios tio;
	sigset_t set, chld, old;
	siginfo_t si;
	pid_t vm, done;
	int p[2], st, devnull;
	char c;
	void *mem;

	(void)arg;
	memset(&tio, 0, sizeof(tio));
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	CHECK(devnull >= 0 && dup2(devnull, STDIN_FILENO) == 0);
	CHECK(pipe(p) == 0 && write(p[1], "s", 1) == 1);
	/* A "VM process" that holds SIGINT and SIGHUP and dies of SIGTERM,
	 * and one that has already exited. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	CHECK(sigprocmask(SIG_BLOCK, &set, NULL) == 0);
	vm = fork();
	CHECK(vm >= 0);
	if (vm == 0) {
		close(STDOUT_FILENO);
		close(STDERR_FILENO);
		for (;;)
			pause();
	}
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	CHECK(sigprocmask(SIG_BLOCK, &chld, &old) == 0);
	done = fork();
	CHECK(done >= 0);
	if (done == 0)
		_exit(7);

	install(RIVET_SECCOMP_MONITOR, &no_pins);
	/* The jail's PID-namespace waiter: sigwaitinfo, then its old mask. */
	CHECK(sigwaitinfo(&chld, &si) == SIGCHLD);
	CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0);
	CHECK(read(p[0], &c, 1) == 1 && c == 's');
	CHECK(kill(vm, SIGINT) == 0);
	CHECK(kill(vm, SIGHUP) == 0);
	CHECK(kill(vm, SIGTERM) == 0);
	CHECK(waitpid(vm, &st, 0) == vm);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	CHECK(waitpid(done, &st, 0) == done);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7);
	/* tcsetattr(0, TCSANOW): TCGETS and TCSETS on fd 0 (not a tty
	 * here: the filter lets the calls through, the kernel says ENOTTY). */
	CHECK(ioctl(STDIN_FILENO, TCGETS, &tio) < 0 && errno == ENOTTY);
	CHECK(ioctl(STDIN_FILENO, TCSETS, &tio) < 0 && errno == ENOTTY);
	CHECK(tcsetattr(STDIN_FILENO, TCSANOW, &tio) < 0 && errno == ENOTTY);
	log_warn("a log line from the monitor role");
	CHECK(syscall(SYS_brk, 0) != -1);
	mem = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(mem != MAP_FAILED && munmap(mem, 1 << 16) == 0);
	CHECK(close(p[0]) == 0 && close(p[1]) == 0);
	sys_exit(0);
}

static void test_monitor_allowed(void **state)
{
	struct outcome *o = &outcome;

	(void)state;
	run_child(monitor_child, NULL, o);
	expect_exit(o, 0);
	assert_non_null(strstr(o->out, "a log line from the monitor role"));
}

/* A SIGSYS that seccomp did not raise still ends the process, named. */
static void test_foreign_sigsys(void **state)
{
	int out[2], ready[2], st;
	char buf[256], want[96], c;
	ssize_t n;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(out), 0);
	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(out[1], STDERR_FILENO);
		close(out[0]);
		close(out[1]);
		close(ready[0]);
		alarm(WATCHDOG_S);
		install(RIVET_SECCOMP_MONITOR, &no_pins);
		if (write(ready[1], "r", 1) != 1)
			sys_exit(98);
		for (;;)	/* no syscalls: wait for the signal */
			__asm__ volatile("" ::: "memory");
	}
	close(out[1]);
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	assert_int_equal(kill(pid, SIGSYS), 0);
	n = read(out[0], buf, sizeof(buf) - 1);
	close(out[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), RIVET_EXIT_SECCOMP);
	assert_true(n > 0);
	buf[n] = '\0';
	snprintf(want, sizeof(want), "rivet: seccomp: monitor thread got "
		 "SIGSYS from pid %d\n", (int)getpid());
	assert_string_equal(buf, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roles_parse),
		cmocka_unit_test(test_budgets),
		cmocka_unit_test(test_names_exist_on_riscv64),
		cmocka_unit_test(test_required_and_forbidden),
		cmocka_unit_test(test_print_lists_every_rule),
		cmocka_unit_test(test_print_details),
		cmocka_unit_test(test_cli),
		cmocka_unit_test(test_proc_status),
		cmocka_unit_test(test_forbidden_syscalls),
		cmocka_unit_test(test_forbidden_in_thread),
		cmocka_unit_test(test_argument_rules),
		cmocka_unit_test(test_irqchip_rules),
		cmocka_unit_test(test_every_rule_exercised),
		cmocka_unit_test(test_vm_process_allowed),
		cmocka_unit_test(test_io_threads_allowed),
		cmocka_unit_test(test_io_confine_failure),
		cmocka_unit_test(test_monitor_allowed),
		cmocka_unit_test(test_foreign_sigsys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
