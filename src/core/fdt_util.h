/* SPDX-License-Identifier: MIT */
/* Helpers for building the guest's device tree with libfdt.  The board owns
 * the skeleton (cpus, memory, interrupt controllers, /chosen); each device
 * adds its own node under /soc through these helpers. */
#ifndef RIVET_FDT_UTIL_H
#define RIVET_FDT_UTIL_H

#include <stddef.h>
#include <stdint.h>

struct rivet_dev;

#define FDT_IRQ_TYPE_EDGE_RISING 1
#define FDT_IRQ_TYPE_LEVEL_HIGH 4

/* Hart N's interrupt controller (/cpus/cpu@N/interrupt-controller). */
#define FDT_CPU_INTC_PHANDLE(hart) ((uint32_t)(hart) + 1)

struct fdt_ctx {
	void *fdt;		/* read-write tree with spare room */
	size_t size;		/* buffer size */
	uint32_t irq_phandle;	/* wired interrupt parent (APLIC or PLIC) */
	/* Its #interrupt-cells: 2 (APLIC: source, sense), 1 (PLIC: source);
	 * 0 counts as 2. */
	unsigned int irq_cells;
	uint32_t msi_phandle;	/* MSI controller (the IMSIC); 0: none */
	char stdout_path[64];	/* set by the console device */
};

/* The interrupt specifier of wired source @irq under ctx->irq_phandle,
 * in FDT byte order, into @cells (2 entries); returns how many cells. */
unsigned int fdtu_irq_spec(const struct fdt_ctx *ctx, uint32_t irq,
			   uint32_t cells[2]);

/* Map a libfdt error code (negative FDT_ERR_*) to -errno. */
int fdtu_errno(int fdt_err);

/* Add /soc/<name>@<base> with compatible, reg = <base size> and, when the
 * device has an IRQ, interrupts = <irq LEVEL_HIGH> and interrupt-parent.
 * Returns the new node's offset (valid until the next insertion) or -errno. */
int fdtu_add_soc_node(struct fdt_ctx *ctx, const char *name,
		      const char *compatible, const struct rivet_dev *dev);

/* Write the path of node @off into @buf; 0 or -errno. */
int fdtu_path(const struct fdt_ctx *ctx, int off, char *buf, size_t len);

#endif
