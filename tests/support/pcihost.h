/* SPDX-License-Identifier: MIT */
/* A PCIe host bridge for the PCI unit tests, in the virt board's windows:
 * its windows on a bus, a fake MSI chip that records the last message,
 * and config/BAR access through the bus as a guest would make it. */
#ifndef RIVET_TEST_PCIHOST_H
#define RIVET_TEST_PCIHOST_H

#include <stdint.h>

#include "core/bus.h"
#include "core/irq.h"
#include "core/msi.h"
#include "devices/pci_host.h"

#define TP_ECAM_BASE	0x30000000ULL
#define TP_ECAM_SIZE	0x10000000ULL
#define TP_PIO_BASE	0x03000000ULL
#define TP_PIO_SIZE	0x10000ULL
#define TP_M32_BASE	0x40000000ULL
#define TP_M32_SIZE	0x40000000ULL
#define TP_M64_BASE	0x400000000ULL
#define TP_M64_SIZE	0x400000000ULL
#define TP_INTX_BASE	32

struct tp_msi {
	unsigned int sent;
	uint64_t addr;
	uint32_t data;
	int ret;		/* what send returns */
};

struct tp_host {
	struct pci_host *h;
	struct bus bus;
	struct tp_msi msi;
	struct msi_chip msichip;
};

/* The configuration tp_host_up() uses (for tests that vary it). */
struct pci_host_cfg tp_host_cfg(const struct irq_chip *irq,
				const struct msi_chip *msi);

/* The host bridge with every window, INTx on @irq, MSI into t->msi; the
 * @n devices @pd put in @slot (each must get it); the windows on t->bus,
 * sealed.  Aborts on failure. */
void tp_host_up(struct tp_host *t, const struct irq_chip *irq,
		struct pci_dev *const *pd, const int *slot, unsigned int n);
/* Destroy the host and its devices (nothing if it is down). */
void tp_host_down(struct tp_host *t);

/* The ECAM address of a config register. */
static inline uint64_t tp_ecam(unsigned int bus, unsigned int slot,
			       unsigned int fn, unsigned int reg)
{
	return TP_ECAM_BASE + ((uint64_t)bus << 20) + ((uint64_t)slot << 15) +
	       ((uint64_t)fn << 12) + reg;
}

/* A guest access of @len bytes at @addr through the bus (reads start from
 * 0xa5 bytes, so what the device leaves untouched shows). */
uint64_t tp_rd(struct tp_host *t, uint64_t addr, unsigned int len);
void tp_wr(struct tp_host *t, uint64_t addr, unsigned int len, uint64_t v);

#endif
