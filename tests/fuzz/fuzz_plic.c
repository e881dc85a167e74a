// SPDX-License-Identifier: MIT
/* Fuzz target: the PLIC as a guest and devices drive it: accesses of any
 * width and offset, set_level of any source, claims and completions from
 * any context, Linux's enable toggles, next boots.  Checked against a
 * model written from the register map and plic.h: every served read
 * returns the model's value, refused accesses read zeros and change
 * nothing, reads fill exactly their width, set_level refuses exactly the
 * sources that do not exist, and after every access the hart calls are
 * exactly the contexts whose output changed, in context order. */
#include "fuzz.h"

#include <errno.h>

#include "core/device.h"
#include "devices/plic.h"
#include "tests/support/irqrec.h"
#include "tests/support/mmio.h"

#define BASE		0x0c000000ULL
#define NSRC_MAX	(PLIC_MAX_SOURCES + 1)

struct model {
	uint32_t nsrc;
	unsigned int nctx;
	uint8_t prio[NSRC_MAX];
	bool in[NSRC_MAX], pend[NSRC_MAX], claimed[NSRC_MAX];
	bool en[PLIC_MAX_CONTEXTS][NSRC_MAX];
	uint8_t thr[PLIC_MAX_CONTEXTS];
	bool out[PLIC_MAX_CONTEXTS];
};

struct plic_fuzz {
	struct model m;
	struct ts_hart_rec rec;
	struct rivet_dev *dev;
	const struct irq_chip *chip;
};

/* ---- the model ---------------------------------------------------------- */

static bool m_exists(const struct model *m, uint64_t s)
{
	return s >= 1 && s <= m->nsrc;
}

/* The claim of context @c among the @n pending sources @pend (in ID
 * order): enabled, priority above the threshold, highest priority first,
 * then lowest ID. */
static uint32_t m_best_of(const struct model *m, unsigned int c,
			  const uint16_t *pend, unsigned int n)
{
	unsigned int p = m->thr[c];
	uint32_t best = 0;

	for (unsigned int i = 0; i < n; i++) {
		uint32_t s = pend[i];

		if (m->en[c][s] && m->prio[s] > p) {
			p = m->prio[s];
			best = s;
		}
	}
	return best;
}

/* The pending sources, in ID order; returns how many. */
static unsigned int m_pending(const struct model *m, uint16_t *pend)
{
	unsigned int n = 0;

	for (uint32_t s = 1; s <= m->nsrc; s++)
		if (m->pend[s])
			pend[n++] = (uint16_t)s;
	return n;
}

static uint32_t m_best(const struct model *m, unsigned int c)
{
	uint16_t pend[NSRC_MAX];

	return m_best_of(m, c, pend, m_pending(m, pend));
}

static uint32_t m_word(const struct model *m, const bool *bits, uint64_t w)
{
	uint32_t v = 0;

	for (unsigned int b = 0; b < 32; b++)
		if (m_exists(m, 32 * w + b) && bits[32 * w + b])
			v |= 1u << b;
	return v;
}

/* A served (aligned 32-bit) read. */
static uint32_t m_read(struct model *m, uint64_t off)
{
	uint64_t c, r;
	uint32_t s;

	if (off < 0x1000)
		return m_exists(m, off / 4) ? m->prio[off / 4] : 0;
	if (off >= 0x1000 && off < 0x1080)
		return m_word(m, m->pend, (off - 0x1000) / 4);
	if (off >= 0x2000 && off < 0x2000 + 0x80ULL * m->nctx) {
		c = (off - 0x2000) / 0x80;
		return m_word(m, m->en[c], (off - 0x2000) % 0x80 / 4);
	}
	if (off < 0x200000)
		return 0;
	c = (off - 0x200000) / 0x1000;
	r = (off - 0x200000) % 0x1000;
	if (c >= m->nctx)
		return 0;
	if (r == 0)
		return m->thr[c];
	if (r != 4)
		return 0;
	s = m_best(m, (unsigned int)c);
	if (s) {
		m->pend[s] = false;
		m->claimed[s] = true;
	}
	return s;
}

static void m_write(struct model *m, uint64_t off, uint32_t v)
{
	uint64_t c, r, w;

	if (off < 0x1000) {
		if (m_exists(m, off / 4))
			m->prio[off / 4] = v & 7;
		return;
	}
	if (off >= 0x2000 && off < 0x2000 + 0x80ULL * m->nctx) {
		c = (off - 0x2000) / 0x80;
		w = (off - 0x2000) % 0x80 / 4;
		for (unsigned int b = 0; b < 32; b++)
			if (m_exists(m, 32 * w + b))
				m->en[c][32 * w + b] = v >> b & 1;
		return;
	}
	if (off < 0x200000)
		return;
	c = (off - 0x200000) / 0x1000;
	r = (off - 0x200000) % 0x1000;
	if (c >= m->nctx)
		return;
	if (r == 0) {
		m->thr[c] = v & 7;
	} else if (r == 4 && m_exists(m, v) && m->claimed[v] &&
		   m->en[c][v]) {
		m->claimed[v] = false;
		if (m->in[v])
			m->pend[v] = true;
	}
}

static void m_level(struct model *m, uint32_t s, bool level)
{
	m->in[s] = level;
	if (!m->claimed[s])
		m->pend[s] = level;
}

/* ---- checks ------------------------------------------------------------- */

/* The hart calls since the last check: exactly the contexts whose output
 * changed, in context order. */
static void check_outputs(struct plic_fuzz *f)
{
	struct model *m = &f->m;
	uint16_t pend[NSRC_MAX];
	unsigned int n = m_pending(m, pend);
	unsigned long k = 0;

	for (unsigned int c = 0; c < m->nctx; c++) {
		bool level = m_best_of(m, c, pend, n) != 0;

		if (level == m->out[c])
			continue;
		FUZZ_CHECK(k < f->rec.n);
		FUZZ_CHECK(f->rec.ev[k].hart == c);
		FUZZ_CHECK(f->rec.ev[k].level == level);
		m->out[c] = level;
		k++;
	}
	FUZZ_CHECK(f->rec.n == k);
	FUZZ_CHECK(f->rec.repeats == 0);
	FUZZ_CHECK(f->rec.bad_hart == 0);
	ts_hart_rec_clear(&f->rec);
}

/* The model's side of ts_reg32_access(). */
static uint32_t model_read(void *m, uint64_t off)
{
	return m_read(m, off);
}

static void model_write(void *m, uint64_t off, uint32_t v)
{
	m_write(m, off, v);
}

static void dev_access(struct plic_fuzz *f, bool is_write, unsigned int len,
		       uint64_t off, uint32_t v)
{
	const struct ts_reg32_model model = { model_read, model_write, &f->m };

	FUZZ_CHECK(ts_reg32_access(f->dev, &model, is_write, len, off, v));
	check_outputs(f);
}

static uint64_t claim_off(unsigned int c)
{
	return PLIC_CONTEXT_BASE + PLIC_CONTEXT_STRIDE * (uint64_t)c +
	       PLIC_CLAIM;
}

/* [u8 sel][u32 a] (fuzz.h) */
static void guest_access(struct plic_fuzz *f, struct fin *in, bool is_write)
{
	static const unsigned int widths[4] = { 1, 2, 4, 8 };
	uint8_t sel = fin_u8(in);
	uint32_t a = fin_u32(in);
	unsigned int len = widths[sel & FZ_PLIC_SEL_WIDTH];
	uint64_t size = f->dev->size, off;

	switch (sel & FZ_PLIC_SEL_AREA) {
	case FZ_PLIC_AREA_RAW:
		off = a % size;
		break;
	case FZ_PLIC_AREA_PRIO:
		off = 4ULL * (a % 1024);
		break;
	case FZ_PLIC_AREA_ENABLE:
		off = PLIC_ENABLE_BASE + PLIC_ENABLE_STRIDE * ((a / 32) % 32) +
		      4 * (a % 32);
		break;
	default:
		off = PLIC_CONTEXT_BASE + PLIC_CONTEXT_STRIDE *
		      ((a % 32) % f->m.nctx) + (a >> 5) % 0x1000;
		break;
	}
	if (sel & FZ_PLIC_SEL_ALIGN)
		off &= ~3ULL;
	if (off + len > size)
		off = size - len;	/* the bus never straddles the end */
	dev_access(f, is_write, len, off, is_write ? fin_u32(in) : 0);
}

static void set_level(struct plic_fuzz *f, uint32_t s, bool level)
{
	int r = f->chip->set_level(f->chip->ctx, s, level);

	if (m_exists(&f->m, s)) {
		FUZZ_CHECK(r == 0);
		m_level(&f->m, s, level);
	} else {
		FUZZ_CHECK(r == -EINVAL);
	}
	check_outputs(f);
}

/* Linux's plic_toggle() and the priority write of plic_irq_unmask(). */
static void route(struct plic_fuzz *f, struct fin *in)
{
	unsigned int c = fin_u8(in) % PLIC_MAX_CONTEXTS;
	uint32_t s = fin_u16(in) % 1024;
	uint8_t prio = fin_u8(in);
	bool on = fin_u8(in) & 1;
	uint64_t en = PLIC_ENABLE_BASE + PLIC_ENABLE_STRIDE * (uint64_t)c +
		      4 * (s / 32);
	uint8_t buf[4];
	uint32_t v;

	f->dev->ops->mmio_read(f->dev, en, buf, 4);
	v = (uint32_t)mmio_get(buf, 4);
	FUZZ_CHECK(v == m_read(&f->m, en));
	v = on ? v | 1u << (s % 32) : v & ~(1u << (s % 32));
	dev_access(f, true, 4, en, v);
	dev_access(f, true, 4, 4ULL * s, prio);
}

/* A PLIC on fresh hart lines: at the start and at every next boot. */
static void boot(struct plic_fuzz *f, unsigned int nctx, uint32_t nsrc)
{
	struct plic_cfg cfg = { .base = BASE, .nr_sources = nsrc,
				.nr_contexts = nctx, .harts = &f->rec.irq };

	memset(&f->m, 0, sizeof(f->m));
	f->m.nsrc = nsrc;
	f->m.nctx = nctx;
	ts_hart_rec_init(&f->rec);
	FUZZ_CHECK(plic_create(&cfg, &f->dev) == 0);
	FUZZ_CHECK(f->dev->size == PLIC_SIZE(nctx));
	f->chip = plic_irq_chip(f->dev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct plic_fuzz f;	/* large: not on the stack */
	struct fin in = { data, size };
	unsigned int nctx;
	uint32_t nsrc;

	fuzz_quiet();
	nctx = 1 + fin_u8(&in) % PLIC_MAX_CONTEXTS;
	nsrc = 1 + fin_u16(&in) % PLIC_MAX_SOURCES;
	boot(&f, nctx, nsrc);
	while (in.left) {
		unsigned int c;
		uint32_t s;

		switch (fin_u8(&in) % FZ_PLIC_NR_OPS) {
		case FZ_PLIC_READ:
			guest_access(&f, &in, false);
			break;
		case FZ_PLIC_WRITE:
			guest_access(&f, &in, true);
			break;
		case FZ_PLIC_LEVEL:
			s = fin_u16(&in);
			set_level(&f, s, fin_u8(&in) & 1);
			break;
		case FZ_PLIC_CLAIM:
			c = fin_u8(&in) % nctx;
			dev_access(&f, false, 4, claim_off(c), 0);
			break;
		case FZ_PLIC_COMPLETE:
			c = fin_u8(&in) % nctx;
			dev_access(&f, true, 4, claim_off(c), fin_u16(&in));
			break;
		case FZ_PLIC_ROUTE:
			route(&f, &in);
			break;
		case FZ_PLIC_THRESHOLD:
			c = fin_u8(&in) % nctx;
			dev_access(&f, true, 4, claim_off(c) - PLIC_CLAIM +
				   PLIC_THRESHOLD, fin_u32(&in));
			break;
		case FZ_PLIC_RESET:
			f.dev->ops->destroy(f.dev);
			boot(&f, nctx, nsrc);
			break;
		}
	}
	f.dev->ops->destroy(f.dev);
	return 0;
}
