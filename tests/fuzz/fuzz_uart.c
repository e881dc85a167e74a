// SPDX-License-Identifier: MIT
/* Fuzz target: the 16550A console as the guest and the host drive it:
 * register reads and writes of any width and offset, host input and
 * resets.  Checks, without adding register reads of its own (IIR and LSR
 * reads have side effects): the IRQ line against IIR whenever the guest
 * reads IIR, the always-empty transmitter, that host input is accepted only
 * up to rx_space() and never overruns, that what the guest transmits
 * reaches the backend unless in loopback, and that rx_ready() is only
 * called when there is receive room. */
#include "fuzz.h"

#include "core/device.h"
#include "devices/uart16550.h"

#define IRQ		3
#define REG_THR		0
#define REG_IIR		2
#define REG_LCR		3
#define REG_MCR		4
#define REG_LSR		5
#define LCR_DLAB	0x80
#define MCR_LOOP	0x10
#define LSR_THRE_TEMT	0x60

struct uart_fuzz {
	struct rivet_dev *dev;
	struct fuzz_irq irq;
	struct irq_chip chip;
	unsigned long tx_bytes;		/* seen by the backend */
	unsigned long rx_ready_calls;
	uint8_t last_tx;
	bool looped;		/* a byte was sent in loopback mode */
};

static void fz_tx(void *opaque, uint8_t byte)
{
	struct uart_fuzz *f = opaque;

	f->tx_bytes++;
	f->last_tx = byte;
}

static void fz_rx_ready(void *opaque)
{
	struct uart_fuzz *f = opaque;

	f->rx_ready_calls++;
}

static uint8_t rd(struct uart_fuzz *f, uint64_t off)
{
	uint8_t v;

	f->dev->ops->mmio_read(f->dev, off, &v, 1);
	return v;
}

/* What a guest register read showed. */
static void check_read(struct uart_fuzz *f, uint64_t off, uint8_t v,
		       bool level_before)
{
	if (off == REG_IIR) {
		/* The line is high exactly when IIR names a source. */
		FUZZ_CHECK(level_before == !(v & 1));
		FUZZ_CHECK((v & 0x30) == 0);
	} else if (off == REG_LSR) {
		FUZZ_CHECK((v & LSR_THRE_TEMT) == LSR_THRE_TEMT);
		/* Only loopback can overrun; host input never does. */
		if (v & 0x02)
			FUZZ_CHECK(f->looped);
	}
}

static void guest_access(struct uart_fuzz *f, struct fin *in, bool is_write)
{
	static const unsigned int widths[4] = { 1, 2, 4, 8 };
	uint8_t off = fin_u8(in), sel = fin_u8(in), buf[8];
	unsigned int len = widths[sel & 3];
	uint64_t o = off % 16;	/* the 8 registers and beyond */
	uint8_t lcr = rd(f, REG_LCR), mcr = rd(f, REG_MCR);
	bool level = f->irq.level[IRQ];
	unsigned long tx = f->tx_bytes;

	memset(buf, 0xa5, sizeof(buf));
	if (is_write) {
		buf[0] = fin_u8(in);
		f->dev->ops->mmio_write(f->dev, o, buf, len);
		if (len == 1 && o == REG_THR && !(lcr & LCR_DLAB)) {
			if (mcr & MCR_LOOP) {
				FUZZ_CHECK(f->tx_bytes == tx);
				f->looped = true;
			} else {
				FUZZ_CHECK(f->tx_bytes == tx + 1);
				FUZZ_CHECK(f->last_tx == buf[0]);
			}
		} else {
			FUZZ_CHECK(f->tx_bytes == tx);
		}
	} else {
		f->dev->ops->mmio_read(f->dev, o, buf, len);
		/* Refused accesses read as zeros. */
		if (len != 1 || o >= UART16550_NR_REGS)
			for (unsigned int i = 0; i < len; i++)
				FUZZ_CHECK(buf[i] == 0);
		else
			check_read(f, o, buf[0], level);
	}
}

static void host_input(struct uart_fuzz *f, struct fin *in)
{
	uint8_t buf[32];
	size_t len = fin_u8(in) % sizeof(buf), space, n;

	fin_bytes(in, buf, len);
	space = uart16550_rx_space(f->dev);
	n = uart16550_push_input(f->dev, buf, len);
	FUZZ_CHECK(n == (len < space ? len : space));
	FUZZ_CHECK(uart16550_rx_space(f->dev) == space - n);
}

/* A UART on a fresh interrupt line (at the start and at every "reset":
 * the next boot is a new VM process, with a new device and a new chip). */
static void boot(struct uart_fuzz *f, const struct uart_backend *be)
{
	f->irq.level[IRQ] = false;
	f->looped = false;
	FUZZ_CHECK(uart16550_create(0x10000000, 0x100,
				    (struct irq_line){ &f->chip, IRQ }, be,
				    &f->dev) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = { data, size };
	struct uart_fuzz f = { 0 };
	struct uart_backend be = { fz_tx, fz_rx_ready, &f };

	fuzz_quiet();
	f.chip = (struct irq_chip){ .set_level = fuzz_irq_set, .ctx = &f.irq };
	boot(&f, &be);
	while (in.left) {
		unsigned long ready = f.rx_ready_calls;

		switch (fin_u8(&in) % FZ_UART_NR_OPS) {
		case FZ_UART_READ:
			guest_access(&f, &in, false);
			break;
		case FZ_UART_WRITE:
			guest_access(&f, &in, true);
			break;
		case FZ_UART_INPUT:
			host_input(&f, &in);
			break;
		case FZ_UART_RESET:
			f.dev->ops->destroy(f.dev);
			boot(&f, &be);
			FUZZ_CHECK(!f.irq.level[IRQ]);
			FUZZ_CHECK(uart16550_rx_space(f.dev) == 1);
			break;
		}
		if (f.rx_ready_calls != ready)
			FUZZ_CHECK(uart16550_rx_space(f.dev) > 0);
	}
	f.dev->ops->destroy(f.dev);
	return 0;
}
