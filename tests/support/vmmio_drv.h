/* SPDX-License-Identifier: MIT */
/* A virtio-mmio driver's side of the registers, for unit tests and fuzz
 * targets alike: 32-bit register access, the Linux probe up to FEATURES_OK
 * (virtio 1.2 §3.1.1), queue set-up, and a split-ring descriptor.  Nothing
 * here checks: callers check what they read back. */
#ifndef RIVET_TEST_VMMIO_DRV_H
#define RIVET_TEST_VMMIO_DRV_H

#include <stdbool.h>
#include <stdint.h>

#include "core/device.h"
#include "devices/virtio.h"
#include "devices/virtio_mmio.h"

static inline uint32_t mr32(struct rivet_dev *dev, uint64_t off)
{
	uint8_t b[4];

	dev->ops->mmio_read(dev, off, b, 4);
	return (uint32_t)mmio_get(b, 4);
}

static inline void mw32(struct rivet_dev *dev, uint64_t off, uint32_t v)
{
	uint8_t b[4];

	mmio_put(b, 4, v);
	dev->ops->mmio_write(dev, off, b, 4);
}

/* The 64 feature bits the device offers. */
static inline uint64_t vmmio_device_features(struct rivet_dev *dev)
{
	uint64_t feat;

	mw32(dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	feat = (uint64_t)mr32(dev, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	mw32(dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	return feat | mr32(dev, VIRTIO_MMIO_DEVICE_FEATURES);
}

/* Reset, ACKNOWLEDGE, DRIVER, accept @feat, FEATURES_OK; the status read
 * back (FEATURES_OK stays clear if the device refused @feat). */
static inline uint32_t vmmio_negotiate(struct rivet_dev *dev, uint64_t feat)
{
	mw32(dev, VIRTIO_MMIO_STATUS, 0);
	mw32(dev, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	mw32(dev, VIRTIO_MMIO_STATUS,
	     VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	mw32(dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mw32(dev, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(feat >> 32));
	mw32(dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mw32(dev, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)feat);
	mw32(dev, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
	     VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	return mr32(dev, VIRTIO_MMIO_STATUS);
}

/* Point queue @q at rings @desc/@avail/@used (guest addresses) with @size
 * entries; enable it with @ready.  QueueReady read back. */
static inline uint32_t vmmio_queue(struct rivet_dev *dev, uint32_t q,
				   uint32_t size, uint64_t desc,
				   uint64_t avail, uint64_t used, bool ready)
{
	const uint64_t ring[3] = { desc, avail, used };

	mw32(dev, VIRTIO_MMIO_QUEUE_SEL, q);
	mw32(dev, VIRTIO_MMIO_QUEUE_NUM, size);
	for (unsigned int i = 0; i < 3; i++) {
		mw32(dev, VIRTIO_MMIO_QUEUE_DESC_LOW + 0x10 * i,
		     (uint32_t)ring[i]);
		mw32(dev, VIRTIO_MMIO_QUEUE_DESC_HIGH + 0x10 * i,
		     (uint32_t)(ring[i] >> 32));
	}
	if (ready)
		mw32(dev, VIRTIO_MMIO_QUEUE_READY, 1);
	return mr32(dev, VIRTIO_MMIO_QUEUE_READY);
}

/* A split-ring descriptor (virtio 1.2 §2.7.5) at host address @p. */
static inline void vring_desc(uint8_t *p, uint64_t addr, uint32_t len,
			      uint16_t flags, uint16_t next)
{
	mmio_put(p, 8, addr);
	mmio_put(p + 8, 4, len);
	mmio_put(p + 12, 2, flags);
	mmio_put(p + 14, 2, next);
}

#endif
