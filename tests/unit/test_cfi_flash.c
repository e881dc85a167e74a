// SPDX-License-Identifier: MIT
/* CFI-01 NOR flash against real temporary files: read array of every
 * width, identifier and CFI query bytes where Linux and EDK2 look for
 * them, EDK2's word program / buffered program / erase / unlock sequences
 * with the file re-read after each (durability), the read-only bank,
 * status bits, hostile sequences, host I/O errors, the mode-change
 * callback, the FDT node and the variable store's creation. */
#include <errno.h>
#include <fcntl.h>
#include <libfdt.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/device.h"
#include "core/fdt_util.h"
#include "core/log.h"
#include "devices/cfi_flash.h"
#include "tests/support/files.h"
#include "tests/support/fdt.h"

#define BASE0		0x20000000ULL
#define BASE1		0x22000000ULL
#define BANK		(1024 * 1024)		/* 4 sectors */
#define SECTOR		CFI_FLASH_SECTOR_SIZE
#define DUAL(c)		((uint32_t)(c) << 16 | (uint32_t)(c))
#define SR_OK		DUAL(CFI_SR_READY)

struct t {
	char path[PATH_MAX];
	char path2[PATH_MAX];
	struct rivet_dev *dev;
	int fd;			/* the device's fd, for fault injection */
	bool modes[256];	/* what the mode callback reported, in order */
	unsigned int nmodes;
};

static uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off * 13 + (off >> 9) + 5);
}

static void mode_cb(void *opaque, bool array)
{
	struct t *t = opaque;

	if (t->nmodes < 256)
		t->modes[t->nmodes] = array;
	t->nmodes++;
}

/* Open @path as the device (taking the fd's number for fault injection)
 * and register the mode callback. */
static void open_dev(struct t *t, const char *path, bool ro, uint64_t size)
{
	int fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);

	assert_true(fd >= 0);
	t->fd = fd;
	assert_int_equal(cfi_flash_create_fd(BASE1, size, fd, path, ro,
					     &t->dev), 0);
	assert_int_equal(cfi_flash_set_mode_cb(t->dev, mode_cb, t), 1);
}

static void close_dev(struct t *t)
{
	if (t->dev)
		t->dev->ops->destroy(t->dev);
	t->dev = NULL;
}

static int setup(void **state)
{
	struct t *t = test_calloc(1, sizeof(*t));

	ts_temp_file(t->path, "cfi", BANK, pattern);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;

	close_dev(t);
	unlink(t->path);
	if (t->path2[0])
		unlink(t->path2);
	test_free(t);
	return 0;
}

static void wr(struct rivet_dev *d, uint64_t off, uint64_t v, unsigned int len)
{
	uint8_t b[8];

	mmio_put(b, len, v);
	d->ops->mmio_write(d, off, b, len);
}

static uint64_t rd(struct rivet_dev *d, uint64_t off, unsigned int len)
{
	uint8_t b[8];

	memset(b, 0xa5, sizeof(b));
	d->ops->mmio_read(d, off, b, len);
	return mmio_get(b, len);
}

/* EDK2's SEND_NOR_COMMAND: the command in both devices' halves. */
static void cmd(struct rivet_dev *d, uint64_t off, uint8_t c)
{
	wr(d, off, DUAL(c), 4);
}

static uint32_t status(struct rivet_dev *d)
{
	cmd(d, 0, 0x70);
	return (uint32_t)rd(d, 0, 4);
}

static void file_read(const char *path, uint64_t off, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static uint32_t file32(const char *path, uint64_t off)
{
	uint8_t b[4];

	file_read(path, off, b, 4);
	return (uint32_t)mmio_get(b, 4);
}

static uint32_t pat32(uint64_t off)
{
	return (uint32_t)pattern(off) | (uint32_t)pattern(off + 1) << 8 |
	       (uint32_t)pattern(off + 2) << 16 |
	       (uint32_t)pattern(off + 3) << 24;
}

/* The whole file equals the pattern except [from, to). */
static bool file_pristine_except(const char *path, uint64_t from, uint64_t to)
{
	uint8_t *buf = malloc(BANK);
	bool ok = true;

	assert_non_null(buf);
	file_read(path, 0, buf, BANK);
	for (uint64_t i = 0; i < BANK && ok; i++)
		if ((i < from || i >= to) && buf[i] != pattern(i)) {
			ok = false;
			print_message("differs at 0x%llx: %02x\n",
				      (unsigned long long)i, buf[i]);
		}
	free(buf);
	return ok;
}

static bool mapping_equals_file(struct t *t)
{
	uint8_t *buf = malloc(BANK);
	void *host;
	uint64_t size;
	bool rom, ok;

	assert_non_null(buf);
	assert_int_equal(cfi_flash_host_mapping(t->dev, &host, &size, &rom),
			 0);
	assert_int_equal(size, BANK);
	file_read(t->path, 0, buf, BANK);
	ok = !memcmp(host, buf, BANK);
	free(buf);
	return ok;
}

/* ---- creation ------------------------------------------------------------ */

static void test_create_errors(void **state)
{
	struct t *t = *state;
	struct rivet_dev *d = NULL;
	char dir[PATH_MAX + 8], big[PATH_MAX];

	/* Geometry: power of two, whole sectors, page-aligned base. */
	assert_int_equal(cfi_flash_create(BASE0, BANK + SECTOR, t->path, true,
					  &d), -EINVAL);
	assert_int_equal(cfi_flash_create(BASE0, SECTOR / 2, t->path, true,
					  &d), -EINVAL);
	assert_int_equal(cfi_flash_create(BASE0 + 8, BANK, t->path, true,
					  &d), -EINVAL);
	assert_int_equal(cfi_flash_create(UINT64_MAX - 4095, BANK, t->path,
					  true, &d), -EINVAL);
	assert_int_equal(cfi_flash_create(BASE0, 2ULL << 30, t->path, true,
					  &d), -EINVAL);
	assert_int_equal(cfi_flash_create(BASE0, BANK, NULL, true, &d),
			 -EINVAL);
	assert_int_equal(cfi_flash_create(BASE0, BANK, t->path, true, NULL),
			 -EINVAL);
	assert_int_equal(cfi_flash_create_fd(BASE0, BANK, -1, "x", true, &d),
			 -EINVAL);
	assert_int_equal(cfi_flash_create(BASE0, BANK, "/nonexistent/x",
					  true, &d), -ENOENT);
	/* Not a file. */
	snprintf(dir, sizeof(dir), "%s.d", t->path);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(cfi_flash_create(BASE0, BANK, dir, true, &d),
			 -EINVAL);
	rmdir(dir);
	/* Larger than the bank: refused, read-only or not. */
	ts_temp_file(big, "cfi", BANK + 1, pattern);
	assert_int_equal(cfi_flash_create(BASE0, BANK, big, true, &d),
			 -EFBIG);
	assert_int_equal(cfi_flash_create(BASE0, BANK, big, false, &d),
			 -EFBIG);
	/* A writable bank needs exactly its size. */
	assert_int_equal(truncate(big, BANK - 4), 0);
	assert_int_equal(cfi_flash_create(BASE0, BANK, big, false, &d),
			 -EINVAL);
	unlink(big);
	assert_null(d);
}

static void test_locking(void **state)
{
	struct t *t = *state;
	struct rivet_dev *a, *b;

	assert_int_equal(cfi_flash_create(BASE1, BANK, t->path, false, &a),
			 0);
	assert_int_equal(cfi_flash_create(BASE1, BANK, t->path, false, &b),
			 -EBUSY);
	assert_int_equal(cfi_flash_create(BASE1, BANK, t->path, true, &b),
			 -EBUSY);
	a->ops->destroy(a);
	/* Two read-only users share the file. */
	assert_int_equal(cfi_flash_create(BASE0, BANK, t->path, true, &a), 0);
	assert_int_equal(cfi_flash_create(BASE0, BANK, t->path, true, &b), 0);
	assert_int_equal(cfi_flash_create(BASE1, BANK, t->path, false, &t->dev),
			 -EBUSY);
	a->ops->destroy(a);
	b->ops->destroy(b);
}

/* ---- read array ---------------------------------------------------------- */

static void test_read_array(void **state)
{
	struct t *t = *state;
	static const unsigned int widths[] = { 1, 2, 4, 8 };
	void *host;
	uint64_t size;
	bool rom;

	open_dev(t, t->path, false, BANK);
	assert_string_equal(t->dev->ops->name, "cfi-flash");
	assert_int_equal(t->dev->base, BASE1);
	assert_int_equal(t->dev->size, BANK);
	for (unsigned int w = 0; w < 4; w++) {
		unsigned int len = widths[w];
		uint64_t offs[] = { 0, 1, 3, 7, SECTOR - 1, SECTOR - 3,
				    BANK / 2 + 5, BANK - len };

		for (unsigned int i = 0; i < sizeof(offs) / sizeof(offs[0]);
		     i++) {
			uint64_t v = rd(t->dev, offs[i], len), want = 0;

			for (unsigned int b = 0; b < len; b++)
				want |= (uint64_t)pattern(offs[i] + b)
					<< (8 * b);
			assert_int_equal(v, want);
		}
	}
	/* Past the end (the bus never sends these): zeros, nothing else. */
	assert_int_equal(rd(t->dev, BANK - 2, 4), 0);
	assert_int_equal(rd(t->dev, BANK, 1), 0);
	assert_int_equal(rd(t->dev, 0, 3), 0);
	/* The host mapping is the bank. */
	assert_int_equal(cfi_flash_host_mapping(t->dev, &host, &size, &rom),
			 0);
	assert_int_equal((uintptr_t)host % 4096, 0);
	assert_int_equal(size, BANK);
	assert_true(rom);
	assert_true(mapping_equals_file(t));
	assert_int_equal(t->nmodes, 0);
}

/* A read-only file smaller than the bank reads 0xff past its end; the
 * code bank's mapping is read-only memory. */
static void test_short_readonly_file(void **state)
{
	struct t *t = *state;
	uint8_t *host;

	assert_int_equal(truncate(t->path, 1000), 0);
	open_dev(t, t->path, true, BANK);
	assert_int_equal(rd(t->dev, 996, 4), pat32(996));
	assert_int_equal(rd(t->dev, 998, 4),
			 0xffff0000 | (pat32(998) & 0xffff));
	assert_int_equal(rd(t->dev, BANK - 8, 8), UINT64_MAX);
	assert_int_equal(cfi_flash_host_mapping(t->dev, (void **)&host, NULL,
						NULL), 0);
	assert_int_equal(host[1000], 0xff);
	assert_int_equal(host[999], pattern(999));
	close_dev(t);
	/* An empty one is all 0xff. */
	assert_int_equal(truncate(t->path, 0), 0);
	open_dev(t, t->path, true, BANK);
	assert_int_equal(rd(t->dev, 0, 8), UINT64_MAX);
}

/* ---- identifier, query, status ------------------------------------------- */

static void test_read_id(void **state)
{
	struct t *t = *state;

	open_dev(t, t->path, false, BANK);
	cmd(t->dev, 0, 0x90);
	assert_int_equal(rd(t->dev, 0, 4), DUAL(CFI_FLASH_MFR_ID));
	assert_int_equal(rd(t->dev, 4, 4), DUAL(CFI_FLASH_DEV_ID));
	assert_int_equal(rd(t->dev, 0, 8),
			 (uint64_t)DUAL(0x18) << 32 | DUAL(0x89));
	/* Each device answers in its own half; high bytes are 0. */
	assert_int_equal(rd(t->dev, 0, 2), 0x89);
	assert_int_equal(rd(t->dev, 2, 2), 0x89);
	assert_int_equal(rd(t->dev, 1, 1), 0);
	assert_int_equal(rd(t->dev, 6, 1), 0x18);
	/* Block lock status at device address 2 of each sector: unlocked,
	 * where EDK2's NorFlashBlockIsLocked looks. */
	cmd(t->dev, SECTOR + 8, 0x90);
	assert_int_equal(rd(t->dev, SECTOR + 8, 4), 0);
	assert_int_equal(rd(t->dev, 2 * SECTOR, 4), DUAL(0x89));
	assert_int_equal(rd(t->dev, 12, 4), 0);
	cmd(t->dev, 0, 0xff);
	assert_int_equal(rd(t->dev, 0, 4), pat32(0));
	close_dev(t);
	/* The read-only bank's sectors read locked down. */
	open_dev(t, t->path, true, BANK);
	cmd(t->dev, 0, 0x90);
	assert_int_equal(rd(t->dev, 8, 4), DUAL(0x03));
	assert_int_equal(rd(t->dev, 0, 4), DUAL(0x89));
}

static uint8_t q(struct rivet_dev *d, unsigned int addr)
{
	uint32_t v = (uint32_t)rd(d, addr * 4, 4);

	/* Both devices give the same answer, high bytes zero. */
	assert_int_equal(v >> 16, v & 0xffff);
	assert_int_equal(v & 0xff00, 0);
	return (uint8_t)v;
}

static void test_cfi_query(void **state)
{
	struct t *t = *state;

	open_dev(t, t->path, false, BANK);
	/* Linux's probe: AMD reset, read array, then 0x98 at 0x55. */
	cmd(t->dev, 0, 0xf0);
	cmd(t->dev, 0, 0xff);
	cmd(t->dev, 0x55 * 4, 0x98);
	assert_int_equal(rd(t->dev, 0x40, 4), DUAL('Q'));
	assert_int_equal(q(t->dev, 0x11), 'R');
	assert_int_equal(q(t->dev, 0x12), 'Y');
	assert_int_equal(q(t->dev, 0x13) | q(t->dev, 0x14) << 8, 0x0001);
	assert_int_equal(q(t->dev, 0x15) | q(t->dev, 0x16) << 8, 0x31);
	assert_int_equal(q(t->dev, 0x17) | q(t->dev, 0x18) << 8, 0);
	assert_true(q(t->dev, 0x20) != 0);	/* buffered writes exist */
	/* One x16 device is half the bank: 512 KiB = 2^19. */
	assert_int_equal(q(t->dev, 0x27), 19);
	assert_int_equal(q(t->dev, 0x28) | q(t->dev, 0x29) << 8, 0x0001);
	/* Write buffer: 2^6 bytes per device, 128 per bank. */
	assert_int_equal(1 << q(t->dev, 0x2a), CFI_FLASH_BUFFER_SIZE / 2);
	assert_int_equal(q(t->dev, 0x2b), 0);
	assert_int_equal(q(t->dev, 0x2c), 1);
	/* 4 blocks of 128 KiB per device (256 KiB per bank). */
	assert_int_equal(q(t->dev, 0x2d) | q(t->dev, 0x2e) << 8, 3);
	assert_int_equal((q(t->dev, 0x2f) | q(t->dev, 0x30) << 8) * 256,
			 SECTOR / 2);
	/* Primary extended table, version 1.0. */
	assert_int_equal(q(t->dev, 0x31), 'P');
	assert_int_equal(q(t->dev, 0x32), 'R');
	assert_int_equal(q(t->dev, 0x33), 'I');
	assert_int_equal(q(t->dev, 0x34), '1');
	assert_int_equal(q(t->dev, 0x35), '0');
	assert_int_equal(q(t->dev, 0x3f), 1);
	/* Beyond the table: zeros. */
	assert_int_equal(q(t->dev, 0x44), 0);
	assert_int_equal(rd(t->dev, BANK - 4, 4), 0);
	/* An 8-byte read covers two device addresses. */
	assert_int_equal(rd(t->dev, 0x40, 8),
			 (uint64_t)DUAL('R') << 32 | DUAL('Q'));
	assert_int_equal(rd(t->dev, 0x42, 2), 'Q');
	assert_int_equal(rd(t->dev, 0x43, 1), 0);
	cmd(t->dev, 0, 0xff);
	assert_int_equal(rd(t->dev, 0x40, 4), pat32(0x40));
	close_dev(t);
	/* A 32 MiB bank, as on the virt board: 128 blocks of 128 KiB in a
	 * 16 MiB device.  A sparse file keeps this cheap. */
	assert_int_equal(truncate(t->path, 32 << 20), 0);
	open_dev(t, t->path, false, 32 << 20);
	cmd(t->dev, 0, 0x98);
	assert_int_equal(q(t->dev, 0x27), 24);
	assert_int_equal(q(t->dev, 0x2d) | q(t->dev, 0x2e) << 8, 127);
	assert_int_equal((q(t->dev, 0x2f) | q(t->dev, 0x30) << 8) * 256,
			 128 * 1024);
}

static void test_status_register(void **state)
{
	struct t *t = *state;

	open_dev(t, t->path, false, BANK);
	cmd(t->dev, 0, 0x70);
	assert_int_equal(rd(t->dev, 0, 4), SR_OK);
	assert_int_equal(rd(t->dev, 0, 8),
			 (uint64_t)SR_OK << 32 | SR_OK);
	assert_int_equal(rd(t->dev, 0x1234, 2), 0x80);
	assert_int_equal(rd(t->dev, 0x1235, 1), 0);
	/* Status mode stays until a read-mode command. */
	assert_int_equal(rd(t->dev, SECTOR, 4), SR_OK);
	/* An error sticks until cleared. */
	cmd(t->dev, 0, 0x20);
	cmd(t->dev, 0, 0x55);			/* not a confirm */
	assert_int_equal(rd(t->dev, 0, 4), DUAL(0x80 | CFI_SR_SEQ_ERR));
	cmd(t->dev, 0, 0xff);
	assert_int_equal(rd(t->dev, 0, 4), pat32(0));
	assert_int_equal(status(t->dev), DUAL(0x80 | CFI_SR_SEQ_ERR));
	cmd(t->dev, 0, 0x50);
	/* Clear status returns to read array, as in QEMU. */
	assert_int_equal(rd(t->dev, 0, 4), pat32(0));
	assert_int_equal(status(t->dev), SR_OK);
	assert_true(file_pristine_except(t->path, 0, 0));
}

/* ---- program and erase --------------------------------------------------- */

/* EDK2's NorFlashWriteSingleWord. */
static uint32_t edk2_word(struct rivet_dev *d, uint64_t off, uint32_t v)
{
	uint32_t sr;

	cmd(d, off, 0x40);
	wr(d, off, v, 4);
	sr = status(d);
	if (!(sr & DUAL(0x3a)))
		cmd(d, 0, 0x50);
	cmd(d, 0, 0xff);
	return sr;
}

static void test_word_program(void **state)
{
	struct t *t = *state;
	uint64_t off = SECTOR + 0x100;
	uint32_t v = pat32(off) & 0x0f0f00ff;

	open_dev(t, t->path, false, BANK);
	assert_int_equal(edk2_word(t->dev, off, v), SR_OK);
	assert_int_equal(file32(t->path, off), v);
	assert_int_equal(rd(t->dev, off, 4), v);
	assert_true(file_pristine_except(t->path, off, off + 4));
	/* Programming only clears bits, as NOR does. */
	assert_int_equal(edk2_word(t->dev, off, 0xffff0000), SR_OK);
	assert_int_equal(file32(t->path, off), v & 0xffff0000);
	/* 0x10 is the same command; 1- and 2-byte data writes program
	 * just those bytes. */
	cmd(t->dev, 0, 0x10);
	wr(t->dev, off + 5, 0x00, 1);
	assert_int_equal(status(t->dev), SR_OK);
	cmd(t->dev, 0, 0x40);
	wr(t->dev, off + 6, 0x0000, 2);
	cmd(t->dev, 0, 0xff);
	assert_int_equal(file32(t->path, off + 4),
			 pat32(off + 4) & 0x000000ff);
	/* An 8-byte write inside a buffer window is one operation. */
	cmd(t->dev, 0, 0x40);
	wr(t->dev, off + 8, 0, 8);
	cmd(t->dev, 0, 0xff);
	assert_int_equal(file32(t->path, off + 8), 0);
	assert_int_equal(file32(t->path, off + 12), 0);
	assert_true(file_pristine_except(t->path, off, off + 16));
	assert_true(mapping_equals_file(t));
}

/* EDK2's NorFlashWriteBuffer: setup at the target, status read there,
 * count as a dual command, data, confirm at the bank's base. */
static uint32_t edk2_buffer(struct rivet_dev *d, uint64_t off,
			    const uint32_t *data, unsigned int words)
{
	uint32_t sr;

	cmd(d, off, 0xe8);
	assert_int_equal(rd(d, off, 4), SR_OK);
	cmd(d, off, (uint8_t)(words - 1));
	for (unsigned int i = 0; i < words; i++)
		wr(d, off + 4 * i, data[i], 4);
	cmd(d, 0, 0xd0);
	sr = status(d);
	if (!(sr & DUAL(0x3a)))
		cmd(d, 0, 0x50);
	cmd(d, 0, 0xff);
	return sr;
}

static void test_buffered_program(void **state)
{
	struct t *t = *state;
	uint64_t off = 2 * SECTOR + 0x80;
	uint32_t data[32];

	for (unsigned int i = 0; i < 32; i++)
		data[i] = 0x01020304u * i;
	open_dev(t, t->path, false, BANK);
	/* Erase first (EDK2's NorFlashWriteFullBlock does). */
	cmd(t->dev, 2 * SECTOR, 0x20);
	cmd(t->dev, 2 * SECTOR, 0xd0);
	assert_int_equal(status(t->dev), SR_OK);
	cmd(t->dev, 0, 0xff);
	assert_int_equal(edk2_buffer(t->dev, off, data, 32), SR_OK);
	for (unsigned int i = 0; i < 32; i++) {
		assert_int_equal(file32(t->path, off + 4 * i), data[i]);
		assert_int_equal(rd(t->dev, off + 4 * i, 4), data[i]);
	}
	assert_int_equal(file32(t->path, off - 4), 0xffffffff);
	assert_int_equal(file32(t->path, off + 128), 0xffffffff);
	/* A short buffer in the middle of a window, with 2-byte writes:
	 * the count is of writes. */
	cmd(t->dev, off + 0x1000, 0xe8);
	wr(t->dev, off + 0x1000, 2, 2);
	wr(t->dev, off + 0x1004, 0x1111, 2);
	wr(t->dev, off + 0x1006, 0x2222, 2);
	wr(t->dev, off + 0x1010, 0x3333, 2);
	assert_int_equal(rd(t->dev, 0, 4), SR_OK);	/* still status */
	wr(t->dev, BANK - 4, 0xd0, 1);			/* confirm anywhere */
	assert_int_equal(status(t->dev), SR_OK);
	cmd(t->dev, 0, 0xff);
	assert_int_equal(file32(t->path, off + 0x1004), 0x22221111);
	assert_int_equal(file32(t->path, off + 0x1008), 0xffffffff);
	assert_int_equal(file32(t->path, off + 0x1010), 0xffff3333);
	assert_true(file_pristine_except(t->path, 2 * SECTOR, 3 * SECTOR));
	assert_true(mapping_equals_file(t));
}

static void test_erase(void **state)
{
	struct t *t = *state;
	uint8_t buf[SECTOR];

	open_dev(t, t->path, false, BANK);
	/* Any address in the sector; the setup's counts. */
	cmd(t->dev, 3 * SECTOR + 0x1234, 0x20);
	cmd(t->dev, 0, 0xd0);
	assert_int_equal(rd(t->dev, 0, 4), SR_OK);
	file_read(t->path, 3 * SECTOR, buf, SECTOR);
	for (unsigned int i = 0; i < SECTOR; i++)
		assert_int_equal(buf[i], 0xff);
	assert_true(file_pristine_except(t->path, 3 * SECTOR, BANK));
	cmd(t->dev, 0, 0xff);
	assert_int_equal(rd(t->dev, BANK - 8, 8), UINT64_MAX);
	assert_true(mapping_equals_file(t));
	/* It lasts: a new device on the same file sees it. */
	close_dev(t);
	open_dev(t, t->path, false, BANK);
	assert_int_equal(rd(t->dev, 3 * SECTOR, 8), UINT64_MAX);
	assert_int_equal(rd(t->dev, 3 * SECTOR - 4, 4), pat32(3 * SECTOR - 4));
}

static void test_lock_unlock(void **state)
{
	struct t *t = *state;

	open_dev(t, t->path, false, BANK);
	/* EDK2's NorFlashUnlockSingleBlock. */
	cmd(t->dev, SECTOR, 0x60);
	cmd(t->dev, SECTOR, 0xd0);
	assert_int_equal(rd(t->dev, SECTOR, 4), SR_OK);
	cmd(t->dev, SECTOR, 0x60);
	cmd(t->dev, SECTOR, 0x01);
	assert_int_equal(status(t->dev), SR_OK);
	cmd(t->dev, SECTOR, 0x60);
	cmd(t->dev, SECTOR, 0x2f);
	assert_int_equal(status(t->dev), SR_OK);
	/* Locks are not kept: still unlocked and writable. */
	cmd(t->dev, SECTOR + 8, 0x90);
	assert_int_equal(rd(t->dev, SECTOR + 8, 4), 0);
	cmd(t->dev, 0, 0xff);
	assert_int_equal(edk2_word(t->dev, SECTOR, 0), SR_OK);
	assert_int_equal(file32(t->path, SECTOR), 0);
	/* Anything else after 0x60 is a sequence error. */
	cmd(t->dev, SECTOR, 0x60);
	cmd(t->dev, SECTOR, 0x40);
	assert_int_equal(rd(t->dev, 0, 4), DUAL(0x80 | CFI_SR_SEQ_ERR));
}

/* ---- the read-only bank -------------------------------------------------- */

static void test_readonly(void **state)
{
	struct t *t = *state;
	uint32_t data[4] = { 0 };
	uint8_t *host;

	open_dev(t, t->path, true, BANK);
	assert_int_equal(edk2_word(t->dev, 0, 0),
			 DUAL(0x80 | CFI_SR_PROGRAM_ERR | CFI_SR_LOCKED));
	cmd(t->dev, 0, 0x50);
	assert_int_equal(edk2_buffer(t->dev, 0x100, data, 4),
			 DUAL(0x80 | CFI_SR_PROGRAM_ERR | CFI_SR_LOCKED));
	cmd(t->dev, 0, 0x50);
	cmd(t->dev, SECTOR, 0x20);
	cmd(t->dev, SECTOR, 0xd0);
	assert_int_equal(rd(t->dev, 0, 4),
			 DUAL(0x80 | CFI_SR_ERASE_ERR | CFI_SR_LOCKED));
	cmd(t->dev, 0, 0xff);
	assert_int_equal(rd(t->dev, 0, 4), pat32(0));
	assert_int_equal(rd(t->dev, SECTOR, 4), pat32(SECTOR));
	assert_true(file_pristine_except(t->path, 0, 0));
	assert_int_equal(cfi_flash_host_mapping(t->dev, (void **)&host, NULL,
						NULL), 0);
	assert_int_equal(host[SECTOR], pattern(SECTOR));
	/* Unlock is accepted; the sectors stay locked down. */
	cmd(t->dev, 0, 0x50);
	cmd(t->dev, 0, 0x60);
	cmd(t->dev, 0, 0xd0);
	assert_int_equal(rd(t->dev, 0, 4), SR_OK);
	cmd(t->dev, 0, 0x90);
	assert_int_equal(rd(t->dev, 8, 4), DUAL(0x03));
}

/* ---- hostile sequences --------------------------------------------------- */

static void test_buffer_hostile(void **state)
{
	struct t *t = *state;
	uint64_t off = SECTOR + 0x200;

	open_dev(t, t->path, false, BANK);
	/* Count beyond the write buffer: sequence error, and the data that
	 * follows is taken as commands (here: 0x00 = read array). */
	cmd(t->dev, off, 0xe8);
	cmd(t->dev, off, 32);			/* 33 words */
	assert_int_equal(rd(t->dev, off, 4), DUAL(0x80 | CFI_SR_SEQ_ERR));
	wr(t->dev, off, 0, 4);
	assert_int_equal(rd(t->dev, off, 4), pat32(off));
	cmd(t->dev, 0, 0x50);
	cmd(t->dev, off, 0xe8);
	wr(t->dev, off, 0xffff, 2);		/* 65536 words */
	assert_int_equal(rd(t->dev, off, 4), DUAL(0x80 | CFI_SR_SEQ_ERR));
	cmd(t->dev, 0, 0x50);
	/* Data outside the 128-byte window of the first data write: the
	 * count goes on, the confirm fails, nothing is written. */
	cmd(t->dev, off, 0xe8);
	cmd(t->dev, off, 1);
	wr(t->dev, off, 0, 4);
	wr(t->dev, off + 128, 0, 4);
	cmd(t->dev, 0, 0xd0);
	assert_int_equal(rd(t->dev, 0, 4), DUAL(0x80 | CFI_SR_PROGRAM_ERR));
	cmd(t->dev, 0, 0x50);
	/* A write straddling the window's end. */
	cmd(t->dev, off, 0xe8);
	cmd(t->dev, off, 0);
	wr(t->dev, off + 126, 0, 4);
	cmd(t->dev, 0, 0xd0);
	assert_int_equal(rd(t->dev, 0, 4), DUAL(0x80 | CFI_SR_PROGRAM_ERR));
	cmd(t->dev, 0, 0x50);
	/* Data in another sector than the setup. */
	cmd(t->dev, off, 0xe8);
	cmd(t->dev, off, 0);
	wr(t->dev, off + SECTOR, 0, 4);
	cmd(t->dev, 0, 0xd0);
	assert_int_equal(rd(t->dev, 0, 4), DUAL(0x80 | CFI_SR_PROGRAM_ERR));
	cmd(t->dev, 0, 0x50);
	/* A confirm that is not 0xd0 (here 0xff): sequence error. */
	cmd(t->dev, off, 0xe8);
	cmd(t->dev, off, 0);
	wr(t->dev, off, 0, 4);
	cmd(t->dev, 0, 0xff);
	assert_int_equal(rd(t->dev, 0, 4), DUAL(0x80 | CFI_SR_SEQ_ERR));
	cmd(t->dev, 0, 0x50);
	assert_true(file_pristine_except(t->path, 0, 0));
	assert_true(mapping_equals_file(t));
	/* After all that, a good one works. */
	assert_int_equal(edk2_buffer(t->dev, off, (uint32_t[]){ 0, 0 }, 2),
			 SR_OK);
	assert_int_equal(file32(t->path, off + 4), 0);
	assert_true(file_pristine_except(t->path, off, off + 8));
}

static void test_hostile_misc(void **state)
{
	struct t *t = *state;
	unsigned long logged;

	open_dev(t, t->path, false, BANK);
	/* Word program straddling a 128-byte boundary (and so any sector
	 * boundary): program error, nothing written. */
	cmd(t->dev, 0, 0x40);
	wr(t->dev, SECTOR - 4, 0, 8);
	assert_int_equal(rd(t->dev, 0, 4), DUAL(0x80 | CFI_SR_PROGRAM_ERR));
	cmd(t->dev, 0, 0x50);
	cmd(t->dev, 0, 0x40);
	wr(t->dev, 127, 0, 2);
	assert_int_equal(rd(t->dev, 0, 4), DUAL(0x80 | CFI_SR_PROGRAM_ERR));
	cmd(t->dev, 0, 0x50);
	/* Unknown commands: logged, back to read array. */
	for (unsigned int c = 0; c < 256; c++) {
		static const uint8_t known[] = { 0xff, 0x00, 0xf0, 0x70, 0x50,
						 0x90, 0x98, 0x10, 0x40, 0xe8,
						 0x20, 0x60 };

		if (memchr(known, (int)c, sizeof(known)))
			continue;
		cmd(t->dev, 0, 0x70);
		logged = log_count();	/* suppressed lines count too */
		cmd(t->dev, c * 4, (uint8_t)c);
		assert_int_equal(log_count(), logged + 1);
		assert_int_equal(rd(t->dev, 0, 4), pat32(0));
	}
	/* Odd widths, and accesses past the end, are ignored. */
	cmd(t->dev, 0, 0x40);
	t->dev->ops->mmio_write(t->dev, 0, (uint8_t[]){ 0, 0, 0 }, 3);
	wr(t->dev, BANK - 2, 0, 4);
	wr(t->dev, BANK, 0, 1);
	assert_int_equal(rd(t->dev, 0, 4), SR_OK);	/* still in program */
	wr(t->dev, 0, 0xffffffff, 4);		/* the data: no change */
	assert_int_equal(status(t->dev), SR_OK);
	/* Every write width as a command: the lowest byte counts. */
	wr(t->dev, 0, 0x98, 1);
	assert_int_equal(rd(t->dev, 0x40, 1), 'Q');
	wr(t->dev, 0, 0xffff, 2);
	assert_int_equal(rd(t->dev, 0x40, 1), pattern(0x40));
	wr(t->dev, 0, 0x7070707070707070ULL, 8);
	assert_int_equal(rd(t->dev, 0, 1), 0x80);
	cmd(t->dev, 0, 0xff);
	assert_true(file_pristine_except(t->path, 0, 0));
}

/* ---- host I/O errors ----------------------------------------------------- */

static void test_host_errors(void **state)
{
	struct t *t = *state;
	uint32_t data[2] = { 0, 0 };

	open_dev(t, t->path, false, BANK);
	ts_swap_fd(t->fd, "/dev/full", O_RDWR);		/* ENOSPC */
	assert_int_equal(edk2_word(t->dev, 0, 0),
			 DUAL(0x80 | CFI_SR_PROGRAM_ERR));
	cmd(t->dev, 0, 0x50);
	assert_int_equal(edk2_buffer(t->dev, 0x80, data, 2),
			 DUAL(0x80 | CFI_SR_PROGRAM_ERR));
	cmd(t->dev, 0, 0x50);
	cmd(t->dev, 0, 0x20);
	cmd(t->dev, 0, 0xd0);
	assert_int_equal(rd(t->dev, 0, 4), DUAL(0x80 | CFI_SR_ERASE_ERR));
	cmd(t->dev, 0, 0x50);
	/* The bank did not change either. */
	assert_int_equal(rd(t->dev, 0, 4), pat32(0));
	assert_int_equal(rd(t->dev, 0x80, 4), pat32(0x80));
	ts_swap_fd(t->fd, t->path, O_RDONLY);		/* EBADF */
	assert_int_equal(edk2_word(t->dev, 0, 0),
			 DUAL(0x80 | CFI_SR_PROGRAM_ERR));
	cmd(t->dev, 0, 0x50);
	assert_true(file_pristine_except(t->path, 0, 0));
	assert_true(mapping_equals_file(t));
	/* The write works but fdatasync fails (EINVAL on /dev/null): the
	 * operation fails and the bank keeps its old bytes. */
	ts_swap_fd(t->fd, "/dev/null", O_RDWR);
	assert_int_equal(edk2_word(t->dev, 0, 0),
			 DUAL(0x80 | CFI_SR_PROGRAM_ERR));
	cmd(t->dev, 0, 0x50);
	cmd(t->dev, 0, 0x20);
	cmd(t->dev, 0, 0xd0);
	assert_int_equal(rd(t->dev, 0, 4), DUAL(0x80 | CFI_SR_ERASE_ERR));
	cmd(t->dev, 0, 0x50);
	assert_int_equal(rd(t->dev, 0, 4), pat32(0));
	assert_true(file_pristine_except(t->path, 0, 0));
	/* Healthy again: it works. */
	ts_swap_fd(t->fd, t->path, O_RDWR);
	assert_int_equal(edk2_word(t->dev, 0, 0), SR_OK);
	assert_int_equal(file32(t->path, 0), 0);
	assert_true(mapping_equals_file(t));
}

/* ---- mode changes -------------------------------------------------------- */

static void expect_modes(struct t *t, const bool *want, unsigned int n)
{
	assert_int_equal(t->nmodes, n);
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(t->modes[i], want[i]);
}

static void test_mode_callbacks(void **state)
{
	struct t *t = *state;
	bool rom;

	open_dev(t, t->path, false, BANK);
	/* Read-mode commands that stay in read array: no calls. */
	cmd(t->dev, 0, 0xff);
	cmd(t->dev, 0, 0x50);
	cmd(t->dev, 0, 0x00);
	expect_modes(t, NULL, 0);
	/* Leaving read array: one call; status, ID and query in a row do
	 * not call again. */
	cmd(t->dev, 0, 0x70);
	assert_int_equal(cfi_flash_host_mapping(t->dev, NULL, NULL, &rom), 0);
	assert_false(rom);
	cmd(t->dev, 0, 0x90);
	cmd(t->dev, 0, 0x98);
	expect_modes(t, (bool[]){ false }, 1);
	cmd(t->dev, 0, 0xff);
	expect_modes(t, (bool[]){ false, true }, 2);
	assert_int_equal(cfi_flash_host_mapping(t->dev, NULL, NULL, &rom), 0);
	assert_true(rom);
	/* A whole EDK2 word program: out at the setup, back at 0xff. */
	edk2_word(t->dev, 0, 0);
	expect_modes(t, (bool[]){ false, true, false, true }, 4);
	/* Clear status from status mode goes back to read array. */
	cmd(t->dev, 0, 0x70);
	cmd(t->dev, 0, 0x50);
	expect_modes(t, (bool[]){ false, true, false, true, false, true }, 6);
	/* Unregistering stops the calls; registering reports the mode. */
	assert_int_equal(cfi_flash_set_mode_cb(t->dev, NULL, NULL), 1);
	cmd(t->dev, 0, 0x70);
	assert_int_equal(t->nmodes, 6);
	assert_int_equal(cfi_flash_set_mode_cb(t->dev, mode_cb, t), 0);
	cmd(t->dev, 0, 0xff);
	assert_int_equal(t->nmodes, 7);
	assert_true(t->modes[6]);
	/* Not a flash. */
	{
		struct rivet_dev other = { 0 };

		assert_int_equal(cfi_flash_set_mode_cb(&other, mode_cb, t),
				 -EINVAL);
		assert_int_equal(cfi_flash_host_mapping(&other, NULL, NULL,
							NULL), -EINVAL);
		assert_int_equal(cfi_flash_host_mapping(NULL, NULL, NULL,
							NULL), -EINVAL);
	}
}

/* ---- FDT ----------------------------------------------------------------- */

static void test_fdt(void **state)
{
	struct t *t = *state;
	static uint8_t buf[4096];
	struct fdt_ctx ctx = { .fdt = buf, .size = sizeof(buf) };
	struct rivet_dev *b0, *b1;
	const fdt64_t *reg;
	int off, len;

	ts_temp_file(t->path2, "cfi", BANK, pattern);
	assert_int_equal(cfi_flash_create(BASE0, BANK, t->path2, true, &b0),
			 0);
	assert_int_equal(cfi_flash_create(BASE0 + BANK, BANK, t->path, false,
					  &b1), 0);
	/* Not a pair: same bank, reversed, not a flash. */
	assert_int_equal(cfi_flash_pair(b0, b0), -EINVAL);
	assert_int_equal(cfi_flash_pair(b1, b0), -EINVAL);
	assert_int_equal(cfi_flash_pair(b0, NULL), -EINVAL);
	assert_int_equal(cfi_flash_pair(b0, b1), 0);
	assert_int_equal(cfi_flash_pair(b0, b1), -EINVAL);	/* twice */
	ts_fdt_soc(buf, sizeof(buf));
	assert_int_equal(b0->ops->fdt_node(b0, &ctx), 0);
	assert_int_equal(b1->ops->fdt_node(b1, &ctx), 0);
	off = fdt_path_offset(buf, "/soc/flash@20000000");
	assert_true(off >= 0);
	assert_int_equal(fdt_node_check_compatible(buf, off, "cfi-flash"), 0);
	reg = fdt_getprop(buf, off, "reg", &len);
	assert_non_null(reg);
	assert_int_equal(len, 32);
	assert_int_equal(fdt64_to_cpu(reg[0]), BASE0);
	assert_int_equal(fdt64_to_cpu(reg[1]), BANK);
	assert_int_equal(fdt64_to_cpu(reg[2]), BASE0 + BANK);
	assert_int_equal(fdt64_to_cpu(reg[3]), BANK);
	assert_int_equal(fdt32_to_cpu(*(const fdt32_t *)fdt_getprop(buf, off,
				"bank-width", NULL)), 4);
	assert_null(fdt_getprop(buf, off, "interrupts", NULL));
	/* Only the one node. */
	assert_int_equal(fdt_node_offset_by_compatible(buf, off, "cfi-flash"),
			 -FDT_ERR_NOTFOUND);
	b0->ops->destroy(b0);
	b1->ops->destroy(b1);
	/* An unpaired bank describes itself. */
	open_dev(t, t->path, false, BANK);
	ts_fdt_soc(buf, sizeof(buf));
	assert_int_equal(t->dev->ops->fdt_node(t->dev, &ctx), 0);
	off = fdt_path_offset(buf, "/soc/flash@22000000");
	assert_true(off >= 0);
	reg = fdt_getprop(buf, off, "reg", &len);
	assert_int_equal(len, 16);
	assert_int_equal(fdt64_to_cpu(reg[0]), BASE1);
	/* No room: an error, not a crash. */
	ts_fdt_soc(buf, sizeof(buf));
	assert_int_equal(fdt_pack(buf), 0);
	assert_true(t->dev->ops->fdt_node(t->dev, &ctx) < 0);
}

/* ---- the variable store's file ------------------------------------------- */

/* ---- threads ------------------------------------------------------------- */

struct worker {
	struct rivet_dev *dev;
	uint64_t base;
};

/* Each thread programs its own window with whole sequences; they are
 * serialised by the device (one command state for the bank, as on real
 * hardware a guest must serialise too, so a mutex here stands for the
 * guest's). */
static pthread_mutex_t guest_lock = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg)
{
	struct worker *w = arg;

	for (unsigned int i = 0; i < 32; i++) {
		pthread_mutex_lock(&guest_lock);
		cmd(w->dev, w->base + 4 * i, 0x40);
		wr(w->dev, w->base + 4 * i, 0, 4);
		cmd(w->dev, 0, 0xff);
		pthread_mutex_unlock(&guest_lock);
		/* Unsynchronised reads meanwhile: any mode, never a crash. */
		(void)rd(w->dev, w->base, 8);
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct t *t = *state;
	struct worker w[2];
	pthread_t th[2];

	open_dev(t, t->path, false, BANK);
	for (unsigned int i = 0; i < 2; i++) {
		w[i] = (struct worker){ t->dev, SECTOR + i * 0x1000 };
		assert_int_equal(pthread_create(&th[i], NULL, worker, &w[i]),
				 0);
	}
	for (unsigned int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	for (unsigned int i = 0; i < 2; i++)
		for (unsigned int j = 0; j < 32; j++)
			assert_int_equal(file32(t->path,
						SECTOR + i * 0x1000 + 4 * j),
					 0);
	assert_true(mapping_equals_file(t));
}

static void test_cloexec(void **state)
{
	struct t *t = *state;
	int flags;

	assert_int_equal(cfi_flash_create(BASE1, BANK, t->path, false,
					  &t->dev), 0);
	/* The device's fd is the lowest free one after stdio... find it by
	 * its lock instead: a second exclusive lock must fail. */
	{
		int fd = open(t->path, O_RDWR);

		assert_true(fd >= 0);
		assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), -1);
		for (int i = 3; i < fd; i++) {
			flags = fcntl(i, F_GETFD);
			if (flags >= 0)
				assert_true(flags & FD_CLOEXEC);
		}
		close(fd);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_create_errors),
		T(test_locking),
		T(test_read_array),
		T(test_short_readonly_file),
		T(test_read_id),
		T(test_cfi_query),
		T(test_status_register),
		T(test_word_program),
		T(test_buffered_program),
		T(test_erase),
		T(test_lock_unlock),
		T(test_readonly),
		T(test_buffer_hostile),
		T(test_hostile_misc),
		T(test_host_errors),
		T(test_mode_callbacks),
		T(test_fdt),
		T(test_threads),
		T(test_cloexec),
#undef T
	};

	log_set_level(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
