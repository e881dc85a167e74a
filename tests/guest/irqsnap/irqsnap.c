// SPDX-License-Identifier: MIT
/* Interrupts in flight across a snapshot (docs/snapshot.md): a bare-metal
 * guest of the microvm board (KVM's AIA or split: an APLIC in MSI mode in
 * front of an IMSIC) that leaves three interrupts in flight and checks,
 * after a restore, that each is delivered exactly once and nothing else
 * fires.  No Linux, so every register is the test's own:
 *
 *  - an IMSIC interrupt pending but masked: identity ID_MASKED set through
 *    the IMSIC's MMIO page with its enable bit clear;
 *  - a level-triggered APLIC source held high: the UART's line, with its
 *    transmit-empty interrupt on, its APLIC source disabled (so pending);
 *  - device completions: virtio-blk reads of 8 MiB, one at a time, each of
 *    which must raise exactly one interrupt (ID_BLK) however many
 *    snapshots come in between; the host snapshots until rivet says one
 *    completed a request in flight (tests/e2e/host/irqsnap.sh);
 *  - a local software interrupt: sip.SSIP set by the guest and enabled in
 *    sie, with traps off (sstatus.SIE clear), so WFI must not wait while
 *    it is pending (KVM's WFI looks only at what it was told is pending,
 *    and a restored sip is not that: docs/snapshot.md).
 *
 * With 't' typed first (irqsnap.sh with SNAP_TIMER, hosts without Sstc),
 * the guest also arms its timer 10 s ahead (traps off, so its interrupt
 * stays pending once it fired) and the host pauses it until the timer has
 * fired during the pause, then snapshots it: after the restore a WFI must
 * end (KVM's WFI sees that interrupt only if KVM raised it again).
 *
 * The host restores the snapshot and types 'g' on the console: the guest
 * stops reading, unmasks ID_MASKED (delivered once), enables the UART's
 * source (once), retriggers it while the line is high (once more: the
 * line's level survived) and after lowering it (nothing), executes WFI
 * with the software interrupt pending (it returns at once; a timer 2 s
 * ahead ends a wait that should not be), and prints
 * RIVET-IRQSNAP PASS or FAIL with the reason, then powers off (SBI SRST).
 * Interrupts are taken by polling the IMSIC (stopei), with traps off. */
#include <stdint.h>

#include "../virtio_mmio.h"

#define UART		0x10000000UL
#define APLIC		0x0d000000UL
#define IMSIC		0x28000000UL
#define VMMIO		0x10001000UL
#define UART_IRQ	1
#define VMMIO_IRQ0	2

/* IMSIC identities. */
#define ID_CHECK	3	/* a plain MSI before the snapshot */
#define ID_MASKED	5
#define ID_BLK		8
#define ID_UART		9

/* AIA CSRs and the IMSIC's indirect registers. */
#define CSR_SISELECT	"0x150"
#define CSR_SIREG	"0x151"
#define CSR_STOPEI	"0x15c"
#define ISEL_EIDELIVERY	0x70
#define ISEL_EITHRESHOLD 0x72
#define ISEL_EIP0	0x80
#define ISEL_EIE0	0xc0

/* APLIC (one S-level domain). */
#define A_DOMAINCFG	0x0000
#define A_SOURCECFG(i)	(0x0004 + 4 * ((i) - 1))
#define A_SETIP0	0x1c00
#define A_SETIPNUM	0x1cdc
#define A_IN_CLRIP0	0x1d00
#define A_SETIENUM	0x1edc
#define A_CLRIENUM	0x1fdc
#define A_TARGET(i)	(0x3004 + 4 * ((i) - 1))
#define SM_LEVEL_HIGH	6

/* Local interrupts: sip/sie bits. */
#define IP_SSIP		(1UL << 1)
#define IP_STIP		(1UL << 5)
#define IP_SEIP		(1UL << 9)


#define QSZ		64
#define NSEG		32
#define SEG		(256 * 1024)	/* 8 MiB a read: mostly in flight */
#define TICKS_PER_S	10000000UL	/* the timebase of rivet's hosts */
/* How long to take interrupts after a step before checking: long enough
 * for a slow, loaded emulated host. */
#define SETTLE_MS	200
#define SETTLE_LONG_MS	500

static inline void w8(uintptr_t a, uint8_t v) { *(volatile uint8_t *)a = v; }
static inline uint8_t r8(uintptr_t a) { return *(volatile uint8_t *)a; }
static inline void w32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline uint32_t r32(uintptr_t a) { return *(volatile uint32_t *)a; }

static inline uint64_t rdtime(void)
{
	uint64_t t;

	__asm__ volatile("rdtime %0" : "=r"(t));
	return t;
}

static unsigned long ireg_read(unsigned long sel)
{
	unsigned long v;

	__asm__ volatile("csrw " CSR_SISELECT ", %1\n\tcsrr %0, " CSR_SIREG
			 : "=r"(v) : "r"(sel));
	return v;
}

static void ireg_set(unsigned long sel, unsigned long bits)
{
	__asm__ volatile("csrw " CSR_SISELECT ", %0\n\tcsrs " CSR_SIREG ", %1"
			 :: "r"(sel), "r"(bits));
}

static void ireg_write(unsigned long sel, unsigned long v)
{
	__asm__ volatile("csrw " CSR_SISELECT ", %0\n\tcsrw " CSR_SIREG ", %1"
			 :: "r"(sel), "r"(v));
}

/* Claim the highest pending and enabled identity (0: none). */
static unsigned int claim(void)
{
	unsigned long v;

	__asm__ volatile("csrrw %0, " CSR_STOPEI ", zero" : "=r"(v));
	return (unsigned int)(v >> 16);
}

static int eip(unsigned int id)
{
	return (ireg_read(ISEL_EIP0 + (id / 64) * 2) >> (id % 64)) & 1;
}

/* ---- console ---- */

static void putc_(char c)
{
	while (!(r8(UART + 5) & 0x20))
		;
	w8(UART, (uint8_t)c);
}

static void puts_(const char *s)
{
	while (*s)
		putc_(*s++);
}

static void putu(unsigned long v)
{
	char b[24];
	int i = 0;

	do
		b[i++] = (char)('0' + v % 10);
	while ((v /= 10) && i < 23);
	while (i)
		putc_(b[--i]);
}

static int getc_nb(void)
{
	return (r8(UART + 5) & 1) ? r8(UART) : -1;
}

static unsigned long sip_read(void)
{
	unsigned long v;

	__asm__ volatile("csrr %0, sip" : "=r"(v));
	return v;
}

/* SBI TIME set_timer: the timer interrupt (sip.STIP) at time @t. */
static void sbi_set_timer(uint64_t t)
{
	register unsigned long a0 __asm__("a0") = t;
	register unsigned long a6 __asm__("a6") = 0;
	register unsigned long a7 __asm__("a7") = 0x54494d45;	/* TIME */

	__asm__ volatile("ecall" : "+r"(a0) : "r"(a6), "r"(a7)
			 : "a1", "memory");
}

static void sbi_shutdown(void)
{
	register unsigned long a0 __asm__("a0") = 0;	/* shutdown */
	register unsigned long a1 __asm__("a1") = 0;	/* no reason */
	register unsigned long a6 __asm__("a6") = 0;
	register unsigned long a7 __asm__("a7") = 0x53525354;	/* SRST */

	__asm__ volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a6), "r"(a7)
			 : "memory");
}

/* ---- what was delivered ---- */

static struct {
	unsigned long check, masked, blk, uart, other;
	unsigned int other_id;
} n;
static uintptr_t blk;		/* the disk's virtio-mmio registers */
static const char *failure;	/* the first one */
static int timer_armed;		/* 't' typed: the timer test */
static unsigned long fail_a, fail_b;

static void fail(const char *why, unsigned long a, unsigned long b)
{
	if (!failure) {
		failure = why;
		fail_a = a;
		fail_b = b;
	}
}

/* Take every interrupt the IMSIC presents now. */
static void poll_irqs(void)
{
	unsigned int id;

	while ((id = claim()) != 0) {
		switch (id) {
		case ID_CHECK:
			n.check++;
			break;
		case ID_MASKED:
			n.masked++;
			break;
		case ID_BLK:
			n.blk++;
			/* Lower the device's line: the next completion is a
			 * new edge, so a new MSI. */
			w32(blk + VM_INT_ACK, r32(blk + VM_INT_STATUS));
			break;
		case ID_UART:
			n.uart++;
			break;
		default:
			n.other++;
			n.other_id = id;
		}
	}
}

/* WFI with the software interrupt pending and enabled (@when): it must
 * return at once.  A timer 2 s ahead ends a wait that should not be; the
 * wait is printed, in ms. */
static void wfi_soft(const char *when)
{
	uint64_t t0;
	unsigned long ms;

	if (!(sip_read() & IP_SSIP))
		fail("the software interrupt is not pending", 0, 0);
	sbi_set_timer(rdtime() + 2 * TICKS_PER_S);
	__asm__ volatile("csrs sie, %0" :: "r"(IP_STIP));
	t0 = rdtime();
	__asm__ volatile("wfi" ::: "memory");
	ms = (unsigned long)((rdtime() - t0) / (TICKS_PER_S / 1000));
	__asm__ volatile("csrc sie, %0" :: "r"(IP_STIP));
	sbi_set_timer(~0ULL);
	puts_("RIVET-IRQSNAP wfi with a software interrupt pending ");
	puts_(when);
	puts_(": ");
	putu(ms);
	puts_(" ms\n");
	if (ms >= 1000)
		fail("WFI waited although a software interrupt was pending (ms)",
		     ms, 0);
}

/* Poll for @ms milliseconds. */
static void settle(unsigned long ms)
{
	uint64_t t0 = rdtime();

	while (rdtime() - t0 < ms * (TICKS_PER_S / 1000))
		poll_irqs();
}

/* ---- virtio-blk, one request at a time ---- */

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static struct desc descs[QSZ] __attribute__((aligned(16)));
static struct {
	uint16_t flags, idx, ring[QSZ], used_event;
} avail __attribute__((aligned(4)));
static struct {
	uint16_t flags;
	volatile uint16_t idx;
	struct {
		uint32_t id, len;
	} ring[QSZ];
	uint16_t avail_event;
} used __attribute__((aligned(4)));
static struct {
	uint32_t type, reserved;
	uint64_t sector;
} hdr;
static volatile uint8_t status;
static uint8_t buf[NSEG * SEG] __attribute__((aligned(4096)));
static uint64_t capacity;	/* sectors */

static void w64pair(uintptr_t lo, uint64_t v)
{
	w32(lo, (uint32_t)v);
	w32(lo + 4, (uint32_t)(v >> 32));
}

/* The first virtio-blk slot; its APLIC source in *@irq. */
static int blk_init(unsigned int *irq)
{
	for (unsigned int s = 0; s < 16; s++) {
		uintptr_t b = VMMIO + s * 0x1000UL;

		if (r32(b + VM_MAGIC) != 0x74726976 || r32(b + VM_VERSION) != 2 ||
		    r32(b + VM_DEVICE_ID) != 2)
			continue;
		blk = b;
		*irq = VMMIO_IRQ0 + s;
		break;
	}
	if (!blk)
		return -1;
	w32(blk + VM_STATUS, 0);
	w32(blk + VM_STATUS, 1 | 2);
	w32(blk + VM_DEV_FEAT_SEL, 1);
	if (!(r32(blk + VM_DEV_FEAT) & 1))	/* VIRTIO_F_VERSION_1 */
		return -1;
	w32(blk + VM_DRV_FEAT_SEL, 1);
	w32(blk + VM_DRV_FEAT, 1);
	w32(blk + VM_DRV_FEAT_SEL, 0);
	w32(blk + VM_DRV_FEAT, 0);
	w32(blk + VM_STATUS, 1 | 2 | 8);
	if (!(r32(blk + VM_STATUS) & 8))
		return -1;
	w32(blk + VM_QUEUE_SEL, 0);
	if (r32(blk + VM_QUEUE_NUM_MAX) < QSZ)
		return -1;
	w32(blk + VM_QUEUE_NUM, QSZ);
	w64pair(blk + VM_DESC_LO, (uintptr_t)descs);
	w64pair(blk + VM_AVAIL_LO, (uintptr_t)&avail);
	w64pair(blk + VM_USED_LO, (uintptr_t)&used);
	w32(blk + VM_QUEUE_READY, 1);
	w32(blk + VM_STATUS, 1 | 2 | 8 | 4);
	capacity = r32(blk + VM_CONFIG) | (uint64_t)r32(blk + VM_CONFIG + 4) << 32;
	return capacity >= NSEG * SEG / 512 ? 0 : -1;
}

/* Request @k (1, 2, ...): read 8 MiB; wait until it is used and its one
 * interrupt came.  0, or -1 (fail() says why). */
static int blk_read(unsigned long k)
{
	uint64_t t0;

	hdr.type = 0;	/* VIRTIO_BLK_T_IN */
	hdr.sector = ((k - 1) * (NSEG * SEG / 512)) % (capacity - NSEG * SEG / 512 + 1);
	status = 0xff;
	descs[0] = (struct desc){ (uintptr_t)&hdr, 16, 1, 1 };
	for (unsigned int i = 0; i < NSEG; i++)
		descs[1 + i] = (struct desc){ (uintptr_t)(buf + i * SEG), SEG,
					      1 | 2, (uint16_t)(2 + i) };
	descs[1 + NSEG] = (struct desc){ (uintptr_t)&status, 1, 2, 0 };
	avail.ring[avail.idx % QSZ] = 0;
	__asm__ volatile("fence rw, rw" ::: "memory");
	avail.idx++;
	__asm__ volatile("fence rw, rw" ::: "memory");
	w32(blk + VM_QUEUE_NOTIFY, 0);
	t0 = rdtime();
	while (used.idx != (uint16_t)k || n.blk != k) {
		poll_irqs();
		if (n.blk > k) {
			fail("virtio-blk: more interrupts than completions", n.blk, k);
			return -1;
		}
		if (rdtime() - t0 > 20 * TICKS_PER_S) {
			fail(used.idx == (uint16_t)k ?
			     "virtio-blk: a completion's interrupt never came" :
			     "virtio-blk: a request never completed", k, n.blk);
			return -1;
		}
	}
	if (status != 0) {
		fail("virtio-blk: request failed", k, status);
		return -1;
	}
	return 0;
}

/* ---- the test ---- */

static void report(void)
{
	if (failure) {
		puts_("RIVET-IRQSNAP FAIL ");
		puts_(failure);
		puts_(" (");
		putu(fail_a);
		puts_(", ");
		putu(fail_b);
		puts_(")\n");
	} else {
		puts_("RIVET-IRQSNAP PASS\n");
	}
}

static uint32_t aplic_bit(uintptr_t word0, unsigned int src)
{
	return (r32(APLIC + word0 + 4 * (src / 32)) >> (src % 32)) & 1;
}

void main(unsigned long hartid)
{
	const uintptr_t file = IMSIC + hartid * 0x1000;
	unsigned int blk_irq = 0;
	unsigned long k;

	puts_("RIVET-IRQSNAP start\n");
	/* The IMSIC: delivery on, no threshold, all but ID_MASKED enabled;
	 * interrupts are polled (sie.SEIE for the pending bit, no traps). */
	ireg_write(ISEL_EIDELIVERY, 1);
	ireg_write(ISEL_EITHRESHOLD, 0);
	ireg_set(ISEL_EIE0, 1UL << ID_CHECK | 1UL << ID_BLK | 1UL << ID_UART);
	__asm__ volatile("csrs sie, %0" :: "r"(IP_SEIP));
	w32(file, ID_CHECK);
	settle(SETTLE_MS);
	if (n.check != 1)
		fail("a plain MSI was not delivered once", n.check, 1);
	/* 1. Pending but masked. */
	w32(file, ID_MASKED);
	settle(SETTLE_MS);
	if (n.masked || !eip(ID_MASKED))
		fail("a masked MSI was not held pending", n.masked, eip(ID_MASKED));
	/* 2. The disk and the UART through the APLIC (MSI mode). */
	if (blk_init(&blk_irq))
		fail("no usable virtio-blk disk", 0, 0);
	w32(APLIC + A_DOMAINCFG, 1u << 8 | 1u << 2);	/* IE, MSI mode */
	w32(APLIC + A_SOURCECFG(blk_irq), SM_LEVEL_HIGH);
	w32(APLIC + A_TARGET(blk_irq), (uint32_t)hartid << 18 | ID_BLK);
	w32(APLIC + A_SETIENUM, blk_irq);
	w32(APLIC + A_SOURCECFG(UART_IRQ), SM_LEVEL_HIGH);
	w32(APLIC + A_TARGET(UART_IRQ), (uint32_t)hartid << 18 | ID_UART);
	w32(APLIC + A_CLRIENUM, UART_IRQ);
	w8(UART + 1, 0x02);	/* IER: transmitter empty, so the line is high */
	settle(SETTLE_MS);
	if (!aplic_bit(A_IN_CLRIP0, UART_IRQ) || !aplic_bit(A_SETIP0, UART_IRQ))
		fail("the UART's line is not high and pending",
		     aplic_bit(A_IN_CLRIP0, UART_IRQ), aplic_bit(A_SETIP0, UART_IRQ));
	/* 3. A software interrupt, pending and enabled (traps stay off). */
	__asm__ volatile("csrs sie, %0\n\tcsrs sip, %0" :: "r"(IP_SSIP));
	wfi_soft("before the snapshot");
	if (failure) {
		report();
		sbi_shutdown();
		return;
	}
	puts_("RIVET-IRQSNAP ready\n");
	/* 4. Reads until the host types 'g' (after the restore). */
	for (k = 1; !blk_read(k); k++) {
		int c = getc_nb();

		if (k % 100 == 0) {
			puts_("RIVET-IRQSNAP reads ");
			putu(k);
			puts_("\n");
		}
		if (c == 'g')
			break;
		if (c == 't' && !timer_armed) {
			sbi_set_timer(rdtime() + 10 * TICKS_PER_S);
			__asm__ volatile("csrs sie, %0" :: "r"(IP_STIP));
			timer_armed = 1;
			puts_("RIVET-IRQSNAP timer armed\n");
		}
	}
	puts_("RIVET-IRQSNAP go after ");
	putu(k);
	puts_(" reads\n");
	settle(SETTLE_LONG_MS);
	if (n.blk != k && !failure)
		fail("virtio-blk: interrupts differ from completions", n.blk, k);
	if (n.check != 1 || n.masked || n.uart)
		fail("an interrupt fired that was not raised (check, masked+uart)",
		     n.check, n.masked + n.uart);
	/* The masked one: still pending, delivered once when unmasked. */
	if (!eip(ID_MASKED))
		fail("the masked MSI is no longer pending", 0, 0);
	ireg_set(ISEL_EIE0, 1UL << ID_MASKED);
	settle(SETTLE_MS);
	if (n.masked != 1 || eip(ID_MASKED))
		fail("the masked MSI was not delivered once when unmasked",
		     n.masked, eip(ID_MASKED));
	/* The UART's source: line still high and pending; enabled, one MSI.
	 * No output from here until its line is low again: a write to the
	 * transmitter would be a new edge. */
	{
		uint32_t high = aplic_bit(A_IN_CLRIP0, UART_IRQ);
		uint32_t pend = aplic_bit(A_SETIP0, UART_IRQ);
		unsigned long first, again;

		w32(APLIC + A_SETIENUM, UART_IRQ);
		settle(SETTLE_MS);
		first = n.uart;
		/* A level source's pending bit can be set again only while
		 * its line is high. */
		w32(APLIC + A_SETIPNUM, UART_IRQ);
		settle(SETTLE_MS);
		again = n.uart;
		w8(UART + 1, 0);
		settle(SETTLE_MS);
		w32(APLIC + A_SETIPNUM, UART_IRQ);
		settle(SETTLE_MS);
		if (!high || !pend)
			fail("after the restore the UART's line was not high and pending",
			     high, pend);
		if (first != 1)
			fail("the held-high UART source was not delivered once",
			     first, 1);
		if (again != 2)
			fail("a retrigger with the line high was not delivered",
			     again, 2);
		if (n.uart != 2 || aplic_bit(A_IN_CLRIP0, UART_IRQ))
			fail("the UART's line did not go low or fired anyway",
			     n.uart, aplic_bit(A_IN_CLRIP0, UART_IRQ));
	}
	if (timer_armed) {
		/* The timer's interrupt, pending since the pause: a WFI ends,
		 * at once or when the timer is due.  The software interrupt
		 * cleared first (its test needs the timer), so that nothing
		 * else can end it (rivet stops kicking once it sees it gone). */
		uint64_t t0;

		__asm__ volatile("csrc sie, %0\n\tcsrc sip, %0" :: "r"(IP_SSIP));
		settle(SETTLE_MS);
		t0 = rdtime();
		__asm__ volatile("wfi" ::: "memory");
		puts_("RIVET-IRQSNAP wfi with the timer's interrupt pending: ");
		putu((unsigned long)((rdtime() - t0) / (TICKS_PER_S / 1000)));
		puts_(" ms\n");
		if (!(sip_read() & IP_STIP))
			fail("a WFI ended, but not for the timer", 0, 0);
		__asm__ volatile("csrc sie, %0" :: "r"(IP_STIP));
		sbi_set_timer(~0ULL);
	} else {
		/* The software interrupt: still pending, so WFI returns at
		 * once. */
		wfi_soft("after the restore");
		__asm__ volatile("csrc sie, %0\n\tcsrc sip, %0" :: "r"(IP_SSIP));
	}
	settle(SETTLE_LONG_MS);
	if (n.other)
		fail("an unexpected identity fired", n.other_id, n.other);
	if (n.blk != k)
		fail("virtio-blk: an interrupt came late", n.blk, k);
	puts_("RIVET-IRQSNAP counts: check ");
	putu(n.check);
	puts_(" masked ");
	putu(n.masked);
	puts_(" uart ");
	putu(n.uart);
	puts_(" blk ");
	putu(n.blk);
	puts_(" other ");
	putu(n.other);
	puts_("\n");
	report();
	sbi_shutdown();
}
