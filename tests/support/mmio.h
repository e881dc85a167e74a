/* SPDX-License-Identifier: MIT */
/* A guest's MMIO accesses straight to a device's dev_ops, for the tests of
 * devices with 32-bit registers (PLIC, APLIC).  Reads start from 0xa5
 * bytes, so a byte the device forgets to fill shows.
 *
 * ts_reg32_refuses() checks the accesses such a device must refuse;
 * ts_reg32_access() checks one access against a model of it, for the fuzz
 * targets. */
#ifndef RIVET_TEST_MMIO_H
#define RIVET_TEST_MMIO_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/device.h"
#include "core/log.h"

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

/* Every access to the 32-bit register at @off but an aligned 32-bit one
 * -- widths 1, 2 and 8 at @off, 4 bytes at @off + 1..3 -- reads zeros and
 * is logged, and so is each such write (@fill in every byte lane).
 * Whether they all were; the caller checks that nothing changed. */
static inline bool ts_reg32_refuses(struct rivet_dev *d, uint64_t off,
				    uint64_t fill)
{
	static const unsigned int widths[] = { 1, 2, 8 };
	uint8_t buf[8];

	for (size_t i = 0; i < sizeof(widths) / sizeof(widths[0]); i++) {
		unsigned long n = log_count();

		memset(buf, 0xa5, sizeof(buf));
		d->ops->mmio_read(d, off, buf, widths[i]);
		for (unsigned int j = 0; j < widths[i]; j++)
			if (buf[j])
				return false;
		ts_wr(d, off, widths[i], fill);
		if (log_count() <= n)
			return false;
	}
	for (uint64_t mis = 1; mis < 4; mis++) {
		unsigned long n = log_count();

		if (ts_rd(d, off + mis, 4))
			return false;
		ts_wr(d, off + mis, 4, (uint32_t)fill);
		if (log_count() <= n)
			return false;
	}
	return true;
}

/* What a device of naturally aligned 32-bit registers should do; other
 * accesses read 0 and change nothing. */
struct ts_reg32_model {
	uint32_t (*read)(void *ctx, uint64_t off);
	void (*write)(void *ctx, uint64_t off, uint32_t v);
	void *ctx;
};

/* One guest access of @len bytes at @off to @d (a write puts @v in every
 * byte lane), mirrored in @m when the device serves it (4 bytes,
 * aligned).  false when the device disagrees with @m: a served read's
 * value, a non-zero byte from an access it does not serve, or a byte
 * written past @len. */
static inline bool ts_reg32_access(struct rivet_dev *d,
				   const struct ts_reg32_model *m,
				   bool is_write, unsigned int len,
				   uint64_t off, uint32_t v)
{
	bool served = len == 4 && !(off & 3);
	uint8_t buf[8];

	memset(buf, 0xa5, sizeof(buf));
	if (is_write) {
		mmio_put(buf, len, (uint64_t)v << 32 | v);
		d->ops->mmio_write(d, off, buf, len);
		if (served)
			m->write(m->ctx, off, v);
		return true;
	}
	d->ops->mmio_read(d, off, buf, len);
	for (unsigned int i = len; i < sizeof(buf); i++)
		if (buf[i] != 0xa5)
			return false;
	if (served)
		return mmio_get(buf, 4) == m->read(m->ctx, off);
	for (unsigned int i = 0; i < len; i++)
		if (buf[i])
			return false;
	return true;
}

#endif
