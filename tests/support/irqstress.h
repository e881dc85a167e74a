/* SPDX-License-Identifier: MIT */
/* A threaded stress test for an interrupt controller model (PLIC, APLIC):
 * device threads raise lines and wait until they are served, the test's
 * vCPU threads serve them through the controller, and a noise thread
 * pokes at it meanwhile.  A lost interrupt leaves its device waiting: the
 * run then ends at its deadline with an error counted.
 *
 * Each source s (1..TS_STRESS_SRC) belongs to device thread
 * (s - 1) % TS_STRESS_DEVS, which raises it TS_STRESS_ROUNDS times: under
 * the source's lock, when its status is false (served), it sets status,
 * counts raised and expected, and drives the line high.  Serving a source
 * (the vCPU threads) is the test's: clear status, lower the line, count
 * served -- and expected, when serving makes the controller deliver once
 * more. */
#ifndef RIVET_TEST_IRQSTRESS_H
#define RIVET_TEST_IRQSTRESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "core/irq.h"

#define TS_STRESS_SRC		32
#define TS_STRESS_DEVS		8
#define TS_STRESS_ROUNDS	2000
#define TS_STRESS_SECONDS	60
#define TS_STRESS_MAX_VCPUS	64

struct ts_stress_src {
	pthread_mutex_t lock;	/* the device's own lock */
	bool status;		/* the device wants service */
	unsigned long raised, served;
	unsigned long expected;	/* deliveries expected */
};

struct ts_stress {
	const struct irq_chip *chip;	/* the controller's inputs */
	void *ctx;			/* the test's */
	struct ts_stress_src src[TS_STRESS_SRC + 1];
	bool stop;			/* atomic */
	unsigned long errors;		/* atomic */
	time_t deadline;
};

/* @w (zeroed by the caller) for @chip, deadline TS_STRESS_SECONDS from
 * now. */
void ts_stress_init(struct ts_stress *w, const struct irq_chip *chip,
		    void *ctx);
void ts_stress_fini(struct ts_stress *w);

/* Count an error (any thread). */
void ts_stress_error(struct ts_stress *w);
/* Whether the run is over; past the deadline it is, with an error. */
bool ts_stress_stopped(struct ts_stress *w);
/* Drive source @s to @on; a refusal is an error. */
void ts_stress_set(struct ts_stress *w, uint32_t s, bool on);

/* Start @nr_vcpus threads running @vcpu(w, i), one running @noise(w)
 * (both loop until ts_stress_stopped()), then the device threads; wait
 * until the devices are done and every source is served (or the
 * deadline), stop, join everything.  0, or -errno when a thread cannot
 * be created (the run is stopped and joined). */
int ts_stress_run(struct ts_stress *w, unsigned int nr_vcpus,
		  void (*vcpu)(struct ts_stress *w, unsigned int id),
		  void (*noise)(struct ts_stress *w));

#endif
