/* SPDX-License-Identifier: MIT */
/* The seam between virtio transports (virtio-mmio, virtio-pci) and device
 * backends (blk, net, rng, ...).  A backend knows nothing about registers or
 * which transport carries it: it offers features, exposes a config space and
 * consumes chains from the queues it is handed.  A transport takes a backend
 * over (virtio_mmio_create(), virtio_pci_create()) and owns the queues, the
 * feature negotiation, the interrupts and the device lock; every backend
 * callback runs with that lock held, so backends need no locking of their
 * own.  Adding a virtio device is its backend file plus one line in the
 * virtio device list (machine_add_virtio_devices()).
 *
 * Constants are the virtio 1.2 values (also in the Linux UAPI headers);
 * they are repeated here so the device code does not depend on the host's
 * kernel headers. */
#ifndef RIVET_VIRTIO_H
#define RIVET_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct io_confine;
struct snap_r;
struct snap_w;
struct virtio_core;
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
#define VIRTIO_ID_NET			1
#define VIRTIO_ID_BLOCK			2
#define VIRTIO_ID_RNG			4

/* Host file descriptors a backend asks the VM's main loop to wait on. */
#define VIRTIO_POLL_MAX			16

struct virtio_backend;

struct virtio_backend_ops {
	const char *name;
	uint32_t device_id;
	unsigned int nr_queues;
	uint16_t max_queue_size;	/* power of two */
	/* virtio-pci: the function's class code (0: 0xff0000, "other"). */
	uint32_t pci_class;
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
	/* Optional: device reset (the driver wrote 0 to the status). */
	void (*reset)(struct virtio_backend *be);
	/* Free everything the backend owns, including @be. */
	void (*destroy)(struct virtio_backend *be);
	/* Optional: host events the VM's main loop waits for on the
	 * backend's behalf (e.g. a TAP's receive side).  Fill @fds with up to
	 * VIRTIO_POLL_MAX descriptors to poll for input now (-1: not now) and
	 * return how many slots were filled; poll_ready() is called on the
	 * main thread when any of them is readable.  No lock is held. */
	unsigned int (*poll_fds)(struct virtio_backend *be,
				 int fds[VIRTIO_POLL_MAX]);
	void (*poll_ready)(struct virtio_backend *be);
	/* Optional: the backend serves its queues on its own I/O threads.
	 * Called under the device lock, in place of handle_queue, when queue
	 * @qidx has work (a notify, DRIVER_OK); must not block: it wakes the
	 * queue's thread, which serves it with the virtio_backend_queue*()
	 * calls below. */
	void (*notify)(struct virtio_backend *be, unsigned int qidx);
	/* Optional: start the I/O threads (each confined with @conf first),
	 * once the VM exists; 0 or -errno. */
	int (*start)(struct virtio_backend *be, const struct io_confine *conf);
	/* Optional: stop and join them (before the VM goes away); destroy
	 * does it too. */
	void (*stop)(struct virtio_backend *be);
	/* Optional: the eventfd whose write means "queue @qidx notified"
	 * (registered as a KVM ioeventfd), or -1. */
	int (*kick_fd)(struct virtio_backend *be, unsigned int qidx);
	/* Optional: the eventfd whose write means "raise queue @qidx's
	 * interrupt" (vhost-net's call), or -1.  The backend serves it (a
	 * thread that raises the interrupt through the transport); a
	 * transport may also bind it to the interrupt inside KVM (irqfd),
	 * and then most writes never wake that thread. */
	int (*call_fd)(struct virtio_backend *be, unsigned int qidx);
	/* Snapshots (docs/snapshot.md).  drain, optional: with every vCPU
	 * paused, finish every request in flight (used ring written,
	 * interrupt raised) and return with the I/O threads idle; from then
	 * until resume the device starts no work of its own (a received
	 * frame waits), so neither the rings nor the interrupt controller
	 * change while they are saved.  Both without the device lock.
	 * save/load: the backend's own state beyond the
	 * transport's (which has the features, status and queues), under
	 * the device lock, as struct dev_ops describes; both NULL: the
	 * backend cannot be saved yet. */
	void (*drain)(struct virtio_backend *be);
	void (*resume)(struct virtio_backend *be);
	int (*save)(struct virtio_backend *be, struct snap_w *w);
	int (*load)(struct virtio_backend *be, struct snap_r *r);
};

struct virtio_backend {
	const struct virtio_backend_ops *ops;
	uint64_t features;		/* offered to the driver */
	uint64_t driver_features;	/* accepted at FEATURES_OK, else 0 */
	uint32_t config_size;		/* bytes of device config space */
	unsigned int nr_queues;		/* 0: ops->nr_queues */
	struct virtio_core *core;	/* the transport's, once it owns @be */
};

/* be->ops->destroy(@be); nothing for NULL.  What a transport (or a board)
 * that took @be over does with it when it cannot use it. */
void virtio_backend_destroy(struct virtio_backend *be);

/* Serve queue @qidx now, as if the driver had notified it, under the
 * transport's lock and rules (DRIVER_OK, not NEEDS_RESET, queue ready, bus
 * mastering): for work the device starts itself, such as a received
 * frame.  Takes the device lock, so never call it from a backend callback.
 * Nothing happens before a transport owns @be. */
void virtio_backend_kick(struct virtio_backend *be, unsigned int qidx);

/* KVM's ioeventfd as the arch code offers it: while assigned (@on), a
 * @len-byte guest write of @datamatch at @addr signals eventfd @fd without
 * leaving the kernel; @on false undoes it (same arguments).  0 or -errno.
 * Any thread. */
struct virtio_ioeventfd {
	int (*assign)(void *ctx, uint64_t addr, unsigned int len,
		      uint64_t datamatch, int fd, bool on);
	void *ctx;
};

/* Start @be's I/O threads (ops->start, confined with @conf), then route
 * its queue notifications straight to them through @iev where the
 * transport can (NULL @iev: never; virtio-pci follows its BAR as the
 * guest moves it).  Without an ioeventfd a
 * notify still reaches the thread, through the vCPU's MMIO exit.  0 or
 * -errno. */
int virtio_backend_start(struct virtio_backend *be,
			 const struct io_confine *conf,
			 const struct virtio_ioeventfd *iev);
/* ops->stop, if any. */
void virtio_backend_stop(struct virtio_backend *be);
/* ops->drain, if any: before a snapshot's save, vCPUs paused, no lock;
 * ops->resume, if any, after it. */
void virtio_backend_drain(struct virtio_backend *be);
void virtio_backend_resume(struct virtio_backend *be);

/* How many queues @be has. */
unsigned int virtio_backend_nr_queues(const struct virtio_backend *be);

/* For backends with ops->notify, on their I/O threads.  The device lock
 * is the transport's; hold it only to take chains and to return them,
 * never across host I/O, so a vCPU touching the device's registers does
 * not wait for the disk. */
void virtio_backend_lock(struct virtio_backend *be);
void virtio_backend_unlock(struct virtio_backend *be);
/* Under the lock: queue @qidx if it may be served now (DRIVER_OK, no
 * NEEDS_RESET, queue ready, bus mastering on), else NULL. */
struct virtq *virtio_backend_queue(struct virtio_backend *be,
				   unsigned int qidx);
/* Under the lock, after pushing chains to queue @qidx (or finding the ring
 * broken: @err != 0): the interrupt the driver asked for, or
 * DEVICE_NEEDS_RESET, as handle_queue's return value would. */
void virtio_backend_queue_done(struct virtio_backend *be, unsigned int qidx,
			       int err);
/* Under the lock: queue @qidx's interrupt, if it may be served now: for
 * used buffers that someone else (the kernel's vhost) pushed and asked to
 * signal. */
void virtio_backend_queue_irq(struct virtio_backend *be, unsigned int qidx);
/* Under the lock: wait on @cond, the device lock released meanwhile (a
 * reset waiting for the requests in flight). */
void virtio_backend_wait(struct virtio_backend *be, pthread_cond_t *cond);

#endif
