// SPDX-License-Identifier: MIT
/* Fuzz target: the APLIC as a guest and devices drive it: accesses of any
 * width and offset, set_level of any source, Linux's set_type/write_msg/
 * mask sequence with raw values, the *num registers with any number,
 * domaincfg, genmsi, next boots.  Checked against a model written from
 * AIA chapter 4 and aplic.h: every served read returns the model's value,
 * refused accesses read zeros and change nothing, reads fill exactly
 * their width, set_level refuses exactly the sources that do not exist,
 * and after every operation the MSIs sent are exactly the model's, in
 * order, to the model's addresses. */
#include "fuzz.h"

#include <errno.h>

#include "core/device.h"
#include "devices/aplic.h"
#include "tests/support/irqrec.h"
#include "tests/support/mmio.h"

#define NSRC_MAX	(APLIC_MAX_SOURCES + 1)
#define MAX_HARTS	8
#define EXPECT_MAX	(2 * NSRC_MAX)

struct model {
	uint32_t nsrc;
	unsigned int nharts;
	bool ie;
	uint32_t genmsi;
	uint8_t sm[NSRC_MAX];
	bool in[NSRC_MAX], pend[NSRC_MAX], en[NSRC_MAX];
	uint32_t target[NSRC_MAX];
	struct ts_msi_event exp[EXPECT_MAX];	/* MSIs due since the check */
	unsigned int nexp;
};

struct aplic_fuzz {
	struct model m;
	struct ts_msi_rec rec;
	struct rivet_dev *dev;
	const struct irq_chip *chip;
};

/* ---- the model --------------------------------------------------------------- */

static bool m_exists(const struct model *m, uint64_t s)
{
	return s >= 1 && s <= m->nsrc;
}

static bool m_active(const struct model *m, uint64_t s)
{
	return m_exists(m, s) && m->sm[s] != APLIC_SM_INACTIVE;
}

static bool m_is_level(uint8_t sm)
{
	return sm == APLIC_SM_LEVEL1 || sm == APLIC_SM_LEVEL0;
}

static bool m_rect(const struct model *m, uint32_t s)
{
	switch (m->sm[s]) {
	case APLIC_SM_EDGE1:
	case APLIC_SM_LEVEL1:
		return m->in[s];
	case APLIC_SM_EDGE0:
	case APLIC_SM_LEVEL0:
		return !m->in[s];
	default:
		return false;
	}
}

static void m_send(struct model *m, uint32_t v)
{
	uint32_t hart = v >> 18, eiid = v & 0x7ff;

	if (hart >= m->nharts || !eiid)
		return;		/* dropped */
	FUZZ_CHECK(m->nexp < EXPECT_MAX);
	m->exp[m->nexp++] = (struct ts_msi_event){
		FZ_APLIC_IMSIC + hart * FZ_APLIC_STRIDE, eiid };
}

static void m_deliver(struct model *m, uint32_t s)
{
	if (m->ie && m->pend[s] && m->en[s]) {
		m->pend[s] = false;
		m_send(m, m->target[s]);
	}
}

static void m_deliver_all(struct model *m)
{
	for (uint32_t s = 1; s <= m->nsrc; s++)
		m_deliver(m, s);
}

static void m_set_pending(struct model *m, uint64_t s)
{
	if (m_active(m, s) && (!m_is_level(m->sm[s]) || m_rect(m, s)))
		m->pend[s] = true;
}

static void m_clear_pending(struct model *m, uint64_t s)
{
	if (m_exists(m, s))
		m->pend[s] = false;
}

static void m_enable(struct model *m, uint64_t s, bool on)
{
	if (m_active(m, s))
		m->en[s] = on;
}

static uint32_t m_word(const struct model *m, uint64_t k, int what)
{
	uint32_t v = 0;

	for (unsigned int b = 0; b < 32; b++) {
		uint32_t s = 32 * k + b;
		bool bit;

		if (!m_exists(m, s))
			continue;
		bit = what == 0 ? m->pend[s] : what == 1 ? m_rect(m, s) :
		      m->en[s];
		v |= (uint32_t)bit << b;
	}
	return v;
}

/* A served (aligned 32-bit) read. */
static uint32_t m_read(const struct model *m, uint64_t off)
{
	if (off == 0)
		return 0x80000004 | (m->ie ? 0x100 : 0);
	if (off < 0x1000)
		return m_exists(m, off / 4) ? m->sm[off / 4] : 0;
	if (off >= 0x1c00 && off < 0x1c80)
		return m_word(m, (off - 0x1c00) / 4, 0);
	if (off >= 0x1d00 && off < 0x1d80)
		return m_word(m, (off - 0x1d00) / 4, 1);
	if (off >= 0x1e00 && off < 0x1e80)
		return m_word(m, (off - 0x1e00) / 4, 2);
	if (off == 0x3000)
		return m->genmsi;
	if (off > 0x3000 && off < 0x4000)
		return m_exists(m, (off - 0x3000) / 4) ?
		       m->target[(off - 0x3000) / 4] : 0;
	return 0;
}

static void m_write(struct model *m, uint64_t off, uint32_t v)
{
	uint64_t s;

	if (off == 0) {
		m->ie = v & 0x100;
	} else if (off < 0x1000) {
		s = off / 4;
		if (!m_exists(m, s))
			return;
		m->sm[s] = v & 0x400 ? 0 : v & 7;
		if (m->sm[s] == 2 || m->sm[s] == 3)
			m->sm[s] = 0;
		if (m->sm[s] == APLIC_SM_INACTIVE) {
			m->pend[s] = m->en[s] = false;
			m->target[s] = 0;
		} else if (m_is_level(m->sm[s])) {
			m->pend[s] = m_rect(m, (uint32_t)s);
		}
	} else if (off >= 0x1c00 && off < 0x1c80) {
		for (unsigned int b = 0; b < 32; b++)
			if (v >> b & 1)
				m_set_pending(m, 32 * ((off - 0x1c00) / 4) + b);
	} else if (off == 0x1cdc || off == 0x2000) {
		m_set_pending(m, v);
	} else if (off == 0x2004) {
		m_set_pending(m, __builtin_bswap32(v));
	} else if (off >= 0x1d00 && off < 0x1d80) {
		for (unsigned int b = 0; b < 32; b++)
			if (v >> b & 1)
				m_clear_pending(m, 32 * ((off - 0x1d00) / 4) +
						b);
	} else if (off == 0x1ddc) {
		m_clear_pending(m, v);
	} else if (off >= 0x1e00 && off < 0x1e80) {
		for (unsigned int b = 0; b < 32; b++)
			if (v >> b & 1)
				m_enable(m, 32 * ((off - 0x1e00) / 4) + b, true);
	} else if (off == 0x1edc) {
		m_enable(m, v, true);
	} else if (off >= 0x1f00 && off < 0x1f80) {
		for (unsigned int b = 0; b < 32; b++)
			if (v >> b & 1)
				m_enable(m, 32 * ((off - 0x1f00) / 4) + b,
					 false);
	} else if (off == 0x1fdc) {
		m_enable(m, v, false);
	} else if (off == 0x3000) {
		m->genmsi = v & 0xfffc07ff;
		m_send(m, m->genmsi);
	} else if (off > 0x3000 && off < 0x4000) {
		s = (off - 0x3000) / 4;
		if (m_active(m, s))
			m->target[s] = v & 0xfffc07ff;
	}
	m_deliver_all(m);
}

static void m_level(struct model *m, uint32_t s, bool level)
{
	bool was = m_rect(m, s);

	m->in[s] = level;
	if (!was && m_rect(m, s))
		m->pend[s] = true;
	else if (m_is_level(m->sm[s]) && !m_rect(m, s))
		m->pend[s] = false;
	m_deliver(m, s);
}

/* ---- checks ------------------------------------------------------------------ */

/* The MSIs since the last check are exactly the model's. */
static void check_msis(struct aplic_fuzz *f)
{
	struct model *m = &f->m;

	FUZZ_CHECK(f->rec.n == m->nexp);
	for (unsigned int i = 0; i < m->nexp; i++) {
		FUZZ_CHECK(f->rec.ev[i].addr == m->exp[i].addr);
		FUZZ_CHECK(f->rec.ev[i].data == m->exp[i].data);
	}
	m->nexp = 0;
	ts_msi_rec_clear(&f->rec);
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

static void dev_access(struct aplic_fuzz *f, bool is_write, unsigned int len,
		       uint64_t off, uint32_t v)
{
	const struct ts_reg32_model model = { model_read, model_write, &f->m };

	FUZZ_CHECK(ts_reg32_access(f->dev, &model, is_write, len, off, v));
	check_msis(f);
}

static void wr(struct aplic_fuzz *f, uint64_t off, uint32_t v)
{
	dev_access(f, true, 4, off, v);
}

/* [u8 sel][u16 off] (fuzz.h) */
static void guest_access(struct aplic_fuzz *f, struct fin *in, bool is_write)
{
	static const unsigned int widths[4] = { 1, 2, 4, 8 };
	uint8_t sel = fin_u8(in);
	unsigned int len = widths[sel & FZ_APLIC_SEL_WIDTH];
	uint64_t off = fin_u16(in) % FZ_APLIC_SIZE;

	if (sel & FZ_APLIC_SEL_ALIGN)
		off &= ~3ULL;
	if (off + len > FZ_APLIC_SIZE)
		off = FZ_APLIC_SIZE - len;
	dev_access(f, is_write, len, off, is_write ? fin_u32(in) : 0);
}

static void set_level(struct aplic_fuzz *f, uint32_t s, bool level)
{
	int r = f->chip->set_level(f->chip->ctx, s, level);

	if (m_exists(&f->m, s)) {
		FUZZ_CHECK(r == 0);
		m_level(&f->m, s, level);
	} else {
		FUZZ_CHECK(r == -EINVAL);
	}
	check_msis(f);
}

/* Linux: mask, irq_set_type (+ retrigger for level types), write_msg,
 * unmask; with raw values. */
static void route(struct aplic_fuzz *f, struct fin *in)
{
	uint32_t s = 1 + fin_u16(in) % APLIC_MAX_SOURCES;
	uint8_t cfg = fin_u8(in);
	uint32_t target = fin_u32(in);
	bool on = fin_u8(in) & 1;
	uint32_t sourcecfg = (cfg & 0x7f) | (uint32_t)(cfg & 0x80) << 3;

	wr(f, APLIC_CLRIENUM, s);
	wr(f, APLIC_SOURCECFG(s), sourcecfg);
	if (m_is_level(sourcecfg & 7))
		wr(f, APLIC_SETIPNUM_LE, s);
	wr(f, APLIC_TARGET(s), target);
	if (on)
		wr(f, APLIC_SETIENUM, s);
}

static void by_number(struct aplic_fuzz *f, struct fin *in)
{
	static const uint64_t regs[7] = {
		APLIC_SETIPNUM, APLIC_SETIPNUM_LE, APLIC_SETIPNUM_BE,
		APLIC_CLRIPNUM, APLIC_SETIENUM, APLIC_CLRIENUM,
		APLIC_SETIPNUM_BE,
	};
	unsigned int r = fin_u8(in) % 7;
	uint32_t s = fin_u16(in);

	wr(f, regs[r], r == 2 ? __builtin_bswap32(s) : s);
}

/* An APLIC on fresh MSI lines: at the start and at every next boot. */
static void boot(struct aplic_fuzz *f, uint32_t nsrc, unsigned int nharts)
{
	struct aplic_cfg cfg = {
		.base = FZ_APLIC_BASE, .size = FZ_APLIC_SIZE,
		.nr_sources = nsrc, .nr_harts = nharts, .msi = &f->rec.chip,
		.imsic_base = FZ_APLIC_IMSIC, .imsic_stride = FZ_APLIC_STRIDE,
	};

	memset(&f->m, 0, sizeof(f->m));
	f->m.nsrc = nsrc;
	f->m.nharts = nharts;
	ts_msi_rec_init(&f->rec);
	FUZZ_CHECK(aplic_create(&cfg, &f->dev) == 0);
	f->chip = aplic_irq_chip(f->dev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct aplic_fuzz f;	/* large: not on the stack */
	struct fin in = { data, size };
	unsigned int nharts;
	uint32_t nsrc, s;

	fuzz_quiet();
	nsrc = 1 + fin_u16(&in) % APLIC_MAX_SOURCES;
	nharts = 1 + fin_u8(&in) % MAX_HARTS;
	boot(&f, nsrc, nharts);
	while (in.left) {
		switch (fin_u8(&in) % FZ_APLIC_NR_OPS) {
		case FZ_APLIC_READ:
			guest_access(&f, &in, false);
			break;
		case FZ_APLIC_WRITE:
			guest_access(&f, &in, true);
			break;
		case FZ_APLIC_LEVEL:
			s = fin_u16(&in);
			set_level(&f, s, fin_u8(&in) & 1);
			break;
		case FZ_APLIC_ROUTE:
			route(&f, &in);
			break;
		case FZ_APLIC_NUM:
			by_number(&f, &in);
			break;
		case FZ_APLIC_DOMAINCFG:
			wr(&f, APLIC_DOMAINCFG, fin_u32(&in));
			break;
		case FZ_APLIC_GENMSI:
			wr(&f, APLIC_GENMSI, fin_u32(&in));
			break;
		case FZ_APLIC_RESET:
			f.dev->ops->destroy(f.dev);
			boot(&f, nsrc, nharts);
			break;
		}
	}
	f.dev->ops->destroy(f.dev);
	return 0;
}
