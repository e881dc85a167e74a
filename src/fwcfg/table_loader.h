/* SPDX-License-Identifier: MIT */
/* The `etc/table-loader` fw_cfg file: commands that tell firmware (EDK2,
 * SeaBIOS) how to place the ACPI blobs it reads from fw_cfg in guest RAM,
 * link them and checksum them (QEMU hw/acpi/bios-linker-loader.c).
 *
 * Each command is a 128-byte entry, all integers little-endian:
 *   +0   le32 command
 *   1 ALLOCATE       +4 file[56]  +60 le32 align  +64 u8 zone
 *                    (place fw_cfg file @file in RAM, @align a power of 2;
 *                    zone 1 = anywhere ("high"), 2 = the x86 F-segment)
 *   2 ADD_POINTER    +4 dst[56]  +60 src[56]  +116 le32 offset  +120 u8 size
 *                    (add the address of @src to the @size-byte value at
 *                    @offset in @dst, which holds an offset within @src)
 *   3 ADD_CHECKSUM   +4 file[56]  +60 le32 result  +64 le32 start
 *                    +68 le32 length  (byte @result -= sum of the range)
 *   4 WRITE_POINTER  +4 dst[56]  +60 src[56]  +116 le32 dst_offset
 *                    +120 le32 src_offset  +124 u8 size  (write the address
 *                    of @src + @src_offset into the fw_cfg file @dst, which
 *                    the VMM registered writable, through DMA)
 * File names are NUL-terminated within their 56 bytes; the rest is zero.
 *
 * The builder checks every command against the files allocated so far
 * (ranges inside the blob, pointer sizes 1/2/4/8) and keeps a sticky
 * error: build the whole stream, then look at the result once.
 *
 * The firmware side, for tests, is tests/support/tl_exec.h. */
#ifndef RIVET_TABLE_LOADER_H
#define RIVET_TABLE_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fwcfg/fwcfg.h"

struct gmem;
struct rivet_dev;

#define TL_ENTRY_SIZE		128
#define TL_FILE_SIZE		FWCFG_NAME_SIZE
#define TL_LOADER_FILE		"etc/table-loader"
#define TL_MAX_FILES		16
#define TL_MAX_ALIGN		4096	/* EDK2 allocates pages */

/* Field offsets within an entry. */
#define TL_E_CMD		0
#define TL_E_FILE		4	/* file, or a pointer's dst */
#define TL_E_SRC		60	/* pointer src */
#define TL_E_ALIGN		60
#define TL_E_ZONE		64
#define TL_E_CK_RESULT	60
#define TL_E_CK_START	64
#define TL_E_CK_LEN	68
#define TL_E_PTR_OFF	116
#define TL_E_PTR_SIZE	120	/* ADD_POINTER */
#define TL_E_WP_SRC_OFF	120	/* WRITE_POINTER */
#define TL_E_WP_SIZE	124

/* The sizes a pointer field may have. */
static inline bool tl_ptr_size_ok(unsigned int size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

enum tl_command {
	TL_CMD_ALLOCATE = 1,
	TL_CMD_ADD_POINTER = 2,
	TL_CMD_ADD_CHECKSUM = 3,
	TL_CMD_WRITE_POINTER = 4,
};

enum tl_zone {
	TL_ZONE_HIGH = 1,
	TL_ZONE_FSEG = 2,
};

struct table_loader {
	uint8_t *buf;		/* the commands so far */
	size_t len, cap;
	struct {
		char name[TL_FILE_SIZE];
		uint32_t size;
	} files[TL_MAX_FILES];	/* allocated so far */
	unsigned int nr_files;
	int err;		/* first error, sticky */
};

void tl_init(struct table_loader *tl);
void tl_free(struct table_loader *tl);

/* Each returns the sticky error: 0 while every command so far was valid.
 * -EINVAL: bad name, alignment, zone or size, a file not allocated yet,
 * a range outside its file; -EEXIST: allocated twice; -ENOSPC: more than
 * TL_MAX_FILES; -ENOMEM. */

/* ALLOCATE @file, a @size-byte fw_cfg file (size used for the checks; not
 * 0), @align a power of 2 up to TL_MAX_ALIGN. */
int tl_allocate(struct table_loader *tl, const char *file, uint32_t size,
		uint32_t align, enum tl_zone zone);
/* ADD_POINTER: the @size bytes at @dst_off in @dst hold an offset within
 * @src, to which firmware adds @src's address. */
int tl_add_pointer(struct table_loader *tl, const char *dst, uint32_t dst_off,
		   uint8_t size, const char *src);
/* ADD_CHECKSUM: byte @result_off of @file makes [start, start + len) sum
 * to zero (the byte is 0 in the blob and usually inside the range). */
int tl_add_checksum(struct table_loader *tl, const char *file,
		    uint32_t result_off, uint32_t start, uint32_t len);
/* WRITE_POINTER: firmware writes @src's address + @src_off (inside @src),
 * @size bytes, at @dst_off into the writable fw_cfg file @dst. */
int tl_write_pointer(struct table_loader *tl, const char *dst,
		     uint32_t dst_off, uint8_t size, const char *src,
		     uint32_t src_off);

/* The command stream; NULL (and *len 0) while there is an error. */
const uint8_t *tl_blob(const struct table_loader *tl, size_t *len);

#endif
