// SPDX-License-Identifier: MIT
/* Tests for the 16550A UART: registers, FIFO, interrupts, what Linux's 8250
 * driver does on start-up, the FDT node and concurrent use. */
#include <errno.h>
#include <libfdt.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/fdt_util.h"
#include "core/log.h"
#include "devices/uart16550.h"
#include "tests/support/fdt.h"

#define BASE 0x10000000ULL
#define SIZE 0x100
#define IRQ 10

enum { RBR, IER, IIR, LCR, MCR, LSR, MSR, SCR };
#define THR RBR
#define FCR IIR
#define DLL RBR
#define DLM IER

struct fake_irq {
	bool level;
	unsigned int calls;
	uint32_t irq;
};

struct capture {
	uint8_t buf[1 << 16];
	size_t n;
	unsigned int rx_ready;
};

struct fixture {
	struct fake_irq irq;
	struct irq_chip chip;
	struct capture cap;
	struct rivet_dev *dev;
};

static int fake_set_level(void *ctx, uint32_t irq, bool level)
{
	struct fake_irq *f = ctx;

	f->irq = irq;
	f->level = level;
	f->calls++;
	return 0;
}

static void cap_tx(void *opaque, uint8_t byte)
{
	struct capture *c = opaque;

	if (c->n < sizeof(c->buf))
		c->buf[c->n] = byte;
	c->n++;
}

static void cap_rx_ready(void *opaque)
{
	struct capture *c = opaque;

	c->rx_ready++;
}

static int setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof(*f));
	struct uart_backend be = { .tx = cap_tx, .rx_ready = cap_rx_ready };

	if (!f)
		return -1;
	f->chip = (struct irq_chip){ .set_level = fake_set_level,
				     .ctx = &f->irq };
	be.opaque = &f->cap;
	if (uart16550_create(BASE, SIZE,
			     (struct irq_line){ .chip = &f->chip, .irq = IRQ },
			     &be, &f->dev))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	f->dev->ops->destroy(f->dev);
	test_free(f);
	return 0;
}

static uint8_t rd(struct rivet_dev *d, uint64_t off)
{
	uint8_t v = 0xee;

	d->ops->mmio_read(d, off, &v, 1);
	return v;
}

static void wr(struct rivet_dev *d, uint64_t off, uint8_t v)
{
	d->ops->mmio_write(d, off, &v, 1);
}

static void push(struct rivet_dev *d, const char *s, size_t expect)
{
	assert_int_equal(uart16550_push_input(d, (const uint8_t *)s,
					      strlen(s)), expect);
}

/* ---- registers ---------------------------------------------------------- */

static void test_reset_values(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;

	assert_string_equal(d->ops->name, "uart16550");
	assert_int_equal(d->base, BASE);
	assert_int_equal(d->size, SIZE);
	assert_int_equal(rd(d, IER), 0);
	assert_int_equal(rd(d, IIR), 0x01);
	assert_int_equal(rd(d, LCR), 0);
	assert_int_equal(rd(d, MCR), 0);
	assert_int_equal(rd(d, LSR), 0x60);
	assert_int_equal(rd(d, MSR), 0xb0);
	assert_int_equal(rd(d, SCR), 0);
	assert_int_equal(rd(d, RBR), 0);	/* empty FIFO */
	wr(d, LCR, 0x80);
	assert_int_not_equal(rd(d, DLL) | rd(d, DLM) << 8, 0);
	assert_false(f->irq.level);
	assert_int_equal(f->irq.calls, 0);
}

static void test_readback(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;

	wr(d, SCR, 0xa5);
	assert_int_equal(rd(d, SCR), 0xa5);
	wr(d, LCR, 0x1b);
	assert_int_equal(rd(d, LCR), 0x1b);
	wr(d, IER, 0xf5);
	assert_int_equal(rd(d, IER), 0x05);	/* bits 4-7 are zero */
	wr(d, MCR, 0xe3);
	assert_int_equal(rd(d, MCR), 0x03);	/* no AFE on a 16550A */
	wr(d, LSR, 0x00);			/* read-only */
	wr(d, MSR, 0x00);
	assert_int_equal(rd(d, LSR), 0x60);
	assert_int_equal(rd(d, MSR), 0xb0);

	/* DLAB switches offsets 0 and 1 to the divisor latch. */
	wr(d, LCR, 0x9b);
	wr(d, DLL, 0x34);
	wr(d, DLM, 0x12);
	assert_int_equal(rd(d, DLL), 0x34);
	assert_int_equal(rd(d, DLM), 0x12);
	assert_int_equal(rd(d, SCR), 0xa5);
	wr(d, LCR, 0x1b);
	assert_int_equal(rd(d, IER), 0x05);
	assert_int_equal(f->cap.n, 0);		/* DLL write sent nothing */
	wr(d, THR, 'x');
	assert_int_equal(f->cap.n, 1);
	wr(d, LCR, 0x9b);
	assert_int_equal(rd(d, DLL), 0x34);	/* THR write kept DLL */
}

static void test_tx_capture(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;
	const char *msg = "hello, rivet\r\n";

	for (const char *p = msg; *p; p++) {
		assert_int_equal(rd(d, LSR) & 0x60, 0x60);
		wr(d, THR, (uint8_t)*p);
	}
	assert_int_equal(f->cap.n, strlen(msg));
	assert_memory_equal(f->cap.buf, msg, strlen(msg));
	assert_int_equal(rd(d, LSR), 0x60);
	assert_false(f->irq.level);	/* ETBEI is off */
}

static void test_null_backend(void **state)
{
	struct rivet_dev *d;

	assert_int_equal(uart16550_create(BASE, 8, (struct irq_line){ 0 },
					  NULL, &d), 0);
	wr(d, THR, 'x');	/* discarded, no crash */
	wr(d, IER, 0x0f);	/* no IRQ chip: nothing to drive */
	assert_int_equal(rd(d, IIR), 0x02);
	d->ops->destroy(d);
}

static void test_create_bad_args(void **state)
{
	struct rivet_dev *d = NULL;

	assert_int_equal(uart16550_create(BASE, 7, (struct irq_line){ 0 },
					  NULL, &d), -EINVAL);
	assert_int_equal(uart16550_create(UINT64_MAX - 3, 8,
					  (struct irq_line){ 0 }, NULL, &d),
			 -EINVAL);
	assert_int_equal(uart16550_create(BASE, 8, (struct irq_line){ 0 },
					  NULL, NULL), -EINVAL);
	assert_null(d);
}

/* ---- FIFO --------------------------------------------------------------- */

static void test_rx_fifo(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;
	const char *in = "0123456789abcdefXYZW";

	/* 16450 mode: one holding register. */
	assert_int_equal(uart16550_rx_space(d), 1);
	push(d, "ab", 1);
	assert_int_equal(uart16550_rx_space(d), 0);
	assert_int_equal(rd(d, LSR), 0x61);
	assert_int_equal(rd(d, RBR), 'a');
	assert_int_equal(rd(d, LSR), 0x60);

	wr(d, FCR, 0x01);
	assert_int_equal(uart16550_rx_space(d), 16);
	push(d, in, 16);	/* host input is never dropped: no OE */
	assert_int_equal(uart16550_rx_space(d), 0);
	push(d, "!", 0);
	assert_int_equal(rd(d, LSR), 0x61);
	for (int i = 0; i < 16; i++)
		assert_int_equal(rd(d, RBR), (uint8_t)in[i]);
	assert_int_equal(rd(d, LSR), 0x60);
	assert_int_equal(rd(d, RBR), 0);
	assert_int_equal(uart16550_push_input(d, NULL, 3), 0);
	assert_int_equal(uart16550_push_input(d, (const uint8_t *)"", 0), 0);
	assert_int_equal(uart16550_rx_space(d), 16);
}

static void test_fcr(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;

	wr(d, FCR, 0x06);		/* ignored without FCR0 */
	assert_int_equal(rd(d, IIR), 0x01);
	wr(d, FCR, 0xc1);
	assert_int_equal(rd(d, IIR), 0xc1);
	push(d, "abc", 3);
	wr(d, FCR, 0xc3);		/* clear RX */
	assert_int_equal(rd(d, LSR), 0x60);
	push(d, "abc", 3);
	wr(d, FCR, 0x00);		/* FIFO off: emptied */
	assert_int_equal(rd(d, LSR), 0x60);
	assert_int_equal(rd(d, IIR), 0x01);
	push(d, "a", 1);
	wr(d, FCR, 0x01);		/* FIFO on: emptied */
	assert_int_equal(rd(d, LSR), 0x60);
	push(d, "ab", 2);
	wr(d, FCR, 0x05);		/* TX clear only: RX kept */
	assert_int_equal(rd(d, LSR), 0x61);
}

static void test_loopback(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;

	wr(d, FCR, 0x01);
	wr(d, MCR, 0x10);
	assert_int_equal(uart16550_rx_space(d), 0);	/* input cut off */
	push(d, "zz", 0);
	wr(d, THR, 'L');
	wr(d, THR, 'B');
	assert_int_equal(f->cap.n, 0);		/* nothing reaches the host */
	assert_int_equal(rd(d, LSR), 0x61);
	assert_int_equal(rd(d, RBR), 'L');
	assert_int_equal(rd(d, RBR), 'B');

	/* 17 bytes into a 16-byte FIFO: overrun, the 17th is lost. */
	for (int i = 0; i < 17; i++)
		wr(d, THR, (uint8_t)('a' + i));
	assert_int_equal(rd(d, LSR), 0x63);
	assert_int_equal(rd(d, LSR), 0x61);	/* OE clears on read */
	for (int i = 0; i < 16; i++)
		assert_int_equal(rd(d, RBR), 'a' + i);
	assert_int_equal(rd(d, LSR), 0x60);

	/* 16450 mode overruns on the second byte and keeps the newest. */
	wr(d, FCR, 0x00);
	wr(d, THR, '1');
	wr(d, THR, '2');
	assert_int_equal(rd(d, LSR), 0x63);
	assert_int_equal(rd(d, RBR), '2');

	wr(d, MCR, 0x00);
	assert_int_equal(uart16550_rx_space(d), 1);
	wr(d, THR, 'o');
	assert_int_equal(f->cap.n, 1);
	assert_int_equal(rd(d, LSR), 0x60);
}

static void test_modem_status(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;

	/* Linux's autoconfig loopback check: OUT2|RTS -> DCD|CTS. */
	wr(d, MCR, 0x10 | 0x0a);
	assert_int_equal(rd(d, MSR) & 0xf0, 0x90);
	wr(d, MCR, 0x10 | 0x05);		/* DTR|OUT1 -> DSR|RI */
	assert_int_equal(rd(d, MSR), 0x60 | 0x0b);
	wr(d, MCR, 0x10 | 0x01);		/* RI falls: TERI */
	assert_int_equal(rd(d, MSR), 0x20 | 0x04);
	assert_int_equal(rd(d, MSR), 0x20);	/* deltas clear on read */
	wr(d, MCR, 0x00);
	assert_int_equal(rd(d, MSR), 0xb0 | 0x01 | 0x08);
	assert_int_equal(rd(d, MSR), 0xb0);
}

static void test_rx_ready(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;

	wr(d, FCR, 0x01);
	push(d, "0123456789abcdef", 16);
	assert_int_equal(f->cap.rx_ready, 0);
	rd(d, RBR);
	assert_int_equal(f->cap.rx_ready, 1);
	rd(d, RBR);
	assert_int_equal(f->cap.rx_ready, 1);	/* only on 0 -> room */
	wr(d, MCR, 0x10);
	wr(d, MCR, 0x00);			/* loopback off: room again */
	assert_int_equal(f->cap.rx_ready, 2);
}

/* ---- interrupts --------------------------------------------------------- */

static void test_irq_rx(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;

	wr(d, IER, 0x01);
	assert_false(f->irq.level);
	push(d, "a", 1);
	assert_true(f->irq.level);
	assert_int_equal(f->irq.irq, IRQ);
	assert_int_equal(rd(d, IIR), 0x04);
	assert_true(f->irq.level);		/* reading IIR does not ack */
	rd(d, RBR);
	assert_false(f->irq.level);
	assert_int_equal(rd(d, IIR), 0x01);

	/* Trigger level 14: below it the timeout source, then RDA. */
	wr(d, FCR, 0xc1);
	push(d, "abc", 3);
	assert_int_equal(rd(d, IIR), 0xcc);
	push(d, "defghijklmn", 11);
	assert_int_equal(rd(d, IIR), 0xc4);
	rd(d, RBR);
	assert_int_equal(rd(d, IIR), 0xcc);
	wr(d, IER, 0x00);
	assert_false(f->irq.level);
	wr(d, IER, 0x01);
	assert_true(f->irq.level);
	wr(d, FCR, 0xc3);
	assert_false(f->irq.level);
}

static void test_irq_thre(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;

	wr(d, IER, 0x02);
	assert_true(f->irq.level);
	assert_int_equal(rd(d, IIR), 0x02);	/* read acks THRE ... */
	assert_false(f->irq.level);
	assert_int_equal(rd(d, IIR), 0x01);
	wr(d, THR, 'a');			/* ... a sent byte re-arms */
	assert_true(f->irq.level);
	wr(d, IER, 0x02);			/* no 0 -> 1 edge: no change */
	assert_true(f->irq.level);
	wr(d, IER, 0x00);
	assert_false(f->irq.level);
	wr(d, IER, 0x02);
	assert_true(f->irq.level);
	wr(d, THR, 'b');
	wr(d, THR, 'c');
	assert_true(f->irq.level);
	assert_int_equal(rd(d, IIR), 0x02);
	assert_false(f->irq.level);
}

static void test_irq_lsr_msr(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;

	wr(d, IER, 0x04);
	wr(d, MCR, 0x10);
	wr(d, THR, 'a');
	assert_false(f->irq.level);
	wr(d, THR, 'b');			/* overrun */
	assert_true(f->irq.level);
	assert_int_equal(rd(d, IIR), 0x06);
	assert_int_equal(rd(d, LSR), 0x63);
	assert_false(f->irq.level);

	/* Leaving loopback changes CTS/DSR/DCD: modem status. */
	wr(d, IER, 0x08);
	wr(d, MCR, 0x00);
	assert_true(f->irq.level);
	assert_int_equal(rd(d, IIR), 0x00);
	assert_true(f->irq.level);
	assert_int_equal(rd(d, MSR), 0xb0 | 0x0b);
	assert_false(f->irq.level);
	assert_int_equal(rd(d, IIR), 0x01);
}

/* Line status > RX data > THR empty > modem status; the line is driven only
 * when its level changes. */
static void test_irq_priority(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;

	wr(d, MCR, 0x10 | 0x02);		/* loopback, RTS: MSR delta */
	wr(d, THR, 'a');
	wr(d, THR, 'b');			/* OE, data, THRE pending */
	assert_int_equal(f->irq.calls, 0);	/* nothing enabled yet */
	wr(d, IER, 0x0f);
	assert_true(f->irq.level);
	assert_int_equal(f->irq.calls, 1);
	assert_int_equal(rd(d, IIR), 0x06);
	assert_int_equal(rd(d, IIR), 0x06);
	assert_int_equal(rd(d, LSR), 0x63);
	assert_int_equal(rd(d, IIR), 0x04);
	assert_int_equal(rd(d, RBR), 'b');
	assert_int_equal(rd(d, IIR), 0x02);
	assert_int_equal(rd(d, IIR), 0x00);
	assert_int_equal(f->irq.calls, 1);	/* high all along */
	assert_int_equal(rd(d, MSR), 0x10 | 0x0a);	/* DSR, DCD fell */
	assert_false(f->irq.level);
	assert_int_equal(f->irq.calls, 2);
	assert_int_equal(rd(d, IIR), 0x01);
	for (int i = 0; i < 10; i++)
		rd(d, LSR);
	assert_int_equal(f->irq.calls, 2);
}

/* ---- guest mistakes ----------------------------------------------------- */

static void test_odd_widths_and_offsets(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;
	static const unsigned int widths[] = { 2, 4, 8 };
	unsigned long n = log_count();
	uint8_t buf[8];

	wr(d, FCR, 0x01);
	push(d, "abcd", 4);
	wr(d, SCR, 0x11);
	for (size_t i = 0; i < 3; i++) {
		memset(buf, 0xff, sizeof(buf));
		d->ops->mmio_read(d, 0, buf, widths[i]);
		for (unsigned int j = 0; j < widths[i]; j++)
			assert_int_equal(buf[j], 0);
		d->ops->mmio_write(d, SCR, buf, widths[i]);
		d->ops->mmio_write(d, THR, buf, widths[i]);
	}
	assert_int_equal(rd(d, SCR), 0x11);
	assert_int_equal(f->cap.n, 0);
	assert_int_equal(rd(d, RBR), 'a');	/* nothing was popped */
	for (uint64_t off = 8; off < SIZE; off += 7) {
		assert_int_equal(rd(d, off), 0);
		wr(d, off, 0xff);
	}
	d->ops->mmio_read(d, SIZE - 1, buf, 1);
	assert_int_equal(buf[0], 0);
	assert_int_equal(rd(d, SCR), 0x11);
	assert_int_equal(rd(d, LCR), 0);
	assert_int_equal(f->cap.n, 0);
	assert_true(log_count() > n);
}

/* ---- what Linux does ---------------------------------------------------- */

/* serial8250_do_startup() with a fixed-type port (of_serial). */
static void test_linux_startup(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;
	uint8_t iir1, iir, lsr;

	/* Clear and disable the FIFOs, clear pending state. */
	wr(d, FCR, 0x01);
	wr(d, FCR, 0x07);
	wr(d, FCR, 0x00);
	rd(d, LSR);
	rd(d, RBR);
	rd(d, IIR);
	rd(d, MSR);
	assert_int_not_equal(rd(d, LSR), 0xff);	/* "LSR safety check" */

	/* THRE re-assertion test: both reads must see an interrupt, or
	 * Linux marks the port UART_BUG_THRE and polls it. */
	wr(d, IER, 0x02);
	iir1 = rd(d, IIR);
	wr(d, IER, 0x00);
	wr(d, IER, 0x02);
	iir = rd(d, IIR);
	wr(d, IER, 0x00);
	assert_int_equal(iir1 & 0x01, 0);
	assert_int_equal(iir & 0x01, 0);

	/* LCR 8N1, MCR DTR|RTS|OUT2, then the TX-enable test. */
	wr(d, LCR, 0x03);
	wr(d, MCR, 0x0b);
	wr(d, IER, 0x02);
	lsr = rd(d, LSR);
	iir = rd(d, IIR);
	wr(d, IER, 0x00);
	assert_true(lsr & 0x40);
	assert_int_equal(iir & 0x01, 0);	/* else UART_BUG_TXEN */

	/* Enable RX interrupts; typed input raises the line. */
	wr(d, FCR, 0x81);
	wr(d, IER, 0x05);
	push(d, "root\r", 5);
	assert_true(f->irq.level);
	assert_int_equal(rd(d, IIR), 0xcc);	/* 5 < trigger level 8 */
	while (rd(d, LSR) & 0x01)
		rd(d, RBR);
	assert_false(f->irq.level);
}

/* autoconfig(): what a non-fixed port would check. */
static void test_linux_autoconfig(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;

	wr(d, IER, 0x00);
	assert_int_equal(rd(d, IER) & 0x0f, 0x00);
	wr(d, IER, 0x0f);
	assert_int_equal(rd(d, IER) & 0x0f, 0x0f);
	wr(d, IER, 0x00);
	wr(d, MCR, 0x10 | 0x0a);
	assert_int_equal(rd(d, MSR) & 0xf0, 0x90);
	wr(d, MCR, 0x00);
	wr(d, FCR, 0x01);
	assert_int_equal(rd(d, IIR) >> 6, 3);	/* 16550A FIFO bits */
	wr(d, LCR, 0xbf);
	wr(d, LCR, 0x00);
	wr(d, SCR, 0xa5);
	assert_int_equal(rd(d, SCR), 0xa5);
}

/* ---- FDT ---------------------------------------------------------------- */

static uint32_t get_u32(const void *fdt, int off, const char *name)
{
	const fdt32_t *p;
	int len;

	p = fdt_getprop(fdt, off, name, &len);
	assert_non_null(p);
	assert_int_equal(len, 4);
	return fdt32_to_cpu(*p);
}

static void test_fdt_node(void **state)
{
	struct fixture *f = *state;
	static uint8_t buf[4096];
	struct fdt_ctx ctx = { .fdt = buf, .size = sizeof(buf),
			       .irq_phandle = 7 };
	struct rivet_dev *second;
	const fdt32_t *p;
	int off, len;

	ts_fdt_soc(buf, sizeof(buf));
	assert_int_equal(f->dev->ops->fdt_node(f->dev, &ctx), 0);
	assert_string_equal(ctx.stdout_path, "/soc/serial@10000000");
	off = fdt_path_offset(buf, ctx.stdout_path);
	assert_true(off >= 0);
	assert_int_equal(fdt_node_check_compatible(buf, off, "ns16550a"), 0);
	assert_int_equal(get_u32(buf, off, "clock-frequency"), 3686400);
	assert_int_equal(get_u32(buf, off, "reg-shift"), 0);
	assert_int_equal(get_u32(buf, off, "reg-io-width"), 1);
	assert_int_equal(get_u32(buf, off, "interrupt-parent"), 7);
	p = fdt_getprop(buf, off, "interrupts", &len);
	assert_non_null(p);
	assert_int_equal(len, 8);
	assert_int_equal(fdt32_to_cpu(p[0]), IRQ);
	assert_int_equal(fdt32_to_cpu(p[1]), FDT_IRQ_TYPE_LEVEL_HIGH);
	p = fdt_getprop(buf, off, "reg", &len);
	assert_non_null(p);
	assert_int_equal(len, 16);
	assert_int_equal(fdt32_to_cpu(p[1]), BASE);
	assert_int_equal(fdt32_to_cpu(p[3]), SIZE);

	/* A second UART does not take the console. */
	assert_int_equal(uart16550_create(BASE + SIZE, SIZE,
					  (struct irq_line){ 0 }, NULL,
					  &second), 0);
	assert_int_equal(second->ops->fdt_node(second, &ctx), 0);
	assert_string_equal(ctx.stdout_path, "/soc/serial@10000000");
	assert_true(fdt_path_offset(buf, "/soc/serial@10000100") >= 0);
	second->ops->destroy(second);
}

static void test_fdt_no_room(void **state)
{
	struct fixture *f = *state;
	static uint8_t buf[160];
	struct fdt_ctx ctx = { .fdt = buf, .size = sizeof(buf) };

	ts_fdt_soc(buf, sizeof(buf));
	assert_int_equal(f->dev->ops->fdt_node(f->dev, &ctx), -ENOSPC);
	assert_string_equal(ctx.stdout_path, "");
}

/* ---- threads ------------------------------------------------------------ */

#define NR_TX 20000
#define NR_RX 20000

static void *vcpu_writer(void *arg)
{
	struct rivet_dev *d = arg;

	for (int i = 0; i < NR_TX; i++) {
		wr(d, THR, (uint8_t)i);
		rd(d, IIR);
	}
	return NULL;
}

static void *vcpu_reader(void *arg)
{
	struct rivet_dev *d = arg;
	unsigned int got = 0;

	while (got < NR_RX) {
		if (!(rd(d, LSR) & 0x01)) {
			sched_yield();
			continue;
		}
		if (rd(d, RBR) != (uint8_t)got)
			return (void *)1;	/* out of order or lost */
		got++;
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	struct fixture *f = *state;
	struct rivet_dev *d = f->dev;
	pthread_t w1, w2, r;
	unsigned int sent = 0;
	void *rret;

	wr(d, FCR, 0x01);
	wr(d, IER, 0x07);
	assert_int_equal(pthread_create(&w1, NULL, vcpu_writer, d), 0);
	assert_int_equal(pthread_create(&w2, NULL, vcpu_writer, d), 0);
	assert_int_equal(pthread_create(&r, NULL, vcpu_reader, d), 0);
	while (sent < NR_RX) {
		uint8_t b[5];
		size_t n = NR_RX - sent < 5 ? NR_RX - sent : 5;

		for (size_t i = 0; i < n; i++)
			b[i] = (uint8_t)(sent + i);
		n = uart16550_push_input(d, b, n);
		if (!n)
			sched_yield();
		sent += (unsigned int)n;
	}
	pthread_join(w1, NULL);
	pthread_join(w2, NULL);
	pthread_join(r, &rret);
	assert_null(rret);
	assert_int_equal(f->cap.n, 2 * NR_TX);
	assert_int_equal(rd(d, LSR) & 0x03, 0x00);	/* no loss, no OE */
	wr(d, IER, 0x00);
	assert_false(f->irq.level);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_reset_values),
		T(test_readback),
		T(test_tx_capture),
		cmocka_unit_test(test_null_backend),
		cmocka_unit_test(test_create_bad_args),
		T(test_rx_fifo),
		T(test_fcr),
		T(test_loopback),
		T(test_modem_status),
		T(test_rx_ready),
		T(test_irq_rx),
		T(test_irq_thre),
		T(test_irq_lsr_msr),
		T(test_irq_priority),
		T(test_odd_widths_and_offsets),
		T(test_linux_startup),
		T(test_linux_autoconfig),
		T(test_fdt_node),
		T(test_fdt_no_room),
		T(test_concurrent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
