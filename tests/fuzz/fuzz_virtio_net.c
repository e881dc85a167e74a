// SPDX-License-Identifier: MIT
/* Fuzz target: virtio-net over virtio-mmio with a datagram socketpair as
 * the TAP.  The input builds transmit and receive chains (any segment
 * lengths and directions, direct or indirect, up to the ring's limits),
 * has the host send frames (up to and over the maximum), runs the main
 * loop, notifies any queue, pokes the rings and resets.
 *
 * Checked against a model of virtio_net.h: every transmitted frame comes
 * out byte for byte and in order (or is counted as dropped by the host),
 * bad chains are returned unused and counted, received frames land in
 * order behind the exact header, too-small buffers drop the frame and are
 * returned untouched, frames wait while there are no buffers, a chain
 * that breaks the ring rules puts the device in DEVICE_NEEDS_RESET (the
 * target then resets it), vnet_rx_wanted() and the wake-up eventfd are
 * what the model says.  After a poke into the rings only invariants are
 * checked until the next reset: the IRQ line follows InterruptStatus, and
 * the main loop never spins (vnet_rx_ready() leaving the TAP readable and
 * wanted must have moved a frame). */
#include "fuzz.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/device.h"
#include "devices/virtio.h"
#include "devices/virtio_mmio.h"
#include "devices/virtio_net.h"
#include "tests/support/vmmio_drv.h"

/* Guest RAM layout (offsets). */
#define RING_AREA	0x10000ULL
#define Q_DESC(q)	(0x3000ULL * (q))
#define Q_AVAIL(q)	(0x3000ULL * (q) + 0x1000)
#define Q_USED(q)	(0x3000ULL * (q) + 0x2000)
#define Q_TABLES(q)	(0x8000ULL + 0x4000ULL * (q))	/* 64 B per head */
#define RX_DATA		0x10000ULL
#define RX_DATA_END	0x90000ULL
#define TX_DATA		0x90000ULL
#define TX_DATA_END	FZ_NET_RAM_SIZE

#define DEV_BASE	0x10001000ULL
#define IRQ		3
#define MAX_SEGS	4
#define MAX_Q		128
#define MAX_FRAMES	1024
#define UNWRITTEN	0xaa
#define RXQ		VIRTIO_NET_RXQ
#define TXQ		VIRTIO_NET_TXQ

static const uint8_t MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

struct seg {
	uint64_t off;		/* in RAM */
	uint32_t len;
	bool writable;
};

struct chain {
	uint16_t head;
	unsigned int nseg;
	struct seg seg[MAX_SEGS];
	bool indirect;
	bool broken;		/* breaks the ring rules */
	uint64_t data_end;	/* RX: end of its data (ring allocator) */
};

struct mq {			/* the driver's view of one queue */
	uint16_t avail_idx;	/* published */
	uint16_t used_seen;
	bool desc_busy[MAX_Q];
	struct chain pend[MAX_Q];	/* published, not used, in order */
	unsigned int npend;
};

struct frame {
	uint32_t len;
	uint32_t seed;
};

struct net_fuzz {
	struct gmem *gm;
	struct rivet_dev *dev;
	struct virtio_backend *be;
	struct fuzz_irq irq;
	struct irq_chip chip;
	int peer;
	uint16_t qsize;
	bool indirect;
	bool chaos;		/* rings poked: invariants only */
	struct mq q[2];
	uint64_t tx_next;	/* TX data bump pointer */
	uint64_t rx_head;	/* RX data ring allocator */
	/* The model of the device. */
	bool running;		/* DRIVER_OK, not NEEDS_RESET */
	bool wanted;
	bool wake;
	bool held;
	struct frame held_frame;
	struct frame hostq[MAX_FRAMES];	/* sent, not read by the device */
	unsigned int nhost;
	uint32_t next_seed;
	struct vnet_stats st;
};

static uint8_t *tx_buf, *rx_buf;	/* peer side, frame patterns */
static uint8_t unwritten[0x10000];

static uint8_t *ram(struct net_fuzz *f, uint64_t off, uint64_t len)
{
	uint8_t *p = gmem_ptr(f->gm, FZ_RAM_BASE + off, len);

	FUZZ_CHECK(p);
	return p;
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void frame_fill(uint8_t *p, const struct frame *fr)
{
	for (uint32_t i = 0; i < fr->len; i++)
		p[i] = (uint8_t)(fr->seed * 131 + i * 7 + (i >> 9));
}

static void check_irq(struct net_fuzz *f)
{
	FUZZ_CHECK(f->irq.level[IRQ] ==
		   (mr32(f->dev, VIRTIO_MMIO_INTERRUPT_STATUS) != 0));
}

static void stats_now(struct net_fuzz *f, struct vnet_stats *st)
{
	vnet_get_stats(f->be, st);
}

static void check_stats(struct net_fuzz *f)
{
	struct vnet_stats st;

	if (f->chaos)
		return;
	stats_now(f, &st);
	FUZZ_CHECK(st.tx_packets == f->st.tx_packets);
	FUZZ_CHECK(st.tx_bad == f->st.tx_bad);
	FUZZ_CHECK(st.rx_packets == f->st.rx_packets);
	FUZZ_CHECK(st.rx_bad == f->st.rx_bad);
	FUZZ_CHECK(st.rx_dropped == f->st.rx_dropped);
	/* tx_dropped: the host's socket buffer decides (taken as is). */
	f->st.tx_dropped = st.tx_dropped;
}

static void check_model(struct net_fuzz *f)
{
	check_irq(f);
	if (f->chaos)
		return;
	FUZZ_CHECK(vnet_rx_wanted(f->be) == f->wanted);
	FUZZ_CHECK(readable(vnet_wake_fd(f->be)) == f->wake);
	FUZZ_CHECK(readable(vnet_rx_fd(f->be)) == (f->nhost > 0));
	FUZZ_CHECK(!!(mr32(f->dev, VIRTIO_MMIO_STATUS) &
		      VIRTIO_STATUS_NEEDS_RESET) == !f->running);
	check_stats(f);
}

/* ---- driver -------------------------------------------------------------- */

static void queue_setup(struct net_fuzz *f, uint32_t q)
{
	FUZZ_CHECK(vmmio_queue(f->dev, q, f->qsize, FZ_RAM_BASE + Q_DESC(q),
			       FZ_RAM_BASE + Q_AVAIL(q),
			       FZ_RAM_BASE + Q_USED(q), true) == 1);
}

/* Status 0, then the Linux probe; the model follows. */
static void driver_init(struct net_fuzz *f)
{
	uint64_t feat = VIRTIO_BIT(VIRTIO_F_VERSION_1) |
			VIRTIO_BIT(VIRTIO_NET_F_MAC) |
			VIRTIO_BIT(VIRTIO_NET_F_STATUS);
	uint32_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	if (f->indirect)
		feat |= VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC);
	mw32(f->dev, VIRTIO_MMIO_STATUS, 0);
	/* Reset: the held frame is gone, receive stops. */
	f->held = false;
	f->wanted = false;
	f->running = false;
	memset(ram(f, 0, RING_AREA), 0, RING_AREA);
	memset(f->q, 0, sizeof(f->q));
	f->tx_next = TX_DATA;
	f->rx_head = RX_DATA;
	if (f->chaos) {
		/* Start the model afresh: what the device did meanwhile is
		 * unknown, so empty both directions of the "TAP". */
		while (recv(vnet_rx_fd(f->be), rx_buf, 1, MSG_DONTWAIT) >= 0)
			;
		while (recv(f->peer, rx_buf, 1, MSG_DONTWAIT) >= 0)
			;
		f->nhost = 0;
		stats_now(f, &f->st);
		f->chaos = false;
	}
	check_stats(f);
	st |= VIRTIO_STATUS_FEATURES_OK;
	FUZZ_CHECK(vmmio_negotiate(f->dev, feat) == st);
	queue_setup(f, RXQ);
	queue_setup(f, TXQ);
	st |= VIRTIO_STATUS_DRIVER_OK;
	mw32(f->dev, VIRTIO_MMIO_STATUS, st);
	FUZZ_CHECK(mr32(f->dev, VIRTIO_MMIO_STATUS) == st);
	/* DRIVER_OK served the receive queue: the main loop is woken. */
	f->running = true;
	f->wanted = true;
	f->wake = true;
	check_model(f);
}

/* Allocate @n free descriptors of queue @q (any order), -1 if too few. */
static bool desc_alloc(struct net_fuzz *f, struct mq *m, unsigned int n,
		       uint16_t *out)
{
	unsigned int got = 0;

	for (uint16_t i = 0; i < f->qsize && got < n; i++)
		if (!m->desc_busy[i])
			out[got++] = i;
	if (got < n)
		return false;
	for (unsigned int i = 0; i < n; i++)
		m->desc_busy[out[i]] = true;
	return true;
}

static void desc_write(struct net_fuzz *f, uint64_t off, const struct seg *s,
		       uint16_t flags, uint16_t next)
{
	vring_desc(ram(f, off, 16), FZ_RAM_BASE + s->off, s->len, flags, next);
}

/* The ring rules a chain breaks (virtq.c): a readable descriptor with data
 * after a writable one, or more descriptors than the queue size. */
static bool chain_broken(struct net_fuzz *f, const struct chain *c)
{
	bool seen_w = false;

	if (c->nseg > f->qsize)
		return true;
	for (unsigned int i = 0; i < c->nseg; i++) {
		if (!c->seg[i].len)
			continue;
		if (!c->seg[i].writable && seen_w)
			return true;
		seen_w |= c->seg[i].writable;
	}
	return false;
}

/* Lay out @c (segments set) on queue @q and publish it. */
static bool chain_publish(struct net_fuzz *f, unsigned int q,
			  struct chain *c, bool want_indirect)
{
	struct mq *m = &f->q[q];
	uint16_t d[MAX_SEGS];
	uint8_t *ring;

	if (m->npend >= f->qsize)
		return false;
	c->indirect = want_indirect && f->indirect;
	if (!c->indirect && !desc_alloc(f, m, c->nseg, d)) {
		if (!f->indirect)
			return false;
		c->indirect = true;
	}
	if (c->indirect) {
		uint64_t t;

		if (!desc_alloc(f, m, 1, d))
			return false;
		t = Q_TABLES(q) + 64ULL * d[0];
		for (unsigned int i = 0; i < c->nseg; i++)
			desc_write(f, t + 16ULL * i, &c->seg[i],
				   (c->seg[i].writable ? 2 : 0) |
				   (i + 1 < c->nseg ? 1 : 0),
				   (uint16_t)(i + 1));
		desc_write(f, Q_DESC(q) + 16ULL * d[0],
			   &(struct seg){ t, 16 * c->nseg, false }, 4, 0);
	} else {
		for (unsigned int i = 0; i < c->nseg; i++)
			desc_write(f, Q_DESC(q) + 16ULL * d[i], &c->seg[i],
				   (c->seg[i].writable ? 2 : 0) |
				   (i + 1 < c->nseg ? 1 : 0),
				   i + 1 < c->nseg ? d[i + 1] : 0);
	}
	c->head = d[0];
	c->broken = chain_broken(f, c);
	ring = ram(f, Q_AVAIL(q) + 4 + 2ULL * (m->avail_idx % f->qsize), 2);
	mmio_put(ring, 2, c->head);
	m->avail_idx++;
	mmio_put(ram(f, Q_AVAIL(q) + 2, 2), 2, m->avail_idx);
	m->pend[m->npend++] = *c;
	return true;
}

/* Free the descriptors of the oldest pending chain of @q. */
static struct chain chain_retire(struct net_fuzz *f, unsigned int q)
{
	struct mq *m = &f->q[q];
	struct chain c = m->pend[0];

	FUZZ_CHECK(m->npend > 0);
	memmove(m->pend, m->pend + 1, (m->npend - 1) * sizeof(m->pend[0]));
	m->npend--;
	if (c.indirect) {
		m->desc_busy[c.head] = false;
	} else {
		uint16_t i = c.head;

		for (unsigned int k = 0; k < c.nseg; k++) {
			m->desc_busy[i] = false;
			i = (uint16_t)mmio_get(ram(f, Q_DESC(q) + 16ULL * i +
						       14, 2), 2);
		}
	}
	return c;
}

/* The next used entry of @q: its id and length. */
static void used_next(struct net_fuzz *f, unsigned int q, uint16_t *id,
		      uint32_t *len)
{
	struct mq *m = &f->q[q];
	const uint8_t *e = ram(f, Q_USED(q) + 4 + 8ULL *
			       (m->used_seen % f->qsize), 8);

	*id = (uint16_t)mmio_get(e, 4);
	*len = (uint32_t)mmio_get(e + 4, 4);
	m->used_seen++;
}

static uint16_t used_idx(struct net_fuzz *f, unsigned int q)
{
	return (uint16_t)mmio_get(ram(f, Q_USED(q) + 2, 2), 2);
}

/* Read a chain description from the input; segment data is placed by
 * @place. */
static void chain_read(struct fin *in, struct chain *c, bool rx)
{
	c->nseg = fin_u8(in) % MAX_SEGS + 1;
	for (unsigned int i = 0; i < c->nseg; i++) {
		c->seg[i].len = fin_u16(in);
		c->seg[i].writable = rx ^ !!(fin_u8(in) & FZ_NET_SEG_FLIP);
	}
}

/* The device needs a reset: check, then reset it like a driver would. */
static void needs_reset(struct net_fuzz *f)
{
	FUZZ_CHECK(mr32(f->dev, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	FUZZ_CHECK(mr32(f->dev, VIRTIO_MMIO_INTERRUPT_STATUS) &
		   VIRTIO_MMIO_INT_CONFIG);
	driver_init(f);
}

static void model_notify(struct net_fuzz *f, uint32_t q);

/* ---- transmit -------------------------------------------------------------- */

static void op_tx(struct net_fuzz *f, struct fin *in)
{
	uint8_t flags = fin_u8(in);
	struct chain c;
	uint64_t total = 0;

	chain_read(in, &c, false);
	for (unsigned int i = 0; i < c.nseg; i++)
		total += c.seg[i].len;
	if (total > TX_DATA_END - TX_DATA)
		return;
	if (f->tx_next + total > TX_DATA_END)
		f->tx_next = TX_DATA;
	for (unsigned int i = 0; i < c.nseg; i++) {
		struct frame fr = { c.seg[i].len, f->next_seed++ };

		c.seg[i].off = f->tx_next;
		frame_fill(ram(f, f->tx_next, fr.len), &fr);
		f->tx_next += c.seg[i].len;
	}
	if (!chain_publish(f, TXQ, &c, flags & FZ_NET_CHAIN_INDIRECT))
		return;
	if (flags & FZ_NET_CHAIN_NOTIFY) {
		mw32(f->dev, VIRTIO_MMIO_QUEUE_NOTIFY, TXQ);
		model_notify(f, TXQ);
	}
}

/* What the device must do with TX chain @c: the frame length, or -1 (bad:
 * returned unused).  The frame is gathered into tx_buf. */
static int64_t tx_expect(struct net_fuzz *f, const struct chain *c)
{
	uint64_t out = 0, n = 0;

	for (unsigned int i = 0; i < c->nseg; i++) {
		if (!c->seg[i].len)
			continue;
		if (c->seg[i].writable)
			return -1;
		out += c->seg[i].len;
	}
	if (out < VIRTIO_NET_HDR_SIZE || out - VIRTIO_NET_HDR_SIZE == 0 ||
	    out - VIRTIO_NET_HDR_SIZE > VIRTIO_NET_MAX_FRAME)
		return -1;
	for (unsigned int i = 0, skip = VIRTIO_NET_HDR_SIZE; i < c->nseg;
	     i++) {
		uint32_t len = c->seg[i].len, k = len < skip ? len : skip;

		skip -= k;
		memcpy(tx_buf + n, ram(f, c->seg[i].off + k, len - k),
		       len - k);
		n += len - k;
	}
	return (int64_t)n;
}

/* After a TX notify (model running): every pending chain up to the first
 * broken one was consumed; valid frames came out in order, byte exact,
 * unless the host dropped them (tx_dropped). */
static void tx_check(struct net_fuzz *f)
{
	struct mq *m = &f->q[TXQ];
	struct vnet_stats st;
	uint64_t dropped;
	bool broken = false;

	stats_now(f, &st);
	dropped = st.tx_dropped - f->st.tx_dropped;
	while (m->npend && !broken) {
		struct chain c = m->pend[0];
		int64_t len;
		uint16_t id;
		uint32_t ulen;
		ssize_t got;

		if (c.broken) {
			broken = true;
			break;
		}
		len = tx_expect(f, &c);
		chain_retire(f, TXQ);
		FUZZ_CHECK(m->used_seen != used_idx(f, TXQ));
		used_next(f, TXQ, &id, &ulen);
		FUZZ_CHECK(id == c.head && ulen == 0);
		if (len < 0) {
			f->st.tx_bad++;
			continue;
		}
		got = recv(f->peer, rx_buf, VIRTIO_NET_MAX_FRAME + 1,
			   MSG_DONTWAIT | MSG_PEEK);
		if (got != len || memcmp(rx_buf, tx_buf, (size_t)len)) {
			/* Only a frame the host dropped may be missing. */
			FUZZ_CHECK(dropped > 0);
			dropped--;
			continue;
		}
		FUZZ_CHECK(recv(f->peer, rx_buf, 1, MSG_DONTWAIT) >= 0);
		f->st.tx_packets++;
	}
	FUZZ_CHECK(dropped == 0);
	FUZZ_CHECK(recv(f->peer, rx_buf, 1, MSG_DONTWAIT) < 0);
	FUZZ_CHECK(used_idx(f, TXQ) == m->used_seen);
	f->st.tx_dropped = st.tx_dropped;
	if (broken) {
		f->running = false;
		needs_reset(f);
	}
}

/* ---- receive ----------------------------------------------------------------- */

static bool rx_overlaps(struct net_fuzz *f, uint64_t start, uint64_t len)
{
	const struct mq *m = &f->q[RXQ];

	if (start + len > RX_DATA_END)
		return true;
	for (unsigned int i = 0; i < m->npend; i++)
		if (start < m->pend[i].data_end &&
		    m->pend[i].seg[0].off < start + len)
			return true;
	return false;
}

static void op_rx_buf(struct net_fuzz *f, struct fin *in)
{
	uint8_t flags = fin_u8(in);
	struct chain c;
	uint64_t total = 0, start;

	chain_read(in, &c, true);
	for (unsigned int i = 0; i < c.nseg; i++)
		total += c.seg[i].len;
	/* Pending chains' data never overlaps: a frame written into one
	 * cannot change another before it is checked. */
	start = f->rx_head;
	if (rx_overlaps(f, start, total))
		start = RX_DATA;
	if (rx_overlaps(f, start, total))
		return;
	for (unsigned int i = 0; i < c.nseg; i++) {
		c.seg[i].off = start;
		memset(ram(f, start, c.seg[i].len), UNWRITTEN, c.seg[i].len);
		start += c.seg[i].len;
	}
	c.data_end = start;
	if (!chain_publish(f, RXQ, &c, flags & FZ_NET_CHAIN_INDIRECT))
		return;
	f->rx_head = start;
	if (flags & FZ_NET_CHAIN_NOTIFY) {
		mw32(f->dev, VIRTIO_MMIO_QUEUE_NOTIFY, RXQ);
		model_notify(f, RXQ);
	}
}

static void op_send(struct net_fuzz *f, struct fin *in)
{
	uint8_t kind = fin_u8(in);
	uint16_t len = fin_u16(in);
	struct frame fr = { len ? len : 1, f->next_seed++ };

	if (kind & FZ_NET_SEND_OVERSIZE)
		fr.len = VIRTIO_NET_MAX_FRAME + 1 + len % 64;
	if (f->nhost == MAX_FRAMES)
		return;
	frame_fill(tx_buf, &fr);
	if (send(f->peer, tx_buf, fr.len, MSG_DONTWAIT) != (ssize_t)fr.len)
		return;		/* socket buffer full: never sent */
	f->hostq[f->nhost++] = fr;
}

/* Check the used entry for RX chain @c: @len bytes of frame @fr (or, with
 * @fr NULL, returned unused and untouched). */
static void rx_check_used(struct net_fuzz *f, const struct chain *c,
			  const struct frame *fr)
{
	uint32_t want = fr ? VIRTIO_NET_HDR_SIZE + fr->len : 0;
	uint32_t pos = 0;
	uint16_t id;
	uint32_t ulen;

	FUZZ_CHECK(f->q[RXQ].used_seen != used_idx(f, RXQ));
	used_next(f, RXQ, &id, &ulen);
	FUZZ_CHECK(id == c->head && ulen == want);
	if (fr) {
		memset(tx_buf, 0, VIRTIO_NET_HDR_SIZE);
		tx_buf[VIRTIO_NET_HDR_NUM_BUFFERS] = 1;
		frame_fill(tx_buf + VIRTIO_NET_HDR_SIZE, fr);
	}
	for (unsigned int i = 0; i < c->nseg; i++) {
		const uint8_t *p = ram(f, c->seg[i].off, c->seg[i].len);
		uint32_t len = c->seg[i].len, k = 0;

		if (c->seg[i].writable) {
			k = pos < want ? want - pos : 0;
			if (k > len)
				k = len;
			FUZZ_CHECK(!memcmp(p, tx_buf + pos, k));
			pos += len;
		}
		FUZZ_CHECK(!memcmp(p + k, unwritten, len - k));
	}
}

/* The model of vnet_rx() (the transport served the kick). */
static void rx_model(struct net_fuzz *f)
{
	struct mq *m = &f->q[RXQ];

	for (unsigned int budget = VIRTIO_NET_RX_BUDGET; budget; budget--) {
		struct chain c;
		uint64_t in = 0;
		bool readable_seg = false;

		if (!f->held) {
			if (!f->nhost)
				return;
			f->held_frame = f->hostq[0];
			memmove(f->hostq, f->hostq + 1,
				(f->nhost - 1) * sizeof(f->hostq[0]));
			f->nhost--;
			if (f->held_frame.len > VIRTIO_NET_MAX_FRAME) {
				f->st.rx_dropped++;
				continue;
			}
			f->held = true;
		}
		if (!m->npend) {
			f->wanted = false;
			return;
		}
		if (m->pend[0].broken) {
			f->wanted = false;
			f->running = false;
			return;
		}
		c = chain_retire(f, RXQ);
		for (unsigned int i = 0; i < c.nseg; i++) {
			if (!c.seg[i].len)
				continue;
			if (c.seg[i].writable)
				in += c.seg[i].len;
			else
				readable_seg = true;
		}
		if (readable_seg) {
			f->st.rx_bad++;
			rx_check_used(f, &c, NULL);
			continue;
		}
		f->held = false;
		if (in < VIRTIO_NET_HDR_SIZE + (uint64_t)f->held_frame.len) {
			f->st.rx_dropped++;
			rx_check_used(f, &c, NULL);
			continue;
		}
		f->st.rx_packets++;
		rx_check_used(f, &c, &f->held_frame);
	}
}

/* The guest notified queue @q (the transport checks first). */
static void model_notify(struct net_fuzz *f, uint32_t q)
{
	if (f->chaos || !f->running || q > TXQ)
		return;
	if (q == RXQ) {
		if (!f->wanted)
			f->wake = true;
		f->wanted = true;
		return;
	}
	tx_check(f);
}

static void op_loop(struct net_fuzz *f)
{
	bool tap = vnet_rx_wanted(f->be) && readable(vnet_rx_fd(f->be));
	struct vnet_stats a, b;

	if (!tap && !readable(vnet_wake_fd(f->be)))
		return;
	stats_now(f, &a);
	vnet_rx_ready(f->be);
	stats_now(f, &b);
	/* Never a spin: still wanted with the TAP readable means a frame
	 * moved (the budget ran out). */
	if (vnet_rx_wanted(f->be) && readable(vnet_rx_fd(f->be)))
		FUZZ_CHECK(b.rx_packets + b.rx_dropped + b.rx_bad >
			   a.rx_packets + a.rx_dropped + a.rx_bad);
	if (f->chaos)
		return;
	f->wake = false;
	if (!f->wanted)
		return;
	if (!f->running) {
		f->wanted = false;	/* the kick was not served */
		return;
	}
	rx_model(f);
	FUZZ_CHECK(used_idx(f, RXQ) == f->q[RXQ].used_seen);
	if (!f->running)
		needs_reset(f);
}

static void op_config(struct net_fuzz *f, struct fin *in)
{
	uint8_t off = fin_u8(in), len = (uint8_t)(1u << (fin_u8(in) & 3));
	uint8_t b[8], want[VIRTIO_NET_CONFIG_SIZE] = { 0 };

	memcpy(want, MAC, 6);
	want[6] = VIRTIO_NET_S_LINK_UP;
	memset(b, 0x5a, sizeof(b));
	f->dev->ops->mmio_read(f->dev, VIRTIO_MMIO_CONFIG + off % 16, b, len);
	if (off % 16 + len <= VIRTIO_NET_CONFIG_SIZE)
		FUZZ_CHECK(!memcmp(b, want + off % 16, len));
	else
		for (unsigned int i = 0; i < len; i++)
			FUZZ_CHECK(b[i] == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = { data, size };
	static struct net_fuzz f;
	uint8_t cfg;
	int sv[2], sz = 1 << 22;

	fuzz_quiet();
	if (!tx_buf) {
		tx_buf = malloc(VIRTIO_NET_MAX_FRAME + 256);
		rx_buf = malloc(VIRTIO_NET_MAX_FRAME + 256);
		FUZZ_CHECK(tx_buf && rx_buf);
		memset(unwritten, UNWRITTEN, sizeof(unwritten));
	}
	memset(&f, 0, sizeof(f));
	f.gm = fuzz_ram(FZ_RAM_BASE, FZ_NET_RAM_SIZE);
	memset(f.gm->host, 0, f.gm->size);
	cfg = fin_u8(&in);
	f.indirect = cfg & 1;
	f.qsize = (uint16_t)(1u << ((cfg >> 1) & 7));
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) == 0);
	/* Room for a few maximum frames each way (best effort). */
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	f.peer = sv[1];
	FUZZ_CHECK(vnet_create(sv[0], MAC, &f.be) == 0);
	f.chip = (struct irq_chip){ fuzz_irq_set, &f.irq };
	FUZZ_CHECK(virtio_mmio_create(f.gm, DEV_BASE, 0x1000,
				      (struct irq_line){ &f.chip, IRQ },
				      f.be, &f.dev) == 0);
	driver_init(&f);

	while (in.left) {
		uint8_t op = fin_u8(&in) % FZ_NET_NR_OPS;

		switch (op) {
		case FZ_NET_TX:
			op_tx(&f, &in);
			break;
		case FZ_NET_RX_BUF:
			op_rx_buf(&f, &in);
			break;
		case FZ_NET_SEND:
			op_send(&f, &in);
			break;
		case FZ_NET_LOOP:
			op_loop(&f);
			break;
		case FZ_NET_NOTIFY: {
			uint8_t q = fin_u8(&in);

			mw32(f.dev, VIRTIO_MMIO_QUEUE_NOTIFY, q);
			model_notify(&f, q);
			break;
		}
		case FZ_NET_POKE: {
			uint16_t off = fin_u16(&in);
			uint8_t len = fin_u8(&in);

			fuzz_ram_poke(f.gm, &in, off % RING_AREA, len);
			f.chaos = true;
			break;
		}
		case FZ_NET_RESET:
			driver_init(&f);
			break;
		case FZ_NET_CONFIG:
			op_config(&f, &in);
			break;
		case FZ_NET_ACK:
			mw32(f.dev, VIRTIO_MMIO_INTERRUPT_ACK,
			     mr32(f.dev, VIRTIO_MMIO_INTERRUPT_STATUS));
			break;
		}
		check_model(&f);
	}
	f.dev->ops->destroy(f.dev);
	close(f.peer);
	return 0;
}
