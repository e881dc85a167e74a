/* SPDX-License-Identifier: MIT */
/* virtio-rng (entropy) backend: fills device-writable buffers from the
 * host's getrandom().  A chain with device-readable buffers is returned
 * unused; at most VIRTIO_RNG_MAX_FILL bytes are produced per chain so one
 * request cannot keep a vCPU busy for long. */
#ifndef RIVET_VIRTIO_RNG_H
#define RIVET_VIRTIO_RNG_H

struct virtio_backend;

#define VIRTIO_RNG_QUEUE_SIZE	64
#define VIRTIO_RNG_MAX_FILL	65536

/* The backend, for any transport: 0 or -ENOMEM. */
int vrng_create(struct virtio_backend **out);

#endif
