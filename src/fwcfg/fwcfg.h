/* SPDX-License-Identifier: MIT */
/* The QEMU firmware configuration device, MMIO flavour with DMA
 * (QEMU docs/specs/fw_cfg.rst), through which the virt board hands firmware
 * its ACPI tables, kernel, initrd and command line.
 *
 * Registers (window FWCFG_MMIO_SIZE = 0x18):
 *   +0   data: 1/2/4/8-byte reads return the next bytes of the selected
 *        item in address order ("string-preserving"), zeros past its end;
 *        writes are ignored (items are written through DMA only).
 *   +8   selector: 16-bit big-endian writes select an item and rewind it.
 *        Bit 14 (QEMU's old write channel) is ignored; bit 15 selects the
 *        architecture-specific key space.  Unknown keys read as zeros.
 *   +16  DMA address: 64-bit big-endian, written as one 8-byte write or as
 *        two 4-byte writes, high half (+16) first; the write of the low
 *        half (+20) or of all 8 bytes starts the transfer.  Reads return
 *        "QEMU CFG" (the DMA signature).
 *
 * A DMA descriptor {be32 control, be32 length, be64 address} is copied out
 * of guest RAM, then validated; the transfer is one bounded copy (the whole
 * [address, address + length) must be RAM, else nothing moves and the
 * ERROR bit is reported); the device then writes control = 0 or ERROR back.
 * WRITE succeeds only on items registered writable and only within the
 * item (no resizing).
 *
 * Threading: MMIO handlers run on vCPU threads; the setup functions below
 * may run at any time; one mutex per device. */
#ifndef RIVET_FWCFG_H
#define RIVET_FWCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/device.h"

struct gmem;

#define FWCFG_MMIO_SIZE		0x18
#define FWCFG_REG_DATA		0x00
#define FWCFG_REG_SELECTOR	0x08
#define FWCFG_REG_DMA		0x10

/* Selector keys (QEMU include/standard-headers/linux/qemu_fw_cfg.h). */
#define FWCFG_SIGNATURE		0x00	/* "QEMU" */
#define FWCFG_ID		0x01	/* le32 feature bits */
#define FWCFG_UUID		0x02
#define FWCFG_RAM_SIZE		0x03
#define FWCFG_NOGRAPHIC		0x04
#define FWCFG_NB_CPUS		0x05	/* le16 */
#define FWCFG_MACHINE_ID	0x06
#define FWCFG_KERNEL_ADDR	0x07
#define FWCFG_KERNEL_SIZE	0x08	/* le32 */
#define FWCFG_KERNEL_CMDLINE	0x09
#define FWCFG_INITRD_ADDR	0x0a
#define FWCFG_INITRD_SIZE	0x0b	/* le32 */
#define FWCFG_BOOT_DEVICE	0x0c
#define FWCFG_NUMA		0x0d
#define FWCFG_BOOT_MENU		0x0e
#define FWCFG_MAX_CPUS		0x0f
#define FWCFG_KERNEL_ENTRY	0x10
#define FWCFG_KERNEL_DATA	0x11
#define FWCFG_INITRD_DATA	0x12
#define FWCFG_CMDLINE_ADDR	0x13
#define FWCFG_CMDLINE_SIZE	0x14	/* le32, including the NUL */
#define FWCFG_CMDLINE_DATA	0x15	/* NUL-terminated */
#define FWCFG_SETUP_ADDR	0x16
#define FWCFG_SETUP_SIZE	0x17
#define FWCFG_SETUP_DATA	0x18
#define FWCFG_FILE_DIR		0x19
#define FWCFG_FILE_FIRST	0x20
#define FWCFG_WRITE_CHANNEL	0x4000	/* ignored */
#define FWCFG_ARCH_LOCAL	0x8000
#define FWCFG_INVALID		0xffff

/* FWCFG_ID bits. */
#define FWCFG_VERSION		0x01
#define FWCFG_VERSION_DMA	0x02

/* DMA control bits; SELECT takes the key from bits 16-31. */
#define FWCFG_DMA_ERROR		0x01
#define FWCFG_DMA_READ		0x02
#define FWCFG_DMA_SKIP		0x04
#define FWCFG_DMA_SELECT	0x08
#define FWCFG_DMA_WRITE		0x10
#define FWCFG_DMA_SIGNATURE	0x51454d5520434647ULL	/* "QEMU CFG" */

/* A file name is at most 55 characters plus the NUL. */
#define FWCFG_NAME_SIZE		56
/* A directory entry: be32 size, be16 key, be16 0, name[56]. */
#define FWCFG_DIR_ENTRY_SIZE	64
#define FWCFG_MAX_FILES		64
/* Fixed items (keys below FWCFG_FILE_FIRST or architecture-specific). */
#define FWCFG_MAX_ITEMS		32

/* Create the device at [@base, @base + FWCFG_MMIO_SIZE) with the signature,
 * ID (DMA supported) and an empty file directory.  DMA goes to @gm, which
 * must outlive the device.  0, -EINVAL or -ENOMEM. */
int fwcfg_create(const struct gmem *gm, uint64_t base, struct rivet_dev **out);

/* Add a named file (key FWCFG_FILE_FIRST and up, in the order added; the
 * directory lists them sorted by name).  @data is copied (NULL with @len 0
 * is an empty file).  @writable files accept DMA writes within their size
 * (e.g. the target of a table-loader WRITE_POINTER).  0, -EINVAL (name
 * empty or longer than 55 characters), -EEXIST, -ENOSPC (FWCFG_MAX_FILES),
 * -EFBIG (over 4 GiB - 1) or -ENOMEM. */
int fwcfg_add_file(struct rivet_dev *dev, const char *name, const void *data,
		   size_t len, bool writable);

/* Add a fixed, read-only item: @key below FWCFG_FILE_FIRST (except the
 * signature, ID and directory, which the device owns) or in the
 * architecture-specific range 0x8000-0xbfff.  @data is copied.  0, -EINVAL,
 * -EEXIST, -ENOSPC, -EFBIG or -ENOMEM. */
int fwcfg_add_item(struct rivet_dev *dev, uint16_t key, const void *data,
		   size_t len);

/* Direct kernel boot for firmware (QEMU's layout, which EDK2's
 * QemuKernelLoaderFsDxe reads): KERNEL_SIZE/KERNEL_DATA,
 * INITRD_SIZE/INITRD_DATA, CMDLINE_SIZE/CMDLINE_DATA (the size counts the
 * NUL).  Each can be set once; errors as fwcfg_add_item(). */
int fwcfg_set_kernel(struct rivet_dev *dev, const void *data, size_t len);
int fwcfg_set_initrd(struct rivet_dev *dev, const void *data, size_t len);
int fwcfg_set_cmdline(struct rivet_dev *dev, const char *cmdline);
/* FWCFG_NB_CPUS (le16). */
int fwcfg_set_nb_cpus(struct rivet_dev *dev, uint16_t n);

#endif
