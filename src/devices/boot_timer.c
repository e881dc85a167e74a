// SPDX-License-Identifier: MIT
#include "devices/boot_timer.h"

#include <errno.h>
#include <libfdt.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/device.h"
#include "core/fdt_util.h"
#include "core/log.h"
#include "core/startup.h"
#include "snapshot/snap.h"

struct boot_timer {
	struct rivet_dev dev;
	atomic_bool fired;
};

static void bt_read(struct rivet_dev *dev, uint64_t off, uint8_t *data,
		    unsigned int len)
{
	(void)dev;
	(void)off;
	memset(data, 0, len);
}

static void bt_write(struct rivet_dev *dev, uint64_t off, const uint8_t *data,
		     unsigned int len)
{
	struct boot_timer *bt = (struct boot_timer *)dev;
	int64_t init = startup_now_ns(), start = startup_start_ns(),
		run = startup_first_run_ns();

	if (off != 0 || !len || data[0] != BOOT_TIMER_MAGIC ||
	    atomic_exchange(&bt->fired, true))
		return;
	/* Printed whatever the log level: the user asked for it. */
	fprintf(stderr,
		"rivet: boot-timer: guest init +%.3f ms, first KVM_RUN +%.3f ms "
		"(realtime start=%lld.%06lld first_run=%lld.%06lld "
		"init=%lld.%06lld)\n",
		startup_ms_between(start, init),
		startup_ms_between(start, run),
		(long long)(start / 1000000000),
		(long long)(start % 1000000000 / 1000),
		(long long)(run / 1000000000),
		(long long)(run % 1000000000 / 1000),
		(long long)(init / 1000000000),
		(long long)(init % 1000000000 / 1000));
}

static int bt_fdt_node(struct rivet_dev *dev, struct fdt_ctx *ctx)
{
	int off = fdtu_add_soc_node(ctx, "boot-timer", "rivet,boot-timer", dev);

	return off < 0 ? off : 0;
}

static void bt_destroy(struct rivet_dev *dev)
{
	free(dev);
}

/* Record: fired (bool), so a restored guest that already reported its
 * boot does not print the line again. */
static int bt_save(struct rivet_dev *dev, struct snap_w *w)
{
	struct boot_timer *bt = (struct boot_timer *)dev;

	snap_w_bool(w, atomic_load(&bt->fired));
	return w->err;
}

static int bt_load(struct rivet_dev *dev, struct snap_r *r)
{
	struct boot_timer *bt = (struct boot_timer *)dev;
	bool fired = snap_r_bool(r);

	if (snap_r_finish(r))
		return -EBADMSG;
	atomic_store(&bt->fired, fired);
	return 0;
}

static const struct dev_ops boot_timer_ops = {
	.name = "boot-timer",
	.mmio_read = bt_read,
	.mmio_write = bt_write,
	.fdt_node = bt_fdt_node,
	.destroy = bt_destroy,
	.save = bt_save,
	.load = bt_load,
};

int boot_timer_create(uint64_t base, struct rivet_dev **out)
{
	struct boot_timer *bt;

	if (!out || base > UINT64_MAX - BOOT_TIMER_SIZE)
		return -EINVAL;
	bt = calloc(1, sizeof(*bt));
	if (!bt)
		return -ENOMEM;
	bt->dev.ops = &boot_timer_ops;
	bt->dev.base = base;
	bt->dev.size = BOOT_TIMER_SIZE;
	atomic_init(&bt->fired, false);
	*out = &bt->dev;
	return 0;
}
