// SPDX-License-Identifier: MIT
/* virtio-rng over virtio-mmio: entropy lands only in device-writable
 * buffers, bounded per request; hostile chains stop the device cleanly. */
#include "tests/support/virtio_fake.h"

#include <errno.h>
#include <stdlib.h>

#include "core/log.h"
#include "devices/virtio_rng.h"

#define DEV_BASE	0x10003000ULL
#define BUF		(FG_DATA)

struct t {
	struct gmem gm;
	struct fake_irq irq;
	struct irq_chip chip;
	struct rivet_dev *dev;
	struct fdrv d;
};

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	struct virtio_backend *be;

	assert_non_null(t);
	assert_int_equal(gmem_alloc(&t->gm, FG_BASE, FG_SIZE), 0);
	t->chip = (struct irq_chip){ .set_level = fake_irq_set,
				     .ctx = &t->irq };
	assert_int_equal(vrng_create(&be), 0);
	assert_int_equal(virtio_mmio_create(&t->gm, DEV_BASE, 0x1000,
					    (struct irq_line){ &t->chip, 11 },
					    be, &t->dev), 0);
	fdrv_mmio_init(t->dev, &t->d, &t->gm, VIRTIO_RNG_QUEUE_SIZE);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;

	t->dev->ops->destroy(t->dev);
	gmem_free(&t->gm);
	free(t);
	return 0;
}

/* Number of bytes in [gpa, gpa + len) that differ from @fill. */
static size_t changed(struct t *t, uint64_t gpa, size_t len, uint8_t fill)
{
	const uint8_t *p = fg_ptr(&t->gm, gpa, len);
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += p[i] != fill;
	return n;
}

static uint32_t submit(struct t *t, uint16_t head)
{
	uint16_t before = fdrv_used_idx(&t->d);

	fdrv_kick(t->dev, &t->d, head);
	assert_int_equal(fdrv_used_idx(&t->d), (uint16_t)(before + 1));
	assert_int_equal(fdrv_used_id(&t->d, before), head);
	return fdrv_used_len(&t->d, before);
}

static void test_identity(void **state)
{
	struct t *t = *state;
	uint8_t b[4] = { 0xff, 0xff, 0xff, 0xff };

	assert_int_equal(mr32(t->dev, VIRTIO_MMIO_DEVICE_ID), 4);
	mw32(t->dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	assert_int_equal(mr32(t->dev, VIRTIO_MMIO_DEVICE_FEATURES), 1);
	mw32(t->dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	assert_int_equal(mr32(t->dev, VIRTIO_MMIO_DEVICE_FEATURES),
			 1u << VIRTIO_F_INDIRECT_DESC);
	assert_int_equal(mr32(t->dev, VIRTIO_MMIO_QUEUE_NUM_MAX),
			 VIRTIO_RNG_QUEUE_SIZE);
	t->dev->ops->mmio_read(t->dev, VIRTIO_MMIO_CONFIG, b, 4);
	assert_int_equal(mmio_get(b, 4), 0);	/* no config space */
}

static void test_fill(void **state)
{
	struct t *t = *state;
	const struct fseg one[] = { { BUF, 64, true } };
	const struct fseg three[] = { { BUF + 0x100, 16, true },
				      { BUF + 0x200, 1, true },
				      { BUF + 0x300, 100, true } };

	memset(fg_ptr(&t->gm, BUF, 0x400), 0, 0x400);
	assert_int_equal(submit(t, fdrv_chain(&t->d, one, 1)), 64);
	assert_true(changed(t, BUF, 64, 0) > 32);
	assert_int_equal(changed(t, BUF + 64, 64, 0), 0);	/* no overrun */
	assert_true(t->irq.raises > 0);
	assert_int_equal(submit(t, fdrv_chain(&t->d, three, 3)), 117);
	assert_true(changed(t, BUF + 0x100, 16, 0) > 4);
	assert_true(changed(t, BUF + 0x300, 100, 0) > 50);
	assert_int_equal(changed(t, BUF + 0x300 + 100, 0x100 - 100, 0), 0);
}

static void test_indirect(void **state)
{
	struct t *t = *state;
	const struct fseg s[] = { { BUF, 32, true }, { BUF + 64, 32, true } };

	memset(fg_ptr(&t->gm, BUF, 128), 0, 128);
	assert_int_equal(submit(t, fdrv_chain_indirect(&t->d, FG_TABLE, s,
						       2)), 64);
	assert_true(changed(t, BUF, 32, 0) > 8);
	assert_true(changed(t, BUF + 64, 32, 0) > 8);
	assert_int_equal(changed(t, BUF + 32, 32, 0), 0);
}

/* Device-readable buffers are never written. */
static void test_readable_refused(void **state)
{
	struct t *t = *state;
	const struct fseg s[] = { { BUF, 64, false }, { BUF + 64, 64, true } };

	memset(fg_ptr(&t->gm, BUF, 128), 0xa5, 128);
	assert_int_equal(submit(t, fdrv_chain(&t->d, s, 2)), 0);
	assert_int_equal(changed(t, BUF, 128, 0xa5), 0);
	assert_false(mr32(t->dev, VIRTIO_MMIO_STATUS) &
		     VIRTIO_STATUS_NEEDS_RESET);
}

/* One huge request is cut at VIRTIO_RNG_MAX_FILL bytes. */
static void test_bounded_fill(void **state)
{
	struct t *t = *state;
	const uint32_t len = 1024 * 1024;
	const struct fseg s[] = { { BUF, len, true } };

	memset(fg_ptr(&t->gm, BUF, len), 0, len);
	assert_int_equal(submit(t, fdrv_chain(&t->d, s, 1)),
			 VIRTIO_RNG_MAX_FILL);
	assert_int_equal(changed(t, BUF + VIRTIO_RNG_MAX_FILL,
				 len - VIRTIO_RNG_MAX_FILL, 0), 0);
}

/* A full ring in one notify. */
static void test_full_ring(void **state)
{
	struct t *t = *state;

	for (unsigned int i = 0; i < VIRTIO_RNG_QUEUE_SIZE; i++) {
		const struct fseg s[] = { { BUF + 16ULL * i, 16, true } };

		fdrv_publish(&t->d, fdrv_chain(&t->d, s, 1));
	}
	mw32(t->dev, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(fdrv_used_idx(&t->d), VIRTIO_RNG_QUEUE_SIZE);
	for (unsigned int i = 0; i < VIRTIO_RNG_QUEUE_SIZE; i++)
		assert_int_equal(fdrv_used_len(&t->d, (uint16_t)i), 16);
}

/* A buffer outside RAM: device error, config interrupt, then a reset
 * brings the device back. */
static void test_hostile_then_reset(void **state)
{
	struct t *t = *state;
	const struct fseg bad[] = { { FG_BASE + FG_SIZE - 4, 8, true } };
	const struct fseg good[] = { { BUF, 8, true } };

	fdrv_publish(&t->d, fdrv_chain(&t->d, bad, 1));
	mw32(t->dev, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(fdrv_used_idx(&t->d), 0);
	assert_true(mr32(t->dev, VIRTIO_MMIO_STATUS) &
		    VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(mr32(t->dev, VIRTIO_MMIO_INTERRUPT_STATUS),
			 VIRTIO_MMIO_INT_CONFIG);
	assert_true(t->irq.level);
	fdrv_mmio_init(t->dev, &t->d, &t->gm, VIRTIO_RNG_QUEUE_SIZE);
	assert_false(t->irq.level);
	assert_int_equal(submit(t, fdrv_chain(&t->d, good, 1)), 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_identity),
		T(test_fill),
		T(test_indirect),
		T(test_readable_refused),
		T(test_bounded_fill),
		T(test_full_ring),
		T(test_hostile_then_reset),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
