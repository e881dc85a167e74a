// SPDX-License-Identifier: MIT
#include "devices/pci_host.h"

#include <errno.h>
#include <inttypes.h>
#include <libfdt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acpi/aml.h"
#include "core/device.h"
#include "core/fdt_util.h"
#include "core/log.h"
#include "devices/pci.h"
#include "snapshot/snap.h"

#define ECAM_BUS_SIZE	(1ULL << 20)
#define ECAM_MAX_SIZE	(256 * ECAM_BUS_SIZE)
#define PCI_CLASS_BRIDGE_HOST 0x060000

/* FDT `ranges` space codes (IEEE 1275 PCI binding, phys.hi bits 25:24). */
#define FDT_PCI_IO	0x01000000
#define FDT_PCI_MEM32	0x02000000
#define FDT_PCI_MEM64	0x03000000

struct bar_map {
	uint64_t start;
	uint64_t size;
	struct pci_dev *pd;
	unsigned int bar;
};

struct pci_host {
	struct rivet_dev win[PCI_HOST_NR_WINDOWS];
	bool has_win[PCI_HOST_NR_WINDOWS];
	struct pci_host_cfg cfg;
	pthread_rwlock_t lock;
	struct pci_dev *slots[PCI_HOST_MAX_SLOTS];
	/* BARs that decode, in slot then BAR order; under lock. */
	struct bar_map map[PCI_HOST_MAX_SLOTS * PCI_NR_BARS];
	unsigned int nr_map;
	/* Address | 1 of each BAR that decoded at the last rebuild, so a
	 * bad placement is logged once, when it happens. */
	uint64_t seen[PCI_HOST_MAX_SLOTS][PCI_NR_BARS];
	/* INTx lines are shared (slots S and S + 4 meet on one source):
	 * each source is the OR of its devices' pins, so the host counts
	 * the asserted pins per source and drives cfg.irqchip only when
	 * the count leaves or reaches 0.  The devices' lines point at
	 * intx_chip; intx_lock covers the counts and the call, so the
	 * interrupt controller sees the changes in order. */
	struct irq_chip intx_chip;
	pthread_mutex_t intx_lock;
	unsigned int intx_count[PCI_HOST_NR_INTX];
};

static int intx_set_level(void *ctx, uint32_t irq, bool level)
{
	struct pci_host *h = ctx;
	uint32_t i = irq - h->cfg.intx_base;
	unsigned int *n;
	int ret = 0;

	if (irq < h->cfg.intx_base || i >= PCI_HOST_NR_INTX)
		return -EINVAL;
	n = &h->intx_count[i];
	pthread_mutex_lock(&h->intx_lock);
	if (level ? (*n)++ == 0 : *n && --*n == 0)	/* the OR changed */
		ret = irq_line_set(&(struct irq_line){ h->cfg.irqchip, irq },
				   level);
	pthread_mutex_unlock(&h->intx_lock);
	return ret;
}

uint32_t pci_host_intx_irq(const struct pci_host *h, unsigned int slot,
			   unsigned int pin)
{
	if (pin < 1 || pin > 4)
		return 0;
	return h->cfg.intx_base + (slot + pin - 1) % PCI_HOST_NR_INTX;
}

/* ---- BAR routing ---------------------------------------------------------- */

static bool in_window(const struct pci_host *h, enum pci_host_window w,
		      uint64_t start, uint64_t size)
{
	const struct rivet_dev *d = &h->win[w];

	return h->has_win[w] && start >= d->base && size <= d->size &&
	       start - d->base <= d->size - size;
}

static bool overlaps(const struct bar_map *a, uint64_t start, uint64_t size)
{
	return start < a->start + a->size && a->start < start + size;
}

/* Called with the lock held for writing. */
static void rebuild_map(struct pci_host *h)
{
	h->nr_map = 0;
	for (unsigned int s = 0; s < PCI_HOST_MAX_SLOTS; s++) {
		struct pci_dev *pd = h->slots[s];

		for (unsigned int b = 0; pd && b < PCI_NR_BARS; b++) {
			uint64_t start = pci_bar_addr(pd, b);
			uint64_t size = pd->bars[b].size;
			uint64_t tag = start | 1;
			bool fresh;

			if (!size || !start || !pci_mem_enabled(pd)) {
				h->seen[s][b] = 0;
				continue;
			}
			fresh = h->seen[s][b] != tag;
			h->seen[s][b] = tag;
			if (!in_window(h, PCI_HOST_MMIO32, start, size) &&
			    !in_window(h, PCI_HOST_MMIO64, start, size)) {
				if (fresh)
					log_guest("pci 00:%02x.0 BAR %u at 0x%" PRIx64 " (0x%" PRIx64 " bytes) outside the PCI windows: not decoded",
						  s, b, start, size);
				continue;
			}
			for (unsigned int i = 0; fresh && i < h->nr_map; i++)
				if (overlaps(&h->map[i], start, size))
					log_guest("pci 00:%02x.0 BAR %u at 0x%" PRIx64 " overlaps 00:%02x.0 BAR %u",
						  s, b, start,
						  h->map[i].pd->slot,
						  h->map[i].bar);
			h->map[h->nr_map++] = (struct bar_map){
				.start = start, .size = size, .pd = pd,
				.bar = b };
		}
	}
}

static void window_access(struct rivet_dev *dev, uint64_t off, uint8_t *data,
			  unsigned int len, bool is_write)
{
	struct pci_host *h = dev->priv;
	uint64_t addr = dev->base + off;

	pthread_rwlock_rdlock(&h->lock);
	for (unsigned int i = 0; i < h->nr_map; i++) {
		const struct bar_map *m = &h->map[i];
		uint64_t o = addr - m->start;

		if (addr < m->start || o >= m->size)
			continue;
		if (len > m->size - o)
			break;		/* straddles the BAR's end */
		pci_bar_access(m->pd, m->bar, o, data, len, is_write);
		pthread_rwlock_unlock(&h->lock);
		return;
	}
	pthread_rwlock_unlock(&h->lock);
	log_guest("pci: %u-byte %s at 0x%" PRIx64 " hits no BAR", len,
		  is_write ? "write" : "read", addr);
	if (!is_write)
		memset(data, 0xff, len);
}

static void window_read(struct rivet_dev *dev, uint64_t off, uint8_t *data,
			unsigned int len)
{
	window_access(dev, off, data, len, false);
}

static void window_write(struct rivet_dev *dev, uint64_t off,
			 const uint8_t *data, unsigned int len)
{
	uint8_t buf[8];

	memcpy(buf, data, len < sizeof(buf) ? len : sizeof(buf));
	window_access(dev, off, buf, len < sizeof(buf) ? len : sizeof(buf),
		      true);
}

static void pio_read(struct rivet_dev *dev, uint64_t off, uint8_t *data,
		     unsigned int len)
{
	log_guest("pci: %u-byte read of I/O port 0x%" PRIx64 ": no I/O BARs",
		  len, off);
	memset(data, 0xff, len);
}

static void pio_write(struct rivet_dev *dev, uint64_t off,
		      const uint8_t *data, unsigned int len)
{
	log_guest("pci: %u-byte write to I/O port 0x%" PRIx64 ": no I/O BARs",
		  len, off);
}

/* The windows keep no state (the ECAM device saves the host's): empty
 * records, so a VM with them can be saved. */
static int window_save(struct rivet_dev *dev, struct snap_w *w)
{
	return w->err;
}

static int window_load(struct rivet_dev *dev, struct snap_r *r)
{
	return snap_r_finish(r);
}

static const struct dev_ops window_ops = {
	.name = "pci-mmio-window",
	.mmio_read = window_read,
	.mmio_write = window_write,
	.save = window_save,
	.load = window_load,
};

static const struct dev_ops pio_ops = {
	.name = "pci-io-window",
	.mmio_read = pio_read,
	.mmio_write = pio_write,
	.save = window_save,
	.load = window_load,
};

/* ---- ECAM ------------------------------------------------------------------ */

/* The function at ECAM offset @off, or NULL if absent. */
static struct pci_dev *ecam_fn(struct pci_host *h, uint64_t off)
{
	unsigned int bus = (unsigned int)(off >> 20);
	unsigned int slot = (off >> 15) & 31;
	unsigned int fn = (off >> 12) & 7;

	if (bus || fn)
		return NULL;
	return h->slots[slot];
}

static bool ecam_access_ok(uint64_t off, unsigned int len, bool is_write)
{
	if ((len == 1 || len == 2 || len == 4) && !(off & (len - 1)))
		return true;
	log_guest("pci: %u-byte config %s at ECAM offset 0x%" PRIx64 " ignored",
		  len, is_write ? "write" : "read", off);
	return false;
}

static void ecam_read(struct rivet_dev *dev, uint64_t off, uint8_t *data,
		      unsigned int len)
{
	struct pci_host *h = dev->priv;
	struct pci_dev *pd;
	uint32_t v = 0xffffffff;

	if (ecam_access_ok(off, len, false)) {
		pthread_rwlock_wrlock(&h->lock);
		pd = ecam_fn(h, off);
		if (pd)
			v = pci_cfg_read(pd, off & 0xfff, len);
		pthread_rwlock_unlock(&h->lock);
	}
	memset(data, 0xff, len);
	mmio_put(data, len < 4 ? len : 4, v);
}

static void ecam_write(struct rivet_dev *dev, uint64_t off,
		       const uint8_t *data, unsigned int len)
{
	struct pci_host *h = dev->priv;
	struct pci_dev *pd;

	if (!ecam_access_ok(off, len, true))
		return;
	pthread_rwlock_wrlock(&h->lock);
	pd = ecam_fn(h, off);
	if (pd) {
		pci_cfg_write(pd, off & 0xfff, len,
			      (uint32_t)mmio_get(data, len));
		rebuild_map(h);
	}
	pthread_rwlock_unlock(&h->lock);
	if (!pd)
		log_guest("pci: config write to absent function %02x:%02x.%x",
			  (unsigned int)(off >> 20), (unsigned int)(off >> 15) & 31,
			  (unsigned int)(off >> 12) & 7);
}

static int set_cells(void *fdt, int node, const char *name,
		     const uint32_t *cells, unsigned int n)
{
	fdt32_t be[7 * 16];

	if (n > sizeof(be) / sizeof(be[0]))
		return -FDT_ERR_NOSPACE;
	for (unsigned int i = 0; i < n; i++)
		be[i] = cpu_to_fdt32(cells[i]);
	return fdt_setprop(fdt, node, name, be, (int)(n * sizeof(be[0])));
}

static unsigned int add_range(uint32_t *c, unsigned int n, uint32_t space,
			      uint64_t pci, uint64_t cpu, uint64_t size)
{
	const uint32_t r[7] = { space, (uint32_t)(pci >> 32), (uint32_t)pci,
				(uint32_t)(cpu >> 32), (uint32_t)cpu,
				(uint32_t)(size >> 32), (uint32_t)size };

	memcpy(c + n, r, sizeof(r));
	return n + 7;
}

static int ecam_fdt_node(struct rivet_dev *dev, struct fdt_ctx *ctx)
{
	const struct pci_host *h = dev->priv;
	const struct pci_host_cfg *c = &h->cfg;
	uint32_t cells[7 * 16], bus_range[2] = {
		0, (uint32_t)(c->ecam_size / ECAM_BUS_SIZE) - 1 };
	const uint32_t mask[4] = { 0x1800, 0, 0, 7 };
	unsigned int n = 0;
	int off, err;

	off = fdtu_add_soc_node(ctx, "pcie", "pci-host-ecam-generic", dev);
	if (off < 0)
		return off;
	err = fdt_setprop_string(ctx->fdt, off, "device_type", "pci");
	if (!err)
		err = fdt_setprop_u32(ctx->fdt, off, "#address-cells", 3);
	if (!err)
		err = fdt_setprop_u32(ctx->fdt, off, "#size-cells", 2);
	if (!err)
		err = fdt_setprop_u32(ctx->fdt, off, "#interrupt-cells", 1);
	if (!err)
		err = set_cells(ctx->fdt, off, "bus-range", bus_range, 2);
	if (!err)
		err = fdt_setprop_u32(ctx->fdt, off, "linux,pci-domain",
				      c->segment);
	if (!err)
		err = fdt_setprop_empty(ctx->fdt, off, "dma-coherent");
	if (h->has_win[PCI_HOST_PIO])
		n = add_range(cells, n, FDT_PCI_IO, 0, c->pio_base,
			      c->pio_size);
	n = add_range(cells, n, FDT_PCI_MEM32, c->mmio32_base,
		      c->mmio32_base, c->mmio32_size);
	if (h->has_win[PCI_HOST_MMIO64])
		n = add_range(cells, n, FDT_PCI_MEM64, c->mmio64_base,
			      c->mmio64_base, c->mmio64_size);
	if (!err)
		err = set_cells(ctx->fdt, off, "ranges", cells, n);
	if (!err && c->irqchip && ctx->irq_phandle) {
		/* INTA..D of slots 0-3; the mask repeats it every 4 slots.
		 * Each entry: child address (3 cells), pin, the parent and
		 * its interrupt specifier (no address cells). */
		n = 0;
		for (unsigned int s = 0; s < 4; s++) {
			for (unsigned int p = 1; p <= 4; p++) {
				uint32_t spec[2];
				unsigned int k = fdtu_irq_spec(
					ctx, pci_host_intx_irq(h, s, p), spec);
				const uint32_t e[5] = { s << 11, 0, 0, p,
							ctx->irq_phandle };

				memcpy(cells + n, e, sizeof(e));
				n += 5;
				for (unsigned int i = 0; i < k; i++)
					cells[n++] = fdt32_to_cpu(spec[i]);
			}
		}
		err = set_cells(ctx->fdt, off, "interrupt-map", cells, n);
		if (!err)
			err = set_cells(ctx->fdt, off, "interrupt-map-mask",
					mask, 4);
	}
	if (!err && c->msi && ctx->msi_phandle)
		err = fdt_setprop_u32(ctx->fdt, off, "msi-parent",
				      ctx->msi_phandle);
	return fdtu_errno(err);
}

/* ---- ACPI -------------------------------------------------------------------- */

/* Device (PCIn): the host bridge (PCI Firmware Spec 3.3 §4.1, ACPI 6.6
 * §6.2.13 _PRT), as QEMU's virt describes it so Linux and EDK2 know it:
 *  - _HID PNP0A08 (PCIe), _CID PNP0A03, _SEG, _BBN 0, _UID, _CCA 1;
 *  - _CRS: the bus range, the I/O window (PCI 0.. -> CPU pio_base), the
 *    MMIO32 and MMIO64 windows (identity);
 *  - four interrupt link devices GSI0-3 (PNP0C0F) for INTA-D of slot 0,
 *    level-triggered active-high like the FDT (a _PRT entry with a bare GSI
 *    would mean active-low), and _PRT routing pin P of slot S to link
 *    (S + P) % 4: the same swizzle as the FDT's interrupt-map;
 *  - _OSC granting the OS native control of everything;
 *  - RES0 (PNP0C02) reserving the ECAM window, which the MCFG points at. */
static void acpi_intx_links(struct aml_buf *b, const struct pci_host *h)
{
	for (unsigned int i = 0; i < PCI_HOST_NR_INTX; i++) {
		uint32_t gsi = aml_gsi(b, pci_host_intx_irq(h, i, 1));
		char name[5];

		snprintf(name, sizeof(name), "GSI%u", i);
		aml_device_begin(b, name);
		aml_name_eisaid(b, "_HID", "PNP0C0F");
		aml_name_int(b, "_UID", aml_next_uid(b, "PNP0C0F"));
		for (int crs = 0; crs < 2; crs++) {
			aml_name(b, crs ? "_CRS" : "_PRS");
			aml_resource_template_begin(b);
			aml_interrupt(b, AML_IRQ_CONSUMER | AML_IRQ_LEVEL |
				      AML_IRQ_ACTIVE_HIGH | AML_IRQ_EXCLUSIVE,
				      &gsi, 1);
			aml_end(b);
		}
		aml_method_begin(b, "_SRS", 1, false);
		aml_end(b);
		aml_end(b);
	}
}

static void acpi_prt(struct aml_buf *b)
{
	aml_name(b, "_PRT");
	aml_package_begin(b);
	for (unsigned int s = 0; s < PCI_HOST_MAX_SLOTS; s++) {
		for (unsigned int p = 0; p < 4; p++) {
			char link[12];

			snprintf(link, sizeof(link), "\\_SB.GSI%u",
				 (s + p) % PCI_HOST_NR_INTX);
			/* The links are \_SB's, not PCIn's: see below. */
			aml_package_begin(b);
			aml_int(b, (uint64_t)s << 16 | 0xffff);
			aml_int(b, p);
			aml_name_ref(b, link);
			aml_int(b, 0);
			aml_end(b);
		}
	}
	aml_end(b);
}

static void acpi_crs(struct aml_buf *b, const struct pci_host_cfg *c)
{
	aml_name(b, "_CRS");
	aml_resource_template_begin(b);
	aml_word_bus_number(b, 0, (uint16_t)(c->ecam_size / ECAM_BUS_SIZE - 1));
	if (c->pio_size)
		aml_dword_io(b, 0, (uint32_t)(c->pio_size - 1),
			     (uint32_t)c->pio_base);
	aml_dword_memory(b, AML_NON_CACHEABLE, true, (uint32_t)c->mmio32_base,
			 (uint32_t)(c->mmio32_base + c->mmio32_size - 1), 0);
	if (c->mmio64_size)
		aml_qword_memory(b, AML_NON_CACHEABLE, true, c->mmio64_base,
				 c->mmio64_base + c->mmio64_size - 1, 0);
	aml_end(b);
}

static void acpi_res0(struct aml_buf *b, const struct pci_host_cfg *c)
{
	const struct aml_addr ecam = {
		.width = 64,
		.space = AML_SPACE_MEMORY,
		.gen_flags = AML_ADDR_CONSUMER | AML_ADDR_MIN_FIXED |
			     AML_ADDR_MAX_FIXED,
		.type_flags = AML_MEM_RW | AML_NON_CACHEABLE << 1,
		.min = c->ecam_base,
		.max = c->ecam_base + c->ecam_size - 1,
		.len = c->ecam_size,
	};

	aml_device_begin(b, "RES0");
	aml_name_eisaid(b, "_HID", "PNP0C02");
	aml_name(b, "_CRS");
	aml_resource_template_begin(b);
	aml_address_space(b, &ecam);
	aml_end(b);
	aml_end(b);
}

static int ecam_acpi_dsdt(struct rivet_dev *dev, struct aml_buf *b)
{
	const struct pci_host *h = dev->priv;
	const struct pci_host_cfg *c = &h->cfg;
	uint32_t uid = aml_next_uid(b, "PNP0A08");
	char name[5];

	if (uid > 9)
		return -ERANGE;
	/* Linux/riscv makes the root bridge wait for the link devices its
	 * _PRT names; as the bridge's children they would only be scanned
	 * after it, so they are its siblings (Linux 6.12 never enumerated
	 * the bridge otherwise). */
	if (c->irqchip)
		acpi_intx_links(b, h);
	snprintf(name, sizeof(name), "PCI%u", uid);
	aml_device_begin(b, name);
	aml_name_eisaid(b, "_HID", "PNP0A08");
	aml_name_eisaid(b, "_CID", "PNP0A03");
	aml_name_int(b, "_SEG", c->segment);
	aml_name_int(b, "_BBN", 0);
	aml_name_int(b, "_UID", uid);
	aml_name_int(b, "_CCA", 1);
	acpi_crs(b, c);
	if (c->irqchip)
		acpi_prt(b);
	aml_pci_osc(b, 0x1f);
	acpi_res0(b, c);
	aml_end(b);
	return aml_error(b);
}

void pci_host_destroy(struct pci_host *h)
{
	if (!h)
		return;
	for (unsigned int s = 0; s < PCI_HOST_MAX_SLOTS; s++)
		if (h->slots[s])
			pci_dev_destroy(h->slots[s]);
	pthread_rwlock_destroy(&h->lock);
	pthread_mutex_destroy(&h->intx_lock);
	free(h);
}

static void ecam_destroy(struct rivet_dev *dev)
{
	pci_host_destroy(dev->priv);
}

/* ---- snapshots ------------------------------------------------------------- */

#define SNAP_PCI_CORE	SNAP_TAG('P', 'C', 'I', 'C')
#define SNAP_PCI_FN	SNAP_TAG('P', 'C', 'I', 'F')

static uint32_t slot_mask(const struct pci_host *h)
{
	uint32_t m = 0;

	for (unsigned int s = 0; s < PCI_HOST_MAX_SLOTS; s++)
		if (h->slots[s])
			m |= 1u << s;
	return m;
}

/* Lock held: can every function be saved?  Says which cannot. */
static int check_savable(const struct pci_host *h)
{
	int ret = 0;

	for (unsigned int s = 0; s < PCI_HOST_MAX_SLOTS; s++) {
		const struct pci_dev *pd = h->slots[s];

		if (!pd || (pd->ops->save && pd->ops->load))
			continue;
		log_err("snapshot: PCI function 00:%02x.0 (%s) cannot be "
			"saved yet", s, pd->ops->name ? pd->ops->name : "?");
		ret = -EOPNOTSUPP;
	}
	return ret;
}

/* One function, pd->lock held: its core's record in a section PCIC, its
 * own in a section PCIF, both numbered by the slot. */
static int save_fn(struct pci_dev *pd, struct snap_w *w)
{
	size_t mark = snap_w_begin(w, SNAP_PCI_CORE, pd->slot);
	int ret = pci_core_save(pd, w);

	snap_w_end(w, mark);
	if (ret)
		return ret;
	mark = snap_w_begin(w, SNAP_PCI_FN, pd->slot);
	ret = pd->ops->save(pd, w);
	snap_w_end(w, mark);
	return ret ? ret : w->err;
}

/* Record: the occupied slots (u32 bitmap, must match), then each
 * function's sections (save_fn()) in slot order.  The INTx counts and
 * the BAR routing table follow from the functions' state. */
static int ecam_save(struct rivet_dev *dev, struct snap_w *w)
{
	struct pci_host *h = dev->priv;
	int ret;

	pthread_rwlock_wrlock(&h->lock);
	ret = check_savable(h);
	if (!ret)
		snap_w_u32(w, slot_mask(h));
	for (unsigned int s = 0; !ret && s < PCI_HOST_MAX_SLOTS; s++) {
		struct pci_dev *pd = h->slots[s];

		if (!pd)
			continue;
		pthread_mutex_lock(&pd->lock);
		ret = save_fn(pd, w);
		pthread_mutex_unlock(&pd->lock);
	}
	pthread_rwlock_unlock(&h->lock);
	return ret ? ret : w->err;
}

/* The next section of @r, which must be @tag for @slot, in @sub. */
static bool next_section(struct snap_r *r, uint32_t tag, unsigned int slot,
			 struct snap_r *sub)
{
	uint32_t t = 0, inst = 0;
	int n = snap_r_section(r, &t, &inst, sub);

	return snap_r_check(r, n == 1 && t == tag && inst == slot,
			    "pci: function sections out of order");
}

/* One function's sections, pd->lock held; each must be read whole. */
static int load_fn(struct pci_dev *pd, struct snap_r *r)
{
	struct snap_r sub;
	int ret;

	if (!next_section(r, SNAP_PCI_CORE, pd->slot, &sub))
		return -EBADMSG;
	ret = pci_core_load(pd, &sub);
	if (ret)
		goto fail;
	if (!next_section(r, SNAP_PCI_FN, pd->slot, &sub))
		return -EBADMSG;
	ret = pd->ops->load(pd, &sub);
	if (!ret)
		ret = snap_r_finish(&sub);
	if (!ret) {
		/* Where the vectors go changed, as after a config write:
		 * the function redoes its host side (e.g. irqfd routes). */
		if (pd->msix.nvec && pd->ops->msix_changed)
			pd->ops->msix_changed(pd);
		return 0;
	}
fail:
	log_err("snapshot: PCI function 00:%02x.0 (%s): %s", pd->slot,
		pd->ops->name ? pd->ops->name : "?",
		sub.what ? sub.what : strerror(-ret));
	snap_r_check(r, ret != -EBADMSG, "pci: a function's record");
	return ret;
}

/* Lock held: the INTx counts as the functions' lines now are. */
static void recount_intx(struct pci_host *h)
{
	pthread_mutex_lock(&h->intx_lock);
	memset(h->intx_count, 0, sizeof(h->intx_count));
	for (unsigned int s = 0; s < PCI_HOST_MAX_SLOTS; s++) {
		const struct pci_dev *pd = h->slots[s];

		if (pd && pd->intx.chip && pd->intx_line)
			h->intx_count[pd->intx.irq - h->cfg.intx_base]++;
	}
	pthread_mutex_unlock(&h->intx_lock);
}

/* A function's record that fails leaves the functions before it loaded:
 * the host is consistent with whatever they hold, and safe to destroy. */
static int ecam_load(struct rivet_dev *dev, struct snap_r *r)
{
	struct pci_host *h = dev->priv;
	int ret = 0;

	pthread_rwlock_wrlock(&h->lock);
	/* Another set of functions is this run's configuration, not a
	 * corrupt record: -EINVAL, which the restore reports as a misfit. */
	if (!snap_r_check(r, snap_r_u32(r) == slot_mask(h),
			  "its PCI functions are in other slots than this "
			  "run's (another --disk, --net or --no-rng)"))
		ret = r->off == 4 ? -EINVAL : -EBADMSG;
	for (unsigned int s = 0; !ret && s < PCI_HOST_MAX_SLOTS; s++) {
		struct pci_dev *pd = h->slots[s];

		if (!pd)
			continue;
		pthread_mutex_lock(&pd->lock);
		ret = load_fn(pd, r);
		pthread_mutex_unlock(&pd->lock);
	}
	if (!ret)
		ret = snap_r_finish(r);
	recount_intx(h);
	rebuild_map(h);
	pthread_rwlock_unlock(&h->lock);
	return ret;
}

static const struct dev_ops ecam_ops = {
	.name = "pci-ecam",
	.mmio_read = ecam_read,
	.mmio_write = ecam_write,
	.fdt_node = ecam_fdt_node,
	.acpi_dsdt = ecam_acpi_dsdt,
	.destroy = ecam_destroy,
	.save = ecam_save,
	.load = ecam_load,
};

/* ---- set-up ------------------------------------------------------------------ */

/* The host bridge function has nothing beyond the core's state. */
static int bridge_save(struct pci_dev *pd, struct snap_w *w)
{
	return w->err;
}

static int bridge_load(struct pci_dev *pd, struct snap_r *r)
{
	return snap_r_finish(r);
}

static const struct pci_dev_ops bridge_ops = {
	.name = "host-bridge",
	.save = bridge_save,
	.load = bridge_load,
};

static bool window_ok(uint64_t base, uint64_t size)
{
	return size && base + size - 1 >= base;
}

static bool windows_disjoint(const struct pci_host *h)
{
	for (int i = 0; i < PCI_HOST_NR_WINDOWS; i++) {
		for (int j = i + 1; j < PCI_HOST_NR_WINDOWS; j++) {
			const struct rivet_dev *a = &h->win[i], *b = &h->win[j];

			if (h->has_win[i] && h->has_win[j] &&
			    a->base <= b->base + b->size - 1 &&
			    b->base <= a->base + a->size - 1)
				return false;
		}
	}
	return true;
}

static void set_win(struct pci_host *h, enum pci_host_window w,
		    const struct dev_ops *ops, uint64_t base, uint64_t size)
{
	if (!size)
		return;
	h->has_win[w] = true;
	h->win[w] = (struct rivet_dev){ .ops = ops, .base = base,
					.size = size, .priv = h };
}

int pci_host_create(const struct pci_host_cfg *cfg, struct pci_host **out)
{
	const struct pci_id id = {
		.vendor = PCI_HOST_BRIDGE_VENDOR,
		.device = PCI_HOST_BRIDGE_DEVICE,
		.subsys_vendor = PCI_HOST_BRIDGE_VENDOR,
		.subsys = 0x1100,
		.class_code = PCI_CLASS_BRIDGE_HOST,
	};
	struct pci_host *h;
	struct pci_dev *br;
	int err;

	if (!cfg || !out || !cfg->ecam_size || cfg->ecam_size > ECAM_MAX_SIZE ||
	    cfg->ecam_size % ECAM_BUS_SIZE ||
	    !window_ok(cfg->ecam_base, cfg->ecam_size) ||
	    !window_ok(cfg->mmio32_base, cfg->mmio32_size) ||
	    cfg->mmio32_base + cfg->mmio32_size > (1ULL << 32) ||
	    (cfg->pio_size && !window_ok(cfg->pio_base, cfg->pio_size)) ||
	    (cfg->mmio64_size &&
	     !window_ok(cfg->mmio64_base, cfg->mmio64_size)))
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	br = calloc(1, sizeof(*br));
	if (!h || !br) {
		free(h);
		free(br);
		return -ENOMEM;
	}
	h->cfg = *cfg;
	set_win(h, PCI_HOST_ECAM, &ecam_ops, cfg->ecam_base, cfg->ecam_size);
	set_win(h, PCI_HOST_PIO, &pio_ops, cfg->pio_base, cfg->pio_size);
	set_win(h, PCI_HOST_MMIO32, &window_ops, cfg->mmio32_base,
		cfg->mmio32_size);
	set_win(h, PCI_HOST_MMIO64, &window_ops, cfg->mmio64_base,
		cfg->mmio64_size);
	if (!windows_disjoint(h)) {
		free(h);
		free(br);
		return -EINVAL;
	}
	err = pthread_rwlock_init(&h->lock, NULL);
	if (!err) {
		err = pthread_mutex_init(&h->intx_lock, NULL);
		if (err)
			pthread_rwlock_destroy(&h->lock);
	}
	if (err) {
		free(h);
		free(br);
		return -err;
	}
	h->intx_chip = (struct irq_chip){ .set_level = intx_set_level,
					  .ctx = h };
	err = pci_dev_init(br, &bridge_ops, &id);
	if (err) {
		free(br);
		pci_host_destroy(h);
		return err;
	}
	br->host = h;
	h->slots[0] = br;
	*out = h;
	return 0;
}

int pci_host_add_device(struct pci_host *h, struct pci_dev *pd, int slot)
{
	uint8_t pin;

	if (!h || !pd || !pd->ops || slot == 0 || slot >= PCI_HOST_MAX_SLOTS)
		return -EINVAL;
	if (slot < 0) {
		for (slot = 1; slot < PCI_HOST_MAX_SLOTS && h->slots[slot];
		     slot++)
			;
		if (slot >= PCI_HOST_MAX_SLOTS)
			return -ENOSPC;
	} else if (h->slots[slot]) {
		return -EBUSY;
	}
	pin = pd->cfg[PCI_INTERRUPT_PIN];
	pd->host = h;
	pd->slot = (unsigned int)slot;
	pd->msi = h->cfg.msi;
	pd->intx = (struct irq_line){
		.chip = pin ? &h->intx_chip : NULL,
		.irq = pci_host_intx_irq(h, (unsigned int)slot, pin) };
	h->slots[slot] = pd;
	return slot;
}

struct rivet_dev *pci_host_window(struct pci_host *h,
				  enum pci_host_window w)
{
	if (!h || w >= PCI_HOST_NR_WINDOWS || !h->has_win[w])
		return NULL;
	return &h->win[w];
}
