/* SPDX-License-Identifier: MIT */
/* The private channel between the monitor (which serves QMP and outlives
 * guest reboots) and one VM process: a SOCK_SEQPACKET socketpair made per
 * boot, one fixed-size message per packet.  The monitor asks, the VM
 * answers in order; the VM also says when it is ready and why it ends. */
#ifndef RIVET_QMP_CTL_H
#define RIVET_QMP_CTL_H

#include <stdint.h>

#include "core/config.h"

enum ctl_type {
	/* monitor -> VM */
	CTL_STOP = 1,		/* pause every vCPU; ACK when paused */
	CTL_CONT,		/* resume; ACK when running */
	CTL_RESET,		/* end this boot: reboot (no ACK: EXITING) */
	CTL_POWERDOWN,		/* press the power button; ACK */
	CTL_QUIT,		/* end this boot and rivet (EXITING) */
	/* Take a snapshot into the two files whose descriptors come with
	 * the message (SCM_RIGHTS: state, memory), which the monitor made;
	 * the VM is paused first and stays paused.  ACK: arg 0 or -errno,
	 * size[0] state bytes, size[1] RAM bytes written (data pages). */
	CTL_MIGRATE,
	/* VM -> monitor */
	CTL_READY = 16,		/* vCPUs exist: nr, tids; arg: 1 if paused */
	CTL_ACK,		/* arg: 0 or -errno for the oldest request */
	CTL_EXITING,		/* arg: enum ctl_reason; the VM ends */
};

/* Why a VM process ends: QEMU's ShutdownCause names (docs/qmp.md). */
enum ctl_reason {
	CTL_REASON_HOST_ERROR,
	CTL_REASON_HOST_QMP_QUIT,
	CTL_REASON_HOST_QMP_RESET,
	CTL_REASON_HOST_SIGNAL,
	CTL_REASON_HOST_UI,		/* Ctrl-A x on the console */
	CTL_REASON_GUEST_SHUTDOWN,
	CTL_REASON_GUEST_RESET,
	CTL_REASON_GUEST_PANIC,
};

struct ctl_msg {
	uint32_t type;
	int32_t arg;
	uint32_t nr;
	int32_t tids[CONFIG_MAX_CPUS];
	uint64_t size[2];
};

#endif
