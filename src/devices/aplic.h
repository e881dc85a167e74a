/* SPDX-License-Identifier: MIT */
/* An APLIC supervisor-level interrupt domain in MSI delivery mode (RISC-V
 * Advanced Interrupt Architecture 1.0, chapter 4), emulated in user space
 * in front of KVM's in-kernel IMSIC ("split" mode): wired interrupts in,
 * MSIs out through cfg->msi (KVM_SIGNAL_MSI).  It replaces KVM's own
 * APLIC model (arch/riscv/kvm/aia_aplic.c) and follows the same rules.
 *
 * The domain is the only one the guest sees, a leaf at supervisor level:
 *  - domaincfg reads 0x80000000 | IE << 8 | DM << 2 with DM hardwired to 1
 *    (MSI mode) and BE to 0 (little-endian); only IE is writable.
 *  - Delegation does not exist (no child domains): a sourcecfg write with
 *    D (bit 10) set makes the whole register 0 -- the source inactive --
 *    as the spec says for a leaf domain.  Source modes: Inactive,
 *    Detached, Edge1, Edge0, Level1, Level0; the reserved modes 2 and 3
 *    are taken as Inactive (SM is WARL).
 *  - mmsiaddrcfg(h) and smsiaddrcfg(h) are not implemented at supervisor
 *    level: read-only zeros (Linux's S-mode driver neither reads nor
 *    writes them; it derives the hart index from its IMSIC's addresses).
 *    MSI addresses are hardwired, as the spec recommends: hart index h is
 *    the IMSIC S-level file at cfg->imsic_base + h * cfg->imsic_stride.
 *  - target[i] in MSI format: hart index (14 bits), guest index, EIID (11
 *    bits).  The guest's harts have no hypervisor extension (GEILEN = 0),
 *    so the guest index is read-only zero: a non-zero one written is
 *    dropped (logged) and MSIs always go to the hart's S-level file.
 *  - genmsi: hart index and EIID; Busy always reads 0 (the MSI has left
 *    before the write returns); sent even with IE = 0.
 *  - setipnum_be is implemented (byte-swapped setipnum), as KVM does.
 *  - setipnum, clripnum, setienum, clrienum, setipnum_le/be and clrie[k]
 *    read 0; so do reserved offsets, the IDC area (there is no direct
 *    mode) and everything of sources above nr_sources.
 * Only naturally aligned 32-bit accesses are served; others are logged and
 * ignored (reads give 0).  Writes to what is not there (msiaddrcfg,
 * reserved offsets, registers of sources above nr_sources) and *num
 * writes naming no source are logged and ignored; writes the spec ignores
 * for an inactive source (its target, enable or pending bit) are ignored
 * quietly -- Linux writes every target at probe, before any is active.
 *
 * Pending bits, as the spec's "precise effects" for MSI mode: Detached:
 * set only by setip/setipnum; Edge1/Edge0: set on a rising edge of the
 * rectified input (wire XOR inverted), or by setip/setipnum; Level1/
 * Level0: set on a rising edge of the rectified input, or by setip/
 * setipnum while the rectified input is high, and cleared whenever it is
 * low.  All are cleared by in_clrip/clripnum and when the MSI is sent.  A
 * sourcecfg write to a level mode whose rectified input is high sets the
 * pending bit (so an asserted input is not missed), other modes do not;
 * making a source inactive clears its pending and enable bits and target.
 * Once a level source's MSI is sent it stays quiet until its input falls
 * and rises again, or the guest writes setipnum (Linux's EOI does).
 *
 * Delivery: whenever a source is pending and enabled and domaincfg.IE is
 * 1, its pending bit is cleared and one MSI is sent: address
 * imsic_base + hart index * imsic_stride, data EIID; when several are due
 * at once, in source order.  A hart index >= nr_harts is logged and the
 * MSI dropped; so is EIID 0, which no IMSIC accepts (the IMSIC would
 * ignore it).  A failed msi->send is logged.
 *
 * Locking: one mutex.  Every change -- guest MMIO from vCPU threads,
 * set_level from device threads -- happens under it and MSIs are sent with
 * it held, in the order they become due, on whichever thread made the
 * change (a vCPU thread serving MMIO of the APLIC or of a device, the
 * main thread on host input).  msi->send must not call into the
 * APLIC and must not take a lock held by a caller of the APLIC (devices
 * call set_level under their own lock: lock order device -> APLIC ->
 * msi chip). */
#ifndef RIVET_APLIC_H
#define RIVET_APLIC_H

#include <stdint.h>

#include "core/device.h"
#include "core/irq.h"
#include "core/msi.h"

#define APLIC_MAX_SOURCES 1023
#define APLIC_MAX_HARTS 16384		/* 14-bit hart index */
#define APLIC_SIZE 0x4000ULL

/* Register offsets (AIA 1.0, table "registers of the first 16 KiB"). */
#define APLIC_DOMAINCFG		0x0000
#define APLIC_SOURCECFG(i)	(0x0004 + 4 * ((i) - 1))	/* 1..1023 */
#define APLIC_MMSIADDRCFG	0x1bc0
#define APLIC_MMSIADDRCFGH	0x1bc4
#define APLIC_SMSIADDRCFG	0x1bc8
#define APLIC_SMSIADDRCFGH	0x1bcc
#define APLIC_SETIP(k)		(0x1c00 + 4 * (k))		/* k = 0..31 */
#define APLIC_SETIPNUM		0x1cdc
#define APLIC_IN_CLRIP(k)	(0x1d00 + 4 * (k))
#define APLIC_CLRIPNUM		0x1ddc
#define APLIC_SETIE(k)		(0x1e00 + 4 * (k))
#define APLIC_SETIENUM		0x1edc
#define APLIC_CLRIE(k)		(0x1f00 + 4 * (k))
#define APLIC_CLRIENUM		0x1fdc
#define APLIC_SETIPNUM_LE	0x2000
#define APLIC_SETIPNUM_BE	0x2004
#define APLIC_GENMSI		0x3000
#define APLIC_TARGET(i)		(0x3004 + 4 * ((i) - 1))	/* 1..1023 */

#define APLIC_DOMAINCFG_RO	0x80000000u
#define APLIC_DOMAINCFG_IE	(1u << 8)
#define APLIC_DOMAINCFG_DM	(1u << 2)
#define APLIC_DOMAINCFG_BE	(1u << 0)

#define APLIC_SOURCECFG_D	(1u << 10)
#define APLIC_SM_INACTIVE	0
#define APLIC_SM_DETACHED	1
#define APLIC_SM_EDGE1		4
#define APLIC_SM_EDGE0		5
#define APLIC_SM_LEVEL1		6
#define APLIC_SM_LEVEL0		7

#define APLIC_TARGET_HART_SHIFT	18
#define APLIC_TARGET_HART_MASK	0x3fffu
#define APLIC_TARGET_GUEST_SHIFT 12
#define APLIC_TARGET_GUEST_MASK	0x3fu
#define APLIC_TARGET_EIID_MASK	0x7ffu
#define APLIC_GENMSI_BUSY	(1u << 12)

struct aplic_cfg {
	uint64_t base, size;		/* size >= APLIC_SIZE */
	uint32_t nr_sources;		/* riscv,num-sources: 1..nr_sources */
	unsigned int nr_harts;
	const struct msi_chip *msi;	/* KVM_SIGNAL_MSI; the pointer is kept and may be filled in later */
	uint64_t imsic_base, imsic_stride;	/* hart h's S-level IMSIC file */
};

/* An APLIC domain at [cfg->base, cfg->base + cfg->size) (bytes past
 * APLIC_SIZE read 0), every source inactive, IE 0.  nr_harts is
 * 1..APLIC_MAX_HARTS, imsic_stride non-zero and the last hart's file must
 * not wrap.  cfg->msi may be NULL (MSIs dropped); what it points to is read
 * at each MSI, so it may be filled in after creation, before the first
 * vCPU runs.  0, -EINVAL or -ENOMEM. */
int aplic_create(const struct aplic_cfg *cfg, struct rivet_dev **out);

/* The wired inputs: set_level(ctx, src, level) drives source @src's wire
 * (1..nr_sources; other values: -EINVAL, nothing changes).  Safe from any
 * thread.  Lives as long as the device. */
const struct irq_chip *aplic_irq_chip(struct rivet_dev *aplic);

#endif
