/* SPDX-License-Identifier: MIT */
/* virtio-net backend over a Linux TAP interface (virtio 1.2 §5.1).
 *
 * Features offered: VERSION_1, INDIRECT_DESC, MAC, STATUS (the link is
 * always up).  No checksum or segmentation offloads and no mergeable
 * receive buffers: every frame travels whole and with correct checksums,
 * and each receive chain must hold the 12-byte header plus the whole
 * frame.  Queues: receiveq1 (0) and transmitq1 (1); no control queue.
 *
 * The TAP is opened IFF_TAP | IFF_NO_PI without IFF_VNET_HDR: the guest's
 * virtio_net_hdr never reaches the host kernel (nothing there parses
 * guest-written GSO/checksum metadata), and the header of a received
 * frame is made here (all zero, num_buffers 1).  Frames are 1 to
 * VIRTIO_NET_MAX_FRAME bytes (Ethernet header included, no FCS); keep the
 * TAP's MTU at 1500 so a Linux guest's receive buffers (1518 bytes of
 * frame) hold every frame.
 *
 * Transmit runs on the notifying vCPU: each chain (header, then frame,
 * device-readable only) is copied out of guest RAM, then written to the
 * TAP with one write().  Bad chains (writable descriptors, shorter than
 * the header, frame empty or over the maximum) are returned unused and
 * logged; frames the host refuses (TAP down, queue full) are dropped and
 * counted.
 *
 * Receive runs on the VM process's main thread, which polls the TAP fd:
 *  - vnet_rx_wanted(): poll vnet_rx_fd() for POLLIN only while true; it is
 *    false until the driver has started the device and notified the
 *    receive queue, and again whenever the guest has no receive buffers
 *    (frames then wait in the TAP's kernel queue: we stop reading, so
 *    nothing is dropped just because the guest is slow);
 *  - vnet_wake_fd(): an eventfd, always polled; it becomes readable when
 *    vnet_rx_wanted() turned true (the guest added buffers);
 *  - vnet_rx_ready(): call when either fd is readable.  It moves up to
 *    VIRTIO_NET_RX_BUDGET frames into the guest's receive buffers under the
 *    transport's device lock and raises the queue interrupt through the
 *    transport, exactly as a notify would.
 * A frame larger than the receive buffer it meets is dropped (counted,
 * logged), never truncated; so is one over VIRTIO_NET_MAX_FRAME.
 *
 * The receive side reaches the guest through virtio_backend_kick(): the
 * transport that owns the backend serves queue 0 as if the driver had
 * notified it (so the transport's rules apply: DRIVER_OK, not NEEDS_RESET,
 * queue ready, bus mastering).  The backend's poll_fds()/poll_ready() ops
 * give the main loop the two descriptors above and vnet_rx_ready(). */
#ifndef RIVET_VIRTIO_NET_H
#define RIVET_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

struct virtio_backend;

/* Feature bits (virtio 1.2 §5.1.3). */
#define VIRTIO_NET_F_MAC	5
#define VIRTIO_NET_F_MRG_RXBUF	15
#define VIRTIO_NET_F_STATUS	16

#define VIRTIO_NET_S_LINK_UP	1

#define VIRTIO_NET_RXQ		0
#define VIRTIO_NET_TXQ		1
#define VIRTIO_NET_QUEUE_SIZE	256
/* mac[6], status (le16): the fields our features make valid. */
#define VIRTIO_NET_CONFIG_SIZE	8
/* struct virtio_net_hdr with VERSION_1: flags, gso_type, hdr_len,
 * gso_size, csum_start, csum_offset, num_buffers (le16 each after the two
 * bytes). */
#define VIRTIO_NET_HDR_SIZE	12
#define VIRTIO_NET_HDR_NUM_BUFFERS 10
/* Largest frame either way, without the virtio header. */
#define VIRTIO_NET_MAX_FRAME	65550
/* Frames moved per vnet_rx_ready() call (the main loop has other work). */
#define VIRTIO_NET_RX_BUDGET	64


struct vnet_stats {
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t tx_bad;	/* malformed chains, returned unused */
	uint64_t tx_dropped;	/* refused by the host */
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t rx_bad;	/* malformed chains, returned unused */
	uint64_t rx_dropped;	/* too big for the buffer or the maximum */
};

/* Open TAP interface @name (IFF_TAP | IFF_NO_PI, non-blocking,
 * close-on-exec) into *@fd.  The interface must exist, or be creatable by
 * the caller (CAP_NET_ADMIN); create it beforehand with
 * `ip tuntap add dev NAME mode tap [user USER]`.  0 or -errno, logged. */
int vnet_tap_open(const char *name, int *fd);

/* Backend over @tap_fd (a TAP, or in tests any datagram socket) with MAC
 * @mac (unicast).  The backend takes @tap_fd over, and closes it on
 * failure too; it is made non-blocking.  0 or -errno. */
int vnet_create(int tap_fd, const uint8_t mac[6], struct virtio_backend **out);

/* The backend on TAP interface @tap (vnet_tap_open(), then vnet_create()):
 * what `--net tap=NAME[,mac=MAC]` makes.  0 or -errno, logged. */
int vnet_open(const char *tap, const uint8_t mac[6],
	      struct virtio_backend **be);

/* For the main loop (see above).  Thread-safe without any lock. */
int vnet_rx_fd(struct virtio_backend *be);
int vnet_wake_fd(struct virtio_backend *be);
bool vnet_rx_wanted(struct virtio_backend *be);
void vnet_rx_ready(struct virtio_backend *be);

/* Counters since creation (takes no lock: for tests and messages). */
void vnet_get_stats(struct virtio_backend *be, struct vnet_stats *st);

#endif
