// SPDX-License-Identifier: MIT
/*
 * blkbench: a small virtio-blk throughput / latency benchmark run inside a
 * rivet test guest (busybox initramfs, as root).
 *
 *   blkbench [-s SECONDS] [-m MIB] DEVICE MODE...
 *
 * DEVICE is a block device (e.g. /dev/vda); a regular file also works, which
 * is how the program is tried out on a host.  It is opened with O_DIRECT
 * (read-write if a seqwrite is asked for, read-only otherwise), so the guest
 * page cache stays out of the numbers and every request reaches the device.
 * All I/O is synchronous, single-threaded, one request in flight, on buffers
 * aligned to 4096 bytes.
 *
 * The region measured is the first MIB MiB of DEVICE (default 64).  If the
 * device (BLKGETSIZE64; st_size for a regular file) is smaller, the region
 * is the device size rounded down to a whole MiB; less than 1 MiB is an
 * error.  MODEs run in the order given, each one of:
 *   seqwrite  write the region in 1 MiB requests (pwrite) with a non-zero
 *             pattern, then fdatasync; the time includes the fdatasync.
 *             THIS OVERWRITES THE START OF DEVICE.
 *   seqread   read the region in 1 MiB requests (pread), pass after pass,
 *             until both at least SECONDS (default 3) have elapsed and at
 *             least one full pass is done; the total is reported.
 *   randread  4 KiB preads at 4 KiB-aligned offsets in the region chosen by
 *             a xorshift PRNG with a fixed seed (so runs are comparable),
 *             for SECONDS (the clock is checked every 64 requests).
 *
 * A MODE may ask for a queue depth and parallel jobs: MODE:qdN (N requests
 * in flight, 1-256, through Linux AIO: io_submit on the O_DIRECT fd) and
 * MODE:jN (N processes, 1-16, process i pinned to CPU i mod the CPU count,
 * so each uses its own blk-mq queue; seq modes split the region between
 * them).  Figures are the sum over the jobs; secs is the longest job's.
 * Its name in the output is MODE_qdN_Nj (the parts given), e.g.
 * randread:qd32:j4 prints mode=randread_qd32_4j.
 *
 * Output (stdout), exactly one line per MODE:
 *   BLKBENCH mode=seqread bs=1048576 bytes=N secs=S.SSS mbs=X.XX iops=Y
 * where bs is the request size, bytes the total transferred, secs the
 * CLOCK_MONOTONIC time taken, mbs = bytes / 1e6 / secs (MB/s, not MiB/s) and
 * iops the completed requests per second, rounded to an integer.
 *
 * On any failure (a failed call, a short read or write) the last line is
 *   BLKBENCH-ERROR <mode>: <what>: <strerror or reason>
 * and the exit status is 1; <mode> is "setup" for failures before the first
 * mode runs (open, device size, buffer allocation) and the last MODE for a
 * failing close at the end.  Bad usage prints a message to stderr and exits
 * with status 2.  Success exits with status 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/aio_abi.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>		/* BLKGETSIZE64 */
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB		(1024ULL * 1024ULL)
#define SEQ_BS		(1024U * 1024U)
#define RAND_BS		4096U
#define ALIGN		4096U
#define CLOCK_EVERY	64		/* randread: requests between clock reads */
#define MAX_MIB		(1ULL << 24)	/* 16 TiB: keeps byte counts far from overflow */
#define RAND_SEED	0x9e3779b97f4a7c15ULL
#define MAX_QD		256
#define MAX_JOBS	16

static const char *const modes[] = { "seqwrite", "seqread", "randread" };
enum { SEQWRITE, SEQREAD, RANDREAD, NMODES };

static void usage(void)
{
	fprintf(stderr, "usage: blkbench [-s SECONDS] [-m MIB] DEVICE seqwrite|seqread|randread[:qdN][:jN]...\n");
	exit(2);
}

/* Print the error line (what: reason) and exit 1. */
__attribute__((format(printf, 3, 4), noreturn))
static void fail(const char *mode, const char *reason, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	printf("BLKBENCH-ERROR %s: %s: %s\n", mode, what, reason);
	fflush(stdout);
	exit(1);
}

static double now(const char *mode)
{
	struct timespec ts;

	/* The system call, not the vDSO: under QEMU 10.0 (-accel kvm -cpu
	 * host) the vDSO's clock read is an illegal instruction (SIGILL). */
	if (syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) != 0)
		fail(mode, strerror(errno), "clock_gettime(CLOCK_MONOTONIC)");
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * One request of exactly len bytes at off; anything else is fatal.  EINTR
 * is retried (no handlers are installed, but it costs nothing).
 */
static void xfer(const char *mode, int fd, bool write, void *buf, size_t len, uint64_t off)
{
	ssize_t n;

	do {
		if (write)
			n = pwrite(fd, buf, len, (off_t)off);
		else
			n = pread(fd, buf, len, (off_t)off);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		fail(mode, strerror(errno), "%s %zu bytes at offset %" PRIu64,
		     write ? "pwrite" : "pread", len, off);
	if ((size_t)n != len) {
		char reason[64];

		snprintf(reason, sizeof(reason), "short %s (%zd of %zu bytes)",
			 write ? "write" : "read", n, len);
		fail(mode, reason, "%s %zu bytes at offset %" PRIu64,
		     write ? "pwrite" : "pread", len, off);
	}
}

static void report(const char *mode, unsigned int bs, uint64_t bytes, uint64_t reqs, double secs)
{
	if (secs <= 0)
		secs = 1e-9;	/* cannot happen with a working clock; avoid /0 */
	printf("BLKBENCH mode=%s bs=%u bytes=%" PRIu64 " secs=%.3f mbs=%.2f iops=%.0f\n",
	       mode, bs, bytes, secs, (double)bytes / 1e6 / secs, (double)reqs / secs);
	if (fflush(stdout) != 0)
		exit(1);	/* stdout is gone: nowhere to report it */
}

static void seqwrite(int fd, void *buf, uint64_t region)
{
	const char *mode = modes[SEQWRITE];
	double t0, t1;
	uint64_t off;

	t0 = now(mode);
	for (off = 0; off < region; off += SEQ_BS)
		xfer(mode, fd, true, buf, SEQ_BS, off);
	if (fdatasync(fd) != 0)
		fail(mode, strerror(errno), "fdatasync");
	t1 = now(mode);
	report(mode, SEQ_BS, region, region / SEQ_BS, t1 - t0);
}

static void seqread(int fd, void *buf, uint64_t region, double secs)
{
	const char *mode = modes[SEQREAD];
	uint64_t off = 0, bytes = 0, reqs = 0;
	bool full_pass = false;
	double t0, t;

	t0 = t = now(mode);
	for (;;) {
		xfer(mode, fd, false, buf, SEQ_BS, off);
		bytes += SEQ_BS;
		reqs++;
		off += SEQ_BS;
		if (off == region) {
			off = 0;
			full_pass = true;
		}
		t = now(mode);
		if (full_pass && t - t0 >= secs)
			break;
	}
	report(mode, SEQ_BS, bytes, reqs, t - t0);
}

static void randread(int fd, void *buf, uint64_t region, double secs)
{
	const char *mode = modes[RANDREAD];
	uint64_t blocks = region / RAND_BS, x = RAND_SEED, reqs = 0;
	double t0, t;

	t0 = t = now(mode);
	for (;;) {
		x ^= x << 13;	/* xorshift64 */
		x ^= x >> 7;
		x ^= x << 17;
		xfer(mode, fd, false, buf, RAND_BS, (x % blocks) * RAND_BS);
		reqs++;
		if (reqs % CLOCK_EVERY == 0) {
			t = now(mode);
			if (t - t0 >= secs)
				break;
		}
	}
	report(mode, RAND_BS, reqs * RAND_BS, reqs, t - t0);
}

static int mode_index(const char *name)
{
	for (int i = 0; i < NMODES; i++)
		if (!strcmp(name, modes[i]))
			return i;
	return -1;
}

/* ---- queue depth and jobs: Linux AIO, one process per job ---------------- */

struct spec {
	int mode;
	unsigned int qd, jobs;
	char name[48];		/* as printed */
};

/* "MODE[:qdN][:jN]" -> @s; false if malformed. */
static bool parse_spec(const char *arg, struct spec *s)
{
	char buf[64], *part, *save = NULL, *end;

	if (strlen(arg) >= sizeof(buf))
		return false;
	strcpy(buf, arg);
	part = strtok_r(buf, ":", &save);
	s->mode = part ? mode_index(part) : -1;
	s->qd = s->jobs = 1;
	if (s->mode < 0)
		return false;
	snprintf(s->name, sizeof(s->name), "%s", modes[s->mode]);
	while ((part = strtok_r(NULL, ":", &save))) {
		unsigned long v;
		size_t n = strlen(s->name);

		if (!strncmp(part, "qd", 2)) {
			v = strtoul(part + 2, &end, 10);
			if (end == part + 2 || *end || v < 1 || v > MAX_QD)
				return false;
			s->qd = (unsigned int)v;
			snprintf(s->name + n, sizeof(s->name) - n, "_qd%lu", v);
		} else if (part[0] == 'j') {
			v = strtoul(part + 1, &end, 10);
			if (end == part + 1 || *end || v < 1 || v > MAX_JOBS)
				return false;
			s->jobs = (unsigned int)v;
			snprintf(s->name + n, sizeof(s->name) - n, "_%luj", v);
		} else {
			return false;
		}
	}
	return true;
}

struct result {
	uint64_t bytes, reqs;
	double secs;
};

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* One job: @s->qd requests in flight on @fd over [@lo, @hi) until done
 * (seqwrite: one pass, then fdatasync; seqread: SECONDS and a full pass;
 * randread: SECONDS). */
static struct result aio_job(const struct spec *s, int fd, uint64_t lo,
			     uint64_t hi, double secs, uint64_t seed)
{
	const char *mode = s->name;
	const bool write = s->mode == SEQWRITE;
	const unsigned int bs = s->mode == RANDREAD ? RAND_BS : SEQ_BS;
	struct iocb cbs[MAX_QD], *ptrs[MAX_QD];
	struct io_event ev[MAX_QD];
	aio_context_t ctx = 0;
	uint64_t next = lo, blocks = (hi - lo) / bs, x = seed;
	struct result r = { 0 };
	unsigned int inflight = 0;
	bool full_pass = false, stop = false;
	uint8_t *bufs;
	double t0, t;

	if (syscall(SYS_io_setup, s->qd, &ctx) != 0)
		fail(mode, strerror(errno), "io_setup(%u)", s->qd);
	if (posix_memalign((void **)&bufs, ALIGN, (size_t)bs * s->qd) != 0)
		fail(mode, "out of memory", "buffers");
	memset(bufs, 0x5a, (size_t)bs * s->qd);
	memset(cbs, 0, sizeof(cbs));	/* aio_data 1: in flight */
	t0 = t = now(mode);
	for (;;) {
		unsigned int n = 0;
		long got;

		/* Refill every free slot (the slot is the iocb index). */
		for (unsigned int i = 0; !stop && i < s->qd; i++) {
			uint64_t off;

			if (cbs[i].aio_data)
				continue;	/* in flight */
			if (s->mode == RANDREAD) {
				off = lo + (xorshift(&x) % blocks) * bs;
			} else {
				if (next + bs > hi) {
					if (write) {
						stop = true;
						break;
					}
					next = lo;
					full_pass = true;
				}
				off = next;
				next += bs;
			}
			memset(&cbs[i], 0, sizeof(cbs[i]));
			cbs[i].aio_data = 1;
			cbs[i].aio_lio_opcode = write ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD;
			cbs[i].aio_fildes = (uint32_t)fd;
			cbs[i].aio_buf = (uint64_t)(uintptr_t)(bufs + (size_t)i * bs);
			cbs[i].aio_nbytes = bs;
			cbs[i].aio_offset = (int64_t)off;
			ptrs[n++] = &cbs[i];
		}
		if (n) {
			long sub = syscall(SYS_io_submit, ctx, (long)n, ptrs);

			if (sub != (long)n)
				fail(mode, sub < 0 ? strerror(errno) : "partial submit",
				     "io_submit %u", n);
			inflight += n;
		}
		if (!inflight)
			break;
		got = syscall(SYS_io_getevents, ctx, 1L, (long)s->qd, ev, NULL);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			fail(mode, strerror(errno), "io_getevents");
		}
		for (long i = 0; i < got; i++) {
			struct iocb *cb = (struct iocb *)(uintptr_t)ev[i].obj;

			if (ev[i].res != (int64_t)bs)
				fail(mode, ev[i].res < 0 ? strerror((int)-ev[i].res) : "short transfer",
				     "%s %u bytes at offset %" PRIu64,
				     write ? "write" : "read", bs, (uint64_t)cb->aio_offset);
			cb->aio_data = 0;
			inflight--;
			r.reqs++;
			r.bytes += bs;
		}
		t = now(mode);
		if (s->mode != SEQWRITE && t - t0 >= secs &&
		    (s->mode == RANDREAD || full_pass))
			stop = true;
	}
	if (write && fdatasync(fd) != 0)
		fail(mode, strerror(errno), "fdatasync");
	r.secs = now(mode) - t0;
	syscall(SYS_io_destroy, ctx);
	free(bufs);
	return r;
}

/* @s->jobs processes, each pinned to a CPU, each with its own slice of the
 * region for sequential modes; the figures summed. */
static void run_spec(const struct spec *s, int fd, uint64_t region, double secs)
{
	const char *mode = s->name;
	const unsigned int bs = s->mode == RANDREAD ? RAND_BS : SEQ_BS;
	uint64_t slice = region / s->jobs / bs * bs;
	struct result total = { 0 };
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int p[2];

	if (slice < bs)
		fail(mode, "region too small", "%u jobs over %" PRIu64 " bytes", s->jobs, region);
	if (pipe(p) != 0)
		fail(mode, strerror(errno), "pipe");
	for (unsigned int j = 0; j < s->jobs; j++) {
		pid_t pid = fork();

		if (pid < 0)
			fail(mode, strerror(errno), "fork");
		if (pid == 0) {
			cpu_set_t set;
			uint64_t lo = s->mode == RANDREAD ? 0 : j * slice;
			uint64_t hi = s->mode == RANDREAD ? region : lo + slice;
			struct result r;

			CPU_ZERO(&set);
			CPU_SET(ncpu > 0 ? (int)(j % (unsigned long)ncpu) : 0, &set);
			sched_setaffinity(0, sizeof(set), &set);
			r = aio_job(s, fd, lo, hi, secs, RAND_SEED + j * 0x1000193ULL);
			if (write(p[1], &r, sizeof(r)) != (ssize_t)sizeof(r))
				_exit(1);
			_exit(0);
		}
	}
	close(p[1]);
	for (unsigned int j = 0; j < s->jobs; j++) {
		struct result r;
		int st;

		if (read(p[0], &r, sizeof(r)) != (ssize_t)sizeof(r))
			fail(mode, "a job failed", "job results");
		total.bytes += r.bytes;
		total.reqs += r.reqs;
		if (r.secs > total.secs)
			total.secs = r.secs;
		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			fail(mode, "a job failed", "wait");
	}
	close(p[0]);
	report(mode, bs, total.bytes, total.reqs, total.secs);
}

int main(int argc, char **argv)
{
	double secs = 3;
	uint64_t mib = 64, region, size;
	bool need_write = false;
	const char *dev;
	struct stat st;
	char *end;
	void *buf;
	int c, fd, err;

	while ((c = getopt(argc, argv, "+s:m:")) != -1) {
		switch (c) {
		case 's':
			errno = 0;
			secs = strtod(optarg, &end);
			/* !(secs >= 0) also refuses NaN */
			if (errno || end == optarg || *end || !(secs >= 0) || secs > 1e6) {
				fprintf(stderr, "blkbench: bad SECONDS '%s'\n", optarg);
				usage();
			}
			break;
		case 'm':
			errno = 0;
			mib = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' ||
			    mib < 1 || mib > MAX_MIB) {
				fprintf(stderr, "blkbench: bad MIB '%s'\n", optarg);
				usage();
			}
			break;
		default:
			usage();
		}
	}
	if (argc - optind < 2)
		usage();
	dev = argv[optind];
	for (int i = optind + 1; i < argc; i++) {
		struct spec s;

		if (!parse_spec(argv[i], &s)) {
			fprintf(stderr, "blkbench: unknown mode '%s'\n", argv[i]);
			usage();
		}
		if (s.mode == SEQWRITE)
			need_write = true;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	fd = open(dev, (need_write ? O_RDWR : O_RDONLY) | O_DIRECT);
	if (fd < 0)
		fail("setup", strerror(errno), "open %s%s", dev,
		     need_write ? " O_RDWR|O_DIRECT" : " O_RDONLY|O_DIRECT");
	if (fstat(fd, &st) != 0)
		fail("setup", strerror(errno), "fstat %s", dev);
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size) != 0)
			fail("setup", strerror(errno), "ioctl BLKGETSIZE64 %s", dev);
	} else if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
	} else {
		fail("setup", "not a block device or regular file", "%s", dev);
	}
	region = mib * MIB;
	if (size < region)
		region = size / MIB * MIB;
	if (region < MIB) {
		char reason[64];

		snprintf(reason, sizeof(reason), "size %" PRIu64 " bytes is below 1 MiB", size);
		fail("setup", reason, "%s", dev);
	}

	err = posix_memalign(&buf, ALIGN, SEQ_BS);
	if (err != 0)
		fail("setup", strerror(err), "posix_memalign %u", SEQ_BS);
	/* Non-zero pattern: "BLKBENCH" in ASCII mixed with the word index. */
	for (size_t i = 0; i < SEQ_BS / sizeof(uint64_t); i++)
		((uint64_t *)buf)[i] = 0x424c4b42454e4348ULL ^ ((uint64_t)i << 8) ^ 0x5a;

	for (int i = optind + 1; i < argc; i++) {
		struct spec s;

		parse_spec(argv[i], &s);
		if (s.qd > 1 || s.jobs > 1) {
			run_spec(&s, fd, region, secs);
			continue;
		}
		switch (s.mode) {
		case SEQWRITE: seqwrite(fd, buf, region); break;
		case SEQREAD: seqread(fd, buf, region, secs); break;
		case RANDREAD: randread(fd, buf, region, secs); break;
		}
	}

	free(buf);
	if (close(fd) != 0)
		fail(argv[argc - 1], strerror(errno), "close %s", dev);
	return 0;
}
