// SPDX-License-Identifier: MIT
/* Fuzz target: virtio-blk requests built from the input and sent through a
 * correctly set up queue (direct or indirect chains, split or short
 * headers, any segment lengths and directions, any sector), checked against
 * a model: a shadow copy of the disk and the request semantics virtio_blk.h
 * documents.  Every completed request must carry the status the model
 * expects, data must match the shadow, bytes the device had no business
 * writing must be untouched, and a chain that breaks the ring rules must
 * put the device in DEVICE_NEEDS_RESET (the target then resets it and goes
 * on). */
#include "fuzz.h"

#include <inttypes.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/device.h"
#include "devices/virtio.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_mmio.h"
#include "tests/support/files.h"
#include "tests/support/vmmio_drv.h"

/* Guest RAM layout. */
#define DESC		(FZ_RAM_BASE + 0x0000)
#define AVAIL		(FZ_RAM_BASE + 0x1000)
#define USED		(FZ_RAM_BASE + 0x2000)
#define TABLES		(FZ_RAM_BASE + 0x3000)
#define TABLES_END	(FZ_RAM_BASE + 0x4000)
#define DATA		(FZ_RAM_BASE + 0x4000)
#define DATA_END	(FZ_RAM_BASE + FZ_BLK_RAM_SIZE)

#define DEV_BASE	0x10001000ULL
#define IRQ		7
#define MAX_DATA_SEGS	8
#define MAX_SEGS	(2 + MAX_DATA_SEGS + 1)
#define MAX_BATCH	256
#define UNWRITTEN	0xaa	/* device-writable bytes before the request */

#define F_NEXT		1
#define F_WRITE		2
#define F_INDIRECT	4

struct seg {
	uint64_t gpa;
	uint32_t len;
	bool writable;
};

struct req {
	uint16_t head;
	bool broken;		/* breaks the ring rules */
	unsigned int nseg;
	struct seg seg[MAX_SEGS];
};

struct blk_fuzz {
	struct gmem *gm;
	struct rivet_dev *dev;
	struct fuzz_irq irq;
	struct irq_chip chip;
	int fd;			/* our view of the image */
	bool ro;
	bool indirect;
	uint64_t disk_size;
	uint8_t *shadow;
	uint8_t id[VIRTIO_BLK_ID_BYTES];
	uint16_t qsize;
	uint16_t avail_idx;
	uint16_t used_idx;
	uint16_t next_desc;	/* free ring descriptors: [next_desc, qsize) */
	uint64_t next_table;
	uint64_t next_data;
	unsigned int nreq;
	unsigned int serial;	/* requests made, for data patterns */
	struct req req[MAX_BATCH];
};

static uint8_t *ram(struct blk_fuzz *f, uint64_t gpa, uint64_t len)
{
	uint8_t *p = gmem_ptr(f->gm, gpa, len);

	FUZZ_CHECK(p);
	return p;
}

static void desc_at(struct blk_fuzz *f, uint64_t gpa, const struct seg *s,
		    uint16_t flags, uint16_t next)
{
	vring_desc(ram(f, gpa, 16), s->gpa, s->len, flags, next);
}

/* Byte patterns, made once: whole-buffer copies and compares keep the
 * per-input cost (and the coverage noise) of byte loops out of the way. */
#define PATTERN_LEN (FZ_BLK_RAM_SIZE + 256)
static uint8_t pattern[PATTERN_LEN], unwritten[FZ_BLK_RAM_SIZE];

static void init_patterns(void)
{
	if (pattern[0])
		return;
	for (size_t i = 0; i < PATTERN_LEN; i++)
		pattern[i] = (uint8_t)(i * 13 + 1);
	memset(unwritten, UNWRITTEN, sizeof(unwritten));
}

/* ---- device set-up ------------------------------------------------------ */

static const uint64_t disk_sizes[] = FZ_DISK_SIZES;
static int image_fd = -1;	/* the disk: one memfd for the process */

/* The serial GET_ID must return (virtio_blk.h). */
static void expected_id(struct blk_fuzz *f)
{
	char id[64];
	struct stat st;

	FUZZ_CHECK(fstat(f->fd, &st) == 0);
	snprintf(id, sizeof(id), "rivet-%" PRIx64 "-%" PRIx64,
		 (uint64_t)st.st_dev, (uint64_t)st.st_ino);
	memset(f->id, 0, sizeof(f->id));
	memcpy(f->id, id, strnlen(id, sizeof(f->id)));
}

/* Status 0, then the Linux probe with queue 0 of f->qsize at our rings. */
static void driver_init(struct blk_fuzz *f)
{
	uint64_t feat = VIRTIO_BIT(VIRTIO_F_VERSION_1);
	uint32_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	if (f->indirect)
		feat |= VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC);
	/* Empty rings: DRIVER_OK consumes what is already available. */
	mw32(f->dev, VIRTIO_MMIO_STATUS, 0);
	memset(ram(f, DESC, TABLES_END - DESC), 0, TABLES_END - DESC);
	st |= VIRTIO_STATUS_FEATURES_OK;
	FUZZ_CHECK(vmmio_negotiate(f->dev, feat) == st);
	FUZZ_CHECK(vmmio_queue(f->dev, 0, f->qsize, DESC, AVAIL, USED, true) ==
		   1);
	st |= VIRTIO_STATUS_DRIVER_OK;
	mw32(f->dev, VIRTIO_MMIO_STATUS, st);
	FUZZ_CHECK(mr32(f->dev, VIRTIO_MMIO_STATUS) == st);
	f->avail_idx = 0;
	f->used_idx = 0;
}

static void setup(struct blk_fuzz *f, uint8_t cfg, uint8_t qlog)
{
	struct virtio_backend *be;
	uint64_t cap;
	int fd;

	f->ro = cfg & 1;
	f->indirect = cfg & 2;
	f->disk_size = disk_sizes[(cfg >> 2) & 3];
	f->qsize = (uint16_t)(1U << (qlog % 9));	/* 1 .. 256 */
	f->fd = ts_memfd(&image_fd, "rivet-fuzz-blk", 0);
	f->shadow = malloc(f->disk_size + 1);
	FUZZ_CHECK(f->shadow);
	memcpy(f->shadow, pattern + 128, f->disk_size);
	FUZZ_CHECK(ftruncate(f->fd, 0) == 0);
	FUZZ_CHECK(pwrite(f->fd, f->shadow, f->disk_size, 0) ==
		   (ssize_t)f->disk_size);
	expected_id(f);
	fd = dup(f->fd);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(vblk_create_fd(fd, "fuzz-blk", f->ro, &be) == 0);
	f->chip = (struct irq_chip){ .set_level = fuzz_irq_set,
				     .ctx = &f->irq };
	FUZZ_CHECK(virtio_mmio_create(f->gm, DEV_BASE, 0x1000,
				      (struct irq_line){ &f->chip, IRQ }, be,
				      &f->dev) == 0);
	/* Config space: capacity and blk_size as documented. */
	cap = (uint64_t)mr32(f->dev, VIRTIO_MMIO_CONFIG) |
	      (uint64_t)mr32(f->dev, VIRTIO_MMIO_CONFIG + 4) << 32;
	FUZZ_CHECK(cap == f->disk_size / VIRTIO_BLK_SECTOR);
	FUZZ_CHECK(mr32(f->dev, VIRTIO_MMIO_CONFIG + 20) == VIRTIO_BLK_SECTOR);
	driver_init(f);
}

/* ---- building requests -------------------------------------------------- */

/* @len bytes of data area (clipped to what is left), device-writable ones
 * set to UNWRITTEN, readable ones to a pattern that varies by request. */
static uint64_t alloc_data(struct blk_fuzz *f, uint32_t *len, bool writable)
{
	uint64_t gpa = f->next_data;
	uint8_t *p;

	if (*len > DATA_END - gpa)
		*len = (uint32_t)(DATA_END - gpa);
	p = ram(f, gpa, *len);
	if (writable)
		memset(p, UNWRITTEN, *len);
	else
		memcpy(p, pattern + f->serial % 251, *len);
	f->next_data += *len;
	return gpa;
}

static void add_seg(struct blk_fuzz *f, struct req *r, uint32_t len,
		    bool writable, const uint8_t *bytes)
{
	struct seg *s = &r->seg[r->nseg++];

	s->gpa = alloc_data(f, &len, writable);
	s->len = len;
	s->writable = writable;
	if (bytes && !writable)
		memcpy(ram(f, s->gpa, len), bytes, len);
}

/* Lay the request's descriptors out in the ring or an indirect table. */
static bool place(struct blk_fuzz *f, struct req *r, bool indirect)
{
	uint64_t table = f->next_table;

	if (indirect) {
		struct seg t = { table, 16 * r->nseg, false };

		if (f->next_desc >= f->qsize ||
		    16 * r->nseg > TABLES_END - table)
			return false;
		for (unsigned int i = 0; i < r->nseg; i++)
			desc_at(f, table + 16 * i, &r->seg[i],
				(r->seg[i].writable ? F_WRITE : 0) |
				(i + 1 < r->nseg ? F_NEXT : 0),
				(uint16_t)(i + 1));
		f->next_table += 16 * r->nseg;
		r->head = f->next_desc++;
		desc_at(f, DESC + 16ULL * r->head, &t, F_INDIRECT, 0);
		return true;
	}
	if (r->nseg > (unsigned int)(f->qsize - f->next_desc))
		return false;
	r->head = f->next_desc;
	for (unsigned int i = 0; i < r->nseg; i++) {
		uint16_t d = f->next_desc++;

		desc_at(f, DESC + 16ULL * d, &r->seg[i],
			(r->seg[i].writable ? F_WRITE : 0) |
			(i + 1 < r->nseg ? F_NEXT : 0), (uint16_t)(d + 1));
	}
	return true;
}

/* Would virtq_pop() refuse this chain? */
static bool breaks_rules(struct blk_fuzz *f, const struct req *r,
			 bool indirect)
{
	bool seen_writable = false;

	if (indirect && (!f->indirect || r->nseg == 0))
		return true;
	if (r->nseg > f->qsize)
		return true;	/* longer than the queue */
	for (unsigned int i = 0; i < r->nseg; i++) {
		if (!r->seg[i].len)
			continue;	/* skipped by the device */
		if (r->seg[i].writable)
			seen_writable = true;
		else if (seen_writable)
			return true;	/* readable after writable */
	}
	return false;
}

/* ---- completing and checking -------------------------------------------- */

static void gather(struct blk_fuzz *f, const struct req *r, bool writable,
		   uint8_t *buf, uint64_t *len)
{
	*len = 0;
	for (unsigned int i = 0; i < r->nseg; i++) {
		const struct seg *s = &r->seg[i];

		if (s->writable != writable || !s->len)
			continue;
		memcpy(buf + *len, ram(f, s->gpa, s->len), s->len);
		*len += s->len;
	}
}

static bool range_ok(struct blk_fuzz *f, uint64_t sector, uint64_t len)
{
	uint64_t cap = f->disk_size / VIRTIO_BLK_SECTOR;

	return len % VIRTIO_BLK_SECTOR == 0 && sector <= cap &&
	       len / VIRTIO_BLK_SECTOR <= cap - sector;
}

static void check_unwritten(const uint8_t *p, uint64_t from, uint64_t to)
{
	if (from < to)
		FUZZ_CHECK(!memcmp(p + from, unwritten, to - from));
}

/* The request's outcome per virtio_blk.h; @out/@in are what the driver
 * put in the readable part and what the device left in the writable one.
 * Applies successful writes to the shadow. */
static void check_req(struct blk_fuzz *f, const uint8_t *out,
		      uint64_t out_len, const uint8_t *in, uint64_t in_len)
{
	uint8_t status = in[in_len - 1], want;
	uint64_t data = in_len - 1, sector = 0;
	uint32_t type = UINT32_MAX;

	if (out_len >= 16) {
		type = (uint32_t)mmio_get(out, 4);
		sector = mmio_get(out + 8, 8);
	}
	if (out_len < 16) {
		want = VIRTIO_BLK_S_IOERR;
	} else if (type == VIRTIO_BLK_T_IN) {
		want = out_len == 16 && range_ok(f, sector, data) ?
		       VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
		if (want == VIRTIO_BLK_S_OK) {
			FUZZ_CHECK(!memcmp(in, f->shadow + sector * 512, data));
			data = 0;
		}
	} else if (type == VIRTIO_BLK_T_OUT) {
		want = !f->ro && range_ok(f, sector, out_len - 16) ?
		       VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
		if (want == VIRTIO_BLK_S_OK)
			memcpy(f->shadow + sector * 512, out + 16,
			       out_len - 16);
	} else if (type == VIRTIO_BLK_T_FLUSH) {
		want = VIRTIO_BLK_S_OK;
	} else if (type == VIRTIO_BLK_T_GET_ID) {
		want = in_len - 1 >= VIRTIO_BLK_ID_BYTES ? VIRTIO_BLK_S_OK :
							   VIRTIO_BLK_S_IOERR;
		if (want == VIRTIO_BLK_S_OK) {
			FUZZ_CHECK(!memcmp(in, f->id, VIRTIO_BLK_ID_BYTES));
			check_unwritten(in, VIRTIO_BLK_ID_BYTES, in_len - 1);
			data = 0;
		}
	} else {
		want = VIRTIO_BLK_S_UNSUPP;
	}
	if (status != want)
		fprintf(fuzz_err, "virtio-blk: type %u sector %" PRIu64
			" out %" PRIu64 " in %" PRIu64 ": status %u, want %u\n",
			type, sector, out_len, in_len, status, want);
	FUZZ_CHECK(status == want);
	check_unwritten(in, 0, data);
}

static void complete(struct blk_fuzz *f, const struct req *r)
{
	uint8_t *used = ram(f, USED, 4 + 8ULL * f->qsize);
	uint8_t *elem = used + 4 + 8 * (f->used_idx % f->qsize);
	static uint8_t out[MAX_SEGS * 65536], in[MAX_SEGS * 65536];
	uint64_t out_len, in_len;

	gather(f, r, false, out, &out_len);
	gather(f, r, true, in, &in_len);
	FUZZ_CHECK(mmio_get(elem, 4) == r->head);
	FUZZ_CHECK(mmio_get(elem + 4, 4) == in_len);
	f->used_idx++;
	if (in_len)
		check_req(f, out, out_len, in, in_len);
}

/* Publish the batch, notify, check every completion and the disk. */
static void flush_batch(struct blk_fuzz *f)
{
	uint8_t *avail = ram(f, AVAIL, 4 + 2ULL * f->qsize);
	uint8_t *used = ram(f, USED, 4);
	uint16_t start = f->used_idx;
	unsigned int done = 0;
	bool broken = false;
	uint32_t isr;

	if (!f->nreq)
		return;
	for (unsigned int i = 0; i < f->nreq; i++) {
		mmio_put(avail + 4 + 2 * (f->avail_idx % f->qsize), 2,
			 f->req[i].head);
		f->avail_idx++;
	}
	mmio_put(avail + 2, 2, f->avail_idx);
	mw32(f->dev, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	for (; done < f->nreq && !broken; done++) {
		broken = f->req[done].broken;
		if (!broken)
			complete(f, &f->req[done]);
	}
	FUZZ_CHECK(mmio_get(used + 2, 2) == f->used_idx);
	FUZZ_CHECK(!!(mr32(f->dev, VIRTIO_MMIO_STATUS) &
		      VIRTIO_STATUS_NEEDS_RESET) == broken);
	isr = mr32(f->dev, VIRTIO_MMIO_INTERRUPT_STATUS);
	FUZZ_CHECK(!!(isr & VIRTIO_MMIO_INT_VRING) == (f->used_idx != start));
	FUZZ_CHECK(!!(isr & VIRTIO_MMIO_INT_CONFIG) == broken);
	FUZZ_CHECK(f->irq.level[IRQ] == (isr != 0));
	mw32(f->dev, VIRTIO_MMIO_INTERRUPT_ACK, isr);
	FUZZ_CHECK(!f->irq.level[IRQ]);
	if (broken)
		driver_init(f);
	f->nreq = 0;
	f->next_desc = 0;
	f->next_table = TABLES;
	f->next_data = DATA;
}

static void check_disk(struct blk_fuzz *f)
{
	uint8_t *buf = malloc(f->disk_size + 1);

	FUZZ_CHECK(buf);
	FUZZ_CHECK(pread(f->fd, buf, f->disk_size, 0) ==
		   (ssize_t)f->disk_size);
	FUZZ_CHECK(!memcmp(buf, f->shadow, f->disk_size));
	free(buf);
}

static const uint32_t kind_type[8] = {
	VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH,
	VIRTIO_BLK_T_GET_ID, 0, VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT,
	VIRTIO_BLK_T_IN,
};

/* One request from the input; see fuzz.h for the format. */
static void make_req(struct blk_fuzz *f, struct fin *in)
{
	uint8_t kind = fin_u8(in), hdr[16] = { 0 }, nseg, slen;
	uint64_t sector = kind & FZ_BLK_KIND_SECTOR64 ? fin_u64(in) :
							fin_u8(in);
	uint32_t type = kind_type[kind & FZ_BLK_KIND_TYPE];
	bool indirect = kind & FZ_BLK_KIND_INDIRECT;
	struct seg spec[MAX_SEGS];
	unsigned int n = 0, nhdr, hlen = 16, off = 0;
	uint64_t bytes = 0;
	bool data_in;
	struct req *r;

	if ((kind & FZ_BLK_KIND_TYPE) == 4)
		type = fin_u32(in);
	data_in = type != VIRTIO_BLK_T_OUT;
	mmio_put(hdr, 4, type);
	mmio_put(hdr + 8, 8, sector);
	if (kind & FZ_BLK_KIND_SHORT_HDR)
		hlen = fin_u8(in) % 16;
	if (kind & FZ_BLK_KIND_SPLIT_HDR) {
		uint8_t cut = fin_u8(in) % (hlen + 1);

		spec[n++] = (struct seg){ 0, cut, false };
		spec[n++] = (struct seg){ 0, hlen - cut, false };
	} else {
		spec[n++] = (struct seg){ 0, hlen, false };
	}
	nhdr = n;
	nseg = fin_u8(in) % (MAX_DATA_SEGS + 1);
	for (unsigned int i = 0; i < nseg; i++) {
		uint16_t len = fin_u16(in);
		bool flip = fin_u8(in) & FZ_BLK_SEG_FLIP;

		spec[n++] = (struct seg){ 0, len, data_in != flip };
	}
	slen = fin_u8(in) % 4;
	if (slen)
		spec[n++] = (struct seg){ 0, slen, true };
	for (unsigned int i = 0; i < n; i++)
		bytes += spec[i].len;
	/* Send the batch first if this request does not fit what is left
	 * of the ring, the indirect tables or the data area. */
	if (f->nreq == MAX_BATCH || f->nreq == f->qsize ||
	    (indirect ? f->next_desc >= f->qsize ||
			16 * n > TABLES_END - f->next_table :
			n > (unsigned int)(f->qsize - f->next_desc)) ||
	    bytes > DATA_END - f->next_data)
		flush_batch(f);
	r = &f->req[f->nreq];
	r->nseg = 0;
	for (unsigned int i = 0; i < n; i++) {
		add_seg(f, r, spec[i].len, spec[i].writable,
			i < nhdr ? hdr + off : NULL);
		if (i < nhdr)
			off += spec[i].len;
	}
	r->broken = breaks_rules(f, r, indirect);
	if (!place(f, r, indirect))
		return;		/* more descriptors than the queue has */
	f->serial++;
	f->nreq++;
	if (fin_u8(in) || r->broken)
		flush_batch(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct blk_fuzz f;
	struct fin in = { data, size };
	uint8_t cfg, qlog;

	fuzz_quiet();
	init_patterns();
	memset(&f, 0, sizeof(f));
	f.gm = fuzz_ram(FZ_RAM_BASE, FZ_BLK_RAM_SIZE);
	memset(f.gm->host, 0, f.gm->size);
	f.next_table = TABLES;
	f.next_data = DATA;
	cfg = fin_u8(&in);
	qlog = fin_u8(&in);
	setup(&f, cfg, qlog);
	while (in.left)
		make_req(&f, &in);
	flush_batch(&f);
	check_disk(&f);
	f.dev->ops->destroy(f.dev);
	free(f.shadow);
	return 0;
}
