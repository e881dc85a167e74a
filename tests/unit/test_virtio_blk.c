// SPDX-License-Identifier: MIT
/* virtio-blk over virtio-mmio against a real temporary image: round trips
 * that land in the file, hostile requests (hardening class 7), host I/O
 * faults (class 12), locking and open errors.  The request tests run twice:
 * served on the notifying thread (io=sync) and on I/O threads (io=threads,
 * where the test waits for each completion as a driver would). */
#include "tests/support/virtio_fake.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "devices/virtio_blk.h"
#include "tests/support/files.h"

#define DEV_BASE	0x10002000ULL
#define DISK_SIZE	(64 * 1024)
#define NSECT		(DISK_SIZE / 512)
#define HDR		(FG_DATA)
#define STATUS		(FG_DATA + 0x100)
#define BUF		(FG_DATA + 0x1000)
#define BUF2		(FG_DATA + 0x20000)

/* The mode the current group runs in. */
static enum vblk_io g_io = VBLK_IO_SYNC;
#define g_threads (g_io != VBLK_IO_SYNC)

struct t {
	struct gmem gm;
	struct fake_irq irq;
	struct irq_chip chip;
	struct rivet_dev *dev;
	struct fdrv d;
	char path[PATH_MAX];
	int fd;			/* the device's fd, for fault injection */
};

static uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off * 7 + 3);
}

static struct irq_line irq_of(struct t *t)
{
	t->chip = (struct irq_chip){ .set_level = fake_irq_set,
				     .ctx = &t->irq };
	return (struct irq_line){ &t->chip, 9 };
}

/* Device over an fd we know, so tests can swap the file underneath. */
static struct vblk_opts opts_of(bool readonly)
{
	return (struct vblk_opts){
		.readonly = readonly, .queues = 1,
		.io = g_io,
	};
}

static void open_dev_fd(struct t *t, int flags, bool readonly)
{
	struct vblk_opts o = opts_of(readonly);
	struct virtio_backend *be;

	t->fd = open(t->path, flags | O_CLOEXEC);
	assert_true(t->fd >= 0);
	assert_int_equal(vblk_open_fd(t->fd, t->path, &o, &be), 0);
	assert_int_equal(virtio_backend_start(be, NULL, NULL), 0);
	assert_int_equal(virtio_mmio_create(&t->gm, DEV_BASE, 0x1000,
					    irq_of(t), be, &t->dev), 0);
	fdrv_mmio_init(t->dev, &t->d, &t->gm, VIRTIO_BLK_QUEUE_SIZE);
}

/* The disk at @path on a virtio-mmio window of @size bytes. */
static int blk_mmio(struct t *t, const char *path, bool readonly,
		    uint64_t size)
{
	struct vblk_opts o = opts_of(readonly);
	struct virtio_backend *be;
	int ret = vblk_open(path, &o, &be);

	if (!ret)
		ret = virtio_backend_start(be, NULL, NULL);
	return ret ? ret : virtio_mmio_create(&t->gm, DEV_BASE, size,
					      irq_of(t), be, &t->dev);
}

static void open_dev(struct t *t, bool readonly)
{
	assert_int_equal(blk_mmio(t, t->path, readonly, 0x1000), 0);
	fdrv_mmio_init(t->dev, &t->d, &t->gm, VIRTIO_BLK_QUEUE_SIZE);
}

static void close_dev(struct t *t)
{
	if (t->dev)
		t->dev->ops->destroy(t->dev);
	t->dev = NULL;
}

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	assert_int_equal(gmem_alloc(&t->gm, FG_BASE, FG_SIZE), 0);
	ts_temp_file(t->path, "vblk", DISK_SIZE, pattern);
	t->fd = -1;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;

	close_dev(t);
	unlink(t->path);
	gmem_free(&t->gm);
	free(t);
	return 0;
}

static void put_hdr(struct t *t, uint64_t gpa, uint32_t type,
		    uint64_t sector)
{
	uint32_t ty = htole32(type), prio = 0;
	uint64_t sec = htole64(sector);
	uint8_t *p = fg_ptr(&t->gm, gpa, 16);

	memcpy(p, &ty, 4);
	memcpy(p + 4, &prio, 4);
	memcpy(p + 8, &sec, 8);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait (I/O threads) until the used index reaches @idx or the device
 * flags NEEDS_RESET, then read a register: the device lock orders the
 * completion's interrupt before what the test looks at next. */
static void settle(struct t *t, uint16_t idx)
{
	uint64_t end = now_ms() + 10000;

	while (g_threads && fdrv_used_idx(&t->d) != idx &&
	       !(mr32(t->dev, VIRTIO_MMIO_STATUS) &
		 VIRTIO_STATUS_NEEDS_RESET)) {
		assert_true(now_ms() < end);
		usleep(100);
	}
	(void)mr32(t->dev, VIRTIO_MMIO_STATUS);
}

/* Submit [segs..] as one chain, wait for it; returns the used length. */
static uint32_t submit(struct t *t, const struct fseg *s, unsigned int n)
{
	uint16_t before = fdrv_used_idx(&t->d);

	fdrv_publish(&t->d, fdrv_chain(&t->d, s, n));
	mw32(t->dev, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	settle(t, (uint16_t)(before + 1));
	mw32(t->dev, VIRTIO_MMIO_INTERRUPT_ACK,
	     mr32(t->dev, VIRTIO_MMIO_INTERRUPT_STATUS));
	assert_int_equal(fdrv_used_idx(&t->d), (uint16_t)(before + 1));
	assert_false(mr32(t->dev, VIRTIO_MMIO_STATUS) &
		     VIRTIO_STATUS_NEEDS_RESET);
	return fdrv_used_len(&t->d, before);
}

/* A request [hdr][data...][status]; returns the status byte. */
static uint8_t req(struct t *t, uint32_t type, uint64_t sector,
		   const struct fseg *data, unsigned int nd, uint32_t *used)
{
	struct fseg s[8];
	uint32_t len;

	assert_true(nd <= 6);
	put_hdr(t, HDR, type, sector);
	s[0] = (struct fseg){ HDR, 16, false };
	for (unsigned int i = 0; i < nd; i++)
		s[1 + i] = data[i];
	s[1 + nd] = (struct fseg){ STATUS, 1, true };
	*fg_ptr(&t->gm, STATUS, 1) = 0xee;
	len = submit(t, s, nd + 2);
	if (used)
		*used = len;
	return *fg_ptr(&t->gm, STATUS, 1);
}

static uint8_t req1(struct t *t, uint32_t type, uint64_t sector,
		    uint64_t buf, uint32_t len, bool writable)
{
	const struct fseg s = { buf, len, writable };

	return req(t, type, sector, &s, 1, NULL);
}

static void file_read(struct t *t, uint64_t off, void *buf, size_t len)
{
	int fd = open(t->path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static bool file_is_pristine(struct t *t)
{
	static uint8_t buf[DISK_SIZE];

	file_read(t, 0, buf, DISK_SIZE);
	for (size_t i = 0; i < DISK_SIZE; i++)
		if (buf[i] != pattern(i))
			return false;
	return true;
}

static uint64_t cfg64(struct rivet_dev *dev, uint32_t off)
{
	uint8_t b[8];

	dev->ops->mmio_read(dev, VIRTIO_MMIO_CONFIG + off, b, 8);
	return mmio_get(b, 8);
}

static void test_config(void **state)
{
	struct t *t = *state;
	uint32_t f0, f1;

	open_dev(t, false);
	assert_int_equal(mr32(t->dev, VIRTIO_MMIO_DEVICE_ID), 2);
	assert_int_equal(cfg64(t->dev, 0), NSECT);
	/* Linux reads the 64-bit capacity as two 32-bit halves. */
	assert_int_equal(mr32(t->dev, VIRTIO_MMIO_CONFIG), NSECT);
	assert_int_equal(mr32(t->dev, VIRTIO_MMIO_CONFIG + 4), 0);
	assert_int_equal(mr32(t->dev, VIRTIO_MMIO_CONFIG + 12),
			 VIRTIO_BLK_QUEUE_SIZE - 2);
	assert_int_equal(mr32(t->dev, VIRTIO_MMIO_CONFIG + 20), 512);
	assert_int_equal(mr32(t->dev, VIRTIO_MMIO_CONFIG + 24), 0);
	/* num_queues (a 16-bit field after writeback and a pad byte). */
	assert_int_equal(mr32(t->dev, VIRTIO_MMIO_CONFIG + 32), 1u << 16);
	mw32(t->dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	f0 = mr32(t->dev, VIRTIO_MMIO_DEVICE_FEATURES);
	mw32(t->dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	f1 = mr32(t->dev, VIRTIO_MMIO_DEVICE_FEATURES);
	assert_int_equal(f1, 1);			/* VERSION_1 */
	assert_int_equal(f0, (1u << VIRTIO_BLK_F_SEG_MAX) |
			 (1u << VIRTIO_BLK_F_BLK_SIZE) |
			 (1u << VIRTIO_BLK_F_FLUSH) |
			 (1u << VIRTIO_F_INDIRECT_DESC));
	/* Config space is read-only. */
	mw32(t->dev, VIRTIO_MMIO_CONFIG, 0);
	assert_int_equal(cfg64(t->dev, 0), NSECT);
	close_dev(t);
	open_dev(t, true);
	mw32(t->dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	assert_true(mr32(t->dev, VIRTIO_MMIO_DEVICE_FEATURES) &
		    (1u << VIRTIO_BLK_F_RO));
}

static void test_write_read_roundtrip(void **state)
{
	struct t *t = *state;
	const struct fseg wdata[] = { { BUF, 100, false },
				      { BUF + 0x1000, 924, false } };
	const struct fseg rdata[] = { { BUF2, 512, true },
				      { BUF2 + 0x1000, 512, true } };
	uint8_t src[1024], got[1024];
	uint32_t used;

	open_dev(t, false);
	for (int i = 0; i < 1024; i++)
		src[i] = (uint8_t)(i ^ 0x5a);
	memcpy(fg_ptr(&t->gm, BUF, 100), src, 100);
	memcpy(fg_ptr(&t->gm, BUF + 0x1000, 924), src + 100, 924);
	assert_int_equal(req(t, VIRTIO_BLK_T_OUT, 3, wdata, 2, &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1);
	assert_true(t->irq.level || t->irq.raises > 0);
	file_read(t, 3 * 512, got, 1024);
	assert_memory_equal(got, src, 1024);
	file_read(t, 3 * 512 - 1, got, 1);		/* neighbours intact */
	assert_int_equal(got[0], pattern(3 * 512 - 1));
	file_read(t, 5 * 512, got, 1);
	assert_int_equal(got[0], pattern(5 * 512));

	assert_int_equal(req(t, VIRTIO_BLK_T_IN, 3, rdata, 2, &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1025);
	assert_memory_equal(fg_ptr(&t->gm, BUF2, 512), src, 512);
	assert_memory_equal(fg_ptr(&t->gm, BUF2 + 0x1000, 512), src + 512,
			    512);
	/* The last sector, and an empty read at the very end. */
	assert_int_equal(req1(t, VIRTIO_BLK_T_IN, NSECT - 1, BUF2, 512, true),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(*fg_ptr(&t->gm, BUF2 + 511, 1),
			 pattern(DISK_SIZE - 1));
	assert_int_equal(req(t, VIRTIO_BLK_T_IN, NSECT, NULL, 0, NULL),
			 VIRTIO_BLK_S_OK);
}

static void test_header_split(void **state)
{
	struct t *t = *state;
	const struct fseg s[] = {
		{ HDR, 8, false }, { HDR + 8, 8, false },
		{ BUF, 512, true }, { STATUS, 1, true },
	};

	open_dev(t, false);
	put_hdr(t, HDR, VIRTIO_BLK_T_IN, 1);
	assert_int_equal(submit(t, s, 4), 513);
	assert_int_equal(*fg_ptr(&t->gm, STATUS, 1), VIRTIO_BLK_S_OK);
	assert_int_equal(*fg_ptr(&t->gm, BUF, 1), pattern(512));
}

static void test_flush_and_get_id(void **state)
{
	struct t *t = *state;
	uint8_t *id = fg_ptr(&t->gm, BUF, 64);
	uint32_t used;
	const struct fseg big = { BUF, 64, true };

	open_dev(t, false);
	assert_int_equal(req(t, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1);
	memset(id, 0xcc, 64);
	assert_int_equal(req1(t, VIRTIO_BLK_T_GET_ID, 0, BUF, 20, true),
			 VIRTIO_BLK_S_OK);
	assert_memory_equal(id, "rivet-", 6);
	memset(id, 0xcc, 64);
	assert_int_equal(req(t, VIRTIO_BLK_T_GET_ID, 0, &big, 1, &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(used, 65);
	assert_memory_equal(id, "rivet-", 6);
	assert_int_equal(id[20], 0xcc);		/* only 20 bytes written */
	/* Too short a buffer (class 7): IOERR, nothing written. */
	memset(id, 0xcc, 64);
	assert_int_equal(req1(t, VIRTIO_BLK_T_GET_ID, 0, BUF, 19, true),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(id[0], 0xcc);
}

static void test_unsupported(void **state)
{
	struct t *t = *state;

	open_dev(t, false);
	assert_int_equal(req1(t, 11, 0, BUF, 512, false),	/* DISCARD */
			 VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(req1(t, 2, 0, BUF, 512, true),		/* SCSI */
			 VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(req1(t, 0xffffffff, 0, BUF, 512, true),
			 VIRTIO_BLK_S_UNSUPP);
	assert_true(file_is_pristine(t));
}

/* Class 7: hostile sectors and lengths never reach the file. */
static void test_bad_requests(void **state)
{
	struct t *t = *state;
	static const struct {
		uint64_t sector;
		uint32_t len;
	} bad[] = {
		{ NSECT, 512 },			/* just past the end */
		{ NSECT - 1, 1024 },		/* straddles the end */
		{ NSECT + 1, 0 },
		{ 1ULL << 55, 512 },		/* sector * 512 overflows */
		{ (1ULL << 55) - 1, 512 },
		{ UINT64_MAX, 512 },
		{ UINT64_MAX / 512 + 1, 0 },
		{ 0, 511 },			/* not a whole sector */
		{ 0, 513 },
		{ 0, 1 },
	};

	open_dev(t, false);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(fg_ptr(&t->gm, BUF, 1024), 0xcc, 1024);
		assert_int_equal(req1(t, VIRTIO_BLK_T_OUT, bad[i].sector, BUF,
				      bad[i].len, false), VIRTIO_BLK_S_IOERR);
		assert_int_equal(req1(t, VIRTIO_BLK_T_IN, bad[i].sector, BUF,
				      bad[i].len, true), VIRTIO_BLK_S_IOERR);
		assert_int_equal(*fg_ptr(&t->gm, BUF, 1), 0xcc);
	}
	assert_true(file_is_pristine(t));
}

/* Class 6 and 7: short header, read into read-only buffers, no status. */
static void test_malformed_chains(void **state)
{
	struct t *t = *state;
	const struct fseg short_hdr[] = { { HDR, 8, false },
					  { STATUS, 1, true } };
	const struct fseg no_status[] = { { HDR, 16, false },
					  { BUF, 512, false } };
	const struct fseg only_data[] = { { BUF, 512, true } };
	const struct fseg ro_data = { BUF, 512, false };

	open_dev(t, false);
	put_hdr(t, HDR, VIRTIO_BLK_T_IN, 0);
	*fg_ptr(&t->gm, STATUS, 1) = 0xee;
	assert_int_equal(submit(t, short_hdr, 2), 1);
	assert_int_equal(*fg_ptr(&t->gm, STATUS, 1), VIRTIO_BLK_S_IOERR);

	/* A read whose data buffer the device may not write. */
	memset(fg_ptr(&t->gm, BUF, 512), 0xcc, 512);
	assert_int_equal(req(t, VIRTIO_BLK_T_IN, 0, &ro_data, 1, NULL),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(*fg_ptr(&t->gm, BUF, 1), 0xcc);

	/* No writable byte for the status: returned unused. */
	put_hdr(t, HDR, VIRTIO_BLK_T_OUT, 0);
	assert_int_equal(submit(t, no_status, 2), 0);
	/* No header at all: the only byte is taken as status. */
	assert_int_equal(submit(t, only_data, 1), 512);
	assert_int_equal(*fg_ptr(&t->gm, BUF + 511, 1), VIRTIO_BLK_S_IOERR);
	assert_true(file_is_pristine(t));
	/* And the device keeps going. */
	assert_int_equal(req1(t, VIRTIO_BLK_T_IN, 2, BUF, 512, true),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(*fg_ptr(&t->gm, BUF, 1), pattern(1024));
}

static void test_readonly(void **state)
{
	struct t *t = *state;

	open_dev(t, true);
	memset(fg_ptr(&t->gm, BUF, 512), 0, 512);
	assert_int_equal(req1(t, VIRTIO_BLK_T_OUT, 0, BUF, 512, false),
			 VIRTIO_BLK_S_IOERR);
	assert_true(file_is_pristine(t));
	assert_int_equal(req1(t, VIRTIO_BLK_T_IN, 0, BUF, 512, true),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(*fg_ptr(&t->gm, BUF + 5, 1), pattern(5));
	assert_int_equal(req(t, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, NULL),
			 VIRTIO_BLK_S_OK);
	/* Read-only even when the fd handed over could write. */
	close_dev(t);
	open_dev_fd(t, O_RDWR, true);
	assert_int_equal(req1(t, VIRTIO_BLK_T_OUT, 0, BUF, 512, false),
			 VIRTIO_BLK_S_IOERR);
	assert_true(file_is_pristine(t));
}

/* Class 12: host errors become IOERR and the VMM keeps going. */
static void test_host_errors(void **state)
{
	struct t *t = *state;
	int pfd[2];

	open_dev_fd(t, O_RDWR, false);
	ts_swap_fd(t->fd, "/dev/full", O_RDWR);		/* ENOSPC */
	assert_int_equal(req1(t, VIRTIO_BLK_T_OUT, 0, BUF, 512, false),
			 VIRTIO_BLK_S_IOERR);
	ts_swap_fd(t->fd, t->path, O_RDONLY);		/* EBADF */
	assert_int_equal(req1(t, VIRTIO_BLK_T_OUT, 0, BUF, 512, false),
			 VIRTIO_BLK_S_IOERR);
	assert_true(file_is_pristine(t));
	assert_int_equal(req1(t, VIRTIO_BLK_T_IN, 0, BUF, 512, true),
			 VIRTIO_BLK_S_OK);
	/* A flush that fails is not reported as done. */
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(dup2(pfd[0], t->fd), t->fd);
	close(pfd[0]);
	close(pfd[1]);
	assert_int_equal(req(t, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, NULL),
			 VIRTIO_BLK_S_IOERR);
	ts_swap_fd(t->fd, t->path, O_RDWR);
	assert_int_equal(req(t, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, NULL),
			 VIRTIO_BLK_S_OK);
}

/* Short write: RLIMIT_FSIZE cuts a pwrite short, the retry fails. */
static void test_short_write(void **state)
{
	struct t *t = *state;
	struct rlimit old, lim;
	uint8_t got[512], st;
	void (*oldsig)(int);

	open_dev(t, false);
	memset(fg_ptr(&t->gm, BUF, 512), 0x11, 512);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 32 * 1024 + 256;
	oldsig = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	st = req1(t, VIRTIO_BLK_T_OUT, 64, BUF, 512, false);
	/* Restore before asserting: cmocka's own output is a file too. */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, oldsig);
	assert_int_equal(st, VIRTIO_BLK_S_IOERR);
	file_read(t, 32 * 1024, got, 512);
	assert_int_equal(got[0], 0x11);			/* partly written */
	assert_int_equal(got[511], pattern(32 * 1024 + 511));
	assert_int_equal(req1(t, VIRTIO_BLK_T_OUT, 64, BUF, 512, false),
			 VIRTIO_BLK_S_OK);
}

/* The image shrinks under us: reads past EOF fail instead of spinning. */
static void test_file_shrinks(void **state)
{
	struct t *t = *state;

	open_dev(t, false);
	assert_int_equal(truncate(t->path, DISK_SIZE / 4), 0);
	assert_int_equal(req1(t, VIRTIO_BLK_T_IN, NSECT - 1, BUF, 512, true),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(req1(t, VIRTIO_BLK_T_IN, 0, BUF, 512, true),
			 VIRTIO_BLK_S_OK);
}

/* Class 4: a full ring of indirect requests in one notify. */
/* @n reads of sector @sector (into BUF + 512 i, status at STATUS + i), in
 * indirect tables, made available at once with one notify of queue 0. */
static void burst(struct t *t, unsigned int n, uint64_t sector)
{
	put_hdr(t, HDR, VIRTIO_BLK_T_IN, sector);
	/* Before publishing: an I/O thread may be serving already. */
	memset(fg_ptr(&t->gm, STATUS, n), 0xee, n);
	for (unsigned int i = 0; i < n; i++) {
		const struct fseg s[] = {
			{ HDR, 16, false },
			{ BUF + 512ULL * i, 512, true },
			{ STATUS + i, 1, true },
		};

		fdrv_publish(&t->d, fdrv_chain_indirect(&t->d,
					FG_TABLE + 64ULL * i, s, 3));
	}
	mw32(t->dev, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

static void test_full_ring_indirect(void **state)
{
	struct t *t = *state;
	const unsigned int n = VIRTIO_BLK_QUEUE_SIZE;

	open_dev(t, false);
	burst(t, n, 7);
	settle(t, (uint16_t)n);
	assert_int_equal(fdrv_used_idx(&t->d), n);
	for (unsigned int i = 0; i < n; i++) {
		assert_int_equal(*fg_ptr(&t->gm, STATUS + i, 1),
				 VIRTIO_BLK_S_OK);
		assert_int_equal(*fg_ptr(&t->gm, BUF + 512ULL * i + 1, 1),
				 pattern(7 * 512 + 1));
	}
	/* Then avail->idx racing ahead: device error, config interrupt. */
	fdrv_set_avail_idx(&t->d, (uint16_t)(n + n + 1));
	mw32(t->dev, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	settle(t, 0xffff);
	assert_true(mr32(t->dev, VIRTIO_MMIO_STATUS) &
		    VIRTIO_STATUS_NEEDS_RESET);
	assert_true(mr32(t->dev, VIRTIO_MMIO_INTERRUPT_STATUS) &
		    VIRTIO_MMIO_INT_CONFIG);
}

static void test_locking(void **state)
{
	struct t *t = *state;
	struct virtio_backend *a, *b, *c = NULL;

	open_dev(t, false);
	assert_int_equal(vblk_create(t->path, false, &a), -EBUSY);
	assert_int_equal(vblk_create(t->path, true, &a), -EBUSY);
	close_dev(t);				/* destroy drops the lock */
	assert_int_equal(vblk_create(t->path, true, &a), 0);
	assert_int_equal(vblk_create(t->path, true, &b), 0);
	assert_int_equal(vblk_create(t->path, false, &c), -EBUSY);
	assert_null(c);
	a->ops->destroy(a);
	b->ops->destroy(b);
	open_dev(t, false);
}

/* The image fd must not leak into anything the VMM executes. */
static void test_cloexec(void **state)
{
	struct t *t = *state;
	char link[300], target[PATH_MAX];
	struct dirent *e;
	DIR *dir;
	int found = 0;

	open_dev(t, false);
	dir = opendir("/proc/self/fd");
	assert_non_null(dir);
	while ((e = readdir(dir))) {
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		if (strcmp(target, t->path))
			continue;
		found++;
		assert_true(fcntl(atoi(e->d_name), F_GETFD) & FD_CLOEXEC);
	}
	closedir(dir);
	assert_int_equal(found, 1);
}

static void test_open_errors(void **state)
{
	struct t *t = *state;
	struct virtio_backend *be = NULL;
	const char *dir = getenv("TMPDIR");
	char odd[PATH_MAX], missing[PATH_MAX];
	unsigned long logs = log_count();

	snprintf(missing, sizeof(missing), "%s/rivet-no-such-disk",
		 dir ? dir : "/tmp");
	assert_int_equal(vblk_create(missing, false, &be), -ENOENT);
	assert_true(log_count() > logs);
	assert_int_equal(vblk_create(dir ? dir : "/tmp", true, &be), -EINVAL);
	assert_int_equal(vblk_create(dir ? dir : "/tmp", false, &be), -EISDIR);
	assert_int_equal(vblk_create("/dev/null", true, &be), -EINVAL);
	assert_int_equal(vblk_create(NULL, true, &be), -EINVAL);
	assert_int_equal(vblk_create_fd(-1, "x", true, &be), -EINVAL);
	assert_null(be);
	/* A bad window size: the transport releases the backend it was
	 * given (the lock with it). */
	assert_int_equal(blk_mmio(t, t->path, false, 0x100), -EINVAL);
	assert_int_equal(vblk_create(t->path, false, &be), 0);
	be->ops->destroy(be);

	/* A size that is not a multiple of 512 is rounded down. */
	ts_temp_file(odd, "vblk", 1000, pattern);
	assert_int_equal(blk_mmio(t, odd, false, 0x1000), 0);
	fdrv_mmio_init(t->dev, &t->d, &t->gm, VIRTIO_BLK_QUEUE_SIZE);
	assert_int_equal(cfg64(t->dev, 0), 1);
	assert_int_equal(req1(t, VIRTIO_BLK_T_IN, 0, BUF, 512, true),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(req1(t, VIRTIO_BLK_T_IN, 1, BUF, 512, true),
			 VIRTIO_BLK_S_IOERR);
	close_dev(t);
	unlink(odd);
}

/* ---- I/O threads only ---------------------------------------------------- */

/* A deep queue: every request completes (in any order), each once, with
 * the data, and the driver is asked to notify again at the end. */
static void test_threads_deep_queue(void **state)
{
	struct t *t = *state;
	const unsigned int n = 200;
	bool seen[VIRTIO_BLK_QUEUE_SIZE] = { false };

	open_dev(t, false);
	for (int round = 0; round < 3; round++) {
		uint16_t base = fdrv_used_idx(&t->d);

		t->d.next = 0;
		burst(t, n, 9);
		settle(t, (uint16_t)(base + n));
		assert_int_equal(fdrv_used_idx(&t->d), (uint16_t)(base + n));
		memset(seen, 0, sizeof(seen));
		for (unsigned int i = 0; i < n; i++) {
			uint32_t id = fdrv_used_id(&t->d,
						   (uint16_t)(base + i));

			assert_true(id < n);
			assert_false(seen[id]);
			seen[id] = true;
			assert_int_equal(fdrv_used_len(&t->d,
						       (uint16_t)(base + i)),
					 513);
		}
		for (unsigned int i = 0; i < n; i++) {
			assert_int_equal(*fg_ptr(&t->gm, STATUS + i, 1),
					 VIRTIO_BLK_S_OK);
			assert_int_equal(*fg_ptr(&t->gm, BUF + 512ULL * i, 1),
					 pattern(9 * 512));
		}
		/* VRING_USED_F_NO_NOTIFY is off again. */
		assert_int_equal(fg_r16(&t->gm, FG_USED), 0);
	}
	assert_false(mr32(t->dev, VIRTIO_MMIO_STATUS) &
		     VIRTIO_STATUS_NEEDS_RESET);
}

/* A reset returns only once no request can touch guest memory any more:
 * nothing changes in the rings or buffers after it. */
static void test_threads_reset_drains(void **state)
{
	struct t *t = *state;
	const unsigned int n = 256;
	static uint8_t before[VIRTIO_BLK_QUEUE_SIZE * 513 + 4096];

	open_dev(t, false);
	for (int round = 0; round < 5; round++) {
		t->d.next = 0;
		burst(t, n, 9);
		mw32(t->dev, VIRTIO_MMIO_STATUS, 0);
		memcpy(before, fg_ptr(&t->gm, FG_USED, 4 + 8 * n), 4 + 8 * n);
		memcpy(before + 4096, fg_ptr(&t->gm, STATUS, n), n);
		usleep(20000);
		assert_memory_equal(before, fg_ptr(&t->gm, FG_USED, 4 + 8 * n),
				    4 + 8 * n);
		assert_memory_equal(before + 4096, fg_ptr(&t->gm, STATUS, n),
				    n);
		/* And the device works again after the driver's init. */
		fdrv_mmio_init(t->dev, &t->d, &t->gm, VIRTIO_BLK_QUEUE_SIZE);
		assert_int_equal(req1(t, VIRTIO_BLK_T_IN, 1, BUF, 512, true),
				 VIRTIO_BLK_S_OK);
		assert_int_equal(*fg_ptr(&t->gm, BUF, 1), pattern(512));
	}
}

/* Several queues: the count in config space, MQ offered, and a request on
 * queue 2 completes on queue 2. */
static void test_threads_multiqueue(void **state)
{
	struct t *t = *state;
	const struct vblk_opts o = { .queues = 4, .io = g_io };
	struct virtio_backend *be;
	const struct fseg s[] = {
		{ HDR, 16, false }, { BUF, 512, true }, { STATUS, 1, true },
	};

	assert_int_equal(vblk_open(t->path, &o, &be), 0);
	assert_int_equal(virtio_backend_start(be, NULL, NULL), 0);
	assert_int_equal(virtio_mmio_create(&t->gm, DEV_BASE, 0x1000,
					    irq_of(t), be, &t->dev), 0);
	assert_int_equal(mr32(t->dev, VIRTIO_MMIO_CONFIG + 32), 4u << 16);
	mw32(t->dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	assert_true(mr32(t->dev, VIRTIO_MMIO_DEVICE_FEATURES) &
		    (1u << VIRTIO_BLK_F_MQ));
	/* Only queue 2 is set up, on the FG_* rings. */
	assert_true(fdrv_negotiate(t->dev, vmmio_device_features(t->dev)) &
		    VIRTIO_STATUS_FEATURES_OK);
	fdrv_init(&t->d, &t->gm, 64);
	vmmio_queue(t->dev, 2, 64, FG_DESC, FG_AVAIL, FG_USED, true);
	mw32(t->dev, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
	     VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
	     VIRTIO_STATUS_DRIVER_OK);
	put_hdr(t, HDR, VIRTIO_BLK_T_IN, 4);
	*fg_ptr(&t->gm, STATUS, 1) = 0xee;
	fdrv_publish(&t->d, fdrv_chain(&t->d, s, 3));
	mw32(t->dev, VIRTIO_MMIO_QUEUE_NOTIFY, 2);
	settle(t, 1);
	assert_int_equal(fdrv_used_idx(&t->d), 1);
	assert_int_equal(*fg_ptr(&t->gm, STATUS, 1), VIRTIO_BLK_S_OK);
	assert_int_equal(*fg_ptr(&t->gm, BUF, 1), pattern(4 * 512));
	assert_true(mr32(t->dev, VIRTIO_MMIO_INTERRUPT_STATUS) &
		    VIRTIO_MMIO_INT_VRING);
	/* Out-of-range options are refused. */
	close_dev(t);
	assert_int_equal(vblk_open(t->path, &(struct vblk_opts){
				.queues = VIRTIO_BLK_MAX_QUEUES + 1,
				.io = VBLK_IO_THREADS }, &be), -EINVAL);
	assert_int_equal(vblk_open(t->path, &(struct vblk_opts){
				.queues = 2, .io = VBLK_IO_SYNC }, &be),
			 -EINVAL);
}

static int setup_threads(void **state)
{
	g_io = VBLK_IO_THREADS;
	return setup(state);
}

static int setup_uring(void **state)
{
	g_io = VBLK_IO_URING;
	return setup(state);
}

/* The request tests, for each mode (@setup picks it).  test_host_errors
 * swaps the file under the disk's fd: an io_uring holds the file itself
 * (registered), so it runs for sync and threads; io=uring's host errors
 * are test_short_write's. */
#define REQUEST_TESTS(setup)                                                 \
	cmocka_unit_test_setup_teardown(test_config, setup, teardown),       \
	cmocka_unit_test_setup_teardown(test_write_read_roundtrip, setup,    \
					teardown),                           \
	cmocka_unit_test_setup_teardown(test_header_split, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_flush_and_get_id, setup,        \
					teardown),                           \
	cmocka_unit_test_setup_teardown(test_unsupported, setup, teardown),  \
	cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_malformed_chains, setup,        \
					teardown),                           \
	cmocka_unit_test_setup_teardown(test_readonly, setup, teardown),     \
	cmocka_unit_test_setup_teardown(test_short_write, setup, teardown),  \
	cmocka_unit_test_setup_teardown(test_file_shrinks, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_full_ring_indirect, setup,      \
					teardown)

int main(void)
{
	const struct CMUnitTest threads[] = {
		REQUEST_TESTS(setup_threads),
#define T(f) cmocka_unit_test_setup_teardown(f, setup_threads, teardown)
		T(test_host_errors),
		T(test_threads_deep_queue),
		T(test_threads_reset_drains),
		T(test_threads_multiqueue),
#undef T
	};
	const struct CMUnitTest uring[] = {
		REQUEST_TESTS(setup_uring),
#define T(f) cmocka_unit_test_setup_teardown(f, setup_uring, teardown)
		T(test_threads_deep_queue),
		T(test_threads_reset_drains),
		T(test_threads_multiqueue),
#undef T
	};
	const struct CMUnitTest tests[] = {
		REQUEST_TESTS(setup),
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_host_errors),
		T(test_locking),
		T(test_cloexec),
		T(test_open_errors),
#undef T
	};

	int fails = cmocka_run_group_tests_name("io=sync", tests, NULL, NULL);

	fails += cmocka_run_group_tests_name("io=threads", threads, NULL, NULL);
	return fails + cmocka_run_group_tests_name("io=uring", uring, NULL,
						   NULL);
}
