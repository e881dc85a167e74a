// SPDX-License-Identifier: MIT
/* Assemble the tables into their two files with a fix-up list (the way
 * bhyve's basl.c and QEMU's table loader work), link them for a given guest
 * address and dump them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

#define TABLE_ALIGN 8

void acpi_platform_init(struct acpi_platform *p, const struct machine *m)
{
	memset(p, 0, sizeof(*p));
	if (m->console && m->console->ops &&
	    !strcmp(m->console->ops->name, "uart16550"))
		p->console = m->console;
}

static void set_err(struct acpi_builder *ab, int err)
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
		set_err(ab, -ENOSPC);
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
		set_err(ab, -ENOSPC);
		return;
	}
	aml_patch_le(b, ab->cur_start + 4, len, 4);
	acpi_add_fixup(ab, &fx);
	t->tables[t->nr_tables++] = (struct acpi_table_ref){
		.file = ab->cur_file, .offset = (uint32_t)ab->cur_start,
		.length = (uint32_t)len };
	memcpy(t->tables[t->nr_tables - 1].sig, ab->cur_sig, 5);
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
		set_err(ab, -EINVAL);
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

static int write_file(const char *dir, const char *name, const uint8_t *p,
		      size_t len)
{
	char path[4096];
	ssize_t w;
	int fd, err = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s.dat", dir, name) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = -errno;
		log_err("%s: %s", path, strerror(errno));
		return err;
	}
	while (len) {
		w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			err = w < 0 ? -errno : -EIO;
			log_err("%s: %s", path, strerror(-err));
			break;
		}
		p += w;
		len -= (size_t)w;
	}
	if (close(fd) && !err)
		err = -errno;
	return err;
}

int acpi_dump_dir_platform(const struct machine *m,
			   const struct acpi_platform *p, const char *dir)
{
	struct acpi_platform dflt;
	struct acpi_tables t;
	uint8_t *img = NULL;
	size_t size;
	int err;

	if (!p) {
		acpi_platform_init(&dflt, m);
		p = &dflt;
	}
	err = acpi_build(m, p, &t);
	if (err)
		return err;
	size = acpi_linked_size(&t);
	img = malloc(size);
	err = img ? acpi_link(&t, m->ram.base, img, size, NULL) : -ENOMEM;
	for (unsigned int i = 0; !err && i < t.nr_tables; i++) {
		const struct acpi_table_ref *r = &t.tables[i];
		size_t off = r->offset +
			     (r->file == ACPI_FILE_RSDP ? rsdp_offset(&t) : 0);

		err = write_file(dir, r->file == ACPI_FILE_RSDP ? "RSDP" :
				 r->sig, img + off, r->length);
	}
	free(img);
	acpi_tables_free(&t);
	return err;
}

int acpi_dump_dir(const struct machine *m, const char *dir)
{
	return acpi_dump_dir_platform(m, NULL, dir);
}
