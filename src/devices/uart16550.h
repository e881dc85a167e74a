/* SPDX-License-Identifier: MIT */
/* A 16550A UART for the guest console: eight 1-byte registers at stride 1
 * (reg-shift 0, reg-io-width 1), a 16-byte receive FIFO and a level IRQ.
 * Transmission is instantaneous: THR is always empty again by the time the
 * guest can look, so LSR.THRE and LSR.TEMT always read 1.
 *
 * Threading: vCPU threads call the MMIO handlers, the main thread calls
 * uart16550_rx_space() and uart16550_push_input(); one mutex per device. */
#ifndef RIVET_UART16550_H
#define RIVET_UART16550_H

#include <stddef.h>
#include <stdint.h>

#include "core/device.h"

#define UART16550_NR_REGS 8
#define UART16550_FIFO_SIZE 16
#define UART16550_CLOCK_HZ 3686400

struct uart_backend {
	/* A byte the guest sent (not called in loopback mode).  Called from
	 * a vCPU thread with the device lock held: it must not call back
	 * into the device.  NULL: output is discarded. */
	void (*tx)(void *opaque, uint8_t byte);
	/* Optional: the guest made receive room after rx_space() was 0
	 * (e.g. to wake the main loop through an eventfd).  Same context
	 * rules as @tx. */
	void (*rx_ready)(void *opaque);
	void *opaque;
};

/* Create a UART at [@base, @base + @size) (@size >= 8; bytes past the
 * eight registers read as zero).  @be is copied; NULL means no output.
 * 0, -EINVAL or -ENOMEM. */
int uart16550_create(uint64_t base, uint64_t size, struct irq_line irq,
		     const struct uart_backend *be, struct rivet_dev **out);

/* Bytes the receive FIFO can take now (0 in loopback mode, where the
 * serial input is disconnected). */
size_t uart16550_rx_space(struct rivet_dev *dev);

/* Queue host input for the guest; returns how many bytes were accepted
 * (at most rx_space()).  The caller keeps the rest and retries: host input
 * is never dropped, so it never causes an overrun. */
size_t uart16550_push_input(struct rivet_dev *dev, const uint8_t *buf,
			    size_t len);

#endif
