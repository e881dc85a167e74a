// SPDX-License-Identifier: MIT
/* The PCI function model and the ECAM host bridge, driven through the MMIO
 * bus as a guest sees them: ECAM decoding, absent functions, every access
 * width and offset, read-only fields, BAR sizing and placement (also
 * outside the windows and over each other), a capability walk as Linux and
 * EDK2 do it, MSI-X masking and pending bits, INTx swizzling, reset and
 * the device tree node. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acpi/aml.h"
#include "core/bus.h"
#include "core/device.h"
#include "core/fdt_util.h"
#include "core/irq.h"
#include "core/log.h"
#include "core/msi.h"
#include "devices/pci.h"
#include "devices/pci_host.h"
#include "tests/support/pcihost.h"


/* ---- fakes ---------------------------------------------------------------- */

struct fake_irqs {
	bool level[64];
	unsigned int calls;
};

static int fake_irqs_set(void *ctx, uint32_t irq, bool level)
{
	struct fake_irqs *f = ctx;

	assert_true(irq < 64);
	f->level[irq] = level;
	f->calls++;
	return 0;
}

/* A device: BAR 0 32-bit 4 KiB (MSI-X table at 0x800, PBA at 0xc00),
 * BAR 2 64-bit prefetchable 1 MiB, a vendor capability; records what its
 * BARs see and reads back (bar << 24 | offset). */
struct fdev {
	struct pci_dev pd;
	unsigned int reads, writes;
	unsigned int last_bar;
	uint64_t last_off;
	unsigned int last_len;
	uint64_t last_val;
	bool *destroyed;
};

static void fdev_bar_read(struct pci_dev *pd, unsigned int bar, uint64_t off,
			  uint8_t *data, unsigned int len)
{
	struct fdev *f = (struct fdev *)pd;

	f->reads++;
	f->last_bar = bar;
	f->last_off = off;
	f->last_len = len;
	mmio_put(data, len, (uint64_t)bar << 24 | off);
}

static void fdev_bar_write(struct pci_dev *pd, unsigned int bar, uint64_t off,
			   const uint8_t *data, unsigned int len)
{
	struct fdev *f = (struct fdev *)pd;

	f->writes++;
	f->last_bar = bar;
	f->last_off = off;
	f->last_len = len;
	f->last_val = mmio_get(data, len);
}

static void fdev_destroy(struct pci_dev *pd)
{
	struct fdev *f = (struct fdev *)pd;

	if (f->destroyed)
		*f->destroyed = true;
	pci_dev_fini(pd);
	free(f);
}

static const struct pci_dev_ops fdev_ops = {
	.name = "fake",
	.bar_read = fdev_bar_read,
	.bar_write = fdev_bar_write,
	.destroy = fdev_destroy,
};

static struct fdev *fdev_new(uint8_t pin)
{
	const struct pci_id id = { .vendor = 0x1234, .device = 0x5678,
				   .subsys_vendor = 0x1234, .subsys = 0x9abc,
				   .revision = 3, .class_code = 0xff0000,
				   .int_pin = pin };
	struct fdev *f = calloc(1, sizeof(*f));
	int cap;

	assert_non_null(f);
	assert_int_equal(pci_dev_init(&f->pd, &fdev_ops, &id), 0);
	assert_int_equal(pci_add_bar(&f->pd, 0, 0x1000, 0), 0);
	assert_int_equal(pci_add_bar(&f->pd, 2, 0x100000,
				     PCI_BAR_F_64 | PCI_BAR_F_PREFETCH), 0);
	cap = pci_add_cap(&f->pd, PCI_CAP_ID_VNDR, 8);
	assert_int_equal(cap, PCI_CAP_START);
	pci_cfg_set(&f->pd, cap + 2, 1, 8);
	assert_int_equal(pci_msix_init(&f->pd, 4, 0, 0x800, 0xc00), 0);
	return f;
}

/* ---- fixture ---------------------------------------------------------------- */

struct t {
	struct tp_host p;
	struct fake_irqs irqs;
	struct irq_chip irqchip;
	struct fdev *f;		/* in slot 3 */
	bool destroyed;
};

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	struct pci_dev *pd;
	const int slot = 3;

	assert_non_null(t);
	t->irqchip = (struct irq_chip){ fake_irqs_set, &t->irqs };
	t->f = fdev_new(1);
	t->f->destroyed = &t->destroyed;
	pd = &t->f->pd;
	tp_host_up(&t->p, &t->irqchip, &pd, &slot, 1);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;

	tp_host_down(&t->p);
	assert_true(t->destroyed);
	free(t);
	return 0;
}

static uint64_t rd(struct t *t, uint64_t addr, unsigned int len)
{
	return tp_rd(&t->p, addr, len);
}

static void wr(struct t *t, uint64_t addr, unsigned int len, uint64_t v)
{
	tp_wr(&t->p, addr, len, v);
}

static uint32_t cfg_rd(struct t *t, unsigned int slot, unsigned int reg,
		       unsigned int len)
{
	return (uint32_t)rd(t, tp_ecam(0, slot, 0, reg), len);
}

static void cfg_wr(struct t *t, unsigned int slot, unsigned int reg,
		   unsigned int len, uint32_t v)
{
	wr(t, tp_ecam(0, slot, 0, reg), len, v);
}

static uint64_t ones(unsigned int len)
{
	return len == 8 ? ~0ULL : (1ULL << (8 * len)) - 1;
}

/* ---- tests ------------------------------------------------------------------ */

static void test_host_bridge_and_absent(void **state)
{
	struct t *t = *state;
	unsigned long logs;

	assert_int_equal(cfg_rd(t, 0, PCI_VENDOR_ID, 2), PCI_HOST_BRIDGE_VENDOR);
	assert_int_equal(cfg_rd(t, 0, PCI_DEVICE_ID, 2), PCI_HOST_BRIDGE_DEVICE);
	assert_int_equal(cfg_rd(t, 0, PCI_REVISION_ID, 4) >> 8, 0x060000);
	assert_int_equal(cfg_rd(t, 0, PCI_HEADER_TYPE, 1), 0);
	assert_int_equal(cfg_rd(t, 3, 0, 4), 0x56781234);
	/* Empty slots, other functions, other buses: all-ones, any width. */
	for (unsigned int len = 1; len <= 4; len *= 2) {
		assert_int_equal(cfg_rd(t, 1, 0, len), ones(len));
		assert_int_equal(cfg_rd(t, 31, 0, len), ones(len));
		assert_int_equal(rd(t, tp_ecam(0, 3, 1, 0), len), ones(len));
		assert_int_equal(rd(t, tp_ecam(0, 0, 7, 0), len), ones(len));
		assert_int_equal(rd(t, tp_ecam(1, 3, 0, 0), len), ones(len));
		assert_int_equal(rd(t, tp_ecam(255, 31, 7, 0xffc), len),
				 ones(len));
	}
	/* No extended config space: 0 beyond 256 bytes. */
	assert_int_equal(cfg_rd(t, 3, 0x100, 4), 0);
	assert_int_equal(cfg_rd(t, 3, 0xffc, 4), 0);
	cfg_wr(t, 3, 0x100, 4, 0xffffffff);
	assert_int_equal(cfg_rd(t, 3, 0x100, 4), 0);
	/* 8-byte and misaligned accesses: logged, all-ones. */
	logs = log_count();
	assert_true(rd(t, tp_ecam(0, 3, 0, 0), 8) == ~0ULL);
	assert_int_equal(cfg_rd(t, 3, 1, 2), 0xffff);
	assert_int_equal(cfg_rd(t, 3, 2, 4), 0xffffffff);
	cfg_wr(t, 3, PCI_COMMAND + 1, 2, 0xffff);
	cfg_wr(t, 1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_true(log_count() >= logs + 5);
	assert_int_equal(cfg_rd(t, 3, PCI_COMMAND, 2), 0);
}

static void test_config_masks(void **state)
{
	struct t *t = *state;
	uint8_t before[256], after[256];
	static const unsigned int rw[] = {
		PCI_COMMAND, PCI_COMMAND + 1, PCI_CACHE_LINE_SIZE,
		PCI_INTERRUPT_LINE,
		0x10, 0x11, 0x12, 0x13, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
		0x1e, 0x1f,
	};

	for (unsigned int i = 0; i < 256; i++)
		before[i] = (uint8_t)cfg_rd(t, 3, i, 1);
	/* Every offset, every width, all-ones then zeros. */
	for (unsigned int len = 1; len <= 4; len *= 2)
		for (unsigned int off = 0; off < 256; off += len) {
			if (off >= 0x48 && off < 0x54)
				continue;	/* MSI-X control: later */
			cfg_wr(t, 3, off, len, 0xffffffff);
			cfg_wr(t, 3, off, len, 0);
		}
	for (unsigned int i = 0; i < 256; i++)
		after[i] = (uint8_t)cfg_rd(t, 3, i, 1);
	for (unsigned int i = 0; i < 256; i++) {
		bool writable = false;

		for (unsigned int j = 0; j < sizeof(rw) / sizeof(rw[0]); j++)
			writable |= rw[j] == i;
		if (!writable)
			assert_int_equal(after[i], before[i]);
	}
	/* Read-only identity. */
	assert_int_equal(cfg_rd(t, 3, PCI_SUBSYSTEM_ID, 2), 0x9abc);
	assert_int_equal(cfg_rd(t, 3, PCI_INTERRUPT_PIN, 1), 1);
	assert_int_equal(cfg_rd(t, 3, PCI_ROM_ADDRESS, 4), 0);
	/* Command: only the documented bits stick (no I/O space). */
	cfg_wr(t, 3, PCI_COMMAND, 2, 0xffff);
	assert_int_equal(cfg_rd(t, 3, PCI_COMMAND, 2),
			 PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
			 PCI_COMMAND_PARITY | PCI_COMMAND_SERR |
			 PCI_COMMAND_INTX_DISABLE);
	/* Status: capability list read-only, error bits write-1-to-clear. */
	assert_int_equal(cfg_rd(t, 3, PCI_STATUS, 2), PCI_STATUS_CAP_LIST);
	t->f->pd.cfg[PCI_STATUS + 1] |= 0x80;	/* detected parity error */
	cfg_wr(t, 3, PCI_STATUS, 2, 0);
	assert_int_equal(cfg_rd(t, 3, PCI_STATUS, 2), 0x8000 |
			 PCI_STATUS_CAP_LIST);
	cfg_wr(t, 3, PCI_STATUS, 2, 0xffff);
	assert_int_equal(cfg_rd(t, 3, PCI_STATUS, 2), PCI_STATUS_CAP_LIST);
	/* Interrupt line is the guest's scratch byte. */
	cfg_wr(t, 3, PCI_INTERRUPT_LINE, 1, 0x5a);
	assert_int_equal(cfg_rd(t, 3, PCI_INTERRUPT_LINE, 1), 0x5a);
	/* Mixed widths on the same bytes agree. */
	cfg_wr(t, 3, PCI_CACHE_LINE_SIZE, 1, 0x10);
	assert_int_equal(cfg_rd(t, 3, PCI_CACHE_LINE_SIZE, 4) & 0xff, 0x10);
	assert_int_equal(cfg_rd(t, 3, PCI_CACHE_LINE_SIZE, 2), 0x10);
}

static void test_bar_sizing(void **state)
{
	struct t *t = *state;

	for (unsigned int b = 0; b < 6; b++)
		cfg_wr(t, 3, PCI_BAR0 + 4 * b, 4, 0xffffffff);
	assert_int_equal(cfg_rd(t, 3, PCI_BAR0, 4), 0xfffff000);
	assert_int_equal(cfg_rd(t, 3, PCI_BAR0 + 4, 4), 0);	/* unused */
	assert_int_equal(cfg_rd(t, 3, PCI_BAR0 + 8, 4),
			 0xfff00000 | PCI_BAR_MEM_TYPE_64 | PCI_BAR_PREFETCH);
	assert_int_equal(cfg_rd(t, 3, PCI_BAR0 + 12, 4), 0xffffffff);
	assert_int_equal(cfg_rd(t, 3, PCI_BAR0 + 16, 4), 0);
	assert_int_equal(cfg_rd(t, 3, PCI_BAR0 + 20, 4), 0);
	/* Low bits are not writable: odd addresses are aligned down. */
	cfg_wr(t, 3, PCI_BAR0, 4, 0x40000fff);
	assert_int_equal(cfg_rd(t, 3, PCI_BAR0, 4), 0x40000000);
	cfg_wr(t, 3, PCI_BAR0 + 8, 4, 0x123456ff);
	cfg_wr(t, 3, PCI_BAR0 + 12, 4, 0x4);
	assert_int_equal(cfg_rd(t, 3, PCI_BAR0 + 8, 4),
			 0x12300000 | PCI_BAR_MEM_TYPE_64 | PCI_BAR_PREFETCH);
	assert_true(pci_bar_addr(&t->f->pd, 2) == 0x412300000ULL);
	/* Byte-wise BAR writes (some firmware does that). */
	cfg_wr(t, 3, PCI_BAR0 + 3, 1, 0x41);
	assert_int_equal(cfg_rd(t, 3, PCI_BAR0, 4), 0x41000000);
	/* The host bridge has no BARs. */
	cfg_wr(t, 0, PCI_BAR0, 4, 0xffffffff);
	assert_int_equal(cfg_rd(t, 0, PCI_BAR0, 4), 0);
}

static void place(struct t *t, unsigned int slot, uint32_t bar0,
		  uint64_t bar2)
{
	cfg_wr(t, slot, PCI_BAR0, 4, bar0);
	cfg_wr(t, slot, PCI_BAR0 + 8, 4, (uint32_t)bar2);
	cfg_wr(t, slot, PCI_BAR0 + 12, 4, (uint32_t)(bar2 >> 32));
}

static void test_bar_dispatch(void **state)
{
	struct t *t = *state;
	struct fdev *f = t->f;
	unsigned long logs;

	place(t, 3, 0x40001000, TP_M64_BASE + 0x100000);
	/* Memory decoding off: nobody answers. */
	logs = log_count();
	assert_int_equal(rd(t, 0x40001010, 4), 0xffffffff);
	assert_true(log_count() > logs);
	assert_int_equal(f->reads, 0);
	cfg_wr(t, 3, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	for (unsigned int len = 1; len <= 8; len *= 2) {
		assert_true(rd(t, 0x40001010, len) ==
			    (ones(len) & 0x10));
		assert_int_equal(f->last_bar, 0);
		assert_int_equal(f->last_len, len);
		assert_true(rd(t, TP_M64_BASE + 0x100000 + 0xff000, len) ==
			    (ones(len) & (2ULL << 24 | 0xff000)));
		assert_int_equal(f->last_bar, 2);
	}
	wr(t, TP_M64_BASE + 0x100008, 8, 0x1122334455667788ULL);
	assert_int_equal(f->last_bar, 2);
	assert_int_equal(f->last_off, 8);
	assert_true(f->last_val == 0x1122334455667788ULL);
	/* Straddling the BAR's end, or just past it: nobody. */
	f->reads = 0;
	assert_true(rd(t, 0x40001ffc, 8) == ~0ULL);
	assert_int_equal(rd(t, 0x40002000, 4), 0xffffffff);
	assert_int_equal(f->reads, 0);
	/* Moving the BAR moves the decoding. */
	place(t, 3, 0x7ffff000, TP_M64_BASE + 0x100000);
	assert_int_equal(rd(t, 0x40001010, 4), 0xffffffff);
	assert_int_equal(rd(t, 0x7ffff004, 4), 4);
	/* Decoding off again. */
	cfg_wr(t, 3, PCI_COMMAND, 2, 0);
	assert_int_equal(rd(t, 0x7ffff004, 4), 0xffffffff);
	/* The I/O window answers all-ones. */
	assert_int_equal(rd(t, TP_PIO_BASE, 2), 0xffff);
	wr(t, TP_PIO_BASE, 1, 0);
}

static void test_bar_hostile_placement(void **state)
{
	struct t *t = *state;
	struct fdev *g = fdev_new(2);
	unsigned long logs;

	assert_int_equal(pci_host_add_device(t->p.h, &g->pd, -1), 1);
	cfg_wr(t, 3, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	cfg_wr(t, 1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	/* Sizing left all-ones with decoding on: outside any window. */
	logs = log_count();
	place(t, 3, 0xffffffff, ~0ULL);
	assert_true(log_count() > logs);
	assert_true(pci_bar_addr(&t->f->pd, 2) == 0xfffffffffff00000ULL);
	/* Below, across and beyond the windows' edges. */
	place(t, 3, 0x3ffff000, TP_M64_BASE - 0x100000);
	assert_int_equal(rd(t, 0x3ffff000 - TP_ECAM_BASE + TP_ECAM_BASE, 4),
			 0xffffffff);
	place(t, 3, 0x80000000, TP_M64_BASE + TP_M64_SIZE);
	assert_int_equal(rd(t, TP_M64_BASE + TP_M64_SIZE - 8, 4), 0xffffffff);
	/* Over each other: the lower slot wins, both are logged. */
	logs = log_count();
	place(t, 1, 0x40000000, TP_M64_BASE);
	place(t, 3, 0x40000000, TP_M64_BASE);
	assert_true(log_count() > logs);
	rd(t, 0x40000020, 4);
	assert_int_equal(g->reads, 1);
	assert_int_equal(t->f->reads, 0);
	/* Over the other's MSI-X table: still the lower slot. */
	place(t, 3, 0x40000000, TP_M64_BASE + 0x200000);
	assert_int_equal(rd(t, 0x4000080c, 4), 1);	/* masked */
	/* Move the lower one away: the other appears. */
	place(t, 1, 0x40010000, TP_M64_BASE + 0x400000);
	rd(t, 0x40000020, 4);
	assert_int_equal(t->f->reads, 1);
	assert_int_equal(t->f->last_off, 0x20);
}

/* Walk the capability list as Linux's pci_find_capability() does: bounded
 * by 48 steps, pointers aligned down to 4, stopping below 0x40. */
static unsigned int find_cap(struct t *t, unsigned int slot, uint8_t id,
			     unsigned int start)
{
	unsigned int pos, ttl = 48;

	if (!(cfg_rd(t, slot, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST))
		return 0;
	pos = start ? cfg_rd(t, slot, start + 1, 1)
		    : cfg_rd(t, slot, PCI_CAPABILITY_LIST, 1);
	while (ttl--) {
		if (pos < 0x40)
			return 0;
		pos &= ~3U;
		if (cfg_rd(t, slot, pos, 1) == 0xff)
			return 0;
		if (cfg_rd(t, slot, pos, 1) == id)
			return pos;
		pos = cfg_rd(t, slot, pos + 1, 1);
	}
	fail_msg("capability list loops");
	return 0;
}

static void test_cap_walk(void **state)
{
	struct t *t = *state;
	unsigned int vndr, msix, n = 0;

	vndr = find_cap(t, 3, PCI_CAP_ID_VNDR, 0);
	msix = find_cap(t, 3, PCI_CAP_ID_MSIX, 0);
	assert_int_equal(vndr, 0x40);
	assert_int_equal(msix, 0x48);
	assert_int_equal(find_cap(t, 3, PCI_CAP_ID_VNDR, vndr), 0);
	assert_int_equal(find_cap(t, 3, 0x05 /* MSI */, 0), 0);
	assert_int_equal(cfg_rd(t, 3, msix + PCI_MSIX_FLAGS, 2), 3);
	assert_int_equal(cfg_rd(t, 3, msix + PCI_MSIX_TABLE, 4), 0x800);
	assert_int_equal(cfg_rd(t, 3, msix + PCI_MSIX_PBA, 4), 0xc00);
	/* EDK2 walks with 8-bit reads of the header and 16-bit of each
	 * entry (ID | next << 8). */
	for (unsigned int p = cfg_rd(t, 3, PCI_CAPABILITY_LIST, 1); p;
	     p = cfg_rd(t, 3, p, 2) >> 8)
		n++;
	assert_int_equal(n, 2);
	/* Capability pointers are read-only. */
	cfg_wr(t, 3, PCI_CAPABILITY_LIST, 1, 0x41);
	cfg_wr(t, 3, vndr, 2, 0x4040);
	assert_int_equal(cfg_rd(t, 3, PCI_CAPABILITY_LIST, 1), 0x40);
	assert_int_equal(cfg_rd(t, 3, vndr + 1, 1), 0x48);
	/* The host bridge has none. */
	assert_int_equal(find_cap(t, 0, PCI_CAP_ID_MSIX, 0), 0);
}

#define TBL(v, dw) (0x40001000ULL + 0x800 + 16 * (v) + 4 * (dw))
#define PBA 0x40001c00ULL

static void msix_setup(struct t *t)
{
	place(t, 3, 0x40001000, TP_M64_BASE);
	cfg_wr(t, 3, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	for (unsigned int v = 0; v < 4; v++) {
		assert_int_equal(rd(t, TBL(v, 3), 4), 1);	/* masked */
		wr(t, TBL(v, 0), 4, 0x28000000 + 0x1000 * v);
		wr(t, TBL(v, 1), 4, 0);
		wr(t, TBL(v, 2), 4, 0x20 + v);
	}
}

static void notify(struct t *t, unsigned int vec)
{
	pthread_mutex_lock(&t->f->pd.lock);
	pci_msix_notify(&t->f->pd, vec);
	pthread_mutex_unlock(&t->f->pd.lock);
}

static void test_msix(void **state)
{
	struct t *t = *state;
	unsigned int cap = 0x48;
	unsigned long logs;

	msix_setup(t);
	/* Disabled: nothing happens, nothing is pending. */
	notify(t, 0);
	assert_int_equal(t->p.msi.sent, 0);
	assert_true(rd(t, PBA, 8) == 0);
	/* Enabled with the function masked: pending. */
	cfg_wr(t, 3, cap + PCI_MSIX_FLAGS, 2,
	       PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	assert_true(pci_msix_enabled(&t->f->pd));
	wr(t, TBL(1, 3), 4, 0);
	notify(t, 1);
	assert_int_equal(t->p.msi.sent, 0);
	assert_true(rd(t, PBA, 8) == 2);
	assert_int_equal(rd(t, PBA, 4), 2);
	/* Unmasking the function delivers it. */
	cfg_wr(t, 3, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(t->p.msi.sent, 1);
	assert_true(t->p.msi.addr == 0x28001000);
	assert_int_equal(t->p.msi.data, 0x21);
	assert_true(rd(t, PBA, 8) == 0);
	/* A masked vector stays pending until its entry is unmasked. */
	notify(t, 2);
	assert_int_equal(t->p.msi.sent, 1);
	assert_true(rd(t, PBA, 8) == 4);
	wr(t, TBL(2, 3), 4, 0xfffffffe);	/* only bit 0 counts */
	assert_int_equal(rd(t, TBL(2, 3), 4), 0);
	assert_int_equal(t->p.msi.sent, 2);
	assert_int_equal(t->p.msi.data, 0x22);
	/* Unmasked: sent at once; a 64-bit address is taken whole. */
	wr(t, TBL(1, 0), 8, 0x0000000128000007ULL);	/* low bits read 0 */
	assert_true(rd(t, TBL(1, 0), 8) == 0x0000000128000004ULL);
	notify(t, 1);
	assert_int_equal(t->p.msi.sent, 3);
	assert_true(t->p.msi.addr == 0x128000004ULL);
	/* Bus mastering off: pending, delivered when it comes back. */
	cfg_wr(t, 3, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	notify(t, 1);
	assert_int_equal(t->p.msi.sent, 3);
	cfg_wr(t, 3, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	assert_int_equal(t->p.msi.sent, 4);
	/* Vectors beyond the table are dropped. */
	notify(t, 4);
	notify(t, 0xffff);
	assert_int_equal(t->p.msi.sent, 4);
	/* The MSI chip refuses a message: logged, no crash. */
	logs = log_count();
	t->p.msi.ret = -EINVAL;
	notify(t, 1);
	assert_int_equal(t->p.msi.sent, 5);
	assert_true(log_count() > logs);
	t->p.msi.ret = 0;
	/* Odd widths and misaligned table accesses; PBA writes. */
	logs = log_count();
	assert_int_equal(rd(t, TBL(0, 0), 2), 0);
	assert_int_equal(rd(t, TBL(0, 0) + 1, 4), 0);
	wr(t, TBL(0, 2), 1, 0xff);
	wr(t, TBL(0, 1), 8, 0);
	wr(t, PBA, 8, ~0ULL);
	assert_true(log_count() >= logs + 5);
	assert_int_equal(rd(t, TBL(0, 2), 4), 0x20);
	assert_true(rd(t, PBA, 8) == 0);
	/* Beyond the table and PBA the device's own BAR handler answers. */
	assert_int_equal(rd(t, 0x40001000 + 0x840, 4), 0x840);
	assert_int_equal(rd(t, 0x40001000 + 0xc08, 4), 0xc08);
	/* Table size and BIR are read-only. */
	cfg_wr(t, 3, cap + PCI_MSIX_FLAGS, 2, 0xffff);
	assert_int_equal(cfg_rd(t, 3, cap + PCI_MSIX_FLAGS, 2), 0xc003);
	cfg_wr(t, 3, cap + PCI_MSIX_TABLE, 4, 0);
	assert_int_equal(cfg_rd(t, 3, cap + PCI_MSIX_TABLE, 4), 0x800);
}

static void test_intx(void **state)
{
	struct t *t = *state;
	struct pci_dev *pd = &t->f->pd;
	uint32_t irq = TP_INTX_BASE + (3 + 1 - 1) % 4;

	assert_int_equal(pci_host_intx_irq(t->p.h, 3, 1), irq);
	assert_int_equal(pci_host_intx_irq(t->p.h, 0, 1), TP_INTX_BASE);
	assert_int_equal(pci_host_intx_irq(t->p.h, 1, 4), TP_INTX_BASE);
	assert_int_equal(pci_host_intx_irq(t->p.h, 5, 2), TP_INTX_BASE + 2);
	assert_int_equal(pci_host_intx_irq(t->p.h, 5, 0), 0);
	pthread_mutex_lock(&pd->lock);
	pci_set_irq(pd, true);
	pthread_mutex_unlock(&pd->lock);
	assert_true(t->irqs.level[irq]);
	assert_true(cfg_rd(t, 3, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* INTx disable drops the line, not the status bit. */
	cfg_wr(t, 3, PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
	assert_false(t->irqs.level[irq]);
	assert_true(cfg_rd(t, 3, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	cfg_wr(t, 3, PCI_COMMAND, 2, 0);
	assert_true(t->irqs.level[irq]);
	/* The status bit is read-only. */
	cfg_wr(t, 3, PCI_STATUS, 2, 0xffff);
	assert_true(cfg_rd(t, 3, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* MSI-X enabled: no INTx. */
	cfg_wr(t, 3, 0x48 + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	assert_false(t->irqs.level[irq]);
	cfg_wr(t, 3, 0x48 + PCI_MSIX_FLAGS, 2, 0);
	assert_true(t->irqs.level[irq]);
	pthread_mutex_lock(&pd->lock);
	pci_set_irq(pd, false);
	pthread_mutex_unlock(&pd->lock);
	assert_false(t->irqs.level[irq]);
	assert_false(cfg_rd(t, 3, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
}

static void set_irq(struct pci_dev *pd, bool level)
{
	pthread_mutex_lock(&pd->lock);
	pci_set_irq(pd, level);
	pthread_mutex_unlock(&pd->lock);
}

/* Slots 3 and 7 share a source: it stays asserted while either asserts
 * its pin, and the interrupt controller hears each change once. */
static void test_intx_shared(void **state)
{
	struct t *t = *state;
	struct fdev *g = fdev_new(1);	/* INTA, as t->f */
	struct pci_dev *a = &t->f->pd, *b = &g->pd;
	uint32_t irq = TP_INTX_BASE + (3 + 1 - 1) % 4;
	unsigned int calls;

	assert_int_equal(pci_host_add_device(t->p.h, b, 7), 7);
	assert_int_equal(pci_host_intx_irq(t->p.h, 7, 1), irq);
	calls = t->irqs.calls;
	set_irq(a, true);
	set_irq(b, true);
	assert_true(t->irqs.level[irq]);
	set_irq(a, false);
	assert_true(t->irqs.level[irq]);
	set_irq(a, false);		/* no change: counted once */
	set_irq(b, true);
	assert_true(t->irqs.level[irq]);
	assert_int_equal(t->irqs.calls, calls + 1);
	/* INTx disable on one device takes only its pin away. */
	set_irq(a, true);
	cfg_wr(t, 7, PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
	assert_true(t->irqs.level[irq]);
	set_irq(a, false);
	assert_false(t->irqs.level[irq]);
	cfg_wr(t, 7, PCI_COMMAND, 2, 0);
	assert_true(t->irqs.level[irq]);
	set_irq(b, false);
	assert_false(t->irqs.level[irq]);
	assert_int_equal(t->irqs.calls, calls + 4);
}

static void test_fdt(void **state)
{
	struct t *t = *state;
	struct rivet_dev *ecam = pci_host_window(t->p.h, PCI_HOST_ECAM);
	static uint8_t buf[16384];
	struct fdt_ctx ctx = { .fdt = buf, .size = sizeof(buf),
			       .irq_phandle = 5, .msi_phandle = 4 };
	const fdt32_t *p;
	int node, len;

	assert_int_equal(fdt_create_empty_tree(buf, sizeof(buf)), 0);
	assert_true(fdt_add_subnode(buf, 0, "soc") >= 0);
	assert_int_equal(ecam->ops->fdt_node(ecam, &ctx), 0);
	node = fdt_path_offset(buf, "/soc/pcie@30000000");
	assert_true(node >= 0);
	assert_string_equal(fdt_getprop(buf, node, "compatible", NULL),
			    "pci-host-ecam-generic");
	assert_string_equal(fdt_getprop(buf, node, "device_type", NULL),
			    "pci");
	p = fdt_getprop(buf, node, "reg", &len);
	assert_int_equal(len, 16);
	assert_int_equal(fdt32_to_cpu(p[1]), TP_ECAM_BASE);
	assert_int_equal(fdt32_to_cpu(p[3]), TP_ECAM_SIZE);
	p = fdt_getprop(buf, node, "bus-range", &len);
	assert_int_equal(len, 8);
	assert_int_equal(fdt32_to_cpu(p[0]), 0);
	assert_int_equal(fdt32_to_cpu(p[1]), 255);
	p = fdt_getprop(buf, node, "#address-cells", NULL);
	assert_int_equal(fdt32_to_cpu(*p), 3);
	p = fdt_getprop(buf, node, "ranges", &len);
	assert_int_equal(len, 3 * 7 * 4);
	assert_int_equal(fdt32_to_cpu(p[0]), 0x01000000);
	assert_int_equal(fdt32_to_cpu(p[4]), TP_PIO_BASE);
	assert_int_equal(fdt32_to_cpu(p[7]), 0x02000000);
	assert_int_equal(fdt32_to_cpu(p[9]), TP_M32_BASE);
	assert_int_equal(fdt32_to_cpu(p[13]), TP_M32_SIZE);
	assert_int_equal(fdt32_to_cpu(p[14]), 0x03000000);
	assert_int_equal(fdt32_to_cpu(p[15]), TP_M64_BASE >> 32);
	assert_int_equal(fdt32_to_cpu(p[19]), TP_M64_SIZE >> 32);
	p = fdt_getprop(buf, node, "interrupt-map-mask", &len);
	assert_int_equal(len, 16);
	assert_int_equal(fdt32_to_cpu(p[0]), 0x1800);
	assert_int_equal(fdt32_to_cpu(p[3]), 7);
	p = fdt_getprop(buf, node, "interrupt-map", &len);
	assert_int_equal(len, 16 * 7 * 4);
	for (unsigned int e = 0; e < 16; e++) {
		const fdt32_t *c = p + 7 * e;
		unsigned int slot = fdt32_to_cpu(c[0]) >> 11;
		unsigned int pin = fdt32_to_cpu(c[3]);

		assert_int_equal(fdt32_to_cpu(c[4]), 5);
		assert_int_equal(fdt32_to_cpu(c[5]),
				 TP_INTX_BASE + (slot + pin - 1) % 4);
		assert_int_equal(fdt32_to_cpu(c[6]), FDT_IRQ_TYPE_LEVEL_HIGH);
	}
	p = fdt_getprop(buf, node, "msi-parent", &len);
	assert_int_equal(fdt32_to_cpu(*p), 4);
	assert_non_null(fdt_getprop(buf, node, "dma-coherent", NULL));
	p = fdt_getprop(buf, node, "linux,pci-domain", NULL);
	assert_int_equal(fdt32_to_cpu(*p), 0);
	assert_null(fdt_getprop(buf, node, "interrupts", NULL));
}

static bool has(const struct aml_buf *b, const char *s)
{
	return memmem(b->data, b->len, s, strlen(s)) != NULL;
}

static void test_acpi_dsdt(void **state)
{
	struct t *t = *state;
	struct rivet_dev *ecam = pci_host_window(t->p.h, PCI_HOST_ECAM);
	struct aml_buf b;
	const char *dump = getenv("RIVET_PCI_AML_DUMP");

	aml_init(&b, 0);
	b.gsi_base = 0;
	aml_scope_begin(&b, "\\_SB");
	assert_int_equal(ecam->ops->acpi_dsdt(ecam, &b), 0);
	aml_end(&b);
	assert_int_equal(aml_finish(&b), 0);
	for (const char *n = "PCI0\0_HID\0_CID\0_SEG\0_BBN\0_UID\0_CCA\0"
			     "_CRS\0GSI0\0GSI3\0_PRS\0_SRS\0_PRT\0_OSC\0"
			     "RES0\0"; *n; n += strlen(n) + 1)
		assert_true(has(&b, n));
	/* The _PRT package: 128 entries. */
	assert_true(b.len > 128 * 8);
	if (dump) {
		FILE *f = fopen(dump, "wb");

		assert_non_null(f);
		assert_int_equal(fwrite(b.data, 1, b.len, f), b.len);
		fclose(f);
	}
	aml_free(&b);
	/* A second host bridge is PCI1; a tenth is refused. */
	aml_init(&b, 0);
	for (int i = 0; i < 10; i++) {
		aml_next_uid(&b, "PNP0A08");
	}
	assert_int_equal(ecam->ops->acpi_dsdt(ecam, &b), -ERANGE);
	aml_free(&b);
}

static void test_create_errors(void **state)
{
	struct t *t = *state;
	struct pci_host_cfg cfg = tp_host_cfg(&t->irqchip, &t->p.msichip),
			    bad;
	struct pci_host *h = NULL;
	struct fdev *f;
	struct pci_dev pd;
	const struct pci_id id = { 0 };

	bad = cfg;
	bad.ecam_size = 0;
	assert_int_equal(pci_host_create(&bad, &h), -EINVAL);
	bad.ecam_size = TP_ECAM_SIZE * 2;
	assert_int_equal(pci_host_create(&bad, &h), -EINVAL);
	bad.ecam_size = 0x180000;	/* not a MiB multiple */
	assert_int_equal(pci_host_create(&bad, &h), -EINVAL);
	bad = cfg;
	bad.mmio32_size = 0;
	assert_int_equal(pci_host_create(&bad, &h), -EINVAL);
	bad = cfg;
	bad.mmio32_base = 0xf0000000;	/* crosses 4 GiB */
	assert_int_equal(pci_host_create(&bad, &h), -EINVAL);
	bad = cfg;
	bad.mmio64_base = ~0ULL - 0x1000;	/* wraps */
	assert_int_equal(pci_host_create(&bad, &h), -EINVAL);
	bad = cfg;
	bad.pio_base = TP_ECAM_BASE + 0x1000;	/* overlaps ECAM */
	assert_int_equal(pci_host_create(&bad, &h), -EINVAL);
	assert_null(h);
	/* A small host: 1 bus, no PIO, no MMIO64. */
	cfg.ecam_size = 0x100000;
	cfg.pio_size = 0;
	cfg.mmio64_size = 0;
	assert_int_equal(pci_host_create(&cfg, &h), 0);
	assert_null(pci_host_window(h, PCI_HOST_PIO));
	assert_null(pci_host_window(h, PCI_HOST_MMIO64));
	assert_non_null(pci_host_window(h, PCI_HOST_MMIO32));
	assert_null(pci_host_window(h, PCI_HOST_NR_WINDOWS));
	f = fdev_new(1);
	assert_int_equal(pci_host_add_device(h, &f->pd, 0), -EINVAL);
	assert_int_equal(pci_host_add_device(h, &f->pd, 32), -EINVAL);
	assert_int_equal(pci_host_add_device(h, NULL, 1), -EINVAL);
	assert_int_equal(pci_host_add_device(h, &f->pd, 31), 31);
	for (int s = 1; s < 31; s++) {
		struct fdev *g = fdev_new(0);

		assert_int_equal(pci_host_add_device(h, &g->pd, -1), s);
	}
	f = fdev_new(1);
	assert_int_equal(pci_host_add_device(h, &f->pd, -1), -ENOSPC);
	assert_int_equal(pci_host_add_device(h, &f->pd, 5), -EBUSY);
	pci_dev_destroy(&f->pd);
	pci_host_destroy(h);
	/* Device model set-up errors. */
	assert_int_equal(pci_dev_init(&pd, &fdev_ops, &id), 0);
	assert_int_equal(pci_add_bar(&pd, 6, 0x1000, 0), -EINVAL);
	assert_int_equal(pci_add_bar(&pd, 5, 0x1000, PCI_BAR_F_64), -EINVAL);
	assert_int_equal(pci_add_bar(&pd, 0, 0x1800, 0), -EINVAL);
	assert_int_equal(pci_add_bar(&pd, 0, 0x800, 0), -EINVAL);
	assert_int_equal(pci_add_bar(&pd, 0, 1ULL << 32, 0), -EINVAL);
	assert_int_equal(pci_add_bar(&pd, 0, 0x1000, 0x80), -EINVAL);
	assert_int_equal(pci_add_bar(&pd, 0, 1ULL << 32, PCI_BAR_F_64), 0);
	assert_int_equal(pci_add_bar(&pd, 1, 0x1000, 0), -EEXIST);
	assert_int_equal(pci_add_bar(&pd, 0, 0x1000, 0), -EEXIST);
	assert_int_equal(pci_add_bar(&pd, 3, 0x1000, 0), 0);
	assert_int_equal(pci_add_bar(&pd, 2, 0x1000, PCI_BAR_F_64), -EEXIST);
	/* 64-bit BAR of 4 GiB: the whole low dword is fixed. */
	pci_cfg_write(&pd, PCI_BAR0, 4, 0xffffffff);
	pci_cfg_write(&pd, PCI_BAR0 + 4, 4, 0xffffffff);
	assert_int_equal(pci_cfg_read(&pd, PCI_BAR0, 4), PCI_BAR_MEM_TYPE_64);
	assert_int_equal(pci_cfg_read(&pd, PCI_BAR0 + 4, 4), 0xffffffff);
	assert_int_equal(pci_msix_init(&pd, 0, 3, 0, 0x800), -EINVAL);
	assert_int_equal(pci_msix_init(&pd, 4, 4, 0, 0x800), -EINVAL);
	assert_int_equal(pci_msix_init(&pd, 4, 3, 4, 0x800), -EINVAL);
	assert_int_equal(pci_msix_init(&pd, 4, 3, 0, 0x20), -EINVAL);
	assert_int_equal(pci_msix_init(&pd, 257, 3, 0, 0xff8), -EINVAL);
	assert_int_equal(pci_msix_init(&pd, 4, 3, 0, 0x1000), -EINVAL);
	/* Capabilities until config space is full. */
	for (int i = 0; i < 100; i++) {
		int r = pci_add_cap(&pd, PCI_CAP_ID_VNDR, 16);

		if (r < 0) {
			assert_int_equal(r, -ENOSPC);
			assert_true(i >= 10);
			break;
		}
		assert_true(r >= 0x40 && r + 16 <= 256);
	}
	assert_int_equal(pci_add_cap(&pd, PCI_CAP_ID_VNDR, 1), -ENOSPC);
	pci_dev_fini(&pd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_host_bridge_and_absent),
		T(test_config_masks),
		T(test_bar_sizing),
		T(test_bar_dispatch),
		T(test_bar_hostile_placement),
		T(test_cap_walk),
		T(test_msix),
		T(test_intx),
		T(test_intx_shared),
		T(test_fdt),
		T(test_acpi_dsdt),
		T(test_create_errors),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
