/* SPDX-License-Identifier: MIT */
/* The host's start-up profile: when rivet started (its main()), named
 * phases of setting a VM up (printed by --stats), and the first KVM_RUN.
 * Stamps are CLOCK_REALTIME nanoseconds, so a harness can relate them to
 * its own clock; 0 means "not yet".  Thread-safe. */
#ifndef RIVET_STARTUP_H
#define RIVET_STARTUP_H

#include <stdint.h>

#define STARTUP_PHASES 16	/* phases kept; later ones are dropped */

int64_t startup_now_ns(void);
/* Note the time rivet started: call first thing in main(). */
void startup_note_start(void);
/* Note the first KVM_RUN (the first call wins; cheap after that). */
void startup_note_first_run(void);
int64_t startup_start_ns(void);
int64_t startup_first_run_ns(void);

/* Note that @phase (a string literal) is done. */
void startup_phase(const char *phase);
/* Every phase noted, as milliseconds since the start, to stderr. */
void startup_print_phases(void);

/* Milliseconds from @a to @b, -1 if either is 0. */
double startup_ms_between(int64_t a, int64_t b);

#endif
