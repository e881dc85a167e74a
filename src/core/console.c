// SPDX-License-Identifier: MIT
#include "core/console.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved;
static bool raw_active;
static int wakeup_fd = -2;	/* -2: not created yet */

int console_wakeup_fd(void)
{
	if (wakeup_fd == -2)
		wakeup_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return wakeup_fd;
}

void console_rx_ready(void *opaque)
{
	uint64_t one = 1;

	(void)opaque;
	if (wakeup_fd >= 0 && write(wakeup_fd, &one, sizeof(one)) < 0)
		return;	/* counter full: the loop is awake anyway */
}

void console_tx(void *opaque, uint8_t byte)
{
	(void)opaque;
	while (write(STDOUT_FILENO, &byte, 1) < 0 && errno == EINTR)
		;
}

long console_write(const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(STDOUT_FILENO, (const char *)buf + done,
				  len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return done ? (long)done : -errno;
		done += (size_t)n;
	}
	return (long)done;
}

int console_raw_begin(void)
{
	struct termios t;

	if (!isatty(STDIN_FILENO))
		return 0;
	if (tcgetattr(STDIN_FILENO, &saved))
		return -errno;
	t = saved;
	/* The guest does its own echo, line editing and CR/LF handling; ^C
	 * goes to the guest's shell.  Ctrl-A x quits (see main.c). */
	cfmakeraw(&t);
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t))
		return -errno;
	raw_active = true;
	return 0;
}

void console_raw_end(void)
{
	if (raw_active) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
		raw_active = false;
	}
}
