// SPDX-License-Identifier: MIT
/* Fuzz target: a device's snapshot record, which comes from a state file
 * anyone may have written.  The first byte picks the device
 * (tests/support/snapdev.h: UART, PLIC, APLIC, GED, boot timer, CFI flash,
 * fw_cfg, the PCI host with two fake functions), the rest is given to its
 * load, on a device made fresh.  Checks: load returns 0 or -EBADMSG (or
 * -EINVAL for another configuration's record); a
 * refused record leaves the device as it was made (the PCI host, whose
 * functions load one by one, only has to stay safe to destroy); an
 * accepted one is saved back byte for byte (records are canonical: every
 * field is state, stored as is), that save loads into another fresh
 * device and saves the same again, and both devices then answer the same
 * guest accesses alike (the probe of snapdev.c). */
#include "fuzz.h"

#include <errno.h>

#include "snapshot/snap.h"
#include "tests/support/snapdev.h"

static bool same(const struct snap_w *a, const struct snap_w *b)
{
	return a->len == b->len && (!a->len || !memcmp(a->buf, b->buf, a->len));
}

/* A refused load changed nothing: @sd saves what a fresh device does. */
static void check_unchanged(struct ts_snapdev *sd)
{
	struct ts_snapdev *fresh = ts_sd_new(sd->kind);
	struct snap_w a, b;

	FUZZ_CHECK(ts_sd_save(sd, &a) == 0);
	FUZZ_CHECK(ts_sd_save(fresh, &b) == 0);
	FUZZ_CHECK(same(&a, &b));
	snap_w_free(&a);
	snap_w_free(&b);
	ts_sd_free(fresh);
}

static void check_accepted(struct ts_snapdev *a, const uint8_t *rec,
			   size_t len)
{
	struct ts_snapdev *b = ts_sd_new(a->kind);
	struct snap_w w1, w2, pa, pb;

	FUZZ_CHECK(ts_sd_save(a, &w1) == 0);
	FUZZ_CHECK(w1.len == len && (!len || !memcmp(w1.buf, rec, len)));
	FUZZ_CHECK(ts_sd_load(b, w1.buf, w1.len) == 0);
	FUZZ_CHECK(ts_sd_save(b, &w2) == 0);
	FUZZ_CHECK(same(&w1, &w2));
	/* The wired lines are the interrupt controller's to restore. */
	memcpy(b->level, a->level, sizeof(b->level));
	ts_sd_probe(a, &pa);
	ts_sd_probe(b, &pb);
	FUZZ_CHECK(pa.err == 0 && same(&pa, &pb));
	snap_w_free(&w1);
	snap_w_free(&w2);
	snap_w_free(&pa);
	snap_w_free(&pb);
	ts_sd_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ts_snapdev *sd;
	int ret;

	fuzz_quiet();
	if (!size)
		return 0;
	sd = ts_sd_new((enum ts_sd_kind)(data[0] % TS_SD_NR));
	ret = ts_sd_load(sd, data + 1, size - 1);
	/* -EINVAL: a record of another configuration (the PCI host's
	 * slots), not a corrupt one. */
	FUZZ_CHECK(ret == 0 || ret == -EBADMSG || ret == -EINVAL);
	if (ret && sd->kind != TS_SD_PCI)
		check_unchanged(sd);
	else if (!ret)
		check_accepted(sd, data + 1, size - 1);
	ts_sd_free(sd);
	return 0;
}
