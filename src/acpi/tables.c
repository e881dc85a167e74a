// SPDX-License-Identifier: MIT
/* The fixed-layout tables: FADT, MADT, RHCT, SPCR, MCFG, XSDT, RSDP.  One
 * builder per table, one line per spec field, in the spec's order. */
#include "acpi/tables.h"

#include <errno.h>
#include <string.h>

#include "core/device.h"
#include "machine/machine.h"

/* Sized little-endian writes into the current file. */
#define PUT(ab, f, v, n) aml_le(&(ab)->file[f], (v), (n))
#define T ACPI_FILE_TABLES

static unsigned int ceil_log2(uint64_t v)
{
	unsigned int n = 0;

	while ((1ULL << n) < v)
		n++;
	return n;
}

static void put_gas(struct acpi_builder *ab, uint8_t space, uint8_t width,
		    uint8_t offset, uint8_t access, uint64_t addr)
{
	/* 5.2.3.2 Generic Address Structure */
	PUT(ab, T, space, 1);		/* Address Space ID */
	PUT(ab, T, width, 1);		/* Register Bit Width */
	PUT(ab, T, offset, 1);		/* Register Bit Offset */
	PUT(ab, T, access, 1);		/* Access Size (1: byte) */
	PUT(ab, T, addr, 8);		/* Address */
}

/*
 * ACPI 6.6, 5.2.9 Fixed ACPI Description Table (FADT), revision 6.6.
 * Hardware-reduced (HW_REDUCED_ACPI): no FACS, no fixed hardware blocks;
 * only the DSDT pointer and the flags matter.  Linux on RISC-V wants 6.6.
 */
void acpi_build_fadt(struct acpi_builder *ab)
{
	static const char hv_vendor[8] = "RIVET";

	acpi_table_begin(ab, T, "FACP", 6);
	PUT(ab, T, 0, 4);		/* FIRMWARE_CTRL: no FACS */
	PUT(ab, T, 0, 4);		/* DSDT: X_DSDT instead */
	PUT(ab, T, 0, 1);		/* Reserved (INT_MODEL) */
	PUT(ab, T, 0, 1);		/* Preferred_PM_Profile: unspecified */
	PUT(ab, T, 0, 2);		/* SCI_INT */
	PUT(ab, T, 0, 4);		/* SMI_CMD */
	PUT(ab, T, 0, 1);		/* ACPI_ENABLE */
	PUT(ab, T, 0, 1);		/* ACPI_DISABLE */
	PUT(ab, T, 0, 1);		/* S4BIOS_REQ */
	PUT(ab, T, 0, 1);		/* PSTATE_CNT */
	PUT(ab, T, 0, 4);		/* PM1a_EVT_BLK */
	PUT(ab, T, 0, 4);		/* PM1b_EVT_BLK */
	PUT(ab, T, 0, 4);		/* PM1a_CNT_BLK */
	PUT(ab, T, 0, 4);		/* PM1b_CNT_BLK */
	PUT(ab, T, 0, 4);		/* PM2_CNT_BLK */
	PUT(ab, T, 0, 4);		/* PM_TMR_BLK */
	PUT(ab, T, 0, 4);		/* GPE0_BLK */
	PUT(ab, T, 0, 4);		/* GPE1_BLK */
	PUT(ab, T, 0, 1);		/* PM1_EVT_LEN */
	PUT(ab, T, 0, 1);		/* PM1_CNT_LEN */
	PUT(ab, T, 0, 1);		/* PM2_CNT_LEN */
	PUT(ab, T, 0, 1);		/* PM_TMR_LEN */
	PUT(ab, T, 0, 1);		/* GPE0_BLK_LEN */
	PUT(ab, T, 0, 1);		/* GPE1_BLK_LEN */
	PUT(ab, T, 0, 1);		/* GPE1_BASE */
	PUT(ab, T, 0, 1);		/* CST_CNT */
	PUT(ab, T, 0, 2);		/* P_LVL2_LAT */
	PUT(ab, T, 0, 2);		/* P_LVL3_LAT */
	PUT(ab, T, 0, 2);		/* FLUSH_SIZE */
	PUT(ab, T, 0, 2);		/* FLUSH_STRIDE */
	PUT(ab, T, 0, 1);		/* DUTY_OFFSET */
	PUT(ab, T, 0, 1);		/* DUTY_WIDTH */
	PUT(ab, T, 0, 1);		/* DAY_ALRM */
	PUT(ab, T, 0, 1);		/* MON_ALRM */
	PUT(ab, T, 0, 1);		/* CENTURY */
	PUT(ab, T, 0, 2);		/* IAPC_BOOT_ARCH */
	PUT(ab, T, 0, 1);		/* Reserved */
	PUT(ab, T, 1U << 20, 4);	/* Flags: HW_REDUCED_ACPI */
	put_gas(ab, 0, 0, 0, 0, 0);	/* RESET_REG: none (SBI SRST) */
	PUT(ab, T, 0, 1);		/* RESET_VALUE */
	PUT(ab, T, 0, 2);		/* ARM_BOOT_ARCH */
	PUT(ab, T, 6, 1);		/* FADT Minor Version: 6.6 */
	PUT(ab, T, 0, 8);		/* X_FIRMWARE_CTRL */
	acpi_put_pointer(ab, T, 8, T, ab->dsdt_off);	/* X_DSDT */
	put_gas(ab, 0, 0, 0, 0, 0);	/* X_PM1a_EVT_BLK */
	put_gas(ab, 0, 0, 0, 0, 0);	/* X_PM1b_EVT_BLK */
	put_gas(ab, 0, 0, 0, 0, 0);	/* X_PM1a_CNT_BLK */
	put_gas(ab, 0, 0, 0, 0, 0);	/* X_PM1b_CNT_BLK */
	put_gas(ab, 0, 0, 0, 0, 0);	/* X_PM2_CNT_BLK */
	put_gas(ab, 0, 0, 0, 0, 0);	/* X_PM_TMR_BLK */
	put_gas(ab, 0, 0, 0, 0, 0);	/* X_GPE0_BLK */
	put_gas(ab, 0, 0, 0, 0, 0);	/* X_GPE1_BLK */
	put_gas(ab, 0, 0, 0, 0, 0);	/* SLEEP_CONTROL_REG */
	put_gas(ab, 0, 0, 0, 0, 0);	/* SLEEP_STATUS_REG */
	aml_bytes(&ab->file[T], hv_vendor, 8);	/* Hypervisor Vendor ID */
	acpi_table_end(ab);
}

/*
 * ACPI 6.6, 5.2.12 MADT: RISC-V Hart Local Interrupt Controller (RINTC)
 * structure, type 0x18.  With an IMSIC (aia, split) the external interrupt
 * controller ID is 0 and the hart's S-level IMSIC file is given here; with
 * a PLIC the ID names the PLIC (bits 31:24) and the hart's S-mode context
 * (bits 15:0, context N = hart N) and there is no IMSIC.
 */
void acpi_put_rintc(struct aml_buf *b, const struct machine *m,
		    unsigned int hart)
{
	const struct aia_layout *a = &m->aia;
	bool plic = m->irqchip_mode == IRQCHIP_PLIC;

	aml_le(b, 0x18, 1);		/* Type: RINTC */
	aml_le(b, ACPI_RINTC_SIZE, 1);	/* Length */
	aml_le(b, 1, 1);		/* Version */
	aml_le(b, 0, 1);		/* Reserved */
	aml_le(b, 1, 4);		/* Flags: Enabled */
	aml_le(b, hart, 8);		/* Hart ID */
	aml_le(b, hart, 4);		/* ACPI Processor UID */
	/* External Interrupt Controller ID: PLIC 0, context @hart */
	aml_le(b, plic ? (uint32_t)ACPI_PLIC_ID << 24 | hart : 0, 4);
	aml_le(b, plic ? 0 : a->imsic_base + (uint64_t)hart * a->imsic_stride,
	       8);			/* IMSIC Base Address */
	aml_le(b, plic ? 0 : a->imsic_stride, 4);	/* IMSIC Size */
}

/* ACPI 6.6, 5.2.12.28 PLIC structure, type 0x1B. */
static void put_plic(struct acpi_builder *ab)
{
	const struct plic_layout *p = &ab->m->plic;

	PUT(ab, T, 0x1b, 1);		/* Type: PLIC */
	PUT(ab, T, 36, 1);		/* Length */
	PUT(ab, T, 1, 1);		/* Version */
	PUT(ab, T, ACPI_PLIC_ID, 1);	/* PLIC ID */
	PUT(ab, T, 0, 8);		/* Hardware ID */
	PUT(ab, T, p->nr_sources, 2);	/* Total External Int. Sources */
	PUT(ab, T, ACPI_PLIC_MAX_PRIORITY, 2);	/* Max Priority */
	PUT(ab, T, 0, 4);		/* Flags */
	PUT(ab, T, p->size, 4);		/* PLIC Size */
	PUT(ab, T, p->base, 8);		/* PLIC Address */
	PUT(ab, T, ab->p->gsi_base, 4);	/* Global System Int. Base */
}

/*
 * ACPI 6.6, 5.2.12 Multiple APIC Description Table (MADT), revision 7:
 * one RINTC per hart, then the IMSIC (type 0x19) and APLIC (type 0x1A)
 * structures of the AIA (aia, split), or the PLIC (type 0x1B).
 */
void acpi_build_madt(struct acpi_builder *ab)
{
	const struct machine *m = ab->m;
	const struct aia_layout *a = &m->aia;
	unsigned int cpus = m->cfg->cpus;
	unsigned int guest_bits = ceil_log2(a->imsic_stride >> 12);

	if (a->imsic_stride < 4096 ||
	    (4096ULL << guest_bits) != a->imsic_stride ||
	    a->imsic_stride > UINT32_MAX || a->aplic_size > UINT32_MAX ||
	    a->nr_ids > UINT16_MAX || a->nr_sources > UINT16_MAX ||
	    m->plic.size > UINT32_MAX || m->plic.nr_sources > UINT16_MAX ||
	    cpus > 0xffff) {
		ab->err = ab->err ? ab->err : -EINVAL;
		return;
	}
	acpi_table_begin(ab, T, "APIC", 7);
	PUT(ab, T, 0, 4);		/* Local Interrupt Controller Addr */
	PUT(ab, T, 0, 4);		/* Flags */
	for (unsigned int i = 0; i < cpus; i++)
		acpi_put_rintc(&ab->file[T], m, i);
	if (m->irqchip_mode == IRQCHIP_PLIC) {
		put_plic(ab);
		acpi_table_end(ab);
		return;
	}

	/* IMSIC structure */
	PUT(ab, T, 0x19, 1);		/* Type: IMSIC */
	PUT(ab, T, 16, 1);		/* Length */
	PUT(ab, T, 1, 1);		/* Version */
	PUT(ab, T, 0, 1);		/* Reserved */
	PUT(ab, T, 0, 4);		/* Flags */
	PUT(ab, T, a->nr_ids, 2);	/* Number of S-level Interrupt IDs */
	PUT(ab, T, a->nr_ids, 2);	/* Number of Guest Interrupt IDs */
	PUT(ab, T, guest_bits, 1);	/* Guest Index Bits */
	PUT(ab, T, ceil_log2(cpus), 1);	/* Hart Index Bits */
	PUT(ab, T, 0, 1);		/* Group Index Bits: one group */
	PUT(ab, T, 24, 1);		/* Group Index Shift (AIA minimum) */

	/* APLIC structure: MSI mode, so no IDCs */
	PUT(ab, T, 0x1a, 1);		/* Type: APLIC */
	PUT(ab, T, 36, 1);		/* Length */
	PUT(ab, T, 1, 1);		/* Version */
	PUT(ab, T, 0, 1);		/* APLIC ID */
	PUT(ab, T, 0, 4);		/* Flags */
	PUT(ab, T, 0, 8);		/* Hardware ID */
	PUT(ab, T, 0, 2);		/* Number of IDCs */
	PUT(ab, T, a->nr_sources, 2);	/* Total External Int. Sources */
	PUT(ab, T, ab->p->gsi_base, 4);	/* Global System Int. Base */
	PUT(ab, T, a->aplic_base, 8);	/* APLIC Address */
	PUT(ab, T, a->aplic_size, 4);	/* APLIC Size */
	acpi_table_end(ab);
}

static int mmu_type(const char *t)
{
	if (!t)
		return -1;
	if (!strcmp(t, "riscv,sv39"))
		return 0;
	if (!strcmp(t, "riscv,sv48"))
		return 1;
	if (!strcmp(t, "riscv,sv57"))
		return 2;
	return -1;
}

static uint8_t block_log2(uint32_t size)
{
	return size ? (uint8_t)ceil_log2(size) : 0;
}

/*
 * ACPI 6.6, 5.2.37 RISC-V Hart Capabilities Table (RHCT), revision 1:
 * the timebase, then the node array: the ISA string node (type 0, the
 * device tree's riscv,isa), a CMO node (type 1) with Zicbom/Zicboz, an MMU
 * node (type 2), and one hart info node (type 0xFFFF) per hart listing the
 * offsets of the nodes that apply to it (all of them: harts are alike).
 */
void acpi_build_rhct(struct acpi_builder *ab)
{
	const struct machine *m = ab->m;
	const struct cpu_info *c = &m->cpu;
	unsigned int cpus = m->cfg->cpus, nr_nodes, nr_offs = 1;
	uint32_t offs[3];
	char isa[1024];
	size_t isa_len, node_len;
	int mmu = mmu_type(c->mmu_type);
	bool cmo = c->cbom_block_size || c->cboz_block_size;
	struct aml_buf *b = &ab->file[T];

	if (machine_isa_string(c, isa, sizeof(isa))) {
		ab->err = ab->err ? ab->err : -ENOSPC;
		return;
	}
	if ((c->cbom_block_size & (c->cbom_block_size - 1)) ||
	    (c->cboz_block_size & (c->cboz_block_size - 1))) {
		ab->err = ab->err ? ab->err : -EINVAL;
		return;
	}
	nr_nodes = 1 + cmo + (mmu >= 0) + cpus;
	acpi_table_begin(ab, T, "RHCT", 1);
	PUT(ab, T, 0, 4);		/* Flags */
	PUT(ab, T, c->timebase_freq, 8);	/* Time Base Frequency */
	PUT(ab, T, nr_nodes, 4);	/* Number of RHCT nodes */
	PUT(ab, T, 56, 4);		/* Offset to the RHCT node array */

	/* ISA string node: padded to an even length */
	isa_len = strlen(isa) + 1;
	node_len = 8 + isa_len + (isa_len & 1);
	offs[0] = (uint32_t)(b->len - ab->cur_start);
	PUT(ab, T, 0, 2);		/* Type: ISA string */
	PUT(ab, T, node_len, 2);	/* Length */
	PUT(ab, T, 1, 2);		/* Revision */
	PUT(ab, T, isa_len, 2);		/* ISA length (with the NUL) */
	aml_bytes(b, isa, isa_len);	/* ISA string */
	aml_zeros(b, isa_len & 1);	/* Optional padding */

	if (cmo) {
		offs[nr_offs++] = (uint32_t)(b->len - ab->cur_start);
		PUT(ab, T, 1, 2);	/* Type: CMO */
		PUT(ab, T, 10, 2);	/* Length */
		PUT(ab, T, 1, 2);	/* Revision */
		PUT(ab, T, 0, 1);	/* Reserved */
		PUT(ab, T, block_log2(c->cbom_block_size), 1);
					/* CBOM block size (log2) */
		PUT(ab, T, 0, 1);	/* CBOP block size: no Zicbop */
		PUT(ab, T, block_log2(c->cboz_block_size), 1);
					/* CBOZ block size (log2) */
	}
	if (mmu >= 0) {
		offs[nr_offs++] = (uint32_t)(b->len - ab->cur_start);
		PUT(ab, T, 2, 2);	/* Type: MMU */
		PUT(ab, T, 8, 2);	/* Length */
		PUT(ab, T, 1, 2);	/* Revision */
		PUT(ab, T, 0, 1);	/* Reserved */
		PUT(ab, T, mmu, 1);	/* MMU: 0 Sv39, 1 Sv48, 2 Sv57 */
	}
	for (unsigned int i = 0; i < cpus; i++) {
		PUT(ab, T, 0xffff, 2);	/* Type: hart info */
		PUT(ab, T, 12 + 4 * nr_offs, 2);	/* Length */
		PUT(ab, T, 1, 2);	/* Revision */
		PUT(ab, T, nr_offs, 2);	/* Number of offsets */
		PUT(ab, T, i, 4);	/* ACPI Processor UID */
		for (unsigned int j = 0; j < nr_offs; j++)
			PUT(ab, T, offs[j], 4);	/* Offsets */
	}
	acpi_table_end(ab);
}

/*
 * Microsoft Serial Port Console Redirection Table (SPCR), revision 4
 * (spec version 1.10): the console 16550, its interrupt through the APLIC
 * (a GSI), 115200 8N1, and its ACPI namespace path.
 */
void acpi_build_spcr(struct acpi_builder *ab)
{
	const struct rivet_dev *con = ab->p->console;
	const char *ns = ab->console_path[0] ? ab->console_path : ".";
	size_t ns_len = strlen(ns) + 1;

	acpi_table_begin(ab, T, "SPCR", 4);
	PUT(ab, T, 0x12, 1);		/* Interface Type: 16550 */
	PUT(ab, T, 0, 3);		/* Reserved */
	put_gas(ab, 0, 8, 0, 1, con->base);	/* Base Address: MMIO */
	PUT(ab, T, 1U << 4, 1);		/* Interrupt Type: PLIC/APLIC */
	PUT(ab, T, 0, 1);		/* IRQ (PC-AT) */
	PUT(ab, T, con->irq.irq ? ab->p->gsi_base + con->irq.irq : 0, 4);
					/* Global System Interrupt */
	PUT(ab, T, 7, 1);		/* Configured Baud Rate: 115200 */
	PUT(ab, T, 0, 1);		/* Parity: none */
	PUT(ab, T, 1, 1);		/* Stop Bits: 1 */
	PUT(ab, T, 0, 1);		/* Flow Control: none */
	PUT(ab, T, 0, 1);		/* Terminal Type: VT100 */
	PUT(ab, T, 0, 1);		/* Language */
	PUT(ab, T, 0xffff, 2);		/* PCI Device ID: not PCI */
	PUT(ab, T, 0xffff, 2);		/* PCI Vendor ID: not PCI */
	PUT(ab, T, 0, 1);		/* PCI Bus Number */
	PUT(ab, T, 0, 1);		/* PCI Device Number */
	PUT(ab, T, 0, 1);		/* PCI Function Number */
	PUT(ab, T, 0, 4);		/* PCI Flags */
	PUT(ab, T, 0, 1);		/* PCI Segment */
	PUT(ab, T, ab->p->console_clock, 4);	/* UART Clock Frequency */
	PUT(ab, T, 0, 4);		/* Precise Baud Rate: use the above */
	PUT(ab, T, ns_len, 2);		/* NamespaceStringLength */
	PUT(ab, T, 88, 2);		/* NamespaceStringOffset */
	aml_bytes(&ab->file[T], ns, ns_len);	/* NamespaceString */
	acpi_table_end(ab);
}

/*
 * PCI Firmware Specification 3.3, 4.1.2 MCFG Table Description, revision
 * 1: one ECAM allocation.
 */
void acpi_build_mcfg(struct acpi_builder *ab)
{
	const struct acpi_pcie *pc = &ab->p->pcie;
	uint64_t buses = (uint64_t)pc->bus_end - pc->bus_start + 1;

	if (pc->bus_end < pc->bus_start || pc->ecam_size < buses << 20) {
		ab->err = ab->err ? ab->err : -EINVAL;
		return;
	}
	acpi_table_begin(ab, T, "MCFG", 1);
	PUT(ab, T, 0, 8);		/* Reserved */
	PUT(ab, T, pc->ecam_base, 8);	/* Base Address */
	PUT(ab, T, pc->segment, 2);	/* PCI Segment Group Number */
	PUT(ab, T, pc->bus_start, 1);	/* Start Bus Number */
	PUT(ab, T, pc->bus_end, 1);	/* End Bus Number */
	PUT(ab, T, 0, 4);		/* Reserved */
	acpi_table_end(ab);
}

/* ACPI 6.6, 5.2.8 Extended System Description Table (XSDT), revision 1. */
void acpi_build_xsdt(struct acpi_builder *ab)
{
	acpi_table_begin(ab, T, "XSDT", 1);
	ab->xsdt_off = (uint32_t)ab->cur_start;
	for (unsigned int i = 0; i < ab->nr_xsdt; i++)
		acpi_put_pointer(ab, T, 8, T, ab->xsdt[i]);	/* Entry */
	acpi_table_end(ab);
}

/*
 * ACPI 6.6, 5.2.5.3 Root System Description Pointer (RSDP), revision 2
 * (ACPI 2.0+): no RSDT, the XSDT only.  Two checksums: the first 20 bytes,
 * then all 36.
 */
void acpi_build_rsdp(struct acpi_builder *ab)
{
	struct aml_buf *b = &ab->file[ACPI_FILE_RSDP];
	struct acpi_fixup fx = { .kind = ACPI_FIXUP_CHECKSUM,
				 .file = ACPI_FILE_RSDP };
	size_t start = b->len;

	aml_bytes(b, "RSD PTR ", 8);	/* Signature */
	aml_le(b, 0, 1);		/* Checksum (first 20 bytes) */
	aml_bytes(b, ACPI_OEM_ID, 6);	/* OEMID */
	aml_le(b, 2, 1);		/* Revision */
	aml_le(b, 0, 4);		/* RsdtAddress: none */
	aml_le(b, 36, 4);		/* Length */
	acpi_put_pointer(ab, ACPI_FILE_RSDP, 8, T, ab->xsdt_off);
					/* XsdtAddress */
	aml_le(b, 0, 1);		/* Extended Checksum */
	aml_le(b, 0, 3);		/* Reserved */

	fx.offset = (uint32_t)start + 8;
	fx.start = (uint32_t)start;
	fx.length = 20;
	acpi_add_fixup(ab, &fx);
	fx.offset = (uint32_t)start + 32;
	fx.length = 36;
	acpi_add_fixup(ab, &fx);
	if (ab->t->nr_tables < ACPI_MAX_TABLES)
		ab->t->tables[ab->t->nr_tables++] = (struct acpi_table_ref){
			.sig = "RSD ", .file = ACPI_FILE_RSDP,
			.offset = (uint32_t)start, .length = 36 };
	else
		ab->err = ab->err ? ab->err : -ENOSPC;
}
