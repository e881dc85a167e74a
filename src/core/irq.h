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

#endif
