// SPDX-License-Identifier: MIT
/* virtio-input power button over virtio-mmio, driven the way Linux's
 * virtio_input does: config space questions, 8-byte event buffers, status
 * events.  A press reaches the guest whole and in order however few
 * buffers it has; hostile buffers and rings stop nothing but the device;
 * reset and overflow drop what they must and never leave a key down. */
#include "tests/support/virtio_fake.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "core/log.h"
#include "devices/virtio_input.h"
#include "devices/virtio_rng.h"

#define DEV_BASE	0x10003000ULL
#define QSIZE		VIRTIO_INPUT_QUEUE_SIZE
#define EVBUF(i)	(FG_DATA + 0x10ULL * (i))	/* eventq buffers */
#define STQ_DESC	(FG_BASE + 0x6000)		/* statusq rings */
#define STQ_AVAIL	(FG_BASE + 0x7000)
#define STQ_USED	(FG_BASE + 0x8000)
#define STBUF		(FG_DATA + 0x8000)
#define ALL_OK		(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
			 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK)

struct t {
	struct gmem gm;
	struct fake_irq irq;
	struct irq_chip chip;
	struct rivet_dev *dev;
	struct virtio_backend *be;
	struct fdrv d;		/* the eventq */
	uint16_t st_avail;	/* the statusq's avail idx */
	uint16_t st_next;	/* and its next free descriptor */
	uint16_t seen;		/* eventq used entries checked so far */
};

struct ev {
	uint16_t type, code;
	uint32_t value;
};

static const struct ev PRESS[VINPUT_PRESS_EVENTS] = {
	{ VINPUT_EV_KEY, VINPUT_KEY_POWER, 1 },
	{ VINPUT_EV_SYN, VINPUT_SYN_REPORT, 0 },
	{ VINPUT_EV_KEY, VINPUT_KEY_POWER, 0 },
	{ VINPUT_EV_SYN, VINPUT_SYN_REPORT, 0 },
};

static unsigned long noticed(void)
{
	return log_count() + log_suppressed();
}

/* Reset, negotiate VERSION_1, both queues ready, DRIVER_OK. */
static void drv_init(struct t *t)
{
	assert_true(fdrv_negotiate(t->dev, VIRTIO_BIT(VIRTIO_F_VERSION_1)) &
		    VIRTIO_STATUS_FEATURES_OK);
	fdrv_init(&t->d, &t->gm, QSIZE);
	fdrv_setup_queue(t->dev, VIRTIO_INPUT_EVENTQ, QSIZE);
	memset(fg_ptr(&t->gm, STQ_DESC, 0x3000), 0, 0x3000);
	assert_int_equal(vmmio_queue(t->dev, VIRTIO_INPUT_STATUSQ, QSIZE,
				     STQ_DESC, STQ_AVAIL, STQ_USED, true), 1);
	t->st_avail = t->st_next = 0;
	t->seen = 0;
	mw32(t->dev, VIRTIO_MMIO_STATUS, ALL_OK);
	assert_int_equal(mr32(t->dev, VIRTIO_MMIO_STATUS), ALL_OK);
}

static int setup_raw(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	assert_int_equal(gmem_alloc(&t->gm, FG_BASE, FG_SIZE), 0);
	t->chip = (struct irq_chip){ .set_level = fake_irq_set,
				     .ctx = &t->irq };
	assert_int_equal(vinput_create(&t->be), 0);
	assert_int_equal(virtio_mmio_create(&t->gm, DEV_BASE, 0x1000,
					    (struct irq_line){ &t->chip, 7 },
					    t->be, &t->dev), 0);
	*state = t;
	return 0;
}

static int setup(void **state)
{
	setup_raw(state);
	drv_init(*state);
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

/* ---- config space -------------------------------------------------------- */

static uint8_t cfg_r8(struct t *t, uint32_t off)
{
	uint8_t b = 0xee;

	t->dev->ops->mmio_read(t->dev, VIRTIO_MMIO_CONFIG + off, &b, 1);
	return b;
}

static void cfg_w8(struct t *t, uint32_t off, uint8_t v)
{
	t->dev->ops->mmio_write(t->dev, VIRTIO_MMIO_CONFIG + off, &v, 1);
}

/* What Linux's virtinput_cfg_select() does: the size of the answer. */
static uint8_t cfg_select(struct t *t, uint8_t select, uint8_t subsel)
{
	cfg_w8(t, VIRTIO_INPUT_CFG_SELECT, select);
	cfg_w8(t, VIRTIO_INPUT_CFG_SUBSEL, subsel);
	return cfg_r8(t, VIRTIO_INPUT_CFG_SIZE);
}

/* The union, byte by byte (virtio_cread_bytes). */
static void cfg_union(struct t *t, uint8_t u[VIRTIO_INPUT_CFG_U_SIZE])
{
	for (unsigned int i = 0; i < VIRTIO_INPUT_CFG_U_SIZE; i++)
		u[i] = cfg_r8(t, VIRTIO_INPUT_CFG_U + i);
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static void test_identity(void **state)
{
	struct t *t = *state;

	assert_int_equal(mr32(t->dev, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_INPUT);
	assert_int_equal(vmmio_device_features(t->dev),
			 VIRTIO_BIT(VIRTIO_F_VERSION_1));
	for (uint32_t q = 0; q < 2; q++) {
		mw32(t->dev, VIRTIO_MMIO_QUEUE_SEL, q);
		assert_int_equal(mr32(t->dev, VIRTIO_MMIO_QUEUE_NUM_MAX),
				 VIRTIO_INPUT_QUEUE_SIZE);
	}
	mw32(t->dev, VIRTIO_MMIO_QUEUE_SEL, 2);
	assert_int_equal(mr32(t->dev, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	/* Nothing selected yet: size 0, zeroed union. */
	assert_int_equal(cfg_r8(t, VIRTIO_INPUT_CFG_SELECT), 0);
	assert_int_equal(cfg_r8(t, VIRTIO_INPUT_CFG_SIZE), 0);
	/* The last byte of the config space is there, the next is not. */
	assert_int_equal(cfg_r8(t, VIRTIO_INPUT_CONFIG_SIZE - 1), 0);
	assert_int_equal(mr32(t->dev, VIRTIO_MMIO_CONFIG +
			      VIRTIO_INPUT_CONFIG_SIZE), 0);
}

static void test_config_answers(void **state)
{
	struct t *t = *state;
	uint8_t u[VIRTIO_INPUT_CFG_U_SIZE];
	static const uint8_t ids[8] = { 0x06, 0, 0x01, 0, 0x01, 0, 0x01, 0 };
	unsigned int bits = 0;

	assert_int_equal(cfg_select(t, VIRTIO_INPUT_CFG_ID_NAME, 0),
			 strlen(VINPUT_NAME));
	assert_int_equal(cfg_r8(t, VIRTIO_INPUT_CFG_SELECT),
			 VIRTIO_INPUT_CFG_ID_NAME);
	assert_int_equal(cfg_r8(t, VIRTIO_INPUT_CFG_SUBSEL), 0);
	cfg_union(t, u);
	assert_memory_equal(u, "rivet power button", 18);
	assert_true(all_zero(u + 18, sizeof(u) - 18));

	assert_int_equal(cfg_select(t, VIRTIO_INPUT_CFG_ID_SERIAL, 0), 0);
	cfg_union(t, u);
	assert_true(all_zero(u, sizeof(u)));	/* no name left behind */

	assert_int_equal(cfg_select(t, VIRTIO_INPUT_CFG_ID_DEVIDS, 0), 8);
	cfg_union(t, u);
	assert_memory_equal(u, ids, 8);
	assert_true(all_zero(u + 8, sizeof(u) - 8));
	/* 16-bit reads, as virtio_cread() of u.ids does. */
	assert_int_equal(mr32(t->dev, VIRTIO_MMIO_CONFIG + VIRTIO_INPUT_CFG_U),
			 0x00010006);

	assert_int_equal(cfg_select(t, VIRTIO_INPUT_CFG_PROP_BITS, 0), 0);

	/* EV_KEY: bytes up to the one holding KEY_POWER, that bit only. */
	assert_int_equal(cfg_select(t, VIRTIO_INPUT_CFG_EV_BITS,
				    VINPUT_EV_KEY), 15);
	cfg_union(t, u);
	for (unsigned int i = 0; i < 8 * sizeof(u); i++)
		if (u[i / 8] & (1u << (i % 8))) {
			assert_int_equal(i, VINPUT_KEY_POWER);
			bits++;
		}
	assert_int_equal(bits, 1);

	/* Every other event type Linux asks about: none. */
	for (unsigned int ev = 0; ev < 0x20; ev++) {
		if (ev == VINPUT_EV_KEY)
			continue;
		assert_int_equal(cfg_select(t, VIRTIO_INPUT_CFG_EV_BITS,
					    (uint8_t)ev), 0);
		cfg_union(t, u);
		assert_true(all_zero(u, sizeof(u)));
	}
	assert_int_equal(cfg_select(t, VIRTIO_INPUT_CFG_ABS_INFO, 0), 0);
	/* Right select, wrong subsel; unknown selects. */
	assert_int_equal(cfg_select(t, VIRTIO_INPUT_CFG_ID_NAME, 1), 0);
	assert_int_equal(cfg_select(t, VIRTIO_INPUT_CFG_ID_DEVIDS, 3), 0);
	for (unsigned int s = 0; s < 256; s++) {
		uint8_t n = cfg_select(t, (uint8_t)s, 0);

		if (s == VIRTIO_INPUT_CFG_ID_NAME)
			assert_int_equal(n, strlen(VINPUT_NAME));
		else if (s == VIRTIO_INPUT_CFG_ID_DEVIDS)
			assert_int_equal(n, 8);
		else
			assert_int_equal(n, 0);
	}
	assert_int_equal(cfg_select(t, 0xff, 0xff), 0);
	cfg_union(t, u);
	assert_true(all_zero(u, sizeof(u)));
}

/* Only select and subsel are writable; the rest is logged and ignored. */
static void test_config_writes(void **state)
{
	struct t *t = *state;
	uint8_t b[4];
	unsigned long n;

	/* One 16-bit write sets both. */
	mmio_put(b, 2, VIRTIO_INPUT_CFG_ID_NAME);
	t->dev->ops->mmio_write(t->dev, VIRTIO_MMIO_CONFIG, b, 2);
	assert_int_equal(cfg_r8(t, VIRTIO_INPUT_CFG_SIZE), 18);

	n = noticed();
	cfg_w8(t, VIRTIO_INPUT_CFG_SIZE, 0x7f);
	assert_int_equal(cfg_r8(t, VIRTIO_INPUT_CFG_SIZE), 18);
	cfg_w8(t, VIRTIO_INPUT_CFG_U, 'X');
	assert_int_equal(cfg_r8(t, VIRTIO_INPUT_CFG_U), 'r');
	cfg_w8(t, 5, 0xff);			/* reserved */
	assert_int_equal(cfg_r8(t, 5), 0);
	assert_true(noticed() >= n + 3);

	/* A wide write over select..reserved: select and subsel count. */
	mmio_put(b, 4, 0xffff0000u | VINPUT_EV_KEY << 8 |
		 VIRTIO_INPUT_CFG_EV_BITS);
	n = noticed();
	t->dev->ops->mmio_write(t->dev, VIRTIO_MMIO_CONFIG, b, 4);
	assert_true(noticed() > n);
	assert_int_equal(cfg_r8(t, VIRTIO_INPUT_CFG_SELECT),
			 VIRTIO_INPUT_CFG_EV_BITS);
	assert_int_equal(cfg_r8(t, VIRTIO_INPUT_CFG_SUBSEL), VINPUT_EV_KEY);
	assert_int_equal(cfg_r8(t, VIRTIO_INPUT_CFG_SIZE), 15);

	/* Past the end: refused by the transport, nothing changes. */
	n = noticed();
	cfg_w8(t, VIRTIO_INPUT_CONFIG_SIZE, 1);
	assert_true(noticed() > n);
	assert_int_equal(cfg_r8(t, VIRTIO_INPUT_CFG_SIZE), 15);

	/* A reset forgets the selection. */
	mw32(t->dev, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(cfg_r8(t, VIRTIO_INPUT_CFG_SELECT), 0);
	assert_int_equal(cfg_r8(t, VIRTIO_INPUT_CFG_SIZE), 0);
	assert_int_equal(cfg_r8(t, VIRTIO_INPUT_CFG_U + 14), 0);
}

/* ---- the eventq ---------------------------------------------------------- */

/* Post @n fresh 8-byte buffers (filled with 0xa5) without notifying. */
static void post(struct t *t, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		uint16_t desc = t->d.next;
		const struct fseg s[] = { { EVBUF(desc), 8, true } };

		memset(fg_ptr(&t->gm, EVBUF(desc), 16), 0xa5, 16);
		fdrv_publish(&t->d, fdrv_chain(&t->d, s, 1));
	}
}

static void notify(struct t *t, uint32_t q)
{
	mw32(t->dev, VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

static uint32_t ack_irq(struct t *t)
{
	uint32_t isr = mr32(t->dev, VIRTIO_MMIO_INTERRUPT_STATUS);

	mw32(t->dev, VIRTIO_MMIO_INTERRUPT_ACK, isr);
	return isr;
}

static struct ev ev_at(struct t *t, uint64_t gpa)
{
	return (struct ev){ .type = fg_r16(&t->gm, gpa),
			    .code = fg_r16(&t->gm, gpa + 2),
			    .value = fg_r32(&t->gm, gpa + 4) };
}

/* The next used eventq entry: an 8-byte event in the buffer it names,
 * which must be @want; nothing written past it. */
static void expect_event(struct t *t, const struct ev *want)
{
	uint16_t i = t->seen++;
	uint32_t id = fdrv_used_id(&t->d, i);
	struct ev got;

	assert_true((uint16_t)(fdrv_used_idx(&t->d) - i) >= 1);
	assert_true(id < QSIZE);
	assert_int_equal(fdrv_used_len(&t->d, i), 8);
	got = ev_at(t, EVBUF(id));
	assert_int_equal(got.type, want->type);
	assert_int_equal(got.code, want->code);
	assert_int_equal(got.value, want->value);
	assert_int_equal(*fg_ptr(&t->gm, EVBUF(id) + 8, 1), 0xa5);
}

static void expect_press(struct t *t)
{
	for (unsigned int i = 0; i < VINPUT_PRESS_EVENTS; i++)
		expect_event(t, &PRESS[i]);
}

static void expect_nothing_new(struct t *t)
{
	assert_int_equal(fdrv_used_idx(&t->d), t->seen);
}

static void test_press_before_driver_ok(void **state)
{
	struct t *t = *state;
	struct virtio_backend *lone;

	/* Not on a transport at all; not a power button. */
	assert_int_equal(vinput_create(&lone), 0);
	assert_int_equal(vinput_press_power(lone), -ENODEV);
	virtio_backend_destroy(lone);
	assert_int_equal(vrng_create(&lone), 0);
	assert_int_equal(vinput_press_power(lone), -EINVAL);
	virtio_backend_destroy(lone);
	assert_int_equal(vinput_press_power(NULL), -EINVAL);

	/* Fresh device, then every step short of DRIVER_OK. */
	assert_int_equal(vinput_press_power(t->be), -ENODEV);
	assert_true(fdrv_negotiate(t->dev, VIRTIO_BIT(VIRTIO_F_VERSION_1)) &
		    VIRTIO_STATUS_FEATURES_OK);
	fdrv_init(&t->d, &t->gm, QSIZE);
	fdrv_setup_queue(t->dev, VIRTIO_INPUT_EVENTQ, QSIZE);
	post(t, 8);
	assert_int_equal(vinput_press_power(t->be), -ENODEV);
	assert_int_equal(t->irq.raises, 0);
	/* Nothing was queued: DRIVER_OK and a notify deliver nothing. */
	mw32(t->dev, VIRTIO_MMIO_STATUS, ALL_OK);
	notify(t, VIRTIO_INPUT_EVENTQ);
	expect_nothing_new(t);
	assert_int_equal(t->irq.raises, 0);
	/* Now it works, into the buffers posted before DRIVER_OK. */
	assert_int_equal(vinput_press_power(t->be), 0);
	expect_press(t);
	assert_int_equal(ack_irq(t), VIRTIO_MMIO_INT_VRING);
}

static void test_press_delivers(void **state)
{
	struct t *t = *state;

	post(t, 6);
	notify(t, VIRTIO_INPUT_EVENTQ);
	expect_nothing_new(t);		/* buffers wait for events */
	assert_int_equal(t->irq.raises, 0);
	assert_int_equal(vinput_press_power(t->be), 0);
	assert_int_equal(fdrv_used_idx(&t->d), 4);
	for (uint16_t i = 0; i < 4; i++)
		assert_int_equal(fdrv_used_id(&t->d, i), i);	/* in order */
	expect_press(t);
	assert_int_equal(t->irq.raises, 1);
	assert_int_equal(ack_irq(t), VIRTIO_MMIO_INT_VRING);
	/* The two spare buffers take the next press's start. */
	assert_int_equal(vinput_press_power(t->be), 0);
	expect_event(t, &PRESS[0]);
	expect_event(t, &PRESS[1]);
	expect_nothing_new(t);
	post(t, 2);
	notify(t, VIRTIO_INPUT_EVENTQ);
	expect_event(t, &PRESS[2]);
	expect_event(t, &PRESS[3]);
	expect_nothing_new(t);
}

/* One buffer at a time: the press arrives in order as they come. */
static void test_press_one_buffer(void **state)
{
	struct t *t = *state;

	post(t, 1);
	assert_int_equal(vinput_press_power(t->be), 0);
	expect_event(t, &PRESS[0]);
	expect_nothing_new(t);
	assert_int_equal(ack_irq(t), VIRTIO_MMIO_INT_VRING);
	for (unsigned int i = 1; i < VINPUT_PRESS_EVENTS; i++) {
		notify(t, VIRTIO_INPUT_EVENTQ);	/* no buffer: nothing */
		expect_nothing_new(t);
		post(t, 1);
		notify(t, VIRTIO_INPUT_EVENTQ);
		expect_event(t, &PRESS[i]);
		expect_nothing_new(t);
		assert_int_equal(ack_irq(t), VIRTIO_MMIO_INT_VRING);
	}
	/* No buffers at all: all four wait. */
	assert_int_equal(vinput_press_power(t->be), 0);
	expect_nothing_new(t);
	post(t, 8);
	notify(t, VIRTIO_INPUT_EVENTQ);
	expect_press(t);
	expect_nothing_new(t);
}

/* Buffers the driver should not have posted: too short, device-readable,
 * readable-then-writable.  Each is returned unused (length 0) and the
 * event goes into the next good one; a chain of small writable pieces is
 * fine. */
static void test_bad_buffers(void **state)
{
	struct t *t = *state;
	const struct fseg shrt[] = { { EVBUF(40), 7, true } };
	const struct fseg ro[] = { { EVBUF(41), 8, false } };
	const struct fseg mixed[] = { { EVBUF(42), 8, false },
				      { EVBUF(43), 8, true } };
	const struct fseg split[] = { { EVBUF(44), 3, true },
				      { EVBUF(45), 1, true },
				      { EVBUF(46), 4, true },
				      { EVBUF(47), 8, true } };
	unsigned long n = noticed();
	uint16_t h[4];

	memset(fg_ptr(&t->gm, EVBUF(40), 0x80), 0x5a, 0x80);
	h[0] = fdrv_chain(&t->d, shrt, 1);
	h[1] = fdrv_chain(&t->d, ro, 1);
	h[2] = fdrv_chain(&t->d, mixed, 2);
	h[3] = fdrv_chain(&t->d, split, 4);
	for (unsigned int i = 0; i < 4; i++)
		fdrv_publish(&t->d, h[i]);
	assert_int_equal(vinput_press_power(t->be), 0);
	assert_int_equal(fdrv_used_idx(&t->d), 4);
	for (uint16_t i = 0; i < 3; i++) {
		assert_int_equal(fdrv_used_id(&t->d, i), h[i]);
		assert_int_equal(fdrv_used_len(&t->d, i), 0);
	}
	assert_true(noticed() >= n + 3);
	/* Nothing written into the refused ones. */
	for (unsigned int i = 0; i < 0x40; i++)
		assert_int_equal(*fg_ptr(&t->gm, EVBUF(40) + i, 1), 0x5a);
	/* The first event, scattered over 3 + 1 + 4 bytes. */
	assert_int_equal(fdrv_used_id(&t->d, 3), h[3]);
	assert_int_equal(fdrv_used_len(&t->d, 3), 8);
	assert_int_equal(fg_r16(&t->gm, EVBUF(44)), VINPUT_EV_KEY);
	assert_int_equal(*fg_ptr(&t->gm, EVBUF(44) + 2, 1), VINPUT_KEY_POWER);
	assert_int_equal(*fg_ptr(&t->gm, EVBUF(45), 1), 0);
	assert_int_equal(fg_r32(&t->gm, EVBUF(46)), 1);
	assert_int_equal(*fg_ptr(&t->gm, EVBUF(47), 1), 0x5a);
	assert_false(mr32(t->dev, VIRTIO_MMIO_STATUS) &
		     VIRTIO_STATUS_NEEDS_RESET);
	/* The rest of the press follows into good buffers. */
	t->seen = 4;
	post(t, 3);
	notify(t, VIRTIO_INPUT_EVENTQ);
	for (unsigned int i = 1; i < VINPUT_PRESS_EVENTS; i++)
		expect_event(t, &PRESS[i]);
	expect_nothing_new(t);
}

/* A ring full of useless buffers: each notify returns them all, in a
 * bounded loop, and the events still wait. */
static void test_ring_of_short_buffers(void **state)
{
	struct t *t = *state;

	assert_int_equal(vinput_press_power(t->be), 0);
	for (unsigned int i = 0; i < QSIZE; i++) {
		const struct fseg s[] = { { EVBUF(i), 4, true } };

		fdrv_publish(&t->d, fdrv_chain(&t->d, s, 1));
	}
	notify(t, VIRTIO_INPUT_EVENTQ);
	assert_int_equal(fdrv_used_idx(&t->d), QSIZE);
	for (uint16_t i = 0; i < QSIZE; i++)
		assert_int_equal(fdrv_used_len(&t->d, i), 0);
	t->seen = QSIZE;
	post(t, 4);
	notify(t, VIRTIO_INPUT_EVENTQ);
	expect_press(t);
}

/* Broken rings: the device stops (NEEDS_RESET, config interrupt), a
 * press says so, and a reset brings it back. */
static void expect_broken(struct t *t)
{
	assert_true(mr32(t->dev, VIRTIO_MMIO_STATUS) &
		    VIRTIO_STATUS_NEEDS_RESET);
	assert_true(ack_irq(t) & VIRTIO_MMIO_INT_CONFIG);
	assert_int_equal(vinput_press_power(t->be), -ENODEV);
	drv_init(t);
	post(t, 4);
	assert_int_equal(vinput_press_power(t->be), 0);
	expect_press(t);
}

static void test_buffer_outside_ram(void **state)
{
	struct t *t = *state;
	const struct fseg bad[] = { { FG_BASE + FG_SIZE - 4, 8, true } };

	fdrv_publish(&t->d, fdrv_chain(&t->d, bad, 1));
	notify(t, VIRTIO_INPUT_EVENTQ);		/* no events: not looked at */
	assert_false(mr32(t->dev, VIRTIO_MMIO_STATUS) &
		     VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(vinput_press_power(t->be), 0);
	expect_nothing_new(t);
	expect_broken(t);
}

static void test_chain_loop(void **state)
{
	struct t *t = *state;

	fdrv_desc(&t->d, 0, EVBUF(0), 4, DESC_F_WRITE | DESC_F_NEXT, 1);
	fdrv_desc(&t->d, 1, EVBUF(1), 4, DESC_F_WRITE | DESC_F_NEXT, 0);
	fdrv_publish(&t->d, 0);
	assert_int_equal(vinput_press_power(t->be), 0);
	expect_nothing_new(t);
	expect_broken(t);
}

static void test_indirect_not_negotiated(void **state)
{
	struct t *t = *state;
	const struct fseg s[] = { { EVBUF(0), 8, true } };

	fdrv_publish(&t->d, fdrv_chain_indirect(&t->d, FG_TABLE, s, 1));
	assert_int_equal(vinput_press_power(t->be), 0);
	expect_nothing_new(t);
	expect_broken(t);
}

static void test_avail_idx_garbage(void **state)
{
	struct t *t = *state;

	assert_int_equal(vinput_press_power(t->be), 0);
	fdrv_set_avail_idx(&t->d, QSIZE + 1);
	notify(t, VIRTIO_INPUT_EVENTQ);
	expect_nothing_new(t);
	expect_broken(t);
}

static void test_bad_head_index(void **state)
{
	struct t *t = *state;

	fg_w16(&t->gm, FG_AVAIL + 4, 0xffff);
	fdrv_set_avail_idx(&t->d, 1);
	assert_int_equal(vinput_press_power(t->be), 0);
	expect_broken(t);
}

/* ---- the statusq --------------------------------------------------------- */

static uint16_t st_post(struct t *t, const struct fseg *s, unsigned int n)
{
	uint16_t head = t->st_next;

	for (unsigned int i = 0; i < n; i++) {
		uint16_t cur = t->st_next;
		uint16_t nxt = (uint16_t)((cur + 1) % QSIZE);

		fg_desc_at(&t->gm, STQ_DESC + 16ULL * cur, s[i].addr,
			   s[i].len, (s[i].writable ? DESC_F_WRITE : 0) |
			   (i + 1 < n ? DESC_F_NEXT : 0), nxt);
		t->st_next = nxt;
	}
	fg_w16(&t->gm, STQ_AVAIL + 4 + 2ULL * (t->st_avail % QSIZE), head);
	t->st_avail++;
	fg_w16(&t->gm, STQ_AVAIL + 2, t->st_avail);
	return head;
}

static uint16_t st_used_idx(struct t *t)
{
	return fg_r16(&t->gm, STQ_USED + 2);
}

static void test_statusq(void **state)
{
	struct t *t = *state;
	const struct fseg led[] = { { STBUF, 8, false } };
	const struct fseg odd[] = { { STBUF + 0x100, 3, false },
				    { STBUF + 0x200, 64, true } };
	const struct fseg tiny[] = { { STBUF + 0x300, 1, true } };
	uint16_t h[3];

	memset(fg_ptr(&t->gm, STBUF, 0x400), 0x3c, 0x400);
	fg_w16(&t->gm, STBUF, 0x11);		/* EV_LED */
	h[0] = st_post(t, led, 1);
	h[1] = st_post(t, odd, 2);
	h[2] = st_post(t, tiny, 1);
	notify(t, VIRTIO_INPUT_STATUSQ);
	assert_int_equal(st_used_idx(t), 3);
	for (unsigned int i = 0; i < 3; i++) {
		assert_int_equal(fg_r32(&t->gm, STQ_USED + 4 + 8 * i), h[i]);
		assert_int_equal(fg_r32(&t->gm, STQ_USED + 8 + 8 * i), 0);
	}
	/* Read, never written. */
	assert_int_equal(fg_r16(&t->gm, STBUF), 0x11);
	for (unsigned int i = 0x100; i < 0x400; i++)
		assert_int_equal(*fg_ptr(&t->gm, STBUF + i, 1), 0x3c);
	assert_int_equal(ack_irq(t), VIRTIO_MMIO_INT_VRING);
	/* The eventq is unaffected. */
	expect_nothing_new(t);
	post(t, 4);
	assert_int_equal(vinput_press_power(t->be), 0);
	expect_press(t);
}

static void test_statusq_broken(void **state)
{
	struct t *t = *state;
	const struct fseg bad[] = { { 0x1000, 8, false } };	/* not RAM */

	st_post(t, bad, 1);
	notify(t, VIRTIO_INPUT_STATUSQ);
	assert_int_equal(st_used_idx(t), 0);
	expect_broken(t);
}

/* ---- reset and overflow -------------------------------------------------- */

static void test_reset_drops_pending(void **state)
{
	struct t *t = *state;

	post(t, 1);
	assert_int_equal(vinput_press_power(t->be), 0);	/* 1 of 4 out */
	assert_int_equal(vinput_press_power(t->be), 0);
	expect_event(t, &PRESS[0]);
	drv_init(t);			/* reset, then the driver again */
	post(t, 16);
	notify(t, VIRTIO_INPUT_EVENTQ);
	expect_nothing_new(t);
	/* A reset with nothing after it, then a press: -ENODEV. */
	mw32(t->dev, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(vinput_press_power(t->be), -ENODEV);
	drv_init(t);
	post(t, 4);
	assert_int_equal(vinput_press_power(t->be), 0);
	expect_press(t);
	expect_nothing_new(t);
}

/* Take every event that is delivered into an unbounded supply of
 * buffers; how many. */
static unsigned int drain(struct t *t, struct ev *out, unsigned int max)
{
	unsigned int n = 0;

	for (;;) {
		uint16_t before = fdrv_used_idx(&t->d);

		while (t->seen != before) {
			uint16_t i = t->seen++;

			assert_true(n < max);
			assert_int_equal(fdrv_used_len(&t->d, i), 8);
			out[n++] = ev_at(t, EVBUF(fdrv_used_id(&t->d, i)));
		}
		post(t, QSIZE - (uint16_t)(t->d.avail_idx - t->seen));
		notify(t, VIRTIO_INPUT_EVENTQ);
		if (fdrv_used_idx(&t->d) == before)
			return n;
	}
}

/* @ev[0..n) is whole presses, after @skip events of a started one. */
static void expect_stream(const struct ev *ev, unsigned int n,
			  unsigned int skip)
{
	for (unsigned int i = 0; i < n; i++) {
		const struct ev *w = &PRESS[(i + skip) % VINPUT_PRESS_EVENTS];

		assert_int_equal(ev[i].type, w->type);
		assert_int_equal(ev[i].code, w->code);
		assert_int_equal(ev[i].value, w->value);
	}
	assert_int_equal((n + skip) % VINPUT_PRESS_EVENTS, 0);
}

/* @started events of a press out (0: none, and no buffers at all), then
 * @more presses with no buffers: the ring keeps what is left of the
 * started press and the newest whole ones, up to VINPUT_PENDING_MAX. */
static void overflow_case(struct t *t, unsigned int started,
			  unsigned int more, unsigned int want)
{
	struct ev ev[2 * VINPUT_PENDING_MAX];
	unsigned long n;
	unsigned int got;

	drv_init(t);
	post(t, started);
	assert_int_equal(vinput_press_power(t->be), 0);
	for (unsigned int i = 0; i < started; i++)
		expect_event(t, &PRESS[i]);
	expect_nothing_new(t);
	n = noticed();
	for (unsigned int i = 0; i < more; i++)
		assert_int_equal(vinput_press_power(t->be), 0);
	if (4 * (more + 1) - started > VINPUT_PENDING_MAX)
		assert_true(noticed() > n);
	expect_nothing_new(t);
	got = drain(t, ev, sizeof(ev) / sizeof(ev[0]));
	assert_int_equal(got, want);
	expect_stream(ev, got, started);
}

static void test_overflow(void **state)
{
	struct t *t = *state;

	overflow_case(t, 0, 3, 16);		/* fits */
	overflow_case(t, 0, 15, VINPUT_PENDING_MAX);	/* just fits */
	overflow_case(t, 0, 19, VINPUT_PENDING_MAX);
	/* A press half out (key down delivered) survives an overflow:
	 * the oldest press not started goes instead. */
	for (unsigned int s = 1; s < VINPUT_PRESS_EVENTS; s++)
		overflow_case(t, s, 40, VINPUT_PENDING_MAX - s);
	overflow_case(t, 3, 14, 4 * 15 - 3);	/* fits */
}

/* Presses from another thread (the VM's main thread) while the driver
 * (a vCPU) takes events and posts buffers: every event arrives once, as
 * whole presses, with no lost lock or torn ring. */
struct presser {
	struct virtio_backend *be;
	unsigned int n;
};

static void *press_thread(void *arg)
{
	struct presser *p = arg;

	for (unsigned int i = 0; i < p->n; i++)
		if (vinput_press_power(p->be))
			return (void *)1;
	return NULL;
}

static void test_concurrent_presses(void **state)
{
	struct t *t = *state;
	static struct ev ev[4 * 2000];
	struct presser p = { t->be, 2000 };
	unsigned int got = 0;
	pthread_t th;
	void *ret;

	post(t, QSIZE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	assert_int_equal(pthread_create(&th, NULL, press_thread, &p), 0);
	for (unsigned int round = 0; round < 200; round++) {
		uint16_t used, done;

		/* Acquire: the device's release store of used->idx. */
		used = le16toh(__atomic_load_n((uint16_t *)fg_ptr(&t->gm,
						FG_USED + 2, 2),
					       __ATOMIC_ACQUIRE));
		done = (uint16_t)(used - t->seen);
		while (t->seen != used) {
			uint16_t i = t->seen++;

			assert_int_equal(fdrv_used_len(&t->d, i), 8);
			ev[got++] = ev_at(t, EVBUF(fdrv_used_id(&t->d, i)));
		}
		/* Repost what was used, the ring entries before the index. */
		for (unsigned int i = 0; i < done; i++) {
			uint16_t desc = t->d.next;
			const struct fseg s[] = { { EVBUF(desc), 8, true } };
			uint16_t head = fdrv_chain(&t->d, s, 1);

			memset(fg_ptr(&t->gm, EVBUF(desc), 16), 0xa5, 16);
			fg_w16(&t->gm, FG_AVAIL + 4 +
			       2ULL * (t->d.avail_idx % QSIZE), head);
			t->d.avail_idx++;
			__atomic_thread_fence(__ATOMIC_RELEASE);
			fdrv_set_avail_idx(&t->d, t->d.avail_idx);
		}
		notify(t, VIRTIO_INPUT_EVENTQ);
		sched_yield();
	}
	assert_int_equal(pthread_join(th, &ret), 0);
	assert_null(ret);
	got += drain(t, ev + got, sizeof(ev) / sizeof(ev[0]) - got);
	assert_true(got >= VINPUT_PENDING_MAX);
	assert_true(got <= 4 * p.n);
	expect_stream(ev, got, 0);
	assert_false(mr32(t->dev, VIRTIO_MMIO_STATUS) &
		     VIRTIO_STATUS_NEEDS_RESET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_identity),
		T(test_config_answers),
		T(test_config_writes),
		cmocka_unit_test_setup_teardown(test_press_before_driver_ok,
						setup_raw, teardown),
		T(test_press_delivers),
		T(test_press_one_buffer),
		T(test_bad_buffers),
		T(test_ring_of_short_buffers),
		T(test_buffer_outside_ram),
		T(test_chain_loop),
		T(test_indirect_not_negotiated),
		T(test_avail_idx_garbage),
		T(test_bad_head_index),
		T(test_statusq),
		T(test_statusq_broken),
		T(test_reset_drops_pending),
		T(test_overflow),
		T(test_concurrent_presses),
#undef T
	};

	log_set_level(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
