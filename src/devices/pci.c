// SPDX-License-Identifier: MIT
#include "devices/pci.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/device.h"
#include "core/log.h"
#include "snapshot/snap.h"

static const char *pd_name(const struct pci_dev *pd)
{
	return pd->ops && pd->ops->name ? pd->ops->name : "pci";
}

void pci_cfg_set(struct pci_dev *pd, uint32_t off, unsigned int len,
		 uint32_t v)
{
	for (unsigned int i = 0; i < len && off + i < PCI_CFG_SIZE; i++)
		pd->cfg[off + i] = (uint8_t)(v >> (8 * i));
}

void pci_cfg_set_wmask(struct pci_dev *pd, uint32_t off, unsigned int len,
		       uint32_t mask)
{
	for (unsigned int i = 0; i < len && off + i < PCI_CFG_SIZE; i++)
		pd->wmask[off + i] = (uint8_t)(mask >> (8 * i));
}

uint32_t pci_cfg_get(const struct pci_dev *pd, uint32_t off,
		     unsigned int len)
{
	uint32_t v = 0;

	for (unsigned int i = 0; i < len && i < 4; i++)
		if (off + i < PCI_CFG_SIZE)
			v |= (uint32_t)pd->cfg[off + i] << (8 * i);
	return v;
}

int pci_dev_init(struct pci_dev *pd, const struct pci_dev_ops *ops,
		 const struct pci_id *id)
{
	int err;

	if (!ops || !id || id->int_pin > 4)
		return -EINVAL;
	memset(pd, 0, sizeof(*pd));
	err = pthread_mutex_init(&pd->lock, NULL);
	if (err)
		return -err;
	pd->ops = ops;
	pd->cap_end = PCI_CAP_START;
	pci_cfg_set(pd, PCI_VENDOR_ID, 2, id->vendor);
	pci_cfg_set(pd, PCI_DEVICE_ID, 2, id->device);
	pci_cfg_set(pd, PCI_REVISION_ID, 1, id->revision);
	pci_cfg_set(pd, PCI_CLASS_PROG, 3, id->class_code);
	pci_cfg_set(pd, PCI_HEADER_TYPE, 1, 0);	/* type 0, single function */
	pci_cfg_set(pd, PCI_SUBSYSTEM_VENDOR_ID, 2, id->subsys_vendor);
	pci_cfg_set(pd, PCI_SUBSYSTEM_ID, 2, id->subsys);
	pci_cfg_set(pd, PCI_INTERRUPT_PIN, 1, id->int_pin);
	pci_cfg_set_wmask(pd, PCI_COMMAND, 2, PCI_COMMAND_MEMORY |
			  PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |
			  PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
	pd->w1cmask[PCI_STATUS] = PCI_STATUS_W1C & 0xff;
	pd->w1cmask[PCI_STATUS + 1] = PCI_STATUS_W1C >> 8;
	pci_cfg_set_wmask(pd, PCI_CACHE_LINE_SIZE, 1, 0xff);
	pci_cfg_set_wmask(pd, PCI_INTERRUPT_LINE, 1, 0xff);
	return 0;
}

void pci_dev_fini(struct pci_dev *pd)
{
	free(pd->msix.table);
	free(pd->msix.pba);
	pd->msix.table = NULL;
	pd->msix.pba = NULL;
	pthread_mutex_destroy(&pd->lock);
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

int pci_add_bar(struct pci_dev *pd, unsigned int bar, uint64_t size,
		unsigned int flags)
{
	bool is64 = flags & PCI_BAR_F_64;
	uint32_t lo = 0;
	uint64_t mask;

	if (bar >= PCI_NR_BARS || (is64 && bar + 1 >= PCI_NR_BARS) ||
	    !is_pow2(size) || size < PCI_BAR_MIN_SIZE ||
	    (!is64 && size > (1ULL << 31)) || size > (1ULL << 62) ||
	    (flags & ~(PCI_BAR_F_64 | PCI_BAR_F_PREFETCH)))
		return -EINVAL;
	if (pd->bars[bar].size || (bar && pd->bars[bar - 1].size &&
				   (pd->bars[bar - 1].flags & PCI_BAR_F_64)) ||
	    (is64 && pd->bars[bar + 1].size))
		return -EEXIST;
	pd->bars[bar].size = size;
	pd->bars[bar].flags = flags;
	if (is64)
		lo |= PCI_BAR_MEM_TYPE_64;
	if (flags & PCI_BAR_F_PREFETCH)
		lo |= PCI_BAR_PREFETCH;
	mask = ~(size - 1);
	pci_cfg_set(pd, PCI_BAR0 + 4 * bar, 4, lo);
	pci_cfg_set_wmask(pd, PCI_BAR0 + 4 * bar, 4, (uint32_t)mask & ~0xfU);
	if (is64) {
		pci_cfg_set(pd, PCI_BAR0 + 4 * (bar + 1), 4, 0);
		pci_cfg_set_wmask(pd, PCI_BAR0 + 4 * (bar + 1), 4,
				  (uint32_t)(mask >> 32));
	}
	return 0;
}

int pci_add_cap(struct pci_dev *pd, uint8_t id, unsigned int len)
{
	unsigned int off = pd->cap_end;

	if (len < 2 || len > PCI_CFG_SIZE || off + len > PCI_CFG_SIZE)
		return -ENOSPC;
	pci_cfg_set(pd, off, 1, id);
	pci_cfg_set(pd, off + 1, 1, 0);
	if (pd->last_cap)
		pci_cfg_set(pd, pd->last_cap + 1, 1, off);
	else
		pci_cfg_set(pd, PCI_CAPABILITY_LIST, 1, off);
	pd->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	pd->last_cap = (uint8_t)off;
	pd->cap_end = (uint8_t)((off + len + 3) & ~3U);
	if (off + len + 3 >= PCI_CFG_SIZE)
		pd->cap_end = 0xfc;	/* full: next add fails */
	return (int)off;
}

bool pci_bus_master(const struct pci_dev *pd)
{
	return pd->cfg[PCI_COMMAND] & PCI_COMMAND_MASTER;
}

bool pci_mem_enabled(const struct pci_dev *pd)
{
	return pd->cfg[PCI_COMMAND] & PCI_COMMAND_MEMORY;
}

uint64_t pci_bar_addr(const struct pci_dev *pd, unsigned int bar)
{
	uint64_t a;

	if (bar >= PCI_NR_BARS || !pd->bars[bar].size)
		return 0;
	a = pci_cfg_get(pd, PCI_BAR0 + 4 * bar, 4) & ~0xfULL;
	if (pd->bars[bar].flags & PCI_BAR_F_64)
		a |= (uint64_t)pci_cfg_get(pd, PCI_BAR0 + 4 * (bar + 1), 4)
		     << 32;
	return a;
}

/* ---- INTx ---------------------------------------------------------------- */

/* What the INTx line should be at. */
static bool intx_wanted(const struct pci_dev *pd)
{
	uint16_t cmd = (uint16_t)pci_cfg_get(pd, PCI_COMMAND, 2);

	return pd->intx_level && !(cmd & PCI_COMMAND_INTX_DISABLE) &&
	       !pci_msix_enabled(pd);
}

static void intx_update(struct pci_dev *pd)
{
	bool line = intx_wanted(pd);

	if (pd->intx_level)
		pd->cfg[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
	else
		pd->cfg[PCI_STATUS] &= (uint8_t)~PCI_STATUS_INTERRUPT;
	if (line == pd->intx_line)
		return;
	pd->intx_line = line;
	irq_line_set(&pd->intx, line);
}

void pci_set_irq(struct pci_dev *pd, bool level)
{
	pd->intx_level = level;
	intx_update(pd);
}

/* ---- MSI-X --------------------------------------------------------------- */

static uint16_t msix_ctrl(const struct pci_dev *pd)
{
	return pd->msix.nvec ? (uint16_t)pci_cfg_get(pd, pd->msix.cap +
						     PCI_MSIX_FLAGS, 2) : 0;
}

bool pci_msix_enabled(const struct pci_dev *pd)
{
	return msix_ctrl(pd) & PCI_MSIX_FLAGS_ENABLE;
}

int pci_msix_init(struct pci_dev *pd, unsigned int nvec, unsigned int bar,
		  uint64_t table_off, uint64_t pba_off)
{
	struct pci_msix *x = &pd->msix;
	uint64_t tlen = (uint64_t)nvec * PCI_MSIX_ENTRY_SIZE;
	uint64_t plen = ((uint64_t)nvec + 63) / 64 * 8;
	uint64_t bsize;
	int cap;

	if (x->nvec || !nvec || nvec > PCI_MSIX_MAX_VECTORS ||
	    bar >= PCI_NR_BARS)
		return -EINVAL;
	bsize = pd->bars[bar].size;
	if ((table_off | pba_off) & 7 || table_off > bsize ||
	    tlen > bsize - table_off || pba_off > bsize ||
	    plen > bsize - pba_off ||
	    (table_off < pba_off + plen && pba_off < table_off + tlen) ||
	    (table_off | pba_off) >> 32)
		return -EINVAL;
	x->table = calloc(nvec, PCI_MSIX_ENTRY_SIZE);
	x->pba = calloc(plen / 8, 8);
	if (!x->table || !x->pba) {
		free(x->table);
		free(x->pba);
		x->table = NULL;
		x->pba = NULL;
		return -ENOMEM;
	}
	cap = pci_add_cap(pd, PCI_CAP_ID_MSIX, PCI_MSIX_CAP_LEN);
	if (cap < 0) {
		free(x->table);
		free(x->pba);
		x->table = NULL;
		x->pba = NULL;
		return cap;
	}
	x->nvec = nvec;
	x->cap = (uint8_t)cap;
	x->bar = bar;
	x->table_off = table_off;
	x->pba_off = pba_off;
	pci_cfg_set(pd, cap + PCI_MSIX_FLAGS, 2, nvec - 1);
	pci_cfg_set_wmask(pd, cap + PCI_MSIX_FLAGS, 2,
			  PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	pci_cfg_set(pd, cap + PCI_MSIX_TABLE, 4, (uint32_t)table_off | bar);
	pci_cfg_set(pd, cap + PCI_MSIX_PBA, 4, (uint32_t)pba_off | bar);
	for (unsigned int v = 0; v < nvec; v++)
		x->table[4 * v + 3] = PCI_MSIX_ENTRY_CTRL_MASKBIT;
	return 0;
}

static bool msix_pending(const struct pci_msix *x, unsigned int v)
{
	return x->pba[v / 64] >> (v % 64) & 1;
}

static void msix_set_pending(struct pci_msix *x, unsigned int v, bool on)
{
	if (on)
		x->pba[v / 64] |= 1ULL << (v % 64);
	else
		x->pba[v / 64] &= ~(1ULL << (v % 64));
}

/* Could vector @v's message go out, with MSI-X control @ctrl, command
 * register @cmd and @table? */
static bool msix_sendable(uint16_t ctrl, uint16_t cmd, const uint32_t *table,
			  unsigned int v)
{
	return (ctrl & PCI_MSIX_FLAGS_ENABLE) &&
	       !(ctrl & PCI_MSIX_FLAGS_MASKALL) && (cmd & PCI_COMMAND_MASTER) &&
	       !(table[4 * v + 3] & PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

/* May vector @v's message go out now? */
static bool msix_can_send(const struct pci_dev *pd, unsigned int v)
{
	return msix_sendable(msix_ctrl(pd),
			     (uint16_t)pci_cfg_get(pd, PCI_COMMAND, 2),
			     pd->msix.table, v);
}

static void msix_send(struct pci_dev *pd, unsigned int v)
{
	const uint32_t *e = &pd->msix.table[4 * v];
	uint64_t addr = (uint64_t)e[1] << 32 | e[0];
	int err;

	msix_set_pending(&pd->msix, v, false);
	err = msi_send(pd->msi, addr, e[2]);
	if (err)
		log_guest("pci %s: MSI-X vector %u: message 0x%x to 0x%" PRIx64 " refused (%d)",
			  pd_name(pd), v, e[2], addr, err);
}

void pci_msix_notify(struct pci_dev *pd, unsigned int vec)
{
	if (vec >= pd->msix.nvec || !pci_msix_enabled(pd))
		return;
	if (msix_can_send(pd, vec))
		msix_send(pd, vec);
	else
		msix_set_pending(&pd->msix, vec, true);
}

/* After anything that may unmask: deliver what is pending. */
static void msix_flush(struct pci_dev *pd)
{
	for (unsigned int v = 0; v < pd->msix.nvec; v++)
		if (msix_pending(&pd->msix, v) && msix_can_send(pd, v))
			msix_send(pd, v);
}

/* Table and PBA: dword or qword, naturally aligned (PCI 3.0 §6.8.2). */
static bool msix_access(struct pci_dev *pd, uint64_t off, uint8_t *data,
			unsigned int len, bool is_write)
{
	struct pci_msix *x = &pd->msix;
	uint64_t tlen = (uint64_t)x->nvec * PCI_MSIX_ENTRY_SIZE;
	uint64_t plen = ((uint64_t)x->nvec + 63) / 64 * 8;
	bool in_table = off >= x->table_off && off - x->table_off < tlen;
	bool in_pba = off >= x->pba_off && off - x->pba_off < plen;

	if (!in_table && !in_pba)
		return false;
	if ((len != 4 && len != 8) || (off & (len - 1))) {
		log_guest("pci %s: %u-byte MSI-X %s at 0x%" PRIx64 " ignored",
			  pd_name(pd), len, is_write ? "write" : "read", off);
		if (!is_write)
			memset(data, 0, len);
		return true;
	}
	if (in_pba) {
		uint64_t q = x->pba[(off - x->pba_off) / 8];

		if (is_write)
			log_guest("pci %s: write to the MSI-X PBA ignored",
				  pd_name(pd));
		else
			mmio_put(data, len, q >> (8 * (off & 7)));
		return true;
	}
	for (unsigned int i = 0; i < len / 4; i++) {
		uint64_t dw = (off - x->table_off) / 4 + i;
		uint32_t *p = &x->table[dw];

		if (!is_write) {
			mmio_put(data + 4 * i, 4, *p);
			continue;
		}
		switch (dw % 4) {
		case 0:	/* address low: dword aligned */
			*p = (uint32_t)mmio_get(data + 4 * i, 4) & ~3U;
			break;
		case 3:	/* vector control: only the mask bit */
			*p = (uint32_t)mmio_get(data + 4 * i, 4) &
			     PCI_MSIX_ENTRY_CTRL_MASKBIT;
			break;
		default:
			*p = (uint32_t)mmio_get(data + 4 * i, 4);
			break;
		}
	}
	if (is_write) {
		msix_flush(pd);
		if (pd->ops->msix_changed)
			pd->ops->msix_changed(pd);
	}
	return true;
}

bool pci_msix_message(const struct pci_dev *pd, unsigned int vec,
		      uint64_t *addr, uint32_t *data)
{
	const uint32_t *e;

	if (vec >= pd->msix.nvec || !msix_can_send(pd, vec))
		return false;
	e = &pd->msix.table[4 * vec];
	*addr = (uint64_t)e[1] << 32 | e[0];
	*data = e[2];
	return true;
}

/* ---- accesses ------------------------------------------------------------ */

uint32_t pci_cfg_read(struct pci_dev *pd, uint32_t off, unsigned int len)
{
	uint32_t v = 0;

	if (off >= PCI_CFG_SIZE)
		return 0;	/* no extended config space */
	pthread_mutex_lock(&pd->lock);
	if (pd->ops->config_read)
		pd->ops->config_read(pd, off, len);
	v = pci_cfg_get(pd, off, len);
	pthread_mutex_unlock(&pd->lock);
	return v;
}

void pci_cfg_write(struct pci_dev *pd, uint32_t off, unsigned int len,
		   uint32_t v)
{
	if (off >= PCI_CFG_SIZE)
		return;
	pthread_mutex_lock(&pd->lock);
	for (unsigned int i = 0; i < len && off + i < PCI_CFG_SIZE; i++) {
		uint8_t b = (uint8_t)(v >> (8 * i));
		uint8_t *c = &pd->cfg[off + i];
		uint8_t m = pd->wmask[off + i], w1c = pd->w1cmask[off + i];
		uint8_t nv = (uint8_t)((*c & ~m) | (b & m));

		*c = nv & (uint8_t)~(b & w1c);
	}
	intx_update(pd);
	msix_flush(pd);
	if (pd->ops->config_write)
		pd->ops->config_write(pd, off, len);
	/* MSI-X enable, its function mask, bus mastering. */
	if (pd->msix.nvec && pd->ops->msix_changed)
		pd->ops->msix_changed(pd);
	pthread_mutex_unlock(&pd->lock);
}

void pci_bar_access(struct pci_dev *pd, unsigned int bar, uint64_t off,
		    uint8_t *data, unsigned int len, bool is_write)
{
	pthread_mutex_lock(&pd->lock);
	if (pd->msix.nvec && bar == pd->msix.bar &&
	    msix_access(pd, off, data, len, is_write)) {
		/* served by the core */
	} else if (is_write) {
		if (pd->ops->bar_write)
			pd->ops->bar_write(pd, bar, off, data, len);
	} else {
		memset(data, 0, len);
		if (pd->ops->bar_read)
			pd->ops->bar_read(pd, bar, off, data, len);
	}
	pthread_mutex_unlock(&pd->lock);
}

/* ---- snapshots ------------------------------------------------------------ */

static size_t pba_words(unsigned int nvec)
{
	return ((size_t)nvec + 63) / 64;
}

/* Record: config space (PCI_CFG_SIZE bytes), intx_level (bool), MSI-X
 * vectors (u16), then nvec x 4 table dwords (u32) and the PBA's words
 * (u64). */
int pci_core_save(struct pci_dev *pd, struct snap_w *w)
{
	const struct pci_msix *x = &pd->msix;

	snap_w_bytes(w, pd->cfg, PCI_CFG_SIZE);
	snap_w_bool(w, pd->intx_level);
	snap_w_u16(w, (uint16_t)x->nvec);
	for (size_t i = 0; i < 4 * (size_t)x->nvec; i++)
		snap_w_u32(w, x->table[i]);
	for (size_t i = 0; i < pba_words(x->nvec); i++)
		snap_w_u64(w, x->pba[i]);
	return w->err;
}

/* Only what a guest write can change may differ from @pd's own config
 * space; the INTx status bit is the INTx level's. */
static bool cfg_ok(const struct pci_dev *pd, const uint8_t *cfg, bool level)
{
	for (unsigned int i = 0; i < PCI_CFG_SIZE; i++) {
		uint8_t fixed = (uint8_t)~(pd->wmask[i] | pd->w1cmask[i]);

		if (i == PCI_STATUS)
			fixed &= (uint8_t)~PCI_STATUS_INTERRUPT;
		if ((cfg[i] ^ pd->cfg[i]) & fixed)
			return false;
	}
	return !(cfg[PCI_STATUS] & PCI_STATUS_INTERRUPT) == !level;
}

/* Entries as msix_access() stores them; a pending vector that could be
 * sent would have been (msix_flush()): loading it would make one up. */
static bool msix_ok(const struct pci_dev *pd, const uint8_t *cfg,
		    const uint32_t *table, const uint64_t *pba)
{
	unsigned int nvec = pd->msix.nvec;
	uint16_t ctrl = (uint16_t)(cfg[pd->msix.cap + PCI_MSIX_FLAGS] |
				   cfg[pd->msix.cap + PCI_MSIX_FLAGS + 1] << 8);
	uint16_t cmd = (uint16_t)(cfg[PCI_COMMAND] | cfg[PCI_COMMAND + 1] << 8);

	for (unsigned int v = 0; v < nvec; v++) {
		if (table[4 * v] & 3 ||
		    table[4 * v + 3] & ~(uint32_t)PCI_MSIX_ENTRY_CTRL_MASKBIT)
			return false;
		if (pba[v / 64] >> (v % 64) & 1 &&
		    msix_sendable(ctrl, cmd, table, v))
			return false;
	}
	/* No pending bits past the last vector. */
	return !(nvec % 64) || !(pba[nvec / 64] >> (nvec % 64));
}

int pci_core_load(struct pci_dev *pd, struct snap_r *r)
{
	struct pci_msix *x = &pd->msix;
	size_t tlen = 4 * (size_t)x->nvec, plen = pba_words(x->nvec);
	uint8_t cfg[PCI_CFG_SIZE];
	uint32_t *table = NULL;
	uint64_t *pba = NULL;
	bool level;

	snap_r_bytes(r, cfg, sizeof(cfg));
	level = snap_r_bool(r);
	if (!snap_r_check(r, snap_r_u16(r) == x->nvec,
			  "pci: another number of MSI-X vectors") ||
	    !snap_r_check(r, cfg_ok(pd, cfg, level),
			  "pci: read-only config bits differ"))
		return snap_r_finish(r);
	if (x->nvec) {
		table = calloc(tlen, sizeof(*table));
		pba = calloc(plen, sizeof(*pba));
		if (!table || !pba) {
			free(table);
			free(pba);
			return -ENOMEM;
		}
		for (size_t i = 0; i < tlen; i++)
			table[i] = snap_r_u32(r);
		for (size_t i = 0; i < plen; i++)
			pba[i] = snap_r_u64(r);
		snap_r_check(r, msix_ok(pd, cfg, table, pba),
			     "pci: MSI-X table or PBA");
	}
	if (!snap_r_finish(r)) {
		memcpy(pd->cfg, cfg, sizeof(cfg));
		if (x->nvec) {
			memcpy(x->table, table, tlen * sizeof(*table));
			memcpy(x->pba, pba, plen * sizeof(*pba));
		}
		/* As intx_update() would leave it, without driving it. */
		pd->intx_level = level;
		pd->intx_line = intx_wanted(pd);
	}
	free(table);
	free(pba);
	return r->err ? -EBADMSG : 0;
}

void pci_dev_destroy(struct pci_dev *pd)
{
	if (pd->ops->destroy) {
		pd->ops->destroy(pd);
	} else {
		pci_dev_fini(pd);
		free(pd);
	}
}
