/* SPDX-License-Identifier: MIT */
/* Test helpers for the virtio unit tests (cmocka): a fake guest RAM, a fake
 * driver that builds split rings in it the way Linux does, a fake
 * interrupt chip that records levels; the register side is vmmio_drv.h. */
#ifndef RIVET_TEST_VIRTIO_FAKE_H
#define RIVET_TEST_VIRTIO_FAKE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <endian.h>
#include <stdbool.h>
#include <string.h>

#include "core/device.h"
#include "core/gmem.h"
#include "core/irq.h"
#include "devices/virtio.h"
#include "devices/virtio_mmio.h"
#include "tests/support/vmmio_drv.h"

#define FG_BASE		0x80000000ULL
#define FG_SIZE		0x200000ULL
#define FG_DESC		(FG_BASE + 0x0000)	/* 256 descriptors max */
#define FG_AVAIL	(FG_BASE + 0x1000)
#define FG_USED		(FG_BASE + 0x2000)
#define FG_TABLE	(FG_BASE + 0x4000)	/* indirect tables */
#define FG_DATA		(FG_BASE + 0x10000)	/* data buffers */

#define DESC_F_NEXT	1
#define DESC_F_WRITE	2
#define DESC_F_INDIRECT	4

struct fdrv {
	struct gmem *gm;
	uint16_t size;
	uint16_t avail_idx;
	uint16_t next;		/* next free descriptor */
};

struct fseg {
	uint64_t addr;
	uint32_t len;
	bool writable;
};

static inline uint8_t *fg_ptr(struct gmem *gm, uint64_t gpa, uint64_t len)
{
	uint8_t *p = gmem_ptr(gm, gpa, len);

	assert_non_null(p);
	return p;
}

static inline void fg_w16(struct gmem *gm, uint64_t gpa, uint16_t v)
{
	v = htole16(v);
	memcpy(fg_ptr(gm, gpa, 2), &v, 2);
}

static inline uint16_t fg_r16(struct gmem *gm, uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, fg_ptr(gm, gpa, 2), 2);
	return le16toh(v);
}

static inline uint32_t fg_r32(struct gmem *gm, uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, fg_ptr(gm, gpa, 4), 4);
	return le32toh(v);
}

/* Write a descriptor at @gpa (ring slot or indirect table entry). */
static inline void fg_desc_at(struct gmem *gm, uint64_t gpa, uint64_t addr,
			      uint32_t len, uint16_t flags, uint16_t next)
{
	vring_desc(fg_ptr(gm, gpa, 16), addr, len, flags, next);
}

static inline void fdrv_init(struct fdrv *d, struct gmem *gm, uint16_t size)
{
	d->gm = gm;
	d->size = size;
	d->avail_idx = 0;
	d->next = 0;
	memset(fg_ptr(gm, FG_DESC, 0x4000), 0, 0x4000);
}

static inline void fdrv_desc(struct fdrv *d, uint16_t i, uint64_t addr,
			     uint32_t len, uint16_t flags, uint16_t next)
{
	fg_desc_at(d->gm, FG_DESC + 16ULL * i, addr, len, flags, next);
}

/* Lay out @n segments as a linked chain of fresh descriptors; returns the
 * head index. */
static inline uint16_t fdrv_chain(struct fdrv *d, const struct fseg *s,
				  unsigned int n)
{
	uint16_t head = d->next;

	for (unsigned int i = 0; i < n; i++) {
		uint16_t cur = d->next;
		uint16_t nxt = (uint16_t)((cur + 1) % d->size);
		uint16_t fl = (s[i].writable ? DESC_F_WRITE : 0) |
			      (i + 1 < n ? DESC_F_NEXT : 0);

		fdrv_desc(d, cur, s[i].addr, s[i].len, fl, nxt);
		d->next = nxt;
	}
	return head;
}

/* The same chain in an indirect table at @table; one ring descriptor
 * points at it.  Returns the head index. */
static inline uint16_t fdrv_chain_indirect(struct fdrv *d, uint64_t table,
					   const struct fseg *s,
					   unsigned int n)
{
	uint16_t head = d->next;

	for (unsigned int i = 0; i < n; i++)
		fg_desc_at(d->gm, table + 16ULL * i, s[i].addr, s[i].len,
			   (s[i].writable ? DESC_F_WRITE : 0) |
			   (i + 1 < n ? DESC_F_NEXT : 0), (uint16_t)(i + 1));
	fdrv_desc(d, head, table, 16 * n, DESC_F_INDIRECT, 0);
	d->next = (uint16_t)((head + 1) % d->size);
	return head;
}

static inline void fdrv_set_avail_idx(struct fdrv *d, uint16_t idx)
{
	fg_w16(d->gm, FG_AVAIL + 2, idx);
}

static inline void fdrv_publish(struct fdrv *d, uint16_t head)
{
	fg_w16(d->gm, FG_AVAIL + 4 + 2ULL * (d->avail_idx % d->size), head);
	d->avail_idx++;
	fdrv_set_avail_idx(d, d->avail_idx);
}

static inline uint16_t fdrv_used_idx(struct fdrv *d)
{
	return fg_r16(d->gm, FG_USED + 2);
}

static inline uint32_t fdrv_used_id(struct fdrv *d, uint16_t i)
{
	return fg_r32(d->gm, FG_USED + 4 + 8ULL * (i % d->size));
}

static inline uint32_t fdrv_used_len(struct fdrv *d, uint16_t i)
{
	return fg_r32(d->gm, FG_USED + 8 + 8ULL * (i % d->size));
}

/* Fake interrupt chip. */
struct fake_irq {
	bool level;
	unsigned int raises;	/* low -> high transitions */
	unsigned int calls;
	uint32_t last_irq;
};

static inline int fake_irq_set(void *ctx, uint32_t irq, bool level)
{
	struct fake_irq *f = ctx;

	f->calls++;
	f->last_irq = irq;
	if (level && !f->level)
		f->raises++;
	f->level = level;
	return 0;
}

/* The Linux virtio-mmio probe sequence up to FEATURES_OK (virtio 1.2
 * §3.1.1); returns the status read back. */
static inline uint32_t fdrv_negotiate(struct rivet_dev *dev, uint64_t feat)
{
	return vmmio_negotiate(dev, feat);
}

/* Queue @q of @size at the FG_* rings, ready. */
static inline void fdrv_setup_queue(struct rivet_dev *dev, uint32_t q,
				    uint32_t size)
{
	vmmio_queue(dev, q, size, FG_DESC, FG_AVAIL, FG_USED, true);
}

/* Full init: negotiate all offered features, queue 0 of @size, DRIVER_OK. */
static inline void fdrv_mmio_init(struct rivet_dev *dev, struct fdrv *d,
				  struct gmem *gm, uint32_t size)
{
	assert_true(fdrv_negotiate(dev, vmmio_device_features(dev)) &
		    VIRTIO_STATUS_FEATURES_OK);
	fdrv_init(d, gm, (uint16_t)size);
	fdrv_setup_queue(dev, 0, size);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_QUEUE_READY), 1);
	mw32(dev, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
	     VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
	     VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(mr32(dev, VIRTIO_MMIO_STATUS) & 0xff,
			 VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

/* Publish @head, notify queue 0 and ack any interrupt; returns the
 * InterruptStatus seen before the ack. */
static inline uint32_t fdrv_kick(struct rivet_dev *dev, struct fdrv *d,
				 uint16_t head)
{
	uint32_t isr;

	fdrv_publish(d, head);
	mw32(dev, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	isr = mr32(dev, VIRTIO_MMIO_INTERRUPT_STATUS);
	mw32(dev, VIRTIO_MMIO_INTERRUPT_ACK, isr);
	return isr;
}

#endif
