/* SPDX-License-Identifier: MIT */
/* virtio-blk backend over a raw image file or a host block device.
 *
 * The image is opened O_CLOEXEC (O_RDONLY when read-only) and locked with
 * a non-blocking flock (shared when read-only, exclusive otherwise), so
 * two VMMs never write the same disk.  Requests complete to the guest only
 * after the host I/O finished; FLUSH is an fdatasync().  Every host error
 * (EIO, ENOSPC, short writes, ...) becomes VIRTIO_BLK_S_IOERR.
 *
 * GET_ID needs a data buffer of at least 20 bytes (VIRTIO_BLK_ID_BYTES)
 * and fails with IOERR otherwise: a truncated serial would silently alias
 * disks.  The serial is "rivet-<dev>-<ino>" of the image, truncated to 20
 * bytes.
 *
 * Two ways to serve the queues (struct vblk_opts.io):
 *  - VBLK_IO_THREADS: each queue has an I/O thread, kicked by the driver's
 *    notify (a KVM ioeventfd, or the vCPU's MMIO handler writing the same
 *    eventfd), and the disk has a pool of VIRTIO_BLK_POOL_THREADS threads:
 *    the queue thread takes every available request, hands all but one to
 *    the pool and runs the last itself, so a deep queue keeps several host
 *    requests in flight while the vCPU goes back to the guest at once.
 *    While it works it asks the driver not to notify (USED_F_NO_NOTIFY).
 *    The device lock is held only to take and return chains.  A device
 *    reset waits for the requests in flight: nothing is written to guest
 *    memory after it.  The backend must be started (ops->start).
 *  - VBLK_IO_URING: the same queue threads, but each submits every
 *    request to its own io_uring (restricted to READV, WRITEV and FSYNC
 *    on this disk's file: core/uring.h) and returns completions as the
 *    ring reports them: no pool, the kernel keeps the requests in flight.
 *  - VBLK_IO_SYNC: the vCPU that notifies serves the queue itself, one
 *    request at a time (the unit tests and fuzzers use it: deterministic).
 * Completion order is not submission order in threads mode, as virtio
 * allows; a FLUSH covers every write completed before it was taken. */
#ifndef RIVET_VIRTIO_BLK_H
#define RIVET_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

struct virtio_backend;

#define VIRTIO_BLK_SECTOR	512
#define VIRTIO_BLK_ID_BYTES	20
#define VIRTIO_BLK_QUEUE_SIZE	256
/* Up to and including num_queues (virtio 1.2 §5.2.4). */
#define VIRTIO_BLK_CONFIG_SIZE	36
#define VIRTIO_BLK_CFG_NUM_QUEUES 34
#define VIRTIO_BLK_MAX_QUEUES	32	/* one per vCPU at most */
#define VIRTIO_BLK_POOL_THREADS	4	/* per disk, for deep queues */

/* Feature bits (virtio 1.2 §5.2.3). */
#define VIRTIO_BLK_F_SEG_MAX	2
#define VIRTIO_BLK_F_RO		5
#define VIRTIO_BLK_F_BLK_SIZE	6
#define VIRTIO_BLK_F_FLUSH	9
#define VIRTIO_BLK_F_MQ		12

/* Request types and status values (virtio 1.2 §5.2.6). */
#define VIRTIO_BLK_T_IN		0
#define VIRTIO_BLK_T_OUT	1
#define VIRTIO_BLK_T_FLUSH	4
#define VIRTIO_BLK_T_GET_ID	8
#define VIRTIO_BLK_S_OK		0
#define VIRTIO_BLK_S_IOERR	1
#define VIRTIO_BLK_S_UNSUPP	2

enum vblk_io { VBLK_IO_SYNC, VBLK_IO_THREADS, VBLK_IO_URING };

struct vblk_opts {
	bool readonly;
	unsigned int queues;	/* 1..VIRTIO_BLK_MAX_QUEUES (0: 1) */
	enum vblk_io io;
};

/* The backend, for any transport: 0 or -errno, messages name @path. */
int vblk_open(const char *path, const struct vblk_opts *o,
	      struct virtio_backend **out);
/* The same over an already open @fd (e.g. handed over by a jailer); @name
 * is used in messages.  The backend takes @fd over, and closes it on
 * failure too. */
int vblk_open_fd(int fd, const char *name, const struct vblk_opts *o,
		 struct virtio_backend **out);

/* One queue served synchronously (VBLK_IO_SYNC). */
int vblk_create(const char *path, bool readonly, struct virtio_backend **out);

int vblk_create_fd(int fd, const char *name, bool readonly,
		   struct virtio_backend **out);

#endif
