/* SPDX-License-Identifier: MIT */
/* A SiFive-compatible PLIC (`sifive,plic-1.0.0`, the register map Linux's
 * irq-sifive-plic.c drives), emulated in user space for guests whose
 * interrupts do not go through KVM's in-kernel AIA.  One S-mode context
 * per hart: context c drives hart c's supervisor external interrupt
 * through cfg->harts.
 *
 * Registers (32-bit, little-endian):
 *   0x000000 + 4*s            priority of source s (WARL 0..7)
 *   0x001000 + 4*w            pending bits of sources 32w..32w+31 (RO)
 *   0x002000 + 0x80*c + 4*w   enable bits of context c
 *   0x200000 + 0x1000*c       threshold of context c (WARL 0..7)
 *   0x200004 + 0x1000*c       claim (read) / complete (write)
 * Priority and threshold keep the low three bits written (the PLIC
 * implements three bits: 8 reads 0, 9 reads 1).  Source 0 does not exist:
 * its priority, pending and enable bits read 0.  Only naturally aligned
 * 32-bit accesses are served; others are logged and ignored (reads give
 * 0).  Registers of sources or contexts that do not exist, and the gaps,
 * read 0 and ignore writes (writes logged); so does the pending area.
 * Enable bits of sources that do not exist read 0.
 *
 * Gateways are level-triggered, as on SiFive's PLIC and QEMU's
 * sifive_plic: while a source's input is asserted and the source is not
 * claimed, its request is pending.  A claim (read of claim/complete)
 * returns the pending source enabled for that context with the highest
 * priority above the context's threshold (ties: the lowest ID), clears
 * its pending bit and marks it claimed; 0 when there is none.  A complete
 * (write of a source ID) ends the claim if the source is claimed and
 * enabled for that context -- whichever context claimed it, as the claim
 * state lives in the source's gateway -- and otherwise is ignored (as the
 * spec says; logged).  After a complete, an input still asserted makes the
 * request pending again.  Priority 0 never interrupts (and is never
 * claimed).
 *
 * An input that drops before the claim withdraws the request: the pending
 * bit follows the input of an unclaimed source.  QEMU's sifive_plic (the
 * PLIC Linux guests run on most) and the APLIC (whose level-sensitive
 * pending bit clears whenever the input is low) do the same, and every
 * rivet device lowers its line only once the guest has dealt with the
 * cause, so a latched request would only become a claim whose handler
 * finds nothing to do.  The price: a pulse that ends before the claim is
 * lost -- a device must hold its line until it is serviced, which is what
 * level-triggered means.
 *
 * Outputs: a context's output is (some source pending, enabled for it,
 * with priority > its threshold).  harts->set(ctx, hart = ctx, level) is
 * called exactly when a context's output changes, never twice with the
 * same level for the same hart (initially all low).
 *
 * Locking: one mutex.  Every change -- guest MMIO from vCPU threads,
 * set_level from device threads, in any thread -- recomputes the outputs
 * under the lock and calls harts->set there, so the calls for a hart come
 * in the order of the changes and never overlap.  So harts->set runs on
 * whichever thread made the change -- a vCPU thread serving MMIO of the
 * PLIC or of a device, the main thread on host input -- for any hart, not
 * only the caller's own (KVM_INTERRUPT is a vCPU ioctl KVM takes from any
 * thread, without waiting for KVM_RUN to return).  harts->set must not call
 * into the PLIC and must not take a lock held by a caller of the PLIC
 * (devices call set_level under their own lock: lock order device ->
 * PLIC -> hart_irq).  A failed harts->set is logged; the output counts as
 * changed all the same. */
#ifndef RIVET_PLIC_H
#define RIVET_PLIC_H

#include <stdint.h>

#include "core/device.h"
#include "core/irq.h"

#define PLIC_MAX_SOURCES 1023
#define PLIC_MAX_CONTEXTS 32
#define PLIC_MAX_PRIORITY 7
#define PLIC_SIZE(nctx) (0x200000ULL + 0x1000ULL * (nctx))

#define PLIC_PRIORITY_BASE	0x000000
#define PLIC_PENDING_BASE	0x001000
#define PLIC_ENABLE_BASE	0x002000
#define PLIC_ENABLE_STRIDE	0x80
#define PLIC_CONTEXT_BASE	0x200000
#define PLIC_CONTEXT_STRIDE	0x1000
#define PLIC_THRESHOLD		0x0
#define PLIC_CLAIM		0x4

struct plic_cfg {
	uint64_t base;			/* window of PLIC_SIZE(nr_contexts) bytes */
	uint32_t nr_sources;		/* riscv,ndev: sources 1..nr_sources */
	unsigned int nr_contexts;	/* 1..PLIC_MAX_CONTEXTS; context c = hart c */
	const struct hart_irq *harts;	/* outputs; the pointer is kept and may be filled in later */
};

/* A PLIC at [cfg->base, cfg->base + PLIC_SIZE(cfg->nr_contexts)), all
 * priorities, enables, thresholds and inputs 0, outputs low.  cfg->harts
 * may be NULL (no outputs); what it points to is read at each output
 * change, so it may be filled in after creation, before the first vCPU
 * runs.  0, -EINVAL or -ENOMEM. */
int plic_create(const struct plic_cfg *cfg, struct rivet_dev **out);

/* The wired inputs: set_level(ctx, src, level) drives source @src
 * (1..nr_sources; other values: -EINVAL, nothing changes).  Safe from any
 * thread.  Lives as long as the device. */
const struct irq_chip *plic_irq_chip(struct rivet_dev *plic);

#endif
