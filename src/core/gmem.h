/* SPDX-License-Identifier: MIT */
/* Guest RAM.  Every guest physical address a device touches goes through
 * gmem_ptr(), the one overflow-safe range check: device code never adds a
 * guest-supplied offset to a host pointer itself. */
#ifndef RIVET_GMEM_H
#define RIVET_GMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gmem {
	uint64_t base;	/* guest physical address of the first byte */
	uint64_t size;	/* bytes */
	uint8_t *host;	/* host mapping of [base, base + size) */
	/* Mapped from a file (gmem_map_file): a descriptor of it, and one
	 * bit per page set where it has data, worked out when first asked
	 * (NULL until then), so a restore does not wait for it. */
	bool file_backed;
	int file_fd;
	uint64_t *file_data;
};

#define GMEM_PAGE 4096u	/* the host page gmem_maybe_data() counts in */

/* How guest RAM is backed (--hugepages, docs/user-guide.md):
 *  SMALL    4 KiB pages only (MADV_NOHUGEPAGE);
 *  THP      transparent huge pages: 2 MiB aligned, MADV_HUGEPAGE, so the
 *           host takes one fault per 2 MiB (Linux 6.12's KVM on riscv64
 *           still maps them 4 KiB at a time in stage 2);
 *  HUGETLB  2 MiB hugetlb pages, reserved up front (-ENOMEM at once when
 *           the host's pool is too small); KVM maps them as 2 MiB blocks
 *           in stage 2, one fault per 2 MiB of guest RAM. */
enum gmem_pages { GMEM_PAGES_THP, GMEM_PAGES_SMALL, GMEM_PAGES_HUGETLB,
		  GMEM_PAGES_HOST /* no advice: the host's THP policy */ };

#define GMEM_HUGE_PAGE (2ULL << 20)

/* Map anonymous, private, non-executable memory (plain pages, as the
 * host's THP policy has them); 0 or -errno. */
int gmem_alloc(struct gmem *gm, uint64_t base, uint64_t size);
/* The same backed as @pages says; @size a multiple of 2 MiB for THP and
 * HUGETLB.  0 or -errno (-ENOMEM: HUGETLB and too few free huge pages). */
int gmem_alloc_pages(struct gmem *gm, uint64_t base, uint64_t size,
		     enum gmem_pages pages);
/* 2 MiB huge pages the host can still hand out (free minus reserved), or
 * -1 if it cannot tell (no sysfs). */
long gmem_hugepages_available(void);
void gmem_free(struct gmem *gm);

/* Map @fd's first @gm->size bytes private over @gm's pages, so the guest
 * starts before the file is read and its writes never reach the file; a
 * copy of @fd is kept for gmem_maybe_data().  0 or -errno. */
int gmem_map_file(struct gmem *gm, int fd);

/* Open this process's page map (/proc/self/pagemap), which lets
 * gmem_maybe_data() tell untouched pages from the rest.  Once per process,
 * before its seccomp filter; without /proc (--jail) it fails and every
 * page may hold data.  0 or -errno. */
int gmem_pagemap_open(void);
void gmem_pagemap_close(void);

/* Bit i of @bits (n bits, the rest of the last word cleared) set if page
 * @first + i of @gm may hold a non-zero byte: it is mapped, swapped, or
 * lies where gmem_map_file()'s file has data.  A page the process never
 * touched reads as zeros.  Every bit set when that cannot be told (no page
 * map, a failed read).  Reads the page map with preadv, and the first time
 * after gmem_map_file() where its file has data (lseek SEEK_DATA and
 * SEEK_HOLE); 0 or -errno. */
int gmem_maybe_data(struct gmem *gm, uint64_t first, size_t n,
		    uint64_t *bits);

/* True if [gpa, gpa + len) lies wholly inside guest RAM (len may be 0). */
bool gmem_contains(const struct gmem *gm, uint64_t gpa, uint64_t len);

/* Host pointer for [gpa, gpa + len), or NULL if any byte of it is outside
 * RAM or the range wraps. */
void *gmem_ptr(const struct gmem *gm, uint64_t gpa, uint64_t len);

/* Copy helpers: 0 or -EFAULT. */
int gmem_read(const struct gmem *gm, uint64_t gpa, void *dst, uint64_t len);
int gmem_write(const struct gmem *gm, uint64_t gpa, const void *src,
	       uint64_t len);

#endif
