// SPDX-License-Identifier: MIT
#include "devices/virtio_pci.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/device.h"
#include "core/log.h"
#include "devices/pci.h"
#include "devices/virtio.h"
#include "devices/virtio_common.h"
#include "devices/virtq.h"
#include "snapshot/snap.h"

#define PCI_CLASS_OTHERS	0xff0000

struct vpci {
	struct pci_dev pd;
	struct virtio_core vc;
	uint8_t isr;
	uint16_t config_vec;
	uint16_t queue_vec[VIRTIO_PCI_MAX_QUEUES];
	unsigned int nvec;
	int cfg_cap;		/* offset of the PCI cfg access capability */
	/* Queue notifications as KVM ioeventfds (Linux's 16-bit write of the
	 * queue index), moved with BAR 4; iev_base: where they are now. */
	struct virtio_ioeventfd iev;
	uint64_t iev_base;
	/* Queues whose interrupt the backend signals with an eventfd (its
	 * ops->call_fd: vhost-net) get it bound to their MSI-X message
	 * with KVM irqfd while the message may go out (irqfd_base: the
	 * chip's first slot, -1 not yet, -2 none); bound[q]: the fd. */
	int irqfd_base;
	int bound[VIRTIO_PCI_MAX_QUEUES];
};

static struct vpci *to_vpci(struct pci_dev *pd)
{
	return (struct vpci *)pd;
}

static struct vpci *vc_to_vpci(struct virtio_core *vc)
{
	return (struct vpci *)((char *)vc - offsetof(struct vpci, vc));
}

static const char *vpci_name(const struct vpci *v)
{
	return virtio_core_name(&v->vc);
}

/* ---- interrupts ----------------------------------------------------------- */

/* Lock held: each queue with a call eventfd is bound to its vector's
 * message exactly while the message may be sent (MSI-X on, unmasked, bus
 * mastering); otherwise the backend's own thread serves the eventfd and
 * the vector's pending bit does the rest. */
static void sync_irqfds(struct vpci *v)
{
	const struct msi_chip *c = v->pd.msi;
	struct virtio_backend *be = v->vc.be;

	if (!c || !c->irqfd || !c->irqfd_slots || !be->ops->call_fd ||
	    v->irqfd_base == -2)
		return;
	if (v->irqfd_base == -1) {
		v->irqfd_base = c->irqfd_slots(c->ctx, v->vc.nr_queues);
		if (v->irqfd_base < 0) {
			v->irqfd_base = -2;
			return;
		}
	}
	for (unsigned int q = 0; q < v->vc.nr_queues; q++) {
		int fd = be->ops->call_fd(be, q);
		uint64_t addr = 0;
		uint32_t data = 0;

		if (fd < 0 || !pci_msix_message(&v->pd, v->queue_vec[q], &addr,
						&data))
			fd = -1;
		if (fd < 0 && v->bound[q] < 0)
			continue;
		if (!c->irqfd(c->ctx, (unsigned int)v->irqfd_base + q, addr,
			      data, fd))
			v->bound[q] = fd;
	}
}

static void vpci_msix_changed(struct pci_dev *pd)
{
	sync_irqfds(to_vpci(pd));
}

static void signal_vector(struct vpci *v, uint16_t vec, uint8_t isr_bit)
{
	if (pci_msix_enabled(&v->pd)) {
		if (vec != VIRTIO_MSI_NO_VECTOR)
			pci_msix_notify(&v->pd, vec);
		return;
	}
	v->isr |= isr_bit;
	pci_set_irq(&v->pd, true);
}

static void vpci_queue_irq(struct virtio_core *vc, unsigned int qidx)
{
	struct vpci *v = vc_to_vpci(vc);

	signal_vector(v, v->queue_vec[qidx], VIRTIO_PCI_ISR_QUEUE);
}

static void vpci_config_irq(struct virtio_core *vc)
{
	struct vpci *v = vc_to_vpci(vc);

	signal_vector(v, v->config_vec, VIRTIO_PCI_ISR_CONFIG);
}

static void vpci_core_reset(struct virtio_core *vc)
{
	struct vpci *v = vc_to_vpci(vc);

	v->isr = 0;
	pci_set_irq(&v->pd, false);
	v->config_vec = VIRTIO_MSI_NO_VECTOR;
	for (unsigned int i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++)
		v->queue_vec[i] = VIRTIO_MSI_NO_VECTOR;
	sync_irqfds(v);
}

static bool vpci_dma_allowed(struct virtio_core *vc)
{
	return pci_bus_master(&vc_to_vpci(vc)->pd);
}

static void vpci_kick(struct virtio_core *vc, unsigned int qidx)
{
	struct vpci *v = vc_to_vpci(vc);

	pthread_mutex_lock(&v->pd.lock);
	virtio_core_notify(vc, qidx);
	pthread_mutex_unlock(&v->pd.lock);
}

static void vpci_wire_ioeventfds(struct virtio_core *vc,
				 const struct virtio_ioeventfd *iev);

static const struct virtio_core_ops vpci_core_ops = {
	.queue_irq = vpci_queue_irq,
	.config_irq = vpci_config_irq,
	.reset = vpci_core_reset,
	.dma_allowed = vpci_dma_allowed,
	.kick = vpci_kick,
	.wire_ioeventfds = vpci_wire_ioeventfds,
};

/* ---- common configuration ------------------------------------------------- */

struct field {
	uint8_t off;
	uint8_t size;
	bool ro;
};

static const struct field common_fields[] = {
	{ VIRTIO_PCI_COMMON_DFSELECT, 4, false },
	{ VIRTIO_PCI_COMMON_DF, 4, true },
	{ VIRTIO_PCI_COMMON_GFSELECT, 4, false },
	{ VIRTIO_PCI_COMMON_GF, 4, false },
	{ VIRTIO_PCI_COMMON_MSIX, 2, false },
	{ VIRTIO_PCI_COMMON_NUMQ, 2, true },
	{ VIRTIO_PCI_COMMON_STATUS, 1, false },
	{ VIRTIO_PCI_COMMON_CFGGENERATION, 1, true },
	{ VIRTIO_PCI_COMMON_Q_SELECT, 2, false },
	{ VIRTIO_PCI_COMMON_Q_SIZE, 2, false },
	{ VIRTIO_PCI_COMMON_Q_MSIX, 2, false },
	{ VIRTIO_PCI_COMMON_Q_ENABLE, 2, false },
	{ VIRTIO_PCI_COMMON_Q_NOFF, 2, true },
	{ VIRTIO_PCI_COMMON_Q_DESC, 8, false },
	{ VIRTIO_PCI_COMMON_Q_AVAIL, 8, false },
	{ VIRTIO_PCI_COMMON_Q_USED, 8, false },
};

/* The field an access of @len at @off may touch: the whole field, or a
 * 32-bit half of a 64-bit one; NULL otherwise. */
static const struct field *common_field(uint64_t off, unsigned int len)
{
	for (size_t i = 0; i < sizeof(common_fields) / sizeof(common_fields[0]);
	     i++) {
		const struct field *f = &common_fields[i];

		if (off < f->off || off >= (uint64_t)f->off + f->size)
			continue;
		if (off == f->off && len == f->size)
			return f;
		if (f->size == 8 && len == 4 && !(off & 3))
			return f;
		return NULL;
	}
	return NULL;
}

static struct virtq *sel_vq(struct vpci *v)
{
	return v->vc.queue_sel < v->vc.nr_queues ?
	       &v->vc.vqs[v->vc.queue_sel] : NULL;
}

static uint64_t common_get(struct vpci *v, uint8_t off)
{
	struct virtq *vq = sel_vq(v);

	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		return v->vc.dev_feat_sel;
	case VIRTIO_PCI_COMMON_DF:
		return virtio_core_device_features(&v->vc);
	case VIRTIO_PCI_COMMON_GFSELECT:
		return v->vc.drv_feat_sel;
	case VIRTIO_PCI_COMMON_GF:
		return virtio_core_driver_features(&v->vc);
	case VIRTIO_PCI_COMMON_MSIX:
		return v->config_vec;
	case VIRTIO_PCI_COMMON_NUMQ:
		return v->vc.nr_queues;
	case VIRTIO_PCI_COMMON_STATUS:
		return v->vc.status;
	case VIRTIO_PCI_COMMON_CFGGENERATION:
		return 0;	/* config never changes */
	case VIRTIO_PCI_COMMON_Q_SELECT:
		return v->vc.queue_sel;
	case VIRTIO_PCI_COMMON_Q_SIZE:
		return vq ? vq->size : 0;	/* 0: no such queue */
	case VIRTIO_PCI_COMMON_Q_MSIX:
		return vq ? v->queue_vec[v->vc.queue_sel] :
			    VIRTIO_MSI_NO_VECTOR;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		return vq && vq->ready;
	case VIRTIO_PCI_COMMON_Q_NOFF:
		return vq ? v->vc.queue_sel : 0;
	case VIRTIO_PCI_COMMON_Q_DESC:
		return vq ? vq->gpa[VIRTQ_DESC] : 0;
	case VIRTIO_PCI_COMMON_Q_AVAIL:
		return vq ? vq->gpa[VIRTQ_AVAIL] : 0;
	case VIRTIO_PCI_COMMON_Q_USED:
		return vq ? vq->gpa[VIRTQ_USED] : 0;
	}
	return 0;
}

static uint16_t check_vector(struct vpci *v, uint64_t vec)
{
	if (vec == VIRTIO_MSI_NO_VECTOR || vec < v->nvec)
		return (uint16_t)vec;
	log_guest("virtio-pci %s: MSI-X vector %" PRIu64 " beyond the %u in the table",
		  vpci_name(v), vec, v->nvec);
	return VIRTIO_MSI_NO_VECTOR;
}

static void common_set(struct vpci *v, uint8_t off, uint64_t val)
{
	struct virtq *vq;

	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		v->vc.dev_feat_sel = (uint32_t)val;
		break;
	case VIRTIO_PCI_COMMON_GFSELECT:
		v->vc.drv_feat_sel = (uint32_t)val;
		break;
	case VIRTIO_PCI_COMMON_GF:
		virtio_core_write_driver_features(&v->vc, (uint32_t)val);
		break;
	case VIRTIO_PCI_COMMON_MSIX:
		v->config_vec = check_vector(v, val);
		break;
	case VIRTIO_PCI_COMMON_STATUS:
		virtio_core_write_status(&v->vc, (uint32_t)val);
		break;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		v->vc.queue_sel = (uint32_t)val;
		break;
	case VIRTIO_PCI_COMMON_Q_SIZE:
		virtio_core_queue_size(&v->vc, (uint32_t)val);
		break;
	case VIRTIO_PCI_COMMON_Q_MSIX:
		if (virtio_core_cur_vq(&v->vc)) {
			v->queue_vec[v->vc.queue_sel] = check_vector(v, val);
			sync_irqfds(v);
		}
		break;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		vq = virtio_core_cur_vq(&v->vc);
		if (vq && val == 1)
			virtio_core_queue_enable(&v->vc);
		else if (vq && (val || vq->ready))
			log_guest("virtio-pci %s: queue_enable %" PRIu64 " ignored (only 1 is allowed)",
				  vpci_name(v), val);
		break;
	case VIRTIO_PCI_COMMON_Q_DESC:
		virtio_core_queue_area(&v->vc, VIRTQ_DESC, val);
		break;
	case VIRTIO_PCI_COMMON_Q_AVAIL:
		virtio_core_queue_area(&v->vc, VIRTQ_AVAIL, val);
		break;
	case VIRTIO_PCI_COMMON_Q_USED:
		virtio_core_queue_area(&v->vc, VIRTQ_USED, val);
		break;
	}
}

static void common_access(struct vpci *v, uint64_t off, uint8_t *data,
			  unsigned int len, bool is_write)
{
	const struct field *f = common_field(off, len);
	unsigned int shift;
	uint64_t val, mask;

	if (!f) {
		log_guest("virtio-pci %s: %u-byte %s at common config 0x%" PRIx64 " ignored",
			  vpci_name(v), len, is_write ? "write" : "read", off);
		return;
	}
	shift = (unsigned int)(off - f->off) * 8;
	val = common_get(v, f->off);
	if (!is_write) {
		mmio_put(data, len, val >> shift);
		return;
	}
	if (f->ro) {
		log_guest("virtio-pci %s: write to read-only common config 0x%x",
			  vpci_name(v), f->off);
		return;
	}
	mask = len == 8 ? ~0ULL : ((1ULL << (8 * len)) - 1) << shift;
	val = (val & ~mask) | ((mmio_get(data, len) << shift) & mask);
	common_set(v, f->off, val);
}

/* ---- BAR 4 ---------------------------------------------------------------- */

static void notify_write(struct vpci *v, uint64_t off, unsigned int len)
{
	uint64_t q = (off - VIRTIO_PCI_NOTIFY_OFF) / VIRTIO_PCI_NOTIFY_MULT;

	if ((len != 2 && len != 4) || off % VIRTIO_PCI_NOTIFY_MULT) {
		log_guest("virtio-pci %s: %u-byte notify at 0x%" PRIx64 " ignored",
			  vpci_name(v), len, off);
		return;
	}
	virtio_core_notify(&v->vc, q > UINT32_MAX ? UINT32_MAX : (uint32_t)q);
}

static uint64_t notify_len(const struct vpci *v)
{
	return (uint64_t)v->vc.nr_queues * VIRTIO_PCI_NOTIFY_MULT;
}

static void vpci_bar4(struct vpci *v, uint64_t off, uint8_t *data,
		      unsigned int len, bool is_write)
{
	if (off < VIRTIO_PCI_COMMON_OFF + VIRTIO_PCI_COMMON_LEN) {
		common_access(v, off - VIRTIO_PCI_COMMON_OFF, data, len,
			      is_write);
	} else if (off == VIRTIO_PCI_ISR_OFF) {
		if (is_write) {
			log_guest("virtio-pci %s: write to ISR ignored",
				  vpci_name(v));
			return;
		}
		data[0] = v->isr;	/* reading clears it */
		v->isr = 0;
		pci_set_irq(&v->pd, false);
	} else if (off >= VIRTIO_PCI_DEVICE_OFF &&
		   off < VIRTIO_PCI_DEVICE_OFF + VIRTIO_PCI_DEVICE_MAX) {
		if (is_write)
			virtio_core_config_write(&v->vc,
						 off - VIRTIO_PCI_DEVICE_OFF,
						 data, len);
		else
			virtio_core_config_read(&v->vc,
						off - VIRTIO_PCI_DEVICE_OFF,
						data, len);
	} else if (off >= VIRTIO_PCI_NOTIFY_OFF &&
		   off - VIRTIO_PCI_NOTIFY_OFF < notify_len(v)) {
		if (is_write)
			notify_write(v, off, len);
	} else {
		log_guest("virtio-pci %s: %u-byte %s at unused BAR offset 0x%" PRIx64,
			  vpci_name(v), len, is_write ? "write" : "read", off);
	}
}

static void vpci_bar_read(struct pci_dev *pd, unsigned int bar, uint64_t off,
			  uint8_t *data, unsigned int len)
{
	if (bar == VIRTIO_PCI_BAR)
		vpci_bar4(to_vpci(pd), off, data, len, false);
	else
		log_guest("virtio-pci %s: read of unused BAR %u space",
			  vpci_name(to_vpci(pd)), bar);
}

static void vpci_bar_write(struct pci_dev *pd, unsigned int bar, uint64_t off,
			   const uint8_t *data, unsigned int len)
{
	uint8_t buf[8] = { 0 };

	memcpy(buf, data, len < sizeof(buf) ? len : sizeof(buf));
	if (bar == VIRTIO_PCI_BAR)
		vpci_bar4(to_vpci(pd), off, buf, len, true);
	else
		log_guest("virtio-pci %s: write to unused BAR %u space",
			  vpci_name(to_vpci(pd)), bar);
}

/* ---- the PCI configuration access capability ------------------------------- */

/* Does [@off, @off + @len) touch pci_cfg_data?  If so, and the window the
 * driver set up is valid, return its BAR offset and length. */
static bool cfg_window(struct vpci *v, uint32_t off, unsigned int len,
		       uint64_t *bar_off, unsigned int *bar_len)
{
	uint32_t data = (uint32_t)v->cfg_cap + VIRTIO_PCI_CFG_CAP_DATA;
	uint8_t bar;
	uint32_t o, l;

	if (off >= data + 4 || off + len <= data)
		return false;
	bar = (uint8_t)pci_cfg_get(&v->pd, v->cfg_cap + VIRTIO_PCI_CAP_BAR, 1);
	o = pci_cfg_get(&v->pd, v->cfg_cap + VIRTIO_PCI_CAP_OFFSET, 4);
	l = pci_cfg_get(&v->pd, v->cfg_cap + VIRTIO_PCI_CAP_LENGTH, 4);
	if (bar != VIRTIO_PCI_BAR || (l != 1 && l != 2 && l != 4) ||
	    o % l || o > VIRTIO_PCI_BAR_SIZE - l) {
		log_guest("virtio-pci %s: PCI cfg window bar %u offset 0x%x length %u refused",
			  vpci_name(v), bar, o, l);
		return false;
	}
	*bar_off = o;
	*bar_len = l;
	return true;
}

static void vpci_config_read(struct pci_dev *pd, uint32_t off,
			     unsigned int len)
{
	struct vpci *v = to_vpci(pd);
	uint8_t buf[4] = { 0 };
	uint64_t o;
	unsigned int l;

	if (!cfg_window(v, off, len, &o, &l))
		return;
	vpci_bar4(v, o, buf, l, false);
	pci_cfg_set(pd, (uint32_t)v->cfg_cap + VIRTIO_PCI_CFG_CAP_DATA, 4,
		    (uint32_t)mmio_get(buf, 4));
}

/* (Un)register each queue's notify address at BAR 4 + @base. */
static int vpci_iev_at(struct vpci *v, uint64_t base, bool on)
{
	return virtio_core_queue_ioeventfds(&v->vc, &v->iev,
					    base + VIRTIO_PCI_NOTIFY_OFF,
					    VIRTIO_PCI_NOTIFY_MULT, 2, on);
}

/* Keep the ioeventfds where the guest has BAR 4 decoding now (device lock
 * held): after config writes (BAR moves, memory decode on or off). */
static void vpci_iev_follow(struct vpci *v)
{
	uint64_t base = 0;
	int err;

	if (!v->iev.assign)
		return;
	if (pci_mem_enabled(&v->pd))
		base = pci_bar_addr(&v->pd, VIRTIO_PCI_BAR);
	if (base == v->iev_base)
		return;
	if (v->iev_base)
		vpci_iev_at(v, v->iev_base, false);
	v->iev_base = base;
	if (!base)
		return;
	err = vpci_iev_at(v, base, true);
	if (err) {
		/* Notifies still arrive, through the MMIO exit. */
		log_info("virtio-pci %s: no ioeventfd (%s): queue notifications go through rivet",
			 vpci_name(v), strerror(-err));
		vpci_iev_at(v, base, false);
		v->iev.assign = NULL;
		v->iev_base = 0;
	}
}

static void vpci_wire_ioeventfds(struct virtio_core *vc,
				 const struct virtio_ioeventfd *iev)
{
	struct vpci *v = vc_to_vpci(vc);

	pthread_mutex_lock(&v->pd.lock);
	v->iev = *iev;
	vpci_iev_follow(v);
	/* The backend has just started: a restored device's vectors were
	 * set before it had call eventfds to bind (vpci_load()). */
	sync_irqfds(v);
	pthread_mutex_unlock(&v->pd.lock);
}

static void vpci_config_write(struct pci_dev *pd, uint32_t off,
			      unsigned int len)
{
	struct vpci *v = to_vpci(pd);
	uint8_t buf[4];
	uint64_t o;
	unsigned int l;

	vpci_iev_follow(v);
	if (!cfg_window(v, off, len, &o, &l))
		return;
	mmio_put(buf, 4, pci_cfg_get(pd, (uint32_t)v->cfg_cap +
				     VIRTIO_PCI_CFG_CAP_DATA, 4));
	vpci_bar4(v, o, buf, l, true);
}

static void vpci_free(struct vpci *v)
{
	virtio_core_fini(&v->vc);
	pci_dev_fini(&v->pd);
	free(v);
}

static void vpci_destroy(struct pci_dev *pd)
{
	struct vpci *v = to_vpci(pd);

	v->vc.be->ops->destroy(v->vc.be);
	vpci_free(v);
}

/* ---- snapshots ------------------------------------------------------------- */

/* virtio-pci's record (the PCI core saves config space, BARs and MSI-X):
 * the core's (virtio_core_save()), u8 ISR, u16 config vector, u16 vector
 * of each queue, then the backend's section. */
static int vpci_save(struct pci_dev *pd, struct snap_w *w)
{
	struct vpci *v = to_vpci(pd);
	int err;

	virtio_core_save(&v->vc, w);
	snap_w_u8(w, v->isr);
	snap_w_u16(w, v->config_vec);
	for (unsigned int q = 0; q < v->vc.nr_queues; q++)
		snap_w_u16(w, v->queue_vec[q]);
	err = virtio_backend_save(v->vc.be, w);
	return err ? err : w->err;
}

/* A vector the driver could have set (check_vector()). */
static bool vector_ok(const struct vpci *v, uint16_t vec)
{
	return vec == VIRTIO_MSI_NO_VECTOR || vec < v->nvec;
}

static int vpci_load(struct pci_dev *pd, struct snap_r *r)
{
	struct vpci *v = to_vpci(pd);
	uint16_t qvec[VIRTIO_PCI_MAX_QUEUES];
	uint16_t cvec;
	uint8_t isr;
	bool ok;
	int err;

	err = virtio_core_load(&v->vc, r);
	isr = snap_r_u8(r);
	cvec = snap_r_u16(r);
	ok = vector_ok(v, cvec);
	for (unsigned int q = 0; q < v->vc.nr_queues; q++) {
		qvec[q] = snap_r_u16(r);
		ok = ok && vector_ok(v, qvec[q]);
	}
	if (!err && !snap_r_check(r, ok, "virtio-pci: MSI-X vector beyond the table"))
		err = -EBADMSG;
	if (!err)
		err = virtio_core_load_rest(&v->vc, r, isr,
					    VIRTIO_PCI_ISR_QUEUE |
					    VIRTIO_PCI_ISR_CONFIG);
	if (err) {
		virtio_core_load_failed(&v->vc, r, err);
		return err;
	}
	/* INTx's level is the PCI core's (pci_set_irq() is not called). */
	v->isr = isr;
	v->config_vec = cvec;
	memcpy(v->queue_vec, qvec, v->vc.nr_queues * sizeof(qvec[0]));
	/* The notify ioeventfds follow BAR 4 where the PCI core's record
	 * put it (loaded first); the call eventfds their vectors. */
	vpci_iev_follow(v);
	sync_irqfds(v);
	return 0;
}

static const struct pci_dev_ops vpci_ops = {
	.name = "virtio-pci",
	.bar_read = vpci_bar_read,
	.bar_write = vpci_bar_write,
	.config_read = vpci_config_read,
	.config_write = vpci_config_write,
	.msix_changed = vpci_msix_changed,
	.save = vpci_save,
	.load = vpci_load,
	.destroy = vpci_destroy,
};

/* A virtio_pci_cap pointing at [@off, @off + @len) of BAR 4. */
static int add_vcap(struct pci_dev *pd, uint8_t type, unsigned int cap_len,
		    uint32_t off, uint32_t len)
{
	int cap = pci_add_cap(pd, PCI_CAP_ID_VNDR, cap_len);

	if (cap < 0)
		return cap;
	pci_cfg_set(pd, cap + VIRTIO_PCI_CAP_LEN, 1, cap_len);
	pci_cfg_set(pd, cap + VIRTIO_PCI_CAP_CFG_TYPE, 1, type);
	pci_cfg_set(pd, cap + VIRTIO_PCI_CAP_BAR, 1,
		    type == VIRTIO_PCI_CAP_PCI_CFG ? 0 : VIRTIO_PCI_BAR);
	pci_cfg_set(pd, cap + VIRTIO_PCI_CAP_OFFSET, 4, off);
	pci_cfg_set(pd, cap + VIRTIO_PCI_CAP_LENGTH, 4, len);
	return cap;
}

static int vpci_layout(struct vpci *v)
{
	struct pci_dev *pd = &v->pd;
	int err, cap;

	err = pci_add_bar(pd, VIRTIO_PCI_MSIX_BAR, VIRTIO_PCI_MSIX_BAR_SIZE, 0);
	if (!err)
		err = pci_add_bar(pd, VIRTIO_PCI_BAR, VIRTIO_PCI_BAR_SIZE,
				  PCI_BAR_F_64);
	if (err)
		return err;
	cap = add_vcap(pd, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_CAP_SIZE,
		       VIRTIO_PCI_COMMON_OFF, VIRTIO_PCI_COMMON_LEN);
	if (cap >= 0)
		cap = add_vcap(pd, VIRTIO_PCI_CAP_NOTIFY_CFG,
			       VIRTIO_PCI_CAP_SIZE + 4, VIRTIO_PCI_NOTIFY_OFF,
			       (uint32_t)notify_len(v));
	if (cap >= 0)
		pci_cfg_set(pd, cap + VIRTIO_PCI_NOTIFY_CAP_MULT, 4,
			    VIRTIO_PCI_NOTIFY_MULT);
	if (cap >= 0)
		cap = add_vcap(pd, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_CAP_SIZE,
			       VIRTIO_PCI_ISR_OFF, 1);
	if (cap >= 0 && v->vc.be->config_size)
		cap = add_vcap(pd, VIRTIO_PCI_CAP_DEVICE_CFG,
			       VIRTIO_PCI_CAP_SIZE, VIRTIO_PCI_DEVICE_OFF,
			       v->vc.be->config_size);
	if (cap >= 0)
		cap = add_vcap(pd, VIRTIO_PCI_CAP_PCI_CFG,
			       VIRTIO_PCI_CAP_SIZE + 4, 0, 0);
	if (cap < 0)
		return cap;
	v->cfg_cap = cap;
	pci_cfg_set_wmask(pd, cap + VIRTIO_PCI_CAP_BAR, 1, 0xff);
	pci_cfg_set_wmask(pd, cap + VIRTIO_PCI_CAP_OFFSET, 4, 0xffffffff);
	pci_cfg_set_wmask(pd, cap + VIRTIO_PCI_CAP_LENGTH, 4, 0xffffffff);
	pci_cfg_set_wmask(pd, cap + VIRTIO_PCI_CFG_CAP_DATA, 4, 0xffffffff);
	return pci_msix_init(pd, v->nvec, VIRTIO_PCI_MSIX_BAR,
			     VIRTIO_PCI_MSIX_TABLE, VIRTIO_PCI_MSIX_PBA);
}

int virtio_pci_create(const struct gmem *gm, struct virtio_backend *be,
		      struct pci_dev **out)
{
	struct pci_id id = {
		.vendor = VIRTIO_PCI_VENDOR,
		.subsys_vendor = VIRTIO_PCI_VENDOR,
		.subsys = VIRTIO_PCI_SUBSYS,
		.revision = VIRTIO_PCI_REVISION,
		.int_pin = 1,
	};
	struct vpci *v;
	int err = -EINVAL;

	if (!gm || !out || !virtio_backend_valid(be, VIRTIO_PCI_MAX_QUEUES) ||
	    be->config_size > VIRTIO_PCI_DEVICE_MAX ||
	    be->ops->device_id > 0xffff - VIRTIO_PCI_DEVICE_BASE)
		goto fail;
	id.device = (uint16_t)(VIRTIO_PCI_DEVICE_BASE + be->ops->device_id);
	id.class_code = be->ops->pci_class ? be->ops->pci_class
					   : PCI_CLASS_OTHERS;
	err = -ENOMEM;
	v = calloc(1, sizeof(*v));
	if (!v)
		goto fail;
	err = pci_dev_init(&v->pd, &vpci_ops, &id);
	if (err) {
		free(v);
		goto fail;
	}
	err = virtio_core_init(&v->vc, "virtio-pci", &vpci_core_ops, gm, be,
			       VIRTIO_PCI_MAX_QUEUES, &v->pd.lock);
	if (err) {
		pci_dev_fini(&v->pd);
		free(v);
		goto fail;
	}
	v->nvec = v->vc.nr_queues + 1;
	v->irqfd_base = -1;
	for (unsigned int i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++)
		v->bound[i] = -1;
	err = vpci_layout(v);
	if (err) {
		vpci_free(v);
		goto fail;
	}
	vpci_core_reset(&v->vc);
	v->pd.priv = v;
	*out = &v->pd;
	return 0;
fail:
	virtio_backend_destroy(be);
	return err;
}
