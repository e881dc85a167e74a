/* SPDX-License-Identifier: MIT */
/* Direct kernel boot: validate a RISC-V Linux Image header, plan where the
 * kernel, initrd and FDT go in guest RAM, and read the files there.
 * See Linux Documentation/arch/riscv/boot-image-header.rst.
 *
 * Layout (QEMU's choice for the FDT, keeping it away from the kernel's early
 * allocations):
 *
 *   ram_base  ALIGN_UP(ram_base, 2M) + text_offset            ram_end
 *   |         [kernel .. image_size] ...... [initrd] [FDT]    |
 *
 * Every function logs one line naming the file or option and the reason on
 * failure, and returns -errno:
 *   -ENOEXEC  not a (valid) RISC-V Linux Image
 *   -ENOSPC   the pieces do not fit in guest RAM (use a larger --memory)
 *   -EISDIR, -EINVAL (not a regular file, empty, bad argument), -EIO
 *   (file shrank while reading) or open(2)/read(2) errors. */
#ifndef RIVET_LOADER_H
#define RIVET_LOADER_H

#include <stddef.h>
#include <stdint.h>

struct gmem;

#define LOADER_HDR_SIZE 64
#define LOADER_KERNEL_ALIGN 0x200000ULL		/* 2 MiB */
#define LOADER_FDT_ALIGN 0x200000ULL		/* preferred, 2 MiB */
#define LOADER_PAGE_SIZE 0x1000ULL
/* Linux maps the FDT through a 2 MiB fixmap window (MAX_FDT_SIZE). */
#define LOADER_FDT_MAX_LIMIT 0x200000ULL
/* Real kernels use 0 or 2 MiB; anything past this is corrupt. */
#define LOADER_MAX_TEXT_OFFSET 0x10000000ULL	/* 256 MiB */

struct boot_image {
	uint64_t text_offset;	/* from the header, 4 KiB aligned */
	uint64_t image_size;	/* memory the kernel uses, >= file_size */
	uint64_t file_size;	/* bytes in the Image file */
};

struct boot_layout {
	uint64_t kernel_addr;	/* entry point */
	uint64_t kernel_size;	/* image_size */
	uint64_t initrd_addr;	/* 0 if no initrd */
	uint64_t initrd_size;
	uint64_t fdt_addr;	/* at least 8-byte (in practice 4K) aligned */
	uint64_t fdt_max;	/* room reserved for the FDT */
};

/* Validate the first @len bytes of an Image file of @file_size bytes. */
int loader_parse_image_header(const void *buf, size_t len,
			      uint64_t file_size, struct boot_image *out);

/* Place kernel, initrd (@initrd_size may be 0) and FDT in RAM. */
int loader_plan(uint64_t ram_base, uint64_t ram_size,
		const struct boot_image *img, uint64_t initrd_size,
		uint64_t fdt_max, struct boot_layout *out);

/* Validate, plan and read @kernel_path (and @initrd_path unless NULL) into
 * @gm.  The caller writes the FDT (at most @fdt_max bytes) at
 * out->fdt_addr and starts the boot hart at out->kernel_addr. */
int loader_load(const struct gmem *gm, const char *kernel_path,
		const char *initrd_path, uint64_t fdt_max,
		struct boot_layout *out);

#endif
