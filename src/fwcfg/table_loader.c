// SPDX-License-Identifier: MIT
/* The table-loader command stream.  Layout: QEMU
 * hw/acpi/bios-linker-loader.c.  See table_loader.h. */
#include "fwcfg/table_loader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/gmem.h"
#include "core/log.h"

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}


/* ---- builder ------------------------------------------------------------ */

void tl_init(struct table_loader *tl)
{
	memset(tl, 0, sizeof(*tl));
}

void tl_free(struct table_loader *tl)
{
	free(tl->buf);
	tl_init(tl);
}

static int fail(struct table_loader *tl, int err, const char *what,
		const char *file)
{
	if (!tl->err) {
		tl->err = err;
		log_err("table-loader: %s '%s'", what, file ? file : "(null)");
	}
	return tl->err;
}

static bool name_ok(const char *name)
{
	size_t n;

	if (!name)
		return false;
	n = strnlen(name, TL_FILE_SIZE);
	return n && n < TL_FILE_SIZE;
}

/* Size of an allocated file, or -1. */
static int64_t file_size(const struct table_loader *tl, const char *name)
{
	for (unsigned int i = 0; i < tl->nr_files; i++)
		if (!strcmp(tl->files[i].name, name))
			return tl->files[i].size;
	return -1;
}

/* [off, off + len) inside a @size-byte file. */
static bool range_ok(int64_t size, uint32_t off, uint32_t len)
{
	return size >= 0 && off <= size && len <= size - off;
}

/* A new zeroed entry for @cmd, or NULL on error (recorded). */
static uint8_t *new_entry(struct table_loader *tl, enum tl_command cmd)
{
	uint8_t *e;

	if (tl->err)
		return NULL;
	if (tl->len == tl->cap) {
		size_t cap = tl->cap ? tl->cap * 2 : 16 * TL_ENTRY_SIZE;
		uint8_t *buf = realloc(tl->buf, cap);

		if (!buf) {
			fail(tl, -ENOMEM, "out of memory at", "");
			return NULL;
		}
		tl->buf = buf;
		tl->cap = cap;
	}
	e = tl->buf + tl->len;
	memset(e, 0, TL_ENTRY_SIZE);
	put_le32(e + TL_E_CMD, cmd);
	tl->len += TL_ENTRY_SIZE;
	return e;
}

int tl_allocate(struct table_loader *tl, const char *file, uint32_t size,
		uint32_t align, enum tl_zone zone)
{
	uint8_t *e;

	if (tl->err)
		return tl->err;
	if (!name_ok(file))
		return fail(tl, -EINVAL, "ALLOCATE: bad name", file);
	/* What firmware accepts: EDK2 allocates pages, so an alignment of
	 * at most 4 KiB, and refuses empty blobs. */
	if (!align || (align & (align - 1)) || align > TL_MAX_ALIGN ||
	    (zone != TL_ZONE_HIGH && zone != TL_ZONE_FSEG) || !size)
		return fail(tl, -EINVAL,
			    "ALLOCATE: bad size, alignment or zone", file);
	if (file_size(tl, file) >= 0)
		return fail(tl, -EEXIST, "ALLOCATE: twice", file);
	if (tl->nr_files >= TL_MAX_FILES)
		return fail(tl, -ENOSPC, "ALLOCATE: too many files", file);
	e = new_entry(tl, TL_CMD_ALLOCATE);
	if (!e)
		return tl->err;
	strcpy((char *)e + TL_E_FILE, file);
	put_le32(e + TL_E_ALIGN, align);
	e[TL_E_ZONE] = (uint8_t)zone;
	strcpy(tl->files[tl->nr_files].name, file);
	tl->files[tl->nr_files].size = size;
	tl->nr_files++;
	return 0;
}

int tl_add_pointer(struct table_loader *tl, const char *dst, uint32_t dst_off,
		   uint8_t size, const char *src)
{
	uint8_t *e;

	if (tl->err)
		return tl->err;
	if (!name_ok(dst) || !name_ok(src) || file_size(tl, src) < 0)
		return fail(tl, -EINVAL, "ADD_POINTER: unknown source of", dst);
	if (!tl_ptr_size_ok(size) || !range_ok(file_size(tl, dst), dst_off, size))
		return fail(tl, -EINVAL, "ADD_POINTER: bad pointer in", dst);
	e = new_entry(tl, TL_CMD_ADD_POINTER);
	if (!e)
		return tl->err;
	strcpy((char *)e + TL_E_FILE, dst);
	strcpy((char *)e + TL_E_SRC, src);
	put_le32(e + TL_E_PTR_OFF, dst_off);
	e[TL_E_PTR_SIZE] = size;
	return 0;
}

int tl_add_checksum(struct table_loader *tl, const char *file,
		    uint32_t result_off, uint32_t start, uint32_t len)
{
	int64_t size;
	uint8_t *e;

	if (tl->err)
		return tl->err;
	size = name_ok(file) ? file_size(tl, file) : -1;
	if (!range_ok(size, result_off, 1) || !range_ok(size, start, len))
		return fail(tl, -EINVAL, "ADD_CHECKSUM: bad range in", file);
	e = new_entry(tl, TL_CMD_ADD_CHECKSUM);
	if (!e)
		return tl->err;
	strcpy((char *)e + TL_E_FILE, file);
	put_le32(e + TL_E_CK_RESULT, result_off);
	put_le32(e + TL_E_CK_START, start);
	put_le32(e + TL_E_CK_LEN, len);
	return 0;
}

int tl_write_pointer(struct table_loader *tl, const char *dst,
		     uint32_t dst_off, uint8_t size, const char *src,
		     uint32_t src_off)
{
	uint8_t *e;

	if (tl->err)
		return tl->err;
	/* @dst is a fw_cfg file, not an allocated blob: only the source
	 * side can be checked here. */
	if (!name_ok(dst) || !name_ok(src) ||
	    !range_ok(file_size(tl, src), src_off, 1) ||
	    !tl_ptr_size_ok(size) || dst_off > UINT32_MAX - size)
		return fail(tl, -EINVAL, "WRITE_POINTER: bad pointer to", dst);
	e = new_entry(tl, TL_CMD_WRITE_POINTER);
	if (!e)
		return tl->err;
	strcpy((char *)e + TL_E_FILE, dst);
	strcpy((char *)e + TL_E_SRC, src);
	put_le32(e + TL_E_PTR_OFF, dst_off);
	put_le32(e + TL_E_WP_SRC_OFF, src_off);
	e[TL_E_WP_SIZE] = size;
	return 0;
}

const uint8_t *tl_blob(const struct table_loader *tl, size_t *len)
{
	*len = tl->err ? 0 : tl->len;
	return tl->err ? NULL : tl->buf;
}
