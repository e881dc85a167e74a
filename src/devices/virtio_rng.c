// SPDX-License-Identifier: MIT
#include "devices/virtio_rng.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "core/log.h"
#include "devices/virtio.h"
#include "devices/virtq.h"
#include "snapshot/snap.h"

static int vrng_fill(uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Bytes of entropy written into @c's writable segments. */
static uint32_t vrng_request(const struct virtq_chain *c)
{
	uint32_t done = 0;
	int err;

	if (c->nr_out) {
		log_guest("virtio-rng: request with device-readable buffers");
		return 0;
	}
	for (unsigned int i = 0; i < c->nr_segs && done < VIRTIO_RNG_MAX_FILL;
	     i++) {
		uint32_t n = c->segs[i].len;

		if (n > VIRTIO_RNG_MAX_FILL - done)
			n = VIRTIO_RNG_MAX_FILL - done;
		err = vrng_fill(c->segs[i].ptr, n);
		if (err) {
			log_guest("virtio-rng: getrandom failed: %d", err);
			break;
		}
		done += n;
	}
	return done;
}

static void vrng_serve(void *ctx, struct virtq *vq, struct virtq_chain *c)
{
	virtq_push(vq, c, vrng_request(c));
}

static int vrng_handle_queue(struct virtio_backend *be, struct virtq *vq,
			     unsigned int qidx)
{
	return virtq_serve(vq, vrng_serve, NULL);
}

static void vrng_config_read(struct virtio_backend *be, uint32_t off,
			     uint8_t *data, unsigned int len)
{
	/* No config space: the transport never calls this. */
}

static void vrng_destroy(struct virtio_backend *be)
{
	free(be);
}

/* virtio-rng's record is empty: the transport's has all of its state. */
static int vrng_save(struct virtio_backend *be, struct snap_w *w)
{
	return 0;
}

static int vrng_load(struct virtio_backend *be, struct snap_r *r)
{
	return snap_r_finish(r);
}

static const struct virtio_backend_ops vrng_ops = {
	.name = "rng",
	.device_id = VIRTIO_ID_RNG,
	.nr_queues = 1,
	.max_queue_size = VIRTIO_RNG_QUEUE_SIZE,
	.config_read = vrng_config_read,
	.handle_queue = vrng_handle_queue,
	.destroy = vrng_destroy,
	.save = vrng_save,
	.load = vrng_load,
};

int vrng_create(struct virtio_backend **out)
{
	struct virtio_backend *be = calloc(1, sizeof(*be));

	if (!be)
		return -ENOMEM;
	be->ops = &vrng_ops;
	be->features = VIRTIO_BIT(VIRTIO_F_VERSION_1) |
		       VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC);
	be->config_size = 0;
	*out = be;
	return 0;
}
