// SPDX-License-Identifier: MIT
/* The primitives every table builder uses: headers, checksums and pointers
 * recorded as fix-ups.  Knows no table. */
#include "acpi/builder.h"

#include <errno.h>
#include <string.h>

#define TABLE_ALIGN 8

void acpi_builder_fail(struct acpi_builder *ab, int err)
{
	if (!ab->err)
		ab->err = err;
}

int acpi_builder_error(const struct acpi_builder *ab)
{
	if (ab->err)
		return ab->err;
	for (int f = 0; f < ACPI_NR_FILES; f++)
		if (ab->file[f].err)
			return ab->file[f].err;
	return 0;
}

void acpi_add_fixup(struct acpi_builder *ab, const struct acpi_fixup *fx)
{
	struct acpi_tables *t = ab->t;

	if (t->nr_fixups >= ACPI_MAX_FIXUPS) {
		acpi_builder_fail(ab, -ENOSPC);
		return;
	}
	t->fixups[t->nr_fixups++] = *fx;
}

void acpi_put_pointer(struct acpi_builder *ab, enum acpi_file f,
		      unsigned int size, enum acpi_file target,
		      uint32_t target_off)
{
	struct acpi_fixup fx = {
		.kind = ACPI_FIXUP_POINTER, .file = f,
		.offset = (uint32_t)ab->file[f].len, .size = (uint8_t)size,
		.target = target,
	};

	aml_le(&ab->file[f], target_off, size);
	acpi_add_fixup(ab, &fx);
}

void acpi_table_begin(struct acpi_builder *ab, enum acpi_file f,
		      const char *sig, uint8_t rev)
{
	struct aml_buf *b = &ab->file[f];

	aml_zeros(b, (TABLE_ALIGN - b->len % TABLE_ALIGN) % TABLE_ALIGN);
	ab->cur_file = f;
	ab->cur_start = b->len;
	memcpy(ab->cur_sig, sig, 4);
	ab->cur_sig[4] = '\0';
	/* 5.2.6 System Description Table Header */
	aml_bytes(b, sig, 4);			/* Signature */
	aml_le(b, 0, 4);			/* Length: at the end */
	aml_le(b, rev, 1);			/* Revision */
	aml_le(b, 0, 1);			/* Checksum: a fix-up */
	aml_bytes(b, ACPI_OEM_ID, 6);		/* OEMID */
	aml_bytes(b, ACPI_OEM_TABLE_ID, 8);	/* OEM Table ID */
	aml_le(b, 1, 4);			/* OEM Revision */
	aml_bytes(b, ACPI_CREATOR_ID, 4);	/* Creator ID */
	aml_le(b, ACPI_CREATOR_REV, 4);		/* Creator Revision */
}

void acpi_table_end(struct acpi_builder *ab)
{
	struct aml_buf *b = &ab->file[ab->cur_file];
	struct acpi_tables *t = ab->t;
	size_t len = b->len - ab->cur_start;
	struct acpi_fixup fx = {
		.kind = ACPI_FIXUP_CHECKSUM, .file = ab->cur_file,
		.offset = (uint32_t)(ab->cur_start + ACPI_HDR_CHECKSUM),
		.start = (uint32_t)ab->cur_start, .length = (uint32_t)len,
	};

	if (acpi_builder_error(ab))
		return;
	if (len > UINT32_MAX || t->nr_tables >= ACPI_MAX_TABLES) {
		acpi_builder_fail(ab, -ENOSPC);
		return;
	}
	aml_patch_le(b, ab->cur_start + 4, len, 4);
	acpi_add_fixup(ab, &fx);
	t->tables[t->nr_tables++] = (struct acpi_table_ref){
		.file = ab->cur_file, .offset = (uint32_t)ab->cur_start,
		.length = (uint32_t)len };
	memcpy(t->tables[t->nr_tables - 1].sig, ab->cur_sig, 5);
}
