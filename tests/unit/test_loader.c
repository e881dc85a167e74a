// SPDX-License-Identifier: MIT
/* Tests for the RISC-V Image loader: header validation, RAM layout and
 * reading files into guest RAM. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "boot/loader.h"
#include "core/gmem.h"
#include "core/log.h"

#define MiB (1024ULL * 1024)
#define KiB 1024ULL
#define RAM_BASE 0x80000000ULL
#define FDT_MAX (64 * KiB)

static char tmpdir[256];

/* ---- helpers ------------------------------------------------------------ */

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

enum magic { MAGIC_BOTH, MAGIC_NEW, MAGIC_OLD, MAGIC_NONE };

static void make_hdr(uint8_t *h, uint64_t text_offset, uint64_t image_size,
		     enum magic m)
{
	memset(h, 0, LOADER_HDR_SIZE);
	h[0] = 0x6f;	/* "j" instruction, as in real kernels */
	put_le64(h + 8, text_offset);
	put_le64(h + 16, image_size);
	h[32] = 2;	/* version 0.2 */
	if (m == MAGIC_BOTH || m == MAGIC_OLD)
		memcpy(h + 48, "RISCV", 5);
	if (m == MAGIC_BOTH || m == MAGIC_NEW)
		memcpy(h + 56, "RSC\x05", 4);
}

static void tpath(char *buf, const char *name)
{
	snprintf(buf, PATH_MAX, "%s/%s", tmpdir, name);
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* A kernel: header + payload bytes i * 7 + 1, image_size = file + bss. */
static void make_kernel(const char *path, size_t file_size, uint64_t bss)
{
	uint8_t *buf = malloc(file_size);

	assert_non_null(buf);
	for (size_t i = 0; i < file_size; i++)
		buf[i] = (uint8_t)(i * 7 + 1);
	make_hdr(buf, 2 * MiB, file_size + bss, MAGIC_BOTH);
	write_file(path, buf, file_size);
	free(buf);
}

static void make_pattern(const char *path, size_t len, uint8_t seed)
{
	uint8_t *buf = malloc(len);

	assert_non_null(buf);
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 13 + seed);
	write_file(path, buf, len);
	free(buf);
}

static void assert_no_overlap(uint64_t a, uint64_t alen, uint64_t b,
			      uint64_t blen)
{
	assert_true(a + alen <= b || b + blen <= a);
}

/* Everything a successful plan promises. */
static void assert_layout_ok(uint64_t base, uint64_t size,
			     const struct boot_image *img, uint64_t isize,
			     uint64_t fdt_max, const struct boot_layout *l)
{
	uint64_t end = base + size;

	assert_int_equal(l->kernel_addr % LOADER_PAGE_SIZE, 0);
	assert_int_equal((l->kernel_addr - img->text_offset) %
			 LOADER_KERNEL_ALIGN, 0);
	assert_true(l->kernel_addr >= base);
	assert_int_equal(l->kernel_size, img->image_size);
	assert_true(l->kernel_size <= end - l->kernel_addr);
	assert_int_equal(l->fdt_addr % 8, 0);
	assert_int_equal(l->fdt_max, fdt_max);
	assert_true(l->fdt_addr >= base && fdt_max <= end - l->fdt_addr);
	assert_no_overlap(l->kernel_addr, l->kernel_size, l->fdt_addr,
			  fdt_max);
	assert_int_equal(l->initrd_size, isize);
	if (!isize)
		return;
	assert_int_equal(l->initrd_addr % LOADER_PAGE_SIZE, 0);
	assert_true(l->initrd_addr >= base);
	assert_true(l->initrd_addr + isize <= l->fdt_addr);
	assert_no_overlap(l->kernel_addr, l->kernel_size, l->initrd_addr,
			  isize);
}

/* Silence stderr around loops that fail on purpose thousands of times. */
static int quiet_begin(void)
{
	int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY);

	assert_true(saved >= 0 && null >= 0);
	fflush(stderr);
	dup2(null, STDERR_FILENO);
	close(null);
	return saved;
}

static void quiet_end(int saved)
{
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
}

static int group_setup(void **state)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/rivet-loader-XXXXXX",
		 t && *t ? t : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[sizeof(tmpdir) + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- header ------------------------------------------------------------- */

static void test_hdr_good(void **state)
{
	static const enum magic ms[] = { MAGIC_BOTH, MAGIC_NEW, MAGIC_OLD };
	uint8_t h[LOADER_HDR_SIZE];
	struct boot_image img;

	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		make_hdr(h, 2 * MiB, 20 * MiB, ms[i]);
		memset(&img, 0xaa, sizeof(img));
		assert_int_equal(loader_parse_image_header(h, sizeof(h),
							   10 * MiB, &img), 0);
		assert_int_equal(img.text_offset, 2 * MiB);
		assert_int_equal(img.image_size, 20 * MiB);
		assert_int_equal(img.file_size, 10 * MiB);
	}
	/* text_offset 0 and image_size == file size are fine. */
	make_hdr(h, 0, 4096, MAGIC_NEW);
	assert_int_equal(loader_parse_image_header(h, sizeof(h), 4096, &img),
			 0);
}

static void test_hdr_short(void **state)
{
	uint8_t h[LOADER_HDR_SIZE];
	struct boot_image img;
	unsigned long n = log_count();

	make_hdr(h, 2 * MiB, 20 * MiB, MAGIC_BOTH);
	assert_int_equal(loader_parse_image_header(h, 63, 63, &img), -ENOEXEC);
	assert_int_equal(loader_parse_image_header(h, 64, 10, &img), -ENOEXEC);
	assert_int_equal(loader_parse_image_header(h, 0, 0, &img), -ENOEXEC);
	assert_int_equal(loader_parse_image_header(NULL, 64, 64, &img),
			 -EINVAL);
	assert_int_equal(loader_parse_image_header(h, 64, 64, NULL), -EINVAL);
	assert_true(log_count() >= n + 3);
}

static void test_hdr_no_magic(void **state)
{
	uint8_t h[LOADER_HDR_SIZE];
	struct boot_image img;

	make_hdr(h, 2 * MiB, 20 * MiB, MAGIC_NONE);
	assert_int_equal(loader_parse_image_header(h, 64, MiB, &img),
			 -ENOEXEC);
	/* Near misses: wrong version byte, lower case, shifted by one. */
	make_hdr(h, 2 * MiB, 20 * MiB, MAGIC_NONE);
	memcpy(h + 56, "RSC\x04", 4);
	assert_int_equal(loader_parse_image_header(h, 64, MiB, &img),
			 -ENOEXEC);
	make_hdr(h, 2 * MiB, 20 * MiB, MAGIC_NONE);
	memcpy(h + 48, "riscv", 5);
	assert_int_equal(loader_parse_image_header(h, 64, MiB, &img),
			 -ENOEXEC);
	make_hdr(h, 2 * MiB, 20 * MiB, MAGIC_NONE);
	memcpy(h + 57, "RSC\x05", 4);
	assert_int_equal(loader_parse_image_header(h, 64, MiB, &img),
			 -ENOEXEC);
	/* An ELF file and all-ones garbage. */
	memset(h, 0, sizeof(h));
	memcpy(h, "\x7f" "ELF\x02\x01\x01", 7);
	assert_int_equal(loader_parse_image_header(h, 64, MiB, &img),
			 -ENOEXEC);
	memset(h, 0xff, sizeof(h));
	assert_int_equal(loader_parse_image_header(h, 64, MiB, &img),
			 -ENOEXEC);
}

static void test_hdr_bad_sizes(void **state)
{
	uint8_t h[LOADER_HDR_SIZE];
	struct boot_image img;

	make_hdr(h, 2 * MiB, 0, MAGIC_BOTH);
	assert_int_equal(loader_parse_image_header(h, 64, MiB, &img),
			 -ENOEXEC);
	make_hdr(h, 2 * MiB, MiB - 1, MAGIC_BOTH);
	assert_int_equal(loader_parse_image_header(h, 64, MiB, &img),
			 -ENOEXEC);
}

static void test_hdr_bad_text_offset(void **state)
{
	static const uint64_t bad[] = {
		1, 0x800, 0x200001, LOADER_MAX_TEXT_OFFSET + 0x1000,
		1ULL << 63, UINT64_MAX, UINT64_MAX - 0xfff,
	};
	uint8_t h[LOADER_HDR_SIZE];
	struct boot_image img;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		make_hdr(h, bad[i], 20 * MiB, MAGIC_BOTH);
		assert_int_equal(loader_parse_image_header(h, 64, MiB, &img),
				 -ENOEXEC);
	}
	make_hdr(h, LOADER_MAX_TEXT_OFFSET, 20 * MiB, MAGIC_BOTH);
	assert_int_equal(loader_parse_image_header(h, 64, MiB, &img), 0);
}

/* ---- layout ------------------------------------------------------------- */

static void test_plan_basic(void **state)
{
	struct boot_image img = { 2 * MiB, 20 * MiB, 15 * MiB };
	struct boot_layout l;

	assert_int_equal(loader_plan(RAM_BASE, 128 * MiB, &img, 10 * MiB,
				     FDT_MAX, &l), 0);
	assert_int_equal(l.kernel_addr, RAM_BASE + 2 * MiB);
	assert_int_equal(l.kernel_size, 20 * MiB);
	/* QEMU's choice: 2 MiB-aligned, as high as it fits. */
	assert_int_equal(l.fdt_addr, RAM_BASE + 126 * MiB);
	assert_int_equal(l.initrd_addr, RAM_BASE + 116 * MiB);
	assert_int_equal(l.initrd_size, 10 * MiB);
	assert_layout_ok(RAM_BASE, 128 * MiB, &img, 10 * MiB, FDT_MAX, &l);
}

static void test_plan_no_initrd(void **state)
{
	struct boot_image img = { 0, 8 * MiB, 8 * MiB };
	struct boot_layout l;

	assert_int_equal(loader_plan(RAM_BASE, 64 * MiB, &img, 0, FDT_MAX,
				     &l), 0);
	assert_int_equal(l.kernel_addr, RAM_BASE);
	assert_int_equal(l.initrd_addr, 0);
	assert_int_equal(l.initrd_size, 0);
	assert_layout_ok(RAM_BASE, 64 * MiB, &img, 0, FDT_MAX, &l);
}

static void test_plan_unaligned_ram(void **state)
{
	struct boot_image img = { 2 * MiB, 4 * MiB, 4 * MiB };
	uint64_t base = RAM_BASE + 0x1000;
	struct boot_layout l;

	assert_int_equal(loader_plan(base, 64 * MiB, &img, MiB + 1, FDT_MAX,
				     &l), 0);
	assert_int_equal(l.kernel_addr, RAM_BASE + 4 * MiB);
	assert_layout_ok(base, 64 * MiB, &img, MiB + 1, FDT_MAX, &l);
	/* RAM ends 4 KiB past a 2 MiB line: the FDT still lands in RAM. */
	assert_true(l.fdt_addr + FDT_MAX <= base + 64 * MiB);
}

/* When the 2 MiB-aligned slot would overlap, the FDT is page aligned. */
static void test_plan_tight_fallback(void **state)
{
	struct boot_image img = { 0, 14 * MiB + 512 * KiB, MiB };
	struct boot_layout l;

	assert_int_equal(loader_plan(RAM_BASE, 16 * MiB, &img, 512 * KiB,
				     FDT_MAX, &l), 0);
	assert_int_equal(l.fdt_addr, RAM_BASE + 16 * MiB - FDT_MAX);
	assert_layout_ok(RAM_BASE, 16 * MiB, &img, 512 * KiB, FDT_MAX, &l);
}

static void test_plan_ram_too_small(void **state)
{
	struct boot_image img = { 2 * MiB, 30 * MiB, 20 * MiB };
	struct boot_layout l;
	unsigned long n = log_count();

	assert_int_equal(loader_plan(RAM_BASE, 32 * MiB, &img, 0, FDT_MAX,
				     &l), -ENOSPC);
	/* Kernel fits exactly, but nothing is left for the FDT. */
	img.image_size = 30 * MiB;
	assert_int_equal(loader_plan(RAM_BASE, 32 * MiB, &img, 0, FDT_MAX,
				     &l), -ENOSPC);
	/* RAM smaller than the 2 MiB alignment gap. */
	img = (struct boot_image){ 0, 4096, 4096 };
	assert_int_equal(loader_plan(RAM_BASE + 4096, MiB, &img, 0, FDT_MAX,
				     &l), -ENOSPC);
	assert_true(log_count() >= n + 3);
}

static void test_plan_initrd_too_large(void **state)
{
	struct boot_image img = { 2 * MiB, 20 * MiB, 15 * MiB };
	uint64_t room = 64 * MiB - 22 * MiB - FDT_MAX;
	struct boot_layout l;

	assert_int_equal(loader_plan(RAM_BASE, 64 * MiB, &img, room + 1,
				     FDT_MAX, &l), -ENOSPC);
	assert_int_equal(loader_plan(RAM_BASE, 64 * MiB, &img, 1ULL << 62,
				     FDT_MAX, &l), -ENOSPC);
	assert_int_equal(loader_plan(RAM_BASE, 64 * MiB, &img, UINT64_MAX,
				     FDT_MAX, &l), -ENOSPC);
	/* Exactly the room left: initrd ends where the FDT starts. */
	assert_int_equal(loader_plan(RAM_BASE, 64 * MiB, &img, room, FDT_MAX,
				     &l), 0);
	assert_int_equal(l.initrd_addr, RAM_BASE + 22 * MiB);
	assert_layout_ok(RAM_BASE, 64 * MiB, &img, room, FDT_MAX, &l);
}

static void test_plan_overflow(void **state)
{
	struct boot_image img = { LOADER_MAX_TEXT_OFFSET, UINT64_MAX, 64 };
	struct boot_layout l;

	assert_int_equal(loader_plan(RAM_BASE, 64 * MiB, &img, 0, FDT_MAX,
				     &l), -ENOSPC);
	img.image_size = UINT64_MAX - LOADER_MAX_TEXT_OFFSET - RAM_BASE + 1;
	assert_int_equal(loader_plan(RAM_BASE, 64 * MiB, &img, 0, FDT_MAX,
				     &l), -ENOSPC);
	/* RAM at the very top of the address space. */
	img = (struct boot_image){ 0, MiB, MiB };
	assert_int_equal(loader_plan(UINT64_MAX - 64 * MiB + 1, 64 * MiB, &img,
				     0, FDT_MAX, &l), -EINVAL);
	assert_int_equal(loader_plan(UINT64_MAX - 0x1000, 0x1000, &img, 0,
				     FDT_MAX, &l), -EINVAL);
	assert_int_equal(loader_plan(UINT64_MAX - 2 * MiB, MiB, &img, 0,
				     FDT_MAX, &l), -ENOSPC);
	assert_int_equal(loader_plan(0xffffffff00000000ULL, 64 * MiB, &img,
				     UINT64_MAX - 0xfff, FDT_MAX, &l),
			 -ENOSPC);
	assert_int_equal(loader_plan(0xffffffff00000000ULL, 64 * MiB, &img,
				     MiB, FDT_MAX, &l), 0);
	assert_layout_ok(0xffffffff00000000ULL, 64 * MiB, &img, MiB, FDT_MAX,
			 &l);
}

static void test_plan_bad_args(void **state)
{
	struct boot_image img = { 0, MiB, MiB };
	struct boot_layout l;

	assert_int_equal(loader_plan(RAM_BASE, 0, &img, 0, FDT_MAX, &l),
			 -EINVAL);
	assert_int_equal(loader_plan(RAM_BASE, UINT64_MAX, &img, 0, FDT_MAX,
				     &l), -EINVAL);
	assert_int_equal(loader_plan(RAM_BASE, 64 * MiB, &img, 0, 0, &l),
			 -EINVAL);
	assert_int_equal(loader_plan(RAM_BASE, 64 * MiB, &img, 0,
				     LOADER_FDT_MAX_LIMIT + 1, &l), -EINVAL);
	assert_int_equal(loader_plan(RAM_BASE, 64 * MiB, NULL, 0, FDT_MAX,
				     &l), -EINVAL);
	assert_int_equal(loader_plan(RAM_BASE, 64 * MiB, &img, 0, FDT_MAX,
				     NULL), -EINVAL);
	img.text_offset = 0x800;
	assert_int_equal(loader_plan(RAM_BASE, 64 * MiB, &img, 0, FDT_MAX,
				     &l), -EINVAL);
	img = (struct boot_image){ 0, 0, 0 };
	assert_int_equal(loader_plan(RAM_BASE, 64 * MiB, &img, 0, FDT_MAX,
				     &l), -EINVAL);
}

/* Random sizes: every successful plan keeps its promises, and no input
 * makes it crash or wrap. */
static void test_plan_random(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	unsigned int ok = 0;
	int saved = quiet_begin();

	for (int i = 0; i < 20000; i++) {
		struct boot_image img;
		struct boot_layout l;
		uint64_t base, size, isize, fdt;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		base = (x & 0xff) << 24 | (x & 0x100 ? 0x1000 : 0);
		size = ((x >> 9) & 0x3f) * MiB + ((x >> 15) & 3) * 0x1000 + 1;
		size = size & ~0xfffULL ? size & ~0xfffULL : 0x1000;
		img.text_offset = ((x >> 17) & 3) * MiB;
		img.image_size = ((x >> 19) & 0x1f) * MiB + ((x >> 24) & 0xfff);
		img.image_size = img.image_size ? img.image_size : 1;
		img.file_size = img.image_size;
		isize = (x >> 36) & 1 ? ((x >> 37) & 0x1ffffff) : 0;
		fdt = ((x >> 40) & 0x1f) * 4096 + 64;
		if (loader_plan(base, size, &img, isize, fdt, &l) == 0) {
			assert_layout_ok(base, size, &img, isize, fdt, &l);
			ok++;
		}
	}
	quiet_end(saved);
	assert_true(ok > 1000);
}

/* ---- loading files ------------------------------------------------------ */

static void test_load_good(void **state)
{
	char kpath[PATH_MAX], ipath[PATH_MAX];
	/* Both above 8 MiB: read in 2 MiB-aligned slices by several threads
	 * (on a host with more than one CPU), with odd tails. */
	size_t ksize = 19 * MiB + 123, isize = 9 * MiB + 7;
	struct boot_layout l;
	struct gmem gm;
	const uint8_t *p;

	tpath(kpath, "Image");
	tpath(ipath, "initrd");
	make_kernel(kpath, ksize, 2 * MiB);
	make_pattern(ipath, isize, 3);
	assert_int_equal(gmem_alloc(&gm, RAM_BASE, 64 * MiB), 0);
	assert_int_equal(loader_load(&gm, kpath, ipath, FDT_MAX, &l), 0);

	assert_int_equal(l.kernel_addr, RAM_BASE + 2 * MiB);
	assert_int_equal(l.kernel_size, ksize + 2 * MiB);
	assert_int_equal(l.initrd_size, isize);
	assert_int_equal(l.fdt_addr, RAM_BASE + 62 * MiB);
	assert_layout_ok(RAM_BASE, 64 * MiB, &(struct boot_image){
				 2 * MiB, ksize + 2 * MiB, ksize },
			 isize, FDT_MAX, &l);

	p = gmem_ptr(&gm, l.kernel_addr, ksize);
	assert_non_null(p);
	assert_memory_equal(p + 56, "RSC\x05", 4);
	for (size_t i = LOADER_HDR_SIZE; i < ksize; i++)
		if (p[i] != (uint8_t)(i * 7 + 1))
			fail_msg("kernel byte %zu differs", i);
	assert_int_equal(p[ksize], 0);	/* nothing past the file */
	p = gmem_ptr(&gm, l.initrd_addr, isize);
	assert_non_null(p);
	for (size_t i = 0; i < isize; i++)
		if (p[i] != (uint8_t)(i * 13 + 3))
			fail_msg("initrd byte %zu differs", i);
	gmem_free(&gm);
}

static void test_load_no_initrd(void **state)
{
	char kpath[PATH_MAX];
	struct boot_layout l;
	struct gmem gm;
	const uint8_t *p;

	tpath(kpath, "Image-small");
	make_kernel(kpath, 4096, 0);
	assert_int_equal(gmem_alloc(&gm, RAM_BASE, 8 * MiB), 0);
	assert_int_equal(loader_load(&gm, kpath, NULL, FDT_MAX, &l), 0);
	assert_int_equal(l.initrd_size, 0);
	assert_int_equal(l.initrd_addr, 0);
	p = gmem_ptr(&gm, l.kernel_addr, 4096);
	assert_non_null(p);
	assert_int_equal(p[4095], (uint8_t)(4095 * 7 + 1));
	gmem_free(&gm);
}

/* loader_load() must fail with @err, log, and leave *out untouched. */
static void expect_load_fail(const char *kpath, const char *ipath,
			     uint64_t ram, int err)
{
	struct boot_layout l;
	unsigned long n = log_count();
	struct gmem gm;

	memset(&l, 0x5a, sizeof(l));
	assert_int_equal(gmem_alloc(&gm, RAM_BASE, ram), 0);
	assert_int_equal(loader_load(&gm, kpath, ipath, FDT_MAX, &l), err);
	assert_true(log_count() > n);
	assert_int_equal(l.kernel_addr, 0x5a5a5a5a5a5a5a5aULL);
	gmem_free(&gm);
}

static void test_load_bad_kernel_files(void **state)
{
	char p[PATH_MAX];
	static const char garbage[] = "#!/bin/sh\necho this is no kernel\n"
				      "0123456789012345678901234567890123456";

	tpath(p, "missing");
	expect_load_fail(p, NULL, 16 * MiB, -ENOENT);
	expect_load_fail(tmpdir, NULL, 16 * MiB, -EISDIR);
	expect_load_fail("/dev/null", NULL, 16 * MiB, -EINVAL);
	tpath(p, "empty");
	write_file(p, "", 0);
	expect_load_fail(p, NULL, 16 * MiB, -EINVAL);
	tpath(p, "short");
	write_file(p, "RSC\x05", 4);
	expect_load_fail(p, NULL, 16 * MiB, -ENOEXEC);
	tpath(p, "garbage");
	write_file(p, garbage, sizeof(garbage));
	expect_load_fail(p, NULL, 16 * MiB, -ENOEXEC);
	tpath(p, "fifo");
	assert_int_equal(mkfifo(p, 0600), 0);
	expect_load_fail(p, NULL, 16 * MiB, -EINVAL);	/* and no hang */
}

static void test_load_bad_header_file(void **state)
{
	uint8_t h[LOADER_HDR_SIZE + 16] = { 0 };
	char p[PATH_MAX];

	tpath(p, "bad-size");
	make_hdr(h, 2 * MiB, 10, MAGIC_BOTH);	/* image_size < file */
	write_file(p, h, sizeof(h));
	expect_load_fail(p, NULL, 16 * MiB, -ENOEXEC);
	tpath(p, "huge");
	make_hdr(h, 2 * MiB, UINT64_MAX, MAGIC_BOTH);
	write_file(p, h, sizeof(h));
	expect_load_fail(p, NULL, 16 * MiB, -ENOSPC);
	tpath(p, "odd-offset");
	make_hdr(h, 0x1234, MiB, MAGIC_BOTH);
	write_file(p, h, sizeof(h));
	expect_load_fail(p, NULL, 16 * MiB, -ENOEXEC);
}

static void test_load_unreadable(void **state)
{
	char p[PATH_MAX], q[PATH_MAX];

	tpath(p, "Image-noperm");
	make_kernel(p, 4096, 0);
	tpath(q, "Image-noperm/child");
	expect_load_fail(q, NULL, 16 * MiB, -ENOTDIR);
	expect_load_fail(p, q, 16 * MiB, -ENOTDIR);
	/* Root reads anything; no cmocka skip(), TAP counts it as "not ok". */
	if (geteuid() == 0)
		return;
	assert_int_equal(chmod(p, 0), 0);
	expect_load_fail(p, NULL, 16 * MiB, -EACCES);
}

static void test_load_too_large(void **state)
{
	char k[PATH_MAX], p[PATH_MAX];
	int fd;

	tpath(k, "Image-ok");
	make_kernel(k, 8192, 0);
	/* A sparse kernel file bigger than RAM is refused before reading. */
	tpath(p, "Image-big");
	make_kernel(p, 4096, 64 * MiB);
	fd = open(p, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 32 * MiB), 0);
	close(fd);
	expect_load_fail(p, NULL, 16 * MiB, -ENOSPC);
	/* image_size says 64 MiB: fits the file, not the RAM. */
	tpath(p, "Image-bss");
	make_kernel(p, 4096, 64 * MiB);
	expect_load_fail(p, NULL, 16 * MiB, -ENOSPC);
	/* initrd larger than RAM, and one that fits RAM but not the gap. */
	tpath(p, "initrd-big");
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 17 * MiB), 0);
	close(fd);
	expect_load_fail(k, p, 16 * MiB, -ENOSPC);
	assert_int_equal(truncate(p, 14 * MiB), 0);
	expect_load_fail(k, p, 16 * MiB, -ENOSPC);
}

static void test_load_bad_initrd(void **state)
{
	char k[PATH_MAX], p[PATH_MAX];

	tpath(k, "Image-ok2");
	make_kernel(k, 8192, 0);
	tpath(p, "no-such-initrd");
	expect_load_fail(k, p, 16 * MiB, -ENOENT);
	expect_load_fail(k, tmpdir, 16 * MiB, -EISDIR);
	expect_load_fail(k, "/dev/null", 16 * MiB, -EINVAL);
	tpath(p, "initrd-empty");
	write_file(p, "", 0);
	expect_load_fail(k, p, 16 * MiB, -EINVAL);
}

static void test_load_bad_args(void **state)
{
	struct gmem gm = { 0 };
	struct boot_layout l;

	assert_int_equal(loader_load(NULL, "/x", NULL, FDT_MAX, &l), -EINVAL);
	assert_int_equal(loader_load(&gm, "/x", NULL, FDT_MAX, &l), -EINVAL);
	assert_int_equal(gmem_alloc(&gm, RAM_BASE, 8 * MiB), 0);
	assert_int_equal(loader_load(&gm, NULL, NULL, FDT_MAX, &l), -EINVAL);
	assert_int_equal(loader_load(&gm, "/x", NULL, FDT_MAX, NULL), -EINVAL);
	assert_int_equal(loader_load(&gm, "/x", NULL, 0, &l), -EINVAL);
	gmem_free(&gm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr_good),
		cmocka_unit_test(test_hdr_short),
		cmocka_unit_test(test_hdr_no_magic),
		cmocka_unit_test(test_hdr_bad_sizes),
		cmocka_unit_test(test_hdr_bad_text_offset),
		cmocka_unit_test(test_plan_basic),
		cmocka_unit_test(test_plan_no_initrd),
		cmocka_unit_test(test_plan_unaligned_ram),
		cmocka_unit_test(test_plan_tight_fallback),
		cmocka_unit_test(test_plan_ram_too_small),
		cmocka_unit_test(test_plan_initrd_too_large),
		cmocka_unit_test(test_plan_overflow),
		cmocka_unit_test(test_plan_bad_args),
		cmocka_unit_test(test_plan_random),
		cmocka_unit_test(test_load_good),
		cmocka_unit_test(test_load_no_initrd),
		cmocka_unit_test(test_load_bad_kernel_files),
		cmocka_unit_test(test_load_bad_header_file),
		cmocka_unit_test(test_load_unreadable),
		cmocka_unit_test(test_load_too_large),
		cmocka_unit_test(test_load_bad_initrd),
		cmocka_unit_test(test_load_bad_args),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
