// SPDX-License-Identifier: MIT
/* 16550A UART.  Register behaviour follows the TI/National PC16550D data
 * sheet; what Linux's 8250 driver checks on start-up (the THRE re-assert
 * test, the TX-enable test, the LSR 0xff check) is covered by the tests. */
#include "devices/uart16550.h"

#include <errno.h>
#include <inttypes.h>
#include <libfdt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acpi/aml.h"
#include "core/fdt_util.h"
#include "core/log.h"
#include "snapshot/snap.h"

enum uart_reg {
	REG_RBR_THR = 0,	/* DLL with LCR.DLAB */
	REG_IER = 1,		/* DLM with LCR.DLAB */
	REG_IIR_FCR = 2,
	REG_LCR = 3,
	REG_MCR = 4,
	REG_LSR = 5,
	REG_MSR = 6,
	REG_SCR = 7,
};

#define IER_ERBFI 0x01		/* received data available */
#define IER_ETBEI 0x02		/* THR empty */
#define IER_ELSI 0x04		/* receiver line status */
#define IER_EDSSI 0x08		/* modem status */
#define IER_MASK 0x0f

#define IIR_NO_INT 0x01
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_RLSI 0x06
#define IIR_CTI 0x0c
#define IIR_ID_MASK 0x0f
#define IIR_FIFO_ON 0xc0

#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define FCR_KEEP 0xc9		/* enable, DMA mode, trigger level */

#define LCR_DLAB 0x80

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_MASK 0x1f

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80
#define MSR_DELTAS 0x0f
/* No modem behind the console: always connected and clear to send. */
#define MSR_IDLE (MSR_DCD | MSR_DSR | MSR_CTS)

/* 115200 baud at 3.6864 MHz.  The data sheet leaves the divisor undefined
 * after reset; never 0, since early consoles divide by it. */
#define RESET_DIVISOR 2

struct uart {
	struct rivet_dev dev;
	pthread_mutex_t lock;
	struct uart_backend be;
	uint8_t rx[UART16550_FIFO_SIZE];
	unsigned int rx_head;
	unsigned int rx_count;
	uint8_t ier, fcr, lcr, mcr, scr, dll, dlm;
	uint8_t lsr_err;	/* sticky LSR error bits (OE) */
	uint8_t msr;
	bool thr_pending;	/* THR-empty interrupt condition */
	bool irq_level;		/* what the IRQ line was last driven to */
};

static struct uart *to_uart(struct rivet_dev *dev)
{
	return dev->priv;
}

/* ---- receive FIFO (caller holds the lock) ------------------------------- */

static bool fifo_on(const struct uart *u)
{
	return u->fcr & FCR_ENABLE;
}

/* Without the FIFO (16450 mode) there is just the one holding register. */
static unsigned int rx_capacity(const struct uart *u)
{
	return fifo_on(u) ? UART16550_FIFO_SIZE : 1;
}

static size_t rx_space_locked(const struct uart *u)
{
	if (u->mcr & MCR_LOOP || u->rx_count >= rx_capacity(u))
		return 0;
	return rx_capacity(u) - u->rx_count;
}

static void rx_clear(struct uart *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
}

static void rx_put(struct uart *u, uint8_t byte)
{
	if (u->rx_count < rx_capacity(u)) {
		u->rx[(u->rx_head + u->rx_count) % UART16550_FIFO_SIZE] = byte;
		u->rx_count++;
		return;
	}
	u->lsr_err |= LSR_OE;
	/* FIFO mode loses the new byte; 16450 mode overwrites the old one. */
	if (!fifo_on(u))
		u->rx[u->rx_head] = byte;
}

static uint8_t rx_get(struct uart *u)
{
	uint8_t byte;

	if (!u->rx_count)
		return 0;
	byte = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART16550_FIFO_SIZE;
	u->rx_count--;
	return byte;
}

/* ---- interrupts and modem status (caller holds the lock) ---------------- */

static unsigned int rx_trigger(const struct uart *u)
{
	static const uint8_t level[4] = { 1, 4, 8, 14 };

	return fifo_on(u) ? level[u->fcr >> 6] : 1;
}

/* The highest-priority pending source, as IIR bits 0-3. */
static uint8_t iir_id(const struct uart *u)
{
	if (u->ier & IER_ELSI && u->lsr_err)
		return IIR_RLSI;
	if (u->ier & IER_ERBFI && u->rx_count) {
		/* Below the trigger level a real UART waits four character
		 * times before the timeout; an emulated line has no timing,
		 * so the timeout is due at once. */
		return u->rx_count >= rx_trigger(u) ? IIR_RDI : IIR_CTI;
	}
	if (u->ier & IER_ETBEI && u->thr_pending)
		return IIR_THRI;
	if (u->ier & IER_EDSSI && u->msr & MSR_DELTAS)
		return IIR_MSI;
	return IIR_NO_INT;
}

static void update_irq(struct uart *u)
{
	bool level = iir_id(u) != IIR_NO_INT;

	if (level == u->irq_level)
		return;
	u->irq_level = level;
	irq_line_set(&u->dev.irq, level);
}

/* In loopback the modem inputs are wired to the modem outputs. */
static uint8_t modem_inputs(const struct uart *u)
{
	uint8_t m = u->mcr, v = 0;

	if (!(m & MCR_LOOP))
		return MSR_IDLE;
	v |= m & MCR_RTS ? MSR_CTS : 0;
	v |= m & MCR_DTR ? MSR_DSR : 0;
	v |= m & MCR_OUT1 ? MSR_RI : 0;
	v |= m & MCR_OUT2 ? MSR_DCD : 0;
	return v;
}

static void update_msr(struct uart *u)
{
	uint8_t now = modem_inputs(u), changed = (u->msr ^ now) & 0xf0;
	uint8_t d = u->msr & MSR_DELTAS;

	d |= changed & MSR_CTS ? MSR_DCTS : 0;
	d |= changed & MSR_DSR ? MSR_DDSR : 0;
	d |= changed & MSR_DCD ? MSR_DDCD : 0;
	d |= changed & u->msr & MSR_RI ? MSR_TERI : 0;	/* trailing edge */
	u->msr = now | d;
}

static void reset_locked(struct uart *u)
{
	rx_clear(u);
	u->ier = 0;
	u->fcr = 0;
	u->lcr = 0;
	u->mcr = 0;
	u->scr = 0;
	u->dll = RESET_DIVISOR;
	u->dlm = 0;
	u->lsr_err = 0;
	u->msr = MSR_IDLE;
	u->thr_pending = false;
}

/* ---- registers (caller holds the lock) ---------------------------------- */

static void transmit(struct uart *u, uint8_t byte)
{
	if (u->mcr & MCR_LOOP)
		rx_put(u, byte);
	else if (u->be.tx)
		u->be.tx(u->be.opaque, byte);
	/* Sent at once: THR is empty again. */
	u->thr_pending = true;
}

static uint8_t read_iir(struct uart *u)
{
	uint8_t id = iir_id(u);

	if (id == IIR_THRI)
		u->thr_pending = false;
	return id | (fifo_on(u) ? IIR_FIFO_ON : 0);
}

static uint8_t read_lsr(struct uart *u)
{
	uint8_t v = u->lsr_err | LSR_THRE | LSR_TEMT;

	if (u->rx_count)
		v |= LSR_DR;
	u->lsr_err = 0;
	return v;
}

static uint8_t reg_read(struct uart *u, unsigned int reg)
{
	bool dlab = u->lcr & LCR_DLAB;
	uint8_t v;

	switch (reg) {
	case REG_RBR_THR:
		return dlab ? u->dll : rx_get(u);
	case REG_IER:
		return dlab ? u->dlm : u->ier;
	case REG_IIR_FCR:
		return read_iir(u);
	case REG_LCR:
		return u->lcr;
	case REG_MCR:
		return u->mcr;
	case REG_LSR:
		return read_lsr(u);
	case REG_MSR:
		v = u->msr;
		u->msr &= ~MSR_DELTAS;
		return v;
	default:
		return u->scr;
	}
}

static void write_ier(struct uart *u, uint8_t val)
{
	/* Enabling ETBEI while THR is empty (always) raises THRE at once:
	 * Linux's start-up test relies on this re-assertion. */
	if (!(u->ier & IER_ETBEI) && val & IER_ETBEI)
		u->thr_pending = true;
	u->ier = val & IER_MASK;
}

static void write_fcr(struct uart *u, uint8_t val)
{
	/* Switching the FIFOs on or off empties them. */
	if ((val ^ u->fcr) & FCR_ENABLE)
		rx_clear(u);
	if (!(val & FCR_ENABLE)) {
		u->fcr = 0;	/* other bits need FCR0 set to be written */
		return;
	}
	if (val & FCR_CLEAR_RX)
		rx_clear(u);
	u->fcr = val & FCR_KEEP;
}

static void reg_write(struct uart *u, unsigned int reg, uint8_t val)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case REG_RBR_THR:
		if (dlab)
			u->dll = val;
		else
			transmit(u, val);
		break;
	case REG_IER:
		if (dlab)
			u->dlm = val;
		else
			write_ier(u, val);
		break;
	case REG_IIR_FCR:
		write_fcr(u, val);
		break;
	case REG_LCR:
		u->lcr = val;
		break;
	case REG_MCR:
		u->mcr = val & MCR_MASK;
		update_msr(u);
		break;
	case REG_SCR:
		u->scr = val;
		break;
	default:
		break;	/* LSR and MSR are read-only */
	}
}

/* After any change: drive the IRQ and report new receive room. */
static void finish_locked(struct uart *u, size_t space_before)
{
	update_irq(u);
	if (!space_before && rx_space_locked(u) && u->be.rx_ready)
		u->be.rx_ready(u->be.opaque);
}

/* ---- device operations -------------------------------------------------- */

static bool access_ok(struct rivet_dev *dev, uint64_t off, unsigned int len,
		      bool is_write)
{
	if (len == 1 && off < UART16550_NR_REGS)
		return true;
	log_guest("uart16550@0x%" PRIx64 ": %u-byte %s at +0x%" PRIx64
		  " ignored (1-byte registers at +0..+7 only)", dev->base, len,
		  is_write ? "write" : "read", off);
	return false;
}

static void uart_mmio_read(struct rivet_dev *dev, uint64_t off,
			   uint8_t *data, unsigned int len)
{
	struct uart *u = to_uart(dev);
	size_t space;

	if (!access_ok(dev, off, len, false)) {
		memset(data, 0, len);
		return;
	}
	pthread_mutex_lock(&u->lock);
	space = rx_space_locked(u);
	data[0] = reg_read(u, (unsigned int)off);
	finish_locked(u, space);
	pthread_mutex_unlock(&u->lock);
}

static void uart_mmio_write(struct rivet_dev *dev, uint64_t off,
			    const uint8_t *data, unsigned int len)
{
	struct uart *u = to_uart(dev);
	size_t space;

	if (!access_ok(dev, off, len, true))
		return;
	pthread_mutex_lock(&u->lock);
	space = rx_space_locked(u);
	reg_write(u, (unsigned int)off, data[0]);
	finish_locked(u, space);
	pthread_mutex_unlock(&u->lock);
}

static int uart_fdt_node(struct rivet_dev *dev, struct fdt_ctx *ctx)
{
	int off, err;

	off = fdtu_add_soc_node(ctx, "serial", "ns16550a", dev);
	if (off < 0)
		return off;
	err = fdt_setprop_u32(ctx->fdt, off, "clock-frequency",
			      UART16550_CLOCK_HZ);
	if (!err)
		err = fdt_setprop_u32(ctx->fdt, off, "reg-shift", 0);
	if (!err)
		err = fdt_setprop_u32(ctx->fdt, off, "reg-io-width", 1);
	if (err)
		return fdtu_errno(err);
	/* The first UART described is the console. */
	if (ctx->stdout_path[0])
		return 0;
	return fdtu_path(ctx, off, ctx->stdout_path,
			 sizeof(ctx->stdout_path));
}

/* Device (COMn): RSCV0003 (the RISC-V BRS ID of a 16550), its registers,
 * its interrupt as a GSI and, as Linux's 8250 driver needs, its clock. */
static int uart_acpi_dsdt(struct rivet_dev *dev, struct aml_buf *b)
{
	uint32_t gsi = aml_gsi(b, dev->irq.irq);
	int uid = aml_device_numbered(b, "COM", 1, "RSCV0003");

	if (uid < 0)
		return uid;
	aml_crs_mmio(b, dev->base, dev->size, dev->irq.irq ? &gsi : NULL);
	aml_dsd_int(b, "clock-frequency", UART16550_CLOCK_HZ);
	aml_end(b);
	return aml_error(b);
}

static void uart_destroy(struct rivet_dev *dev)
{
	struct uart *u = to_uart(dev);

	pthread_mutex_destroy(&u->lock);
	free(u);
}

/* ---- snapshots ---------------------------------------------------------- */

/* Record: ier, fcr, lcr, mcr, scr, dll, dlm, lsr_err, msr (u8 each),
 * thr_pending (bool), rx_count (u8), then the rx_count received bytes,
 * oldest first.  There is no transmit FIFO to save: a byte leaves the
 * moment the guest writes it.  The IRQ level follows from the rest. */
static int uart_save(struct rivet_dev *dev, struct snap_w *w)
{
	struct uart *u = to_uart(dev);

	pthread_mutex_lock(&u->lock);
	snap_w_u8(w, u->ier);
	snap_w_u8(w, u->fcr);
	snap_w_u8(w, u->lcr);
	snap_w_u8(w, u->mcr);
	snap_w_u8(w, u->scr);
	snap_w_u8(w, u->dll);
	snap_w_u8(w, u->dlm);
	snap_w_u8(w, u->lsr_err);
	snap_w_u8(w, u->msr);
	snap_w_bool(w, u->thr_pending);
	snap_w_u8(w, (uint8_t)u->rx_count);
	for (unsigned int i = 0; i < u->rx_count; i++)
		snap_w_u8(w, u->rx[(u->rx_head + i) % UART16550_FIFO_SIZE]);
	pthread_mutex_unlock(&u->lock);
	return w->err;
}

/* Everything is read and checked into @n first: a bad record leaves the
 * device as it was. */
static int uart_load(struct rivet_dev *dev, struct snap_r *r)
{
	struct uart *u = to_uart(dev), n;

	memset(&n, 0, sizeof(n));
	n.ier = snap_r_u8(r);
	n.fcr = snap_r_u8(r);
	n.lcr = snap_r_u8(r);
	n.mcr = snap_r_u8(r);
	n.scr = snap_r_u8(r);
	n.dll = snap_r_u8(r);
	n.dlm = snap_r_u8(r);
	n.lsr_err = snap_r_u8(r);
	n.msr = snap_r_u8(r);
	n.thr_pending = snap_r_bool(r);
	n.rx_count = snap_r_u8(r);
	snap_r_check(r, !(n.ier & ~IER_MASK), "uart: IER reserved bits");
	/* FCR keeps its bits only with the FIFO on (write_fcr()). */
	snap_r_check(r, !(n.fcr & ~FCR_KEEP) && (!n.fcr || fifo_on(&n)),
		     "uart: FCR");
	snap_r_check(r, !(n.mcr & ~MCR_MASK), "uart: MCR reserved bits");
	snap_r_check(r, !(n.lsr_err & ~LSR_OE), "uart: LSR error bits");
	/* The modem inputs are not state: they follow MCR. */
	snap_r_check(r, (n.msr & ~MSR_DELTAS) == modem_inputs(&n),
		     "uart: MSR disagrees with MCR");
	if (!snap_r_check(r, n.rx_count <= rx_capacity(&n),
			  "uart: receive FIFO count"))
		return snap_r_finish(r);
	snap_r_bytes(r, n.rx, n.rx_count);
	if (snap_r_finish(r))
		return -EBADMSG;

	pthread_mutex_lock(&u->lock);
	memcpy(u->rx, n.rx, sizeof(u->rx));
	u->rx_head = 0;
	u->rx_count = n.rx_count;
	u->ier = n.ier;
	u->fcr = n.fcr;
	u->lcr = n.lcr;
	u->mcr = n.mcr;
	u->scr = n.scr;
	u->dll = n.dll;
	u->dlm = n.dlm;
	u->lsr_err = n.lsr_err;
	u->msr = n.msr;
	u->thr_pending = n.thr_pending;
	/* The line's level is the interrupt controller's state, restored
	 * there: only remember what it is. */
	u->irq_level = iir_id(u) != IIR_NO_INT;
	pthread_mutex_unlock(&u->lock);
	return 0;
}

static const struct dev_ops uart_ops = {
	.name = "uart16550",
	.mmio_read = uart_mmio_read,
	.mmio_write = uart_mmio_write,
	.fdt_node = uart_fdt_node,
	.acpi_dsdt = uart_acpi_dsdt,
	.destroy = uart_destroy,
	.save = uart_save,
	.load = uart_load,
};

int uart16550_create(uint64_t base, uint64_t size, struct irq_line irq,
		     const struct uart_backend *be, struct rivet_dev **out)
{
	struct uart *u;
	int err;

	if (!out || size < UART16550_NR_REGS || size > UINT64_MAX - base)
		return -EINVAL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	err = pthread_mutex_init(&u->lock, NULL);
	if (err) {
		free(u);
		return -err;
	}
	if (be)
		u->be = *be;
	u->dev = (struct rivet_dev){ .ops = &uart_ops, .base = base,
				     .size = size, .irq = irq, .priv = u };
	reset_locked(u);
	*out = &u->dev;
	return 0;
}

size_t uart16550_rx_space(struct rivet_dev *dev)
{
	struct uart *u = to_uart(dev);
	size_t n;

	pthread_mutex_lock(&u->lock);
	n = rx_space_locked(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

size_t uart16550_push_input(struct rivet_dev *dev, const uint8_t *buf,
			    size_t len)
{
	struct uart *u = to_uart(dev);
	size_t n;

	if (!buf)
		return 0;
	pthread_mutex_lock(&u->lock);
	n = rx_space_locked(u);
	if (n > len)
		n = len;
	for (size_t i = 0; i < n; i++)
		rx_put(u, buf[i]);
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}
