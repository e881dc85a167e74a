/* SPDX-License-Identifier: MIT */
/* A guest's MMIO accesses straight to a device's dev_ops, for the tests of
 * devices with 32-bit registers (PLIC, APLIC).  Reads start from 0xa5
 * bytes, so a byte the device forgets to fill shows. */
#ifndef RIVET_TEST_MMIO_H
#define RIVET_TEST_MMIO_H

#include <stdint.h>
#include <string.h>

#include "core/device.h"

static inline uint64_t ts_rd(struct rivet_dev *d, uint64_t off,
			     unsigned int len)
{
	uint8_t buf[8];

	memset(buf, 0xa5, sizeof(buf));
	d->ops->mmio_read(d, off, buf, len);
	return mmio_get(buf, len);
}

static inline void ts_wr(struct rivet_dev *d, uint64_t off, unsigned int len,
			 uint64_t v)
{
	uint8_t buf[8];

	mmio_put(buf, len, v);
	d->ops->mmio_write(d, off, buf, len);
}

static inline uint32_t ts_rd32(struct rivet_dev *d, uint64_t off)
{
	return (uint32_t)ts_rd(d, off, 4);
}

static inline void ts_wr32(struct rivet_dev *d, uint64_t off, uint32_t v)
{
	ts_wr(d, off, 4, v);
}

#endif
