// SPDX-License-Identifier: MIT
#include "core/bus.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "core/log.h"

static uint64_t dev_end(const struct rivet_dev *d)
{
	return d->base + d->size;	/* no wrap: checked in bus_add() */
}

int bus_add(struct bus *bus, struct rivet_dev *dev)
{
	unsigned int i;

	if (bus->sealed)
		return -EPERM;
	if (!dev || !dev->ops || dev->size == 0 ||
	    dev->base + dev->size < dev->base)
		return -EINVAL;
	if (bus->nr >= BUS_MAX_DEVICES)
		return -ENOSPC;
	for (i = 0; i < bus->nr; i++) {
		const struct rivet_dev *o = bus->devs[i];

		if (dev->base < dev_end(o) && o->base < dev_end(dev))
			return -EEXIST;
		/* Sorted and disjoint: past the first window above us,
		 * nothing further can overlap without overlapping it. */
		if (o->base > dev->base)
			break;
	}
	memmove(&bus->devs[i + 1], &bus->devs[i],
		(bus->nr - i) * sizeof(bus->devs[0]));
	bus->devs[i] = dev;
	bus->nr++;
	return 0;
}

void bus_seal(struct bus *bus)
{
	bus->sealed = true;
}

struct rivet_dev *bus_find(const struct bus *bus, uint64_t addr,
			   unsigned int len)
{
	unsigned int lo = 0, hi = bus->nr;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		struct rivet_dev *d = bus->devs[mid];

		if (addr < d->base) {
			hi = mid;
		} else if (addr - d->base >= d->size) {
			lo = mid + 1;
		} else {
			if (len > d->size - (addr - d->base))
				return NULL;	/* straddles the end */
			return d;
		}
	}
	return NULL;
}

int bus_access(const struct bus *bus, uint64_t addr, uint8_t *data,
	       unsigned int len, bool is_write)
{
	struct rivet_dev *d;

	if (len != 1 && len != 2 && len != 4 && len != 8) {
		log_guest("mmio: %s of unsupported width %u at 0x%" PRIx64,
			  is_write ? "write" : "read", len, addr);
		if (!is_write && len <= 8)
			memset(data, 0, len);
		return -EINVAL;
	}
	d = bus_find(bus, addr, len);
	if (!d) {
		log_guest("mmio: %u-byte %s at unmapped 0x%" PRIx64 " ignored",
			  len, is_write ? "write" : "read", addr);
		if (!is_write)
			memset(data, 0, len);
		return -ENOENT;
	}
	__atomic_fetch_add(&d->accesses, 1, __ATOMIC_RELAXED);
	if (is_write) {
		if (d->ops->mmio_write)
			d->ops->mmio_write(d, addr - d->base, data, len);
	} else {
		memset(data, 0, len);
		if (d->ops->mmio_read)
			d->ops->mmio_read(d, addr - d->base, data, len);
	}
	return 0;
}
