// SPDX-License-Identifier: MIT
/* Fuzz target: split virtqueues over fuzzed guest RAM (descriptor tables,
 * indirect tables, avail ring), driven through the virtq API the way the
 * transport and the backends drive it.  Checks every popped chain against
 * what virtq.h promises. */
#include "fuzz.h"

#include <errno.h>

#include "devices/virtq.h"

struct vq_fuzz {
	struct gmem *gm;
	struct virtq vq;
	unsigned int pushed;	/* chains pushed since the last enable */
};

static uint32_t size_value(uint8_t s)
{
	return s < 16 ? 1U << s : s;
}

static void read_areas(struct vq_fuzz *f, struct fin *in, bool raw)
{
	for (int a = VIRTQ_DESC; a <= VIRTQ_USED; a++) {
		uint64_t gpa = raw ? fin_u64(in) : FZ_RAM_BASE + fin_u32(in);

		FUZZ_CHECK(virtq_set_area(&f->vq, a, gpa) == 0);
	}
}

/* Is the ring area @a of @len bytes in RAM and @align-aligned? */
static bool area_ok(struct vq_fuzz *f, int a, uint64_t len, uint64_t align)
{
	uint64_t gpa = f->vq.gpa[a];

	return !(gpa & (align - 1)) && gpa >= f->gm->base &&
	       gpa - f->gm->base <= f->gm->size &&
	       len <= f->gm->size - (gpa - f->gm->base);
}

static void enable(struct vq_fuzz *f, bool indirect)
{
	uint64_t n = f->vq.size;
	bool ok = area_ok(f, VIRTQ_DESC, 16 * n, 16) &&
		  area_ok(f, VIRTQ_AVAIL, 4 + 2 * n, 2) &&
		  area_ok(f, VIRTQ_USED, 4 + 8 * n, 4);
	int r = virtq_enable(&f->vq, indirect);

	FUZZ_CHECK((r == 0) == ok);
	if (r == 0) {
		FUZZ_CHECK(f->vq.ready && !f->vq.broken);
		f->pushed = 0;
	} else {
		FUZZ_CHECK(!f->vq.ready);
	}
}

/* Everything virtq.h promises about a popped chain. */
static void check_chain(struct vq_fuzz *f, const struct virtq_chain *c)
{
	const uint8_t *lo = f->gm->host, *hi = lo + f->gm->size;
	uint64_t out = 0, in = 0;
	uint8_t b;

	FUZZ_CHECK(c->head < f->vq.size);
	FUZZ_CHECK(c->nr_out <= c->nr_segs && c->nr_segs <= f->vq.size);
	FUZZ_CHECK(c->segs == f->vq.segs);
	for (unsigned int i = 0; i < c->nr_segs; i++) {
		const struct virtq_seg *s = &c->segs[i];

		FUZZ_CHECK(s->len != 0);
		FUZZ_CHECK(s->writable == (i >= c->nr_out));
		FUZZ_CHECK(s->ptr >= lo && s->ptr < hi &&
			   s->len <= (uint64_t)(hi - s->ptr));
		if (s->writable)
			in += s->len;
		else
			out += s->len;
	}
	FUZZ_CHECK(out == c->out_len && in == c->in_len);
	FUZZ_CHECK(out + in <= UINT32_MAX);
	/* The edges of each part are reachable, one byte past is not. */
	if (c->out_len) {
		FUZZ_CHECK(virtq_chain_read(c, c->out_len - 1, &b, 1) == 0);
		FUZZ_CHECK(virtq_chain_read(c, 0, &b, 1) == 0);
	}
	FUZZ_CHECK(virtq_chain_read(c, c->out_len, &b, 1) == -EINVAL);
	FUZZ_CHECK(virtq_chain_read(c, UINT32_MAX, &b, 1) == -EINVAL);
	FUZZ_CHECK(virtq_chain_write(c, c->in_len, &b, 1) == -EINVAL);
	FUZZ_CHECK(virtq_chain_write(c, UINT32_MAX, &b, 1) == -EINVAL);
}

static void push(struct vq_fuzz *f, const struct virtq_chain *c,
		 uint32_t written)
{
	uint16_t idx;

	virtq_push(&f->vq, c, written);
	f->pushed++;
	/* used->idx is the last thing virtq_push() writes. */
	memcpy(&idx, f->vq.used + 2, 2);
	FUZZ_CHECK(le16toh(idx) == (uint16_t)f->pushed);
	FUZZ_CHECK(f->vq.used_idx == (uint16_t)f->pushed);
}

/* 1 if a chain was popped into @c, else 0 (checking the error rules). */
static int pop(struct vq_fuzz *f, struct virtq_chain *c)
{
	bool was_broken = f->vq.broken, was_ready = f->vq.ready;
	uint16_t last = f->vq.last_avail;
	int r = virtq_pop(&f->vq, c);

	if (was_broken) {
		FUZZ_CHECK(r == -EIO);
		return 0;
	}
	if (r < 0) {
		FUZZ_CHECK(f->vq.broken && f->vq.last_avail == last);
		FUZZ_CHECK(r == -EINVAL || r == -EFAULT || r == -ELOOP);
		return 0;
	}
	if (r == 0) {
		FUZZ_CHECK(f->vq.last_avail == last);
		return 0;
	}
	FUZZ_CHECK(r == 1 && was_ready);
	FUZZ_CHECK(f->vq.last_avail == (uint16_t)(last + 1));
	check_chain(f, c);
	return 1;
}

static void pop_rw(struct vq_fuzz *f, struct fin *in)
{
	uint32_t roff = fin_u16(in), rlen = fin_u16(in);
	uint32_t woff = fin_u16(in), wlen = fin_u16(in);
	struct virtq_chain c;
	uint8_t *buf;
	int r;

	if (!pop(f, &c))
		return;
	buf = calloc(1, 65536);
	FUZZ_CHECK(buf);
	r = virtq_chain_read(&c, roff, buf, rlen);
	FUZZ_CHECK(r == ((uint64_t)roff + rlen <= c.out_len ? 0 : -EINVAL));
	fin_bytes(in, buf, wlen > 64 ? 64 : wlen);
	r = virtq_chain_write(&c, woff, buf, wlen);
	FUZZ_CHECK(r == ((uint64_t)woff + wlen <= c.in_len ? 0 : -EINVAL));
	free(buf);
	push(f, &c, r ? 0 : woff + wlen);
}

/* The driver side: put @head in the next avail slot and bump avail->idx
 * (only while the ring is where the device was told it is). */
static void publish(struct vq_fuzz *f, uint16_t head)
{
	uint8_t *avail = f->vq.avail;
	uint16_t idx, v;

	if (!f->vq.ready)
		return;
	memcpy(&idx, avail + 2, 2);
	idx = le16toh(idx);
	v = htole16(head);
	memcpy(avail + 4 + 2 * (idx % f->vq.size), &v, 2);
	v = htole16((uint16_t)(idx + 1));
	memcpy(avail + 2, &v, 2);
}

static void run_op(struct vq_fuzz *f, struct fin *in)
{
	struct virtq_chain c;
	uint32_t u;

	switch (fin_u8(in) % FZ_VQ_NR_OPS) {
	case FZ_VQ_POP:
		u = fin_u32(in);
		if (pop(f, &c))
			push(f, &c, u);
		break;
	case FZ_VQ_POP_RW:
		pop_rw(f, in);
		break;
	case FZ_VQ_PUBLISH:
		publish(f, fin_u16(in));
		break;
	case FZ_VQ_POKE:
		u = fin_u32(in);
		fuzz_ram_poke(f->gm, in, u, fin_u8(in));
		break;
	case FZ_VQ_NEED_IRQ:
		virtq_need_irq(&f->vq);
		FUZZ_CHECK(!virtq_need_irq(&f->vq));
		break;
	case FZ_VQ_DISABLE:
		virtq_disable(&f->vq);
		FUZZ_CHECK(!f->vq.ready);
		FUZZ_CHECK(virtq_pop(&f->vq, &c) == 0);
		break;
	case FZ_VQ_ENABLE:
		if (!f->vq.ready)
			enable(f, fin_u8(in) & 1);
		break;
	case FZ_VQ_RESET:
		virtq_reset(&f->vq);
		FUZZ_CHECK(!f->vq.ready && f->vq.size == f->vq.max_size);
		u = size_value(fin_u8(in));
		FUZZ_CHECK((virtq_set_size(&f->vq, u) == 0) ==
			   (!(u & (u - 1)) && u <= f->vq.max_size));
		read_areas(f, in, false);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = { data, size };
	struct vq_fuzz f = { 0 };
	uint8_t cfg = fin_u8(&in);
	uint32_t qsize = size_value(fin_u8(&in));
	uint16_t max = (uint16_t)(1U << (cfg & 15));

	fuzz_quiet();
	f.gm = fuzz_ram(FZ_RAM_BASE, FZ_VQ_RAM_SIZE);
	FUZZ_CHECK(virtq_init(&f.vq, f.gm, max) == 0);
	if (virtq_set_size(&f.vq, qsize))
		FUZZ_CHECK(qsize & (qsize - 1) || qsize > max || !qsize);
	read_areas(&f, &in, cfg & FZ_VQ_CFG_RAW_AREAS);
	fuzz_ram_fill(f.gm, &in);
	enable(&f, cfg & FZ_VQ_CFG_INDIRECT);
	/* Every op consumes input, so this ends. */
	while (in.left)
		run_op(&f, &in);
	virtq_fini(&f.vq);
	return 0;
}
