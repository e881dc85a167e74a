// SPDX-License-Identifier: MIT
#include "child.h"

#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

const char *ts_child_failure(void (*fn)(void))
{
	static char msg[64];
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return "fork failed";
	if (pid == 0) {
		fn();
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return "waitpid failed";
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return NULL;
	snprintf(msg, sizeof(msg), "%s %d", WIFEXITED(status) ? "exit" :
		 "signal", WIFEXITED(status) ? WEXITSTATUS(status) :
		 WTERMSIG(status));
	return msg;
}

int ts_unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}
