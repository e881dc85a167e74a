// SPDX-License-Identifier: MIT
/* Fuzz target: the kernel loader.  Three layers from one input:
 *  - loader_plan() with raw 64-bit RAM/kernel/initrd/FDT numbers;
 *  - loader_parse_image_header() on the input's kernel bytes;
 *  - loader_load() of a kernel file made of those bytes (plus a sparse
 *    zero tail) and an optional initrd into a guest RAM of fuzzed base and
 *    size, and kernel paths that are directories, devices or missing.
 * A successful plan must keep kernel, initrd and FDT inside RAM, aligned
 * and apart; a plan must not be refused when there is plenty of room; a
 * successful load must leave the files' bytes exactly where the layout
 * says. */
#include "fuzz.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "boot/loader.h"
#include "tests/support/files.h"

#define MIB		(1ULL << 20)
#define PAGE		LOADER_PAGE_SIZE
#define INITRD_MAX	(2 * MIB)
#define POISON		0xcc

static uint64_t align_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) & ~(a - 1);
}

/* Everything a successful plan promises (loader.h). */
static void check_layout(uint64_t base, uint64_t size,
			 const struct boot_image *img, uint64_t initrd_size,
			 uint64_t fdt_max, const struct boot_layout *l)
{
	uint64_t end = base + size, kend = l->kernel_addr + l->kernel_size;

	FUZZ_CHECK(l->kernel_addr ==
		   align_up(base, LOADER_KERNEL_ALIGN) + img->text_offset);
	FUZZ_CHECK(l->kernel_size == img->image_size);
	FUZZ_CHECK(l->kernel_addr >= base && l->kernel_addr <= end);
	FUZZ_CHECK(l->kernel_size <= end - l->kernel_addr);
	FUZZ_CHECK(l->fdt_max == fdt_max && l->fdt_addr % PAGE == 0);
	FUZZ_CHECK(l->fdt_addr >= kend && l->fdt_addr <= end);
	FUZZ_CHECK(fdt_max <= end - l->fdt_addr);
	FUZZ_CHECK(l->initrd_size == initrd_size);
	if (initrd_size) {
		FUZZ_CHECK(l->initrd_addr % PAGE == 0);
		FUZZ_CHECK(l->initrd_addr >= kend);
		FUZZ_CHECK(l->initrd_addr <= l->fdt_addr);
		FUZZ_CHECK(initrd_size <= l->fdt_addr - l->initrd_addr);
	} else {
		FUZZ_CHECK(l->initrd_addr == 0);
	}
}

/* Did the planner refuse a layout with plenty of room? */
static bool roomy(uint64_t base, uint64_t size, const struct boot_image *img,
		  uint64_t initrd_size, uint64_t fdt_max)
{
	uint64_t k = align_up(base, LOADER_KERNEL_ALIGN), need;

	if (size > UINT64_MAX - base || k < base || k > base + size ||
	    img->text_offset > UINT64_MAX / 4 ||
	    img->image_size > UINT64_MAX / 4 || initrd_size > UINT64_MAX / 4)
		return false;
	need = img->text_offset + img->image_size + initrd_size + fdt_max +
	       4 * LOADER_FDT_ALIGN;
	return need <= base + size - k;
}

static void fuzz_plan(struct fin *in)
{
	uint64_t base = fin_u64(in), size = fin_u64(in);
	struct boot_image img = { .text_offset = fin_u64(in),
				  .image_size = fin_u64(in) };
	uint64_t initrd_size = fin_u64(in), fdt_max = fin_u64(in);
	struct boot_layout l;
	int r;

	r = loader_plan(base, size, &img, initrd_size, fdt_max, &l);
	if (r == 0)
		check_layout(base, size, &img, initrd_size, fdt_max, &l);
	else if (r == -ENOSPC)
		FUZZ_CHECK(!roomy(base, size, &img, initrd_size, fdt_max));
	else
		FUZZ_CHECK(r == -EINVAL);
}

/* Replace the file behind @fd by @len bytes from @p and a zero tail up to
 * @size (sparse). */
static void set_file(int fd, const void *p, size_t len, uint64_t size)
{
	FUZZ_CHECK(ftruncate(fd, 0) == 0);
	FUZZ_CHECK(pwrite(fd, p, len, 0) == (ssize_t)len);
	FUZZ_CHECK(ftruncate(fd, (off_t)size) == 0);
}

static bool all_zero(const uint8_t *p, uint64_t len)
{
	static const uint8_t zero[FZ_LD_PAD_MAX > INITRD_MAX ? FZ_LD_PAD_MAX :
							      INITRD_MAX];

	return len <= sizeof(zero) && !memcmp(p, zero, len);
}

static const uint64_t ram_bases[4] = {
	FZ_RAM_BASE, FZ_RAM_BASE + PAGE, 0, 0xffffffffff000000ULL,
};

static void fuzz_load(struct fin *in, uint8_t flags, const uint8_t *kbytes,
		      size_t klen)
{
	static int kfd = -1, ifd = -1;
	static uint8_t ipattern[4096];
	struct gmem *ram = fuzz_ram(0, FZ_LD_RAM_MAX);
	uint8_t base_sel = fin_u8(in), units = fin_u8(in);
	uint64_t fdt_max = fin_u32(in), isize = fin_u32(in) % INITRD_MAX;
	uint64_t ksize = klen + fin_u32(in) % FZ_LD_PAD_MAX;
	struct gmem view = *ram;
	char kpath[64], ipath[64];
	const char *k = kpath, *i = NULL;
	struct boot_layout l, want;
	struct boot_image img;
	uint8_t hdr[LOADER_HDR_SIZE] = { 0 };
	bool expect_ok;
	int r;

	view.base = ram_bases[base_sel & 3];
	view.size = ((uint64_t)(units % 64) + 1) * (FZ_LD_RAM_MAX / 64);
	set_file(ts_memfd(&kfd, "rivet-fuzz-kernel", 0), kbytes, klen, ksize);
	snprintf(kpath, sizeof(kpath), "/proc/self/fd/%d", kfd);
	switch ((flags >> 1) & 3) {
	case 1:
		k = "/";
		break;
	case 2:
		k = "/dev/null";
		break;
	case 3:
		k = "/nonexistent/rivet-fuzz-kernel";
		break;
	}
	if (flags & 1) {
		for (size_t j = 0; j < sizeof(ipattern); j++)
			ipattern[j] = (uint8_t)(j * 11 + 5);
		set_file(ts_memfd(&ifd, "rivet-fuzz-initrd", 0), ipattern,
			 isize < sizeof(ipattern) ? isize : sizeof(ipattern),
			 isize);
		snprintf(ipath, sizeof(ipath), "/proc/self/fd/%d", ifd);
		i = flags & 8 ? "/nonexistent/rivet-fuzz-initrd" : ipath;
	}

	/* What the loader should do, from the parts already checked. */
	memcpy(hdr, kbytes, klen < sizeof(hdr) ? klen : sizeof(hdr));
	expect_ok = k == kpath && ksize && ksize <= view.size &&
		    (!i || (i == ipath && isize && isize <= view.size)) &&
		    loader_parse_image_header(hdr, sizeof(hdr), ksize,
					      &img) == 0 &&
		    loader_plan(view.base, view.size, &img, i ? isize : 0,
				fdt_max, &want) == 0;
	if (expect_ok) {
		memset(view.host + (want.kernel_addr - view.base), POISON,
		       ksize);
		if (i)
			memset(view.host + (want.initrd_addr - view.base),
			       POISON, isize);
	}

	r = loader_load(&view, k, i, fdt_max, &l);
	FUZZ_CHECK((r == 0) == expect_ok);
	if (r)
		return;
	FUZZ_CHECK(!memcmp(&l, &want, sizeof(l)));
	check_layout(view.base, view.size, &img, i ? isize : 0, fdt_max, &l);
	FUZZ_CHECK(!memcmp(view.host + (l.kernel_addr - view.base), kbytes,
			   klen));
	FUZZ_CHECK(all_zero(view.host + (l.kernel_addr - view.base) + klen,
			    ksize - klen));
	if (i) {
		uint8_t *p = view.host + (l.initrd_addr - view.base);
		size_t n = isize < sizeof(ipattern) ? isize : sizeof(ipattern);

		FUZZ_CHECK(!memcmp(p, ipattern, n));
		FUZZ_CHECK(all_zero(p + n, isize - n));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = { data, size };
	uint8_t flags;
	struct boot_image img;

	fuzz_quiet();
	flags = fin_u8(&in);
	fuzz_plan(&in);
	/* The rest after the load parameters is the kernel file. */
	if (in.left >= 14) {
		struct fin k = { in.p + 14, in.left - 14 };

		if (loader_parse_image_header(k.p, k.left, k.left, &img) == 0) {
			FUZZ_CHECK(img.text_offset % PAGE == 0);
			FUZZ_CHECK(img.text_offset <= LOADER_MAX_TEXT_OFFSET);
			FUZZ_CHECK(img.image_size >= k.left);
			FUZZ_CHECK(img.file_size == k.left);
		}
		fuzz_load(&in, flags, k.p, k.left);
	} else {
		fuzz_load(&in, flags, in.p + in.left, 0);
	}
	return 0;
}
