// SPDX-License-Identifier: MIT
/* Fuzz target: the table-loader (src/fwcfg/table_loader.c), both sides.
 *
 * The builder gets a sequence of calls decoded from the input -- file names
 * from a small set (valid, empty, NULL, 55 and 56 characters) or raw bytes;
 * sizes, offsets, alignments, zones and pointer sizes from small to hostile
 * -- and is checked against a model of table_loader.h: a call succeeds
 * exactly when the header says it may, else returns one of the errors it
 * lists for that case; errors are sticky (every later call returns the
 * first, nothing more is emitted); tl_blob() is NULL with length 0 while
 * there is one, else a whole number of 128-byte commands that are the
 * model's byte for byte and, read back on their own, only name files
 * allocated before them, with every range inside those files.
 *
 * The firmware side, tl_apply(), runs on a real fw_cfg device over heap
 * RAM (at 2 GiB, 4 GiB, 0 or just below 4 GiB) holding the files the
 * builder allocated (contents poked from the input, sizes possibly off),
 * writable and read-only pointer targets and `etc/table-loader`: the
 * builder's stream, that stream corrupted by the input, or raw input
 * bytes.  A model of the executor (the checks table_loader.h lists, as
 * EDK2's QemuFwCfgAcpiPlatformDxe makes them) predicts the outcome: the
 * result is 0 or one of the errors of the first command the model refuses;
 * placements and the ignored count are the model's; every placement is
 * aligned, inside [lo, hi - 64) and apart from the others; guest RAM
 * outside the scratch area equals the model's copy (nothing outside the
 * blobs is written, a refused command writes nothing); the writable files
 * hold what the model says.
 *
 * Input: [ops...], each op a u8 mod FZ_TL_NR_OPS:
 *   ALLOC  [name][num size][num align][u8 zone]
 *   PTR    [name dst][num offset][u8 size][name src]
 *   CKSUM  [name][num result][num start][num length]
 *   WPTR   [name dst][num dst_offset][u8 size][name src][num src_offset]
 *   BLOB   check tl_blob() now (it is also checked at the end)
 *   RESET  tl_free(), tl_init()
 *   APPLY  [u8 mode][u8 ram][u16 lo][u16 len][loader][deltas][u8 n]
 *          [n x poke]
 * A name: [u8 sel]: sel < FZ_TL_NR_NAMES names[sel], sel >= 0x80 [u8 len]
 * [len % 72 bytes] cut at the first NUL, else names[sel % FZ_TL_NR_NAMES].
 * A num (u32): [u8 t]: t < 0xc0 t; t < 0xe0 (t & 0x1f) << 8 | [u8];
 * t < 0xf0 [u32]; else 0xffffffff - (t & 0x0f).
 * APPLY: mode bits 0-1 the loader: the builder's blob (none while it has
 * an error), raw [u16 n][n bytes], none, empty; bit 2: [s8 delta] per file
 * the builder allocated, added to its fw_cfg size; bit 3: etc/ptr
 * read-only.  ram bits 0-1: RAM base (FZ_TL_RAM_BASES).  The area is
 * [base + lo, base + lo + len).  A poke: [u8 file][u16 off][u8 len]
 * [len bytes] into a file's contents (the loader is file 0 when there is
 * one), offset modulo the size.  Files over FZ_TL_FILE_MAX bytes are not
 * registered.  Other files: etc/ptr (8 bytes, writable), etc/ro (8 bytes),
 * etc/w3 (3 bytes, writable), all zeros. */
#include "fuzz.h"

#include <errno.h>

#include "core/device.h"
#include "fwcfg/fwcfg.h"
#include "fwcfg/table_loader.h"
#include "tests/support/fwcfg_peek.h"
#include "tests/support/tl_exec.h"

/* ---- input format: fuzz.h (shared with mkseeds.c) ---------------------- */


/* The top of the area holds tl_apply()'s DMA descriptors. */
#define SCRATCH		64
#define NAME		TL_FILE_SIZE

static char n55[56], n56[57];

/* names[]: the order is part of the input format. */
static const char *name_at(unsigned int i)
{
	static const char *const fixed[FZ_TL_NR_NAMES] = {
		"etc/acpi/tables", "etc/acpi/rsdp", "etc/ptr", "etc/ro",
		"etc/w3", TL_LOADER_FILE, "etc/none", "", NULL, NULL, NULL,
		"a",
	};

	if (i == 9)
		return n55;
	if (i == 10)
		return n56;
	return fixed[i];
}

static const char *fin_name(struct fin *in, char *buf)
{
	uint8_t sel = fin_u8(in);
	size_t len;

	if (sel < FZ_TL_NR_NAMES)
		return name_at(sel);
	if (sel < FZ_TL_NAME_RAW)
		return name_at(sel % FZ_TL_NR_NAMES);
	len = fin_u8(in) % 72;
	fin_bytes(in, buf, len);
	buf[len] = 0;
	return buf;
}

static uint32_t fin_num(struct fin *in)
{
	uint8_t t = fin_u8(in);

	if (t < 0xc0)
		return t;
	if (t < 0xe0)
		return (uint32_t)(t & 0x1f) << 8 | fin_u8(in);
	if (t < 0xf0)
		return fin_u32(in);
	return 0xffffffffU - (t & 0x0f);
}

/* ---- little helpers ----------------------------------------------------- */

/* Error classes, as bits: what a call may return. */
enum {
	X_OK = 1 << 0,
	X_INVAL = 1 << 1,
	X_EXIST = 1 << 2,
	X_NOSPC = 1 << 3,
	X_NOENT = 1 << 4,
	X_PROTO = 1 << 5,
	X_IO = 1 << 6,
};

static unsigned int errbit(int err)
{
	switch (err) {
	case 0: return X_OK;
	case -EINVAL: return X_INVAL;
	case -EEXIST: return X_EXIST;
	case -ENOSPC: return X_NOSPC;
	case -ENOENT: return X_NOENT;
	case -EPROTO: return X_PROTO;
	case -EIO: return X_IO;
	}
	return 0;	/* never allowed */
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void wr32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static bool psize_ok(unsigned int size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

/* A name field of an entry: NUL-terminated within its 56 bytes. */
static const char *field_name(const uint8_t *f)
{
	return memchr(f, 0, NAME) ? (const char *)f : NULL;
}

/* The rest of a name field after its NUL is zero. */
static bool field_clean(const uint8_t *f)
{
	size_t n = strnlen((const char *)f, NAME);

	for (size_t i = n; i < NAME; i++)
		if (f[i])
			return false;
	return true;
}

static bool zeros(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* ---- the builder and its model ------------------------------------------ */

struct bfile {
	char name[NAME];
	uint32_t size;
};

static struct {
	struct table_loader tl;
	struct bfile f[TL_MAX_FILES];
	unsigned int nr;
	int err;		/* the sticky error the builder must hold */
	uint8_t *cmds;		/* the commands it must have emitted */
	size_t len, cap;
} B;

static bool bname_ok(const char *s)
{
	return s && s[0] && strnlen(s, NAME) < NAME;
}

static const struct bfile *bfind(const char *name)
{
	for (unsigned int i = 0; i < B.nr; i++)
		if (!strcmp(B.f[i].name, name))
			return &B.f[i];
	return NULL;
}

/* [off, off + len) inside a @size-byte file. */
static bool inside(uint64_t size, uint64_t off, uint64_t len)
{
	return off + len <= size;
}

static uint8_t *bentry(uint32_t cmd)
{
	uint8_t *e;

	if (B.len == B.cap) {
		B.cap = B.cap ? 2 * B.cap : 16 * TL_ENTRY_SIZE;
		B.cmds = realloc(B.cmds, B.cap);
		FUZZ_CHECK(B.cmds);
	}
	e = B.cmds + B.len;
	B.len += TL_ENTRY_SIZE;
	memset(e, 0, TL_ENTRY_SIZE);
	wr32(e, cmd);
	return e;
}

static void bname_put(uint8_t *f, const char *name)
{
	memcpy(f, name, strlen(name));
}

/* The call returned @ret where the model allows @allowed (X_OK: success;
 * the caller then adds the model's entry).  False on an error. */
static bool bjudge(int ret, unsigned int allowed)
{
	FUZZ_CHECK(errbit(ret) & allowed);
	FUZZ_CHECK(B.tl.err == ret);
	if (ret) {
		B.err = ret;
		return false;
	}
	return true;
}

static void b_alloc(const char *name, uint32_t size, uint32_t align,
		    uint8_t zone)
{
	int ret = tl_allocate(&B.tl, name, size, align, (enum tl_zone)zone);
	unsigned int allowed = 0;
	uint8_t *e;

	if (B.err) {
		FUZZ_CHECK(ret == B.err);
		return;
	}
	if (!bname_ok(name))
		allowed |= X_INVAL;
	if (!align || (align & (align - 1)) || align > TL_MAX_ALIGN ||
	    (zone != TL_ZONE_HIGH && zone != TL_ZONE_FSEG) || !size)
		allowed |= X_INVAL;
	if (bname_ok(name) && bfind(name))
		allowed |= X_EXIST;
	if (B.nr >= TL_MAX_FILES)
		allowed |= X_NOSPC;
	if (!bjudge(ret, allowed ? allowed : X_OK))
		return;
	e = bentry(TL_CMD_ALLOCATE);
	bname_put(e + 4, name);
	wr32(e + 60, align);
	e[64] = zone;
	memset(&B.f[B.nr], 0, sizeof(B.f[B.nr]));
	strcpy(B.f[B.nr].name, name);
	B.f[B.nr++].size = size;
}

static void b_ptr(const char *dst, uint32_t off, uint8_t size,
		  const char *src)
{
	int ret = tl_add_pointer(&B.tl, dst, off, size, src);
	const struct bfile *d, *s;
	uint8_t *e;
	bool ok;

	if (B.err) {
		FUZZ_CHECK(ret == B.err);
		return;
	}
	d = bname_ok(dst) ? bfind(dst) : NULL;
	s = bname_ok(src) ? bfind(src) : NULL;
	ok = d && s && psize_ok(size) && inside(d->size, off, size);
	if (!bjudge(ret, ok ? X_OK : X_INVAL))
		return;
	e = bentry(TL_CMD_ADD_POINTER);
	bname_put(e + 4, dst);
	bname_put(e + 60, src);
	wr32(e + 116, off);
	e[120] = size;
}

static void b_cksum(const char *file, uint32_t result, uint32_t start,
		    uint32_t len)
{
	int ret = tl_add_checksum(&B.tl, file, result, start, len);
	const struct bfile *f;
	uint8_t *e;
	bool ok;

	if (B.err) {
		FUZZ_CHECK(ret == B.err);
		return;
	}
	f = bname_ok(file) ? bfind(file) : NULL;
	ok = f && inside(f->size, result, 1) && inside(f->size, start, len);
	if (!bjudge(ret, ok ? X_OK : X_INVAL))
		return;
	e = bentry(TL_CMD_ADD_CHECKSUM);
	bname_put(e + 4, file);
	wr32(e + 60, result);
	wr32(e + 64, start);
	wr32(e + 68, len);
}

static void b_wptr(const char *dst, uint32_t dst_off, uint8_t size,
		   const char *src, uint32_t src_off)
{
	int ret = tl_write_pointer(&B.tl, dst, dst_off, size, src, src_off);
	const struct bfile *s;
	uint8_t *e;
	bool ok;

	if (B.err) {
		FUZZ_CHECK(ret == B.err);
		return;
	}
	/* @dst is any fw_cfg file (under 4 GiB): only the source is known,
	 * and a range past 4 GiB - 1 is inside no file. */
	s = bname_ok(src) ? bfind(src) : NULL;
	ok = bname_ok(dst) && s && src_off < s->size && psize_ok(size) &&
	     (uint64_t)dst_off + size <= UINT32_MAX;
	if (!bjudge(ret, ok ? X_OK : X_INVAL))
		return;
	e = bentry(TL_CMD_WRITE_POINTER);
	bname_put(e + 4, dst);
	bname_put(e + 60, src);
	wr32(e + 116, dst_off);
	wr32(e + 120, src_off);
	e[124] = size;
}

/* tl_blob(): NULL while there is an error; else the model's commands, and
 * read on their own they only refer to files allocated before them, with
 * offsets and sizes inside those files. */
static void check_blob(void)
{
	struct bfile seen[TL_MAX_FILES];
	unsigned int nseen = 0;
	const uint8_t *blob;
	size_t len = 12345;

	blob = tl_blob(&B.tl, &len);
	if (B.err) {
		FUZZ_CHECK(!blob && !len);
		return;
	}
	FUZZ_CHECK(len == B.len && len % TL_ENTRY_SIZE == 0);
	FUZZ_CHECK(!len || (blob && !memcmp(blob, B.cmds, len)));
	FUZZ_CHECK(B.tl.nr_files == B.nr);

	for (size_t off = 0; off < len; off += TL_ENTRY_SIZE) {
		const uint8_t *e = blob + off;
		const struct bfile *f = NULL, *g = NULL;
		const char *a = field_name(e + 4), *b;

		FUZZ_CHECK(a && a[0] && field_clean(e + 4));
		for (unsigned int i = 0; i < nseen; i++)
			if (!strcmp(seen[i].name, a))
				f = &seen[i];
		switch (rd32(e)) {
		case TL_CMD_ALLOCATE: {
			uint32_t align = rd32(e + 60);

			FUZZ_CHECK(!f && nseen < TL_MAX_FILES);
			FUZZ_CHECK(align && !(align & (align - 1)) &&
				   align <= TL_MAX_ALIGN);
			FUZZ_CHECK(e[64] == TL_ZONE_HIGH ||
				   e[64] == TL_ZONE_FSEG);
			FUZZ_CHECK(zeros(e + 65, TL_ENTRY_SIZE - 65));
			/* The size is not in the entry: the model's. */
			g = bfind(a);
			FUZZ_CHECK(g && g->size);
			seen[nseen++] = *g;
			break;
		}
		case TL_CMD_ADD_POINTER:
		case TL_CMD_WRITE_POINTER:
			b = field_name(e + 60);
			FUZZ_CHECK(b && b[0] && field_clean(e + 60));
			for (unsigned int i = 0; i < nseen; i++)
				if (!strcmp(seen[i].name, b))
					g = &seen[i];
			FUZZ_CHECK(g);	/* the source, allocated before */
			if (rd32(e) == TL_CMD_ADD_POINTER) {
				FUZZ_CHECK(f && psize_ok(e[120]));
				FUZZ_CHECK(inside(f->size, rd32(e + 116),
						  e[120]));
				FUZZ_CHECK(zeros(e + 121, TL_ENTRY_SIZE - 121));
			} else {
				FUZZ_CHECK(psize_ok(e[124]));
				FUZZ_CHECK(rd32(e + 120) < g->size);
				FUZZ_CHECK(inside(UINT32_MAX, rd32(e + 116),
						  e[124]));
				FUZZ_CHECK(zeros(e + 125, TL_ENTRY_SIZE - 125));
			}
			break;
		case TL_CMD_ADD_CHECKSUM:
			FUZZ_CHECK(f);
			FUZZ_CHECK(rd32(e + 60) < f->size);
			FUZZ_CHECK(inside(f->size, rd32(e + 64), rd32(e + 68)));
			FUZZ_CHECK(zeros(e + 72, TL_ENTRY_SIZE - 72));
			break;
		default:
			FUZZ_CHECK(!"a command the builder does not make");
		}
	}
}

static void b_reset(void)
{
	const uint8_t *blob;
	size_t len = 1;

	tl_free(&B.tl);
	blob = tl_blob(&B.tl, &len);
	FUZZ_CHECK(!blob && !len && !B.tl.err && !B.tl.nr_files);
	tl_init(&B.tl);
	B.nr = 0;
	B.err = 0;
	B.len = 0;
}

/* ---- the firmware side and its model ------------------------------------ */

struct xfile {
	char name[NAME];
	uint8_t *data;		/* the model's contents */
	uint32_t size;
	bool writable;
};

struct xplace {
	char name[NAME];
	uint64_t addr;
	uint32_t size;
};

static struct {
	struct gmem gm;		/* the device's RAM (base moved) */
	uint8_t ram[FZ_TL_RAM_SIZE];	/* what RAM must hold */
	struct xfile dir[TL_MAX_FILES + 4];
	unsigned int ndir;
	struct xplace p[TL_MAX_FILES];
	unsigned int nr, ignored;
	uint64_t lo, hi, next, end;
} X;

static struct xfile *xfind(const char *name)
{
	for (unsigned int i = 0; i < X.ndir; i++)
		if (!strcmp(X.dir[i].name, name))
			return &X.dir[i];
	return NULL;
}

static const struct xplace *xplaced(const char *name)
{
	for (unsigned int i = 0; i < X.nr; i++)
		if (!strcmp(X.p[i].name, name))
			return &X.p[i];
	return NULL;
}

static uint8_t *xram(uint64_t gpa)
{
	return X.ram + (gpa - X.gm.base);
}

static bool fits(uint64_t v, unsigned int size)
{
	return size == 8 || v < 1ULL << (8 * size);
}

/* Each x_*() returns 0 after doing the command, or the errors it may
 * give (the command then changes nothing). */
static unsigned int x_alloc(const uint8_t *e)
{
	const char *name = field_name(e + 4);
	uint32_t align = rd32(e + 60);
	const struct xfile *f;
	unsigned int err = 0;
	uint64_t addr;

	if (!name)
		return X_PROTO;
	f = xfind(name);
	if (!f)
		err |= X_NOENT;
	if (!align || (align & (align - 1)) || align > TL_MAX_ALIGN ||
	    (f && !f->size))
		err |= X_PROTO;
	if (xplaced(name))
		err |= X_PROTO;
	if (X.nr >= TL_MAX_FILES)
		err |= X_NOSPC;
	if (err)
		return err;
	addr = (X.next + align - 1) & ~(uint64_t)(align - 1);
	if (addr + f->size > X.end)
		return X_NOSPC;
	memcpy(xram(addr), f->data, f->size);
	memset(&X.p[X.nr], 0, sizeof(X.p[X.nr]));
	strcpy(X.p[X.nr].name, name);
	X.p[X.nr].addr = addr;
	X.p[X.nr++].size = f->size;
	X.next = addr + f->size;
	return 0;
}

static unsigned int x_ptr(const uint8_t *e)
{
	const char *dn = field_name(e + 4), *sn = field_name(e + 60);
	const struct xplace *d, *s;
	uint32_t off = rd32(e + 116);
	unsigned int size = e[120];
	uint64_t v = 0;
	uint8_t *field;

	if (!dn || !sn)
		return X_PROTO;
	d = xplaced(dn);
	s = xplaced(sn);
	if (!d || !s || !psize_ok(size) || !inside(d->size, off, size))
		return X_PROTO;
	field = xram(d->addr + off);
	for (unsigned int i = 0; i < size; i++)
		v |= (uint64_t)field[i] << (8 * i);
	if (v >= s->size || !fits(v + s->addr, size))
		return X_PROTO;
	v += s->addr;
	for (unsigned int i = 0; i < size; i++)
		field[i] = (uint8_t)(v >> (8 * i));
	return 0;
}

static unsigned int x_cksum(const uint8_t *e)
{
	const char *name = field_name(e + 4);
	uint32_t result = rd32(e + 60), start = rd32(e + 64);
	uint32_t len = rd32(e + 68);
	const struct xplace *p;
	uint8_t *blob, sum = 0;

	if (!name)
		return X_PROTO;
	p = xplaced(name);
	if (!p || !inside(p->size, result, 1) || !inside(p->size, start, len))
		return X_PROTO;
	blob = xram(p->addr);
	for (uint32_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + blob[start + i]);
	blob[result] = (uint8_t)(blob[result] - sum);
	return 0;
}

static unsigned int x_wptr(const uint8_t *e)
{
	const char *dn = field_name(e + 4), *sn = field_name(e + 60);
	uint32_t off = rd32(e + 116), soff = rd32(e + 120);
	unsigned int size = e[124], err = 0;
	const struct xplace *s;
	struct xfile *d;
	uint64_t v;

	if (!dn || !sn)
		return X_PROTO;
	d = xfind(dn);
	s = xplaced(sn);
	if (!d)
		err |= X_NOENT;
	if (!s || !psize_ok(size) || (d && !inside(d->size, off, size)) ||
	    (s && soff >= s->size))
		err |= X_PROTO;
	if (!err && !fits(s->addr + soff, size))
		err |= X_PROTO;
	if (err)
		return err;
	if (!d->writable)
		return X_IO;	/* the device refuses the DMA write */
	v = s->addr + soff;
	for (unsigned int i = 0; i < size; i++)
		d->data[off + i] = (uint8_t)(v >> (8 * i));
	return 0;
}

/* What tl_apply() may return. */
static unsigned int x_apply(void)
{
	const struct xfile *l;

	if (X.hi <= X.lo || X.hi - X.lo <= SCRATCH || X.lo < X.gm.base ||
	    X.hi > X.gm.base + FZ_TL_RAM_SIZE)
		return X_INVAL;
	X.end = (X.hi - SCRATCH) & ~15ULL;
	if (X.end < X.lo)
		return X_INVAL;
	X.next = X.lo;
	l = xfind(TL_LOADER_FILE);
	if (!l)
		return X_NOENT;
	if (l->size % TL_ENTRY_SIZE)
		return X_PROTO;
	for (uint32_t off = 0; off < l->size; off += TL_ENTRY_SIZE) {
		const uint8_t *e = l->data + off;
		unsigned int err;

		switch (rd32(e)) {
		case TL_CMD_ALLOCATE:
			err = x_alloc(e);
			break;
		case TL_CMD_ADD_POINTER:
			err = x_ptr(e);
			break;
		case TL_CMD_ADD_CHECKSUM:
			err = x_cksum(e);
			break;
		case TL_CMD_WRITE_POINTER:
			err = x_wptr(e);
			break;
		default:
			X.ignored++;
			err = 0;
			break;
		}
		if (err)
			return err;
	}
	return X_OK;
}

static void xadd(const char *name, const void *data, uint32_t size,
		 bool writable)
{
	struct xfile *f;

	if (size > FZ_TL_FILE_MAX || xfind(name))
		return;
	f = &X.dir[X.ndir++];
	memset(f->name, 0, sizeof(f->name));
	strcpy(f->name, name);
	f->size = size;
	f->writable = writable;
	f->data = calloc(1, size ? size : 1);
	FUZZ_CHECK(f->data);
	if (data && size)
		memcpy(f->data, data, size);
}

/* What guest RAM holds before tl_apply(): no byte like its neighbours. */
static const uint8_t *ram_pattern(void)
{
	static uint8_t pat[FZ_TL_RAM_SIZE];

	if (!pat[0])
		for (size_t i = 0; i < sizeof(pat); i++)
			pat[i] = (uint8_t)(i * 31 + 7);
	return pat;
}

static void apply(struct fin *in)
{
	static const uint64_t bases[4] = FZ_TL_RAM_BASES;
	struct gmem *ram = fuzz_ram(FZ_RAM_BASE, FZ_TL_RAM_SIZE);
	uint8_t mode = fin_u8(in), rsel = fin_u8(in), npokes;
	uint16_t lo = fin_u16(in), len = fin_u16(in);
	const uint8_t *blob = NULL;
	struct rivet_dev *dev;
	struct tl_result res;
	unsigned int allowed;
	size_t blen = 0;
	int ret;

	memset(&X.dir, 0, sizeof(X.dir));
	X.ndir = X.nr = X.ignored = 0;
	X.gm = *ram;
	X.gm.base = bases[rsel & 3];
	X.lo = X.gm.base + lo;
	X.hi = X.lo + len;

	/* The directory: the loader, the builder's files, the others. */
	switch (mode & FZ_TL_LOADER_MASK) {
	case FZ_TL_LOADER_BLOB:
		blob = tl_blob(&B.tl, &blen);
		if (blob || !B.err)
			xadd(TL_LOADER_FILE, blob, (uint32_t)blen, false);
		break;
	case FZ_TL_LOADER_RAW:
		blen = fin_u16(in);
		if (blen > in->left)
			blen = in->left;
		xadd(TL_LOADER_FILE, in->p, (uint32_t)blen, false);
		in->p += blen;
		in->left -= blen;
		break;
	case FZ_TL_LOADER_EMPTY:
		xadd(TL_LOADER_FILE, NULL, 0, false);
		break;
	}
	for (unsigned int i = 0; i < B.nr; i++) {
		int64_t size = B.f[i].size;

		if (mode & FZ_TL_RESIZE)
			size += (int8_t)fin_u8(in);
		if (size >= 0 && size <= FZ_TL_FILE_MAX)
			xadd(B.f[i].name, NULL, (uint32_t)size, false);
	}
	xadd("etc/ptr", NULL, 8, !(mode & FZ_TL_PTR_RO));
	xadd("etc/ro", NULL, 8, false);
	xadd("etc/w3", NULL, 3, true);
	npokes = fin_u8(in);
	for (unsigned int i = 0; i < npokes; i++) {
		struct xfile *f = &X.dir[fin_u8(in) % X.ndir];
		uint16_t off = fin_u16(in);
		uint8_t n = fin_u8(in), buf[256];

		fin_bytes(in, buf, n);
		if (!f->size)
			continue;
		off %= f->size;
		if (n > f->size - off)
			n = (uint8_t)(f->size - off);
		memcpy(f->data + off, buf, n);
	}

	FUZZ_CHECK(fwcfg_create(&X.gm, 0x10100000ULL, &dev) == 0);
	for (unsigned int i = 0; i < X.ndir; i++)
		FUZZ_CHECK(fwcfg_add_file(dev, X.dir[i].name, X.dir[i].data,
					  X.dir[i].size, X.dir[i].writable) ==
			   0);
	memcpy(X.gm.host, ram_pattern(), FZ_TL_RAM_SIZE);
	memcpy(X.ram, ram_pattern(), FZ_TL_RAM_SIZE);

	memset(&res, 0xa5, sizeof(res));
	ret = tl_apply(dev, &X.gm, X.lo, X.hi, &res);
	allowed = x_apply();
	FUZZ_CHECK(errbit(ret) & allowed);

	if (ret == -EINVAL) {
		/* A bad area: nothing done at all. */
		FUZZ_CHECK(!memcmp(X.gm.host, X.ram, FZ_TL_RAM_SIZE));
	} else {
		uint64_t s0 = X.end - X.gm.base, s1 = X.hi - X.gm.base;

		/* Placed where the model placed them, inside the area,
		 * aligned and apart; nothing else written. */
		FUZZ_CHECK(res.nr == X.nr && res.ignored == X.ignored);
		for (unsigned int i = 0; i < res.nr; i++) {
			const struct tl_placement *p = &res.p[i];

			FUZZ_CHECK(!strcmp(p->name, X.p[i].name));
			FUZZ_CHECK(p->addr == X.p[i].addr);
			FUZZ_CHECK(p->size == X.p[i].size && p->size);
			FUZZ_CHECK(p->addr >= X.lo && p->addr <= X.end &&
				   p->size <= X.end - p->addr);
			FUZZ_CHECK(X.hi - (p->addr + p->size) >= SCRATCH);
			FUZZ_CHECK(!i || p->addr >= res.p[i - 1].addr +
						     res.p[i - 1].size);
			FUZZ_CHECK(tl_result_addr(&res, p->name) == p->addr);
		}
		FUZZ_CHECK(!memcmp(X.gm.host, X.ram, s0));
		FUZZ_CHECK(!memcmp(X.gm.host + s1, X.ram + s1,
				   FZ_TL_RAM_SIZE - s1));
	}
	for (unsigned int i = 0; i < X.ndir; i++) {
		const struct xfile *f = &X.dir[i];
		static uint8_t buf[FZ_TL_FILE_MAX];

		FUZZ_CHECK(fwcfg_read_file(dev, f->name, buf, sizeof(buf)) ==
			   (long)f->size);
		FUZZ_CHECK(!memcmp(buf, f->data, f->size));
	}
	dev->ops->destroy(dev);
	for (unsigned int i = 0; i < X.ndir; i++)
		free(X.dir[i].data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = { data, size };
	char na[80], nb[80];
	const char *a, *b;
	uint32_t u, v, w;
	uint8_t s;

	fuzz_quiet();
	memset(n55, 'n', 55);
	memset(n56, 'n', 56);
	tl_init(&B.tl);
	B.nr = 0;
	B.err = 0;
	B.len = 0;

	while (in.left) {
		switch (fin_u8(&in) % FZ_TL_NR_OPS) {
		case FZ_TL_ALLOC:
			a = fin_name(&in, na);
			u = fin_num(&in);
			v = fin_num(&in);
			b_alloc(a, u, v, fin_u8(&in));
			break;
		case FZ_TL_PTR:
			a = fin_name(&in, na);
			u = fin_num(&in);
			s = fin_u8(&in);
			b = fin_name(&in, nb);
			b_ptr(a, u, s, b);
			break;
		case FZ_TL_CKSUM:
			a = fin_name(&in, na);
			u = fin_num(&in);
			v = fin_num(&in);
			w = fin_num(&in);
			b_cksum(a, u, v, w);
			break;
		case FZ_TL_WPTR:
			a = fin_name(&in, na);
			u = fin_num(&in);
			s = fin_u8(&in);
			b = fin_name(&in, nb);
			b_wptr(a, u, s, b, fin_num(&in));
			break;
		case FZ_TL_BLOB:
			check_blob();
			break;
		case FZ_TL_RESET:
			b_reset();
			break;
		case FZ_TL_APPLY:
			apply(&in);
			break;
		}
		/* Nothing is emitted after an error. */
		FUZZ_CHECK(B.tl.len == B.len && B.tl.nr_files == B.nr);
	}
	check_blob();
	tl_free(&B.tl);
	return 0;
}
