/* SPDX-License-Identifier: MIT */
/* The QMP server (docs/qmp.md): its own thread in the monitor process, so
 * clients stay connected across guest reboots (each boot is a new VM
 * process); it drives each VM process over a private channel (ctl.h) and
 * tells the monitor what to do when one ends.  Confined by the "qmp"
 * seccomp role. */
#ifndef RIVET_QMP_SERVER_H
#define RIVET_QMP_SERVER_H

#include <stdbool.h>

#include "core/config.h"

struct qmp_server;
struct serial_relay;

/* Create and bind every --qmp socket (owner-only, refusing to replace
 * anything but a stale socket) and, for those without wait=off, wait for a
 * first client.  Main thread, before any VM process.  0 or -errno
 * (logged). */
int qmp_server_open(struct qmp_server **out, const struct vm_config *cfg);

/* For each socket without wait=off: wait for a first client (logged).
 * 0, a stop signal's number read from @sig_fd, or -errno. */
int qmp_server_wait_clients(struct qmp_server *s, int sig_fd);

/* query-chardev reports @console (--serial pty|unix; NULL: none), which
 * must outlive @s.  Before qmp_server_start(). */
void qmp_server_set_console(struct qmp_server *s,
			    const struct serial_relay *console);

/* Start the serving thread.  0 or -errno (logged). */
int qmp_server_start(struct qmp_server *s);

/* A VM process was forked; @ctl_fd (owned by the server from now) is the
 * monitor's end of its channel; it starts paused if @paused. */
void qmp_server_child_started(struct qmp_server *s, int ctl_fd,
			      bool paused);

/* The VM process ended with @status (core/exit.h).  Decide: returns true
 * to boot again (paused if *@paused), or false with the monitor's exit
 * status in *@exit_status.  May wait for a QMP client (--no-shutdown),
 * and for a stop signal read from @sig_fd meanwhile. */
bool qmp_server_child_exited(struct qmp_server *s, int status, int sig_fd,
			     bool *paused, int *exit_status);

/* While a VM process runs, the main thread also polls this descriptor
 * (-1: none) and calls qmp_server_main_serve() when it is readable: the
 * QMP thread's requests that need rights it does not have (creating a
 * snapshot's files). */
int qmp_server_main_fd(const struct qmp_server *s);
void qmp_server_main_serve(struct qmp_server *s);

/* Send what is queued (for a moment at most), stop the thread, close
 * and remove the sockets, free @s.  NULL is fine. */
void qmp_server_close(struct qmp_server *s);

#endif
