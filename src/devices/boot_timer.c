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

/* Realtime stamps in ns; 0 = not yet. */
static _Atomic int64_t start_ns, first_run_ns;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double ms_between(int64_t a, int64_t b)
{
	return a && b ? (double)(b - a) / 1e6 : -1.0;
}

void boot_timer_note_start(void)
{
	atomic_store(&start_ns, now_ns());
}

void boot_timer_note_run(void)
{
	int64_t zero = 0;

	if (!atomic_load_explicit(&first_run_ns, memory_order_relaxed) &&
	    atomic_compare_exchange_strong(&first_run_ns, &zero, now_ns()))
		boot_timer_phase("first KVM_RUN");
}

static struct {
	const char *name;
	int64_t ns;
} phases[BOOT_TIMER_PHASES];
static _Atomic unsigned int nr_phases;

void boot_timer_phase(const char *phase)
{
	unsigned int i = atomic_fetch_add(&nr_phases, 1);

	if (i < BOOT_TIMER_PHASES) {
		phases[i].ns = now_ns();
		phases[i].name = phase;
	}
}

void boot_timer_print_phases(void)
{
	unsigned int n = atomic_load(&nr_phases);
	int64_t start = atomic_load(&start_ns), prev = start;

	if (n > BOOT_TIMER_PHASES)
		n = BOOT_TIMER_PHASES;
	for (unsigned int i = 0; i < n; i++) {
		fprintf(stderr, "rivet: stats: start-up: %-24s +%8.3f ms (%.3f)\n",
			phases[i].name, ms_between(start, phases[i].ns),
			ms_between(prev, phases[i].ns));
		prev = phases[i].ns;
	}
}

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
	int64_t init = now_ns(), start = atomic_load(&start_ns),
		run = atomic_load(&first_run_ns);

	if (off != 0 || !len || data[0] != BOOT_TIMER_MAGIC ||
	    atomic_exchange(&bt->fired, true))
		return;
	/* Printed whatever the log level: the user asked for it. */
	fprintf(stderr,
		"rivet: boot-timer: guest init +%.3f ms, first KVM_RUN +%.3f ms "
		"(realtime start=%lld.%06lld first_run=%lld.%06lld "
		"init=%lld.%06lld)\n",
		ms_between(start, init), ms_between(start, run),
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

/* A new boot (guest reboot) is timed again. */
static void bt_reset(struct rivet_dev *dev)
{
	atomic_store(&((struct boot_timer *)dev)->fired, false);
}

static void bt_destroy(struct rivet_dev *dev)
{
	free(dev);
}

static const struct dev_ops boot_timer_ops = {
	.name = "boot-timer",
	.mmio_read = bt_read,
	.mmio_write = bt_write,
	.fdt_node = bt_fdt_node,
	.reset = bt_reset,
	.destroy = bt_destroy,
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
