/* SPDX-License-Identifier: MIT */
/* A device tree for testing a device's fdt_node hook alone: an empty tree
 * with the /soc node devices add themselves under. */
#ifndef RIVET_TEST_FDT_H
#define RIVET_TEST_FDT_H

#include <libfdt.h>

#include "tests/support/check.h"

/* @buf (@size bytes) becomes an empty tree with /soc, #address-cells and
 * #size-cells 2, as the boards make it; returns /soc's offset. */
static inline int ts_fdt_soc(void *buf, int size)
{
	int soc;

	TS_CHECK(fdt_create_empty_tree(buf, size) == 0);
	soc = fdt_add_subnode(buf, 0, "soc");
	TS_CHECK(soc >= 0);
	TS_CHECK(fdt_setprop_u32(buf, soc, "#address-cells", 2) == 0);
	TS_CHECK(fdt_setprop_u32(buf, soc, "#size-cells", 2) == 0);
	return soc;
}

#endif
