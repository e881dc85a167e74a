// SPDX-License-Identifier: MIT
#include "core/gmem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB (21 << 26)		/* log2(2 MiB) << MAP_HUGE_SHIFT */
#endif

/* A 2 MiB-aligned anonymous mapping of @size bytes (a multiple of 2 MiB):
 * map 2 MiB more and trim, so every huge page can be a THP. */
static void *map_aligned(uint64_t size)
{
	uint8_t *p, *start;
	uint64_t head;

	p = mmap(NULL, size + GMEM_HUGE_PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return p;
	start = (uint8_t *)(((uintptr_t)p + GMEM_HUGE_PAGE - 1) &
			    ~(uintptr_t)(GMEM_HUGE_PAGE - 1));
	head = (uint64_t)(start - p);
	if (head)
		munmap(p, head);
	munmap(start + size, GMEM_HUGE_PAGE - head);
	return start;
}

int gmem_alloc_pages(struct gmem *gm, uint64_t base, uint64_t size,
		     enum gmem_pages pages)
{
	void *p;

	if (size == 0 || base + size < base ||
	    ((pages == GMEM_PAGES_THP || pages == GMEM_PAGES_HUGETLB) &&
	     size % GMEM_HUGE_PAGE))
		return -EINVAL;
	switch (pages) {
	case GMEM_PAGES_HUGETLB:
		/* No MAP_NORESERVE: the pages are reserved now, so a short
		 * pool fails here rather than with SIGBUS in the guest. */
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
			 MAP_HUGE_2MB, -1, 0);
		break;
	case GMEM_PAGES_THP:
		p = map_aligned(size);
		if (p != MAP_FAILED)
			madvise(p, size, MADV_HUGEPAGE);
		break;
	default:
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p != MAP_FAILED && pages == GMEM_PAGES_SMALL)
			madvise(p, size, MADV_NOHUGEPAGE);
		break;
	}
	if (p == MAP_FAILED)
		return -errno;
	/* Guest RAM is never part of a core dump: it may hold secrets and is
	 * usually far larger than the VMM itself. */
	madvise(p, size, MADV_DONTDUMP);
	gm->base = base;
	gm->size = size;
	gm->host = p;
	gm->file_backed = false;
	gm->file_fd = -1;
	gm->file_data = NULL;
	return 0;
}

int gmem_alloc(struct gmem *gm, uint64_t base, uint64_t size)
{
	return gmem_alloc_pages(gm, base, size, GMEM_PAGES_HOST);
}

static long read_count(const char *path)
{
	char buf[32];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

long gmem_hugepages_available(void)
{
	static const char dir[] = "/sys/kernel/mm/hugepages/hugepages-2048kB/";
	char path[128];
	long free_pages, resv;

	snprintf(path, sizeof(path), "%sfree_hugepages", dir);
	free_pages = read_count(path);
	snprintf(path, sizeof(path), "%sresv_hugepages", dir);
	resv = read_count(path);
	if (free_pages < 0 || resv < 0)
		return -1;
	return free_pages > resv ? free_pages - resv : 0;
}

void gmem_free(struct gmem *gm)
{
	if (gm->host)
		munmap(gm->host, gm->size);
	if (gm->file_backed)
		close(gm->file_fd);
	gm->file_backed = false;
	gm->file_fd = -1;
	free(gm->file_data);
	gm->file_data = NULL;
	gm->host = NULL;
	gm->size = 0;
}

static void set_bits(uint64_t *bits, uint64_t from, uint64_t to)
{
	for (uint64_t i = from; i < to; i++)
		bits[i / 64] |= 1ULL << (i % 64);
}

/* Where the mapped file has data, one bit per page: each run of data (a
 * file system without SEEK_DATA reports the whole file as one).  NULL:
 * no memory. */
static uint64_t *file_data_map(const struct gmem *gm)
{
	uint64_t pages = gm->size / GMEM_PAGE, off = 0;
	uint64_t *data = calloc((size_t)((pages + 63) / 64), 8);

	if (!data)
		return NULL;
	while (off < gm->size) {
		off_t d = lseek(gm->file_fd, (off_t)off, SEEK_DATA), h;

		if (d < 0 && errno == ENXIO)
			break;			/* a hole to the end */
		if (d < 0) {
			set_bits(data, off / GMEM_PAGE, pages);
			break;
		}
		if ((uint64_t)d >= gm->size)
			break;
		h = lseek(gm->file_fd, d, SEEK_HOLE);
		if (h < 0 || (uint64_t)h > gm->size)
			h = (off_t)gm->size;
		set_bits(data, (uint64_t)d / GMEM_PAGE,
			 ((uint64_t)h + GMEM_PAGE - 1) / GMEM_PAGE);
		off = (uint64_t)h;
	}
	return data;
}

int gmem_map_file(struct gmem *gm, int fd)
{
	int keep = fcntl(fd, F_DUPFD_CLOEXEC, 0);

	if (keep < 0)
		return -errno;
	if (mmap(gm->host, gm->size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, fd, 0) ==
	    MAP_FAILED) {
		int ret = -errno;

		close(keep);
		return ret;
	}
	madvise(gm->host, gm->size, MADV_DONTDUMP);
	if (gm->file_backed)
		close(gm->file_fd);
	free(gm->file_data);
	gm->file_data = NULL;
	gm->file_backed = true;
	gm->file_fd = keep;
	return 0;
}

static int pagemap_fd = -1;

int gmem_pagemap_open(void)
{
	if (pagemap_fd >= 0)
		return 0;
	if (sysconf(_SC_PAGESIZE) != GMEM_PAGE)
		return -EOPNOTSUPP;
	pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	return pagemap_fd < 0 ? -errno : 0;
}

void gmem_pagemap_close(void)
{
	if (pagemap_fd >= 0)
		close(pagemap_fd);
	pagemap_fd = -1;
}

/* Linux's Documentation/admin-guide/mm/pagemap.rst: one 64-bit entry per
 * virtual page; bit 63 present, bit 62 swapped (swap, migration and the
 * other non-present entries that still hold a page). */
#define PM_PRESENT (1ULL << 63)
#define PM_SWAP (1ULL << 62)

int gmem_maybe_data(struct gmem *gm, uint64_t first, size_t n,
		    uint64_t *bits)
{
	uint64_t ent[512], base = (uintptr_t)gm->host / GMEM_PAGE + first;
	size_t done = 0;

	memset(bits, 0, (n + 63) / 64 * 8);
	set_bits(bits, 0, n);
	if (first > gm->size / GMEM_PAGE || n > gm->size / GMEM_PAGE - first)
		return -EINVAL;
	if (pagemap_fd < 0)
		return -ENOENT;
	if (gm->file_backed && !gm->file_data) {
		gm->file_data = file_data_map(gm);
		if (!gm->file_data)
			return -ENOMEM;
	}
	while (done < n) {
		size_t k = n - done < 512 ? n - done : 512;
		struct iovec iov = { ent, k * 8 };
		/* preadv: the call the VM process's main thread has. */
		ssize_t got = preadv(pagemap_fd, &iov, 1,
				     (off_t)((base + done) * 8));

		if (got != (ssize_t)(k * 8))
			return got < 0 ? -errno : -EIO;
		for (size_t i = 0; i < k; i++) {
			uint64_t page = first + done + i;

			if (ent[i] & (PM_PRESENT | PM_SWAP))
				continue;
			if (gm->file_backed &&
			    gm->file_data[page / 64] & (1ULL << (page % 64)))
				continue;
			bits[(done + i) / 64] &= ~(1ULL << ((done + i) % 64));
		}
		done += k;
	}
	return 0;
}

bool gmem_contains(const struct gmem *gm, uint64_t gpa, uint64_t len)
{
	if (gpa < gm->base)
		return false;
	gpa -= gm->base;
	return gpa <= gm->size && len <= gm->size - gpa;
}

void *gmem_ptr(const struct gmem *gm, uint64_t gpa, uint64_t len)
{
	if (!gm->host || !gmem_contains(gm, gpa, len))
		return NULL;
	return gm->host + (gpa - gm->base);
}

int gmem_read(const struct gmem *gm, uint64_t gpa, void *dst, uint64_t len)
{
	const void *p = gmem_ptr(gm, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

int gmem_write(const struct gmem *gm, uint64_t gpa, const void *src,
	       uint64_t len)
{
	void *p = gmem_ptr(gm, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}
