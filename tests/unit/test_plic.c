// SPDX-License-Identifier: MIT
/* Tests for the PLIC: every register, hostile accesses, gateways and
 * claim/complete, priorities and thresholds, the exact sequence of hart
 * output calls, what Linux's irq-sifive-plic.c does, and concurrent
 * devices and vCPUs. */
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
#include "devices/plic.h"
#include "tests/support/irqrec.h"
#include "tests/support/irqstress.h"
#include "tests/support/mmio.h"

#define BASE	0x0c000000ULL
#define NSRC	40	/* two bitmap words, the second partly used */
#define NCTX	4

struct fixture {
	struct ts_hart_rec rec;
	struct rivet_dev *dev;
	const struct irq_chip *chip;
};

static uint64_t prio(uint32_t s)
{
	return PLIC_PRIORITY_BASE + 4ULL * s;
}

static uint64_t pend(unsigned int w)
{
	return PLIC_PENDING_BASE + 4ULL * w;
}

static uint64_t en(unsigned int c, unsigned int w)
{
	return PLIC_ENABLE_BASE + PLIC_ENABLE_STRIDE * (uint64_t)c + 4ULL * w;
}

static uint64_t thr(unsigned int c)
{
	return PLIC_CONTEXT_BASE + PLIC_CONTEXT_STRIDE * (uint64_t)c +
	       PLIC_THRESHOLD;
}

static uint64_t clm(unsigned int c)
{
	return PLIC_CONTEXT_BASE + PLIC_CONTEXT_STRIDE * (uint64_t)c +
	       PLIC_CLAIM;
}

static struct rivet_dev *make(struct fixture *f, uint32_t nsrc,
			      unsigned int nctx)
{
	struct plic_cfg cfg = { .base = BASE, .nr_sources = nsrc,
				.nr_contexts = nctx, .harts = &f->rec.irq };
	struct rivet_dev *d = NULL;

	assert_int_equal(plic_create(&cfg, &d), 0);
	assert_non_null(d);
	assert_int_equal(d->base, BASE);
	assert_int_equal(d->size, PLIC_SIZE(nctx));
	f->chip = plic_irq_chip(d);
	return d;
}

static int setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof(*f));

	ts_hart_rec_init(&f->rec);
	f->dev = make(f, NSRC, NCTX);
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

static void enable(struct rivet_dev *d, unsigned int c, uint32_t s, bool on)
{
	uint32_t v = ts_rd32(d, en(c, s / 32));

	v = on ? v | 1u << (s % 32) : v & ~(1u << (s % 32));
	ts_wr32(d, en(c, s / 32), v);
}

static uint32_t claim(struct rivet_dev *d, unsigned int c)
{
	return ts_rd32(d, clm(c));
}

static void complete(struct rivet_dev *d, unsigned int c, uint32_t s)
{
	ts_wr32(d, clm(c), s);
}

/* The hart calls since the last check are exactly @ev[0..n). */
static void expect_events(struct fixture *f, const struct ts_hart_event *ev,
			  unsigned long n)
{
	assert_int_equal(f->rec.n, n);
	for (unsigned long i = 0; i < n; i++) {
		assert_int_equal(f->rec.ev[i].hart, ev[i].hart);
		assert_int_equal(f->rec.ev[i].level, ev[i].level);
	}
	assert_int_equal(f->rec.repeats, 0);
	ts_hart_rec_clear(&f->rec);
}

#define EV(...) ((const struct ts_hart_event[]){ __VA_ARGS__ })
#define EXPECT(f, ...) expect_events(f, EV(__VA_ARGS__), \
	sizeof(EV(__VA_ARGS__)) / sizeof(struct ts_hart_event))
#define EXPECT_NONE(f) expect_events(f, NULL, 0)

/* ---- creation ----------------------------------------------------------- */

static void test_create_bad_args(void **state)
{
	struct ts_hart_rec rec;
	struct plic_cfg ok = { .base = BASE, .nr_sources = 1,
			       .nr_contexts = 1, .harts = &rec.irq }, cfg;
	struct rivet_dev *d = NULL;

	ts_hart_rec_init(&rec);
	assert_int_equal(plic_create(NULL, &d), -EINVAL);
	assert_int_equal(plic_create(&ok, NULL), -EINVAL);
	cfg = ok;
	cfg.nr_sources = 0;
	assert_int_equal(plic_create(&cfg, &d), -EINVAL);
	cfg.nr_sources = PLIC_MAX_SOURCES + 1;
	assert_int_equal(plic_create(&cfg, &d), -EINVAL);
	cfg.nr_sources = UINT32_MAX;
	assert_int_equal(plic_create(&cfg, &d), -EINVAL);
	cfg = ok;
	cfg.nr_contexts = 0;
	assert_int_equal(plic_create(&cfg, &d), -EINVAL);
	cfg.nr_contexts = PLIC_MAX_CONTEXTS + 1;
	assert_int_equal(plic_create(&cfg, &d), -EINVAL);
	cfg = ok;
	cfg.base = UINT64_MAX - PLIC_SIZE(1) + 1;	/* end wraps to 0 */
	assert_int_equal(plic_create(&cfg, &d), -EINVAL);
	assert_null(d);
	cfg.base = UINT64_MAX - PLIC_SIZE(1);	/* last byte 2^64 - 2 */
	assert_int_equal(plic_create(&cfg, &d), 0);
	d->ops->destroy(d);
	assert_int_equal(rec.calls, 0);
}

/* The largest PLIC: source 1023 is bit 31 of the last word, context 31
 * the last enable block and context page. */
static void test_max_config(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = make(f, PLIC_MAX_SOURCES, PLIC_MAX_CONTEXTS);
	unsigned int c = PLIC_MAX_CONTEXTS - 1;

	assert_int_equal(d->size, 0x200000 + 0x1000 * 32);
	ts_wr32(d, en(c, 31), 0xffffffff);
	assert_int_equal(ts_rd32(d, en(c, 31)), 0xffffffff);
	ts_wr32(d, en(0, 0), 0xffffffff);
	assert_int_equal(ts_rd32(d, en(0, 0)), 0xfffffffe);	/* not 0 */
	ts_wr32(d, prio(1023), 7);
	assert_int_equal(ts_rd32(d, prio(1023)), 7);
	ts_wr32(d, thr(c), 6);
	level(f, 1023, true);
	assert_int_equal(ts_rd32(d, pend(31)), 0x80000000);
	EXPECT(f, { 31, true });
	assert_int_equal(claim(d, c), 1023);
	EXPECT(f, { 31, false });
	complete(d, c, 1023);
	EXPECT(f, { 31, true });
	/* The last context's page ends the window. */
	assert_int_equal(ts_rd32(d, d->size - 4), 0);
	d->ops->destroy(d);
}

static void test_reset_values(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;

	for (uint32_t s = 0; s <= PLIC_MAX_SOURCES; s++)
		assert_int_equal(ts_rd32(d, prio(s)), 0);
	for (unsigned int w = 0; w < 32; w++) {
		assert_int_equal(ts_rd32(d, pend(w)), 0);
		for (unsigned int c = 0; c < NCTX; c++)
			assert_int_equal(ts_rd32(d, en(c, w)), 0);
	}
	for (unsigned int c = 0; c < NCTX; c++) {
		assert_int_equal(ts_rd32(d, thr(c)), 0);
		assert_int_equal(claim(d, c), 0);
	}
	EXPECT_NONE(f);
}


/* ---- registers ---------------------------------------------------------- */

/* Priorities are WARL 0..7: the low three bits of what is written. */
static void test_priority_warl(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;
	static const uint32_t in[] = { 0, 1, 6, 7, 8, 9, 15, 0x80000003,
				       0xffffffff };
	static const uint32_t out[] = { 0, 1, 6, 7, 0, 1, 7, 3, 7 };
	unsigned long n;

	for (uint32_t s = 1; s <= NSRC; s++) {
		for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
			ts_wr32(d, prio(s), in[i]);
			assert_int_equal(ts_rd32(d, prio(s)), out[i]);
		}
	}
	/* Source 0 and sources past riscv,ndev: read 0, writes logged. */
	n = log_count();
	ts_wr32(d, prio(0), 5);
	assert_int_equal(ts_rd32(d, prio(0)), 0);
	for (uint32_t s = NSRC + 1; s <= PLIC_MAX_SOURCES; s += 7) {
		ts_wr32(d, prio(s), 5);
		assert_int_equal(ts_rd32(d, prio(s)), 0);
	}
	assert_true(log_count() > n);
	EXPECT_NONE(f);
}

static void test_threshold_warl(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;

	for (unsigned int c = 0; c < NCTX; c++) {
		ts_wr32(d, thr(c), c + 1);
		ts_wr32(d, thr(c) + 8, 0xffffffff);	/* reserved */
		ts_wr32(d, thr(c) + 0xffc, 0xffffffff);
	}
	for (unsigned int c = 0; c < NCTX; c++) {
		assert_int_equal(ts_rd32(d, thr(c)), c + 1);
		assert_int_equal(ts_rd32(d, thr(c) + 8), 0);
		assert_int_equal(ts_rd32(d, thr(c) + 0xffc), 0);
	}
	ts_wr32(d, thr(0), 8);
	assert_int_equal(ts_rd32(d, thr(0)), 0);
	ts_wr32(d, thr(0), 0xfffffff7);
	assert_int_equal(ts_rd32(d, thr(0)), 7);
	EXPECT_NONE(f);
}

/* Enable bits exist for sources 1..NSRC only, per context. */
static void test_enable_bits(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;

	for (unsigned int c = 0; c < NCTX; c++)
		for (unsigned int w = 0; w < 32; w++)
			ts_wr32(d, en(c, w), 0xffffffff - c);
	for (unsigned int c = 0; c < NCTX; c++) {
		assert_int_equal(ts_rd32(d, en(c, 0)), (0xffffffff - c) & ~1u);
		assert_int_equal(ts_rd32(d, en(c, 1)),
				 (0xffffffff - c) & 0x1ff);	/* 32..40 */
		for (unsigned int w = 2; w < 32; w++)
			assert_int_equal(ts_rd32(d, en(c, w)), 0);
	}
	ts_wr32(d, en(2, 0), 0);
	assert_int_equal(ts_rd32(d, en(2, 0)), 0);
	assert_int_equal(ts_rd32(d, en(1, 0)), 0xfffffffe);
	EXPECT_NONE(f);
}

/* The pending area is read-only; the gaps, the enable blocks and context
 * pages of contexts that do not exist read 0 and ignore writes. */
static void test_read_only_and_gaps(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;
	const uint64_t gaps[] = {
		0x1080, 0x1ffc, en(NCTX, 0), en(NCTX, 31), en(31, 0),
		0x1ffffc, PLIC_CONTEXT_BASE - 4,
	};
	unsigned long n;

	ts_wr32(d, prio(3), 1);
	level(f, 3, true);
	n = log_count();
	for (unsigned int w = 0; w < 32; w++)
		ts_wr32(d, pend(w), w ? 0xffffffff : 0);
	assert_true(log_count() > n);
	assert_int_equal(ts_rd32(d, pend(0)), 1u << 3);
	assert_int_equal(ts_rd32(d, pend(1)), 0);
	for (size_t i = 0; i < sizeof(gaps) / sizeof(gaps[0]); i++) {
		n = log_count();
		ts_wr32(d, gaps[i], 0xffffffff);
		assert_true(log_count() > n);
		assert_int_equal(ts_rd32(d, gaps[i]), 0);
	}
	assert_int_equal(ts_rd32(d, pend(0)), 1u << 3);
	EXPECT_NONE(f);
}

/* Only naturally aligned 32-bit accesses: every other width and
 * misalignment is logged and ignored, reads filled with zeros. */
static void test_widths_and_alignment(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;
	const uint64_t regs[] = { prio(1), pend(0), en(0, 0), thr(0),
				  clm(0), clm(NCTX - 1) };

	ts_wr32(d, prio(1), 1);
	enable(d, 0, 1, true);
	level(f, 1, true);
	EXPECT(f, { 0, true });
	for (size_t r = 0; r < sizeof(regs) / sizeof(regs[0]); r++)
		assert_true(ts_reg32_refuses(d, regs[r],
					     0xffffffffffffffffULL));
	/* Nothing changed: not the priority, not the claim, not the enable
	 * (a misaligned write at clm(0) - 4 + 1 would have hit threshold). */
	assert_int_equal(ts_rd32(d, prio(1)), 1);
	assert_int_equal(ts_rd32(d, en(0, 0)), 2);
	assert_int_equal(ts_rd32(d, thr(0)), 0);
	EXPECT_NONE(f);
	assert_int_equal(claim(d, 0), 1);
	EXPECT(f, { 0, false });
}

/* set_level: sources 1..NSRC only; anything else changes nothing. */
static void test_set_level_out_of_range(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;
	static const uint32_t bad[] = { 0, NSRC + 1, PLIC_MAX_SOURCES,
					PLIC_MAX_SOURCES + 1, UINT32_MAX };

	for (uint32_t s = 0; s <= NSRC; s++)
		ts_wr32(d, prio(s), 7);
	ts_wr32(d, en(0, 0), 0xffffffff);
	ts_wr32(d, en(0, 1), 0xffffffff);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(f->chip->set_level(f->chip->ctx, bad[i], true),
				 -EINVAL);
		assert_int_equal(f->chip->set_level(f->chip->ctx, bad[i],
						    false), -EINVAL);
	}
	for (unsigned int w = 0; w < 32; w++)
		assert_int_equal(ts_rd32(d, pend(w)), 0);
	assert_int_equal(claim(d, 0), 0);
	EXPECT_NONE(f);
	/* Through an irq_line, as devices drive it. */
	assert_int_equal(irq_line_set(&(struct irq_line){ f->chip, NSRC },
				      true), 0);
	EXPECT(f, { 0, true });
}

/* ---- gateways, claim and complete --------------------------------------- */

static void test_claim_complete(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;

	ts_wr32(d, prio(5), 1);
	enable(d, 0, 5, true);
	level(f, 5, true);
	EXPECT(f, { 0, true });
	assert_int_equal(ts_rd32(d, pend(0)), 1u << 5);
	level(f, 5, true);			/* still high: nothing new */
	EXPECT_NONE(f);
	assert_int_equal(claim(d, 0), 5);
	EXPECT(f, { 0, false });
	assert_int_equal(ts_rd32(d, pend(0)), 0);
	assert_int_equal(claim(d, 0), 0);	/* claimed: not again */
	/* Completed with the input still high: a new request. */
	complete(d, 0, 5);
	EXPECT(f, { 0, true });
	assert_int_equal(ts_rd32(d, pend(0)), 1u << 5);
	assert_int_equal(claim(d, 0), 5);
	EXPECT(f, { 0, false });
	/* The input falls while claimed: completing leaves nothing. */
	level(f, 5, false);
	level(f, 5, true);			/* and rises: still claimed */
	level(f, 5, false);
	EXPECT_NONE(f);
	assert_int_equal(ts_rd32(d, pend(0)), 0);
	complete(d, 0, 5);
	EXPECT_NONE(f);
	assert_int_equal(claim(d, 0), 0);
	/* Rises while claimed and stays up: pending at completion. */
	level(f, 5, true);
	EXPECT(f, { 0, true });
	assert_int_equal(claim(d, 0), 5);
	level(f, 5, false);
	level(f, 5, true);
	complete(d, 0, 5);
	EXPECT(f, { 0, false }, { 0, true });
}

/* A request whose input drops before the claim is withdrawn (plic.h):
 * a pulse shorter than the claim is lost. */
static void test_pulse_before_claim(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;

	ts_wr32(d, prio(9), 3);
	enable(d, 1, 9, true);
	level(f, 9, true);
	level(f, 9, false);
	EXPECT(f, { 1, true }, { 1, false });
	assert_int_equal(ts_rd32(d, pend(0)), 0);
	assert_int_equal(claim(d, 1), 0);
	/* While nothing is enabled the pulse leaves no trace either. */
	enable(d, 1, 9, false);
	level(f, 9, true);
	level(f, 9, false);
	enable(d, 1, 9, true);
	assert_int_equal(claim(d, 1), 0);
	EXPECT_NONE(f);
}

/* Completions the spec says to ignore: of no source, of a source that is
 * not claimed, of a source not enabled for the completing context. */
static void test_bad_completions(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;
	static const uint32_t junk[] = { 0, NSRC + 1, PLIC_MAX_SOURCES,
					 PLIC_MAX_SOURCES + 1, 0x80000005,
					 UINT32_MAX };
	unsigned long n;

	for (uint32_t s = 1; s <= NSRC; s++)
		ts_wr32(d, prio(s), 2);
	enable(d, 0, 4, true);
	enable(d, 1, 4, true);
	enable(d, 2, 7, true);

	/* Never raised, never claimed. */
	n = log_count();
	for (unsigned int c = 0; c < NCTX; c++)
		for (uint32_t s = 0; s <= NSRC + 1; s++)
			complete(d, c, s);
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		complete(d, 0, junk[i]);
	assert_true(log_count() > n);
	EXPECT_NONE(f);

	/* Raised but not claimed: completing does not drop the request. */
	level(f, 4, true);
	EXPECT(f, { 0, true }, { 1, true });
	complete(d, 0, 4);
	assert_int_equal(ts_rd32(d, pend(0)), 1u << 4);
	EXPECT_NONE(f);

	/* Claimed by context 0; context 2 (4 not enabled there) cannot end
	 * the claim. */
	assert_int_equal(claim(d, 0), 4);
	EXPECT(f, { 0, false }, { 1, false });
	complete(d, 2, 4);
	complete(d, 3, 4);
	assert_int_equal(claim(d, 0), 0);
	assert_int_equal(claim(d, 1), 0);
	EXPECT_NONE(f);

	/* Not enabled for the claiming context any more: ignored, as Linux's
	 * plic_irq_eoi() knows (it enables the source around the write). */
	enable(d, 0, 4, false);
	complete(d, 0, 4);
	assert_int_equal(claim(d, 1), 0);
	enable(d, 0, 4, true);
	complete(d, 0, 4);
	EXPECT(f, { 0, true }, { 1, true });

	/* The claim lives in the source's gateway: context 1, where 4 is
	 * enabled, may complete what context 0 claimed. */
	assert_int_equal(claim(d, 0), 4);
	EXPECT(f, { 0, false }, { 1, false });
	complete(d, 1, 4);
	EXPECT(f, { 0, true }, { 1, true });
	assert_int_equal(claim(d, 1), 4);
	EXPECT(f, { 0, false }, { 1, false });

	/* Completing twice: the second is ignored. */
	level(f, 4, false);
	complete(d, 1, 4);
	n = log_count();
	complete(d, 1, 4);
	assert_true(log_count() > n);
	EXPECT_NONE(f);

	/* Context 2's source 7 was never touched by any of it. */
	assert_int_equal(claim(d, 2), 0);
	level(f, 7, true);
	EXPECT(f, { 2, true });
	assert_int_equal(claim(d, 2), 7);
	EXPECT(f, { 2, false });
}

/* ---- priority and threshold --------------------------------------------- */

static void test_priority_zero_never(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;

	enable(d, 0, 3, true);
	level(f, 3, true);			/* priority 0 */
	assert_int_equal(ts_rd32(d, pend(0)), 1u << 3);
	assert_int_equal(claim(d, 0), 0);
	EXPECT_NONE(f);
	ts_wr32(d, prio(3), 1);			/* Linux's unmask */
	EXPECT(f, { 0, true });
	ts_wr32(d, prio(3), 0);			/* Linux's mask */
	EXPECT(f, { 0, false });
	ts_wr32(d, prio(3), 8);			/* WARL: 0 */
	EXPECT_NONE(f);
	assert_int_equal(claim(d, 0), 0);
	ts_wr32(d, prio(3), 7);
	assert_int_equal(claim(d, 0), 3);
	EXPECT(f, { 0, true }, { 0, false });
}

/* priority > threshold interrupts; equal does not; threshold 7 masks
 * all; the output follows threshold writes. */
static void test_threshold(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;

	ts_wr32(d, prio(2), 4);
	enable(d, 0, 2, true);
	ts_wr32(d, thr(0), 4);
	level(f, 2, true);
	EXPECT_NONE(f);
	assert_int_equal(claim(d, 0), 0);	/* not above the threshold */
	ts_wr32(d, thr(0), 3);
	EXPECT(f, { 0, true });
	ts_wr32(d, thr(0), 7);
	EXPECT(f, { 0, false });
	ts_wr32(d, prio(2), 7);			/* 7 > 7 is false */
	EXPECT_NONE(f);
	ts_wr32(d, thr(0), 0xf);		/* WARL: 7 */
	EXPECT_NONE(f);
	ts_wr32(d, thr(0), 6);
	EXPECT(f, { 0, true });
	assert_int_equal(claim(d, 0), 2);
	EXPECT(f, { 0, false });
	complete(d, 0, 2);
	EXPECT(f, { 0, true });
	/* Threshold 0 lets priority 1 through. */
	ts_wr32(d, thr(0), 0);
	ts_wr32(d, prio(2), 1);
	EXPECT_NONE(f);
	assert_int_equal(claim(d, 0), 2);
	EXPECT(f, { 0, false });
}

/* Many sources pending at once: claims come by priority, then lowest ID;
 * the threshold cuts the tail. */
static void test_claim_order(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;
	uint32_t expect[NSRC], n = 0;

	for (uint32_t s = 1; s <= NSRC; s++) {
		ts_wr32(d, prio(s), (s * 5) % 8);	/* 0..7, repeating */
		enable(d, 3, s, true);
	}
	ts_wr32(d, thr(3), 1);
	for (uint32_t s = NSRC; s >= 1; s--)
		level(f, s, true);
	EXPECT(f, { 3, true });
	assert_int_equal(ts_rd32(d, pend(0)), 0xfffffffe);
	assert_int_equal(ts_rd32(d, pend(1)), 0x1ff);
	for (int p = 7; p > 1; p--)
		for (uint32_t s = 1; s <= NSRC; s++)
			if ((s * 5) % 8 == (uint32_t)p)
				expect[n++] = s;
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(claim(d, 3), expect[i]);
	EXPECT(f, { 3, false });
	assert_int_equal(claim(d, 3), 0);	/* priorities 0 and 1 left */
	ts_wr32(d, thr(3), 0);
	EXPECT(f, { 3, true });
	for (uint32_t s = 1; s <= NSRC; s++)
		if ((s * 5) % 8 == 1)
			assert_int_equal(claim(d, 3), s);
	EXPECT(f, { 3, false });
	/* Completing in any order brings each back (inputs still high). */
	for (uint32_t i = n; i-- > 0;)
		complete(d, 3, expect[i]);
	EXPECT(f, { 3, true });
	assert_int_equal(claim(d, 3), expect[0]);
}

/* ---- outputs ------------------------------------------------------------ */

/* A source enabled for two contexts: both outputs; a claim by one drops
 * both, in context order. */
static void test_outputs_shared_source(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;

	ts_wr32(d, prio(33), 2);		/* second word */
	enable(d, 1, 33, true);
	enable(d, 3, 33, true);
	level(f, 33, true);
	EXPECT(f, { 1, true }, { 3, true });
	assert_int_equal(claim(d, 3), 33);
	EXPECT(f, { 1, false }, { 3, false });
	assert_int_equal(claim(d, 1), 0);
	complete(d, 3, 33);
	EXPECT(f, { 1, true }, { 3, true });
	/* Enable and disable move the output. */
	enable(d, 3, 33, false);
	EXPECT(f, { 3, false });
	ts_wr32(d, thr(1), 2);
	EXPECT(f, { 1, false });
	ts_wr32(d, thr(1), 1);
	EXPECT(f, { 1, true });
	level(f, 33, false);
	EXPECT(f, { 1, false });
}

/* Each hart hears only about its own context, once per change, however
 * many sources contribute. */
static void test_outputs_many_sources(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;

	for (uint32_t s = 1; s <= NSRC; s++) {
		ts_wr32(d, prio(s), 1);
		enable(d, s % NCTX, s, true);
	}
	for (uint32_t s = 1; s <= NSRC; s++)
		level(f, s, true);
	EXPECT(f, { 1, true }, { 2, true }, { 3, true }, { 0, true });
	for (uint32_t s = 1; s <= NSRC; s++)
		if (s % NCTX != 2)
			level(f, s, false);
	EXPECT(f, { 1, false }, { 3, false }, { 0, false });
	for (uint32_t s = 2; s <= NSRC; s += NCTX)
		assert_int_equal(claim(d, 2), s);
	EXPECT(f, { 2, false });
	assert_int_equal(f->rec.calls, 8);
}

/* harts->set may fail: logged, and the output counts as changed. */
static void test_output_error(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;
	unsigned long n = log_count();

	f->rec.ret = -EIO;
	ts_wr32(d, prio(1), 1);
	enable(d, 0, 1, true);
	level(f, 1, true);
	assert_true(log_count() > n);
	level(f, 1, true);
	ts_wr32(d, thr(0), 0);
	EXPECT(f, { 0, true });
	f->rec.ret = 0;
	assert_int_equal(claim(d, 0), 1);
	EXPECT(f, { 0, false });
}

/* The hart_irq pointer is kept: filled in after creation, it is used
 * from then on; NULL means no outputs. */
static void test_harts_filled_in_later(void **state)
{
	struct ts_hart_rec rec;
	struct hart_irq later = { 0 };
	struct plic_cfg cfg = { .base = BASE, .nr_sources = 4,
				.nr_contexts = 1, .harts = &later };
	const struct irq_chip *chip;
	struct rivet_dev *d;

	ts_hart_rec_init(&rec);
	assert_int_equal(plic_create(&cfg, &d), 0);
	chip = plic_irq_chip(d);
	ts_wr32(d, prio(1), 1);
	enable(d, 0, 1, true);
	later = rec.irq;
	assert_int_equal(chip->set_level(chip->ctx, 1, true), 0);
	assert_int_equal(rec.n, 1);
	assert_true(rec.level[0]);
	d->ops->destroy(d);

	cfg.harts = NULL;
	assert_int_equal(plic_create(&cfg, &d), 0);
	chip = plic_irq_chip(d);
	ts_wr32(d, prio(1), 1);
	enable(d, 0, 1, true);
	assert_int_equal(chip->set_level(chip->ctx, 1, true), 0);
	assert_int_equal(claim(d, 0), 1);
	d->ops->destroy(d);
}

/* ---- what Linux does ---------------------------------------------------- */

/* plic_toggle(): read-modify-write of an enable word. */
static void linux_toggle(struct rivet_dev *d, unsigned int c, uint32_t hwirq,
			 bool on)
{
	uint32_t v = ts_rd32(d, en(c, hwirq / 32));

	if (on)
		v |= 1u << (hwirq % 32);
	else
		v &= ~(1u << (hwirq % 32));
	ts_wr32(d, en(c, hwirq / 32), v);
}

/* plic_irq_eoi() */
static void linux_eoi(struct rivet_dev *d, unsigned int c, uint32_t hwirq)
{
	bool enabled = ts_rd32(d, en(c, hwirq / 32)) & 1u << (hwirq % 32);

	if (!enabled) {
		linux_toggle(d, c, hwirq, true);
		complete(d, c, hwirq);
		linux_toggle(d, c, hwirq, false);
	} else {
		complete(d, c, hwirq);
	}
}

/* plic_probe() for every context, plic_starting_cpu(), then a UART on
 * hwirq 10 and a virtio device on hwirq 33 routed to CPUs 1 and 2
 * (plic_irq_enable: toggle on + unmask), interrupts handled by
 * plic_handle_irq(), a masked interrupt (priority 0), an affinity change
 * between claim and EOI. */
static void test_linux_probe_and_run(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;

	for (unsigned int c = 0; c < NCTX; c++)
		for (uint32_t hwirq = 1; hwirq <= NSRC; hwirq++) {
			linux_toggle(d, c, hwirq, false);
			ts_wr32(d, prio(hwirq), 1);
		}
	for (unsigned int c = 0; c < NCTX; c++)
		ts_wr32(d, thr(c), 0);
	for (uint32_t hwirq = 1; hwirq <= NSRC; hwirq++)
		assert_int_equal(ts_rd32(d, prio(hwirq)), 1);
	EXPECT_NONE(f);

	linux_toggle(d, 1, 10, true);
	ts_wr32(d, prio(10), 1);
	linux_toggle(d, 2, 33, true);
	ts_wr32(d, prio(33), 1);
	assert_int_equal(ts_rd32(d, en(1, 0)), 1u << 10);
	assert_int_equal(ts_rd32(d, en(2, 1)), 1u << 1);

	/* Both devices interrupt; each CPU's handler claims until 0. */
	level(f, 10, true);
	level(f, 33, true);
	EXPECT(f, { 1, true }, { 2, true });
	assert_int_equal(claim(d, 1), 10);
	EXPECT(f, { 1, false });
	level(f, 10, false);		/* the driver's handler acks the UART */
	linux_eoi(d, 1, 10);
	assert_int_equal(claim(d, 1), 0);
	assert_int_equal(claim(d, 2), 33);
	level(f, 33, false);
	linux_eoi(d, 2, 33);
	assert_int_equal(claim(d, 2), 0);
	EXPECT(f, { 2, false });

	/* handle_fasteoi_irq() masking a oneshot interrupt: priority 0 while
	 * the thread runs; the line stays up until the thread acks it. */
	level(f, 10, true);
	EXPECT(f, { 1, true });
	assert_int_equal(claim(d, 1), 10);
	ts_wr32(d, prio(10), 0);		/* mask */
	linux_eoi(d, 1, 10);		/* input still high: pending again */
	EXPECT(f, { 1, false });
	assert_int_equal(claim(d, 1), 0);	/* masked */
	level(f, 10, false);		/* thread acks the device */
	ts_wr32(d, prio(10), 1);		/* unmask */
	EXPECT_NONE(f);

	/* plic_set_affinity() between the claim on CPU 1 and its EOI: the
	 * enable moved to CPU 3, so plic_irq_eoi() enables it around the
	 * completion. */
	level(f, 10, true);
	EXPECT(f, { 1, true });
	assert_int_equal(claim(d, 1), 10);
	EXPECT(f, { 1, false });
	linux_toggle(d, 1, 10, false);
	linux_toggle(d, 3, 10, true);
	linux_eoi(d, 1, 10);
	/* The input is still high: pending again, on CPU 1 for as long as
	 * the EOI keeps the enable there, then on CPU 3 only. */
	EXPECT(f, { 1, true }, { 3, true }, { 1, false });
	assert_int_equal(ts_rd32(d, en(1, 0)), 0);
	assert_int_equal(claim(d, 3), 10);
	EXPECT(f, { 3, false });
	level(f, 10, false);
	linux_eoi(d, 3, 10);
	EXPECT_NONE(f);

	/* plic_dying_cpu / threshold 7 (PLIC_DISABLE_THRESHOLD). */
	ts_wr32(d, thr(2), 7);
	level(f, 33, true);
	EXPECT_NONE(f);
	ts_wr32(d, thr(2), 0);
	EXPECT(f, { 2, true });
}

/* ---- threads ------------------------------------------------------------ */

/* Devices on their own threads raise their lines and wait to be served;
 * vCPU threads take an interrupt only when their hart's output is high,
 * claim, ack the device (which lowers its line, on the vCPU thread, as
 * rivet's devices do) and complete; a noise thread reads registers
 * meanwhile.  Every raise must be served exactly once (no lost
 * output: the devices would wait forever; no spurious one: a claim after
 * a high output always finds a source), and the recorder must never see
 * the same level twice for a hart. */
static void t_vcpu(struct ts_stress *w, unsigned int c)
{
	struct fixture *f = w->ctx;

	while (!ts_stress_stopped(w)) {
		uint32_t s;
		struct ts_stress_src *x;

		if (!ts_hart_level(&f->rec, c)) {
			sched_yield();
			continue;
		}
		s = claim(f->dev, c);
		if (!s || s > TS_STRESS_SRC || s % NCTX != c) {
			ts_stress_error(w);
			continue;
		}
		x = &w->src[s];
		pthread_mutex_lock(&x->lock);
		if (!x->status)
			ts_stress_error(w);
		x->status = false;
		x->served++;
		ts_stress_set(w, s, false);
		pthread_mutex_unlock(&x->lock);
		complete(f->dev, c, s);
	}
}

static void t_noise(struct ts_stress *w)
{
	struct fixture *f = w->ctx;
	struct rivet_dev *d = f->dev;

	/* Reads only: a write would recompute the outputs and could hide an
	 * output the device failed to update. */
	while (!ts_stress_stopped(w)) {
		for (uint32_t s = 1; s <= TS_STRESS_SRC; s++) {
			ts_rd32(d, pend(s / 32));
			ts_rd32(d, prio(s));
			ts_rd32(d, thr(s % NCTX));
			ts_rd32(d, en(s % NCTX, 0));
			ts_rd(d, clm(s % NCTX), 2);	/* refused */
			if (f->chip->set_level(f->chip->ctx, 0, true) != -EINVAL)
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
	unsigned long before;

	ts_stress_init(w, f->chip, f);
	for (uint32_t s = 1; s <= TS_STRESS_SRC; s++) {
		ts_wr32(d, prio(s), 1 + s % PLIC_MAX_PRIORITY);
		enable(d, s % NCTX, s, true);
	}
	assert_int_equal(ts_stress_run(w, NCTX, t_vcpu, t_noise), 0);

	assert_int_equal(w->errors, 0);
	for (uint32_t s = 1; s <= TS_STRESS_SRC; s++) {
		assert_int_equal(w->src[s].raised, TS_STRESS_ROUNDS);
		assert_int_equal(w->src[s].served, TS_STRESS_ROUNDS);
	}
	ts_stress_fini(w);
	assert_int_equal(f->rec.repeats, 0);
	assert_int_equal(f->rec.bad_hart, 0);
	for (unsigned int c = 0; c < NCTX; c++)
		assert_false(ts_hart_level(&f->rec, c));
	for (unsigned int wd = 0; wd < 2; wd++)
		assert_int_equal(ts_rd32(d, pend(wd)), 0);
	/* Every raise and every claim moved its hart's output. */
	before = f->rec.calls;
	assert_true(before >= 2);
	assert_true(before <= 2UL * TS_STRESS_SRC * TS_STRESS_ROUNDS);
	test_free(w);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_bad_args),
		T(test_max_config),
		T(test_reset_values),
		T(test_priority_warl),
		T(test_threshold_warl),
		T(test_enable_bits),
		T(test_read_only_and_gaps),
		T(test_widths_and_alignment),
		T(test_set_level_out_of_range),
		T(test_claim_complete),
		T(test_pulse_before_claim),
		T(test_bad_completions),
		T(test_priority_zero_never),
		T(test_threshold),
		T(test_claim_order),
		T(test_outputs_shared_source),
		T(test_outputs_many_sources),
		T(test_output_error),
		cmocka_unit_test(test_harts_filled_in_later),
		T(test_linux_probe_and_run),
		T(test_concurrent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
