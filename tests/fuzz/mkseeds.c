// SPDX-License-Identifier: MIT
/* Seed generator for the fuzz corpus: writes small inputs that reach deep
 * into each target (a Linux-like driver's requests, each hostile-guest
 * class of docs/hardening.md, valid and corrupt kernel Images, typical
 * command lines) to DIR/<target>/seed-<what>.
 *
 * Usage: mkseeds DIR   (make fuzz-seeds) */
#define FUZZ_NO_RUNTIME
#include "fuzz.h"

#include <errno.h>
#include <sys/stat.h>

static const char *outdir;

/* ---- output buffer ------------------------------------------------------ */

struct sb {
	uint8_t b[16384];
	size_t n;
};

static void put(struct sb *s, uint64_t v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes && s->n < sizeof(s->b); i++)
		s->b[s->n++] = (uint8_t)(v >> (8 * i));
}

static void put_bytes(struct sb *s, const void *p, size_t len)
{
	if (len > sizeof(s->b) - s->n)
		len = sizeof(s->b) - s->n;
	memcpy(s->b + s->n, p, len);
	s->n += len;
}

static void emit(const char *target, const char *name, const struct sb *s)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, target);
	if (mkdir(path, 0755) && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/seed-%s", outdir, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(s->b, 1, s->n, f) != s->n || fclose(f)) {
		perror(path);
		exit(1);
	}
}

/* ---- a guest RAM image with split rings --------------------------------- */

/* Compact layout for the virtq and virtio-mmio seeds (offsets in RAM). */
#define R_DESC	0x000
#define R_AVAIL	0x100
#define R_USED	0x200
#define R_TABLE	0x300
#define R_DATA	0x400
#define R_SIZE	0x800
#define QSIZE	8

#define F_NEXT	1
#define F_WRITE	2
#define F_IND	4

struct ram {
	uint8_t b[R_SIZE];
};

static void ram_le(struct ram *r, size_t off, uint64_t v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++)
		r->b[off + i] = (uint8_t)(v >> (8 * i));
}

static void ram_desc(struct ram *r, size_t off, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	ram_le(r, off, addr, 8);
	ram_le(r, off + 8, len, 4);
	ram_le(r, off + 12, flags, 2);
	ram_le(r, off + 14, next, 2);
}

/* Descriptor @i of the ring. */
static void ring_desc(struct ram *r, uint16_t i, uint64_t addr, uint32_t len,
		      uint16_t flags, uint16_t next)
{
	ram_desc(r, R_DESC + 16 * i, addr, len, flags, next);
}

static uint64_t gpa(size_t off)
{
	return FZ_RAM_BASE + off;
}

/* Make @n heads available (avail ring entries 0..n-1, idx = n). */
static void ram_avail(struct ram *r, const uint16_t *heads, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		ram_le(r, R_AVAIL + 4 + 2 * i, heads[i], 2);
	ram_le(r, R_AVAIL + 2, n, 2);
}

static void put_ram(struct sb *s, const struct ram *r)
{
	put(s, R_SIZE, 2);
	put_bytes(s, r->b, R_SIZE);
}

/* A virtio-blk read of sector 1 into 512 bytes: hdr, data, status. */
static void blk_read_chain(struct ram *r, uint16_t first, uint32_t type)
{
	ram_le(r, R_DATA, type, 4);
	ram_le(r, R_DATA + 8, 1, 8);
	ring_desc(r, first, gpa(R_DATA), 16, F_NEXT, first + 1);
	ring_desc(r, first + 1, gpa(R_DATA + 0x100), 512, F_WRITE | F_NEXT,
		  first + 2);
	ring_desc(r, first + 2, gpa(R_DATA + 0x80), 1, F_WRITE, 0);
}

/* ---- virtq -------------------------------------------------------------- */

static void vq_head(struct sb *s, uint8_t cfg)
{
	s->n = 0;
	put(s, cfg | 3, 1);	/* max_size 8 */
	put(s, 3, 1);		/* size 8 */
	put(s, R_DESC, 4);
	put(s, R_AVAIL, 4);
	put(s, R_USED, 4);
}

static void vq_pops(struct sb *s, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		put(s, FZ_VQ_POP_RW, 1);
		put(s, 0, 2);
		put(s, 16, 2);
		put(s, 0, 2);
		put(s, 1, 2);
		put(s, 0x5a, 1);
	}
	put(s, FZ_VQ_NEED_IRQ, 1);
}

static void seeds_virtq(void)
{
	struct sb s;
	struct ram r;
	uint16_t heads[4] = { 0, 3, 4, 5 };

	/* Two good direct chains, then publish more through the op. */
	memset(&r, 0, sizeof(r));
	blk_read_chain(&r, 0, 0);
	ring_desc(&r, 3, gpa(R_DATA + 0x300), 64, F_WRITE, 0);
	ram_avail(&r, heads, 2);
	vq_head(&s, 0);
	put_ram(&s, &r);
	vq_pops(&s, 2);
	put(&s, FZ_VQ_PUBLISH, 1);
	put(&s, 0, 2);
	vq_pops(&s, 1);
	emit("virtq", "direct", &s);

	/* Indirect table of three, with and without the feature. */
	memset(&r, 0, sizeof(r));
	ram_desc(&r, R_TABLE, gpa(R_DATA), 16, F_NEXT, 1);
	ram_desc(&r, R_TABLE + 16, gpa(R_DATA + 0x100), 512, F_WRITE | F_NEXT,
		 2);
	ram_desc(&r, R_TABLE + 32, gpa(R_DATA + 0x80), 1, F_WRITE, 0);
	ring_desc(&r, 0, gpa(R_TABLE), 48, F_IND, 0);
	ram_avail(&r, heads, 1);
	vq_head(&s, FZ_VQ_CFG_INDIRECT);
	put_ram(&s, &r);
	vq_pops(&s, 1);
	emit("virtq", "indirect", &s);
	vq_head(&s, 0);
	put_ram(&s, &r);
	vq_pops(&s, 1);
	emit("virtq", "indirect-not-negotiated", &s);

	/* Nested indirect; indirect with NEXT; odd table length. */
	ram_desc(&r, R_TABLE + 16, gpa(R_TABLE), 48, F_IND, 0);
	vq_head(&s, FZ_VQ_CFG_INDIRECT);
	put_ram(&s, &r);
	vq_pops(&s, 1);
	emit("virtq", "indirect-nested", &s);
	ring_desc(&r, 0, gpa(R_TABLE), 40, F_IND, 0);
	vq_head(&s, FZ_VQ_CFG_INDIRECT);
	put_ram(&s, &r);
	vq_pops(&s, 1);
	emit("virtq", "indirect-odd-length", &s);

	/* A loop, a zero-length descriptor, readable after writable. */
	memset(&r, 0, sizeof(r));
	ring_desc(&r, 0, gpa(R_DATA), 16, F_NEXT, 1);
	ring_desc(&r, 1, gpa(R_DATA + 16), 16, F_NEXT, 0);
	ram_avail(&r, heads, 1);
	vq_head(&s, 0);
	put_ram(&s, &r);
	vq_pops(&s, 1);
	emit("virtq", "loop", &s);
	ring_desc(&r, 1, gpa(R_DATA + 16), 0, F_WRITE | F_NEXT, 2);
	ring_desc(&r, 2, gpa(R_DATA + 32), 8, 0, 0);
	vq_head(&s, 0);
	put_ram(&s, &r);
	vq_pops(&s, 1);
	emit("virtq", "zero-length", &s);
	ring_desc(&r, 1, gpa(R_DATA + 16), 4, F_WRITE | F_NEXT, 2);
	vq_head(&s, 0);
	put_ram(&s, &r);
	vq_pops(&s, 1);
	emit("virtq", "readable-after-writable", &s);

	/* Buffers straddling the end of RAM, wrapping, huge. */
	memset(&r, 0, sizeof(r));
	ring_desc(&r, 0, FZ_RAM_BASE + FZ_VQ_RAM_SIZE - 8, 16, 0, 0);
	ring_desc(&r, 1, UINT64_MAX - 7, 16, 0, 0);
	ring_desc(&r, 2, gpa(0), UINT32_MAX, F_WRITE, 0);
	heads[0] = 0;
	heads[1] = 1;
	heads[2] = 2;
	ram_avail(&r, heads, 3);
	vq_head(&s, 0);
	put_ram(&s, &r);
	vq_pops(&s, 3);
	emit("virtq", "outside-ram", &s);

	/* avail->idx far ahead; head index out of range. */
	memset(&r, 0, sizeof(r));
	ram_le(&r, R_AVAIL + 2, 0x8000, 2);
	vq_head(&s, 0);
	put_ram(&s, &r);
	vq_pops(&s, 1);
	emit("virtq", "avail-ahead", &s);
	heads[0] = 200;
	ram_avail(&r, heads, 1);
	vq_head(&s, 0);
	put_ram(&s, &r);
	vq_pops(&s, 1);
	emit("virtq", "head-out-of-range", &s);

	/* Rings outside RAM or misaligned; bad sizes; reset and re-enable. */
	s.n = 0;
	put(&s, 3 | FZ_VQ_CFG_RAW_AREAS, 1);
	put(&s, 3, 1);
	put(&s, FZ_RAM_BASE + FZ_VQ_RAM_SIZE - 64, 8);
	put(&s, FZ_RAM_BASE + 1, 8);
	put(&s, UINT64_MAX - 3, 8);
	put(&s, 0, 2);
	put(&s, FZ_VQ_RESET, 1);
	put(&s, 2, 1);
	put(&s, R_DESC, 4);
	put(&s, R_AVAIL, 4);
	put(&s, R_USED, 4);
	put(&s, FZ_VQ_ENABLE, 1);
	put(&s, 1, 1);
	put(&s, FZ_VQ_RESET, 1);
	put(&s, 17, 1);
	put(&s, 0, 12);
	put(&s, FZ_VQ_DISABLE, 1);
	emit("virtq", "bad-rings", &s);
}

/* ---- virtio-mmio -------------------------------------------------------- */

static void mmio_probe(struct sb *s, uint8_t dev, uint64_t mask,
		       uint16_t qsize)
{
	put(s, FZ_MMIO_INIT, 1);
	put(s, dev, 1);
	put(s, mask, 8);
	put(s, qsize, 2);
	put(s, R_DESC, 2);
	put(s, R_AVAIL, 2);
	put(s, R_USED, 2);
}

static void mmio_rw(struct sb *s, bool write, uint8_t sel, uint16_t off,
		    uint64_t v)
{
	put(s, write ? FZ_MMIO_WRITE : FZ_MMIO_READ, 1);
	put(s, sel, 1);
	put(s, off, 2);
	if (write)
		put(s, v, 8);
}

static void mmio_notify(struct sb *s, uint8_t dev)
{
	put(s, FZ_MMIO_NOTIFY, 1);
	put(s, dev, 1);
	put(s, 0, 1);
	mmio_rw(s, false, 2 | (dev << 2), 0x60, 0);	/* InterruptStatus */
	mmio_rw(s, true, 2 | (dev << 2), 0x64, 3);	/* ack */
}

static void seeds_mmio(void)
{
	static const uint16_t widths_sel[] = { 0, 1, 2, 3 };
	uint16_t heads[3] = { 0, 3, 6 };
	struct sb s;
	struct ram r;

	/* blk: a read, a GET_ID and a write; then the rng. */
	memset(&r, 0, sizeof(r));
	blk_read_chain(&r, 0, 0);
	ram_avail(&r, heads, 1);
	s.n = 0;
	put(&s, 2 << 1, 1);	/* 8 KiB disk */
	put_ram(&s, &r);
	mmio_probe(&s, 0, UINT64_MAX >> 1, QSIZE);
	mmio_notify(&s, 0);
	emit("virtio_mmio", "blk-read", &s);

	memset(&r, 0, sizeof(r));
	ring_desc(&r, 0, gpa(R_DATA + 0x100), 64, F_WRITE, 0);
	ring_desc(&r, 1, gpa(R_DATA + 0x200), 16, 0, 0);
	ram_avail(&r, heads, 2);
	heads[1] = 1;
	ram_avail(&r, heads, 2);
	s.n = 0;
	put(&s, 0, 1);
	put_ram(&s, &r);
	mmio_probe(&s, 1, UINT64_MAX >> 1, QSIZE);
	mmio_notify(&s, 1);
	emit("virtio_mmio", "rng", &s);

	/* rng: two overlapping 60 KiB buffers, past the 64 KiB fill cap. */
	memset(&r, 0, sizeof(r));
	ring_desc(&r, 0, gpa(0x1000), 0xf000, F_WRITE | F_NEXT, 1);
	ring_desc(&r, 1, gpa(0x1000), 0xf000, F_WRITE, 0);
	heads[0] = 0;
	ram_avail(&r, heads, 1);
	s.n = 0;
	put(&s, 0, 1);
	put_ram(&s, &r);
	mmio_probe(&s, 1, UINT64_MAX >> 1, QSIZE);
	mmio_notify(&s, 1);
	emit("virtio_mmio", "rng-fill-cap", &s);

	/* Every register of both devices at every width, read and write. */
	s.n = 0;
	put(&s, 1 | 2 << 1, 1);
	put(&s, 0, 2);
	for (uint16_t off = 0; off < 0x120; off += 4)
		for (unsigned int w = 0; w < 4; w++)
			mmio_rw(&s, false, widths_sel[w] | (off & 4 ? 4 : 0),
				off, 0);
	mmio_rw(&s, true, 1, 0x70, 1);
	mmio_rw(&s, true, 2, 0x71, 1);
	mmio_rw(&s, true, 3, 0x100, 1);
	mmio_rw(&s, true, 12 | 2, 0x70, 1);	/* odd width */
	put(&s, FZ_MMIO_READ, 1);
	put(&s, 8 | 3, 1);			/* raw address */
	put(&s, FZ_MMIO_BLK_BASE + FZ_MMIO_WINDOW - 4, 8);
	emit("virtio_mmio", "registers", &s);

	/* Feature abuse, DRIVER_OK first, queue changes while ready. */
	s.n = 0;
	put(&s, 0, 1);
	put(&s, 0, 2);
	put(&s, FZ_MMIO_STATUS, 1);
	put(&s, 0, 1);
	put(&s, 4, 1);				/* DRIVER_OK alone */
	mmio_probe(&s, 0, UINT64_MAX, QSIZE);	/* never-offered bits */
	mmio_probe(&s, 0, 1ULL << 28, QSIZE);	/* no VERSION_1 */
	mmio_probe(&s, 0, UINT64_MAX >> 1, 3);	/* size not a power of 2 */
	mmio_probe(&s, 0, UINT64_MAX >> 1, QSIZE);
	mmio_rw(&s, true, 2, 0x38, 4);		/* QueueNum while ready */
	mmio_rw(&s, true, 2, 0x80, 0x1000);	/* QueueDesc while ready */
	mmio_rw(&s, true, 2, 0x30, 7);		/* QueueSel out of range */
	mmio_rw(&s, true, 2, 0x44, 1);
	mmio_rw(&s, true, 2, 0x50, 9);		/* notify bad queue */
	mmio_rw(&s, true, 2, 0x24, 5);		/* DriverFeaturesSel 5 */
	mmio_rw(&s, true, 2, 0x20, 1);
	put(&s, FZ_MMIO_RESET, 1);
	put(&s, 0, 1);
	emit("virtio_mmio", "negotiation-abuse", &s);

	/* A broken chain: DEVICE_NEEDS_RESET, then reset and redo. */
	memset(&r, 0, sizeof(r));
	ring_desc(&r, 0, gpa(R_DATA), 16, F_NEXT, 0);	/* loops */
	heads[0] = 0;
	ram_avail(&r, heads, 1);
	s.n = 0;
	put(&s, 0, 1);
	put_ram(&s, &r);
	mmio_probe(&s, 0, UINT64_MAX >> 1, QSIZE);
	mmio_notify(&s, 0);
	mmio_rw(&s, false, 2, 0x70, 0);
	put(&s, FZ_MMIO_STATUS, 1);
	put(&s, 0, 1);
	put(&s, 0, 1);
	put(&s, FZ_MMIO_POKE, 1);
	put(&s, R_DESC + 12, 2);
	put(&s, 2, 1);
	put(&s, 0, 2);
	mmio_probe(&s, 0, UINT64_MAX >> 1, QSIZE);
	emit("virtio_mmio", "needs-reset", &s);
}

/* ---- virtio-blk --------------------------------------------------------- */

struct bseg {
	uint16_t len;
	uint8_t flip;
};

static void blk_req(struct sb *s, uint8_t kind, uint64_t sector,
		    uint32_t raw_type, const struct bseg *segs,
		    unsigned int n, uint8_t slen, uint8_t notify)
{
	put(s, kind, 1);
	put(s, sector, kind & FZ_BLK_KIND_SECTOR64 ? 8 : 1);
	if ((kind & FZ_BLK_KIND_TYPE) == 4)
		put(s, raw_type, 4);
	if (kind & FZ_BLK_KIND_SHORT_HDR)
		put(s, 7, 1);
	if (kind & FZ_BLK_KIND_SPLIT_HDR)
		put(s, 4, 1);
	put(s, n, 1);
	for (unsigned int i = 0; i < n; i++) {
		put(s, segs[i].len, 2);
		put(s, segs[i].flip, 1);
	}
	put(s, slen, 1);
	put(s, notify, 1);
}

static void seeds_blk(void)
{
	const struct bseg one[1] = { { 512, 0 } };
	const struct bseg two[2] = { { 1024, 0 }, { 512, 0 } };
	const struct bseg odd[2] = { { 100, 0 }, { 412, 0 } };
	const struct bseg id[1] = { { 20, 0 } };
	const struct bseg shortid[1] = { { 19, 0 } };
	const struct bseg flip[2] = { { 512, 0 }, { 512, 1 } };
	struct sb s;

	/* Linux-like: write, read back, flush, GET_ID. */
	s.n = 0;
	put(&s, 2 | 2 << 2, 1);		/* indirect, 8 KiB disk */
	put(&s, 4, 1);			/* 16 entries */
	blk_req(&s, 1, 3, 0, two, 2, 1, 0);
	blk_req(&s, 0, 3, 0, two, 2, 1, 1);
	blk_req(&s, 2, 0, 0, NULL, 0, 1, 0);
	blk_req(&s, 3, 0, 0, id, 1, 1, 1);
	blk_req(&s, 0 | FZ_BLK_KIND_INDIRECT, 15, 0, one, 1, 1, 1);
	blk_req(&s, 1 | FZ_BLK_KIND_INDIRECT | FZ_BLK_KIND_SPLIT_HDR, 2, 0,
		odd, 2, 1, 1);
	emit("virtio_blk", "linux", &s);

	/* Past the end, huge sectors, odd lengths, short GET_ID, unknown
	 * type, no status, split and short headers. */
	s.n = 0;
	put(&s, 3 << 2, 1);		/* 8292-byte disk */
	put(&s, 3, 1);
	blk_req(&s, 0, 16, 0, one, 1, 1, 0);
	blk_req(&s, 1 | FZ_BLK_KIND_SECTOR64, UINT64_MAX / 512 + 1, 0, one,
		1, 1, 0);
	blk_req(&s, 0, 0, 0, odd, 1, 1, 1);
	blk_req(&s, 3, 0, 0, shortid, 1, 1, 0);
	blk_req(&s, 4, 0, 0x77, NULL, 0, 1, 0);
	blk_req(&s, 0, 0, 0, one, 1, 0, 1);
	blk_req(&s, 0 | FZ_BLK_KIND_SPLIT_HDR, 1, 0, one, 1, 2, 0);
	blk_req(&s, 2 | FZ_BLK_KIND_SHORT_HDR, 0, 0, NULL, 0, 1, 1);
	emit("virtio_blk", "hostile", &s);

	/* Read-only disk; a readable data buffer after a writable one; an
	 * indirect chain without the feature. */
	s.n = 0;
	put(&s, 1 | 2 << 2, 1);
	put(&s, 8, 1);
	blk_req(&s, 1, 0, 0, one, 1, 1, 1);
	blk_req(&s, 0, 0, 0, flip, 2, 1, 1);
	blk_req(&s, 0 | FZ_BLK_KIND_INDIRECT, 0, 0, one, 1, 1, 1);
	blk_req(&s, 0, 0, 0, one, 1, 1, 1);
	emit("virtio_blk", "readonly-and-broken", &s);
}

/* ---- uart --------------------------------------------------------------- */

static void uw(struct sb *s, uint8_t off, uint8_t v)
{
	put(s, FZ_UART_WRITE, 1);
	put(s, off, 1);
	put(s, 0, 1);
	put(s, v, 1);
}

static void ur(struct sb *s, uint8_t off)
{
	put(s, FZ_UART_READ, 1);
	put(s, off, 1);
	put(s, 0, 1);
}

static void seeds_uart(void)
{
	struct sb s;

	/* Linux 8250 probe: scratch, LCR, loopback, FIFO, THRE test. */
	s.n = 0;
	uw(&s, 7, 0xa5);
	ur(&s, 7);
	uw(&s, 3, 0x80);	/* DLAB */
	uw(&s, 0, 1);
	uw(&s, 1, 0);
	ur(&s, 0);
	uw(&s, 3, 0x03);
	uw(&s, 2, 0xc7);	/* FIFO on, clear, trigger 14 */
	ur(&s, 2);
	uw(&s, 4, 0x1f);	/* loopback */
	ur(&s, 6);
	uw(&s, 0, 'x');
	ur(&s, 5);
	ur(&s, 0);
	uw(&s, 4, 0x0b);
	uw(&s, 1, 0x02);	/* ETBEI */
	ur(&s, 2);
	uw(&s, 1, 0x0f);
	uw(&s, 0, 'h');
	uw(&s, 0, 'i');
	ur(&s, 2);
	emit("uart", "linux-probe", &s);

	/* Host input filling the FIFO, reads, overrun in loopback. */
	s.n = 0;
	uw(&s, 2, 0x01);
	uw(&s, 1, 0x05);
	put(&s, FZ_UART_INPUT, 1);
	put(&s, 20, 1);
	put_bytes(&s, "hello, rivet guest!!", 20);
	ur(&s, 2);
	ur(&s, 5);
	for (int i = 0; i < 17; i++)
		ur(&s, 0);
	uw(&s, 4, 0x10);
	for (int i = 0; i < 18; i++)
		uw(&s, 0, (uint8_t)i);
	ur(&s, 5);
	ur(&s, 2);
	uw(&s, 2, 0x00);	/* 16450 mode */
	uw(&s, 0, 1);
	uw(&s, 0, 2);
	ur(&s, 5);
	put(&s, FZ_UART_RESET, 1);
	put(&s, FZ_UART_READ, 1);
	put(&s, 9, 1);
	put(&s, 2, 1);		/* 4-byte read past the registers */
	emit("uart", "input-overrun", &s);
}

/* ---- fwcfg -------------------------------------------------------------- */

static void fc_rw(struct sb *s, bool wr, unsigned int sel, unsigned int off,
		  uint64_t v)
{
	put(s, wr ? FZ_FC_WRITE : FZ_FC_READ, 1);
	put(s, sel, 1);
	put(s, off, 1);
	if (wr)
		put(s, v, 8);
}

/* Select @key through the selector register (big-endian). */
static void fc_sel(struct sb *s, uint16_t key)
{
	uint64_t v = (uint64_t)(key >> 8) | (uint64_t)(key & 0xff) << 8;

	fc_rw(s, true, 1, 8, v);
}

/* mode bits: 1 wide trigger, 2 raw address, 4 raw descriptor. */
static void fc_dma(struct sb *s, uint8_t mode, uint64_t desc, uint32_t control,
		   uint32_t len, uint64_t addr)
{
	put(s, FZ_FC_DMA, 1);
	put(s, mode, 1);
	put(s, desc, mode & 4 ? 8 : 2);
	put(s, control, 4);
	put(s, len, 4);
	put(s, addr, mode & 2 ? 8 : 2);
}

static uint32_t fc_ctl(uint16_t key, uint32_t op)
{
	return (uint32_t)key << 16 | 0x08 | op;
}

static void seeds_fwcfg(void)
{
	const uint64_t end = FZ_RAM_BASE + FZ_FC_RAM_SIZE;
	struct sb s;

	/* What EDK2 does: signature, ID, directory, files, a pointer
	 * written back, the kernel and command line. */
	s.n = 0;
	put(&s, 8 | FZ_FC_CFG_KERNEL, 1);
	put(&s, 0, 2);
	fc_sel(&s, 0x0000);
	fc_rw(&s, false, 2, 0, 0);
	fc_rw(&s, false, 3, 16, 0);
	fc_sel(&s, 0x0001);
	fc_rw(&s, false, 2, 0, 0);
	fc_dma(&s, 0, 0x100, fc_ctl(0x19, 0x02), 4 + 3 * 64, 0x1000);
	fc_dma(&s, 1, 0x100, fc_ctl(0x20, 0x02), 16, 0x1100);
	put(&s, FZ_FC_POKE, 1);
	put(&s, 0x2000, 2);
	put(&s, 4, 1);
	put_bytes(&s, "\x00\x10\x00\x80", 4);
	fc_dma(&s, 0, 0x100, fc_ctl(0x21, 0x04), 2, 0);
	fc_dma(&s, 0, 0x100, 0x10, 4, 0x2000);
	fc_dma(&s, 0, 0x100, fc_ctl(0x21, 0x02), 8, 0x2100);
	fc_sel(&s, 0x0008);
	fc_rw(&s, false, 2, 0, 0);
	fc_dma(&s, 0, 0x100, fc_ctl(0x11, 0x02), 40, 0x3000);
	fc_sel(&s, 0x0014);
	fc_rw(&s, false, 2, 0, 0);
	fc_sel(&s, 0x0015);
	for (int i = 0; i < 2; i++)
		fc_rw(&s, false, 3, 0, 0);
	emit("fwcfg", "firmware-boot", &s);

	/* docs/hardening.md class 10. */
	s.n = 0;
	put(&s, 8, 1);
	put(&s, 0, 2);
	fc_dma(&s, 4, 0, fc_ctl(0, 0x02), 4, 0x1000);
	fc_dma(&s, 5, FZ_RAM_BASE - 8, fc_ctl(0, 0x02), 4, 0x1000);
	fc_dma(&s, 4, end - 8, fc_ctl(0, 0x02), 4, 0x1000);
	fc_dma(&s, 5, ~0ULL, fc_ctl(0, 0x02), 4, 0x1000);
	fc_dma(&s, 2, 0x100, fc_ctl(0x20, 0x02), 16, end - 8);
	fc_dma(&s, 2, 0x100, fc_ctl(0x20, 0x02), 0x200, ~0ULL - 0xff);
	fc_dma(&s, 0, 0x100, fc_ctl(0x20, 0x02), 0xffffffff, 0x10);
	fc_dma(&s, 0, 0x100, fc_ctl(0x20, 0x04), 0xffffffff, 0);
	fc_dma(&s, 0, 0x100, 0x02, 64, 0x1000);
	fc_dma(&s, 0, 0x100, fc_ctl(0x20, 0x10), 4, 0x1000);
	fc_dma(&s, 0, 0x100, fc_ctl(0x21, 0x10), 9, 0x1000);
	fc_dma(&s, 0, 0x100, fc_ctl(0xffff, 0x02), 8, 0x1000);
	fc_dma(&s, 0, 0x100, fc_ctl(0x4020, 0x12), 8, 0x1000);
	fc_dma(&s, 0, 0x100, fc_ctl(0x8000, 0x10), 1, 0x1000);
	fc_dma(&s, 0, 0xfff8, fc_ctl(0x20, 0x02), 16, 0xfff0);
	fc_dma(&s, 0, 0x100, fc_ctl(0x20, 0x02), 16, 0x100);
	put(&s, FZ_FC_HIGH, 1);
	put(&s, 1, 4);
	fc_rw(&s, true, 2, 20, 0x00010000);
	fc_sel(&s, 0xffff);
	fc_rw(&s, false, 3, 0, 0);
	fc_rw(&s, true, 3, 0, ~0ULL);
	put(&s, FZ_FC_RESET, 1);
	fc_rw(&s, false, 2, 0, 0);
	emit("fwcfg", "hostile-dma", &s);

	/* Every width at every offset, then past the window. */
	s.n = 0;
	put(&s, 31, 1);
	put(&s, 0, 2);
	for (unsigned int off = 0; off < 0x18; off++)
		for (unsigned int w = 0; w < 4; w++) {
			fc_sel(&s, 0x0021);
			fc_rw(&s, false, w, off, 0);
			fc_rw(&s, true, w, off, ~0ULL);
		}
	fc_rw(&s, false, 7, 0x17, 0);
	fc_rw(&s, true, 7, 0xff, 0);
	emit("fwcfg", "every-width", &s);

	/* RAM above 4 GiB: both kinds of trigger. */
	s.n = 0;
	put(&s, 4 | FZ_FC_CFG_HIGH, 1);
	put(&s, 0, 2);
	fc_dma(&s, 0, 0x100, fc_ctl(0x19, 0x02), 200, 0x1000);
	fc_dma(&s, 1, 0x100, fc_ctl(0x21, 0x10), 4, 0x1000);
	fc_dma(&s, 0, 0x100, fc_ctl(0x21, 0x02), 4, 0x2000);
	fc_dma(&s, 6, FZ_RAM_BASE + 0x100, fc_ctl(0, 0x02), 4,
	       FZ_RAM_BASE + 0x1000);
	emit("fwcfg", "ram-above-4g", &s);
}

/* ---- virtio-pci --------------------------------------------------------- */

static void pci_probe(struct sb *s, uint8_t dev, uint8_t flags,
		      uint16_t qvec, uint16_t cvec)
{
	put(s, FZ_PCI_PROBE, 1);
	put(s, dev, 1);
	put(s, flags, 1);
	put(s, UINT64_MAX >> 1, 8);
	put(s, QSIZE, 2);
	put(s, R_DESC, 2);
	put(s, R_AVAIL, 2);
	put(s, R_USED, 2);
	put(s, qvec, 2);
	put(s, cvec, 2);
	put(s, 0x40, 4);
}

static void pci_cfg(struct sb *s, bool write, uint8_t sel, uint32_t off,
		    uint32_t v)
{
	put(s, write ? FZ_PCI_CFG_WRITE : FZ_PCI_CFG_READ, 1);
	put(s, sel, 1);
	put(s, off, 4);
	if (write)
		put(s, v, 4);
}

static void pci_bar(struct sb *s, bool write, uint8_t sel, uint8_t dev,
		    uint16_t off, uint64_t v)
{
	put(s, write ? FZ_PCI_BAR_WRITE : FZ_PCI_BAR_READ, 1);
	put(s, sel, 1);
	put(s, dev, 1);
	put(s, off, 2);
	if (write)
		put(s, v, 8);
}

static void pci_notify(struct sb *s, uint8_t dev)
{
	put(s, FZ_PCI_NOTIFY, 1);
	put(s, dev, 1);
	put(s, 0, 1);
	pci_bar(s, false, 8, dev, 0x1000, 0);	/* ISR */
}

static void seeds_pci(void)
{
	uint16_t heads[1] = { 0 };
	struct sb s;
	struct ram r;

	/* blk: a read with MSI-X, then with INTx. */
	memset(&r, 0, sizeof(r));
	blk_read_chain(&r, 0, 0);
	ram_avail(&r, heads, 1);
	s.n = 0;
	put(&s, 2 << 1, 1);	/* 8 KiB disk */
	put_ram(&s, &r);
	pci_probe(&s, 0, FZ_PCI_PROBE_MSIX, 1, 0);
	pci_notify(&s, 0);
	pci_bar(&s, false, 3, 0, 0x800, 0);	/* PBA */
	emit("virtio_pci", "blk-msix", &s);

	s.n = 0;
	put(&s, 2 << 1, 1);
	put_ram(&s, &r);
	pci_probe(&s, 0, 0, 0xffff, 0xffff);
	pci_notify(&s, 0);
	emit("virtio_pci", "blk-intx", &s);

	/* MSI-X function masked: pending, then unmasked. */
	s.n = 0;
	put(&s, 2 << 1, 1);
	put_ram(&s, &r);
	pci_probe(&s, 0, FZ_PCI_PROBE_MSIX | FZ_PCI_PROBE_MASKALL, 1, 0);
	pci_notify(&s, 0);
	pci_bar(&s, false, 3, 0, 0x800, 0);
	pci_cfg(&s, true, 1, (1 << 15) | 0x82, 0x8000);	/* MSI-X control */
	emit("virtio_pci", "msix-maskall", &s);

	/* rng: one 64-byte buffer. */
	memset(&r, 0, sizeof(r));
	ring_desc(&r, 0, gpa(R_DATA + 0x100), 64, F_WRITE, 0);
	ram_avail(&r, heads, 1);
	s.n = 0;
	put(&s, 0, 1);
	put_ram(&s, &r);
	pci_probe(&s, 1, FZ_PCI_PROBE_MSIX, 1, 0);
	pci_notify(&s, 1);
	emit("virtio_pci", "rng", &s);

	/* Config space: every width over the header and capabilities,
	 * BAR sizing, other buses and functions. */
	s.n = 0;
	put(&s, 0, 1);
	put(&s, 0, 2);
	for (uint32_t slot = 0; slot < 3; slot++)
		for (uint32_t off = 0; off < 0x100; off += 4)
			pci_cfg(&s, false, 2, slot << 15 | off, 0);
	for (uint32_t b = 0; b < 6; b++)
		pci_cfg(&s, true, 2, 1 << 15 | (0x10 + 4 * b), 0xffffffff);
	pci_cfg(&s, false, 0, 1 << 15 | 0x43, 0);
	pci_cfg(&s, false, 1, 1 << 15 | 0x41, 0);
	pci_cfg(&s, false, 3, 1 << 15, 0);
	pci_cfg(&s, false, 6, 1 << 20 | 1 << 15, 0);
	pci_cfg(&s, false, 6, 1 << 15 | 1 << 12, 0);
	pci_cfg(&s, true, 2, 1 << 15 | 4, 0xffff);
	pci_cfg(&s, false, 2, 1 << 15 | 0x104, 0);
	emit("virtio_pci", "config-space", &s);

	/* A looping chain: NEEDS_RESET, config vector; then reset. */
	memset(&r, 0, sizeof(r));
	ring_desc(&r, 0, gpa(R_DATA), 16, F_NEXT, 0);
	ram_avail(&r, heads, 1);
	s.n = 0;
	put(&s, 2 << 1, 1);
	put_ram(&s, &r);
	pci_probe(&s, 0, FZ_PCI_PROBE_MSIX, 1, 0);
	pci_notify(&s, 0);
	put(&s, FZ_PCI_STATUS, 1);
	put(&s, 0, 1);
	put(&s, 0, 1);
	pci_probe(&s, 0, FZ_PCI_PROBE_NO_MASTER, 1, 0);
	pci_notify(&s, 0);
	put(&s, FZ_PCI_RESET, 1);
	emit("virtio_pci", "needs-reset", &s);

	/* BARs over each other and outside the windows. */
	s.n = 0;
	put(&s, 2 << 1, 1);
	put_ram(&s, &r);
	pci_probe(&s, 0, FZ_PCI_PROBE_MSIX, 1, 0);
	pci_probe(&s, 1, FZ_PCI_PROBE_INTX_OFF, 0xffff, 0xffff);
	pci_cfg(&s, true, 2, 2 << 15 | 0x20, 0x00010000);	/* over slot 1 */
	pci_cfg(&s, true, 2, 2 << 15 | 0x24, 4);
	pci_bar(&s, false, 8 | 2, 0, 0x14, 0);
	pci_cfg(&s, true, 2, 1 << 15 | 0x14, 0xfffff000);
	pci_bar(&s, true, 2, 0, 0xc, 0);
	put(&s, FZ_PCI_BAR_READ, 1);		/* raw address */
	put(&s, 4 | 3, 1);
	put(&s, 0x400010000ULL, 8);
	emit("virtio_pci", "bar-placement", &s);
}

/* ---- loader ------------------------------------------------------------- */

static void image(uint8_t *h, uint64_t text_offset, uint64_t image_size,
		  bool new_magic)
{
	memset(h, 0, 64);
	h[0] = 0x6f;
	for (int i = 0; i < 8; i++) {
		h[8 + i] = (uint8_t)(text_offset >> (8 * i));
		h[16 + i] = (uint8_t)(image_size >> (8 * i));
	}
	h[32] = 2;
	if (new_magic)
		memcpy(h + 56, "RSC\x05", 4);
	else
		memcpy(h + 48, "RISCV", 5);
}

static void ld(const char *name, uint8_t flags, const uint64_t plan[6],
	       uint8_t base_sel, uint8_t units, uint32_t fdt_max,
	       uint32_t initrd, uint32_t pad, const uint8_t *hdr)
{
	struct sb s;

	s.n = 0;
	put(&s, flags, 1);
	for (int i = 0; i < 6; i++)
		put(&s, plan[i], 8);
	put(&s, base_sel, 1);
	put(&s, units, 1);
	put(&s, fdt_max, 4);
	put(&s, initrd, 4);
	put(&s, pad, 4);
	put_bytes(&s, hdr, 64);
	put_bytes(&s, "kernel text", 11);
	emit("loader", name, &s);
}

static void seeds_loader(void)
{
	const uint64_t good[6] = { FZ_RAM_BASE, 16 << 20, 0x200000,
				   0x400000, 0x100000, 0x10000 };
	/* Only room for a page-aligned FDT. */
	const uint64_t tight[6] = { FZ_RAM_BASE + 0x1000, 8 << 20, 0,
				    0x5f0000, 0x1000, 0x10000 };
	const uint64_t wrap[6] = { UINT64_MAX - 0xfffff, 0x100000, 0,
				   0x1000, 0, 64 };
	uint8_t h[64];

	image(h, 0x200000, 0x400000, true);
	ld("good", 1, good, 0, 63, 0x10000, 0x1000, 0x1000, h);
	ld("no-initrd", 0, tight, 1, 63, 0x2000, 0, 0, h);
	image(h, 0, 0x1000, false);
	ld("old-magic", 0, wrap, 0, 3, 64, 0, 0, h);
	image(h, 0x200000, 0x100, true);	/* image_size < file */
	ld("image-size-small", 1, good, 0, 63, 0x10000, 100, 0x100000, h);
	image(h, 0x10000000 + 0x1000, 0x1000, true);
	ld("text-offset-huge", 0, good, 2, 63, 0x10000, 0, 0, h);
	image(h, 0, 32 << 20, true);		/* larger than RAM */
	ld("too-big", 1, good, 3, 63, 0x10000, 0x200000, 0, h);
	image(h, 0x200000, 0x400000, true);
	ld("dir", 2, good, 0, 63, 0x10000, 0, 0, h);
	ld("chardev", 4, good, 0, 63, 0x10000, 0, 0, h);
	ld("missing-initrd", 9, good, 0, 63, 0x10000, 0x1000, 0, h);
}

/* ---- config ------------------------------------------------------------- */

static void cfg(const char *name, const char *const *args)
{
	struct sb s;

	s.n = 0;
	for (int i = 0; args[i]; i++) {
		if (i)
			put(&s, 0, 1);
		put_bytes(&s, args[i], strlen(args[i]));
	}
	emit("config", name, &s);
}

static void seeds_config(void)
{
	static const char *const full[] = {
		"--kernel", "Image", "--initrd", "initrd.cpio", "--cmdline",
		"console=ttyS0 root=/dev/vda", "--cpus", "4", "--memory",
		"1G", "--disk", "disk.img", "--disk", "ro.img,readonly",
		"--aia-mode", "emul", "--cpu-features", "-zicboz,-SSTC",
		"--dump-dtb", "out.dtb", "--no-reboot", "--no-rng", "-v",
		"-vv", NULL,
	};
	static const char *const eq[] = {
		"--kernel=Image", "--memory=512MiB", "--cpus=32",
		"--board=microvm", "--aia-mode=hwaccel", "--disk=a,ro", NULL,
	};
	static const char *const bad[] = {
		"--kernel", "k", "--memory", "17M", "--cpus", "0", NULL,
	};
	static const char *const misc[] = { "--help", NULL };
	static const char *const ver[] = { "--version", NULL };
	static const char *const sizes[] = {
		"--kernel", "k", "--memory", "64G", "--memory", "2TB",
		"--memory", "18446744073709551615K", "--cpu-features", "zba",
		NULL,
	};
	static const char *const unknown[] = { "-x", "--nope", "extra",
					       NULL };
	static const char *const jail[] = {
		"--kernel", "k", "--jail", "/srv/jail", "--uid", "1000",
		"--gid", "1000", "--new-pidns", "--new-netns", NULL,
	};

	cfg("full", full);
	cfg("equals", eq);
	cfg("bad-values", bad);
	cfg("help", misc);
	cfg("version", ver);
	cfg("sizes", sizes);
	cfg("unknown", unknown);
	cfg("jail", jail);
}

/* ---- virtio-net ----------------------------------------------------------- */

struct nseg {
	uint16_t len;
	uint8_t flip;
};

/* Feature bits (0-23) a Linux guest takes, and none. */
#define NET_LINUX	0xcfffa7u	/* all but 3-4, 6, 20-21: offered */
#define NET_BASIC	((1u << 5) | (1u << 16))	/* MAC, STATUS */

static void net_cfg(struct sb *s, uint8_t cfg, uint32_t features)
{
	s->n = 0;
	put(s, cfg, 1);
	put(s, features, 3);
}

static void net_segs(struct sb *s, uint8_t flags, const struct nseg *segs,
		     unsigned int n)
{
	put(s, flags, 1);
	put(s, n - 1, 1);
	for (unsigned int i = 0; i < n; i++) {
		put(s, segs[i].len, 2);
		put(s, segs[i].flip, 1);
	}
}

/* A virtio_net_hdr: flags, gso type, hdr_len, gso_size, csum start and
 * offset, num_buffers. */
static void net_hdr(struct sb *s, uint8_t flags, uint8_t gso, uint16_t hlen,
		    uint16_t gsz, uint16_t cs, uint16_t co)
{
	put(s, flags, 1);
	put(s, gso, 1);
	put(s, hlen, 2);
	put(s, gsz, 2);
	put(s, cs, 2);
	put(s, co, 2);
	put(s, 0, 2);
}

static void net_tx(struct sb *s, uint8_t pair, uint8_t flags, uint8_t gso,
		   uint16_t gsz, uint8_t cflags, const struct nseg *segs,
		   unsigned int n)
{
	put(s, FZ_NET_TX, 1);
	put(s, pair, 1);
	net_hdr(s, flags, gso, gso ? 54 : 0, gsz, flags ? 34 : 0,
		flags ? 16 : 0);
	net_segs(s, cflags, segs, n);
}

static void net_rx(struct sb *s, uint8_t pair, uint8_t cflags,
		   const struct nseg *segs, unsigned int n)
{
	put(s, FZ_NET_RX_BUF, 1);
	put(s, pair, 1);
	net_segs(s, cflags, segs, n);
}

static void net_send(struct sb *s, uint8_t pair, uint8_t kind, uint16_t len,
		     uint8_t flags, uint8_t gso)
{
	put(s, FZ_NET_SEND, 1);
	put(s, pair, 1);
	put(s, kind, 1);
	put(s, len, 2);
	net_hdr(s, flags, gso, gso ? 66 : 0, gso ? 1448 : 0, flags ? 34 : 0,
		flags ? 16 : 0);
}

static void net_ctrl(struct sb *s, const uint8_t *cmd, uint8_t len)
{
	put(s, FZ_NET_CTRL, 1);
	put(s, len - 1, 1);
	for (unsigned int i = 0; i < len; i++)
		put(s, cmd[i], 1);
}

static void seeds_net(void)
{
	const struct nseg tx1[1] = { { 12 + 60, 0 } };
	const struct nseg tx3[3] = { { 12, 0 }, { 500, 0 }, { 1014, 0 } };
	const struct nseg txbig[2] = { { 12 + 40000, 0 }, { 20000, 0 } };
	const struct nseg txover[2] = { { 65535, 0 }, { 12 + 65551 - 65535, 0 } };
	const struct nseg txw[2] = { { 12 + 60, 0 }, { 64, 1 } };
	const struct nseg txshort[1] = { { 11, 0 } };
	const struct nseg rx1[1] = { { 1526, 0 } };
	const struct nseg rxmrg[1] = { { 1536, 0 } };
	const struct nseg rxsplit[2] = { { 12, 0 }, { 1514, 0 } };
	const struct nseg rxsmall[1] = { { 100, 0 } };
	const struct nseg rxtiny[1] = { { 8, 0 } };
	const struct nseg rxro[1] = { { 1526, 1 } };
	const uint8_t notify = FZ_NET_CHAIN_NOTIFY;
	const uint8_t promisc_off[] = { 0, 0, 0 };
	const uint8_t allmulti_on[] = { 0, 1, 1 };
	const uint8_t table[] = { 1, 0, 1, 0, 0, 0, 0x52, 0x54, 0, 1, 2, 3,
				  1, 0, 0, 0, 0x33, 0x33, 0, 0, 0, 1 };
	const uint8_t vlan_add[] = { 2, 0, 5, 0 };
	const uint8_t mac_set[] = { 1, 1, 2, 0, 0, 0, 0, 0x42 };
	const uint8_t pairs2[] = { 4, 0, 2, 0 };
	const uint8_t offl[] = { 5, 0, 2, 0, 0, 0, 0, 0, 0, 0 };
	const uint8_t bad_table[] = { 1, 0, 0xff, 0xff, 0xff, 0xff };
	struct sb s;

	/* Linux-like: every offload, merged buffers, frames both ways. */
	net_cfg(&s, 1 | 4 << 1 | FZ_NET_CFG_HOST_OFFLOADS, NET_LINUX);
	for (unsigned int i = 0; i < 6; i++)
		net_rx(&s, 0, i == 5 ? notify : 0, rxmrg, 1);
	net_tx(&s, 0, 0, 0, 0, 0, tx1, 1);
	net_tx(&s, 0, 1, 1, 1448, FZ_NET_CHAIN_INDIRECT | notify, txbig, 2);
	net_tx(&s, 0, 1, 4 | 0x80, 1400, notify, tx3, 3);
	net_send(&s, 0, FZ_NET_SEND_TO_US, 60, 0, 0);
	net_send(&s, 0, FZ_NET_SEND_TO_US, 4000, 1, 1);
	net_send(&s, 0, 0, 1514, 2, 0);
	put(&s, FZ_NET_LOOP, 1);
	put(&s, FZ_NET_ACK, 1);
	net_ctrl(&s, promisc_off, sizeof(promisc_off));
	net_ctrl(&s, table, sizeof(table));
	net_ctrl(&s, allmulti_on, sizeof(allmulti_on));
	net_ctrl(&s, vlan_add, sizeof(vlan_add));
	net_ctrl(&s, mac_set, sizeof(mac_set));
	net_ctrl(&s, offl, sizeof(offl));
	net_send(&s, 0, 0, 100, 0, 0);
	net_send(&s, 0, FZ_NET_SEND_TO_US, 5000, 1, 1);
	put(&s, FZ_NET_LOOP, 1);
	put(&s, FZ_NET_CONFIG, 1);
	put(&s, 0, 1);
	put(&s, 3, 1);
	emit("virtio_net", "linux", &s);

	/* Two pairs: MQ, then traffic on pair 1. */
	net_cfg(&s, 1 | 4 << 1 | FZ_NET_CFG_MQ | FZ_NET_CFG_HOST_OFFLOADS,
		NET_LINUX);
	net_rx(&s, 1, notify, rxmrg, 1);
	net_tx(&s, 1, 0, 0, 0, notify, tx1, 1);
	net_ctrl(&s, pairs2, sizeof(pairs2));
	net_send(&s, 1, FZ_NET_SEND_TO_US, 700, 0, 0);
	net_tx(&s, 1, 0, 0, 0, notify, tx1, 1);
	put(&s, FZ_NET_LOOP, 1);
	put(&s, FZ_NET_RESET, 1);
	emit("virtio_net", "mq", &s);

	/* No buffers: frames wait; then buffers arrive (no offloads). */
	net_cfg(&s, 3 << 1, NET_BASIC);
	for (unsigned int i = 0; i < 5; i++)
		net_send(&s, 0, 0, (uint16_t)(100 + i), 0, 0);
	put(&s, FZ_NET_LOOP, 1);
	net_rx(&s, 0, notify, rx1, 1);
	for (unsigned int i = 0; i < 6; i++)
		net_rx(&s, 0, 0, rx1, 1);
	put(&s, FZ_NET_NOTIFY, 1);
	put(&s, 0, 1);
	put(&s, FZ_NET_RESET, 1);
	net_send(&s, 0, 0, 64, 1, 1);
	put(&s, FZ_NET_LOOP, 1);
	emit("virtio_net", "no-buffers", &s);

	/* Hostile transmit chains and headers. */
	net_cfg(&s, 1 | 3 << 1, NET_LINUX);
	net_tx(&s, 0, 0, 0, 0, 0, txw, 2);
	net_tx(&s, 0, 0, 0, 0, 0, txshort, 1);
	net_tx(&s, 0, 1, 1, 0, 0, tx1, 1);
	net_tx(&s, 0, 0, 1, 1448, 0, tx1, 1);
	net_tx(&s, 0, 1, 3 | 0x80, 100, 0, tx1, 1);
	net_tx(&s, 0, 1, 7, 100, 0, tx1, 1);
	net_tx(&s, 0, 0xff, 0, 0, notify, txover, 2);
	put(&s, FZ_NET_NOTIFY, 1);
	put(&s, 7, 1);
	net_ctrl(&s, bad_table, sizeof(bad_table));
	emit("virtio_net", "tx-hostile", &s);

	/* Receive buffers too small, shorter than the header, read-only;
	 * metadata the guest did not negotiate; a frame over the maximum. */
	net_cfg(&s, 1 | 3 << 1 | FZ_NET_CFG_HOST_OFFLOADS, NET_BASIC);
	net_rx(&s, 0, 0, rxsmall, 1);
	net_rx(&s, 0, 0, rxtiny, 1);
	net_rx(&s, 0, FZ_NET_CHAIN_INDIRECT, rxsplit, 2);
	net_rx(&s, 0, notify, rx1, 1);
	net_send(&s, 0, 0, 200, 0, 0);
	net_send(&s, 0, 0, 50, 1, 0);
	net_send(&s, 0, 0, 3000, 1, 1);
	net_send(&s, 0, FZ_NET_SEND_OVERSIZE, 0, 0, 0);
	net_send(&s, 0, 0, 77, 0, 0);
	put(&s, FZ_NET_LOOP, 1);
	net_rx(&s, 0, notify, rxro, 1);
	net_send(&s, 0, 0, 99, 0, 0);
	put(&s, FZ_NET_LOOP, 1);
	emit("virtio_net", "rx-hostile", &s);

	/* Rings poked: avail index far ahead. */
	net_cfg(&s, 2 << 1, NET_LINUX);
	net_rx(&s, 0, notify, rx1, 1);
	put(&s, FZ_NET_POKE, 1);
	put(&s, 0x1002, 2);
	put(&s, 2, 1);
	put(&s, 0x40, 2);
	net_send(&s, 0, 0, 64, 0, 0);
	put(&s, FZ_NET_LOOP, 1);
	put(&s, FZ_NET_POKE, 1);
	put(&s, 0x4002, 2);
	put(&s, 2, 1);
	put(&s, 0x40, 2);
	put(&s, FZ_NET_NOTIFY, 1);
	put(&s, 1, 1);
	put(&s, FZ_NET_RESET, 1);
	net_rx(&s, 0, notify, rx1, 1);
	net_send(&s, 0, 0, 64, 0, 0);
	put(&s, FZ_NET_LOOP, 1);
	emit("virtio_net", "avail-ahead", &s);
}

/* ---- table-loader ------------------------------------------------------- */

/* The input format: fuzz.h and fuzz_table_loader.c (N_* index its
 * names[]). */
enum { N_TABLES, N_RSDP, N_PTR, N_RO, N_W3, N_LOADER, N_NONE, N_EMPTY,
       N_NULL, N_55, N_56, N_A };

/* A num: one byte below 0xc0, two below 0x2000, else 0xe0 and a u32. */
static void tl_num(struct sb *s, uint32_t v)
{
	if (v < 0xc0) {
		put(s, v, 1);
	} else if (v < 0x2000) {
		put(s, 0xc0 | v >> 8, 1);
		put(s, v & 0xff, 1);
	} else {
		put(s, 0xe0, 1);
		put(s, v, 4);
	}
}

/* A name: an index into names[], or raw bytes (N_RAW + the string). */
#define N_RAW 0x80
static void tl_name(struct sb *s, int n, const char *raw)
{
	put(s, n, 1);
	if (n == N_RAW) {
		put(s, strlen(raw), 1);
		put_bytes(s, raw, strlen(raw));
	}
}

static void tl_alloc(struct sb *s, int n, uint32_t size, uint32_t align,
		     uint8_t zone)
{
	put(s, FZ_TL_ALLOC, 1);
	tl_name(s, n, NULL);
	tl_num(s, size);
	tl_num(s, align);
	put(s, zone, 1);
}

static void tl_ptr(struct sb *s, int dst, uint32_t off, uint8_t size, int src)
{
	put(s, FZ_TL_PTR, 1);
	tl_name(s, dst, NULL);
	tl_num(s, off);
	put(s, size, 1);
	tl_name(s, src, NULL);
}

static void tl_cksum(struct sb *s, int n, uint32_t result, uint32_t start,
		     uint32_t len)
{
	put(s, FZ_TL_CKSUM, 1);
	tl_name(s, n, NULL);
	tl_num(s, result);
	tl_num(s, start);
	tl_num(s, len);
}

static void tl_wptr(struct sb *s, int dst, uint32_t dst_off, uint8_t size,
		    int src, uint32_t src_off)
{
	put(s, FZ_TL_WPTR, 1);
	tl_name(s, dst, NULL);
	tl_num(s, dst_off);
	put(s, size, 1);
	tl_name(s, src, NULL);
	tl_num(s, src_off);
}

struct tl_poke {
	uint8_t file;
	uint16_t off;
	const char *bytes;
	uint8_t len;
};

/* APPLY with no raw loader and no deltas, then the pokes. */
static void tl_apply(struct sb *s, uint8_t mode, uint8_t ram, uint16_t lo,
		     uint16_t len, const struct tl_poke *p, unsigned int n)
{
	put(s, FZ_TL_APPLY, 1);
	put(s, mode, 1);
	put(s, ram, 1);
	put(s, lo, 2);
	put(s, len, 2);
	put(s, n, 1);
	for (unsigned int i = 0; i < n; i++) {
		put(s, p[i].file, 1);
		put(s, p[i].off, 2);
		put(s, p[i].len, 1);
		put_bytes(s, p[i].bytes, p[i].len);
	}
}

/* The directory when the builder allocated rsdp then tables: the loader,
 * rsdp, tables, etc/ptr, etc/ro, etc/w3. */
enum { F_LOADER, F_RSDP, F_TABLES, F_PTR, F_RO, F_W3 };

/* What QEMU's virt board (and rivet's) tells firmware: RSDP -> XSDT ->
 * one table, checksums, a pointer written back. */
static void tl_linux(struct sb *s, uint8_t psize)
{
	tl_alloc(s, N_RSDP, 36, 16, 2);
	tl_alloc(s, N_TABLES, 128, 64, 1);
	tl_cksum(s, N_TABLES, 64 + 9, 64, 40);
	tl_ptr(s, N_TABLES, 36, psize, N_TABLES);
	tl_cksum(s, N_TABLES, 9, 0, 44);
	tl_ptr(s, N_RSDP, psize == 8 ? 24 : 16, psize, N_TABLES);
	tl_cksum(s, N_RSDP, 8, 0, 20);
	tl_cksum(s, N_RSDP, 32, 0, 36);
	tl_wptr(s, N_PTR, 0, psize, N_TABLES, 64);
	put(s, FZ_TL_BLOB, 1);
}

static const struct tl_poke tl_blobs[4] = {
	{ F_RSDP, 0, "RSD PTR ", 8 },
	{ F_TABLES, 0, "XSDT", 4 },
	{ F_TABLES, 36, "\x40\0\0\0", 4 },
	{ F_TABLES, 64, "TEST", 4 },
};

static void tl_entry(uint8_t *e, uint32_t cmd, const char *a, const char *b,
		     uint32_t x, uint32_t y, uint32_t z, uint8_t w)
{
	memset(e, 0, 128);
	for (int i = 0; i < 4; i++) {
		e[i] = (uint8_t)(cmd >> (8 * i));
		e[116 + i] = (uint8_t)(x >> (8 * i));
		e[120 + i] = (uint8_t)(y >> (8 * i));
		e[60 + i] = (uint8_t)(z >> (8 * i));
	}
	memcpy(e + 4, a, strnlen(a, 56));
	if (b)
		memcpy(e + 60, b, strnlen(b, 56));
	e[124] = w;
	if (cmd == 1)
		e[64] = w;
}

static void seeds_table_loader(void)
{
	struct tl_poke bad[1];
	uint8_t raw[6 * 128];
	struct sb s;

	/* The builder's stream through firmware: RAM at 2 GiB, at 4 GiB
	 * and right below 4 GiB. */
	s.n = 0;
	tl_linux(&s, 8);
	tl_apply(&s, 0, 0, 0x1000, 0x8000, tl_blobs, 4);
	tl_apply(&s, 0, 1, 0x100, 0x1000, tl_blobs, 4);
	tl_apply(&s, 0, 3, 0xe000, 0x2000, tl_blobs, 4);
	emit("table_loader", "linux", &s);

	/* 4-byte pointers (an RSDT): fit below 4 GiB only; 2- and 1-byte
	 * ones with RAM at 0. */
	s.n = 0;
	tl_linux(&s, 4);
	tl_apply(&s, 0, 0, 0, 0x1000, tl_blobs, 4);
	tl_apply(&s, 0, 1, 0, 0x1000, tl_blobs, 4);
	tl_apply(&s, 0, 3, 0xff00, 0x100, tl_blobs, 4);
	put(&s, FZ_TL_RESET, 1);
	tl_alloc(&s, N_A, 16, 1, 1);
	tl_alloc(&s, N_RO, 8, 1, 2);
	tl_ptr(&s, N_RO, 0, 1, N_A);
	tl_ptr(&s, N_RO, 2, 2, N_A);
	tl_wptr(&s, N_W3, 1, 2, N_A, 15);
	tl_wptr(&s, N_W3, 0, 1, N_A, 3);
	tl_apply(&s, 0, 2, 0, 0x400, NULL, 0);
	tl_apply(&s, 0, 2, 0x1000, 0x400, NULL, 0);
	emit("table_loader", "small-pointers", &s);

	/* Every builder error, each on a fresh builder. */
	s.n = 0;
	tl_alloc(&s, N_EMPTY, 1, 8, 1);
	put(&s, FZ_TL_RESET, 1);
	tl_alloc(&s, N_NULL, 1, 8, 1);
	tl_ptr(&s, N_TABLES, 0, 8, N_TABLES);
	put(&s, FZ_TL_BLOB, 1);
	put(&s, FZ_TL_RESET, 1);
	tl_alloc(&s, N_56, 1, 8, 1);
	put(&s, FZ_TL_RESET, 1);
	tl_alloc(&s, N_55, 100, 4096, 1);
	tl_ptr(&s, N_55, 92, 8, N_55);
	tl_cksum(&s, N_55, 99, 0, 100);
	tl_cksum(&s, N_55, 0, 100, 0);
	tl_wptr(&s, N_PTR, 0, 1, N_55, 99);
	tl_alloc(&s, N_RSDP, 1, 0, 1);
	put(&s, FZ_TL_RESET, 1);
	tl_alloc(&s, N_RSDP, 1, 12, 1);
	put(&s, FZ_TL_RESET, 1);
	tl_alloc(&s, N_RSDP, 1, 8192, 1);
	put(&s, FZ_TL_RESET, 1);
	tl_alloc(&s, N_RSDP, 1, 8, 0);
	put(&s, FZ_TL_RESET, 1);
	tl_alloc(&s, N_RSDP, 1, 8, 3);
	put(&s, FZ_TL_RESET, 1);
	tl_alloc(&s, N_RSDP, 0, 8, 1);
	put(&s, FZ_TL_RESET, 1);
	tl_alloc(&s, N_TABLES, 100, 8, 1);
	tl_alloc(&s, N_TABLES, 100, 8, 1);
	put(&s, FZ_TL_RESET, 1);
	tl_alloc(&s, N_TABLES, 100, 8, 1);
	tl_ptr(&s, N_TABLES, 0, 3, N_TABLES);
	put(&s, FZ_TL_RESET, 1);
	tl_alloc(&s, N_TABLES, 100, 8, 1);
	tl_ptr(&s, N_TABLES, 0xfffffffc, 8, N_TABLES);
	put(&s, FZ_TL_RESET, 1);
	tl_alloc(&s, N_TABLES, 100, 8, 1);
	tl_cksum(&s, N_TABLES, 0, 0xffffffff, 2);
	put(&s, FZ_TL_RESET, 1);
	tl_alloc(&s, N_TABLES, 100, 8, 1);
	tl_wptr(&s, N_PTR, 0xfffffffc, 8, N_TABLES, 0);
	put(&s, FZ_TL_RESET, 1);
	tl_alloc(&s, N_TABLES, 100, 8, 1);
	tl_wptr(&s, N_PTR, 0, 8, N_TABLES, 100);
	put(&s, FZ_TL_BLOB, 1);
	emit("table_loader", "builder-errors", &s);

	/* TL_MAX_FILES files placed, then one too many. */
	s.n = 0;
	for (int i = 0; i < 16; i++) {
		char n[8];

		snprintf(n, sizeof(n), "f%d", i);
		put(&s, FZ_TL_ALLOC, 1);
		tl_name(&s, N_RAW, n);
		tl_num(&s, 64 + 8 * i);
		tl_num(&s, 1u << (i % 13));
		put(&s, 1 + i % 2, 1);
	}
	tl_apply(&s, 0, 0, 0, 0xf000, NULL, 0);
	tl_alloc(&s, N_A, 1, 1, 1);
	put(&s, FZ_TL_BLOB, 1);
	emit("table_loader", "max-files", &s);

	/* The builder's stream corrupted the way a hostile VMM could:
	 * offsets and sizes out of range, an unterminated name, bad
	 * alignment, an unknown command. */
	s.n = 0;
	tl_linux(&s, 8);
	bad[0] = (struct tl_poke){ F_LOADER, 3 * 128 + 116, "\xfc\xff\xff\xff",
				   4 };
	tl_apply(&s, 0, 0, 0, 0x1000, bad, 1);
	bad[0] = (struct tl_poke){ F_LOADER, 3 * 128 + 120, "\x03", 1 };
	tl_apply(&s, 0, 0, 0, 0x1000, bad, 1);
	bad[0] = (struct tl_poke){ F_LOADER, 1 * 128 + 60, "\x18", 1 };
	tl_apply(&s, 0, 0, 0, 0x1000, bad, 1);
	bad[0] = (struct tl_poke){ F_LOADER, 0 * 128 + 4,
				   "xxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				   "xxxxxxxxxxxxxxxxxxxxxxxxxxxx", 56 };
	tl_apply(&s, 0, 0, 0, 0x1000, bad, 1);
	bad[0] = (struct tl_poke){ F_LOADER, 4 * 128, "\x77", 1 };
	tl_apply(&s, 0, 0, 0, 0x1000, bad, 1);
	bad[0] = (struct tl_poke){ F_LOADER, 2 * 128 + 68, "\x29", 1 };
	tl_apply(&s, 0, 0, 0, 0x1000, bad, 1);
	bad[0] = (struct tl_poke){ F_LOADER, 8 * 128 + 120, "\x80", 1 };
	tl_apply(&s, 0, 0, 0, 0x1000, bad, 1);
	bad[0] = (struct tl_poke){ F_TABLES, 36, "\x80", 1 };
	tl_apply(&s, 0, 0, 0, 0x1000, bad, 1);
	/* etc/ptr read-only; the files shorter and longer than allocated;
	 * too small an area; bad areas; no loader; an empty one. */
	tl_apply(&s, FZ_TL_PTR_RO, 0, 0, 0x1000, NULL, 0);
	put(&s, FZ_TL_APPLY, 1);
	put(&s, FZ_TL_RESIZE, 1);
	put(&s, 0, 1);
	put(&s, 0, 2);
	put(&s, 0x1000, 2);
	put(&s, 0xfc, 1);
	put(&s, 0x10, 1);
	put(&s, 0, 1);
	tl_apply(&s, 0, 0, 0, 36 + 64 + 100, NULL, 0);
	tl_apply(&s, 0, 0, 0, 64, NULL, 0);
	tl_apply(&s, 0, 0, 0x100, 70, NULL, 0);
	tl_apply(&s, 0, 0, 0xf000, 0x2000, NULL, 0);
	tl_apply(&s, FZ_TL_LOADER_NONE, 0, 0, 0x1000, NULL, 0);
	tl_apply(&s, FZ_TL_LOADER_EMPTY, 0, 0, 0x1000, NULL, 0);
	emit("table_loader", "apply-hostile", &s);

	/* Raw command streams: unknown commands, a pointer written back,
	 * a missing file; a pointer written to a read-only file; a length
	 * that is not whole commands. */
	tl_entry(raw, 1, "etc/ro", NULL, 0, 0, 8, 1);
	tl_entry(raw + 128, 0x77, "", NULL, 0, 0, 0, 0);
	tl_entry(raw + 256, 4, "etc/ptr", "etc/ro", 4, 7, 0, 4);
	memset(raw + 384, 'x', 128);
	tl_entry(raw + 512, 1, "etc/none", NULL, 0, 0, 8, 1);
	tl_entry(raw + 640, 4, "etc/ro", "etc/ro", 0, 0, 0, 8);
	s.n = 0;
	for (unsigned int i = 0; i < 3; i++) {
		/* entries 0-4; 0 and 5; 0-5 less 28 bytes */
		static const uint16_t first[3] = { 0, 640, 0 };
		static const uint16_t len[3] = { 5 * 128, 0, 6 * 128 - 28 };

		put(&s, FZ_TL_APPLY, 1);
		put(&s, FZ_TL_LOADER_RAW, 1);
		put(&s, 0, 1);
		put(&s, 0x100, 2);
		put(&s, 0x1000, 2);
		put(&s, i == 1 ? 256 : len[i], 2);
		if (i == 1)
			put_bytes(&s, raw, 128);
		put_bytes(&s, raw + first[i], i == 1 ? 128 : len[i]);
		put(&s, 0, 1);
	}
	emit("table_loader", "apply-raw", &s);
}

/* ---- AML ---------------------------------------------------------------- */

/* The input format: fuzz.h and fuzz_aml.c; its tables, which seeds index:
 * names[]: "_SB", "\\_SB", "\\_SB.PCI0", "PCI0", "COM0", "_HID", "_CRS",
 * "^FOO", "^^_SB.A.B", "\\", "^", "", NULL, "a", "FOO.", ".FOO", "A..B",
 * "TOOLONG", "1ABC", "_SB.PCI0.S00.D0", "\\^A", "^\\A", "A_9", "A B",
 * "\\_SB_.PCI0", "Z9Z9.Z_Z_.ZZZZ", "_", "\\\\", "^^^^", "ABCDE.A", "A.",
 * "SUPP"; eisa[]: "PNP0A08", "PNP0C0F", "RSC0001" ...; uuids[]: the first
 * the _DSD UUID. */

/* An input: the cfg byte (bits 0-2 the size limit, FZ_AML_CLOSE). */
static void a_start(struct sb *s, uint8_t cfg)
{
	s->n = 0;
	put(s, cfg, 1);
}

static void a_name(struct sb *s, const char *raw)
{
	put(s, FZ_AML_NAME_RAW, 1);
	put(s, strlen(raw), 1);
	put_bytes(s, raw, strlen(raw));
}

static void a_str(struct sb *s, const char *str)
{
	put(s, strlen(str), 1);
	put_bytes(s, str, strlen(str));
}

/* An int in its class: 0, 1, Ones, u8, u16, u32, u64. */
static void a_int(struct sb *s, uint64_t v)
{
	if (v <= 1 || v == UINT64_MAX) {
		put(s, v == UINT64_MAX ? 2 : v, 1);
	} else if (v <= 0xff) {
		put(s, 3, 1);
		put(s, v, 1);
	} else if (v <= 0xffff) {
		put(s, 4, 1);
		put(s, v, 2);
	} else if (v <= 0xffffffff) {
		put(s, 5, 1);
		put(s, v, 4);
	} else {
		put(s, 6, 1);
		put(s, v, 8);
	}
}

static void a_op(struct sb *s, unsigned int op)
{
	put(s, op, 1);
}

static void a_window(struct sb *s, uint8_t kind, uint64_t min, uint64_t max,
		     uint64_t tra)
{
	put(s, FZ_AML_WINDOW, 1);
	put(s, kind, 1);
	if (kind >= 2) {
		put(s, 0, 1);	/* non-cacheable */
		put(s, 1, 1);	/* read-write */
	}
	a_int(s, min);
	a_int(s, max);
	if (kind)
		a_int(s, tra);
}

static void seeds_aml(void)
{
	/* Generated names: 255 segments, the same under the root, 1020 and
	 * 1274 '^' prefixes, 256 segments. */
	static const uint16_t gen[5][2] = { { 0, 255 }, { 2, 255 },
					    { 1, 1020 }, { 1, 1274 },
					    { 0, 256 } };
	struct sb s, t;

	/* A virt-board DSDT: a UART, a PCIe host bridge with its windows,
	 * _OSC and _DSD, then closed by the target. */
	a_start(&s, FZ_AML_CLOSE);
	a_op(&s, FZ_AML_SCOPE);
	put(&s, 1, 1);			/* \_SB */
	a_op(&s, FZ_AML_DEVICE);
	put(&s, 4, 1);			/* COM0 */
	a_op(&s, FZ_AML_NAME_STR);
	put(&s, 5, 1);			/* _HID */
	a_str(&s, "RSCV0003");
	a_op(&s, FZ_AML_NAME_INT);
	a_name(&s, "_UID");
	a_int(&s, 0);
	a_op(&s, FZ_AML_CRS_MMIO);
	a_int(&s, 0x10000000);
	a_int(&s, 0x100);
	put(&s, 1, 1);
	put(&s, 32, 4);
	a_op(&s, FZ_AML_END);
	a_op(&s, FZ_AML_DEVICE);
	put(&s, 3, 1);			/* PCI0 */
	a_op(&s, FZ_AML_NAME_EISAID);
	put(&s, 5, 1);
	put(&s, 0, 1);			/* PNP0A08 */
	a_op(&s, FZ_AML_NAME);
	put(&s, 6, 1);			/* _CRS */
	a_op(&s, FZ_AML_RESTEMPLATE);
	a_window(&s, 0, 0, 0xff, 0);
	a_window(&s, 1, 0, 0xffff, 0x3000000);
	a_window(&s, 2, 0x40000000, 0x7fffffff, 0);
	a_window(&s, 3, 0x400000000ULL, 0x7ffffffffULL, 0);
	a_op(&s, FZ_AML_END);
	a_op(&s, FZ_AML_PCI_OSC);
	put(&s, 0x1f, 4);
	a_op(&s, FZ_AML_DSD_INT);
	a_str(&s, "linux,pci-domain");
	a_int(&s, 0);
	a_op(&s, FZ_AML_NEXT_UID);
	a_str(&s, "PNP0A08");
	a_op(&s, FZ_AML_NEXT_UID);
	a_str(&s, "PNP0A08");
	emit("aml", "dsdt", &s);

	/* Integers of every class and at every boundary, in a Package. */
	a_start(&s, FZ_AML_CLOSE);
	a_op(&s, FZ_AML_NAME);
	a_name(&s, "INTS");
	a_op(&s, FZ_AML_PACKAGE);
	for (int c = 0; c < 7; c++) {
		a_op(&s, FZ_AML_INT);
		put(&s, c, 1);
		put(&s, 0xa5a5a5a5a5a5a5a5ULL, c == 3 ? 1 : c == 4 ? 2 :
					     c == 5 ? 4 : c == 6 ? 8 : 0);
	}
	for (int i = 0; i < 10; i++) {
		a_op(&s, FZ_AML_INT);
		put(&s, 7, 1);
		put(&s, i, 1);
	}
	a_op(&s, FZ_AML_END);
	emit("aml", "integers", &s);

	/* Every name of the table, then the longest ones. */
	a_start(&s, 0);
	for (int i = 0; i < FZ_AML_NR_NAMES; i++) {
		a_op(&s, FZ_AML_NAME_REF);
		put(&s, i, 1);
		if (i == 8)
			emit("aml", "names-valid", &s);
	}
	emit("aml", "names-all", &s);
	a_start(&s, 0);
	for (unsigned int i = 0; i < 5; i++) {
		a_op(&s, FZ_AML_NAME_REF);
		put(&s, FZ_AML_NAME_GEN, 1);
		put(&s, gen[i][0], 1);
		put(&s, gen[i][1], 2);
	}
	emit("aml", "names-long", &s);

	/* Nesting past AML_MAX_DEPTH; every kind of block. */
	a_start(&s, 0);
	a_op(&s, FZ_AML_SCOPE);
	put(&s, 1, 1);
	a_op(&s, FZ_AML_DEVICE);
	put(&s, 3, 1);
	a_op(&s, FZ_AML_METHOD);
	a_name(&s, "_DSM");
	put(&s, 4, 1);
	put(&s, 1, 1);
	a_op(&s, FZ_AML_IF);
	a_op(&s, FZ_AML_LEQUAL);
	put(&s, 0, 1);
	put(&s, 2, 1);
	put(&s, 2, 1);			/* Arg2 */
	put(&s, 1, 1);
	put(&s, 0, 1);			/* Zero */
	a_op(&s, FZ_AML_RETURN);
	put(&s, 1, 1);
	put(&s, 1, 1);
	a_op(&s, FZ_AML_END);
	a_op(&s, FZ_AML_ELSE);
	a_op(&s, FZ_AML_PACKAGE);
	a_op(&s, FZ_AML_BUFFER_BEGIN);
	a_op(&s, FZ_AML_RAW);
	put(&s, 0, 1);
	put(&s, 5, 1);
	put_bytes(&s, "\x01\x02\x03\x04\x05", 5);
	a_op(&s, FZ_AML_END);
	a_op(&s, FZ_AML_RESTEMPLATE);
	a_op(&s, FZ_AML_END);
	for (int i = 0; i < 11; i++)
		a_op(&s, FZ_AML_PACKAGE);	/* AML_MAX_DEPTH blocks open */
	t = s;
	a_op(&t, FZ_AML_IF);
	emit("aml", "nesting-too-deep", &t);
	for (int i = 0; i < 17; i++)
		a_op(&s, FZ_AML_END);
	emit("aml", "nesting-closed-too-often", &s);

	/* A Package of 255 elements, then one of 256. */
	a_start(&s, 0);
	a_op(&s, FZ_AML_PACKAGE);
	for (int i = 0; i < 255; i++) {
		a_op(&s, FZ_AML_INT);
		put(&s, 1, 1);
	}
	a_op(&s, FZ_AML_END);
	a_op(&s, FZ_AML_PACKAGE);
	for (int i = 0; i < 256; i++) {
		a_op(&s, FZ_AML_INT);
		put(&s, 0, 1);
	}
	a_op(&s, FZ_AML_END);
	emit("aml", "package-256", &s);

	/* 2- to 4-byte PkgLengths: zeros in a Buffer past 64 KiB and
	 * 1 MiB (with a 2 MiB limit), then over the limit. */
	a_start(&s, 7);
	a_op(&s, FZ_AML_BUFFER_BEGIN);
	a_op(&s, FZ_AML_RAW);
	put(&s, 3, 1);
	put(&s, 60, 2);
	a_op(&s, FZ_AML_END);
	a_op(&s, FZ_AML_SCOPE);
	put(&s, 0, 1);
	a_op(&s, FZ_AML_RAW);
	put(&s, 3, 1);
	put(&s, 4000, 2);
	a_op(&s, FZ_AML_END);
	a_op(&s, FZ_AML_BUFFER_BEGIN);
	for (int i = 0; i < 17; i++) {
		a_op(&s, FZ_AML_RAW);
		put(&s, 3, 1);
		put(&s, 65535, 2);
	}
	a_op(&s, FZ_AML_END);
	for (int i = 0; i < 16; i++) {
		a_op(&s, FZ_AML_RAW);
		put(&s, 3, 1);
		put(&s, 65535, 2);
	}
	emit("aml", "pkglength-sizes", &s);
	a_start(&s, 2);			/* 48-byte limit */
	a_op(&s, FZ_AML_DEVICE);
	put(&s, 4, 1);
	a_op(&s, FZ_AML_NAME_STR);
	put(&s, 5, 1);
	a_str(&s, "RSCV0003");
	a_op(&s, FZ_AML_NAME_STR);
	put(&s, 5, 1);
	a_str(&s, "RSCV0003");
	a_op(&s, FZ_AML_END);
	emit("aml", "over-the-limit", &s);

	/* Expressions with every kind of operand. */
	a_start(&s, 0);
	a_op(&s, FZ_AML_METHOD);
	put(&s, 31, 1);			/* SUPP */
	put(&s, 7, 1);
	put(&s, 0, 1);
	a_op(&s, FZ_AML_STORE);
	put(&s, 2, 1);
	put(&s, 6, 1);			/* Arg6 */
	put(&s, 3, 1);
	put(&s, 7, 1);			/* Local7 */
	a_op(&s, FZ_AML_ANDOR);
	put(&s, 1, 1);
	put(&s, 4, 1);
	put(&s, 31, 1);
	put(&s, 1, 1);
	a_int(&s, 0x12345678);
	put(&s, 0, 1);
	a_op(&s, FZ_AML_LEQUAL);
	put(&s, 1, 1);
	put(&s, 5, 1);
	a_str(&s, "abc");
	put(&s, 6, 1);
	put(&s, 0, 1);			/* the _DSD UUID */
	a_op(&s, FZ_AML_DWORD_FIELD);
	put(&s, 2, 1);
	put(&s, 3, 1);
	put(&s, 8, 4);
	a_name(&s, "CDW3");
	a_op(&s, FZ_AML_OPND);
	put(&s, 6, 1);
	put(&s, 0x81, 1);		/* a UUID from 16 bytes */
	put_bytes(&s, "0123456789abcdef", 16);
	a_op(&s, FZ_AML_END);
	a_op(&s, FZ_AML_STORE);
	put(&s, 2, 1);
	put(&s, 7, 1);			/* Arg7: refused */
	put(&s, 0, 1);
	emit("aml", "expressions", &s);

	/* Resource descriptors at their limits. */
	a_start(&s, FZ_AML_CLOSE);
	a_op(&s, FZ_AML_RESTEMPLATE);
	a_op(&s, FZ_AML_MEM32);
	a_int(&s, 0xfffff000);
	a_int(&s, 0x1000);
	put(&s, 0, 1);
	a_op(&s, FZ_AML_MEM32);
	a_int(&s, 0);
	a_int(&s, 0);
	put(&s, 1, 1);
	a_op(&s, FZ_AML_INTERRUPT);
	put(&s, 0x1f, 1);
	put(&s, 255, 2);
	for (uint32_t i = 0; i < 64; i++)
		put(&s, 32 + i, 4);
	a_op(&s, FZ_AML_ADDRESS);
	put(&s, 0, 1);			/* 16 bits */
	put(&s, 2, 1);
	put(&s, 0x0c, 1);
	put(&s, 0, 1);
	for (int i = 0; i < 5; i++)
		a_int(&s, 0xffff);
	a_op(&s, FZ_AML_ADDRESS);
	put(&s, 2, 1);			/* 64 bits */
	put(&s, 0, 1);
	put(&s, 0x0d, 1);
	put(&s, 7, 1);
	for (int i = 0; i < 5; i++)
		a_int(&s, UINT64_MAX);
	a_window(&s, 3, 0, UINT64_MAX - 1, 0);
	a_window(&s, 0, 0, 0xfffe, 0);
	emit("aml", "resources", &s);
	a_start(&s, 0);
	a_op(&s, FZ_AML_RESTEMPLATE);
	a_op(&s, FZ_AML_MEM32);
	a_int(&s, 0xfffff000);
	a_int(&s, 0x1001);
	put(&s, 0, 1);
	emit("aml", "mem32-past-4g", &s);
	a_start(&s, 0);
	a_op(&s, FZ_AML_RESTEMPLATE);
	a_op(&s, FZ_AML_INTERRUPT);
	put(&s, 1, 1);
	put(&s, 256, 2);
	emit("aml", "interrupt-256", &s);
	a_start(&s, 0);
	a_op(&s, FZ_AML_MEM32);
	a_int(&s, 0);
	a_int(&s, 16);
	put(&s, 0, 1);
	emit("aml", "descriptor-outside-template", &s);

	/* Strings, EisaIds, UUIDs: good and bad ones. */
	a_start(&s, 0);
	a_op(&s, FZ_AML_STRING);
	a_str(&s, "Hello, ACPI ~");
	for (int i = 0; i < FZ_AML_NR_EISA; i++) {
		a_op(&s, FZ_AML_EISAID);
		put(&s, i, 1);
		if (i == 2)
			emit("aml", "eisaid-valid", &s);
	}
	emit("aml", "eisaid-all", &s);
	a_start(&s, 0);
	for (int i = 0; i < FZ_AML_NR_UUID; i++) {
		a_op(&s, FZ_AML_TOUUID);
		put(&s, i, 1);
		if (i == 3)
			emit("aml", "uuid-valid", &s);
	}
	emit("aml", "uuid-all", &s);
	a_start(&s, 0);
	a_op(&s, FZ_AML_STRING);
	a_str(&s, "tab\there");
	a_op(&s, FZ_AML_STRING);
	a_str(&s, "caf\xc3\xa9");
	emit("aml", "strings-bad", &s);

	/* Patches, _UID counters past AML_MAX_UID_KINDS, explicit failure
	 * and aml_finish() with a block open. */
	a_start(&s, 0);
	a_op(&s, FZ_AML_NAME_INT);
	put(&s, 5, 1);
	a_int(&s, 0xdeadbeef);
	a_op(&s, FZ_AML_PATCH);
	put(&s, 6, 2);
	put(&s, 4, 1);
	put(&s, 0x12345678, 8);
	a_op(&s, FZ_AML_PATCH);
	put(&s, 10, 2);
	put(&s, 0, 1);
	put(&s, 0, 8);
	for (int i = 0; i < 17; i++) {
		char hid[9];

		snprintf(hid, sizeof(hid), "HID%04d", i);
		a_op(&s, FZ_AML_NEXT_UID);
		a_str(&s, hid);
		a_op(&s, FZ_AML_NEXT_UID);
		a_str(&s, hid);
	}
	emit("aml", "patch-uids", &s);
	a_start(&s, 0);
	a_op(&s, FZ_AML_SCOPE);
	put(&s, 0, 1);
	a_op(&s, FZ_AML_FINISH);
	emit("aml", "finish-open", &s);
	a_start(&s, 0);
	a_op(&s, FZ_AML_FAIL);
	put(&s, 5, 1);
	a_op(&s, FZ_AML_INT);
	put(&s, 1, 1);
	a_op(&s, FZ_AML_END);
	emit("aml", "fail-sticky", &s);
}

/* ---- plic ---------------------------------------------------------------- */

static void pl_start(struct sb *s, unsigned int nctx, unsigned int nsrc)
{
	s->n = 0;
	put(s, nctx - 1, 1);
	put(s, nsrc - 1, 2);
}

/* An access: @sel as in fuzz.h (width, align, area), @a the offset. */
static void pl_rw(struct sb *s, bool wr, uint8_t sel, uint32_t a, uint32_t v)
{
	put(s, wr ? FZ_PLIC_WRITE : FZ_PLIC_READ, 1);
	put(s, sel, 1);
	put(s, a, 4);
	if (wr)
		put(s, v, 4);
}

/* A 32-bit access at a raw offset. */
static void pl_rw32(struct sb *s, bool wr, uint32_t off, uint32_t v)
{
	pl_rw(s, wr, 2 | FZ_PLIC_SEL_ALIGN | FZ_PLIC_AREA_RAW, off, v);
}

static void pl_level(struct sb *s, uint16_t src, bool level)
{
	put(s, FZ_PLIC_LEVEL, 1);
	put(s, src, 2);
	put(s, level, 1);
}

static void pl_claim(struct sb *s, uint8_t ctx)
{
	put(s, FZ_PLIC_CLAIM, 1);
	put(s, ctx, 1);
}

static void pl_complete(struct sb *s, uint8_t ctx, uint16_t src)
{
	put(s, FZ_PLIC_COMPLETE, 1);
	put(s, ctx, 1);
	put(s, src, 2);
}

static void pl_route(struct sb *s, uint8_t ctx, uint16_t src, uint8_t prio,
		     bool on)
{
	put(s, FZ_PLIC_ROUTE, 1);
	put(s, ctx, 1);
	put(s, src, 2);
	put(s, prio, 1);
	put(s, on, 1);
}

static void pl_threshold(struct sb *s, uint8_t ctx, uint32_t v)
{
	put(s, FZ_PLIC_THRESHOLD, 1);
	put(s, ctx, 1);
	put(s, v, 4);
}

static void seeds_plic(void)
{
	struct sb s;

	/* Linux's plic_probe() for 4 harts and 40 sources, the starting
	 * CPUs' threshold 0, two devices routed to CPUs 1 and 2, their
	 * interrupts handled by plic_handle_irq() and plic_irq_eoi(). */
	pl_start(&s, 4, 40);
	for (uint8_t c = 0; c < 4; c++)
		for (uint16_t i = 1; i <= 40; i++)
			pl_route(&s, c, i, 1, false);
	for (uint8_t c = 0; c < 4; c++)
		pl_threshold(&s, c, 0);
	pl_route(&s, 1, 10, 1, true);
	pl_route(&s, 2, 33, 1, true);
	pl_level(&s, 10, true);
	pl_level(&s, 33, true);
	pl_claim(&s, 1);
	pl_level(&s, 10, false);
	pl_rw32(&s, false, 0x2080, 0);		/* eoi: enabled? */
	pl_complete(&s, 1, 10);
	pl_claim(&s, 1);
	pl_claim(&s, 2);
	pl_rw32(&s, true, 4 * 33, 0);		/* mask (oneshot) */
	pl_complete(&s, 2, 33);
	pl_claim(&s, 2);
	pl_level(&s, 33, false);
	pl_rw32(&s, true, 4 * 33, 1);		/* unmask */
	pl_rw32(&s, false, 0x1000, 0);
	pl_rw32(&s, false, 0x1004, 0);
	emit("plic", "linux-probe", &s);

	/* Every source raised with mixed priorities, claimed in order by
	 * one context under thresholds, completed in reverse. */
	pl_start(&s, 2, 64);
	for (uint16_t i = 1; i <= 64; i++)
		pl_route(&s, 1, i, (uint8_t)(i * 5 % 8), true);
	pl_threshold(&s, 1, 1);
	for (uint16_t i = 64; i >= 1; i--)
		pl_level(&s, i, true);
	for (int i = 0; i < 60; i++)
		pl_claim(&s, 1);
	pl_threshold(&s, 1, 0);
	for (int i = 0; i < 10; i++)
		pl_claim(&s, 1);
	for (uint16_t i = 64; i >= 1; i--)
		pl_complete(&s, 1, i);
	pl_threshold(&s, 1, 7);
	pl_threshold(&s, 1, 9);
	pl_claim(&s, 1);
	emit("plic", "claim-order", &s);

	/* Gateways: a pulse before the claim, raises while claimed, a
	 * source shared by two contexts, completions by the wrong context,
	 * of what was never claimed, of a source not enabled. */
	pl_start(&s, 3, 8);
	pl_route(&s, 0, 3, 2, true);
	pl_route(&s, 2, 3, 2, true);
	pl_level(&s, 3, true);
	pl_level(&s, 3, false);
	pl_claim(&s, 0);
	pl_level(&s, 3, true);
	pl_claim(&s, 2);
	pl_level(&s, 3, false);
	pl_level(&s, 3, true);
	pl_complete(&s, 1, 3);
	pl_complete(&s, 0, 3);
	pl_claim(&s, 0);
	pl_route(&s, 0, 3, 2, false);
	pl_complete(&s, 0, 3);
	pl_complete(&s, 2, 3);
	pl_complete(&s, 2, 3);
	pl_complete(&s, 2, 0);
	pl_complete(&s, 2, 9);
	pl_complete(&s, 2, 0xffff);
	pl_rw32(&s, true, 4 * 3, 0);
	pl_claim(&s, 2);
	emit("plic", "gateways", &s);

	/* Hostile accesses: widths, misalignment, the read-only pending
	 * area, gaps, absent contexts' enables, reserved context words,
	 * sources 0 and past riscv,ndev; then a next boot. */
	pl_start(&s, 2, 33);
	pl_route(&s, 0, 33, 7, true);
	pl_level(&s, 33, true);
	for (uint8_t w = 0; w < 4; w++) {
		pl_rw(&s, false, w | FZ_PLIC_AREA_CONTEXT, 4 << 5, 0);
		pl_rw(&s, true, w | FZ_PLIC_AREA_PRIO, 33, 5);
		pl_rw(&s, true, w | FZ_PLIC_AREA_ENABLE, 1, 0);
	}
	pl_rw(&s, false, 2 | FZ_PLIC_AREA_RAW, 0x200006, 0);
	pl_rw(&s, true, 2 | FZ_PLIC_AREA_RAW, 0x200001, 33);
	pl_rw32(&s, true, 0x1004, 0xffffffff);
	pl_rw32(&s, true, 0x1080, 1);
	pl_rw32(&s, true, 0x2000 + 0x80 * 5, 0xffffffff);
	pl_rw32(&s, true, 0x200008, 1);
	pl_rw32(&s, true, 0x200ffc, 1);
	pl_rw32(&s, true, 0, 7);
	pl_rw32(&s, true, 4 * 34, 7);
	pl_rw32(&s, true, 0x201000, 0xffffffff);	/* context 1 threshold */
	pl_level(&s, 0, true);
	pl_level(&s, 34, true);
	pl_level(&s, 0xffff, true);
	pl_rw(&s, false, 3 | FZ_PLIC_AREA_RAW, 0xffffffff, 0);
	pl_claim(&s, 0);
	put(&s, FZ_PLIC_RESET, 1);
	pl_claim(&s, 0);
	emit("plic", "hostile", &s);

	/* The largest PLIC: source 1023, context 31. */
	pl_start(&s, 32, 1023);
	pl_route(&s, 31, 1023, 7, true);
	pl_route(&s, 0, 1, 1, true);
	pl_threshold(&s, 31, 6);
	pl_level(&s, 1023, true);
	pl_level(&s, 1, true);
	pl_claim(&s, 31);
	pl_claim(&s, 0);
	pl_complete(&s, 31, 1023);
	pl_rw32(&s, false, 0x107c, 0);
	emit("plic", "max", &s);
}

/* ---- aplic --------------------------------------------------------------- */

static void ap_start(struct sb *s, unsigned int nsrc, unsigned int nharts)
{
	s->n = 0;
	put(s, nsrc - 1, 2);
	put(s, nharts - 1, 1);
}

static void ap_rw(struct sb *s, bool wr, uint8_t sel, uint16_t off,
		  uint32_t v)
{
	put(s, wr ? FZ_APLIC_WRITE : FZ_APLIC_READ, 1);
	put(s, sel, 1);
	put(s, off, 2);
	if (wr)
		put(s, v, 4);
}

static void ap_rw32(struct sb *s, bool wr, uint16_t off, uint32_t v)
{
	ap_rw(s, wr, 2 | FZ_APLIC_SEL_ALIGN, off, v);
}

static void ap_level(struct sb *s, uint16_t src, bool level)
{
	put(s, FZ_APLIC_LEVEL, 1);
	put(s, src, 2);
	put(s, level, 1);
}

static void ap_route(struct sb *s, uint16_t src, uint8_t cfg, uint32_t hart,
		     uint32_t eiid, bool on)
{
	put(s, FZ_APLIC_ROUTE, 1);
	put(s, src - 1, 2);
	put(s, cfg, 1);
	put(s, hart << 18 | eiid, 4);
	put(s, on, 1);
}

/* reg: 0 setipnum, 1 _le, 2 _be, 3 clripnum, 4 setienum, 5 clrienum. */
static void ap_num(struct sb *s, uint8_t reg, uint16_t src)
{
	put(s, FZ_APLIC_NUM, 1);
	put(s, reg, 1);
	put(s, src, 2);
}

static void seeds_aplic(void)
{
	struct sb s;

	/* Linux: aplic_init_hw_irqs() and aplic_init_hw_global() for 40
	 * sources, a level-high UART (10 -> hart 1, EIID 33) and an edge
	 * device (33 -> hart 3, EIID 34); interrupts, EOIs, a mask, an
	 * affinity change, free_irq(). */
	ap_start(&s, 40, 4);
	ap_rw32(&s, true, 0x1f00, 0xffffffff);
	ap_rw32(&s, true, 0x1f04, 0xffffffff);
	for (uint16_t i = 1; i <= 40; i++) {
		ap_rw32(&s, true, (uint16_t)(4 * i), 0);
		ap_rw32(&s, true, (uint16_t)(0x3000 + 4 * i), 1);
	}
	ap_rw32(&s, true, 0, 0);
	ap_rw32(&s, false, 0, 0);
	put(&s, FZ_APLIC_DOMAINCFG, 1);
	put(&s, 0x80000104, 4);
	ap_rw32(&s, false, 0, 0);
	ap_route(&s, 10, 6, 1, 33, true);
	ap_route(&s, 33, 4, 3, 34, true);
	ap_level(&s, 10, true);
	ap_level(&s, 10, false);
	ap_num(&s, 1, 10);
	ap_level(&s, 10, true);
	ap_num(&s, 1, 10);
	ap_level(&s, 10, false);
	ap_num(&s, 1, 10);
	ap_level(&s, 33, true);
	ap_level(&s, 33, false);
	ap_num(&s, 5, 33);
	ap_level(&s, 33, true);
	ap_num(&s, 4, 33);
	ap_route(&s, 10, 6, 2, 35, true);
	ap_level(&s, 10, true);
	ap_num(&s, 5, 10);
	ap_rw32(&s, true, 0x3000 + 4 * 10, 0);
	ap_num(&s, 1, 10);
	ap_rw32(&s, false, 0x1c00, 0);
	emit("aplic", "linux-probe", &s);

	/* Each source mode against the wire and setip/in_clrip, IE off then
	 * on (everything pending goes out in source order). */
	ap_start(&s, 8, 2);
	for (uint16_t i = 1; i <= 8; i++)
		ap_route(&s, i, (uint8_t)(i - 1), i % 2, i, true);
	for (uint16_t i = 1; i <= 8; i++)
		ap_level(&s, i, true);
	ap_rw32(&s, false, 0x1c00, 0);
	ap_rw32(&s, false, 0x1d00, 0);
	ap_rw32(&s, true, 0x1c00, 0x1fe);
	ap_rw32(&s, false, 0x1c00, 0);
	for (uint16_t i = 1; i <= 8; i++)
		ap_level(&s, i, false);
	ap_rw32(&s, false, 0x1c00, 0);
	ap_rw32(&s, true, 0x1d00, 0x0f0);
	ap_rw32(&s, true, 0x1c00, 0x1fe);
	put(&s, FZ_APLIC_DOMAINCFG, 1);
	put(&s, 0x100, 4);
	for (uint8_t r = 0; r < 4; r++)
		for (uint16_t i = 1; i <= 8; i++)
			ap_num(&s, r, i);
	ap_rw32(&s, true, 0x1e00, 0);
	ap_rw32(&s, false, 0x1e00, 0);
	emit("aplic", "modes", &s);

	/* Hostile: widths, misalignment, msiaddrcfg, reserved space, the
	 * IDC area, delegation, reserved modes, targets with guest indexes
	 * or harts that do not exist, EIID 0, genmsi, numbers that are no
	 * source; then a next boot. */
	ap_start(&s, 33, 2);
	put(&s, FZ_APLIC_DOMAINCFG, 1);
	put(&s, 0xffffffff, 4);
	ap_route(&s, 33, 0x81, 1, 7, true);	/* D = 1 */
	ap_route(&s, 32, 2, 1, 7, true);	/* reserved mode */
	ap_route(&s, 31, 1, 1, 7, true);
	ap_rw32(&s, true, 0x3000 + 4 * 31, 1 << 18 | 3 << 12 | 7);
	ap_rw32(&s, true, 0x3000 + 4 * 31, 0xffffffff);
	ap_num(&s, 0, 31);
	ap_rw32(&s, true, 0x3000 + 4 * 31, 0);
	ap_num(&s, 0, 31);
	for (uint8_t w = 0; w < 4; w++) {
		ap_rw(&s, true, w, 0x1cdc, 31);
		ap_rw(&s, false, w, 0x3000 + 4 * 31, 0);
		ap_rw(&s, false, w, 0x1bc1, 0);
	}
	for (uint16_t off = 0x1bc0; off < 0x1bd0; off += 4)
		ap_rw32(&s, true, off, 0xffffffff);
	ap_rw32(&s, true, 0x1000, 1);
	ap_rw32(&s, true, 0x2008, 1);
	ap_rw32(&s, true, 0x4000, 1);
	ap_rw32(&s, false, 0x4018, 0);
	ap_rw32(&s, true, 0x4ffc, 1);
	put(&s, FZ_APLIC_GENMSI, 1);
	put(&s, 0xffffffff, 4);
	put(&s, FZ_APLIC_GENMSI, 1);
	put(&s, 1 << 18 | 0x1000 | 5, 4);
	ap_num(&s, 0, 0);
	ap_num(&s, 4, 34);
	ap_num(&s, 6, 31);			/* setipnum_be, raw */
	ap_level(&s, 0, true);
	ap_level(&s, 34, true);
	put(&s, FZ_APLIC_RESET, 1);
	ap_rw32(&s, false, 0, 0);
	emit("aplic", "hostile", &s);

	/* The largest domain: source 1023, the last target and bit. */
	ap_start(&s, 1023, 8);
	put(&s, FZ_APLIC_DOMAINCFG, 1);
	put(&s, 0x100, 4);
	ap_route(&s, 1023, 7, 7, 0x7ff, true);
	ap_level(&s, 1023, true);
	ap_level(&s, 1023, false);
	ap_rw32(&s, false, 0x1c7c, 0);
	ap_rw32(&s, false, 0x1d7c, 0);
	ap_rw32(&s, false, 0x3ffc, 0);
	emit("aplic", "max", &s);
}

/* ---- QMP ------------------------------------------------------------------ */

static void qmp_in(struct sb *s, const char *text)
{
	size_t len = strlen(text);

	put(s, FZ_QMP_INPUT, 1);
	put(s, len, 2);
	put_bytes(s, text, len);
}

static void seeds_qmp(void)
{
	static const char *const cmds[] = {
		"query-status", "query-version", "query-commands",
		"query-name", "query-uuid", "query-target", "query-kvm",
		"query-cpus-fast", "query-block", "stop", "cont",
		"system_reset", "system_powerdown", "quit", "query-migrate",
		"query-migrate-capabilities",
	};
	struct sb s = { 0 };
	char line[128];

	/* Negotiation by the client, then every command. */
	put(&s, 0, 1);
	qmp_in(&s, "{\"execute\": \"qmp_capabilities\", \"id\": 1}\r\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(*cmds); i++) {
		snprintf(line, sizeof(line),
			 "{\"execute\": \"%s\", \"id\": \"c%zu\"}\n", cmds[i],
			 i);
		qmp_in(&s, line);
	}
	emit("qmp", "all-commands", &s);

	/* Actions that wait for the VM, answered both ways. */
	s.n = 0;
	put(&s, 1 | FZ_QMP_CFG_NEGOTIATED, 1);
	qmp_in(&s, "{\"execute\": \"stop\"}{\"execute\": \"query-status\"}");
	put(&s, FZ_QMP_EVENT, 1);
	put(&s, 0, 1);
	put(&s, FZ_QMP_DONE, 1);
	qmp_in(&s, "{\"execute\": \"system_powerdown\", \"id\": [1, {}]}");
	put(&s, FZ_QMP_FAIL, 1);
	put(&s, FZ_QMP_DRAIN, 1);
	put(&s, 10, 2);
	emit("qmp", "pending", &s);

	/* Bad requests of every kind. */
	s.n = 0;
	put(&s, FZ_QMP_CFG_NEGOTIATED | (3 << 3), 1);
	qmp_in(&s, "[1]\n42\n{\"execute\": 1}\n{\"id\": 2}\n"
		   "{\"execute\": \"stop\", \"arguments\": {\"x\": 1}}\n"
		   "{\"execute\": \"nope\"}{\"exec-oob\": \"stop\"}\n"
		   "garbage}\n{\"id\": 1e999}\n{\"a\": 1, \"a\": 2}\n"
		   "{\"execute\": \"qmp_capabilities\", \"arguments\": "
		   "{\"enable\": [\"oob\"]}}\n");
	emit("qmp", "bad-requests", &s);

	/* Migration capabilities, good and bad, and a snapshot. */
	s.n = 0;
	put(&s, FZ_QMP_CFG_NEGOTIATED, 1);
	qmp_in(&s, "{\"execute\": \"migrate-set-capabilities\", "
		   "\"arguments\": {\"capabilities\": [{\"capability\": "
		   "\"events\", \"state\": true}, {\"capability\": "
		   "\"multifd\", \"state\": false}]}}\n"
		   "{\"execute\": \"migrate-set-capabilities\", "
		   "\"arguments\": {\"capabilities\": [{\"capability\": "
		   "\"x\", \"state\": 1}, 2]}}\n"
		   "{\"execute\": \"query-migrate-capabilities\"}\n"
		   "{\"execute\": \"migrate\", \"arguments\": "
		   "{\"uri\": \"file:/s\"}}\n");
	emit("qmp", "migrate-caps", &s);

	/* query-chardev with each console (bits 6-7 of the first byte) and
	 * a pty (bit 0). */
	for (unsigned int k = 0; k < 4; k++) {
		char name[16];

		s.n = 0;
		put(&s, FZ_QMP_CFG_NEGOTIATED | 1 | (k << 6), 1);
		qmp_in(&s, "{\"execute\": \"query-chardev\"}\n"
			   "{\"execute\": \"query-chardev\", \"arguments\": "
			   "{\"x\": 1}}\n");
		snprintf(name, sizeof(name), "chardev-%u", k);
		emit("qmp", name, &s);
	}

	/* Before negotiation, and a command split across inputs. */
	s.n = 0;
	put(&s, 2, 1);
	qmp_in(&s, "{\"execute\": \"stop\"}\n{\"execute\": \"qmp_cap");
	qmp_in(&s, "abilities\"}\n{\"execute\": \"cont\"}");
	emit("qmp", "negotiation", &s);

	/* Deep nesting. */
	s.n = 0;
	put(&s, FZ_QMP_CFG_NEGOTIATED, 1);
	put(&s, FZ_QMP_INPUT, 1);
	put(&s, 3000, 2);
	for (int i = 0; i < 3000; i++)
		put(&s, '[', 1);
	emit("qmp", "deep", &s);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mkseeds DIR\n");
		return 2;
	}
	outdir = argv[1];
	seeds_virtq();
	seeds_mmio();
	seeds_blk();
	seeds_uart();
	seeds_fwcfg();
	seeds_pci();
	seeds_net();
	seeds_loader();
	seeds_config();
	seeds_table_loader();
	seeds_aml();
	seeds_plic();
	seeds_aplic();
	seeds_qmp();
	return 0;
}
