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
 * bytes. */
#ifndef RIVET_VIRTIO_BLK_H
#define RIVET_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

struct virtio_backend;

#define VIRTIO_BLK_SECTOR	512
#define VIRTIO_BLK_ID_BYTES	20
#define VIRTIO_BLK_QUEUE_SIZE	256
#define VIRTIO_BLK_CONFIG_SIZE	24	/* up to and including blk_size */

/* Feature bits (virtio 1.2 §5.2.3). */
#define VIRTIO_BLK_F_SEG_MAX	2
#define VIRTIO_BLK_F_RO		5
#define VIRTIO_BLK_F_BLK_SIZE	6
#define VIRTIO_BLK_F_FLUSH	9

/* Request types and status values (virtio 1.2 §5.2.6). */
#define VIRTIO_BLK_T_IN		0
#define VIRTIO_BLK_T_OUT	1
#define VIRTIO_BLK_T_FLUSH	4
#define VIRTIO_BLK_T_GET_ID	8
#define VIRTIO_BLK_S_OK		0
#define VIRTIO_BLK_S_IOERR	1
#define VIRTIO_BLK_S_UNSUPP	2

/* The backend, for any transport: 0 or -errno, messages name @path. */
int vblk_create(const char *path, bool readonly, struct virtio_backend **out);

/* The same over an already open @fd (e.g. handed over by a jailer); @name
 * is used in messages.  The backend takes @fd over, and closes it on
 * failure too. */
int vblk_create_fd(int fd, const char *name, bool readonly,
		   struct virtio_backend **out);

#endif
