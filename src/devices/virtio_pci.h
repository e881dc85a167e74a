/* SPDX-License-Identifier: MIT */
/* The modern virtio-pci transport (virtio 1.2 §4.1; no legacy interface).
 *
 * A PCI function (vendor 0x1af4, device 0x1040 + virtio device ID,
 * revision 1, INTA) with:
 *  - BAR 1 (32-bit memory, 4 KiB): the MSI-X table at 0 and the PBA at
 *    0x800, one vector per queue plus one for configuration changes;
 *  - BAR 4 (64-bit memory, 16 KiB): common configuration at 0x0000, ISR
 *    at 0x1000, device configuration at 0x2000, notifications at 0x3000
 *    (queue N at 0x3000 + 4 * N: queue_notify_off = N,
 *    notify_off_multiplier = 4);
 *  - vendor capabilities for each of those structures and a PCI
 *    configuration access capability (its window reaches BAR 4 only);
 *    an MSI-X capability.
 *
 * Common configuration fields are accessed with their own width; 64-bit
 * fields also as two 32-bit halves.  Anything else is logged and ignored
 * (reads 0).  The device configuration accepts 1/2/4/8-byte accesses
 * inside the backend's config size.  Notifications are 2- or 4-byte writes
 * and are served synchronously, under the function's lock, while bus
 * mastering is on.
 *
 * Interrupts: with MSI-X enabled, a queue or configuration event sends the
 * vector the driver assigned (none for VIRTIO_MSI_NO_VECTOR; a vector
 * beyond the table reads back as NO_VECTOR); the ISR is not used.  With
 * MSI-X disabled, the ISR bit is set and INTx raised until the driver
 * reads the ISR (which clears it).  Device reset (status 0) restores the
 * vectors to NO_VECTOR and clears the ISR.  A driver that breaks the
 * virtqueue rules gets DEVICE_NEEDS_RESET and a configuration interrupt,
 * as with virtio-mmio (src/devices/virtio_common.h). */
#ifndef RIVET_VIRTIO_PCI_H
#define RIVET_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

struct gmem;
struct pci_dev;
struct virtio_backend;

#define VIRTIO_PCI_VENDOR		0x1af4
#define VIRTIO_PCI_DEVICE_BASE		0x1040
#define VIRTIO_PCI_SUBSYS		0x1100
#define VIRTIO_PCI_REVISION		1
#define VIRTIO_MSI_NO_VECTOR		0xffff

#define VIRTIO_PCI_MSIX_BAR		1
#define VIRTIO_PCI_MSIX_BAR_SIZE	0x1000
#define VIRTIO_PCI_MSIX_TABLE		0x000
#define VIRTIO_PCI_MSIX_PBA		0x800
#define VIRTIO_PCI_BAR			4
#define VIRTIO_PCI_BAR_SIZE		0x4000
#define VIRTIO_PCI_COMMON_OFF		0x0000
#define VIRTIO_PCI_COMMON_LEN		0x38
#define VIRTIO_PCI_ISR_OFF		0x1000
#define VIRTIO_PCI_DEVICE_OFF		0x2000
#define VIRTIO_PCI_DEVICE_MAX		0x1000
#define VIRTIO_PCI_NOTIFY_OFF		0x3000
#define VIRTIO_PCI_NOTIFY_MULT		4
#define VIRTIO_PCI_MAX_QUEUES		64

/* struct virtio_pci_cap (virtio 1.2 §4.1.4). */
#define VIRTIO_PCI_CAP_LEN		2
#define VIRTIO_PCI_CAP_CFG_TYPE		3
#define VIRTIO_PCI_CAP_BAR		4
#define VIRTIO_PCI_CAP_ID		5
#define VIRTIO_PCI_CAP_OFFSET		8
#define VIRTIO_PCI_CAP_LENGTH		12
#define VIRTIO_PCI_CAP_SIZE		16
#define VIRTIO_PCI_NOTIFY_CAP_MULT	16	/* notify_off_multiplier */
#define VIRTIO_PCI_CFG_CAP_DATA		16	/* pci_cfg_data */

#define VIRTIO_PCI_CAP_COMMON_CFG	1
#define VIRTIO_PCI_CAP_NOTIFY_CFG	2
#define VIRTIO_PCI_CAP_ISR_CFG		3
#define VIRTIO_PCI_CAP_DEVICE_CFG	4
#define VIRTIO_PCI_CAP_PCI_CFG		5

/* struct virtio_pci_common_cfg (virtio 1.2 §4.1.4.3). */
#define VIRTIO_PCI_COMMON_DFSELECT	0x00
#define VIRTIO_PCI_COMMON_DF		0x04
#define VIRTIO_PCI_COMMON_GFSELECT	0x08
#define VIRTIO_PCI_COMMON_GF		0x0c
#define VIRTIO_PCI_COMMON_MSIX		0x10
#define VIRTIO_PCI_COMMON_NUMQ		0x12
#define VIRTIO_PCI_COMMON_STATUS	0x14
#define VIRTIO_PCI_COMMON_CFGGENERATION	0x15
#define VIRTIO_PCI_COMMON_Q_SELECT	0x16
#define VIRTIO_PCI_COMMON_Q_SIZE	0x18
#define VIRTIO_PCI_COMMON_Q_MSIX	0x1a
#define VIRTIO_PCI_COMMON_Q_ENABLE	0x1c
#define VIRTIO_PCI_COMMON_Q_NOFF	0x1e
#define VIRTIO_PCI_COMMON_Q_DESC	0x20
#define VIRTIO_PCI_COMMON_Q_AVAIL	0x28
#define VIRTIO_PCI_COMMON_Q_USED	0x30

#define VIRTIO_PCI_ISR_QUEUE		0x1
#define VIRTIO_PCI_ISR_CONFIG		0x2

/* Wrap @be in a virtio-pci function for pci_host_add_device(); its class
 * code is be->ops->pci_class.  Takes @be over: destroying the function
 * destroys @be, and so does a failure here.  0 or -EINVAL/-ENOMEM. */
int virtio_pci_create(const struct gmem *gm, struct virtio_backend *be,
		      struct pci_dev **out);

#endif
