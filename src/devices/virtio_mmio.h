/* SPDX-License-Identifier: MIT */
/* virtio-mmio transport, version 2 only (virtio 1.2 §4.2.2).
 *
 * Registers are 32-bit; any other width or a misaligned access to them is
 * logged and ignored (reads return 0).  The device config space at 0x100
 * accepts 1/2/4/8-byte accesses inside the backend's config size.
 * Write-only registers read as 0.  Queue notifications are handled
 * synchronously on the notifying vCPU under the device lock.  A driver
 * that breaks the virtqueue rules gets DEVICE_NEEDS_RESET and a
 * configuration-change interrupt; the device then ignores notifications
 * until the driver writes 0 to Status. */
#ifndef RIVET_VIRTIO_MMIO_H
#define RIVET_VIRTIO_MMIO_H

#include <stdint.h>

#include "core/irq.h"

struct gmem;
struct rivet_dev;
struct virtio_backend;

#define VIRTIO_MMIO_MAGIC	0x74726976	/* "virt" */
#define VIRTIO_MMIO_VERSION	2
#define VIRTIO_MMIO_VENDOR	0x54564952	/* "RIVT" */
#define VIRTIO_MMIO_WINDOW	0x200	/* registers + config space used */

/* Register offsets (virtio 1.2 §4.2.2). */
#define VIRTIO_MMIO_MAGIC_VALUE		0x000
#define VIRTIO_MMIO_VERSION_REG		0x004
#define VIRTIO_MMIO_DEVICE_ID		0x008
#define VIRTIO_MMIO_VENDOR_ID		0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES	0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL	0x014
#define VIRTIO_MMIO_DRIVER_FEATURES	0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL	0x024
#define VIRTIO_MMIO_QUEUE_SEL		0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX	0x034
#define VIRTIO_MMIO_QUEUE_NUM		0x038
#define VIRTIO_MMIO_QUEUE_READY		0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY	0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS	0x060
#define VIRTIO_MMIO_INTERRUPT_ACK	0x064
#define VIRTIO_MMIO_STATUS		0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW	0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH	0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW	0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH	0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW	0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH	0x0a4
#define VIRTIO_MMIO_SHM_SEL		0x0ac
#define VIRTIO_MMIO_SHM_LEN_LOW		0x0b0
#define VIRTIO_MMIO_SHM_LEN_HIGH	0x0b4
#define VIRTIO_MMIO_SHM_BASE_LOW	0x0b8
#define VIRTIO_MMIO_SHM_BASE_HIGH	0x0bc
#define VIRTIO_MMIO_CONFIG_GENERATION	0x0fc
#define VIRTIO_MMIO_CONFIG		0x100

#define VIRTIO_MMIO_INT_VRING		0x1
#define VIRTIO_MMIO_INT_CONFIG		0x2

/* Wrap @be in a virtio-mmio device at [@base, @base + @size) (@size at
 * least VIRTIO_MMIO_WINDOW).  Takes @be over: the device's destroy calls
 * be->ops->destroy, and so does a failure here.  0 or -EINVAL/-ENOMEM. */
int virtio_mmio_create(const struct gmem *gm, uint64_t base, uint64_t size,
		       struct irq_line irq, struct virtio_backend *be,
		       struct rivet_dev **out);

#endif
