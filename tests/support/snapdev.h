/* SPDX-License-Identifier: MIT */
/* The devices whose snapshot records the unit tests, the snap_dev fuzz
 * target and its seed generator exercise: each made the same way every
 * time (the configuration a restore starts from), with recorders on its
 * outputs, driven into a fixed non-trivial state through its guest
 * interface, and probed with a fixed sequence of guest accesses whose
 * results, and the outputs they cause, are written down so that a
 * restored device can be compared with the original.
 *
 * The PCI kind is the host bridge (its ECAM device is the one saved) with
 * two fake functions of their own save/load hooks (slots 1 and 5, which
 * share an INTx source); the CFI flash is a read-only bank over a memfd. */
#ifndef RIVET_TEST_SNAPDEV_H
#define RIVET_TEST_SNAPDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/gmem.h"
#include "core/irq.h"
#include "devices/pci.h"
#include "tests/support/irqrec.h"
#include "tests/support/pcihost.h"

struct snap_w;

enum ts_sd_kind {
	TS_SD_UART,
	TS_SD_PLIC,
	TS_SD_APLIC,
	TS_SD_GED,
	TS_SD_BOOT_TIMER,
	TS_SD_CFI_FLASH,
	TS_SD_FWCFG,
	TS_SD_PCI,
	TS_SD_NR
};

#define TS_SD_IRQS	64

/* The fake PCI function: BAR0 (8 KiB, 64-bit) with the MSI-X table at 0
 * and the PBA at 0x1000 (TS_SD_FN_VECS vectors); its own register at
 * TS_SD_FN_REG (bit 31 reserved: a record with it set is refused), and
 * writes to TS_SD_FN_IRQ (INTx level) and TS_SD_FN_NOTIFY (signal that
 * vector). */
#define TS_SD_FN_VECS	3
#define TS_SD_FN_REG	0x1800
#define TS_SD_FN_IRQ	0x1804
#define TS_SD_FN_NOTIFY	0x1808
#define TS_SD_FN_RSVD	0x80000000u

struct ts_sd_fn {
	struct pci_dev pd;
	uint32_t reg;
	unsigned int msix_changes;	/* msix_changed calls */
};

/* A fake function, with its save/load hooks or (!@hooks) without. */
struct ts_sd_fn *ts_sd_fn_new(bool hooks);

struct ts_snapdev {
	enum ts_sd_kind kind;
	struct rivet_dev *dev;		/* the one saved and loaded */
	/* wired lines (UART, GED, PCI INTx): levels and calls */
	struct irq_chip chip;
	bool level[TS_SD_IRQS];
	unsigned long irq_calls;
	struct ts_hart_rec harts;	/* PLIC */
	struct ts_msi_rec msi;		/* APLIC */
	struct tp_host pci;		/* PCI */
	struct ts_sd_fn *fn[2];		/* PCI: slots 1 and 5 */
	struct gmem ram;		/* fw_cfg's DMA */
	int flash_modes;		/* CFI flash: mode_fn calls */
	bool flash_array;		/* what mode_fn said last */
};

const char *ts_sd_name(enum ts_sd_kind kind);

/* A fresh device of @kind; aborts on failure. */
struct ts_snapdev *ts_sd_new(enum ts_sd_kind kind);
void ts_sd_free(struct ts_snapdev *sd);

/* Through the guest interface (and host-side inputs: wire levels, a
 * button press, console input), into the kind's fixed state. */
void ts_sd_drive(struct ts_snapdev *sd);

/* Save into @w (initialised here; the caller frees it): the save's
 * return value. */
int ts_sd_save(struct ts_snapdev *sd, struct snap_w *w);
/* Load @len bytes at @p: the load's return value. */
int ts_sd_load(struct ts_snapdev *sd, const void *p, size_t len);

/* Make the fixed probe accesses and write what they read, and the
 * outputs' state after them, to @out (initialised here). */
void ts_sd_probe(struct ts_snapdev *sd, struct snap_w *out);

#endif
