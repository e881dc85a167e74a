/* SPDX-License-Identifier: MIT */
/* Internal to src/acpi: one builder per table (tables.c, dsdt.c), called by
 * the assembly in build.c. */
#ifndef RIVET_ACPI_TABLES_H
#define RIVET_ACPI_TABLES_H

#include <stdint.h>

#include "acpi/builder.h"

struct machine;

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
