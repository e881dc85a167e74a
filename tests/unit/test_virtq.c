// SPDX-License-Identifier: MIT
/* Split virtqueue: chain parsing against hostile rings (hardening classes
 * 1-6), index wrap-around, used ring publication and interrupt
 * suppression. */
#include "tests/support/virtio_fake.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "core/log.h"
#include "devices/virtq.h"
#include "snapshot/snap.h"

#define QSZ 256

struct t {
	struct gmem gm;
	struct virtq vq;
	struct fdrv d;
};

static int setup_q(struct t *t, uint16_t size, bool indirect)
{
	assert_int_equal(virtq_set_size(&t->vq, size), 0);
	assert_int_equal(virtq_set_area(&t->vq, VIRTQ_DESC, FG_DESC), 0);
	assert_int_equal(virtq_set_area(&t->vq, VIRTQ_AVAIL, FG_AVAIL), 0);
	assert_int_equal(virtq_set_area(&t->vq, VIRTQ_USED, FG_USED), 0);
	fdrv_init(&t->d, &t->gm, size);
	return virtq_enable(&t->vq, indirect);
}

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	assert_int_equal(gmem_alloc(&t->gm, FG_BASE, FG_SIZE), 0);
	assert_int_equal(virtq_init(&t->vq, &t->gm, QSZ), 0);
	assert_int_equal(setup_q(t, QSZ, true), 0);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;

	virtq_fini(&t->vq);
	gmem_free(&t->gm);
	free(t);
	return 0;
}

/* Publish a chain and pop it: returns virtq_pop()'s result. */
static int pop_chain(struct t *t, const struct fseg *s, unsigned int n,
		     struct virtq_chain *c)
{
	fdrv_publish(&t->d, fdrv_chain(&t->d, s, n));
	return virtq_pop(&t->vq, c);
}

/* Publish a raw head index and pop. */
static int pop_head(struct t *t, uint16_t head, struct virtq_chain *c)
{
	fdrv_publish(&t->d, head);
	return virtq_pop(&t->vq, c);
}

static void assert_broken(struct t *t, int r, int err)
{
	struct virtq_chain c;

	assert_int_equal(r, err);
	assert_true(t->vq.broken);
	/* Stays stopped until reset, without touching the ring again. */
	assert_int_equal(virtq_pop(&t->vq, &c), -EIO);
}

static void test_config_checks(void **state)
{
	struct t *t = *state;
	struct virtq vq;

	assert_int_equal(virtq_init(&vq, &t->gm, 0), -EINVAL);
	assert_int_equal(virtq_init(&vq, &t->gm, 100), -EINVAL);
	assert_int_equal(virtq_init(&vq, NULL, 16), -EINVAL);
	/* Ready: no changes. */
	assert_int_equal(virtq_set_size(&t->vq, 16), -EBUSY);
	assert_int_equal(virtq_set_area(&t->vq, VIRTQ_DESC, FG_DATA), -EBUSY);
	virtq_disable(&t->vq);
	assert_int_equal(virtq_set_size(&t->vq, 0), -EINVAL);
	assert_int_equal(virtq_set_size(&t->vq, 3), -EINVAL);
	assert_int_equal(virtq_set_size(&t->vq, 96), -EINVAL);
	assert_int_equal(virtq_set_size(&t->vq, QSZ * 2), -EINVAL);
	assert_int_equal(virtq_set_size(&t->vq, 0x10000), -EINVAL);
	assert_int_equal(virtq_set_size(&t->vq, 1), 0);
	assert_int_equal(t->vq.size, 1);
	assert_int_equal(virtq_set_size(&t->vq, QSZ), 0);
	assert_int_equal(virtq_set_area(&t->vq, 7, FG_DATA), -EINVAL);
}

/* Class 3 and 6: rings outside RAM, wrapping or misaligned. */
static void test_enable_checks(void **state)
{
	struct t *t = *state;
	static const struct {
		enum virtq_area area;
		uint64_t gpa;
	} bad[] = {
		{ VIRTQ_DESC, FG_DESC + 8 },		/* not 16-aligned */
		{ VIRTQ_AVAIL, FG_AVAIL + 1 },		/* not 2-aligned */
		{ VIRTQ_USED, FG_USED + 2 },		/* not 4-aligned */
		{ VIRTQ_USED, FG_BASE + FG_SIZE - 8 },	/* straddles end */
		{ VIRTQ_USED, FG_BASE + FG_SIZE },	/* past the end */
		{ VIRTQ_USED, 0x1000 },			/* below RAM */
		{ VIRTQ_DESC, UINT64_MAX - 0xf },	/* wraps */
		{ VIRTQ_AVAIL, UINT64_MAX - 1 },	/* wraps */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		virtq_disable(&t->vq);
		assert_int_equal(setup_q(t, QSZ, true), 0);
		virtq_disable(&t->vq);
		assert_int_equal(virtq_set_area(&t->vq, bad[i].area,
						 bad[i].gpa), 0);
		assert_int_equal(virtq_enable(&t->vq, true), -EFAULT);
		assert_false(t->vq.ready);
	}
	/* A used ring ending exactly at the end of RAM is fine. */
	virtq_disable(&t->vq);
	assert_int_equal(virtq_set_area(&t->vq, VIRTQ_USED,
					FG_BASE + FG_SIZE - (4 + 8 * QSZ)), 0);
	assert_int_equal(virtq_set_area(&t->vq, VIRTQ_DESC, FG_DESC), 0);
	assert_int_equal(virtq_set_area(&t->vq, VIRTQ_AVAIL, FG_AVAIL), 0);
	assert_int_equal(virtq_enable(&t->vq, true), 0);
}

static void test_pop_push(void **state)
{
	struct t *t = *state;
	const struct fseg s[] = {
		{ FG_DATA, 16, false },
		{ FG_DATA + 0x1000, 512, true },
		{ FG_DATA + 0x2000, 1, true },
	};
	struct virtq_chain c;

	assert_int_equal(virtq_pop(&t->vq, &c), 0);	/* empty */
	assert_false(virtq_need_irq(&t->vq));
	assert_int_equal(pop_chain(t, s, 3, &c), 1);
	assert_int_equal(c.head, 0);
	assert_int_equal(c.nr_segs, 3);
	assert_int_equal(c.nr_out, 1);
	assert_int_equal(c.out_len, 16);
	assert_int_equal(c.in_len, 513);
	for (int i = 0; i < 3; i++) {
		assert_ptr_equal(c.segs[i].ptr,
				 gmem_ptr(&t->gm, s[i].addr, s[i].len));
		assert_int_equal(c.segs[i].len, s[i].len);
		assert_int_equal(c.segs[i].writable, s[i].writable);
	}
	assert_int_equal(virtq_pop(&t->vq, &c), 0);	/* consumed */
	assert_int_equal(fdrv_used_idx(&t->d), 0);	/* not yet used */
	virtq_push(&t->vq, &c, 513);
	assert_int_equal(fdrv_used_idx(&t->d), 1);
	assert_int_equal(fdrv_used_id(&t->d, 0), 0);
	assert_int_equal(fdrv_used_len(&t->d, 0), 513);
	assert_true(virtq_need_irq(&t->vq));
	assert_false(virtq_need_irq(&t->vq));		/* only once */

	/* The written length is clamped to the writable bytes. */
	assert_int_equal(pop_chain(t, s, 3, &c), 1);
	assert_int_equal(c.head, 3);
	virtq_push(&t->vq, &c, 0xffffffff);
	assert_int_equal(fdrv_used_id(&t->d, 1), 3);
	assert_int_equal(fdrv_used_len(&t->d, 1), 513);
}

/* Chains given back are popped again in order; several used elements
 * published with one index update (merged receive buffers). */
static void test_unpop_fill_flush(void **state)
{
	struct t *t = *state;
	const struct fseg s[] = { { FG_DATA, 64, true } };
	struct virtq_chain c;
	uint16_t heads[3];

	for (int i = 0; i < 3; i++)
		fdrv_publish(&t->d, heads[i] = fdrv_chain(&t->d, s, 1));
	for (int i = 0; i < 3; i++) {
		assert_int_equal(virtq_pop(&t->vq, &c), 1);
		assert_int_equal(c.head, heads[i]);
	}
	assert_int_equal(virtq_pop(&t->vq, &c), 0);
	virtq_unpop(&t->vq, 2);
	assert_true(virtq_has_avail(&t->vq));
	assert_int_equal(virtq_pop(&t->vq, &c), 1);
	assert_int_equal(c.head, heads[1]);
	/* Filled but not flushed: the driver sees nothing yet. */
	virtq_fill(&t->vq, heads[0], 10, 0);
	virtq_fill(&t->vq, heads[1], 20, 1);
	assert_int_equal(fdrv_used_idx(&t->d), 0);
	assert_false(virtq_need_irq(&t->vq));
	virtq_flush(&t->vq, 2);
	assert_int_equal(fdrv_used_idx(&t->d), 2);
	assert_int_equal(fdrv_used_id(&t->d, 0), heads[0]);
	assert_int_equal(fdrv_used_len(&t->d, 0), 10);
	assert_int_equal(fdrv_used_id(&t->d, 1), heads[1]);
	assert_int_equal(fdrv_used_len(&t->d, 1), 20);
	assert_true(virtq_need_irq(&t->vq));
	/* More than a ring's worth cannot be given back. */
	virtq_unpop(&t->vq, QSZ + 1);
	assert_int_equal(virtq_pop(&t->vq, &c), 1);
	assert_int_equal(c.head, heads[2]);
	virtq_flush(&t->vq, 0);		/* nothing: no index change */
	assert_int_equal(fdrv_used_idx(&t->d), 2);
}

static void test_no_interrupt(void **state)
{
	struct t *t = *state;
	const struct fseg s[] = { { FG_DATA, 8, true } };
	struct virtq_chain c;

	fg_w16(&t->gm, FG_AVAIL, 1);	/* VRING_AVAIL_F_NO_INTERRUPT */
	assert_int_equal(pop_chain(t, s, 1, &c), 1);
	virtq_push(&t->vq, &c, 8);
	assert_int_equal(fdrv_used_idx(&t->d), 1);
	assert_false(virtq_need_irq(&t->vq));
	fg_w16(&t->gm, FG_AVAIL, 0);
	assert_int_equal(pop_chain(t, s, 1, &c), 1);
	virtq_push(&t->vq, &c, 8);
	assert_true(virtq_need_irq(&t->vq));
}

/* 16-bit indices wrap: 70000 round trips through a 4-entry ring. */
static void test_index_wrap(void **state)
{
	struct t *t = *state;
	const struct fseg s[] = { { FG_DATA, 4, true } };
	struct virtq_chain c;

	virtq_disable(&t->vq);
	assert_int_equal(setup_q(t, 4, false), 0);
	for (unsigned int i = 0; i < 70000; i++) {
		assert_int_equal(pop_chain(t, s, 1, &c), 1);
		assert_int_equal(c.head, i % 4);
		virtq_push(&t->vq, &c, (uint32_t)i & 3);
		assert_int_equal(fdrv_used_idx(&t->d), (uint16_t)(i + 1));
		assert_int_equal(fdrv_used_id(&t->d, (uint16_t)i), i % 4);
	}
}

static void test_chain_copy(void **state)
{
	struct t *t = *state;
	const struct fseg s[] = {
		{ FG_DATA, 5, false },
		{ FG_DATA + 0x100, 11, false },
		{ FG_DATA + 0x200, 3, true },
		{ FG_DATA + 0x300, 4, true },
	};
	uint8_t buf[16], out[7] = { 1, 2, 3, 4, 5, 6, 7 };
	struct virtq_chain c;

	for (int i = 0; i < 16; i++)
		fg_ptr(&t->gm, i < 5 ? FG_DATA + i : FG_DATA + 0x100 + i - 5,
		       1)[0] = (uint8_t)(0x40 + i);
	assert_int_equal(pop_chain(t, s, 4, &c), 1);
	assert_int_equal(virtq_chain_read(&c, 0, buf, 16), 0);
	for (int i = 0; i < 16; i++)
		assert_int_equal(buf[i], 0x40 + i);
	assert_int_equal(virtq_chain_read(&c, 4, buf, 3), 0);
	assert_int_equal(buf[0], 0x44);
	assert_int_equal(buf[1], 0x45);
	assert_int_equal(virtq_chain_read(&c, 1, buf, 16), -EINVAL);
	assert_int_equal(virtq_chain_read(&c, UINT32_MAX, buf, 2), -EINVAL);
	assert_int_equal(virtq_chain_write(&c, 0, out, 7), 0);
	assert_memory_equal(fg_ptr(&t->gm, FG_DATA + 0x200, 3), out, 3);
	assert_memory_equal(fg_ptr(&t->gm, FG_DATA + 0x300, 4), out + 3, 4);
	assert_int_equal(virtq_chain_write(&c, 1, out, 7), -EINVAL);
	assert_int_equal(virtq_chain_write(&c, 6, out, 1), 0);
	assert_int_equal(fg_ptr(&t->gm, FG_DATA + 0x303, 1)[0], 1);
}

/* Class 1: loops in the ring, long and full-size chains. */
static void test_loops(void **state)
{
	struct t *t = *state;
	struct virtq_chain c;
	unsigned long logs = log_count();

	fdrv_desc(&t->d, 0, FG_DATA, 8, DESC_F_NEXT, 0);	/* self loop */
	assert_broken(t, pop_head(t, 0, &c), -ELOOP);
	assert_true(log_count() > logs);

	virtq_reset(&t->vq);
	assert_int_equal(setup_q(t, QSZ, true), 0);
	fdrv_desc(&t->d, 0, FG_DATA, 8, DESC_F_NEXT, 1);
	fdrv_desc(&t->d, 1, FG_DATA, 8, DESC_F_NEXT, 0);
	assert_broken(t, pop_head(t, 0, &c), -ELOOP);

	/* A chain through all QSZ descriptors is the longest allowed. */
	virtq_reset(&t->vq);
	assert_int_equal(setup_q(t, QSZ, true), 0);
	for (int i = 0; i < QSZ; i++)
		fdrv_desc(&t->d, (uint16_t)i, FG_DATA, 1,
			  i < QSZ - 1 ? DESC_F_NEXT : 0, (uint16_t)(i + 1));
	assert_int_equal(pop_head(t, 0, &c), 1);
	assert_int_equal(c.nr_segs, QSZ);
	/* ... and one more (wrapping back to 0) is a loop. */
	fdrv_desc(&t->d, QSZ - 1, FG_DATA, 1, DESC_F_NEXT, 0);
	assert_broken(t, pop_head(t, 0, &c), -ELOOP);
}

static void test_bad_indices(void **state)
{
	struct t *t = *state;
	struct virtq_chain c;

	assert_broken(t, pop_head(t, QSZ, &c), -EINVAL);	/* head */
	virtq_reset(&t->vq);
	assert_int_equal(setup_q(t, QSZ, true), 0);
	assert_broken(t, pop_head(t, 0xffff, &c), -EINVAL);
	virtq_reset(&t->vq);
	assert_int_equal(setup_q(t, QSZ, true), 0);
	fdrv_desc(&t->d, 0, FG_DATA, 8, DESC_F_NEXT, QSZ);	/* next */
	assert_broken(t, pop_head(t, 0, &c), -EINVAL);
}

/* Class 4: avail->idx running ahead is an error, never a long loop. */
static void test_avail_ahead(void **state)
{
	struct t *t = *state;
	const struct fseg s[] = { { FG_DATA, 4, true } };
	struct virtq_chain c;

	/* Exactly a full ring is fine. */
	for (int i = 0; i < QSZ; i++)
		fdrv_publish(&t->d, fdrv_chain(&t->d, s, 1));
	for (int i = 0; i < QSZ; i++) {
		assert_int_equal(virtq_pop(&t->vq, &c), 1);
		virtq_push(&t->vq, &c, 4);
	}
	assert_int_equal(virtq_pop(&t->vq, &c), 0);

	fdrv_set_avail_idx(&t->d, QSZ + QSZ + 1);
	assert_broken(t, virtq_pop(&t->vq, &c), -EINVAL);
	virtq_reset(&t->vq);
	assert_int_equal(setup_q(t, QSZ, true), 0);
	fdrv_set_avail_idx(&t->d, 0xffff);	/* "behind": 65535 ahead */
	assert_broken(t, virtq_pop(&t->vq, &c), -EINVAL);
}

/* Class 2 and 3: zero lengths, wrapping and out-of-RAM buffers. */
static void test_bad_buffers(void **state)
{
	struct t *t = *state;
	static const struct fseg bad[][2] = {
		{ { FG_DATA, 16, false }, { UINT64_MAX - 7, 16, true } },
		{ { FG_DATA, 16, false }, { FG_BASE + FG_SIZE - 8, 9, true } },
		{ { FG_DATA, 16, false }, { FG_BASE + FG_SIZE, 1, true } },
		{ { 0x1000, 16, false }, { FG_DATA, 1, true } },
		{ { FG_BASE - 1, 2, false }, { FG_DATA, 1, true } },
		{ { FG_DATA, 0xffffffff, false }, { FG_DATA, 1, true } },
	};
	const struct fseg zero[] = {
		{ FG_DATA, 16, false },
		{ UINT64_MAX, 0, true },	/* empty: never mapped */
		{ FG_DATA + 0x100, 1, true },
	};
	struct virtq_chain c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		virtq_reset(&t->vq);
		assert_int_equal(setup_q(t, QSZ, true), 0);
		assert_broken(t, pop_chain(t, bad[i], 2, &c), -EFAULT);
	}
	virtq_reset(&t->vq);
	assert_int_equal(setup_q(t, QSZ, true), 0);
	assert_int_equal(pop_chain(t, zero, 3, &c), 1);
	assert_int_equal(c.nr_segs, 2);
	assert_int_equal(c.in_len, 1);
	/* The last byte of RAM is a fine buffer. */
	const struct fseg edge[] = { { FG_BASE + FG_SIZE - 1, 1, true } };

	assert_int_equal(pop_chain(t, edge, 1, &c), 1);
	assert_ptr_equal(c.segs[0].ptr,
			 gmem_ptr(&t->gm, FG_BASE + FG_SIZE - 1, 1));
}

static void test_readable_after_writable(void **state)
{
	struct t *t = *state;
	const struct fseg s[] = {
		{ FG_DATA, 16, false },
		{ FG_DATA + 0x100, 16, true },
		{ FG_DATA + 0x200, 16, false },
	};
	struct virtq_chain c;

	assert_broken(t, pop_chain(t, s, 3, &c), -EINVAL);
}

/* Used lengths are 32-bit: a chain over 4 GiB is refused. */
static void test_chain_over_4g(void **state)
{
	struct gmem big;
	struct virtq vq;
	struct fdrv d;
	struct virtq_chain c;
	const uint64_t half = 0x80000000ULL;

	(void)state;
	assert_int_equal(gmem_alloc(&big, FG_BASE, half + 0x100000), 0);
	assert_int_equal(virtq_init(&vq, &big, 4), 0);
	assert_int_equal(virtq_set_area(&vq, VIRTQ_DESC, FG_DESC), 0);
	assert_int_equal(virtq_set_area(&vq, VIRTQ_AVAIL, FG_AVAIL), 0);
	assert_int_equal(virtq_set_area(&vq, VIRTQ_USED, FG_USED), 0);
	assert_int_equal(virtq_enable(&vq, false), 0);
	fdrv_init(&d, &big, 4);
	fdrv_desc(&d, 0, FG_BASE + 0x100000, (uint32_t)half, DESC_F_NEXT, 1);
	fdrv_desc(&d, 1, FG_BASE + 0x100000, (uint32_t)half - 1,
		  DESC_F_NEXT, 2);
	fdrv_desc(&d, 2, FG_BASE + 0x100000, 1, 0, 0);
	fdrv_publish(&d, 0);
	assert_int_equal(virtq_pop(&vq, &c), -EINVAL);
	virtq_fini(&vq);
	gmem_free(&big);
}

/* Class 2: indirect descriptors. */
static void test_indirect(void **state)
{
	struct t *t = *state;
	const struct fseg s[] = {
		{ FG_DATA, 16, false },
		{ FG_DATA + 0x1000, 512, true },
		{ FG_DATA + 0x2000, 1, true },
	};
	struct virtq_chain c;
	uint16_t h;

	h = fdrv_chain_indirect(&t->d, FG_TABLE, s, 3);
	assert_int_equal(pop_head(t, h, &c), 1);
	assert_int_equal(c.head, h);
	assert_int_equal(c.nr_segs, 3);
	assert_int_equal(c.nr_out, 1);
	assert_int_equal(c.in_len, 513);
	assert_ptr_equal(c.segs[1].ptr, gmem_ptr(&t->gm, FG_DATA + 0x1000, 1));

	/* A direct descriptor may precede the indirect one. */
	fdrv_desc(&t->d, 10, FG_DATA, 16, DESC_F_NEXT, 11);
	fdrv_desc(&t->d, 11, FG_TABLE, 32, DESC_F_INDIRECT, 0);
	fg_desc_at(&t->gm, FG_TABLE, FG_DATA + 0x10, 8, DESC_F_NEXT, 1);
	fg_desc_at(&t->gm, FG_TABLE + 16, FG_DATA + 0x100, 1, DESC_F_WRITE, 0);
	assert_int_equal(pop_head(t, 10, &c), 1);
	assert_int_equal(c.nr_segs, 3);
	assert_int_equal(c.out_len, 24);
}

static void check_bad_indirect(struct t *t, uint64_t table, uint32_t len,
			       uint16_t flags, int err, bool indirect)
{
	struct virtq_chain c;

	virtq_reset(&t->vq);
	assert_int_equal(setup_q(t, QSZ, indirect), 0);
	fg_desc_at(&t->gm, FG_TABLE, FG_DATA, 16, DESC_F_NEXT, 1);
	fg_desc_at(&t->gm, FG_TABLE + 16, FG_DATA + 0x100, 1, DESC_F_WRITE,
		   0);
	fdrv_desc(&t->d, 0, table, len, flags, 1);
	fdrv_desc(&t->d, 1, FG_DATA, 1, DESC_F_WRITE, 0);
	assert_broken(t, pop_head(t, 0, &c), err);
}

static void test_indirect_hostile(void **state)
{
	struct t *t = *state;
	struct virtq_chain c;

	/* Not negotiated, odd or zero length, with NEXT, outside RAM. */
	check_bad_indirect(t, FG_TABLE, 32, DESC_F_INDIRECT, -EINVAL, false);
	check_bad_indirect(t, FG_TABLE, 24, DESC_F_INDIRECT, -EINVAL, true);
	check_bad_indirect(t, FG_TABLE, 0, DESC_F_INDIRECT, -EINVAL, true);
	check_bad_indirect(t, FG_TABLE, 33, DESC_F_INDIRECT, -EINVAL, true);
	check_bad_indirect(t, FG_TABLE, 32, DESC_F_INDIRECT | DESC_F_NEXT,
			   -EINVAL, true);
	check_bad_indirect(t, FG_BASE + FG_SIZE - 16, 32, DESC_F_INDIRECT,
			   -EFAULT, true);
	check_bad_indirect(t, UINT64_MAX - 15, 32, DESC_F_INDIRECT, -EFAULT,
			   true);

	/* Nested indirect. */
	virtq_reset(&t->vq);
	assert_int_equal(setup_q(t, QSZ, true), 0);
	fg_desc_at(&t->gm, FG_TABLE, FG_TABLE + 0x100, 16, DESC_F_INDIRECT, 0);
	fg_desc_at(&t->gm, FG_TABLE + 0x100, FG_DATA, 1, DESC_F_WRITE, 0);
	fdrv_desc(&t->d, 0, FG_TABLE, 16, DESC_F_INDIRECT, 0);
	assert_broken(t, pop_head(t, 0, &c), -EINVAL);

	/* Loop inside the table; next index past the table. */
	virtq_reset(&t->vq);
	assert_int_equal(setup_q(t, QSZ, true), 0);
	fg_desc_at(&t->gm, FG_TABLE, FG_DATA, 16, DESC_F_NEXT, 1);
	fg_desc_at(&t->gm, FG_TABLE + 16, FG_DATA, 16, DESC_F_NEXT, 0);
	fdrv_desc(&t->d, 0, FG_TABLE, 32, DESC_F_INDIRECT, 0);
	assert_broken(t, pop_head(t, 0, &c), -ELOOP);
	virtq_reset(&t->vq);
	assert_int_equal(setup_q(t, QSZ, true), 0);
	fg_desc_at(&t->gm, FG_TABLE + 16, FG_DATA, 16, DESC_F_NEXT, 2);
	fdrv_desc(&t->d, 0, FG_TABLE, 32, DESC_F_INDIRECT, 0);
	assert_broken(t, pop_head(t, 0, &c), -EINVAL);
}

/* Indirect tables are bounded by the queue size too: with a 4-entry
 * queue a 4-entry table is fine and a 5-entry one is refused. */
static void test_indirect_length(void **state)
{
	struct t *t = *state;
	struct fseg s[5];
	struct virtq_chain c;
	uint16_t h;

	for (int i = 0; i < 5; i++)
		s[i] = (struct fseg){ FG_DATA + 0x100 * i, 8, true };
	virtq_reset(&t->vq);
	assert_int_equal(setup_q(t, 4, true), 0);
	h = fdrv_chain_indirect(&t->d, FG_TABLE, s, 4);
	assert_int_equal(pop_head(t, h, &c), 1);
	assert_int_equal(c.nr_segs, 4);
	h = fdrv_chain_indirect(&t->d, FG_TABLE, s, 5);
	assert_broken(t, pop_head(t, h, &c), -ELOOP);
}

/* Copy-then-validate: a chain, once popped, is immune to the guest
 * rewriting its descriptors. */
static void test_desc_copied(void **state)
{
	struct t *t = *state;
	const struct fseg s[] = { { FG_DATA, 16, false },
				  { FG_DATA + 0x100, 8, true } };
	struct virtq_chain c;

	assert_int_equal(pop_chain(t, s, 2, &c), 1);
	fdrv_desc(&t->d, 0, UINT64_MAX - 3, 0xffffffff, DESC_F_NEXT, 0);
	fdrv_desc(&t->d, 1, 0, 0xffffffff, DESC_F_WRITE, 0);
	assert_int_equal(c.segs[0].len, 16);
	assert_int_equal(c.segs[1].len, 8);
	assert_ptr_equal(c.segs[1].ptr, gmem_ptr(&t->gm, FG_DATA + 0x100, 8));
}

/* A second "vCPU" flips descriptors between good and hostile values while
 * the device pops: every chain the device accepts lies inside RAM. */
struct racer {
	struct gmem *gm;
	volatile bool stop;
};

static void *race_desc(void *arg)
{
	struct racer *r = arg;
	static const uint64_t addrs[] = { FG_DATA, UINT64_MAX - 4,
					  FG_BASE + FG_SIZE - 2, 0 };
	uint64_t *a = (uint64_t *)gmem_ptr(r->gm, FG_DESC, 16);
	uint32_t *l = (uint32_t *)gmem_ptr(r->gm, FG_DESC + 8, 4);
	uint16_t *f = (uint16_t *)gmem_ptr(r->gm, FG_DESC + 12, 4);
	unsigned int i = 0;

	while (!r->stop) {
		__atomic_store_n(a, htole64(addrs[i & 3]), __ATOMIC_RELAXED);
		__atomic_store_n(l, htole32(i & 4 ? 0xffff : 8),
				 __ATOMIC_RELAXED);
		__atomic_store_n(f, htole16(i & 8 ? DESC_F_NEXT : 0),
				 __ATOMIC_RELAXED);
		__atomic_store_n(&f[1], htole16(i & 16 ? 0 : 300),
				 __ATOMIC_RELAXED);
		i++;
	}
	return NULL;
}

static void test_concurrent_rewrite(void **state)
{
	struct t *t = *state;
	struct racer r = { .gm = &t->gm };
	const uint8_t *lo = t->gm.host, *hi = t->gm.host + t->gm.size;
	struct virtq_chain c;
	pthread_t th;

	assert_int_equal(pthread_create(&th, NULL, race_desc, &r), 0);
	for (int i = 0; i < 20000; i++) {
		int ret = pop_head(t, 0, &c);

		if (ret < 0) {
			virtq_reset(&t->vq);
			assert_int_equal(setup_q(t, QSZ, true), 0);
			continue;
		}
		assert_int_equal(ret, 1);
		for (unsigned int k = 0; k < c.nr_segs; k++) {
			const struct virtq_seg *sg = &c.segs[k];

			assert_true(sg->ptr >= lo);
			assert_true(sg->len <= (size_t)(hi - sg->ptr));
		}
		virtq_push(&t->vq, &c, 0);
	}
	r.stop = true;
	pthread_join(th, NULL);
}

static void test_reset_recovers(void **state)
{
	struct t *t = *state;
	const struct fseg s[] = { { FG_DATA, 4, true } };
	struct virtq_chain c;

	assert_broken(t, pop_head(t, QSZ + 1, &c), -EINVAL);
	virtq_reset(&t->vq);
	assert_false(t->vq.ready);
	assert_false(t->vq.broken);
	assert_int_equal(t->vq.size, QSZ);
	assert_int_equal(virtq_pop(&t->vq, &c), 0);	/* not ready */
	assert_int_equal(setup_q(t, QSZ, true), 0);
	assert_int_equal(pop_chain(t, s, 1, &c), 1);
}

/* A queue's record: into a fresh queue as it was (the index wrapped, a
 * chain in flight), and popping goes on from the same slot; what the
 * transport allows is enforced (ready only after FEATURES_OK, indirect as
 * negotiated), and a refused record leaves the queue reset. */
static void test_snapshot(void **state)
{
	struct t *t = *state;
	const struct fseg s[] = { { FG_DATA, 64, true } };
	struct virtq_chain c;
	struct virtq q2;
	struct snap_w w, w2;
	struct snap_r r;

	t->vq.last_avail = t->vq.used_idx = 0xfffe;
	t->d.avail_idx = 0xfffe;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pop_chain(t, s, 1, &c), 1);
		if (i < 2)
			virtq_push(&t->vq, &c, 8);
	}
	snap_w_init(&w);
	virtq_save(&t->vq, &w);
	assert_int_equal(virtq_init(&q2, &t->gm, QSZ), 0);
	snap_r_init(&r, w.buf, w.len);
	assert_int_equal(virtq_load(&q2, &r, true, true), 0);
	assert_int_equal(snap_r_finish(&r), 0);
	snap_w_init(&w2);
	virtq_save(&q2, &w2);
	assert_int_equal(w2.len, w.len);
	assert_memory_equal(w2.buf, w.buf, w.len);
	snap_w_free(&w2);
	/* The chain in flight is returned by the restored queue. */
	virtq_push(&q2, &c, 8);
	assert_int_equal(fdrv_used_idx(&t->d), 1);
	fdrv_publish(&t->d, fdrv_chain(&t->d, s, 1));
	assert_int_equal(virtq_pop(&q2, &c), 1);
	assert_int_equal(q2.last_avail, 2);
	/* Ready before FEATURES_OK, indirect not negotiated. */
	snap_r_init(&r, w.buf, w.len);
	assert_int_equal(virtq_load(&q2, &r, false, true), -EBADMSG);
	assert_false(q2.ready);
	snap_r_init(&r, w.buf, w.len);
	assert_int_equal(virtq_load(&q2, &r, true, false), -EBADMSG);
	assert_false(q2.ready);
	assert_int_equal(q2.size, QSZ);
	virtq_fini(&q2);
	/* Into a queue of another maximum size. */
	assert_int_equal(virtq_init(&q2, &t->gm, QSZ / 2), 0);
	snap_r_init(&r, w.buf, w.len);
	assert_int_equal(virtq_load(&q2, &r, true, true), -EBADMSG);
	virtq_fini(&q2);
	snap_w_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_config_checks),
		T(test_enable_checks),
		T(test_pop_push),
		T(test_unpop_fill_flush),
		T(test_no_interrupt),
		T(test_index_wrap),
		T(test_chain_copy),
		T(test_loops),
		T(test_bad_indices),
		T(test_avail_ahead),
		T(test_bad_buffers),
		T(test_readable_after_writable),
		cmocka_unit_test(test_chain_over_4g),
		T(test_indirect),
		T(test_indirect_hostile),
		T(test_indirect_length),
		T(test_desc_copied),
		T(test_concurrent_rewrite),
		T(test_reset_recovers),
		T(test_snapshot),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
