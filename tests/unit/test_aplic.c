// SPDX-License-Identifier: MIT
/* Tests for the APLIC (supervisor-level domain, MSI delivery mode): every
 * register, hostile accesses, each source mode's pending-bit rules, the
 * exact sequence of MSIs, what Linux's irq-riscv-aplic-{main,msi}.c do,
 * and concurrent devices and vCPUs. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/log.h"
#include "devices/aplic.h"
#include "tests/support/irqrec.h"
#include "tests/support/irqstress.h"
#include "tests/support/mmio.h"

#define BASE	0x0d000000ULL
#define SIZE	0x8000ULL	/* past APLIC_SIZE: reads 0 */
#define NSRC	40
#define NHARTS	4
#define IMSIC	0x28000000ULL
#define STRIDE	0x1000ULL

struct fixture {
	struct ts_msi_rec rec;
	struct rivet_dev *dev;
	const struct irq_chip *chip;
};

static struct aplic_cfg cfg_of(struct ts_msi_rec *rec)
{
	return (struct aplic_cfg){ .base = BASE, .size = SIZE,
				   .nr_sources = NSRC, .nr_harts = NHARTS,
				   .msi = &rec->chip, .imsic_base = IMSIC,
				   .imsic_stride = STRIDE };
}

static int setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof(*f));
	struct aplic_cfg cfg;

	ts_msi_rec_init(&f->rec);
	cfg = cfg_of(&f->rec);
	assert_int_equal(aplic_create(&cfg, &f->dev), 0);
	assert_int_equal(f->dev->base, BASE);
	assert_int_equal(f->dev->size, SIZE);
	f->chip = aplic_irq_chip(f->dev);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	f->dev->ops->destroy(f->dev);
	test_free(f);
	return 0;
}

static void level(struct fixture *f, uint32_t s, bool on)
{
	assert_int_equal(f->chip->set_level(f->chip->ctx, s, on), 0);
}

static uint32_t tgt(uint32_t hart, uint32_t eiid)
{
	return hart << APLIC_TARGET_HART_SHIFT | eiid;
}

static uint64_t msi_addr(uint32_t hart)
{
	return IMSIC + hart * STRIDE;
}

/* Make @s active in mode @sm, aimed at @hart with @eiid, enabled. */
static void route(struct rivet_dev *d, uint32_t s, uint32_t sm, uint32_t hart,
		  uint32_t eiid)
{
	ts_wr32(d, APLIC_SOURCECFG(s), sm);
	ts_wr32(d, APLIC_TARGET(s), tgt(hart, eiid));
	ts_wr32(d, APLIC_SETIENUM, s);
}

static bool pending(struct rivet_dev *d, uint32_t s)
{
	return ts_rd32(d, APLIC_SETIP(s / 32)) & 1u << (s % 32);
}

static bool enabled(struct rivet_dev *d, uint32_t s)
{
	return ts_rd32(d, APLIC_SETIE(s / 32)) & 1u << (s % 32);
}

static bool rect_input(struct rivet_dev *d, uint32_t s)
{
	return ts_rd32(d, APLIC_IN_CLRIP(s / 32)) & 1u << (s % 32);
}

/* The messages since the last check are exactly @ev[0..n). */
static void expect_msis(struct fixture *f, const struct ts_msi_event *ev,
			unsigned long n)
{
	assert_int_equal(f->rec.n, n);
	for (unsigned long i = 0; i < n; i++) {
		assert_int_equal(f->rec.ev[i].addr, ev[i].addr);
		assert_int_equal(f->rec.ev[i].data, ev[i].data);
	}
	ts_msi_rec_clear(&f->rec);
}

#define EV(...) ((const struct ts_msi_event[]){ __VA_ARGS__ })
#define EXPECT(f, ...) expect_msis(f, EV(__VA_ARGS__), \
	sizeof(EV(__VA_ARGS__)) / sizeof(struct ts_msi_event))
#define EXPECT_NONE(f) expect_msis(f, NULL, 0)
#define M(hart, eiid) { msi_addr(hart), eiid }

/* ---- creation ----------------------------------------------------------- */

static void test_create_bad_args(void **state)
{
	struct ts_msi_rec rec;
	struct aplic_cfg ok, cfg;
	struct rivet_dev *d = NULL;

	ts_msi_rec_init(&rec);
	ok = cfg_of(&rec);
	assert_int_equal(aplic_create(NULL, &d), -EINVAL);
	assert_int_equal(aplic_create(&ok, NULL), -EINVAL);
#define BAD(field, value)						\
	do {								\
		cfg = ok;						\
		cfg.field = value;					\
		assert_int_equal(aplic_create(&cfg, &d), -EINVAL);	\
	} while (0)
	BAD(size, APLIC_SIZE - 4);
	BAD(size, 0);
	BAD(base, UINT64_MAX - SIZE + 1);
	BAD(nr_sources, 0);
	BAD(nr_sources, APLIC_MAX_SOURCES + 1);
	BAD(nr_sources, UINT32_MAX);
	BAD(nr_harts, 0);
	BAD(nr_harts, APLIC_MAX_HARTS + 1);
	BAD(imsic_stride, 0);
	BAD(imsic_base, UINT64_MAX - 3 * STRIDE + 1);	/* hart 3 wraps */
	cfg = ok;
	cfg.nr_harts = APLIC_MAX_HARTS;
	cfg.imsic_stride = UINT64_MAX / 16000;		/* product wraps */
	assert_int_equal(aplic_create(&cfg, &d), -EINVAL);
#undef BAD
	assert_null(d);
	cfg = ok;
	cfg.imsic_base = UINT64_MAX - 3 * STRIDE;	/* hart 3 at the top */
	cfg.msi = NULL;
	assert_int_equal(aplic_create(&cfg, &d), 0);
	d->ops->destroy(d);
	assert_int_equal(rec.total, 0);
}

/* The largest domain: source 1023 is bit 31 of word 31, hart 16383's
 * file at the end of the range. */
static void test_max_config(void **state)
{
	struct ts_msi_rec *rec = test_calloc(1, sizeof(*rec));
	struct aplic_cfg cfg;
	const struct irq_chip *chip;
	struct rivet_dev *d;

	ts_msi_rec_init(rec);
	cfg = cfg_of(rec);
	cfg.nr_sources = APLIC_MAX_SOURCES;
	cfg.nr_harts = APLIC_MAX_HARTS;
	cfg.size = APLIC_SIZE;
	assert_int_equal(aplic_create(&cfg, &d), 0);
	chip = aplic_irq_chip(d);
	ts_wr32(d, APLIC_DOMAINCFG, APLIC_DOMAINCFG_IE);
	route(d, 1023, APLIC_SM_EDGE1, APLIC_MAX_HARTS - 1, 0x7ff);
	assert_int_equal(ts_rd32(d, APLIC_SOURCECFG(1023)), APLIC_SM_EDGE1);
	assert_int_equal(ts_rd32(d, 0x0ffc), APLIC_SM_EDGE1);
	assert_int_equal(ts_rd32(d, APLIC_TARGET(1023)), 0xfffc07ff);
	assert_int_equal(ts_rd32(d, 0x3ffc), 0xfffc07ff);
	assert_int_equal(ts_rd32(d, APLIC_SETIE(31)), 0x80000000);
	assert_int_equal(chip->set_level(chip->ctx, 1023, true), 0);
	assert_int_equal(rec->n, 1);
	assert_int_equal(rec->ev[0].addr, IMSIC + 16383 * STRIDE);
	assert_int_equal(rec->ev[0].data, 0x7ff);
	assert_int_equal(ts_rd32(d, APLIC_IN_CLRIP(31)), 0x80000000);
	assert_int_equal(ts_rd32(d, APLIC_SIZE - 4), 0xfffc07ff);
	d->ops->destroy(d);
	test_free(rec);
}

static void test_reset_values(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;

	assert_int_equal(ts_rd32(d, APLIC_DOMAINCFG), 0x80000004);
	for (uint64_t off = 4; off < SIZE; off += 4)
		assert_int_equal(ts_rd32(d, off), 0);
	EXPECT_NONE(f);
}

/* ---- registers ---------------------------------------------------------- */

/* Only IE is writable; DM reads 1, BE 0, bits 31:24 0x80. */
static void test_domaincfg(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;

	ts_wr32(d, APLIC_DOMAINCFG, 0xffffffff);
	assert_int_equal(ts_rd32(d, APLIC_DOMAINCFG), 0x80000104);
	ts_wr32(d, APLIC_DOMAINCFG, 0);
	assert_int_equal(ts_rd32(d, APLIC_DOMAINCFG), 0x80000004);
	/* The spec's byte-order-proof write, (x << 24) | x, of BE = 1. */
	ts_wr32(d, APLIC_DOMAINCFG, 0x01000001);
	assert_int_equal(ts_rd32(d, APLIC_DOMAINCFG), 0x80000004);
	ts_wr32(d, APLIC_DOMAINCFG, APLIC_DOMAINCFG_IE);
	assert_int_equal(ts_rd32(d, APLIC_DOMAINCFG), 0x80000104);
	ts_wr32(d, APLIC_DOMAINCFG, APLIC_DOMAINCFG_DM);	/* IE off */
	assert_int_equal(ts_rd32(d, APLIC_DOMAINCFG), 0x80000004);
	EXPECT_NONE(f);
}

static void test_sourcecfg(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;
	static const uint32_t in[] = {
		0, 1, 4, 5, 6, 7,
		2, 3,			/* reserved: inactive */
		0x400 | 6, 0x7ff,	/* delegation: no children */
		0xfffffbfe,		/* D = 0, reserved bits, SM 6 */
		0xfffff801,		/* D = 0, SM 1 */
		0xffffffff,
	};
	static const uint32_t out[] = { 0, 1, 4, 5, 6, 7, 0, 0, 0, 0, 6, 1,
					0 };
	unsigned long n;

	for (uint32_t s = 1; s <= NSRC; s++)
		for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
			ts_wr32(d, APLIC_SOURCECFG(s), in[i]);
			assert_int_equal(ts_rd32(d, APLIC_SOURCECFG(s)),
					 out[i]);
		}
	/* Sources past riscv,num-sources: read 0, writes logged. */
	for (uint32_t s = NSRC + 1; s <= APLIC_MAX_SOURCES; s += 13) {
		n = log_count();
		ts_wr32(d, APLIC_SOURCECFG(s), APLIC_SM_DETACHED);
		assert_true(log_count() > n);
		assert_int_equal(ts_rd32(d, APLIC_SOURCECFG(s)), 0);
	}
	/* Delegating or reserving is logged. */
	n = log_count();
	ts_wr32(d, APLIC_SOURCECFG(1), 0x400);
	ts_wr32(d, APLIC_SOURCECFG(1), 3);
	assert_true(log_count() >= n + 2);
	EXPECT_NONE(f);
}

/* Making a source inactive clears its pending and enable bits and target;
 * an inactive source's bits and target are read-only zero. */
static void test_inactive_is_zero(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;

	route(d, 7, APLIC_SM_DETACHED, 2, 33);
	ts_wr32(d, APLIC_SETIPNUM, 7);
	assert_true(pending(d, 7));
	assert_true(enabled(d, 7));
	assert_int_equal(ts_rd32(d, APLIC_TARGET(7)), tgt(2, 33));
	ts_wr32(d, APLIC_SOURCECFG(7), APLIC_SM_INACTIVE);
	assert_false(pending(d, 7));
	assert_false(enabled(d, 7));
	assert_int_equal(ts_rd32(d, APLIC_TARGET(7)), 0);
	ts_wr32(d, APLIC_SETIPNUM, 7);
	ts_wr32(d, APLIC_SETIP(0), 1u << 7);
	ts_wr32(d, APLIC_SETIENUM, 7);
	ts_wr32(d, APLIC_SETIE(0), 0xffffffff);
	ts_wr32(d, APLIC_TARGET(7), tgt(1, 5));
	level(f, 7, true);
	assert_int_equal(ts_rd32(d, APLIC_SETIP(0)), 0);
	assert_int_equal(ts_rd32(d, APLIC_SETIE(0)), 0);
	assert_int_equal(ts_rd32(d, APLIC_IN_CLRIP(0)), 0);
	assert_int_equal(ts_rd32(d, APLIC_TARGET(7)), 0);
	/* Active again: pending and enable stay 0 until set; the target
	 * starts at 0. */
	ts_wr32(d, APLIC_SOURCECFG(7), APLIC_SM_EDGE1);
	assert_false(pending(d, 7));
	assert_false(enabled(d, 7));
	assert_int_equal(ts_rd32(d, APLIC_TARGET(7)), 0);
	assert_true(rect_input(d, 7));
	EXPECT_NONE(f);
}

static void test_enable_registers(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;
	unsigned long n;

	for (uint32_t s = 1; s <= NSRC; s++)
		ts_wr32(d, APLIC_SOURCECFG(s), s % 2 ? APLIC_SM_DETACHED : 0);
	ts_wr32(d, APLIC_SETIE(0), 0xffffffff);
	ts_wr32(d, APLIC_SETIE(1), 0xffffffff);
	ts_wr32(d, APLIC_SETIE(2), 0xffffffff);
	assert_int_equal(ts_rd32(d, APLIC_SETIE(0)), 0xaaaaaaaa);
	assert_int_equal(ts_rd32(d, APLIC_SETIE(1)), 0xaa);	/* 33..39 */
	assert_int_equal(ts_rd32(d, APLIC_SETIE(2)), 0);
	ts_wr32(d, APLIC_CLRIE(0), 0x0000ff00);
	assert_int_equal(ts_rd32(d, APLIC_SETIE(0)), 0xaaaa00aa);
	ts_wr32(d, APLIC_CLRIENUM, 1);
	assert_int_equal(ts_rd32(d, APLIC_SETIE(0)), 0xaaaa00a8);
	ts_wr32(d, APLIC_SETIENUM, 9);
	ts_wr32(d, APLIC_SETIENUM, 10);		/* inactive: ignored */
	assert_int_equal(ts_rd32(d, APLIC_SETIE(0)), 0xaaaa02a8);
	/* Write-only registers read 0. */
	assert_int_equal(ts_rd32(d, APLIC_CLRIE(0)), 0);
	assert_int_equal(ts_rd32(d, APLIC_SETIENUM), 0);
	assert_int_equal(ts_rd32(d, APLIC_CLRIENUM), 0);
	/* Numbers that are no source: logged. */
	n = log_count();
	ts_wr32(d, APLIC_SETIENUM, 0);
	ts_wr32(d, APLIC_SETIENUM, NSRC + 1);
	ts_wr32(d, APLIC_CLRIENUM, UINT32_MAX);
	assert_true(log_count() >= n + 3);
	ts_wr32(d, APLIC_CLRIE(31), 0xffffffff);
	ts_wr32(d, APLIC_CLRIE(1), 0xffffffff);
	ts_wr32(d, APLIC_CLRIE(0), 0xffffffff);
	assert_int_equal(ts_rd32(d, APLIC_SETIE(0)), 0);
	assert_int_equal(ts_rd32(d, APLIC_SETIE(1)), 0);
	EXPECT_NONE(f);
}

/* setip/setipnum(_le/_be) set a pending bit "if possible", in_clrip reads
 * the rectified input, in_clrip/clripnum clear: per source mode and wire
 * level. */
static void test_pending_rules(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;
	static const struct {
		uint32_t sm;
		bool wire;
		bool settable;		/* by setip/setipnum */
		bool rect;		/* in_clrip */
	} t[] = {
		{ APLIC_SM_INACTIVE, false, false, false },
		{ APLIC_SM_INACTIVE, true, false, false },
		{ APLIC_SM_DETACHED, false, true, false },
		{ APLIC_SM_DETACHED, true, true, false },
		{ APLIC_SM_EDGE1, false, true, false },
		{ APLIC_SM_EDGE1, true, true, true },
		{ APLIC_SM_EDGE0, false, true, true },
		{ APLIC_SM_EDGE0, true, true, false },
		{ APLIC_SM_LEVEL1, false, false, false },
		{ APLIC_SM_LEVEL1, true, true, true },
		{ APLIC_SM_LEVEL0, false, true, true },
		{ APLIC_SM_LEVEL0, true, false, false },
	};
	const uint32_t s = 35;			/* word 1, bit 3 */

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ts_wr32(d, APLIC_SOURCECFG(s), APLIC_SM_INACTIVE);
		level(f, s, t[i].wire);
		ts_wr32(d, APLIC_SOURCECFG(s), t[i].sm);
		ts_wr32(d, APLIC_IN_CLRIP(1), 0xffffffff);
		assert_false(pending(d, s));
		assert_int_equal(rect_input(d, s), t[i].rect);

		ts_wr32(d, APLIC_SETIP(1), 1u << 3);
		assert_int_equal(pending(d, s), t[i].settable);
		ts_wr32(d, APLIC_IN_CLRIP(1), 1u << 3);
		assert_false(pending(d, s));

		ts_wr32(d, APLIC_SETIPNUM, s);
		assert_int_equal(pending(d, s), t[i].settable);
		ts_wr32(d, APLIC_CLRIPNUM, s);
		assert_false(pending(d, s));

		ts_wr32(d, APLIC_SETIPNUM_LE, s);
		assert_int_equal(pending(d, s), t[i].settable);
		ts_wr32(d, APLIC_CLRIPNUM, s);

		ts_wr32(d, APLIC_SETIPNUM_BE, __builtin_bswap32(s));
		assert_int_equal(pending(d, s), t[i].settable);
		ts_wr32(d, APLIC_CLRIPNUM, s);
		ts_wr32(d, APLIC_SETIPNUM_BE, s);	/* 0x23000000: none */
		assert_false(pending(d, s));
	}
	assert_int_equal(ts_rd32(d, APLIC_SETIPNUM), 0);
	assert_int_equal(ts_rd32(d, APLIC_CLRIPNUM), 0);
	assert_int_equal(ts_rd32(d, APLIC_SETIPNUM_LE), 0);
	assert_int_equal(ts_rd32(d, APLIC_SETIPNUM_BE), 0);
	/* Bit 0 of word 0 is no source. */
	ts_wr32(d, APLIC_SOURCECFG(1), APLIC_SM_DETACHED);
	ts_wr32(d, APLIC_SETIP(0), 0xffffffff);
	assert_int_equal(ts_rd32(d, APLIC_SETIP(0)), 2);
	EXPECT_NONE(f);
}

/* Edge sources pend on their edge of the rectified input only; detached
 * and inactive ones ignore the wire; switching modes is no edge. */
static void test_edge_sources(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;

	ts_wr32(d, APLIC_SOURCECFG(1), APLIC_SM_EDGE1);
	ts_wr32(d, APLIC_SOURCECFG(2), APLIC_SM_EDGE0);
	ts_wr32(d, APLIC_SOURCECFG(3), APLIC_SM_DETACHED);
	level(f, 1, true);
	level(f, 2, true);
	level(f, 3, true);
	level(f, 4, true);			/* inactive */
	assert_int_equal(ts_rd32(d, APLIC_SETIP(0)), 1u << 1);
	assert_int_equal(ts_rd32(d, APLIC_IN_CLRIP(0)), 1u << 1);
	ts_wr32(d, APLIC_CLRIPNUM, 1);
	level(f, 1, true);			/* no new edge */
	level(f, 1, false);
	level(f, 2, false);
	level(f, 3, false);
	assert_int_equal(ts_rd32(d, APLIC_SETIP(0)), 1u << 2);
	assert_int_equal(ts_rd32(d, APLIC_IN_CLRIP(0)), 1u << 2);
	/* The pending bit survives the input going away. */
	level(f, 2, true);
	assert_int_equal(ts_rd32(d, APLIC_SETIP(0)), 1u << 2);
	ts_wr32(d, APLIC_IN_CLRIP(0), 0);		/* clears nothing */
	assert_true(pending(d, 2));
	/* Edge1 -> Edge0 with the wire low: rectified rises, no edge. */
	ts_wr32(d, APLIC_SOURCECFG(1), APLIC_SM_EDGE0);
	assert_false(pending(d, 1));
	assert_true(rect_input(d, 1));
	level(f, 1, true);
	level(f, 1, false);
	assert_true(pending(d, 1));
	EXPECT_NONE(f);
}

/* Level sources in MSI mode: pend on assertion, clear when deasserted,
 * one MSI per assertion, setipnum re-pends only while asserted. */
static void test_level_sources(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;

	route(d, 5, APLIC_SM_LEVEL1, 1, 50);
	route(d, 6, APLIC_SM_LEVEL0, 2, 60);	/* wire low: asserted */
	assert_true(pending(d, 6));		/* written while asserted */
	level(f, 5, true);
	level(f, 5, false);
	assert_false(pending(d, 5));		/* withdrawn */
	level(f, 6, true);
	assert_false(pending(d, 6));
	level(f, 5, true);
	level(f, 6, false);
	EXPECT_NONE(f);				/* IE is 0 */
	assert_int_equal(ts_rd32(d, APLIC_SETIP(0)), 0x60);
	ts_wr32(d, APLIC_DOMAINCFG, APLIC_DOMAINCFG_IE);
	EXPECT(f, M(1, 50), M(2, 60));
	assert_int_equal(ts_rd32(d, APLIC_SETIP(0)), 0);
	/* Still asserted: quiet until the EOI (setipnum) or a new edge. */
	level(f, 5, true);
	EXPECT_NONE(f);
	ts_wr32(d, APLIC_SETIPNUM_LE, 5);
	EXPECT(f, M(1, 50));
	ts_wr32(d, APLIC_SETIPNUM_LE, 5);
	EXPECT(f, M(1, 50));
	level(f, 5, false);
	ts_wr32(d, APLIC_SETIPNUM_LE, 5);	/* deasserted: nothing */
	level(f, 5, true);
	EXPECT(f, M(1, 50));
	/* Masked while asserted: pending waits for the unmask, unless the
	 * input drops first. */
	ts_wr32(d, APLIC_CLRIENUM, 6);
	level(f, 6, true);
	level(f, 6, false);
	assert_true(pending(d, 6));
	ts_wr32(d, APLIC_SETIENUM, 6);
	EXPECT(f, M(2, 60));
	ts_wr32(d, APLIC_CLRIENUM, 6);
	level(f, 6, true);
	level(f, 6, false);
	level(f, 6, true);
	ts_wr32(d, APLIC_SETIENUM, 6);
	EXPECT_NONE(f);
	/* Rewriting sourcecfg while asserted sets pending again. */
	level(f, 6, false);
	EXPECT(f, M(2, 60));
	ts_wr32(d, APLIC_SOURCECFG(6), APLIC_SM_LEVEL0);
	EXPECT(f, M(2, 60));
	/* Level1 -> Level0 with the wire high: deasserted, cleared. */
	ts_wr32(d, APLIC_CLRIENUM, 5);
	ts_wr32(d, APLIC_SETIPNUM, 5);
	assert_true(pending(d, 5));
	ts_wr32(d, APLIC_SOURCECFG(5), APLIC_SM_LEVEL0);
	assert_false(pending(d, 5));
}

/* Edge sources: one MSI per edge; setipnum works whatever the wire. */
static void test_edge_delivery(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;

	ts_wr32(d, APLIC_DOMAINCFG, APLIC_DOMAINCFG_IE);
	route(d, 9, APLIC_SM_EDGE1, 3, 9);
	route(d, 10, APLIC_SM_EDGE0, 0, 10);
	route(d, 11, APLIC_SM_DETACHED, 1, 11);
	level(f, 9, true);
	level(f, 9, true);
	level(f, 10, true);
	level(f, 11, true);
	level(f, 10, false);
	level(f, 9, false);
	EXPECT(f, M(3, 9), M(0, 10));
	ts_wr32(d, APLIC_SETIPNUM, 9);
	ts_wr32(d, APLIC_SETIPNUM, 11);
	ts_wr32(d, APLIC_SETIP(0), 1u << 10 | 1u << 9);
	EXPECT(f, M(3, 9), M(1, 11), M(3, 9), M(0, 10));	/* by source */
}

/* IE = 0 holds everything; IE = 1 forwards all that is pending and
 * enabled, in source order, with each target's address and EIID. */
static void test_delivery_order(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;
	unsigned long n;

	for (uint32_t s = NSRC; s >= 1; s--) {
		route(d, s, APLIC_SM_EDGE1, s % NHARTS, 2 * s);
		level(f, s, true);
	}
	ts_wr32(d, APLIC_CLRIENUM, 3);
	EXPECT_NONE(f);
	assert_int_equal(ts_rd32(d, APLIC_SETIP(0)), 0xfffffffe);
	assert_int_equal(ts_rd32(d, APLIC_SETIP(1)), 0x1ff);
	ts_wr32(d, APLIC_DOMAINCFG, APLIC_DOMAINCFG_IE);
	n = f->rec.n;
	assert_int_equal(n, NSRC - 1);
	for (uint32_t s = 1, i = 0; s <= NSRC; s++) {
		if (s == 3)
			continue;
		assert_int_equal(f->rec.ev[i].addr, msi_addr(s % NHARTS));
		assert_int_equal(f->rec.ev[i].data, 2 * s);
		i++;
	}
	ts_msi_rec_clear(&f->rec);
	assert_int_equal(ts_rd32(d, APLIC_SETIP(0)), 1u << 3);
	ts_wr32(d, APLIC_SETIE(0), 1u << 3);
	EXPECT(f, M(3, 6));
	/* IE off again: pending waits. */
	ts_wr32(d, APLIC_DOMAINCFG, 0);
	ts_wr32(d, APLIC_SETIPNUM, 4);
	ts_wr32(d, APLIC_SETIPNUM, 2);
	EXPECT_NONE(f);
	ts_wr32(d, APLIC_DOMAINCFG, APLIC_DOMAINCFG_IE);
	EXPECT(f, M(2, 4), M(0, 8));
}

/* target: hart index and EIID kept, guest index and bit 11 dropped;
 * harts past nr_harts and EIID 0 get no MSI. */
static void test_targets(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;
	unsigned long n;

	ts_wr32(d, APLIC_DOMAINCFG, APLIC_DOMAINCFG_IE);
	ts_wr32(d, APLIC_SOURCECFG(1), APLIC_SM_DETACHED);
	ts_wr32(d, APLIC_SETIENUM, 1);
	ts_wr32(d, APLIC_TARGET(1), 0xffffffff);
	assert_int_equal(ts_rd32(d, APLIC_TARGET(1)), 0xfffc07ff);
	n = log_count();
	ts_wr32(d, APLIC_TARGET(1), tgt(1, 7) | 5 << 12 | 1 << 11);
	assert_true(log_count() > n);		/* guest index */
	assert_int_equal(ts_rd32(d, APLIC_TARGET(1)), tgt(1, 7));
	ts_wr32(d, APLIC_SETIPNUM, 1);
	EXPECT(f, M(1, 7));			/* the S-level file */

	n = log_count();
	ts_wr32(d, APLIC_TARGET(1), tgt(NHARTS, 7));
	ts_wr32(d, APLIC_SETIPNUM, 1);
	ts_wr32(d, APLIC_TARGET(1), tgt(APLIC_TARGET_HART_MASK, 7));
	ts_wr32(d, APLIC_SETIPNUM, 1);
	ts_wr32(d, APLIC_TARGET(1), tgt(0, 0));
	ts_wr32(d, APLIC_SETIPNUM, 1);
	assert_true(log_count() >= n + 3);
	EXPECT_NONE(f);
	assert_false(pending(d, 1));		/* dropped, not kept */
	ts_wr32(d, APLIC_TARGET(1), tgt(NHARTS - 1, 0x7ff));
	ts_wr32(d, APLIC_SETIPNUM, 1);
	EXPECT(f, M(NHARTS - 1, 0x7ff));
	/* Targets past nr_sources: read 0, writes logged. */
	n = log_count();
	ts_wr32(d, APLIC_TARGET(NSRC + 1), tgt(1, 1));
	ts_wr32(d, APLIC_TARGET(APLIC_MAX_SOURCES), tgt(1, 1));
	assert_true(log_count() >= n + 2);
	assert_int_equal(ts_rd32(d, APLIC_TARGET(NSRC + 1)), 0);
}

/* genmsi: one MSI per write, IE or not; Busy never reads 1. */
static void test_genmsi(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;
	unsigned long n;

	ts_wr32(d, APLIC_GENMSI, tgt(2, 0x123));
	EXPECT(f, M(2, 0x123));
	assert_int_equal(ts_rd32(d, APLIC_GENMSI), tgt(2, 0x123));
	assert_int_equal(ts_rd32(d, APLIC_GENMSI) & APLIC_GENMSI_BUSY, 0);
	ts_wr32(d, APLIC_GENMSI, 0xffffffff);	/* hart 16383: none */
	assert_int_equal(ts_rd32(d, APLIC_GENMSI), 0xfffc07ff);
	ts_wr32(d, APLIC_DOMAINCFG, APLIC_DOMAINCFG_IE);
	ts_wr32(d, APLIC_GENMSI, tgt(0, 1) | APLIC_GENMSI_BUSY | 0x3f << 12);
	assert_int_equal(ts_rd32(d, APLIC_GENMSI), tgt(0, 1));
	EXPECT(f, M(0, 1));
	n = log_count();
	ts_wr32(d, APLIC_GENMSI, tgt(NHARTS, 1));
	ts_wr32(d, APLIC_GENMSI, tgt(1, 0));
	assert_true(log_count() >= n + 2);
	EXPECT_NONE(f);
	ts_wr32(d, APLIC_GENMSI, tgt(3, 0x7ff));
	ts_wr32(d, APLIC_GENMSI, tgt(3, 0x7ff));
	EXPECT(f, M(3, 0x7ff), M(3, 0x7ff));
}

/* Not implemented at supervisor level, reserved, or past the 16 KiB of
 * registers (no IDCs in MSI mode): read 0, writes logged and ignored. */
static void test_msiaddrcfg_and_reserved(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;
	static const uint64_t none[] = {
		APLIC_MMSIADDRCFG, APLIC_MMSIADDRCFGH, APLIC_SMSIADDRCFG,
		APLIC_SMSIADDRCFGH, 0x1000, 0x1bbc, 0x1bd0, 0x1bfc,
		APLIC_SETIP(32), 0x1cd8, 0x1ce0, APLIC_IN_CLRIP(32), 0x1dfc,
		APLIC_SETIE(32), APLIC_CLRIE(32), 0x1fe0, 0x1ffc, 0x2008,
		0x2ffc, 0x4000, 0x4018, 0x401c, SIZE - 4,
	};

	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		unsigned long n = log_count();

		ts_wr32(d, none[i], 0xffffffff);
		assert_true(log_count() > n);
		assert_int_equal(ts_rd32(d, none[i]), 0);
	}
	assert_int_equal(ts_rd32(d, APLIC_DOMAINCFG), 0x80000004);
	for (uint32_t s = 1; s <= NSRC; s++) {
		assert_int_equal(ts_rd32(d, APLIC_SOURCECFG(s)), 0);
		assert_int_equal(ts_rd32(d, APLIC_TARGET(s)), 0);
	}
	EXPECT_NONE(f);
}

/* Only naturally aligned 32-bit accesses: every other width and
 * misalignment is logged and ignored, reads filled with zeros. */
static void test_widths_and_alignment(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;
	const uint64_t regs[] = { APLIC_DOMAINCFG, APLIC_SOURCECFG(1),
				  APLIC_SETIP(0), APLIC_SETIPNUM,
				  APLIC_SETIE(0), APLIC_SETIENUM,
				  APLIC_GENMSI, APLIC_TARGET(1) };

	route(d, 1, APLIC_SM_DETACHED, 1, 1);
	for (size_t r = 0; r < sizeof(regs) / sizeof(regs[0]); r++)
		assert_true(ts_reg32_refuses(d, regs[r],
					     0x0101010101010101ULL));
	assert_int_equal(ts_rd32(d, APLIC_DOMAINCFG), 0x80000004);
	assert_int_equal(ts_rd32(d, APLIC_SOURCECFG(1)), APLIC_SM_DETACHED);
	assert_int_equal(ts_rd32(d, APLIC_TARGET(1)), tgt(1, 1));
	assert_false(pending(d, 1));
	EXPECT_NONE(f);
}

static void test_set_level_out_of_range(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;
	static const uint32_t bad[] = { 0, NSRC + 1, APLIC_MAX_SOURCES,
					APLIC_MAX_SOURCES + 1, UINT32_MAX };

	ts_wr32(d, APLIC_DOMAINCFG, APLIC_DOMAINCFG_IE);
	for (uint32_t s = 1; s <= NSRC; s++)
		route(d, s, APLIC_SM_EDGE1, 0, s);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(f->chip->set_level(f->chip->ctx, bad[i], true),
				 -EINVAL);
		assert_int_equal(f->chip->set_level(f->chip->ctx, bad[i],
						    false), -EINVAL);
	}
	for (unsigned int k = 0; k < 32; k++) {
		assert_int_equal(ts_rd32(d, APLIC_SETIP(k)), 0);
		assert_int_equal(ts_rd32(d, APLIC_IN_CLRIP(k)), 0);
	}
	EXPECT_NONE(f);
	assert_int_equal(irq_line_set(&(struct irq_line){ f->chip, NSRC },
				      true), 0);
	EXPECT(f, M(0, NSRC));
}

/* msi->send may fail (logged: the MSI is gone, as on a bus error); the
 * chip may be filled in after creation, or absent. */
static void test_msi_chip(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;
	struct ts_msi_rec *rec = test_calloc(1, sizeof(*rec));
	struct msi_chip later = { 0 };
	struct aplic_cfg cfg;
	unsigned long n = log_count();

	f->rec.ret = -EINVAL;
	ts_wr32(d, APLIC_GENMSI, tgt(0, 3));
	assert_true(log_count() > n);
	EXPECT(f, M(0, 3));

	ts_msi_rec_init(rec);
	cfg = cfg_of(rec);
	cfg.msi = &later;
	assert_int_equal(aplic_create(&cfg, &d), 0);
	ts_wr32(d, APLIC_GENMSI, tgt(0, 3));	/* nowhere to go yet */
	later = rec->chip;
	ts_wr32(d, APLIC_GENMSI, tgt(1, 4));
	assert_int_equal(rec->n, 1);
	assert_int_equal(rec->ev[0].addr, msi_addr(1));
	d->ops->destroy(d);

	cfg.msi = NULL;
	assert_int_equal(aplic_create(&cfg, &d), 0);
	ts_wr32(d, APLIC_GENMSI, tgt(1, 4));
	d->ops->destroy(d);
	test_free(rec);
}

/* ---- what Linux does ---------------------------------------------------- */

/* IMSIC geometry as the guest's DT/ACPI would give it: 4 harts, no guest
 * files, no groups. */
#define L_HART_BITS	2
#define L_GUEST_BITS	0

/* aplic_msi_write_msg(): the target from the MSI address Linux's IMSIC
 * driver picked for @hart and @eiid. */
static uint32_t linux_target(uint32_t hart, uint32_t eiid)
{
	uint64_t addr = msi_addr(hart), tppn = addr >> 12;
	uint32_t lhxs = L_GUEST_BITS, lhxw = L_HART_BITS;
	uint32_t hart_index = (tppn >> lhxs) & ((1u << lhxw) - 1);
	uint32_t guest_index = tppn & ((1u << lhxs) - 1);

	return hart_index << 18 | guest_index << 12 | eiid;
}

/* aplic_setup_priv() -> aplic_init_hw_irqs(), aplic_init_hw_global()
 * (S-mode: no msiaddrcfg writes), then a level-high UART (hwirq 10, CPU
 * 1, EIID 33) and an edge-rising device (hwirq 33, CPU 3, EIID 34):
 * irq_set_type (masked), write_msg, unmask; interrupts and EOIs as
 * handle_fasteoi_irq() does them. */
static void test_linux_probe_and_run(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;
	uint32_t val;

	for (uint32_t i = 0; i <= NSRC; i += 32)
		ts_wr32(d, APLIC_CLRIE(i / 32), 0xffffffff);
	for (uint32_t i = 1; i <= NSRC; i++) {
		ts_wr32(d, APLIC_SOURCECFG(i), 0);
		ts_wr32(d, APLIC_TARGET(i), 1);	/* APLIC_DEFAULT_PRIORITY */
	}
	ts_wr32(d, APLIC_DOMAINCFG, 0);
	val = ts_rd32(d, APLIC_DOMAINCFG);
	val |= APLIC_DOMAINCFG_IE | APLIC_DOMAINCFG_DM;
	ts_wr32(d, APLIC_DOMAINCFG, val);
	assert_int_equal(ts_rd32(d, APLIC_DOMAINCFG), val);	/* no warning */
	for (uint32_t i = 1; i <= NSRC; i++)
		assert_int_equal(ts_rd32(d, APLIC_TARGET(i)), 0);
	EXPECT_NONE(f);

	/* request_irq(): set_type, then activate (write_msg), unmask. */
	ts_wr32(d, APLIC_CLRIENUM, 10);
	ts_wr32(d, APLIC_SOURCECFG(10), APLIC_SM_LEVEL1);
	ts_wr32(d, APLIC_SETIPNUM_LE, 10);	/* retrigger: not asserted */
	ts_wr32(d, APLIC_TARGET(10), linux_target(1, 33));
	ts_wr32(d, APLIC_SETIENUM, 10);
	ts_wr32(d, APLIC_CLRIENUM, 33);
	ts_wr32(d, APLIC_SOURCECFG(33), APLIC_SM_EDGE1);
	ts_wr32(d, APLIC_TARGET(33), linux_target(3, 34));
	ts_wr32(d, APLIC_SETIENUM, 33);
	assert_int_equal(ts_rd32(d, APLIC_TARGET(10)), tgt(1, 33));
	EXPECT_NONE(f);

	/* The UART interrupts; the handler acks it; EOI retriggers nothing. */
	level(f, 10, true);
	EXPECT(f, M(1, 33));
	level(f, 10, false);
	ts_wr32(d, APLIC_SETIPNUM_LE, 10);
	EXPECT_NONE(f);
	/* Another cause arrives before the EOI: the EOI re-sends. */
	level(f, 10, true);
	EXPECT(f, M(1, 33));
	ts_wr32(d, APLIC_SETIPNUM_LE, 10);
	EXPECT(f, M(1, 33));
	level(f, 10, false);
	ts_wr32(d, APLIC_SETIPNUM_LE, 10);
	EXPECT_NONE(f);

	/* The edge device: one MSI per rising edge, no EOI. */
	level(f, 33, true);
	level(f, 33, false);
	level(f, 33, true);
	EXPECT(f, M(3, 34), M(3, 34));

	/* disable_irq(): masked, an edge arrives, enable_irq() delivers. */
	ts_wr32(d, APLIC_CLRIENUM, 33);
	level(f, 33, false);
	level(f, 33, true);
	EXPECT_NONE(f);
	ts_wr32(d, APLIC_SETIENUM, 33);
	EXPECT(f, M(3, 34));

	/* irq_set_affinity(): a new target, as write_msg computes it. */
	ts_wr32(d, APLIC_TARGET(10), linux_target(2, 35));
	level(f, 10, true);
	EXPECT(f, M(2, 35));

	/* free_irq(): mask, then the zeroed message. */
	ts_wr32(d, APLIC_CLRIENUM, 10);
	ts_wr32(d, APLIC_TARGET(10), 0);
	ts_wr32(d, APLIC_SETIPNUM_LE, 10);
	EXPECT_NONE(f);
	assert_true(pending(d, 10));
}

/* ---- threads ------------------------------------------------------------ */

/* Devices on their own threads raise level-high lines and wait to be
 * served; a vCPU thread per hart watches its IMSIC (the recorder's
 * per-EIID counts), acks the device (which lowers its line on the vCPU
 * thread), and does Linux's EOI (setipnum_le) -- every third time while
 * the line is still up, which must send exactly one more MSI.  A noise
 * thread reads registers meanwhile.  Every MSI must be accounted for:
 * none lost (a device would wait forever), none extra. */
/* Serve source @s: its MSI arrived.  Returns the MSIs the EOI added. */
static unsigned long t_serve(struct ts_stress *w, uint32_t s)
{
	struct fixture *f = w->ctx;
	struct ts_stress_src *x = &w->src[s];
	bool late_eoi;
	unsigned long before;

	pthread_mutex_lock(&x->lock);
	if (!x->status)
		ts_stress_error(w);	/* an MSI for nothing */
	x->served++;
	late_eoi = x->served % 3 == 0;
	pthread_mutex_unlock(&x->lock);
	if (late_eoi) {
		/* EOI with the line still up: exactly one more MSI, sent
		 * before the write returns. */
		before = ts_msi_count(&f->rec, s);
		ts_wr32(f->dev, APLIC_SETIPNUM_LE, s);
		if (ts_msi_count(&f->rec, s) != before + 1)
			ts_stress_error(w);
		pthread_mutex_lock(&x->lock);
		x->expected++;
		x->served++;
		pthread_mutex_unlock(&x->lock);
	}
	pthread_mutex_lock(&x->lock);
	ts_stress_set(w, s, false);	/* the ack lowers the line */
	pthread_mutex_unlock(&x->lock);
	ts_wr32(f->dev, APLIC_SETIPNUM_LE, s);	/* EOI: nothing now */
	pthread_mutex_lock(&x->lock);
	x->status = false;
	pthread_mutex_unlock(&x->lock);
	return late_eoi;
}

static void t_vcpu(struct ts_stress *w, unsigned int h)
{
	struct fixture *f = w->ctx;
	unsigned long seen[TS_STRESS_SRC + 1] = { 0 };

	while (!ts_stress_stopped(w)) {
		bool idle = true;

		for (uint32_t s = h; s <= TS_STRESS_SRC; s += NHARTS) {
			unsigned long got;

			if (!s)
				continue;
			got = ts_msi_count(&f->rec, s);
			if (got == seen[s])
				continue;
			if (got != seen[s] + 1)
				ts_stress_error(w);	/* extra MSIs */
			idle = false;
			/* Not a fresh count: the device may raise again as
			 * soon as it is served. */
			seen[s] = got + t_serve(w, s);
		}
		if (idle)
			sched_yield();
	}
}

static void t_noise(struct ts_stress *w)
{
	struct fixture *f = w->ctx;
	struct rivet_dev *d = f->dev;

	/* Reads only: a write would run the delivery scan. */
	while (!ts_stress_stopped(w)) {
		for (uint32_t s = 1; s <= TS_STRESS_SRC; s++) {
			ts_rd32(d, APLIC_SETIP(s / 32));
			ts_rd32(d, APLIC_IN_CLRIP(s / 32));
			ts_rd32(d, APLIC_SETIE(s / 32));
			ts_rd32(d, APLIC_TARGET(s));
			ts_rd32(d, APLIC_DOMAINCFG);
			ts_rd(d, APLIC_SOURCECFG(s), 2);	/* refused */
			if (f->chip->set_level(f->chip->ctx, NSRC + 1, true) !=
			    -EINVAL)
				ts_stress_error(w);
		}
		sched_yield();
	}
}

static void test_concurrent(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;
	struct ts_stress *w = test_calloc(1, sizeof(*w));

	ts_stress_init(w, f->chip, f);
	ts_wr32(d, APLIC_DOMAINCFG, APLIC_DOMAINCFG_IE);
	for (uint32_t s = 1; s <= TS_STRESS_SRC; s++)
		route(d, s, APLIC_SM_LEVEL1, s % NHARTS, s);
	assert_int_equal(ts_stress_run(w, NHARTS, t_vcpu, t_noise), 0);

	assert_int_equal(w->errors, 0);
	for (uint32_t s = 1; s <= TS_STRESS_SRC; s++) {
		struct ts_stress_src *x = &w->src[s];

		assert_int_equal(x->raised, TS_STRESS_ROUNDS);
		assert_int_equal(x->served, x->expected);
		assert_int_equal(ts_msi_count(&f->rec, s), x->expected);
		assert_true(x->expected > TS_STRESS_ROUNDS);
	}
	ts_stress_fini(w);
	for (unsigned long i = 0; i < f->rec.n && i < TS_REC_EVENTS; i++)
		assert_int_equal(f->rec.ev[i].addr,
				 msi_addr(f->rec.ev[i].data % NHARTS));
	assert_int_equal(ts_rd32(d, APLIC_SETIP(0)), 0);
	assert_int_equal(ts_rd32(d, APLIC_IN_CLRIP(0)), 0);
	test_free(w);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_bad_args),
		cmocka_unit_test(test_max_config),
		T(test_reset_values),
		T(test_domaincfg),
		T(test_sourcecfg),
		T(test_inactive_is_zero),
		T(test_enable_registers),
		T(test_pending_rules),
		T(test_edge_sources),
		T(test_level_sources),
		T(test_edge_delivery),
		T(test_delivery_order),
		T(test_targets),
		T(test_genmsi),
		T(test_msiaddrcfg_and_reserved),
		T(test_widths_and_alignment),
		T(test_set_level_out_of_range),
		T(test_msi_chip),
		T(test_linux_probe_and_run),
		T(test_concurrent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
