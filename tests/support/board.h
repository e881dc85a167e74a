/* SPDX-License-Identifier: MIT */
/* A whole board, built the way `rivet run` builds it but without KVM
 * (machine_create_offline()): for tests of the boards, the device tree and
 * the ACPI tables. */
#ifndef RIVET_TEST_BOARD_H
#define RIVET_TEST_BOARD_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "machine/machine.h"

#define TBOARD_MAX_DISKS 2
#define TBOARD_DISK_SIZE (1u << 20)

struct tboard {
	struct vm_config cfg;
	struct machine m;
	char disk[TBOARD_MAX_DISKS][PATH_MAX];	/* temporary images */
};

/* @board for a direct kernel boot with @cpus harts, @mem bytes of RAM,
 * @disks temporary 1 MiB disks and the RNG, with KVM's AIA.  Aborts on
 * failure. */
void tboard_create(struct tboard *b, const char *board, unsigned int cpus,
		   uint64_t mem, unsigned int disks);
/* The same with interrupt controller @irqchip, and 0 or -errno instead of
 * aborting (the machine is built as far as it goes; tboard_destroy() it
 * either way). */
int tboard_try(struct tboard *b, const char *board, unsigned int cpus,
	       uint64_t mem, unsigned int disks, enum irqchip_mode irqchip);
void tboard_destroy(struct tboard *b);

#endif
