// SPDX-License-Identifier: MIT
/* Fuzz target: virtio-net over virtio-mmio, one or two queue pairs, with
 * datagram socketpairs as the TAP queues (header + frame each).  The input
 * picks the features the driver takes, builds transmit chains (any
 * segments, either direction, direct or indirect, any virtio_net_hdr),
 * posts receive buffers, has the host send frames with any header (up to
 * and over the maximum), runs control-queue commands of any bytes,
 * notifies any queue, runs the main loop, pokes the rings and resets.
 *
 * Invariants: nothing the device hands the host breaks the rules of the
 * header it negotiated (only NEEDS_CSUM, segmentation only as negotiated
 * and with a size and a checksum, checksum inside the frame, no
 * num_buffers), frames are 1 to VIRTIO_NET_MAX_FRAME bytes; every used
 * element names a descriptor of the ring; the device never uses more chains than were published (until the
 * rings are poked); every transmit chain used is counted once (sent, bad
 * or dropped); control acks are OK or ERR; the main loop always goes idle;
 * the IRQ line follows InterruptStatus. */
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

/* Guest RAM layout (offsets): rings of up to 5 queues, tables, data. */
#define RING_AREA	0x10000ULL
#define Q_DESC(q)	(0x3000ULL * (q))
#define Q_AVAIL(q)	(0x3000ULL * (q) + 0x1000)
#define Q_USED(q)	(0x3000ULL * (q) + 0x2000)
#define TABLES		0x10000ULL	/* 64 B per queue slot */
#define CTRL_BUF	0x20000ULL
#define DATA		0x30000ULL

#define DEV_BASE	0x10001000ULL
#define IRQ		3
#define MAX_SEGS	4
#define NQ		5

static const uint8_t MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

struct net_fuzz {
	struct gmem *gm;
	struct rivet_dev *dev;
	struct virtio_backend *be;
	struct fuzz_irq irq;
	struct irq_chip chip;
	int peer[2];
	unsigned int pairs;
	uint16_t qsize;
	uint64_t want;		/* features the driver takes if offered */
	uint64_t feat;		/* negotiated */
	bool chaos;		/* rings poked: fewer checks until a reset */
	uint16_t avail[NQ];	/* published */
	uint16_t used_seen[NQ];
	uint16_t next_desc[NQ];
	uint64_t data_next;
	uint64_t tx_used;	/* transmit chains used since the reset */
	struct vnet_stats st0;	/* counters at the reset */
};

static uint8_t *buf;

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

static unsigned int ctrl_q(const struct net_fuzz *f)
{
	return f->feat & VIRTIO_BIT(VIRTIO_NET_F_MQ) ? 2 * f->pairs : 2;
}

/* The main loop until it goes idle; it must. */
static void loop(struct net_fuzz *f)
{
	for (unsigned int round = 0; round < 200; round++) {
		int fds[VIRTIO_POLL_MAX];
		unsigned int n = f->be->ops->poll_fds(f->be, fds);
		bool ready = false;

		FUZZ_CHECK(n == 2 * f->pairs);
		for (unsigned int i = 0; i < n; i++)
			ready |= fds[i] >= 0 && readable(fds[i]);
		if (!ready)
			return;
		f->be->ops->poll_ready(f->be);
	}
	FUZZ_CHECK(!"the main loop never goes idle");
}

/* What the device sent the host: headers within what was negotiated. */
static void drain_host(struct net_fuzz *f)
{
	for (unsigned int i = 0; i < f->pairs; i++) {
		ssize_t n;

		while ((n = recv(f->peer[i], buf, VNET_HDR_SIZE +
				 VIRTIO_NET_MAX_FRAME + 64, MSG_DONTWAIT)) >= 0) {
			struct vnet_hdr h;
			uint32_t len;
			uint8_t gso;

			FUZZ_CHECK(n > VNET_HDR_SIZE &&
				   n <= VNET_HDR_SIZE + VIRTIO_NET_MAX_FRAME);
			len = (uint32_t)n - VNET_HDR_SIZE;
			vnet_hdr_get(buf, &h);
			gso = h.gso_type & ~VNET_HDR_GSO_ECN;
			FUZZ_CHECK(!(h.flags & ~VNET_HDR_F_NEEDS_CSUM));
			FUZZ_CHECK(h.num_buffers == 0);
			if (h.flags) {
				FUZZ_CHECK(f->feat & VIRTIO_BIT(VIRTIO_NET_F_CSUM));
				FUZZ_CHECK((uint32_t)h.csum_start +
					   h.csum_offset + 2 <= len);
			} else {
				FUZZ_CHECK(!h.csum_start && !h.csum_offset);
			}
			if (!h.gso_type) {
				FUZZ_CHECK(!h.gso_size && !h.hdr_len);
				continue;
			}
			FUZZ_CHECK(h.flags && h.gso_size && h.hdr_len <= len);
			FUZZ_CHECK((gso == VNET_HDR_GSO_TCPV4 &&
				    (f->feat & VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4))) ||
				   (gso == VNET_HDR_GSO_TCPV6 &&
				    (f->feat & VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO6))) ||
				   (gso == VNET_HDR_GSO_UDP &&
				    (f->feat & VIRTIO_BIT(VIRTIO_NET_F_HOST_UFO)) &&
				    !(h.gso_type & VNET_HDR_GSO_ECN)));
			if (h.gso_type & VNET_HDR_GSO_ECN)
				FUZZ_CHECK(f->feat & VIRTIO_BIT(VIRTIO_NET_F_HOST_ECN));
		}
	}
}

/* New used elements of every queue: in the ring, within the chain. */
static void check_used(struct net_fuzz *f)
{
	for (unsigned int q = 0; q < NQ; q++) {
		uint16_t idx = (uint16_t)mmio_get(ram(f, Q_USED(q) + 2, 2), 2);

		if (!f->chaos)
			FUZZ_CHECK((uint16_t)(idx - f->used_seen[q]) <=
				   (uint16_t)(f->avail[q] - f->used_seen[q]));
		while (f->used_seen[q] != idx) {
			const uint8_t *e = ram(f, Q_USED(q) + 4 + 8ULL *
					       (f->used_seen[q] % f->qsize), 8);
			uint32_t id = (uint32_t)mmio_get(e, 4);
			uint32_t len = (uint32_t)mmio_get(e + 4, 4);

			/* After a poke the ring may hold anything.  Chains
			 * share descriptors once the driver reuses them early,
			 * so only the largest buffer bounds the length. */
			FUZZ_CHECK(f->chaos || id < f->qsize);
			FUZZ_CHECK(f->chaos ||
				   len <= VNET_HDR_SIZE + VIRTIO_NET_MAX_FRAME);
			if (q % 2 == 1 && q < 2 * f->pairs && !f->chaos)
				f->tx_used++;
			f->used_seen[q]++;
			if (f->chaos && (uint16_t)(idx - f->used_seen[q]) >
					f->qsize)
				f->used_seen[q] = idx;	/* garbage: skip */
		}
	}
}

static void check(struct net_fuzz *f)
{
	struct vnet_stats st;

	FUZZ_CHECK(f->irq.level[IRQ] ==
		   (mr32(f->dev, VIRTIO_MMIO_INTERRUPT_STATUS) != 0));
	drain_host(f);
	check_used(f);
	vnet_get_stats(f->be, &st);
	if (!f->chaos)
		FUZZ_CHECK(st.tx_packets + st.tx_bad + st.tx_dropped -
			   f->st0.tx_packets - f->st0.tx_bad -
			   f->st0.tx_dropped == f->tx_used);
}

/* ---- driver -------------------------------------------------------------- */

static void driver_init(struct net_fuzz *f)
{
	uint64_t offered;
	uint32_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		      VIRTIO_STATUS_FEATURES_OK;
	unsigned int nq;

	mw32(f->dev, VIRTIO_MMIO_STATUS, 0);
	loop(f);
	drain_host(f);
	memset(ram(f, 0, RING_AREA), 0, RING_AREA);
	memset(f->avail, 0, sizeof(f->avail));
	memset(f->used_seen, 0, sizeof(f->used_seen));
	memset(f->next_desc, 0, sizeof(f->next_desc));
	f->data_next = DATA;
	f->chaos = false;
	f->tx_used = 0;
	vnet_get_stats(f->be, &f->st0);
	mw32(f->dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	offered = (uint64_t)mr32(f->dev, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	mw32(f->dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	offered |= mr32(f->dev, VIRTIO_MMIO_DEVICE_FEATURES);
	f->feat = offered & f->want;
	FUZZ_CHECK(vmmio_negotiate(f->dev, f->feat) == st);
	nq = f->feat & VIRTIO_BIT(VIRTIO_NET_F_MQ) ? 2 * f->pairs : 2;
	if (f->feat & VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ))
		nq++;
	for (unsigned int q = 0; q < nq; q++)
		FUZZ_CHECK(vmmio_queue(f->dev, q, f->qsize,
				       FZ_RAM_BASE + Q_DESC(q),
				       FZ_RAM_BASE + Q_AVAIL(q),
				       FZ_RAM_BASE + Q_USED(q), true) == 1);
	st |= VIRTIO_STATUS_DRIVER_OK;
	mw32(f->dev, VIRTIO_MMIO_STATUS, st);
	FUZZ_CHECK(mr32(f->dev, VIRTIO_MMIO_STATUS) == st);
	loop(f);
}

/* Data space for a segment: a bump allocator that wraps. */
static uint64_t data_alloc(struct net_fuzz *f, uint32_t len)
{
	uint64_t at;

	if (f->data_next + len > FZ_NET_RAM_SIZE)
		f->data_next = DATA;
	at = f->data_next;
	f->data_next += (len + 15) & ~15u;
	return at;
}

/* A chain from the input on queue @q: [u8 flags][u8 nseg][segs: u16 len,
 * u8 flip]; @hdr (12 bytes, or NULL) goes at the start of its data. */
static void chain(struct net_fuzz *f, struct fin *in, unsigned int q,
		  bool rx, const uint8_t *hdr)
{
	uint8_t flags = fin_u8(in);
	unsigned int nseg = fin_u8(in) % MAX_SEGS + 1;
	bool indirect = (flags & FZ_NET_CHAIN_INDIRECT) &&
			(f->feat & VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC));
	uint16_t head = f->next_desc[q] % f->qsize;
	uint32_t hdr_left = hdr ? VNET_HDR_SIZE : 0;
	uint64_t table = TABLES + 0x400ULL * q + 64ULL * (head % 16);

	for (unsigned int i = 0; i < nseg; i++) {
		uint32_t len = fin_u16(in);
		bool writable = rx ^ !!(fin_u8(in) & FZ_NET_SEG_FLIP);
		uint64_t at = data_alloc(f, len);
		uint16_t dflags = (writable ? 2 : 0) | (i + 1 < nseg ? 1 : 0);
		uint16_t d = (uint16_t)((head + i) % f->qsize);

		if (hdr_left && len) {
			uint32_t k = len < hdr_left ? len : hdr_left;

			memcpy(ram(f, at, k), hdr + VNET_HDR_SIZE - hdr_left, k);
			hdr_left -= k;
		}
		if (indirect)
			vring_desc(ram(f, table + 16ULL * i, 16),
				   FZ_RAM_BASE + at, len, dflags,
				   (uint16_t)(i + 1));
		else
			vring_desc(ram(f, Q_DESC(q) + 16ULL * d, 16),
				   FZ_RAM_BASE + at, len, dflags,
				   (uint16_t)((d + 1) % f->qsize));
	}
	if (indirect) {
		vring_desc(ram(f, Q_DESC(q) + 16ULL * head, 16),
			   FZ_RAM_BASE + table, 16 * nseg, 4, 0);
		f->next_desc[q] = (uint16_t)(head + 1);
	} else {
		f->next_desc[q] = (uint16_t)(head + nseg);
	}
	mmio_put(ram(f, Q_AVAIL(q) + 4 + 2ULL * (f->avail[q] % f->qsize), 2),
		 2, head);
	f->avail[q]++;
	mmio_put(ram(f, Q_AVAIL(q) + 2, 2), 2, f->avail[q]);
	if (flags & FZ_NET_CHAIN_NOTIFY) {
		mw32(f->dev, VIRTIO_MMIO_QUEUE_NOTIFY, q);
		loop(f);
	}
}

static void op_send(struct net_fuzz *f, struct fin *in)
{
	uint8_t pair = fin_u8(in) % f->pairs;
	uint8_t kind = fin_u8(in);
	uint32_t len = fin_u16(in);

	fin_bytes(in, buf, VNET_HDR_SIZE);
	if (kind & FZ_NET_SEND_OVERSIZE)
		len = VIRTIO_NET_MAX_FRAME + 1 + len % 64;
	for (uint32_t i = 0; i < len; i++)
		buf[VNET_HDR_SIZE + i] = (uint8_t)(i * 7 + kind);
	if (len >= 6 && (kind & FZ_NET_SEND_TO_US))
		memcpy(buf + VNET_HDR_SIZE, MAC, 6);
	/* Best effort: a full socket buffer just drops it. */
	if (send(f->peer[pair], buf, VNET_HDR_SIZE + len, MSG_DONTWAIT) < 0)
		return;
}

static void op_ctrl(struct net_fuzz *f, struct fin *in)
{
	uint8_t len = fin_u8(in);
	unsigned int q = ctrl_q(f);
	uint16_t head = f->next_desc[q] % f->qsize, used;
	uint8_t *ack;

	if (!(f->feat & VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ)))
		return;
	fin_bytes(in, ram(f, CTRL_BUF, len + 1u), len + 1u);
	ack = ram(f, CTRL_BUF + 0x800, 1);
	*ack = 0xee;
	if (len + 1u > 1)
		vring_desc(ram(f, Q_DESC(q) + 16ULL * head, 16),
			   FZ_RAM_BASE + CTRL_BUF, len + 1u, 1,
			   (uint16_t)((head + 1) % f->qsize));
	vring_desc(ram(f, Q_DESC(q) + 16ULL * ((head + (len + 1u > 1)) %
					       f->qsize), 16),
		   FZ_RAM_BASE + CTRL_BUF + 0x800, 1, 2, 0);
	f->next_desc[q] = (uint16_t)(head + 1 + (len + 1u > 1));
	mmio_put(ram(f, Q_AVAIL(q) + 4 + 2ULL * (f->avail[q] % f->qsize), 2),
		 2, head);
	f->avail[q]++;
	mmio_put(ram(f, Q_AVAIL(q) + 2, 2), 2, f->avail[q]);
	used = (uint16_t)mmio_get(ram(f, Q_USED(q) + 2, 2), 2);
	mw32(f->dev, VIRTIO_MMIO_QUEUE_NOTIFY, q);
	loop(f);
	if (!f->chaos && f->qsize > 1 &&
	    (uint16_t)mmio_get(ram(f, Q_USED(q) + 2, 2), 2) != used &&
	    !(mr32(f->dev, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET))
		FUZZ_CHECK(*ack == VIRTIO_NET_OK || *ack == VIRTIO_NET_ERR);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = { data, size };
	static struct net_fuzz f;
	struct vnet_opts o = { .set_offload = NULL };
	int fds[2];
	uint8_t cfg;

	fuzz_quiet();
	if (!buf) {
		buf = malloc(VNET_HDR_SIZE + VIRTIO_NET_MAX_FRAME + 256);
		FUZZ_CHECK(buf);
	}
	memset(&f, 0, sizeof(f));
	f.gm = fuzz_ram(FZ_RAM_BASE, FZ_NET_RAM_SIZE);
	memset(f.gm->host, 0, f.gm->size);
	cfg = fin_u8(&in);
	f.qsize = (uint16_t)(1u << ((cfg >> 1) & 7));
	f.pairs = cfg & FZ_NET_CFG_MQ ? 2 : 1;
	f.want = VIRTIO_BIT(VIRTIO_F_VERSION_1) | (fin_le(&in, 3) & 0xffffff);
	if (cfg & 1)
		f.want |= VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC);
	o.offloads = cfg & FZ_NET_CFG_HOST_OFFLOADS ? 0x1f : 0;
	o.set_offload = fuzz_tap_offload;
	o.set_queue = fuzz_tap_queue;
	memcpy(o.mac, MAC, 6);
	for (unsigned int i = 0; i < f.pairs; i++) {
		int sv[2], sz = 1 << 22;

		FUZZ_CHECK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0,
				      sv) == 0);
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		fds[i] = sv[0];
		f.peer[i] = sv[1];
	}
	FUZZ_CHECK(vnet_create(fds, f.pairs, &o, &f.be) == 0);
	f.chip = (struct irq_chip){ fuzz_irq_set, &f.irq };
	FUZZ_CHECK(virtio_mmio_create(f.gm, DEV_BASE, 0x1000,
				      (struct irq_line){ &f.chip, IRQ },
				      f.be, &f.dev) == 0);
	driver_init(&f);

	while (in.left) {
		uint8_t op = fin_u8(&in) % FZ_NET_NR_OPS;

		switch (op) {
		case FZ_NET_TX: {
			uint8_t hdr[VNET_HDR_SIZE];
			unsigned int pair = fin_u8(&in) % f.pairs;

			fin_bytes(&in, hdr, sizeof(hdr));
			chain(&f, &in, 2 * pair + 1, false, hdr);
			break;
		}
		case FZ_NET_RX_BUF:
			chain(&f, &in, 2 * (fin_u8(&in) % f.pairs), true, NULL);
			break;
		case FZ_NET_SEND:
			op_send(&f, &in);
			break;
		case FZ_NET_LOOP:
			loop(&f);
			break;
		case FZ_NET_NOTIFY:
			mw32(f.dev, VIRTIO_MMIO_QUEUE_NOTIFY, fin_u8(&in));
			loop(&f);
			break;
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
		case FZ_NET_CONFIG: {
			uint8_t off = fin_u8(&in), w = fin_u8(&in), b[8];
			unsigned int width = 1u << (w % 4);

			f.dev->ops->mmio_read(f.dev, VIRTIO_MMIO_CONFIG + off % 16,
					      b, width);
			break;
		}
		case FZ_NET_ACK:
			mw32(f.dev, VIRTIO_MMIO_INTERRUPT_ACK,
			     mr32(f.dev, VIRTIO_MMIO_INTERRUPT_STATUS));
			break;
		case FZ_NET_CTRL:
			op_ctrl(&f, &in);
			break;
		}
		if (mr32(f.dev, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET) {
			check(&f);
			driver_init(&f);
		}
		check(&f);
	}
	f.dev->ops->destroy(f.dev);
	for (unsigned int i = 0; i < f.pairs; i++)
		close(f.peer[i]);
	return 0;
}
