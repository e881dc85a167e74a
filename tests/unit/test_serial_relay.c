// SPDX-License-Identifier: MIT
/* --serial: the option's rules (src/core/config_ctl.c) and the monitor's
 * console relay (src/core/serial_relay.c) on a real pseudo-terminal and a
 * real UNIX socket, its thread confined by the "console" seccomp role, in
 * a child so the filter never reaches the test runner. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/child.h"
#include "core/config.h"
#include "core/serial_relay.h"

#if defined(__SANITIZE_ADDRESS__)
/* ASan's thread teardown removes the alternate signal stack it gave the
 * thread (sigaltstack), which the console thread's filter does not allow. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "use_sigaltstack=0";
}
#endif

static char dir[32];
static char sock_path[96];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/rivet-serial-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(sock_path, sizeof(sock_path), "%s/console.sock", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(sock_path);
	rmdir(dir);
	return 0;
}

/* ---- the option ---------------------------------------------------------------- */

static void test_parse(void **state)
{
	struct serial_config s;
	char err[256];

	(void)state;
	assert_int_equal(config_parse_serial("stdio", &s, err, sizeof(err)), 0);
	assert_int_equal(s.kind, SERIAL_STDIO);
	assert_int_equal(config_parse_serial("pty", &s, err, sizeof(err)), 0);
	assert_int_equal(s.kind, SERIAL_PTY);
	assert_int_equal(config_parse_serial("null", &s, err, sizeof(err)), 0);
	assert_int_equal(s.kind, SERIAL_NULL);
	assert_int_equal(config_parse_serial("none", &s, err, sizeof(err)), 0);
	assert_int_equal(s.kind, SERIAL_NULL);
	assert_int_equal(config_parse_serial("unix:/run/c.sock,server", &s, err,
					     sizeof(err)), 0);
	assert_int_equal(s.kind, SERIAL_UNIX);
	assert_string_equal(s.path, "/run/c.sock");
	assert_true(s.wait);
	assert_int_equal(config_parse_serial("unix:c,server=on,wait=off", &s,
					     err, sizeof(err)), 0);
	assert_false(s.wait);
	assert_int_equal(config_parse_serial("unix:c,nowait,server", &s, err,
					     sizeof(err)), 0);
	assert_false(s.wait);

	assert_int_equal(config_parse_serial("tcp:1.2.3.4:5", &s, err,
					     sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--serial: 'tcp:1.2.3.4:5' is not stdio, "
				    "pty, null or unix:PATH,server"));
	assert_int_equal(config_parse_serial("unix:c", &s, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "rivet listens (add ',server')"));
	assert_int_equal(config_parse_serial("unix:,server", &s, err,
					     sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--serial: empty socket path"));
	assert_int_equal(config_parse_serial("unix:c,server,telnet", &s, err,
					     sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown or repeated key 'telnet'"));
	assert_int_equal(config_parse_serial("unix:c,server,wait=maybe", &s,
					     err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'wait=maybe': the value is not on or off"));
	assert_int_equal(config_parse_serial("", &s, err, sizeof(err)),
			 -EINVAL);
}

/* ---- the relay, confined --------------------------------------------------------- */

#define CHECK(cond)                                                       \
	do {                                                              \
		if (!(cond)) {                                            \
			fprintf(stderr, "line %d: %s\n", __LINE__, #cond);\
			_exit(11);                                        \
		}                                                         \
	} while (0)

/* Read exactly @want from @fd (blocking with a 5 s limit per wait). */
static bool read_exact(int fd, const char *want)
{
	size_t len = strlen(want), got = 0;
	char buf[256];

	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 5000) != 1)
			return false;
		n = read(fd, buf + got, len - got);
		if (n <= 0)
			return n < 0 && errno == EAGAIN ? false : false;
		got += (size_t)n;
	}
	return !memcmp(buf, want, len);
}

/* Nothing to read on @fd within @ms. */
static bool quiet(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 0;
}

/* Wait until @r has dropped at least @n bytes (the relay thread counts
 * them after reading them). */
static bool dropped_reaches(struct serial_relay *r, unsigned long long n)
{
	for (int i = 0; i < 500; i++) {
		if (serial_relay_dropped(r) >= n)
			return true;
		usleep(10000);
	}
	return false;
}

static void relay_cfg(struct vm_config *cfg, enum serial_kind kind)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->seccomp = true;
	cfg->serial.kind = kind;
	snprintf(cfg->serial.path, sizeof(cfg->serial.path), "%s", sock_path);
}

static void unix_life(void)
{
	struct vm_config cfg;
	struct serial_relay *r;
	struct stat st;
	int vm, a, b;

	relay_cfg(&cfg, SERIAL_UNIX);
	CHECK(serial_relay_open(&cfg, &r) == 0 && r);
	CHECK(stat(sock_path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(serial_relay_pty_name(r) == NULL);
	CHECK(serial_relay_start(r) == 0);
	vm = serial_relay_vm_fd(r);
	/* Nobody connected: guest output is dropped, never queued. */
	CHECK(write(vm, "early", 5) == 5);
	CHECK(dropped_reaches(r, 5));
	a = ts_unix_connect(sock_path);
	CHECK(a >= 0);
	usleep(100000);		/* accepted */
	CHECK(write(vm, "login: ", 7) == 7);
	CHECK(read_exact(a, "login: "));
	CHECK(write(a, "root\r", 5) == 5);
	CHECK(read_exact(vm, "root\r"));
	/* A second client waits in the backlog, seeing nothing ... */
	b = ts_unix_connect(sock_path);
	CHECK(b >= 0);
	CHECK(write(vm, "#1", 2) == 2);
	CHECK(read_exact(a, "#1"));
	CHECK(quiet(b, 200));
	CHECK(write(b, "ls\r", 3) == 3);
	CHECK(quiet(vm, 200));
	/* ... until the first leaves: then it is the console, and what it
	 * typed meanwhile reaches the guest. */
	close(a);
	CHECK(read_exact(vm, "ls\r"));
	CHECK(write(vm, "#2", 2) == 2);
	CHECK(read_exact(b, "#2"));
	close(b);
	usleep(100000);
	serial_relay_close(r);
	CHECK(access(sock_path, F_OK) != 0);	/* removed at the end */
	_exit(0);
}

static void pty_life(void)
{
	struct vm_config cfg;
	struct serial_relay *r;
	unsigned long long d;
	const char *name;
	int vm, s;

	relay_cfg(&cfg, SERIAL_PTY);
	CHECK(serial_relay_open(&cfg, &r) == 0 && r);
	name = serial_relay_pty_name(r);
	CHECK(name && !strncmp(name, "/dev/pts/", 9));
	CHECK(serial_relay_start(r) == 0);
	vm = serial_relay_vm_fd(r);
	s = open(name, O_RDWR | O_NOCTTY);
	CHECK(s >= 0);
	/* Raw: "\n" stays "\n" (no CR added), input is not echoed. */
	CHECK(write(vm, "a\nb", 3) == 3);
	CHECK(read_exact(s, "a\nb"));
	CHECK(write(s, "x\r", 2) == 2);
	CHECK(read_exact(vm, "x\r"));
	CHECK(quiet(s, 200));	/* no echo */
	/* The reader leaves: output is dropped (the guest never waits)... */
	close(s);
	usleep(100000);
	d = serial_relay_dropped(r);
	CHECK(write(vm, "lost", 4) == 4);
	CHECK(dropped_reaches(r, d + 4));
	/* ... and a new reader gets the console again. */
	s = open(name, O_RDWR | O_NOCTTY);
	CHECK(s >= 0);
	usleep(500000);		/* the relay looks again within 200 ms */
	CHECK(write(vm, "back", 4) == 4);
	CHECK(read_exact(s, "back"));
	close(s);
	serial_relay_close(r);
	_exit(0);
}

static void run_in_child(void (*fn)(void))
{
	const char *failure = ts_child_failure(fn);

	if (failure)
		fail_msg("%s: %s", "relay child", failure);
}

static void test_unix_life(void **state)
{
	(void)state;
	run_in_child(unix_life);
}

static void test_pty_life(void **state)
{
	(void)state;
	run_in_child(pty_life);
}

/* stdio and null need no relay. */
static void test_no_relay(void **state)
{
	struct vm_config cfg;
	struct serial_relay *r = (struct serial_relay *)&cfg;

	(void)state;
	relay_cfg(&cfg, SERIAL_STDIO);
	assert_int_equal(serial_relay_open(&cfg, &r), 0);
	assert_null(r);
	relay_cfg(&cfg, SERIAL_NULL);
	assert_int_equal(serial_relay_open(&cfg, &r), 0);
	assert_null(r);
	assert_int_equal(serial_relay_vm_fd(NULL), -1);
	assert_int_equal(serial_relay_wait_client(NULL, -1), 0);
	serial_relay_close(NULL);
}

/* A file in the way is not replaced; wait=on returns once a client came,
 * or with the stop signal read from the monitor's signalfd. */
static void test_socket_rules_and_wait(void **state)
{
	struct signalfd_siginfo si = { .ssi_signo = SIGTERM };
	struct vm_config cfg;
	struct serial_relay *r;
	struct stat st;
	int fd, p[2];
	pid_t pid;

	(void)state;
	relay_cfg(&cfg, SERIAL_UNIX);
	cfg.seccomp = false;
	fd = open(sock_path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(serial_relay_open(&cfg, &r), -EEXIST);
	assert_null(r);
	assert_int_equal(stat(sock_path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	unlink(sock_path);

	cfg.serial.wait = true;
	assert_int_equal(serial_relay_open(&cfg, &r), 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], &si, sizeof(si)), (ssize_t)sizeof(si));
	assert_int_equal(serial_relay_wait_client(r, p[0]), SIGTERM);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		usleep(100000);
		fd = ts_unix_connect(sock_path);
		_exit(fd >= 0 ? 0 : 1);
	}
	assert_int_equal(serial_relay_wait_client(r, p[0]), 0);
	assert_int_equal(waitpid(pid, &fd, 0), pid);
	assert_true(WIFEXITED(fd) && WEXITSTATUS(fd) == 0);
	serial_relay_close(r);
	close(p[0]);
	close(p[1]);
	assert_int_not_equal(access(sock_path, F_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_no_relay),
		cmocka_unit_test(test_socket_rules_and_wait),
		cmocka_unit_test(test_unix_life),
		cmocka_unit_test(test_pty_life),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
