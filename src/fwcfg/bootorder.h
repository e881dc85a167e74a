/* SPDX-License-Identifier: MIT */
/* Firmware boot order over fw_cfg, as QEMU hands it to EDK2
 * (OvmfPkg QemuBootOrderLib):
 *
 *   "bootorder"           OpenFirmware device paths, one per line in
 *                         increasing bootindex, the last followed by a NUL;
 *                         EDK2 translates them (PCI slot/function) to UEFI
 *                         device path prefixes and moves the matching boot
 *                         options first in BootOrder.
 *   FWCFG_BOOT_MENU (le16 1) + "etc/boot-menu-wait" (le16 milliseconds):
 *                         how long the firmware waits for a key.
 *
 * A virtio-blk disk at PCI slot S is "/pci@<ECAM base, 16 hex>/scsi@S/disk@0,0"
 * (QEMU's name for it; EDK2 looks at the "pci" root, the slot, and the
 * scsi/disk pair). */
#ifndef RIVET_BOOTORDER_H
#define RIVET_BOOTORDER_H

#include <stddef.h>
#include <stdint.h>

#include "core/device.h"

enum bootorder_kind { BOOTORDER_DISK, BOOTORDER_NET };

struct bootorder_dev {
	int bootindex;		/* < 0: not in the boot order */
	unsigned int slot;	/* PCI device number, 1-31 */
	enum bootorder_kind kind;
};

/* Build the "bootorder" file for @n devices on the PCI root whose ECAM is
 * at @pci_base.  On success *out (malloc'ed, free() it) holds *len bytes,
 * NUL included; with no device in the order *out is NULL and *len 0.
 * -EINVAL for a slot out of range or a bootindex used twice, -ENOMEM. */
int bootorder_build(uint64_t pci_base, const struct bootorder_dev *devs,
		    size_t n, char **out, size_t *len);

/* Add "bootorder" (when @n devices include any with a bootindex) and, for
 * @timeout_s >= 0, the boot menu wait, to the fw_cfg device @fwcfg.
 * 0 or -errno. */
int bootorder_install(struct rivet_dev *fwcfg, uint64_t pci_base,
		      const struct bootorder_dev *devs, size_t n,
		      int timeout_s);

#endif
