// SPDX-License-Identifier: MIT
/* Assemble the board's tables (tables.c, dsdt.c) into their two files with
 * a fix-up list (the way bhyve's basl.c and QEMU's table loader work), and
 * link them for a given guest address. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acpi/tables.h"
#include "core/device.h"
#include "core/log.h"
#include "machine/machine.h"

const char *const acpi_file_names[ACPI_NR_FILES] = {
	[ACPI_FILE_TABLES] = "etc/acpi/tables",
	[ACPI_FILE_RSDP] = "etc/acpi/rsdp",
};
const uint32_t acpi_file_align[ACPI_NR_FILES] = {
	[ACPI_FILE_TABLES] = 64,
	[ACPI_FILE_RSDP] = 16,
};
const uint8_t acpi_file_zone[ACPI_NR_FILES] = {
	[ACPI_FILE_TABLES] = 1,	/* high */
	[ACPI_FILE_RSDP] = 2,	/* FSEG */
};

void acpi_platform_init(struct acpi_platform *p, const struct machine *m)
{
	memset(p, 0, sizeof(*p));
	if (m->console && m->console->ops &&
	    !strcmp(m->console->ops->name, "uart16550"))
		p->console = m->console;
}

/* Build one table and, if @listed, list it in the XSDT. */
static void add(struct acpi_builder *ab, void (*build)(struct acpi_builder *),
		bool listed)
{
	unsigned int before = ab->t->nr_tables;

	build(ab);
	if (acpi_builder_error(ab) || !listed)
		return;
	if (ab->t->nr_tables != before + 1 || ab->nr_xsdt >= ACPI_MAX_TABLES) {
		acpi_builder_fail(ab, -EINVAL);
		return;
	}
	ab->xsdt[ab->nr_xsdt++] = ab->t->tables[before].offset;
}

int acpi_build(const struct machine *m, const struct acpi_platform *p,
	       struct acpi_tables *t)
{
	struct acpi_builder ab = { .m = m, .p = p, .t = t };
	int err;

	memset(t, 0, sizeof(*t));
	if (!m || !p || !m->cfg || !m->cfg->cpus || m->cfg->cpus > 0x1000)
		return -EINVAL;
	for (int f = 0; f < ACPI_NR_FILES; f++)
		aml_init(&ab.file[f], 0);

	/* Order as QEMU's virt: the DSDT first (the FADT points at it), then
	 * the tables the XSDT lists, then the XSDT; the RSDP on its own. */
	add(&ab, acpi_build_dsdt, false);
	add(&ab, acpi_build_fadt, true);
	add(&ab, acpi_build_madt, true);
	add(&ab, acpi_build_rhct, true);
	if (p->console)
		add(&ab, acpi_build_spcr, true);
	if (p->has_pcie)
		add(&ab, acpi_build_mcfg, true);
	add(&ab, acpi_build_xsdt, false);
	acpi_build_rsdp(&ab);

	err = acpi_builder_error(&ab);
	for (int f = 0; f < ACPI_NR_FILES; f++) {
		if (!err)
			err = aml_finish(&ab.file[f]);
		if (err) {
			aml_free(&ab.file[f]);
			continue;
		}
		t->data[f] = ab.file[f].data;
		t->size[f] = ab.file[f].len;
	}
	if (err) {
		log_err("ACPI tables: %s", strerror(-err));
		acpi_tables_free(t);
	}
	return err;
}

void acpi_tables_free(struct acpi_tables *t)
{
	for (int f = 0; f < ACPI_NR_FILES; f++) {
		free(t->data[f]);
		t->data[f] = NULL;
		t->size[f] = 0;
	}
	t->nr_fixups = t->nr_tables = 0;
}

const struct acpi_table_ref *acpi_find_table(const struct acpi_tables *t,
					     const char *sig)
{
	for (unsigned int i = 0; i < t->nr_tables; i++)
		if (!strncmp(t->tables[i].sig, sig, 4))
			return &t->tables[i];
	return NULL;
}

static size_t rsdp_offset(const struct acpi_tables *t)
{
	return (t->size[ACPI_FILE_TABLES] + 15) & ~(size_t)15;
}

size_t acpi_linked_size(const struct acpi_tables *t)
{
	return rsdp_offset(t) + t->size[ACPI_FILE_RSDP];
}

int acpi_link(const struct acpi_tables *t, uint64_t gpa, uint8_t *out,
	      size_t size, uint64_t *rsdp_gpa)
{
	size_t base[ACPI_NR_FILES] = { 0, rsdp_offset(t) };

	if (size < acpi_linked_size(t) || gpa > UINT64_MAX - size)
		return -ENOSPC;
	memset(out, 0, acpi_linked_size(t));
	for (int f = 0; f < ACPI_NR_FILES; f++)
		if (t->size[f])
			memcpy(out + base[f], t->data[f], t->size[f]);

	for (unsigned int i = 0; i < t->nr_fixups; i++) {
		const struct acpi_fixup *fx = &t->fixups[i];
		uint8_t *p = out + base[fx->file];
		size_t fsize = t->size[fx->file];

		if (fx->kind == ACPI_FIXUP_POINTER) {
			uint64_t v = 0;

			if ((fx->size != 4 && fx->size != 8) ||
			    fx->offset > fsize || fx->size > fsize - fx->offset)
				return -EINVAL;
			for (unsigned int j = 0; j < fx->size; j++)
				v |= (uint64_t)p[fx->offset + j] << (8 * j);
			if (v >= t->size[fx->target])
				return -EINVAL;
			v += gpa + base[fx->target];
			if (fx->size == 4 && v > UINT32_MAX)
				return -ERANGE;
			for (unsigned int j = 0; j < fx->size; j++)
				p[fx->offset + j] = (uint8_t)(v >> (8 * j));
		} else {
			uint8_t sum = 0;

			if (fx->start > fsize || fx->length > fsize - fx->start ||
			    fx->offset < fx->start ||
			    fx->offset >= fx->start + fx->length)
				return -EINVAL;
			p[fx->offset] = 0;
			for (uint32_t j = 0; j < fx->length; j++)
				sum = (uint8_t)(sum + p[fx->start + j]);
			p[fx->offset] = (uint8_t)-sum;
		}
	}
	if (rsdp_gpa)
		*rsdp_gpa = gpa + base[ACPI_FILE_RSDP];
	return 0;
}
