// SPDX-License-Identifier: MIT
/* Tests for the fw_cfg device: signature, ID and directory through the
 * data register and through DMA; SELECT/READ/SKIP/WRITE; the hostile-guest
 * cases of docs/hardening.md class 10 (invalid selectors, descriptors and
 * targets outside RAM, overflowing lengths and addresses, huge lengths,
 * every access width at every offset); direct kernel boot items; the FDT
 * node; concurrent use. */
#include <errno.h>
#include <libfdt.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "acpi/aml.h"
#include "core/bus.h"
#include "core/fdt_util.h"
#include "core/gmem.h"
#include "core/log.h"
#include "fwcfg/fwcfg.h"
#include "tests/support/fwcfg_peek.h"
#include "tests/support/fdt.h"

#define BASE		0x10100000ULL
#define RAM_BASE	0x80000000ULL
#define RAM_SIZE	0x100000ULL	/* 1 MiB */
#define DESC		(RAM_BASE + 0x1000)	/* a DMA descriptor */
#define BUF		(RAM_BASE + 0x2000)	/* a DMA buffer */

struct fixture {
	struct gmem gm;
	struct rivet_dev *dev;
};

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	assert_int_equal(gmem_alloc(&f.gm, RAM_BASE, RAM_SIZE), 0);
	assert_int_equal(fwcfg_create(&f.gm, BASE, &f.dev), 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	f->dev->ops->destroy(f->dev);
	gmem_free(&f->gm);
	return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static void sel(struct rivet_dev *d, uint16_t key)
{
	uint8_t be[2] = { (uint8_t)(key >> 8), (uint8_t)key };

	d->ops->mmio_write(d, FWCFG_REG_SELECTOR, be, 2);
}

static void rd(struct rivet_dev *d, uint64_t off, uint8_t *buf,
	       unsigned int len)
{
	memset(buf, 0xa5, len);
	d->ops->mmio_read(d, off, buf, len);
}

/* @n bytes through the data register with @width-byte reads. */
static void data_read(struct rivet_dev *d, uint8_t *buf, size_t n,
		      unsigned int width)
{
	uint8_t tmp[8];

	for (size_t i = 0; i < n; i += width) {
		rd(d, FWCFG_REG_DATA, tmp, width);
		memcpy(buf + i, tmp, n - i < width ? n - i : width);
	}
}

static void wr_be(struct rivet_dev *d, uint64_t off, uint64_t v,
		  unsigned int len)
{
	uint8_t b[8];

	for (unsigned int i = 0; i < len; i++)
		b[i] = (uint8_t)(v >> (8 * (len - 1 - i)));
	d->ops->mmio_write(d, off, b, len);
}

static void put_desc(struct fixture *f, uint64_t at, uint32_t control,
		     uint32_t len, uint64_t addr)
{
	uint8_t d[16];

	for (int i = 0; i < 4; i++) {
		d[i] = (uint8_t)(control >> (24 - 8 * i));
		d[4 + i] = (uint8_t)(len >> (24 - 8 * i));
	}
	for (int i = 0; i < 8; i++)
		d[8 + i] = (uint8_t)(addr >> (56 - 8 * i));
	assert_int_equal(gmem_write(&f->gm, at, d, sizeof(d)), 0);
}

static uint32_t get_control(struct fixture *f, uint64_t at)
{
	uint8_t c[4];

	assert_int_equal(gmem_read(&f->gm, at, c, 4), 0);
	return (uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 |
	       (uint32_t)c[2] << 8 | c[3];
}

/* Trigger a transfer through the descriptor at @at: as two 32-bit halves
 * or as one 64-bit write. */
static void kick(struct fixture *f, uint64_t at, bool wide)
{
	if (wide) {
		wr_be(f->dev, FWCFG_REG_DMA, at, 8);
	} else {
		wr_be(f->dev, FWCFG_REG_DMA, at >> 32, 4);
		wr_be(f->dev, FWCFG_REG_DMA + 4, (uint32_t)at, 4);
	}
}

/* One DMA operation; returns the control word the device wrote back. */
static uint32_t dma(struct fixture *f, uint32_t control, uint32_t len,
		    uint64_t addr)
{
	put_desc(f, DESC, control, len, addr);
	kick(f, DESC, false);
	return get_control(f, DESC);
}

static uint32_t sel_ctl(uint16_t key, uint32_t op)
{
	return (uint32_t)key << 16 | FWCFG_DMA_SELECT | op;
}

static uint8_t *ram(struct fixture *f, uint64_t gpa)
{
	return gmem_ptr(&f->gm, gpa, 1);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* ---- identification ----------------------------------------------------- */

static void test_signature_every_width(void **state)
{
	struct fixture *f = *state;
	static const unsigned int widths[] = { 1, 2, 4, 8 };
	uint8_t buf[16];

	for (unsigned int w = 0; w < 4; w++) {
		sel(f->dev, FWCFG_SIGNATURE);
		memset(buf, 0xa5, sizeof(buf));
		data_read(f->dev, buf, 8, widths[w]);
		assert_memory_equal(buf, "QEMU\0\0\0\0", 8);
	}
	/* Selected at power-on: firmware may read before selecting. */
	f->dev->ops->destroy(f->dev);
	assert_int_equal(fwcfg_create(&f->gm, BASE, &f->dev), 0);
	data_read(f->dev, buf, 4, 4);
	assert_memory_equal(buf, "QEMU", 4);
}

static void test_id_has_dma(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[4];

	sel(f->dev, FWCFG_ID);
	data_read(f->dev, buf, 4, 4);
	assert_int_equal(le32(buf), FWCFG_VERSION | FWCFG_VERSION_DMA);
}

static void test_dma_register_signature(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[8];

	rd(f->dev, FWCFG_REG_DMA, buf, 8);
	assert_memory_equal(buf, "QEMU CFG", 8);
	rd(f->dev, FWCFG_REG_DMA + 4, buf, 4);
	assert_memory_equal(buf, " CFG", 4);
	rd(f->dev, FWCFG_REG_DMA, buf, 4);
	assert_memory_equal(buf, "QEMU", 4);
	rd(f->dev, FWCFG_REG_DMA + 3, buf, 1);
	assert_int_equal(buf[0], 'U');
	rd(f->dev, FWCFG_REG_DMA + 6, buf, 2);
	assert_memory_equal(buf, "FG", 2);
}

/* ---- the file directory ------------------------------------------------- */

static void add_three(struct fixture *f)
{
	assert_int_equal(fwcfg_add_file(f->dev, "etc/b", "bbbbbbbbbb", 10,
					false), 0);
	assert_int_equal(fwcfg_add_file(f->dev, "bootorder", "/pci@i0\n", 9,
					false), 0);
	assert_int_equal(fwcfg_add_file(f->dev, "etc/a", "A", 1, false), 0);
}

static void check_dir(const uint8_t *dir)
{
	static const struct {
		const char *name;
		uint32_t size;
		uint16_t key;
	} want[3] = {
		{ "bootorder", 9, 0x21 },
		{ "etc/a", 1, 0x22 },
		{ "etc/b", 10, 0x20 },
	};

	assert_int_equal(be32(dir), 3);
	for (int i = 0; i < 3; i++) {
		const uint8_t *e = dir + 4 + i * 64;
		char name[56];

		assert_int_equal(be32(e), want[i].size);
		assert_int_equal(e[4] << 8 | e[5], want[i].key);
		assert_int_equal(e[6] | e[7], 0);
		memset(name, 0, sizeof(name));
		strcpy(name, want[i].name);
		assert_memory_equal(e + 8, name, 56);	/* NUL-padded */
	}
}

static void test_directory_data_register(void **state)
{
	struct fixture *f = *state;
	uint8_t dir[4 + 3 * 64 + 8], buf[16];

	sel(f->dev, FWCFG_FILE_DIR);
	data_read(f->dev, dir, 4, 4);
	assert_int_equal(be32(dir), 0);	/* empty, but present */

	add_three(f);
	sel(f->dev, FWCFG_FILE_DIR);
	memset(dir, 0xa5, sizeof(dir));
	data_read(f->dev, dir, sizeof(dir), 8);
	check_dir(dir);
	/* Past the end: zeros. */
	for (size_t i = 4 + 3 * 64; i < sizeof(dir); i++)
		assert_int_equal(dir[i], 0);

	sel(f->dev, 0x21);
	data_read(f->dev, buf, 9, 2);
	assert_memory_equal(buf, "/pci@i0\n", 9);
}

static void test_directory_dma(void **state)
{
	struct fixture *f = *state;
	uint8_t *dst = ram(f, BUF);

	add_three(f);
	memset(dst, 0xa5, 256);
	assert_int_equal(dma(f, sel_ctl(FWCFG_FILE_DIR, FWCFG_DMA_READ),
			     4 + 3 * 64, BUF), 0);
	check_dir(dst);
	assert_int_equal(dst[4 + 3 * 64], 0xa5);	/* nothing more */

	/* The 64-bit trigger does the same. */
	memset(dst, 0xa5, 256);
	put_desc(f, DESC, sel_ctl(FWCFG_FILE_DIR, FWCFG_DMA_READ),
		 4 + 3 * 64, BUF);
	kick(f, DESC, true);
	assert_int_equal(get_control(f, DESC), 0);
	check_dir(dst);
}

static void test_find_and_read_file(void **state)
{
	struct fixture *f = *state;
	uint16_t key;
	uint32_t size;
	char buf[16];

	add_three(f);
	assert_int_equal(fwcfg_find_file(f->dev, "etc/b", &key, &size), 0);
	assert_int_equal(key, 0x20);
	assert_int_equal(size, 10);
	assert_int_equal(fwcfg_find_file(f->dev, "etc/c", &key, &size),
			 -ENOENT);
	assert_int_equal(fwcfg_read_file(f->dev, "etc/b", buf, 4), 4);
	assert_memory_equal(buf, "bbbb", 4);
	assert_int_equal(fwcfg_read_file(f->dev, "etc/a", buf, sizeof(buf)),
			 1);
	assert_int_equal(fwcfg_read_file(f->dev, "nope", buf, 1), -ENOENT);
}

/* ---- DMA operations ----------------------------------------------------- */

static void test_dma_select_skip_read(void **state)
{
	struct fixture *f = *state;
	uint8_t *dst = ram(f, BUF), buf[4];

	assert_int_equal(fwcfg_add_file(f->dev, "f", "0123456789", 10, false),
			 0);
	assert_int_equal(dma(f, sel_ctl(0x20, FWCFG_DMA_SKIP), 3, 0), 0);
	assert_int_equal(dma(f, FWCFG_DMA_READ, 4, BUF), 0);
	assert_memory_equal(dst, "3456", 4);
	/* DMA and the data register share the offset. */
	data_read(f->dev, buf, 2, 1);
	assert_memory_equal(buf, "78", 2);
	/* SELECT alone rewinds; the length is ignored. */
	assert_int_equal(dma(f, sel_ctl(0x20, 0), 0xffffffff, 0), 0);
	data_read(f->dev, buf, 2, 2);
	assert_memory_equal(buf, "01", 2);
	/* A zero-length read touches nothing, even at a bad address. */
	assert_int_equal(dma(f, FWCFG_DMA_READ, 0, 0), 0);
	/* The ERROR bit in a request is not an error. */
	assert_int_equal(dma(f, FWCFG_DMA_ERROR, 0, 0), 0);
	/* READ wins over WRITE and SKIP when several are set. */
	assert_int_equal(dma(f, sel_ctl(0x20, FWCFG_DMA_READ | FWCFG_DMA_WRITE
					| FWCFG_DMA_SKIP), 2, BUF), 0);
	assert_memory_equal(dst, "01", 2);
}

static void test_dma_read_past_end(void **state)
{
	struct fixture *f = *state;
	uint8_t *dst = ram(f, BUF);

	assert_int_equal(fwcfg_add_file(f->dev, "f", "0123456789", 10, false),
			 0);
	memset(dst, 0xa5, 64);
	assert_int_equal(dma(f, sel_ctl(0x20, FWCFG_DMA_READ), 32, BUF), 0);
	assert_memory_equal(dst, "0123456789", 10);
	for (int i = 10; i < 32; i++)
		assert_int_equal(dst[i], 0);
	assert_int_equal(dst[32], 0xa5);
	/* Now at the end: everything reads as zeros. */
	memset(dst, 0xa5, 64);
	assert_int_equal(dma(f, FWCFG_DMA_READ, 8, BUF), 0);
	for (int i = 0; i < 8; i++)
		assert_int_equal(dst[i], 0);
	/* Skipping past the end stops at the end. */
	assert_int_equal(dma(f, sel_ctl(0x20, FWCFG_DMA_SKIP), 0xffffffff, 0),
			 0);
	assert_int_equal(dma(f, FWCFG_DMA_SKIP, 0xffffffff, 0), 0);
	memset(dst, 0xa5, 64);
	assert_int_equal(dma(f, FWCFG_DMA_READ, 4, BUF), 0);
	assert_memory_equal(dst, "\0\0\0\0", 4);
}

static void test_dma_write_writable(void **state)
{
	struct fixture *f = *state;
	uint8_t *src = ram(f, BUF);
	char buf[8];

	assert_int_equal(fwcfg_add_file(f->dev, "etc/ptr", "\0\0\0\0\0\0\0\0",
					8, true), 0);
	memcpy(src, "ABCDEFGH", 8);
	assert_int_equal(dma(f, sel_ctl(0x20, FWCFG_DMA_WRITE), 8, BUF), 0);
	assert_int_equal(fwcfg_read_file(f->dev, "etc/ptr", buf, 8), 8);
	assert_memory_equal(buf, "ABCDEFGH", 8);

	/* SKIP then WRITE, as firmware does for WRITE_POINTER. */
	memcpy(src, "xy", 2);
	assert_int_equal(dma(f, sel_ctl(0x20, FWCFG_DMA_SKIP), 6, 0), 0);
	assert_int_equal(dma(f, FWCFG_DMA_WRITE, 2, BUF), 0);
	assert_int_equal(fwcfg_read_file(f->dev, "etc/ptr", buf, 8), 8);
	assert_memory_equal(buf, "ABCDEFxy", 8);

	/* No resizing: a write running past the end is dropped whole. */
	assert_int_equal(dma(f, sel_ctl(0x20, FWCFG_DMA_SKIP), 4, 0), 0);
	assert_int_equal(dma(f, FWCFG_DMA_WRITE, 8, BUF), FWCFG_DMA_ERROR);
	assert_int_equal(dma(f, sel_ctl(0x20, FWCFG_DMA_WRITE), 9, BUF),
			 FWCFG_DMA_ERROR);
	assert_int_equal(dma(f, sel_ctl(0x20, FWCFG_DMA_WRITE), 0xffffffff,
			     BUF), FWCFG_DMA_ERROR);
	/* At the very end, writing more fails too. */
	assert_int_equal(dma(f, sel_ctl(0x20, FWCFG_DMA_SKIP), 8, 0), 0);
	assert_int_equal(dma(f, FWCFG_DMA_WRITE, 1, BUF), FWCFG_DMA_ERROR);
	/* Source outside RAM. */
	assert_int_equal(dma(f, sel_ctl(0x20, FWCFG_DMA_WRITE), 8,
			     RAM_BASE + RAM_SIZE - 4), FWCFG_DMA_ERROR);
	assert_int_equal(fwcfg_read_file(f->dev, "etc/ptr", buf, 8), 8);
	assert_memory_equal(buf, "ABCDEFxy", 8);

	/* The guest sees what it wrote. */
	memset(src, 0, 8);
	assert_int_equal(dma(f, sel_ctl(0x20, FWCFG_DMA_READ), 8, BUF), 0);
	assert_memory_equal(src, "ABCDEFxy", 8);
}

static void test_dma_write_read_only(void **state)
{
	struct fixture *f = *state;
	uint8_t *src = ram(f, BUF);
	char buf[4];

	assert_int_equal(fwcfg_add_file(f->dev, "ro", "abcd", 4, false), 0);
	memcpy(src, "ZZZZ", 4);
	assert_int_equal(dma(f, sel_ctl(0x20, FWCFG_DMA_WRITE), 4, BUF),
			 FWCFG_DMA_ERROR);
	assert_int_equal(fwcfg_read_file(f->dev, "ro", buf, 4), 4);
	assert_memory_equal(buf, "abcd", 4);
	/* Fixed items and the directory are read-only too. */
	assert_int_equal(dma(f, sel_ctl(FWCFG_SIGNATURE, FWCFG_DMA_WRITE), 4,
			     BUF), FWCFG_DMA_ERROR);
	assert_int_equal(dma(f, sel_ctl(FWCFG_FILE_DIR, FWCFG_DMA_WRITE), 4,
			     BUF), FWCFG_DMA_ERROR);
	/* The write-channel bit grants nothing. */
	assert_int_equal(dma(f, sel_ctl(0x4020, FWCFG_DMA_WRITE), 4, BUF),
			 FWCFG_DMA_ERROR);
	/* Nothing selected. */
	assert_int_equal(dma(f, sel_ctl(0x3fff, FWCFG_DMA_WRITE), 4, BUF),
			 FWCFG_DMA_ERROR);
	sel(f->dev, FWCFG_SIGNATURE);
	data_read(f->dev, (uint8_t *)buf, 4, 4);
	assert_memory_equal(buf, "QEMU", 4);
	/* Data register writes are ignored. */
	sel(f->dev, 0x20);
	wr_be(f->dev, FWCFG_REG_DATA, 0x5a5a5a5a, 4);
	data_read(f->dev, (uint8_t *)buf, 4, 4);
	assert_memory_equal(buf, "abcd", 4);
}

/* ---- hostile guests ----------------------------------------------------- */

static void test_invalid_selectors(void **state)
{
	static const uint16_t keys[] = { 0x02, 0x18, 0x1f, 0x20, 0x21, 0x3fff,
					 0x7fff, 0x8000, 0x8020, 0xbfff,
					 0xc000, 0xffff };
	struct fixture *f = *state;
	uint8_t *dst = ram(f, BUF), buf[8];

	assert_int_equal(fwcfg_add_file(f->dev, "only", "x", 1, false), 0);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (keys[i] == 0x20)
			continue;
		sel(f->dev, keys[i]);
		data_read(f->dev, buf, 8, 8);
		assert_memory_equal(buf, "\0\0\0\0\0\0\0\0", 8);
		wr_be(f->dev, FWCFG_REG_DATA, ~0ULL, 8);
		/* DMA reads fill zeros and succeed, like QEMU. */
		memset(dst, 0xa5, 16);
		assert_int_equal(dma(f, sel_ctl(keys[i], FWCFG_DMA_READ), 16,
				     BUF), 0);
		for (int j = 0; j < 16; j++)
			assert_int_equal(dst[j], 0);
		assert_int_equal(dma(f, sel_ctl(keys[i], FWCFG_DMA_SKIP), 5,
				     0), 0);
		assert_int_equal(dma(f, sel_ctl(keys[i], FWCFG_DMA_WRITE), 1,
				     BUF), FWCFG_DMA_ERROR);
	}
	/* Bit 14 is ignored: 0x4000 is the signature, 0x4020 the file. */
	sel(f->dev, 0x4000);
	data_read(f->dev, buf, 4, 4);
	assert_memory_equal(buf, "QEMU", 4);
	sel(f->dev, 0x4020);
	data_read(f->dev, buf, 1, 1);
	assert_int_equal(buf[0], 'x');
}

static void test_descriptor_outside_ram(void **state)
{
	static const uint64_t descs[] = {
		0, RAM_BASE - 16, RAM_BASE - 8, RAM_BASE + RAM_SIZE - 8,
		RAM_BASE + RAM_SIZE, 0xfffffffffffffff8ULL, ~0ULL,
		0x7fffffffffffffffULL,
	};
	struct fixture *f = *state;
	uint8_t *all = ram(f, RAM_BASE);
	unsigned long logged = log_count();
	uint8_t buf[4];

	memset(all, 0x3c, RAM_SIZE);
	for (size_t i = 0; i < sizeof(descs) / sizeof(descs[0]); i++) {
		kick(f, descs[i], false);
		kick(f, descs[i], true);
	}
	/* Nothing was written anywhere in RAM. */
	for (uint64_t i = 0; i < RAM_SIZE; i++)
		if (all[i] != 0x3c)
			fail_msg("RAM byte %#llx changed",
				 (unsigned long long)i);
	assert_true(log_count() > logged);
	/* The device still works. */
	sel(f->dev, FWCFG_SIGNATURE);
	data_read(f->dev, buf, 4, 4);
	assert_memory_equal(buf, "QEMU", 4);
}

static void test_target_outside_ram(void **state)
{
	static const struct {
		uint64_t addr;
		uint32_t len;
	} bad[] = {
		{ 0, 4 },
		{ RAM_BASE - 1, 2 },		/* straddles the start */
		{ RAM_BASE + RAM_SIZE - 3, 4 },	/* straddles the end */
		{ RAM_BASE + RAM_SIZE, 1 },
		{ RAM_BASE, RAM_SIZE + 1 },	/* longer than RAM */
		{ RAM_BASE + 0x10, 0xffffffff },	/* huge */
		{ 0xffffffffffffff00ULL, 0x200 },	/* wraps */
		{ ~0ULL, 1 },
	};
	struct fixture *f = *state;
	uint8_t buf[4];

	assert_int_equal(fwcfg_add_file(f->dev, "f", "0123", 4, true), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(dma(f, sel_ctl(0x20, FWCFG_DMA_READ),
				     bad[i].len, bad[i].addr),
				 FWCFG_DMA_ERROR);
		/* Nothing moved: the offset is where it was. */
		data_read(f->dev, buf, 1, 1);
		assert_int_equal(buf[0], '0');
		assert_int_equal(dma(f, sel_ctl(0x20, FWCFG_DMA_WRITE),
				     bad[i].len, bad[i].addr),
				 FWCFG_DMA_ERROR);
	}
	assert_int_equal(fwcfg_read_file(f->dev, "f", buf, 4), 4);
	assert_memory_equal(buf, "0123", 4);
	/* The last byte of RAM is fine. */
	assert_int_equal(dma(f, sel_ctl(0x20, FWCFG_DMA_READ), 1,
			     RAM_BASE + RAM_SIZE - 1), 0);
	assert_int_equal(*ram(f, RAM_BASE + RAM_SIZE - 1), '0');
	/* So is all of RAM in one go (descriptor included). */
	assert_int_equal(dma(f, sel_ctl(0x20, FWCFG_DMA_READ),
			     (uint32_t)RAM_SIZE, RAM_BASE), 0);
	assert_memory_equal(ram(f, RAM_BASE), "0123\0\0", 6);
}

static void test_descriptor_overwritten_by_read(void **state)
{
	struct fixture *f = *state;

	/* The read lands on the descriptor; the status still goes there. */
	assert_int_equal(fwcfg_add_file(f->dev, "f", "\xff\xff\xff\xff", 4,
					false), 0);
	assert_int_equal(dma(f, sel_ctl(0x20, FWCFG_DMA_READ), 16, DESC), 0);
	/* A descriptor straddling the end of RAM is ignored. */
	kick(f, RAM_BASE + RAM_SIZE - 15, false);
}

static void test_dma_address_halves(void **state)
{
	struct fixture *f = *state;
	uint8_t *dst = ram(f, BUF);
	struct gmem high;
	struct rivet_dev *d;

	/* The high half alone starts nothing. */
	put_desc(f, DESC, sel_ctl(FWCFG_SIGNATURE, FWCFG_DMA_READ), 4, BUF);
	memset(dst, 0, 4);
	wr_be(f->dev, FWCFG_REG_DMA, 0, 4);
	assert_int_equal(get_control(f, DESC),
			 sel_ctl(FWCFG_SIGNATURE, FWCFG_DMA_READ));
	/* The low half does. */
	wr_be(f->dev, FWCFG_REG_DMA + 4, DESC, 4);
	assert_int_equal(get_control(f, DESC), 0);
	assert_memory_equal(dst, "QEMU", 4);

	/* A stale high half is cleared by a transfer. */
	wr_be(f->dev, FWCFG_REG_DMA, 0x1, 4);
	wr_be(f->dev, FWCFG_REG_DMA + 4, DESC, 4);	/* 0x1_8000_1000 */
	put_desc(f, DESC, sel_ctl(FWCFG_SIGNATURE, FWCFG_DMA_READ), 4, BUF);
	wr_be(f->dev, FWCFG_REG_DMA + 4, DESC, 4);
	assert_int_equal(get_control(f, DESC), 0);

	/* Descriptors and buffers above 4 GiB. */
	assert_int_equal(gmem_alloc(&high, 0x100000000ULL, 0x10000), 0);
	assert_int_equal(fwcfg_create(&high, BASE, &d), 0);
	{
		struct fixture h = { .gm = high, .dev = d };

		put_desc(&h, 0x100000100ULL,
			 sel_ctl(FWCFG_SIGNATURE, FWCFG_DMA_READ), 4,
			 0x100000200ULL);
		kick(&h, 0x100000100ULL, false);
		assert_int_equal(get_control(&h, 0x100000100ULL), 0);
		assert_memory_equal(gmem_ptr(&high, 0x100000200ULL, 4), "QEMU",
				    4);
		put_desc(&h, 0x100000100ULL,
			 sel_ctl(FWCFG_ID, FWCFG_DMA_READ), 4, 0x100000200ULL);
		kick(&h, 0x100000100ULL, true);
		assert_int_equal(get_control(&h, 0x100000100ULL), 0);
		assert_int_equal(le32(gmem_ptr(&high, 0x100000200ULL, 4)), 3);
	}
	d->ops->destroy(d);
	gmem_free(&high);
}

/* Every width at every offset: reads fill their width with what the
 * register map says, and nothing but the documented writes has an
 * effect. */
static void test_every_width_every_offset(void **state)
{
	struct fixture *f = *state;
	static const unsigned int widths[] = { 1, 2, 4, 8 };
	uint8_t buf[8], first[2];

	assert_int_equal(fwcfg_add_file(f->dev, "f", "0123456789abcdef", 16,
					false), 0);
	for (uint64_t off = 0; off < FWCFG_MMIO_SIZE; off++) {
		for (unsigned int w = 0; w < 4; w++) {
			unsigned int len = widths[w];

			if (off + len > FWCFG_MMIO_SIZE)
				continue;
			sel(f->dev, 0x20);
			rd(f->dev, off, buf, len);
			if (off == FWCFG_REG_DATA) {
				assert_memory_equal(buf, "01234567", len);
			} else if (off >= FWCFG_REG_DMA) {
				assert_memory_equal(buf,
					&"QEMU CFG"[off - FWCFG_REG_DMA],
					len);
			} else {
				for (unsigned int i = 0; i < len; i++)
					assert_int_equal(buf[i], 0);
				/* and did not consume data */
				data_read(f->dev, first, 2, 2);
				assert_memory_equal(first, "01", 2);
			}

			/* Writes of all-ones: only the selector (to 0xffff,
			 * nothing) and the DMA triggers (to an address
			 * outside RAM) do anything. */
			sel(f->dev, 0x20);
			memset(buf, 0xff, sizeof(buf));
			f->dev->ops->mmio_write(f->dev, off, buf, len);
			data_read(f->dev, first, 2, 2);
			if (off == FWCFG_REG_SELECTOR && len == 2)
				assert_memory_equal(first, "\0\0", 2);
			else
				assert_memory_equal(first, "01", 2);
		}
	}
	/* Odd widths never reach a device through the bus; directly they
	 * are refused and reads still fill what was asked. */
	sel(f->dev, 0x20);
	memset(buf, 0xa5, sizeof(buf));
	f->dev->ops->mmio_read(f->dev, 0, buf, 3);
	assert_memory_equal(buf, "\0\0\0\xa5", 4);
	f->dev->ops->mmio_write(f->dev, FWCFG_REG_SELECTOR, buf, 3);
	data_read(f->dev, first, 2, 2);
	assert_memory_equal(first, "01", 2);
}

static void test_through_the_bus(void **state)
{
	struct fixture *f = *state;
	struct bus bus = { 0 };
	uint8_t buf[8];

	assert_int_equal(bus_add(&bus, f->dev), 0);
	bus_seal(&bus);
	buf[0] = 0;
	buf[1] = FWCFG_ID;
	assert_int_equal(bus_access(&bus, BASE + 8, buf, 2, true), 0);
	assert_int_equal(bus_access(&bus, BASE, buf, 4, false), 0);
	assert_int_equal(le32(buf), 3);
	/* 0x18 bytes wide: the next byte belongs to nobody. */
	assert_int_not_equal(bus_access(&bus, BASE + 0x18, buf, 1, false), 0);
	assert_int_not_equal(bus_access(&bus, BASE + 0x14, buf, 8, false), 0);
}

/* ---- direct kernel boot and set-up errors ------------------------------- */

static void test_kernel_initrd_cmdline(void **state)
{
	struct fixture *f = *state;
	uint8_t kernel[100], buf[128];
	const char *cmdline = "console=ttyS0 root=/dev/vda";

	for (int i = 0; i < 100; i++)
		kernel[i] = (uint8_t)(i * 7);
	assert_int_equal(fwcfg_set_kernel(f->dev, kernel, sizeof(kernel)), 0);
	assert_int_equal(fwcfg_set_initrd(f->dev, "INITRD", 6), 0);
	assert_int_equal(fwcfg_set_cmdline(f->dev, cmdline), 0);
	assert_int_equal(fwcfg_set_nb_cpus(f->dev, 4), 0);

	/* QEMU's keys: 0x08/0x11, 0x0b/0x12, 0x14/0x15, 0x05. */
	sel(f->dev, 0x08);
	data_read(f->dev, buf, 4, 4);
	assert_int_equal(le32(buf), 100);
	assert_int_equal(dma(f, sel_ctl(0x11, FWCFG_DMA_READ), 100, BUF), 0);
	assert_memory_equal(ram(f, BUF), kernel, 100);
	sel(f->dev, 0x0b);
	data_read(f->dev, buf, 4, 4);
	assert_int_equal(le32(buf), 6);
	sel(f->dev, 0x12);
	data_read(f->dev, buf, 8, 8);
	assert_memory_equal(buf, "INITRD\0\0", 8);
	sel(f->dev, 0x14);
	data_read(f->dev, buf, 4, 4);
	assert_int_equal(le32(buf), strlen(cmdline) + 1);
	sel(f->dev, 0x15);
	data_read(f->dev, buf, strlen(cmdline) + 1, 1);
	assert_string_equal((char *)buf, cmdline);
	sel(f->dev, 0x05);
	data_read(f->dev, buf, 4, 2);
	assert_memory_equal(buf, "\x04\0\0\0", 4);

	/* Once each. */
	assert_int_equal(fwcfg_set_kernel(f->dev, kernel, 1), -EEXIST);
	assert_int_equal(fwcfg_set_cmdline(f->dev, "x"), -EEXIST);
	assert_int_equal(fwcfg_set_cmdline(f->dev, NULL), -EINVAL);
	/* An empty command line is one NUL. */
	f->dev->ops->destroy(f->dev);
	assert_int_equal(fwcfg_create(&f->gm, BASE, &f->dev), 0);
	assert_int_equal(fwcfg_set_cmdline(f->dev, ""), 0);
	sel(f->dev, 0x14);
	data_read(f->dev, buf, 4, 4);
	assert_int_equal(le32(buf), 1);
	/* An empty kernel is allowed (size 0, data item empty). */
	assert_int_equal(fwcfg_set_kernel(f->dev, NULL, 0), 0);
	sel(f->dev, 0x11);
	data_read(f->dev, buf, 1, 1);
	assert_int_equal(buf[0], 0);
}

static void test_add_errors(void **state)
{
	struct fixture *f = *state;
	char name[64];
	uint8_t buf[2];

	assert_int_equal(fwcfg_add_file(f->dev, "", "x", 1, false), -EINVAL);
	assert_int_equal(fwcfg_add_file(f->dev, NULL, "x", 1, false), -EINVAL);
	assert_int_equal(fwcfg_add_file(f->dev, "a", NULL, 1, false), -EINVAL);
	assert_int_equal(fwcfg_add_file(NULL, "a", "x", 1, false), -EINVAL);
	memset(name, 'n', sizeof(name));
	name[56] = 0;	/* 56 characters: one too many */
	assert_int_equal(fwcfg_add_file(f->dev, name, "x", 1, false), -EINVAL);
	name[55] = 0;
	assert_int_equal(fwcfg_add_file(f->dev, name, "x", 1, false), 0);
	assert_int_equal(fwcfg_add_file(f->dev, name, "y", 1, false), -EEXIST);
	assert_int_equal(fwcfg_add_file(f->dev, "empty", NULL, 0, true), 0);
	for (int i = 2; i < FWCFG_MAX_FILES; i++) {
		snprintf(name, sizeof(name), "opt/f%d", i);
		assert_int_equal(fwcfg_add_file(f->dev, name, "z", 1, false),
				 0);
	}
	assert_int_equal(fwcfg_add_file(f->dev, "one-more", "z", 1, false),
			 -ENOSPC);
	/* The last file is reachable at the last key. */
	sel(f->dev, FWCFG_FILE_FIRST + FWCFG_MAX_FILES - 1);
	data_read(f->dev, buf, 2, 2);
	assert_memory_equal(buf, "z\0", 2);

	/* Items: the device's own keys, file keys, the write channel. */
	assert_int_equal(fwcfg_add_item(f->dev, FWCFG_SIGNATURE, "x", 1),
			 -EINVAL);
	assert_int_equal(fwcfg_add_item(f->dev, FWCFG_ID, "x", 1), -EINVAL);
	assert_int_equal(fwcfg_add_item(f->dev, FWCFG_FILE_DIR, "x", 1),
			 -EINVAL);
	assert_int_equal(fwcfg_add_item(f->dev, 0x20, "x", 1), -EINVAL);
	assert_int_equal(fwcfg_add_item(f->dev, 0x4003, "x", 1), -EINVAL);
	assert_int_equal(fwcfg_add_item(f->dev, 0xc003, "x", 1), -EINVAL);
	assert_int_equal(fwcfg_add_item(f->dev, 0x03, NULL, 1), -EINVAL);
	assert_int_equal(fwcfg_add_item(f->dev, 0x03, "ram", 3), 0);
	assert_int_equal(fwcfg_add_item(f->dev, 0x03, "ram", 3), -EEXIST);
	assert_int_equal(fwcfg_add_item(f->dev, 0x8020, "ar", 2), 0);
	sel(f->dev, 0x8020);
	data_read(f->dev, buf, 2, 2);
	assert_memory_equal(buf, "ar", 2);
	/* Fill the fixed items: 3 are the device's, 2 added above. */
	for (int i = 0; i < FWCFG_MAX_ITEMS - 5; i++)
		assert_int_equal(fwcfg_add_item(f->dev, (uint16_t)(0x8100 + i),
						"i", 1), 0);
	assert_int_equal(fwcfg_add_item(f->dev, 0x04, "x", 1), -ENOSPC);
	/* A pair that does not fit leaves nothing behind. */
	assert_int_equal(fwcfg_set_kernel(f->dev, "k", 1), -ENOSPC);
	sel(f->dev, FWCFG_KERNEL_SIZE);
	data_read(f->dev, buf, 2, 2);
	assert_memory_equal(buf, "\0\0", 2);
	assert_int_equal(fwcfg_create(NULL, BASE, NULL), -EINVAL);
}

/* ---- FDT ---------------------------------------------------------------- */

static void test_fdt_node(void **state)
{
	struct fixture *f = *state;
	static uint8_t buf[4096];
	struct fdt_ctx ctx = { .fdt = buf, .size = sizeof(buf) };
	const fdt32_t *p;
	int off, len;

	ts_fdt_soc(buf, sizeof(buf));
	assert_int_equal(f->dev->ops->fdt_node(f->dev, &ctx), 0);
	off = fdt_path_offset(buf, "/soc/fw-cfg@10100000");
	assert_true(off >= 0);
	assert_int_equal(fdt_node_check_compatible(buf, off,
						   "qemu,fw-cfg-mmio"), 0);
	p = fdt_getprop(buf, off, "reg", &len);
	assert_non_null(p);
	assert_int_equal(len, 16);
	assert_int_equal(fdt32_to_cpu(p[1]), BASE);
	assert_int_equal(fdt32_to_cpu(p[3]), FWCFG_MMIO_SIZE);
	assert_non_null(fdt_getprop(buf, off, "dma-coherent", &len));
	assert_int_equal(len, 0);
	assert_null(fdt_getprop(buf, off, "interrupts", &len));

	/* No room: -ENOSPC, not a crash. */
	{
		static uint8_t small[128];
		struct fdt_ctx c2 = { .fdt = small, .size = sizeof(small) };

		assert_int_equal(fdt_create_empty_tree(small, sizeof(small)),
				 0);
		assert_true(fdt_add_subnode(small, 0, "soc") >= 0);
		assert_int_equal(f->dev->ops->fdt_node(f->dev, &c2), -ENOSPC);
	}
}

/* ---- ACPI --------------------------------------------------------------- */

static void test_acpi_dsdt(void **state)
{
	/* Device (FWCF) { Name (_HID, "QEMU0002") Name (_STA, 0x0B)
	 * Name (_CCA, One) Name (_CRS, ResourceTemplate () {
	 * Memory32Fixed (ReadWrite, 0x10100000, 0x18) }) }, hand-encoded
	 * from ACPI 6.6 sections 20.2 and 6.4. */
	static const uint8_t want[] = {
		0x5b, 0x82, 0x38, 'F', 'W', 'C', 'F',
		0x08, '_', 'H', 'I', 'D', 0x0d,
		'Q', 'E', 'M', 'U', '0', '0', '0', '2', 0x00,
		0x08, '_', 'S', 'T', 'A', 0x0a, 0x0b,
		0x08, '_', 'C', 'C', 'A', 0x01,
		0x08, '_', 'C', 'R', 'S', 0x11, 0x11, 0x0a, 0x0e,
		0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x10, 0x10,
		0x18, 0x00, 0x00, 0x00,
		0x79, 0xbf,	/* end tag; the template sums to zero */
	};
	struct fixture *f = *state;
	struct aml_buf b;

	assert_non_null(f->dev->ops->acpi_dsdt);
	aml_init(&b, 0);
	assert_int_equal(f->dev->ops->acpi_dsdt(f->dev, &b), 0);
	assert_int_equal(aml_finish(&b), 0);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	aml_free(&b);

	/* A base above 4 GiB cannot be described: an error, not garbage. */
	{
		struct rivet_dev *hi;

		assert_int_equal(fwcfg_create(&f->gm, 0x100000000ULL, &hi), 0);
		aml_init(&b, 0);
		assert_int_not_equal(hi->ops->acpi_dsdt(hi, &b), 0);
		aml_free(&b);
		hi->ops->destroy(hi);
	}
}

/* ---- threads ------------------------------------------------------------ */

static atomic_bool stop;

static void *guest_thread(void *arg)
{
	struct fixture *f = arg;
	uint8_t buf[8];

	while (!stop) {
		sel(f->dev, FWCFG_FILE_DIR);
		rd(f->dev, FWCFG_REG_DATA, buf, 8);
		sel(f->dev, FWCFG_SIGNATURE);
		rd(f->dev, FWCFG_REG_DATA, buf, 4);
	}
	return NULL;
}

static void *dma_thread(void *arg)
{
	struct fixture *f = arg;
	uint64_t desc = RAM_BASE + 0x8000, dst = RAM_BASE + 0x9000;

	while (!stop) {
		put_desc(f, desc, sel_ctl(FWCFG_FILE_DIR, FWCFG_DMA_READ),
			 4096, dst);
		kick(f, desc, true);
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	struct fixture *f = *state;
	pthread_t t[3];
	char name[32];

	stop = false;
	assert_int_equal(pthread_create(&t[0], NULL, guest_thread, f), 0);
	assert_int_equal(pthread_create(&t[1], NULL, guest_thread, f), 0);
	assert_int_equal(pthread_create(&t[2], NULL, dma_thread, f), 0);
	/* The host adds files (the directory grows) meanwhile. */
	for (int i = 0; i < FWCFG_MAX_FILES; i++) {
		snprintf(name, sizeof(name), "opt/t%02d", i);
		assert_int_equal(fwcfg_add_file(f->dev, name, name, 8, i & 1),
				 0);
	}
	stop = true;
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(dma(f, sel_ctl(FWCFG_FILE_DIR, FWCFG_DMA_READ), 4,
			     BUF), 0);
	assert_int_equal(be32(ram(f, BUF)), FWCFG_MAX_FILES);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_signature_every_width),
		T(test_id_has_dma),
		T(test_dma_register_signature),
		T(test_directory_data_register),
		T(test_directory_dma),
		T(test_find_and_read_file),
		T(test_dma_select_skip_read),
		T(test_dma_read_past_end),
		T(test_dma_write_writable),
		T(test_dma_write_read_only),
		T(test_invalid_selectors),
		T(test_descriptor_outside_ram),
		T(test_target_outside_ram),
		T(test_descriptor_overwritten_by_read),
		T(test_dma_address_halves),
		T(test_every_width_every_offset),
		T(test_through_the_bus),
		T(test_kernel_initrd_cmdline),
		T(test_add_errors),
		T(test_fdt_node),
		T(test_acpi_dsdt),
		T(test_concurrent),
	};

	log_set_level(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
