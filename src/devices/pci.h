/* SPDX-License-Identifier: MIT */
/* A small PCI function model (PCI Local Bus 3.0 type-0 header, MSI-X).
 *
 * A device embeds a struct pci_dev, describes itself with pci_dev_init(),
 * pci_add_bar(), pci_add_cap() and pci_msix_init(), and is handed to a host
 * bridge (pci_host_add_device()), which owns it from then on, wires its
 * INTx line and MSI chip, and routes the guest's config space and BAR
 * accesses to it.
 *
 * Config space: 256 bytes (conventional PCI; offsets 0x100-0xfff of the
 * ECAM page read 0).  Each byte has a writable mask and a write-1-to-clear
 * mask; everything else is read-only, so writes to read-only fields are
 * silently dropped as on hardware.  BARs are memory BARs (32- or 64-bit,
 * never I/O), a power of two of at least 4 KiB; sizing works by writing
 * all-ones and reading back, as Linux and EDK2 do.  Command: memory space,
 * bus master, parity/SERR enables and INTx disable are writable; I/O space
 * reads 0.  Status: capability list and INTx status are read-only, the
 * error bits write-1-to-clear.  No expansion ROM.
 *
 * Locking: every call into the device's ops (BAR accesses, config hooks)
 * is made with pd->lock held; a device's own code (e.g. its
 * backend) therefore needs no lock of its own, and pci_set_irq() /
 * pci_msix_notify() are called with pd->lock held too. */
#ifndef RIVET_PCI_H
#define RIVET_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/irq.h"
#include "core/msi.h"

#define PCI_CFG_SIZE		256	/* what a conventional function has */
#define PCI_ECAM_FN_SIZE	4096	/* what ECAM decodes per function */
#define PCI_NR_BARS		6
#define PCI_BAR_MIN_SIZE	4096

/* Type-0 header offsets. */
#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define PCI_STATUS		0x06
#define PCI_REVISION_ID		0x08
#define PCI_CLASS_PROG		0x09
#define PCI_CACHE_LINE_SIZE	0x0c
#define PCI_LATENCY_TIMER	0x0d
#define PCI_HEADER_TYPE		0x0e
#define PCI_BAR0		0x10
#define PCI_SUBSYSTEM_VENDOR_ID	0x2c
#define PCI_SUBSYSTEM_ID	0x2e
#define PCI_ROM_ADDRESS		0x30
#define PCI_CAPABILITY_LIST	0x34
#define PCI_INTERRUPT_LINE	0x3c
#define PCI_INTERRUPT_PIN	0x3d
#define PCI_CAP_START		0x40

#define PCI_COMMAND_IO		0x0001
#define PCI_COMMAND_MEMORY	0x0002
#define PCI_COMMAND_MASTER	0x0004
#define PCI_COMMAND_PARITY	0x0040
#define PCI_COMMAND_SERR	0x0100
#define PCI_COMMAND_INTX_DISABLE 0x0400

#define PCI_STATUS_INTERRUPT	0x0008
#define PCI_STATUS_CAP_LIST	0x0010
#define PCI_STATUS_W1C		0xf900	/* error bits 8, 11-15 */

#define PCI_BAR_MEM_TYPE_64	0x04
#define PCI_BAR_PREFETCH	0x08

/* Capability IDs and MSI-X (PCI 3.0 §6.8.2). */
#define PCI_CAP_ID_VNDR		0x09
#define PCI_CAP_ID_MSIX		0x11
#define PCI_MSIX_FLAGS		2	/* message control, u16 */
#define PCI_MSIX_TABLE		4	/* u32: offset | BIR */
#define PCI_MSIX_PBA		8	/* u32: offset | BIR */
#define PCI_MSIX_CAP_LEN	12
#define PCI_MSIX_FLAGS_QSIZE	0x07ff
#define PCI_MSIX_FLAGS_MASKALL	0x4000
#define PCI_MSIX_FLAGS_ENABLE	0x8000
#define PCI_MSIX_ENTRY_SIZE	16
#define PCI_MSIX_ENTRY_CTRL_MASKBIT 1
#define PCI_MSIX_MAX_VECTORS	2048

/* BAR flags for pci_add_bar(). */
#define PCI_BAR_F_64		0x1
#define PCI_BAR_F_PREFETCH	0x2

struct pci_dev;
struct pci_host;
struct snap_r;
struct snap_w;

struct pci_dev_ops {
	const char *name;
	/* An access inside BAR @bar: @off + @len <= the BAR's size, @len is
	 * 1, 2, 4 or 8; reads must fill all @len bytes.  Not called for the
	 * MSI-X table and PBA, which the core serves. */
	void (*bar_read)(struct pci_dev *pd, unsigned int bar, uint64_t off,
			 uint8_t *data, unsigned int len);
	void (*bar_write)(struct pci_dev *pd, unsigned int bar, uint64_t off,
			  const uint8_t *data, unsigned int len);
	/* Optional: before a config read of [@off, @off + @len), so the
	 * device can refresh bytes it computes. */
	void (*config_read)(struct pci_dev *pd, uint32_t off,
			    unsigned int len);
	/* Optional: after a config write of [@off, @off + @len) has been
	 * applied through the masks. */
	void (*config_write)(struct pci_dev *pd, uint32_t off,
			     unsigned int len);
	/* Optional: after anything that may change whether and where an
	 * MSI-X vector goes (table, enable, function mask, bus mastering);
	 * pci_msix_message() tells. */
	void (*msix_changed)(struct pci_dev *pd);
	/* Snapshots: the function's own state beyond what the PCI core
	 * saves (config space, BARs, MSI-X table and PBA, INTx level), with
	 * pd->lock held; as struct dev_ops describes.  Both NULL: the
	 * function cannot be saved yet. */
	int (*save)(struct pci_dev *pd, struct snap_w *w);
	int (*load)(struct pci_dev *pd, struct snap_r *r);
	/* Free the device, including @pd (after pci_dev_fini()). */
	void (*destroy)(struct pci_dev *pd);
};

struct pci_id {
	uint16_t vendor, device;
	uint16_t subsys_vendor, subsys;
	uint8_t revision;
	uint32_t class_code;	/* base << 16 | sub << 8 | prog-if */
	uint8_t int_pin;	/* 0: no INTx, 1..4: INTA..INTD */
};

struct pci_bar {
	uint64_t size;		/* 0: not implemented */
	unsigned int flags;	/* PCI_BAR_F_* */
};

struct pci_msix {
	unsigned int nvec;	/* 0: no MSI-X */
	uint8_t cap;		/* capability offset in config space */
	unsigned int bar;
	uint64_t table_off;
	uint64_t pba_off;
	uint32_t *table;	/* nvec x 4 dwords */
	uint64_t *pba;		/* pending bits */
};

struct pci_dev {
	const struct pci_dev_ops *ops;
	void *priv;
	pthread_mutex_t lock;
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];
	uint8_t w1cmask[PCI_CFG_SIZE];
	struct pci_bar bars[PCI_NR_BARS];
	uint8_t last_cap;	/* offset of the last capability, 0: none */
	uint8_t cap_end;	/* first free config byte for a capability */
	bool intx_level;	/* what the function asks for */
	bool intx_line;		/* what the line was last driven to */
	struct pci_msix msix;
	/* Set by pci_host_add_device(). */
	struct pci_host *host;
	unsigned int slot;
	struct irq_line intx;
	const struct msi_chip *msi;
};

/* ---- for device models ---- */

/* 0 or -errno (mutex). */
int pci_dev_init(struct pci_dev *pd, const struct pci_dev_ops *ops,
		 const struct pci_id *id);
void pci_dev_fini(struct pci_dev *pd);

/* Implement BAR @bar (and @bar + 1 for a 64-bit BAR) of @size bytes
 * (power of two, >= PCI_BAR_MIN_SIZE, <= 2 GiB for 32-bit).  0 or
 * -EINVAL/-EEXIST. */
int pci_add_bar(struct pci_dev *pd, unsigned int bar, uint64_t size,
		unsigned int flags);

/* Append a capability of @len bytes (>= 2) with ID @id to the list; the
 * ID and next pointer are filled in and read-only, the rest is zero and
 * read-only until the caller sets bytes and masks.  Returns its config
 * offset or -ENOSPC. */
int pci_add_cap(struct pci_dev *pd, uint8_t id, unsigned int len);

/* Raw config space set-up (no masks applied): little-endian values. */
void pci_cfg_set(struct pci_dev *pd, uint32_t off, unsigned int len,
		 uint32_t v);
void pci_cfg_set_wmask(struct pci_dev *pd, uint32_t off, unsigned int len,
		       uint32_t mask);
uint32_t pci_cfg_get(const struct pci_dev *pd, uint32_t off,
		     unsigned int len);

/* MSI-X with @nvec vectors (1..PCI_MSIX_MAX_VECTORS): the table at
 * @table_off and the PBA at @pba_off of BAR @bar (added before; both
 * 8-byte aligned, inside the BAR, not overlapping).  Adds the capability.
 * 0 or -EINVAL/-ENOMEM/-ENOSPC. */
int pci_msix_init(struct pci_dev *pd, unsigned int nvec, unsigned int bar,
		  uint64_t table_off, uint64_t pba_off);
bool pci_msix_enabled(const struct pci_dev *pd);
/* Signal vector @vec: sent through the MSI chip, or left pending while
 * the vector or the function is masked or bus mastering is off.  Vectors
 * outside the table are dropped.  MSI-X must be enabled. */
void pci_msix_notify(struct pci_dev *pd, unsigned int vec);
/* Lock held: may vector @vec's message go out now (MSI-X on, neither it
 * nor the function masked, bus mastering on)?  If so, its address and
 * data. */
bool pci_msix_message(const struct pci_dev *pd, unsigned int vec,
		      uint64_t *addr, uint32_t *data);

/* Drive the function's INTx: the line follows @level unless INTx is
 * disabled in the command register or MSI-X is enabled; status bit 3
 * follows @level. */
void pci_set_irq(struct pci_dev *pd, bool level);

bool pci_bus_master(const struct pci_dev *pd);
bool pci_mem_enabled(const struct pci_dev *pd);
/* Current guest address of BAR @bar (0 if not implemented). */
uint64_t pci_bar_addr(const struct pci_dev *pd, unsigned int bar);

/* ---- for the host bridge (and tests): each takes pd->lock ---- */

/* Config access: @off + @len <= PCI_ECAM_FN_SIZE, @len 1/2/4, aligned. */
uint32_t pci_cfg_read(struct pci_dev *pd, uint32_t off, unsigned int len);
void pci_cfg_write(struct pci_dev *pd, uint32_t off, unsigned int len,
		   uint32_t v);
/* An access at @off of BAR @bar (@off + @len <= its size). */
void pci_bar_access(struct pci_dev *pd, unsigned int bar, uint64_t off,
		    uint8_t *data, unsigned int len, bool is_write);
void pci_dev_destroy(struct pci_dev *pd);

/* ---- snapshots: for the host bridge, with pd->lock held ---- */

/* Append what the core keeps of @pd: config space (BAR addresses
 * included), the INTx level, the MSI-X table and PBA.  0 or -errno. */
int pci_core_save(struct pci_dev *pd, struct snap_w *w);
/* Read that back into @pd, made from the same configuration and not yet
 * run, checking it (read-only config bits must be @pd's, the MSI-X size
 * the same, no vector pending that could be sent).  Drives nothing: the
 * INTx line's level is remembered, the host counts it.  A bad record
 * changes nothing.  0, -EBADMSG or -ENOMEM. */
int pci_core_load(struct pci_dev *pd, struct snap_r *r);

#endif
