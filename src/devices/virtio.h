/* SPDX-License-Identifier: MIT */
/* The seam between virtio transports (virtio-mmio today, virtio-pci later)
 * and device backends (blk, rng, ...).  A backend knows nothing about
 * registers: it offers features, exposes a config space and consumes
 * chains from the queues it is handed.  The transport owns the queues, the
 * feature negotiation, the interrupts and the device lock; every backend
 * callback runs with that lock held, so backends need no locking of their
 * own.
 *
 * Constants are the virtio 1.2 values (also in the Linux UAPI headers);
 * they are repeated here so the device code does not depend on the host's
 * kernel headers. */
#ifndef RIVET_VIRTIO_H
#define RIVET_VIRTIO_H

#include <stdint.h>

struct virtq;

/* Device status (virtio 1.2 §2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE	0x01
#define VIRTIO_STATUS_DRIVER		0x02
#define VIRTIO_STATUS_DRIVER_OK		0x04
#define VIRTIO_STATUS_FEATURES_OK	0x08
#define VIRTIO_STATUS_NEEDS_RESET	0x40
#define VIRTIO_STATUS_FAILED		0x80

/* Device-independent feature bits (virtio 1.2 §6). */
#define VIRTIO_F_INDIRECT_DESC		28
#define VIRTIO_F_EVENT_IDX		29
#define VIRTIO_F_VERSION_1		32

#define VIRTIO_BIT(f) (1ULL << (f))

/* Device IDs (virtio 1.2 §5). */
#define VIRTIO_ID_BLOCK			2
#define VIRTIO_ID_RNG			4

struct virtio_backend;

struct virtio_backend_ops {
	const char *name;
	uint32_t device_id;
	unsigned int nr_queues;
	uint16_t max_queue_size;	/* power of two */
	/* @off + @len <= be->config_size, checked by the transport. */
	void (*config_read)(struct virtio_backend *be, uint32_t off,
			    uint8_t *data, unsigned int len);
	/* Optional: writes are dropped (and logged) without it. */
	void (*config_write)(struct virtio_backend *be, uint32_t off,
			     const uint8_t *data, unsigned int len);
	/* The driver notified queue @qidx: consume available chains and push
	 * them to the used ring.  0, or -errno when the driver broke the
	 * virtqueue rules: the transport then flags DEVICE_NEEDS_RESET. */
	int (*handle_queue)(struct virtio_backend *be, struct virtq *vq,
			    unsigned int qidx);
	/* Optional: device reset (status 0 or guest reboot). */
	void (*reset)(struct virtio_backend *be);
	/* Free everything the backend owns, including @be. */
	void (*destroy)(struct virtio_backend *be);
};

struct virtio_backend {
	const struct virtio_backend_ops *ops;
	uint64_t features;		/* offered to the driver */
	uint64_t driver_features;	/* accepted at FEATURES_OK, else 0 */
	uint32_t config_size;		/* bytes of device config space */
};

#endif
