/* SPDX-License-Identifier: MIT */
/* The firmware side of the table loader, for tests: tl_apply() reads
 * `etc/table-loader` and the blobs from a fw_cfg device through its guest
 * interface (selector and data registers, DMA), performs the commands in
 * guest RAM the way EDK2's QemuFwCfgAcpiPlatformDxe does, with its checks,
 * and says where each blob went. */
#ifndef RIVET_TEST_TL_EXEC_H
#define RIVET_TEST_TL_EXEC_H

#include <stdint.h>

#include "fwcfg/table_loader.h"

struct gmem;
struct rivet_dev;

struct tl_placement {
	char name[TL_FILE_SIZE];
	uint64_t addr;		/* guest physical */
	uint32_t size;
};

struct tl_result {
	struct tl_placement p[TL_MAX_FILES];
	unsigned int nr;
	unsigned int ignored;	/* commands of unknown type (skipped) */
};

/* Run `etc/table-loader` of @fwcfg like firmware: blobs are placed upwards
 * from @lo in [@lo, @hi) of @gm (the top 64 bytes hold DMA descriptors).
 * 0; -ENOENT (no loader or a missing file), -EPROTO (a malformed or
 * invalid command, as EDK2 would refuse it), -ENOSPC (no room), -EIO (the
 * device reported a DMA error), -EINVAL, -ENOMEM. */
int tl_apply(struct rivet_dev *fwcfg, const struct gmem *gm, uint64_t lo,
	     uint64_t hi, struct tl_result *res);

/* Where @name was placed, or 0. */
uint64_t tl_result_addr(const struct tl_result *res, const char *name);

#endif
