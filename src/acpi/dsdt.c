// SPDX-License-Identifier: MIT
/*
 * ACPI 6.6, 5.2.11.1 Differentiated System Description Table (DSDT),
 * revision 2 (64-bit integers).  Everything lives in Scope (\_SB):
 *   - one processor device (ACPI0007) per hart, _UID = hart id, _MAT = its
 *     MADT RINTC structure (8.4 "Declaring Processors");
 *   - the APLIC (RSCV0002) with _GSB, the GSI its source 0 maps to, which
 *     Linux needs to route the devices' GSIs;
 *   - then every device's acpi_dsdt hook, in device order.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "acpi/tables.h"
#include "core/device.h"
#include "core/log.h"
#include "machine/machine.h"

static void add_cpus(struct aml_buf *b, const struct machine *m)
{
	for (unsigned int i = 0; i < m->cfg->cpus; i++) {
		uint8_t rintc[ACPI_RINTC_SIZE];
		struct aml_buf mat;
		char name[5];

		aml_init(&mat, sizeof(rintc));
		acpi_put_rintc(&mat, m, i);
		if (mat.err || mat.len != sizeof(rintc)) {
			aml_fail(b, mat.err ? mat.err : -EINVAL);
			aml_free(&mat);
			return;
		}
		memcpy(rintc, mat.data, sizeof(rintc));
		aml_free(&mat);

		snprintf(name, sizeof(name), "C%03X", i & 0xfff);
		aml_device_begin(b, name);
		aml_name_str(b, "_HID", "ACPI0007");
		aml_name_int(b, "_UID", i);
		aml_name_buffer(b, "_MAT", rintc, sizeof(rintc));
		aml_end(b);
	}
}

/* Device (IC00): the wired interrupt controller, its window and the GSI of
 * its source 0: the APLIC (RSCV0002) or the PLIC (RSCV0001). */
static void add_irqchip(struct aml_buf *b, const struct machine *m)
{
	bool plic = m->irqchip_mode == IRQCHIP_PLIC;
	const char *hid = plic ? "RSCV0001" : "RSCV0002";

	aml_device_begin(b, "IC00");
	aml_name_str(b, "_HID", hid);
	aml_name_int(b, "_UID", aml_next_uid(b, hid));
	aml_name_int(b, "_GSB", b->gsi_base);
	aml_name(b, "_CRS");
	aml_resource_template_begin(b);
	if (plic)
		aml_memory32_fixed(b, m->plic.base, m->plic.size, true);
	else
		aml_memory32_fixed(b, m->aia.aplic_base, m->aia.aplic_size,
				   true);
	aml_end(b);
	aml_end(b);
}

void acpi_build_dsdt(struct acpi_builder *ab)
{
	const struct machine *m = ab->m;
	struct aml_buf *b = &ab->file[ACPI_FILE_TABLES];

	if (m->cfg->cpus > 0x1000) {
		aml_fail(b, -EINVAL);
		return;
	}
	acpi_table_begin(ab, ACPI_FILE_TABLES, "DSDT", 2);
	ab->dsdt_off = (uint32_t)ab->cur_start;
	b->gsi_base = ab->p->gsi_base;
	aml_scope_begin(b, "\\_SB");
	add_cpus(b, m);
	add_irqchip(b, m);
	for (unsigned int i = 0; i < m->nr_devs && !b->err; i++) {
		struct rivet_dev *d = m->devs[i];
		int ret;

		if (!d->ops->acpi_dsdt)
			continue;
		memset(b->last_device, 0, sizeof(b->last_device));
		ret = d->ops->acpi_dsdt(d, b);
		if (!ret && b->depth != 1)	/* the hook left a block open */
			ret = -EINVAL;
		if (ret) {
			log_err("%s: ACPI DSDT: %s", d->ops->name,
				strerror(-ret));
			aml_fail(b, ret);
			break;
		}
		if (d == ab->p->console && b->last_device[0])
			snprintf(ab->console_path, sizeof(ab->console_path),
				 "\\_SB.%s", b->last_device);
	}
	aml_end(b);
	acpi_table_end(ab);
}
