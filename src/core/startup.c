// SPDX-License-Identifier: MIT
#include "core/startup.h"

#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

static _Atomic int64_t start_ns, first_run_ns;

static struct {
	const char *name;
	int64_t ns;
} phases[STARTUP_PHASES];
static _Atomic unsigned int nr_phases;

int64_t startup_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

double startup_ms_between(int64_t a, int64_t b)
{
	return a && b ? (double)(b - a) / 1e6 : -1.0;
}

void startup_note_start(void)
{
	atomic_store(&start_ns, startup_now_ns());
}

void startup_note_first_run(void)
{
	int64_t zero = 0;

	if (!atomic_load_explicit(&first_run_ns, memory_order_relaxed) &&
	    atomic_compare_exchange_strong(&first_run_ns, &zero,
					   startup_now_ns()))
		startup_phase("first KVM_RUN");
}

int64_t startup_start_ns(void)
{
	return atomic_load(&start_ns);
}

int64_t startup_first_run_ns(void)
{
	return atomic_load(&first_run_ns);
}

void startup_phase(const char *phase)
{
	unsigned int i = atomic_fetch_add(&nr_phases, 1);

	if (i < STARTUP_PHASES) {
		phases[i].ns = startup_now_ns();
		phases[i].name = phase;
	}
}

void startup_print_phases(void)
{
	unsigned int n = atomic_load(&nr_phases);
	int64_t start = atomic_load(&start_ns), prev = start;

	if (n > STARTUP_PHASES)
		n = STARTUP_PHASES;
	for (unsigned int i = 0; i < n; i++) {
		fprintf(stderr, "rivet: stats: start-up: %-24s +%8.3f ms (%.3f)\n",
			phases[i].name, startup_ms_between(start, phases[i].ns),
			startup_ms_between(prev, phases[i].ns));
		prev = phases[i].ns;
	}
}
