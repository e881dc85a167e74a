/* SPDX-License-Identifier: MIT */
/* virtio-mmio (version 2) register offsets, for the guest programs that
 * drive the devices themselves (adversary, irqsnap). */
#ifndef RIVET_GUEST_VIRTIO_MMIO_H
#define RIVET_GUEST_VIRTIO_MMIO_H

#define VM_MAGIC	0x000
#define VM_VERSION	0x004
#define VM_DEVICE_ID	0x008
#define VM_DEV_FEAT	0x010
#define VM_DEV_FEAT_SEL	0x014
#define VM_DRV_FEAT	0x020
#define VM_DRV_FEAT_SEL	0x024
#define VM_QUEUE_SEL	0x030
#define VM_QUEUE_NUM_MAX 0x034
#define VM_QUEUE_NUM	0x038
#define VM_QUEUE_READY	0x044
#define VM_QUEUE_NOTIFY	0x050
#define VM_INT_STATUS	0x060
#define VM_INT_ACK	0x064
#define VM_STATUS	0x070
#define VM_DESC_LO	0x080
#define VM_DESC_HI	0x084
#define VM_AVAIL_LO	0x090
#define VM_AVAIL_HI	0x094
#define VM_USED_LO	0x0a0
#define VM_USED_HI	0x0a4
#define VM_CONFIG	0x100

#endif
