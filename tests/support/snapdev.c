// SPDX-License-Identifier: MIT
#include "tests/support/snapdev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/device.h"
#include "devices/aplic.h"
#include "devices/boot_timer.h"
#include "devices/cfi_flash.h"
#include "devices/ged.h"
#include "devices/plic.h"
#include "devices/uart16550.h"
#include "fwcfg/fwcfg.h"
#include "snapshot/snap.h"
#include "tests/support/check.h"
#include "tests/support/files.h"
#include "tests/support/mmio.h"

#define UART_BASE	0x10000000ULL
#define UART_IRQ	10
#define GED_BASE	0x10300000ULL
#define GED_IRQ		11
#define BT_BASE		0x10400000ULL
#define PLIC_BASE	0x0c000000ULL
#define PLIC_NSRC	40	/* two bitmap words */
#define PLIC_NCTX	2
#define APLIC_BASE	0x0d000000ULL
#define APLIC_NSRC	40
#define APLIC_NHARTS	2
#define IMSIC_BASE	0x28000000ULL
#define IMSIC_STRIDE	0x1000ULL
#define FLASH_BASE	0x20000000ULL
#define FLASH_BANK	CFI_FLASH_SECTOR_SIZE
#define FWCFG_BASE	0x10100000ULL
#define RAM_BASE	0x80000000ULL
#define RAM_SIZE	0x10000ULL
#define FN_INTX		(TP_INTX_BASE + 1)	/* slots 1 and 5, pin A */

static const char *const names[TS_SD_NR] = {
	[TS_SD_UART] = "uart16550",
	[TS_SD_PLIC] = "plic",
	[TS_SD_APLIC] = "aplic",
	[TS_SD_GED] = "ged",
	[TS_SD_BOOT_TIMER] = "boot-timer",
	[TS_SD_CFI_FLASH] = "cfi-flash",
	[TS_SD_FWCFG] = "fw_cfg",
	[TS_SD_PCI] = "pci",
};

const char *ts_sd_name(enum ts_sd_kind kind)
{
	return kind < TS_SD_NR ? names[kind] : "?";
}

static int sd_set_level(void *ctx, uint32_t irq, bool level)
{
	struct ts_snapdev *sd = ctx;

	TS_CHECK(irq < TS_SD_IRQS);
	sd->level[irq] = level;
	sd->irq_calls++;
	return 0;
}

static void flash_mode(void *opaque, bool read_array)
{
	struct ts_snapdev *sd = opaque;

	sd->flash_modes++;
	sd->flash_array = read_array;
}

/* ---- the fake PCI function ------------------------------------------------ */

static struct ts_sd_fn *to_fn(struct pci_dev *pd)
{
	return (struct ts_sd_fn *)pd;
}

static void fn_bar_read(struct pci_dev *pd, unsigned int bar, uint64_t off,
			uint8_t *data, unsigned int len)
{
	if (off == TS_SD_FN_REG)
		mmio_put(data, len, to_fn(pd)->reg);
}

static void fn_bar_write(struct pci_dev *pd, unsigned int bar, uint64_t off,
			 const uint8_t *data, unsigned int len)
{
	uint32_t v = (uint32_t)mmio_get(data, len);

	if (off == TS_SD_FN_REG)
		to_fn(pd)->reg = v & ~TS_SD_FN_RSVD;
	else if (off == TS_SD_FN_IRQ)
		pci_set_irq(pd, v & 1);
	else if (off == TS_SD_FN_NOTIFY)
		pci_msix_notify(pd, v);
}

static void fn_msix_changed(struct pci_dev *pd)
{
	to_fn(pd)->msix_changes++;
}

/* Record: reg (u32). */
static int fn_save(struct pci_dev *pd, struct snap_w *w)
{
	snap_w_u32(w, to_fn(pd)->reg);
	return w->err;
}

static int fn_load(struct pci_dev *pd, struct snap_r *r)
{
	uint32_t v = snap_r_u32(r);

	snap_r_check(r, !(v & TS_SD_FN_RSVD), "fake: reserved bit");
	if (snap_r_finish(r))
		return -EBADMSG;
	to_fn(pd)->reg = v;
	return 0;
}

static void fn_destroy(struct pci_dev *pd)
{
	pci_dev_fini(pd);
	free(to_fn(pd));
}

static const struct pci_dev_ops fn_ops = {
	.name = "snap-fake",
	.bar_read = fn_bar_read,
	.bar_write = fn_bar_write,
	.msix_changed = fn_msix_changed,
	.save = fn_save,
	.load = fn_load,
	.destroy = fn_destroy,
};

static const struct pci_dev_ops fn_ops_unsaved = {
	.name = "snap-fake-unsaved",
	.bar_read = fn_bar_read,
	.bar_write = fn_bar_write,
	.destroy = fn_destroy,
};

struct ts_sd_fn *ts_sd_fn_new(bool hooks)
{
	const struct pci_id id = { .vendor = 0x1234, .device = 0x5678,
				   .class_code = 0xff0000, .int_pin = 1 };
	struct ts_sd_fn *f = calloc(1, sizeof(*f));

	TS_CHECK(f);
	TS_CHECK(pci_dev_init(&f->pd, hooks ? &fn_ops : &fn_ops_unsaved,
			      &id) == 0);
	TS_CHECK(pci_add_bar(&f->pd, 0, 0x2000, PCI_BAR_F_64) == 0);
	TS_CHECK(pci_msix_init(&f->pd, TS_SD_FN_VECS, 0, 0, 0x1000) == 0);
	return f;
}

/* ---- making devices ---------------------------------------------------------- */

static void make_flash(struct ts_snapdev *sd)
{
	static int memfd = -1;
	char self[64];
	int fd;

	if (memfd < 0)
		ts_memfd(&memfd, "snapdev-flash", 4096);
	/* A description of its own: the device takes it over. */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", memfd);
	fd = open(self, O_RDONLY | O_CLOEXEC);
	TS_CHECK(fd >= 0);
	TS_CHECK(cfi_flash_create_fd(FLASH_BASE, FLASH_BANK, fd, "snapdev",
				     true, &sd->dev) == 0);
	TS_CHECK(cfi_flash_set_mode_cb(sd->dev, flash_mode, sd) == 1);
	sd->flash_array = true;
}

static void make_fwcfg(struct ts_snapdev *sd)
{
	static const uint8_t zero[8];

	TS_CHECK(gmem_alloc(&sd->ram, RAM_BASE, RAM_SIZE) == 0);
	TS_CHECK(fwcfg_create(&sd->ram, FWCFG_BASE, &sd->dev) == 0);
	TS_CHECK(fwcfg_add_file(sd->dev, "etc/a", "0123456789", 10,
				false) == 0);
	TS_CHECK(fwcfg_add_file(sd->dev, "etc/wp", zero, sizeof(zero),
				true) == 0);
	TS_CHECK(fwcfg_set_cmdline(sd->dev, "console=ttyS0") == 0);
}

static void make_pci(struct ts_snapdev *sd)
{
	static const int slots[2] = { 1, 5 };
	struct pci_dev *pd[2];

	for (unsigned int i = 0; i < 2; i++) {
		sd->fn[i] = ts_sd_fn_new(true);
		pd[i] = &sd->fn[i]->pd;
	}
	tp_host_up(&sd->pci, &sd->chip, pd, slots, 2);
	sd->dev = pci_host_window(sd->pci.h, PCI_HOST_ECAM);
}

struct ts_snapdev *ts_sd_new(enum ts_sd_kind kind)
{
	struct ts_snapdev *sd = calloc(1, sizeof(*sd));
	struct irq_line line = { 0 };

	TS_CHECK(sd && kind < TS_SD_NR);
	sd->kind = kind;
	sd->chip = (struct irq_chip){ .set_level = sd_set_level, .ctx = sd };
	ts_hart_rec_init(&sd->harts);
	ts_msi_rec_init(&sd->msi);
	line.chip = &sd->chip;
	switch (kind) {
	case TS_SD_UART:
		line.irq = UART_IRQ;
		TS_CHECK(uart16550_create(UART_BASE, 0x100, line, NULL,
					  &sd->dev) == 0);
		break;
	case TS_SD_PLIC:
		TS_CHECK(plic_create(&(struct plic_cfg){
				.base = PLIC_BASE, .nr_sources = PLIC_NSRC,
				.nr_contexts = PLIC_NCTX,
				.harts = &sd->harts.irq }, &sd->dev) == 0);
		break;
	case TS_SD_APLIC:
		TS_CHECK(aplic_create(&(struct aplic_cfg){
				.base = APLIC_BASE, .size = APLIC_SIZE,
				.nr_sources = APLIC_NSRC,
				.nr_harts = APLIC_NHARTS, .msi = &sd->msi.chip,
				.imsic_base = IMSIC_BASE,
				.imsic_stride = IMSIC_STRIDE }, &sd->dev) == 0);
		break;
	case TS_SD_GED:
		line.irq = GED_IRQ;
		TS_CHECK(ged_create(GED_BASE, line, &sd->dev) == 0);
		break;
	case TS_SD_BOOT_TIMER:
		TS_CHECK(boot_timer_create(BT_BASE, &sd->dev) == 0);
		break;
	case TS_SD_CFI_FLASH:
		make_flash(sd);
		break;
	case TS_SD_FWCFG:
		make_fwcfg(sd);
		break;
	case TS_SD_PCI:
		make_pci(sd);
		break;
	default:
		break;
	}
	return sd;
}

void ts_sd_free(struct ts_snapdev *sd)
{
	if (!sd)
		return;
	if (sd->kind == TS_SD_PCI)
		tp_host_down(&sd->pci);
	else
		sd->dev->ops->destroy(sd->dev);
	if (sd->kind == TS_SD_FWCFG)
		gmem_free(&sd->ram);
	free(sd);
}

int ts_sd_save(struct ts_snapdev *sd, struct snap_w *w)
{
	snap_w_init(w);
	return sd->dev->ops->save(sd->dev, w);
}

int ts_sd_load(struct ts_snapdev *sd, const void *p, size_t len)
{
	struct snap_r r;

	snap_r_init(&r, p, len);
	return sd->dev->ops->load(sd->dev, &r);
}

/* ---- driving ------------------------------------------------------------------- */

static void rd8(struct rivet_dev *d, uint64_t off, struct snap_w *out)
{
	snap_w_u8(out, (uint8_t)ts_rd(d, off, 1));
}

/* The loopback has put "bc" in the FIFO, host input "xyz"; divisor,
 * scratch and FCR set, MSR deltas pending, every interrupt enabled. */
static void drive_uart(struct ts_snapdev *sd)
{
	struct rivet_dev *d = sd->dev;

	ts_wr(d, 3, 1, 0x80);		/* DLAB */
	ts_wr(d, 0, 1, 0x0c);
	ts_wr(d, 1, 1, 0x01);
	ts_wr(d, 3, 1, 0x03);
	ts_wr(d, 2, 1, 0xc7);		/* FIFO on, trigger 14 */
	ts_wr(d, 1, 1, 0x0f);
	ts_wr(d, 4, 1, 0x1b);		/* loopback */
	ts_wr(d, 0, 1, 'a');
	ts_wr(d, 0, 1, 'b');
	ts_wr(d, 0, 1, 'c');
	ts_wr(d, 7, 1, 0x5a);
	ts_rd(d, 0, 1);			/* 'a' */
	ts_wr(d, 4, 1, 0x0b);		/* out of loopback: MSR deltas */
	TS_CHECK(uart16550_push_input(d, (const uint8_t *)"xyz", 3) == 3);
}

static void drive_uart_probe(struct ts_snapdev *sd, struct snap_w *out)
{
	static const uint8_t regs[] = { 2, 5, 0, 0, 0, 0, 0, 0, 6, 1, 3, 4,
					7, 2 };

	for (size_t i = 0; i < sizeof(regs); i++)
		rd8(sd->dev, regs[i], out);
	snap_w_u64(out, uart16550_push_input(sd->dev,
					     (const uint8_t *)"q", 1));
	snap_w_u64(out, uart16550_rx_space(sd->dev));
}

static uint64_t plic_prio(uint32_t s)
{
	return PLIC_PRIORITY_BASE + 4ULL * s;
}

static uint64_t plic_en(unsigned int c, unsigned int w)
{
	return PLIC_ENABLE_BASE + PLIC_ENABLE_STRIDE * (uint64_t)c + 4ULL * w;
}

static uint64_t plic_ctx(unsigned int c, unsigned int reg)
{
	return PLIC_CONTEXT_BASE + PLIC_CONTEXT_STRIDE * (uint64_t)c + reg;
}

/* Source 3 claimed by context 0 with its input dropped since, 33 and 7
 * pending: context 0's output high, context 1's low (threshold). */
static void drive_plic(struct ts_snapdev *sd)
{
	struct rivet_dev *d = sd->dev;
	const struct irq_chip *c = plic_irq_chip(d);

	ts_wr32(d, plic_prio(3), 5);
	ts_wr32(d, plic_prio(33), 2);
	ts_wr32(d, plic_prio(7), 1);
	ts_wr32(d, plic_en(0, 0), 1u << 3);
	ts_wr32(d, plic_en(0, 1), 1u << 1);
	ts_wr32(d, plic_en(1, 0), 1u << 7 | 1u << 3);
	ts_wr32(d, plic_ctx(1, PLIC_THRESHOLD), 1);
	c->set_level(c->ctx, 3, true);
	c->set_level(c->ctx, 33, true);
	c->set_level(c->ctx, 7, true);
	TS_CHECK(ts_rd32(d, plic_ctx(0, PLIC_CLAIM)) == 3);
	c->set_level(c->ctx, 3, false);
}

static void plic_probe(struct ts_snapdev *sd, struct snap_w *out)
{
	struct rivet_dev *d = sd->dev;
	const uint64_t regs[] = {
		PLIC_PENDING_BASE, PLIC_PENDING_BASE + 4, plic_prio(3),
		plic_prio(33), plic_en(0, 0), plic_en(0, 1), plic_en(1, 0),
		plic_ctx(1, PLIC_THRESHOLD), plic_ctx(1, PLIC_CLAIM),
	};

	for (unsigned int h = 0; h < PLIC_NCTX; h++)
		snap_w_bool(out, ts_hart_level(&sd->harts, h));
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		snap_w_u32(out, ts_rd32(d, regs[i]));
	ts_wr32(d, plic_ctx(0, PLIC_CLAIM), 3);		/* complete */
	snap_w_u32(out, ts_rd32(d, plic_ctx(0, PLIC_CLAIM)));
	snap_w_u32(out, ts_rd32(d, plic_ctx(0, PLIC_CLAIM)));
	snap_w_u32(out, ts_rd32(d, PLIC_PENDING_BASE));
	for (unsigned int h = 0; h < PLIC_NCTX; h++)
		snap_w_bool(out, ts_hart_level(&sd->harts, h));
}

static uint32_t aplic_target(uint32_t hart, uint32_t eiid)
{
	return hart << APLIC_TARGET_HART_SHIFT | eiid;
}

/* IE on; 1 level-high, asserted, pending, disabled; 2 edge, enabled and
 * delivered; 3 detached, pending by setipnum; 4 level-low with its wire
 * low: pending; genmsi written. */
static void drive_aplic(struct ts_snapdev *sd)
{
	struct rivet_dev *d = sd->dev;
	const struct irq_chip *c = aplic_irq_chip(d);

	ts_wr32(d, APLIC_DOMAINCFG, APLIC_DOMAINCFG_IE);
	ts_wr32(d, APLIC_SOURCECFG(1), APLIC_SM_LEVEL1);
	ts_wr32(d, APLIC_TARGET(1), aplic_target(1, 5));
	c->set_level(c->ctx, 1, true);
	ts_wr32(d, APLIC_SOURCECFG(2), APLIC_SM_EDGE1);
	ts_wr32(d, APLIC_TARGET(2), aplic_target(0, 9));
	ts_wr32(d, APLIC_SETIENUM, 2);
	c->set_level(c->ctx, 2, true);
	ts_wr32(d, APLIC_SOURCECFG(3), APLIC_SM_DETACHED);
	ts_wr32(d, APLIC_TARGET(3), aplic_target(0, 11));
	ts_wr32(d, APLIC_SETIPNUM, 3);
	ts_wr32(d, APLIC_SOURCECFG(4), APLIC_SM_LEVEL0);
	ts_wr32(d, APLIC_TARGET(4), aplic_target(1, 7));
	ts_wr32(d, APLIC_GENMSI, aplic_target(1, 3));
}

static void aplic_probe(struct ts_snapdev *sd, struct snap_w *out)
{
	struct rivet_dev *d = sd->dev;
	unsigned long n0 = sd->msi.n;

	snap_w_u32(out, ts_rd32(d, APLIC_DOMAINCFG));
	snap_w_u32(out, ts_rd32(d, APLIC_GENMSI));
	for (uint32_t i = 1; i <= 5; i++) {
		snap_w_u32(out, ts_rd32(d, APLIC_SOURCECFG(i)));
		snap_w_u32(out, ts_rd32(d, APLIC_TARGET(i)));
	}
	snap_w_u32(out, ts_rd32(d, APLIC_SETIP(0)));
	snap_w_u32(out, ts_rd32(d, APLIC_IN_CLRIP(0)));
	snap_w_u32(out, ts_rd32(d, APLIC_SETIE(0)));
	ts_wr32(d, APLIC_SETIENUM, 1);
	ts_wr32(d, APLIC_SETIENUM, 3);
	ts_wr32(d, APLIC_SETIENUM, 4);
	snap_w_u64(out, sd->msi.n - n0);
	for (unsigned long i = n0; i < sd->msi.n && i < TS_REC_EVENTS; i++) {
		snap_w_u64(out, sd->msi.ev[i].addr);
		snap_w_u32(out, sd->msi.ev[i].data);
	}
}

/* A buffered program of four words at 0x100 with two taken: out of
 * read-array mode. */
static void drive_flash(struct ts_snapdev *sd)
{
	struct rivet_dev *d = sd->dev;

	ts_wr(d, 0x100, 4, 0x00e800e8);
	ts_wr(d, 0x100, 4, 0x00030003);
	ts_wr(d, 0x100, 4, 0x11111111);
	ts_wr(d, 0x104, 4, 0x22222222);
}

static void flash_probe(struct ts_snapdev *sd, struct snap_w *out)
{
	struct rivet_dev *d = sd->dev;

	snap_w_bool(out, sd->flash_array);
	snap_w_u32(out, (uint32_t)ts_rd(d, 0x100, 4));
	ts_wr(d, 0x108, 4, 0x33333333);
	ts_wr(d, 0x10c, 4, 0x44444444);
	ts_wr(d, 0, 4, 0x00d000d0);	/* confirm: refused, read-only */
	snap_w_u32(out, (uint32_t)ts_rd(d, 0, 4));
	ts_wr(d, 0, 4, 0x00500050);	/* clear status, read array */
	snap_w_bool(out, sd->flash_array);
	snap_w_u32(out, (uint32_t)ts_rd(d, 0, 4));
}

/* A DMA descriptor at RAM offset @off: be32 control, be32 length, be64
 * address; started with an 8-byte DMA register write. */
static void fwcfg_dma(struct ts_snapdev *sd, uint64_t off, uint32_t control,
		      uint32_t len, uint64_t addr)
{
	uint8_t desc[16], be[8];

	for (int i = 0; i < 4; i++) {
		desc[i] = (uint8_t)(control >> (24 - 8 * i));
		desc[4 + i] = (uint8_t)(len >> (24 - 8 * i));
	}
	for (int i = 0; i < 8; i++)
		desc[8 + i] = (uint8_t)(addr >> (56 - 8 * i));
	TS_CHECK(gmem_write(&sd->ram, RAM_BASE + off, desc, 16) == 0);
	for (int i = 0; i < 8; i++)
		be[i] = (uint8_t)((RAM_BASE + off) >> (56 - 8 * i));
	sd->dev->ops->mmio_write(sd->dev, FWCFG_REG_DMA, be, 8);
}

static void fwcfg_select(struct ts_snapdev *sd, uint16_t key)
{
	const uint8_t be[2] = { (uint8_t)(key >> 8), (uint8_t)key };

	sd->dev->ops->mmio_write(sd->dev, FWCFG_REG_SELECTOR, be, 2);
}

/* etc/wp (key 0x21) written by DMA; etc/a (0x20) selected and 3 bytes
 * read; a DMA address's high half latched. */
static void drive_fwcfg(struct ts_snapdev *sd)
{
	static const uint8_t hi[4] = { 0, 0, 0, 1 };

	TS_CHECK(gmem_write(&sd->ram, RAM_BASE + 0x100, "wxyz", 4) == 0);
	fwcfg_dma(sd, 0, FWCFG_DMA_SELECT | FWCFG_DMA_WRITE | 0x21u << 16, 4,
		  RAM_BASE + 0x100);
	fwcfg_select(sd, 0x20);
	for (int i = 0; i < 3; i++)
		ts_rd(sd->dev, FWCFG_REG_DATA, 1);
	sd->dev->ops->mmio_write(sd->dev, FWCFG_REG_DMA, hi, 4);
}

static void fwcfg_probe(struct ts_snapdev *sd, struct snap_w *out)
{
	static const uint8_t lo[4] = { 0x80, 0, 0x02, 0 };
	uint8_t buf[16];

	for (int i = 0; i < 8; i++)
		rd8(sd->dev, FWCFG_REG_DATA, out);
	/* The latched high half: outside RAM, nothing happens. */
	sd->dev->ops->mmio_write(sd->dev, FWCFG_REG_DMA + 4, lo, 4);
	fwcfg_select(sd, 0x21);
	for (int i = 0; i < 8; i++)
		rd8(sd->dev, FWCFG_REG_DATA, out);
	fwcfg_dma(sd, 0x200, FWCFG_DMA_SELECT | FWCFG_DMA_READ | 0x20u << 16,
		  10, RAM_BASE + 0x300);
	TS_CHECK(gmem_read(&sd->ram, RAM_BASE + 0x200, buf, 4) == 0);
	snap_w_bytes(out, buf, 4);
	TS_CHECK(gmem_read(&sd->ram, RAM_BASE + 0x300, buf, 10) == 0);
	snap_w_bytes(out, buf, 10);
}

static uint64_t fn_cfg(unsigned int slot, unsigned int reg)
{
	return tp_ecam(0, slot, 0, reg);
}

/* Slot 1: BAR0 in MMIO64, memory and bus mastering on, MSI-X on with
 * vector 0 unmasked (signalled: sent) and 1 masked (signalled: pending),
 * INTx asserted (but MSI-X is on); slot 5: BAR0 in MMIO32, INTx asserted
 * and its line high; the bridge's SERR enable set. */
static void drive_pci(struct ts_snapdev *sd)
{
	struct tp_host *t = &sd->pci;
	uint64_t tab = TP_M64_BASE, reg = TP_M32_BASE + TS_SD_FN_REG;
	unsigned int cap = sd->fn[0]->pd.msix.cap;

	tp_wr(t, fn_cfg(0, PCI_COMMAND), 2, PCI_COMMAND_SERR);
	tp_wr(t, fn_cfg(1, PCI_BAR0), 4, (uint32_t)TP_M64_BASE);
	tp_wr(t, fn_cfg(1, PCI_BAR0 + 4), 4, TP_M64_BASE >> 32);
	tp_wr(t, fn_cfg(1, PCI_COMMAND), 2,
	      PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	tp_wr(t, fn_cfg(1, cap + PCI_MSIX_FLAGS), 2, PCI_MSIX_FLAGS_ENABLE);
	tp_wr(t, tab + 0, 4, IMSIC_BASE);
	tp_wr(t, tab + 8, 4, 5);
	tp_wr(t, tab + 12, 4, 0);
	tp_wr(t, tab + 16, 4, IMSIC_BASE + IMSIC_STRIDE);
	tp_wr(t, tab + 24, 4, 7);
	tp_wr(t, tab + TS_SD_FN_NOTIFY, 4, 0);
	tp_wr(t, tab + TS_SD_FN_NOTIFY, 4, 1);
	tp_wr(t, tab + TS_SD_FN_REG, 4, 0x1234);
	tp_wr(t, tab + TS_SD_FN_IRQ, 4, 1);

	tp_wr(t, fn_cfg(5, PCI_BAR0), 4, (uint32_t)TP_M32_BASE);
	tp_wr(t, fn_cfg(5, PCI_COMMAND), 2, PCI_COMMAND_MEMORY);
	tp_wr(t, fn_cfg(5, PCI_INTERRUPT_LINE), 1, 9);
	tp_wr(t, fn_cfg(5, PCI_CACHE_LINE_SIZE), 1, 0x10);
	tp_wr(t, reg, 4, 0x55);
	tp_wr(t, TP_M32_BASE + TS_SD_FN_IRQ, 4, 1);
	TS_CHECK(sd->level[FN_INTX]);
}

static void pci_probe(struct ts_snapdev *sd, struct snap_w *out)
{
	struct tp_host *t = &sd->pci;
	unsigned int cap = sd->fn[0]->pd.msix.cap, sent = t->msi.sent;
	const uint64_t cfgs[] = {
		fn_cfg(0, PCI_COMMAND), fn_cfg(1, PCI_COMMAND),
		fn_cfg(1, PCI_BAR0), fn_cfg(1, PCI_BAR0 + 4), fn_cfg(1, cap),
		fn_cfg(5, PCI_COMMAND), fn_cfg(5, PCI_BAR0),
		fn_cfg(5, PCI_CACHE_LINE_SIZE), fn_cfg(5, PCI_INTERRUPT_LINE),
	};

	for (size_t i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++)
		snap_w_u32(out, (uint32_t)tp_rd(t, cfgs[i], 4));
	for (uint64_t o = 0; o < 16 * TS_SD_FN_VECS; o += 4)
		snap_w_u32(out, (uint32_t)tp_rd(t, TP_M64_BASE + o, 4));
	snap_w_u64(out, tp_rd(t, TP_M64_BASE + 0x1000, 8));
	snap_w_u32(out, (uint32_t)tp_rd(t, TP_M64_BASE + TS_SD_FN_REG, 4));
	snap_w_u32(out, (uint32_t)tp_rd(t, TP_M32_BASE + TS_SD_FN_REG, 4));
	/* Unmask vector 1: its pending message goes out. */
	tp_wr(t, TP_M64_BASE + 28, 4, 0);
	snap_w_u32(out, t->msi.sent - sent);
	snap_w_u64(out, t->msi.addr);
	snap_w_u32(out, t->msi.data);
	/* Slot 5 lowers its pin: the shared source drops. */
	tp_wr(t, TP_M32_BASE + TS_SD_FN_IRQ, 4, 0);
	snap_w_bool(out, sd->level[FN_INTX]);
}

void ts_sd_drive(struct ts_snapdev *sd)
{
	switch (sd->kind) {
	case TS_SD_UART:
		drive_uart(sd);
		break;
	case TS_SD_PLIC:
		drive_plic(sd);
		break;
	case TS_SD_APLIC:
		drive_aplic(sd);
		break;
	case TS_SD_GED:
		TS_CHECK(ged_press_power(sd->dev) == 0);
		break;
	case TS_SD_BOOT_TIMER:
		ts_wr(sd->dev, 0, 1, BOOT_TIMER_MAGIC);
		break;
	case TS_SD_CFI_FLASH:
		drive_flash(sd);
		break;
	case TS_SD_FWCFG:
		drive_fwcfg(sd);
		break;
	case TS_SD_PCI:
		drive_pci(sd);
		break;
	default:
		break;
	}
}

void ts_sd_probe(struct ts_snapdev *sd, struct snap_w *out)
{
	snap_w_init(out);
	switch (sd->kind) {
	case TS_SD_UART:
		drive_uart_probe(sd, out);
		snap_w_bool(out, sd->level[UART_IRQ]);
		break;
	case TS_SD_PLIC:
		plic_probe(sd, out);
		break;
	case TS_SD_APLIC:
		aplic_probe(sd, out);
		break;
	case TS_SD_GED:
		snap_w_u32(out, ts_rd32(sd->dev, GED_REG_SEL));
		snap_w_bool(out, sd->level[GED_IRQ]);
		snap_w_u32(out, ts_rd32(sd->dev, GED_REG_SEL));
		break;
	case TS_SD_BOOT_TIMER:
		snap_w_u32(out, ts_rd32(sd->dev, 0));
		break;
	case TS_SD_CFI_FLASH:
		flash_probe(sd, out);
		break;
	case TS_SD_FWCFG:
		fwcfg_probe(sd, out);
		break;
	case TS_SD_PCI:
		pci_probe(sd, out);
		break;
	default:
		break;
	}
}
