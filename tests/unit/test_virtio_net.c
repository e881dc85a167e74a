// SPDX-License-Identifier: MIT
/* virtio-net over virtio-mmio (and once over virtio-pci), with a datagram
 * socketpair standing in for the TAP: transmitted frames come out byte
 * for byte, received frames land in the guest's buffers behind a correct
 * header, frames wait (not dropped) while the guest has no buffers, and
 * the hostile cases: buffers too small, read-only receive buffers,
 * writable transmit descriptors, short headers, oversized frames, avail
 * index ahead, receive while the device is not (or no longer) running.
 * Also the --net option parser, the default MAC and the TAP opener. */
#include "tests/support/virtio_fake.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "devices/pci.h"
#include "devices/virtio_net.h"
#include "devices/virtio_pci.h"

#define DEV_BASE	0x10003000ULL
#define QSIZE		16
/* Ring areas of the two queues, and data. */
#define RX_DESC		(FG_BASE + 0x0000)
#define RX_AVAIL	(FG_BASE + 0x1000)
#define RX_USED		(FG_BASE + 0x2000)
#define TX_DESC		(FG_BASE + 0x3000)
#define TX_AVAIL	(FG_BASE + 0x4000)
#define TX_USED		(FG_BASE + 0x5000)
#define TABLE		(FG_BASE + 0x6000)
#define RXBUF(i)	(FG_DATA + 0x800ULL * (i))		/* 2 KiB each */
#define TXBUF		(FG_BASE + 0x40000)
#define BIGBUF		(FG_BASE + 0x80000)			/* 128 KiB */
#define RXBUF_LEN	2048

#define ALL_OK		(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
			 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK)

static const uint8_t MAC[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };

struct vq {
	uint64_t desc, avail, used;
	uint16_t avail_idx;
	uint16_t next;
	uint16_t used_seen;
};

struct t {
	struct gmem gm;
	struct fake_irq irq;
	struct irq_chip chip;
	struct rivet_dev *dev;
	struct pci_dev *pd;
	struct virtio_backend *be;
	int peer;		/* the "network" side of the socketpair */
	struct vq rx, tx;
};

/* ---- set-up ------------------------------------------------------------------ */

static void make_dev(struct t *t, int type)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv), 0);
	t->peer = sv[1];
	assert_int_equal(vnet_create(sv[0], MAC, &t->be), 0);
	t->chip = (struct irq_chip){ .set_level = fake_irq_set,
				     .ctx = &t->irq };
	assert_int_equal(virtio_mmio_create(&t->gm, DEV_BASE, 0x1000,
					    (struct irq_line){ &t->chip, 5 },
					    t->be, &t->dev), 0);
}

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	assert_int_equal(gmem_alloc(&t->gm, FG_BASE, FG_SIZE), 0);
	t->peer = -1;
	make_dev(t, SOCK_DGRAM);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;

	if (t->dev)
		t->dev->ops->destroy(t->dev);
	if (t->pd)
		pci_dev_destroy(t->pd);
	if (t->peer >= 0)
		close(t->peer);
	gmem_free(&t->gm);
	free(t);
	return 0;
}

/* ---- a driver for two queues -------------------------------------------------- */

static void q_reset(struct vq *q, uint64_t desc, uint64_t avail,
		    uint64_t used)
{
	*q = (struct vq){ .desc = desc, .avail = avail, .used = used };
}

static void q_setup(struct t *t, uint32_t idx, struct vq *q)
{
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

/* Negotiate everything offered, set up both queues, DRIVER_OK. */
static void drv_init(struct t *t)
{
	memset(fg_ptr(&t->gm, FG_BASE, 0x6000), 0, 0x6000);
	q_reset(&t->rx, RX_DESC, RX_AVAIL, RX_USED);
	q_reset(&t->tx, TX_DESC, TX_AVAIL, TX_USED);
	assert_true(fdrv_negotiate(t->dev, dev_features(t)) &
		    VIRTIO_STATUS_FEATURES_OK);
	q_setup(t, VIRTIO_NET_RXQ, &t->rx);
	q_setup(t, VIRTIO_NET_TXQ, &t->tx);
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

static void notify(struct t *t, uint32_t q)
{
	mw32(t->dev, VIRTIO_MMIO_QUEUE_NOTIFY, q);
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

/* Post one single-descriptor receive buffer of @len bytes at @gpa. */
static uint16_t post_rx(struct t *t, uint64_t gpa, uint32_t len)
{
	struct fseg s = { gpa, len, true };
	uint16_t head = q_chain(t, &t->rx, &s, 1);

	memset(fg_ptr(&t->gm, gpa, len), 0xee, len);
	q_publish(t, &t->rx, head);
	return head;
}

static void peer_send(struct t *t, const void *p, size_t len)
{
	assert_int_equal(send(t->peer, p, len, 0), (ssize_t)len);
}

static ssize_t peer_recv(struct t *t, void *p, size_t len)
{
	return recv(t->peer, p, len, MSG_DONTWAIT);
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* What the VM's main loop does once, through the backend's generic hooks:
 * poll what poll_fds() names, then poll_ready().  The wake-up eventfd is
 * always named, the TAP only while receive is wanted. */
static void main_loop_once(struct t *t)
{
	int fds[VIRTIO_POLL_MAX];
	unsigned int n = t->be->ops->poll_fds(t->be, fds);
	bool ready = false;

	assert_int_equal(n, 2);
	assert_int_equal(fds[0], vnet_wake_fd(t->be));
	assert_int_equal(fds[1],
			 vnet_rx_wanted(t->be) ? vnet_rx_fd(t->be) : -1);
	for (unsigned int i = 0; i < n; i++)
		ready |= fds[i] >= 0 && readable(fds[i]);
	if (ready)
		t->be->ops->poll_ready(t->be);
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

/* ---- identity and config space ------------------------------------------------ */

static void test_identity_config(void **state)
{
	struct t *t = *state;
	uint64_t f = dev_features(t);
	uint8_t b[8];

	assert_int_equal(mr32(t->dev, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_NET);
	assert_true(f & VIRTIO_BIT(VIRTIO_F_VERSION_1));
	assert_true(f & VIRTIO_BIT(VIRTIO_NET_F_MAC));
	assert_true(f & VIRTIO_BIT(VIRTIO_NET_F_STATUS));
	/* No offloads, no merged buffers, no control queue. */
	assert_int_equal(f & 0x7fffULL, VIRTIO_BIT(VIRTIO_NET_F_MAC));
	assert_false(f & VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF));
	for (unsigned int i = 0; i < 6; i++) {
		t->dev->ops->mmio_read(t->dev, VIRTIO_MMIO_CONFIG + i, b, 1);
		assert_int_equal(b[0], MAC[i]);
	}
	t->dev->ops->mmio_read(t->dev, VIRTIO_MMIO_CONFIG + 6, b, 2);
	assert_int_equal(mmio_get(b, 2), VIRTIO_NET_S_LINK_UP);
	t->dev->ops->mmio_read(t->dev, VIRTIO_MMIO_CONFIG, b, 8);
	assert_memory_equal(b, MAC, 6);
	/* Past the 8 bytes: refused (reads 0), logged. */
	unsigned long logs = log_count();

	memset(b, 0x55, sizeof(b));
	t->dev->ops->mmio_read(t->dev, VIRTIO_MMIO_CONFIG + 8, b, 2);
	assert_int_equal(mmio_get(b, 2), 0);
	assert_true(log_count() > logs);
	/* The config is read-only (VERSION_1: no MAC writes). */
	mmio_put(b, 1, 0x99);
	t->dev->ops->mmio_write(t->dev, VIRTIO_MMIO_CONFIG, b, 1);
	t->dev->ops->mmio_read(t->dev, VIRTIO_MMIO_CONFIG, b, 1);
	assert_int_equal(b[0], MAC[0]);
	/* Two queues; a third does not exist. */
	mw32(t->dev, VIRTIO_MMIO_QUEUE_SEL, 2);
	assert_int_equal(mr32(t->dev, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
}

/* ---- transmit ------------------------------------------------------------------ */

static void test_tx_byte_exact(void **state)
{
	struct t *t = *state;
	uint8_t f1[60], f2[1514], f3[300], got[2048];
	uint16_t h1, h2, h3;

	drv_init(t);
	fill(f1, sizeof(f1), 1);
	fill(f2, sizeof(f2), 2);
	fill(f3, sizeof(f3), 3);
	/* Header and frame in one descriptor (Linux's any_header_sg). */
	memset(fg_ptr(&t->gm, TXBUF, 12), 0, 12);
	memcpy(fg_ptr(&t->gm, TXBUF + 12, sizeof(f1)), f1, sizeof(f1));
	h1 = q_chain(t, &t->tx, (struct fseg[]){ { TXBUF, 12 + sizeof(f1),
						    false } }, 1);
	/* Header apart, frame split in three. */
	memcpy(fg_ptr(&t->gm, TXBUF + 0x1000, 500), f2, 500);
	memcpy(fg_ptr(&t->gm, TXBUF + 0x2000, 14), f2 + 500, 14);
	memcpy(fg_ptr(&t->gm, TXBUF + 0x3000, 1000), f2 + 514, 1000);
	h2 = q_chain(t, &t->tx, (struct fseg[]){
			{ TXBUF + 0x800, 12, false },
			{ TXBUF + 0x1000, 500, false },
			{ TXBUF + 0x2000, 14, false },
			{ TXBUF + 0x3000, 1000, false } }, 4);
	/* Indirect, header straddling two descriptors. */
	memcpy(fg_ptr(&t->gm, TXBUF + 0x5000 + 4, sizeof(f3)), f3,
	       sizeof(f3));
	h3 = q_chain_indirect(t, &t->tx, (struct fseg[]){
			{ TXBUF + 0x4000, 8, false },
			{ TXBUF + 0x5000, 4 + sizeof(f3), false } }, 2);
	q_publish(t, &t->tx, h1);
	q_publish(t, &t->tx, h2);
	q_publish(t, &t->tx, h3);
	notify(t, VIRTIO_NET_TXQ);
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

	/* A socket that takes a 64 KiB datagram. */
	int sz = 1 << 20;

	assert_int_equal(setsockopt(t->peer, SOL_SOCKET, SO_RCVBUF, &sz,
				    sizeof(sz)), 0);
	got = malloc(VIRTIO_NET_MAX_FRAME + 1);
	assert_non_null(frame);
	assert_non_null(got);
	drv_init(t);
	fill(frame, VIRTIO_NET_MAX_FRAME, 9);
	memcpy(fg_ptr(&t->gm, BIGBUF + 12, VIRTIO_NET_MAX_FRAME), frame,
	       VIRTIO_NET_MAX_FRAME);
	h = q_chain(t, &t->tx, (struct fseg[]){
			{ BIGBUF, 12 + VIRTIO_NET_MAX_FRAME, false } }, 1);
	q_publish(t, &t->tx, h);
	notify(t, VIRTIO_NET_TXQ);
	assert_int_equal(q_used_idx(t, &t->tx), 1);
	assert_int_equal(peer_recv(t, got, VIRTIO_NET_MAX_FRAME + 1),
			 VIRTIO_NET_MAX_FRAME);
	assert_memory_equal(got, frame, VIRTIO_NET_MAX_FRAME);
	free(frame);
	free(got);
}

static void test_tx_hostile(void **state)
{
	struct t *t = *state;
	uint8_t f[100], got[256];
	uint16_t h;
	unsigned long logs = log_count();

	drv_init(t);
	fill(f, sizeof(f), 4);
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
	h = q_chain(t, &t->tx, (struct fseg[]){
			{ BIGBUF, 0x10000, false },
			{ BIGBUF + 0x10000, 12 + VIRTIO_NET_MAX_FRAME + 1 -
					    0x10000, false } }, 2);
	q_publish(t, &t->tx, h);
	/* And a good one after all that. */
	h = q_chain(t, &t->tx, (struct fseg[]){ { TXBUF, 12 + sizeof(f),
						   false } }, 1);
	q_publish(t, &t->tx, h);
	notify(t, VIRTIO_NET_TXQ);
	assert_int_equal(q_used_idx(t, &t->tx), 6);
	for (uint16_t i = 0; i < 6; i++)
		assert_int_equal(q_used_len(t, &t->tx, i), 0);
	assert_int_equal(peer_recv(t, got, sizeof(got)), sizeof(f));
	assert_memory_equal(got, f, sizeof(f));
	assert_int_equal(peer_recv(t, got, sizeof(got)), -1);
	assert_int_equal(stats(t).tx_bad, 5);
	assert_int_equal(stats(t).tx_packets, 1);
	assert_true(log_count() >= logs + 5);
	/* Not a ring violation: the device keeps running. */
	assert_int_equal(dev_status(t), ALL_OK);
}

static void test_tx_host_refuses(void **state)
{
	struct t *t = *state;
	uint16_t h;

	drv_init(t);
	close(t->peer);		/* the "TAP" goes away: ECONNREFUSED */
	t->peer = -1;
	memset(fg_ptr(&t->gm, TXBUF, 112), 0, 112);
	h = q_chain(t, &t->tx, (struct fseg[]){ { TXBUF, 112, false } }, 1);
	q_publish(t, &t->tx, h);
	notify(t, VIRTIO_NET_TXQ);
	assert_int_equal(q_used_idx(t, &t->tx), 1);
	assert_int_equal(stats(t).tx_dropped, 1);
	assert_int_equal(stats(t).tx_packets, 0);
	assert_int_equal(dev_status(t), ALL_OK);
}

static void test_tx_avail_ahead(void **state)
{
	struct t *t = *state;

	drv_init(t);
	fg_w16(&t->gm, t->tx.avail + 2, QSIZE + 3);
	notify(t, VIRTIO_NET_TXQ);
	assert_true(dev_status(t) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(q_used_idx(t, &t->tx), 0);
	/* Receive stops too: the device is waiting for a reset. */
	uint8_t f[64] = { 1 };

	peer_send(t, f, sizeof(f));
	vnet_rx_ready(t->be);
	assert_false(vnet_rx_wanted(t->be));
	assert_int_equal(q_used_idx(t, &t->rx), 0);
}

/* ---- receive -------------------------------------------------------------------- */

static void test_rx_basic(void **state)
{
	struct t *t = *state;
	uint8_t f1[60], f2[1514], f3[1];

	/* Nothing to poll before the driver is there. */
	assert_false(vnet_rx_wanted(t->be));
	assert_false(readable(vnet_wake_fd(t->be)));
	drv_init(t);
	/* DRIVER_OK served queue 0: now we look at the TAP. */
	assert_true(vnet_rx_wanted(t->be));
	assert_true(readable(vnet_wake_fd(t->be)));
	for (unsigned int i = 0; i < 4; i++)
		post_rx(t, RXBUF(i), RXBUF_LEN);
	notify(t, VIRTIO_NET_RXQ);
	main_loop_once(t);	/* woken, nothing to read yet */
	assert_false(readable(vnet_wake_fd(t->be)));
	assert_int_equal(q_used_idx(t, &t->rx), 0);
	assert_true(vnet_rx_wanted(t->be));

	fill(f1, sizeof(f1), 5);
	fill(f2, sizeof(f2), 6);
	f3[0] = 0x42;
	peer_send(t, f1, sizeof(f1));
	peer_send(t, f2, sizeof(f2));
	peer_send(t, f3, sizeof(f3));
	t->irq.raises = 0;
	main_loop_once(t);
	assert_int_equal(q_used_idx(t, &t->rx), 3);
	assert_int_equal(ack_irq(t), VIRTIO_MMIO_INT_VRING);
	assert_int_equal(t->irq.raises, 1);
	check_rx(t, 0, RXBUF(0), f1, sizeof(f1));
	check_rx(t, 1, RXBUF(1), f2, sizeof(f2));
	check_rx(t, 2, RXBUF(2), f3, sizeof(f3));
	/* Bytes past the frame untouched. */
	assert_int_equal(*fg_ptr(&t->gm, RXBUF(0) + 12 + sizeof(f1), 1), 0xee);
	assert_int_equal(stats(t).rx_packets, 3);
	assert_int_equal(stats(t).rx_bytes,
			 sizeof(f1) + sizeof(f2) + sizeof(f3));
	assert_true(vnet_rx_wanted(t->be));	/* one buffer left */
}

/* Header and frame in separate descriptors, and an indirect chain. */
static void test_rx_split_buffers(void **state)
{
	struct t *t = *state;
	uint8_t f[1000], hdr[12] = { 0 };
	uint16_t h;

	drv_init(t);
	h = q_chain(t, &t->rx, (struct fseg[]){
			{ RXBUF(0), 12, true },
			{ RXBUF(1), 600, true },
			{ RXBUF(2), 600, true } }, 3);
	q_publish(t, &t->rx, h);
	h = q_chain_indirect(t, &t->rx, (struct fseg[]){
			{ RXBUF(3), 5, true },
			{ RXBUF(4), 2000, true } }, 2);
	q_publish(t, &t->rx, h);
	notify(t, VIRTIO_NET_RXQ);
	fill(f, sizeof(f), 7);
	peer_send(t, f, sizeof(f));
	peer_send(t, f, 100);
	main_loop_once(t);
	assert_int_equal(q_used_idx(t, &t->rx), 2);
	hdr[VIRTIO_NET_HDR_NUM_BUFFERS] = 1;
	assert_int_equal(q_used_len(t, &t->rx, 0), 1012);
	assert_memory_equal(fg_ptr(&t->gm, RXBUF(0), 12), hdr, 12);
	assert_memory_equal(fg_ptr(&t->gm, RXBUF(1), 600), f, 600);
	assert_memory_equal(fg_ptr(&t->gm, RXBUF(2), 400), f + 600, 400);
	assert_int_equal(q_used_len(t, &t->rx, 1), 112);
	assert_memory_equal(fg_ptr(&t->gm, RXBUF(3), 5), hdr, 5);
	assert_memory_equal(fg_ptr(&t->gm, RXBUF(4), 7), hdr + 5, 7);
	assert_memory_equal(fg_ptr(&t->gm, RXBUF(4) + 7, 100), f, 100);
}

/* No buffers: frames wait in the TAP, none is lost, order is kept; the
 * main loop stops polling until the guest adds buffers. */
static void test_rx_no_buffers_waits(void **state)
{
	struct t *t = *state;
	uint8_t f[5][200];

	drv_init(t);
	main_loop_once(t);
	for (unsigned int i = 0; i < 5; i++) {
		fill(f[i], sizeof(f[i]), 10 + i);
		peer_send(t, f[i], sizeof(f[i]));
	}
	main_loop_once(t);
	assert_false(vnet_rx_wanted(t->be));	/* stop polling the TAP */
	assert_int_equal(q_used_idx(t, &t->rx), 0);
	/* Not polled, but even a stray call does nothing. */
	vnet_rx_ready(t->be);
	main_loop_once(t);
	assert_int_equal(q_used_idx(t, &t->rx), 0);

	/* One buffer: exactly the first frame. */
	post_rx(t, RXBUF(0), RXBUF_LEN);
	notify(t, VIRTIO_NET_RXQ);
	assert_true(vnet_rx_wanted(t->be));
	assert_true(readable(vnet_wake_fd(t->be)));
	main_loop_once(t);
	assert_int_equal(q_used_idx(t, &t->rx), 1);
	check_rx(t, 0, RXBUF(0), f[0], sizeof(f[0]));
	assert_false(vnet_rx_wanted(t->be));

	/* The guest adds buffers without the main loop noticing yet; then
	 * notifies. */
	for (unsigned int i = 1; i < 8; i++)
		post_rx(t, RXBUF(i), RXBUF_LEN);
	notify(t, VIRTIO_NET_RXQ);
	main_loop_once(t);
	assert_int_equal(q_used_idx(t, &t->rx), 5);
	for (unsigned int i = 1; i < 5; i++)
		check_rx(t, (uint16_t)i, RXBUF(i), f[i], sizeof(f[i]));
	assert_int_equal(stats(t).rx_dropped, 0);
	assert_true(vnet_rx_wanted(t->be));
}

static void test_rx_budget(void **state)
{
	struct t *t = *state;
	uint8_t f[64] = { 0 };
	unsigned int n = VIRTIO_NET_RX_BUDGET + 10, got = 0;

	/* More frames than one call moves: the rest stay readable. */
	int sz = 1 << 20;

	assert_int_equal(setsockopt(t->peer, SOL_SOCKET, SO_SNDBUF, &sz,
				    sizeof(sz)), 0);
	drv_init(t);
	for (unsigned int i = 0; i < n; i++) {
		f[0] = (uint8_t)i;
		peer_send(t, f, sizeof(f));
	}
	for (unsigned int round = 0; got < n && round < 20; round++) {
		/* Refill the ring the way a driver does. */
		while ((uint16_t)(t->rx.avail_idx - q_used_idx(t, &t->rx)) <
		       QSIZE)
			post_rx(t, RXBUF(t->rx.avail_idx % QSIZE), 256);
		notify(t, VIRTIO_NET_RXQ);
		main_loop_once(t);
		for (; got < q_used_idx(t, &t->rx); got++) {
			uint64_t gpa = RXBUF(q_used_id(t, &t->rx,
						       (uint16_t)got));

			assert_int_equal(*fg_ptr(&t->gm, gpa + 12, 1),
					 (uint8_t)got);
		}
	}
	assert_int_equal(got, n);
}

static void test_rx_too_small_dropped(void **state)
{
	struct t *t = *state;
	uint8_t big[200], small[50];
	unsigned long logs;

	drv_init(t);
	post_rx(t, RXBUF(0), 100);		/* too small for 200 */
	post_rx(t, RXBUF(1), 8);		/* smaller than the header */
	post_rx(t, RXBUF(2), 12 + 49);		/* one byte short */
	post_rx(t, RXBUF(3), 12 + 50);		/* exactly right */
	notify(t, VIRTIO_NET_RXQ);
	fill(big, sizeof(big), 20);
	fill(small, sizeof(small), 21);
	peer_send(t, big, sizeof(big));
	peer_send(t, small, sizeof(small));
	peer_send(t, small, sizeof(small));
	peer_send(t, small, sizeof(small));
	logs = log_count();
	main_loop_once(t);
	assert_int_equal(q_used_idx(t, &t->rx), 4);
	/* 200 bytes into 100: dropped, never truncated; buffer returned
	 * untouched with length 0. */
	assert_int_equal(q_used_len(t, &t->rx, 0), 0);
	assert_int_equal(*fg_ptr(&t->gm, RXBUF(0), 1), 0xee);
	/* 50 bytes into 8: dropped too. */
	assert_int_equal(q_used_len(t, &t->rx, 1), 0);
	/* 50 bytes into 12 + 49: dropped, untouched. */
	assert_int_equal(q_used_len(t, &t->rx, 2), 0);
	assert_int_equal(*fg_ptr(&t->gm, RXBUF(2), 1), 0xee);
	/* The third 50-byte frame fits exactly. */
	check_rx(t, 3, RXBUF(3), small, sizeof(small));
	assert_int_equal(stats(t).rx_dropped, 3);
	assert_int_equal(stats(t).rx_packets, 1);
	assert_true(log_count() >= logs + 3);
	assert_int_equal(dev_status(t), ALL_OK);
}

static void test_rx_readonly_buffers(void **state)
{
	struct t *t = *state;
	uint8_t f[100];
	uint16_t h;

	drv_init(t);
	/* All device-readable. */
	h = q_chain(t, &t->rx, (struct fseg[]){ { RXBUF(0), RXBUF_LEN,
						   false } }, 1);
	memset(fg_ptr(&t->gm, RXBUF(0), RXBUF_LEN), 0xee, RXBUF_LEN);
	q_publish(t, &t->rx, h);
	/* Readable then writable. */
	h = q_chain(t, &t->rx, (struct fseg[]){
			{ RXBUF(1), 12, false },
			{ RXBUF(2), RXBUF_LEN, true } }, 2);
	memset(fg_ptr(&t->gm, RXBUF(1), 12), 0xee, 12);
	q_publish(t, &t->rx, h);
	post_rx(t, RXBUF(3), RXBUF_LEN);
	notify(t, VIRTIO_NET_RXQ);
	fill(f, sizeof(f), 30);
	peer_send(t, f, sizeof(f));
	main_loop_once(t);
	/* Both bad chains returned unused; the frame went to the third. */
	assert_int_equal(q_used_idx(t, &t->rx), 3);
	assert_int_equal(q_used_len(t, &t->rx, 0), 0);
	assert_int_equal(q_used_len(t, &t->rx, 1), 0);
	assert_int_equal(*fg_ptr(&t->gm, RXBUF(0), 1), 0xee);
	assert_int_equal(*fg_ptr(&t->gm, RXBUF(1), 1), 0xee);
	check_rx(t, 2, RXBUF(3), f, sizeof(f));
	assert_int_equal(stats(t).rx_bad, 2);
	assert_int_equal(stats(t).rx_dropped, 0);
}

static void test_rx_oversized_from_host(void **state)
{
	struct t *t = *state;
	size_t big = VIRTIO_NET_MAX_FRAME + 1;
	uint8_t *f = calloc(1, big), g[64];
	int sz = 1 << 20;

	assert_non_null(f);
	assert_int_equal(setsockopt(t->peer, SOL_SOCKET, SO_SNDBUF, &sz,
				    sizeof(sz)), 0);
	drv_init(t);
	post_rx(t, BIGBUF, 0x20000);
	notify(t, VIRTIO_NET_RXQ);
	peer_send(t, f, big);
	fill(g, sizeof(g), 40);
	peer_send(t, g, sizeof(g));
	main_loop_once(t);
	assert_int_equal(q_used_idx(t, &t->rx), 1);
	check_rx(t, 0, BIGBUF, g, sizeof(g));
	assert_int_equal(stats(t).rx_dropped, 1);
	free(f);
}

static void test_rx_avail_ahead(void **state)
{
	struct t *t = *state;
	uint8_t f[64] = { 0 };

	drv_init(t);
	fg_w16(&t->gm, t->rx.avail + 2, QSIZE + 1);
	notify(t, VIRTIO_NET_RXQ);
	peer_send(t, f, sizeof(f));
	main_loop_once(t);
	assert_true(dev_status(t) & VIRTIO_STATUS_NEEDS_RESET);
	assert_true(ack_irq(t) & VIRTIO_MMIO_INT_CONFIG);
	assert_false(vnet_rx_wanted(t->be));
	/* Notifies are ignored until reset: nothing wakes the loop. */
	notify(t, VIRTIO_NET_RXQ);
	assert_false(vnet_rx_wanted(t->be));
	/* A reset and a fresh start: the frame is still there (the held
	 * one was dropped with the reset, the TAP kept the rest). */
	peer_send(t, f, 32);
	mw32(t->dev, VIRTIO_MMIO_STATUS, 0);
	drv_init(t);
	post_rx(t, RXBUF(0), RXBUF_LEN);
	notify(t, VIRTIO_NET_RXQ);
	main_loop_once(t);
	assert_int_equal(q_used_idx(t, &t->rx), 1);
	assert_int_equal(q_used_len(t, &t->rx, 0), 12 + 32);
}

/* The main loop's view while the device is not running. */
static void test_rx_device_states(void **state)
{
	struct t *t = *state;
	uint8_t f[64] = { 0 };

	/* Notify before DRIVER_OK is the transport's to refuse. */
	assert_true(fdrv_negotiate(t->dev, dev_features(t)) &
		    VIRTIO_STATUS_FEATURES_OK);
	notify(t, VIRTIO_NET_RXQ);
	assert_false(vnet_rx_wanted(t->be));
	/* Running, then reset: stop polling. */
	drv_init(t);
	assert_true(vnet_rx_wanted(t->be));
	mw32(t->dev, VIRTIO_MMIO_STATUS, 0);
	assert_false(vnet_rx_wanted(t->be));
	/* Running, then the receive queue disabled under our feet: the kick
	 * is not served, so polling stops (no spin on a readable TAP). */
	drv_init(t);
	post_rx(t, RXBUF(0), RXBUF_LEN);
	notify(t, VIRTIO_NET_RXQ);
	mw32(t->dev, VIRTIO_MMIO_QUEUE_SEL, VIRTIO_NET_RXQ);
	mw32(t->dev, VIRTIO_MMIO_QUEUE_READY, 0);
	peer_send(t, f, sizeof(f));
	assert_true(vnet_rx_wanted(t->be));
	main_loop_once(t);
	assert_false(vnet_rx_wanted(t->be));
	assert_int_equal(q_used_idx(t, &t->rx), 0);
}

static void test_rx_tap_gone(void **state)
{
	struct t *t = *state;

	/* A seqpacket "TAP" whose other end closes: read() returns 0, which
	 * a TAP never does; receive stops rather than spinning. */
	t->dev->ops->destroy(t->dev);
	close(t->peer);
	make_dev(t, SOCK_SEQPACKET);
	drv_init(t);
	post_rx(t, RXBUF(0), RXBUF_LEN);
	notify(t, VIRTIO_NET_RXQ);
	close(t->peer);
	t->peer = -1;
	main_loop_once(t);
	assert_false(vnet_rx_wanted(t->be));
	notify(t, VIRTIO_NET_RXQ);
	assert_false(vnet_rx_wanted(t->be));
	assert_int_equal(q_used_idx(t, &t->rx), 0);
	/* Transmit still answers the guest (frames dropped). */
	uint16_t h;

	memset(fg_ptr(&t->gm, TXBUF, 80), 0, 80);
	h = q_chain(t, &t->tx, (struct fseg[]){ { TXBUF, 80, false } }, 1);
	q_publish(t, &t->tx, h);
	signal(SIGPIPE, SIG_IGN);
	notify(t, VIRTIO_NET_TXQ);
	assert_int_equal(q_used_idx(t, &t->tx), 1);
	assert_int_equal(stats(t).tx_dropped, 1);
}

/* A vCPU thread refilling receive buffers and notifying while the main
 * thread serves the TAP: no frame lost, none reordered, and never a lost
 * wake-up (the main loop would stall: caught by the deadline). */
#define CONC_FRAMES 3000

struct conc {
	struct t *t;
	unsigned int got;
	bool failed;
};

static void *conc_vcpu(void *arg)
{
	struct conc *c = arg;
	struct t *t = c->t;
	uint16_t seen = 0;

	for (unsigned int i = 0; i < QSIZE; i++)
		post_rx(t, RXBUF(i), 256);
	notify(t, VIRTIO_NET_RXQ);
	while (__atomic_load_n(&c->got, __ATOMIC_RELAXED) < CONC_FRAMES) {
		uint16_t used = q_used_idx(t, &t->rx);

		if (used == seen) {
			usleep(50);
			continue;
		}
		for (; seen != used; seen++) {
			uint32_t id = q_used_id(t, &t->rx, seen);
			uint32_t n;

			memcpy(&n, fg_ptr(&t->gm, RXBUF(id) + 12, 4), 4);
			if (q_used_len(t, &t->rx, seen) != 12 + 64 ||
			    n != __atomic_load_n(&c->got, __ATOMIC_RELAXED))
				c->failed = true;
			__atomic_fetch_add(&c->got, 1, __ATOMIC_RELAXED);
			/* Recycle the buffer, as Linux does. */
			post_rx(t, RXBUF(id), 256);
		}
		notify(t, VIRTIO_NET_RXQ);
	}
	return NULL;
}

static void test_rx_concurrent(void **state)
{
	struct t *t = *state;
	struct conc c = { .t = t };
	struct timespec start, now;
	unsigned int sent = 0;
	pthread_t th;
	uint8_t f[64] = { 0 };

	drv_init(t);
	assert_int_equal(fcntl(t->peer, F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(pthread_create(&th, NULL, conc_vcpu, &c), 0);
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (__atomic_load_n(&c.got, __ATOMIC_RELAXED) < CONC_FRAMES) {
		struct pollfd p[2] = {
			{ .fd = vnet_wake_fd(t->be), .events = POLLIN },
			{ .fd = -1, .events = POLLIN },
		};

		while (sent < CONC_FRAMES) {
			memcpy(f, &sent, 4);
			if (send(t->peer, f, sizeof(f), 0) != sizeof(f))
				break;
			sent++;
		}
		if (vnet_rx_wanted(t->be))
			p[1].fd = vnet_rx_fd(t->be);
		if (poll(p, 2, 20) > 0 && (p[0].revents || p[1].revents))
			vnet_rx_ready(t->be);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec > 20)
			break;
	}
	__atomic_store_n(&c.got, CONC_FRAMES, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	assert_false(c.failed);
	assert_int_equal(stats(t).rx_packets, CONC_FRAMES);
	assert_int_equal(stats(t).rx_dropped, 0);
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
 * the receive kick goes through the function's notify region. */
static void test_pci_roundtrip(void **state)
{
	struct t *t = *state;
	struct pci_dev *pd;
	uint8_t f[300], got[512];
	int sv[2];
	uint16_t h;

	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0,
				    sv), 0);
	close(t->peer);
	t->peer = sv[1];
	assert_int_equal(vnet_create(sv[0], MAC, &t->be), 0);
	assert_int_equal(virtio_pci_create(&t->gm, t->be, &pd), 0);
	t->pd = pd;
	assert_int_equal(pci_cfg_read(pd, PCI_DEVICE_ID, 2),
			 VIRTIO_PCI_DEVICE_BASE + VIRTIO_ID_NET);
	pci_cfg_write(pd, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	q_reset(&t->rx, RX_DESC, RX_AVAIL, RX_USED);
	q_reset(&t->tx, TX_DESC, TX_AVAIL, TX_USED);
	memset(fg_ptr(&t->gm, FG_BASE, 0x6000), 0, 0x6000);
	pbar_w(pd, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE |
	       VIRTIO_STATUS_DRIVER);
	pbar_w(pd, VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	pbar_w(pd, VIRTIO_PCI_COMMON_GF, 4, VIRTIO_BIT(VIRTIO_NET_F_MAC) |
	       VIRTIO_BIT(VIRTIO_NET_F_STATUS));
	pbar_w(pd, VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	pbar_w(pd, VIRTIO_PCI_COMMON_GF, 4, 1);		/* VERSION_1 */
	pbar_w(pd, VIRTIO_PCI_COMMON_STATUS, 1, ALL_OK &
	       ~VIRTIO_STATUS_DRIVER_OK);
	pci_queue(pd, VIRTIO_NET_RXQ, &t->rx);
	pci_queue(pd, VIRTIO_NET_TXQ, &t->tx);
	pbar_w(pd, VIRTIO_PCI_COMMON_STATUS, 1, ALL_OK);
	assert_int_equal(pbar_r(pd, VIRTIO_PCI_COMMON_STATUS, 1), ALL_OK);
	assert_int_equal(pbar_r(pd, VIRTIO_PCI_DEVICE_OFF + 5, 1), MAC[5]);

	/* Bus mastering off: not even the driver's notify gets through. */
	post_rx(t, RXBUF(0), RXBUF_LEN);
	pbar_w(pd, VIRTIO_PCI_NOTIFY_OFF, 2, VIRTIO_NET_RXQ);
	assert_false(vnet_rx_wanted(t->be));
	pci_cfg_write(pd, PCI_COMMAND, 2, PCI_COMMAND_MEMORY |
		      PCI_COMMAND_MASTER);
	pbar_w(pd, VIRTIO_PCI_NOTIFY_OFF, 2, VIRTIO_NET_RXQ);
	assert_true(vnet_rx_wanted(t->be));
	/* Bus mastering turned off while we poll: the receive kick is not
	 * served, polling stops instead of spinning on a readable TAP. */
	pci_cfg_write(pd, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	fill(f, sizeof(f), 50);
	peer_send(t, f, sizeof(f));
	main_loop_once(t);
	assert_false(vnet_rx_wanted(t->be));
	assert_int_equal(q_used_idx(t, &t->rx), 0);

	pci_cfg_write(pd, PCI_COMMAND, 2, PCI_COMMAND_MEMORY |
		      PCI_COMMAND_MASTER);
	pbar_w(pd, VIRTIO_PCI_NOTIFY_OFF + 4 * VIRTIO_NET_RXQ, 2,
	       VIRTIO_NET_RXQ);
	assert_true(vnet_rx_wanted(t->be));
	main_loop_once(t);
	assert_int_equal(q_used_idx(t, &t->rx), 1);
	check_rx(t, 0, RXBUF(0), f, sizeof(f));
	assert_int_equal(pbar_r(pd, VIRTIO_PCI_ISR_OFF, 1),
			 VIRTIO_PCI_ISR_QUEUE);

	memset(fg_ptr(&t->gm, TXBUF, 12), 0, 12);
	memcpy(fg_ptr(&t->gm, TXBUF + 12, sizeof(f)), f, sizeof(f));
	h = q_chain(t, &t->tx, (struct fseg[]){ { TXBUF, 12 + sizeof(f),
						   false } }, 1);
	q_publish(t, &t->tx, h);
	pbar_w(pd, VIRTIO_PCI_NOTIFY_OFF + 4 * VIRTIO_NET_TXQ, 2,
	       VIRTIO_NET_TXQ);
	assert_int_equal(peer_recv(t, got, sizeof(got)), sizeof(f));
	assert_memory_equal(got, f, sizeof(f));
	assert_int_equal(pbar_r(pd, VIRTIO_PCI_ISR_OFF, 1),
			 VIRTIO_PCI_ISR_QUEUE);
}

/* ---- creation, TAP, options ------------------------------------------------------- */

static void test_create_errors(void **state)
{
	static const uint8_t mcast[6] = { 0x01, 0, 0x5e, 0, 0, 1 };
	static const uint8_t zero[6];
	struct virtio_backend *be;
	int sv[2];

	(void)state;
	assert_int_equal(vnet_create(-1, MAC, &be), -EINVAL);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	assert_int_equal(vnet_create(sv[0], mcast, &be), -EINVAL);
	/* The fd was taken over and closed. */
	assert_int_equal(fcntl(sv[0], F_GETFD), -1);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv + 0), 0);
	close(sv[1]);
	assert_int_equal(vnet_create(sv[0], zero, &be), -EINVAL);
	assert_int_equal(fcntl(sv[0], F_GETFD), -1);
	/* Blocking fds are made non-blocking. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	assert_int_equal(vnet_create(sv[0], MAC, &be), 0);
	assert_true(fcntl(vnet_rx_fd(be), F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(vnet_wake_fd(be), F_GETFD) & FD_CLOEXEC);
	/* Never attached to a transport: a notify (as the transport would
	 * deliver it) asks for polling, the first ready call stops it
	 * rather than letting a readable TAP spin the main loop. */
	assert_int_equal(be->ops->handle_queue(be, NULL, VIRTIO_NET_RXQ), 0);
	assert_true(vnet_rx_wanted(be));
	assert_int_equal(write(sv[1], "frame", 5), 5);
	vnet_rx_ready(be);
	assert_false(vnet_rx_wanted(be));
	be->ops->destroy(be);
	close(sv[1]);
}

static void test_tap_open(void **state)
{
	char name[32];
	int fd = -1, fd2 = -1, err;

	(void)state;
	assert_int_equal(vnet_tap_open("bad/name", &fd), -EINVAL);
	assert_int_equal(vnet_tap_open("tap%d", &fd), -EINVAL);
	assert_int_equal(vnet_tap_open("", &fd), -EINVAL);
	assert_int_equal(vnet_tap_open("0123456789abcdef", &fd), -EINVAL);
	/* A real TAP where we may create one (root with /dev/net/tun). */
	snprintf(name, sizeof(name), "rvt%d", (int)getpid() % 100000);
	err = vnet_tap_open(name, &fd);
	if (err) {
		print_message("# skipped: cannot create a TAP here (%s)\n",
			      strerror(-err));
		return;
	}
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	/* A second attach to a single-queue TAP is refused. */
	assert_int_equal(vnet_tap_open(name, &fd2), -EBUSY);
	/* The interface is down: a read finds nothing, never blocks. */
	uint8_t b[64];

	assert_int_equal(read(fd, b, sizeof(b)), -1);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_identity_config),
		T(test_tx_byte_exact),
		T(test_tx_maximum_frame),
		T(test_tx_hostile),
		T(test_tx_host_refuses),
		T(test_tx_avail_ahead),
		T(test_rx_basic),
		T(test_rx_split_buffers),
		T(test_rx_no_buffers_waits),
		T(test_rx_budget),
		T(test_rx_too_small_dropped),
		T(test_rx_readonly_buffers),
		T(test_rx_oversized_from_host),
		T(test_rx_avail_ahead),
		T(test_rx_device_states),
		T(test_rx_tap_gone),
		T(test_rx_concurrent),
		T(test_pci_roundtrip),
		cmocka_unit_test(test_create_errors),
		cmocka_unit_test(test_tap_open),
	};

	log_set_level(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
