// SPDX-License-Identifier: MIT
/* Fuzz target: a virtio device's snapshot record, as untrusted as guest
 * input.  [u8 sel][record...]: sel picks the transport (virtio-mmio or a
 * virtio-pci function) and the backend (rng, blk over a memfd image,
 * input, net with one or two queue pairs over socketpairs); the rest is
 * loaded into a fresh device.  A refused record must leave the device at
 * power-on; an accepted one must save, load into another fresh device and
 * save again to the same bytes; then every queue is notified (guest RAM
 * holds the input, so the rings the record points at have something in
 * them) and the devices destroyed: ASan/UBSan/LSan watch all of it.
 *
 * FSV_SEEDS: included by mkseeds_snap_virtio.c, which drives the same devices as
 * a driver would and writes their records as seeds. */
#include "fuzz.h"

#include <errno.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/device.h"
#include "devices/pci.h"
#include "devices/virtio.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_input.h"
#include "devices/virtio_mmio.h"
#include "devices/virtio_net.h"
#include "devices/virtio_pci.h"
#include "devices/virtio_rng.h"
#include "snapshot/snap.h"
#include "tests/support/files.h"
#include "tests/support/vmmio_drv.h"

#define FSV_RAM_SIZE	0x10000ULL
#define FSV_MMIO_BASE	0x10001000ULL
#define FSV_IRQ		5
#define FSV_BACKENDS	5	/* rng, blk, input, net, net with MQ */
#define FSV_COMBOS	(2 * FSV_BACKENDS)

static const uint8_t fsv_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

struct fsv {
	struct gmem *gm;
	unsigned int combo;
	struct fuzz_irq irq;
	struct irq_chip chip;
	struct virtio_backend *be;
	struct rivet_dev *dev;		/* virtio-mmio */
	struct pci_dev *pd;		/* virtio-pci */
	int peer[2];
};

static bool fsv_pci(const struct fsv *f)
{
	return f->combo >= FSV_BACKENDS;
}

static struct virtio_backend *fsv_backend(struct fsv *f)
{
	struct vnet_opts o = { .set_offload = fuzz_tap_offload,
			       .set_queue = fuzz_tap_queue,
			       .offloads = 0x1f };
	static int disk = -1;
	struct virtio_backend *be = NULL;
	unsigned int pairs;
	int fds[2], fd;

	switch (f->combo % FSV_BACKENDS) {
	case 0:
		FUZZ_CHECK(vrng_create(&be) == 0);
		break;
	case 1:
		fd = dup(ts_memfd(&disk, "rivet-fuzz-disk", 8192));
		FUZZ_CHECK(fd >= 0);
		FUZZ_CHECK(vblk_create_fd(fd, "fuzz-disk", false, &be) == 0);
		break;
	case 2:
		FUZZ_CHECK(vinput_create(&be) == 0);
		break;
	default:
		pairs = f->combo % FSV_BACKENDS == 3 ? 1 : 2;
		memcpy(o.mac, fsv_mac, 6);
		for (unsigned int i = 0; i < pairs; i++) {
			int sv[2];

			FUZZ_CHECK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC,
					      0, sv) == 0);
			fds[i] = sv[0];
			f->peer[i] = sv[1];
		}
		FUZZ_CHECK(vnet_create(fds, pairs, &o, &be) == 0);
		break;
	}
	return be;
}

/* The device of f->combo, made anew as a restoring VM process would. */
static void fsv_make(struct fsv *f, struct gmem *gm, unsigned int combo)
{
	memset(f, 0, sizeof(*f));
	f->gm = gm;
	f->combo = combo % FSV_COMBOS;
	f->peer[0] = f->peer[1] = -1;
	f->chip = (struct irq_chip){ fuzz_irq_set, &f->irq };
	f->be = fsv_backend(f);
	if (!fsv_pci(f)) {
		FUZZ_CHECK(virtio_mmio_create(gm, FSV_MMIO_BASE, 0x1000,
					      (struct irq_line){ &f->chip,
								 FSV_IRQ },
					      f->be, &f->dev) == 0);
		return;
	}
	FUZZ_CHECK(virtio_pci_create(gm, f->be, &f->pd) == 0);
	/* What the PCI core's record would have: decoding, bus mastering. */
	pci_cfg_set(f->pd, PCI_COMMAND, 2,
		    PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

static void fsv_destroy(struct fsv *f)
{
	if (f->dev)
		f->dev->ops->destroy(f->dev);
	if (f->pd)
		pci_dev_destroy(f->pd);
	for (int i = 0; i < 2; i++)
		if (f->peer[i] >= 0)
			close(f->peer[i]);
	f->dev = NULL;
	f->pd = NULL;
}

static int fsv_save(struct fsv *f, struct snap_w *w)
{
	int err;

	snap_w_init(w);
	if (f->dev)
		return f->dev->ops->save(f->dev, w);
	pthread_mutex_lock(&f->pd->lock);
	err = f->pd->ops->save(f->pd, w);
	pthread_mutex_unlock(&f->pd->lock);
	return err;
}

static int fsv_load(struct fsv *f, const uint8_t *p, size_t n)
{
	struct snap_r r;
	int err;

	snap_r_init(&r, p, n);
	if (f->dev)
		return f->dev->ops->load(f->dev, &r);
	pthread_mutex_lock(&f->pd->lock);
	err = f->pd->ops->load(f->pd, &r);
	pthread_mutex_unlock(&f->pd->lock);
	return err;
}

/* A 32-bit register of the transport: virtio-mmio's, or virtio-pci's
 * common configuration at the same meaning (@pci_off, @len bytes). */
static void fsv_bar_write(struct fsv *f, uint64_t off, unsigned int len,
			  uint64_t v)
{
	uint8_t b[8];

	mmio_put(b, len, v);
	pci_bar_access(f->pd, VIRTIO_PCI_BAR, off, b, len, true);
}

static uint64_t fsv_bar_read(struct fsv *f, uint64_t off, unsigned int len)
{
	uint8_t b[8] = { 0 };

	pci_bar_access(f->pd, VIRTIO_PCI_BAR, off, b, len, false);
	return mmio_get(b, len);
}

static uint32_t fsv_status(struct fsv *f)
{
	if (f->dev)
		return mr32(f->dev, VIRTIO_MMIO_STATUS);
	return (uint32_t)fsv_bar_read(f, VIRTIO_PCI_COMMON_STATUS, 1);
}

static void fsv_notify(struct fsv *f, unsigned int q)
{
	if (f->dev)
		mw32(f->dev, VIRTIO_MMIO_QUEUE_NOTIFY, q);
	else
		fsv_bar_write(f, VIRTIO_PCI_NOTIFY_OFF +
			      (uint64_t)q * VIRTIO_PCI_NOTIFY_MULT, 2, q);
	/* What the VM's main loop does for net's pairs (no threads here). */
	if (f->be->ops->poll_ready)
		f->be->ops->poll_ready(f->be);
}

#ifndef FSV_SEEDS
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fsv a, b;
	struct snap_w w1, w2;
	struct gmem *gm;
	int err;

	if (!size)
		return 0;
	fuzz_quiet();
	fuzz_rng_reset();
	gm = fuzz_ram(FZ_RAM_BASE, FSV_RAM_SIZE);
	memset(gm->host, 0, gm->size);
	memcpy(gm->host, data, size < gm->size ? size : gm->size);
	fsv_make(&a, gm, data[0]);
	err = fsv_load(&a, data + 1, size - 1);
	if (err) {
		FUZZ_CHECK(err == -EBADMSG || err == -EOPNOTSUPP);
		FUZZ_CHECK(fsv_status(&a) == 0);
	} else {
		FUZZ_CHECK(fsv_save(&a, &w1) == 0 && !w1.err);
		fsv_make(&b, gm, data[0]);
		FUZZ_CHECK(fsv_load(&b, w1.buf, w1.len) == 0);
		FUZZ_CHECK(fsv_save(&b, &w2) == 0 && !w2.err);
		FUZZ_CHECK(w1.len == w2.len &&
			   !memcmp(w1.buf, w2.buf, w1.len));
		fsv_destroy(&b);
		snap_w_free(&w1);
		snap_w_free(&w2);
	}
	for (unsigned int q = 0; q < 6; q++)
		fsv_notify(&a, q);
	fsv_destroy(&a);
	return 0;
}
#endif
