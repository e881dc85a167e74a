// SPDX-License-Identifier: MIT
/* virtio-mmio transport over a fake backend: register read-back, access
 * widths, feature negotiation abuse, queue configuration, notifications,
 * interrupts, device errors and reset (hardening classes 5, 6, 8, 9). */
#include "tests/support/virtio_fake.h"

#include <errno.h>
#include <libfdt.h>
#include <stdlib.h>

#include "acpi/aml.h"
#include "core/bus.h"
#include "core/fdt_util.h"
#include "core/log.h"
#include "devices/virtq.h"

#define DEV_BASE	0x10001000ULL
#define DEV_SIZE	0x1000ULL
#define DEV_IRQ		7
#define FB_QMAX		16
#define FB_FEATURES	(VIRTIO_BIT(VIRTIO_F_VERSION_1) | \
			 VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) | VIRTIO_BIT(3))
#define ALL_OK		(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
			 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK)

/* Fake backend: two queues, 8 bytes of config, echoes chains back. */
struct fbe {
	struct virtio_backend be;
	uint8_t config[8];
	unsigned int handled[2];
	unsigned int resets;
	unsigned int config_writes;
	int fail;		/* handle_queue's return value */
	bool *destroyed;
};

static void fbe_config_read(struct virtio_backend *be, uint32_t off,
			    uint8_t *data, unsigned int len)
{
	memcpy(data, ((struct fbe *)be)->config + off, len);
}

static void fbe_config_write(struct virtio_backend *be, uint32_t off,
			     const uint8_t *data, unsigned int len)
{
	struct fbe *f = (struct fbe *)be;

	memcpy(f->config + off, data, len);
	f->config_writes++;
}

static int fbe_handle(struct virtio_backend *be, struct virtq *vq,
		      unsigned int q)
{
	struct fbe *f = (struct fbe *)be;
	struct virtq_chain c;
	int r;

	f->handled[q]++;
	if (f->fail)
		return f->fail;
	while ((r = virtq_pop(vq, &c)) > 0)
		virtq_push(vq, &c, c.in_len);
	return r;
}

static void fbe_reset(struct virtio_backend *be)
{
	((struct fbe *)be)->resets++;
}

static void fbe_destroy(struct virtio_backend *be)
{
	struct fbe *f = (struct fbe *)be;

	if (f->destroyed)
		*f->destroyed = true;
	free(f);
}

static const struct virtio_backend_ops fbe_ops = {
	.name = "fake",
	.device_id = 42,
	.nr_queues = 2,
	.max_queue_size = FB_QMAX,
	.config_read = fbe_config_read,
	.config_write = fbe_config_write,
	.handle_queue = fbe_handle,
	.reset = fbe_reset,
	.destroy = fbe_destroy,
};

struct t {
	struct gmem gm;
	struct fake_irq irq;
	struct irq_chip chip;
	struct rivet_dev *dev;
	struct fbe *fb;
	struct fdrv d;
	bool destroyed;
};

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	struct fbe *fb = calloc(1, sizeof(*fb));

	assert_non_null(t);
	assert_non_null(fb);
	assert_int_equal(gmem_alloc(&t->gm, FG_BASE, FG_SIZE), 0);
	fb->be.ops = &fbe_ops;
	fb->be.features = FB_FEATURES;
	fb->be.config_size = sizeof(fb->config);
	for (int i = 0; i < 8; i++)
		fb->config[i] = (uint8_t)(0x10 + i);
	fb->destroyed = &t->destroyed;
	t->chip = (struct irq_chip){ .set_level = fake_irq_set,
				     .ctx = &t->irq };
	assert_int_equal(virtio_mmio_create(&t->gm, DEV_BASE, DEV_SIZE,
					    (struct irq_line){ &t->chip,
							       DEV_IRQ },
					    &fb->be, &t->dev), 0);
	t->fb = fb;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;

	t->dev->ops->destroy(t->dev);
	assert_true(t->destroyed);
	gmem_free(&t->gm);
	free(t);
	return 0;
}

static uint64_t rd(struct rivet_dev *dev, uint64_t off, unsigned int len)
{
	uint8_t b[8];

	memset(b, 0xee, sizeof(b));
	dev->ops->mmio_read(dev, off, b, len);
	return mmio_get(b, len);
}

static void wr(struct rivet_dev *dev, uint64_t off, uint64_t v,
	       unsigned int len)
{
	uint8_t b[8];

	mmio_put(b, len, v);
	dev->ops->mmio_write(dev, off, b, len);
}

/* Publish an 8-byte writable buffer on queue 0 and notify. */
static void kick_one(struct t *t)
{
	const struct fseg s[] = { { FG_DATA, 8, true } };

	fdrv_publish(&t->d, fdrv_chain(&t->d, s, 1));
	mw32(t->dev, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

static void test_readback(void **state)
{
	struct t *t = *state;
	struct rivet_dev *dev = t->dev;

	assert_int_equal(dev->size, DEV_SIZE);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_VERSION_REG), 2);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_DEVICE_ID), 42);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_VENDOR_ID), VIRTIO_MMIO_VENDOR);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_DEVICE_FEATURES),
			 (uint32_t)FB_FEATURES);
	mw32(dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_DEVICE_FEATURES), 1);
	mw32(dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_DEVICE_FEATURES), 0);
	mw32(dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0xffffffff);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_DEVICE_FEATURES), 0);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_QUEUE_NUM_MAX), FB_QMAX);
	mw32(dev, VIRTIO_MMIO_QUEUE_SEL, 1);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_QUEUE_NUM_MAX), FB_QMAX);
	mw32(dev, VIRTIO_MMIO_QUEUE_SEL, 2);		/* does not exist */
	assert_int_equal(mr32(dev, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_CONFIG_GENERATION), 0);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffff);
	/* Write-only registers read as 0. */
	assert_int_equal(mr32(dev, VIRTIO_MMIO_QUEUE_SEL), 0);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_QUEUE_NUM), 0);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_QUEUE_DESC_LOW), 0);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_DRIVER_FEATURES), 0);
	/* Read-only registers ignore writes. */
	mw32(dev, VIRTIO_MMIO_MAGIC_VALUE, 0);
	mw32(dev, VIRTIO_MMIO_INTERRUPT_STATUS, 3);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	/* Config space. */
	assert_int_equal(rd(dev, VIRTIO_MMIO_CONFIG, 8), 0x1716151413121110);
	assert_int_equal(rd(dev, VIRTIO_MMIO_CONFIG + 4, 4), 0x17161514);
	assert_int_equal(rd(dev, VIRTIO_MMIO_CONFIG + 6, 2), 0x1716);
	assert_int_equal(rd(dev, VIRTIO_MMIO_CONFIG + 7, 1), 0x17);
}

/* Class 9: every width, misaligned, gaps, beyond the config space. */
static void test_widths(void **state)
{
	struct t *t = *state;
	struct rivet_dev *dev = t->dev;
	unsigned long logs = log_count();

	assert_int_equal(rd(dev, VIRTIO_MMIO_MAGIC_VALUE, 1), 0);
	assert_int_equal(rd(dev, VIRTIO_MMIO_MAGIC_VALUE, 2), 0);
	assert_int_equal(rd(dev, VIRTIO_MMIO_MAGIC_VALUE, 8), 0);
	assert_int_equal(rd(dev, VIRTIO_MMIO_MAGIC_VALUE + 2, 4), 0);
	assert_int_equal(rd(dev, 0x0f8, 8), 0);
	assert_true(log_count() >= logs + 5);
	wr(dev, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE, 1);
	wr(dev, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE, 2);
	wr(dev, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE, 8);
	wr(dev, VIRTIO_MMIO_STATUS + 1, VIRTIO_STATUS_ACKNOWLEDGE, 4);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_STATUS), 0);
	/* Gaps between registers. */
	logs = log_count();
	assert_int_equal(mr32(dev, 0x018), 0);
	assert_int_equal(mr32(dev, 0x0c0), 0);
	mw32(dev, 0x0c0, 1);
	mw32(dev, 0x028, 4096);			/* legacy GuestPageSize */
	assert_true(log_count() >= logs + 4);
	/* Beyond and straddling the 8-byte config space. */
	assert_int_equal(rd(dev, VIRTIO_MMIO_CONFIG + 8, 1), 0);
	assert_int_equal(rd(dev, VIRTIO_MMIO_CONFIG + 4, 8), 0);
	assert_int_equal(rd(dev, VIRTIO_MMIO_CONFIG + 7, 2), 0);
	assert_int_equal(rd(dev, DEV_SIZE - 8, 8), 0);
	wr(dev, VIRTIO_MMIO_CONFIG + 6, 0xffffffff, 4);
	assert_int_equal(t->fb->config_writes, 0);
	wr(dev, VIRTIO_MMIO_CONFIG + 6, 0xaabb, 2);
	assert_int_equal(t->fb->config_writes, 1);
	assert_int_equal(rd(dev, VIRTIO_MMIO_CONFIG + 6, 2), 0xaabb);
}

/* Accesses through a bus: the gap after the device is not the device. */
static void test_bus_gap(void **state)
{
	struct t *t = *state;
	struct bus bus = { 0 };
	uint8_t b[4];

	assert_int_equal(bus_add(&bus, t->dev), 0);
	assert_int_equal(bus_access(&bus, DEV_BASE, b, 4, false), 0);
	assert_int_equal(mmio_get(b, 4), 0x74726976);
	assert_int_equal(bus_access(&bus, DEV_BASE + DEV_SIZE, b, 4, false),
			 -ENOENT);
	assert_int_equal(bus_access(&bus, DEV_BASE + DEV_SIZE - 2, b, 4,
				    false), -ENOENT);
	assert_int_equal(bus_access(&bus, DEV_BASE, b, 3, false), -EINVAL);
}

static void test_linux_init(void **state)
{
	struct t *t = *state;

	fdrv_mmio_init(t->dev, &t->d, &t->gm, FB_QMAX);
	assert_int_equal(t->fb->be.driver_features, FB_FEATURES);
	assert_int_equal(t->fb->resets, 1);	/* the initial status 0 */
	assert_int_equal(t->fb->handled[0], 1);	/* DRIVER_OK catch-up */
	kick_one(t);
	assert_int_equal(t->fb->handled[0], 2);
	assert_int_equal(fdrv_used_idx(&t->d), 1);
	assert_int_equal(fdrv_used_len(&t->d, 0), 8);
	assert_int_equal(mr32(t->dev, VIRTIO_MMIO_INTERRUPT_STATUS),
			 VIRTIO_MMIO_INT_VRING);
	assert_true(t->irq.level);
	assert_int_equal(t->irq.last_irq, DEV_IRQ);
	mw32(t->dev, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(mr32(t->dev, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_false(t->irq.level);
}

/* Class 8: feature negotiation abuse. */
static void test_feature_abuse(void **state)
{
	struct t *t = *state;
	struct rivet_dev *dev = t->dev;
	uint32_t st;

	/* Never offered. */
	st = fdrv_negotiate(dev, FB_FEATURES | VIRTIO_BIT(VIRTIO_F_EVENT_IDX));
	assert_false(st & VIRTIO_STATUS_FEATURES_OK);
	assert_int_equal(t->fb->be.driver_features, 0);
	st = fdrv_negotiate(dev, VIRTIO_BIT(VIRTIO_F_VERSION_1) |
			    VIRTIO_BIT(40));
	assert_false(st & VIRTIO_STATUS_FEATURES_OK);
	/* Bits beyond the 64 we know. */
	mw32(dev, VIRTIO_MMIO_STATUS, 0);
	mw32(dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 2);
	mw32(dev, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	mw32(dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mw32(dev, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	mw32(dev, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
	     VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	assert_false(mr32(dev, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	/* Legacy driver: no VERSION_1. */
	st = fdrv_negotiate(dev, VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC));
	assert_false(st & VIRTIO_STATUS_FEATURES_OK);
	/* DRIVER_OK without FEATURES_OK is ignored. */
	mw32(dev, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
	     VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_STATUS),
			 VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);

	/* A subset is fine; it cannot change after FEATURES_OK. */
	st = fdrv_negotiate(dev, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	assert_true(st & VIRTIO_STATUS_FEATURES_OK);
	assert_int_equal(t->fb->be.driver_features,
			 VIRTIO_BIT(VIRTIO_F_VERSION_1));
	mw32(dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mw32(dev, VIRTIO_MMIO_DRIVER_FEATURES, 0xffffffff);
	mw32(dev, VIRTIO_MMIO_STATUS, st);
	assert_int_equal(t->fb->be.driver_features,
			 VIRTIO_BIT(VIRTIO_F_VERSION_1));
	/* Status bits cannot be cleared but by reset, nor NEEDS_RESET set. */
	mw32(dev, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_STATUS), st);
	mw32(dev, VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_NEEDS_RESET | 0x30);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_STATUS), st);
	mw32(dev, VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_FAILED);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_STATUS),
			 st | VIRTIO_STATUS_FAILED);
}

/* Class 5: queue size and selection. */
static void test_queue_config(void **state)
{
	struct t *t = *state;
	struct rivet_dev *dev = t->dev;
	unsigned long logs;

	/* Queues cannot go live before FEATURES_OK. */
	fdrv_init(&t->d, &t->gm, 4);
	fdrv_setup_queue(dev, 0, 4);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_QUEUE_READY), 0);

	assert_true(fdrv_negotiate(dev, FB_FEATURES) &
		    VIRTIO_STATUS_FEATURES_OK);
	vmmio_queue(dev, 0, 4, FG_DESC, FG_AVAIL, FG_USED, false);
	logs = log_count();
	mw32(dev, VIRTIO_MMIO_QUEUE_NUM, 0);
	mw32(dev, VIRTIO_MMIO_QUEUE_NUM, 3);
	mw32(dev, VIRTIO_MMIO_QUEUE_NUM, 2 * FB_QMAX);
	mw32(dev, VIRTIO_MMIO_QUEUE_NUM, 0x80000000);
	assert_true(log_count() >= logs + 4);
	mw32(dev, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_QUEUE_READY), 1);
	/* Changes while ready are refused: the size stays 4. */
	mw32(dev, VIRTIO_MMIO_QUEUE_NUM, 16);
	mw32(dev, VIRTIO_MMIO_QUEUE_DESC_LOW, 0);
	mw32(dev, VIRTIO_MMIO_STATUS, ALL_OK);
	kick_one(t);
	assert_int_equal(fdrv_used_idx(&t->d), 1);	/* rings unchanged */
	/* 5 pending on a 4-entry queue: the driver broke the rules. */
	fdrv_set_avail_idx(&t->d, 6);
	mw32(dev, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_true(mr32(dev, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);

	/* Nonexistent queues: nothing happens. */
	mw32(dev, VIRTIO_MMIO_STATUS, 0);
	fdrv_mmio_init(dev, &t->d, &t->gm, FB_QMAX);
	t->fb->handled[0] = 0;
	mw32(dev, VIRTIO_MMIO_QUEUE_SEL, 2);
	mw32(dev, VIRTIO_MMIO_QUEUE_NUM, 4);
	mw32(dev, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_QUEUE_READY), 0);
	mw32(dev, VIRTIO_MMIO_QUEUE_NOTIFY, 2);
	mw32(dev, VIRTIO_MMIO_QUEUE_NOTIFY, 0xffffffff);
	mw32(dev, VIRTIO_MMIO_QUEUE_NOTIFY, 1);		/* exists, not ready */
	assert_int_equal(t->fb->handled[0] + t->fb->handled[1], 0);
	assert_false(mr32(dev, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	/* Disabling a queue. */
	mw32(dev, VIRTIO_MMIO_QUEUE_SEL, 0);
	mw32(dev, VIRTIO_MMIO_QUEUE_READY, 0);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_QUEUE_READY), 0);
	kick_one(t);
	assert_int_equal(t->fb->handled[0], 0);
}

/* Class 6: rings outside RAM are refused at QueueReady. */
static void test_rings_outside_ram(void **state)
{
	struct t *t = *state;
	struct rivet_dev *dev = t->dev;

	assert_true(fdrv_negotiate(dev, FB_FEATURES) &
		    VIRTIO_STATUS_FEATURES_OK);
	fdrv_init(&t->d, &t->gm, FB_QMAX);
	fdrv_setup_queue(dev, 0, FB_QMAX);
	mw32(dev, VIRTIO_MMIO_QUEUE_SEL, 1);
	mw32(dev, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)FG_DESC);
	mw32(dev, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)FG_AVAIL);
	mw32(dev, VIRTIO_MMIO_QUEUE_DEVICE_LOW,
	     (uint32_t)(FG_BASE + FG_SIZE - 8));
	mw32(dev, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
	mw32(dev, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_true(mr32(dev, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	/* Before DRIVER_OK: no interrupt for it. */
	assert_int_equal(mr32(dev, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	/* High half of the address is honoured (and outside RAM). */
	mw32(dev, VIRTIO_MMIO_STATUS, 0);
	assert_true(fdrv_negotiate(dev, FB_FEATURES) &
		    VIRTIO_STATUS_FEATURES_OK);
	fdrv_setup_queue(dev, 0, FB_QMAX);
	mw32(dev, VIRTIO_MMIO_QUEUE_SEL, 1);
	mw32(dev, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)FG_DESC);
	mw32(dev, VIRTIO_MMIO_QUEUE_DESC_HIGH, 1);
	mw32(dev, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)FG_AVAIL);
	mw32(dev, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)FG_USED);
	mw32(dev, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_QUEUE_READY), 0);
}

static void test_notify_rules(void **state)
{
	struct t *t = *state;
	struct rivet_dev *dev = t->dev;

	assert_true(fdrv_negotiate(dev, FB_FEATURES) &
		    VIRTIO_STATUS_FEATURES_OK);
	fdrv_init(&t->d, &t->gm, FB_QMAX);
	fdrv_setup_queue(dev, 0, FB_QMAX);
	kick_one(t);			/* before DRIVER_OK: not consumed */
	assert_int_equal(t->fb->handled[0], 0);
	assert_int_equal(fdrv_used_idx(&t->d), 0);
	mw32(dev, VIRTIO_MMIO_STATUS, ALL_OK);	/* ... but on DRIVER_OK */
	assert_int_equal(t->fb->handled[0], 1);
	assert_int_equal(fdrv_used_idx(&t->d), 1);
	assert_true(t->irq.level);
}

static void test_interrupts(void **state)
{
	struct t *t = *state;
	struct rivet_dev *dev = t->dev;

	fdrv_mmio_init(dev, &t->d, &t->gm, FB_QMAX);
	fg_w16(&t->gm, FG_AVAIL, 1);		/* NO_INTERRUPT */
	kick_one(t);
	assert_int_equal(fdrv_used_idx(&t->d), 1);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_false(t->irq.level);
	fg_w16(&t->gm, FG_AVAIL, 0);
	kick_one(t);
	kick_one(t);
	assert_int_equal(t->irq.raises, 1);	/* level stays high */
	/* A device error on top: both bits; ack them one at a time. */
	t->fb->fail = -EINVAL;
	kick_one(t);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_INTERRUPT_STATUS),
			 VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG);
	mw32(dev, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	assert_true(t->irq.level);
	mw32(dev, VIRTIO_MMIO_INTERRUPT_ACK, 0);
	assert_true(t->irq.level);
	mw32(dev, VIRTIO_MMIO_INTERRUPT_ACK, 0xffffffff);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_false(t->irq.level);
}

static void test_device_error_and_reset(void **state)
{
	struct t *t = *state;
	struct rivet_dev *dev = t->dev;

	fdrv_mmio_init(dev, &t->d, &t->gm, FB_QMAX);
	t->fb->fail = -EINVAL;
	kick_one(t);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_STATUS),
			 ALL_OK | VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_INTERRUPT_STATUS),
			 VIRTIO_MMIO_INT_CONFIG);
	assert_true(t->irq.level);
	/* Ignored until reset; status writes keep NEEDS_RESET. */
	kick_one(t);
	assert_int_equal(t->fb->handled[0], 2);
	mw32(dev, VIRTIO_MMIO_STATUS, ALL_OK);
	assert_true(mr32(dev, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	/* Reset clears everything, including the interrupt line. */
	mw32(dev, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_false(t->irq.level);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_int_equal(t->fb->be.driver_features, 0);
	assert_int_equal(t->fb->resets, 2);
	t->fb->fail = 0;
	fdrv_mmio_init(dev, &t->d, &t->gm, FB_QMAX);
	kick_one(t);
	assert_int_equal(fdrv_used_idx(&t->d), 1);
}

/* Reset while buffers are in flight: the next driver starts clean. */
static void test_reset_in_flight(void **state)
{
	struct t *t = *state;
	struct rivet_dev *dev = t->dev;
	const struct fseg s[] = { { FG_DATA, 8, true } };

	fdrv_mmio_init(dev, &t->d, &t->gm, FB_QMAX);
	for (int i = 0; i < 3; i++)
		fdrv_publish(&t->d, fdrv_chain(&t->d, s, 1));
	mw32(dev, VIRTIO_MMIO_STATUS, 0);
	mw32(dev, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(t->fb->handled[0], 1);	/* only the catch-up */
	fdrv_mmio_init(dev, &t->d, &t->gm, FB_QMAX);
	kick_one(t);
	assert_int_equal(fdrv_used_idx(&t->d), 1);
	assert_int_equal(fdrv_used_id(&t->d, 0), 0);
}

/* The device's DSDT part: Device (VRnn) { _HID "LNRO0005", _UID n,
 * _CCA 1, _CRS { Memory32Fixed (its window), Interrupt (its GSI) } }. */
static void test_acpi_dsdt(void **state)
{
	struct t *t = *state;
	static const uint8_t mem[] = {	/* Memory32Fixed, RW, base, length */
		0x86, 0x09, 0x00, 0x01, 0x00, 0x10, 0x00, 0x10,
		0x00, 0x10, 0x00, 0x00,
	};
	static const uint8_t irq[] = {	/* Extended Interrupt, 1 GSI */
		0x89, 0x06, 0x00, 0x01, 0x01, DEV_IRQ + 40, 0x00, 0x00, 0x00,
	};
	struct aml_buf b;

	aml_init(&b, 0);
	b.gsi_base = 40;
	assert_int_equal(t->dev->ops->acpi_dsdt(t->dev, &b), 0);
	assert_int_equal(t->dev->ops->acpi_dsdt(t->dev, &b), 0);
	assert_int_equal(aml_finish(&b), 0);
	assert_non_null(memmem(b.data, b.len, "VR00", 4));
	assert_non_null(memmem(b.data, b.len, "VR01", 4));	/* the next */
	assert_non_null(memmem(b.data, b.len, "LNRO0005", 8));
	assert_non_null(memmem(b.data, b.len, "_CCA", 4));
	assert_non_null(memmem(b.data, b.len, mem, sizeof(mem)));
	assert_non_null(memmem(b.data, b.len, irq, sizeof(irq)));
	aml_free(&b);
}

static void test_fdt(void **state)
{
	struct t *t = *state;
	static uint8_t buf[4096];
	struct fdt_ctx ctx = { .fdt = buf, .size = sizeof(buf),
			       .irq_phandle = 5 };
	const fdt32_t *irqs;
	int off, len;

	assert_int_equal(fdt_create_empty_tree(buf, sizeof(buf)), 0);
	assert_true(fdt_add_subnode(buf, 0, "soc") >= 0);
	assert_int_equal(t->dev->ops->fdt_node(t->dev, &ctx), 0);
	off = fdt_path_offset(buf, "/soc/virtio_mmio@10001000");
	assert_true(off >= 0);
	assert_string_equal(fdt_getprop(buf, off, "compatible", NULL),
			    "virtio,mmio");
	assert_non_null(fdt_getprop(buf, off, "dma-coherent", &len));
	assert_int_equal(len, 0);
	irqs = fdt_getprop(buf, off, "interrupts", &len);
	assert_non_null(irqs);
	assert_int_equal(len, 8);
	assert_int_equal(fdt32_to_cpu(irqs[0]), DEV_IRQ);
	assert_int_equal(fdt32_to_cpu(irqs[1]), FDT_IRQ_TYPE_LEVEL_HIGH);
	/* Without /soc the error is reported, not hidden. */
	assert_int_equal(fdt_create_empty_tree(buf, sizeof(buf)), 0);
	assert_int_equal(t->dev->ops->fdt_node(t->dev, &ctx), -ENOENT);
}

/* A fresh backend with @ops and @config_size that sets *@destroyed. */
static struct virtio_backend *new_fbe(const struct virtio_backend_ops *ops,
				      uint32_t config_size, bool *destroyed)
{
	struct fbe *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->be.ops = ops;
	f->be.config_size = config_size;
	f->destroyed = destroyed;
	*destroyed = false;
	return &f->be;
}

/* Every refusal releases the backend it was handed: the transport owns it
 * from the call on. */
static void test_create_errors(void **state)
{
	struct t *t = *state;
	struct virtio_backend_ops no_q = fbe_ops;
	struct rivet_dev *dev = NULL;
	struct irq_line irq = { NULL, 0 };
	bool gone;

	assert_int_equal(virtio_mmio_create(&t->gm, DEV_BASE, 0x1ff, irq,
					    new_fbe(&fbe_ops, 8, &gone), &dev),
			 -EINVAL);
	assert_true(gone);
	assert_int_equal(virtio_mmio_create(NULL, DEV_BASE, 0x200, irq,
					    new_fbe(&fbe_ops, 8, &gone), &dev),
			 -EINVAL);
	assert_true(gone);
	assert_int_equal(virtio_mmio_create(&t->gm, DEV_BASE, 0x200, irq,
					    new_fbe(&fbe_ops, 8, &gone), NULL),
			 -EINVAL);
	assert_true(gone);
	assert_int_equal(virtio_mmio_create(&t->gm, DEV_BASE, 0x200, irq,
					    NULL, &dev), -EINVAL);
	assert_int_equal(virtio_mmio_create(&t->gm, DEV_BASE, 0x200, irq,
					    new_fbe(&fbe_ops, 0x101, &gone),
					    &dev), -EINVAL);
	assert_true(gone);
	no_q.nr_queues = 0;
	assert_int_equal(virtio_mmio_create(&t->gm, DEV_BASE, 0x200, irq,
					    new_fbe(&no_q, 8, &gone), &dev),
			 -EINVAL);
	assert_true(gone);
	no_q.nr_queues = 1;
	no_q.max_queue_size = 12;
	assert_int_equal(virtio_mmio_create(&t->gm, DEV_BASE, 0x200, irq,
					    new_fbe(&no_q, 8, &gone), &dev),
			 -EINVAL);
	assert_true(gone);
	assert_null(dev);
	/* Accepted: kept until the device goes. */
	assert_int_equal(virtio_mmio_create(&t->gm, DEV_BASE, 0x200, irq,
					    new_fbe(&fbe_ops, 8, &gone), &dev),
			 0);
	assert_false(gone);
	dev->ops->destroy(dev);
	assert_true(gone);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_readback),
		T(test_widths),
		T(test_bus_gap),
		T(test_linux_init),
		T(test_feature_abuse),
		T(test_queue_config),
		T(test_rings_outside_ram),
		T(test_notify_rules),
		T(test_interrupts),
		T(test_device_error_and_reset),
		T(test_reset_in_flight),
		T(test_fdt),
		T(test_acpi_dsdt),
		T(test_create_errors),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
