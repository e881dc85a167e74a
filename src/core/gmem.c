// SPDX-License-Identifier: MIT
#include "core/gmem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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
	gm->host = NULL;
	gm->size = 0;
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
