// SPDX-License-Identifier: MIT
/* SiFive-compatible PLIC.  Register map: the SiFive U5 Coreplex manual,
 * chapter 8, as Linux's irq-sifive-plic.c uses it; gateway and
 * claim/complete rules: the RISC-V PLIC specification.  See plic.h for
 * what this model decides where those leave room. */
#include "devices/plic.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "snapshot/snap.h"

#define NR_WORDS	((PLIC_MAX_SOURCES + 1 + 31) / 32)
#define PENDING_END	(PLIC_PENDING_BASE + 4 * NR_WORDS)
#define ENABLE_END(n)	(PLIC_ENABLE_BASE + PLIC_ENABLE_STRIDE * (uint64_t)(n))

struct plic_context {
	uint32_t enable[NR_WORDS];
	uint8_t threshold;
	bool output;		/* what harts->set was last told */
};

struct plic {
	struct rivet_dev dev;
	pthread_mutex_t lock;
	struct irq_chip chip;
	const struct hart_irq *harts;
	uint32_t nr_sources;
	unsigned int nr_contexts;
	unsigned int nr_words;		/* bitmap words holding sources */
	uint32_t exists[NR_WORDS];	/* sources 1..nr_sources */
	uint32_t input[NR_WORDS];	/* wire levels */
	uint32_t pending[NR_WORDS];
	uint32_t claimed[NR_WORDS];
	uint8_t priority[PLIC_MAX_SOURCES + 1];
	struct plic_context ctx[PLIC_MAX_CONTEXTS];
};

static struct plic *to_plic(struct rivet_dev *dev)
{
	return dev->priv;
}

static bool test_bit(const uint32_t *map, uint32_t n)
{
	return map[n / 32] & (1u << (n % 32));
}

static void assign_bit(uint32_t *map, uint32_t n, bool v)
{
	if (v)
		map[n / 32] |= 1u << (n % 32);
	else
		map[n / 32] &= ~(1u << (n % 32));
}

/* ---- interrupt selection (caller holds the lock) ------------------------ */

/* The source context @c would claim now: pending, enabled for @c, with
 * the highest priority above its threshold, the lowest ID among equals;
 * 0 if none. */
static uint32_t best_source(const struct plic *p, unsigned int c)
{
	const struct plic_context *x = &p->ctx[c];
	unsigned int best_prio = x->threshold;
	uint32_t best = 0;

	for (unsigned int w = 0; w < p->nr_words; w++) {
		uint32_t bits = p->pending[w] & x->enable[w];

		while (bits) {
			uint32_t s = 32 * w + (uint32_t)__builtin_ctz(bits);

			bits &= bits - 1;
			if (p->priority[s] > best_prio) {
				best_prio = p->priority[s];
				best = s;
			}
		}
	}
	return best;
}

/* Tell each hart whose output changed, in context order.  Called after
 * every change, with the lock held, so the calls follow the changes. */
static void update_outputs(struct plic *p)
{
	for (unsigned int c = 0; c < p->nr_contexts; c++) {
		bool level = best_source(p, c) != 0;
		int err;

		if (level == p->ctx[c].output)
			continue;
		p->ctx[c].output = level;
		err = hart_irq_set(p->harts, c, level);
		if (err)
			log_guest("plic@0x%" PRIx64 ": hart %u external "
				  "interrupt %s failed: %s", p->dev.base, c,
				  level ? "raise" : "lower", strerror(-err));
	}
}

/* ---- registers (caller holds the lock) ---------------------------------- */

static uint32_t claim(struct plic *p, unsigned int c)
{
	uint32_t s = best_source(p, c);

	if (s) {
		assign_bit(p->pending, s, false);
		assign_bit(p->claimed, s, true);
		update_outputs(p);
	}
	return s;
}

static void complete(struct plic *p, unsigned int c, uint32_t s)
{
	if (s == 0 || s > p->nr_sources || !test_bit(p->claimed, s) ||
	    !test_bit(p->ctx[c].enable, s)) {
		log_guest("plic@0x%" PRIx64 ": context %u completes source "
			  "%" PRIu32 ", which is %s: ignored", p->dev.base, c,
			  s,
			  s == 0 || s > p->nr_sources ? "not a source" :
			  !test_bit(p->claimed, s) ? "not claimed" :
			  "not enabled for the context");
		return;
	}
	assign_bit(p->claimed, s, false);
	/* The gateway forwards a new request for an input still high. */
	if (test_bit(p->input, s))
		assign_bit(p->pending, s, true);
}

static uint32_t reg_read(struct plic *p, uint64_t off)
{
	unsigned int c;

	if (off < PLIC_PENDING_BASE)
		return p->priority[off / 4];	/* 0 for absent sources */
	if (off < PENDING_END)
		return p->pending[(off - PLIC_PENDING_BASE) / 4];
	if (off >= PLIC_ENABLE_BASE && off < ENABLE_END(p->nr_contexts)) {
		off -= PLIC_ENABLE_BASE;
		c = (unsigned int)(off / PLIC_ENABLE_STRIDE);
		return p->ctx[c].enable[off % PLIC_ENABLE_STRIDE / 4];
	}
	if (off < PLIC_CONTEXT_BASE)
		return 0;
	off -= PLIC_CONTEXT_BASE;
	c = (unsigned int)(off / PLIC_CONTEXT_STRIDE);
	if (c >= p->nr_contexts)
		return 0;
	switch (off % PLIC_CONTEXT_STRIDE) {
	case PLIC_THRESHOLD:
		return p->ctx[c].threshold;
	case PLIC_CLAIM:
		return claim(p, c);
	default:
		return 0;
	}
}

static bool reg_write(struct plic *p, uint64_t off, uint32_t v)
{
	unsigned int c;
	uint32_t s;

	if (off < PLIC_PENDING_BASE) {
		s = (uint32_t)(off / 4);
		if (s == 0 || s > p->nr_sources)
			return false;
		p->priority[s] = v & PLIC_MAX_PRIORITY;
		return true;
	}
	if (off >= PLIC_ENABLE_BASE && off < ENABLE_END(p->nr_contexts)) {
		unsigned int w;

		off -= PLIC_ENABLE_BASE;
		c = (unsigned int)(off / PLIC_ENABLE_STRIDE);
		w = (unsigned int)(off % PLIC_ENABLE_STRIDE / 4);
		p->ctx[c].enable[w] = v & p->exists[w];
		return true;
	}
	if (off < PLIC_CONTEXT_BASE)
		return false;	/* pending bits, gaps */
	off -= PLIC_CONTEXT_BASE;
	c = (unsigned int)(off / PLIC_CONTEXT_STRIDE);
	if (c >= p->nr_contexts)
		return false;
	switch (off % PLIC_CONTEXT_STRIDE) {
	case PLIC_THRESHOLD:
		p->ctx[c].threshold = v & PLIC_MAX_PRIORITY;
		return true;
	case PLIC_CLAIM:
		complete(p, c, v);
		return true;
	default:
		return false;
	}
}

/* ---- device operations -------------------------------------------------- */

static bool access_ok(struct rivet_dev *dev, uint64_t off, unsigned int len,
		      bool is_write)
{
	if (len == 4 && !(off & 3) && off < dev->size)
		return true;
	log_guest("plic@0x%" PRIx64 ": %u-byte %s at +0x%" PRIx64 " ignored "
		  "(aligned 32-bit accesses only)", dev->base, len,
		  is_write ? "write" : "read", off);
	return false;
}

static void plic_mmio_read(struct rivet_dev *dev, uint64_t off,
			   uint8_t *data, unsigned int len)
{
	struct plic *p = to_plic(dev);
	uint32_t v;

	if (!access_ok(dev, off, len, false)) {
		memset(data, 0, len);
		return;
	}
	pthread_mutex_lock(&p->lock);
	v = reg_read(p, off);
	pthread_mutex_unlock(&p->lock);
	mmio_put(data, len, v);
}

static void plic_mmio_write(struct rivet_dev *dev, uint64_t off,
			    const uint8_t *data, unsigned int len)
{
	struct plic *p = to_plic(dev);
	uint32_t v;
	bool done;

	if (!access_ok(dev, off, len, true))
		return;
	v = (uint32_t)mmio_get(data, len);
	pthread_mutex_lock(&p->lock);
	done = reg_write(p, off, v);
	if (done)
		update_outputs(p);
	pthread_mutex_unlock(&p->lock);
	if (!done)
		log_guest("plic@0x%" PRIx64 ": write of 0x%" PRIx32 " to "
			  "+0x%" PRIx64 " ignored (read-only or no register)",
			  dev->base, v, off);
}

static int plic_set_level(void *ctx, uint32_t irq, bool level)
{
	struct plic *p = ctx;

	if (irq == 0 || irq > p->nr_sources)
		return -EINVAL;
	pthread_mutex_lock(&p->lock);
	assign_bit(p->input, irq, level);
	/* Pending follows the input of an unclaimed source (plic.h). */
	if (!test_bit(p->claimed, irq))
		assign_bit(p->pending, irq, level);
	update_outputs(p);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static void plic_destroy(struct rivet_dev *dev)
{
	struct plic *p = to_plic(dev);

	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* ---- snapshots ---------------------------------------------------------- */

/* Record: nr_sources, nr_contexts (u32 each, must match the device's);
 * per bitmap word w < nr_words: input, pending, claimed (u32 each); the
 * priorities of sources 1..nr_sources (u8 each); per context: threshold
 * (u8), then its nr_words enable words (u32 each).  The outputs follow
 * from the rest. */
static int plic_save(struct rivet_dev *dev, struct snap_w *w)
{
	struct plic *p = to_plic(dev);

	pthread_mutex_lock(&p->lock);
	snap_w_u32(w, p->nr_sources);
	snap_w_u32(w, p->nr_contexts);
	for (unsigned int i = 0; i < p->nr_words; i++) {
		snap_w_u32(w, p->input[i]);
		snap_w_u32(w, p->pending[i]);
		snap_w_u32(w, p->claimed[i]);
	}
	snap_w_bytes(w, &p->priority[1], p->nr_sources);
	for (unsigned int c = 0; c < p->nr_contexts; c++) {
		snap_w_u8(w, p->ctx[c].threshold);
		for (unsigned int i = 0; i < p->nr_words; i++)
			snap_w_u32(w, p->ctx[c].enable[i]);
	}
	pthread_mutex_unlock(&p->lock);
	return w->err;
}

/* Read a bitmap word of sources; only sources that exist may be set. */
static uint32_t load_word(struct snap_r *r, const struct plic *p,
			  unsigned int i, const char *what)
{
	uint32_t v = snap_r_u32(r);

	snap_r_check(r, !(v & ~p->exists[i]), what);
	return v;
}

/* The record is checked into a copy first: a bad one changes nothing. */
static int plic_load(struct rivet_dev *dev, struct snap_r *r)
{
	struct plic *p = to_plic(dev), *n;
	int ret = -EBADMSG;

	n = malloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	pthread_mutex_lock(&p->lock);
	memcpy(n, p, sizeof(*n));
	snap_r_check(r, snap_r_u32(r) == p->nr_sources,
		     "plic: another number of sources");
	snap_r_check(r, snap_r_u32(r) == p->nr_contexts,
		     "plic: another number of contexts");
	for (unsigned int i = 0; i < p->nr_words; i++) {
		n->input[i] = load_word(r, p, i, "plic: input of no source");
		n->pending[i] = load_word(r, p, i, "plic: pending no source");
		n->claimed[i] = load_word(r, p, i, "plic: claimed no source");
		/* The gateway: a claimed source is not pending, an
		 * unclaimed one is pending exactly while its input is high
		 * (plic.h). */
		snap_r_check(r, n->pending[i] ==
				 (n->input[i] & ~n->claimed[i]),
			     "plic: pending bits disagree with the inputs");
	}
	snap_r_bytes(r, &n->priority[1], p->nr_sources);
	for (uint32_t s = 1; s <= p->nr_sources; s++)
		snap_r_check(r, n->priority[s] <= PLIC_MAX_PRIORITY,
			     "plic: priority out of range");
	for (unsigned int c = 0; c < p->nr_contexts; c++) {
		n->ctx[c].threshold = snap_r_u8(r);
		snap_r_check(r, n->ctx[c].threshold <= PLIC_MAX_PRIORITY,
			     "plic: threshold out of range");
		for (unsigned int i = 0; i < p->nr_words; i++)
			n->ctx[c].enable[i] =
				load_word(r, p, i, "plic: enable of no source");
	}
	if (!snap_r_finish(r)) {
		memcpy(p->input, n->input, sizeof(p->input));
		memcpy(p->pending, n->pending, sizeof(p->pending));
		memcpy(p->claimed, n->claimed, sizeof(p->claimed));
		memcpy(p->priority, n->priority, sizeof(p->priority));
		for (unsigned int c = 0; c < p->nr_contexts; c++) {
			memcpy(p->ctx[c].enable, n->ctx[c].enable,
			       sizeof(p->ctx[c].enable));
			p->ctx[c].threshold = n->ctx[c].threshold;
		}
		/* The harts' lines are this device's outputs: drive them
		 * to what the state says (only where that differs from
		 * what they were last told). */
		update_outputs(p);
		ret = 0;
	}
	pthread_mutex_unlock(&p->lock);
	free(n);
	return ret;
}

static const struct dev_ops plic_ops = {
	.name = "plic",
	.mmio_read = plic_mmio_read,
	.mmio_write = plic_mmio_write,
	.destroy = plic_destroy,
	.save = plic_save,
	.load = plic_load,
};

int plic_create(const struct plic_cfg *cfg, struct rivet_dev **out)
{
	struct plic *p;
	uint64_t size;
	int err;

	if (!cfg || !out || cfg->nr_sources < 1 ||
	    cfg->nr_sources > PLIC_MAX_SOURCES || cfg->nr_contexts < 1 ||
	    cfg->nr_contexts > PLIC_MAX_CONTEXTS)
		return -EINVAL;
	size = PLIC_SIZE(cfg->nr_contexts);
	if (cfg->base > UINT64_MAX - size)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	err = pthread_mutex_init(&p->lock, NULL);
	if (err) {
		free(p);
		return -err;
	}
	p->harts = cfg->harts;
	p->nr_sources = cfg->nr_sources;
	p->nr_contexts = cfg->nr_contexts;
	p->nr_words = (cfg->nr_sources + 1 + 31) / 32;
	for (uint32_t s = 1; s <= p->nr_sources; s++)
		assign_bit(p->exists, s, true);
	p->chip = (struct irq_chip){ .set_level = plic_set_level, .ctx = p };
	p->dev = (struct rivet_dev){ .ops = &plic_ops, .base = cfg->base,
				     .size = size, .priv = p };
	*out = &p->dev;
	return 0;
}

const struct irq_chip *plic_irq_chip(struct rivet_dev *plic)
{
	return &to_plic(plic)->chip;
}
