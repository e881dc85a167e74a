/* SPDX-License-Identifier: MIT */
/* Internal to src/acpi: the state of one build and the primitives the table
 * builders share (acpi/builder.c). */
#ifndef RIVET_ACPI_BUILDER_H
#define RIVET_ACPI_BUILDER_H

#include <stdint.h>

#include "acpi/acpi.h"
#include "acpi/aml.h"

struct machine;

#define ACPI_HDR_SIZE 36	/* 5.2.6 System Description Table Header */
#define ACPI_HDR_CHECKSUM 9
#define ACPI_RINTC_SIZE 36
#define ACPI_PLIC_ID 0		/* the one PLIC (MADT, RINTC) */
#define ACPI_PLIC_MAX_PRIORITY 7	/* what rivet's PLIC implements */

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
/* The first error of the build (sticky) or of any of its buffers; 0. */
int acpi_builder_error(const struct acpi_builder *ab);
/* Record @err unless an earlier error is recorded. */
void acpi_builder_fail(struct acpi_builder *ab, int err);

#endif
