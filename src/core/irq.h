/* SPDX-License-Identifier: MIT */
/* Wired interrupt lines.  Devices only see a struct irq_line; on a real VM
 * the chip is KVM's in-kernel APLIC (KVM_IRQ_LINE), in unit tests a fake
 * that records levels. */
#ifndef RIVET_IRQ_H
#define RIVET_IRQ_H

#include <stdbool.h>
#include <stdint.h>

struct irq_chip {
	/* Drive source @irq to @level; 0 or -errno. Safe from any thread. */
	int (*set_level)(void *ctx, uint32_t irq, bool level);
	void *ctx;
};

struct irq_line {
	const struct irq_chip *chip;
	uint32_t irq;	/* APLIC source number (1-based) */
};

static inline int irq_line_set(const struct irq_line *l, bool level)
{
	if (!l->chip || !l->chip->set_level)
		return 0;
	return l->chip->set_level(l->chip->ctx, l->irq, level);
}

/* Each hart's supervisor external interrupt, for an interrupt controller
 * emulated in user space (the PLIC): on a real VM KVM_INTERRUPT on the
 * hart's vCPU (set by the arch code once the vCPUs exist), in unit tests a
 * fake that records levels. */
struct hart_irq {
	/* Raise or lower hart @hart's external interrupt; 0 or -errno.
	 * Safe from any thread. */
	int (*set)(void *ctx, unsigned int hart, bool level);
	void *ctx;
};

static inline int hart_irq_set(const struct hart_irq *h, unsigned int hart,
			       bool level)
{
	if (!h || !h->set)
		return 0;
	return h->set(h->ctx, hart, level);
}

#endif
