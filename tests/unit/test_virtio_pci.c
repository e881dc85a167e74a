// SPDX-License-Identifier: MIT
/* virtio-pci over the ECAM host bridge, driven like Linux's virtio_pci
 * modern driver does: enumerate through ECAM, size and place the BARs,
 * walk the capabilities, negotiate, set up MSI-X and a queue, then do
 * virtio-blk round trips that land in a real file.  INTx fallback with the
 * ISR, the PCI configuration access capability, and the hostile cases:
 * wrong widths, read-only fields, out-of-range selectors and vectors,
 * feature negotiation abuse, notifies in every wrong state, broken rings
 * (DEVICE_NEEDS_RESET), reset in the middle of I/O. */
#include "tests/support/virtio_fake.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/bus.h"
#include "core/log.h"
#include "core/msi.h"
#include "devices/pci.h"
#include "devices/pci_host.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_pci.h"
#include "devices/virtio_rng.h"
#include "devices/virtq.h"
#include "snapshot/snap.h"
#include "tests/support/files.h"
#include "tests/support/pcihost.h"

#define DISK_SIZE	(64 * 1024)
#define QSIZE		16
#define HDR		(FG_DATA)
#define STATUS		(FG_DATA + 0x100)
#define BUF		(FG_DATA + 0x1000)
#define IMSIC(h)	(0x28000000ULL + 0x1000ULL * (h))
#define ALL_OK		(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
			 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK)

/* What the driver found. */
struct drv {
	unsigned int slot;
	uint64_t bar[PCI_NR_BARS];
	uint64_t bar_size[PCI_NR_BARS];
	uint64_t common, notify, isr, device;
	uint32_t device_len, notify_mult;
	unsigned int cfg_cap, msix_cap, nvec;
	uint64_t table, pba;
};

struct t {
	struct gmem gm;
	struct tp_host p;
	struct fake_irq irq;
	struct irq_chip irqchip;
	struct pci_dev *pd;
	struct drv v;
	struct fdrv d;
	char path[PATH_MAX];
};

static uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off * 7 + 3);
}

static void host_up(struct t *t, struct pci_dev *pd)
{
	const int slot = 2;

	tp_host_up(&t->p, &t->irqchip, &pd, &slot, 1);
	t->pd = pd;
}

static void host_down(struct t *t)
{
	tp_host_down(&t->p);
}

/* A virtio-blk function on the disk at @path. */
static int blk_pci(struct t *t, const char *path, struct pci_dev **pd)
{
	struct virtio_backend *be;
	int err = vblk_create(path, false, &be);

	return err ? err : virtio_pci_create(&t->gm, be, pd);
}

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	struct pci_dev *pd;

	assert_non_null(t);
	assert_int_equal(gmem_alloc(&t->gm, FG_BASE, FG_SIZE), 0);
	t->irqchip = (struct irq_chip){ fake_irq_set, &t->irq };
	ts_temp_file(t->path, "vpci", DISK_SIZE, pattern);
	assert_int_equal(blk_pci(t, t->path, &pd), 0);
	host_up(t, pd);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;

	host_down(t);
	unlink(t->path);
	gmem_free(&t->gm);
	free(t);
	return 0;
}

/* ---- accessors -------------------------------------------------------------- */

static uint64_t rd(struct t *t, uint64_t addr, unsigned int len)
{
	return tp_rd(&t->p, addr, len);
}

static void wr(struct t *t, uint64_t addr, unsigned int len, uint64_t v)
{
	tp_wr(&t->p, addr, len, v);
}

static uint32_t cfg_rd(struct t *t, unsigned int reg, unsigned int len)
{
	return (uint32_t)rd(t, tp_ecam(0, t->v.slot, 0, reg), len);
}

static void cfg_wr(struct t *t, unsigned int reg, unsigned int len,
		   uint32_t v)
{
	wr(t, tp_ecam(0, t->v.slot, 0, reg), len, v);
}

#define C(off) (t->v.common + (off))

static uint8_t status(struct t *t)
{
	return (uint8_t)rd(t, C(VIRTIO_PCI_COMMON_STATUS), 1);
}

static void set_status(struct t *t, uint8_t s)
{
	wr(t, C(VIRTIO_PCI_COMMON_STATUS), 1, s);
}

/* ---- a Linux-like driver ------------------------------------------------------ */

/* Enumerate slot 2, size and place the BARs, enable decoding and bus
 * mastering, find the capabilities. */
static void drv_probe(struct t *t)
{
	struct drv *v = &t->v;
	uint64_t next32 = TP_M32_BASE, next64 = TP_M64_BASE;
	unsigned int pos, ttl = 48;

	memset(v, 0, sizeof(*v));
	v->slot = 2;
	assert_int_equal(cfg_rd(t, PCI_VENDOR_ID, 2), VIRTIO_PCI_VENDOR);
	for (unsigned int b = 0; b < PCI_NR_BARS; b++) {
		uint32_t lo, hi = 0xffffffff;
		uint64_t mask;
		bool is64;

		cfg_wr(t, PCI_BAR0 + 4 * b, 4, 0xffffffff);
		lo = cfg_rd(t, PCI_BAR0 + 4 * b, 4);
		if (!lo)
			continue;
		assert_int_equal(lo & 1, 0);	/* memory */
		is64 = (lo & 6) == PCI_BAR_MEM_TYPE_64;
		if (is64) {
			cfg_wr(t, PCI_BAR0 + 4 * (b + 1), 4, 0xffffffff);
			hi = cfg_rd(t, PCI_BAR0 + 4 * (b + 1), 4);
		}
		mask = (uint64_t)hi << 32 | (lo & ~0xfU);
		v->bar_size[b] = ~mask + 1;
		if (is64) {
			v->bar[b] = next64;
			next64 += v->bar_size[b] > 0x100000 ?
				  v->bar_size[b] : 0x100000;
		} else {
			v->bar[b] = next32;
			next32 += v->bar_size[b] > 0x100000 ?
				  v->bar_size[b] : 0x100000;
		}
		cfg_wr(t, PCI_BAR0 + 4 * b, 4, (uint32_t)v->bar[b]);
		if (is64) {
			cfg_wr(t, PCI_BAR0 + 4 * (b + 1), 4,
			       (uint32_t)(v->bar[b] >> 32));
			b++;
		}
	}
	cfg_wr(t, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	assert_true(cfg_rd(t, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	for (pos = cfg_rd(t, PCI_CAPABILITY_LIST, 1); pos >= 0x40 && ttl--;
	     pos = cfg_rd(t, pos + 1, 1)) {
		uint8_t id = (uint8_t)cfg_rd(t, pos, 1);
		uint8_t type, bar;
		uint32_t off, len;
		uint64_t addr;

		if (id == PCI_CAP_ID_MSIX) {
			uint32_t tbl = cfg_rd(t, pos + PCI_MSIX_TABLE, 4);
			uint32_t pba = cfg_rd(t, pos + PCI_MSIX_PBA, 4);

			v->msix_cap = pos;
			v->nvec = (cfg_rd(t, pos + PCI_MSIX_FLAGS, 2) &
				   PCI_MSIX_FLAGS_QSIZE) + 1;
			v->table = v->bar[tbl & 7] + (tbl & ~7U);
			v->pba = v->bar[pba & 7] + (pba & ~7U);
			continue;
		}
		assert_int_equal(id, PCI_CAP_ID_VNDR);
		type = (uint8_t)cfg_rd(t, pos + VIRTIO_PCI_CAP_CFG_TYPE, 1);
		bar = (uint8_t)cfg_rd(t, pos + VIRTIO_PCI_CAP_BAR, 1);
		off = cfg_rd(t, pos + VIRTIO_PCI_CAP_OFFSET, 4);
		len = cfg_rd(t, pos + VIRTIO_PCI_CAP_LENGTH, 4);
		if (type == VIRTIO_PCI_CAP_PCI_CFG) {
			v->cfg_cap = pos;
			continue;
		}
		assert_true(bar < PCI_NR_BARS && v->bar_size[bar]);
		assert_true(off + (uint64_t)len <= v->bar_size[bar]);
		addr = v->bar[bar] + off;
		switch (type) {
		case VIRTIO_PCI_CAP_COMMON_CFG:
			assert_true(len >= VIRTIO_PCI_COMMON_LEN);
			v->common = addr;
			break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG:
			v->notify = addr;
			v->notify_mult = cfg_rd(t, pos +
						VIRTIO_PCI_NOTIFY_CAP_MULT, 4);
			break;
		case VIRTIO_PCI_CAP_ISR_CFG:
			v->isr = addr;
			break;
		case VIRTIO_PCI_CAP_DEVICE_CFG:
			v->device = addr;
			v->device_len = len;
			break;
		default:
			fail_msg("unknown cfg_type %u", type);
		}
	}
	assert_true(v->common && v->notify && v->isr && v->msix_cap);
}

/* MSI-X on: vector 0 for config (hart 0), vector 1 for queue 0 (hart 1). */
static void drv_msix(struct t *t)
{
	struct drv *v = &t->v;

	cfg_wr(t, v->msix_cap + PCI_MSIX_FLAGS, 2,
	       PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	for (unsigned int i = 0; i < 2; i++) {
		wr(t, v->table + 16 * i, 4, (uint32_t)IMSIC(i));
		wr(t, v->table + 16 * i + 4, 4, 0);
		wr(t, v->table + 16 * i + 8, 4, 0x40 + i);
		wr(t, v->table + 16 * i + 12, 4, 0);
	}
	cfg_wr(t, v->msix_cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
}

static uint64_t drv_features(struct t *t)
{
	uint64_t f;

	wr(t, C(VIRTIO_PCI_COMMON_DFSELECT), 4, 1);
	f = rd(t, C(VIRTIO_PCI_COMMON_DF), 4) << 32;
	wr(t, C(VIRTIO_PCI_COMMON_DFSELECT), 4, 0);
	return f | rd(t, C(VIRTIO_PCI_COMMON_DF), 4);
}

static uint8_t drv_negotiate(struct t *t, uint64_t feat)
{
	set_status(t, 0);
	assert_int_equal(status(t), 0);
	set_status(t, VIRTIO_STATUS_ACKNOWLEDGE);
	set_status(t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(t, C(VIRTIO_PCI_COMMON_GFSELECT), 4, 0);
	wr(t, C(VIRTIO_PCI_COMMON_GF), 4, (uint32_t)feat);
	wr(t, C(VIRTIO_PCI_COMMON_GFSELECT), 4, 1);
	wr(t, C(VIRTIO_PCI_COMMON_GF), 4, (uint32_t)(feat >> 32));
	set_status(t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		   VIRTIO_STATUS_FEATURES_OK);
	return status(t);
}

/* Linux's vp_iowrite64_twopart: low half, then high half. */
static void wr64_twopart(struct t *t, uint64_t addr, uint64_t v)
{
	wr(t, addr, 4, (uint32_t)v);
	wr(t, addr + 4, 4, (uint32_t)(v >> 32));
}

static void drv_queue(struct t *t, uint16_t vec)
{
	wr(t, C(VIRTIO_PCI_COMMON_Q_SELECT), 2, 0);
	assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_Q_SIZE), 2),
			 VIRTIO_BLK_QUEUE_SIZE);
	assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_Q_ENABLE), 2), 0);
	wr(t, C(VIRTIO_PCI_COMMON_Q_SIZE), 2, QSIZE);
	wr64_twopart(t, C(VIRTIO_PCI_COMMON_Q_DESC), FG_DESC);
	wr64_twopart(t, C(VIRTIO_PCI_COMMON_Q_AVAIL), FG_AVAIL);
	wr64_twopart(t, C(VIRTIO_PCI_COMMON_Q_USED), FG_USED);
	wr(t, C(VIRTIO_PCI_COMMON_Q_MSIX), 2, vec);
	assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_Q_MSIX), 2), vec);
	wr(t, C(VIRTIO_PCI_COMMON_Q_ENABLE), 2, 1);
	assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_Q_ENABLE), 2), 1);
	fdrv_init(&t->d, &t->gm, QSIZE);
}

/* Full init; @msix: use MSI-X vectors 0 (config) and 1 (queue). */
static void drv_init(struct t *t, bool msix)
{
	drv_probe(t);
	if (msix)
		drv_msix(t);
	assert_true(drv_negotiate(t, drv_features(t)) &
		    VIRTIO_STATUS_FEATURES_OK);
	if (msix) {
		wr(t, C(VIRTIO_PCI_COMMON_MSIX), 2, 0);
		assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_MSIX), 2), 0);
	}
	drv_queue(t, msix ? 1 : VIRTIO_MSI_NO_VECTOR);
	set_status(t, ALL_OK);
	assert_int_equal(status(t), ALL_OK);
}

static void drv_notify(struct t *t, unsigned int q)
{
	uint16_t off;

	wr(t, C(VIRTIO_PCI_COMMON_Q_SELECT), 2, q);
	off = (uint16_t)rd(t, C(VIRTIO_PCI_COMMON_Q_NOFF), 2);
	wr(t, t->v.notify + (uint64_t)off * t->v.notify_mult, 2, q);
}

static void put_hdr(struct t *t, uint32_t type, uint64_t sector)
{
	uint32_t ty = htole32(type), prio = 0;
	uint64_t sec = htole64(sector);
	uint8_t *p = fg_ptr(&t->gm, HDR, 16);

	memcpy(p, &ty, 4);
	memcpy(p + 4, &prio, 4);
	memcpy(p + 8, &sec, 8);
}

/* Publish one request and notify; returns the status byte. */
static uint8_t blk_req(struct t *t, uint32_t type, uint64_t sector,
		       uint32_t len, bool expect_done)
{
	const struct fseg s[] = {
		{ HDR, 16, false },
		{ BUF, len, type == VIRTIO_BLK_T_IN },
		{ STATUS, 1, true },
	};
	uint16_t before = fdrv_used_idx(&t->d);

	put_hdr(t, type, sector);
	*fg_ptr(&t->gm, STATUS, 1) = 0xee;
	fdrv_publish(&t->d, fdrv_chain(&t->d, s, 3));
	drv_notify(t, 0);
	assert_int_equal(fdrv_used_idx(&t->d),
			 (uint16_t)(before + (expect_done ? 1 : 0)));
	return *fg_ptr(&t->gm, STATUS, 1);
}

static void file_read(struct t *t, uint64_t off, void *buf, size_t len)
{
	int fd = open(t->path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

/* ---- tests -------------------------------------------------------------------- */

static void test_identity_and_caps(void **state)
{
	struct t *t = *state;

	drv_probe(t);
	assert_int_equal(cfg_rd(t, PCI_DEVICE_ID, 2),
			 VIRTIO_PCI_DEVICE_BASE + VIRTIO_ID_BLOCK);
	assert_true(cfg_rd(t, PCI_REVISION_ID, 1) >= 1);
	assert_int_equal(cfg_rd(t, PCI_SUBSYSTEM_VENDOR_ID, 2),
			 VIRTIO_PCI_VENDOR);
	assert_true(cfg_rd(t, PCI_SUBSYSTEM_ID, 2) >= 0x40);
	assert_int_equal(cfg_rd(t, PCI_INTERRUPT_PIN, 1), 1);
	assert_int_equal(cfg_rd(t, PCI_HEADER_TYPE, 1), 0);
	assert_int_equal(t->v.bar_size[VIRTIO_PCI_MSIX_BAR],
			 VIRTIO_PCI_MSIX_BAR_SIZE);
	assert_int_equal(t->v.bar_size[VIRTIO_PCI_BAR], VIRTIO_PCI_BAR_SIZE);
	assert_true(t->v.bar[VIRTIO_PCI_BAR] >= TP_M64_BASE);
	assert_int_equal(t->v.bar_size[0] + t->v.bar_size[2] +
			 t->v.bar_size[3] + t->v.bar_size[5], 0);
	assert_int_equal(t->v.nvec, 2);		/* 1 queue + config */
	assert_int_equal(t->v.notify_mult, VIRTIO_PCI_NOTIFY_MULT);
	assert_int_equal(t->v.device_len, VIRTIO_BLK_CONFIG_SIZE);
	assert_true(t->v.cfg_cap);
	assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_NUMQ), 2), 1);
	assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_MSIX), 2),
			 VIRTIO_MSI_NO_VECTOR);
	/* Device config: capacity in sectors, as one 64-bit or two 32-bit. */
	assert_int_equal(rd(t, t->v.device, 8), DISK_SIZE / 512);
	assert_int_equal(rd(t, t->v.device, 4), DISK_SIZE / 512);
	assert_int_equal(rd(t, t->v.device + 4, 4), 0);
	assert_int_equal(rd(t, t->v.device + 20, 4), 512);
	assert_true(drv_features(t) & VIRTIO_BIT(VIRTIO_F_VERSION_1));
}

static void test_blk_roundtrip_msix(void **state)
{
	struct t *t = *state;
	uint8_t back[1024];
	uint8_t *buf;

	drv_init(t, true);
	buf = fg_ptr(&t->gm, BUF, 1024);
	for (int i = 0; i < 1024; i++)
		buf[i] = (uint8_t)(i ^ 0x5a);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_OUT, 3, 1024, true),
			 VIRTIO_BLK_S_OK);
	/* The queue's vector: hart 1's IMSIC, identity 0x41. */
	assert_int_equal(t->p.msi.sent, 1);
	assert_true(t->p.msi.addr == IMSIC(1));
	assert_int_equal(t->p.msi.data, 0x41);
	/* MSI-X on: no INTx, no ISR. */
	assert_false(t->irq.level);
	assert_int_equal(rd(t, t->v.isr, 1), 0);
	file_read(t, 3 * 512, back, sizeof(back));
	for (int i = 0; i < 1024; i++)
		assert_int_equal(back[i], (uint8_t)(i ^ 0x5a));
	file_read(t, 0, back, 512);
	for (int i = 0; i < 512; i++)
		assert_int_equal(back[i], pattern((uint64_t)i));
	/* Read it back through the device. */
	memset(buf, 0, 1024);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, 3, 1024, true),
			 VIRTIO_BLK_S_OK);
	for (int i = 0; i < 1024; i++)
		assert_int_equal(buf[i], (uint8_t)(i ^ 0x5a));
	assert_int_equal(t->p.msi.sent, 2);
	/* Driver suppresses interrupts: no message. */
	fg_w16(&t->gm, FG_AVAIL, 1);	/* VRING_AVAIL_F_NO_INTERRUPT */
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, 0, 512, true),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(t->p.msi.sent, 2);
	fg_w16(&t->gm, FG_AVAIL, 0);
	/* Vector masked: pending in the PBA, sent on unmask. */
	wr(t, t->v.table + 16 + 12, 4, 1);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, 0, 512, true),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(t->p.msi.sent, 2);
	assert_int_equal(rd(t, t->v.pba, 8), 2);
	wr(t, t->v.table + 16 + 12, 4, 0);
	assert_int_equal(t->p.msi.sent, 3);
	assert_int_equal(rd(t, t->v.pba, 8), 0);
	/* Queue without a vector: no message at all. */
	set_status(t, 0);
	drv_negotiate(t, drv_features(t));
	drv_queue(t, VIRTIO_MSI_NO_VECTOR);
	set_status(t, ALL_OK);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, 0, 512, true),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(t->p.msi.sent, 3);
	assert_int_equal(rd(t, t->v.isr, 1), 0);
}

static void test_intx_fallback(void **state)
{
	struct t *t = *state;
	uint32_t line = TP_INTX_BASE + (2 + 1 - 1) % 4;

	drv_init(t, false);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, 1, 512, true),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(t->p.msi.sent, 0);
	assert_true(t->irq.level);
	assert_int_equal(t->irq.last_irq, line);
	assert_true(cfg_rd(t, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* Reading the ISR returns and clears it, and drops the line. */
	assert_int_equal(rd(t, t->v.isr, 1), VIRTIO_PCI_ISR_QUEUE);
	assert_false(t->irq.level);
	assert_false(cfg_rd(t, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	assert_int_equal(rd(t, t->v.isr, 1), 0);
	/* INTx disabled in the command register: no line, ISR still set. */
	cfg_wr(t, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
	       PCI_COMMAND_INTX_DISABLE);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, 1, 512, true),
			 VIRTIO_BLK_S_OK);
	assert_false(t->irq.level);
	assert_true(cfg_rd(t, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	cfg_wr(t, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	assert_true(t->irq.level);
	/* A 4-byte ISR read works too (byte 0). */
	assert_int_equal(rd(t, t->v.isr, 4), VIRTIO_PCI_ISR_QUEUE);
	assert_false(t->irq.level);
	/* Writes to the ISR are ignored. */
	wr(t, t->v.isr, 1, 3);
	assert_int_equal(rd(t, t->v.isr, 1), 0);
}

static void test_common_cfg_hostile(void **state)
{
	struct t *t = *state;
	unsigned long logs;

	drv_init(t, true);
	logs = log_count();
	/* Wrong widths: ignored, reads 0. */
	assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_STATUS), 8), 0);
	assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_DF), 2), 0);
	assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_DF + 1), 1), 0);
	assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_Q_DESC + 2), 4), 0);
	wr(t, C(VIRTIO_PCI_COMMON_STATUS), 4, 0);	/* would reset */
	wr(t, C(VIRTIO_PCI_COMMON_Q_SELECT), 1, 5);
	wr(t, C(VIRTIO_PCI_COMMON_Q_SIZE), 4, 8);
	assert_true(log_count() >= logs + 7);
	assert_int_equal(status(t), ALL_OK);
	assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_Q_SELECT), 2), 0);
	assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_Q_SIZE), 2), QSIZE);
	/* Read-only fields. */
	wr(t, C(VIRTIO_PCI_COMMON_NUMQ), 2, 9);
	wr(t, C(VIRTIO_PCI_COMMON_DF), 4, 0xffffffff);
	wr(t, C(VIRTIO_PCI_COMMON_Q_NOFF), 2, 7);
	wr(t, C(VIRTIO_PCI_COMMON_CFGGENERATION), 1, 7);
	assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_NUMQ), 2), 1);
	assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_Q_NOFF), 2), 0);
	assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_CFGGENERATION), 1), 0);
	/* 64-bit fields: one 8-byte read, halves. */
	assert_true(rd(t, C(VIRTIO_PCI_COMMON_Q_USED), 8) == FG_USED);
	assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_Q_USED + 4), 4),
			 FG_USED >> 32);
	/* Changing a ready queue: refused. */
	wr(t, C(VIRTIO_PCI_COMMON_Q_DESC), 8, FG_BASE + 0x8000);
	wr(t, C(VIRTIO_PCI_COMMON_Q_SIZE), 2, 8);
	assert_true(rd(t, C(VIRTIO_PCI_COMMON_Q_DESC), 8) == FG_DESC);
	assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_Q_SIZE), 2), QSIZE);
	/* queue_enable 0 is not allowed: ignored. */
	wr(t, C(VIRTIO_PCI_COMMON_Q_ENABLE), 2, 0);
	wr(t, C(VIRTIO_PCI_COMMON_Q_ENABLE), 2, 2);
	assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_Q_ENABLE), 2), 1);
	/* Queue select out of range: size 0, writes refused. */
	for (uint32_t q = 1; q < 0x10000; q = q * 3 + 1) {
		wr(t, C(VIRTIO_PCI_COMMON_Q_SELECT), 2, q);
		assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_Q_SIZE), 2), 0);
		assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_Q_ENABLE), 2), 0);
		assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_Q_MSIX), 2),
				 VIRTIO_MSI_NO_VECTOR);
		wr(t, C(VIRTIO_PCI_COMMON_Q_SIZE), 2, 4);
		wr(t, C(VIRTIO_PCI_COMMON_Q_MSIX), 2, 0);
		wr(t, C(VIRTIO_PCI_COMMON_Q_ENABLE), 2, 1);
		wr(t, C(VIRTIO_PCI_COMMON_Q_DESC), 8, FG_DESC);
		assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_Q_DESC), 8), 0);
	}
	/* Vectors beyond the table read back as NO_VECTOR. */
	wr(t, C(VIRTIO_PCI_COMMON_MSIX), 2, 2);
	assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_MSIX), 2),
			 VIRTIO_MSI_NO_VECTOR);
	wr(t, C(VIRTIO_PCI_COMMON_Q_SELECT), 2, 0);
	wr(t, C(VIRTIO_PCI_COMMON_Q_MSIX), 2, 0x7fff);
	assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_Q_MSIX), 2),
			 VIRTIO_MSI_NO_VECTOR);
	wr(t, C(VIRTIO_PCI_COMMON_Q_MSIX), 2, 1);
	/* Still working. */
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, 0, 512, true),
			 VIRTIO_BLK_S_OK);
	/* Unused BAR space and the MSI-X BAR's gap. */
	assert_int_equal(rd(t, t->v.common + 0x800, 4), 0);
	wr(t, t->v.common + 0x3ffc, 4, 0);
	assert_int_equal(rd(t, t->v.bar[VIRTIO_PCI_MSIX_BAR] + 0xf00, 4), 0);
	/* Device config: outside its size, and read-only. */
	assert_true(rd(t, t->v.device + VIRTIO_BLK_CONFIG_SIZE - 4, 8) == 0);
	wr(t, t->v.device, 8, 0);
	assert_int_equal(rd(t, t->v.device, 8), DISK_SIZE / 512);
}

static void test_feature_abuse(void **state)
{
	struct t *t = *state;
	uint64_t offered;

	drv_probe(t);
	offered = drv_features(t);
	/* Features never offered, no VERSION_1: FEATURES_OK refused. */
	assert_false(drv_negotiate(t, offered | VIRTIO_BIT(40)) &
		     VIRTIO_STATUS_FEATURES_OK);
	assert_false(drv_negotiate(t, offered &
				   ~VIRTIO_BIT(VIRTIO_F_VERSION_1)) &
		     VIRTIO_STATUS_FEATURES_OK);
	/* Bits above 63. */
	set_status(t, 0);
	set_status(t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(t, C(VIRTIO_PCI_COMMON_GFSELECT), 4, 0);
	wr(t, C(VIRTIO_PCI_COMMON_GF), 4, (uint32_t)offered);
	wr(t, C(VIRTIO_PCI_COMMON_GFSELECT), 4, 1);
	wr(t, C(VIRTIO_PCI_COMMON_GF), 4, (uint32_t)(offered >> 32));
	wr(t, C(VIRTIO_PCI_COMMON_GFSELECT), 4, 2);
	wr(t, C(VIRTIO_PCI_COMMON_GF), 4, 1);
	assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_GF), 4), 0);
	set_status(t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		   VIRTIO_STATUS_FEATURES_OK);
	assert_false(status(t) & VIRTIO_STATUS_FEATURES_OK);
	/* Queue enable before FEATURES_OK, DRIVER_OK without it. */
	wr(t, C(VIRTIO_PCI_COMMON_Q_SELECT), 2, 0);
	wr(t, C(VIRTIO_PCI_COMMON_Q_ENABLE), 2, 1);
	assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_Q_ENABLE), 2), 0);
	set_status(t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		   VIRTIO_STATUS_DRIVER_OK);
	assert_false(status(t) & VIRTIO_STATUS_DRIVER_OK);
	/* A proper negotiation; then features are frozen. */
	assert_true(drv_negotiate(t, offered) & VIRTIO_STATUS_FEATURES_OK);
	wr(t, C(VIRTIO_PCI_COMMON_GFSELECT), 4, 0);
	wr(t, C(VIRTIO_PCI_COMMON_GF), 4, 0);
	assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_GF), 4), (uint32_t)offered);
	/* Clearing status bits without a reset: refused. */
	set_status(t, VIRTIO_STATUS_ACKNOWLEDGE);
	assert_true(status(t) & VIRTIO_STATUS_FEATURES_OK);
	/* NEEDS_RESET cannot be set by the driver. */
	set_status(t, 0xff);
	assert_false(status(t) & VIRTIO_STATUS_NEEDS_RESET);
	/* Device feature select beyond 1 reads 0. */
	wr(t, C(VIRTIO_PCI_COMMON_DFSELECT), 4, 0x12345);
	assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_DF), 4), 0);
	assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_DFSELECT), 4), 0x12345);
}

static void test_notify_hostile(void **state)
{
	struct t *t = *state;
	const struct fseg s[] = {
		{ HDR, 16, false }, { BUF, 512, true }, { STATUS, 1, true },
	};
	unsigned long logs;

	drv_probe(t);
	assert_true(drv_negotiate(t, drv_features(t)) &
		    VIRTIO_STATUS_FEATURES_OK);
	drv_queue(t, VIRTIO_MSI_NO_VECTOR);
	put_hdr(t, VIRTIO_BLK_T_IN, 0);
	fdrv_publish(&t->d, fdrv_chain(&t->d, s, 3));
	logs = log_count();
	/* Before DRIVER_OK. */
	drv_notify(t, 0);
	/* Odd widths and offsets, beyond the notify area. */
	wr(t, t->v.notify, 1, 0);
	wr(t, t->v.notify, 8, 0);
	wr(t, t->v.notify + 2, 2, 0);
	wr(t, t->v.notify + 4, 2, 1);
	wr(t, t->v.notify + 0x400, 4, 0);
	/* Reads of the notify area are harmless. */
	assert_int_equal(rd(t, t->v.notify, 2), 0);
	assert_true(log_count() >= logs + 5);
	assert_int_equal(fdrv_used_idx(&t->d), 0);
	/* DRIVER_OK with bus mastering off: nothing is consumed. */
	cfg_wr(t, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	set_status(t, ALL_OK);
	assert_int_equal(status(t), ALL_OK);
	assert_int_equal(fdrv_used_idx(&t->d), 0);
	cfg_wr(t, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	drv_notify(t, 0);
	assert_int_equal(fdrv_used_idx(&t->d), 1);
	/* Bus mastering off: notifies are ignored. */
	cfg_wr(t, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, 0, 512, false), 0xee);
	cfg_wr(t, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	drv_notify(t, 0);
	assert_int_equal(fdrv_used_idx(&t->d), 2);
	/* Memory decoding off: the notify never reaches the device. */
	cfg_wr(t, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, 0, 512, false), 0xee);
	assert_int_equal(status(t), 0xff);	/* all-ones: no decode */
}

static void test_needs_reset(void **state)
{
	struct t *t = *state;
	const struct fseg s[] = {
		{ HDR, 16, false }, { FG_BASE + FG_SIZE - 8, 512, true },
		{ STATUS, 1, true },
	};

	drv_init(t, true);
	/* A buffer that runs off the end of RAM. */
	put_hdr(t, VIRTIO_BLK_T_IN, 0);
	fdrv_publish(&t->d, fdrv_chain(&t->d, s, 3));
	drv_notify(t, 0);
	assert_true(status(t) & VIRTIO_STATUS_NEEDS_RESET);
	/* Config vector 0: hart 0's IMSIC, identity 0x40. */
	assert_true(t->p.msi.sent >= 1);
	assert_true(t->p.msi.addr == IMSIC(0));
	assert_int_equal(t->p.msi.data, 0x40);
	/* Further notifies are ignored until reset. */
	t->p.msi.sent = 0;
	drv_notify(t, 0);
	assert_int_equal(t->p.msi.sent, 0);
	set_status(t, 0);
	assert_int_equal(status(t), 0);
	assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_MSIX), 2),
			 VIRTIO_MSI_NO_VECTOR);
	wr(t, C(VIRTIO_PCI_COMMON_Q_SELECT), 2, 0);
	assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_Q_MSIX), 2),
			 VIRTIO_MSI_NO_VECTOR);
	/* Rings outside RAM at enable: NEEDS_RESET; the INTx path this time. */
	cfg_wr(t, t->v.msix_cap + PCI_MSIX_FLAGS, 2, 0);
	assert_true(drv_negotiate(t, drv_features(t)) &
		    VIRTIO_STATUS_FEATURES_OK);
	wr(t, C(VIRTIO_PCI_COMMON_Q_SIZE), 2, QSIZE);
	wr(t, C(VIRTIO_PCI_COMMON_Q_DESC), 8, 0x1000);
	wr(t, C(VIRTIO_PCI_COMMON_Q_ENABLE), 2, 1);
	assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_Q_ENABLE), 2), 0);
	assert_true(status(t) & VIRTIO_STATUS_NEEDS_RESET);
	set_status(t, ALL_OK);	/* DRIVER_OK after the error */
	set_status(t, 0);
	drv_init(t, false);
	/* A broken ring with DRIVER_OK: config interrupt via ISR bit 1. */
	fdrv_desc(&t->d, 0, BUF, 16, DESC_F_NEXT, 0);	/* loops */
	fdrv_publish(&t->d, 0);
	drv_notify(t, 0);
	assert_true(status(t) & VIRTIO_STATUS_NEEDS_RESET);
	assert_true(t->irq.level);
	assert_int_equal(rd(t, t->v.isr, 1) & VIRTIO_PCI_ISR_CONFIG,
			 VIRTIO_PCI_ISR_CONFIG);
	assert_false(t->irq.level);
}

static void test_reset_mid_io(void **state)
{
	struct t *t = *state;
	const struct fseg s[] = {
		{ HDR, 16, false }, { BUF, 512, false }, { STATUS, 1, true },
	};
	uint8_t back[512];

	drv_init(t, false);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, 0, 512, true),
			 VIRTIO_BLK_S_OK);
	assert_true(t->irq.level);
	/* Publish a write, then reset instead of notifying. */
	memset(fg_ptr(&t->gm, BUF, 512), 0x77, 512);
	put_hdr(t, VIRTIO_BLK_T_OUT, 5);
	fdrv_publish(&t->d, fdrv_chain(&t->d, s, 3));
	set_status(t, 0);
	assert_false(t->irq.level);
	assert_int_equal(rd(t, t->v.isr, 1), 0);
	drv_notify(t, 0);
	wr(t, C(VIRTIO_PCI_COMMON_Q_SELECT), 2, 0);
	assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_Q_ENABLE), 2), 0);
	assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_Q_SIZE), 2),
			 VIRTIO_BLK_QUEUE_SIZE);
	assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_Q_DESC), 8), 0);
	file_read(t, 5 * 512, back, 512);
	assert_int_equal(back[0], pattern(5 * 512));
	/* A new driver instance works from scratch. */
	drv_init(t, true);
	memset(fg_ptr(&t->gm, BUF, 512), 0x77, 512);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_OUT, 5, 512, true),
			 VIRTIO_BLK_S_OK);
	file_read(t, 5 * 512, back, 512);
	assert_int_equal(back[0], 0x77);
	assert_int_equal(back[511], 0x77);
}

/* The PCI configuration access capability: BAR 4 through config space. */
static uint32_t cfgwin_rd(struct t *t, uint8_t bar, uint32_t off,
			  uint32_t len)
{
	unsigned int c = t->v.cfg_cap;

	cfg_wr(t, c + VIRTIO_PCI_CAP_BAR, 1, bar);
	cfg_wr(t, c + VIRTIO_PCI_CAP_OFFSET, 4, off);
	cfg_wr(t, c + VIRTIO_PCI_CAP_LENGTH, 4, len);
	return cfg_rd(t, c + VIRTIO_PCI_CFG_CAP_DATA, 4);
}

static void cfgwin_wr(struct t *t, uint32_t off, uint32_t len, uint32_t v)
{
	unsigned int c = t->v.cfg_cap;

	cfg_wr(t, c + VIRTIO_PCI_CAP_BAR, 1, VIRTIO_PCI_BAR);
	cfg_wr(t, c + VIRTIO_PCI_CAP_OFFSET, 4, off);
	cfg_wr(t, c + VIRTIO_PCI_CAP_LENGTH, 4, len);
	cfg_wr(t, c + VIRTIO_PCI_CFG_CAP_DATA, 4, v);
}

static void test_pci_cfg_cap(void **state)
{
	struct t *t = *state;
	unsigned long logs;

	drv_probe(t);
	/* Works with memory decoding off, as firmware may use it. */
	cfg_wr(t, PCI_COMMAND, 2, 0);
	assert_int_equal(cfg_rd(t, t->v.cfg_cap + VIRTIO_PCI_CAP_LEN, 1), 20);
	cfgwin_wr(t, VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
	assert_int_equal(cfgwin_rd(t, VIRTIO_PCI_BAR, VIRTIO_PCI_COMMON_DF, 4),
			 1);	/* VERSION_1 */
	assert_int_equal(cfgwin_rd(t, VIRTIO_PCI_BAR, VIRTIO_PCI_COMMON_NUMQ,
				   2) & 0xffff, 1);
	cfgwin_wr(t, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(cfgwin_rd(t, VIRTIO_PCI_BAR,
				   VIRTIO_PCI_COMMON_STATUS, 1) & 0xff,
			 VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(cfgwin_rd(t, VIRTIO_PCI_BAR, VIRTIO_PCI_DEVICE_OFF,
				   4), DISK_SIZE / 512);
	/* Bad windows: refused and logged, nothing touched. */
	logs = log_count();
	cfgwin_rd(t, VIRTIO_PCI_MSIX_BAR, 0, 4);
	cfgwin_rd(t, 7, 0, 4);
	cfgwin_rd(t, VIRTIO_PCI_BAR, 0, 3);
	cfgwin_rd(t, VIRTIO_PCI_BAR, 2, 4);
	cfgwin_rd(t, VIRTIO_PCI_BAR, VIRTIO_PCI_BAR_SIZE, 4);
	cfgwin_rd(t, VIRTIO_PCI_BAR, 0xfffffffc, 4);
	cfgwin_rd(t, VIRTIO_PCI_BAR, 0, 0);
	cfgwin_wr(t, 0xfffffffe, 2, 0);
	assert_true(log_count() >= logs + 8);
	/* Reading the ISR through the window clears it, like a BAR read. */
	cfg_wr(t, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	assert_int_equal(status(t), VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(cfgwin_rd(t, VIRTIO_PCI_BAR, VIRTIO_PCI_ISR_OFF, 1)
			 & 0xff, 0);
	/* Notifies through the window. */
	drv_init(t, false);
	put_hdr(t, VIRTIO_BLK_T_IN, 0);
	{
		const struct fseg s[] = { { HDR, 16, false },
					  { BUF, 512, true },
					  { STATUS, 1, true } };

		fdrv_publish(&t->d, fdrv_chain(&t->d, s, 3));
	}
	cfgwin_wr(t, VIRTIO_PCI_NOTIFY_OFF, 2, 0);
	assert_int_equal(fdrv_used_idx(&t->d), 1);
	assert_int_equal(cfgwin_rd(t, VIRTIO_PCI_BAR, VIRTIO_PCI_ISR_OFF, 1)
			 & 0xff, VIRTIO_PCI_ISR_QUEUE);
	assert_false(t->irq.level);
}

static void test_msi_refused(void **state)
{
	struct t *t = *state;
	unsigned long logs;

	drv_init(t, true);
	/* A message address that is no IMSIC: the chip refuses, we log. */
	wr(t, t->v.table + 16, 8, 0xdead0000ULL);
	t->p.msi.ret = -EINVAL;
	logs = log_count();
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, 0, 512, true),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(t->p.msi.sent, 1);
	assert_true(t->p.msi.addr == 0xdead0000ULL);
	assert_true(log_count() > logs);
	t->p.msi.ret = 0;
	/* MSI-X disabled mid-flight: INTx takes over. */
	cfg_wr(t, t->v.msix_cap + PCI_MSIX_FLAGS, 2, 0);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, 0, 512, true),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(t->p.msi.sent, 1);
	assert_true(t->irq.level);
	/* Re-enabled: the line drops although the ISR is still set. */
	cfg_wr(t, t->v.msix_cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	assert_false(t->irq.level);
	assert_int_equal(rd(t, t->v.isr, 1), VIRTIO_PCI_ISR_QUEUE);
}

/* What the device asked KVM for (a fake KVM_IOEVENTFD). */
struct iev_call {
	uint64_t addr;
	unsigned int len;
	uint64_t match;
	int fd;
	bool on;
};

static struct iev_call iev_calls[64];
static unsigned int nr_iev_calls;

static int fake_iev(void *ctx, uint64_t addr, unsigned int len,
		    uint64_t match, int fd, bool on)
{
	(void)ctx;
	if (nr_iev_calls < 64)
		iev_calls[nr_iev_calls++] = (struct iev_call){ addr, len, match,
							       fd, on };
	return 0;
}

/* The last two calls: queues 0 and 1 at BAR 4 + @bar4 (@on). */
static void expect_iev_pair(uint64_t bar4, bool on)
{
	assert_true(nr_iev_calls >= 2);
	for (unsigned int q = 0; q < 2; q++) {
		const struct iev_call *c = &iev_calls[nr_iev_calls - 2 + q];

		assert_true(c->addr == bar4 + VIRTIO_PCI_NOTIFY_OFF +
				       q * VIRTIO_PCI_NOTIFY_MULT);
		assert_int_equal(c->len, 2);
		assert_int_equal(c->match, q);
		assert_true(c->fd >= 0);
		assert_int_equal(c->on, on);
	}
}

/* A fresh virtio-blk function (@o) on the host, its threads started
 * with ioeventfds through @iev: none assigned before BAR 4 is placed. */
static void threads_up(struct t *t, const struct vblk_opts *o,
		       const struct virtio_ioeventfd *iev)
{
	struct virtio_backend *be;
	struct pci_dev *pd;

	host_down(t);
	nr_iev_calls = 0;
	assert_int_equal(vblk_open(t->path, o, &be), 0);
	assert_int_equal(virtio_pci_create(&t->gm, be, &pd), 0);
	host_up(t, pd);
	assert_int_equal(virtio_backend_start(be, NULL, iev), 0);
	assert_int_equal(nr_iev_calls, 0);	/* BAR not placed yet */
}

/* Queue notifications as ioeventfds follow BAR 4 wherever the guest puts
 * it, and a write of the eventfd (what KVM does) serves the queue. */
static void test_ioeventfd_follows_bar(void **state)
{
	struct t *t = *state;
	const struct vblk_opts o = { .queues = 2, .io = VBLK_IO_THREADS };
	const struct virtio_ioeventfd iev = { fake_iev, NULL };
	const struct fseg s[] = {
		{ HDR, 16, false }, { BUF, 512, true }, { STATUS, 1, true },
	};
	uint64_t bar4, one = 1;
	unsigned int n;

	threads_up(t, &o, &iev);
	drv_init(t, true);
	bar4 = t->v.bar[VIRTIO_PCI_BAR];
	expect_iev_pair(bar4, true);
	n = nr_iev_calls;
	/* Memory decode off: gone; on again: back. */
	cfg_wr(t, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
	assert_int_equal(nr_iev_calls, n + 2);
	expect_iev_pair(bar4, false);
	cfg_wr(t, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	assert_int_equal(nr_iev_calls, n + 4);
	expect_iev_pair(bar4, true);
	/* The guest moves the BAR (64-bit: low dword first). */
	cfg_wr(t, PCI_BAR0 + 4 * VIRTIO_PCI_BAR, 4,
	       (uint32_t)(bar4 + 0x100000));
	expect_iev_pair(bar4 + 0x100000, true);
	assert_false(iev_calls[nr_iev_calls - 3].on);
	cfg_wr(t, PCI_BAR0 + 4 * VIRTIO_PCI_BAR, 4, (uint32_t)bar4);
	expect_iev_pair(bar4, true);
	/* KVM signals the eventfd: the request is served, MSI-X sent. */
	put_hdr(t, VIRTIO_BLK_T_IN, 2);
	*fg_ptr(&t->gm, STATUS, 1) = 0xee;
	fdrv_publish(&t->d, fdrv_chain(&t->d, s, 3));
	assert_int_equal(write(iev_calls[nr_iev_calls - 2].fd, &one, 8), 8);
	for (int i = 0; fdrv_used_idx(&t->d) != 1; i++) {
		assert_true(i < 100000);
		usleep(100);
	}
	(void)rd(t, C(VIRTIO_PCI_COMMON_STATUS), 1);	/* lock order */
	assert_int_equal(*fg_ptr(&t->gm, STATUS, 1), VIRTIO_BLK_S_OK);
	assert_int_equal(*fg_ptr(&t->gm, BUF, 1), pattern(2 * 512));
	assert_int_equal(t->p.msi.sent, 1);
}

static void test_rng(void **state)
{
	struct t *t = *state;
	struct virtio_backend *be;
	struct pci_dev *pd;
	const struct fseg s = { BUF, 64, true };
	uint8_t *buf;
	int nonzero = 0;

	host_down(t);
	assert_int_equal(vrng_create(&be), 0);
	assert_int_equal(virtio_pci_create(&t->gm, be, &pd), 0);
	host_up(t, pd);
	drv_probe(t);
	assert_int_equal(cfg_rd(t, PCI_DEVICE_ID, 2),
			 VIRTIO_PCI_DEVICE_BASE + VIRTIO_ID_RNG);
	assert_int_equal(t->v.device, 0);	/* no device config */
	drv_msix(t);
	assert_true(drv_negotiate(t, drv_features(t)) &
		    VIRTIO_STATUS_FEATURES_OK);
	wr(t, C(VIRTIO_PCI_COMMON_Q_SELECT), 2, 0);
	wr(t, C(VIRTIO_PCI_COMMON_Q_SIZE), 2, QSIZE);
	wr(t, C(VIRTIO_PCI_COMMON_Q_DESC), 8, FG_DESC);
	wr(t, C(VIRTIO_PCI_COMMON_Q_AVAIL), 8, FG_AVAIL);
	wr(t, C(VIRTIO_PCI_COMMON_Q_USED), 8, FG_USED);
	wr(t, C(VIRTIO_PCI_COMMON_Q_MSIX), 2, 1);
	wr(t, C(VIRTIO_PCI_COMMON_Q_ENABLE), 2, 1);
	set_status(t, ALL_OK);
	fdrv_init(&t->d, &t->gm, QSIZE);
	buf = fg_ptr(&t->gm, BUF, 64);
	memset(buf, 0, 64);
	fdrv_publish(&t->d, fdrv_chain(&t->d, &s, 1));
	drv_notify(t, 0);
	assert_int_equal(fdrv_used_idx(&t->d), 1);
	assert_int_equal(fdrv_used_len(&t->d, 0), 64);
	for (int i = 0; i < 64; i++)
		nonzero += buf[i] != 0;
	assert_true(nonzero > 32);
	assert_int_equal(t->p.msi.sent, 1);
	/* Device config accesses: none there. */
	assert_int_equal(rd(t, t->v.common + VIRTIO_PCI_DEVICE_OFF, 4), 0);
}

/* One vCPU hammers config space (decoding, bus mastering, MSI-X masking,
 * BAR moves) while another does I/O through the BARs: no crash, no lost
 * request once everything is back on. */
struct race {
	struct t *t;
	bool stop;
};

static void *config_hammer(void *arg)
{
	struct race *r = arg;
	struct t *t = r->t;
	unsigned int i = 0;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		uint16_t cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;

		if (i % 3 == 0)
			cmd &= (uint16_t)~PCI_COMMAND_MASTER;
		if (i % 5 == 0)
			cmd &= (uint16_t)~PCI_COMMAND_MEMORY;
		cfg_wr(t, PCI_COMMAND, 2, cmd);
		cfg_wr(t, t->v.msix_cap + PCI_MSIX_FLAGS, 2,
		       PCI_MSIX_FLAGS_ENABLE |
		       (i % 2 ? PCI_MSIX_FLAGS_MASKALL : 0));
		if (i % 7 == 0) {	/* move BAR 4 away and back */
			cfg_wr(t, PCI_BAR0 + 16, 4, 0x10000000);
			cfg_wr(t, PCI_BAR0 + 16, 4,
			       (uint32_t)t->v.bar[VIRTIO_PCI_BAR]);
		}
		cfg_rd(t, PCI_STATUS, 2);
		i++;
	}
	return NULL;
}

static void test_concurrent_config_and_io(void **state)
{
	struct t *t = *state;
	struct race r = { .t = t };
	const struct fseg s[] = {
		{ HDR, 16, false }, { BUF, 512, true }, { STATUS, 1, true },
	};
	pthread_t th;
	uint16_t published = 0;

	drv_init(t, true);
	put_hdr(t, VIRTIO_BLK_T_IN, 0);
	assert_int_equal(pthread_create(&th, NULL, config_hammer, &r), 0);
	for (int i = 0; i < 2000; i++) {
		/* Keep at most QSIZE / 3 requests outstanding. */
		if ((uint16_t)(published - fdrv_used_idx(&t->d)) < QSIZE / 3) {
			t->d.next = (uint16_t)(3 * (published % (QSIZE / 3)));
			fdrv_publish(&t->d, fdrv_chain(&t->d, s, 3));
			published++;
		}
		wr(t, t->v.notify, 2, 0);
		rd(t, t->v.common + VIRTIO_PCI_COMMON_STATUS, 1);
	}
	__atomic_store_n(&r.stop, true, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	cfg_wr(t, PCI_BAR0 + 16, 4, (uint32_t)t->v.bar[VIRTIO_PCI_BAR]);
	cfg_wr(t, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	cfg_wr(t, t->v.msix_cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	drv_notify(t, 0);
	assert_int_equal(fdrv_used_idx(&t->d), published);
	assert_int_equal(status(t), ALL_OK);
	assert_int_equal(rd(t, t->v.pba, 8), 0);	/* all delivered */
}

/* A backend for the constructor's checks. */
/* ---- snapshots ---------------------------------------------------------------- */

/* Offsets in a virtio-blk function's record (one queue): after the core's
 * (37 bytes, then 36 for the queue), the ISR, the config vector, the
 * queue's vector. */
#define R_CVEC		(37 + 36 + 1)
#define R_QVEC		(R_CVEC + 2)

static int fn_save(struct pci_dev *pd, struct snap_w *w)
{
	int err;

	snap_w_init(w);
	pthread_mutex_lock(&pd->lock);
	err = pd->ops->save(pd, w);
	pthread_mutex_unlock(&pd->lock);
	return err;
}

static int fn_load(struct pci_dev *pd, const uint8_t *p, size_t n)
{
	struct snap_r r;
	int err;

	snap_r_init(&r, p, n);
	pthread_mutex_lock(&pd->lock);
	err = pd->ops->load(pd, &r);
	pthread_mutex_unlock(&pd->lock);
	return err;
}

/* What the PCI core's record puts back (config space, BARs): written raw,
 * so that no config hook sees it, as pci_core_load() does. */
static void core_restore(struct t *t, struct pci_dev *pd)
{
	pthread_mutex_lock(&pd->lock);
	for (unsigned int b = 0; b < PCI_NR_BARS; b++) {
		if (!t->v.bar[b])
			continue;
		pci_cfg_set(pd, PCI_BAR0 + 4 * b, 4,
			    (uint32_t)t->v.bar[b] |
			    (b == VIRTIO_PCI_BAR ? PCI_BAR_MEM_TYPE_64 : 0));
		if (b == VIRTIO_PCI_BAR)
			pci_cfg_set(pd, PCI_BAR0 + 4 * (b + 1), 4,
				    (uint32_t)(t->v.bar[b] >> 32));
	}
	pci_cfg_set(pd, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	pthread_mutex_unlock(&pd->lock);
}

/* A fresh function of the same configuration loads what the driver left
 * (status, queue, vectors), saves it again byte for byte, and the driver
 * carries on; the notify ioeventfds follow BAR 4 where the PCI core's
 * record put it; vectors beyond the table are refused. */
static void test_snapshot(void **state)
{
	struct t *t = *state;
	const struct vblk_opts o = { .queues = 1, .io = VBLK_IO_THREADS };
	const struct virtio_ioeventfd iev = { fake_iev, NULL };
	struct snap_w w, w2;
	struct pci_dev *pd;
	unsigned int sent;
	uint64_t bar4;

	drv_init(t, true);
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, 3, 512, true),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(fn_save(t->pd, &w), 0);
	host_down(t);

	assert_int_equal(blk_pci(t, t->path, &pd), 0);
	host_up(t, pd);
	core_restore(t, pd);
	drv_msix(t);		/* the table: the PCI core's too */
	sent = t->p.msi.sent;
	assert_int_equal(fn_load(pd, w.buf, w.len), 0);
	assert_int_equal(t->p.msi.sent, sent);	/* no interrupt */
	assert_int_equal(fn_save(pd, &w2), 0);
	assert_int_equal(w2.len, w.len);
	assert_memory_equal(w2.buf, w.buf, w.len);
	snap_w_free(&w2);
	assert_int_equal(status(t), ALL_OK);
	assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_MSIX), 2), 0);
	assert_int_equal(rd(t, C(VIRTIO_PCI_COMMON_Q_MSIX), 2), 1);
	sent = t->p.msi.sent;
	assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, 4, 512, true),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(fdrv_used_idx(&t->d), 2);
	assert_int_equal(t->p.msi.sent, sent + 1);
	assert_int_equal(t->p.msi.data, 0x41);
	host_down(t);

	/* Vectors beyond the two in the table. */
	assert_int_equal(blk_pci(t, t->path, &pd), 0);
	host_up(t, pd);
	core_restore(t, pd);
	/* The host bridge decodes the BARs after a config write. */
	cfg_wr(t, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	w.buf[R_QVEC] = 2;
	assert_int_equal(fn_load(pd, w.buf, w.len), -EBADMSG);
	w.buf[R_QVEC] = 1;
	w.buf[R_CVEC] = 7;
	assert_int_equal(fn_load(pd, w.buf, w.len), -EBADMSG);
	assert_int_equal(status(t), 0);
	w.buf[R_CVEC] = 0;

	/* I/O threads with ioeventfds, started before the load. */
	threads_up(t, &o, &iev);
	pd = t->pd;
	core_restore(t, pd);
	assert_int_equal(nr_iev_calls, 0);
	assert_int_equal(fn_load(pd, w.buf, w.len), 0);
	bar4 = t->v.bar[VIRTIO_PCI_BAR];
	assert_int_equal(nr_iev_calls, 1);
	assert_true(iev_calls[0].addr == bar4 + VIRTIO_PCI_NOTIFY_OFF);
	assert_true(iev_calls[0].on);
	assert_int_equal(iev_calls[0].match, 0);
	snap_w_free(&w);
}

static void nop_cfg(struct virtio_backend *be, uint32_t off, uint8_t *data,
		    unsigned int len)
{
}

static int nop_handle(struct virtio_backend *be, struct virtq *vq,
		      unsigned int q)
{
	return 0;
}

static unsigned int nop_destroyed;

static void nop_destroy(struct virtio_backend *be)
{
	nop_destroyed++;
}


static void test_create_errors(void **state)
{
	struct t *t = *state;
	struct virtio_backend_ops ops = {
		.name = "nop", .device_id = 1, .nr_queues = 65,
		.max_queue_size = 8, .config_read = nop_cfg,
		.handle_queue = nop_handle, .destroy = nop_destroy,
	};
	struct virtio_backend be = { .ops = &ops, .config_size = 8 };
	struct pci_dev *pd = NULL;

	/* Each refusal releases the backend it was handed. */
	nop_destroyed = 0;
	assert_int_equal(virtio_pci_create(&t->gm, &be, &pd), -EINVAL);
	ops.nr_queues = 0;
	assert_int_equal(virtio_pci_create(&t->gm, &be, &pd), -EINVAL);
	ops.nr_queues = 64;
	be.config_size = VIRTIO_PCI_DEVICE_MAX + 1;
	assert_int_equal(virtio_pci_create(&t->gm, &be, &pd), -EINVAL);
	be.config_size = 8;
	ops.device_id = 0x10000;
	assert_int_equal(virtio_pci_create(&t->gm, &be, &pd), -EINVAL);
	ops.device_id = 1;
	ops.max_queue_size = 12;
	assert_int_equal(virtio_pci_create(&t->gm, &be, &pd), -EINVAL);
	ops.max_queue_size = 8;
	assert_int_equal(virtio_pci_create(NULL, &be, &pd), -EINVAL);
	assert_int_equal(virtio_pci_create(&t->gm, &be, NULL), -EINVAL);
	assert_int_equal(nop_destroyed, 7);
	assert_int_equal(virtio_pci_create(&t->gm, NULL, &pd), -EINVAL);
	assert_null(pd);
	/* 64 queues: 65 vectors fit the MSI-X BAR; the class is "other"
	 * unless the backend names one. */
	assert_int_equal(virtio_pci_create(&t->gm, &be, &pd), 0);
	assert_int_equal(pci_cfg_read(pd, PCI_DEVICE_ID, 2), 0x1041);
	assert_int_equal(pci_cfg_read(pd, PCI_CLASS_PROG, 1) |
			 pci_cfg_read(pd, PCI_CLASS_PROG + 1, 2) << 8,
			 0xff0000);
	assert_non_null(be.core);
	pci_dev_destroy(pd);
	assert_int_equal(nop_destroyed, 8);
	assert_int_equal(blk_pci(t, "/nonexistent/x", &pd), -ENOENT);
	/* The disk is locked by the first device. */
	assert_true(blk_pci(t, t->path, &pd) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_identity_and_caps),
		T(test_blk_roundtrip_msix),
		T(test_intx_fallback),
		T(test_common_cfg_hostile),
		T(test_feature_abuse),
		T(test_notify_hostile),
		T(test_needs_reset),
		T(test_reset_mid_io),
		T(test_pci_cfg_cap),
		T(test_msi_refused),
		T(test_rng),
		T(test_ioeventfd_follows_bar),
		T(test_snapshot),
		T(test_concurrent_config_and_io),
		T(test_create_errors),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
