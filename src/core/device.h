/* SPDX-License-Identifier: MIT */
/* The device model.  Every device is a const table of operations plus an
 * instance; the board lists instances with their address and IRQ, puts them
 * on the MMIO bus and asks each to describe itself in the FDT.  Adding a
 * device touches its own file and one line in a board.
 *
 * Threading: mmio_read/mmio_write may be called from any vCPU thread at the
 * same time; a device protects its own state with its own lock.
 *
 * There is no reset: a guest reboot (or a reset asked for from outside) is
 * a fresh VM process with devices made anew from the configuration
 * (docs/architecture.md, "Processes"). */
#ifndef RIVET_DEVICE_H
#define RIVET_DEVICE_H

#include <stdint.h>

#include "core/irq.h"

struct aml_buf;
struct fdt_ctx;
struct rivet_dev;
struct snap_r;
struct snap_w;

struct dev_ops {
	const char *name;
	/* @data is little-endian, @len is 1, 2, 4 or 8; @off < dev->size.
	 * Reads must fill all @len bytes (zeros for unknown registers). */
	void (*mmio_read)(struct rivet_dev *dev, uint64_t off, uint8_t *data,
			  unsigned int len);
	void (*mmio_write)(struct rivet_dev *dev, uint64_t off,
			   const uint8_t *data, unsigned int len);
	/* Add the device's node to the FDT; 0 or -errno. Optional. */
	int (*fdt_node)(struct rivet_dev *dev, struct fdt_ctx *ctx);
	/* Append the device's description to the DSDT (ACPI boards only);
	 * 0 or -errno. Optional. */
	int (*acpi_dsdt)(struct rivet_dev *dev, struct aml_buf *dsdt);
	/* Free everything the device owns, including @dev. Optional. */
	void (*destroy)(struct rivet_dev *dev);
	/* Snapshots (docs/snapshot.md), with every vCPU paused and the I/O
	 * threads drained, on the main thread.  save appends the device's
	 * guest-visible state to @w (src/snapshot/snap.h); load reads it
	 * back into a device made from the same configuration and not yet
	 * run, checking every value (the file is untrusted), and redoes
	 * what that state means on the host side (memory slots,
	 * ioeventfds) but raises no interrupt: line levels are the
	 * interrupt controller's state.  0 or -errno (load: -EBADMSG for a
	 * bad record, -EINVAL with r->what set for one of another
	 * configuration).  Both NULL: the device cannot be saved yet, and a
	 * snapshot of a VM that has it is refused. */
	int (*save)(struct rivet_dev *dev, struct snap_w *w);
	int (*load)(struct rivet_dev *dev, struct snap_r *r);
};

struct rivet_dev {
	const struct dev_ops *ops;
	uint64_t base;		/* guest physical MMIO base */
	uint64_t size;		/* bytes of MMIO space */
	struct irq_line irq;	/* irq.irq == 0: no interrupt */
	void *priv;		/* device state */
	uint64_t accesses;	/* guest MMIO accesses (bus_access, relaxed) */
};

/* Little-endian access helpers for MMIO data buffers. */
static inline uint64_t mmio_get(const uint8_t *data, unsigned int len)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < len && i < 8; i++)
		v |= (uint64_t)data[i] << (8 * i);
	return v;
}

static inline void mmio_put(uint8_t *data, unsigned int len, uint64_t v)
{
	for (unsigned int i = 0; i < len && i < 8; i++)
		data[i] = (uint8_t)(v >> (8 * i));
}

#endif
