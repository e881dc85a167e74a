// SPDX-License-Identifier: MIT
/*
 * adversary: a hostile guest program for rivet's whole-VM test
 * (tests/guest/tests/adversary, e2e case microvm-adversary).
 *
 *   adversary [-t SECONDS] [-s SEED] [-q] [-u] [-U MASK] [-x KIND+...]
 *
 * Runs as root inside a rivet microvm guest booted with iomem=relaxed (the
 * Debian kernel has CONFIG_IO_STRICT_DEVMEM=y, which refuses /dev/mem
 * mappings of regions a driver claimed: the UART, the APLIC) and with every
 * virtio-mmio platform device unbound from its driver (done by the test
 * script), so the kernel does not drive the devices attacked here.
 *
 * For SECONDS (default 20), two threads (one per vCPU) with PRNGs seeded
 * from SEED (printed; default from the clock):
 *  - read and write, with widths 1, 2, 4 and 8, at aligned offsets and just
 *    past each window's end (with -u also unaligned and straddling the end:
 *    see "unaligned" below for why not by default): every virtio-mmio slot
 *    (0x10001000 + N * 0x1000, N = 0..15, empty ones included), the 16550A,
 *    the APLIC and the IMSIC files (KVM's), and unmapped gaps between and
 *    around them (below the APLIC, after the UART, after slot 15, below the
 *    IMSIC, after the IMSIC files, above RAM, at 4 GiB, at 2^41);
 *  - drive every virtio device found through malformed states: feature
 *    negotiation abuse, queue sizes 0 / not a power of two / huge, ring
 *    addresses outside RAM, straddling its end or wrapping, descriptor
 *    chains that loop, are zero-length, index out of range, hold indirect
 *    tables in indirect tables, readable-after-writable, oversized, avail
 *    idx racing far ahead, notifies of nonexistent queues, notifies before
 *    DRIVER_OK, queue disable and reset mid-I/O (the other thread keeps
 *    notifying), random config space accesses, random descriptor rewrites
 *    racing the device;
 *  - every ~second both threads stop and a single-threaded probe checks
 *    each device still behaves: a correct virtio-blk write + read back +
 *    GET_ID, a virtio-rng read, and the expected refusals (un-offered
 *    features, rings outside RAM, a looping chain -> NEEDS_RESET).
 *    A failed expectation is an ANOMALY line.
 * At the end every virtio device is reset, a correct write puts the marker
 * "RIVET-ADVERSARY-MARK" at sector 0 of each virtio-blk disk (the test reads
 * it back through the kernel's driver), and the last line is
 *   ADVERSARY DONE ops=N seed=S
 * (exit status 0, or 1 if there were anomalies: the line is printed anyway).
 *
 * Keeping the guest kernel alive.  The rings and buffers live in one 2 MiB
 * hugetlbfs page this program owns (MAP_HUGETLB; hugetlb pages are never
 * migrated or swapped, so its physical address, read once from
 * /proc/self/pagemap, stays valid); the test script reserves it
 * (vm.nr_hugepages).  Everything the device may WRITE (used rings,
 * device-writable descriptors, status bytes) and everything it interprets as
 * descriptors (descriptor tables, indirect tables) is either inside that page
 * or outside guest RAM (below it, above it, straddling its end, wrapping
 * 2^64) -- never in RAM the kernel owns, even while descriptors are rewritten
 * at random.  Device-readable data buffers may point anywhere.  Random
 * writes to the queue address registers are made safe the same way (low
 * words whose address with a zero high word is one of those; any nonzero
 * high word is outside RAM, which must end below 4 GiB).  UART pokes come in
 * short bursts from the main thread with the console drained and echo off,
 * THR writes are newlines, the registers are saved and restored, and a
 * termios change then makes the 8250 driver rewrite its own view of them.
 * APLIC and IMSIC writes avoid what Linux relies on (domaincfg, the MSI
 * address, source 1 = the UART's interrupt, low interrupt identities), and
 * no access runs from a gap into them.
 *
 * Debugging: -x uart+aplic+imsic+gap+virtio+vio leaves out target kinds
 * (vio = the virtio scenarios), -U MASK limits which UART registers bursts
 * write, -u adds misaligned accesses (see below), -q drops the target list.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* ---- the microvm memory map (docs/microvm.md) ---------------------------- */
#define APLIC_BASE	0x0d000000ULL
#define APLIC_SIZE	0x4000ULL
#define UART_BASE	0x10000000ULL
#define VIRTIO_BASE	0x10001000ULL
#define VIRTIO_SLOT	0x1000ULL
#define VIRTIO_SLOTS	16
#define IMSIC_BASE	0x28000000ULL
#define IMSIC_FILE	0x1000ULL
#define PAGE		4096ULL

/* ---- virtio-mmio / virtio-blk ---------------------------------------------- */
#include "../virtio_mmio.h"
#define MAGIC		0x74726976

#define S_ACK		1
#define S_DRIVER	2
#define S_DRIVER_OK	4
#define S_FEATURES_OK	8
#define S_NEEDS_RESET	0x40
#define S_FAILED	0x80

#define F_INDIRECT	28
#define F_VERSION_1	32

#define D_NEXT		1
#define D_WRITE		2
#define D_INDIRECT	4

#define ID_BLK		2
#define ID_RNG		4
#define BLK_T_IN	0
#define BLK_T_OUT	1
#define BLK_T_FLUSH	4
#define BLK_T_GET_ID	8

#define QMAX		256	/* our rings are laid out for up to 256 entries */

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* ---- globals ---------------------------------------------------------------- */
static uint64_t ram_base = 0x80000000ULL, ram_end;
static unsigned int ncpus;
static volatile int stop, paused;
static unsigned long anomalies;
static bool quiet;
/* -u: also misaligned accesses.  Off by default: KVM (arch/riscv/kvm/
 * vcpu_insn.c, kvm_riscv_vcpu_mmio_load/store) refuses a misaligned MMIO
 * access with -EIO from KVM_RUN, which ends the VM (rivet: "KVM_RUN:
 * Input/output error", status 1), so such an access never reaches rivet's
 * device models; it only shows that the guest can end its own VM. */
static bool unaligned;
/* -x KINDS: leave out some targets (a list, any separator, of uart, aplic,
 * imsic, gap, virtio = pokes at the virtio windows, vio = the virtio
 * scenarios). */
static bool no_uart, no_aplic, no_imsic, no_gap, no_virtio, no_vio;
/* -U MASK: the UART registers (bit N = +N) bursts may write (default all). */
static unsigned int uart_wmask = 0xff;

/* The ring pool: one 2 MiB hugetlb page, physically contiguous. */
#define POOL_SIZE	(2ULL << 20)
static uint8_t *pool;
static uint64_t pool_pa;
/* Per device: DEV_PAGES pages at pool + dev_index * DEV_PAGES * PAGE. */
#define DEV_PAGES	64
#define P_DESC		0	/* descriptor table (we write only safe entries) */
#define P_AVAIL		1
#define P_USED		2
#define P_IND		3	/* 4 pages of indirect tables */
#define P_HDR		7	/* request headers (device-readable) + status bytes */
#define P_DATA		8	/* data pages: device-writable */
#define NR_DATA		(DEV_PAGES - P_DATA)

struct vdev {
	int slot;
	uint32_t id;
	volatile uint8_t *regs;
	uint8_t *mem;		/* its DEV_PAGES pages of the pool */
	uint64_t pa;
	uint64_t capacity;	/* virtio-blk, sectors */
	uint32_t qmax;
};
static struct vdev vdevs[VIRTIO_SLOTS];
static unsigned int nr_vdevs;

enum kind { K_VIRTIO, K_VIRTIO_EMPTY, K_UART, K_APLIC, K_IMSIC, K_GAP, K_SKIP };
struct target {
	const char *name;
	enum kind kind;
	volatile uint8_t *p;
	uint64_t pa;
	uint64_t len;		/* the window */
	uint64_t room;		/* mapped bytes from p (>= len: straddling room) */
	struct vdev *vd;
};
#define MAX_TARGETS 48
static struct target targets[MAX_TARGETS];
static unsigned int nr_targets;
static struct target *uart;

/* ---- per thread ---------------------------------------------------------------- */
struct thr {
	int id;
	uint64_t rng;
	unsigned long ops, faults, reads, writes, vio;
	pthread_t tid;
};
static __thread sigjmp_buf fault_jmp;
static __thread volatile int in_access;

static uint64_t rnd(struct thr *t)
{
	/* splitmix64 */
	uint64_t z = (t->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t below(struct thr *t, uint64_t n)
{
	return n ? rnd(t) % n : 0;
}

static bool chance(struct thr *t, unsigned int pct)
{
	return below(t, 100) < pct;
}

/* An "interesting" 64-bit value: edges, small numbers, or random. */
static uint64_t ival(struct thr *t)
{
	static const uint64_t edge[] = {
		0, 1, 2, 3, 4, 7, 8, 15, 16, 63, 64, 127, 128, 255, 256, 257,
		511, 512, 4095, 4096, 0x7fff, 0x8000, 0xffff, 0x10000,
		0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
		0x100000000ULL, 0x7fffffffffffffffULL, 0x8000000000000000ULL,
		0xfffffffffffffffeULL, 0xffffffffffffffffULL,
	};

	switch (below(t, 4)) {
	case 0:
		return edge[below(t, sizeof(edge) / sizeof(edge[0]))];
	case 1:
		return below(t, 256);
	case 2:
		return 1ULL << below(t, 64);
	default:
		return rnd(t);
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static void anomaly(const char *fmt, ...)
{
	va_list ap;

	__atomic_add_fetch(&anomalies, 1, __ATOMIC_RELAXED);
	printf("ADVERSARY ANOMALY: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* ---- single MMIO accesses (one instruction each) ------------------------------ */
static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	if (in_access)
		siglongjmp(fault_jmp, sig);
	signal(sig, SIG_DFL);
	raise(sig);
}

static uint64_t ld(volatile void *p, int w)
{
	uint64_t v;

	switch (w) {
	case 1: __asm__ volatile("lbu %0, 0(%1)" : "=r"(v) : "r"(p) : "memory"); break;
	case 2: __asm__ volatile("lhu %0, 0(%1)" : "=r"(v) : "r"(p) : "memory"); break;
	case 4: __asm__ volatile("lwu %0, 0(%1)" : "=r"(v) : "r"(p) : "memory"); break;
	default: __asm__ volatile("ld %0, 0(%1)" : "=r"(v) : "r"(p) : "memory"); break;
	}
	return v;
}

static void st(volatile void *p, int w, uint64_t v)
{
	switch (w) {
	case 1: __asm__ volatile("sb %0, 0(%1)" : : "r"(v), "r"(p) : "memory"); break;
	case 2: __asm__ volatile("sh %0, 0(%1)" : : "r"(v), "r"(p) : "memory"); break;
	case 4: __asm__ volatile("sw %0, 0(%1)" : : "r"(v), "r"(p) : "memory"); break;
	default: __asm__ volatile("sd %0, 0(%1)" : : "r"(v), "r"(p) : "memory"); break;
	}
}

/* An access that may fault (SIGBUS/SIGSEGV): counted, never fatal. */
static bool guarded(struct thr *t, volatile void *p, int w, bool write,
		    uint64_t v, uint64_t *out)
{
	t->ops++;
	if (sigsetjmp(fault_jmp, 1)) {
		in_access = 0;
		t->faults++;
		return false;
	}
	in_access = 1;
	if (write) {
		st(p, w, v);
		t->writes++;
	} else {
		uint64_t r = ld(p, w);

		if (out)
			*out = r;
		t->reads++;
	}
	in_access = 0;
	return true;
}

static uint32_t r32(volatile uint8_t *base, uint64_t off)
{
	return (uint32_t)ld(base + off, 4);
}

static void w32(volatile uint8_t *base, uint64_t off, uint32_t v)
{
	st(base + off, 4, v);
}

/* ---- safe addresses --------------------------------------------------------------- */
static uint64_t dpa(const struct vdev *d, unsigned int page, uint64_t off)
{
	return d->pa + page * PAGE + off;
}

/* An address range the device may write or read as descriptors, of length
 * about @len: in our page @page (within it) or outside guest RAM. */
static uint64_t safe_addr(struct thr *t, const struct vdev *d,
			  unsigned int page, uint32_t *len)
{
	uint64_t l = *len, off;

	switch (below(t, 10)) {
	case 0:		/* below RAM */
		return below(t, ram_base - PAGE) & ~7ULL;
	case 1:		/* just below RAM, maybe running into it */
		return ram_base - 1 - below(t, 64);
	case 2: {	/* straddling the end of RAM (always: len > room) */
		uint64_t k = below(t, 64);

		if (l < k + 2)
			*len = (uint32_t)(k + 2 + below(t, 64));
		return ram_end - 1 - k;
	}
	case 3:		/* above RAM */
		return ram_end + below(t, 1ULL << 32);
	case 4:		/* wrapping 2^64 */
		if (l < 2)
			*len = (uint32_t)(l = 2 + below(t, 0x10000));
		return 0 - 1 - below(t, l - 1);
	default:	/* ours, kept within the page */
		if (l > PAGE)
			*len = (uint32_t)(l = PAGE);
		off = below(t, PAGE - l + 1);
		return dpa(d, page, off);
	}
}

/* A high word for a queue address register: 0 (the low word decides) or
 * far above RAM. */
static uint32_t safe_hi(struct thr *t)
{
	return chance(t, 50) ? 0 : (uint32_t)(0x100 | rnd(t));
}

/* A low word for a queue address register.  RAM lies below 4 GiB (checked
 * at start), so any nonzero high word puts the ring outside RAM, and every
 * low word written is one that is safe with a zero high word: below RAM,
 * above it, straddling its end (for every ring: 16, 6 and 12 bytes at least),
 * or the start of our own page for that ring (+1..15: misaligned). */
static uint32_t safe_lo(struct thr *t, const struct vdev *d, unsigned int page)
{
	switch (below(t, 8)) {
	case 0:
		return (uint32_t)(rnd(t) % ram_base);
	case 1:
		return (uint32_t)(ram_end + below(t, 0x100000000ULL - ram_end));
	case 2:
		return (uint32_t)(ram_end - 1 - below(t, 4));
	case 3:
		return 0xfffffff0U + (uint32_t)below(t, 16);
	default:
		return (uint32_t)dpa(d, page, chance(t, 80) ? 0 : 1 + below(t, 15));
	}
}

/* ---- virtio helpers --------------------------------------------------------------- */
static struct desc *dtab(const struct vdev *d)
{
	return (struct desc *)(d->mem + P_DESC * PAGE);
}

static uint16_t *avail_idx(const struct vdev *d)
{
	return (uint16_t *)(d->mem + P_AVAIL * PAGE + 2);
}

static uint16_t *avail_ring(const struct vdev *d)
{
	return (uint16_t *)(d->mem + P_AVAIL * PAGE + 4);
}

static volatile uint16_t *used_idx(const struct vdev *d)
{
	return (volatile uint16_t *)(d->mem + P_USED * PAGE + 2);
}

static void set_desc(struct desc *x, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	struct desc n = { addr, len, flags, next };

	__atomic_store_n(&x->addr, n.addr, __ATOMIC_RELAXED);
	__atomic_store_n(&x->len, n.len, __ATOMIC_RELAXED);
	__atomic_store_n(&x->flags, n.flags, __ATOMIC_RELAXED);
	__atomic_store_n(&x->next, n.next, __ATOMIC_RELAXED);
}

/* A random descriptor that keeps the guest alive (see the header). */
static void rand_desc(struct thr *t, const struct vdev *d, struct desc *x,
		      bool allow_indirect)
{
	uint16_t flags = (uint16_t)(rnd(t) & (D_NEXT | D_WRITE |
					      (allow_indirect ? D_INDIRECT : 0)));
	uint32_t len = (uint32_t)(chance(t, 30) ? ival(t) : below(t, 4097));
	uint16_t next = (uint16_t)(chance(t, 80) ? below(t, 16) : ival(t));
	uint64_t addr;

	if (chance(t, 5))
		flags |= (uint16_t)(rnd(t) & 0xfff8);	/* unknown flags */
	if (flags & D_INDIRECT) {
		if (!chance(t, 20))
			len &= ~15U;
		addr = safe_addr(t, d, P_IND + (unsigned int)below(t, 4), &len);
	} else if (flags & D_WRITE) {
		addr = safe_addr(t, d, P_DATA + (unsigned int)below(t, NR_DATA), &len);
	} else if (chance(t, 20)) {
		addr = ram_base + below(t, ram_end - ram_base);	/* read anywhere */
	} else {
		addr = safe_addr(t, d, P_DATA + (unsigned int)below(t, NR_DATA), &len);
	}
	set_desc(x, addr, len, flags, next);
}

static void notify(struct vdev *d, uint32_t q)
{
	w32(d->regs, VM_QUEUE_NOTIFY, q);
}

static void publish(struct vdev *d, uint16_t head, uint16_t qsize)
{
	uint16_t i = __atomic_load_n(avail_idx(d), __ATOMIC_RELAXED);

	avail_ring(d)[i % (qsize ? qsize : QMAX)] = head;
	__atomic_store_n(avail_idx(d), (uint16_t)(i + 1), __ATOMIC_RELEASE);
}

/* A queue address register pair write, safe in every intermediate state
 * (and whatever the other thread writes): see safe_lo(). */
static void set_ring(struct thr *t, struct vdev *d, unsigned int area)
{
	static const unsigned int lo[] = { VM_DESC_LO, VM_AVAIL_LO, VM_USED_LO };
	static const unsigned int pg[] = { P_DESC, P_AVAIL, P_USED };
	uint32_t l, h = 0;

	switch (below(t, 8)) {
	case 0:		/* outside RAM, straddling its end, wrapping, misaligned */
		l = safe_lo(t, d, pg[area]);
		if (chance(t, 50))
			h = (uint32_t)ival(t);
		break;
	case 1:		/* used ring on the avail page and vice versa (the
			 * device may write both; descriptors never live there) */
		l = (uint32_t)dpa(d, area == 0 ? P_DESC : area == 1 ? P_USED : P_AVAIL, 0);
		break;
	default:
		l = (uint32_t)dpa(d, pg[area], 0);
		break;
	}
	w32(d->regs, lo[area], l);
	w32(d->regs, lo[area] + 4, h);
}

static uint32_t pick_qsize(struct thr *t, const struct vdev *d)
{
	static const uint32_t weird[] = { 0, 3, 7, 100, 255, 257, 512, 1024,
					  32768, 65535, 65536, 0x80000000,
					  0xffffffff };

	if (chance(t, 30))
		return weird[below(t, sizeof(weird) / sizeof(weird[0]))];
	return chance(t, 50) ? d->qmax : 1U << below(t, 9);
}

/* Build one request chain (blk) or buffer chain (rng) from descriptor
 * @head, with random malformations.  Returns the head. */
static uint16_t build_chain(struct thr *t, struct vdev *d, uint16_t head,
			    uint16_t qsize)
{
	struct desc *tab = dtab(d);
	unsigned int n = 1 + (unsigned int)below(t, 5), i;
	uint16_t mod = qsize && qsize <= QMAX ? qsize : QMAX;
	uint16_t idx[8] = { 0 };
	uint8_t *hdr;
	unsigned int hoff;
	bool use_ind = chance(t, 15);
	struct desc *ind = (struct desc *)(d->mem + (P_IND + below(t, 4)) * PAGE);
	struct desc *out = use_ind ? ind : tab;
	unsigned int cap = use_ind ? PAGE / 16 : mod;

	for (i = 0; i < n + 2 && i < 8; i++)
		idx[i] = (uint16_t)((head + i) % cap);
	if (use_ind)
		for (i = 0; i < n + 2 && i < 8; i++)
			idx[i] = (uint16_t)i;
	/* header */
	hoff = (unsigned int)below(t, 32) * 16;
	hdr = d->mem + P_HDR * PAGE + hoff;
	if (d->id == ID_BLK) {
		static const uint32_t types[] = { BLK_T_IN, BLK_T_OUT,
						  BLK_T_FLUSH, BLK_T_GET_ID };
		uint32_t type = chance(t, 90) ? types[below(t, 4)] : (uint32_t)ival(t);
		uint64_t sector = chance(t, 80) ? below(t, d->capacity + 1) :
						  ival(t);

		memcpy(hdr, &type, 4);
		memset(hdr + 4, 0, 4);
		memcpy(hdr + 8, &sector, 8);
		set_desc(&out[idx[0]], dpa(d, P_HDR, hoff),
			 chance(t, 90) ? 16 : (uint32_t)below(t, 32),
			 D_NEXT, idx[1]);
		bool in = type != BLK_T_OUT;

		for (i = 1; i <= n; i++) {
			uint32_t len = chance(t, 70) ? 512 * (1 + below(t, 8)) :
						       (uint32_t)below(t, 4097);
			unsigned int pg = P_DATA + (unsigned int)below(t, NR_DATA);
			uint16_t fl = D_NEXT | (in ? D_WRITE : 0);

			if (len > PAGE)
				len = PAGE;
			if (chance(t, 5))
				len = 0;
			set_desc(&out[idx[i]], dpa(d, pg, PAGE - len), len, fl,
				 idx[i + 1]);
		}
		/* status byte */
		set_desc(&out[idx[n + 1]], dpa(d, P_HDR, 2048 + below(t, 2048)),
			 chance(t, 95) ? 1 : (uint32_t)below(t, 3), D_WRITE,
			 0);
	} else {
		for (i = 0; i <= n + 1; i++) {
			uint32_t len = 1 + (uint32_t)below(t, PAGE);
			unsigned int pg = P_DATA + (unsigned int)below(t, NR_DATA);

			set_desc(&out[idx[i]], dpa(d, pg, PAGE - len), len,
				 D_WRITE | (i <= n ? D_NEXT : 0), idx[i + 1]);
		}
	}
	/* malformations */
	switch (below(t, 12)) {
	case 0:		/* loop back to the head */
		out[idx[n + 1]].flags |= D_NEXT;
		out[idx[n + 1]].next = idx[0];
		break;
	case 1:		/* next out of range */
		out[idx[n]].next = (uint16_t)(mod + below(t, 0x10000 - mod));
		break;
	case 2:		/* a random (safe) descriptor somewhere in the chain */
		rand_desc(t, d, &out[idx[below(t, n + 2)]], true);
		break;
	case 3:		/* zero-length everywhere */
		for (i = 0; i <= n + 1; i++)
			out[idx[i]].len = 0;
		break;
	case 4:		/* readable after writable */
		out[idx[n + 1]].flags |= D_NEXT;
		out[idx[n + 1]].next = idx[0];
		out[idx[0]].flags &= (uint16_t)~D_NEXT;
		break;
	default:
		break;
	}
	if (!use_ind)
		return idx[0];
	/* the chain lives in an indirect table: point a ring descriptor at it,
	 * sometimes through a nested indirect one or with NEXT set */
	{
		uint32_t len = (n + 2) * 16;
		uint64_t ipa = dpa(d, (unsigned int)(((uint8_t *)ind - d->mem) / PAGE), 0);
		uint16_t fl = D_INDIRECT;

		switch (below(t, 6)) {
		case 0:	/* indirect in indirect */
			set_desc(&ind[PAGE / 16 - 1], ipa, len, D_INDIRECT, 0);
			ipa += PAGE - 16;
			len = 16;
			break;
		case 1:
			fl |= D_NEXT;
			break;
		case 2:
			len = (uint32_t)below(t, PAGE);	/* not a multiple of 16 */
			break;
		case 3:
			len = 0;
			break;
		default:
			break;
		}
		set_desc(&tab[head % mod], ipa, len, fl, (uint16_t)((head + 1) % mod));
		return (uint16_t)(head % mod);
	}
}

/* ---- the chaos: one random operation on a virtio device ------------------------------ */
static void virtio_op(struct thr *t, struct vdev *d)
{
	volatile uint8_t *r = d->regs;
	static const uint32_t qidx[] = { 0, 1, 2, 63, 64, 0xffff, 0xffffffff };
	uint16_t qsize;
	unsigned int k = (unsigned int)below(t, 20);

	t->vio++;
	t->ops++;
	switch (k) {
	case 0:		/* reset (also mid-I/O: the other thread may be notifying) */
		w32(r, VM_STATUS, 0);
		break;
	case 1: {	/* a proper handshake, sometimes with abused features */
		uint32_t f0, f1;

		w32(r, VM_STATUS, 0);
		w32(r, VM_STATUS, S_ACK);
		w32(r, VM_STATUS, S_ACK | S_DRIVER);
		w32(r, VM_DEV_FEAT_SEL, 0);
		f0 = r32(r, VM_DEV_FEAT);
		w32(r, VM_DEV_FEAT_SEL, 1);
		f1 = r32(r, VM_DEV_FEAT);
		if (chance(t, 25)) {
			w32(r, VM_DRV_FEAT_SEL, (uint32_t)ival(t));
			w32(r, VM_DRV_FEAT, (uint32_t)ival(t));
		}
		w32(r, VM_DRV_FEAT_SEL, 0);
		w32(r, VM_DRV_FEAT, chance(t, 90) ? f0 & (uint32_t)rnd(t) : (uint32_t)ival(t));
		w32(r, VM_DRV_FEAT_SEL, 1);
		w32(r, VM_DRV_FEAT, chance(t, 90) ? f1 : (uint32_t)ival(t));
		w32(r, VM_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
		if (chance(t, 20)) {	/* change after FEATURES_OK */
			w32(r, VM_DRV_FEAT_SEL, 0);
			w32(r, VM_DRV_FEAT, 0xffffffff);
		}
		break;
	}
	case 2: {	/* queue set-up: sizes, ring addresses */
		w32(r, VM_QUEUE_SEL, chance(t, 85) ? 0 : qidx[below(t, 7)]);
		w32(r, VM_QUEUE_NUM, pick_qsize(t, d));
		for (unsigned int a = 0; a < 3; a++)
			set_ring(t, d, a);
		if (chance(t, 30))
			__atomic_store_n(avail_idx(d), (uint16_t)rnd(t), __ATOMIC_RELAXED);
		w32(r, VM_QUEUE_READY, chance(t, 90) ? 1 : (uint32_t)ival(t));
		break;
	}
	case 3:		/* DRIVER_OK (valid or not) */
		w32(r, VM_STATUS, r32(r, VM_STATUS) | S_DRIVER_OK);
		break;
	case 4: case 5: case 6: case 7: {	/* requests */
		unsigned int n = 1 + (unsigned int)below(t, 4);

		qsize = (uint16_t)(1U << below(t, 9));
		for (unsigned int i = 0; i < n; i++)
			publish(d, build_chain(t, d, (uint16_t)below(t, qsize), qsize), qsize);
		notify(d, 0);
		break;
	}
	case 8:		/* avail idx racing ahead */
		__atomic_add_fetch(avail_idx(d), (uint16_t)(1 + below(t, 0xffff)), __ATOMIC_RELEASE);
		notify(d, 0);
		break;
	case 9:		/* notify nonexistent / odd queues */
		notify(d, qidx[below(t, 7)]);
		break;
	case 10:	/* disable the queue mid-I/O, move it, notify */
		w32(r, VM_QUEUE_SEL, 0);
		w32(r, VM_QUEUE_READY, 0);
		set_ring(t, d, (unsigned int)below(t, 3));
		notify(d, 0);
		if (chance(t, 50))
			w32(r, VM_QUEUE_READY, 1);
		break;
	case 11:	/* odd status values */
		w32(r, VM_STATUS, (uint32_t)ival(t) & ~0ULL);
		break;
	case 12:	/* status bits cleared without reset, FAILED */
		w32(r, VM_STATUS, r32(r, VM_STATUS) & ~(uint32_t)below(t, 16));
		w32(r, VM_STATUS, r32(r, VM_STATUS) | (chance(t, 50) ? S_FAILED : S_NEEDS_RESET));
		break;
	case 13: {	/* config space, every width and offset */
		static const int ws[] = { 1, 2, 4, 8 };
		int w = ws[below(t, 4)];
		uint64_t off = VM_CONFIG + below(t, VIRTIO_SLOT - VM_CONFIG - 8 + 1);

		if (!unaligned)
			off &= ~(uint64_t)(w - 1);

		guarded(t, r + off, w, chance(t, 40), ival(t), NULL);
		break;
	}
	case 14:	/* interrupt status / ack */
		w32(r, VM_INT_ACK, r32(r, VM_INT_STATUS) | (uint32_t)ival(t));
		break;
	case 15: case 16:	/* rewrite descriptors racing the device */
		for (unsigned int i = 0; i < 8; i++)
			rand_desc(t, d, &dtab(d)[below(t, QMAX)], true);
		for (unsigned int i = 0; i < 4; i++)
			rand_desc(t, d, &((struct desc *)(d->mem + P_IND * PAGE))[below(t, 4 * PAGE / 16)], true);
		publish(d, (uint16_t)below(t, QMAX), QMAX);
		notify(d, 0);
		break;
	case 17:	/* feature select abuse */
		w32(r, VM_DEV_FEAT_SEL, (uint32_t)ival(t));
		(void)r32(r, VM_DEV_FEAT);
		w32(r, VM_DRV_FEAT_SEL, (uint32_t)ival(t));
		w32(r, VM_DRV_FEAT, (uint32_t)ival(t));
		break;
	case 18:	/* a long chain of zero-length descriptors (> queue size) */
		for (unsigned int i = 0; i < QMAX; i++)
			set_desc(&dtab(d)[i], dpa(d, P_DATA, 0), 0,
				 D_NEXT | (chance(t, 50) ? D_WRITE : 0),
				 (uint16_t)((i + 1) % QMAX));
		publish(d, 0, QMAX);
		notify(d, 0);
		break;
	default:	/* read every register */
		for (unsigned int off = 0; off < VM_CONFIG; off += 4)
			(void)r32(r, off);
		t->ops += VM_CONFIG / 4;
		break;
	}
}

/* ---- random pokes at a window ------------------------------------------------------- */
static const int widths[] = { 1, 2, 4, 8 };

/* An offset in @tg for a @w-byte access: aligned, just past the window's
 * end (when the mapping has room after it), and with -u unaligned and
 * straddling the end. */
static uint64_t pick_off(struct thr *t, const struct target *tg, int w)
{
	uint64_t lim = tg->room - (uint64_t)w, off;

	switch (below(t, 8)) {
	case 0:		/* unaligned */
		off = below(t, tg->len);
		if (unaligned)
			off |= 1 + below(t, 7);
		else
			off &= ~(uint64_t)(w - 1);
		break;
	case 1:		/* straddling / past the end */
		if (unaligned && chance(t, 70))
			off = tg->len - 1 - below(t, 8);
		else
			off = (tg->len + below(t, 16)) & ~(uint64_t)(w - 1);
		break;
	case 2:		/* low registers (where the interesting ones are) */
		off = below(t, 0x100) & ~(uint64_t)(w - 1);
		break;
	default:	/* aligned anywhere */
		off = below(t, tg->len) & ~(uint64_t)(w - 1);
		break;
	}
	return off > lim ? lim : off;
}

/* The value for a write at @off in a real virtio window: safe for the
 * queue address registers (see the header), else anything. */
static uint64_t virtio_value(struct thr *t, const struct target *tg,
			     uint64_t off, int w)
{
	uint64_t end = off + (uint64_t)w;

	if (end <= VM_DESC_LO || off >= VM_USED_HI + 4)
		return ival(t);
	if (w == 4 && !(off & 3))
		return (off & 4) ? safe_hi(t) :
		       safe_lo(t, tg->vd, off == VM_DESC_LO ? P_DESC :
				  off == VM_AVAIL_LO ? P_AVAIL : P_USED);
	return 0;
}

/* APLIC writes Linux can live with: sourcecfg/target of sources >= 4,
 * pending/enable by number for sources >= 4, genmsi with high identities,
 * and anything of a width or alignment KVM does not take (those reach
 * rivet as MMIO exits). */
static bool aplic_write(struct thr *t, uint64_t *off, int w, uint64_t *v)
{
	uint32_t src = 4 + (uint32_t)below(t, 28);

	if (w != 4 || (*off & 3))
		return true;
	switch (below(t, 7)) {
	case 0: *off = 0x0004 + 4 * (src - 1); break;	/* sourcecfg */
	case 1: *off = 0x3004 + 4 * (src - 1);		/* target: high EIIDs */
		*v = (*v & 0xfffff800ULL) | (200 + below(t, 55));
		break;
	case 2: *off = 0x1cdc; *v = src; break;		/* setipnum */
	case 3: *off = 0x1ddc; *v = src; break;		/* clripnum */
	case 4: *off = 0x1edc; *v = src; break;		/* setienum */
	case 5: *off = 0x1fdc; *v = src; break;		/* clrienum */
	default: *off = 0x3000;				/* genmsi: high EIIDs */
		*v = (*v & 0xfffff000ULL) | (200 + below(t, 55));
		break;
	}
	return true;
}

static void poke(struct thr *t, struct target *tg)
{
	int w = widths[below(t, 4)];
	uint64_t off = pick_off(t, tg, w), v = ival(t);
	bool write = chance(t, 50);

	if (tg->kind == K_SKIP)
		return;
	switch (tg->kind) {
	case K_VIRTIO:
		if (write)
			v = virtio_value(t, tg, off, w);
		break;
	case K_APLIC:
		if (write && !aplic_write(t, &off, w, &v))
			return;
		break;
	case K_IMSIC:
		/* seteipnum with identities Linux does not allocate early;
		 * other offsets are reserved */
		if (write && w == 4 && !(off & 3) && (off & 0xfff) < 8)
			v = 64 + below(t, 192);
		break;
	case K_UART:
		if (write && off < 8 && !(uart_wmask & (1U << off)))
			return;
		if (write && off == 0)
			v = '\n';
		break;
	default:
		break;
	}
	guarded(t, tg->p + off, w, write, v, NULL);
}

/* ---- the UART, saved and restored ---------------------------------------------------- */
struct uart_state { uint8_t lcr, dll, dlm, ier, mcr, scr, fifo; };

static void uart_save(struct uart_state *s)
{
	volatile uint8_t *u = uart->p;

	s->lcr = (uint8_t)ld(u + 3, 1);
	st(u + 3, 1, s->lcr | 0x80);
	s->dll = (uint8_t)ld(u + 0, 1);
	s->dlm = (uint8_t)ld(u + 1, 1);
	st(u + 3, 1, s->lcr & 0x7f);
	s->ier = (uint8_t)ld(u + 1, 1);
	s->mcr = (uint8_t)ld(u + 4, 1);
	s->scr = (uint8_t)ld(u + 7, 1);
	s->fifo = (uint8_t)ld(u + 2, 1) & 0xc0;
	st(u + 3, 1, s->lcr);
}

static void uart_restore(const struct uart_state *s)
{
	volatile uint8_t *u = uart->p;

	st(u + 3, 1, 0x80);
	st(u + 0, 1, s->dll);
	st(u + 1, 1, s->dlm);
	st(u + 3, 1, s->lcr & 0x7f);
	st(u + 1, 1, s->ier);
	st(u + 4, 1, s->mcr);
	st(u + 7, 1, s->scr);
	st(u + 2, 1, s->fifo ? 0x81 : 0);	/* as Linux's 8250 sets a 16550A */
	st(u + 3, 1, s->lcr);
}

/* A burst of UART pokes, with the console (our stdout) idle: output
 * drained, echo off (in loopback the THR bytes come back as input, whose
 * echo would start a transmission the restore could not know of).  After
 * the registers are restored, a termios change makes Linux's 8250 driver
 * write its own view of them back (serial8250_do_set_termios), so driver
 * and UART agree whatever the burst did. */
static void uart_burst(struct thr *t, unsigned int n)
{
	struct uart_state s;
	struct termios tio, quiet_tio;

	fflush(stdout);
	if (tcgetattr(1, &tio))
		return;		/* not a tty: the console would be at risk */
	quiet_tio = tio;
	quiet_tio.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	tcsetattr(1, TCSANOW, &quiet_tio);
	tcdrain(1);
	uart_save(&s);
	for (unsigned int i = 0; i < n; i++)
		poke(t, uart);
	uart_restore(&s);
	tcflush(0, TCIFLUSH);
	quiet_tio.c_iflag ^= IGNPAR;	/* a change the driver must apply */
	tcsetattr(1, TCSANOW, &quiet_tio);
	tcsetattr(1, TCSANOW, &tio);
}

/* ---- the probe: single-threaded checks that each device still behaves ------------------ */
static bool handshake(struct vdev *d, uint64_t want)
{
	volatile uint8_t *r = d->regs;
	uint64_t f;

	w32(r, VM_STATUS, 0);
	if (r32(r, VM_STATUS) != 0) {
		anomaly("slot %d: status 0x%x after reset", d->slot, r32(r, VM_STATUS));
		return false;
	}
	w32(r, VM_STATUS, S_ACK);
	w32(r, VM_STATUS, S_ACK | S_DRIVER);
	w32(r, VM_DEV_FEAT_SEL, 0);
	f = r32(r, VM_DEV_FEAT);
	w32(r, VM_DEV_FEAT_SEL, 1);
	f |= (uint64_t)r32(r, VM_DEV_FEAT) << 32;
	if (!(f & (1ULL << F_VERSION_1)))
		anomaly("slot %d: VERSION_1 not offered (features 0x%" PRIx64 ")", d->slot, f);
	want &= f;
	w32(r, VM_DRV_FEAT_SEL, 0);
	w32(r, VM_DRV_FEAT, (uint32_t)want);
	w32(r, VM_DRV_FEAT_SEL, 1);
	w32(r, VM_DRV_FEAT, (uint32_t)(want >> 32));
	w32(r, VM_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	if (!(r32(r, VM_STATUS) & S_FEATURES_OK)) {
		anomaly("slot %d: FEATURES_OK refused for offered features 0x%" PRIx64, d->slot, want);
		return false;
	}
	return true;
}

/* Set up queue 0 with @size entries on our pages and start the device. */
static bool queue_up(struct vdev *d, uint32_t size)
{
	volatile uint8_t *r = d->regs;

	memset(d->mem + P_AVAIL * PAGE, 0, PAGE);
	memset(d->mem + P_USED * PAGE, 0, PAGE);
	w32(r, VM_QUEUE_SEL, 0);
	w32(r, VM_QUEUE_NUM, size);
	w32(r, VM_DESC_LO, (uint32_t)dpa(d, P_DESC, 0));
	w32(r, VM_DESC_HI, (uint32_t)(dpa(d, P_DESC, 0) >> 32));
	w32(r, VM_AVAIL_LO, (uint32_t)dpa(d, P_AVAIL, 0));
	w32(r, VM_AVAIL_HI, (uint32_t)(dpa(d, P_AVAIL, 0) >> 32));
	w32(r, VM_USED_LO, (uint32_t)dpa(d, P_USED, 0));
	w32(r, VM_USED_HI, (uint32_t)(dpa(d, P_USED, 0) >> 32));
	w32(r, VM_QUEUE_READY, 1);
	if (r32(r, VM_QUEUE_READY) != 1) {
		anomaly("slot %d: queue 0 (size %u, rings in RAM) not ready", d->slot, size);
		return false;
	}
	w32(r, VM_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	return true;
}

/* Wait up to 2 s, as a polling driver would, for the used index to leave
 * @before (a disk served on I/O threads completes after the notify
 * returns); false if it did not. */
static bool wait_used(struct vdev *d, uint16_t before)
{
	double end = now() + 2.0;

	while (*used_idx(d) == before)
		if (now() > end)
			return false;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return true;
}

/* Wait up to 2 s for the device to flag NEEDS_RESET. */
static bool wait_needs_reset(struct vdev *d)
{
	double end = now() + 2.0;

	while (!(r32(d->regs, VM_STATUS) & S_NEEDS_RESET))
		if (now() > end)
			return false;
	return true;
}

/* One virtio-blk request (hdr | data | status), waited for.  Returns the
 * status byte, or -1 if nothing was used. */
static int blk_req(struct vdev *d, uint32_t type, uint64_t sector,
		   unsigned int data_page, uint32_t len, uint16_t qsize)
{
	struct desc *tab = dtab(d);
	uint8_t *hdr = d->mem + P_HDR * PAGE;
	volatile uint8_t *status = d->mem + P_HDR * PAGE + 2048;
	uint16_t before = *used_idx(d);
	uint16_t h = (uint16_t)(__atomic_load_n(avail_idx(d), __ATOMIC_RELAXED) * 3 % qsize);
	uint16_t i1 = (uint16_t)((h + 1) % qsize), i2 = (uint16_t)((h + 2) % qsize);

	memcpy(hdr, &type, 4);
	memset(hdr + 4, 0, 4);
	memcpy(hdr + 8, &sector, 8);
	*status = 0xee;
	set_desc(&tab[h], dpa(d, P_HDR, 0), 16, D_NEXT, len ? i1 : i2);
	set_desc(&tab[i1], dpa(d, data_page, 0), len,
		 D_NEXT | (type == BLK_T_OUT ? 0 : D_WRITE), i2);
	set_desc(&tab[i2], dpa(d, P_HDR, 2048), 1, D_WRITE, 0);
	publish(d, h, qsize);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	notify(d, 0);
	if (!wait_used(d, before))
		return -1;
	return *status;
}

static void probe_blk(struct thr *t, struct vdev *d)
{
	volatile uint8_t *r = d->regs;
	uint8_t *a = d->mem + P_DATA * PAGE, *b = d->mem + (P_DATA + 1) * PAGE;
	uint64_t sector;
	int s;

	/* un-offered features must be refused */
	w32(r, VM_STATUS, 0);
	w32(r, VM_STATUS, S_ACK | S_DRIVER);
	w32(r, VM_DRV_FEAT_SEL, 1);
	w32(r, VM_DRV_FEAT, 0x80000001);	/* VERSION_1 + bit 63 */
	w32(r, VM_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	if (r32(r, VM_STATUS) & S_FEATURES_OK)
		anomaly("slot %d: FEATURES_OK accepted with feature bit 63", d->slot);
	/* rings outside RAM: not ready, NEEDS_RESET */
	if (handshake(d, 1ULL << F_VERSION_1)) {
		w32(r, VM_QUEUE_SEL, 0);
		w32(r, VM_DESC_LO, (uint32_t)ram_end);
		w32(r, VM_DESC_HI, (uint32_t)(ram_end >> 32));
		w32(r, VM_QUEUE_READY, 1);
		if (r32(r, VM_QUEUE_READY) || !(r32(r, VM_STATUS) & S_NEEDS_RESET))
			anomaly("slot %d: ring at 0x%" PRIx64 " (past RAM) accepted", d->slot, ram_end);
	}
	/* a correct write, read back, GET_ID */
	if (!handshake(d, (1ULL << F_VERSION_1) | (1ULL << F_INDIRECT)) ||
	    !queue_up(d, 128))
		return;
	if (d->capacity < 16) {
		anomaly("slot %d: disk capacity %" PRIu64 " sectors", d->slot, d->capacity);
		return;
	}
	sector = 8 + below(t, d->capacity - 16);
	for (unsigned int i = 0; i < PAGE; i++)
		a[i] = (uint8_t)rnd(t);
	memset(b, 0, PAGE);
	s = blk_req(d, BLK_T_OUT, sector, P_DATA, PAGE, 128);
	if (s != 0)
		anomaly("slot %d: write of sector %" PRIu64 ": status %d", d->slot, sector, s);
	s = blk_req(d, BLK_T_IN, sector, P_DATA + 1, PAGE, 128);
	if (s != 0)
		anomaly("slot %d: read of sector %" PRIu64 ": status %d", d->slot, sector, s);
	else if (memcmp(a, b, PAGE))
		anomaly("slot %d: sector %" PRIu64 " read back differs", d->slot, sector);
	memset(b, 0, 64);
	s = blk_req(d, BLK_T_GET_ID, 0, P_DATA + 1, 20, 128);
	if (s != 0 || memcmp(b, "rivet-", 6))
		anomaly("slot %d: GET_ID status %d id '%.20s'", d->slot, s, (char *)b);
	s = blk_req(d, BLK_T_IN, d->capacity, P_DATA + 1, 512, 128);
	if (s != 1)
		anomaly("slot %d: read past the end: status %d, expected IOERR", d->slot, s);
	/* a looping chain: no completion, NEEDS_RESET */
	{
		uint16_t before = *used_idx(d);

		set_desc(&dtab(d)[5], dpa(d, P_HDR, 0), 16, D_NEXT, 6);
		set_desc(&dtab(d)[6], dpa(d, P_DATA + 2, 0), 512, D_NEXT | D_WRITE, 7);
		set_desc(&dtab(d)[7], dpa(d, P_HDR, 2048), 1, D_NEXT | D_WRITE, 6);
		publish(d, 5, 128);
		notify(d, 0);
		if (!wait_needs_reset(d) || *used_idx(d) != before)
			anomaly("slot %d: looping chain: used %u->%u status 0x%x",
				d->slot, before, *used_idx(d), r32(r, VM_STATUS));
	}
	w32(r, VM_STATUS, 0);
}

static void probe_rng(struct thr *t, struct vdev *d)
{
	uint8_t *a = d->mem + P_DATA * PAGE;
	unsigned int nz = 0;
	uint16_t before;

	(void)t;
	if (!handshake(d, 1ULL << F_VERSION_1) || !queue_up(d, d->qmax < 64 ? d->qmax : 64))
		return;
	memset(a, 0, 256);
	set_desc(&dtab(d)[0], dpa(d, P_DATA, 0), 256, D_WRITE, 0);
	before = *used_idx(d);
	publish(d, 0, d->qmax < 64 ? (uint16_t)d->qmax : 64);
	notify(d, 0);
	if (!wait_used(d, before)) {
		anomaly("slot %d: rng request not completed", d->slot);
	} else {
		for (unsigned int i = 0; i < 256; i++)
			nz += a[i] != 0;
		if (nz < 128)
			anomaly("slot %d: rng gave %u nonzero bytes of 256", d->slot, nz);
	}
	w32(d->regs, VM_STATUS, 0);
}

static void probe(struct thr *t)
{
	for (unsigned int i = 0; i < nr_vdevs; i++) {
		if (vdevs[i].id == ID_BLK)
			probe_blk(t, &vdevs[i]);
		else if (vdevs[i].id == ID_RNG)
			probe_rng(t, &vdevs[i]);
	}
}

/* ---- the threads ---------------------------------------------------------------- */
static void chaos_step(struct thr *t)
{
	unsigned int k = (unsigned int)below(t, 100);

	if (k < 45 && nr_vdevs && !no_vio) {
		virtio_op(t, &vdevs[below(t, nr_vdevs)]);
	} else {
		struct target *tg = &targets[below(t, nr_targets)];

		if (tg->kind == K_UART)
			tg = &targets[1];	/* the UART only in bursts (main thread) */
		poke(t, tg);
	}
}

static struct thr threads[2];

static void *chaos_thread(void *arg)
{
	struct thr *t = arg;

	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		if (__atomic_load_n(&paused, __ATOMIC_ACQUIRE)) {
			__atomic_store_n(&paused, 2, __ATOMIC_RELEASE);
			while (__atomic_load_n(&paused, __ATOMIC_ACQUIRE) == 2 &&
			       !__atomic_load_n(&stop, __ATOMIC_ACQUIRE))
				usleep(1000);
			continue;
		}
		chaos_step(t);
	}
	return NULL;
}

/* ---- set-up ---------------------------------------------------------------------- */
static void find_ram(void)
{
	DIR *dir = opendir("/proc/device-tree");
	struct dirent *e;
	uint8_t reg[16];

	while (dir && (e = readdir(dir))) {
		char path[512];
		FILE *f;

		if (strncmp(e->d_name, "memory@", 7))
			continue;
		snprintf(path, sizeof(path), "/proc/device-tree/%s/reg", e->d_name);
		f = fopen(path, "rb");
		if (f && fread(reg, 1, 16, f) == 16) {
			uint64_t b = 0, s = 0;

			for (int i = 0; i < 8; i++) {
				b = b << 8 | reg[i];
				s = s << 8 | reg[8 + i];
			}
			ram_base = b;
			ram_end = b + s;
		}
		if (f)
			fclose(f);
	}
	if (dir)
		closedir(dir);
	if (ram_end > 0x100000000ULL) {
		/* safe_lo() relies on a nonzero high word leaving RAM */
		fprintf(stderr, "adversary: RAM ends above 4 GiB (0x%" PRIx64 "); use --memory <= 2G\n",
			ram_end);
		exit(2);
	}
	if (!ram_end) {
		fprintf(stderr, "adversary: no memory node in /proc/device-tree\n");
		exit(2);
	}
}

static int memfd = -1;

static volatile uint8_t *map_phys(uint64_t pa, uint64_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, memfd,
		       (off_t)pa);

	if (p == MAP_FAILED) {
		say("adversary: cannot map 0x%" PRIx64 "+0x%" PRIx64 ": %s (skipped)\n",
		    pa, len, strerror(errno));
		return NULL;
	}
	return p;
}

static void add_target(const char *name, enum kind kind, volatile uint8_t *p,
		       uint64_t pa, uint64_t len, uint64_t room)
{
	struct target *tg;

	if (!p || nr_targets >= MAX_TARGETS)
		return;
	if (nr_targets >= 2 &&	/* the UART and its gap stay at 0 and 1 */
	    ((no_aplic && kind == K_APLIC) || (no_imsic && kind == K_IMSIC) ||
	     (no_gap && kind == K_GAP) ||
	     (no_virtio && (kind == K_VIRTIO || kind == K_VIRTIO_EMPTY))))
		kind = K_SKIP;
	tg = &targets[nr_targets++];
	tg->name = name;
	tg->kind = kind;
	tg->p = p;
	tg->pa = pa;
	tg->len = len;
	tg->room = room;
}

static void add_gap(const char *name, uint64_t pa, uint64_t len)
{
	add_target(name, K_GAP, map_phys(pa, len), pa, len, len);
}

static void setup_pool(void)
{
	uint64_t e;
	int fd;

	pool = mmap(NULL, POOL_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE | MAP_LOCKED,
		    -1, 0);
	if (pool == MAP_FAILED) {
		fprintf(stderr, "adversary: no 2 MiB huge page (echo 2 >/proc/sys/vm/nr_hugepages): %s\n",
			strerror(errno));
		exit(2);
	}
	memset(pool, 0, POOL_SIZE);
	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0 || pread(fd, &e, 8, (off_t)((uintptr_t)pool / PAGE * 8)) != 8) {
		fprintf(stderr, "adversary: /proc/self/pagemap: %s\n", strerror(errno));
		exit(2);
	}
	close(fd);
	if (!(e >> 63) || !(e & ((1ULL << 55) - 1))) {
		fprintf(stderr, "adversary: pagemap gives no PFN (not root?)\n");
		exit(2);
	}
	pool_pa = (e & ((1ULL << 55) - 1)) * PAGE;
	if (pool_pa < ram_base || pool_pa + POOL_SIZE > ram_end || (pool_pa & (POOL_SIZE - 1))) {
		fprintf(stderr, "adversary: odd pool address 0x%" PRIx64 "\n", pool_pa);
		exit(2);
	}
}

static void setup_targets(void)
{
	static char names[VIRTIO_SLOTS][24];
	volatile uint8_t *low, *aplic, *imsic;
	uint64_t isz = (ncpus + 1) * IMSIC_FILE;

	memfd = open("/dev/mem", O_RDWR | O_SYNC);
	if (memfd < 0) {
		fprintf(stderr, "adversary: /dev/mem: %s\n", strerror(errno));
		exit(2);
	}
	/* UART page + 16 slots + the page after slot 15, one mapping */
	low = map_phys(UART_BASE, 0x12000);
	if (!low) {
		fprintf(stderr, "adversary: cannot map the UART and virtio windows "
			"(boot with iomem=relaxed)\n");
		exit(2);
	}
	add_target("uart", K_UART, low, UART_BASE, 8, 0x1000);
	uart = &targets[nr_targets - 1];
	add_target("gap-after-uart", K_GAP, low + 0x100, UART_BASE + 0x100, 0xf00, 0xf00);
	for (int n = 0; n < VIRTIO_SLOTS; n++) {
		volatile uint8_t *w = low + 0x1000 + n * VIRTIO_SLOT;
		uint32_t magic = r32(w, VM_MAGIC), id = r32(w, VM_DEVICE_ID);
		bool real = magic == MAGIC && id != 0;

		snprintf(names[n], sizeof(names[n]), "virtio%d%s", n, real ? "" : "-empty");
		add_target(names[n], real ? K_VIRTIO : K_VIRTIO_EMPTY, w,
			   VIRTIO_BASE + n * VIRTIO_SLOT, VIRTIO_SLOT,
			   VIRTIO_SLOT + (n < VIRTIO_SLOTS - 1 ? VIRTIO_SLOT : PAGE));
		if (real && nr_vdevs < VIRTIO_SLOTS) {
			struct vdev *d = &vdevs[nr_vdevs];

			d->slot = n;
			d->id = id;
			d->regs = w;
			d->mem = pool + (uint64_t)nr_vdevs * DEV_PAGES * PAGE;
			d->pa = pool_pa + (uint64_t)nr_vdevs * DEV_PAGES * PAGE;
			w32(w, VM_STATUS, 0);
			w32(w, VM_QUEUE_SEL, 0);
			d->qmax = r32(w, VM_QUEUE_NUM_MAX);
			if (d->qmax > QMAX || !d->qmax)
				d->qmax = QMAX;
			if (id == ID_BLK)
				d->capacity = r32(w, VM_CONFIG) | (uint64_t)r32(w, VM_CONFIG + 4) << 32;
			targets[nr_targets - 1].vd = d;
			say("adversary: slot %d: virtio device %u (queue max %u%s)\n", n, id,
			    d->qmax, id == ID_BLK ? ", a disk" : "");
			nr_vdevs++;
		}
	}
	add_target("gap-after-virtio", K_GAP, low + 0x11000, VIRTIO_BASE + 0x10000, PAGE, PAGE);
	aplic = map_phys(APLIC_BASE - PAGE, APLIC_SIZE + 2 * PAGE);
	if (aplic) {
		/* no room past the end of the gaps below the APLIC and the IMSIC:
		 * random writes there would hit domaincfg, the UART's sourcecfg
		 * or seteipnum with random values; the windows themselves
		 * are poked with their own rules */
		add_target("gap-below-aplic", K_GAP, aplic, APLIC_BASE - PAGE, PAGE, PAGE);
		add_target("aplic", K_APLIC, aplic + PAGE, APLIC_BASE, APLIC_SIZE, APLIC_SIZE + PAGE);
		add_target("gap-after-aplic", K_GAP, aplic + PAGE + APLIC_SIZE,
			   APLIC_BASE + APLIC_SIZE, PAGE, PAGE);
	}
	imsic = map_phys(IMSIC_BASE - PAGE, isz + PAGE);
	if (imsic) {
		add_target("gap-below-imsic", K_GAP, imsic, IMSIC_BASE - PAGE, PAGE, PAGE);
		add_target("imsic", K_IMSIC, imsic + PAGE, IMSIC_BASE, ncpus * IMSIC_FILE,
			   isz);
		add_target("gap-after-imsic", K_GAP, imsic + PAGE + ncpus * IMSIC_FILE,
			   IMSIC_BASE + ncpus * IMSIC_FILE, PAGE, PAGE);
	}
	add_gap("gap-zero", 0, PAGE);
	add_gap("gap-0x20000000", 0x20000000, PAGE);
	add_gap("gap-below-ram", ram_base - PAGE, PAGE);
	add_gap("gap-above-ram", ram_end, PAGE);
	add_gap("gap-4g", 0x100000000ULL, PAGE);
	add_gap("gap-2^41", 1ULL << 41, PAGE);
	say("adversary: %u targets, %u virtio devices, RAM 0x%" PRIx64 "-0x%" PRIx64
	    ", ring pool at 0x%" PRIx64 " (2 MiB hugetlb page)\n",
	    nr_targets, nr_vdevs, ram_base, ram_end, pool_pa);
	for (unsigned int i = 0; i < nr_targets; i++)
		if (!quiet)
			say("adversary:   %-18s 0x%09" PRIx64 " +0x%" PRIx64 "\n", targets[i].name,
			    targets[i].pa, targets[i].len);
}

/* The end: reset every device, leave a marker at sector 0 of each disk. */
static void finish(struct thr *t)
{
	for (int n = 0; n < VIRTIO_SLOTS; n++)
		w32(targets[2 + n].p, VM_STATUS, 0);
	for (unsigned int i = 0; i < nr_vdevs; i++) {
		struct vdev *d = &vdevs[i];
		uint8_t *a = d->mem + P_DATA * PAGE;
		int s;

		if (d->id != ID_BLK)
			continue;
		if (!handshake(d, 1ULL << F_VERSION_1) || !queue_up(d, 64))
			continue;
		memset(a, 0, 512);
		snprintf((char *)a, 512, "RIVET-ADVERSARY-MARK\n");
		s = blk_req(d, BLK_T_OUT, 0, P_DATA, 512, 64);
		if (s != 0)
			anomaly("slot %d: final marker write: status %d", d->slot, s);
		s = blk_req(d, BLK_T_FLUSH, 0, P_DATA, 0, 64);
		if (s != 0)
			anomaly("slot %d: flush: status %d", d->slot, s);
		w32(d->regs, VM_STATUS, 0);
	}
	(void)t;
}

int main(int argc, char **argv)
{
	double secs = 20, t0, next_probe, next_report, end;
	uint64_t seed = 0;
	bool have_seed = false;
	struct sigaction sa;
	unsigned long rounds = 0;
	int c;

	while ((c = getopt(argc, argv, "t:s:qux:U:")) != -1) {
		switch (c) {
		case 't': secs = atof(optarg); break;
		case 's': seed = strtoull(optarg, NULL, 0); have_seed = true; break;
		case 'q': quiet = true; break;
		case 'u': unaligned = true; break;
		case 'U': uart_wmask = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'x':
			no_uart |= strstr(optarg, "uart") != NULL;
			no_aplic |= strstr(optarg, "aplic") != NULL;
			no_imsic |= strstr(optarg, "imsic") != NULL;
			no_gap |= strstr(optarg, "gap") != NULL;
			no_virtio |= strstr(optarg, "virtio") != NULL;
			no_vio |= strstr(optarg, "vio+") != NULL ||
				  strstr(optarg, "+vio") != NULL ||
				  !strcmp(optarg, "vio");
			break;
		default:
			fprintf(stderr, "usage: adversary [-t SECONDS] [-s SEED] [-q] [-u] [-U MASK] [-x uart+aplic+imsic+gap+virtio+vio]\n");
			return 2;
		}
	}
	if (!have_seed) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (uint64_t)ts.tv_sec * 1000003ULL ^ (uint64_t)ts.tv_nsec ^
		       (uint64_t)getpid() << 32;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	say("adversary: seed=%" PRIu64 " time=%.0fs%s\n", seed, secs,
	    unaligned ? " (with misaligned accesses)" : "");
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	signal(SIGINT, SIG_IGN);	/* looped-back UART bytes are console input */
	signal(SIGQUIT, SIG_IGN);
	signal(SIGTSTP, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	ncpus = (unsigned int)sysconf(_SC_NPROCESSORS_CONF);
	if (ncpus < 1 || ncpus > 64)
		ncpus = 1;
	find_ram();
	setup_pool();
	setup_targets();

	for (int i = 0; i < 2; i++) {
		threads[i].id = i;
		threads[i].rng = seed ^ (0x51ed270b0000ULL * (uint64_t)(i + 1));
	}
	paused = 0;
	if (pthread_create(&threads[1].tid, NULL, chaos_thread, &threads[1])) {
		fprintf(stderr, "adversary: pthread_create failed\n");
		return 2;
	}
	t0 = now();
	end = t0 + secs;
	next_probe = t0 + 1;
	next_report = t0 + 2;
	for (;;) {
		struct thr *t = &threads[0];
		double tn;

		for (int i = 0; i < 64; i++)
			chaos_step(t);
		if (chance(t, 3) && !no_uart)
			uart_burst(t, 1 + (unsigned int)below(t, 16));
		tn = now();
		if (tn >= next_probe || tn >= end) {
			/* stop the other thread, check every device alone */
			__atomic_store_n(&paused, 1, __ATOMIC_RELEASE);
			while (__atomic_load_n(&paused, __ATOMIC_ACQUIRE) != 2)
				usleep(100);
			probe(t);
			rounds++;
			if (tn >= end)
				break;
			__atomic_store_n(&paused, 0, __ATOMIC_RELEASE);
			next_probe = now() + 1;
		}
		if (tn >= next_report) {
			say("adversary: t=%.0fs ops=%lu (faults %lu, virtio scenarios %lu) anomalies=%lu\n",
			    tn - t0, threads[0].ops + threads[1].ops,
			    threads[0].faults + threads[1].faults,
			    threads[0].vio + threads[1].vio, anomalies);
			next_report = tn + 2;
		}
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_join(threads[1].tid, NULL);
	finish(&threads[0]);
	say("adversary: %lu probe rounds, %lu reads, %lu writes, %lu faults, %lu anomalies in %.1f s\n",
	    rounds, threads[0].reads + threads[1].reads,
	    threads[0].writes + threads[1].writes,
	    threads[0].faults + threads[1].faults, anomalies, now() - t0);
	say("\nADVERSARY DONE ops=%lu seed=%" PRIu64 "\n",
	    threads[0].ops + threads[1].ops, seed);
	return anomalies ? 1 : 0;
}
