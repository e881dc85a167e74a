// SPDX-License-Identifier: MIT
/* virtio-net over virtio-mmio (and once over virtio-pci), with datagram
 * socketpairs standing in for the TAP queues (each datagram: the 12-byte
 * virtio_net_hdr, then the frame).  Transmit: frames byte for byte, the
 * guest's header checked and rebuilt; receive: one buffer or merged
 * buffers published together, the TAP's header checked against the
 * offloads the guest takes; frames wait (unread) while the guest has no
 * buffers; the control queue (RX mode, MAC tables, VLANs, address, queue
 * pairs, guest offloads) and its receive filter; multi-queue; the I/O
 * threads; and the hostile cases.  Also the TAP opener. */
#include "tests/support/virtio_fake.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/vhost.h>

#include "core/log.h"
#include "devices/pci.h"
#include "devices/virtio_net.h"
#include "devices/virtio_pci.h"
#include "snapshot/snap.h"
#include "tests/support/snap_dev.h"

#define DEV_BASE	0x10003000ULL
#define QSIZE		16
#define RING(n)		(FG_BASE + 0x3000ULL * (n))	/* desc, avail, used */
#define TABLE		(FG_BASE + 0x18000)
#define RXBUF(i)	(FG_DATA + 0x800ULL * (i))	/* 2 KiB each, < 0x18000 */
#define CMDBUF		(FG_BASE + 0x20000)
#define ACKBUF		(FG_BASE + 0x21000)
#define TXBUF		(FG_BASE + 0x40000)
#define BIGBUF		(FG_BASE + 0x80000)		/* 128 KiB */
#define RXBUF_LEN	2048

#define ALL_OK		(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
			 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK)
#define F(b)		VIRTIO_BIT(VIRTIO_NET_F_##b)
/* A driver that takes no offloads, no merged buffers, no control queue. */
#define BASIC		(VIRTIO_BIT(VIRTIO_F_VERSION_1) | \
			 VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) | F(MAC) | F(STATUS))
#define ALL		(~0ULL)
#define HOST_ALL	(TAP_F_CSUM | TAP_F_TSO4 | TAP_F_TSO6 | TAP_F_TSO_ECN | \
			 TAP_F_UFO)

static const uint8_t MAC[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

struct vq {
	uint64_t desc, avail, used;
	uint16_t avail_idx;
	uint16_t next;
};

#define MAX_PEERS 4

struct t {
	struct gmem gm;
	struct fake_irq irq;
	struct irq_chip chip;
	struct rivet_dev *dev;
	struct pci_dev *pd;
	struct virtio_backend *be;
	unsigned int npairs;
	int peer[MAX_PEERS];	/* the "network" side of each queue */
	struct vq rx, tx, ctrl, rx1, tx1;
	bool started;
};

/* What the device asked of the TAP (set_offload/set_queue stand-ins). */
static unsigned int last_offload = 0xdead;
static unsigned int nr_offload_calls;
static int queue_state[MAX_PEERS * 2];	/* by fd: 1 attached, 0 detached */
static int fake_queue_err;
static int last_queue_fd = -1;
static bool last_queue_on;

static int rec_offload(int fd, unsigned int flags)
{
	(void)fd;
	last_offload = flags;
	nr_offload_calls++;
	return 0;
}

static int rec_queue(int fd, bool on)
{
	if (fake_queue_err)
		return fake_queue_err;
	last_queue_fd = fd;
	last_queue_on = on;
	if (fd >= 0 && fd < (int)(sizeof(queue_state) / sizeof(queue_state[0])))
		queue_state[fd] = on;
	return 0;
}

/* ---- set-up ------------------------------------------------------------------ */

static int dev_fd[MAX_PEERS];
static int sock_type = SOCK_DGRAM;	/* SOCK_SEQPACKET: a peer can hang up */

static void make_dev(struct t *t, unsigned int npairs, unsigned int host)
{
	int fds[MAX_PEERS];
	struct vnet_opts o = {
		.offloads = host,
		.set_offload = rec_offload,
		.set_queue = rec_queue,
	};

	memcpy(o.mac, MAC, 6);
	for (unsigned int i = 0; i < npairs; i++) {
		int sv[2];
		int sz = 1 << 20;

		assert_int_equal(socketpair(AF_UNIX, sock_type | SOCK_CLOEXEC,
					    0, sv), 0);
		assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sz,
					    sizeof(sz)), 0);
		assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &sz,
					    sizeof(sz)), 0);
		fds[i] = dev_fd[i] = sv[0];
		t->peer[i] = sv[1];
	}
	t->npairs = npairs;
	memset(queue_state, 0xff, sizeof(queue_state));
	last_offload = 0xdead;
	nr_offload_calls = 0;
	assert_int_equal(vnet_create(fds, npairs, &o, &t->be), 0);
	t->chip = (struct irq_chip){ .set_level = fake_irq_set,
				     .ctx = &t->irq };
	assert_int_equal(virtio_mmio_create(&t->gm, DEV_BASE, 0x1000,
					    (struct irq_line){ &t->chip, 5 },
					    t->be, &t->dev), 0);
}

static int setup_n(void **state, unsigned int npairs)
{
	struct t *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	assert_int_equal(gmem_alloc(&t->gm, FG_BASE, FG_SIZE), 0);
	for (unsigned int i = 0; i < MAX_PEERS; i++)
		t->peer[i] = -1;
	fake_queue_err = 0;
	make_dev(t, npairs, HOST_ALL);
	*state = t;
	return 0;
}

static int setup(void **state)
{
	return setup_n(state, 1);
}

static int setup_mq(void **state)
{
	return setup_n(state, 2);
}

static int teardown(void **state)
{
	struct t *t = *state;

	if (t->dev)
		t->dev->ops->destroy(t->dev);
	if (t->pd)
		pci_dev_destroy(t->pd);
	for (unsigned int i = 0; i < MAX_PEERS; i++)
		if (t->peer[i] >= 0)
			close(t->peer[i]);
	gmem_free(&t->gm);
	free(t);
	return 0;
}

/* ---- a driver ------------------------------------------------------------------ */

static void q_reset(struct vq *q, unsigned int n)
{
	*q = (struct vq){ .desc = RING(n), .avail = RING(n) + 0x1000,
			  .used = RING(n) + 0x2000 };
}

static void q_setup(struct t *t, uint32_t idx, struct vq *q, unsigned int n)
{
	q_reset(q, n);
	memset(fg_ptr(&t->gm, q->desc, 0x3000), 0, 0x3000);
	mw32(t->dev, VIRTIO_MMIO_QUEUE_SEL, idx);
	assert_int_equal(mr32(t->dev, VIRTIO_MMIO_QUEUE_NUM_MAX),
			 VIRTIO_NET_QUEUE_SIZE);
	mw32(t->dev, VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	mw32(t->dev, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)q->desc);
	mw32(t->dev, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(q->desc >> 32));
	mw32(t->dev, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)q->avail);
	mw32(t->dev, VIRTIO_MMIO_QUEUE_DRIVER_HIGH,
	     (uint32_t)(q->avail >> 32));
	mw32(t->dev, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)q->used);
	mw32(t->dev, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(q->used >> 32));
	mw32(t->dev, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(mr32(t->dev, VIRTIO_MMIO_QUEUE_READY), 1);
}

static uint64_t dev_features(struct t *t)
{
	uint64_t f;

	mw32(t->dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	f = (uint64_t)mr32(t->dev, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	mw32(t->dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	return f | mr32(t->dev, VIRTIO_MMIO_DEVICE_FEATURES);
}

/* Negotiate what is offered within @want, set up pair 0, the control
 * queue if negotiated (and pair 1 with MQ), DRIVER_OK. */
static void drv_init(struct t *t, uint64_t want)
{
	uint64_t f = dev_features(t) & want;

	assert_true(fdrv_negotiate(t->dev, f) & VIRTIO_STATUS_FEATURES_OK);
	q_setup(t, 0, &t->rx, 0);
	q_setup(t, 1, &t->tx, 1);
	if (f & F(MQ)) {
		q_setup(t, 2, &t->rx1, 3);
		q_setup(t, 3, &t->tx1, 4);
	}
	if (f & F(CTRL_VQ))
		q_setup(t, f & F(MQ) ? 2 * t->npairs : 2, &t->ctrl, 2);
	mw32(t->dev, VIRTIO_MMIO_STATUS, ALL_OK);
	assert_int_equal(mr32(t->dev, VIRTIO_MMIO_STATUS), ALL_OK);
}

static uint16_t q_chain(struct t *t, struct vq *q, const struct fseg *s,
			unsigned int n)
{
	uint16_t head = q->next;

	for (unsigned int i = 0; i < n; i++) {
		uint16_t cur = q->next, nxt = (uint16_t)((cur + 1) % QSIZE);

		fg_desc_at(&t->gm, q->desc + 16ULL * cur, s[i].addr, s[i].len,
			   (s[i].writable ? DESC_F_WRITE : 0) |
			   (i + 1 < n ? DESC_F_NEXT : 0), nxt);
		q->next = nxt;
	}
	return head;
}

static uint16_t q_chain_indirect(struct t *t, struct vq *q,
				 const struct fseg *s, unsigned int n)
{
	uint16_t head = q->next;

	for (unsigned int i = 0; i < n; i++)
		fg_desc_at(&t->gm, TABLE + 16ULL * i, s[i].addr, s[i].len,
			   (s[i].writable ? DESC_F_WRITE : 0) |
			   (i + 1 < n ? DESC_F_NEXT : 0), (uint16_t)(i + 1));
	fg_desc_at(&t->gm, q->desc + 16ULL * head, TABLE, 16 * n,
		   DESC_F_INDIRECT, 0);
	q->next = (uint16_t)((head + 1) % QSIZE);
	return head;
}

static void q_publish(struct t *t, struct vq *q, uint16_t head)
{
	fg_w16(&t->gm, q->avail + 4 + 2ULL * (q->avail_idx % QSIZE), head);
	q->avail_idx++;
	fg_w16(&t->gm, q->avail + 2, q->avail_idx);
}

static uint16_t q_used_idx(struct t *t, struct vq *q)
{
	return fg_r16(&t->gm, q->used + 2);
}

static uint32_t q_used_id(struct t *t, struct vq *q, uint16_t i)
{
	return fg_r32(&t->gm, q->used + 4 + 8ULL * (i % QSIZE));
}

static uint32_t q_used_len(struct t *t, struct vq *q, uint16_t i)
{
	return fg_r32(&t->gm, q->used + 8 + 8ULL * (i % QSIZE));
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* What the VM's main loop does for a backend whose threads are not
 * started, until nothing it polls is ready. */
static void pump(struct t *t)
{
	for (unsigned int round = 0; round < 100; round++) {
		int fds[VIRTIO_POLL_MAX];
		unsigned int n = t->be->ops->poll_fds(t->be, fds);
		bool ready = false;

		assert_int_equal(n, 2 * t->npairs);
		for (unsigned int i = 0; i < n; i++)
			ready |= fds[i] >= 0 && readable(fds[i]);
		if (!ready)
			return;
		t->be->ops->poll_ready(t->be);
	}
	fail_msg("the main loop never went idle");
}

static void notify(struct t *t, uint32_t q)
{
	mw32(t->dev, VIRTIO_MMIO_QUEUE_NOTIFY, q);
	if (!t->started)
		pump(t);
}

static uint32_t ack_irq(struct t *t)
{
	uint32_t isr = mr32(t->dev, VIRTIO_MMIO_INTERRUPT_STATUS);

	mw32(t->dev, VIRTIO_MMIO_INTERRUPT_ACK, isr);
	return isr;
}

static uint32_t dev_status(struct t *t)
{
	return mr32(t->dev, VIRTIO_MMIO_STATUS);
}

static void fill(uint8_t *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 8));
}

/* An Ethernet frame of @len bytes to @dst. */
static void frame_to(uint8_t *f, size_t len, const uint8_t dst[6],
		     unsigned int seed)
{
	fill(f, len, seed);
	memcpy(f, dst, 6);
	f[12] = 0x08;
	f[13] = 0x00;
}

/* Post one single-descriptor receive buffer of @len bytes at @gpa. */
static uint16_t post_rx_q(struct t *t, struct vq *q, uint64_t gpa,
			  uint32_t len)
{
	struct fseg s = { gpa, len, true };
	uint16_t head = q_chain(t, q, &s, 1);

	memset(fg_ptr(&t->gm, gpa, len), 0xee, len);
	q_publish(t, q, head);
	return head;
}

static uint16_t post_rx(struct t *t, uint64_t gpa, uint32_t len)
{
	return post_rx_q(t, &t->rx, gpa, len);
}

/* The host sends @f (@len bytes) on queue @qi behind header @h. */
static void peer_send_hdr(struct t *t, unsigned int qi,
			  const struct vnet_hdr *h, const void *f, size_t len)
{
	uint8_t *b = malloc(VNET_HDR_SIZE + len);

	assert_non_null(b);
	vnet_hdr_put(h, b);
	memcpy(b + VNET_HDR_SIZE, f, len);
	assert_int_equal(send(t->peer[qi], b, VNET_HDR_SIZE + len, 0),
			 (ssize_t)(VNET_HDR_SIZE + len));
	free(b);
}

static void peer_send(struct t *t, const void *f, size_t len)
{
	const struct vnet_hdr h = { 0 };

	peer_send_hdr(t, 0, &h, f, len);
}

/* The next frame the device sent on queue @qi: its length (header
 * excluded, -1: none) with the header in *@h and the frame at @f. */
static ssize_t peer_recv_hdr(struct t *t, unsigned int qi,
			     struct vnet_hdr *h, void *f, size_t len)
{
	static uint8_t b[VNET_HDR_SIZE + VIRTIO_NET_MAX_FRAME + 16];
	ssize_t n = recv(t->peer[qi], b, sizeof(b), MSG_DONTWAIT);

	if (n < 0)
		return -1;
	assert_true(n > VNET_HDR_SIZE);
	vnet_hdr_get(b, h);
	n -= VNET_HDR_SIZE;
	assert_true((size_t)n <= len);
	memcpy(f, b + VNET_HDR_SIZE, (size_t)n);
	return n;
}

/* Same, for a frame that must carry no offload metadata. */
static ssize_t peer_recv(struct t *t, void *f, size_t len)
{
	static const uint8_t zero[VNET_HDR_SIZE];
	uint8_t raw[VNET_HDR_SIZE];
	struct vnet_hdr h;
	ssize_t n = peer_recv_hdr(t, 0, &h, f, len);

	if (n >= 0) {
		vnet_hdr_put(&h, raw);
		assert_memory_equal(raw, zero, VNET_HDR_SIZE);
	}
	return n;
}

static void check_rx(struct t *t, uint16_t used, uint64_t gpa,
		     const uint8_t *frame, uint32_t len)
{
	uint8_t hdr[VIRTIO_NET_HDR_SIZE] = { 0 };

	hdr[VIRTIO_NET_HDR_NUM_BUFFERS] = 1;
	assert_int_equal(q_used_len(t, &t->rx, used), VIRTIO_NET_HDR_SIZE + len);
	assert_memory_equal(fg_ptr(&t->gm, gpa, VIRTIO_NET_HDR_SIZE), hdr,
			    VIRTIO_NET_HDR_SIZE);
	assert_memory_equal(fg_ptr(&t->gm, gpa + VIRTIO_NET_HDR_SIZE, len),
			    frame, len);
}

static struct vnet_stats stats(struct t *t)
{
	struct vnet_stats st;

	vnet_get_stats(t->be, &st);
	return st;
}

static void assert_hdr(const struct vnet_hdr *g, uint8_t flags, uint8_t gso,
		       uint16_t hdr_len, uint16_t gso_size, uint16_t cs,
		       uint16_t co, uint16_t nb)
{
	assert_int_equal(g->flags, flags);
	assert_int_equal(g->gso_type, gso);
	assert_int_equal(g->hdr_len, hdr_len);
	assert_int_equal(g->gso_size, gso_size);
	assert_int_equal(g->csum_start, cs);
	assert_int_equal(g->csum_offset, co);
	assert_int_equal(g->num_buffers, nb);
}

/* Put a transmit chain (header @h, frame @f) at TXBUF + @off. */
static uint16_t tx_frame(struct t *t, struct vq *q, uint64_t off,
			 const struct vnet_hdr *h, const uint8_t *f,
			 size_t len)
{
	uint16_t head;

	vnet_hdr_put(h, fg_ptr(&t->gm, TXBUF + off, VNET_HDR_SIZE));
	memcpy(fg_ptr(&t->gm, TXBUF + off + VNET_HDR_SIZE, len), f, len);
	head = q_chain(t, q, (struct fseg[]){
			{ TXBUF + off, VNET_HDR_SIZE + len, false } }, 1);
	q_publish(t, q, head);
	return head;
}

/* Send a control command; its ack (0xee: none written). */
static uint8_t ctrl_cmd(struct t *t, uint8_t cls, uint8_t cmd,
			const void *data, uint32_t len)
{
	uint8_t *b = fg_ptr(&t->gm, CMDBUF, 2 + len);
	uint16_t used = q_used_idx(t, &t->ctrl), head;

	b[0] = cls;
	b[1] = cmd;
	if (len)
		memcpy(b + 2, data, len);
	*fg_ptr(&t->gm, ACKBUF, 1) = 0xee;
	if (len)
		head = q_chain(t, &t->ctrl, (struct fseg[]){
				{ CMDBUF, 2, false },
				{ CMDBUF + 2, len, false },
				{ ACKBUF, 1, true } }, 3);
	else
		head = q_chain(t, &t->ctrl, (struct fseg[]){
				{ CMDBUF, 2, false },
				{ ACKBUF, 1, true } }, 2);
	q_publish(t, &t->ctrl, head);
	notify(t, (uint32_t)(dev_features(t) & F(MQ) ? 2 * t->npairs : 2));
	assert_int_equal(q_used_idx(t, &t->ctrl), (uint16_t)(used + 1));
	return *fg_ptr(&t->gm, ACKBUF, 1);
}

/* ---- identity and config space ------------------------------------------------ */

static void test_identity_config(void **state)
{
	struct t *t = *state;
	uint64_t f = dev_features(t);
	uint8_t b[16];

	assert_int_equal(mr32(t->dev, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_NET);
	for (unsigned int bit = 0; bit < 64; bit++) {
		static const uint64_t want =
			VIRTIO_BIT(VIRTIO_F_VERSION_1) |
			VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) | F(MAC) |
			F(STATUS) | F(MRG_RXBUF) | F(CTRL_VQ) | F(CTRL_RX) |
			F(CTRL_VLAN) | F(CTRL_MAC_ADDR) |
			F(CTRL_GUEST_OFFLOADS) | F(CSUM) | F(HOST_TSO4) |
			F(HOST_TSO6) | F(HOST_ECN) | F(HOST_UFO) |
			F(GUEST_CSUM) | F(GUEST_TSO4) | F(GUEST_TSO6) |
			F(GUEST_ECN) | F(GUEST_UFO);

		if (((f ^ want) >> bit) & 1)
			fail_msg("feature bit %u: offered %d", bit,
				 (int)((f >> bit) & 1));
	}
	t->dev->ops->mmio_read(t->dev, VIRTIO_MMIO_CONFIG, b, 8);
	assert_memory_equal(b, MAC, 6);
	assert_int_equal(mmio_get(b + 6, 2), VIRTIO_NET_S_LINK_UP);
	t->dev->ops->mmio_read(t->dev, VIRTIO_MMIO_CONFIG + 8, b, 2);
	assert_int_equal(mmio_get(b, 2), 1);	/* max_virtqueue_pairs */
	/* Past the 10 bytes: refused (reads 0), logged. */
	unsigned long logs = log_count();

	memset(b, 0x55, sizeof(b));
	t->dev->ops->mmio_read(t->dev, VIRTIO_MMIO_CONFIG + 10, b, 2);
	assert_int_equal(mmio_get(b, 2), 0);
	assert_true(log_count() > logs);
	/* Three queues (receive, transmit, control); no fourth. */
	mw32(t->dev, VIRTIO_MMIO_QUEUE_SEL, 2);
	assert_int_equal(mr32(t->dev, VIRTIO_MMIO_QUEUE_NUM_MAX),
			 VIRTIO_NET_QUEUE_SIZE);
	mw32(t->dev, VIRTIO_MMIO_QUEUE_SEL, 3);
	assert_int_equal(mr32(t->dev, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	/* Receive offloads are offered only as far as the host's TAP
	 * takes them. */
	t->dev->ops->destroy(t->dev);
	close(t->peer[0]);
	make_dev(t, 1, TAP_F_CSUM);
	f = dev_features(t);
	assert_true(f & F(GUEST_CSUM));
	assert_false(f & (F(GUEST_TSO4) | F(GUEST_TSO6) | F(GUEST_ECN) |
			  F(GUEST_UFO)));
	t->dev->ops->destroy(t->dev);
	close(t->peer[0]);
	make_dev(t, 1, 0);
	assert_false(dev_features(t) & VNET_GUEST_OFFLOADS);
	assert_true(dev_features(t) & F(HOST_TSO4));
}

/* ---- transmit ------------------------------------------------------------------ */

static void test_tx_byte_exact(void **state)
{
	struct t *t = *state;
	uint8_t f1[60], f2[1514], f3[300], got[2048];
	uint16_t h1, h2, h3;

	drv_init(t, BASIC);
	assert_int_equal(last_offload, 0);	/* nothing for this guest */
	fill(f1, sizeof(f1), 1);
	fill(f2, sizeof(f2), 2);
	fill(f3, sizeof(f3), 3);
	/* Header and frame in one descriptor (Linux's any_header_sg). */
	memset(fg_ptr(&t->gm, TXBUF, 12), 0, 12);
	memcpy(fg_ptr(&t->gm, TXBUF + 12, sizeof(f1)), f1, sizeof(f1));
	h1 = q_chain(t, &t->tx, (struct fseg[]){ { TXBUF, 12 + sizeof(f1),
						    false } }, 1);
	/* Header apart, frame split in three; junk num_buffers. */
	memset(fg_ptr(&t->gm, TXBUF + 0x800, 12), 0, 12);
	*fg_ptr(&t->gm, TXBUF + 0x800 + 10, 1) = 7;
	memcpy(fg_ptr(&t->gm, TXBUF + 0x1000, 500), f2, 500);
	memcpy(fg_ptr(&t->gm, TXBUF + 0x2000, 14), f2 + 500, 14);
	memcpy(fg_ptr(&t->gm, TXBUF + 0x3000, 1000), f2 + 514, 1000);
	h2 = q_chain(t, &t->tx, (struct fseg[]){
			{ TXBUF + 0x800, 12, false },
			{ TXBUF + 0x1000, 500, false },
			{ TXBUF + 0x2000, 14, false },
			{ TXBUF + 0x3000, 1000, false } }, 4);
	/* Indirect, header straddling two descriptors. */
	memset(fg_ptr(&t->gm, TXBUF + 0x4000, 8), 0, 8);
	memset(fg_ptr(&t->gm, TXBUF + 0x5000, 4), 0, 4);
	memcpy(fg_ptr(&t->gm, TXBUF + 0x5000 + 4, sizeof(f3)), f3,
	       sizeof(f3));
	h3 = q_chain_indirect(t, &t->tx, (struct fseg[]){
			{ TXBUF + 0x4000, 8, false },
			{ TXBUF + 0x5000, 4 + sizeof(f3), false } }, 2);
	q_publish(t, &t->tx, h1);
	q_publish(t, &t->tx, h2);
	q_publish(t, &t->tx, h3);
	notify(t, 1);
	assert_int_equal(ack_irq(t), VIRTIO_MMIO_INT_VRING);
	assert_int_equal(q_used_idx(t, &t->tx), 3);
	for (uint16_t i = 0; i < 3; i++) {
		assert_int_equal(q_used_id(t, &t->tx, i),
				 i == 0 ? h1 : i == 1 ? h2 : h3);
		assert_int_equal(q_used_len(t, &t->tx, i), 0);
	}
	assert_int_equal(peer_recv(t, got, sizeof(got)), sizeof(f1));
	assert_memory_equal(got, f1, sizeof(f1));
	assert_int_equal(peer_recv(t, got, sizeof(got)), sizeof(f2));
	assert_memory_equal(got, f2, sizeof(f2));
	assert_int_equal(peer_recv(t, got, sizeof(got)), sizeof(f3));
	assert_memory_equal(got, f3, sizeof(f3));
	assert_int_equal(peer_recv(t, got, sizeof(got)), -1);
	assert_int_equal(stats(t).tx_packets, 3);
	assert_int_equal(stats(t).tx_bytes,
			 sizeof(f1) + sizeof(f2) + sizeof(f3));
	assert_int_equal(dev_status(t), ALL_OK);
}

static void test_tx_maximum_frame(void **state)
{
	struct t *t = *state;
	uint8_t *frame = malloc(VIRTIO_NET_MAX_FRAME), *got;
	uint16_t h;

	got = malloc(VIRTIO_NET_MAX_FRAME + 1);
	assert_non_null(frame);
	assert_non_null(got);
	drv_init(t, BASIC);
	fill(frame, VIRTIO_NET_MAX_FRAME, 9);
	memset(fg_ptr(&t->gm, BIGBUF, 12), 0, 12);
	memcpy(fg_ptr(&t->gm, BIGBUF + 12, VIRTIO_NET_MAX_FRAME), frame,
	       VIRTIO_NET_MAX_FRAME);
	h = q_chain(t, &t->tx, (struct fseg[]){
			{ BIGBUF, 12 + VIRTIO_NET_MAX_FRAME, false } }, 1);
	q_publish(t, &t->tx, h);
	notify(t, 1);
	assert_int_equal(q_used_idx(t, &t->tx), 1);
	assert_int_equal(peer_recv(t, got, VIRTIO_NET_MAX_FRAME + 1),
			 VIRTIO_NET_MAX_FRAME);
	assert_memory_equal(got, frame, VIRTIO_NET_MAX_FRAME);
	free(frame);
	free(got);
}

/* Offload metadata reaches the TAP as negotiated, cleaned of the rest. */
static void test_tx_offloads(void **state)
{
	struct t *t = *state;
	uint8_t f[3000], got[4096];
	struct vnet_hdr h = {
		.flags = VNET_HDR_F_NEEDS_CSUM | 0x80 | VNET_HDR_F_DATA_VALID,
		.gso_type = VNET_HDR_GSO_TCPV4 | VNET_HDR_GSO_ECN,
		.hdr_len = 54, .gso_size = 1448, .csum_start = 34,
		.csum_offset = 16, .num_buffers = 9,
	}, g;

	drv_init(t, ALL);
	fill(f, sizeof(f), 11);
	tx_frame(t, &t->tx, 0, &h, f, sizeof(f));
	/* No segmentation: gso fields are dropped, the checksum kept. */
	h = (struct vnet_hdr){ .flags = VNET_HDR_F_NEEDS_CSUM, .hdr_len = 99,
			       .gso_size = 5, .csum_start = 14,
			       .csum_offset = 6 };
	tx_frame(t, &t->tx, 0x2000, &h, f, 100);
	h = (struct vnet_hdr){ .gso_type = VNET_HDR_GSO_TCPV6 };
	h.flags = VNET_HDR_F_NEEDS_CSUM;
	h.gso_size = 1400;
	h.hdr_len = 74;
	h.csum_start = 54;
	h.csum_offset = 16;
	tx_frame(t, &t->tx, 0x4000, &h, f, 2000);
	h.gso_type = VNET_HDR_GSO_UDP;
	h.csum_offset = 6;
	tx_frame(t, &t->tx, 0x6000, &h, f, 2000);
	notify(t, 1);
	assert_int_equal(q_used_idx(t, &t->tx), 4);

	assert_int_equal(peer_recv_hdr(t, 0, &g, got, sizeof(got)), sizeof(f));
	assert_hdr(&g, VNET_HDR_F_NEEDS_CSUM, VNET_HDR_GSO_TCPV4 | VNET_HDR_GSO_ECN,
		   54, 1448, 34, 16, 0);
	assert_memory_equal(got, f, sizeof(f));
	assert_int_equal(peer_recv_hdr(t, 0, &g, got, sizeof(got)), 100);
	assert_hdr(&g, VNET_HDR_F_NEEDS_CSUM, 0, 0, 0, 14, 6, 0);
	assert_int_equal(peer_recv_hdr(t, 0, &g, got, sizeof(got)), 2000);
	assert_int_equal(g.gso_type, VNET_HDR_GSO_TCPV6);
	assert_int_equal(peer_recv_hdr(t, 0, &g, got, sizeof(got)), 2000);
	assert_int_equal(g.gso_type, VNET_HDR_GSO_UDP);
	assert_int_equal(stats(t).tx_packets, 4);
	assert_int_equal(stats(t).tx_bad, 0);
}

static void test_tx_hostile(void **state)
{
	struct t *t = *state;
	uint8_t f[100], got[256];
	uint16_t h;
	unsigned long logs = log_count();

	drv_init(t, BASIC);
	fill(f, sizeof(f), 4);
	memset(fg_ptr(&t->gm, TXBUF, 12), 0, 12);
	memcpy(fg_ptr(&t->gm, TXBUF + 12, sizeof(f)), f, sizeof(f));
	/* A device-writable descriptor in a transmit chain. */
	h = q_chain(t, &t->tx, (struct fseg[]){
			{ TXBUF, 12 + sizeof(f), false },
			{ TXBUF + 0x1000, 64, true } }, 2);
	q_publish(t, &t->tx, h);
	/* Only writable descriptors. */
	h = q_chain(t, &t->tx, (struct fseg[]){ { TXBUF, 112, true } }, 1);
	q_publish(t, &t->tx, h);
	/* Header too short. */
	h = q_chain(t, &t->tx, (struct fseg[]){ { TXBUF, 11, false } }, 1);
	q_publish(t, &t->tx, h);
	/* Header only: an empty frame. */
	h = q_chain(t, &t->tx, (struct fseg[]){ { TXBUF, 12, false } }, 1);
	q_publish(t, &t->tx, h);
	/* One byte over the maximum, in two descriptors. */
	memset(fg_ptr(&t->gm, BIGBUF, 12), 0, 12);
	h = q_chain(t, &t->tx, (struct fseg[]){
			{ BIGBUF, 0x10000, false },
			{ BIGBUF + 0x10000, 12 + VIRTIO_NET_MAX_FRAME + 1 -
					    0x10000, false } }, 2);
	q_publish(t, &t->tx, h);
	/* Offloads this driver did not negotiate. */
	tx_frame(t, &t->tx, 0x2000, &(struct vnet_hdr){
			.flags = VNET_HDR_F_NEEDS_CSUM, .csum_start = 14,
			.csum_offset = 6 }, f, sizeof(f));
	tx_frame(t, &t->tx, 0x3000, &(struct vnet_hdr){
			.flags = VNET_HDR_F_NEEDS_CSUM,
			.gso_type = VNET_HDR_GSO_TCPV4, .gso_size = 1000,
			.csum_start = 14, .csum_offset = 16 }, f, sizeof(f));
	/* And a good one after all that. */
	h = q_chain(t, &t->tx, (struct fseg[]){ { TXBUF, 12 + sizeof(f),
						   false } }, 1);
	q_publish(t, &t->tx, h);
	notify(t, 1);
	assert_int_equal(q_used_idx(t, &t->tx), 8);
	for (uint16_t i = 0; i < 8; i++)
		assert_int_equal(q_used_len(t, &t->tx, i), 0);
	assert_int_equal(peer_recv(t, got, sizeof(got)), sizeof(f));
	assert_memory_equal(got, f, sizeof(f));
	assert_int_equal(peer_recv(t, got, sizeof(got)), -1);
	assert_int_equal(stats(t).tx_bad, 7);
	assert_int_equal(stats(t).tx_packets, 1);
	assert_true(log_count() >= logs + 7);
	/* Not a ring violation: the device keeps running. */
	assert_int_equal(dev_status(t), ALL_OK);
}

/* Bad headers from a driver that negotiated every offload. */
static void test_tx_bad_headers(void **state)
{
	struct t *t = *state;
	static const struct vnet_hdr bad[] = {
		/* checksum field past the frame (100 bytes) */
		{ .flags = 1, .csum_start = 90, .csum_offset = 9 },
		{ .flags = 1, .csum_start = 0xffff, .csum_offset = 0xffff },
		/* segmentation: unknown type, no checksum, no size, header
		 * beyond the frame, ECN on UDP, ECN alone */
		{ .flags = 1, .gso_type = 2, .gso_size = 100 },
		{ .flags = 1, .gso_type = 5, .gso_size = 100 },
		{ .flags = 1, .gso_type = 0x7f, .gso_size = 100 },
		{ .gso_type = VNET_HDR_GSO_TCPV4, .gso_size = 100 },
		{ .flags = 1, .gso_type = VNET_HDR_GSO_TCPV4 },
		{ .flags = 1, .gso_type = VNET_HDR_GSO_TCPV4, .gso_size = 50,
		  .hdr_len = 101 },
		{ .flags = 1, .gso_type = VNET_HDR_GSO_UDP | VNET_HDR_GSO_ECN,
		  .gso_size = 50 },
		{ .gso_type = VNET_HDR_GSO_ECN },
	};
	const unsigned int n = sizeof(bad) / sizeof(bad[0]);
	uint8_t f[100], got[256];
	struct vnet_hdr g;

	drv_init(t, ALL);
	fill(f, sizeof(f), 5);
	for (unsigned int i = 0; i < n; i++) {
		tx_frame(t, &t->tx, 0x400 * i, &bad[i], f, sizeof(f));
		notify(t, 1);
	}
	assert_int_equal(q_used_idx(t, &t->tx), n);
	assert_int_equal(peer_recv_hdr(t, 0, &g, got, sizeof(got)), -1);
	assert_int_equal(stats(t).tx_bad, n);
	/* Without HOST_ECN, ECN segments are refused too. */
	mw32(t->dev, VIRTIO_MMIO_STATUS, 0);
	drv_init(t, ALL & ~F(HOST_ECN));
	tx_frame(t, &t->tx, 0, &(struct vnet_hdr){
			.flags = 1, .gso_type = VNET_HDR_GSO_TCPV4 |
						VNET_HDR_GSO_ECN,
			.gso_size = 50, .csum_offset = 16 }, f, sizeof(f));
	notify(t, 1);
	assert_int_equal(stats(t).tx_bad, n + 1);
	assert_int_equal(dev_status(t), ALL_OK);
}

static void test_tx_host_refuses(void **state)
{
	struct t *t = *state;
	uint16_t h;

	drv_init(t, BASIC);
	close(t->peer[0]);	/* the "TAP" goes away: ECONNREFUSED */
	t->peer[0] = -1;
	memset(fg_ptr(&t->gm, TXBUF, 112), 0, 112);
	h = q_chain(t, &t->tx, (struct fseg[]){ { TXBUF, 112, false } }, 1);
	q_publish(t, &t->tx, h);
	notify(t, 1);
	assert_int_equal(q_used_idx(t, &t->tx), 1);
	assert_int_equal(stats(t).tx_dropped, 1);
	assert_int_equal(stats(t).tx_packets, 0);
	assert_int_equal(dev_status(t), ALL_OK);
}

static void test_tx_avail_ahead(void **state)
{
	struct t *t = *state;
	uint8_t f[64] = { 1 };

	drv_init(t, BASIC);
	fg_w16(&t->gm, t->tx.avail + 2, QSIZE + 3);
	notify(t, 1);
	assert_true(dev_status(t) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(q_used_idx(t, &t->tx), 0);
	/* Receive stops too: the device is waiting for a reset. */
	post_rx(t, RXBUF(0), RXBUF_LEN);
	peer_send(t, f, sizeof(f));
	notify(t, 0);
	assert_int_equal(q_used_idx(t, &t->rx), 0);
	assert_true(readable(dev_fd[0]));	/* not even read */
}

/* ---- receive -------------------------------------------------------------------- */

static void test_rx_basic(void **state)
{
	struct t *t = *state;
	uint8_t f1[60], f2[1514], f3[1];

	drv_init(t, BASIC);
	for (unsigned int i = 0; i < 4; i++)
		post_rx(t, RXBUF(i), RXBUF_LEN);
	notify(t, 0);
	assert_int_equal(q_used_idx(t, &t->rx), 0);

	frame_to(f1, sizeof(f1), MAC, 5);
	frame_to(f2, sizeof(f2), BCAST, 6);
	f3[0] = 0x42;
	peer_send(t, f1, sizeof(f1));
	peer_send(t, f2, sizeof(f2));
	peer_send(t, f3, sizeof(f3));
	t->irq.raises = 0;
	pump(t);
	assert_int_equal(q_used_idx(t, &t->rx), 3);
	assert_int_equal(ack_irq(t), VIRTIO_MMIO_INT_VRING);
	assert_int_equal(t->irq.raises, 1);
	check_rx(t, 0, RXBUF(0), f1, sizeof(f1));
	check_rx(t, 1, RXBUF(1), f2, sizeof(f2));
	/* Promiscuous until the driver says otherwise: even a runt. */
	check_rx(t, 2, RXBUF(2), f3, sizeof(f3));
	/* Bytes past the frame untouched. */
	assert_int_equal(*fg_ptr(&t->gm, RXBUF(0) + 12 + sizeof(f1), 1), 0xee);
	assert_int_equal(stats(t).rx_packets, 3);
	assert_int_equal(stats(t).rx_bytes,
			 sizeof(f1) + sizeof(f2) + sizeof(f3));
}

/* Header and frame in separate descriptors, and an indirect chain. */
static void test_rx_split_buffers(void **state)
{
	struct t *t = *state;
	uint8_t f[1000];
	uint16_t h;

	drv_init(t, BASIC);
	h = q_chain(t, &t->rx, (struct fseg[]){
			{ RXBUF(0), 12, true },
			{ RXBUF(1), 500, true },
			{ RXBUF(2), 1500, true } }, 3);
	q_publish(t, &t->rx, h);
	h = q_chain_indirect(t, &t->rx, (struct fseg[]){
			{ RXBUF(3), 7, true },
			{ RXBUF(4), 2000, true } }, 2);
	q_publish(t, &t->rx, h);
	notify(t, 0);
	frame_to(f, sizeof(f), MAC, 7);
	peer_send(t, f, sizeof(f));
	peer_send(t, f, sizeof(f));
	pump(t);
	assert_int_equal(q_used_idx(t, &t->rx), 2);
	assert_int_equal(q_used_len(t, &t->rx, 0), 12 + sizeof(f));
	assert_int_equal(*fg_ptr(&t->gm, RXBUF(0) + 10, 1), 1);
	assert_memory_equal(fg_ptr(&t->gm, RXBUF(1), 500), f, 500);
	assert_memory_equal(fg_ptr(&t->gm, RXBUF(2), 500), f + 500, 500);
	assert_int_equal(*fg_ptr(&t->gm, RXBUF(3) + 0, 1), 0);
	assert_int_equal(*fg_ptr(&t->gm, RXBUF(4) + 3, 1), 1);
	assert_memory_equal(fg_ptr(&t->gm, RXBUF(4) + 5, sizeof(f)), f,
			    sizeof(f));
}

/* With MRG_RXBUF a frame spreads over as many buffers as it needs, all
 * published with one index update, num_buffers in the first. */
static void test_rx_mergeable(void **state)
{
	struct t *t = *state;
	uint8_t f[4000];

	drv_init(t, ALL);
	for (unsigned int i = 0; i < 2; i++)
		post_rx(t, RXBUF(i), 1536);
	notify(t, 0);
	frame_to(f, sizeof(f), MAC, 8);
	peer_send(t, f, sizeof(f));
	pump(t);
	/* Two buffers hold 3072 of 4012 bytes: it waits, nothing shown. */
	assert_int_equal(q_used_idx(t, &t->rx), 0);
	assert_int_equal(stats(t).rx_packets, 0);
	post_rx(t, RXBUF(2), 1536);
	post_rx(t, RXBUF(3), 1536);
	notify(t, 0);
	assert_int_equal(q_used_idx(t, &t->rx), 3);
	assert_int_equal(q_used_len(t, &t->rx, 0), 1536);
	assert_int_equal(q_used_len(t, &t->rx, 1), 1536);
	assert_int_equal(q_used_len(t, &t->rx, 2), 12 + sizeof(f) - 3072);
	assert_int_equal(fg_r16(&t->gm, RXBUF(0) + 10), 3);
	assert_int_equal(*fg_ptr(&t->gm, RXBUF(0), 1), 0);
	assert_memory_equal(fg_ptr(&t->gm, RXBUF(0) + 12, 1524), f, 1524);
	assert_memory_equal(fg_ptr(&t->gm, RXBUF(1), 1536), f + 1524, 1536);
	assert_memory_equal(fg_ptr(&t->gm, RXBUF(2), sizeof(f) - 3060),
			    f + 3060, sizeof(f) - 3060);
	/* The fourth buffer takes the next small frame alone. */
	peer_send(t, f, 100);
	pump(t);
	assert_int_equal(q_used_idx(t, &t->rx), 4);
	assert_int_equal(q_used_id(t, &t->rx, 3), 3);
	assert_int_equal(fg_r16(&t->gm, RXBUF(3) + 10), 1);
	assert_int_equal(stats(t).rx_packets, 2);
	/* A merged buffer shorter than a header breaks the rules. */
	post_rx(t, RXBUF(4), 8);
	peer_send(t, f, 100);
	notify(t, 0);
	assert_true(dev_status(t) & VIRTIO_STATUS_NEEDS_RESET);
}

static void test_rx_no_buffers_waits(void **state)
{
	struct t *t = *state;
	uint8_t f[200];

	drv_init(t, BASIC);
	frame_to(f, sizeof(f), MAC, 9);
	for (unsigned int i = 0; i < 3; i++)
		peer_send(t, f, sizeof(f));
	pump(t);
	/* No buffers: nothing read, the TAP is not polled. */
	assert_true(readable(dev_fd[0]));
	assert_int_equal(stats(t).rx_packets, 0);
	post_rx(t, RXBUF(0), RXBUF_LEN);
	notify(t, 0);
	assert_int_equal(q_used_idx(t, &t->rx), 1);
	/* One frame read and held for the next buffer, one still queued. */
	assert_true(readable(dev_fd[0]));
	post_rx(t, RXBUF(1), RXBUF_LEN);
	post_rx(t, RXBUF(2), RXBUF_LEN);
	post_rx(t, RXBUF(3), RXBUF_LEN);
	notify(t, 0);
	assert_int_equal(q_used_idx(t, &t->rx), 3);
	assert_false(readable(dev_fd[0]));
	for (uint16_t i = 0; i < 3; i++)
		check_rx(t, i, RXBUF(i), f, sizeof(f));
	/* The guest still has a buffer: the TAP is polled again. */
	int fds[VIRTIO_POLL_MAX];

	assert_int_equal(t->be->ops->poll_fds(t->be, fds), 2);
	assert_int_equal(fds[1], dev_fd[0]);
}

/* Quiesced for a pause or a snapshot: frames the guest queued before are
 * sent by the drain, then no ring moves (a received frame waits in the
 * TAP, a transmit notify does nothing) until resume. */
static void test_quiesce(void **state)
{
	struct t *t = *state;
	const struct vnet_hdr h = { 0 };
	uint8_t f[200], got[300];

	drv_init(t, BASIC);
	post_rx(t, RXBUF(0), RXBUF_LEN);
	notify(t, 0);
	fill(f, sizeof(f), 3);
	tx_frame(t, &t->tx, 0, &h, f, sizeof(f));
	virtio_backend_drain(t->be);
	assert_int_equal(q_used_idx(t, &t->tx), 1);
	assert_int_equal(peer_recv(t, got, sizeof(got)), sizeof(f));
	frame_to(f, sizeof(f), MAC, 4);
	peer_send(t, f, sizeof(f));
	tx_frame(t, &t->tx, 0x1000, &h, f, sizeof(f));
	notify(t, 1);
	notify(t, 0);
	pump(t);
	assert_int_equal(q_used_idx(t, &t->rx), 0);
	assert_int_equal(q_used_idx(t, &t->tx), 1);
	assert_true(readable(dev_fd[0]));
	assert_int_equal(peer_recv(t, got, sizeof(got)), -1);
	virtio_backend_resume(t->be);
	pump(t);
	assert_int_equal(q_used_idx(t, &t->rx), 1);
	check_rx(t, 0, RXBUF(0), f, sizeof(f));
	assert_int_equal(q_used_idx(t, &t->tx), 2);
	assert_int_equal(peer_recv(t, got, sizeof(got)), sizeof(f));
}

static void test_rx_budget(void **state)
{
	struct t *t = *state;
	uint8_t f[64];

	drv_init(t, BASIC);
	for (unsigned int i = 0; i < QSIZE; i++)
		post_rx(t, RXBUF(i), RXBUF_LEN);
	notify(t, 0);
	frame_to(f, sizeof(f), MAC, 10);
	for (unsigned int i = 0; i < 40; i++)
		peer_send(t, f, sizeof(f));
	pump(t);
	assert_int_equal(q_used_idx(t, &t->rx), QSIZE);
	assert_int_equal(stats(t).rx_packets, QSIZE);
}

static void test_rx_too_small_dropped(void **state)
{
	struct t *t = *state;
	uint8_t f[1514];

	drv_init(t, BASIC);
	post_rx(t, RXBUF(0), 1000);
	post_rx(t, RXBUF(1), RXBUF_LEN);
	notify(t, 0);
	frame_to(f, sizeof(f), MAC, 11);
	peer_send(t, f, sizeof(f));
	peer_send(t, f, 900);
	pump(t);
	/* The big frame is dropped, its buffer returned empty; the small
	 * one lands in the next buffer. */
	assert_int_equal(q_used_idx(t, &t->rx), 2);
	assert_int_equal(q_used_len(t, &t->rx, 0), 0);
	check_rx(t, 1, RXBUF(1), f, 900);
	assert_int_equal(stats(t).rx_dropped, 1);
	assert_int_equal(dev_status(t), ALL_OK);
}

static void test_rx_readonly_buffers(void **state)
{
	struct t *t = *state;
	uint8_t f[100];
	uint16_t h;

	drv_init(t, BASIC);
	memset(fg_ptr(&t->gm, RXBUF(0), 2048), 0xee, 2048);
	h = q_chain(t, &t->rx, (struct fseg[]){ { RXBUF(0), 2048, false } },
		    1);
	q_publish(t, &t->rx, h);
	notify(t, 0);
	frame_to(f, sizeof(f), MAC, 12);
	peer_send(t, f, sizeof(f));
	pump(t);
	/* Never written: the driver broke the rules. */
	assert_int_equal(*fg_ptr(&t->gm, RXBUF(0), 1), 0xee);
	assert_true(dev_status(t) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(q_used_idx(t, &t->rx), 0);
}

static void test_rx_bad_from_host(void **state)
{
	struct t *t = *state;
	static uint8_t big[VIRTIO_NET_MAX_FRAME + 1];
	uint8_t f[200];

	drv_init(t, BASIC);
	for (unsigned int i = 0; i < 4; i++)
		post_rx(t, RXBUF(i), RXBUF_LEN);
	notify(t, 0);
	frame_to(f, sizeof(f), MAC, 13);
	/* Over the maximum; a bare header; metadata this guest does not
	 * take (it negotiated no receive offloads). */
	peer_send(t, big, sizeof(big));
	assert_int_equal(send(t->peer[0], f, VNET_HDR_SIZE, 0), VNET_HDR_SIZE);
	peer_send_hdr(t, 0, &(struct vnet_hdr){ .flags = 1, .csum_start = 14,
						.csum_offset = 6 }, f, sizeof(f));
	peer_send_hdr(t, 0, &(struct vnet_hdr){ .flags = 1,
						.gso_type = VNET_HDR_GSO_TCPV4,
						.gso_size = 1448, .csum_offset = 16 },
		      f, sizeof(f));
	/* DATA_VALID is just cleared for it. */
	peer_send_hdr(t, 0, &(struct vnet_hdr){ .flags = 2 }, f, sizeof(f));
	pump(t);
	assert_int_equal(stats(t).rx_bad, 4);
	assert_int_equal(q_used_idx(t, &t->rx), 1);
	check_rx(t, 0, RXBUF(0), f, sizeof(f));
	assert_int_equal(dev_status(t), ALL_OK);
}

/* With receive offloads negotiated, the TAP is told, and its metadata
 * reaches the guest. */
static void test_rx_offloads(void **state)
{
	struct t *t = *state;
	uint8_t f[3000];
	struct vnet_hdr h = { .flags = 1, .gso_type = VNET_HDR_GSO_TCPV4,
			      .hdr_len = 66, .gso_size = 1448,
			      .csum_start = 34, .csum_offset = 16 }, g;

	drv_init(t, ALL);
	assert_int_equal(last_offload, HOST_ALL);
	for (unsigned int i = 0; i < 4; i++)
		post_rx(t, RXBUF(i), RXBUF_LEN);
	notify(t, 0);
	frame_to(f, sizeof(f), MAC, 14);
	peer_send_hdr(t, 0, &h, f, sizeof(f));
	pump(t);
	assert_int_equal(q_used_idx(t, &t->rx), 2);
	vnet_hdr_get(fg_ptr(&t->gm, RXBUF(0), 12), &g);
	assert_hdr(&g, 1, VNET_HDR_GSO_TCPV4, 66, 1448, 34, 16, 2);
	/* The guest turns segmentation off (CTRL_GUEST_OFFLOADS): the TAP
	 * is told, and a segment still queued is dropped, not delivered. */
	uint64_t csum_only = F(GUEST_CSUM);

	assert_int_equal(ctrl_cmd(t, VIRTIO_NET_CTRL_GUEST_OFFLOADS, 0,
				  &csum_only, 8), VIRTIO_NET_OK);
	assert_int_equal(last_offload, TAP_F_CSUM);
	peer_send_hdr(t, 0, &h, f, sizeof(f));
	pump(t);
	assert_int_equal(q_used_idx(t, &t->rx), 2);
	assert_int_equal(stats(t).rx_bad, 1);
	/* Offloads not negotiated, or unknown, are refused. */
	uint64_t v = F(GUEST_CSUM) | F(HOST_TSO4);

	assert_int_equal(ctrl_cmd(t, VIRTIO_NET_CTRL_GUEST_OFFLOADS, 0, &v, 8),
			 VIRTIO_NET_ERR);
	assert_int_equal(ctrl_cmd(t, VIRTIO_NET_CTRL_GUEST_OFFLOADS, 0, &v, 4),
			 VIRTIO_NET_ERR);
	assert_int_equal(last_offload, TAP_F_CSUM);
	/* A reset takes every offload away. */
	mw32(t->dev, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(last_offload, 0);
}

static void test_rx_device_states(void **state)
{
	struct t *t = *state;
	uint8_t f[100];

	frame_to(f, sizeof(f), MAC, 15);
	/* Before DRIVER_OK: nothing read. */
	peer_send(t, f, sizeof(f));
	pump(t);
	assert_true(readable(dev_fd[0]));
	drv_init(t, BASIC);
	post_rx(t, RXBUF(0), RXBUF_LEN);
	post_rx(t, RXBUF(1), RXBUF_LEN);
	notify(t, 0);
	assert_int_equal(q_used_idx(t, &t->rx), 1);
	/* After a reset: not read again until the driver is back. */
	mw32(t->dev, VIRTIO_MMIO_STATUS, 0);
	peer_send(t, f, sizeof(f));
	pump(t);
	assert_true(readable(dev_fd[0]));
	drv_init(t, BASIC);
	post_rx(t, RXBUF(2), RXBUF_LEN);
	notify(t, 0);
	assert_int_equal(q_used_idx(t, &t->rx), 1);
	check_rx(t, 0, RXBUF(2), f, sizeof(f));
}

static void test_rx_tap_gone(void **state)
{
	struct t *t = *state;
	int fds[VIRTIO_POLL_MAX];

	t->dev->ops->destroy(t->dev);
	close(t->peer[0]);
	sock_type = SOCK_SEQPACKET;
	make_dev(t, 1, HOST_ALL);
	sock_type = SOCK_DGRAM;
	drv_init(t, BASIC);
	post_rx(t, RXBUF(0), RXBUF_LEN);
	notify(t, 0);
	close(t->peer[0]);	/* read() returns 0: receive stops for good */
	t->peer[0] = -1;
	pump(t);
	assert_int_equal(t->be->ops->poll_fds(t->be, fds), 2);
	assert_int_equal(fds[1], -1);
	assert_int_equal(dev_status(t), ALL_OK);
}

/* ---- control queue and receive filter ------------------------------------------ */

static void send_and_count(struct t *t, const uint8_t *f, size_t len,
			   uint16_t *used)
{
	peer_send(t, f, len);
	pump(t);
	*used = q_used_idx(t, &t->rx);
}

/* A 100-byte frame to @dst from the host: the receive queue's used index
 * is @want afterwards. */
static void expect_used(struct t *t, const uint8_t *dst, unsigned int seed,
			uint16_t want)
{
	uint8_t f[100];
	uint16_t used;

	frame_to(f, sizeof(f), dst, seed);
	send_and_count(t, f, sizeof(f), &used);
	assert_int_equal(used, want);
}

/* MAC_TABLE_SET with one unicast (@uni) and one multicast (@multi)
 * address, built in @table (20 bytes). */
static void set_tables(struct t *t, uint8_t *table, const uint8_t *uni,
		       const uint8_t *multi)
{
	memset(table, 0, 20);
	table[0] = 1;
	memcpy(table + 4, uni, 6);
	table[10] = 1;
	memcpy(table + 14, multi, 6);
	assert_int_equal(ctrl_cmd(t, VIRTIO_NET_CTRL_MAC,
				  VIRTIO_NET_CTRL_MAC_TABLE_SET, table, 20),
			 VIRTIO_NET_OK);
}

static void test_ctrl_filter(void **state)
{
	struct t *t = *state;
	static const uint8_t other[6] = { 0x52, 0x54, 0, 1, 2, 3 };
	static const uint8_t mc1[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };
	static const uint8_t mc2[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	static const uint8_t newmac[6] = { 0x02, 0, 0, 0, 0, 0x42 };
	uint8_t f[100], on = 1, off = 0, b[8];
	uint8_t table[4 + 6 + 4 + 6];
	uint16_t used = 0, vid;

	drv_init(t, ALL);
	for (unsigned int i = 0; i < QSIZE; i++)
		post_rx(t, RXBUF(i), RXBUF_LEN);
	notify(t, 0);
	/* Promiscuous at first. */
	expect_used(t, other, 1, 1);
	assert_int_equal(ctrl_cmd(t, VIRTIO_NET_CTRL_RX,
				  VIRTIO_NET_CTRL_RX_PROMISC, &off, 1),
			 VIRTIO_NET_OK);
	expect_used(t, other, 1, 1);
	assert_int_equal(stats(t).rx_filtered, 1);
	expect_used(t, MAC, 2, 2);
	expect_used(t, BCAST, 3, 3);
	expect_used(t, mc1, 4, 3);
	/* The tables: one unicast, one multicast. */
	set_tables(t, table, other, mc1);
	expect_used(t, mc1, 4, 4);
	expect_used(t, other, 5, 5);
	expect_used(t, mc2, 6, 5);
	assert_int_equal(ctrl_cmd(t, VIRTIO_NET_CTRL_RX,
				  VIRTIO_NET_CTRL_RX_ALLMULTI, &on, 1),
			 VIRTIO_NET_OK);
	expect_used(t, mc2, 6, 6);
	/* Tables that do not add up are refused, the old ones kept. */
	table[0] = 2;
	assert_int_equal(ctrl_cmd(t, VIRTIO_NET_CTRL_MAC,
				  VIRTIO_NET_CTRL_MAC_TABLE_SET, table,
				  sizeof(table)), VIRTIO_NET_ERR);
	table[0] = 0xff;
	table[3] = 0xff;
	assert_int_equal(ctrl_cmd(t, VIRTIO_NET_CTRL_MAC,
				  VIRTIO_NET_CTRL_MAC_TABLE_SET, table,
				  sizeof(table)), VIRTIO_NET_ERR);
	assert_int_equal(ctrl_cmd(t, VIRTIO_NET_CTRL_MAC,
				  VIRTIO_NET_CTRL_MAC_TABLE_SET, table, 3),
			 VIRTIO_NET_ERR);
	expect_used(t, other, 7, 7);
	/* VLANs: tagged frames pass only for the VLANs added. */
	frame_to(f, sizeof(f), MAC, 8);
	f[12] = 0x81;
	f[13] = 0x00;
	f[14] = 0x00;
	f[15] = 0x05;
	send_and_count(t, f, sizeof(f), &used);
	assert_int_equal(used, 7);
	vid = 5;
	assert_int_equal(ctrl_cmd(t, VIRTIO_NET_CTRL_VLAN,
				  VIRTIO_NET_CTRL_VLAN_ADD, &vid, 2),
			 VIRTIO_NET_OK);
	send_and_count(t, f, sizeof(f), &used);
	assert_int_equal(used, 8);
	assert_int_equal(ctrl_cmd(t, VIRTIO_NET_CTRL_VLAN,
				  VIRTIO_NET_CTRL_VLAN_DEL, &vid, 2),
			 VIRTIO_NET_OK);
	send_and_count(t, f, sizeof(f), &used);
	assert_int_equal(used, 8);
	vid = 4096;
	assert_int_equal(ctrl_cmd(t, VIRTIO_NET_CTRL_VLAN,
				  VIRTIO_NET_CTRL_VLAN_ADD, &vid, 2),
			 VIRTIO_NET_ERR);
	/* A new address: in config space, and frames to it pass. */
	assert_int_equal(ctrl_cmd(t, VIRTIO_NET_CTRL_MAC,
				  VIRTIO_NET_CTRL_MAC_ADDR_SET, newmac, 6),
			 VIRTIO_NET_OK);
	t->dev->ops->mmio_read(t->dev, VIRTIO_MMIO_CONFIG, b, 6);
	assert_memory_equal(b, newmac, 6);
	expect_used(t, newmac, 9, 9);
	assert_int_equal(ctrl_cmd(t, VIRTIO_NET_CTRL_MAC,
				  VIRTIO_NET_CTRL_MAC_ADDR_SET, mc1, 6),
			 VIRTIO_NET_ERR);
	/* Malformed and unknown commands. */
	assert_int_equal(ctrl_cmd(t, VIRTIO_NET_CTRL_RX,
				  VIRTIO_NET_CTRL_RX_PROMISC, NULL, 0),
			 VIRTIO_NET_ERR);
	assert_int_equal(ctrl_cmd(t, VIRTIO_NET_CTRL_RX, 2, &on, 1),
			 VIRTIO_NET_ERR);
	assert_int_equal(ctrl_cmd(t, 3, 0, NULL, 0), VIRTIO_NET_ERR);
	assert_int_equal(ctrl_cmd(t, 0xff, 0xff, &on, 1), VIRTIO_NET_ERR);
	assert_int_equal(ctrl_cmd(t, VIRTIO_NET_CTRL_MQ, 0, &vid, 2),
			 VIRTIO_NET_ERR);	/* MQ not offered: 1 pair */
	assert_int_equal(dev_status(t), ALL_OK);
	/* A reset brings back the configured address, promiscuous. */
	mw32(t->dev, VIRTIO_MMIO_STATUS, 0);
	t->dev->ops->mmio_read(t->dev, VIRTIO_MMIO_CONFIG, b, 6);
	assert_memory_equal(b, MAC, 6);
}

/* Commands of features the driver did not take; bad chains. */
static void test_ctrl_hostile(void **state)
{
	struct t *t = *state;
	uint8_t on = 1;
	uint16_t h, used;

	drv_init(t, BASIC | F(CTRL_VQ));
	assert_int_equal(ctrl_cmd(t, VIRTIO_NET_CTRL_RX,
				  VIRTIO_NET_CTRL_RX_PROMISC, &on, 1),
			 VIRTIO_NET_ERR);
	assert_int_equal(ctrl_cmd(t, VIRTIO_NET_CTRL_VLAN, 0, "\0\0", 2),
			 VIRTIO_NET_ERR);
	assert_int_equal(ctrl_cmd(t, VIRTIO_NET_CTRL_MAC,
				  VIRTIO_NET_CTRL_MAC_ADDR_SET, MAC, 6),
			 VIRTIO_NET_ERR);
	/* No room for the ack: returned, nothing written. */
	used = q_used_idx(t, &t->ctrl);
	h = q_chain(t, &t->ctrl, (struct fseg[]){ { CMDBUF, 3, false } }, 1);
	q_publish(t, &t->ctrl, h);
	notify(t, 2);
	assert_int_equal(q_used_idx(t, &t->ctrl), (uint16_t)(used + 1));
	assert_int_equal(q_used_len(t, &t->ctrl, used), 0);
	/* Only the ack, or a command over the limit: ERR. */
	*fg_ptr(&t->gm, ACKBUF, 1) = 0xee;
	h = q_chain(t, &t->ctrl, (struct fseg[]){ { ACKBUF, 1, true } }, 1);
	q_publish(t, &t->ctrl, h);
	notify(t, 2);
	assert_int_equal(*fg_ptr(&t->gm, ACKBUF, 1), VIRTIO_NET_ERR);
	*fg_ptr(&t->gm, ACKBUF, 1) = 0xee;
	h = q_chain(t, &t->ctrl, (struct fseg[]){
			{ BIGBUF, VNET_CTRL_MAX + 1, false },
			{ ACKBUF, 1, true } }, 2);
	q_publish(t, &t->ctrl, h);
	notify(t, 2);
	assert_int_equal(*fg_ptr(&t->gm, ACKBUF, 1), VIRTIO_NET_ERR);
	assert_int_equal(dev_status(t), ALL_OK);
	/* A broken ring: NEEDS_RESET. */
	fg_w16(&t->gm, t->ctrl.avail + 2, (uint16_t)(t->ctrl.avail_idx + QSIZE + 1));
	notify(t, 2);
	assert_true(dev_status(t) & VIRTIO_STATUS_NEEDS_RESET);
}

/* ---- multi-queue ------------------------------------------------------------------ */

static void test_mq(void **state)
{
	struct t *t = *state;
	uint8_t f[300], got[512], b[2];
	uint16_t pairs;
	struct vnet_hdr g;

	assert_true(dev_features(t) & F(MQ));
	t->dev->ops->mmio_read(t->dev, VIRTIO_MMIO_CONFIG + 8, b, 2);
	assert_int_equal(mmio_get(b, 2), 2);
	/* Queue 1 is detached until the driver asks for two pairs. */
	assert_int_equal(queue_state[dev_fd[1]], 0);
	mw32(t->dev, VIRTIO_MMIO_QUEUE_SEL, 4);		/* control */
	assert_int_equal(mr32(t->dev, VIRTIO_MMIO_QUEUE_NUM_MAX),
			 VIRTIO_NET_QUEUE_SIZE);
	mw32(t->dev, VIRTIO_MMIO_QUEUE_SEL, 5);
	assert_int_equal(mr32(t->dev, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	drv_init(t, ALL);
	fill(f, sizeof(f), 20);
	tx_frame(t, &t->tx1, 0, &(struct vnet_hdr){ 0 }, f, sizeof(f));
	notify(t, 3);
	/* Pair 1 is not in use yet. */
	assert_int_equal(q_used_idx(t, &t->tx1), 0);
	pairs = 3;
	assert_int_equal(ctrl_cmd(t, VIRTIO_NET_CTRL_MQ, 0, &pairs, 2),
			 VIRTIO_NET_ERR);
	pairs = 0;
	assert_int_equal(ctrl_cmd(t, VIRTIO_NET_CTRL_MQ, 0, &pairs, 2),
			 VIRTIO_NET_ERR);
	pairs = 2;
	assert_int_equal(ctrl_cmd(t, VIRTIO_NET_CTRL_MQ, 0, &pairs, 2),
			 VIRTIO_NET_OK);
	assert_int_equal(queue_state[dev_fd[1]], 1);
	/* What the guest had queued goes out now, on the pair's TAP queue. */
	assert_int_equal(q_used_idx(t, &t->tx1), 1);
	assert_int_equal(peer_recv_hdr(t, 1, &g, got, sizeof(got)), sizeof(f));
	assert_memory_equal(got, f, sizeof(f));
	assert_int_equal(peer_recv_hdr(t, 0, &g, got, sizeof(got)), -1);
	/* Receive on pair 1. */
	post_rx_q(t, &t->rx1, RXBUF(0), RXBUF_LEN);
	notify(t, 2);
	frame_to(f, sizeof(f), MAC, 21);
	peer_send_hdr(t, 1, &(struct vnet_hdr){ 0 }, f, sizeof(f));
	pump(t);
	assert_int_equal(q_used_idx(t, &t->rx1), 1);
	assert_memory_equal(fg_ptr(&t->gm, RXBUF(0) + 12, sizeof(f)), f,
			    sizeof(f));
	/* Back to one pair, with the TAP refusing: ERR, nothing changed. */
	fake_queue_err = -EIO;
	pairs = 1;
	assert_int_equal(ctrl_cmd(t, VIRTIO_NET_CTRL_MQ, 0, &pairs, 2),
			 VIRTIO_NET_ERR);
	fake_queue_err = 0;
	assert_int_equal(queue_state[dev_fd[1]], 1);
	assert_int_equal(ctrl_cmd(t, VIRTIO_NET_CTRL_MQ, 0, &pairs, 2),
			 VIRTIO_NET_OK);
	assert_int_equal(queue_state[dev_fd[1]], 0);
	/* Reset: one pair. */
	pairs = 2;
	assert_int_equal(ctrl_cmd(t, VIRTIO_NET_CTRL_MQ, 0, &pairs, 2),
			 VIRTIO_NET_OK);
	mw32(t->dev, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(queue_state[dev_fd[1]], 0);
}

/* Without MQ negotiated, queue 2 is the control queue even on a
 * multi-queue device. */
static void test_mq_not_negotiated(void **state)
{
	struct t *t = *state;
	uint8_t off = 0;

	drv_init(t, ALL & ~F(MQ));
	assert_int_equal(ctrl_cmd(t, VIRTIO_NET_CTRL_RX,
				  VIRTIO_NET_CTRL_RX_PROMISC, &off, 1),
			 VIRTIO_NET_OK);
	assert_int_equal(dev_status(t), ALL_OK);
}

/* ---- I/O threads ------------------------------------------------------------------ */

static bool wait_used(struct t *t, struct vq *q, uint16_t want)
{
	for (unsigned int i = 0; i < 2000; i++) {
		if (q_used_idx(t, q) == want)
			return true;
		usleep(1000);
	}
	return false;
}

static void test_threads(void **state)
{
	struct t *t = *state;
	uint8_t f[1000], got[2048];
	int fds[VIRTIO_POLL_MAX];
	unsigned int sent = 0;

	assert_int_equal(virtio_backend_start(t->be, NULL, NULL), 0);
	t->started = true;
	/* The threads wait on the TAP now, not the main loop. */
	assert_int_equal(t->be->ops->poll_fds(t->be, fds), 0);
	assert_true(t->be->ops->kick_fd(t->be, 0) >= 0);
	assert_int_equal(t->be->ops->kick_fd(t->be, 0),
			 t->be->ops->kick_fd(t->be, 1));
	assert_int_equal(t->be->ops->kick_fd(t->be, 2), -1);
	drv_init(t, ALL);
	for (unsigned int i = 0; i < 8; i++)
		post_rx(t, RXBUF(i), RXBUF_LEN);
	notify(t, 0);
	/* Frames from the host arrive without any notify: the thread polls
	 * the TAP. */
	frame_to(f, sizeof(f), MAC, 30);
	for (unsigned int i = 0; i < 8; i++)
		peer_send(t, f, sizeof(f));
	assert_true(wait_used(t, &t->rx, 8));
	for (uint16_t i = 0; i < 8; i++)
		assert_memory_equal(fg_ptr(&t->gm, RXBUF(i) + 12, sizeof(f)),
				    f, sizeof(f));
	/* Transmit through the kick eventfd, as KVM's ioeventfd would. */
	for (unsigned int i = 0; i < 10; i++) {
		uint64_t one = 1;

		tx_frame(t, &t->tx, 0x2000 * i, &(struct vnet_hdr){ 0 }, f,
			 sizeof(f));
		assert_int_equal(write(t->be->ops->kick_fd(t->be, 1), &one,
				       8), 8);
	}
	assert_true(wait_used(t, &t->tx, 10));
	for (unsigned int i = 0; i < 200 && sent < 10; i++) {
		if (peer_recv(t, got, sizeof(got)) == sizeof(f))
			sent++;
		else
			usleep(1000);
	}
	assert_int_equal(sent, 10);
	/* A reset while the threads run, then the driver again. */
	mw32(t->dev, VIRTIO_MMIO_STATUS, 0);
	drv_init(t, BASIC);
	post_rx(t, RXBUF(0), RXBUF_LEN);
	notify(t, 0);
	peer_send(t, f, sizeof(f));
	assert_true(wait_used(t, &t->rx, 1));
	virtio_backend_stop(t->be);
	t->started = false;
}

/* ---- vhost-net (a fake kernel) ---------------------------------------------------- */

static struct {
	unsigned int calls;
	uint64_t features;
	struct vhost_memory_region mem;
	int kick[2], call[2], backend[2];
	struct vhost_vring_addr addr[2];
	unsigned int num[2], base[2];
	unsigned int stops;
} fk;

static int fake_vhost(int fd, unsigned long req, void *arg)
{
	(void)fd;
	fk.calls++;
	switch (req) {
	case VHOST_SET_FEATURES:
		fk.features = *(uint64_t *)arg;
		return 0;
	case VHOST_SET_MEM_TABLE: {
		struct vhost_memory *m = arg;

		assert_int_equal(m->nregions, 1);
		fk.mem = m->regions[0];
		return 0;
	}
	case VHOST_SET_VRING_KICK:
	case VHOST_SET_VRING_CALL:
	case VHOST_NET_SET_BACKEND: {
		struct vhost_vring_file *f = arg;

		assert_true(f->index < 2);
		if (req == VHOST_SET_VRING_KICK)
			fk.kick[f->index] = f->fd;
		else if (req == VHOST_SET_VRING_CALL)
			fk.call[f->index] = f->fd;
		else
			fk.backend[f->index] = f->fd;
		return 0;
	}
	case VHOST_SET_VRING_ADDR: {
		struct vhost_vring_addr *a = arg;

		fk.addr[a->index] = *a;
		return 0;
	}
	case VHOST_SET_VRING_NUM:
	case VHOST_SET_VRING_BASE:
	case VHOST_GET_VRING_BASE: {
		struct vhost_vring_state *s = arg;

		if (req == VHOST_SET_VRING_NUM)
			fk.num[s->index] = s->num;
		else if (req == VHOST_SET_VRING_BASE)
			fk.base[s->index] = s->num;
		else {
			s->num = 7 + s->index;
			fk.stops++;
		}
		return 0;
	}
	}
	fail_msg("unexpected vhost ioctl %#lx", req);
	return -EINVAL;
}

/* A snapshot of a device the (fake) kernel serves: the drain stops the
 * kernel, raises the interrupt of its last call before it returns, and
 * takes the rings' indices (GET_VRING_BASE: 7 and 8, with the used
 * indices the kernel wrote) into the record; resume hands the rings back
 * from there, and so does a fresh device loading the record. */
static void vhost_snapshot(struct t *t, struct vnet_opts *o, int tap)
{
	unsigned int stops = fk.stops;
	struct virtio_backend *be2;
	struct rivet_dev *dev2;
	uint64_t one = 1;
	struct snap_w w;
	int sv[2], vfd;

	fg_w16(&t->gm, t->rx.used + 2, 7);
	fg_w16(&t->gm, t->tx.used + 2, 8);
	ack_irq(t);
	assert_int_equal(write(fk.call[1], &one, 8), 8);
	virtio_backend_drain(t->be);
	assert_int_equal(ack_irq(t), VIRTIO_MMIO_INT_VRING);
	assert_int_equal(fk.stops, stops + 2);
	assert_int_equal(fk.backend[0], -1);
	assert_int_equal(fk.backend[1], -1);
	ts_snap_save(t->dev, &w);
	virtio_backend_resume(t->be);
	assert_int_equal(fk.base[0], 7);
	assert_int_equal(fk.base[1], 8);
	assert_int_equal(fk.backend[0], tap);
	assert_int_equal(fk.backend[1], tap);

	vfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	assert_true(vfd >= 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv),
			 0);
	o->vhost_fds = &vfd;
	assert_int_equal(vnet_create(sv, 1, o, &be2), 0);
	assert_int_equal(virtio_mmio_create(&t->gm, DEV_BASE, 0x1000,
					    (struct irq_line){ &t->chip, 5 },
					    be2, &dev2), 0);
	fk.base[0] = fk.base[1] = 0;
	fk.backend[0] = fk.backend[1] = -1;
	assert_int_equal(ts_snap_load(dev2, w.buf, w.len), 0);
	assert_int_equal(fk.backend[0], -1);	/* not before start */
	assert_int_equal(virtio_backend_start(be2, NULL, NULL), 0);
	assert_int_equal(fk.base[0], 7);
	assert_int_equal(fk.base[1], 8);
	assert_int_equal(fk.backend[0], sv[0]);
	assert_int_equal(fk.backend[1], sv[0]);
	dev2->ops->destroy(dev2);
	close(sv[1]);
	snap_w_free(&w);
	/* The first device's rings are the kernel's again. */
	fk.backend[0] = fk.backend[1] = tap;
}

/* The kernel serves the rings: rivet sets it up at start and DRIVER_OK,
 * turns its calls into the queue interrupt, passes notifies that did not
 * come by ioeventfd on, and takes the rings back at a reset. */
static void test_vhost(void **state)
{
	struct t *t = *state;
	int sv[2], vfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	struct vnet_opts o = { .set_offload = rec_offload,
			       .set_queue = rec_queue,
			       .vhost_ioctl = fake_vhost,
			       .offloads = HOST_ALL };
	uint64_t one = 1, f;
	unsigned int stops;

	memset(&fk, 0xff, sizeof(fk));
	fk.calls = fk.stops = 0;
	assert_true(vfd >= 0);
	o.vhost_fds = &vfd;
	memcpy(o.mac, MAC, 6);
	t->dev->ops->destroy(t->dev);
	close(t->peer[0]);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv),
			 0);
	t->peer[0] = sv[1];
	assert_int_equal(vnet_create(sv, 1, &o, &t->be), 0);
	assert_int_equal(virtio_mmio_create(&t->gm, DEV_BASE, 0x1000,
					    (struct irq_line){ &t->chip, 5 },
					    t->be, &t->dev), 0);
	/* No receive filtering in the kernel: not offered. */
	f = dev_features(t);
	assert_false(f & (F(CTRL_RX) | F(CTRL_VLAN)));
	assert_true(f & (F(CTRL_VQ) | F(MRG_RXBUF) | F(GUEST_TSO4)));
	assert_int_equal(virtio_backend_start(t->be, NULL, NULL), 0);
	t->started = true;
	assert_int_equal(fk.mem.guest_phys_addr, FG_BASE);
	assert_int_equal(fk.mem.memory_size, FG_SIZE);
	assert_ptr_equal((void *)(uintptr_t)fk.mem.userspace_addr,
			 fg_ptr(&t->gm, FG_BASE, 1));
	assert_int_equal(t->be->ops->kick_fd(t->be, 0), fk.kick[0]);
	assert_int_equal(t->be->ops->kick_fd(t->be, 1), fk.kick[1]);
	assert_int_equal(t->be->ops->kick_fd(t->be, 2), -1);
	assert_true(fk.call[0] >= 0 && fk.call[1] >= 0);
	assert_int_equal(fk.backend[0], -1);	/* not before DRIVER_OK */

	drv_init(t, ALL);
	assert_int_equal(fk.features, VIRTIO_BIT(VIRTIO_F_VERSION_1) |
				      VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) |
				      F(MRG_RXBUF));
	for (unsigned int i = 0; i < 2; i++) {
		struct vq *q = i ? &t->tx : &t->rx;

		assert_int_equal(fk.num[i], QSIZE);
		assert_int_equal(fk.base[i], 0);
		assert_ptr_equal((void *)(uintptr_t)fk.addr[i].desc_user_addr,
				 fg_ptr(&t->gm, q->desc, 1));
		assert_ptr_equal((void *)(uintptr_t)fk.addr[i].used_user_addr,
				 fg_ptr(&t->gm, q->used, 1));
		assert_int_equal(fk.backend[i], sv[0]);
	}
	assert_int_equal(last_offload, HOST_ALL);
	/* A notify by MMIO (no ioeventfd) reaches the kernel's kick. */
	/* DRIVER_OK passed on what the rings held already. */
	assert_true(readable(fk.kick[1]));
	assert_int_equal(read(fk.kick[1], &one, 8), 8);
	assert_false(readable(fk.kick[1]));
	mw32(t->dev, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	assert_true(readable(fk.kick[1]));
	/* The kernel's call raises the queue interrupt. */
	ack_irq(t);
	assert_int_equal(write(fk.call[0], &one, 8), 8);
	for (unsigned int i = 0; i < 2000 && !mr32(t->dev,
			VIRTIO_MMIO_INTERRUPT_STATUS); i++)
		usleep(1000);
	assert_int_equal(ack_irq(t), VIRTIO_MMIO_INT_VRING);
	/* The control queue stays rivet's. */
	assert_int_equal(ctrl_cmd(t, VIRTIO_NET_CTRL_MAC,
				  VIRTIO_NET_CTRL_MAC_ADDR_SET, MAC, 6),
			 VIRTIO_NET_OK);
	vhost_snapshot(t, &o, sv[0]);
	/* A reset takes the rings back; the driver again: from index 0. */
	stops = fk.stops;
	mw32(t->dev, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(fk.backend[0], -1);
	assert_int_equal(fk.backend[1], -1);
	assert_int_equal(fk.stops, stops + 2);
	drv_init(t, ALL);
	assert_int_equal(fk.base[0], 0);
	assert_int_equal(fk.backend[1], sv[0]);
	virtio_backend_stop(t->be);
	t->started = false;
	/* Stopping closed the vhost fd (the kernel lets go of the rings). */
	assert_int_equal(fcntl(vfd, F_GETFD), -1);
}

/* ---- virtio-pci --------------------------------------------------------------- */

static void pbar_w(struct pci_dev *pd, uint64_t off, unsigned int len,
		   uint64_t v)
{
	uint8_t b[8];

	mmio_put(b, len, v);
	pci_bar_access(pd, VIRTIO_PCI_BAR, off, b, len, true);
}

static uint64_t pbar_r(struct pci_dev *pd, uint64_t off, unsigned int len)
{
	uint8_t b[8];

	pci_bar_access(pd, VIRTIO_PCI_BAR, off, b, len, false);
	return mmio_get(b, len);
}

static void pci_queue(struct pci_dev *pd, uint16_t q, struct vq *vq)
{
	pbar_w(pd, VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
	pbar_w(pd, VIRTIO_PCI_COMMON_Q_SIZE, 2, QSIZE);
	pbar_w(pd, VIRTIO_PCI_COMMON_Q_DESC, 8, vq->desc);
	pbar_w(pd, VIRTIO_PCI_COMMON_Q_AVAIL, 8, vq->avail);
	pbar_w(pd, VIRTIO_PCI_COMMON_Q_USED, 8, vq->used);
	pbar_w(pd, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
}

/* Receive and transmit through virtio-pci (INTx/ISR), no host bridge:
 * the kicks go through the function's notify region. */
static void test_pci_roundtrip(void **state)
{
	struct t *t = *state;
	struct pci_dev *pd;
	uint8_t f[300], got[512];
	int sv[2];
	uint16_t h;
	struct vnet_opts o = { .set_offload = rec_offload,
			       .set_queue = rec_queue };

	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0,
				    sv), 0);
	close(t->peer[0]);
	t->peer[0] = sv[1];
	dev_fd[0] = sv[0];
	memcpy(o.mac, MAC, 6);
	t->dev->ops->destroy(t->dev);
	t->dev = NULL;
	assert_int_equal(vnet_create(sv, 1, &o, &t->be), 0);
	assert_int_equal(virtio_pci_create(&t->gm, t->be, &pd), 0);
	t->pd = pd;
	assert_int_equal(pci_cfg_read(pd, PCI_DEVICE_ID, 2),
			 VIRTIO_PCI_DEVICE_BASE + VIRTIO_ID_NET);
	pci_cfg_write(pd, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	q_reset(&t->rx, 0);
	q_reset(&t->tx, 1);
	memset(fg_ptr(&t->gm, FG_BASE, 0x6000), 0, 0x6000);
	pbar_w(pd, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE |
	       VIRTIO_STATUS_DRIVER);
	pbar_w(pd, VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	pbar_w(pd, VIRTIO_PCI_COMMON_GF, 4, F(MAC) | F(STATUS));
	pbar_w(pd, VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	pbar_w(pd, VIRTIO_PCI_COMMON_GF, 4, 1);		/* VERSION_1 */
	pbar_w(pd, VIRTIO_PCI_COMMON_STATUS, 1, ALL_OK &
	       ~VIRTIO_STATUS_DRIVER_OK);
	pci_queue(pd, 0, &t->rx);
	pci_queue(pd, 1, &t->tx);
	pbar_w(pd, VIRTIO_PCI_COMMON_STATUS, 1, ALL_OK);
	assert_int_equal(pbar_r(pd, VIRTIO_PCI_COMMON_STATUS, 1), ALL_OK);
	assert_int_equal(pbar_r(pd, VIRTIO_PCI_DEVICE_OFF + 5, 1), MAC[5]);

	/* Bus mastering off: nothing is served. */
	post_rx(t, RXBUF(0), RXBUF_LEN);
	pbar_w(pd, VIRTIO_PCI_NOTIFY_OFF, 2, 0);
	frame_to(f, sizeof(f), MAC, 50);
	peer_send(t, f, sizeof(f));
	pump(t);
	assert_int_equal(q_used_idx(t, &t->rx), 0);
	assert_true(readable(sv[0]));

	pci_cfg_write(pd, PCI_COMMAND, 2, PCI_COMMAND_MEMORY |
		      PCI_COMMAND_MASTER);
	pbar_w(pd, VIRTIO_PCI_NOTIFY_OFF + 4 * 0, 2, 0);
	pump(t);
	assert_int_equal(q_used_idx(t, &t->rx), 1);
	check_rx(t, 0, RXBUF(0), f, sizeof(f));
	assert_int_equal(pbar_r(pd, VIRTIO_PCI_ISR_OFF, 1),
			 VIRTIO_PCI_ISR_QUEUE);

	memset(fg_ptr(&t->gm, TXBUF, 12), 0, 12);
	memcpy(fg_ptr(&t->gm, TXBUF + 12, sizeof(f)), f, sizeof(f));
	h = q_chain(t, &t->tx, (struct fseg[]){ { TXBUF, 12 + sizeof(f),
						   false } }, 1);
	q_publish(t, &t->tx, h);
	pbar_w(pd, VIRTIO_PCI_NOTIFY_OFF + 4 * 1, 2, 1);
	pump(t);
	assert_int_equal(peer_recv(t, got, sizeof(got)), sizeof(f));
	assert_memory_equal(got, f, sizeof(f));
	assert_int_equal(pbar_r(pd, VIRTIO_PCI_ISR_OFF, 1),
			 VIRTIO_PCI_ISR_QUEUE);
}

/* vhost on virtio-pci: each ring's call eventfd is bound to its MSI-X
 * message in KVM (irqfd) exactly while the message may go out. */
static struct {
	unsigned int slots_asked;
	struct { uint64_t addr; uint32_t data; int fd; } b[8];
	unsigned int binds;
} ir;

static int ir_send(void *ctx, uint64_t addr, uint32_t data)
{
	(void)ctx;
	(void)addr;
	(void)data;
	return 0;
}

static int ir_slots(void *ctx, unsigned int n)
{
	(void)ctx;
	ir.slots_asked = n;
	return 2;	/* slots 2, 3, ... */
}

static int ir_bind(void *ctx, unsigned int slot, uint64_t addr,
		   uint32_t data, int fd)
{
	(void)ctx;
	assert_true(slot >= 2 && slot < 2 + 8);
	ir.b[slot - 2].addr = addr;
	ir.b[slot - 2].data = data;
	ir.b[slot - 2].fd = fd;
	ir.binds++;
	return 0;
}

static void msix_entry(struct pci_dev *pd, unsigned int v, uint32_t data,
		       bool masked)
{
	uint8_t b[4];

	mmio_put(b, 4, 0x28000000 + 0x1000 * v);
	pci_bar_access(pd, VIRTIO_PCI_MSIX_BAR, VIRTIO_PCI_MSIX_TABLE + 16 * v,
		       b, 4, true);
	mmio_put(b, 4, 0);
	pci_bar_access(pd, VIRTIO_PCI_MSIX_BAR,
		       VIRTIO_PCI_MSIX_TABLE + 16 * v + 4, b, 4, true);
	mmio_put(b, 4, data);
	pci_bar_access(pd, VIRTIO_PCI_MSIX_BAR,
		       VIRTIO_PCI_MSIX_TABLE + 16 * v + 8, b, 4, true);
	mmio_put(b, 4, masked ? PCI_MSIX_ENTRY_CTRL_MASKBIT : 0);
	pci_bar_access(pd, VIRTIO_PCI_MSIX_BAR,
		       VIRTIO_PCI_MSIX_TABLE + 16 * v + 12, b, 4, true);
}

static const struct msi_chip ir_chip = { .send = ir_send,
					 .irqfd_slots = ir_slots,
					 .irqfd = ir_bind };

/* Bus mastering, vectors 0-3 unmasked with data 0x40 + v, MSI-X on. */
static void msix_on(struct pci_dev *pd)
{
	pci_cfg_write(pd, PCI_COMMAND, 2, PCI_COMMAND_MEMORY |
		      PCI_COMMAND_MASTER);
	for (unsigned int v = 0; v < 4; v++)
		msix_entry(pd, v, 0x40 + v, false);
	pci_cfg_write(pd, pd->msix.cap + PCI_MSIX_FLAGS, 2,
		      PCI_MSIX_FLAGS_ENABLE);
}

/* t's device replaced by a vhost-net one on virtio-pci, with ir_chip. */
static struct pci_dev *vhost_pci(struct t *t)
{
	int sv[2], vfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	struct vnet_opts o = { .set_offload = rec_offload,
			       .set_queue = rec_queue,
			       .vhost_ioctl = fake_vhost };
	struct pci_dev *pd;

	memset(&ir, 0, sizeof(ir));
	for (unsigned int i = 0; i < 8; i++)
		ir.b[i].fd = -1;
	memset(&fk, 0xff, sizeof(fk));
	fk.calls = fk.stops = 0;
	o.vhost_fds = &vfd;
	memcpy(o.mac, MAC, 6);
	t->dev->ops->destroy(t->dev);
	t->dev = NULL;
	close(t->peer[0]);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv),
			 0);
	t->peer[0] = sv[1];
	assert_int_equal(vnet_create(sv, 1, &o, &t->be), 0);
	assert_int_equal(virtio_pci_create(&t->gm, t->be, &pd), 0);
	t->pd = pd;
	pd->msi = &ir_chip;
	return pd;
}

static void test_vhost_pci_irqfd(void **state)
{
	struct t *t = *state;
	struct pci_dev *pd = vhost_pci(t);
	int call0, call1;

	assert_int_equal(virtio_backend_start(t->be, NULL, NULL), 0);
	t->started = true;
	call0 = t->be->ops->call_fd(t->be, 0);
	call1 = t->be->ops->call_fd(t->be, 1);
	assert_true(call0 >= 0 && call1 >= 0 && call0 != call1);
	assert_int_equal(t->be->ops->call_fd(t->be, 2), -1);	/* control */

	msix_on(pd);
	q_reset(&t->rx, 0);
	q_reset(&t->tx, 1);
	pbar_w(pd, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE |
	       VIRTIO_STATUS_DRIVER);
	pbar_w(pd, VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	pbar_w(pd, VIRTIO_PCI_COMMON_GF, 4, 1);		/* VERSION_1 */
	pbar_w(pd, VIRTIO_PCI_COMMON_STATUS, 1, ALL_OK &
	       ~VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(ir.binds, 0);
	pci_queue(pd, 0, &t->rx);
	pbar_w(pd, VIRTIO_PCI_COMMON_Q_MSIX, 2, 1);
	pci_queue(pd, 1, &t->tx);
	pbar_w(pd, VIRTIO_PCI_COMMON_Q_MSIX, 2, 2);
	assert_int_equal(ir.slots_asked, 3);
	assert_int_equal(ir.b[0].fd, call0);
	assert_int_equal(ir.b[0].data, 0x41);
	assert_int_equal(ir.b[0].addr, 0x28001000);
	assert_int_equal(ir.b[1].fd, call1);
	assert_int_equal(ir.b[1].data, 0x42);
	assert_int_equal(ir.b[2].fd, -1);
	/* Masked: unbound (the call thread sets the pending bit instead);
	 * unmasked: bound again; a new message: rebound to it. */
	msix_entry(pd, 1, 0x41, true);
	assert_int_equal(ir.b[0].fd, -1);
	assert_int_equal(ir.b[1].fd, call1);
	msix_entry(pd, 1, 0x51, false);
	assert_int_equal(ir.b[0].fd, call0);
	assert_int_equal(ir.b[0].data, 0x51);
	/* Bus mastering off, the function masked: nothing may go out. */
	pci_cfg_write(pd, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_int_equal(ir.b[0].fd, -1);
	assert_int_equal(ir.b[1].fd, -1);
	pci_cfg_write(pd, PCI_COMMAND, 2, PCI_COMMAND_MEMORY |
		      PCI_COMMAND_MASTER);
	assert_int_equal(ir.b[1].fd, call1);
	pci_cfg_write(pd, pd->msix.cap + PCI_MSIX_FLAGS, 2,
		      PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	assert_int_equal(ir.b[1].fd, -1);
	pci_cfg_write(pd, pd->msix.cap + PCI_MSIX_FLAGS, 2,
		      PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(ir.b[1].fd, call1);
	/* A reset drops the queues' vectors: unbound. */
	pbar_w(pd, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	assert_int_equal(ir.b[0].fd, -1);
	assert_int_equal(ir.b[1].fd, -1);
	virtio_backend_stop(t->be);
	t->started = false;
}

static int no_iev(void *ctx, uint64_t addr, unsigned int len,
		  uint64_t datamatch, int fd, bool on)
{
	(void)ctx;
	(void)addr;
	(void)len;
	(void)datamatch;
	(void)fd;
	(void)on;
	return -ENOSYS;
}

/* A restore's order: MSI-X and the queues' vectors are loaded before the
 * backend starts, and no MSI-X change follows: the start binds them. */
static void test_vhost_pci_irqfd_restored(void **state)
{
	struct t *t = *state;
	struct pci_dev *pd = vhost_pci(t);
	const struct virtio_ioeventfd iev = { no_iev, NULL };

	msix_on(pd);
	pbar_w(pd, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE |
	       VIRTIO_STATUS_DRIVER);
	pci_queue(pd, 0, &t->rx);
	pbar_w(pd, VIRTIO_PCI_COMMON_Q_MSIX, 2, 1);
	pci_queue(pd, 1, &t->tx);
	pbar_w(pd, VIRTIO_PCI_COMMON_Q_MSIX, 2, 2);
	assert_int_equal(ir.binds, 0);
	assert_int_equal(virtio_backend_start(t->be, NULL, &iev), 0);
	t->started = true;
	assert_int_equal(ir.b[0].fd, t->be->ops->call_fd(t->be, 0));
	assert_int_equal(ir.b[0].data, 0x41);
	assert_int_equal(ir.b[1].fd, t->be->ops->call_fd(t->be, 1));
	assert_int_equal(ir.b[1].data, 0x42);
	assert_int_equal(ir.b[2].fd, -1);
	virtio_backend_stop(t->be);
	t->started = false;
}

/* ---- creation, TAP ------------------------------------------------------------- */

static void test_create_errors(void **state)
{
	static const uint8_t mcast[6] = { 0x01, 0, 0x5e, 0, 0, 1 };
	struct vnet_opts o = { .set_offload = rec_offload,
			       .set_queue = rec_queue };
	struct virtio_backend *be;
	int sv[2], bad = -1;

	(void)state;
	memcpy(o.mac, MAC, 6);
	assert_int_equal(vnet_create(&bad, 1, &o, &be), -EINVAL);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	assert_int_equal(vnet_create(sv, 0, &o, &be), -EINVAL);
	assert_int_equal(vnet_create(sv, VIRTIO_NET_MAX_PAIRS + 1, &o, &be),
			 -EINVAL);
	/* A count out of range: the fds are not touched. */
	assert_true(fcntl(sv[0], F_GETFD) >= 0);
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	memcpy(o.mac, mcast, 6);
	assert_int_equal(vnet_create(sv, 1, &o, &be), -EINVAL);
	/* The fd was taken over and closed. */
	assert_int_equal(fcntl(sv[0], F_GETFD), -1);
	close(sv[1]);
	/* Blocking fds are made non-blocking. */
	memcpy(o.mac, MAC, 6);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	assert_int_equal(vnet_create(sv, 1, &o, &be), 0);
	assert_true(fcntl(sv[0], F_GETFL) & O_NONBLOCK);
	be->ops->destroy(be);
	assert_int_equal(fcntl(sv[0], F_GETFD), -1);
	close(sv[1]);
}

static void test_tap_open(void **state)
{
	char name[32];
	int fd[2] = { -1, -1 }, fd2 = -1, err;
	unsigned int off;

	(void)state;
	assert_int_equal(tap_open("bad/name", 1, fd, &off), -EINVAL);
	assert_int_equal(tap_open("tap%d", 1, fd, &off), -EINVAL);
	assert_int_equal(tap_open("", 1, fd, &off), -EINVAL);
	assert_int_equal(tap_open("0123456789abcdef", 1, fd, &off), -EINVAL);
	assert_int_equal(tap_open("ok", 0, fd, &off), -EINVAL);
	assert_int_equal(tap_open("ok", TAP_MAX_QUEUES + 1, fd, &off),
			 -EINVAL);
	/* A real TAP where we may create one (root with /dev/net/tun). */
	snprintf(name, sizeof(name), "rvt%d", (int)getpid() % 100000);
	err = tap_open(name, 1, fd, &off);
	if (err) {
		print_message("# skipped: cannot create a TAP here (%s)\n",
			      strerror(-err));
		return;
	}
	assert_true(fcntl(fd[0], F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd[0], F_GETFD) & FD_CLOEXEC);
	assert_true(off & TAP_F_CSUM);
	assert_int_equal(tap_set_offload(fd[0], TAP_F_CSUM | TAP_F_TSO4), 0);
	/* A second attach to a single-queue TAP is refused. */
	assert_int_equal(tap_open(name, 1, &fd2, &off), -EBUSY);
	uint8_t b[64];

	assert_int_equal(read(fd[0], b, sizeof(b)), -1);
	close(fd[0]);
	/* Multi-queue: two queues, detach and attach one. */
	snprintf(name, sizeof(name), "rvq%d", (int)getpid() % 100000);
	assert_int_equal(tap_open(name, 2, fd, &off), 0);
	assert_int_equal(tap_set_queue(fd[1], false), 0);
	assert_int_equal(tap_set_queue(fd[1], true), 0);
	close(fd[0]);
	close(fd[1]);
}

/* ---- snapshots ------------------------------------------------------------------ */

/* A second device on the same RAM, the driver's rings as @t has them. */
static struct t *twin(struct t *t)
{
	struct t *t2 = calloc(1, sizeof(*t2));

	assert_non_null(t2);
	t2->gm = t->gm;
	for (unsigned int i = 0; i < MAX_PEERS; i++)
		t2->peer[i] = -1;
	make_dev(t2, t->npairs, HOST_ALL);
	t2->rx = t->rx;
	t2->tx = t->tx;
	t2->ctrl = t->ctrl;
	t2->rx1 = t->rx1;
	t2->tx1 = t->tx1;
	return t2;
}

static void twin_free(struct t *t2)
{
	t2->dev->ops->destroy(t2->dev);
	for (unsigned int i = 0; i < MAX_PEERS; i++)
		if (t2->peer[i] >= 0)
			close(t2->peer[i]);
	free(t2);
}

/* The backend's record at the end of @w: offset of its first byte. */
#define NET_REC(w, entries) ((w)->len - (44 + 6 * (entries) + 512))

/* What the control queue set survives a snapshot: filter, MAC, VLANs,
 * queue pairs (the TAP's queues attached again), offloads (the TAP told
 * again); drain sends what was queued for transmit. */
static void test_snapshot(void **state)
{
	struct t *t = *state, *t2;
	static const uint8_t other[6] = { 0x52, 0x54, 0, 1, 2, 3 };
	static const uint8_t stranger[6] = { 0x52, 0x54, 0, 9, 9, 9 };
	static const uint8_t mc1[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };
	static const uint8_t newmac[6] = { 0x02, 0, 0, 0, 0, 0x42 };
	const struct vnet_hdr h = { 0 };
	uint8_t off = 0, table[4 + 6 + 4 + 6], b[8], f[60], got[100];
	uint64_t csum = F(GUEST_CSUM);
	uint16_t vid = 5, two = 2;
	struct snap_w w, w2;
	size_t base;
	uint8_t *p;

	drv_init(t, ALL);
	assert_int_equal(ctrl_cmd(t, VIRTIO_NET_CTRL_RX,
				  VIRTIO_NET_CTRL_RX_PROMISC, &off, 1),
			 VIRTIO_NET_OK);
	set_tables(t, table, other, mc1);
	assert_int_equal(ctrl_cmd(t, VIRTIO_NET_CTRL_VLAN,
				  VIRTIO_NET_CTRL_VLAN_ADD, &vid, 2),
			 VIRTIO_NET_OK);
	assert_int_equal(ctrl_cmd(t, VIRTIO_NET_CTRL_MAC,
				  VIRTIO_NET_CTRL_MAC_ADDR_SET, newmac, 6),
			 VIRTIO_NET_OK);
	assert_int_equal(ctrl_cmd(t, VIRTIO_NET_CTRL_MQ,
				  VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &two, 2),
			 VIRTIO_NET_OK);
	assert_int_equal(ctrl_cmd(t, VIRTIO_NET_CTRL_GUEST_OFFLOADS,
				  VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET, &csum, 8),
			 VIRTIO_NET_OK);
	for (unsigned int i = 0; i < 4; i++)
		post_rx(t, RXBUF(i), RXBUF_LEN);
	/* Queued for transmit, never notified: drain sends it. */
	frame_to(f, sizeof(f), BCAST, 7);
	tx_frame(t, &t->tx, 0, &h, f, sizeof(f));
	virtio_backend_drain(t->be);
	assert_int_equal(q_used_idx(t, &t->tx), 1);
	assert_int_equal(peer_recv(t, got, sizeof(got)), (ssize_t)sizeof(f));
	assert_memory_equal(got, f, sizeof(f));
	ts_snap_save(t->dev, &w);

	t2 = twin(t);
	assert_int_equal(last_offload, 0xdead);
	assert_int_equal(ts_snap_load(t2->dev, w.buf, w.len), 0);
	ts_snap_save(t2->dev, &w2);
	assert_int_equal(w2.len, w.len);
	assert_memory_equal(w2.buf, w.buf, w.len);
	snap_w_free(&w2);
	assert_int_equal(last_offload, TAP_F_CSUM);
	assert_int_equal(last_queue_fd, dev_fd[1]);
	assert_true(last_queue_on);
	for (unsigned int i = 0; i < 6; i++)
		t2->dev->ops->mmio_read(t2->dev, VIRTIO_MMIO_CONFIG + i,
					b + i, 1);
	assert_memory_equal(b, newmac, 6);
	/* The filter is the one the driver set: in the table, or not. */
	expect_used(t2, other, 1, 1);
	expect_used(t2, stranger, 2, 1);
	expect_used(t2, newmac, 3, 2);
	twin_free(t2);

	/* Values the control queue never lets a driver set. */
	base = NET_REC(&w, 2);
	p = w.buf;
	{
		static const struct { size_t off; uint64_t v; unsigned int n; }
		bad[] = {
			{ 0, 1, 4 },		/* another number of pairs */
			{ 4, 2, 1 },		/* negotiated: not a bool */
			{ 5, 0, 8 },		/* features not the driver's */
			{ 13, 1ULL << VIRTIO_NET_F_CSUM, 8 },	/* offloads */
			{ 21, 3, 4 },		/* pairs beyond the TAP's */
			{ 21, 0, 4 },
			{ 29, 0, 1 },		/* VLAN filter as negotiated */
			{ 30, 0x01, 1 },	/* multicast MAC */
			{ 36, 65, 4 },		/* unicast table too long */
			{ 44 - 8 + 0, 2, 4 },	/* table past the record */
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			uint8_t save[8];

			memcpy(save, p + base + bad[i].off, bad[i].n);
			for (unsigned int k = 0; k < bad[i].n; k++)
				p[base + bad[i].off + k] =
					(uint8_t)(bad[i].v >> (8 * k));
			t2 = twin(t);
			assert_int_equal(ts_snap_load(t2->dev, p, w.len), -EBADMSG);
			assert_int_equal(mr32(t2->dev, VIRTIO_MMIO_STATUS), 0);
			twin_free(t2);
			memcpy(p + base + bad[i].off, save, bad[i].n);
		}
	}
	/* Truncated anywhere. */
	for (size_t n = 0; n < w.len; n += 7) {
		t2 = twin(t);
		assert_int_equal(ts_snap_load(t2->dev, w.buf, n), -EBADMSG);
		twin_free(t2);
	}
	snap_w_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define TMQ(f) cmocka_unit_test_setup_teardown(f, setup_mq, teardown)
		T(test_identity_config),
		T(test_tx_byte_exact),
		T(test_tx_maximum_frame),
		T(test_tx_offloads),
		T(test_tx_hostile),
		T(test_tx_bad_headers),
		T(test_tx_host_refuses),
		T(test_tx_avail_ahead),
		T(test_rx_basic),
		T(test_rx_split_buffers),
		T(test_rx_mergeable),
		T(test_rx_no_buffers_waits),
		T(test_quiesce),
		T(test_rx_budget),
		T(test_rx_too_small_dropped),
		T(test_rx_readonly_buffers),
		T(test_rx_bad_from_host),
		T(test_rx_offloads),
		T(test_rx_device_states),
		T(test_rx_tap_gone),
		T(test_ctrl_filter),
		T(test_ctrl_hostile),
		TMQ(test_mq),
		TMQ(test_mq_not_negotiated),
		TMQ(test_snapshot),
		T(test_threads),
		T(test_vhost),
		T(test_pci_roundtrip),
		T(test_vhost_pci_irqfd),
		T(test_vhost_pci_irqfd_restored),
		cmocka_unit_test(test_create_errors),
		cmocka_unit_test(test_tap_open),
	};

	log_set_level(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
