// SPDX-License-Identifier: MIT
#include "devices/virtq.h"

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/gmem.h"
#include "core/log.h"
#include "snapshot/snap.h"

/* Split ring layout (virtio 1.2 §2.7). */
#define DESC_SIZE	16
#define DESC_F_NEXT	1
#define DESC_F_WRITE	2
#define DESC_F_INDIRECT	4
#define AVAIL_F_NO_INTERRUPT 1
#define USED_F_NO_NOTIFY 1
#define RING_HDR	4		/* flags + idx of avail and used */
#define USED_ELEM	8

struct vdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

static bool is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

int virtq_init(struct virtq *vq, const struct gmem *gm, uint16_t max_size)
{
	memset(vq, 0, sizeof(*vq));
	if (!gm || !is_pow2(max_size))
		return -EINVAL;
	vq->segs = calloc(max_size, sizeof(*vq->segs));
	if (!vq->segs)
		return -ENOMEM;
	vq->gm = gm;
	vq->max_size = max_size;
	virtq_reset(vq);
	return 0;
}

void virtq_fini(struct virtq *vq)
{
	free(vq->segs);
	vq->segs = NULL;
	vq->ready = false;
}

void virtq_disable(struct virtq *vq)
{
	vq->ready = false;
	vq->broken = false;
	vq->need_irq = false;
	vq->gen++;
	vq->desc = vq->avail = vq->used = NULL;
}

void virtq_reset(struct virtq *vq)
{
	virtq_disable(vq);
	vq->size = vq->max_size;
	vq->indirect = false;
	memset(vq->gpa, 0, sizeof(vq->gpa));
	vq->last_avail = 0;
	vq->used_idx = 0;
}

int virtq_set_size(struct virtq *vq, uint32_t size)
{
	if (vq->ready)
		return -EBUSY;
	if (!is_pow2(size) || size > vq->max_size)
		return -EINVAL;
	vq->size = (uint16_t)size;
	return 0;
}

int virtq_set_area(struct virtq *vq, enum virtq_area area, uint64_t gpa)
{
	if (vq->ready)
		return -EBUSY;
	if ((unsigned int)area > VIRTQ_USED)
		return -EINVAL;
	vq->gpa[area] = gpa;
	return 0;
}

/* Host pointer for a ring area, or NULL if it leaves RAM or is misaligned
 * (the host check also keeps the atomic accesses below naturally aligned). */
static uint8_t *area_ptr(const struct virtq *vq, enum virtq_area area,
			 uint64_t len, uint64_t align)
{
	uint64_t gpa = vq->gpa[area];
	uint8_t *p;

	if (gpa & (align - 1))
		return NULL;
	p = gmem_ptr(vq->gm, gpa, len);
	if (!p || ((uintptr_t)p & (align - 1)))
		return NULL;
	return p;
}

/* Check the ring addresses and start the queue with the given state: what
 * the driver's enable and a snapshot's load both do.  0 or -EFAULT. */
static int start(struct virtq *vq, bool indirect, uint16_t last_avail,
		 uint16_t used_idx)
{
	uint64_t n = vq->size;
	uint8_t *desc, *avail, *used;

	desc = area_ptr(vq, VIRTQ_DESC, DESC_SIZE * n, 16);
	avail = area_ptr(vq, VIRTQ_AVAIL, RING_HDR + 2 * n, 2);
	used = area_ptr(vq, VIRTQ_USED, RING_HDR + USED_ELEM * n, 4);
	if (!desc || !avail || !used)
		return -EFAULT;
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	vq->indirect = indirect;
	vq->last_avail = last_avail;
	vq->used_idx = used_idx;
	vq->broken = false;
	vq->need_irq = false;
	vq->gen++;
	vq->ready = true;
	return 0;
}

int virtq_enable(struct virtq *vq, bool indirect)
{
	return start(vq, indirect, 0, 0);
}

static int vq_fail(struct virtq *vq, int err, const char *why)
{
	log_guest("virtq: %s (desc ring 0x%" PRIx64 "): queue stopped",
		  why, vq->gpa[VIRTQ_DESC]);
	vq->broken = true;
	return err;
}

/* Copy descriptor @i of @table out of guest memory: the guest may rewrite
 * it at any time, so only the copy is ever validated and used. */
static void desc_load(const uint8_t *table, uint32_t i, struct vdesc *d)
{
	uint8_t raw[DESC_SIZE];
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;

	memcpy(raw, table + (size_t)i * DESC_SIZE, DESC_SIZE);
	memcpy(&addr, raw, 8);
	memcpy(&len, raw + 8, 4);
	memcpy(&flags, raw + 12, 2);
	memcpy(&next, raw + 14, 2);
	d->addr = le64toh(addr);
	d->len = le32toh(len);
	d->flags = le16toh(flags);
	d->next = le16toh(next);
}

static int chain_add(struct virtq *vq, struct virtq_chain *c,
		     const struct vdesc *d)
{
	bool writable = d->flags & DESC_F_WRITE;
	struct virtq_seg *s;
	uint8_t *p;

	if (d->len == 0)
		return 0;	/* carries no data: nothing to map */
	if (!writable && c->nr_segs > c->nr_out)
		return vq_fail(vq, -EINVAL,
			       "readable descriptor after a writable one");
	if ((uint64_t)c->out_len + c->in_len + d->len > UINT32_MAX)
		return vq_fail(vq, -EINVAL, "chain longer than 4 GiB");
	p = gmem_ptr(vq->gm, d->addr, d->len);
	if (!p)
		return vq_fail(vq, -EFAULT, "descriptor outside RAM");
	s = &c->segs[c->nr_segs++];
	s->ptr = p;
	s->len = d->len;
	s->writable = writable;
	if (writable) {
		c->in_len += d->len;
	} else {
		c->nr_out++;
		c->out_len += d->len;
	}
	return 0;
}

static int enter_indirect(struct virtq *vq, const struct vdesc *d,
			  bool nested, const uint8_t **table, uint32_t *n)
{
	const uint8_t *t;

	if (!vq->indirect)
		return vq_fail(vq, -EINVAL,
			       "indirect descriptor not negotiated");
	if (nested)
		return vq_fail(vq, -EINVAL, "nested indirect descriptor");
	if (d->flags & DESC_F_NEXT)
		return vq_fail(vq, -EINVAL, "indirect descriptor with NEXT");
	if (d->len == 0 || d->len % DESC_SIZE)
		return vq_fail(vq, -EINVAL, "bad indirect table length");
	t = gmem_ptr(vq->gm, d->addr, d->len);
	if (!t)
		return vq_fail(vq, -EFAULT, "indirect table outside RAM");
	*table = t;
	*n = d->len / DESC_SIZE;
	return 0;
}

/* Walk the chain at @head.  Every descriptor holding data counts against
 * the queue size, which bounds loops in both the ring and indirect tables;
 * the one indirect pointer a chain may hold does not count, so a full-size
 * indirect table is accepted. */
static int walk(struct virtq *vq, struct virtq_chain *c, uint16_t head)
{
	const uint8_t *table = vq->desc;
	uint32_t n = vq->size, idx = head, seen = 0;
	bool in_indirect = false;
	struct vdesc d;
	int err;

	for (;;) {
		if (idx >= n)
			return vq_fail(vq, -EINVAL,
				       "descriptor index out of range");
		desc_load(table, idx, &d);
		if (d.flags & DESC_F_INDIRECT) {
			err = enter_indirect(vq, &d, in_indirect, &table, &n);
			if (err)
				return err;
			in_indirect = true;
			idx = 0;
			continue;
		}
		if (++seen > vq->size)
			return vq_fail(vq, -ELOOP,
				       "chain loops or exceeds queue size");
		err = chain_add(vq, c, &d);
		if (err)
			return err;
		if (!(d.flags & DESC_F_NEXT))
			return 0;
		idx = d.next;
	}
}

static uint16_t avail_idx_acquire(const struct virtq *vq)
{
	return le16toh(__atomic_load_n((const uint16_t *)(vq->avail + 2),
				       __ATOMIC_ACQUIRE));
}

uint16_t virtq_used_idx(const struct virtq *vq)
{
	return le16toh(__atomic_load_n((const uint16_t *)(vq->used + 2),
				       __ATOMIC_ACQUIRE));
}

int virtq_pop(struct virtq *vq, struct virtq_chain *c)
{
	const uint16_t *ring;
	uint16_t pending, head;
	int err;

	if (vq->broken)
		return -EIO;
	if (!vq->ready)
		return 0;
	pending = (uint16_t)(avail_idx_acquire(vq) - vq->last_avail);
	if (pending == 0)
		return 0;
	if (pending > vq->size)
		return vq_fail(vq, -EINVAL,
			       "avail idx ahead by more than the queue size");
	ring = (const uint16_t *)(vq->avail + RING_HDR);
	head = le16toh(__atomic_load_n(&ring[vq->last_avail % vq->size],
				       __ATOMIC_RELAXED));
	memset(c, 0, sizeof(*c));
	c->head = head;
	c->segs = vq->segs;
	err = walk(vq, c, head);
	if (err)
		return err;
	vq->last_avail++;
	return 1;
}

void virtq_unpop(struct virtq *vq, unsigned int n)
{
	if (vq->ready && n <= vq->size)
		vq->last_avail = (uint16_t)(vq->last_avail - n);
}

void virtq_fill(struct virtq *vq, uint16_t head, uint32_t written,
		unsigned int i)
{
	uint32_t *elem;

	if (!vq->ready)
		return;
	elem = (uint32_t *)(vq->used + RING_HDR +
			    (size_t)((uint16_t)(vq->used_idx + i) % vq->size) *
			    USED_ELEM);
	__atomic_store_n(&elem[0], htole32(head), __ATOMIC_RELAXED);
	__atomic_store_n(&elem[1], htole32(written), __ATOMIC_RELAXED);
}

void virtq_flush(struct virtq *vq, unsigned int n)
{
	if (!vq->ready || !n)
		return;
	vq->used_idx = (uint16_t)(vq->used_idx + n);
	/* Release: the elements filled are visible before the new index. */
	__atomic_store_n((uint16_t *)(vq->used + 2), htole16(vq->used_idx),
			 __ATOMIC_RELEASE);
	vq->need_irq = true;
}

void virtq_push(struct virtq *vq, const struct virtq_chain *c,
		uint32_t written)
{
	virtq_fill(vq, c->head, written > c->in_len ? c->in_len : written, 0);
	virtq_flush(vq, 1);
}

int virtq_serve(struct virtq *vq,
		void (*serve)(void *ctx, struct virtq *vq,
			      struct virtq_chain *c),
		void *ctx)
{
	struct virtq_chain c;

	for (unsigned int budget = vq->size; budget; budget--) {
		int r = virtq_pop(vq, &c);

		if (r <= 0)
			return r;
		serve(ctx, vq, &c);
	}
	return 0;
}

void virtq_set_notify(struct virtq *vq, bool on)
{
	if (!vq->ready)
		return;
	__atomic_store_n((uint16_t *)vq->used,
			 htole16(on ? 0 : USED_F_NO_NOTIFY), __ATOMIC_RELAXED);
	/* The flag is visible before we look at avail->idx again. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

bool virtq_has_avail(struct virtq *vq)
{
	return vq->ready && !vq->broken &&
	       avail_idx_acquire(vq) != vq->last_avail;
}

bool virtq_need_irq(struct virtq *vq)
{
	uint16_t flags;

	if (!vq->ready || !vq->need_irq)
		return false;
	vq->need_irq = false;
	/* Order our used->idx store before reading the driver's flag, which
	 * it sets before re-checking used->idx (virtio 1.2 §2.7.10). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	flags = le16toh(__atomic_load_n((const uint16_t *)vq->avail,
					__ATOMIC_RELAXED));
	return !(flags & AVAIL_F_NO_INTERRUPT);
}

/* Copy @len bytes between segments [@first, @last) of @c, starting @off
 * bytes into them, and a linear buffer: from @src into the chain when @src
 * is set, else from the chain into @dst. */
static int chain_copy(const struct virtq_chain *c, unsigned int first,
		      unsigned int last, uint32_t off, uint8_t *dst,
		      const uint8_t *src, uint32_t len)
{
	for (unsigned int i = first; i < last && len; i++) {
		const struct virtq_seg *s = &c->segs[i];
		uint32_t n;

		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		n = s->len - off < len ? s->len - off : len;
		if (src) {
			memcpy(s->ptr + off, src, n);
			src += n;
		} else {
			memcpy(dst, s->ptr + off, n);
			dst += n;
		}
		len -= n;
		off = 0;
	}
	return len ? -EINVAL : 0;
}

int virtq_chain_read(const struct virtq_chain *c, uint32_t off, void *dst,
		     uint32_t len)
{
	if ((uint64_t)off + len > c->out_len)
		return -EINVAL;
	return chain_copy(c, 0, c->nr_out, off, dst, NULL, len);
}

int virtq_chain_write(const struct virtq_chain *c, uint32_t off,
		      const void *src, uint32_t len)
{
	if ((uint64_t)off + len > c->in_len)
		return -EINVAL;
	return chain_copy(c, c->nr_out, c->nr_segs, off, NULL, src, len);
}

/* The queue's record: u16 max_size, u16 size, u64 desc, avail and used
 * ring addresses, bool ready, indirect, broken, need_irq, u16 last_avail,
 * used_idx.  The host pointers and the generation are the host's. */
void virtq_save(const struct virtq *vq, struct snap_w *w)
{
	snap_w_u16(w, vq->max_size);
	snap_w_u16(w, vq->size);
	for (unsigned int i = 0; i <= VIRTQ_USED; i++)
		snap_w_u64(w, vq->gpa[i]);
	snap_w_bool(w, vq->ready);
	snap_w_bool(w, vq->indirect);
	snap_w_bool(w, vq->broken);
	snap_w_bool(w, vq->need_irq);
	snap_w_u16(w, vq->last_avail);
	snap_w_u16(w, vq->used_idx);
}

int virtq_load(struct virtq *vq, struct snap_r *r, bool may_enable,
	       bool indirect_ok)
{
	uint16_t max_size = snap_r_u16(r), size = snap_r_u16(r);
	uint64_t gpa[3];
	bool ready, indirect, broken, need_irq;
	uint16_t last_avail, used_idx;

	for (unsigned int i = 0; i <= VIRTQ_USED; i++)
		gpa[i] = snap_r_u64(r);
	ready = snap_r_bool(r);
	indirect = snap_r_bool(r);
	broken = snap_r_bool(r);
	need_irq = snap_r_bool(r);
	last_avail = snap_r_u16(r);
	used_idx = snap_r_u16(r);
	/* The rules virtq_set_size() and the transport's enable follow. */
	snap_r_check(r, max_size == vq->max_size, "virtq: another max size");
	snap_r_check(r, is_pow2(size) && size <= vq->max_size,
		     "virtq: bad size");
	snap_r_check(r, !indirect || indirect_ok,
		     "virtq: indirect descriptors not negotiated");
	snap_r_check(r, ready || (!broken && !need_irq),
		     "virtq: state of a queue not ready");
	if (ready) {
		snap_r_check(r, may_enable, "virtq: ready before FEATURES_OK");
		snap_r_check(r, indirect == indirect_ok,
			     "virtq: indirect differs from the features");
		/* Chains taken and not returned: none after a drain, and
		 * never more than the ring holds. */
		snap_r_check(r, (uint16_t)(last_avail - used_idx) <= size,
			     "virtq: more in flight than the ring holds");
	}
	virtq_reset(vq);
	if (r->err)
		return -EBADMSG;
	vq->size = size;
	memcpy(vq->gpa, gpa, sizeof(gpa));
	vq->indirect = indirect;
	vq->last_avail = last_avail;
	vq->used_idx = used_idx;
	if (!ready)
		return 0;
	if (start(vq, indirect, last_avail, used_idx)) {
		snap_r_check(r, false, "virtq: rings outside RAM or misaligned");
		virtq_reset(vq);
		return -EBADMSG;
	}
	vq->broken = broken;
	vq->need_irq = need_irq;
	return 0;
}
