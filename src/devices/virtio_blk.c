// SPDX-License-Identifier: MIT
#include "devices/virtio_blk.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/uio.h>

#include "core/fileio.h"
#include "core/log.h"
#include "devices/virtio.h"
#include "devices/virtq.h"

#define VBLK_HDR_SIZE	16	/* struct virtio_blk_outhdr */

struct vblk {
	struct virtio_backend be;	/* first: the transport's handle */
	int fd;
	bool readonly;
	uint64_t capacity;		/* in 512-byte sectors */
	char *name;
	uint8_t id[VIRTIO_BLK_ID_BYTES];
	uint8_t config[VIRTIO_BLK_CONFIG_SIZE];
};

static struct vblk *to_vblk(struct virtio_backend *be)
{
	return (struct vblk *)be;
}

/* Move @len bytes between the disk at byte @off and segments
 * [@first, @last) of @c, starting @skip bytes into them: one preadv or
 * pwritev for the whole scattered buffer (a 1 MiB O_DIRECT request is up to
 * 256 guest pages). */
static int vblk_xfer(struct vblk *vb, const struct virtq_chain *c,
		     unsigned int first, unsigned int last, uint32_t skip,
		     uint64_t len, uint64_t off, bool write)
{
	struct iovec iov[VIRTIO_BLK_QUEUE_SIZE];
	int cnt = 0;

	for (unsigned int i = first; i < last && len; i++) {
		const struct virtq_seg *s = &c->segs[i];
		uint64_t n;

		if (skip >= s->len) {
			skip -= s->len;
			continue;
		}
		/* A chain holds at most the queue's size of segments. */
		if (cnt == VIRTIO_BLK_QUEUE_SIZE)
			return -EINVAL;
		n = s->len - skip < len ? s->len - skip : len;
		iov[cnt].iov_base = s->ptr + skip;
		iov[cnt].iov_len = n;
		cnt++;
		len -= n;
		skip = 0;
	}
	if (len)
		return -EINVAL;
	return fio_piov(vb->fd, iov, cnt, off, write);
}

static uint8_t vblk_rw(struct vblk *vb, const struct virtq_chain *c,
		       uint64_t sector, bool write)
{
	/* The last writable byte is the status. */
	uint64_t len = write ? c->out_len - VBLK_HDR_SIZE : c->in_len - 1;
	int err;

	if (!write && c->out_len != VBLK_HDR_SIZE) {
		log_guest("virtio-blk %s: read into device-readable buffers",
			  vb->name);
		return VIRTIO_BLK_S_IOERR;
	}
	if (write && vb->readonly) {
		log_guest("virtio-blk %s: write to read-only disk", vb->name);
		return VIRTIO_BLK_S_IOERR;
	}
	if (len % VIRTIO_BLK_SECTOR || sector > vb->capacity ||
	    len / VIRTIO_BLK_SECTOR > vb->capacity - sector) {
		log_guest("virtio-blk %s: bad request: sector %" PRIu64 " len %" PRIu64 " capacity %" PRIu64,
			  vb->name, sector, len, vb->capacity);
		return VIRTIO_BLK_S_IOERR;
	}
	if (write)
		err = vblk_xfer(vb, c, 0, c->nr_out, VBLK_HDR_SIZE, len,
				sector * VIRTIO_BLK_SECTOR, true);
	else
		err = vblk_xfer(vb, c, c->nr_out, c->nr_segs, 0, len,
				sector * VIRTIO_BLK_SECTOR, false);
	if (err) {
		log_guest("virtio-blk %s: %s at sector %" PRIu64 " failed: %s",
			  vb->name, write ? "write" : "read", sector,
			  strerror(-err));
		return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

static uint8_t vblk_flush(struct vblk *vb)
{
	if (fdatasync(vb->fd)) {
		log_guest("virtio-blk %s: flush failed: %s", vb->name,
			  strerror(errno));
		return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

static uint8_t vblk_get_id(struct vblk *vb, const struct virtq_chain *c)
{
	if (c->in_len - 1 < VIRTIO_BLK_ID_BYTES) {
		log_guest("virtio-blk %s: GET_ID buffer of %u bytes too short",
			  vb->name, c->in_len - 1);
		return VIRTIO_BLK_S_IOERR;
	}
	virtq_chain_write(c, 0, vb->id, VIRTIO_BLK_ID_BYTES);
	return VIRTIO_BLK_S_OK;
}

/* Execute one request; @c has at least one writable byte. */
static uint8_t vblk_execute(struct vblk *vb, const struct virtq_chain *c)
{
	uint8_t hdr[VBLK_HDR_SIZE];
	uint32_t type;
	uint64_t sector;

	/* Copy the header out before looking at it: the guest may change it. */
	if (virtq_chain_read(c, 0, hdr, sizeof(hdr))) {
		log_guest("virtio-blk %s: request header too short", vb->name);
		return VIRTIO_BLK_S_IOERR;
	}
	memcpy(&type, hdr, 4);
	memcpy(&sector, hdr + 8, 8);
	type = le32toh(type);
	sector = le64toh(sector);
	switch (type) {
	case VIRTIO_BLK_T_IN:
		return vblk_rw(vb, c, sector, false);
	case VIRTIO_BLK_T_OUT:
		return vblk_rw(vb, c, sector, true);
	case VIRTIO_BLK_T_FLUSH:
		return vblk_flush(vb);
	case VIRTIO_BLK_T_GET_ID:
		return vblk_get_id(vb, c);
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

static void vblk_request(struct vblk *vb, struct virtq *vq,
			 const struct virtq_chain *c)
{
	uint8_t status;

	if (c->in_len == 0) {
		log_guest("virtio-blk %s: request without a status byte dropped",
			  vb->name);
		virtq_push(vq, c, 0);
		return;
	}
	status = vblk_execute(vb, c);
	virtq_chain_write(c, c->in_len - 1, &status, 1);
	virtq_push(vq, c, c->in_len);
}

static void vblk_serve(void *ctx, struct virtq *vq, struct virtq_chain *c)
{
	vblk_request(ctx, vq, c);
}

static int vblk_handle_queue(struct virtio_backend *be, struct virtq *vq,
			     unsigned int qidx)
{
	return virtq_serve(vq, vblk_serve, to_vblk(be));
}

static void vblk_config_read(struct virtio_backend *be, uint32_t off,
			     uint8_t *data, unsigned int len)
{
	memcpy(data, to_vblk(be)->config + off, len);
}

static void vblk_destroy(struct virtio_backend *be)
{
	struct vblk *vb = to_vblk(be);

	close(vb->fd);		/* also drops the flock */
	free(vb->name);
	free(vb);
}

static const struct virtio_backend_ops vblk_ops = {
	.name = "blk",
	.device_id = VIRTIO_ID_BLOCK,
	.nr_queues = 1,
	.max_queue_size = VIRTIO_BLK_QUEUE_SIZE,
	.pci_class = 0x018000,		/* mass storage, other */
	.config_read = vblk_config_read,
	.handle_queue = vblk_handle_queue,
	.destroy = vblk_destroy,
};

static void put_le32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void vblk_init_config(struct vblk *vb, const struct stat *st)
{
	uint64_t cap = htole64(vb->capacity);
	char id[64];

	memcpy(vb->config, &cap, 8);				/* capacity */
	put_le32(vb->config + 12, VIRTIO_BLK_QUEUE_SIZE - 2);	/* seg_max */
	put_le32(vb->config + 20, VIRTIO_BLK_SECTOR);		/* blk_size */
	snprintf(id, sizeof(id), "rivet-%" PRIx64 "-%" PRIx64,
		 (uint64_t)st->st_dev, (uint64_t)st->st_ino);
	/* NUL padded; exactly 20 bytes means no terminator (§5.2.6). */
	memcpy(vb->id, id, strnlen(id, sizeof(vb->id)));
	vb->be.ops = &vblk_ops;
	vb->be.config_size = VIRTIO_BLK_CONFIG_SIZE;
	vb->be.features = VIRTIO_BIT(VIRTIO_F_VERSION_1) |
			  VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) |
			  VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) |
			  VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) |
			  VIRTIO_BIT(VIRTIO_BLK_F_FLUSH);
	if (vb->readonly)
		vb->be.features |= VIRTIO_BIT(VIRTIO_BLK_F_RO);
}

/* Lock, check and size the image behind @fd. */
static int vblk_probe(int fd, const char *name, bool readonly,
		      struct stat *st, uint64_t *capacity)
{
	off_t size;
	int err;

	if (flock(fd, (readonly ? LOCK_SH : LOCK_EX) | LOCK_NB)) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;

		log_err("virtio-blk: %s: cannot lock: %s", name,
			err == -EBUSY ? "in use by another process" :
					strerror(-err));
		return err;
	}
	if (fstat(fd, st)) {
		err = -errno;
		log_err("virtio-blk: %s: cannot stat: %s", name,
			strerror(-err));
		return err;
	}
	if (!S_ISREG(st->st_mode) && !S_ISBLK(st->st_mode)) {
		log_err("virtio-blk: %s: not a regular file or block device",
			name);
		return -EINVAL;
	}
	/* lseek rather than st_size: it also sizes block devices. */
	size = lseek(fd, 0, SEEK_END);
	if (size < 0) {
		err = -errno;
		log_err("virtio-blk: %s: cannot get size: %s", name,
			strerror(-err));
		return err;
	}
	if (size % VIRTIO_BLK_SECTOR)
		log_warn("virtio-blk: %s: size %lld is not a multiple of %d, the last %lld bytes are not visible",
			 name, (long long)size, VIRTIO_BLK_SECTOR,
			 (long long)(size % VIRTIO_BLK_SECTOR));
	*capacity = (uint64_t)size / VIRTIO_BLK_SECTOR;
	if (*capacity == 0)
		log_warn("virtio-blk: %s: empty disk", name);
	return 0;
}

int vblk_create_fd(int fd, const char *name, bool readonly,
		   struct virtio_backend **out)
{
	struct vblk *vb = NULL;
	struct stat st;
	uint64_t cap = 0;
	int err = -EINVAL;

	if (fd < 0 || !name || !out)
		goto fail;
	err = vblk_probe(fd, name, readonly, &st, &cap);
	if (err)
		goto fail;
	err = -ENOMEM;
	vb = calloc(1, sizeof(*vb));
	if (!vb)
		goto fail;
	vb->name = strdup(name);
	if (!vb->name)
		goto fail;
	vb->fd = fd;
	vb->readonly = readonly;
	vb->capacity = cap;
	vblk_init_config(vb, &st);
	*out = &vb->be;
	return 0;
fail:
	free(vb);
	if (fd >= 0)
		close(fd);
	return err;
}

int vblk_create(const char *path, bool readonly, struct virtio_backend **out)
{
	int fd;

	if (!path || !out)
		return -EINVAL;
	fd = fio_open("virtio-blk", path, readonly);
	if (fd < 0)
		return fd;
	return vblk_create_fd(fd, path, readonly, out);
}
