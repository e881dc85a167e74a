// SPDX-License-Identifier: MIT
#include "boot/loader.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/gmem.h"
#include "core/log.h"

#define HDR_TEXT_OFFSET 8
#define HDR_IMAGE_SIZE 16
#define HDR_MAGIC 48
#define HDR_MAGIC2 56

#define MIB (1024ULL * 1024)
#define FDT_MIN_SIZE 64	/* a 40-byte header plus an empty tree */
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a) - 1))

static const uint8_t image_magic[8] = { 'R', 'I', 'S', 'C', 'V' };
static const uint8_t image_magic2[4] = { 'R', 'S', 'C', 0x05 };

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* a + b, or UINT64_MAX if that overflows. */
static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t sat_align_up(uint64_t x, uint64_t a)
{
	return x > UINT64_MAX - (a - 1) ? UINT64_MAX : ALIGN_DOWN(x + a - 1, a);
}

static uint64_t mib_up(uint64_t bytes)
{
	return bytes / MIB + (bytes % MIB != 0);
}

static int parse_header(const void *buf, size_t len, uint64_t file_size,
			const char *who, struct boot_image *out)
{
	const uint8_t *h = buf;
	uint64_t text_offset, image_size;

	if (!buf || !out)
		return -EINVAL;
	if (len < LOADER_HDR_SIZE || file_size < LOADER_HDR_SIZE) {
		log_err("%s: %" PRIu64 " bytes, shorter than the %d-byte "
			"RISC-V Image header", who, file_size, LOADER_HDR_SIZE);
		return -ENOEXEC;
	}
	if (memcmp(h + HDR_MAGIC2, image_magic2, sizeof(image_magic2)) &&
	    memcmp(h + HDR_MAGIC, image_magic, sizeof(image_magic))) {
		log_err("%s: not a RISC-V Linux Image (no RSC\\x05 or RISCV "
			"magic; compressed and ELF kernels are not supported)",
			who);
		return -ENOEXEC;
	}
	text_offset = get_le64(h + HDR_TEXT_OFFSET);
	image_size = get_le64(h + HDR_IMAGE_SIZE);
	if (text_offset % LOADER_PAGE_SIZE ||
	    text_offset > LOADER_MAX_TEXT_OFFSET) {
		log_err("%s: corrupt Image header: text_offset 0x%" PRIx64
			" is not a 4 KiB multiple below 0x%llx", who,
			text_offset, LOADER_MAX_TEXT_OFFSET);
		return -ENOEXEC;
	}
	if (image_size == 0 || image_size < file_size) {
		log_err("%s: corrupt Image header: image_size %" PRIu64
			" is zero or smaller than the file (%" PRIu64
			" bytes)", who, image_size, file_size);
		return -ENOEXEC;
	}
	out->text_offset = text_offset;
	out->image_size = image_size;
	out->file_size = file_size;
	return 0;
}

int loader_parse_image_header(const void *buf, size_t len,
			      uint64_t file_size, struct boot_image *out)
{
	return parse_header(buf, len, file_size, "kernel", out);
}

/* RAM a layout needs from ram_base up, for the --memory hint. */
static uint64_t min_ram(uint64_t kernel_off, const struct boot_image *img,
			uint64_t initrd_size, uint64_t fdt_max)
{
	uint64_t need = sat_add(kernel_off, img->image_size);

	need = sat_add(sat_align_up(need, LOADER_PAGE_SIZE),
		       sat_align_up(initrd_size, LOADER_PAGE_SIZE));
	return sat_add(need, sat_align_up(fdt_max, LOADER_PAGE_SIZE));
}

/* Put the FDT at the top of RAM (aligned down to @align), the initrd page
 * aligned just below it, both above @kend.  0 or -ENOSPC. */
static int place_top(uint64_t ram_end, uint64_t kend, uint64_t initrd_size,
		     uint64_t fdt_max, uint64_t align, struct boot_layout *l)
{
	uint64_t fdt, initrd = 0;

	if (fdt_max > ram_end - kend)
		return -ENOSPC;
	fdt = ALIGN_DOWN(ram_end - fdt_max, align);
	if (fdt < kend)
		return -ENOSPC;
	if (initrd_size) {
		if (initrd_size > fdt - kend)
			return -ENOSPC;
		initrd = ALIGN_DOWN(fdt - initrd_size, LOADER_PAGE_SIZE);
		if (initrd < kend)
			return -ENOSPC;
	}
	l->fdt_addr = fdt;
	l->fdt_max = fdt_max;
	l->initrd_addr = initrd;
	l->initrd_size = initrd_size;
	return 0;
}

static int check_ram_fdt(uint64_t ram_base, uint64_t ram_size,
			 uint64_t fdt_max)
{
	if (ram_size == 0 || ram_size > UINT64_MAX - ram_base ||
	    ram_base > UINT64_MAX - (LOADER_KERNEL_ALIGN - 1)) {
		log_err("loader: bad RAM range 0x%" PRIx64 "+0x%" PRIx64,
			ram_base, ram_size);
		return -EINVAL;
	}
	if (fdt_max < FDT_MIN_SIZE || fdt_max > LOADER_FDT_MAX_LIMIT) {
		log_err("loader: FDT size %" PRIu64 " is outside 64 bytes.."
			"2 MiB", fdt_max);
		return -EINVAL;
	}
	return 0;
}

/* " (at least N MiB)" for the --memory advice, unless nothing would do. */
static const char *hint_str(char *buf, size_t len, uint64_t need)
{
	if (need == UINT64_MAX)
		return "";
	snprintf(buf, len, " (at least %" PRIu64 " MiB)", mib_up(need));
	return buf;
}

static void log_no_room(const char *kname, const char *iname,
			uint64_t initrd_size, uint64_t fdt_max, uint64_t kend,
			uint64_t ram_end, const char *hint)
{
	if (initrd_size)
		log_err("%s: %" PRIu64 " MiB and the %" PRIu64 " KiB FDT do "
			"not fit between the end of the %s (0x%" PRIx64 ") and "
			"the end of RAM (0x%" PRIx64 "); use a larger --memory"
			"%s", iname, mib_up(initrd_size), fdt_max / 1024,
			kname, kend, ram_end, hint);
	else
		log_err("%s: no room for the %" PRIu64 " KiB FDT between the "
			"kernel's end (0x%" PRIx64 ") and the end of RAM (0x%"
			PRIx64 "); use a larger --memory%s", kname,
			fdt_max / 1024, kend, ram_end, hint);
}

static int plan(uint64_t ram_base, uint64_t ram_size,
		const struct boot_image *img, uint64_t initrd_size,
		uint64_t fdt_max, const char *kname, const char *iname,
		struct boot_layout *out)
{
	uint64_t ram_end = ram_base + ram_size, kaddr, kend;
	struct boot_layout l = { 0 };
	const char *hint;
	char buf[48];

	kaddr = ALIGN_DOWN(ram_base + LOADER_KERNEL_ALIGN - 1,
			   LOADER_KERNEL_ALIGN);
	hint = hint_str(buf, sizeof(buf),
			min_ram(kaddr - ram_base + img->text_offset, img,
				initrd_size, fdt_max));
	if (kaddr > ram_end || img->text_offset > ram_end - kaddr ||
	    img->image_size > ram_end - kaddr - img->text_offset) {
		log_err("%s: needs %" PRIu64 " MiB at 0x%" PRIx64 " but guest "
			"RAM is %" PRIu64 " MiB; use a larger --memory%s",
			kname, mib_up(img->image_size),
			kaddr + img->text_offset, mib_up(ram_size), hint);
		return -ENOSPC;
	}
	kaddr += img->text_offset;
	kend = kaddr + img->image_size;
	/* Prefer QEMU's 2 MiB-aligned FDT; fall back to a page in tight RAM. */
	if (place_top(ram_end, kend, initrd_size, fdt_max, LOADER_FDT_ALIGN,
		      &l) &&
	    place_top(ram_end, kend, initrd_size, fdt_max, LOADER_PAGE_SIZE,
		      &l)) {
		log_no_room(kname, iname, initrd_size, fdt_max, kend, ram_end,
			    hint);
		return -ENOSPC;
	}
	l.kernel_addr = kaddr;
	l.kernel_size = img->image_size;
	*out = l;
	return 0;
}

int loader_plan(uint64_t ram_base, uint64_t ram_size,
		const struct boot_image *img, uint64_t initrd_size,
		uint64_t fdt_max, struct boot_layout *out)
{
	int ret;

	if (!img || !out || !img->image_size ||
	    img->text_offset % LOADER_PAGE_SIZE)
		return -EINVAL;
	ret = check_ram_fdt(ram_base, ram_size, fdt_max);
	if (ret)
		return ret;
	return plan(ram_base, ram_size, img, initrd_size, fdt_max, "kernel",
		    "initrd", out);
}

/* Reading a large image into fresh guest RAM is mostly page faults that
 * zero (huge) pages, then the copy: spread it over a few threads, each on
 * its own 2 MiB-aligned slice, so start-up takes less of the host's time
 * to first KVM_RUN.  Small files, or one CPU, use one read. */
#define LOADER_PAR_MIN (8ULL << 20)
#define LOADER_PAR_SLICE_ALIGN (2ULL << 20)
#define LOADER_PAR_MAX 4

struct slice {
	int fd;
	uint8_t *dst;
	uint64_t off, len;
	int64_t got;
	pthread_t thread;
	bool started;
};

static void *slice_read(void *arg)
{
	struct slice *s = arg;

	s->got = fio_pread_upto(s->fd, s->dst + s->off, s->len, s->off);
	return NULL;
}

/* Like fio_pread_upto(@fd, @dst, @len, 0): the count read or -errno. */
static int64_t pread_parallel(int fd, uint8_t *dst, uint64_t len)
{
	struct slice s[LOADER_PAR_MAX];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int n = cpus > LOADER_PAR_MAX ? LOADER_PAR_MAX
		       : cpus > 1 ? (unsigned int)cpus : 1;
	uint64_t per, off = 0;
	int64_t total = 0;
	bool short_read = false;

	if (len < LOADER_PAR_MIN || n == 1)
		return fio_pread_upto(fd, dst, len, 0);
	per = (len / n + LOADER_PAR_SLICE_ALIGN - 1) &
	      ~(LOADER_PAR_SLICE_ALIGN - 1);
	for (unsigned int i = 0; i < n; i++) {
		s[i] = (struct slice){ .fd = fd, .dst = dst, .off = off,
				       .len = len - off < per ? len - off : per };
		off += s[i].len;
	}
	/* Slices 1.. on threads (where a thread cannot start, read here). */
	for (unsigned int i = 1; i < n; i++)
		s[i].started = s[i].len &&
			       !pthread_create(&s[i].thread, NULL, slice_read,
					       &s[i]);
	slice_read(&s[0]);
	for (unsigned int i = 1; i < n; i++) {
		if (s[i].started)
			pthread_join(s[i].thread, NULL);
		else
			slice_read(&s[i]);
	}
	/* The whole file, in order: an error wins, a short slice ends it. */
	for (unsigned int i = 0; i < n; i++) {
		if (s[i].got < 0)
			return s[i].got;
		if (short_read)
			continue;
		total += s[i].got;
		short_read = (uint64_t)s[i].got < s[i].len;
	}
	return total;
}

/* One input file; label is "kernel '<path>'" for messages. */
struct input {
	char label[256];
	int fd;
	uint64_t size;
};

/* Open @path for reading and check it is a non-empty regular file that
 * could fit in @ram_size. */
static int open_input(struct input *in, const char *what, const char *path,
		      uint64_t ram_size)
{
	struct stat st;

	snprintf(in->label, sizeof(in->label), "%s '%s'", what, path);
	/* O_NONBLOCK: opening a FIFO must not hang; it is refused below. */
	in->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (in->fd < 0 || fstat(in->fd, &st)) {
		int ret = -errno;

		log_err("%s: %s", in->label, strerror(-ret));
		return ret;
	}
	if (S_ISDIR(st.st_mode)) {
		log_err("%s: is a directory", in->label);
		return -EISDIR;
	}
	if (!S_ISREG(st.st_mode)) {
		log_err("%s: not a regular file", in->label);
		return -EINVAL;
	}
	if (st.st_size <= 0) {
		log_err("%s: file is empty", in->label);
		return -EINVAL;
	}
	in->size = (uint64_t)st.st_size;
	if (in->size > ram_size) {
		log_err("%s: %" PRIu64 " MiB is larger than guest RAM (%"
			PRIu64 " MiB); use a larger --memory", in->label,
			mib_up(in->size), mib_up(ram_size));
		return -ENOSPC;
	}
	return 0;
}

static int read_header(const struct input *in, struct boot_image *img)
{
	uint8_t hdr[LOADER_HDR_SIZE];
	int64_t n;

	n = fio_pread_upto(in->fd, hdr, sizeof(hdr), 0);
	if (n < 0) {
		log_err("%s: %s", in->label, strerror((int)-n));
		return (int)n;
	}
	if ((uint64_t)n < sizeof(hdr) && in->size >= sizeof(hdr)) {
		log_err("%s: truncated while reading", in->label);
		return -EIO;
	}
	return parse_header(hdr, (size_t)n, in->size, in->label, img);
}

static int read_into(const struct gmem *gm, const struct input *in,
		     uint64_t gpa, uint64_t size)
{
	void *dst = gmem_ptr(gm, gpa, size);
	int64_t n;

	if (!dst) {
		log_err("%s: 0x%" PRIx64 "+%" PRIu64 " is outside RAM",
			in->label, gpa, size);
		return -EFAULT;
	}
	n = pread_parallel(in->fd, dst, size);
	if (n < 0) {
		log_err("%s: %s", in->label, strerror((int)-n));
		return (int)n;
	}
	if ((uint64_t)n != size) {
		log_err("%s: truncated while reading (%" PRId64 " of %" PRIu64
			" bytes)", in->label, n, size);
		return -EIO;
	}
	return 0;
}

int loader_load(const struct gmem *gm, const char *kernel_path,
		const char *initrd_path, uint64_t fdt_max,
		struct boot_layout *out)
{
	struct input k = { .fd = -1 }, i = { .fd = -1, .label = "initrd" };
	struct boot_image img;
	struct boot_layout l;
	int ret;

	if (!gm || !gm->host || !kernel_path || !out)
		return -EINVAL;
	ret = check_ram_fdt(gm->base, gm->size, fdt_max);
	if (!ret)
		ret = open_input(&k, "kernel", kernel_path, gm->size);
	if (!ret)
		ret = read_header(&k, &img);
	if (!ret && initrd_path)
		ret = open_input(&i, "initrd", initrd_path, gm->size);
	if (!ret)
		ret = plan(gm->base, gm->size, &img, i.size, fdt_max, k.label,
			   i.label, &l);
	if (!ret)
		ret = read_into(gm, &k, l.kernel_addr, img.file_size);
	if (!ret && initrd_path)
		ret = read_into(gm, &i, l.initrd_addr, i.size);
	if (!ret)
		*out = l;
	if (k.fd >= 0)
		close(k.fd);
	if (i.fd >= 0)
		close(i.fd);
	return ret;
}
