// SPDX-License-Identifier: MIT
/* Fuzz target: virtio-mmio as a guest sees it.  An input-driven sequence of
 * MMIO reads and writes of every width (through the MMIO bus, so unmapped
 * and straddling accesses are included), queue notifies, a Linux-like probe
 * with fuzzed features/queue size/ring addresses, raw guest RAM writes and
 * board resets, against a virtio-blk device (memfd image) and a virtio-rng
 * device.  After every operation the interrupt line must match
 * InterruptStatus; at the end the identification registers must read back
 * and DRIVER_OK must not stand without FEATURES_OK. */
#include "fuzz.h"

#include <sys/mman.h>
#include <unistd.h>

#include "core/bus.h"
#include "core/device.h"
#include "devices/virtio.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_mmio.h"
#include "devices/virtio_rng.h"
#include "tests/support/files.h"
#include "tests/support/vmmio_drv.h"

#define NR_DEVS 2
static const uint64_t dev_base[NR_DEVS] = { FZ_MMIO_BLK_BASE,
					    FZ_MMIO_RNG_BASE };
static const uint32_t dev_irq[NR_DEVS] = { 5, 6 };
static const uint32_t dev_id[NR_DEVS] = { VIRTIO_ID_BLOCK, VIRTIO_ID_RNG };

struct mmio_fuzz {
	struct gmem *gm;
	int disk;		/* the disk's memfd */
	bool ro;
	struct bus bus;
	struct rivet_dev *dev[NR_DEVS];
	struct fuzz_irq irq;
	struct irq_chip chip;
};

/* The disk image: one memfd for the process, emptied and resized per
 * input; each device gets a dup (vblk takes its fd over). */
static int disk_fd(uint64_t size)
{
	static int fd = -1;

	return ts_memfd(&fd, "rivet-fuzz-disk", size);
}

/* The devices on a fresh bus and interrupt chip: at the start and at every
 * "reset" (the next boot is a new VM process, devices made anew). */
static void boot(struct mmio_fuzz *f)
{
	struct virtio_backend *be;
	int fd;

	memset(&f->bus, 0, sizeof(f->bus));
	memset(&f->irq, 0, sizeof(f->irq));
	fd = dup(f->disk);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(vblk_create_fd(fd, "fuzz-disk", f->ro, &be) == 0);
	FUZZ_CHECK(virtio_mmio_create(f->gm, dev_base[0], FZ_MMIO_WINDOW,
				      (struct irq_line){ &f->chip,
							 dev_irq[0] },
				      be, &f->dev[0]) == 0);
	FUZZ_CHECK(vrng_create(&be) == 0);
	FUZZ_CHECK(virtio_mmio_create(f->gm, dev_base[1], FZ_MMIO_WINDOW,
				      (struct irq_line){ &f->chip,
							 dev_irq[1] },
				      be, &f->dev[1]) == 0);
	for (int i = 0; i < NR_DEVS; i++)
		FUZZ_CHECK(bus_add(&f->bus, f->dev[i]) == 0);
	bus_seal(&f->bus);
}

static void setup(struct mmio_fuzz *f, uint8_t cfg)
{
	static const uint64_t sizes[] = FZ_DISK_SIZES;

	f->chip = (struct irq_chip){ .set_level = fuzz_irq_set,
				     .ctx = &f->irq };
	f->disk = disk_fd(sizes[(cfg >> 1) & 3]);
	f->ro = cfg & 1;
	boot(f);
}

/* After every operation. */
static void check_irqs(struct mmio_fuzz *f)
{
	for (int i = 0; i < NR_DEVS; i++) {
		uint32_t isr = mr32(f->dev[i], VIRTIO_MMIO_INTERRUPT_STATUS);

		FUZZ_CHECK(f->irq.level[dev_irq[i]] == (isr != 0));
		FUZZ_CHECK(!(isr & ~3U));
	}
}

/* At the end of an input. */
static void check_devs(struct mmio_fuzz *f)
{
	for (int i = 0; i < NR_DEVS; i++) {
		struct rivet_dev *d = f->dev[i];

		FUZZ_CHECK(mr32(d, VIRTIO_MMIO_MAGIC_VALUE) == VIRTIO_MMIO_MAGIC);
		FUZZ_CHECK(mr32(d, VIRTIO_MMIO_VERSION_REG) == 2);
		FUZZ_CHECK(mr32(d, VIRTIO_MMIO_DEVICE_ID) == dev_id[i]);
		/* DRIVER_OK is only ever accepted with FEATURES_OK. */
		if (mr32(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DRIVER_OK)
			FUZZ_CHECK(mr32(d, VIRTIO_MMIO_STATUS) &
				   VIRTIO_STATUS_FEATURES_OK);
	}
}

/* An access through the bus: [u8 sel][u16 off | u64 addr] (+ value). */
static void mmio_access(struct mmio_fuzz *f, struct fin *in, bool is_write)
{
	static const unsigned int widths[4] = { 1, 2, 4, 8 };
	static const unsigned int odd[4] = { 0, 3, 7, 16 };
	uint8_t sel = fin_u8(in), buf[16];
	unsigned int len = widths[sel & 3];
	unsigned int dev = (sel >> 2) & 3;
	uint64_t addr;
	int r;

	if (dev == 2) {
		addr = fin_u64(in);
	} else {
		addr = dev_base[dev & 1] + fin_u16(in);
		if (dev == 3)
			len = odd[sel & 3];
	}
	memset(buf, 0x5a, sizeof(buf));
	if (is_write)
		mmio_put(buf, 8, fin_u64(in));
	r = bus_access(&f->bus, addr, buf, len, is_write);
	if (!is_write && len <= 8) {
		/* Reads fill exactly len bytes (zeros when refused). */
		for (unsigned int i = len; i < sizeof(buf); i++)
			FUZZ_CHECK(buf[i] == 0x5a);
		if (r)
			for (unsigned int i = 0; i < len; i++)
				FUZZ_CHECK(buf[i] == 0);
	}
}

/* The Linux probe (virtio 1.2 §3.1.1) with fuzzed choices. */
static void probe(struct mmio_fuzz *f, struct fin *in)
{
	struct rivet_dev *d = f->dev[fin_u8(in) & 1];
	uint64_t mask = fin_u64(in), feat;
	uint16_t qsize = fin_u16(in);
	uint64_t ring[3];

	for (int i = 0; i < 3; i++)
		ring[i] = FZ_RAM_BASE + fin_u16(in);
	/* Bit 63 of the mask: also accept features never offered. */
	feat = vmmio_device_features(d);
	feat = mask >> 63 ? mask : feat & mask;
	vmmio_negotiate(d, feat);
	vmmio_queue(d, 0, qsize, ring[0], ring[1], ring[2], true);
	mw32(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
	     VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
	     VIRTIO_STATUS_DRIVER_OK);
}

static void run_op(struct mmio_fuzz *f, struct fin *in)
{
	struct rivet_dev *d;
	uint16_t off;
	uint8_t v;

	switch (fin_u8(in) % FZ_MMIO_NR_OPS) {
	case FZ_MMIO_READ:
		mmio_access(f, in, false);
		break;
	case FZ_MMIO_WRITE:
		mmio_access(f, in, true);
		break;
	case FZ_MMIO_NOTIFY:
		d = f->dev[fin_u8(in) & 1];
		mw32(d, VIRTIO_MMIO_QUEUE_NOTIFY, fin_u8(in));
		break;
	case FZ_MMIO_INIT:
		probe(f, in);
		break;
	case FZ_MMIO_POKE:
		off = fin_u16(in);
		fuzz_ram_poke(f->gm, in, off, fin_u8(in));
		break;
	case FZ_MMIO_RESET:
		v = fin_u8(in) & 1;
		for (int i = 0; i < NR_DEVS; i++)
			f->dev[i]->ops->destroy(f->dev[i]);
		boot(f);
		d = f->dev[v];
		FUZZ_CHECK(mr32(d, VIRTIO_MMIO_STATUS) == 0);
		FUZZ_CHECK(mr32(d, VIRTIO_MMIO_INTERRUPT_STATUS) == 0);
		break;
	case FZ_MMIO_STATUS:
		d = f->dev[fin_u8(in) & 1];
		v = fin_u8(in);
		mw32(d, VIRTIO_MMIO_STATUS, v);
		if (!v)
			FUZZ_CHECK(mr32(d, VIRTIO_MMIO_STATUS) == 0);
		break;
	}
	check_irqs(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = { data, size };
	struct mmio_fuzz f = { 0 };

	fuzz_quiet();
	fuzz_rng_reset();
	f.gm = fuzz_ram(FZ_RAM_BASE, FZ_MMIO_RAM_SIZE);
	setup(&f, fin_u8(&in));
	fuzz_ram_fill(f.gm, &in);
	while (in.left)
		run_op(&f, &in);
	check_devs(&f);
	for (int i = 0; i < NR_DEVS; i++)
		f.dev[i]->ops->destroy(f.dev[i]);
	return 0;
}
