/* SPDX-License-Identifier: MIT */
/* Split virtqueues (virtio 1.2 §2.7), device side.
 *
 * The rings live in guest RAM and other vCPUs change them while we read
 * them.  The rules this module follows:
 *  - ring areas are range-checked (gmem_ptr) and alignment-checked once,
 *    when the driver enables the queue; guest RAM never moves afterwards;
 *  - avail->idx is read with an acquire load before any ring entry or
 *    descriptor it covers; used entries are written before a release store
 *    of used->idx;
 *  - each descriptor is copied out of guest memory and only the copy is
 *    validated and used (copy-then-validate);
 *  - every chain is bounded by the queue size, so loops end;
 *  - any violation marks the queue broken: virtq_pop() then fails until
 *    the queue is reset, and the transport reports DEVICE_NEEDS_RESET.
 *
 * A popped chain is a list of host segments, device-readable ones first.
 * The segments point into guest RAM: a backend reads/writes them only
 * within their length and must expect the guest to change the bytes at
 * any time (copy headers out before looking at them). */
#ifndef RIVET_VIRTQ_H
#define RIVET_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>

struct gmem;
struct snap_r;
struct snap_w;

#define VIRTQ_MAX_SIZE 32768	/* the split ring's limit */

struct virtq_seg {
	uint8_t *ptr;		/* host pointer, checked with gmem_ptr() */
	uint32_t len;		/* never 0 */
	bool writable;		/* device-writable */
};

struct virtq_chain {
	uint16_t head;		/* descriptor index to return in used */
	unsigned int nr_segs;	/* segs[0 .. nr_out) are device-readable */
	unsigned int nr_out;
	uint32_t out_len;	/* bytes in readable segments */
	uint32_t in_len;	/* bytes in writable segments */
	struct virtq_seg *segs;	/* owned by the queue; valid until next pop */
};

enum virtq_area { VIRTQ_DESC, VIRTQ_AVAIL, VIRTQ_USED };

struct virtq {
	const struct gmem *gm;
	uint16_t max_size;
	uint16_t size;
	bool ready;
	bool broken;
	bool indirect;		/* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	bool need_irq;		/* pushed since the last virtq_need_irq() */
	/* Bumped whenever the queue is enabled, disabled or reset: a chain
	 * taken in an earlier generation must not be pushed (its ring is
	 * gone). */
	uint32_t gen;
	uint64_t gpa[3];	/* indexed by enum virtq_area */
	/* Host views of the rings, valid while ready. */
	uint8_t *desc;
	uint8_t *avail;
	uint8_t *used;
	uint16_t last_avail;	/* next avail ring slot to consume */
	uint16_t used_idx;	/* our copy of used->idx */
	struct virtq_seg *segs;	/* max_size entries */
};

/* @max_size: power of two, 1..VIRTQ_MAX_SIZE.  0 or -EINVAL/-ENOMEM. */
int virtq_init(struct virtq *vq, const struct gmem *gm, uint16_t max_size);
void virtq_fini(struct virtq *vq);

/* Back to the post-reset state: not ready, size = max_size, addresses 0. */
void virtq_reset(struct virtq *vq);

/* Configuration while the queue is not ready: 0, -EBUSY (ready) or
 * -EINVAL (size 0, not a power of two or above max_size). */
int virtq_set_size(struct virtq *vq, uint32_t size);
int virtq_set_area(struct virtq *vq, enum virtq_area area, uint64_t gpa);

/* Validate the ring addresses (in RAM, aligned) and start the queue with
 * fresh indices.  0 or -EFAULT/-EINVAL (the queue stays not ready). */
int virtq_enable(struct virtq *vq, bool indirect);
void virtq_disable(struct virtq *vq);

/* Take the next available chain: 1 (chain filled in), 0 (ring empty or
 * queue not ready), or -errno when the driver broke the ring rules (the
 * queue is then broken: see above). */
int virtq_pop(struct virtq *vq, struct virtq_chain *c);

/* Return a chain with @written bytes written to its writable segments
 * (clamped to c->in_len). */
void virtq_push(struct virtq *vq, const struct virtq_chain *c,
		uint32_t written);

/* Give back the last @n chains popped and not pushed: the next pops
 * return them again (a receive frame that found too few buffers). */
void virtq_unpop(struct virtq *vq, unsigned int n);

/* Several chains returned at once (one frame over merged receive
 * buffers): virtq_fill() writes used element @i (0, 1, ...) past the
 * current index without publishing it, then virtq_flush(@n) publishes the
 * @n elements filled with one index update, so the driver never sees a
 * part of them. */
void virtq_fill(struct virtq *vq, uint16_t head, uint32_t written,
		unsigned int i);
void virtq_flush(struct virtq *vq, unsigned int n);

/* Serve what the driver made available, but at most one ring's worth: the
 * vCPU returns to the guest even if the guest keeps refilling the ring,
 * and later buffers come with their own notify (notifications are never
 * suppressed).  @serve handles one chain and pushes it.  0 once the ring
 * is empty or the budget spent, -errno when the driver broke the rules. */
int virtq_serve(struct virtq *vq,
		void (*serve)(void *ctx, struct virtq *vq,
			      struct virtq_chain *c),
		void *ctx);

/* Ask the driver not to notify (@on false) while the device is busy with
 * the queue anyway, or to notify again (VRING_USED_F_NO_NOTIFY; virtio 1.2
 * §2.7.7.2).  After turning notifications back on, check virtq_has_avail()
 * once more: the driver may have added a chain before it saw the flag. */
void virtq_set_notify(struct virtq *vq, bool on);
/* The driver made chains available that were not popped yet. */
bool virtq_has_avail(struct virtq *vq);
/* The used ring's index as it stands in guest RAM (ready queue): what
 * another server of the ring (vhost-net) last published. */
uint16_t virtq_used_idx(const struct virtq *vq);

/* True if chains were pushed since the last call and the driver did not
 * suppress interrupts (VRING_AVAIL_F_NO_INTERRUPT). */
bool virtq_need_irq(struct virtq *vq);

/* Snapshots: append the queue's state to @w; read it back into a queue
 * made with the same max size (not ready), checked as the driver's
 * configuration is: size, ring addresses (in RAM, aligned, as
 * virtq_enable()), ready only if @may_enable (FEATURES_OK), indirect
 * exactly as negotiated (@indirect_ok) when ready.  0 or -EBADMSG (the
 * queue is then reset). */
void virtq_save(const struct virtq *vq, struct snap_w *w);
int virtq_load(struct virtq *vq, struct snap_r *r, bool may_enable,
	       bool indirect_ok);

/* Gather @len bytes at offset @off of the chain's readable part into @dst;
 * 0 or -EINVAL if the readable part is too short. */
int virtq_chain_read(const struct virtq_chain *c, uint32_t off, void *dst,
		     uint32_t len);
/* Scatter @len bytes from @src at offset @off of the writable part; 0 or
 * -EINVAL if the writable part is too short. */
int virtq_chain_write(const struct virtq_chain *c, uint32_t off,
		      const void *src, uint32_t len);

#endif
