// SPDX-License-Identifier: MIT
#include "tests/support/board.h"

#include <string.h>
#include <unistd.h>

#include "tests/support/check.h"
#include "tests/support/files.h"

int tboard_try(struct tboard *b, const char *board, unsigned int cpus,
	       uint64_t mem, unsigned int disks, enum irqchip_mode irqchip)
{
	TS_CHECK(disks <= TBOARD_MAX_DISKS);
	memset(b, 0, sizeof(*b));
	b->cfg = (struct vm_config){
		.board = board, .kernel = "Image", .cmdline = "console=ttyS0",
		.cpus = cpus, .mem_size = mem, .rng = true,
		.boot_timeout = -1, .irqchip = irqchip,
	};
	for (unsigned int i = 0; i < disks; i++) {
		ts_temp_file(b->disk[i], "board", TBOARD_DISK_SIZE, NULL);
		b->cfg.disks[i] = (struct disk_config){ .path = b->disk[i],
							.bootindex = -1 };
	}
	b->cfg.nr_disks = disks;
	return machine_create_offline(&b->m, &b->cfg);
}

void tboard_create(struct tboard *b, const char *board, unsigned int cpus,
		   uint64_t mem, unsigned int disks)
{
	TS_CHECK(tboard_try(b, board, cpus, mem, disks, IRQCHIP_AIA) == 0);
}

void tboard_destroy(struct tboard *b)
{
	machine_free(&b->m);
	for (unsigned int i = 0; i < TBOARD_MAX_DISKS; i++)
		if (b->disk[i][0])
			unlink(b->disk[i]);
}
