// SPDX-License-Identifier: MIT
/*
 * sysinject-target: a process shaped like rivet's, under rivet's own
 * filters and SIGSYS handler (seccomp/seccomp.c, x86_64 build), for
 * tests/sysinject/check.sh to inject syscalls into.
 *
 *   sysinject-target vm|monitor|none
 *
 *   vm       a main thread under the `main` filter, blocked in ppoll, and a
 *            thread under the `vcpu` filter, blocked in futex (a VM
 *            process; both filters pin their ioctls to /dev/null fds)
 *   monitor  one thread under the `monitor` filter, blocked in read
 *   none     the vm layout without any filter
 *
 * Once every filter is in, prints one line on stdout
 *   READY main=TID vcpu=TID       (monitor: vcpu=0)
 * and blocks until killed, or until a blocked call returns, which is an
 * error: "target: ROLE thread woke up" on stderr, exit 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "seccomp/seccomp.h"

static int ready[2], never[2];
static struct rivet_seccomp_ctx ctx;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static volatile int filtered = 1;
static volatile pid_t vcpu_tid;

static void say(const char *s)
{
	ssize_t ignored = write(STDERR_FILENO, s, strlen(s));

	(void)ignored;
}

static void *vcpu(void *arg)
{
	char c = 1;

	(void)arg;
	vcpu_tid = gettid();	/* before the filter: gettid is on no list */
	if (filtered && rivet_seccomp_install(RIVET_SECCOMP_VCPU, &ctx)) {
		say("target: cannot install the vcpu filter\n");
		_exit(1);
	}
	if (write(ready[1], &c, 1) != 1)
		_exit(1);
	pthread_mutex_lock(&lock);
	for (;;)	/* futex; a spurious wake-up waits again */
		pthread_cond_wait(&cond, &lock);
	return NULL;
}

int main(int argc, char *argv[])
{
	struct pollfd pfd;
	pthread_t t;
	char line[64], c;
	long pid = (long)getpid();	/* before any filter: getpid is main's only */
	int monitor;

	if (argc != 2 || (strcmp(argv[1], "vm") && strcmp(argv[1], "monitor") &&
			  strcmp(argv[1], "none"))) {
		say("usage: sysinject-target vm|monitor|none\n");
		return 2;
	}
	monitor = !strcmp(argv[1], "monitor");
	filtered = strcmp(argv[1], "none") != 0;
	if (pipe(ready) || pipe(never))
		return 1;
	ctx.vm_fd = open("/dev/null", O_RDWR);
	ctx.vcpu_fd = open("/dev/null", O_RDWR);
	if (ctx.vm_fd < 0 || ctx.vcpu_fd < 0)
		return 1;
	if (monitor) {
		if (rivet_seccomp_install(RIVET_SECCOMP_MONITOR, NULL))
			return 1;
	} else {
		if (pthread_create(&t, NULL, vcpu, NULL) ||
		    read(ready[0], &c, 1) != 1)
			return 1;
		if (filtered && rivet_seccomp_install(RIVET_SECCOMP_MAIN, &ctx))
			return 1;
	}
	snprintf(line, sizeof(line), "READY main=%ld vcpu=%ld\n",
		 pid, (long)vcpu_tid);
	if (write(STDOUT_FILENO, line, strlen(line)) < 0)
		return 1;
	if (monitor) {
		ssize_t ignored = read(never[0], &c, 1);

		(void)ignored;
		say("target: monitor thread woke up\n");
		return 1;
	}
	pfd.fd = never[0];
	pfd.events = POLLIN;
	/* ppoll, not poll: x86_64's poll() is the poll syscall, which is on
	 * no list (riscv64 has only ppoll). */
	while (ppoll(&pfd, 1, NULL, NULL) < 0 && errno == EINTR)
		;
	say("target: main thread woke up\n");
	return 1;
}
