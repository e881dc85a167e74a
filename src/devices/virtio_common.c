// SPDX-License-Identifier: MIT
#include "devices/virtio_common.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "devices/virtio.h"
#include "devices/virtq.h"
#include "snapshot/snap.h"

#define STATUS_DRIVER_BITS (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
			    VIRTIO_STATUS_DRIVER_OK |			   \
			    VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_FAILED)

bool virtio_backend_valid(const struct virtio_backend *be,
			  unsigned int max_queues)
{
	const struct virtio_backend_ops *ops = be ? be->ops : NULL;

	unsigned int n = be ? virtio_backend_nr_queues(be) : 0;

	return ops && ops->config_read && (ops->handle_queue || ops->notify) &&
	       ops->destroy && n && n <= max_queues;
}

int virtio_backend_start(struct virtio_backend *be,
			 const struct io_confine *conf,
			 const struct virtio_ioeventfd *iev)
{
	int err;

	if (!be->ops->start)
		return 0;
	err = be->ops->start(be, conf);
	if (!err && iev && be->core && be->core->ops->wire_ioeventfds &&
	    be->ops->kick_fd)
		be->core->ops->wire_ioeventfds(be->core, iev);
	return err;
}

void virtio_backend_stop(struct virtio_backend *be)
{
	if (be->ops->stop)
		be->ops->stop(be);
}

int virtio_core_queue_ioeventfds(struct virtio_core *vc,
				 const struct virtio_ioeventfd *iev,
				 uint64_t addr, uint64_t stride,
				 unsigned int len, bool on)
{
	struct virtio_backend *be = vc->be;
	int err = 0;

	for (unsigned int q = 0; q < vc->nr_queues; q++) {
		int fd = be->ops->kick_fd(be, q);
		int e;

		if (fd < 0)
			continue;
		e = iev->assign(iev->ctx, addr + (uint64_t)q * stride, len, q,
				fd, on);
		if (e && !err)
			err = e;
	}
	return err;
}

void virtio_backend_drain(struct virtio_backend *be)
{
	if (be->ops->drain)
		be->ops->drain(be);
}

void virtio_backend_resume(struct virtio_backend *be)
{
	if (be->ops->resume)
		be->ops->resume(be);
}

unsigned int virtio_backend_nr_queues(const struct virtio_backend *be)
{
	return be->nr_queues ? be->nr_queues : be->ops->nr_queues;
}

/* The registers' power-on state, at creation and on every reset. */
static void clear_state(struct virtio_core *vc)
{
	vc->status = 0;
	vc->dev_feat_sel = 0;
	vc->drv_feat_sel = 0;
	vc->drv_features = 0;
	vc->drv_features_bad = false;
	vc->queue_sel = 0;
	vc->be->driver_features = 0;
}

int virtio_core_init(struct virtio_core *vc, const char *tname,
		     const struct virtio_core_ops *ops, const struct gmem *gm,
		     struct virtio_backend *be, unsigned int max_queues,
		     pthread_mutex_t *lock)
{
	unsigned int n;
	int err;

	if (!gm || !ops || !lock || !virtio_backend_valid(be, max_queues))
		return -EINVAL;
	n = virtio_backend_nr_queues(be);
	vc->vqs = calloc(n, sizeof(vc->vqs[0]));
	if (!vc->vqs)
		return -ENOMEM;
	for (vc->nr_queues = 0; vc->nr_queues < n; vc->nr_queues++) {
		err = virtq_init(&vc->vqs[vc->nr_queues], gm,
				 be->ops->max_queue_size);
		if (err) {
			virtio_core_fini(vc);
			return err;
		}
	}
	vc->tname = tname;
	vc->ops = ops;
	vc->lock = lock;
	vc->be = be;
	be->core = vc;
	clear_state(vc);
	return 0;
}

void virtio_core_fini(struct virtio_core *vc)
{
	for (unsigned int i = 0; i < vc->nr_queues; i++)
		virtq_fini(&vc->vqs[i]);
	free(vc->vqs);
	vc->vqs = NULL;
	vc->nr_queues = 0;
}

void virtio_backend_destroy(struct virtio_backend *be)
{
	if (be && be->ops && be->ops->destroy)
		be->ops->destroy(be);
}

void virtio_backend_kick(struct virtio_backend *be, unsigned int qidx)
{
	struct virtio_core *vc = be->core;

	if (vc && vc->ops->kick)
		vc->ops->kick(vc, qidx);
}

void virtio_backend_lock(struct virtio_backend *be)
{
	pthread_mutex_lock(be->core->lock);
}

void virtio_backend_unlock(struct virtio_backend *be)
{
	pthread_mutex_unlock(be->core->lock);
}

void virtio_backend_wait(struct virtio_backend *be, pthread_cond_t *cond)
{
	pthread_cond_wait(cond, be->core->lock);
}

struct virtq *virtio_backend_queue(struct virtio_backend *be,
				   unsigned int qidx)
{
	struct virtio_core *vc = be->core;
	struct virtq *vq;

	if (qidx >= vc->nr_queues || (vc->status & VIRTIO_STATUS_NEEDS_RESET) ||
	    !(vc->status & VIRTIO_STATUS_DRIVER_OK))
		return NULL;
	vq = &vc->vqs[qidx];
	if (!vq->ready || (vc->ops->dma_allowed && !vc->ops->dma_allowed(vc)))
		return NULL;
	return vq;
}

void virtio_backend_queue_irq(struct virtio_backend *be, unsigned int qidx)
{
	if (be->core && virtio_backend_queue(be, qidx))
		be->core->ops->queue_irq(be->core, qidx);
}

void virtio_backend_queue_done(struct virtio_backend *be, unsigned int qidx,
			       int err)
{
	struct virtio_core *vc = be->core;

	if (qidx >= vc->nr_queues)
		return;
	if (virtq_need_irq(&vc->vqs[qidx]))
		vc->ops->queue_irq(vc, qidx);
	if (err)
		virtio_core_device_error(vc);
}

const char *virtio_core_name(const struct virtio_core *vc)
{
	return vc->be->ops->name;
}

struct virtq *virtio_core_cur_vq(struct virtio_core *vc)
{
	if (vc->queue_sel >= vc->nr_queues) {
		log_guest("%s %s: queue %u does not exist", vc->tname,
			  virtio_core_name(vc), vc->queue_sel);
		return NULL;
	}
	return &vc->vqs[vc->queue_sel];
}

void virtio_core_device_error(struct virtio_core *vc)
{
	if (vc->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	log_guest("%s %s: device error, needs reset", vc->tname,
		  virtio_core_name(vc));
	vc->status |= VIRTIO_STATUS_NEEDS_RESET;
	if (vc->status & VIRTIO_STATUS_DRIVER_OK)
		vc->ops->config_irq(vc);
}

void virtio_core_reset(struct virtio_core *vc)
{
	if (vc->be->ops->reset)
		vc->be->ops->reset(vc->be);
	for (unsigned int i = 0; i < vc->nr_queues; i++)
		virtq_reset(&vc->vqs[i]);
	clear_state(vc);
	vc->ops->reset(vc);
}

static void process_queue(struct virtio_core *vc, unsigned int idx)
{
	struct virtq *vq = &vc->vqs[idx];
	int err;

	if (!vq->ready) {
		log_guest("%s %s: notify for queue %u not ready", vc->tname,
			  virtio_core_name(vc), idx);
		return;
	}
	if (vc->ops->dma_allowed && !vc->ops->dma_allowed(vc)) {
		log_guest("%s %s: queue %u not served: bus mastering off",
			  vc->tname, virtio_core_name(vc), idx);
		return;
	}
	if (vc->be->ops->notify) {
		vc->be->ops->notify(vc->be, idx);
		return;
	}
	err = vc->be->ops->handle_queue(vc->be, vq, idx);
	if (virtq_need_irq(vq))
		vc->ops->queue_irq(vc, idx);
	if (err)
		virtio_core_device_error(vc);
}

void virtio_core_notify(struct virtio_core *vc, uint32_t idx)
{
	if (idx >= vc->nr_queues) {
		log_guest("%s %s: notify for bad queue %u", vc->tname,
			  virtio_core_name(vc), idx);
		return;
	}
	if (vc->status & VIRTIO_STATUS_NEEDS_RESET)
		return;		/* already reported; waiting for reset */
	if (!(vc->status & VIRTIO_STATUS_DRIVER_OK)) {
		log_guest("%s %s: notify before DRIVER_OK", vc->tname,
			  virtio_core_name(vc));
		return;
	}
	process_queue(vc, idx);
}

static bool features_acceptable(struct virtio_core *vc)
{
	uint64_t f = vc->drv_features;

	if (vc->drv_features_bad || (f & ~vc->be->features)) {
		log_guest("%s %s: driver accepted features never offered (0x%" PRIx64 "%s)",
			  vc->tname, virtio_core_name(vc),
			  f & ~vc->be->features,
			  vc->drv_features_bad ? " and bits above 63" : "");
		return false;
	}
	if (!(f & VIRTIO_BIT(VIRTIO_F_VERSION_1))) {
		log_guest("%s %s: legacy driver (no VERSION_1) refused",
			  vc->tname, virtio_core_name(vc));
		return false;
	}
	vc->be->driver_features = f;
	return true;
}

void virtio_core_write_status(struct virtio_core *vc, uint32_t v)
{
	uint32_t old = vc->status & STATUS_DRIVER_BITS;

	if (v == 0) {
		virtio_core_reset(vc);
		return;
	}
	v &= ~VIRTIO_STATUS_NEEDS_RESET;	/* device-owned */
	if (v & ~STATUS_DRIVER_BITS) {
		log_guest("%s %s: unknown status bits 0x%x", vc->tname,
			  virtio_core_name(vc), v & ~STATUS_DRIVER_BITS);
		v &= STATUS_DRIVER_BITS;
	}
	if (old & ~v) {
		log_guest("%s %s: status bits cleared without reset",
			  vc->tname, virtio_core_name(vc));
		return;
	}
	if ((v & ~old & VIRTIO_STATUS_FEATURES_OK) && !features_acceptable(vc))
		v &= ~VIRTIO_STATUS_FEATURES_OK;
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(v & VIRTIO_STATUS_FEATURES_OK)) {
		log_guest("%s %s: DRIVER_OK without FEATURES_OK ignored",
			  vc->tname, virtio_core_name(vc));
		v &= ~VIRTIO_STATUS_DRIVER_OK;
	}
	vc->status = v | (vc->status & VIRTIO_STATUS_NEEDS_RESET);
	if (!(v & ~old & VIRTIO_STATUS_DRIVER_OK) ||
	    (vc->status & VIRTIO_STATUS_NEEDS_RESET))
		return;
	/* Buffers made available before DRIVER_OK were not consumed then;
	 * do it now so the driver does not wait for a second notify. */
	for (unsigned int i = 0; i < vc->nr_queues; i++)
		if (vc->vqs[i].ready)
			process_queue(vc, i);
}

uint32_t virtio_core_device_features(const struct virtio_core *vc)
{
	if (vc->dev_feat_sel > 1)
		return 0;
	return (uint32_t)(vc->be->features >> (32 * vc->dev_feat_sel));
}

uint32_t virtio_core_driver_features(const struct virtio_core *vc)
{
	if (vc->drv_feat_sel > 1)
		return 0;
	return (uint32_t)(vc->drv_features >> (32 * vc->drv_feat_sel));
}

void virtio_core_write_driver_features(struct virtio_core *vc, uint32_t v)
{
	if (vc->status & VIRTIO_STATUS_FEATURES_OK) {
		log_guest("%s %s: feature change after FEATURES_OK",
			  vc->tname, virtio_core_name(vc));
		return;
	}
	if (vc->drv_feat_sel == 0) {
		vc->drv_features = (vc->drv_features & ~0xffffffffULL) | v;
	} else if (vc->drv_feat_sel == 1) {
		vc->drv_features = (vc->drv_features & 0xffffffffULL) |
				   (uint64_t)v << 32;
	} else if (v) {
		vc->drv_features_bad = true;
	}
}

void virtio_core_queue_size(struct virtio_core *vc, uint32_t size)
{
	struct virtq *vq = virtio_core_cur_vq(vc);
	int err;

	if (!vq)
		return;
	err = virtq_set_size(vq, size);
	if (err)
		log_guest("%s %s: queue %u size %u refused (%s)", vc->tname,
			  virtio_core_name(vc), vc->queue_sel, size,
			  err == -EBUSY ? "queue ready" : "invalid");
}

void virtio_core_queue_area(struct virtio_core *vc, enum virtq_area area,
			    uint64_t gpa)
{
	struct virtq *vq = virtio_core_cur_vq(vc);

	if (vq && virtq_set_area(vq, area, gpa))
		log_guest("%s %s: queue %u address change while ready",
			  vc->tname, virtio_core_name(vc), vc->queue_sel);
}

void virtio_core_queue_enable(struct virtio_core *vc)
{
	struct virtq *vq = virtio_core_cur_vq(vc);
	bool indirect;

	if (!vq || vq->ready)
		return;
	if (!(vc->status & VIRTIO_STATUS_FEATURES_OK)) {
		log_guest("%s %s: queue enabled before FEATURES_OK",
			  vc->tname, virtio_core_name(vc));
		return;
	}
	indirect = vc->be->driver_features &
		   VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC);
	if (virtq_enable(vq, indirect)) {
		log_guest("%s %s: queue %u rings outside RAM or misaligned",
			  vc->tname, virtio_core_name(vc), vc->queue_sel);
		virtio_core_device_error(vc);
	}
}

void virtio_core_queue_disable(struct virtio_core *vc)
{
	struct virtq *vq = virtio_core_cur_vq(vc);

	if (vq)
		virtq_disable(vq);
}

static bool config_range_ok(struct virtio_core *vc, uint64_t off,
			    unsigned int len)
{
	if (off < vc->be->config_size && len <= vc->be->config_size - off)
		return true;
	log_guest("%s %s: config access at 0x%" PRIx64 "+%u outside %u bytes",
		  vc->tname, virtio_core_name(vc), off, len,
		  vc->be->config_size);
	return false;
}

bool virtio_core_config_read(struct virtio_core *vc, uint64_t off,
			     uint8_t *data, unsigned int len)
{
	if (!config_range_ok(vc, off, len))
		return false;
	vc->be->ops->config_read(vc->be, (uint32_t)off, data, len);
	return true;
}

bool virtio_core_config_write(struct virtio_core *vc, uint64_t off,
			      const uint8_t *data, unsigned int len)
{
	if (!config_range_ok(vc, off, len))
		return false;
	if (!vc->be->ops->config_write) {
		log_guest("%s %s: write to read-only config 0x%" PRIx64,
			  vc->tname, virtio_core_name(vc), off);
		return false;
	}
	vc->be->ops->config_write(vc->be, (uint32_t)off, data, len);
	return true;
}

/* ---- snapshots ------------------------------------------------------------ */

/* The core's record: u64 features offered (the configuration's: checked),
 * u32 queues (likewise), u32 status, u32 device and driver feature
 * selects, u64 driver features as written, bool bits above 63 written,
 * u32 queue select, then each queue's record (virtq_save()).  The
 * accepted features are the written ones once FEATURES_OK stands. */
void virtio_core_save(const struct virtio_core *vc, struct snap_w *w)
{
	snap_w_u64(w, vc->be->features);
	snap_w_u32(w, vc->nr_queues);
	snap_w_u32(w, vc->status);
	snap_w_u32(w, vc->dev_feat_sel);
	snap_w_u32(w, vc->drv_feat_sel);
	snap_w_u64(w, vc->drv_features);
	snap_w_bool(w, vc->drv_features_bad);
	snap_w_u32(w, vc->queue_sel);
	for (unsigned int i = 0; i < vc->nr_queues; i++)
		virtq_save(&vc->vqs[i], w);
}

/* What virtio_core_write_status() lets a driver reach. */
static bool status_ok(const struct virtio_core *vc, uint32_t st, uint64_t f,
		      bool bad)
{
	if (st & ~(STATUS_DRIVER_BITS | VIRTIO_STATUS_NEEDS_RESET))
		return false;
	if ((st & VIRTIO_STATUS_DRIVER_OK) && !(st & VIRTIO_STATUS_FEATURES_OK))
		return false;
	/* Only a device with queues configured (FEATURES_OK) errs. */
	if ((st & VIRTIO_STATUS_NEEDS_RESET) &&
	    !(st & VIRTIO_STATUS_FEATURES_OK))
		return false;
	if (!(st & VIRTIO_STATUS_FEATURES_OK))
		return true;
	return !bad && !(f & ~vc->be->features) &&
	       (f & VIRTIO_BIT(VIRTIO_F_VERSION_1));
}

int virtio_core_load(struct virtio_core *vc, struct snap_r *r)
{
	uint64_t offered = snap_r_u64(r);
	uint32_t nq = snap_r_u32(r);
	uint32_t status = snap_r_u32(r);
	uint32_t dsel = snap_r_u32(r), gsel = snap_r_u32(r);
	uint64_t f = snap_r_u64(r);
	bool bad = snap_r_bool(r);
	uint32_t qsel = snap_r_u32(r);
	bool fok;

	snap_r_check(r, offered == vc->be->features,
		     "virtio: features offered differ (another configuration)");
	snap_r_check(r, nq == vc->nr_queues, "virtio: another number of queues");
	snap_r_check(r, status_ok(vc, status, f, bad), "virtio: bad status");
	if (r->err)
		return -EBADMSG;
	fok = status & VIRTIO_STATUS_FEATURES_OK;
	vc->status = status;
	vc->dev_feat_sel = dsel;
	vc->drv_feat_sel = gsel;
	vc->drv_features = f;
	vc->drv_features_bad = bad;
	vc->queue_sel = qsel;
	vc->be->driver_features = fok ? f : 0;
	for (unsigned int i = 0; i < vc->nr_queues; i++)
		if (virtq_load(&vc->vqs[i], r, fok,
			       fok && (f & VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC))))
			return -EBADMSG;
	return 0;
}

int virtio_core_load_rest(struct virtio_core *vc, struct snap_r *r,
			  uint32_t isr, uint32_t isr_bits)
{
	int err;

	/* Interrupts are only ever raised for a driver past DRIVER_OK. */
	if (!snap_r_check(r, !(isr & ~isr_bits) &&
			  (!isr || (vc->status & VIRTIO_STATUS_DRIVER_OK)),
			  "virtio: bad interrupt status"))
		return -EBADMSG;
	err = virtio_backend_load(vc->be, r);
	return err ? err : snap_r_finish(r);
}

void virtio_core_load_failed(struct virtio_core *vc, const struct snap_r *r,
			     int err)
{
	log_err("%s %s: cannot restore: %s", vc->tname, virtio_core_name(vc),
		r->what ? r->what : strerror(-err));
	for (unsigned int i = 0; i < vc->nr_queues; i++)
		virtq_reset(&vc->vqs[i]);
	clear_state(vc);
}

#define BACKEND_TAG SNAP_TAG('V', 'B', 'E', 'D')

/* The backend's record in a section tagged VBED, instance its device ID,
 * so that it is bounded and checked whole. */
int virtio_backend_save(struct virtio_backend *be, struct snap_w *w)
{
	size_t mark;
	int err;

	if (!be->ops->save) {
		log_err("virtio %s: this device cannot be saved yet",
			be->ops->name);
		return -EOPNOTSUPP;
	}
	mark = snap_w_begin(w, BACKEND_TAG, be->ops->device_id);
	err = be->ops->save(be, w);
	snap_w_end(w, mark);
	return err ? err : w->err;
}

int virtio_backend_load(struct virtio_backend *be, struct snap_r *r)
{
	struct snap_r sub;
	uint32_t tag = 0, inst = 0;
	int err;

	if (!be->ops->load) {
		log_err("virtio %s: this device cannot be restored yet",
			be->ops->name);
		return -EOPNOTSUPP;
	}
	if (!snap_r_check(r, snap_r_section(r, &tag, &inst, &sub) == 1,
			  "virtio: no backend record") ||
	    !snap_r_check(r, tag == BACKEND_TAG &&
			  inst == be->ops->device_id,
			  "virtio: not this backend's record"))
		return -EBADMSG;
	err = be->ops->load(be, &sub);
	if (!err)
		err = snap_r_finish(&sub);
	if (err == -EBADMSG && sub.err)
		snap_r_check(r, false, sub.what ? sub.what : "virtio backend");
	return err;
}
