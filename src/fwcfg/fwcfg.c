// SPDX-License-Identifier: MIT
/* QEMU fw_cfg, MMIO flavour with DMA.  Behaviour follows QEMU's
 * docs/specs/fw_cfg.rst; where the spec leaves room (accesses at odd
 * offsets, reads of the selector) this device is stricter than QEMU and
 * answers with zeros.  See fwcfg.h for the register map. */
#include "fwcfg/fwcfg.h"
#include "fwcfg/fwcfg_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <libfdt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "acpi/aml.h"
#include "core/fdt_util.h"
#include "core/gmem.h"
#include "core/log.h"
#include "snapshot/snap.h"

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put_le(uint8_t *p, uint64_t v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static bool valid_width(unsigned int len)
{
	return len == 1 || len == 2 || len == 4 || len == 8;
}

/* ---- items (caller holds the lock) -------------------------------------- */

static struct fwcfg_item *find_key(struct fwcfg *f, uint16_t key)
{
	key &= (uint16_t)~FWCFG_WRITE_CHANNEL;
	if (!(key & FWCFG_ARCH_LOCAL) && key >= FWCFG_FILE_FIRST) {
		unsigned int i = key - FWCFG_FILE_FIRST;

		return i < f->nr_files ? &f->files[i] : NULL;
	}
	for (unsigned int i = 0; i < f->nr_fixed; i++)
		if (f->fixed[i].key == key)
			return &f->fixed[i];
	return NULL;
}

struct fwcfg_item *fwcfg_find_name(struct fwcfg *f, const char *name)
{
	for (unsigned int i = 0; i < f->nr_files; i++)
		if (!strcmp(f->files[i].name, name))
			return &f->files[i];
	return NULL;
}

static void select_key(struct fwcfg *f, uint16_t key)
{
	f->cur = find_key(f, key);
	f->offset = 0;
}

/* Bytes left in the selected item. */
static uint32_t avail(const struct fwcfg *f)
{
	return f->cur ? f->cur->len - f->offset : 0;
}

static void item_free(struct fwcfg_item *it)
{
	free(it->data);
	memset(it, 0, sizeof(*it));
}

/* Fill @it with a copy of @data; 0 or -ENOMEM. */
static int item_init(struct fwcfg_item *it, uint16_t key, const void *data,
		     size_t len, bool writable)
{
	*it = (struct fwcfg_item){ .key = key, .writable = writable,
				   .len = (uint32_t)len };
	if (!len)
		return 0;
	it->data = malloc(len);
	if (!it->data)
		return -ENOMEM;
	memcpy(it->data, data, len);
	return 0;
}

/* Build the directory: be32 count, then one entry per file sorted by
 * name.  Replaces the FILE_DIR item's data; 0 or -ENOMEM. */
static int rebuild_dir(struct fwcfg *f)
{
	struct fwcfg_item *dir = find_key(f, FWCFG_FILE_DIR);
	unsigned int order[FWCFG_MAX_FILES], n = f->nr_files;
	size_t len = 4 + (size_t)n * FWCFG_DIR_ENTRY_SIZE;
	uint8_t *buf = calloc(1, len);

	if (!buf)
		return -ENOMEM;
	/* Insertion sort of at most FWCFG_MAX_FILES names. */
	for (unsigned int i = 0; i < n; i++) {
		unsigned int j = i;

		while (j && strcmp(f->files[order[j - 1]].name,
				   f->files[i].name) > 0) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
	put_be32(buf, n);
	for (unsigned int i = 0; i < n; i++) {
		const struct fwcfg_item *it = &f->files[order[i]];
		uint8_t *e = buf + 4 + (size_t)i * FWCFG_DIR_ENTRY_SIZE;

		put_be32(e, it->len);
		e[4] = (uint8_t)(it->key >> 8);
		e[5] = (uint8_t)it->key;
		memcpy(e + 8, it->name, FWCFG_NAME_SIZE);
	}
	free(dir->data);
	dir->data = buf;
	dir->len = (uint32_t)len;
	/* Growing never leaves the offset past the end. */
	return 0;
}

/* ---- guest accesses (caller holds the lock) ----------------------------- */

static void read_data(struct fwcfg *f, uint8_t *data, unsigned int len)
{
	for (unsigned int i = 0; i < len; i++)
		data[i] = avail(f) ? f->cur->data[f->offset++] : 0;
}

/* DMA READ: @len bytes of the item from the offset to guest RAM, zeros
 * past its end.  The whole destination must be RAM. */
static bool dma_read(struct fwcfg *f, uint64_t gpa, uint32_t len)
{
	uint8_t *dst;
	uint32_t n;

	if (!len)
		return true;
	dst = gmem_ptr(f->gm, gpa, len);
	if (!dst) {
		log_guest("fw_cfg@0x%" PRIx64 ": DMA read of %" PRIu32
			  " bytes to 0x%" PRIx64 " outside RAM", f->dev.base,
			  len, gpa);
		return false;
	}
	n = len < avail(f) ? len : avail(f);
	if (n)
		memcpy(dst, f->cur->data + f->offset, n);
	memset(dst + n, 0, len - n);
	f->offset += n;
	return true;
}

/* DMA WRITE: only into a writable item, only within it. */
static bool dma_write(struct fwcfg *f, uint64_t gpa, uint32_t len)
{
	const uint8_t *src;

	if (!len)
		return true;
	if (!f->cur || !f->cur->writable) {
		log_guest("fw_cfg@0x%" PRIx64 ": DMA write to %s item refused",
			  f->dev.base, f->cur ? "a read-only" : "no");
		return false;
	}
	if (len > avail(f)) {
		log_guest("fw_cfg@0x%" PRIx64 ": DMA write of %" PRIu32
			  " bytes at offset %" PRIu32 " past the end of '%s'",
			  f->dev.base, len, f->offset, f->cur->name);
		return false;
	}
	src = gmem_ptr(f->gm, gpa, len);
	if (!src) {
		log_guest("fw_cfg@0x%" PRIx64 ": DMA write of %" PRIu32
			  " bytes from 0x%" PRIx64 " outside RAM", f->dev.base,
			  len, gpa);
		return false;
	}
	memcpy(f->cur->data + f->offset, src, len);
	f->offset += len;
	return true;
}

/* Copy the descriptor out of RAM, validate, transfer, report. */
static void dma_run(struct fwcfg *f)
{
	uint64_t desc = f->dma_addr, gpa;
	uint32_t control, len;
	uint8_t raw[16], status[4];
	bool ok = true;

	f->dma_addr = 0;
	if (gmem_read(f->gm, desc, raw, sizeof(raw))) {
		log_guest("fw_cfg@0x%" PRIx64 ": DMA descriptor at 0x%" PRIx64
			  " outside RAM", f->dev.base, desc);
		return;
	}
	control = get_be32(raw);
	len = get_be32(raw + 4);
	gpa = (uint64_t)get_be32(raw + 8) << 32 | get_be32(raw + 12);

	if (control & FWCFG_DMA_SELECT)
		select_key(f, (uint16_t)(control >> 16));
	if (control & FWCFG_DMA_READ) {
		ok = dma_read(f, gpa, len);
	} else if (control & FWCFG_DMA_WRITE) {
		ok = dma_write(f, gpa, len);
	} else if (control & FWCFG_DMA_SKIP) {
		/* Skipping stops at the end of the item, like reading. */
		f->offset += len < avail(f) ? len : avail(f);
	}
	put_be32(status, ok ? 0 : FWCFG_DMA_ERROR);
	/* Cannot fail: the descriptor was just read from there. */
	gmem_write(f->gm, desc, status, sizeof(status));
}

/* ---- device operations -------------------------------------------------- */

static void bad_access(struct rivet_dev *dev, uint64_t off, unsigned int len,
		       bool is_write)
{
	log_guest("fw_cfg@0x%" PRIx64 ": %u-byte %s at +0x%" PRIx64
		  " ignored", dev->base, len, is_write ? "write" : "read",
		  off);
}

static void fwcfg_mmio_read(struct rivet_dev *dev, uint64_t off,
			    uint8_t *data, unsigned int len)
{
	static const char dma_sig[8] = "QEMU CFG";
	struct fwcfg *f = to_fwcfg(dev);

	memset(data, 0, len);
	if (!valid_width(len) || off >= FWCFG_MMIO_SIZE ||
	    len > FWCFG_MMIO_SIZE - off) {
		bad_access(dev, off, len, false);
	} else if (off == FWCFG_REG_DATA) {
		pthread_mutex_lock(&f->lock);
		read_data(f, data, len);
		pthread_mutex_unlock(&f->lock);
	} else if (off >= FWCFG_REG_DMA) {
		/* Big-endian signature: byte k of the register is sig[k]. */
		memcpy(data, dma_sig + (off - FWCFG_REG_DMA), len);
	} else if (off != FWCFG_REG_SELECTOR) {
		/* Inside the data register, or past the selector. */
		bad_access(dev, off, len, false);
	}
}

static void fwcfg_mmio_write(struct rivet_dev *dev, uint64_t off,
			     const uint8_t *data, unsigned int len)
{
	struct fwcfg *f = to_fwcfg(dev);
	uint64_t v = 0;

	if (!valid_width(len) || off >= FWCFG_MMIO_SIZE ||
	    len > FWCFG_MMIO_SIZE - off)
		goto bad;
	for (unsigned int i = 0; i < len; i++)
		v = v << 8 | data[i];	/* big-endian registers */

	pthread_mutex_lock(&f->lock);
	if (off == FWCFG_REG_SELECTOR && len == 2) {
		select_key(f, (uint16_t)v);
	} else if (off == FWCFG_REG_DMA && len == 4) {
		f->dma_addr = v << 32;
	} else if (off == FWCFG_REG_DMA + 4 && len == 4) {
		f->dma_addr |= v;
		dma_run(f);
	} else if (off == FWCFG_REG_DMA && len == 8) {
		f->dma_addr = v;
		dma_run(f);
	} else {
		pthread_mutex_unlock(&f->lock);
		goto bad;
	}
	pthread_mutex_unlock(&f->lock);
	return;
bad:
	/* Includes data register writes: QEMU ignores them since v2.4. */
	bad_access(dev, off, len, true);
}

static int fwcfg_fdt_node(struct rivet_dev *dev, struct fdt_ctx *ctx)
{
	int off;

	off = fdtu_add_soc_node(ctx, "fw-cfg", "qemu,fw-cfg-mmio", dev);
	if (off < 0)
		return off;
	return fdtu_errno(fdt_setprop_empty(ctx->fdt, off, "dma-coherent"));
}

/* As QEMU describes it (docs/specs/fw_cfg.rst, "ACPI Interface"): only the
 * OS uses this node, to see which MMIO the device claims. */
static int fwcfg_acpi_dsdt(struct rivet_dev *dev, struct aml_buf *dsdt)
{
	aml_device_begin(dsdt, "FWCF");
	aml_name_str(dsdt, "_HID", "QEMU0002");
	/* Present, enabled, functioning; not shown in the UI. */
	aml_name_int(dsdt, "_STA", 0x0b);
	/* DMA is cache-coherent (the FDT's dma-coherent). */
	aml_name_int(dsdt, "_CCA", 1);
	aml_crs_mmio(dsdt, dev->base, dev->size, NULL);
	aml_end(dsdt);
	return aml_error(dsdt);
}

static void fwcfg_destroy(struct rivet_dev *dev)
{
	struct fwcfg *f = to_fwcfg(dev);

	for (unsigned int i = 0; i < f->nr_fixed; i++)
		item_free(&f->fixed[i]);
	for (unsigned int i = 0; i < f->nr_files; i++)
		item_free(&f->files[i]);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

/* ---- snapshots ---------------------------------------------------------- */

static unsigned int nr_writable(const struct fwcfg *f)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < f->nr_files; i++)
		n += f->files[i].writable;
	return n;
}

/* Record: an item selected (bool), its key (u16), the offset into it
 * (u32), dma_addr (u64: a latched high half), the number of writable
 * files (u8), then for each, in key order: key (u16), length (u32), the
 * contents (the guest's DMA writes).  Every other item is configuration,
 * made anew with the device. */
static int fwcfg_save(struct rivet_dev *dev, struct snap_w *w)
{
	struct fwcfg *f = to_fwcfg(dev);

	pthread_mutex_lock(&f->lock);
	snap_w_bool(w, f->cur);
	snap_w_u16(w, f->cur ? f->cur->key : 0);
	snap_w_u32(w, f->offset);
	snap_w_u64(w, f->dma_addr);
	snap_w_u8(w, (uint8_t)nr_writable(f));
	for (unsigned int i = 0; i < f->nr_files; i++) {
		const struct fwcfg_item *it = &f->files[i];

		if (!it->writable)
			continue;
		snap_w_u16(w, it->key);
		snap_w_u32(w, it->len);
		snap_w_bytes(w, it->data, it->len);
	}
	pthread_mutex_unlock(&f->lock);
	return w->err;
}

/* Read the record; with @commit, into the device (only once a dry run
 * found it good, so a bad record changes nothing).  Lock held. */
static int load_record(struct fwcfg *f, struct snap_r *r, bool commit)
{
	bool selected = snap_r_bool(r);
	uint16_t key = snap_r_u16(r);
	uint32_t offset = snap_r_u32(r);
	uint64_t dma_addr = snap_r_u64(r);
	struct fwcfg_item *cur = selected ? find_key(f, key) : NULL;

	snap_r_check(r, selected ? !(key & FWCFG_WRITE_CHANNEL) && cur : !key,
		     "fw_cfg: no such item selected");
	snap_r_check(r, cur ? offset <= cur->len : !offset,
		     "fw_cfg: offset past the item");
	/* Only the high half is ever latched (fwcfg.h). */
	snap_r_check(r, !(uint32_t)dma_addr, "fw_cfg: DMA address low half");
	snap_r_check(r, snap_r_u8(r) == nr_writable(f),
		     "fw_cfg: another number of writable files");
	for (unsigned int i = 0; i < f->nr_files && !r->err; i++) {
		struct fwcfg_item *it = &f->files[i];

		if (!it->writable)
			continue;
		snap_r_check(r, snap_r_u16(r) == it->key &&
				 snap_r_u32(r) == it->len,
			     "fw_cfg: writable file of another key or size");
		if (commit) {
			snap_r_bytes(r, it->data, it->len);
			continue;
		}
		/* Not yet: such files are a few bytes (pointers). */
		for (uint32_t k = 0; k < it->len && !r->err; k++)
			snap_r_u8(r);
	}
	if (snap_r_finish(r))
		return -EBADMSG;
	if (commit) {
		f->cur = cur;
		f->offset = offset;
		f->dma_addr = dma_addr;
	}
	return 0;
}

static int fwcfg_load(struct rivet_dev *dev, struct snap_r *r)
{
	struct fwcfg *f = to_fwcfg(dev);
	struct snap_r dry = *r;
	int ret;

	pthread_mutex_lock(&f->lock);
	ret = load_record(f, &dry, false);
	if (!ret)
		ret = load_record(f, r, true);
	else
		snap_r_check(r, false, dry.what);	/* the caller's reader */
	pthread_mutex_unlock(&f->lock);
	return ret;
}

static const struct dev_ops fwcfg_ops = {
	.name = "fw_cfg",
	.mmio_read = fwcfg_mmio_read,
	.mmio_write = fwcfg_mmio_write,
	.fdt_node = fwcfg_fdt_node,
	.acpi_dsdt = fwcfg_acpi_dsdt,
	.destroy = fwcfg_destroy,
	.save = fwcfg_save,
	.load = fwcfg_load,
};

/* ---- set-up ------------------------------------------------------------- */

int fwcfg_create(const struct gmem *gm, uint64_t base, struct rivet_dev **out)
{
	static const uint8_t sig[4] = { 'Q', 'E', 'M', 'U' };
	uint8_t id[4];
	struct fwcfg *f;
	int err;

	if (!gm || !out || base > UINT64_MAX - FWCFG_MMIO_SIZE)
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	err = pthread_mutex_init(&f->lock, NULL);
	if (err) {
		free(f);
		return -err;
	}
	f->gm = gm;
	f->dev = (struct rivet_dev){ .ops = &fwcfg_ops, .base = base,
				     .size = FWCFG_MMIO_SIZE, .priv = f };
	put_le(id, FWCFG_VERSION | FWCFG_VERSION_DMA, sizeof(id));
	err = item_init(&f->fixed[0], FWCFG_SIGNATURE, sig, sizeof(sig),
			false);
	if (!err)
		err = item_init(&f->fixed[1], FWCFG_ID, id, sizeof(id), false);
	if (!err) {
		f->fixed[2].key = FWCFG_FILE_DIR;
		f->nr_fixed = 3;
		err = rebuild_dir(f);
	}
	if (err) {
		f->nr_fixed = 3;	/* item_free() of empty items is safe */
		fwcfg_destroy(&f->dev);
		return err;
	}
	select_key(f, FWCFG_SIGNATURE);
	*out = &f->dev;
	return 0;
}

static bool dev_ok(const struct rivet_dev *dev)
{
	return dev && dev->ops == &fwcfg_ops;
}

int fwcfg_add_file(struct rivet_dev *dev, const char *name, const void *data,
		   size_t len, bool writable)
{
	struct fwcfg *f;
	struct fwcfg_item *it;
	size_t nlen;
	int err;

	if (!dev_ok(dev) || !name || (!data && len))
		return -EINVAL;
	nlen = strnlen(name, FWCFG_NAME_SIZE);
	if (!nlen || nlen >= FWCFG_NAME_SIZE)
		return -EINVAL;
	if (len > UINT32_MAX)
		return -EFBIG;
	f = to_fwcfg(dev);
	pthread_mutex_lock(&f->lock);
	if (fwcfg_find_name(f, name)) {
		err = -EEXIST;
		goto out;
	}
	if (f->nr_files >= FWCFG_MAX_FILES) {
		err = -ENOSPC;
		goto out;
	}
	it = &f->files[f->nr_files];
	err = item_init(it, (uint16_t)(FWCFG_FILE_FIRST + f->nr_files), data,
			len, writable);
	if (err)
		goto out;
	memcpy(it->name, name, nlen);	/* rest zeroed by item_init() */
	f->nr_files++;
	err = rebuild_dir(f);
	if (err) {
		f->nr_files--;
		item_free(it);
	}
out:
	pthread_mutex_unlock(&f->lock);
	return err;
}

static bool fixed_key_ok(uint16_t key)
{
	if (key & FWCFG_WRITE_CHANNEL)
		return false;
	if (key & FWCFG_ARCH_LOCAL)
		return true;
	return key < FWCFG_FILE_FIRST && key != FWCFG_SIGNATURE &&
	       key != FWCFG_ID && key != FWCFG_FILE_DIR;
}

/* Add @n fixed items at once, or none of them. */
static int add_fixed(struct rivet_dev *dev, unsigned int n,
		     const uint16_t *keys, const void *const *data,
		     const size_t *lens)
{
	struct fwcfg *f;
	int err = 0;

	if (!dev_ok(dev))
		return -EINVAL;
	for (unsigned int i = 0; i < n; i++) {
		if (!fixed_key_ok(keys[i]) || (!data[i] && lens[i]))
			return -EINVAL;
		if (lens[i] > UINT32_MAX)
			return -EFBIG;
	}
	f = to_fwcfg(dev);
	pthread_mutex_lock(&f->lock);
	for (unsigned int i = 0; i < n; i++)
		if (find_key(f, keys[i]))
			err = -EEXIST;
	if (!err && f->nr_fixed + n > FWCFG_MAX_ITEMS)
		err = -ENOSPC;
	for (unsigned int i = 0; !err && i < n; i++) {
		err = item_init(&f->fixed[f->nr_fixed + i], keys[i], data[i],
				lens[i], false);
		if (err)
			while (i--)
				item_free(&f->fixed[f->nr_fixed + i]);
	}
	if (!err)
		f->nr_fixed += n;
	pthread_mutex_unlock(&f->lock);
	return err;
}

int fwcfg_add_item(struct rivet_dev *dev, uint16_t key, const void *data,
		   size_t len)
{
	return add_fixed(dev, 1, &key, &data, &len);
}

/* A le32 size item and its data item. */
static int add_sized(struct rivet_dev *dev, uint16_t size_key,
		     uint16_t data_key, const void *data, size_t len)
{
	uint8_t size[4];
	const uint16_t keys[2] = { size_key, data_key };
	const void *bufs[2] = { size, data };
	const size_t lens[2] = { sizeof(size), len };

	if (len > UINT32_MAX)
		return -EFBIG;
	put_le(size, len, sizeof(size));
	return add_fixed(dev, 2, keys, bufs, lens);
}

int fwcfg_set_kernel(struct rivet_dev *dev, const void *data, size_t len)
{
	return add_sized(dev, FWCFG_KERNEL_SIZE, FWCFG_KERNEL_DATA, data, len);
}

int fwcfg_set_initrd(struct rivet_dev *dev, const void *data, size_t len)
{
	return add_sized(dev, FWCFG_INITRD_SIZE, FWCFG_INITRD_DATA, data, len);
}

int fwcfg_set_cmdline(struct rivet_dev *dev, const char *cmdline)
{
	if (!cmdline)
		return -EINVAL;
	return add_sized(dev, FWCFG_CMDLINE_SIZE, FWCFG_CMDLINE_DATA, cmdline,
			 strlen(cmdline) + 1);
}

int fwcfg_set_nb_cpus(struct rivet_dev *dev, uint16_t n)
{
	uint8_t v[2];

	put_le(v, n, sizeof(v));
	return fwcfg_add_item(dev, FWCFG_NB_CPUS, v, sizeof(v));
}

