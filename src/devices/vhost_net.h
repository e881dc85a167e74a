/* SPDX-License-Identifier: MIT */
/* vhost-net: the host kernel moves a virtio-net queue pair's frames
 * between the guest's rings and a TAP queue itself, without a trip through
 * rivet (one /dev/vhost-net per pair).  rivet keeps everything else: the
 * transport, feature negotiation, the control queue, the TAP's offloads.
 * The kernel reads the rings through the memory table (guest RAM's host
 * mapping) and, with a 12-byte vnet header on the TAP, passes the guest's
 * headers to the TAP, whose kernel code checks them as for any user.
 *
 * Kicks: an eventfd per ring (the target of the queue's KVM ioeventfd).
 * Calls: an eventfd per ring, which rivet turns into the transport's
 * queue interrupt (so InterruptStatus and MSI-X masking stay exact). */
#ifndef RIVET_VHOST_NET_H
#define RIVET_VHOST_NET_H

#include <stdint.h>

/* What the device needs of the kernel: VERSION_1 and merged buffers. */
#define VHOST_NET_NEEDED ((1ULL << 32) | (1ULL << 15))

/* The ioctl() a vhost-net fd is driven with (tests pass a fake). */
typedef int (*vhost_ioctl_fn)(int fd, unsigned long req, void *arg);

/* One ring as the kernel takes it: host addresses, size, next index. */
struct vhost_ring {
	unsigned int size;
	void *desc;
	void *avail;
	void *used;
	uint16_t base;
};

/* Open /dev/vhost-net, claim it (SET_OWNER) and check it serves what the
 * device offers (VHOST_NET_NEEDED).  0 or -errno (not logged: the caller
 * decides whether that is an error or a fallback); *@why says what failed. */
int vhost_net_open(int *fd, const char **why);

/* The guest's RAM (@size bytes at guest address @gpa, host @host). */
int vhost_net_set_mem(int fd, vhost_ioctl_fn io, uint64_t gpa,
		      uint64_t size, void *host);
/* Ring @idx (0 receive, 1 transmit): its kick and call eventfds. */
int vhost_net_set_fds(int fd, vhost_ioctl_fn io, unsigned int idx, int kick,
		      int call);
/* Start serving: @features (those the kernel knows), both rings, then
 * TAP queue @tap as the backend of each.  0 or -errno. */
int vhost_net_start(int fd, vhost_ioctl_fn io, uint64_t features,
		    const struct vhost_ring rings[2], int tap);
/* Stop serving (backend off) and read each ring's next index into
 * @base[2], for a restart without a reset.  0 or -errno. */
int vhost_net_stop(int fd, vhost_ioctl_fn io, uint16_t base[2]);

/* The real thing (vhost_ioctl_fn). */
int vhost_net_ioctl(int fd, unsigned long req, void *arg);

#endif
