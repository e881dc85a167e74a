// SPDX-License-Identifier: MIT
/* Seeds for fuzz_snap_virtio: the records of real devices, each driven as
 * a driver would (none yet; features accepted and a queue configured;
 * running with every queue ready, a chain consumed and its interrupt
 * pending, input events waiting), written as [u8 sel][record] to
 * DIR/snap_virtio/seed-<combination>-<state>.  Linked with rivet, unlike
 * mkseeds.c: the records are what the code saves, not a copy of their
 * layout.
 *
 * Usage: mkseeds_snap_virtio DIR   (make fuzz-seeds) */
#define FSV_SEEDS
#include "fuzz_snap_virtio.c"

#include <sys/stat.h>

#define ALL_OK (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
		VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK)
#define QSIZE 8
/* Queue q's rings at RAM offset q * 0x1000; data buffers from 0x8000. */
#define RING(q) (FZ_RAM_BASE + 0x1000ULL * (q))
#define DATA	(FZ_RAM_BASE + 0x8000)

static const char *const names[FSV_BACKENDS] = {
	"rng", "blk", "input", "net", "net-mq",
};

static void status(struct fsv *f, uint32_t s)
{
	if (f->dev)
		mw32(f->dev, VIRTIO_MMIO_STATUS, s);
	else
		fsv_bar_write(f, VIRTIO_PCI_COMMON_STATUS, 1, s);
}

static uint64_t offered(struct fsv *f)
{
	uint64_t hi;

	if (f->dev)
		return vmmio_device_features(f->dev);
	fsv_bar_write(f, VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
	hi = fsv_bar_read(f, VIRTIO_PCI_COMMON_DF, 4);
	fsv_bar_write(f, VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
	return hi << 32 | fsv_bar_read(f, VIRTIO_PCI_COMMON_DF, 4);
}

static void negotiate(struct fsv *f)
{
	uint64_t feat = offered(f);

	if (f->dev) {
		vmmio_negotiate(f->dev, feat);
		return;
	}
	status(f, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	fsv_bar_write(f, VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	fsv_bar_write(f, VIRTIO_PCI_COMMON_GF, 4, (uint32_t)feat);
	fsv_bar_write(f, VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	fsv_bar_write(f, VIRTIO_PCI_COMMON_GF, 4, (uint32_t)(feat >> 32));
	status(f, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	       VIRTIO_STATUS_FEATURES_OK);
}

static void queue(struct fsv *f, unsigned int q, bool ready)
{
	uint64_t r = RING(q);

	if (f->dev) {
		vmmio_queue(f->dev, q, QSIZE, r, r + 0x400, r + 0x800, ready);
		return;
	}
	fsv_bar_write(f, VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
	fsv_bar_write(f, VIRTIO_PCI_COMMON_Q_SIZE, 2, QSIZE);
	fsv_bar_write(f, VIRTIO_PCI_COMMON_Q_DESC, 8, r);
	fsv_bar_write(f, VIRTIO_PCI_COMMON_Q_AVAIL, 8, r + 0x400);
	fsv_bar_write(f, VIRTIO_PCI_COMMON_Q_USED, 8, r + 0x800);
	fsv_bar_write(f, VIRTIO_PCI_COMMON_Q_MSIX, 2, q + 1);
	if (ready)
		fsv_bar_write(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
}

/* One device-writable 16-byte buffer made available on queue @q. */
static void publish(struct fsv *f, unsigned int q, uint16_t idx)
{
	uint8_t *desc = gmem_ptr(f->gm, RING(q) + 16ULL * idx, 16);
	uint8_t *avail = gmem_ptr(f->gm, RING(q) + 0x400, 4 + 2 * QSIZE);

	vring_desc(desc, DATA + 0x100ULL * q, 16, 2, 0);
	mmio_put(avail + 4 + 2 * (idx % QSIZE), 2, idx);
	mmio_put(avail + 2, 2, idx + 1);
}

static void emit(const char *dir, struct fsv *f, const char *state)
{
	char path[512];
	struct snap_w w;
	uint8_t sel = (uint8_t)f->combo;
	FILE *out;

	struct fsv g;

	FUZZ_CHECK(fsv_save(f, &w) == 0 && !w.err);
	/* A seed the target starts from must load. */
	fsv_make(&g, f->gm, f->combo);
	FUZZ_CHECK(fsv_load(&g, w.buf, w.len) == 0);
	FUZZ_CHECK(fsv_status(&g) == fsv_status(f));
	fsv_destroy(&g);
	snprintf(path, sizeof(path), "%s/snap_virtio", dir);
	if (mkdir(path, 0755) && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/snap_virtio/seed-%s-%s-%s", dir,
		 fsv_pci(f) ? "pci" : "mmio",
		 names[f->combo % FSV_BACKENDS], state);
	out = fopen(path, "wb");
	if (!out || fwrite(&sel, 1, 1, out) != 1 ||
	    fwrite(w.buf, 1, w.len, out) != w.len || fclose(out)) {
		perror(path);
		exit(1);
	}
	snap_w_free(&w);
}

int main(int argc, char **argv)
{
	struct gmem *gm;

	if (argc != 2) {
		fprintf(stderr, "usage: mkseeds_snap_virtio DIR\n");
		return 2;
	}
	fuzz_quiet();
	gm = fuzz_ram(FZ_RAM_BASE, FSV_RAM_SIZE);
	memset(gm->host, 0, gm->size);
	for (unsigned int c = 0; c < FSV_COMBOS; c++) {
		unsigned int nq;
		struct fsv f;

		fsv_make(&f, gm, c);
		nq = virtio_backend_nr_queues(f.be);
		emit(argv[1], &f, "fresh");
		negotiate(&f);
		queue(&f, 0, false);
		emit(argv[1], &f, "features");
		for (unsigned int q = 0; q < nq; q++)
			queue(&f, q, true);
		status(&f, ALL_OK);
		if (f.combo % FSV_BACKENDS == 2)
			vinput_press_power(f.be);
		publish(&f, 0, 0);
		fsv_notify(&f, 0);
		emit(argv[1], &f, "running");
		fsv_destroy(&f);
	}
	return 0;
}
