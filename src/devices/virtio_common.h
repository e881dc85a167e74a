/* SPDX-License-Identifier: MIT */
/* What every virtio transport (virtio-mmio, virtio-pci) does the same way:
 * the device status state machine, feature negotiation, queue
 * configuration rules, notifications, DEVICE_NEEDS_RESET and reset, and
 * device config space range checks.  A transport embeds a struct
 * virtio_core, maps its registers onto these helpers and supplies how
 * interrupts reach the driver (virtio_core_ops).
 *
 * Locking: the transport holds its device lock around every call; the
 * core and the backend never lock.
 *
 * Rules (virtio 1.2 §2.1, §3.1.1, §2.7):
 *  - status bits are only ever added until the driver writes 0 (reset);
 *    clearing some without a reset is refused; NEEDS_RESET is device-owned;
 *  - FEATURES_OK is refused (stays clear on read-back) when the driver
 *    accepted features never offered, bits above 63, or no VERSION_1;
 *  - DRIVER_OK without FEATURES_OK is ignored; features are frozen after
 *    FEATURES_OK;
 *  - a queue is enabled only after FEATURES_OK, with rings in RAM and
 *    aligned (else NEEDS_RESET); size and addresses only change while it
 *    is not ready;
 *  - notifications are served only after DRIVER_OK and until NEEDS_RESET;
 *    a backend error sets NEEDS_RESET and signals a config change. */
#ifndef RIVET_VIRTIO_COMMON_H
#define RIVET_VIRTIO_COMMON_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/virtq.h"

struct gmem;
struct snap_r;
struct snap_w;
struct virtio_backend;
struct virtio_core;
struct virtio_ioeventfd;

struct virtio_core_ops {
	/* Queue @qidx has new used buffers the driver wants to hear of. */
	void (*queue_irq)(struct virtio_core *vc, unsigned int qidx);
	/* The device configuration (or NEEDS_RESET) changed. */
	void (*config_irq)(struct virtio_core *vc);
	/* Transport part of a device reset (interrupt state, selectors). */
	void (*reset)(struct virtio_core *vc);
	/* Optional: may the device touch guest memory now (PCI: bus
	 * mastering on)?  If not, queues are left alone (logged). */
	bool (*dma_allowed)(struct virtio_core *vc);
	/* Take the device lock and virtio_core_notify(@qidx): the backend's
	 * virtio_backend_kick(). */
	void (*kick)(struct virtio_core *vc, unsigned int qidx);
	/* Optional: register each queue's ops->kick_fd with @iev. */
	void (*wire_ioeventfds)(struct virtio_core *vc,
				const struct virtio_ioeventfd *iev);
};

struct virtio_core {
	const char *tname;		/* "virtio-mmio": for messages */
	const struct virtio_core_ops *ops;
	struct virtio_backend *be;
	uint32_t status;
	uint32_t dev_feat_sel;
	uint32_t drv_feat_sel;
	uint64_t drv_features;
	bool drv_features_bad;		/* bits set beyond the 64 we know */
	uint32_t queue_sel;
	unsigned int nr_queues;
	struct virtq *vqs;		/* nr_queues entries */
	pthread_mutex_t *lock;		/* the transport's device lock */
};

/* True if @be has what a transport needs and at most @max_queues queues. */
bool virtio_backend_valid(const struct virtio_backend *be,
			  unsigned int max_queues);

/* Set up the queues for @be (checked with virtio_backend_valid()) and
 * attach it (be->core), under the device lock @lock.  The core does not free @be: the transport does.
 * 0 or -EINVAL/-ENOMEM. */
int virtio_core_init(struct virtio_core *vc, const char *tname,
		     const struct virtio_core_ops *ops, const struct gmem *gm,
		     struct virtio_backend *be, unsigned int max_queues,
		     pthread_mutex_t *lock);
/* Assign (@on) or undo each queue's notify ioeventfd through @iev: queue
 * q's kick_fd for a @len-byte write of q at @addr + q * @stride; queues
 * without a kick fd are skipped.  0, or the first error (the other queues
 * are still tried). */
int virtio_core_queue_ioeventfds(struct virtio_core *vc,
				 const struct virtio_ioeventfd *iev,
				 uint64_t addr, uint64_t stride,
				 unsigned int len, bool on);

/* Free the queues (the transport frees the backend, before this). */
void virtio_core_fini(struct virtio_core *vc);

const char *virtio_core_name(const struct virtio_core *vc);

/* Device reset: backend, queues, negotiation, then ops->reset. */
void virtio_core_reset(struct virtio_core *vc);

/* A write of the device status register (0 resets). */
void virtio_core_write_status(struct virtio_core *vc, uint32_t v);

/* The 32 feature bits selected by dev_feat_sel (0 beyond bit 63). */
uint32_t virtio_core_device_features(const struct virtio_core *vc);
/* The 32 bits selected by drv_feat_sel, as last written. */
uint32_t virtio_core_driver_features(const struct virtio_core *vc);
void virtio_core_write_driver_features(struct virtio_core *vc, uint32_t v);

/* The queue selected by queue_sel, or NULL (logged) if it does not exist. */
struct virtq *virtio_core_cur_vq(struct virtio_core *vc);
/* Configure the selected queue (logged and ignored when not allowed). */
void virtio_core_queue_size(struct virtio_core *vc, uint32_t size);
void virtio_core_queue_area(struct virtio_core *vc, enum virtq_area area,
			    uint64_t gpa);
void virtio_core_queue_enable(struct virtio_core *vc);
void virtio_core_queue_disable(struct virtio_core *vc);

/* The driver notified queue @idx. */
void virtio_core_notify(struct virtio_core *vc, uint32_t idx);

/* The driver broke the rules: NEEDS_RESET (once) and a config irq. */
void virtio_core_device_error(struct virtio_core *vc);

/* Device config space at @off: false (logged, reads left untouched) if
 * the access does not fit config_size or the backend has no writes. */
bool virtio_core_config_read(struct virtio_core *vc, uint64_t off,
			     uint8_t *data, unsigned int len);
bool virtio_core_config_write(struct virtio_core *vc, uint64_t off,
			      const uint8_t *data, unsigned int len);

/* Snapshots (docs/snapshot.md), under the device lock: the transport's
 * record holds the core's (status, negotiation, selectors, queues).  Load
 * checks every value as the register path would (status bits and their
 * order, accepted features among those offered, queue sizes and rings)
 * and raises no interrupt: 0 or -EBADMSG. */
void virtio_core_save(const struct virtio_core *vc, struct snap_w *w);
int virtio_core_load(struct virtio_core *vc, struct snap_r *r);
/* The end of a transport's record: its interrupt status @isr (checked:
 * bits within @isr_bits, only past DRIVER_OK), then the backend's
 * section, then nothing.  0 or -errno; the transport applies @isr. */
int virtio_core_load_rest(struct virtio_core *vc, struct snap_r *r,
			  uint32_t isr, uint32_t isr_bits);
/* Any load failure (-@err): logged, and the core back at its power-on
 * state, safe to destroy or to run. */
void virtio_core_load_failed(struct virtio_core *vc, const struct snap_r *r,
			     int err);
/* The backend's record, as a section of its own in the transport's: 0, or
 * -EOPNOTSUPP (logged) if the backend cannot be saved; load: 0 or
 * -EBADMSG, or -EOPNOTSUPP likewise. */
int virtio_backend_save(struct virtio_backend *be, struct snap_w *w);
int virtio_backend_load(struct virtio_backend *be, struct snap_r *r);

#endif
