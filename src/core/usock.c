// SPDX-License-Identifier: MIT
#include "core/usock.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/log.h"

int usock_wait_client(int lfd, int sig_fd, int *fd)
{
	struct pollfd p[2] = {
		{ .fd = lfd, .events = POLLIN },
		{ .fd = sig_fd, .events = POLLIN },
	};

	for (;;) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return -errno;
		if (p[1].revents) {
			struct signalfd_siginfo si;

			if (read(sig_fd, &si, sizeof(si)) == sizeof(si) &&
			    si.ssi_signo != SIGCHLD)
				return (int)si.ssi_signo;
			continue;
		}
		if (!p[0].revents)
			continue;
		*fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (*fd >= 0)
			return 0;
	}
}

int usock_listen(const char *opt, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_err("%s %s: path too long for a UNIX socket", opt, path);
		return -ENAMETOOLONG;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (lstat(path, &st) == 0) {
		int probe;

		if (!S_ISSOCK(st.st_mode)) {
			log_err("%s %s: the file exists and is not a "
				"socket; not replacing it", opt, path);
			return -EEXIST;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 &&
		    connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			log_err("%s %s: another process listens there", opt,
				path);
			return -EADDRINUSE;
		}
		if (probe >= 0)
			close(probe);
		unlink(path);	/* a stale socket of an ended run */
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_err("%s %s: socket: %s", opt, path, strerror(errno));
		return -errno;
	}
	old = umask(0177);	/* owner-only from the start: 0600 */
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret || listen(fd, 8)) {
		ret = -errno;
		log_err("%s %s: %s", opt, path, strerror(errno));
		close(fd);
		return ret;
	}
	return fd;
}
