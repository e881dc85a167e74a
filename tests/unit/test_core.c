// SPDX-License-Identifier: MIT
/* Core: the guest-memory range check and the MMIO bus. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/bus.h"
#include "core/gmem.h"
#include "core/iothread.h"
#include "core/log.h"
#include "core/uring.h"

static void test_gmem_ranges(void **state)
{
	struct gmem gm;
	uint8_t buf[16];

	(void)state;
	assert_int_equal(gmem_alloc(&gm, 0x80000000, 0x10000), 0);
	assert_non_null(gmem_ptr(&gm, 0x80000000, 0x10000));
	assert_non_null(gmem_ptr(&gm, 0x8000fff0, 16));
	assert_non_null(gmem_ptr(&gm, 0x80010000, 0));	/* empty at end */
	assert_null(gmem_ptr(&gm, 0x8000fff1, 16));	/* straddles end */
	assert_null(gmem_ptr(&gm, 0x7fffffff, 2));	/* below base */
	assert_null(gmem_ptr(&gm, 0x80010000, 1));	/* just past end */
	assert_null(gmem_ptr(&gm, 0x80000010, UINT64_MAX));	/* wraps */
	assert_null(gmem_ptr(&gm, UINT64_MAX, 2));
	assert_null(gmem_ptr(&gm, 0, 0x80000001));
	assert_null(gmem_ptr(&gm, 0x80000000, 0x10001));
	memset(buf, 0xa5, sizeof(buf));
	assert_int_equal(gmem_write(&gm, 0x80000100, buf, 16), 0);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(gmem_read(&gm, 0x80000100, buf, 16), 0);
	assert_int_equal(buf[15], 0xa5);
	assert_int_equal(gmem_read(&gm, 0x8000fff8, buf, 16), -EFAULT);
	assert_int_equal(gmem_write(&gm, 0x1000, buf, 1), -EFAULT);
	gmem_free(&gm);
	assert_null(gmem_ptr(&gm, 0x80000000, 1));
	assert_int_equal(gmem_alloc(&gm, UINT64_MAX - 10, 0x1000), -EINVAL);
	assert_int_equal(gmem_alloc(&gm, 0, 0), -EINVAL);
}

struct fake {
	uint64_t last_off;
	uint64_t last_val;
	unsigned int last_len;
	unsigned int reads, writes;
};

static void fake_read(struct rivet_dev *d, uint64_t off, uint8_t *data,
		      unsigned int len)
{
	struct fake *f = d->priv;

	f->reads++;
	f->last_off = off;
	f->last_len = len;
	mmio_put(data, len, 0x1122334455667788ULL);
}

static void fake_write(struct rivet_dev *d, uint64_t off, const uint8_t *data,
		       unsigned int len)
{
	struct fake *f = d->priv;

	f->writes++;
	f->last_off = off;
	f->last_len = len;
	f->last_val = mmio_get(data, len);
}

static const struct dev_ops fake_ops = {
	.name = "fake",
	.mmio_read = fake_read,
	.mmio_write = fake_write,
};

/* Does /proc/self/smaps say the mapping at @p has @flag ("hg", "nh") in
 * its VmFlags? */
static bool vma_has_flag(const void *p, const char *flag)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	bool in = false, found = false;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') &&
		    line[0] != 'V') {
			in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
			continue;
		}
		if (in && !strncmp(line, "VmFlags:", 8)) {
			char want[8];

			snprintf(want, sizeof(want), " %s", flag);
			found = strstr(line, want) != NULL;
			break;
		}
	}
	fclose(f);
	return found;
}

/* --hugepages: THP is 2 MiB aligned and advised, off is advised against,
 * hugetlb either maps or says the pool is short; sizes must be whole
 * huge pages. */
static void test_gmem_pages(void **state)
{
	struct gmem gm = { 0 };
	const uint64_t size = 8 * GMEM_HUGE_PAGE;
	int ret;

	(void)state;
	assert_int_equal(gmem_alloc_pages(&gm, 0x80000000, size,
					  GMEM_PAGES_THP), 0);
	assert_int_equal((uintptr_t)gm.host % GMEM_HUGE_PAGE, 0);
	assert_true(vma_has_flag(gm.host, "hg"));
	memset(gm.host, 1, size);	/* all of it is ours */
	assert_non_null(gmem_ptr(&gm, 0x80000000 + size - 1, 1));
	gmem_free(&gm);
	assert_int_equal(gmem_alloc_pages(&gm, 0x80000000, size + 4096,
					  GMEM_PAGES_SMALL), 0);
	assert_true(vma_has_flag(gm.host, "nh"));
	gmem_free(&gm);
	assert_int_equal(gmem_alloc_pages(&gm, 0x80000000, size + 4096,
					  GMEM_PAGES_THP), -EINVAL);
	assert_int_equal(gmem_alloc_pages(&gm, 0x80000000, size + 4096,
					  GMEM_PAGES_HUGETLB), -EINVAL);
	ret = gmem_alloc_pages(&gm, 0x80000000, size, GMEM_PAGES_HUGETLB);
	if (ret == 0) {
		assert_true(vma_has_flag(gm.host, "ht"));
		gmem_free(&gm);
	} else {
		/* The pool is short: said at once, not at first touch. */
		assert_int_equal(ret, -ENOMEM);
		assert_true(gmem_hugepages_available() < 8);
	}
}

/* The io_uring fd a uring_open() made: the newest anon_inode:[io_uring]. */
static int find_ring_fd(void)
{
	int found = -1;

	for (int fd = 3; fd < 1024; fd++) {
		char path[64], link[64];
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (strstr(link, "io_uring"))
			found = fd;
	}
	return found;
}

/* A restricted ring: vectored I/O and fdatasync on its one file, each
 * completion on the eventfd; and nothing else may be registered on it. */
static void test_uring(void **state)
{
	char path[] = "/tmp/rivet-uring-XXXXXX";
	int fd = mkstemp(path), efd = eventfd(0, EFD_CLOEXEC), other, ring;
	uint8_t out[8192], in[8192];
	struct iovec wv[2] = { { out, 4096 }, { out + 4096, 4096 } };
	struct iovec rv[1] = { { in, sizeof(in) } };
	struct uring *u;
	uint64_t tag, n;
	int32_t res;
	int seen = 0;

	(void)state;
	assert_true(fd >= 0 && efd >= 0);
	unlink(path);
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 13 + 1);
	assert_int_equal(uring_open(&u, 8, fd, efd), 0);
	assert_true(uring_rw(u, true, wv, 2, 4096, 7));
	assert_true(uring_fdatasync(u, 8));
	assert_int_equal(uring_submit(u), 0);
	while (seen < 2) {
		assert_int_equal(read(efd, &n, sizeof(n)), sizeof(n));
		while (uring_reap(u, &tag, &res)) {
			assert_true(tag == 7 || tag == 8);
			assert_int_equal(res, tag == 7 ? 8192 : 0);
			seen++;
		}
	}
	assert_true(uring_rw(u, false, rv, 1, 4096, 9));
	assert_int_equal(uring_submit(u), 0);
	assert_int_equal(read(efd, &n, sizeof(n)), sizeof(n));
	assert_true(uring_reap(u, &tag, &res));
	assert_int_equal(tag, 9);
	assert_int_equal(res, sizeof(in));
	assert_memory_equal(in, out, sizeof(in));
	assert_false(uring_reap(u, &tag, &res));
	/* Locked down: no other file, eventfd or buffer may be added. */
	ring = find_ring_fd();
	assert_true(ring >= 0);
	other = open("/dev/null", O_RDWR | O_CLOEXEC);
	assert_true(syscall(SYS_io_uring_register, ring, IORING_REGISTER_FILES,
			    &other, 1) < 0);
	assert_int_equal(errno, EACCES);
	assert_true(syscall(SYS_io_uring_register, ring,
			    IORING_REGISTER_EVENTFD, &other, 1) < 0);
	assert_int_equal(errno, EACCES);
	close(other);
	uring_close(u);
	close(fd);
	close(efd);
}

static void test_bus_insert(void **state)
{
	struct bus bus = { 0 };
	struct fake f = { 0 };
	struct rivet_dev a = { &fake_ops, 0x1000, 0x100, { 0 }, &f, 0 };
	struct rivet_dev b = { &fake_ops, 0x3000, 0x1000, { 0 }, &f, 0 };
	struct rivet_dev c = { &fake_ops, 0x2000, 0x1000, { 0 }, &f, 0 };
	struct rivet_dev over1 = { &fake_ops, 0x10ff, 0x10, { 0 }, &f, 0 };
	struct rivet_dev over2 = { &fake_ops, 0x0, 0x1001, { 0 }, &f, 0 };
	struct rivet_dev over3 = { &fake_ops, 0x1800, 0x2000, { 0 }, &f, 0 };
	struct rivet_dev wrap = { &fake_ops, UINT64_MAX - 1, 0x10, { 0 }, &f, 0 };
	struct rivet_dev empty = { &fake_ops, 0x9000, 0, { 0 }, &f, 0 };
	struct rivet_dev late = { &fake_ops, 0x9000, 0x10, { 0 }, &f, 0 };
	struct rivet_dev adj = { &fake_ops, 0x1100, 0x100, { 0 }, &f, 0 };

	(void)state;
	assert_int_equal(bus_add(&bus, &a), 0);
	assert_int_equal(bus_add(&bus, &b), 0);
	assert_int_equal(bus_add(&bus, &c), 0);
	assert_int_equal(bus_add(&bus, &over1), -EEXIST);
	assert_int_equal(bus_add(&bus, &over2), -EEXIST);
	assert_int_equal(bus_add(&bus, &over3), -EEXIST);
	assert_int_equal(bus_add(&bus, &wrap), -EINVAL);
	assert_int_equal(bus_add(&bus, &empty), -EINVAL);
	assert_int_equal(bus_add(&bus, NULL), -EINVAL);
	assert_int_equal(bus_add(&bus, &adj), 0);	/* touching is fine */
	assert_int_equal(bus.nr, 4);
	for (unsigned int i = 1; i < bus.nr; i++)
		assert_true(bus.devs[i - 1]->base < bus.devs[i]->base);
	assert_ptr_equal(bus_find(&bus, 0x2fff, 1), &c);
	assert_ptr_equal(bus_find(&bus, 0x1000, 8), &a);
	assert_ptr_equal(bus_find(&bus, 0x20fc, 8), &c);
	assert_null(bus_find(&bus, 0x2ffc, 8));	/* straddles c's end */
	assert_null(bus_find(&bus, 0x1200, 4));	/* gap */
	assert_null(bus_find(&bus, 0x0, 4));
	bus_seal(&bus);
	assert_int_equal(bus_add(&bus, &late), -EPERM);
}

static void test_bus_access(void **state)
{
	struct bus bus = { 0 };
	struct fake f = { 0 };
	struct rivet_dev a = { &fake_ops, 0x1000, 0x100, { 0 }, &f, 0 };
	uint8_t data[8];
	unsigned long logs;

	(void)state;
	assert_int_equal(bus_add(&bus, &a), 0);
	bus_seal(&bus);
	for (unsigned int len = 1; len <= 8; len *= 2) {
		memset(data, 0xff, sizeof(data));
		assert_int_equal(bus_access(&bus, 0x1010, data, len, false), 0);
		assert_int_equal(f.last_off, 0x10);
		assert_int_equal(f.last_len, len);
		assert_int_equal(mmio_get(data, len),
				 0x1122334455667788ULL &
					 (len == 8 ? ~0ULL
						   : (1ULL << (8 * len)) - 1));
		mmio_put(data, len, 0xabcdef0123456789ULL);
		assert_int_equal(bus_access(&bus, 0x1020, data, len, true), 0);
		assert_int_equal(f.last_off, 0x20);
	}
	assert_int_equal(f.last_val, 0xabcdef0123456789ULL);
	/* 4 widths, a read and a write each: counted for --stats. */
	assert_int_equal(a.accesses, 8);

	/* Hostile: unmapped, straddling, odd widths.  Logged, no dispatch,
	 * reads return zeros. */
	logs = log_count();
	f.reads = f.writes = 0;
	memset(data, 0xff, sizeof(data));
	assert_int_equal(bus_access(&bus, 0x5000, data, 4, false), -ENOENT);
	assert_int_equal(mmio_get(data, 4), 0);
	assert_int_equal(bus_access(&bus, 0x10fe, data, 4, true), -ENOENT);
	assert_int_equal(bus_access(&bus, 0x1000, data, 3, false), -EINVAL);
	assert_int_equal(bus_access(&bus, 0x1000, data, 0, true), -EINVAL);
	assert_int_equal(bus_access(&bus, 0x1000, data, 16, true), -EINVAL);
	assert_int_equal(f.reads + f.writes, 0);
	assert_int_equal(a.accesses, 8);	/* refused: not dispatched */
	assert_true(log_count() >= logs + 5);
}

/* The serve function counts what it took off a shared counter, slowly,
 * as a vhost call thread raises the interrupts the kernel asked for. */
struct sync_ctx {
	unsigned int posted;	/* atomic: signalled, not served yet */
	unsigned int served;	/* atomic */
	unsigned int calls;	/* atomic */
};

static void sync_serve(void *ctx)
{
	struct sync_ctx *s = ctx;
	unsigned int n = __atomic_exchange_n(&s->posted, 0, __ATOMIC_SEQ_CST);

	__atomic_add_fetch(&s->calls, 1, __ATOMIC_SEQ_CST);
	usleep(2000);
	__atomic_add_fetch(&s->served, n, __ATOMIC_SEQ_CST);
}

/* iothread_sync() returns only once everything signalled before it has
 * been served, whatever the thread was doing at the time. */
static void test_iothread_sync(void **state)
{
	struct sync_ctx s = { 0, 0, 0 };
	struct iothread *t;

	(void)state;
	assert_int_equal(iothread_start(&t, "test-sync", sync_serve, &s, NULL),
			 0);
	/* Idle: nothing to serve, and no kick of its own (a KVM irqfd on
	 * the kick eventfd would take it as an interrupt). */
	iothread_sync(t);
	assert_int_equal(__atomic_load_n(&s.calls, __ATOMIC_SEQ_CST), 0);
	assert_int_equal(__atomic_load_n(&s.served, __ATOMIC_SEQ_CST), 0);
	for (unsigned int round = 1; round <= 50; round++) {
		uint64_t one = 1;

		__atomic_add_fetch(&s.posted, 1, __ATOMIC_SEQ_CST);
		assert_int_equal(write(iothread_kick_fd(t), &one, 8), 8);
		if (round % 3)
			usleep(round * 97 % 3000);	/* mid-serve or idle */
		iothread_sync(t);
		assert_int_equal(__atomic_load_n(&s.served, __ATOMIC_SEQ_CST),
				 round);
	}
	iothread_stop(t);
}

/* A KVM irqfd on the kick eventfd (vhost-net's call eventfd bound to its
 * MSI) takes each signal as it is written, before the thread sees it:
 * iothread_sync() must neither wait for the thread to see one nor write
 * one itself (the guest would get an interrupt).  The drainer here plays
 * the irqfd. */
struct drainer {
	int fd;
	bool stop;		/* atomic */
	unsigned int taken;	/* atomic */
};

static void *drain_kicks(void *arg)
{
	struct drainer *d = arg;

	while (!__atomic_load_n(&d->stop, __ATOMIC_SEQ_CST)) {
		struct pollfd p = { .fd = d->fd, .events = POLLIN };
		uint64_t v;

		if (poll(&p, 1, 5) == 1 && read(d->fd, &v, 8) == 8)
			__atomic_add_fetch(&d->taken, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

static void test_iothread_sync_irqfd(void **state)
{
	struct sync_ctx s = { 0, 0, 0 };
	struct drainer d = { .stop = false, .taken = 0 };
	struct iothread *t;
	pthread_t tid;

	(void)state;
	/* A sync that waited for a kick the drainer took would hang: end
	 * the test binary (SIGALRM) rather than the whole run. */
	alarm(60);
	assert_int_equal(iothread_start(&t, "test-sync", sync_serve, &s, NULL),
			 0);
	d.fd = iothread_kick_fd(t);
	assert_int_equal(pthread_create(&tid, NULL, drain_kicks, &d), 0);
	for (unsigned int i = 0; i < 20; i++)
		iothread_sync(t);
	__atomic_store_n(&d.stop, true, __ATOMIC_SEQ_CST);
	pthread_join(tid, NULL);
	assert_int_equal(d.taken, 0);
	iothread_stop(t);
	alarm(0);
}

/* Many call sites together stay under the global budget. */
static void test_log_ratelimit_global(void **state)
{
	static struct log_ratelimit sites[40];
	unsigned long supp = log_suppressed();
	enum log_level old = log_get_level();

	(void)state;
	log_set_level(LOG_ERR);
	for (int round = 0; round < 10; round++)
		for (int i = 0; i < 40; i++)
			rivet_log_rl(&sites[i], LOG_WARN, "site %d", i);
	/* 400 messages from 40 sites: 10 per site would allow all of them,
	 * the global budget (50 a second, two windows at most) does not. */
	assert_true(log_suppressed() - supp >= 400 - 2 * 50);
	log_set_level(old);
}

static void test_log_ratelimit(void **state)
{
	unsigned long before = log_count();
	unsigned long supp = log_suppressed();
	enum log_level old = log_get_level();

	(void)state;
	log_set_level(LOG_ERR);	/* keep the test output quiet */
	for (int i = 0; i < 1000; i++)
		log_guest("flood %d", i);
	/* Every call is counted; all but a burst per second are suppressed
	 * (the loop takes far less than a second; allow one window turn). */
	assert_int_equal(log_count(), before + 1000);
	assert_true(log_suppressed() - supp >= 1000 - 2 * LOG_RL_BURST);
	log_set_level(old);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gmem_ranges),
		cmocka_unit_test(test_gmem_pages),
		cmocka_unit_test(test_uring),
		cmocka_unit_test(test_bus_insert),
		cmocka_unit_test(test_bus_access),
		cmocka_unit_test(test_log_ratelimit),
		cmocka_unit_test(test_iothread_sync),
		cmocka_unit_test(test_iothread_sync_irqfd),
		cmocka_unit_test(test_log_ratelimit_global),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
