// SPDX-License-Identifier: MIT
/* Snapshots of virtio devices over virtio-mmio: a device driven into a
 * non-trivial state (negotiated, queues set up, chains consumed, a used
 * buffer pending its interrupt) is saved, a fresh device of the same
 * configuration loads the record and saves it again byte for byte, and
 * the driver carries on with it (used indices continue, nothing served
 * twice).  virtio-blk's drain with requests in flight on its I/O threads.
 * And the hostile records: every truncation, trailing bytes and values out
 * of range (queue size 3, rings outside RAM, unknown status bits, features
 * never offered, ...) give -EBADMSG and leave the device at power-on. */
#include "tests/support/virtio_fake.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/log.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_input.h"
#include "devices/virtio_rng.h"
#include "snapshot/snap.h"
#include "tests/support/files.h"
#include "tests/support/snap_dev.h"

#define DEV_BASE	0x10004000ULL
#define QSIZE		16
#define ALL_OK		(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
			 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK)
#define DISK_SIZE	(256 * 1024)

/* Offsets in a one-queue virtio-mmio record (virtio_core_save(),
 * virtq_save(), then InterruptStatus and the backend's section). */
#define O_FEATURES	0
#define O_NQ		8
#define O_STATUS	12
#define O_DRV_FEAT	24
#define O_Q0		37
#define O_Q_SIZE	(O_Q0 + 2)
#define O_Q_DESC	(O_Q0 + 4)
#define O_Q_USED	(O_Q0 + 20)
#define O_Q_READY	(O_Q0 + 28)
#define O_Q_INDIRECT	(O_Q0 + 29)
#define O_Q_LAST_AVAIL	(O_Q0 + 32)
#define O_ISR		(O_Q0 + 36)
#define O_BACKEND	(O_ISR + 4)

enum kind { RNG, BLK, BLK_THREADS, BLK_URING, INPUT };

struct dev {
	struct fake_irq irq;
	struct irq_chip chip;
	struct rivet_dev *dev;
	struct virtio_backend *be;
};

struct t {
	struct gmem gm;
	struct fdrv d;
	char path[PATH_MAX];
	struct dev a, b;
};

static uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off * 13 + 5);
}

static void mk(struct t *t, struct dev *d, enum kind k)
{
	const struct vblk_opts o = { .queues = 1, .io = k == BLK_URING ?
				     VBLK_IO_URING : VBLK_IO_THREADS };

	memset(d, 0, sizeof(*d));
	switch (k) {
	case RNG:
		assert_int_equal(vrng_create(&d->be), 0);
		break;
	case BLK:
		assert_int_equal(vblk_create(t->path, false, &d->be), 0);
		break;
	case BLK_THREADS:
	case BLK_URING:
		assert_int_equal(vblk_open(t->path, &o, &d->be), 0);
		assert_int_equal(virtio_backend_start(d->be, NULL, NULL), 0);
		break;
	case INPUT:
		assert_int_equal(vinput_create(&d->be), 0);
		break;
	}
	d->chip = (struct irq_chip){ .set_level = fake_irq_set,
				     .ctx = &d->irq };
	assert_int_equal(virtio_mmio_create(&t->gm, DEV_BASE, 0x1000,
					    (struct irq_line){ &d->chip, 3 },
					    d->be, &d->dev), 0);
}

static void rm(struct dev *d)
{
	if (d->dev)
		d->dev->ops->destroy(d->dev);
	d->dev = NULL;
}

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	assert_int_equal(gmem_alloc(&t->gm, FG_BASE, FG_SIZE), 0);
	ts_temp_file(t->path, "vsnap", DISK_SIZE, pattern);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;

	rm(&t->a);
	rm(&t->b);
	unlink(t->path);
	gmem_free(&t->gm);
	free(t);
	return 0;
}

static void save(struct dev *d, struct snap_w *w)
{
	ts_snap_save(d->dev, w);
}

static int load(struct dev *d, const uint8_t *p, size_t n)
{
	return ts_snap_load(d->dev, p, n);
}

/* @d loads @w without touching its interrupt line and saves it again
 * byte for byte. */
static void load_same(struct dev *d, const struct snap_w *w)
{
	struct snap_w w2;
	unsigned int calls = d->irq.calls;

	assert_int_equal(load(d, w->buf, w->len), 0);
	assert_int_equal(d->irq.calls, calls);
	save(d, &w2);
	assert_int_equal(w2.len, w->len);
	assert_memory_equal(w2.buf, w->buf, w->len);
	snap_w_free(&w2);
}

/* A device-writable buffer of 16 bytes at FG_DATA + 0x100 * @i. */
static uint16_t wbuf(struct t *t, unsigned int i)
{
	const struct fseg s = { FG_DATA + 0x100ULL * i, 16, true };

	return fdrv_chain(&t->d, &s, 1);
}

/* rng, three chains served, a fourth pending its interrupt, selectors
 * away from 0: saved in @w. */
static void rng_state(struct t *t, struct snap_w *w)
{
	mk(t, &t->a, RNG);
	fdrv_mmio_init(t->a.dev, &t->d, &t->gm, QSIZE);
	for (unsigned int i = 0; i < 3; i++)
		assert_int_equal(fdrv_kick(t->a.dev, &t->d, wbuf(t, i)), 1);
	fdrv_publish(&t->d, wbuf(t, 3));
	mw32(t->a.dev, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(fdrv_used_idx(&t->d), 4);
	mw32(t->a.dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	mw32(t->a.dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	save(&t->a, w);
}

static void test_rng_roundtrip(void **state)
{
	struct t *t = *state;
	struct snap_w w;
	uint16_t head;

	rng_state(t, &w);
	assert_int_equal(w.len, O_BACKEND + 12);
	mk(t, &t->b, RNG);
	load_same(&t->b, &w);
	/* What the driver sees is what it left. */
	assert_int_equal(mr32(t->b.dev, VIRTIO_MMIO_STATUS), ALL_OK);
	assert_int_equal(mr32(t->b.dev, VIRTIO_MMIO_INTERRUPT_STATUS),
			 VIRTIO_MMIO_INT_VRING);
	assert_int_equal(mr32(t->b.dev, VIRTIO_MMIO_QUEUE_READY), 1);
	assert_int_equal(mr32(t->b.dev, VIRTIO_MMIO_DEVICE_FEATURES), 1);
	mw32(t->b.dev, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	/* The ring carries on: the next chain is used entry 4. */
	head = wbuf(t, 4);
	assert_int_equal(fdrv_kick(t->b.dev, &t->d, head),
			 VIRTIO_MMIO_INT_VRING);
	assert_int_equal(fdrv_used_idx(&t->d), 5);
	assert_int_equal(fdrv_used_id(&t->d, 4), head);
	assert_int_equal(fdrv_used_len(&t->d, 4), 16);
	/* Notified again with nothing new: nothing served twice. */
	mw32(t->b.dev, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(fdrv_used_idx(&t->d), 5);
	snap_w_free(&w);
}

/* A device never started by a driver saves and loads too. */
static void test_fresh_roundtrip(void **state)
{
	struct t *t = *state;
	struct snap_w w;

	mk(t, &t->a, INPUT);
	save(&t->a, &w);
	mk(t, &t->b, INPUT);
	load_same(&t->b, &w);
	assert_int_equal(mr32(t->b.dev, VIRTIO_MMIO_STATUS), 0);
	snap_w_free(&w);
}

static void put_le(uint8_t *p, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* @w with @n bytes at @off replaced by @v: refused, and the device is at
 * power-on (and still works: a driver can start it). */
static void expect_refused(struct t *t, const struct snap_w *w, size_t off,
			   uint64_t v, unsigned int n)
{
	uint8_t *p = malloc(w->len);

	assert_non_null(p);
	memcpy(p, w->buf, w->len);
	put_le(p + off, v, n);
	mk(t, &t->b, RNG);
	assert_int_equal(load(&t->b, p, w->len), -EBADMSG);
	assert_int_equal(mr32(t->b.dev, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(mr32(t->b.dev, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_int_equal(mr32(t->b.dev, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(t->b.irq.calls, 0);
	rm(&t->b);
	free(p);
}

static void test_hostile_values(void **state)
{
	struct t *t = *state;
	const uint64_t v1 = VIRTIO_BIT(VIRTIO_F_VERSION_1);
	struct snap_w w;
	uint8_t *p;

	rng_state(t, &w);
	expect_refused(t, &w, O_Q_SIZE, 3, 2);
	expect_refused(t, &w, O_Q_SIZE, 0, 2);
	expect_refused(t, &w, O_Q_SIZE, 2 * VIRTIO_RNG_QUEUE_SIZE, 2);
	expect_refused(t, &w, O_Q0, QSIZE, 2);	/* another max size */
	expect_refused(t, &w, O_Q_DESC, FG_BASE + FG_SIZE, 8);
	expect_refused(t, &w, O_Q_DESC, FG_BASE + FG_SIZE - 16, 8);
	expect_refused(t, &w, O_Q_DESC, FG_BASE + 8, 8);	/* misaligned */
	expect_refused(t, &w, O_Q_USED, 0, 8);
	expect_refused(t, &w, O_Q_USED, ~0ULL - 3, 8);
	expect_refused(t, &w, O_STATUS, ALL_OK | 0x20, 4);
	expect_refused(t, &w, O_STATUS, ALL_OK | 0x100, 4);
	expect_refused(t, &w, O_STATUS, ALL_OK & ~VIRTIO_STATUS_FEATURES_OK, 4);
	expect_refused(t, &w, O_DRV_FEAT, v1 | 1, 8);	/* never offered */
	expect_refused(t, &w, O_DRV_FEAT,
		       VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC), 8); /* legacy */
	expect_refused(t, &w, O_DRV_FEAT + 8, 1, 1);	/* bits above 63 */
	expect_refused(t, &w, O_FEATURES, v1, 8);	/* offered differ */
	expect_refused(t, &w, O_NQ, 2, 4);
	expect_refused(t, &w, O_Q_READY, 2, 1);		/* not a bool */
	expect_refused(t, &w, O_Q_INDIRECT, 0, 1);	/* as negotiated */
	expect_refused(t, &w, O_Q_LAST_AVAIL, 4 + QSIZE + 1, 2);
	expect_refused(t, &w, O_ISR, 4, 4);
	expect_refused(t, &w, O_BACKEND, SNAP_TAG('V', 'B', 'E', 'X'), 4);
	expect_refused(t, &w, O_BACKEND + 4, VIRTIO_ID_BLOCK, 4);
	expect_refused(t, &w, O_BACKEND + 8, 1, 4);	/* past the end */
	/* A queue or an interrupt before FEATURES_OK / DRIVER_OK. */
	p = w.buf;
	put_le(p + O_STATUS, VIRTIO_STATUS_ACKNOWLEDGE, 4);
	expect_refused(t, &w, O_ISR, 0, 4);
	put_le(p + O_Q_READY, 0, 1);
	expect_refused(t, &w, O_Q_INDIRECT, 1, 1);
	put_le(p + O_Q_INDIRECT, 0, 1);
	expect_refused(t, &w, O_ISR, 1, 4);
	/* ... which without them is a good record. */
	put_le(p + O_ISR, 0, 4);
	mk(t, &t->b, RNG);
	load_same(&t->b, &w);
	rm(&t->b);
	snap_w_free(&w);
}

static void test_hostile_truncated(void **state)
{
	struct t *t = *state;
	struct snap_w w;
	uint8_t *p;

	rng_state(t, &w);
	for (size_t n = 0; n < w.len; n++) {
		mk(t, &t->b, RNG);
		assert_int_equal(load(&t->b, w.buf, n), -EBADMSG);
		assert_int_equal(mr32(t->b.dev, VIRTIO_MMIO_STATUS), 0);
		rm(&t->b);
	}
	/* One byte more, after the record or inside the backend's. */
	p = calloc(1, w.len + 1);
	assert_non_null(p);
	memcpy(p, w.buf, w.len);
	mk(t, &t->b, RNG);
	assert_int_equal(load(&t->b, p, w.len + 1), -EBADMSG);
	rm(&t->b);
	put_le(p + O_BACKEND + 8, 1, 4);
	mk(t, &t->b, RNG);
	assert_int_equal(load(&t->b, p, w.len + 1), -EBADMSG);
	rm(&t->b);
	free(p);
	/* Another device's record. */
	mk(t, &t->b, INPUT);
	assert_int_equal(load(&t->b, w.buf, w.len), -EBADMSG);
	snap_w_free(&w);
}

/* ---- virtio-blk --------------------------------------------------------------- */

#define HDR(i)		(FG_DATA + 0x20ULL * (i))
#define STATUS(i)	(FG_DATA + 0x1000 + (i))
#define BUF(i)		(FG_DATA + 0x2000 + 0x1000ULL * (i))

/* Request @i: read @n sectors from @sector into BUF(i). */
static uint16_t blk_read(struct t *t, unsigned int i, uint64_t sector,
			 uint32_t n)
{
	const struct fseg s[] = {
		{ HDR(i), 16, false },
		{ BUF(i), 512 * n, true },
		{ STATUS(i), 1, true },
	};
	uint64_t sec = htole64(sector);
	uint8_t *h = fg_ptr(&t->gm, HDR(i), 16);

	memset(h, 0, 16);		/* VIRTIO_BLK_T_IN */
	memcpy(h + 8, &sec, 8);
	*fg_ptr(&t->gm, STATUS(i), 1) = 0xee;
	memset(fg_ptr(&t->gm, BUF(i), 512 * n), 0, 512 * n);
	return fdrv_chain(&t->d, s, 3);
}

static void expect_read(struct t *t, unsigned int i, uint64_t sector,
			uint32_t n)
{
	const uint8_t *b = fg_ptr(&t->gm, BUF(i), 512 * n);

	assert_int_equal(*fg_ptr(&t->gm, STATUS(i), 1), VIRTIO_BLK_S_OK);
	for (uint32_t k = 0; k < 512 * n; k += 97)
		assert_int_equal(b[k], pattern(sector * 512 + k));
}

static void test_blk_roundtrip(void **state)
{
	struct t *t = *state;
	struct snap_w w;
	uint16_t head;

	mk(t, &t->a, BLK);
	fdrv_mmio_init(t->a.dev, &t->d, &t->gm, QSIZE);
	for (unsigned int i = 0; i < 5; i++) {
		assert_int_equal(fdrv_kick(t->a.dev, &t->d,
					   blk_read(t, i, i * 3, 2)), 1);
		expect_read(t, i, i * 3, 2);
	}
	save(&t->a, &w);
	rm(&t->a);		/* the disk's lock */
	mk(t, &t->b, BLK);
	load_same(&t->b, &w);
	head = blk_read(t, 5, 77, 4);
	assert_int_equal(fdrv_kick(t->b.dev, &t->d, head), 1);
	assert_int_equal(fdrv_used_idx(&t->d), 6);
	assert_int_equal(fdrv_used_id(&t->d, 5), head);
	expect_read(t, 5, 77, 4);
	rm(&t->b);
	/* Another disk (read-only: other features) is refused. */
	assert_int_equal(vblk_create(t->path, true, &t->b.be), 0);
	t->b.chip = (struct irq_chip){ .set_level = fake_irq_set,
				       .ctx = &t->b.irq };
	assert_int_equal(virtio_mmio_create(&t->gm, DEV_BASE, 0x1000,
					    (struct irq_line){ &t->b.chip, 3 },
					    t->b.be, &t->b.dev), 0);
	assert_int_equal(load(&t->b, w.buf, w.len), -EBADMSG);
	snap_w_free(&w);
}

/* Requests in flight on the I/O threads (or the io_uring), and others
 * made available but never notified (as if the thread had consumed the
 * kick): drain returns with every one of them done, exactly once. */
static void blk_drain(struct t *t, enum kind k)
{
	const unsigned int n = 40;
	struct snap_w w, w2;

	mk(t, &t->a, k);
	fdrv_mmio_init(t->a.dev, &t->d, &t->gm, VIRTIO_BLK_QUEUE_SIZE);
	for (unsigned int round = 0; round < 4; round++) {
		uint16_t base = fdrv_used_idx(&t->d);

		for (unsigned int i = 0; i < n; i++) {
			fdrv_publish(&t->d, blk_read(t, i, i + round, 1));
			if (i == n / 2)
				mw32(t->a.dev, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
		}
		virtio_backend_drain(t->a.be);
		assert_int_equal(fdrv_used_idx(&t->d), (uint16_t)(base + n));
		for (unsigned int i = 0; i < n; i++)
			expect_read(t, i, i + round, 1);
		/* Nothing comes after: the threads are idle. */
		usleep(20000);
		assert_int_equal(fdrv_used_idx(&t->d), (uint16_t)(base + n));
		save(&t->a, &w);
		save(&t->a, &w2);
		assert_int_equal(w.len, w2.len);
		assert_memory_equal(w.buf, w2.buf, w.len);
		snap_w_free(&w);
		snap_w_free(&w2);
		mw32(t->a.dev, VIRTIO_MMIO_INTERRUPT_ACK,
		     mr32(t->a.dev, VIRTIO_MMIO_INTERRUPT_STATUS));
	}
	/* The driver is told to notify again. */
	assert_int_equal(fg_r16(&t->gm, FG_USED), 0);
	fdrv_publish(&t->d, blk_read(t, 0, 9, 1));
	mw32(t->a.dev, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	for (int i = 0; fdrv_used_idx(&t->d) != (uint16_t)(4 * n + 1); i++) {
		assert_true(i < 100000);
		usleep(100);
	}
	expect_read(t, 0, 9, 1);
}

static void test_blk_drain(void **state)
{
	blk_drain(*state, BLK_THREADS);
}

static void test_blk_drain_uring(void **state)
{
	blk_drain(*state, BLK_URING);
}

/* ---- virtio-input --------------------------------------------------------------- */

static void ev_expect(struct t *t, uint16_t used, uint16_t type, uint16_t code,
		      uint32_t value)
{
	const uint8_t *p = fg_ptr(&t->gm, FG_DATA + 0x100ULL * used, 8);
	uint8_t want[8];

	put_le(want, type, 2);
	put_le(want + 2, code, 2);
	put_le(want + 4, value, 4);
	assert_int_equal(fdrv_used_len(&t->d, used), 8);
	assert_memory_equal(p, want, 8);
}

static void test_input_roundtrip(void **state)
{
	struct t *t = *state;
	uint8_t sel = VIRTIO_INPUT_CFG_ID_NAME, name[32] = { 0 };
	struct snap_w w;
	uint8_t *p;

	mk(t, &t->a, INPUT);
	fdrv_mmio_init(t->a.dev, &t->d, &t->gm, QSIZE);
	t->a.dev->ops->mmio_write(t->a.dev, VIRTIO_MMIO_CONFIG, &sel, 1);
	/* A press with no buffers waits; one buffer takes its first event,
	 * a second press queues behind the rest. */
	assert_int_equal(vinput_press_power(t->a.be), 0);
	assert_int_equal(fdrv_kick(t->a.dev, &t->d, wbuf(t, 0)), 1);
	assert_int_equal(vinput_press_power(t->a.be), 0);
	save(&t->a, &w);
	mk(t, &t->b, INPUT);
	load_same(&t->b, &w);
	t->b.dev->ops->mmio_read(t->b.dev, VIRTIO_MMIO_CONFIG + 8, name, 18);
	assert_memory_equal(name, VINPUT_NAME, 18);
	for (unsigned int i = 1; i <= 7; i++)
		fdrv_publish(&t->d, wbuf(t, i));
	mw32(t->b.dev, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(fdrv_used_idx(&t->d), 8);
	ev_expect(t, 0, VINPUT_EV_KEY, VINPUT_KEY_POWER, 1);
	ev_expect(t, 1, VINPUT_EV_SYN, 0, 0);
	ev_expect(t, 2, VINPUT_EV_KEY, VINPUT_KEY_POWER, 0);
	ev_expect(t, 3, VINPUT_EV_SYN, 0, 0);
	ev_expect(t, 4, VINPUT_EV_KEY, VINPUT_KEY_POWER, 1);
	ev_expect(t, 7, VINPUT_EV_SYN, 0, 0);
	rm(&t->b);
	/* Events that are no power button's, or out of order. */
	p = w.buf;
	for (size_t off = w.len - 7 * 8; off < w.len; off += 8) {
		p[off] ^= 1;
		mk(t, &t->b, INPUT);
		assert_int_equal(load(&t->b, p, w.len), -EBADMSG);
		rm(&t->b);
		p[off] ^= 1;
	}
	/* A pending count past the ring. */
	put_le(p + w.len - 7 * 8 - 4, VINPUT_PENDING_MAX + 1, 4);
	mk(t, &t->b, INPUT);
	assert_int_equal(load(&t->b, p, w.len), -EBADMSG);
	snap_w_free(&w);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_rng_roundtrip),
		T(test_fresh_roundtrip),
		T(test_hostile_values),
		T(test_hostile_truncated),
		T(test_blk_roundtrip),
		T(test_blk_drain),
		T(test_blk_drain_uring),
		T(test_input_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
