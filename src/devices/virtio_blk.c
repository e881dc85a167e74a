// SPDX-License-Identifier: MIT
#include "devices/virtio_blk.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/uio.h>

#include "core/fileio.h"
#include "core/iothread.h"
#include "core/log.h"
#include "core/uring.h"
#include "devices/virtio.h"
#include "devices/virtq.h"
#include "snapshot/snap.h"

#define VBLK_HDR_SIZE	16	/* struct virtio_blk_outhdr */

struct vblk_queue;

/* What one request needs from the disk, decided from its chain. */
struct vblk_plan {
	enum { PLAN_DONE, PLAN_RW, PLAN_FLUSH } kind;
	uint8_t status;			/* PLAN_DONE: the answer */
	bool write;			/* PLAN_RW */
	int cnt;			/* iovecs filled in */
	uint64_t off, len, sector;
};

/* A request in flight (threads mode): its chain, with segments of its own
 * (the queue's scratch list is reused by the next pop). */
struct vblk_req {
	struct iojob job;		/* first: the pool's handle */
	struct vblk_queue *q;
	struct virtq_chain c;
	uint32_t gen;			/* the queue's generation when taken */
	struct vblk_req *next;		/* free list, or the batch being run */
	/* io=uring: what the ring runs for it, and what to return. */
	struct vblk_plan plan;
	uint32_t written;
};

struct vblk_queue {
	struct vblk *vb;
	unsigned int idx;
	struct iothread *thr;
	struct virtq *vq;		/* once served; fixed for the device */
	struct vblk_req *reqs;		/* queue-size slots */
	struct virtq_seg *segs;		/* queue-size segments per slot */
	struct vblk_req *free;		/* under the device lock */
	bool starved;			/* chains waiting for a free slot */
	struct uring *ring;		/* io=uring */
	struct iovec *iovs;		/* io=uring: queue-size per slot */
};

struct vblk {
	struct virtio_backend be;	/* first: the transport's handle */
	int fd;
	bool readonly;
	uint64_t capacity;		/* in 512-byte sectors */
	char *name;
	uint8_t id[VIRTIO_BLK_ID_BYTES];
	uint8_t config[VIRTIO_BLK_CONFIG_SIZE];
	/* Threads mode. */
	struct vblk_queue *qs;		/* be.nr_queues entries */
	struct iopool *pool;
	bool uring;			/* io=uring (no pool) */
	bool started;
	bool draining;			/* a reset waits: take nothing new */
	unsigned int inflight;		/* under the device lock */
	pthread_cond_t idle;		/* inflight reached 0 */
};

static struct vblk *to_vblk(struct virtio_backend *be)
{
	return (struct vblk *)be;
}


/* The @len bytes at segments [@first, @last) of @c, starting @skip bytes
 * into them, as iovecs (@iov has room for the queue's size of them: a
 * chain holds no more segments).  0 or -EINVAL. */
static int vblk_iov(const struct virtq_chain *c, unsigned int first,
		    unsigned int last, uint32_t skip, uint64_t len,
		    struct iovec *iov, int *cnt)
{
	*cnt = 0;
	for (unsigned int i = first; i < last && len; i++) {
		const struct virtq_seg *s = &c->segs[i];
		uint64_t n;

		if (skip >= s->len) {
			skip -= s->len;
			continue;
		}
		if (*cnt == VIRTIO_BLK_QUEUE_SIZE)
			return -EINVAL;
		n = s->len - skip < len ? s->len - skip : len;
		iov[*cnt].iov_base = s->ptr + skip;
		iov[*cnt].iov_len = n;
		(*cnt)++;
		len -= n;
		skip = 0;
	}
	return len ? -EINVAL : 0;
}

static void plan_done(struct vblk_plan *p, uint8_t status)
{
	p->kind = PLAN_DONE;
	p->status = status;
}

/* A read or write: checked against the disk, then one preadv/pwritev for
 * the whole scattered buffer (a 1 MiB O_DIRECT request is up to 256 guest
 * pages). */
static void vblk_plan_rw(struct vblk *vb, const struct virtq_chain *c,
			 uint64_t sector, bool write, struct iovec *iov,
			 struct vblk_plan *p)
{
	/* The last writable byte is the status. */
	uint64_t len = write ? c->out_len - VBLK_HDR_SIZE : c->in_len - 1;
	int err;

	if (!write && c->out_len != VBLK_HDR_SIZE) {
		log_guest("virtio-blk %s: read into device-readable buffers",
			  vb->name);
		return plan_done(p, VIRTIO_BLK_S_IOERR);
	}
	if (write && vb->readonly) {
		log_guest("virtio-blk %s: write to read-only disk", vb->name);
		return plan_done(p, VIRTIO_BLK_S_IOERR);
	}
	if (len % VIRTIO_BLK_SECTOR || sector > vb->capacity ||
	    len / VIRTIO_BLK_SECTOR > vb->capacity - sector) {
		log_guest("virtio-blk %s: bad request: sector %" PRIu64 " len %" PRIu64 " capacity %" PRIu64,
			  vb->name, sector, len, vb->capacity);
		return plan_done(p, VIRTIO_BLK_S_IOERR);
	}
	if (write)
		err = vblk_iov(c, 0, c->nr_out, VBLK_HDR_SIZE, len, iov,
			       &p->cnt);
	else
		err = vblk_iov(c, c->nr_out, c->nr_segs, 0, len, iov, &p->cnt);
	if (err) {
		log_guest("virtio-blk %s: %s at sector %" PRIu64 " failed: %s",
			  vb->name, write ? "write" : "read", sector,
			  strerror(-err));
		return plan_done(p, VIRTIO_BLK_S_IOERR);
	}
	p->kind = PLAN_RW;
	p->write = write;
	p->sector = sector;
	p->off = sector * VIRTIO_BLK_SECTOR;
	p->len = len;
}

/* The status of a read/write that ended with @err (0 or -errno). */
static uint8_t vblk_rw_status(struct vblk *vb, const struct vblk_plan *p,
			      int err)
{
	if (!err)
		return VIRTIO_BLK_S_OK;
	log_guest("virtio-blk %s: %s at sector %" PRIu64 " failed: %s",
		  vb->name, p->write ? "write" : "read", p->sector,
		  strerror(-err));
	return VIRTIO_BLK_S_IOERR;
}

static uint8_t vblk_flush_status(struct vblk *vb, int err)
{
	if (!err)
		return VIRTIO_BLK_S_OK;
	log_guest("virtio-blk %s: flush failed: %s", vb->name, strerror(-err));
	return VIRTIO_BLK_S_IOERR;
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

/* Decide request @c (at least one writable byte): answered now, or a
 * read/write (iovecs in @iov) or flush to run. */
static void vblk_plan(struct vblk *vb, const struct virtq_chain *c,
		      struct iovec *iov, struct vblk_plan *p)
{
	uint8_t hdr[VBLK_HDR_SIZE];
	uint32_t type;
	uint64_t sector;

	/* Copy the header out before looking at it: the guest may change it. */
	if (virtq_chain_read(c, 0, hdr, sizeof(hdr))) {
		log_guest("virtio-blk %s: request header too short", vb->name);
		return plan_done(p, VIRTIO_BLK_S_IOERR);
	}
	memcpy(&type, hdr, 4);
	memcpy(&sector, hdr + 8, 8);
	type = le32toh(type);
	sector = le64toh(sector);
	switch (type) {
	case VIRTIO_BLK_T_IN:
		return vblk_plan_rw(vb, c, sector, false, iov, p);
	case VIRTIO_BLK_T_OUT:
		return vblk_plan_rw(vb, c, sector, true, iov, p);
	case VIRTIO_BLK_T_FLUSH:
		p->kind = PLAN_FLUSH;
		return;
	case VIRTIO_BLK_T_GET_ID:
		return plan_done(p, vblk_get_id(vb, c));
	default:
		return plan_done(p, VIRTIO_BLK_S_UNSUPP);
	}
}

/* Execute one request here and now; @c has at least one writable byte. */
static uint8_t vblk_execute(struct vblk *vb, const struct virtq_chain *c)
{
	struct iovec iov[VIRTIO_BLK_QUEUE_SIZE];
	struct vblk_plan p;

	vblk_plan(vb, c, iov, &p);
	switch (p.kind) {
	case PLAN_RW:
		return vblk_rw_status(vb, &p, fio_piov(vb->fd, iov, p.cnt,
						       p.off, p.write));
	case PLAN_FLUSH:
		return vblk_flush_status(vb, fdatasync(vb->fd) ? -errno : 0);
	default:
		return p.status;
	}
}

/* Run request @c and write its status: the byte count to return in the
 * used ring (0 for a request without room for a status, which is dropped). */
static uint32_t vblk_run(struct vblk *vb, const struct virtq_chain *c)
{
	uint8_t status;

	if (c->in_len == 0) {
		log_guest("virtio-blk %s: request without a status byte dropped",
			  vb->name);
		return 0;
	}
	status = vblk_execute(vb, c);
	virtq_chain_write(c, c->in_len - 1, &status, 1);
	return c->in_len;
}

static void vblk_request(struct vblk *vb, struct virtq *vq,
			 const struct virtq_chain *c)
{
	virtq_push(vq, c, vblk_run(vb, c));
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

/* ---- threads mode ------------------------------------------------------- */

/* Return @r's chain to the guest (unless its queue was reset or disabled
 * since it was taken) and its slot to the free list.  Under the lock. */
static void vblk_complete_locked(struct vblk_req *r, uint32_t written)
{
	struct vblk_queue *q = r->q;
	struct vblk *vb = q->vb;

	if (r->gen == q->vq->gen) {
		virtq_push(q->vq, &r->c, written);
		virtio_backend_queue_done(&vb->be, q->idx, 0);
	}
	r->next = q->free;
	q->free = r;
	if (q->starved) {
		/* Chains the queue thread left for want of a slot: the
		 * driver will not notify for them again. */
		q->starved = false;
		iothread_kick(q->thr);
	}
	if (--vb->inflight == 0)
		pthread_cond_broadcast(&vb->idle);
}

/* Run one request, on a pool thread or the queue's own. */
static void vblk_req_run(struct vblk_req *r)
{
	struct vblk *vb = r->q->vb;
	uint32_t written = vblk_run(vb, &r->c);

	virtio_backend_lock(&vb->be);
	vblk_complete_locked(r, written);
	virtio_backend_unlock(&vb->be);
}

static void vblk_job(struct iojob *job)
{
	vblk_req_run((struct vblk_req *)job);
}

/* Take every available chain that has a free slot; the batch, in ring
 * order, linked through ->next (NULL: nothing).  Under the lock; *@err:
 * the driver broke the ring. */
static struct vblk_req *vblk_take(struct vblk_queue *q, struct virtq *vq,
				  int *err)
{
	struct vblk_req *batch = NULL, **tail = &batch;

	*err = 0;
	while (q->free) {
		struct vblk_req *r = q->free;
		size_t slot = (size_t)(r - q->reqs);
		int got = virtq_pop(vq, &r->c);

		if (got <= 0) {
			*err = got;
			break;
		}
		memcpy(q->segs + slot * vq->max_size, r->c.segs,
		       r->c.nr_segs * sizeof(r->c.segs[0]));
		r->c.segs = q->segs + slot * vq->max_size;
		r->gen = vq->gen;
		q->free = r->next;
		r->next = NULL;
		*tail = r;
		tail = &r->next;
		q->vb->inflight++;
	}
	if (!q->free && virtq_has_avail(vq))
		q->starved = true;
	return batch;
}

/* The queue's I/O thread, after a kick: serve until the ring stays empty
 * with notifications back on. */
static void vblk_queue_serve(void *ctx)
{
	struct vblk_queue *q = ctx;
	struct vblk *vb = q->vb;

	for (;;) {
		struct vblk_req *batch, *last;
		struct virtq *vq;
		int err;

		virtio_backend_lock(&vb->be);
		vq = vb->draining ? NULL : virtio_backend_queue(&vb->be, q->idx);
		if (!vq) {
			virtio_backend_unlock(&vb->be);
			return;
		}
		q->vq = vq;
		virtq_set_notify(vq, false);
		batch = vblk_take(q, vq, &err);
		if (err)
			virtio_backend_queue_done(&vb->be, q->idx, err);
		if (!batch) {
			virtq_set_notify(vq, true);
			/* A chain added before the driver saw the flag. */
			if (!err && q->free && virtq_has_avail(vq)) {
				virtio_backend_unlock(&vb->be);
				continue;
			}
			virtio_backend_unlock(&vb->be);
			return;
		}
		virtio_backend_unlock(&vb->be);
		/* All but the last to the pool, in ring order; the last here:
		 * no hand-off latency for a lone request. */
		while (batch->next) {
			struct vblk_req *r = batch;

			batch = batch->next;
			iopool_submit(vb->pool, &r->job);
		}
		last = batch;
		vblk_req_run(last);
	}
}

/* ---- io=uring: one restricted io_uring per queue ------------------------ */

static struct iovec *req_iov(struct vblk_req *r)
{
	return r->q->iovs + (size_t)(r - r->q->reqs) * VIRTIO_BLK_QUEUE_SIZE;
}

/* Put @r on the ring, or answer it at once (then it goes on *@done). */
static void vblk_uring_start(struct vblk_queue *q, struct vblk_req *r,
			     struct vblk_req **done)
{
	struct vblk *vb = q->vb;
	struct vblk_plan *p = &r->plan;
	bool queued = false;
	uint8_t status;

	if (r->c.in_len == 0) {
		log_guest("virtio-blk %s: request without a status byte dropped",
			  vb->name);
		r->written = 0;
		r->next = *done;
		*done = r;
		return;
	}
	vblk_plan(vb, &r->c, req_iov(r), p);
	if (p->kind == PLAN_RW)
		queued = uring_rw(q->ring, p->write, req_iov(r), (unsigned int)p->cnt,
				  p->off, (uint64_t)(r - q->reqs));
	else if (p->kind == PLAN_FLUSH)
		queued = uring_fdatasync(q->ring, (uint64_t)(r - q->reqs));
	if (queued)
		return;
	/* Never full: a slot per request, a ring entry per slot. */
	status = p->kind == PLAN_DONE ? p->status : VIRTIO_BLK_S_IOERR;
	virtq_chain_write(&r->c, r->c.in_len - 1, &status, 1);
	r->written = r->c.in_len;
	r->next = *done;
	*done = r;
}

/* The ring's completions, their status written, on *@done. */
static bool vblk_uring_reap(struct vblk_queue *q, struct vblk_req **done)
{
	struct vblk *vb = q->vb;
	bool any = false;
	uint64_t tag;
	int32_t res;

	while (uring_reap(q->ring, &tag, &res)) {
		struct vblk_req *r;
		uint8_t status;

		if (tag >= VIRTIO_BLK_QUEUE_SIZE)
			continue;	/* not ours: cannot happen */
		r = &q->reqs[tag];
		if (r->plan.kind == PLAN_FLUSH)
			status = vblk_flush_status(vb, res < 0 ? res : 0);
		else	/* a short transfer is an error, as at end of file */
			status = vblk_rw_status(vb, &r->plan, res < 0 ? res :
					(uint64_t)res == r->plan.len ? 0 : -EIO);
		virtq_chain_write(&r->c, r->c.in_len - 1, &status, 1);
		r->written = r->c.in_len;
		r->next = *done;
		*done = r;
		any = true;
	}
	return any;
}

/* The queue's thread, woken by a kick or a completion (the ring signals
 * the same eventfd): return what completed, submit what arrived.  Requests
 * answered without the ring join the ring's completions, returned at the
 * top of the next round. */
static void vblk_uring_serve(void *ctx)
{
	struct vblk_queue *q = ctx;
	struct vblk *vb = q->vb;
	struct vblk_req *done = NULL;

	for (;;) {
		struct vblk_req *batch = NULL;
		bool reaped = vblk_uring_reap(q, &done);
		struct virtq *vq;
		int err = 0;

		virtio_backend_lock(&vb->be);
		while (done) {
			struct vblk_req *r = done;

			done = r->next;
			vblk_complete_locked(r, r->written);
		}
		vq = vb->draining ? NULL : virtio_backend_queue(&vb->be, q->idx);
		if (vq) {
			q->vq = vq;
			virtq_set_notify(vq, false);
			batch = vblk_take(q, vq, &err);
			if (err)
				virtio_backend_queue_done(&vb->be, q->idx, err);
			if (!batch)
				virtq_set_notify(vq, true);
			if (!batch && !err && q->free && virtq_has_avail(vq))
				reaped = true;	/* look again */
		}
		virtio_backend_unlock(&vb->be);
		if (!batch && !reaped)
			return;
		while (batch) {
			struct vblk_req *r = batch;

			batch = r->next;
			vblk_uring_start(q, r, &done);
		}
		err = uring_submit(q->ring);
		if (err)
			log_err("virtio-blk %s: io_uring submit: %s", vb->name,
				strerror(-err));
	}
}

static void vblk_notify(struct virtio_backend *be, unsigned int qidx)
{
	struct vblk *vb = to_vblk(be);

	if (!vb->started) {
		log_guest("virtio-blk %s: queue %u notified before the I/O threads started",
			  vb->name, qidx);
		return;
	}
	if (qidx < be->nr_queues)
		iothread_kick(vb->qs[qidx].thr);
}

static int vblk_kick_fd(struct virtio_backend *be, unsigned int qidx)
{
	struct vblk *vb = to_vblk(be);

	if (!vb->started || qidx >= be->nr_queues)
		return -1;
	return iothread_kick_fd(vb->qs[qidx].thr);
}

/* Device reset (lock held): no request may write guest memory after it. */
static void vblk_reset(struct virtio_backend *be)
{
	struct vblk *vb = to_vblk(be);

	vb->draining = true;	/* other vCPUs may still notify meanwhile */
	while (vb->inflight)
		virtio_backend_wait(be, &vb->idle);
	vb->draining = false;
	for (unsigned int i = 0; i < be->nr_queues; i++)
		vb->qs[i].starved = false;
}

/* Snapshot drain (no lock held, vCPUs paused): with the queue threads
 * kept from taking anything, wait for every request in flight to be
 * returned, then serve what the driver made available and nobody took
 * yet here, so that no notify the threads consumed is lost with the
 * snapshot; the threads find nothing left when a kick wakes them. */
static void vblk_drain(struct virtio_backend *be)
{
	struct vblk *vb = to_vblk(be);
	unsigned int done;

	if (!be->core)
		return;
	virtio_backend_lock(be);
	vb->draining = true;
	done = vb->inflight;
	while (vb->inflight)
		virtio_backend_wait(be, &vb->idle);
	for (unsigned int i = 0; i < virtio_backend_nr_queues(be); i++) {
		struct virtq *vq = virtio_backend_queue(be, i);
		uint16_t used;
		int err;

		if (!vq)
			continue;
		used = vq->used_idx;
		/* The host I/O under the lock: nothing else runs now.  A
		 * thread stopped by draining may have left notifications
		 * off: the driver must notify again after the snapshot. */
		do {
			err = virtq_serve(vq, vblk_serve, vb);
			virtq_set_notify(vq, true);
		} while (!err && virtq_has_avail(vq));
		virtio_backend_queue_done(be, i, err);
		done += (uint16_t)(vq->used_idx - used);
	}
	for (unsigned int i = 0; vb->qs && i < be->nr_queues; i++)
		vb->qs[i].starved = false;
	vb->draining = false;
	virtio_backend_unlock(be);
	if (done)
		log_info("virtio-blk: the snapshot completed %u request(s) in flight",
			 done);
}

/* virtio-blk's record: u64 capacity in sectors, bool read-only, u32
 * queues: the disk the guest saw, checked against this one.  Requests are
 * all returned (drain), and the rest is the transport's. */
static int vblk_save(struct virtio_backend *be, struct snap_w *w)
{
	struct vblk *vb = to_vblk(be);

	if (vb->inflight) {
		log_err("virtio-blk %s: requests in flight: not drained",
			vb->name);
		return -EBUSY;
	}
	snap_w_u64(w, vb->capacity);
	snap_w_bool(w, vb->readonly);
	snap_w_u32(w, virtio_backend_nr_queues(be));
	return 0;
}

static int vblk_load(struct virtio_backend *be, struct snap_r *r)
{
	struct vblk *vb = to_vblk(be);
	uint64_t cap = snap_r_u64(r);
	bool ro = snap_r_bool(r);
	uint32_t nq = snap_r_u32(r);

	if (!r->err && (cap != vb->capacity || ro != vb->readonly ||
			nq != virtio_backend_nr_queues(be)))
		log_err("virtio-blk %s: the snapshot's disk had %" PRIu64 " sectors%s and %u queue(s), this one %" PRIu64 "%s and %u",
			vb->name, cap, ro ? " (read-only)" : "", nq,
			vb->capacity, vb->readonly ? " (read-only)" : "",
			virtio_backend_nr_queues(be));
	snap_r_check(r, cap == vb->capacity && ro == vb->readonly &&
		     nq == virtio_backend_nr_queues(be),
		     "virtio-blk: another disk");
	return snap_r_finish(r);
}

static void vblk_stop(struct virtio_backend *be)
{
	struct vblk *vb = to_vblk(be);

	/* io=uring: the queue threads return the ring's requests; none may
	 * write guest memory once the VM is gone. */
	if (vb->uring && vb->started && be->core) {
		virtio_backend_lock(be);
		while (vb->inflight)
			virtio_backend_wait(be, &vb->idle);
		virtio_backend_unlock(be);
	}
	/* Queue threads first: they feed the pool. */
	for (unsigned int i = 0; vb->qs && i < be->nr_queues; i++) {
		iothread_stop(vb->qs[i].thr);
		vb->qs[i].thr = NULL;
		uring_close(vb->qs[i].ring);
		vb->qs[i].ring = NULL;
	}
	iopool_stop(vb->pool);
	vb->pool = NULL;
	vb->started = false;
}

static int vblk_start(struct virtio_backend *be, const struct io_confine *conf)
{
	struct vblk *vb = to_vblk(be);
	int err;

	if (vb->started)
		return 0;
	if (!vb->uring)
		err = iopool_start(&vb->pool, "rivet-blk-pool",
				   VIRTIO_BLK_POOL_THREADS, conf);
	else
		err = 0;
	for (unsigned int i = 0; !err && i < be->nr_queues; i++) {
		struct vblk_queue *q = &vb->qs[i];
		char name[16];

		snprintf(name, sizeof(name), "rivet-blk-q%u",
			 i % VIRTIO_BLK_MAX_QUEUES);
		err = iothread_start(&q->thr, name, vb->uring ?
				     vblk_uring_serve : vblk_queue_serve, q,
				     conf);
		/* Built here, unconfined, and locked down before the guest
		 * runs; completions wake the queue's thread like a kick. */
		if (!err && vb->uring) {
			err = uring_open(&q->ring, VIRTIO_BLK_QUEUE_SIZE,
					 vb->fd, iothread_kick_fd(q->thr));
			if (err)
				log_err("virtio-blk %s: io=uring: cannot set up a restricted io_uring: %s",
					vb->name, strerror(-err));
		}
	}
	if (err) {
		vblk_stop(be);
		return err;
	}
	vb->started = true;
	return 0;
}

static int vblk_alloc_queues(struct vblk *vb, unsigned int n)
{
	const size_t size = VIRTIO_BLK_QUEUE_SIZE;

	vb->qs = calloc(n, sizeof(*vb->qs));
	if (!vb->qs)
		return -ENOMEM;
	vb->be.nr_queues = n;
	for (unsigned int i = 0; i < n; i++) {
		struct vblk_queue *q = &vb->qs[i];

		q->vb = vb;
		q->idx = i;
		q->reqs = calloc(size, sizeof(*q->reqs));
		/* Pages are touched only as slots get used. */
		q->segs = calloc(size * size, sizeof(*q->segs));
		if (vb->uring)
			q->iovs = calloc(size * size, sizeof(*q->iovs));
		if (!q->reqs || !q->segs || (vb->uring && !q->iovs))
			return -ENOMEM;
		for (size_t s = 0; s < size; s++) {
			q->reqs[s].q = q;
			q->reqs[s].job.fn = vblk_job;
			q->reqs[s].next = q->free;
			q->free = &q->reqs[s];
		}
	}
	return pthread_cond_init(&vb->idle, NULL) ? -ENOMEM : 0;
}

static void vblk_config_read(struct virtio_backend *be, uint32_t off,
			     uint8_t *data, unsigned int len)
{
	memcpy(data, to_vblk(be)->config + off, len);
}

static void vblk_free(struct vblk *vb)
{
	if (vb->qs) {
		vblk_stop(&vb->be);
		for (unsigned int i = 0; i < vb->be.nr_queues; i++) {
			free(vb->qs[i].reqs);
			free(vb->qs[i].segs);
			free(vb->qs[i].iovs);
		}
		free(vb->qs);
		pthread_cond_destroy(&vb->idle);
	}
	if (vb->fd >= 0)
		close(vb->fd);	/* also drops the flock */
	free(vb->name);
	free(vb);
}

static void vblk_destroy(struct virtio_backend *be)
{
	vblk_free(to_vblk(be));
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
	.save = vblk_save,
	.load = vblk_load,
};

static const struct virtio_backend_ops vblk_thread_ops = {
	.name = "blk",
	.device_id = VIRTIO_ID_BLOCK,
	.nr_queues = 1,
	.max_queue_size = VIRTIO_BLK_QUEUE_SIZE,
	.pci_class = 0x018000,
	.config_read = vblk_config_read,
	.notify = vblk_notify,
	.start = vblk_start,
	.stop = vblk_stop,
	.kick_fd = vblk_kick_fd,
	.reset = vblk_reset,
	.destroy = vblk_destroy,
	.drain = vblk_drain,
	.save = vblk_save,
	.load = vblk_load,
};

static void put_le32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void vblk_init_config(struct vblk *vb, const struct stat *st,
			     unsigned int queues)
{
	uint64_t cap = htole64(vb->capacity);
	uint16_t nq = htole16((uint16_t)queues);
	char id[64];

	memcpy(vb->config, &cap, 8);				/* capacity */
	put_le32(vb->config + 12, VIRTIO_BLK_QUEUE_SIZE - 2);	/* seg_max */
	put_le32(vb->config + 20, VIRTIO_BLK_SECTOR);		/* blk_size */
	memcpy(vb->config + VIRTIO_BLK_CFG_NUM_QUEUES, &nq, 2);
	snprintf(id, sizeof(id), "rivet-%" PRIx64 "-%" PRIx64,
		 (uint64_t)st->st_dev, (uint64_t)st->st_ino);
	/* NUL padded; exactly 20 bytes means no terminator (§5.2.6). */
	memcpy(vb->id, id, strnlen(id, sizeof(vb->id)));
	vb->be.config_size = VIRTIO_BLK_CONFIG_SIZE;
	vb->be.features = VIRTIO_BIT(VIRTIO_F_VERSION_1) |
			  VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) |
			  VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) |
			  VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) |
			  VIRTIO_BIT(VIRTIO_BLK_F_FLUSH);
	if (vb->readonly)
		vb->be.features |= VIRTIO_BIT(VIRTIO_BLK_F_RO);
	if (queues > 1)
		vb->be.features |= VIRTIO_BIT(VIRTIO_BLK_F_MQ);
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

int vblk_open_fd(int fd, const char *name, const struct vblk_opts *o,
		 struct virtio_backend **out)
{
	unsigned int queues = o && o->queues ? o->queues : 1;
	struct vblk *vb = NULL;
	struct stat st;
	uint64_t cap = 0;
	int err = -EINVAL;

	if (fd < 0 || !name || !o || !out || queues > VIRTIO_BLK_MAX_QUEUES ||
	    (o->io == VBLK_IO_SYNC && queues > 1))
		goto fail;
	err = vblk_probe(fd, name, o->readonly, &st, &cap);
	if (err)
		goto fail;
	err = -ENOMEM;
	vb = calloc(1, sizeof(*vb));
	if (!vb)
		goto fail;
	vb->fd = fd;
	fd = -1;		/* vblk_free() closes it now */
	vb->name = strdup(name);
	if (!vb->name)
		goto fail;
	vb->readonly = o->readonly;
	vb->capacity = cap;
	vb->be.ops = o->io == VBLK_IO_SYNC ? &vblk_ops : &vblk_thread_ops;
	vb->uring = o->io == VBLK_IO_URING;
	if (o->io != VBLK_IO_SYNC) {
		err = vblk_alloc_queues(vb, queues);
		if (err)
			goto fail;
	}
	vblk_init_config(vb, &st, queues);
	*out = &vb->be;
	return 0;
fail:
	if (vb)
		vblk_free(vb);
	if (fd >= 0)
		close(fd);
	return err;
}

int vblk_open(const char *path, const struct vblk_opts *o,
	      struct virtio_backend **out)
{
	int fd;

	if (!path || !o || !out)
		return -EINVAL;
	fd = fio_open("virtio-blk", path, o->readonly);
	if (fd < 0)
		return fd;
	return vblk_open_fd(fd, path, o, out);
}

int vblk_create_fd(int fd, const char *name, bool readonly,
		   struct virtio_backend **out)
{
	const struct vblk_opts o = { .readonly = readonly, .queues = 1 };

	return vblk_open_fd(fd, name, &o, out);
}

int vblk_create(const char *path, bool readonly, struct virtio_backend **out)
{
	const struct vblk_opts o = { .readonly = readonly, .queues = 1 };

	return vblk_open(path, &o, out);
}
