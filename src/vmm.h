/* SPDX-License-Identifier: MIT */
/* Running one boot of a guest (src/vmm.c). */
#ifndef RIVET_VMM_H
#define RIVET_VMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

/* State of the host side of one VM process. */
struct vmm_session {
	int sig_fd;
	int wake_fd;		/* console has room again (or -1) */
	bool stdin_open;
	bool escape;		/* last byte was Ctrl-A (terminal only) */
	bool tty;
	bool quit;		/* Ctrl-A x seen */
	int stop_signal;	/* signal that stopped the VM, or 0 */
	/* The monitor's QMP channel (src/qmp/ctl.h), or -1. */
	int ctl_fd;
	bool start_paused;	/* wait for CTL_CONT before the first run */
	int ctl_reason;		/* enum ctl_reason the monitor asked, or -1 */
	/* --daemonize: where to say "set up" (then stdout and stderr go to
	 * null_fd), or -1. */
	int ready_fd, null_fd;
	/* --incoming file:DIR on the first boot: the snapshot to restore
	 * (NULL: boot afresh). */
	const char *incoming;
	/* Host input read but not yet taken by the guest's UART. */
	uint8_t pend[128];
	size_t pend_len, pend_off;
};

/* Boot the guest described by @cfg and run it to its end; returns the exit
 * status (core/exit.h: RIVET_EXIT_SIGNAL + N when signal N stopped it). */
int vmm_run(const struct vm_config *cfg, struct vmm_session *st);

#endif
