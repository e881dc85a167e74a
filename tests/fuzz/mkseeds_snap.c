// SPDX-License-Identifier: MIT
/* Seeds for fuzz_snap_dev: the records the real devices save, fresh and
 * driven (tests/support/snapdev.c), each after its device's selector
 * byte, in DIR/snap_dev/seed-<device>-{fresh,driven}.  Apart from
 * mkseeds.c because it links rivet: a record's layout is the device's
 * business, so the seeds come from the devices themselves.
 *
 * Usage: mkseeds_snap DIR */
#include <stdio.h>
#include <stdlib.h>

#include "snapshot/snap.h"
#include "tests/support/snapdev.h"

static int emit(const char *dir, enum ts_sd_kind kind, bool drive)
{
	struct ts_snapdev *sd = ts_sd_new(kind);
	uint8_t sel = (uint8_t)kind;
	struct snap_w w;
	char path[4096];
	FILE *f;
	int ret = 0;

	if (drive)
		ts_sd_drive(sd);
	snprintf(path, sizeof(path), "%s/snap_dev/seed-%s-%s", dir,
		 ts_sd_name(kind), drive ? "driven" : "fresh");
	f = fopen(path, "wb");
	if (!f || ts_sd_save(sd, &w) || fwrite(&sel, 1, 1, f) != 1 ||
	    (w.len && fwrite(w.buf, w.len, 1, f) != 1)) {
		perror(path);
		ret = 1;
	}
	if (f && fclose(f))
		ret = 1;
	snap_w_free(&w);
	ts_sd_free(sd);
	return ret;
}

int main(int argc, char **argv)
{
	int ret = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: mkseeds_snap DIR\n");
		return 2;
	}
	for (int k = 0; k < TS_SD_NR; k++)
		ret |= emit(argv[1], k, false) | emit(argv[1], k, true);
	return ret;
}
