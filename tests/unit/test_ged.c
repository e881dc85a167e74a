// SPDX-License-Identifier: MIT
/* The ACPI Generic Event Device: the event selector is read-to-clear, the
 * line is high exactly while an event is pending (one raise per pending
 * period, one drop per read that found something), hostile accesses change
 * nothing and are logged, a press from another thread racing the guest's
 * reads never loses the line's state, and the DSDT part is the ASL Linux's
 * evged and button drivers expect. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "acpi/aml.h"
#include "core/device.h"
#include "core/log.h"
#include "devices/ged.h"
#include "tests/support/mmio.h"

#define BASE 0x10300000ULL
#define IRQ 11
#define MAX_CALLS 100000

/* A wired interrupt controller that records each set_level call.  The
 * device calls it under its own lock, so the calls are ordered. */
struct fake_chip {
	struct irq_chip chip;
	unsigned long calls;
	bool level;
	bool bad_sequence;	/* two calls in a row with the same level */
	uint32_t last_irq;
	int ret;		/* what set_level returns */
};

static int fake_set_level(void *ctx, uint32_t irq, bool level)
{
	struct fake_chip *c = ctx;

	c->last_irq = irq;
	if (c->ret)
		return c->ret;
	if (c->calls && c->level == level)
		c->bad_sequence = true;
	c->calls++;
	__atomic_store_n(&c->level, level, __ATOMIC_RELEASE);
	return 0;
}

struct fixture {
	struct fake_chip c;
	struct rivet_dev *d;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->c.chip = (struct irq_chip){ .set_level = fake_set_level,
				       .ctx = &f->c };
	assert_int_equal(ged_create(BASE, (struct irq_line){ .chip = &f->c.chip,
							     .irq = IRQ },
				    &f->d), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	f->d->ops->destroy(f->d);
	free(f);
	return 0;
}

static void test_create(void **state)
{
	struct irq_line line = { .irq = IRQ };
	struct rivet_dev *d;

	(void)state;
	assert_int_equal(ged_create(BASE, line, NULL), -EINVAL);
	assert_int_equal(ged_create(BASE, (struct irq_line){ 0 }, &d),
			 -EINVAL);	/* no line: useless */
	assert_int_equal(ged_create(UINT64_MAX - 0xfff, line, &d), -EINVAL);
	assert_int_equal(ged_create(UINT64_MAX - 0x1fff, line, &d), 0);
	d->ops->destroy(d);
	assert_int_equal(ged_create(BASE, line, &d), 0);
	assert_int_equal(d->base, BASE);
	assert_int_equal(d->size, GED_SIZE);
	assert_int_equal(d->irq.irq, IRQ);
	assert_string_equal(d->ops->name, "ged");
	/* Linux has no device-tree binding for a GED. */
	assert_null(d->ops->fdt_node);
	assert_non_null(d->ops->acpi_dsdt);
	/* Pressing with no chip behind the line (irq_line_set: a no-op). */
	assert_int_equal(ged_press_power(d), 0);
	assert_int_equal(ts_rd32(d, GED_REG_SEL), GED_EVT_POWER_BUTTON);
	d->ops->destroy(d);
}

static void test_read_to_clear(void **state)
{
	struct fixture *f = *state;

	/* A new device: nothing pending, the line never driven. */
	assert_int_equal(ts_rd32(f->d, GED_REG_SEL), 0);
	assert_int_equal(f->c.calls, 0);

	/* A press raises the line once; a second press before the guest
	 * reads is the same event. */
	assert_int_equal(ged_press_power(f->d), 0);
	assert_int_equal(f->c.calls, 1);
	assert_true(f->c.level);
	assert_int_equal(f->c.last_irq, IRQ);
	assert_int_equal(ged_press_power(f->d), 0);
	assert_int_equal(f->c.calls, 1);

	/* The read returns the event and clears it: the line drops. */
	assert_int_equal(ts_rd32(f->d, GED_REG_SEL), GED_EVT_POWER_BUTTON);
	assert_int_equal(f->c.calls, 2);
	assert_false(f->c.level);
	assert_int_equal(ts_rd32(f->d, GED_REG_SEL), 0);
	assert_int_equal(f->c.calls, 2);

	/* And again: each pending period is one raise and one drop. */
	assert_int_equal(ged_press_power(f->d), 0);
	assert_true(f->c.level);
	assert_int_equal(ts_rd32(f->d, GED_REG_SEL), GED_EVT_POWER_BUTTON);
	assert_false(f->c.level);
	assert_int_equal(f->c.calls, 4);
	assert_false(f->c.bad_sequence);
}

/* The selector ignores writes (quietly); every other access reads zeros,
 * is logged, and neither clears the event nor moves the line. */
static void test_bad_accesses(void **state)
{
	struct fixture *f = *state;
	static const uint64_t offs[] = { 4, 8, 0x100, GED_SIZE - 4,
					 GED_SIZE - 1 };
	unsigned long n;

	assert_int_equal(ged_press_power(f->d), 0);
	assert_true(ts_reg32_refuses(f->d, GED_REG_SEL, ~0ULL));
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		for (unsigned int len = 1; len <= 8; len *= 2) {
			if (offs[i] + len > GED_SIZE)
				continue;
			n = log_count();
			assert_int_equal(ts_rd(f->d, offs[i], len), 0);
			ts_wr(f->d, offs[i], len, ~0ULL);
			assert_int_equal(log_count(), n + 2);
		}
	}
	n = log_count();
	ts_wr32(f->d, GED_REG_SEL, 0);
	ts_wr32(f->d, GED_REG_SEL, 0xffffffff);
	assert_int_equal(log_count(), n);
	/* Still pending, the line still high, raised once. */
	assert_int_equal(f->c.calls, 1);
	assert_true(f->c.level);
	assert_int_equal(ts_rd32(f->d, GED_REG_SEL), GED_EVT_POWER_BUTTON);
	assert_false(f->c.level);
}

/* A chip that fails: the press reports it, and since the line did not
 * move, the next press (or read) tries again. */
static void test_chip_error(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev other = { .ops = f->d->ops };

	assert_int_equal(ged_press_power(NULL), -EINVAL);
	other.ops = &(const struct dev_ops){ .name = "not-a-ged" };
	assert_int_equal(ged_press_power(&other), -EINVAL);

	f->c.ret = -EIO;
	assert_int_equal(ged_press_power(f->d), -EIO);
	assert_int_equal(f->c.calls, 0);
	f->c.ret = 0;
	assert_int_equal(ged_press_power(f->d), 0);
	assert_int_equal(f->c.calls, 1);
	assert_true(f->c.level);
	/* Lowering fails: the read still consumes the event (logged); the
	 * next access that finds the line wrong fixes it. */
	f->c.ret = -EIO;
	assert_int_equal(ts_rd32(f->d, GED_REG_SEL), GED_EVT_POWER_BUTTON);
	f->c.ret = 0;
	assert_true(f->c.level);
	assert_int_equal(ts_rd32(f->d, GED_REG_SEL), 0);
	assert_false(f->c.level);
	assert_int_equal(f->c.calls, 2);
}

/* The main thread presses while a vCPU reads: the line changes strictly
 * alternate, every press is seen by a read, and after the last read the
 * line is low. */
struct race {
	struct fixture *f;
	atomic_int done;
	unsigned long presses;
	unsigned long failed;	/* presses that did not return 0 */
};

/* No cmocka assertions off the test's thread: count, check later. */
static void *presser(void *arg)
{
	struct race *r = arg;

	for (unsigned long i = 0; i < r->presses; i++)
		r->failed += ged_press_power(r->f->d) != 0;
	atomic_store(&r->done, 1);
	return NULL;
}

static void test_press_read_race(void **state)
{
	struct fixture *f = *state;
	struct race r = { .f = f, .presses = 20000 };
	unsigned long seen = 0, reads = 0;
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, presser, &r), 0);
	while (!atomic_load(&r.done) || seen == 0) {
		uint32_t v = ts_rd32(f->d, GED_REG_SEL);

		assert_true(v == 0 || v == GED_EVT_POWER_BUTTON);
		seen += v != 0;
		reads++;
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(r.failed, 0);
	/* What the last press latched (if anything) is read now. */
	seen += ts_rd32(f->d, GED_REG_SEL) != 0;
	assert_int_equal(ts_rd32(f->d, GED_REG_SEL), 0);
	assert_true(seen >= 1 && seen <= r.presses);
	assert_false(f->c.level);
	assert_false(f->c.bad_sequence);
	/* One raise and one drop per event read. */
	assert_int_equal(f->c.calls, 2 * seen);
	assert_true(reads >= seen);
}

/* The DSDT part, byte for byte where it matters: Device (GED0) with
 * ACPI0013, its interrupt as a GSI, the selector's OperationRegion at the
 * device's base, the _EVT that notifies \_SB.PWRB with 0x80, and Device
 * (PWRB) with PNP0C0C. */
static void test_dsdt(void **state)
{
	struct fixture *f = *state;
	static const uint8_t irq_desc[] = {
		0x89, 0x06, 0x00, 0x01, 0x01, 0x0b, 0x00, 0x00, 0x00,
	};
	static const uint8_t region[] = {
		0x5b, 0x80, 'E', 'R', 'E', 'G', 0x00,
		0x0c, 0x00, 0x00, 0x30, 0x10, 0x0a, 0x04,
	};
	static const uint8_t field[] = {
		0x5b, 0x81, 0x0b, 'E', 'R', 'E', 'G', 0x43,
		'E', 'S', 'E', 'L', 0x20,
	};
	static const uint8_t evt[] = {
		0x14, 0x23, '_', 'E', 'V', 'T', 0x09,
		0x70, 'E', 'S', 'E', 'L', 0x60,
		0xa0, 0x16, 0x93, 0x7b, 0x60, 0x0a, 0x02, 0x00, 0x0a, 0x02,
		0x86, 0x5c, 0x2e, '_', 'S', 'B', '_', 'P', 'W', 'R', 'B',
		0x0a, 0x80,
	};
	static const uint8_t pwrb[] = {
		0x5b, 0x82, 0x19, 'P', 'W', 'R', 'B',
		0x08, '_', 'H', 'I', 'D', 0x0d, 'P', 'N', 'P', '0', 'C', '0',
		'C', 0x00, 0x08, '_', 'U', 'I', 'D', 0x00,
	};
	struct aml_buf b;
	const uint8_t *ged;

	aml_init(&b, 0);
	b.gsi_base = 0;
	aml_scope_begin(&b, "\\_SB");
	assert_int_equal(f->d->ops->acpi_dsdt(f->d, &b), 0);
	assert_int_equal(b.depth, 1);	/* nothing left open */
	aml_end(&b);
	assert_int_equal(aml_finish(&b), 0);
	ged = memmem(b.data, b.len, "GED0", 4);
	assert_non_null(ged);
	/* DeviceOp, then a 2-byte PkgLength */
	assert_memory_equal(ged - 4, "\x5b\x82", 2);
	assert_non_null(memmem(ged, b.len - (size_t)(ged - b.data),
			       "\x08_HID\x0d" "ACPI0013", 14));
	assert_non_null(memmem(b.data, b.len, irq_desc, sizeof(irq_desc)));
	assert_non_null(memmem(b.data, b.len, region, sizeof(region)));
	assert_non_null(memmem(b.data, b.len, field, sizeof(field)));
	assert_non_null(memmem(b.data, b.len, evt, sizeof(evt)));
	/* PWRB comes after GED0, directly in \_SB: the path _EVT names. */
	assert_true(memmem(b.data, b.len, pwrb, sizeof(pwrb)) > (void *)ged);
	assert_int_equal(memcmp(b.data + b.len - sizeof(pwrb), pwrb,
				sizeof(pwrb)), 0);
	aml_free(&b);

	/* The GSI follows the DSDT's GSI base. */
	aml_init(&b, 0);
	b.gsi_base = 64;
	assert_int_equal(f->d->ops->acpi_dsdt(f->d, &b), 0);
	assert_non_null(memmem(b.data, b.len,
			       "\x89\x06\x00\x01\x01\x4b\x00\x00\x00", 9));
	aml_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create),
		cmocka_unit_test_setup_teardown(test_read_to_clear, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_accesses, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_chip_error, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_press_read_race, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dsdt, setup, teardown),
	};

	log_set_level(LOG_ERR);	/* the bad accesses are logged on purpose */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
