/* SPDX-License-Identifier: MIT */
/* CFI NOR flash with the Intel/Sharp command set (CFI ID 0x0001), as QEMU's
 * pflash_cfi01 models it for the virt boards and EDK2's VirtNorFlashDxe
 * drives it: one bank of two x16 devices side by side on a 32-bit bus
 * (bank width 4, device width 2), 256 KiB sectors (128 KiB per device),
 * manufacturer 0x89, device 0x18.
 *
 * One rivet_dev per bank.  The bank's contents live in a page-aligned host
 * buffer (anonymous memory loaded from the file), so the board can map it
 * into the guest as a read-only memory slot while the bank is in read-array
 * mode -- code executes in place from there -- and must take the slot away
 * while a command is in progress, when reads return status or query data:
 * see cfi_flash_set_mode_cb().  Writes always reach the device as MMIO.
 *
 * Byte lanes: each 32-bit bank word is two 16-bit device words.  Commands
 * are taken from the lowest byte of a write (EDK2 and Linux replicate
 * them into both halves).  In status, identifier and query mode every byte
 * of a read answers for its own device and address: device address =
 * bank offset / 4, low byte of the device word in the even byte, so a
 * 32-bit status read gives 0x00800080 and 'Q' of the query string reads as
 * 0x00510051 at offset 0x40.
 *
 * Commands (any other is logged and returns to read array):
 *   0xff, 0x00, 0xf0  read array
 *   0x70              read status register
 *   0x50              clear status register, then read array (as QEMU)
 *   0x90              read identifier: device address 0 manufacturer, 1
 *                     device, 2 block lock status (of the sector read)
 *   0x98              CFI query (table below, primary table "PRI" 1.0)
 *   0x10, 0x40        word program: the next write is the data
 *   0xe8              buffered program: count N-1 (low 16 bits), N data
 *                     writes within one CFI_FLASH_BUFFER_SIZE-aligned window
 *                     of the setup address's sector, then 0xd0 (anywhere)
 *   0x20, 0xd0        block erase of the setup address's sector
 *   0x60, 0x01/0xd0/0x2f  block lock / unlock / lock-down: accepted, no
 *                     lock is kept (writable banks always read unlocked)
 * Reads during and after program/erase/lock return the status register
 * until the next read-mode command; operations complete at once, so
 * status bit 7 (ready) is always set.
 *
 * Programming only clears bits (new = old & data) as real NOR does; EDK2
 * erases whenever a 0 must become 1.  Errors set status bits and change
 * nothing: a bad count or a confirm other than 0xd0 is a command sequence
 * error (0x30), data outside the buffer window or a write crossing a window
 * is a program error (0x10), a host I/O error is 0x10 (program) or 0x20
 * (erase).
 *
 * Read-only banks (firmware code) behave as locked-down sectors: lock
 * status reads 0x3, program fails with 0x12, erase with 0x22.  Their file
 * may be smaller than the bank (the rest reads 0xff).
 *
 * Writable banks (UEFI variables) need a file of exactly the bank's size,
 * locked with an exclusive flock.  Every completed program or erase is
 * written with pwrite() and made durable with fdatasync() before the
 * status register reports it done; if either fails, the bank's contents
 * stay as they were (the old bytes are written back, best effort) and the
 * program/erase error bit is set.  The VMM keeps running.
 *
 * Thread-safe: MMIO handlers and the helpers below take the
 * device's mutex. */
#ifndef RIVET_CFI_FLASH_H
#define RIVET_CFI_FLASH_H

#include <stdbool.h>
#include <stdint.h>

struct rivet_dev;

#define CFI_FLASH_SECTOR_SIZE	(256 * 1024)	/* per bank: 2 x 128 KiB */
#define CFI_FLASH_BANK_WIDTH	4
#define CFI_FLASH_DEVICE_WIDTH	2
#define CFI_FLASH_BUFFER_SIZE	128	/* bytes per bank: 2 x 64 */
#define CFI_FLASH_BUFFER_WORDS	(CFI_FLASH_BUFFER_SIZE / CFI_FLASH_BANK_WIDTH)
#define CFI_FLASH_MFR_ID	0x89	/* Intel */
#define CFI_FLASH_DEV_ID	0x18
#define CFI_FLASH_MAX_SIZE	(1ULL << 30)

/* Status register (per device). */
#define CFI_SR_READY		0x80	/* write state machine ready */
#define CFI_SR_ERASE_ERR	0x20	/* erase error / sequence error */
#define CFI_SR_PROGRAM_ERR	0x10	/* program error / sequence error */
#define CFI_SR_LOCKED		0x02	/* operation on a locked sector */
#define CFI_SR_SEQ_ERR		(CFI_SR_ERASE_ERR | CFI_SR_PROGRAM_ERR)

/* A bank of @size bytes at guest physical @base backed by @path: @size a
 * power of two from CFI_FLASH_SECTOR_SIZE to CFI_FLASH_MAX_SIZE, @base
 * page-aligned.  The file is opened O_CLOEXEC (O_RDONLY for @readonly)
 * and flock()ed (shared when read-only, exclusive otherwise, -EBUSY if
 * taken).  A file larger than the bank is refused (-EFBIG), and so is a
 * writable one of another size than the bank (-EINVAL).  0 or -errno; one
 * log line names the problem. */
int cfi_flash_create(uint64_t base, uint64_t size, const char *path,
		     bool readonly, struct rivet_dev **out);

/* The same over an already open @fd (e.g. handed over by a jailer); @name
 * is used in messages.  The device takes @fd over, and closes it on
 * failure too. */
int cfi_flash_create_fd(uint64_t base, uint64_t size, int fd,
			const char *name, bool readonly,
			struct rivet_dev **out);

/* Describe @bank0 and @bank1 as one FDT node, as QEMU does for the virt
 * board: /soc/flash@<bank0 base> with compatible "cfi-flash", reg = <bank0
 * base size bank1 base size> and bank-width = <4>; bank1's own fdt_node
 * then adds nothing.  An unpaired bank gets a node of its own.  Call
 * before the FDT is built.  0, or -EINVAL (not two distinct unpaired
 * cfi-flash banks, or bank1 below bank0). */
int cfi_flash_pair(struct rivet_dev *bank0, struct rivet_dev *bank1);

/* Called with true when the bank enters read-array mode and false when it
 * leaves it, only on changes.  It runs on the vCPU thread doing the
 * access, with the device's lock held (so calls are never reordered): it
 * may update memory slots but must not call back into this device. */
typedef void (*cfi_flash_mode_fn)(void *opaque, bool read_array);

/* Register @fn (NULL to remove).  Returns the current mode (1 read array,
 * 0 not) or -EINVAL; the board maps the slot if it is 1. */
int cfi_flash_set_mode_cb(struct rivet_dev *dev, cfi_flash_mode_fn fn,
			  void *opaque);

/* The bank's contents: @host page-aligned, @size == dev->size bytes, valid
 * until the device is destroyed; @rom_mode: the bank is in read-array
 * mode now.  The buffer is written only by the device, and only while the
 * bank is out of read-array mode; map it KVM_MEM_READONLY, and only while
 * in read-array mode.  0 or -EINVAL. */
int cfi_flash_host_mapping(struct rivet_dev *dev, void **host,
			   uint64_t *size, bool *rom_mode);

#endif
