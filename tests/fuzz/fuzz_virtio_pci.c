// SPDX-License-Identifier: MIT
/* Fuzz target: the PCIe host bridge and virtio-pci as a guest sees them.
 * An input-driven sequence of ECAM config accesses (any width, any offset,
 * any bus/slot/function), BAR accesses through the MMIO windows (wherever
 * the guest placed the BARs, or raw addresses), queue notifies, a
 * Linux-like probe with fuzzed BAR/MSI-X/feature/queue choices, guest RAM
 * writes, status writes and board resets, against virtio-blk (memfd image,
 * slot 1) and virtio-rng (slot 2).
 *
 * Checked besides the sanitizers: every MSI message leaves an enabled,
 * unmasked MSI-X function with bus mastering on, from an unmasked table
 * entry holding exactly that address and data; after every operation each
 * INTx line equals (status.INTx && !INTx-disable && !MSI-X); reads fill
 * exactly their width; absent functions read all-ones; the identity reads
 * back; at the end DRIVER_OK never stands without FEATURES_OK. */
#include "fuzz.h"

#include <sys/mman.h>
#include <unistd.h>

#include "core/bus.h"
#include "core/device.h"
#include "core/msi.h"
#include "devices/pci.h"
#include "devices/pci_host.h"
#include "devices/virtio.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_pci.h"
#include "devices/virtio_rng.h"
#include "tests/support/files.h"

#define NR_DEVS 2
#define INTX_BASE 32

struct pci_fuzz {
	struct gmem *gm;
	int disk;		/* the disk's memfd */
	bool ro;
	struct bus bus;
	struct pci_host *h;
	struct pci_dev *dev[NR_DEVS];
	struct fuzz_irq irq;
	struct irq_chip chip;
	struct msi_chip msi;
};

/* The disk image: one memfd for the process, emptied and resized per
 * input; each device gets a dup (vblk takes its fd over). */
static int disk_fd(uint64_t size)
{
	static int fd = -1;

	return ts_memfd(&fd, "rivet-fuzz-disk", size);
}

/* Called by the device with its lock held: the message must be one the
 * guest allowed. */
static int msi_check(void *ctx, uint64_t addr, uint32_t data)
{
	struct pci_fuzz *f = ctx;

	for (int i = 0; i < NR_DEVS; i++) {
		const struct pci_dev *pd = f->dev[i];
		const struct pci_msix *x = &pd->msix;
		uint16_t ctrl = (uint16_t)pci_cfg_get(pd, x->cap +
						      PCI_MSIX_FLAGS, 2);

		if (!(ctrl & PCI_MSIX_FLAGS_ENABLE) ||
		    (ctrl & PCI_MSIX_FLAGS_MASKALL) || !pci_bus_master(pd))
			continue;
		for (unsigned int v = 0; v < x->nvec; v++) {
			const uint32_t *e = &x->table[4 * v];

			if (!(e[3] & PCI_MSIX_ENTRY_CTRL_MASKBIT) &&
			    ((uint64_t)e[1] << 32 | e[0]) == addr &&
			    e[2] == data)
				return 0;
		}
	}
	FUZZ_CHECK(!"MSI message the guest did not allow");
	return 0;
}

/* Host bridge and devices on a fresh bus and interrupt chip: at the start
 * and at every "reset" (the next boot is a new VM process, everything made
 * anew). */
static void boot(struct pci_fuzz *f)
{
	struct pci_host_cfg hc = {
		.ecam_base = FZ_PCI_ECAM, .ecam_size = FZ_PCI_ECAM_SIZE,
		.pio_base = FZ_PCI_PIO, .pio_size = 0x10000,
		.mmio32_base = FZ_PCI_MMIO32, .mmio32_size = FZ_PCI_MMIO32_SIZE,
		.mmio64_base = FZ_PCI_MMIO64, .mmio64_size = FZ_PCI_MMIO64_SIZE,
		.irqchip = &f->chip, .intx_base = INTX_BASE, .msi = &f->msi,
	};
	struct virtio_backend *be;
	int fd;

	memset(&f->bus, 0, sizeof(f->bus));
	memset(&f->irq, 0, sizeof(f->irq));
	FUZZ_CHECK(pci_host_create(&hc, &f->h) == 0);
	fd = dup(f->disk);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(vblk_create_fd(fd, "fuzz-disk", f->ro, &be) == 0);
	FUZZ_CHECK(virtio_pci_create(f->gm, be, &f->dev[0]) == 0);
	FUZZ_CHECK(vrng_create(&be) == 0);
	FUZZ_CHECK(virtio_pci_create(f->gm, be, &f->dev[1]) == 0);
	for (int i = 0; i < NR_DEVS; i++)
		FUZZ_CHECK(pci_host_add_device(f->h, f->dev[i], i + 1) ==
			   i + 1);
	for (int w = 0; w < PCI_HOST_NR_WINDOWS; w++)
		FUZZ_CHECK(bus_add(&f->bus, pci_host_window(f->h, w)) == 0);
	bus_seal(&f->bus);
}

static void setup(struct pci_fuzz *f, uint8_t cfg)
{
	static const uint64_t sizes[] = FZ_DISK_SIZES;

	f->chip = (struct irq_chip){ .set_level = fuzz_irq_set,
				     .ctx = &f->irq };
	f->msi = (struct msi_chip){ .send = msi_check, .ctx = f };
	f->disk = disk_fd(sizes[(cfg >> 1) & 3]);
	f->ro = cfg & 1;
	boot(f);
}

static uint64_t rd(struct pci_fuzz *f, uint64_t addr, unsigned int len)
{
	uint8_t b[16];

	memset(b, 0x5a, sizeof(b));
	bus_access(&f->bus, addr, b, len, false);
	for (unsigned int i = len; i < sizeof(b); i++)
		FUZZ_CHECK(b[i] == 0x5a);	/* exactly len bytes */
	return mmio_get(b, len);
}

static void wr(struct pci_fuzz *f, uint64_t addr, unsigned int len,
	       uint64_t v)
{
	uint8_t b[8];

	mmio_put(b, len, v);
	bus_access(&f->bus, addr, b, len, true);
}

static uint64_t ecam(unsigned int slot, unsigned int reg)
{
	return FZ_PCI_ECAM + ((uint64_t)slot << 15) + reg;
}

static void cfg_w(struct pci_fuzz *f, unsigned int slot, unsigned int reg,
		  unsigned int len, uint32_t v)
{
	wr(f, ecam(slot, reg), len, v);
}

/* After every operation. */
static void check_lines(struct pci_fuzz *f)
{
	for (int i = 0; i < NR_DEVS; i++) {
		const struct pci_dev *pd = f->dev[i];
		uint16_t cmd = (uint16_t)pci_cfg_get(pd, PCI_COMMAND, 2);
		bool want = (pci_cfg_get(pd, PCI_STATUS, 2) &
			     PCI_STATUS_INTERRUPT) &&
			    !(cmd & PCI_COMMAND_INTX_DISABLE) &&
			    !pci_msix_enabled(pd);

		FUZZ_CHECK(f->irq.level[pci_host_intx_irq(f->h, i + 1, 1)] ==
			   want);
	}
}

static void cfg_access(struct pci_fuzz *f, struct fin *in, bool is_write)
{
	static const unsigned int widths[4] = { 1, 2, 4, 8 };
	uint8_t sel = fin_u8(in);
	unsigned int len = widths[sel & 3];
	uint32_t off = fin_u32(in) % FZ_PCI_ECAM_SIZE;
	unsigned int bus, slot, fn;
	uint64_t v;

	if (!(sel & 4))
		off = (off & 0x7fff) | (((off >> 15) & 0x1f) % 3) << 15;
	bus = off >> 20;
	slot = (off >> 15) & 31;
	fn = (off >> 12) & 7;
	if (is_write) {
		wr(f, FZ_PCI_ECAM + off, len, fin_u32(in));
		return;
	}
	v = rd(f, FZ_PCI_ECAM + off, len);
	if (off + len > FZ_PCI_ECAM_SIZE)
		FUZZ_CHECK(v == 0);	/* straddles the window: the bus */
	else if (bus || fn || slot > 2 || len == 8 || (off & (len - 1)))
		FUZZ_CHECK(v == (len == 8 ? ~0ULL : (1ULL << (8 * len)) - 1));
	else if ((off & 0xfff) >= 0x100)
		FUZZ_CHECK(v == 0);
}

static void bar_access(struct pci_fuzz *f, struct fin *in, bool is_write)
{
	static const unsigned int widths[4] = { 1, 2, 4, 8 };
	uint8_t sel = fin_u8(in);
	unsigned int len = widths[sel & 3];
	uint64_t addr;

	if (sel & 4) {
		addr = fin_u64(in);
	} else {
		struct pci_dev *pd = f->dev[fin_u8(in) & 1];
		unsigned int bar = sel & 8 ? VIRTIO_PCI_BAR :
					     VIRTIO_PCI_MSIX_BAR;

		addr = pci_bar_addr(pd, bar) + fin_u16(in) %
		       pd->bars[bar].size;
	}
	if (is_write)
		wr(f, addr, len, fin_u64(in));
	else
		rd(f, addr, len);
}

static void notify(struct pci_fuzz *f, struct fin *in)
{
	struct pci_dev *pd = f->dev[fin_u8(in) & 1];
	uint8_t q = fin_u8(in);

	wr(f, pci_bar_addr(pd, VIRTIO_PCI_BAR) + VIRTIO_PCI_NOTIFY_OFF +
	   (uint64_t)(q % 4) * VIRTIO_PCI_NOTIFY_MULT, 2, q);
}

#define C(off) (b4 + (off))

/* The Linux probe with fuzzed choices. */
static void probe(struct pci_fuzz *f, struct fin *in)
{
	unsigned int d = fin_u8(in) & 1, slot = d + 1;
	struct pci_dev *pd = f->dev[d];
	uint8_t flags = fin_u8(in);
	uint64_t mask = fin_u64(in), feat;
	uint16_t qsize = fin_u16(in), qvec, cvec;
	uint64_t ring[3], b4 = FZ_PCI_BAR64(slot);
	uint32_t data;
	unsigned int cap = pd->msix.cap;
	uint16_t cmd = PCI_COMMAND_MEMORY;

	for (int i = 0; i < 3; i++)
		ring[i] = FZ_RAM_BASE + fin_u16(in);
	qvec = fin_u16(in);
	cvec = fin_u16(in);
	data = fin_u32(in);
	cfg_w(f, slot, PCI_COMMAND, 2, 0);
	cfg_w(f, slot, PCI_BAR0 + 4 * VIRTIO_PCI_MSIX_BAR, 4,
	      (uint32_t)FZ_PCI_BAR32(slot));
	cfg_w(f, slot, PCI_BAR0 + 4 * VIRTIO_PCI_BAR, 4, (uint32_t)b4);
	cfg_w(f, slot, PCI_BAR0 + 4 * VIRTIO_PCI_BAR + 4, 4,
	      (uint32_t)(b4 >> 32));
	if (!(flags & FZ_PCI_PROBE_NO_MASTER))
		cmd |= PCI_COMMAND_MASTER;
	if (flags & FZ_PCI_PROBE_INTX_OFF)
		cmd |= PCI_COMMAND_INTX_DISABLE;
	cfg_w(f, slot, PCI_COMMAND, 2, cmd);
	if (flags & FZ_PCI_PROBE_MSIX) {
		uint64_t t = FZ_PCI_BAR32(slot) + VIRTIO_PCI_MSIX_TABLE;

		cfg_w(f, slot, cap + PCI_MSIX_FLAGS, 2,
		      PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
		for (unsigned int v = 0; v < pd->msix.nvec && v < 4; v++) {
			wr(f, t + 16 * v, 8, 0x28000000ULL + 0x1000 * v);
			wr(f, t + 16 * v + 8, 4, data + v);
			wr(f, t + 16 * v + 12, 4, 0);
		}
		cfg_w(f, slot, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE |
		      (flags & FZ_PCI_PROBE_MASKALL ? PCI_MSIX_FLAGS_MASKALL :
						      0));
	}
	wr(f, C(VIRTIO_PCI_COMMON_STATUS), 1, 0);
	wr(f, C(VIRTIO_PCI_COMMON_STATUS), 1, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(f, C(VIRTIO_PCI_COMMON_STATUS), 1,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(f, C(VIRTIO_PCI_COMMON_DFSELECT), 4, 1);
	feat = rd(f, C(VIRTIO_PCI_COMMON_DF), 4) << 32;
	wr(f, C(VIRTIO_PCI_COMMON_DFSELECT), 4, 0);
	feat |= rd(f, C(VIRTIO_PCI_COMMON_DF), 4);
	feat = mask >> 63 ? mask : feat & mask;
	wr(f, C(VIRTIO_PCI_COMMON_GFSELECT), 4, 0);
	wr(f, C(VIRTIO_PCI_COMMON_GF), 4, (uint32_t)feat);
	wr(f, C(VIRTIO_PCI_COMMON_GFSELECT), 4, 1);
	wr(f, C(VIRTIO_PCI_COMMON_GF), 4, (uint32_t)(feat >> 32));
	wr(f, C(VIRTIO_PCI_COMMON_STATUS), 1, VIRTIO_STATUS_ACKNOWLEDGE |
	   VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	wr(f, C(VIRTIO_PCI_COMMON_MSIX), 2, cvec);
	wr(f, C(VIRTIO_PCI_COMMON_Q_SELECT), 2, 0);
	wr(f, C(VIRTIO_PCI_COMMON_Q_SIZE), 2, qsize);
	wr(f, C(VIRTIO_PCI_COMMON_Q_DESC), 4, (uint32_t)ring[0]);
	wr(f, C(VIRTIO_PCI_COMMON_Q_DESC) + 4, 4, (uint32_t)(ring[0] >> 32));
	wr(f, C(VIRTIO_PCI_COMMON_Q_AVAIL), 8, ring[1]);
	wr(f, C(VIRTIO_PCI_COMMON_Q_USED), 8, ring[2]);
	wr(f, C(VIRTIO_PCI_COMMON_Q_MSIX), 2, qvec);
	wr(f, C(VIRTIO_PCI_COMMON_Q_ENABLE), 2, 1);
	wr(f, C(VIRTIO_PCI_COMMON_STATUS), 1, VIRTIO_STATUS_ACKNOWLEDGE |
	   VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
	   VIRTIO_STATUS_DRIVER_OK);
}

/* Find the PCI cfg access capability by walking the list. */
static unsigned int cfg_cap(const struct pci_dev *pd)
{
	unsigned int pos = pci_cfg_get(pd, PCI_CAPABILITY_LIST, 1);

	for (int ttl = 48; ttl-- && pos >= 0x40;
	     pos = pci_cfg_get(pd, pos + 1, 1))
		if (pci_cfg_get(pd, pos, 1) == PCI_CAP_ID_VNDR &&
		    pci_cfg_get(pd, pos + VIRTIO_PCI_CAP_CFG_TYPE, 1) ==
		    VIRTIO_PCI_CAP_PCI_CFG)
			return pos;
	FUZZ_CHECK(!"no PCI cfg access capability");
	return 0;
}

/* At the end of an input. */
static void check_devs(struct pci_fuzz *f)
{
	static const uint16_t ids[NR_DEVS] = {
		VIRTIO_PCI_DEVICE_BASE + VIRTIO_ID_BLOCK,
		VIRTIO_PCI_DEVICE_BASE + VIRTIO_ID_RNG };

	for (int i = 0; i < NR_DEVS; i++) {
		struct pci_dev *pd = f->dev[i];
		unsigned int c = cfg_cap(pd);
		uint32_t st;

		FUZZ_CHECK(rd(f, ecam(i + 1, 0), 4) ==
			   ((uint32_t)ids[i] << 16 | VIRTIO_PCI_VENDOR));
		/* Device status through the PCI cfg access window. */
		pci_cfg_write(pd, c + VIRTIO_PCI_CAP_BAR, 1, VIRTIO_PCI_BAR);
		pci_cfg_write(pd, c + VIRTIO_PCI_CAP_OFFSET, 4,
			      VIRTIO_PCI_COMMON_STATUS);
		pci_cfg_write(pd, c + VIRTIO_PCI_CAP_LENGTH, 4, 1);
		st = pci_cfg_read(pd, c + VIRTIO_PCI_CFG_CAP_DATA, 4) & 0xff;
		if (st & VIRTIO_STATUS_DRIVER_OK)
			FUZZ_CHECK(st & VIRTIO_STATUS_FEATURES_OK);
	}
	FUZZ_CHECK(rd(f, ecam(0, 0), 2) == PCI_HOST_BRIDGE_VENDOR);
}

static void run_op(struct pci_fuzz *f, struct fin *in)
{
	struct rivet_dev *e;
	uint16_t off;
	unsigned int d;

	switch (fin_u8(in) % FZ_PCI_NR_OPS) {
	case FZ_PCI_CFG_READ:
		cfg_access(f, in, false);
		break;
	case FZ_PCI_CFG_WRITE:
		cfg_access(f, in, true);
		break;
	case FZ_PCI_BAR_READ:
		bar_access(f, in, false);
		break;
	case FZ_PCI_BAR_WRITE:
		bar_access(f, in, true);
		break;
	case FZ_PCI_NOTIFY:
		notify(f, in);
		break;
	case FZ_PCI_PROBE:
		probe(f, in);
		break;
	case FZ_PCI_POKE:
		off = fin_u16(in);
		fuzz_ram_poke(f->gm, in, off, fin_u8(in));
		break;
	case FZ_PCI_RESET:
		e = pci_host_window(f->h, PCI_HOST_ECAM);
		e->ops->destroy(e);
		boot(f);
		for (int i = 0; i < NR_DEVS; i++) {
			FUZZ_CHECK(pci_cfg_get(f->dev[i], PCI_COMMAND, 2) == 0);
			FUZZ_CHECK(!pci_msix_enabled(f->dev[i]));
		}
		break;
	case FZ_PCI_STATUS:
		d = fin_u8(in) & 1;
		wr(f, pci_bar_addr(f->dev[d], VIRTIO_PCI_BAR) +
		   VIRTIO_PCI_COMMON_STATUS, 1, fin_u8(in));
		break;
	}
	check_lines(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = { data, size };
	struct pci_fuzz f = { 0 };
	struct rivet_dev *e;

	fuzz_quiet();
	fuzz_rng_reset();
	f.gm = fuzz_ram(FZ_RAM_BASE, FZ_PCI_RAM_SIZE);
	setup(&f, fin_u8(&in));
	fuzz_ram_fill(f.gm, &in);
	while (in.left)
		run_op(&f, &in);
	check_devs(&f);
	e = pci_host_window(f.h, PCI_HOST_ECAM);
	e->ops->destroy(e);
	return 0;
}
