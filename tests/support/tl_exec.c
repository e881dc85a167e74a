// SPDX-License-Identifier: MIT
/* See tl_exec.h.  The checks follow EDK2's QemuFwCfgAcpiPlatformDxe. */
#include "tests/support/tl_exec.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/device.h"
#include "core/gmem.h"
#include "core/log.h"
#include "fwcfg/fwcfg.h"

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Top of the area: one DMA descriptor and one pointer value. */
#define SCRATCH		64
#define MAX_DIR_FILES	4096

struct fw {
	struct rivet_dev *dev;
	const struct gmem *gm;
	uint64_t scratch;	/* guest address of the scratch area */
	uint8_t *dir;		/* the file directory, host copy */
	uint32_t nr_dir;
};

static void fw_select(struct fw *fw, uint16_t key)
{
	uint8_t be[2] = { (uint8_t)(key >> 8), (uint8_t)key };

	fw->dev->ops->mmio_write(fw->dev, FWCFG_REG_SELECTOR, be, 2);
}

/* Read through the data register, 8 bytes at a time then bytewise. */
static void fw_read(struct fw *fw, void *buf, size_t len)
{
	uint8_t *p = buf;

	for (; len >= 8; len -= 8, p += 8)
		fw->dev->ops->mmio_read(fw->dev, FWCFG_REG_DATA, p, 8);
	for (; len; len--, p++)
		fw->dev->ops->mmio_read(fw->dev, FWCFG_REG_DATA, p, 1);
}

/* One DMA operation through a descriptor in the scratch area, the
 * address written as two halves like a 32-bit firmware would. */
static int fw_dma(struct fw *fw, uint32_t control, uint32_t len, uint64_t gpa)
{
	uint8_t d[16], reg[4];
	uint64_t a = fw->scratch;

	for (int i = 0; i < 4; i++) {
		d[i] = (uint8_t)(control >> (24 - 8 * i));
		d[4 + i] = (uint8_t)(len >> (24 - 8 * i));
	}
	for (int i = 0; i < 8; i++)
		d[8 + i] = (uint8_t)(gpa >> (56 - 8 * i));
	if (gmem_write(fw->gm, a, d, sizeof(d)))
		return -EFAULT;
	for (int i = 0; i < 4; i++)
		reg[i] = (uint8_t)(a >> (56 - 8 * i));
	fw->dev->ops->mmio_write(fw->dev, FWCFG_REG_DMA, reg, 4);
	for (int i = 0; i < 4; i++)
		reg[i] = (uint8_t)(a >> (24 - 8 * i));
	fw->dev->ops->mmio_write(fw->dev, FWCFG_REG_DMA + 4, reg, 4);
	if (gmem_read(fw->gm, a, d, 4))
		return -EFAULT;
	return d[0] | d[1] | d[2] | d[3] ? -EIO : 0;
}

static int fw_read_dir(struct fw *fw)
{
	uint8_t cnt[4];

	fw_select(fw, FWCFG_FILE_DIR);
	fw_read(fw, cnt, sizeof(cnt));
	fw->nr_dir = (uint32_t)cnt[0] << 24 | (uint32_t)cnt[1] << 16 |
		     (uint32_t)cnt[2] << 8 | cnt[3];
	if (fw->nr_dir > MAX_DIR_FILES)
		return -EPROTO;
	fw->dir = malloc((size_t)fw->nr_dir * FWCFG_DIR_ENTRY_SIZE + 1);
	if (!fw->dir)
		return -ENOMEM;
	fw_read(fw, fw->dir, (size_t)fw->nr_dir * FWCFG_DIR_ENTRY_SIZE);
	return 0;
}

/* Look @name up in the directory: 0 or -ENOENT. */
static int fw_find(const struct fw *fw, const char *name, uint16_t *key,
		   uint32_t *size)
{
	for (uint32_t i = 0; i < fw->nr_dir; i++) {
		const uint8_t *e = fw->dir + (size_t)i * FWCFG_DIR_ENTRY_SIZE;

		if (strncmp((const char *)e + 8, name, FWCFG_NAME_SIZE))
			continue;
		*size = (uint32_t)e[0] << 24 | (uint32_t)e[1] << 16 |
			(uint32_t)e[2] << 8 | e[3];
		*key = (uint16_t)(e[4] << 8 | e[5]);
		return 0;
	}
	return -ENOENT;
}

/* ---- executor: the commands --------------------------------------------- */

struct exec {
	struct fw fw;
	struct tl_result *res;
	uint64_t next, end;	/* allocation cursor, end of the area */
};

static int bad(const char *what, const char *file)
{
	log_err("table-loader: %s '%.55s'", what, file);
	return -EPROTO;
}

/* A name field must be NUL-terminated within its 56 bytes. */
static const char *entry_name(const uint8_t *e, unsigned int off)
{
	return memchr(e + off, 0, TL_FILE_SIZE) ? (const char *)e + off : NULL;
}

static const struct tl_placement *placed(const struct tl_result *res,
					 const char *name)
{
	for (unsigned int i = 0; i < res->nr; i++)
		if (!strcmp(res->p[i].name, name))
			return &res->p[i];
	return NULL;
}

static uint64_t get_le(const uint8_t *p, unsigned int size)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < size; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void put_le(uint8_t *p, uint64_t v, unsigned int size)
{
	for (unsigned int i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static bool fits(uint64_t v, unsigned int size)
{
	return size == 8 || !(v >> (8 * size));
}

static int do_allocate(struct exec *x, const uint8_t *e)
{
	const char *name = entry_name(e, TL_E_FILE);
	uint32_t align = get_le32(e + TL_E_ALIGN), size;
	struct tl_placement *p;
	uint64_t addr;
	uint16_t key;
	int err;

	if (!name)
		return bad("ALLOCATE: unterminated name", "");
	if (fw_find(&x->fw, name, &key, &size)) {
		bad("ALLOCATE: no such fw_cfg file", name);
		return -ENOENT;
	}
	/* EDK2 allocates pages: alignment up to the page size. */
	if (!align || (align & (align - 1)) || align > TL_MAX_ALIGN || !size)
		return bad("ALLOCATE: bad alignment or empty file", name);
	if (placed(x->res, name))
		return bad("ALLOCATE: twice", name);
	if (x->res->nr >= TL_MAX_FILES)
		return -ENOSPC;
	addr = (x->next + align - 1) & ~(uint64_t)(align - 1);
	if (addr < x->next || addr > x->end || size > x->end - addr)
		return -ENOSPC;
	err = fw_dma(&x->fw, FWCFG_DMA_SELECT | (uint32_t)key << 16 |
		     FWCFG_DMA_READ, size, addr);
	if (err)
		return err;
	p = &x->res->p[x->res->nr++];
	memset(p->name, 0, sizeof(p->name));
	strcpy(p->name, name);
	p->addr = addr;
	p->size = size;
	x->next = addr + size;
	return 0;
}

static int do_add_pointer(struct exec *x, const uint8_t *e)
{
	const char *dname = entry_name(e, TL_E_FILE);
	const char *sname = entry_name(e, TL_E_SRC);
	const struct tl_placement *dst, *src;
	uint32_t off = get_le32(e + TL_E_PTR_OFF);
	unsigned int size = e[TL_E_PTR_SIZE];
	uint8_t *field;
	uint64_t v;

	if (!dname || !sname)
		return bad("ADD_POINTER: unterminated name", "");
	dst = placed(x->res, dname);
	src = placed(x->res, sname);
	if (!dst || !src)
		return bad("ADD_POINTER: not allocated", dst ? sname : dname);
	if (!tl_ptr_size_ok(size) || off > dst->size || size > dst->size - off)
		return bad("ADD_POINTER: bad pointer location in", dname);
	field = gmem_ptr(x->fw.gm, dst->addr + off, size);
	if (!field)
		return -EFAULT;
	v = get_le(field, size);
	if (v >= src->size)
		return bad("ADD_POINTER: offset past the end of", sname);
	v += src->addr;
	if (!fits(v, size))
		return bad("ADD_POINTER: address does not fit in", dname);
	put_le(field, v, size);
	return 0;
}

static int do_add_checksum(struct exec *x, const uint8_t *e)
{
	const char *name = entry_name(e, TL_E_FILE);
	const struct tl_placement *p;
	uint32_t result = get_le32(e + TL_E_CK_RESULT);
	uint32_t start = get_le32(e + TL_E_CK_START), len = get_le32(e + TL_E_CK_LEN);
	uint8_t *blob, sum = 0;

	if (!name)
		return bad("ADD_CHECKSUM: unterminated name", "");
	p = placed(x->res, name);
	if (!p)
		return bad("ADD_CHECKSUM: not allocated", name);
	if (result >= p->size || start > p->size || len > p->size - start)
		return bad("ADD_CHECKSUM: bad range in", name);
	blob = gmem_ptr(x->fw.gm, p->addr, p->size);
	if (!blob)
		return -EFAULT;
	for (uint32_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + blob[start + i]);
	blob[result] = (uint8_t)(blob[result] - sum);
	return 0;
}

static int do_write_pointer(struct exec *x, const uint8_t *e)
{
	const char *dname = entry_name(e, TL_E_FILE);
	const char *sname = entry_name(e, TL_E_SRC);
	const struct tl_placement *src;
	uint32_t off = get_le32(e + TL_E_PTR_OFF);
	uint32_t soff = get_le32(e + TL_E_WP_SRC_OFF);
	unsigned int size = e[TL_E_WP_SIZE];
	uint32_t dsize;
	uint16_t key;
	uint8_t val[8];
	uint64_t v;
	int err;

	if (!dname || !sname)
		return bad("WRITE_POINTER: unterminated name", "");
	if (fw_find(&x->fw, dname, &key, &dsize)) {
		bad("WRITE_POINTER: no such fw_cfg file", dname);
		return -ENOENT;
	}
	src = placed(x->res, sname);
	if (!src)
		return bad("WRITE_POINTER: not allocated", sname);
	if (!tl_ptr_size_ok(size) || off > dsize || size > dsize - off ||
	    soff >= src->size)
		return bad("WRITE_POINTER: bad pointer to", dname);
	v = src->addr + soff;
	if (!fits(v, size))
		return bad("WRITE_POINTER: address does not fit in", dname);
	put_le(val, v, size);
	/* The value goes right after the descriptor. */
	if (gmem_write(x->fw.gm, x->fw.scratch + 32, val, size))
		return -EFAULT;
	err = fw_dma(&x->fw, FWCFG_DMA_SELECT | (uint32_t)key << 16 |
		     FWCFG_DMA_SKIP, off, 0);
	if (!err)
		err = fw_dma(&x->fw, FWCFG_DMA_WRITE, size,
			     x->fw.scratch + 32);
	return err;
}

int tl_apply(struct rivet_dev *fwcfg, const struct gmem *gm, uint64_t lo,
	     uint64_t hi, struct tl_result *res)
{
	struct exec x = { .fw = { .dev = fwcfg, .gm = gm }, .res = res };
	uint8_t *cmds = NULL;
	uint32_t size;
	uint16_t key;
	int err;

	if (!fwcfg || !gm || !res || hi < lo || hi - lo <= SCRATCH ||
	    !gmem_contains(gm, lo, hi - lo))
		return -EINVAL;
	memset(res, 0, sizeof(*res));
	x.end = (hi - SCRATCH) & ~15ULL;
	x.next = lo;
	x.fw.scratch = x.end;
	if (x.end < lo)
		return -EINVAL;

	err = fw_read_dir(&x.fw);
	if (!err)
		err = fw_find(&x.fw, TL_LOADER_FILE, &key, &size);
	if (!err && size % TL_ENTRY_SIZE)
		err = bad("length not a multiple of 128 bytes", TL_LOADER_FILE);
	if (!err) {
		cmds = malloc(size ? size : 1);
		if (!cmds)
			err = -ENOMEM;
	}
	if (!err) {
		fw_select(&x.fw, key);
		fw_read(&x.fw, cmds, size);
	}
	for (uint32_t off = 0; !err && off < size; off += TL_ENTRY_SIZE) {
		const uint8_t *e = cmds + off;

		switch (get_le32(e + TL_E_CMD)) {
		case TL_CMD_ALLOCATE:
			err = do_allocate(&x, e);
			break;
		case TL_CMD_ADD_POINTER:
			err = do_add_pointer(&x, e);
			break;
		case TL_CMD_ADD_CHECKSUM:
			err = do_add_checksum(&x, e);
			break;
		case TL_CMD_WRITE_POINTER:
			err = do_write_pointer(&x, e);
			break;
		default:
			/* Firmware skips commands it does not know. */
			res->ignored++;
			break;
		}
	}
	free(cmds);
	free(x.fw.dir);
	return err;
}

uint64_t tl_result_addr(const struct tl_result *res, const char *name)
{
	const struct tl_placement *p = placed(res, name);

	return p ? p->addr : 0;
}
