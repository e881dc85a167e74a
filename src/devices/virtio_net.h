/* SPDX-License-Identifier: MIT */
/* virtio-net backend over a Linux TAP interface (virtio 1.2 §5.1).
 *
 * Features offered: VERSION_1, INDIRECT_DESC, MAC, STATUS (the link is
 * always up), MRG_RXBUF, CTRL_VQ with CTRL_RX, CTRL_VLAN, CTRL_MAC_ADDR and
 * CTRL_GUEST_OFFLOADS; checksum and segmentation offload both ways (CSUM,
 * HOST_TSO4/6, HOST_ECN, HOST_UFO; GUEST_CSUM, GUEST_TSO4/6, GUEST_ECN,
 * GUEST_UFO where the host kernel's TAP takes them); MQ when the TAP has
 * several queues.  Queues: receiveqN (2N), transmitqN (2N+1) for each pair,
 * then the control queue (2 without MQ, 2 * pairs with it).
 *
 * The TAP carries a 12-byte virtio_net_hdr with every frame (src/devices/
 * tap.h).  A transmitted header is copied out of guest memory, checked
 * against the negotiated features and rebuilt before it reaches the host
 * kernel (virtio_net_ctrl.c); the header the TAP gives a received frame is
 * checked against the offloads the guest takes now, and the TAP is told
 * those offloads (TUNSETOFFLOAD) whenever they change: negotiation, the
 * GUEST_OFFLOADS command, reset.  Frames are 1 to VIRTIO_NET_MAX_FRAME
 * bytes without the header.
 *
 * Each queue pair is served by its own I/O thread (once started: see
 * virtio_backend_start()): the queue notifications reach it through KVM
 * ioeventfds, and it waits on its TAP queue while the guest has receive
 * buffers.  Transmit: each chain is copied out under the device lock,
 * returned, and written to the TAP without the lock.  Receive: a frame is
 * read from the TAP without the lock, then, under it, filtered (the RX
 * mode, MAC tables and VLANs the control queue set) and copied into one
 * buffer, or into as many merged buffers as it needs (published together).
 * While the guest has no receive buffers nothing is read: frames wait in
 * the TAP's kernel queue.  All guest memory is touched under the device
 * lock, so a device reset needs no draining.  The control queue is served
 * on the notifying thread.
 *
 * Until the threads are started (unit tests, fuzzing), the VM's main loop
 * serves the pairs instead, through the backend's poll_fds()/poll_ready()
 * ops.
 *
 * With vhost-net (vnet_opts.vhost_fds; src/devices/vhost_net.h) the host
 * kernel serves the pairs' rings instead of those threads: the queue
 * ioeventfds kick it, a thread per ring turns its call eventfd into the
 * transport's queue interrupt, and a vCPU hands the rings over at
 * DRIVER_OK (and the MQ command) and takes them back at a reset.  The
 * control queue, offloads and the TAP's queues stay rivet's.  The kernel
 * does not filter what it receives, so CTRL_RX and CTRL_VLAN are not
 * offered then. */
#ifndef RIVET_VIRTIO_NET_H
#define RIVET_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/tap.h"
#include "devices/virtio_net_ctrl.h"

struct virtio_backend;

#define VIRTIO_NET_S_LINK_UP	1

#define VIRTIO_NET_QUEUE_SIZE	256
/* mac[6], status (le16), max_virtqueue_pairs (le16). */
#define VIRTIO_NET_CONFIG_SIZE	10
#define VIRTIO_NET_HDR_SIZE	VNET_HDR_SIZE
#define VIRTIO_NET_HDR_NUM_BUFFERS 10
/* Largest frame either way, without the virtio header. */
#define VIRTIO_NET_MAX_FRAME	65550
/* Frames moved each way per round of a pair's service. */
#define VIRTIO_NET_BUDGET	64
#define VIRTIO_NET_MAX_PAIRS	TAP_MAX_QUEUES

struct vnet_stats {
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t tx_bad;	/* malformed chains or headers, returned unused */
	uint64_t tx_dropped;	/* refused by the host */
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t rx_bad;	/* malformed frames or headers from the host */
	uint64_t rx_dropped;	/* too big for the buffers */
	uint64_t rx_filtered;	/* not for the guest (RX mode, MAC, VLAN) */
};

struct vnet_opts {
	uint8_t mac[6];
	unsigned int offloads;	/* TAP_F_* the host takes (tap_open()) */
	/* Optional stand-ins for tap_set_offload()/tap_set_queue() (tests). */
	int (*set_offload)(int fd, unsigned int flags);
	int (*set_queue)(int fd, bool on);
	/* vhost-net: one open /dev/vhost-net per pair (vhost_net_open()),
	 * taken over like the TAP fds; NULL: rivet's I/O threads serve the
	 * pairs.  vhost_ioctl: a stand-in for the kernel (tests). */
	const int *vhost_fds;
	int (*vhost_ioctl)(int fd, unsigned long req, void *arg);
};

/* --net ...,vhost=: whether the kernel's vhost-net serves the queues. */
enum vnet_vhost {
	VNET_VHOST_AUTO,	/* where /dev/vhost-net works, else rivet */
	VNET_VHOST_ON,		/* vhost-net or an error */
	VNET_VHOST_OFF,		/* rivet's I/O threads */
};

/* Backend over @nfds (1..VIRTIO_NET_MAX_PAIRS) queues of one TAP (or in
 * tests any datagram sockets carrying header + frame), one per queue pair.
 * Takes the fds over (when @nfds is in range) and closes them on failure
 * too; they are made non-blocking.  0 or -errno. */
int vnet_create(const int *fds, unsigned int nfds, const struct vnet_opts *o,
		struct virtio_backend **out);

/* The backend on TAP interface @tap with @queues queue pairs, served by
 * vhost-net as @vhost says: what `--net tap=NAME[,mac=MAC][,queues=N]
 * [,vhost=auto|on|off]` makes.  0 or -errno, logged. */
int vnet_open(const char *tap, unsigned int queues, const uint8_t mac[6],
	      enum vnet_vhost vhost, struct virtio_backend **be);

/* Counters since creation (takes no lock: for tests and messages). */
void vnet_get_stats(struct virtio_backend *be, struct vnet_stats *st);

#endif
