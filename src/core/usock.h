/* SPDX-License-Identifier: MIT */
/* Listening UNIX sockets for the monitor's servers (--qmp, --serial). */
#ifndef RIVET_USOCK_H
#define RIVET_USOCK_H

/* Listen on @path, owner-only (0600) from the moment it exists: a file
 * that is not a socket, or a socket another process listens on, is left
 * alone and refused; a stale socket of an ended run is replaced.  The fd
 * (non-blocking, close-on-exec) or -errno, logged as "@opt PATH: why". */
int usock_listen(const char *opt, const char *path);

/* Wait for the next client on @lfd while watching the monitor's signalfd
 * @sig_fd: 0 with the client in *@fd (non-blocking, close-on-exec), the
 * number of a stop signal read from @sig_fd (SIGCHLD is skipped), or
 * -errno. */
int usock_wait_client(int lfd, int sig_fd, int *fd);

#endif
