// SPDX-License-Identifier: MIT
#include "devices/virtio_mmio.h"

#include <errno.h>
#include <inttypes.h>
#include <libfdt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acpi/aml.h"
#include "core/device.h"
#include "core/fdt_util.h"
#include "core/log.h"
#include "devices/virtio.h"
#include "devices/virtio_common.h"
#include "devices/virtq.h"
#include "snapshot/snap.h"

#define VIRTIO_MMIO_MAX_QUEUES 64

struct vmmio {
	struct rivet_dev dev;
	pthread_mutex_t lock;
	struct virtio_core vc;
	uint32_t int_status;
	bool irq_level;
};

static struct vmmio *to_vmmio(struct virtio_core *vc)
{
	return (struct vmmio *)((char *)vc - offsetof(struct vmmio, vc));
}

static const char *vmmio_name(const struct vmmio *m)
{
	return virtio_core_name(&m->vc);
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

static void vmmio_queue_irq(struct virtio_core *vc, unsigned int qidx)
{
	raise_irq(to_vmmio(vc), VIRTIO_MMIO_INT_VRING);
}

static void vmmio_config_irq(struct virtio_core *vc)
{
	raise_irq(to_vmmio(vc), VIRTIO_MMIO_INT_CONFIG);
}

static void vmmio_core_reset(struct virtio_core *vc)
{
	struct vmmio *m = to_vmmio(vc);

	m->int_status = 0;
	update_irq(m);
}

static void vmmio_kick(struct virtio_core *vc, unsigned int qidx)
{
	struct vmmio *m = to_vmmio(vc);

	pthread_mutex_lock(&m->lock);
	virtio_core_notify(vc, qidx);
	pthread_mutex_unlock(&m->lock);
}

/* QueueNotify writes of queue index q go straight to the queue's thread. */
static void vmmio_wire_ioeventfds(struct virtio_core *vc,
				  const struct virtio_ioeventfd *iev)
{
	struct vmmio *m = to_vmmio(vc);
	int err = virtio_core_queue_ioeventfds(vc, iev,
			m->dev.base + VIRTIO_MMIO_QUEUE_NOTIFY, 0, 4, true);

	/* Notifies without one still arrive, through the MMIO exit. */
	if (err)
		log_info("virtio-mmio %s: no ioeventfd (%s): queue notifications go through rivet",
			 vmmio_name(m), strerror(-err));
}

static const struct virtio_core_ops vmmio_core_ops = {
	.queue_irq = vmmio_queue_irq,
	.config_irq = vmmio_config_irq,
	.reset = vmmio_core_reset,
	.kick = vmmio_kick,
	.wire_ioeventfds = vmmio_wire_ioeventfds,
};

static void queue_addr(struct vmmio *m, enum virtq_area area, bool high,
		       uint32_t v)
{
	struct virtq *vq = virtio_core_cur_vq(&m->vc);
	uint64_t gpa;

	if (!vq)
		return;
	gpa = vq->gpa[area];
	if (high)
		gpa = (gpa & 0xffffffffULL) | (uint64_t)v << 32;
	else
		gpa = (gpa & ~0xffffffffULL) | v;
	virtio_core_queue_area(&m->vc, area, gpa);
}

static void queue_ready(struct vmmio *m, uint32_t v)
{
	if (v)
		virtio_core_queue_enable(&m->vc);
	else
		virtio_core_queue_disable(&m->vc);
}

static uint32_t reg_read(struct vmmio *m, uint64_t off)
{
	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION_REG:
		return VIRTIO_MMIO_VERSION;
	case VIRTIO_MMIO_DEVICE_ID:
		return m->vc.be->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return virtio_core_device_features(&m->vc);
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return m->vc.queue_sel < m->vc.nr_queues ?
		       m->vc.vqs[m->vc.queue_sel].max_size : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return m->vc.queue_sel < m->vc.nr_queues &&
		       m->vc.vqs[m->vc.queue_sel].ready;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return m->int_status;
	case VIRTIO_MMIO_STATUS:
		return m->vc.status;
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
		m->vc.dev_feat_sel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		virtio_core_write_driver_features(&m->vc, v);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		m->vc.drv_feat_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		m->vc.queue_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		virtio_core_queue_size(&m->vc, v);
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		queue_ready(m, v);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		virtio_core_notify(&m->vc, v);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		m->int_status &= ~v;
		update_irq(m);
		break;
	case VIRTIO_MMIO_STATUS:
		virtio_core_write_status(&m->vc, v);
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
	if (off >= VIRTIO_MMIO_CONFIG)
		virtio_core_config_read(&m->vc, off - VIRTIO_MMIO_CONFIG, data,
					len);
	else if (reg_access_ok(m, off, len, false))
		mmio_put(data, 4, reg_read(m, off));
	pthread_mutex_unlock(&m->lock);
}

static void vmmio_write(struct rivet_dev *dev, uint64_t off,
			const uint8_t *data, unsigned int len)
{
	struct vmmio *m = dev->priv;

	pthread_mutex_lock(&m->lock);
	if (off >= VIRTIO_MMIO_CONFIG)
		virtio_core_config_write(&m->vc, off - VIRTIO_MMIO_CONFIG, data,
					 len);
	else if (reg_access_ok(m, off, len, true))
		reg_write(m, off, (uint32_t)mmio_get(data, 4));
	pthread_mutex_unlock(&m->lock);
}

/* The interrupt stays level-high (InterruptStatus non-zero).  Rising
 * edge was tried: on a 2-vCPU microvm with KVM's in-kernel APLIC it cut
 * the worst request/response stalls (p99 0.6-0.7 s to 16-250 ms) but
 * TCP transmit fell from 32-80 MB/s to 5-26 (docs/benchmarks.md). */
static int vmmio_fdt_node(struct rivet_dev *dev, struct fdt_ctx *ctx)
{
	int off = fdtu_add_soc_node(ctx, "virtio_mmio", "virtio,mmio", dev);

	if (off < 0)
		return off;
	return fdtu_errno(fdt_setprop_empty(ctx->fdt, off, "dma-coherent"));
}

/* Device (VRnn): LNRO0005 (virtio-mmio), its window and interrupt; DMA is
 * cache-coherent (_CCA), as the device tree's dma-coherent says. */
static int vmmio_acpi_dsdt(struct rivet_dev *dev, struct aml_buf *b)
{
	uint32_t gsi = aml_gsi(b, dev->irq.irq);
	int uid = aml_device_numbered(b, "VR", 2, "LNRO0005");

	if (uid < 0)
		return uid;
	aml_name_int(b, "_CCA", 1);
	aml_crs_mmio(b, dev->base, dev->size, dev->irq.irq ? &gsi : NULL);
	aml_end(b);
	return aml_error(b);
}

static void vmmio_free(struct vmmio *m)
{
	virtio_core_fini(&m->vc);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static void vmmio_destroy(struct rivet_dev *dev)
{
	struct vmmio *m = dev->priv;

	m->vc.be->ops->destroy(m->vc.be);
	vmmio_free(m);
}

/* virtio-mmio's record: the core's (virtio_core_save()), u32
 * InterruptStatus, then the backend's section. */
static int vmmio_save(struct rivet_dev *dev, struct snap_w *w)
{
	struct vmmio *m = dev->priv;
	int err;

	pthread_mutex_lock(&m->lock);
	virtio_core_save(&m->vc, w);
	snap_w_u32(w, m->int_status);
	err = virtio_backend_save(m->vc.be, w);
	pthread_mutex_unlock(&m->lock);
	return err ? err : w->err;
}

static int vmmio_load(struct rivet_dev *dev, struct snap_r *r)
{
	struct vmmio *m = dev->priv;
	uint32_t isr;
	int err;

	pthread_mutex_lock(&m->lock);
	err = virtio_core_load(&m->vc, r);
	isr = snap_r_u32(r);
	if (!err)
		err = virtio_core_load_rest(&m->vc, r, isr,
					    VIRTIO_MMIO_INT_VRING |
					    VIRTIO_MMIO_INT_CONFIG);
	if (err) {
		virtio_core_load_failed(&m->vc, r, err);
	} else {
		/* The line's level is the interrupt controller's. */
		m->int_status = isr;
		m->irq_level = isr != 0;
	}
	pthread_mutex_unlock(&m->lock);
	return err;
}

static const struct dev_ops vmmio_ops = {
	.name = "virtio-mmio",
	.mmio_read = vmmio_read,
	.mmio_write = vmmio_write,
	.fdt_node = vmmio_fdt_node,
	.acpi_dsdt = vmmio_acpi_dsdt,
	.destroy = vmmio_destroy,
	.save = vmmio_save,
	.load = vmmio_load,
};

int virtio_mmio_create(const struct gmem *gm, uint64_t base, uint64_t size,
		       struct irq_line irq, struct virtio_backend *be,
		       struct rivet_dev **out)
{
	struct vmmio *m = NULL;
	int err = -EINVAL;

	if (!gm || !out || !virtio_backend_valid(be, VIRTIO_MMIO_MAX_QUEUES) ||
	    size < VIRTIO_MMIO_WINDOW ||
	    be->config_size > size - VIRTIO_MMIO_CONFIG)
		goto fail;
	err = -ENOMEM;
	m = calloc(1, sizeof(*m));
	if (!m)
		goto fail;
	err = -pthread_mutex_init(&m->lock, NULL);
	if (err) {
		free(m);
		goto fail;
	}
	err = virtio_core_init(&m->vc, "virtio-mmio", &vmmio_core_ops, gm, be,
			       VIRTIO_MMIO_MAX_QUEUES, &m->lock);
	if (err) {
		vmmio_free(m);
		goto fail;
	}
	m->dev.ops = &vmmio_ops;
	m->dev.base = base;
	m->dev.size = size;
	m->dev.irq = irq;
	m->dev.priv = m;
	*out = &m->dev;
	return 0;
fail:
	virtio_backend_destroy(be);
	return err;
}
