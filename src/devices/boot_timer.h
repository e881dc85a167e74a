/* SPDX-License-Identifier: MIT */
/* The boot timer (--boot-timer): a one-register MMIO device, in the spirit
 * of Firecracker's, that the guest writes when its boot has reached a point
 * worth timing (rivet's test init does it first thing).  Writing the byte
 * BOOT_TIMER_MAGIC (any width, the low byte counts) at offset 0 makes rivet
 * print, once per boot:
 *
 *   rivet: boot-timer: guest init +T ms, first KVM_RUN +R ms
 *     (realtime start=S first_run=F init=I)
 *
 * on one line, times since rivet started (its main()) and the three
 * CLOCK_REALTIME stamps in seconds with microseconds, so a harness can
 * relate them to its own clock (the stamps come from core/startup.h).  Reads return zeros; other writes are
 * ignored.  FDT: compatible "rivet,boot-timer", reg = the window. */
#ifndef RIVET_BOOT_TIMER_H
#define RIVET_BOOT_TIMER_H

#include <stdint.h>

struct rivet_dev;

#define BOOT_TIMER_MAGIC 123
#define BOOT_TIMER_SIZE 0x1000ULL

/* The device at [@base, @base + BOOT_TIMER_SIZE): 0, -EINVAL, -ENOMEM. */
int boot_timer_create(uint64_t base, struct rivet_dev **out);

#endif
