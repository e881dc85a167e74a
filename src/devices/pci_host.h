/* SPDX-License-Identifier: MIT */
/* A generic PCIe host bridge with an ECAM config window
 * (`pci-host-ecam-generic`): one segment, bus 0 only, up to 32 slots
 * (single-function devices), a host bridge function at 00:00.0.
 *
 * Windows, each a struct rivet_dev the board puts on the MMIO bus:
 *  - ECAM: bus << 20 | device << 15 | function << 12 | register.  Accesses
 *    of 1, 2 or 4 bytes, naturally aligned; 8-byte and misaligned ones are
 *    logged, reads give all-ones.  Absent functions (other buses, empty
 *    slots, functions 1-7) read all-ones and ignore writes; offsets
 *    0x100-0xfff of a present function read 0.  This device owns the host
 *    bridge and every PCI device on it: its destroy frees them all; it
 *    adds the FDT node (and the DSDT, when ACPI is built).
 *  - MMIO32 (required) and MMIO64 (optional): the guest's BARs live there,
 *    identity-mapped (PCI address = CPU address).  An access is routed to
 *    the memory BAR that contains it, if the function's memory decoding is
 *    on; anything else is logged, reads give all-ones.
 *  - PIO (optional): described in `ranges` for firmware that wants an I/O
 *    window; no function has I/O BARs, so reads give all-ones.
 *
 * BARs are the guest's to place: the host keeps a table of the BARs that
 * decode (memory enabled, address not 0, wholly inside MMIO32 or MMIO64)
 * and rebuilds it after each config write.  A BAR placed outside the
 * windows or over another BAR is logged; of overlapping BARs the one of
 * the lowest slot (then BAR number) wins.
 *
 * INTx: pin P (1..4) of slot S is source intx_base + (S + P - 1) % 4
 * (the standard swizzle), as the FDT interrupt-map says; a source shared
 * by several devices is asserted while any of them asserts its pin.  MSI-X messages
 * go to cfg->msi unchanged; the MSI chip must refuse addresses that are
 * not an IMSIC file (a failed send is logged by the device).
 *
 * Locking: config accesses hold the host lock for writing, BAR accesses
 * for reading, and then the function's own lock. */
#ifndef RIVET_PCI_HOST_H
#define RIVET_PCI_HOST_H

#include <stdint.h>

#include "core/irq.h"
#include "core/msi.h"

struct pci_dev;
struct pci_host;
struct rivet_dev;

#define PCI_HOST_MAX_SLOTS	32
#define PCI_HOST_NR_INTX	4
#define PCI_HOST_BRIDGE_VENDOR	0x1b36	/* Red Hat: QEMU's generic PCIe */
#define PCI_HOST_BRIDGE_DEVICE	0x0008	/* host bridge (gpex) */

enum pci_host_window {
	PCI_HOST_ECAM,
	PCI_HOST_PIO,
	PCI_HOST_MMIO32,
	PCI_HOST_MMIO64,
	PCI_HOST_NR_WINDOWS
};

struct pci_host_cfg {
	uint64_t ecam_base, ecam_size;	/* size: 1..256 MiB, MiB multiple */
	uint64_t pio_base, pio_size;	/* size 0: no I/O window */
	uint64_t mmio32_base, mmio32_size;	/* below 4 GiB, required */
	uint64_t mmio64_base, mmio64_size;	/* size 0: none */
	const struct irq_chip *irqchip;	/* INTx lines */
	uint32_t intx_base;		/* APLIC source of INTA at slot 0 */
	const struct msi_chip *msi;	/* MSI-X messages; NULL: none */
	uint32_t segment;		/* linux,pci-domain / _SEG */
};

/* The windows must be non-empty, not wrap, and not overlap each other.
 * Creates the host bridge at 00:00.0.  0 or -EINVAL/-ENOMEM. */
int pci_host_create(const struct pci_host_cfg *cfg, struct pci_host **out);

/* Put @pd in @slot (1..31), or the first free slot if @slot < 0, and wire
 * its INTx line and MSI chip.  On success the host owns @pd; on failure
 * (-EINVAL, -EBUSY: slot taken, -ENOSPC: bus full) the caller keeps it.
 * Returns the slot or -errno.  Only before the first guest access. */
int pci_host_add_device(struct pci_host *h, struct pci_dev *pd, int slot);

/* The window's bus device, NULL if the window is absent.  Put each on the
 * bus (ECAM first: with machine_add_device() it owns the others, and if
 * adding it fails it has freed them already).  The window devices other
 * than ECAM have no destroy of their own. */
struct rivet_dev *pci_host_window(struct pci_host *h,
				  enum pci_host_window w);

/* The APLIC source pin @pin (1..4) of @slot is wired to. */
uint32_t pci_host_intx_irq(const struct pci_host *h, unsigned int slot,
			   unsigned int pin);

/* Free the host and its devices when the ECAM device was never handed to
 * the bus (error paths). */
void pci_host_destroy(struct pci_host *h);

#endif
