// SPDX-License-Identifier: MIT
#include "core/gmem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

int gmem_alloc(struct gmem *gm, uint64_t base, uint64_t size)
{
	void *p;

	if (size == 0 || base + size < base)
		return -EINVAL;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
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
