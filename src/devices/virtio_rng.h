/* SPDX-License-Identifier: MIT */
/* virtio-rng (entropy) backend: fills device-writable buffers from the
 * host's getrandom().  A chain with device-readable buffers is returned
 * unused; at most VIRTIO_RNG_MAX_FILL bytes are produced per chain so one
 * request cannot keep a vCPU busy for long. */
#ifndef RIVET_VIRTIO_RNG_H
#define RIVET_VIRTIO_RNG_H

#include <stdint.h>

#include "core/irq.h"

struct gmem;
struct rivet_dev;
struct virtio_backend;

#define VIRTIO_RNG_QUEUE_SIZE	64
#define VIRTIO_RNG_MAX_FILL	65536

/* Backend only (for any transport): 0 or -ENOMEM. */
int vrng_create(struct virtio_backend **out);

/* virtio-rng on virtio-mmio, ready for bus_add(): 0 or -errno. */
int virtio_rng_mmio_create(const struct gmem *gm, uint64_t base,
			   uint64_t size, struct irq_line irq,
			   struct rivet_dev **out);

#endif
