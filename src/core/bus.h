/* SPDX-License-Identifier: MIT */
/* The MMIO bus: a sorted array of device windows.  Overlaps are refused on
 * insert and the bus is sealed before the first vCPU runs, so lookups need
 * no lock. */
#ifndef RIVET_BUS_H
#define RIVET_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/device.h"

#define BUS_MAX_DEVICES 64

struct bus {
	struct rivet_dev *devs[BUS_MAX_DEVICES];	/* sorted by base */
	unsigned int nr;
	bool sealed;
};

/* 0, -EINVAL (empty or wrapping window, bad device), -EEXIST (overlap),
 * -ENOSPC (full) or -EPERM (sealed). */
int bus_add(struct bus *bus, struct rivet_dev *dev);
void bus_seal(struct bus *bus);
struct rivet_dev *bus_find(const struct bus *bus, uint64_t addr,
			   unsigned int len);

/* Dispatch one guest access.  Unmapped addresses, accesses that straddle a
 * window's end, and widths other than 1/2/4/8 are logged (rate-limited),
 * writes dropped and reads return zeros; the return value is then -ENOENT
 * or -EINVAL, 0 otherwise.  Each dispatched access counts in the device's
 * `accesses` (rivet run --stats). */
int bus_access(const struct bus *bus, uint64_t addr, uint8_t *data,
	       unsigned int len, bool is_write);

#endif
