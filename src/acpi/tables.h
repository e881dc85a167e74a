/* SPDX-License-Identifier: MIT */
/* Internal to src/acpi: the table builders and what they share. */
#ifndef RIVET_ACPI_TABLES_H
#define RIVET_ACPI_TABLES_H

#include <stdint.h>

#include "acpi/acpi.h"
#include "acpi/aml.h"

struct machine;

#define ACPI_HDR_SIZE 36	/* 5.2.6 System Description Table Header */
#define ACPI_HDR_CHECKSUM 9
#define ACPI_RINTC_SIZE 36

struct acpi_builder {
	const struct machine *m;
	const struct acpi_platform *p;
	struct acpi_tables *t;
	struct aml_buf file[ACPI_NR_FILES];
	/* The table being written. */
	enum acpi_file cur_file;
	size_t cur_start;
	char cur_sig[5];
	/* Offsets (in the tables file) of the tables the XSDT lists. */
	uint32_t xsdt[ACPI_MAX_TABLES];
	unsigned int nr_xsdt;
	uint32_t dsdt_off, xsdt_off;
	char console_path[16];	/* "\\_SB.COM0"; empty: not in the DSDT */
	int err;		/* sticky, besides the buffers' own */
};

/* Header and trailer of one table; table_end() records it and its checksum
 * fix-up. */
void acpi_table_begin(struct acpi_builder *ab, enum acpi_file f,
		      const char *sig, uint8_t rev);
void acpi_table_end(struct acpi_builder *ab);
/* Write a @size-byte pointer field at the current position of @f pointing
 * at offset @target_off of @target, and record its fix-up. */
void acpi_put_pointer(struct acpi_builder *ab, enum acpi_file f,
		      unsigned int size, enum acpi_file target,
		      uint32_t target_off);
void acpi_add_fixup(struct acpi_builder *ab, const struct acpi_fixup *fx);
int acpi_builder_error(const struct acpi_builder *ab);

/* The MADT RINTC structure of @hart (also the CPU's _MAT). */
void acpi_put_rintc(struct aml_buf *b, const struct machine *m,
		    unsigned int hart);

/* One builder per table; each appends to ab->file[]. */
void acpi_build_dsdt(struct acpi_builder *ab);
void acpi_build_fadt(struct acpi_builder *ab);
void acpi_build_madt(struct acpi_builder *ab);
void acpi_build_rhct(struct acpi_builder *ab);
void acpi_build_spcr(struct acpi_builder *ab);
void acpi_build_mcfg(struct acpi_builder *ab);
void acpi_build_xsdt(struct acpi_builder *ab);
void acpi_build_rsdp(struct acpi_builder *ab);

#endif
