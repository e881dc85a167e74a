/* SPDX-License-Identifier: MIT */
/* ACPI tables for the virt board, built from the same struct machine as the
 * device tree (ACPI 6.6; RISC-V as QEMU's virt board and Linux expect it).
 *
 * acpi_build() produces two "files", exactly what fw_cfg hands firmware:
 *   etc/acpi/tables   DSDT, FACP, APIC (MADT), RHCT, SPCR, MCFG, XSDT
 *   etc/acpi/rsdp     the RSDP
 * with checksum fields zero and pointer fields holding the offset of their
 * target inside its file, plus an ordered list of fix-ups (patch a pointer
 * by the target file's address; compute a checksum) — the ADD_POINTER /
 * ADD_CHECKSUM commands of QEMU's table loader (src/fwcfg/table_loader.h:
 * ALLOCATE each file with acpi_file_align/zone, then one tl_add_pointer()
 * or tl_add_checksum() per fix-up, in order).  acpi_link() applies them
 * itself for a given guest address (direct boot, acpi-dump). */
#ifndef RIVET_ACPI_H
#define RIVET_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct machine;
struct rivet_dev;

#define ACPI_MAX_TABLES 16
#define ACPI_MAX_FIXUPS 64
#define ACPI_OEM_ID "RIVET "		/* 6 bytes */
#define ACPI_OEM_TABLE_ID "RIVETVM "	/* 8 bytes */
#define ACPI_CREATOR_ID "RIVT"
#define ACPI_CREATOR_REV 1

/* A PCIe host bridge's ECAM, for the MCFG (its DSDT device is added by the
 * host bridge's own acpi_dsdt hook). */
struct acpi_pcie {
	uint64_t ecam_base;
	uint64_t ecam_size;	/* 1 MiB per bus */
	uint16_t segment;
	uint8_t bus_start, bus_end;
};

/* What the tables need beyond struct machine (see acpi_platform_init()). */
struct acpi_platform {
	uint32_t gsi_base;		/* GSI of APLIC source 0; 0 */
	const struct rivet_dev *console;	/* SPCR; NULL: no SPCR */
	uint32_t console_clock;		/* its input clock, Hz; 0: not given */
	bool has_pcie;
	struct acpi_pcie pcie;
};

/* Defaults from @m: GSI base 0, the SPCR console = m->console if it is a
 * 16550 (its clock unknown), no PCIe.  Boards fill in what they know: the
 * console's clock, p->pcie with has_pcie. */
void acpi_platform_init(struct acpi_platform *p, const struct machine *m);

enum acpi_file { ACPI_FILE_TABLES, ACPI_FILE_RSDP, ACPI_NR_FILES };

/* fw_cfg file names, indexed by enum acpi_file. */
extern const char *const acpi_file_names[ACPI_NR_FILES];
/* Table loader ALLOCATE alignment and zone (1 = high, 2 = FSEG). */
extern const uint32_t acpi_file_align[ACPI_NR_FILES];
extern const uint8_t acpi_file_zone[ACPI_NR_FILES];

enum acpi_fixup_kind { ACPI_FIXUP_POINTER, ACPI_FIXUP_CHECKSUM };

struct acpi_fixup {
	enum acpi_fixup_kind kind;
	enum acpi_file file;	/* the file holding the field */
	uint32_t offset;	/* the pointer field / the checksum byte */
	/* POINTER: a @size-byte little-endian field holding an offset into
	 * @target; add @target's guest address. */
	uint8_t size;
	enum acpi_file target;
	/* CHECKSUM: make bytes [@start, @start + @length) sum to 0. */
	uint32_t start, length;
};

struct acpi_table_ref {
	char sig[5];		/* "DSDT", "APIC", ..., "RSD " for the RSDP */
	enum acpi_file file;
	uint32_t offset, length;
};

struct acpi_tables {
	uint8_t *data[ACPI_NR_FILES];
	size_t size[ACPI_NR_FILES];
	struct acpi_fixup fixups[ACPI_MAX_FIXUPS];	/* apply in order */
	unsigned int nr_fixups;
	struct acpi_table_ref tables[ACPI_MAX_TABLES];	/* build order */
	unsigned int nr_tables;
};

/* Build all tables for @m (harts 0..m->cfg->cpus-1, the AIA layout, the CPU
 * description, every device's acpi_dsdt hook in device order).  0 or
 * -errno; on success free with acpi_tables_free(). */
int acpi_build(const struct machine *m, const struct acpi_platform *p,
	       struct acpi_tables *t);
void acpi_tables_free(struct acpi_tables *t);

/* The linked image: the tables file at @gpa, then the RSDP at the next
 * 16-byte boundary. */
size_t acpi_linked_size(const struct acpi_tables *t);
/* Copy both files into @out (@size >= acpi_linked_size()) and apply every
 * fix-up as if the tables were loaded at @gpa.  Sets *@rsdp_gpa.  0 or
 * -errno (-ENOSPC: @out too small; -EINVAL: a fix-up out of range). */
int acpi_link(const struct acpi_tables *t, uint64_t gpa, uint8_t *out,
	      size_t size, uint64_t *rsdp_gpa);

/* Find a table by signature in a built set; NULL if absent. */
const struct acpi_table_ref *acpi_find_table(const struct acpi_tables *t,
					     const char *sig);

#endif
