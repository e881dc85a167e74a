/* SPDX-License-Identifier: MIT */
/* The host side of the guest console: output to stdout, input from stdin
 * (a terminal is put in raw mode for the VM's lifetime and restored). */
#ifndef RIVET_CONSOLE_H
#define RIVET_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

/* Write one guest byte to stdout (blocking; EINTR retried). */
void console_tx(void *opaque, uint8_t byte);

/* The console device calls this when the guest has made room for input
 * after the host found none; it wakes the main loop through
 * console_wakeup_fd(). */
void console_rx_ready(void *opaque);
/* Readable when console_rx_ready() was called; -1 if it could not be
 * created (the main loop then polls). */
int console_wakeup_fd(void);

/* Write guest bytes to stdout; returns bytes written or -errno. */
long console_write(const void *buf, size_t len);

/* Put stdin in raw mode if it is a terminal; remembers the old mode.
 * 0 or -errno. */
int console_raw_begin(void);
/* Restore the terminal (safe to call more than once, and from atexit). */
void console_raw_end(void);

#endif
