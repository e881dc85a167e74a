/* SPDX-License-Identifier: MIT */
/* Host TAP interfaces for virtio-net.
 *
 * Every queue is opened IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, with a 12-byte
 * virtio_net_hdr (the VERSION_1 layout) before each frame both ways: the
 * checksum and segmentation metadata the guest and the host kernel trade
 * travels with the frame, so large segments cross whole.  Several queues
 * attach to one interface with IFF_MULTI_QUEUE (the interface must have
 * been created multi-queue, or not exist yet and be creatable).
 * Offloads (TUN_F_*) are off when the TAP is opened; which ones the host
 * kernel accepts is probed there, so the device offers only those. */
#ifndef RIVET_TAP_H
#define RIVET_TAP_H

#include <stdbool.h>

#define TAP_MAX_QUEUES	8
#define TAP_VNET_HDR	12

/* TUNSETOFFLOAD flags (linux/if_tun.h), repeated for the device code. */
#define TAP_F_CSUM	0x01
#define TAP_F_TSO4	0x02
#define TAP_F_TSO6	0x04
#define TAP_F_TSO_ECN	0x08
#define TAP_F_UFO	0x10

/* Open @queues (1..TAP_MAX_QUEUES) queues of TAP interface @name into
 * @fds (non-blocking, close-on-exec), and say in *@offloads which TAP_F_*
 * flags the host takes.  0 or -errno, logged with a hint. */
int tap_open(const char *name, unsigned int queues, int *fds,
	     unsigned int *offloads);

/* TUNSETOFFLOAD: what the host may hand the guest (checksum left to do,
 * segments to cut).  0 or -errno. */
int tap_set_offload(int fd, unsigned int flags);

/* Attach (@on) or detach queue @fd of a multi-queue TAP, so the host
 * kernel steers no frames to a queue the guest does not use.  0 or
 * -errno. */
int tap_set_queue(int fd, bool on);

#endif
