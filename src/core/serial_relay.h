/* SPDX-License-Identifier: MIT */
/* --serial pty and --serial unix:PATH,server: the guest console outside
 * rivet's own terminal, kept by the monitor across guest reboots.
 *
 * The monitor holds one end of a stream socketpair for the whole run; every
 * VM process gets the other end as its stdin and stdout, so the console
 * device needs no change.  A relay thread in the monitor (seccomp role
 * "console") copies bytes between its end and the endpoint: the pty's
 * master, or the one client connected to the UNIX socket (more wait in the
 * backlog, as QEMU's socket character device does).
 *
 * The guest never waits for a reader: output that the endpoint cannot take
 * at once (nobody attached, a slow client) is dropped, as on a serial line
 * with nothing plugged in.  Input waits until the VM process takes it. */
#ifndef RIVET_SERIAL_RELAY_H
#define RIVET_SERIAL_RELAY_H

#include <stdbool.h>
#include <stddef.h>

struct vm_config;
struct serial_relay;

/* Open the endpoint of cfg->serial (pty: a new pseudo-terminal in raw
 * mode, its name logged; unix: the listening socket, 0600) and the
 * socketpair.  *@out is NULL for stdio and null (nothing to relay).  0 or
 * -errno (logged). */
int serial_relay_open(const struct vm_config *cfg, struct serial_relay **out);

/* unix with wait=on: wait until a client connected.  0, a stop signal's
 * number read from @sig_fd (the monitor then ends), or -errno. */
int serial_relay_wait_client(struct serial_relay *r, int sig_fd);

/* Start the relay thread.  0 or -errno (logged). */
int serial_relay_start(struct serial_relay *r);

/* The VM processes' end: dup2 it onto stdin and stdout. */
int serial_relay_vm_fd(const struct serial_relay *r);

/* The pseudo-terminal's name ("/dev/pts/N"), or NULL. */
const char *serial_relay_pty_name(const struct serial_relay *r);

/* unix: whether a client is connected now.  Any thread. */
bool serial_relay_connected(const struct serial_relay *r);

/* Guest output dropped so far because no reader could take it. */
unsigned long long serial_relay_dropped(const struct serial_relay *r);

/* Stop the thread, close everything, remove the socket.  NULL is fine. */
void serial_relay_close(struct serial_relay *r);

#endif
