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
};

/* Map anonymous, private, non-executable memory; 0 or -errno. */
int gmem_alloc(struct gmem *gm, uint64_t base, uint64_t size);
void gmem_free(struct gmem *gm);

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
