/* SPDX-License-Identifier: MIT */
/* Snapshot records of one device, for unit tests (cmocka): save into a
 * fresh writer (asserted to succeed), load from bytes. */
#ifndef RIVET_TEST_SNAP_DEV_H
#define RIVET_TEST_SNAP_DEV_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/device.h"
#include "snapshot/snap.h"

static inline void ts_snap_save(struct rivet_dev *dev, struct snap_w *w)
{
	snap_w_init(w);
	assert_int_equal(dev->ops->save(dev, w), 0);
	assert_int_equal(w->err, 0);
}

static inline int ts_snap_load(struct rivet_dev *dev, const uint8_t *p,
			       size_t n)
{
	struct snap_r r;

	snap_r_init(&r, p, n);
	return dev->ops->load(dev, &r);
}

#endif
