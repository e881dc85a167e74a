// SPDX-License-Identifier: MIT
/* APLIC supervisor-level domain, MSI delivery mode only.  Registers and
 * pending-bit rules: RISC-V AIA 1.0 chapter 4 ("Memory-mapped control
 * region", "Precise effects on interrupt-pending bits", "Interrupt
 * forwarding by MSIs").  See aplic.h for what this model decides where the
 * spec leaves room. */
#include "devices/aplic.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "snapshot/snap.h"

#define NR_WORDS	32	/* setip[0..31] etc. */
#define SOURCECFG_END	0x1000
#define TARGET_END	0x4000
#define TARGET_HART	(APLIC_TARGET_HART_MASK << APLIC_TARGET_HART_SHIFT)
#define TARGET_WRITABLE	(TARGET_HART | APLIC_TARGET_EIID_MASK)
#define SM_MASK		0x7u

struct aplic_src {
	uint32_t target;	/* hart index and EIID; 0 while inactive */
	uint8_t sm;		/* source mode; sourcecfg reads this */
	bool input;		/* the wire */
	bool pending;
	bool enabled;
};

struct aplic {
	struct rivet_dev dev;
	pthread_mutex_t lock;
	struct irq_chip chip;
	const struct msi_chip *msi;
	uint64_t imsic_base, imsic_stride;
	uint32_t nr_sources;
	unsigned int nr_harts;
	bool ie;		/* domaincfg.IE */
	uint32_t genmsi;
	struct aplic_src src[APLIC_MAX_SOURCES + 1];
};

static struct aplic *to_aplic(struct rivet_dev *dev)
{
	return dev->priv;
}

/* ---- source state (caller holds the lock) ------------------------------- */

static bool is_source(const struct aplic *a, uint32_t i)
{
	return i >= 1 && i <= a->nr_sources;
}

static bool is_level(uint8_t sm)
{
	return sm == APLIC_SM_LEVEL1 || sm == APLIC_SM_LEVEL0;
}

/* The wire XOR "inverted"; 0 for inactive and detached sources. */
static bool rectified(const struct aplic_src *s)
{
	switch (s->sm) {
	case APLIC_SM_EDGE1:
	case APLIC_SM_LEVEL1:
		return s->input;
	case APLIC_SM_EDGE0:
	case APLIC_SM_LEVEL0:
		return !s->input;
	default:
		return false;
	}
}

/* A write to setip/setipnum: sets the pending bit "if possible". */
static void set_pending(struct aplic *a, uint32_t i)
{
	struct aplic_src *s = &a->src[i];

	if (!is_source(a, i) || s->sm == APLIC_SM_INACTIVE)
		return;
	if (is_level(s->sm) && !rectified(s))
		return;
	s->pending = true;
}

/* in_clrip/clripnum: any active source's pending bit can be cleared in
 * MSI mode; an inactive one's is already 0. */
static void clear_pending(struct aplic *a, uint32_t i)
{
	if (is_source(a, i))
		a->src[i].pending = false;
}

static void set_enabled(struct aplic *a, uint32_t i, bool on)
{
	struct aplic_src *s = &a->src[i];

	if (is_source(a, i) && s->sm != APLIC_SM_INACTIVE)
		s->enabled = on;
}

/* ---- MSIs (caller holds the lock) --------------------------------------- */

static void send_msi(struct aplic *a, uint32_t hart, uint32_t eiid,
		     uint32_t i)
{
	uint64_t addr;
	int err;

	if (hart >= a->nr_harts || !eiid) {
		/* Source 0 stands for genmsi. */
		log_guest("aplic@0x%" PRIx64 ": MSI of source %" PRIu32 " to "
			  "hart %" PRIu32 " EIID %" PRIu32 " dropped (%s)",
			  a->dev.base, i, hart, eiid,
			  hart >= a->nr_harts ? "no such hart" : "EIID 0");
		return;
	}
	addr = a->imsic_base + hart * a->imsic_stride;
	err = msi_send(a->msi, addr, eiid);
	if (err)
		log_guest("aplic@0x%" PRIx64 ": MSI 0x%" PRIx32 " to 0x%" PRIx64
			  " failed: %s", a->dev.base, eiid, addr,
			  strerror(-err));
}

/* Forward source @i if it is pending and enabled and IE is on. */
static void deliver(struct aplic *a, uint32_t i)
{
	struct aplic_src *s = &a->src[i];

	if (!a->ie || !s->pending || !s->enabled)
		return;
	s->pending = false;
	send_msi(a, s->target >> APLIC_TARGET_HART_SHIFT,
		 s->target & APLIC_TARGET_EIID_MASK, i);
}

static void deliver_all(struct aplic *a)
{
	for (uint32_t i = 1; i <= a->nr_sources; i++)
		deliver(a, i);
}

/* ---- registers (caller holds the lock) ---------------------------------- */

static void write_sourcecfg(struct aplic *a, uint32_t i, uint32_t v)
{
	struct aplic_src *s = &a->src[i];
	uint8_t sm = v & SM_MASK;

	if (v & APLIC_SOURCECFG_D || sm == 2 || sm == 3) {
		log_guest("aplic@0x%" PRIx64 ": sourcecfg[%" PRIu32 "] = 0x%"
			  PRIx32 ": %s, source made inactive", a->dev.base, i,
			  v, v & APLIC_SOURCECFG_D ? "no child domain" :
			  "reserved mode");
		sm = APLIC_SM_INACTIVE;
	}
	s->sm = sm;
	if (sm == APLIC_SM_INACTIVE) {
		s->pending = false;
		s->enabled = false;
		s->target = 0;
	} else if (is_level(sm)) {
		/* Set if asserted (allowed), clear if not (the level rule). */
		s->pending = rectified(s);
	}
}

static void write_target(struct aplic *a, uint32_t i, uint32_t v)
{
	struct aplic_src *s = &a->src[i];
	uint32_t guest = (v >> APLIC_TARGET_GUEST_SHIFT) &
			 APLIC_TARGET_GUEST_MASK;

	/* Read-only zero while inactive: Linux writes every target at probe,
	 * before any source is active, so this is not worth a log line. */
	if (s->sm == APLIC_SM_INACTIVE)
		return;
	if (guest)
		log_guest("aplic@0x%" PRIx64 ": target[%" PRIu32 "] guest "
			  "index %" PRIu32 " ignored (no guest files)",
			  a->dev.base, i, guest);
	s->target = v & TARGET_WRITABLE;
}

typedef void (*bit_fn)(struct aplic *a, uint32_t i);

static void for_each_bit(struct aplic *a, unsigned int k, uint32_t v,
			 bit_fn fn)
{
	while (v) {
		uint32_t i = 32 * k + (uint32_t)__builtin_ctz(v);

		v &= v - 1;
		fn(a, i);
	}
}

static void enable_one(struct aplic *a, uint32_t i)
{
	set_enabled(a, i, true);
}

static void disable_one(struct aplic *a, uint32_t i)
{
	set_enabled(a, i, false);
}

/* A *num register: @v must name a source (an inactive one is ignored
 * quietly by @fn, as the spec says). */
static void by_number(struct aplic *a, const char *reg, uint32_t v,
		      bit_fn fn)
{
	if (!is_source(a, v)) {
		log_guest("aplic@0x%" PRIx64 ": %s = %" PRIu32 ": no such "
			  "source, ignored", a->dev.base, reg, v);
		return;
	}
	fn(a, v);
}

/* Bit b of word @k of the per-source bits @field selects. */
static uint32_t read_word(struct aplic *a, unsigned int k,
			  bool (*field)(const struct aplic_src *s))
{
	uint32_t v = 0;

	for (unsigned int b = 0; b < 32; b++) {
		uint32_t i = 32 * k + b;

		if (is_source(a, i) && field(&a->src[i]))
			v |= 1u << b;
	}
	return v;
}

static bool field_pending(const struct aplic_src *s)
{
	return s->pending;
}

static bool field_enabled(const struct aplic_src *s)
{
	return s->enabled;
}

/* Register index @base + 4 * k for k < 32, or -1. */
static int word_index(uint64_t off, uint64_t base)
{
	return off >= base && off < base + 4 * NR_WORDS ?
	       (int)((off - base) / 4) : -1;
}

static uint32_t reg_read(struct aplic *a, uint64_t off)
{
	int k;

	if (off == APLIC_DOMAINCFG)
		return APLIC_DOMAINCFG_RO | APLIC_DOMAINCFG_DM |
		       (a->ie ? APLIC_DOMAINCFG_IE : 0);
	if (off < SOURCECFG_END)
		return a->src[off / 4].sm;	/* 0 above nr_sources */
	if ((k = word_index(off, APLIC_SETIP(0))) >= 0)
		return read_word(a, (unsigned int)k, field_pending);
	if ((k = word_index(off, APLIC_IN_CLRIP(0))) >= 0)
		return read_word(a, (unsigned int)k, rectified);
	if ((k = word_index(off, APLIC_SETIE(0))) >= 0)
		return read_word(a, (unsigned int)k, field_enabled);
	if (off == APLIC_GENMSI)
		return a->genmsi;
	if (off > APLIC_GENMSI && off < TARGET_END)
		return a->src[(off - APLIC_GENMSI) / 4].target;
	return 0;
}

/* False: nothing there to write. */
static bool reg_write(struct aplic *a, uint64_t off, uint32_t v)
{
	uint32_t i;
	int k;

	if (off == APLIC_DOMAINCFG) {
		a->ie = v & APLIC_DOMAINCFG_IE;
	} else if (off < SOURCECFG_END) {
		i = (uint32_t)(off / 4);
		if (!is_source(a, i))
			return false;
		write_sourcecfg(a, i, v);
	} else if ((k = word_index(off, APLIC_SETIP(0))) >= 0) {
		for_each_bit(a, (unsigned int)k, v, set_pending);
	} else if (off == APLIC_SETIPNUM) {
		by_number(a, "setipnum", v, set_pending);
	} else if (off == APLIC_SETIPNUM_LE) {
		by_number(a, "setipnum_le", v, set_pending);
	} else if (off == APLIC_SETIPNUM_BE) {
		by_number(a, "setipnum_be", __builtin_bswap32(v), set_pending);
	} else if ((k = word_index(off, APLIC_IN_CLRIP(0))) >= 0) {
		for_each_bit(a, (unsigned int)k, v, clear_pending);
	} else if (off == APLIC_CLRIPNUM) {
		by_number(a, "clripnum", v, clear_pending);
	} else if ((k = word_index(off, APLIC_SETIE(0))) >= 0) {
		for_each_bit(a, (unsigned int)k, v, enable_one);
	} else if (off == APLIC_SETIENUM) {
		by_number(a, "setienum", v, enable_one);
	} else if ((k = word_index(off, APLIC_CLRIE(0))) >= 0) {
		for_each_bit(a, (unsigned int)k, v, disable_one);
	} else if (off == APLIC_CLRIENUM) {
		by_number(a, "clrienum", v, disable_one);
	} else if (off == APLIC_GENMSI) {
		a->genmsi = v & TARGET_WRITABLE;
		send_msi(a, a->genmsi >> APLIC_TARGET_HART_SHIFT,
			 a->genmsi & APLIC_TARGET_EIID_MASK, 0);
	} else if (off > APLIC_GENMSI && off < TARGET_END) {
		i = (uint32_t)((off - APLIC_GENMSI) / 4);
		if (!is_source(a, i))
			return false;
		write_target(a, i, v);
	} else {
		return false;	/* msiaddrcfg, reserved, IDC area */
	}
	return true;
}

/* ---- device operations -------------------------------------------------- */

static bool access_ok(struct rivet_dev *dev, uint64_t off, unsigned int len,
		      bool is_write)
{
	if (len == 4 && !(off & 3) && off < dev->size)
		return true;
	log_guest("aplic@0x%" PRIx64 ": %u-byte %s at +0x%" PRIx64 " ignored "
		  "(aligned 32-bit accesses only)", dev->base, len,
		  is_write ? "write" : "read", off);
	return false;
}

static void aplic_mmio_read(struct rivet_dev *dev, uint64_t off,
			    uint8_t *data, unsigned int len)
{
	struct aplic *a = to_aplic(dev);
	uint32_t v;

	if (!access_ok(dev, off, len, false)) {
		memset(data, 0, len);
		return;
	}
	pthread_mutex_lock(&a->lock);
	v = reg_read(a, off);
	pthread_mutex_unlock(&a->lock);
	mmio_put(data, len, v);
}

static void aplic_mmio_write(struct rivet_dev *dev, uint64_t off,
			     const uint8_t *data, unsigned int len)
{
	struct aplic *a = to_aplic(dev);
	uint32_t v;
	bool done;

	if (!access_ok(dev, off, len, true))
		return;
	v = (uint32_t)mmio_get(data, len);
	pthread_mutex_lock(&a->lock);
	done = reg_write(a, off, v);
	if (done)
		deliver_all(a);
	pthread_mutex_unlock(&a->lock);
	if (!done)
		log_guest("aplic@0x%" PRIx64 ": write of 0x%" PRIx32 " to "
			  "+0x%" PRIx64 " ignored (read-only or no register)",
			  dev->base, v, off);
}

static int aplic_set_level(void *ctx, uint32_t irq, bool level)
{
	struct aplic *a = ctx;
	struct aplic_src *s;
	bool was;

	if (!is_source(a, irq))
		return -EINVAL;
	s = &a->src[irq];
	pthread_mutex_lock(&a->lock);
	was = rectified(s);
	s->input = level;
	if (!was && rectified(s))
		s->pending = true;	/* edge and level modes alike */
	else if (is_level(s->sm) && !rectified(s))
		s->pending = false;
	deliver(a, irq);
	pthread_mutex_unlock(&a->lock);
	return 0;
}

static void aplic_destroy(struct rivet_dev *dev)
{
	struct aplic *a = to_aplic(dev);

	pthread_mutex_destroy(&a->lock);
	free(a);
}

/* ---- snapshots ---------------------------------------------------------- */

/* Record: nr_sources (u32, must match the device's), domaincfg.IE (bool),
 * genmsi (u32); per source 1..nr_sources: sm (u8), target (u32), input,
 * pending, enabled (bool each).  MSIs already sent are the IMSIC's. */
static int aplic_save(struct rivet_dev *dev, struct snap_w *w)
{
	struct aplic *a = to_aplic(dev);

	pthread_mutex_lock(&a->lock);
	snap_w_u32(w, a->nr_sources);
	snap_w_bool(w, a->ie);
	snap_w_u32(w, a->genmsi);
	for (uint32_t i = 1; i <= a->nr_sources; i++) {
		const struct aplic_src *s = &a->src[i];

		snap_w_u8(w, s->sm);
		snap_w_u32(w, s->target);
		snap_w_bool(w, s->input);
		snap_w_bool(w, s->pending);
		snap_w_bool(w, s->enabled);
	}
	pthread_mutex_unlock(&a->lock);
	return w->err;
}

/* One source's state, as write_sourcecfg(), write_target(), set_level()
 * and deliver() leave it. */
static void load_src(struct snap_r *r, struct aplic_src *s, bool ie)
{
	s->sm = snap_r_u8(r);
	s->target = snap_r_u32(r);
	s->input = snap_r_bool(r);
	s->pending = snap_r_bool(r);
	s->enabled = snap_r_bool(r);
	snap_r_check(r, s->sm <= SM_MASK && s->sm != 2 && s->sm != 3,
		     "aplic: reserved source mode");
	snap_r_check(r, !(s->target & ~TARGET_WRITABLE),
		     "aplic: target reserved bits");
	snap_r_check(r, s->sm != APLIC_SM_INACTIVE ||
			 (!s->target && !s->pending && !s->enabled),
		     "aplic: inactive source with state");
	snap_r_check(r, !is_level(s->sm) || rectified(s) || !s->pending,
		     "aplic: level source pending with its input low");
	/* Such a source's MSI would have gone out already: loading it
	 * would make up an interrupt. */
	snap_r_check(r, !(ie && s->pending && s->enabled),
		     "aplic: source due for delivery");
}

/* The record is checked into a copy first: a bad one changes nothing.
 * Nothing is delivered: a source due for delivery is refused. */
static int aplic_load(struct rivet_dev *dev, struct snap_r *r)
{
	struct aplic *a = to_aplic(dev);
	struct aplic_src *src;
	uint32_t genmsi;
	bool ie;

	if (!snap_r_check(r, snap_r_u32(r) == a->nr_sources,
			  "aplic: another number of sources"))
		return snap_r_finish(r);
	ie = snap_r_bool(r);
	genmsi = snap_r_u32(r);
	snap_r_check(r, !(genmsi & ~TARGET_WRITABLE),
		     "aplic: genmsi reserved bits");
	src = calloc(a->nr_sources + 1, sizeof(*src));
	if (!src)
		return -ENOMEM;
	for (uint32_t i = 1; i <= a->nr_sources; i++)
		load_src(r, &src[i], ie);
	if (snap_r_finish(r)) {
		free(src);
		return -EBADMSG;
	}
	pthread_mutex_lock(&a->lock);
	a->ie = ie;
	a->genmsi = genmsi;
	memcpy(&a->src[1], &src[1], a->nr_sources * sizeof(*src));
	pthread_mutex_unlock(&a->lock);
	free(src);
	return 0;
}

static const struct dev_ops aplic_ops = {
	.name = "aplic",
	.mmio_read = aplic_mmio_read,
	.mmio_write = aplic_mmio_write,
	.destroy = aplic_destroy,
	.save = aplic_save,
	.load = aplic_load,
};

static bool cfg_ok(const struct aplic_cfg *cfg)
{
	uint64_t last;

	if (cfg->size < APLIC_SIZE || cfg->base > UINT64_MAX - cfg->size ||
	    cfg->nr_sources < 1 || cfg->nr_sources > APLIC_MAX_SOURCES ||
	    cfg->nr_harts < 1 || cfg->nr_harts > APLIC_MAX_HARTS ||
	    !cfg->imsic_stride)
		return false;
	/* The last hart's file address must not wrap. */
	if (__builtin_mul_overflow(cfg->nr_harts - 1, cfg->imsic_stride,
				   &last))
		return false;
	return cfg->imsic_base <= UINT64_MAX - last;
}

int aplic_create(const struct aplic_cfg *cfg, struct rivet_dev **out)
{
	struct aplic *a;
	int err;

	if (!cfg || !out || !cfg_ok(cfg))
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	err = pthread_mutex_init(&a->lock, NULL);
	if (err) {
		free(a);
		return -err;
	}
	a->msi = cfg->msi;
	a->imsic_base = cfg->imsic_base;
	a->imsic_stride = cfg->imsic_stride;
	a->nr_sources = cfg->nr_sources;
	a->nr_harts = cfg->nr_harts;
	a->chip = (struct irq_chip){ .set_level = aplic_set_level, .ctx = a };
	a->dev = (struct rivet_dev){ .ops = &aplic_ops, .base = cfg->base,
				     .size = cfg->size, .priv = a };
	*out = &a->dev;
	return 0;
}

const struct irq_chip *aplic_irq_chip(struct rivet_dev *aplic)
{
	return &to_aplic(aplic)->chip;
}
