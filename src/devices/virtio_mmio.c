// SPDX-License-Identifier: MIT
#include "devices/virtio_mmio.h"

#include <errno.h>
#include <inttypes.h>
#include <libfdt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/device.h"
#include "core/fdt_util.h"
#include "core/log.h"
#include "devices/virtio.h"
#include "devices/virtq.h"

#define VIRTIO_MMIO_MAX_QUEUES 64

#define STATUS_DRIVER_BITS (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
			    VIRTIO_STATUS_DRIVER_OK |			   \
			    VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_FAILED)

struct vmmio {
	struct rivet_dev dev;
	pthread_mutex_t lock;
	struct virtio_backend *be;
	uint32_t status;
	uint32_t int_status;
	bool irq_level;
	uint32_t dev_feat_sel;
	uint32_t drv_feat_sel;
	uint64_t drv_features;
	bool drv_features_bad;	/* bits set beyond the 64 we know */
	uint32_t queue_sel;
	unsigned int nr_queues;
	struct virtq vqs[];
};

static const char *vmmio_name(const struct vmmio *m)
{
	return m->be->ops->name;
}

static struct virtq *cur_vq(struct vmmio *m)
{
	if (m->queue_sel >= m->nr_queues) {
		log_guest("virtio-mmio %s: queue %u does not exist",
			  vmmio_name(m), m->queue_sel);
		return NULL;
	}
	return &m->vqs[m->queue_sel];
}

static void update_irq(struct vmmio *m)
{
	bool level = m->int_status != 0;

	if (level == m->irq_level)
		return;
	m->irq_level = level;
	irq_line_set(&m->dev.irq, level);
}

static void raise_irq(struct vmmio *m, uint32_t bits)
{
	m->int_status |= bits;
	update_irq(m);
}

static void device_error(struct vmmio *m)
{
	if (m->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	log_guest("virtio-mmio %s: device error, needs reset", vmmio_name(m));
	m->status |= VIRTIO_STATUS_NEEDS_RESET;
	if (m->status & VIRTIO_STATUS_DRIVER_OK)
		raise_irq(m, VIRTIO_MMIO_INT_CONFIG);
}

static void device_reset(struct vmmio *m)
{
	if (m->be->ops->reset)
		m->be->ops->reset(m->be);
	for (unsigned int i = 0; i < m->nr_queues; i++)
		virtq_reset(&m->vqs[i]);
	m->be->driver_features = 0;
	m->status = 0;
	m->int_status = 0;
	m->dev_feat_sel = 0;
	m->drv_feat_sel = 0;
	m->drv_features = 0;
	m->drv_features_bad = false;
	m->queue_sel = 0;
	update_irq(m);
}

static void process_queue(struct vmmio *m, unsigned int idx)
{
	struct virtq *vq = &m->vqs[idx];
	int err;

	if (!vq->ready) {
		log_guest("virtio-mmio %s: notify for queue %u not ready",
			  vmmio_name(m), idx);
		return;
	}
	err = m->be->ops->handle_queue(m->be, vq, idx);
	if (virtq_need_irq(vq))
		raise_irq(m, VIRTIO_MMIO_INT_VRING);
	if (err)
		device_error(m);
}

static void queue_notify(struct vmmio *m, uint32_t idx)
{
	if (idx >= m->nr_queues) {
		log_guest("virtio-mmio %s: notify for bad queue %u",
			  vmmio_name(m), idx);
		return;
	}
	if (m->status & VIRTIO_STATUS_NEEDS_RESET)
		return;		/* already reported; waiting for reset */
	if (!(m->status & VIRTIO_STATUS_DRIVER_OK)) {
		log_guest("virtio-mmio %s: notify before DRIVER_OK",
			  vmmio_name(m));
		return;
	}
	process_queue(m, idx);
}

static bool features_acceptable(struct vmmio *m)
{
	uint64_t f = m->drv_features;

	if (m->drv_features_bad || (f & ~m->be->features)) {
		log_guest("virtio-mmio %s: driver accepted features never offered (0x%" PRIx64 "%s)",
			  vmmio_name(m), f & ~m->be->features,
			  m->drv_features_bad ? " and bits above 63" : "");
		return false;
	}
	if (!(f & VIRTIO_BIT(VIRTIO_F_VERSION_1))) {
		log_guest("virtio-mmio %s: legacy driver (no VERSION_1) refused",
			  vmmio_name(m));
		return false;
	}
	m->be->driver_features = f;
	return true;
}

static void write_status(struct vmmio *m, uint32_t v)
{
	uint32_t old = m->status & STATUS_DRIVER_BITS;

	if (v == 0) {
		device_reset(m);
		return;
	}
	v &= ~VIRTIO_STATUS_NEEDS_RESET;	/* device-owned */
	if (v & ~STATUS_DRIVER_BITS) {
		log_guest("virtio-mmio %s: unknown status bits 0x%x",
			  vmmio_name(m), v & ~STATUS_DRIVER_BITS);
		v &= STATUS_DRIVER_BITS;
	}
	if (old & ~v) {
		log_guest("virtio-mmio %s: status bits cleared without reset",
			  vmmio_name(m));
		return;
	}
	if ((v & ~old & VIRTIO_STATUS_FEATURES_OK) && !features_acceptable(m))
		v &= ~VIRTIO_STATUS_FEATURES_OK;
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(v & VIRTIO_STATUS_FEATURES_OK)) {
		log_guest("virtio-mmio %s: DRIVER_OK without FEATURES_OK ignored",
			  vmmio_name(m));
		v &= ~VIRTIO_STATUS_DRIVER_OK;
	}
	m->status = v | (m->status & VIRTIO_STATUS_NEEDS_RESET);
	if (!(v & ~old & VIRTIO_STATUS_DRIVER_OK) ||
	    (m->status & VIRTIO_STATUS_NEEDS_RESET))
		return;
	/* Buffers made available before DRIVER_OK were not consumed then;
	 * do it now so the driver does not wait for a second notify. */
	for (unsigned int i = 0; i < m->nr_queues; i++)
		if (m->vqs[i].ready)
			process_queue(m, i);
}

static void write_driver_features(struct vmmio *m, uint32_t v)
{
	if (m->status & VIRTIO_STATUS_FEATURES_OK) {
		log_guest("virtio-mmio %s: feature change after FEATURES_OK",
			  vmmio_name(m));
		return;
	}
	if (m->drv_feat_sel == 0) {
		m->drv_features = (m->drv_features & ~0xffffffffULL) | v;
	} else if (m->drv_feat_sel == 1) {
		m->drv_features = (m->drv_features & 0xffffffffULL) |
				  (uint64_t)v << 32;
	} else if (v) {
		m->drv_features_bad = true;
	}
}

static void queue_num(struct vmmio *m, uint32_t v)
{
	struct virtq *vq = cur_vq(m);
	int err;

	if (!vq)
		return;
	err = virtq_set_size(vq, v);
	if (err)
		log_guest("virtio-mmio %s: queue %u size %u refused (%s)",
			  vmmio_name(m), m->queue_sel, v,
			  err == -EBUSY ? "queue ready" : "invalid");
}

static void queue_addr(struct vmmio *m, enum virtq_area area, bool high,
		       uint32_t v)
{
	struct virtq *vq = cur_vq(m);
	uint64_t gpa;

	if (!vq)
		return;
	gpa = vq->gpa[area];
	if (high)
		gpa = (gpa & 0xffffffffULL) | (uint64_t)v << 32;
	else
		gpa = (gpa & ~0xffffffffULL) | v;
	if (virtq_set_area(vq, area, gpa))
		log_guest("virtio-mmio %s: queue %u address change while ready",
			  vmmio_name(m), m->queue_sel);
}

static void queue_ready(struct vmmio *m, uint32_t v)
{
	struct virtq *vq = cur_vq(m);
	bool indirect;

	if (!vq)
		return;
	if (!v) {
		virtq_disable(vq);
		return;
	}
	if (vq->ready)
		return;
	if (!(m->status & VIRTIO_STATUS_FEATURES_OK)) {
		log_guest("virtio-mmio %s: queue enabled before FEATURES_OK",
			  vmmio_name(m));
		return;
	}
	indirect = m->be->driver_features &
		   VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC);
	if (virtq_enable(vq, indirect)) {
		log_guest("virtio-mmio %s: queue %u rings outside RAM or misaligned",
			  vmmio_name(m), m->queue_sel);
		device_error(m);
	}
}

static uint32_t reg_read(struct vmmio *m, uint64_t off)
{
	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION_REG:
		return VIRTIO_MMIO_VERSION;
	case VIRTIO_MMIO_DEVICE_ID:
		return m->be->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (m->dev_feat_sel > 1)
			return 0;
		return (uint32_t)(m->be->features >> (32 * m->dev_feat_sel));
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return m->queue_sel < m->nr_queues ?
		       m->vqs[m->queue_sel].max_size : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return m->queue_sel < m->nr_queues &&
		       m->vqs[m->queue_sel].ready;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return m->int_status;
	case VIRTIO_MMIO_STATUS:
		return m->status;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
		return 0xffffffff;	/* no shared memory regions */
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return 0;		/* config never changes */
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
	case VIRTIO_MMIO_DRIVER_FEATURES:
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
	case VIRTIO_MMIO_QUEUE_SEL:
	case VIRTIO_MMIO_QUEUE_NUM:
	case VIRTIO_MMIO_QUEUE_NOTIFY:
	case VIRTIO_MMIO_INTERRUPT_ACK:
	case VIRTIO_MMIO_QUEUE_DESC_LOW ... VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW ... VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW ... VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
	case VIRTIO_MMIO_SHM_SEL:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		return 0;		/* write-only */
	default:
		log_guest("virtio-mmio %s: read of unknown register 0x%" PRIx64,
			  vmmio_name(m), off);
		return 0;
	}
}

static void reg_write(struct vmmio *m, uint64_t off, uint32_t v)
{
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		m->dev_feat_sel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		write_driver_features(m, v);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		m->drv_feat_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		m->queue_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		queue_num(m, v);
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		queue_ready(m, v);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		queue_notify(m, v);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		m->int_status &= ~v;
		update_irq(m);
		break;
	case VIRTIO_MMIO_STATUS:
		write_status(m, v);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		queue_addr(m, VIRTQ_DESC, off & 4, v);
		break;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		queue_addr(m, VIRTQ_AVAIL, off & 4, v);
		break;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		queue_addr(m, VIRTQ_USED, off & 4, v);
		break;
	case VIRTIO_MMIO_SHM_SEL:
		break;
	default:
		log_guest("virtio-mmio %s: write 0x%x to read-only or unknown register 0x%" PRIx64,
			  vmmio_name(m), v, off);
		break;
	}
}

/* Returns false (and logs) if the access does not fit the config space. */
static bool config_range_ok(struct vmmio *m, uint64_t off, unsigned int len)
{
	uint64_t co = off - VIRTIO_MMIO_CONFIG;

	if (co < m->be->config_size && len <= m->be->config_size - co)
		return true;
	log_guest("virtio-mmio %s: config access at 0x%" PRIx64 "+%u outside %u bytes",
		  vmmio_name(m), co, len, m->be->config_size);
	return false;
}

static bool reg_access_ok(struct vmmio *m, uint64_t off, unsigned int len,
			  bool is_write)
{
	if (len == 4 && !(off & 3))
		return true;
	log_guest("virtio-mmio %s: %u-byte %s at register 0x%" PRIx64 " ignored",
		  vmmio_name(m), len, is_write ? "write" : "read", off);
	return false;
}

static void vmmio_read(struct rivet_dev *dev, uint64_t off, uint8_t *data,
		       unsigned int len)
{
	struct vmmio *m = dev->priv;

	memset(data, 0, len);
	pthread_mutex_lock(&m->lock);
	if (off >= VIRTIO_MMIO_CONFIG) {
		if (config_range_ok(m, off, len))
			m->be->ops->config_read(m->be, off - VIRTIO_MMIO_CONFIG,
						data, len);
	} else if (reg_access_ok(m, off, len, false)) {
		mmio_put(data, 4, reg_read(m, off));
	}
	pthread_mutex_unlock(&m->lock);
}

static void config_write(struct vmmio *m, uint64_t off, const uint8_t *data,
			 unsigned int len)
{
	if (!config_range_ok(m, off, len))
		return;
	if (!m->be->ops->config_write) {
		log_guest("virtio-mmio %s: write to read-only config 0x%" PRIx64,
			  vmmio_name(m), off - VIRTIO_MMIO_CONFIG);
		return;
	}
	m->be->ops->config_write(m->be, off - VIRTIO_MMIO_CONFIG, data, len);
}

static void vmmio_write(struct rivet_dev *dev, uint64_t off,
			const uint8_t *data, unsigned int len)
{
	struct vmmio *m = dev->priv;

	pthread_mutex_lock(&m->lock);
	if (off >= VIRTIO_MMIO_CONFIG)
		config_write(m, off, data, len);
	else if (reg_access_ok(m, off, len, true))
		reg_write(m, off, (uint32_t)mmio_get(data, 4));
	pthread_mutex_unlock(&m->lock);
}

static int vmmio_fdt_node(struct rivet_dev *dev, struct fdt_ctx *ctx)
{
	int off = fdtu_add_soc_node(ctx, "virtio_mmio", "virtio,mmio", dev);

	if (off < 0)
		return off;
	return fdtu_errno(fdt_setprop_empty(ctx->fdt, off, "dma-coherent"));
}

static void vmmio_reset(struct rivet_dev *dev)
{
	struct vmmio *m = dev->priv;

	pthread_mutex_lock(&m->lock);
	device_reset(m);
	pthread_mutex_unlock(&m->lock);
}

static void vmmio_free(struct vmmio *m)
{
	for (unsigned int i = 0; i < m->nr_queues; i++)
		virtq_fini(&m->vqs[i]);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static void vmmio_destroy(struct rivet_dev *dev)
{
	struct vmmio *m = dev->priv;

	m->be->ops->destroy(m->be);
	vmmio_free(m);
}

static const struct dev_ops vmmio_ops = {
	.name = "virtio-mmio",
	.mmio_read = vmmio_read,
	.mmio_write = vmmio_write,
	.fdt_node = vmmio_fdt_node,
	.reset = vmmio_reset,
	.destroy = vmmio_destroy,
};

static bool backend_ok(const struct virtio_backend *be, uint64_t size)
{
	const struct virtio_backend_ops *ops = be ? be->ops : NULL;

	return ops && ops->config_read && ops->handle_queue && ops->destroy &&
	       ops->nr_queues && ops->nr_queues <= VIRTIO_MMIO_MAX_QUEUES &&
	       size >= VIRTIO_MMIO_WINDOW &&
	       be->config_size <= size - VIRTIO_MMIO_CONFIG;
}

int virtio_mmio_create(const struct gmem *gm, uint64_t base, uint64_t size,
		       struct irq_line irq, struct virtio_backend *be,
		       struct rivet_dev **out)
{
	struct vmmio *m;
	unsigned int n;
	int err;

	if (!gm || !out || !backend_ok(be, size))
		return -EINVAL;
	n = be->ops->nr_queues;
	m = calloc(1, sizeof(*m) + n * sizeof(m->vqs[0]));
	if (!m)
		return -ENOMEM;
	err = pthread_mutex_init(&m->lock, NULL);
	if (err) {
		free(m);
		return -err;
	}
	for (m->nr_queues = 0; m->nr_queues < n; m->nr_queues++) {
		err = virtq_init(&m->vqs[m->nr_queues], gm,
				 be->ops->max_queue_size);
		if (err) {
			vmmio_free(m);
			return err;
		}
	}
	m->be = be;
	m->dev.ops = &vmmio_ops;
	m->dev.base = base;
	m->dev.size = size;
	m->dev.irq = irq;
	m->dev.priv = m;
	be->driver_features = 0;
	*out = &m->dev;
	return 0;
}
