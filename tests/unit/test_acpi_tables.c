// SPDX-License-Identifier: MIT
/* The ACPI tables of the virt board, built by the board itself (2 harts,
 * tests/support/board.h): every table's signature, length, revision and
 * checksum after linking, the key fields, the pointers, the fix-up list,
 * and agreement with the device tree.
 *
 * Also a dump mode for tests/acpi/check.sh (not a test):
 *   RIVET_AML_DUMP=DIR   write DIR/SSDT.dat, a table using every AML builder
 *                        call, for iasl to check
 * (the board's own tables come from `rivet acpi-dump`, test_acpi_dump). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acpi/acpi.h"
#include "acpi/aml.h"
#include "cmd/cmd.h"
#include "core/device.h"
#include "devices/uart16550.h"
#include "machine/virt/virt.h"
#include "tests/support/board.h"

#define LINK_GPA 0x87000000ULL
#define TIMEBASE 10000000ULL	/* machine_typical_cpu() */

/* The virt board and the ACPI platform it describes. */
struct acpi_virt {
	struct tboard b;
	struct acpi_platform p;
};

static void acpi_virt_mode(struct acpi_virt *v, unsigned int cpus,
			   enum irqchip_mode mode)
{
	assert_int_equal(tboard_try(&v->b, "virt", cpus, 1ULL << 30, 0, mode),
			 0);
	v->b.m.board->acpi_platform(&v->b.m, &v->p);
}

static void acpi_virt_init(struct acpi_virt *v, unsigned int cpus)
{
	acpi_virt_mode(v, cpus, IRQCHIP_AIA);
}

static void acpi_virt_fini(struct acpi_virt *v)
{
	tboard_destroy(&v->b);
}

struct fixture {
	struct acpi_virt v;
	struct acpi_tables t;
	uint8_t *img;
	size_t size;
	uint64_t rsdp_gpa;
};

static uint64_t le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static int build(struct fixture *f)
{
	int ret = acpi_build(&f->v.b.m, &f->v.p, &f->t);

	if (ret)
		return ret;
	f->size = acpi_linked_size(&f->t);
	f->img = malloc(f->size);
	if (!f->img)
		return -ENOMEM;
	return acpi_link(&f->t, LINK_GPA, f->img, f->size, &f->rsdp_gpa);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	acpi_virt_init(&f->v, 2);
	assert_int_equal(build(f), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->img);
	acpi_tables_free(&f->t);
	acpi_virt_fini(&f->v);
	free(f);
	return 0;
}

/* The linked table @sig (asserting it exists), its guest address. */
static const uint8_t *table(struct fixture *f, const char *sig,
			    uint64_t *gpa)
{
	const struct acpi_table_ref *r = acpi_find_table(&f->t, sig);
	size_t off;

	if (!r)
		fail_msg("no table %s", sig);
	off = r->offset;
	if (r->file == ACPI_FILE_RSDP)
		off += f->rsdp_gpa - LINK_GPA;
	if (gpa)
		*gpa = LINK_GPA + off;
	return f->img + off;
}

static void test_headers(void **state)
{
	static const struct {
		const char *sig;
		uint8_t rev;
		uint32_t len;	/* 0: variable */
	} exp[] = {
		{ "DSDT", 2, 0 }, { "FACP", 6, 276 }, { "APIC", 7, 168 },
		{ "RHCT", 1, 0 }, { "SPCR", 4, 98 }, { "MCFG", 1, 60 },
		{ "XSDT", 1, 36 + 5 * 8 },
	};
	struct fixture *f = *state;

	assert_int_equal(f->t.nr_tables, 8);	/* + the RSDP */
	for (size_t i = 0; i < sizeof(exp) / sizeof(exp[0]); i++) {
		const struct acpi_table_ref *r = &f->t.tables[i];
		const uint8_t *p = table(f, exp[i].sig, NULL);

		/* Build order is the blob order, as QEMU's virt. */
		assert_string_equal(r->sig, exp[i].sig);
		assert_int_equal(r->file, ACPI_FILE_TABLES);
		assert_int_equal(r->offset % 8, 0);
		assert_memory_equal(p, exp[i].sig, 4);
		assert_int_equal(le(p + 4, 4), r->length);
		if (exp[i].len)
			assert_int_equal(r->length, exp[i].len);
		assert_int_equal(p[8], exp[i].rev);
		assert_int_equal(sum8(p, r->length), 0);
		assert_memory_equal(p + 10, "RIVET ", 6);
		assert_memory_equal(p + 16, "RIVETVM ", 8);
		assert_memory_equal(p + 28, "RIVT", 4);
	}
}

static void test_rsdp_xsdt(void **state)
{
	static const char *const listed[] = { "FACP", "APIC", "RHCT", "SPCR",
					      "MCFG" };
	struct fixture *f = *state;
	uint64_t gpa, xsdt_gpa;
	const uint8_t *rsdp = table(f, "RSD ", &gpa);
	const uint8_t *xsdt = table(f, "XSDT", &xsdt_gpa);

	assert_int_equal(gpa, f->rsdp_gpa);
	assert_int_equal(f->rsdp_gpa % 16, 0);
	assert_memory_equal(rsdp, "RSD PTR ", 8);
	assert_int_equal(sum8(rsdp, 20), 0);
	assert_int_equal(sum8(rsdp, 36), 0);
	assert_memory_equal(rsdp + 9, "RIVET ", 6);
	assert_int_equal(rsdp[15], 2);			/* revision */
	assert_int_equal(le(rsdp + 16, 4), 0);		/* no RSDT */
	assert_int_equal(le(rsdp + 20, 4), 36);		/* length */
	assert_int_equal(le(rsdp + 24, 8), xsdt_gpa);
	for (size_t i = 0; i < 5; i++) {
		uint64_t want;

		table(f, listed[i], &want);
		assert_int_equal(le(xsdt + 36 + 8 * i, 8), want);
	}
}

static void test_fadt(void **state)
{
	struct fixture *f = *state;
	uint64_t dsdt_gpa;
	const uint8_t *p = table(f, "FACP", NULL);

	table(f, "DSDT", &dsdt_gpa);
	assert_int_equal(le(p + 36, 4), 0);		/* FIRMWARE_CTRL */
	assert_int_equal(le(p + 40, 4), 0);		/* DSDT (32-bit) */
	assert_int_equal(le(p + 112, 4), 1U << 20);	/* HW_REDUCED_ACPI */
	assert_int_equal(p[131], 6);			/* minor: 6.6 */
	assert_int_equal(le(p + 132, 8), 0);		/* X_FIRMWARE_CTRL */
	assert_int_equal(le(p + 140, 8), dsdt_gpa);	/* X_DSDT */
	assert_memory_equal(p + 268, "RIVET\0\0\0", 8);
}

static void test_madt(void **state)
{
	struct fixture *f = *state;
	const uint8_t *p = table(f, "APIC", NULL), *end;
	unsigned int rintc = 0, imsic = 0, aplic = 0;

	end = p + le(p + 4, 4);
	for (const uint8_t *s = p + 44; s < end; s += s[1]) {
		assert_true(s[1] >= 2 && s + s[1] <= end);
		switch (s[0]) {
		case 0x18:
			assert_int_equal(s[1], 36);
			assert_int_equal(le(s + 4, 4), 1);	/* enabled */
			assert_int_equal(le(s + 8, 8), rintc);	/* hart id */
			assert_int_equal(le(s + 16, 4), rintc);	/* UID */
			assert_int_equal(le(s + 20, 4), 0);
			assert_int_equal(le(s + 24, 8),
					 VIRT_IMSIC_BASE +
						 rintc * VIRT_IMSIC_STRIDE);
			assert_int_equal(le(s + 32, 4), VIRT_IMSIC_STRIDE);
			rintc++;
			break;
		case 0x19:
			assert_int_equal(s[1], 16);
			assert_int_equal(le(s + 8, 2), VIRT_IMSIC_IDS);
			assert_int_equal(s[12], 0);	/* guest index bits */
			assert_int_equal(s[13], 1);	/* hart index bits */
			assert_int_equal(s[14], 0);	/* group index bits */
			assert_int_equal(s[15], 24);	/* group index shift */
			imsic++;
			break;
		case 0x1a:
			assert_int_equal(s[1], 36);
			assert_int_equal(le(s + 16, 2), 0);	/* IDCs */
			assert_int_equal(le(s + 18, 2), VIRT_APLIC_SOURCES);
			assert_int_equal(le(s + 20, 4), 0);	/* GSI base */
			assert_int_equal(le(s + 24, 8), VIRT_APLIC_BASE);
			assert_int_equal(le(s + 32, 4), VIRT_APLIC_SIZE);
			aplic++;
			break;
		default:
			fail_msg("unexpected MADT structure %u", s[0]);
		}
	}
	assert_int_equal(rintc, f->v.b.cfg.cpus);
	assert_int_equal(imsic, 1);
	assert_int_equal(aplic, 1);
}

/* --irqchip plic: each RINTC names the PLIC and the hart's S-mode context
 * and has no IMSIC; one PLIC structure; the DSDT's IC00 is RSCV0001 over
 * the PLIC's window; no IMSIC or APLIC anywhere.  split shows the guest
 * exactly the tables of aia. */
static void test_irqchip_modes(void **state)
{
	struct acpi_virt v, w;
	struct acpi_tables t, u;
	const uint8_t *p, *d, *end;
	unsigned int rintc = 0, plic = 0;

	(void)state;
	acpi_virt_mode(&v, 4, IRQCHIP_PLIC);
	assert_int_equal(acpi_build(&v.b.m, &v.p, &t), 0);
	p = t.data[ACPI_FILE_TABLES] + acpi_find_table(&t, "APIC")->offset;
	end = p + le(p + 4, 4);
	for (const uint8_t *s = p + 44; s < end; s += s[1]) {
		assert_true(s[1] >= 2 && s + s[1] <= end);
		if (s[0] == 0x18) {
			assert_int_equal(le(s + 20, 4), rintc);	/* PLIC 0 */
			assert_int_equal(le(s + 24, 8), 0);	/* no IMSIC */
			assert_int_equal(le(s + 32, 4), 0);
			rintc++;
		} else {
			assert_int_equal(s[0], 0x1b);
			assert_int_equal(s[1], 36);
			assert_int_equal(s[2], 1);		/* version */
			assert_int_equal(s[3], 0);		/* PLIC ID */
			assert_int_equal(le(s + 12, 2), VIRT_APLIC_SOURCES);
			assert_int_equal(le(s + 14, 2), 7);	/* max prio */
			assert_int_equal(le(s + 20, 4), 0x200000 + 4 * 0x1000);
			assert_int_equal(le(s + 24, 8), VIRT_PLIC_BASE);
			assert_int_equal(le(s + 32, 4), 0);	/* GSI base */
			plic++;
		}
	}
	assert_int_equal(rintc, 4);
	assert_int_equal(plic, 1);
	d = t.data[ACPI_FILE_TABLES] + acpi_find_table(&t, "DSDT")->offset;
	assert_non_null(memmem(d, le(d + 4, 4), "RSCV0001", 8));
	assert_null(memmem(d, le(d + 4, 4), "RSCV0002", 8));
	acpi_tables_free(&t);
	acpi_virt_fini(&v);

	acpi_virt_mode(&v, 2, IRQCHIP_SPLIT);
	acpi_virt_mode(&w, 2, IRQCHIP_AIA);
	assert_int_equal(acpi_build(&v.b.m, &v.p, &t), 0);
	assert_int_equal(acpi_build(&w.b.m, &w.p, &u), 0);
	for (int f = 0; f < ACPI_NR_FILES; f++) {
		assert_int_equal(t.size[f], u.size[f]);
		assert_memory_equal(t.data[f], u.data[f], t.size[f]);
	}
	acpi_tables_free(&t);
	acpi_tables_free(&u);
	acpi_virt_fini(&v);
	acpi_virt_fini(&w);
}

static void test_rhct(void **state)
{
	struct fixture *f = *state;
	const uint8_t *p = table(f, "RHCT", NULL);
	uint32_t len = (uint32_t)le(p + 4, 4), n = (uint32_t)le(p + 48, 4);
	static uint8_t fdt[MACHINE_FDT_MAX];
	unsigned int harts = 0;
	const char *isa = NULL, *fdt_isa;
	int l;

	assert_int_equal(le(p + 40, 8), TIMEBASE);
	assert_int_equal(le(p + 52, 4), 56);
	assert_int_equal(n, 3 + f->v.b.cfg.cpus);	/* ISA, CMO, MMU, harts */
	for (uint32_t off = 56, i = 0; i < n; i++) {
		const uint8_t *node = p + off;
		uint16_t type = (uint16_t)le(node, 2);
		uint16_t nlen = (uint16_t)le(node + 2, 2);

		assert_true(nlen >= 8 && off + nlen <= len);
		assert_int_equal(le(node + 4, 2), 1);	/* revision */
		if (type == 0) {
			isa = (const char *)node + 8;
			assert_int_equal(le(node + 6, 2), strlen(isa) + 1);
			assert_int_equal(nlen % 2, 0);
		} else if (type == 1) {
			assert_int_equal(node[7], 6);	/* CBOM: 64 bytes */
			assert_int_equal(node[8], 0);
			assert_int_equal(node[9], 6);	/* CBOZ: 64 bytes */
		} else if (type == 2) {
			assert_int_equal(node[7], 2);	/* Sv57 */
		} else {
			uint16_t nr = (uint16_t)le(node + 6, 2);

			assert_int_equal(type, 0xffff);
			assert_int_equal(nr, 3);
			assert_int_equal(nlen, 12 + 4 * nr);
			assert_int_equal(le(node + 8, 4), harts);	/* UID */
			for (unsigned int j = 0; j < nr; j++) {
				uint32_t o = (uint32_t)le(node + 12 + 4 * j, 4);

				assert_true(o >= 56 && o < len);
				assert_int_equal(le(p + o, 2), j);	/* type */
			}
			harts++;
		}
		off += nlen;
		if (i == n - 1)
			assert_int_equal(off, len);
	}
	assert_int_equal(harts, f->v.b.cfg.cpus);
	assert_non_null(isa);
	/* The same ISA string as the device tree's. */
	assert_int_equal(machine_build_fdt(&f->v.b.m, fdt, sizeof(fdt)), 0);
	fdt_isa = fdt_getprop(fdt, fdt_path_offset(fdt, "/cpus/cpu@1"),
			      "riscv,isa", &l);
	assert_non_null(fdt_isa);
	assert_string_equal(isa, fdt_isa);
}

static void test_spcr_mcfg(void **state)
{
	struct fixture *f = *state;
	const uint8_t *s = table(f, "SPCR", NULL);
	const uint8_t *m = table(f, "MCFG", NULL);

	assert_int_equal(s[36], 0x12);			/* 16550 */
	assert_int_equal(s[40], 0);			/* system memory */
	assert_int_equal(s[41], 8);
	assert_int_equal(s[43], 1);			/* byte access */
	assert_int_equal(le(s + 44, 8), VIRT_UART_BASE);
	assert_int_equal(s[52], 0x10);			/* PLIC/APLIC */
	assert_int_equal(le(s + 54, 4), VIRT_UART_IRQ);	/* GSI */
	assert_int_equal(s[58], 7);			/* 115200 */
	assert_int_equal(le(s + 76, 4), UART16550_CLOCK_HZ);
	assert_int_equal(le(s + 84, 2), 10);
	assert_int_equal(le(s + 86, 2), 88);
	assert_string_equal((const char *)s + 88, "\\_SB.COM0");

	assert_int_equal(le(m + 44, 8), VIRT_PCIE_ECAM_BASE);
	assert_int_equal(le(m + 52, 2), 0);
	assert_int_equal(m[54], 0);
	assert_int_equal(m[55], 255);
}

static void test_dsdt(void **state)
{
	struct fixture *f = *state;
	const uint8_t *d = table(f, "DSDT", NULL);
	const uint8_t *madt = table(f, "APIC", NULL);
	size_t len = le(d + 4, 4);
	static const char *const devs[] = { "C000", "C001", "IC00", "COM0",
					    "GED0", "PWRB", "FWCF", "PCI0" };
	/* The GED's selector: OperationRegion (EREG, SystemMemory,
	 * VIRT_GED_BASE, 4). */
	static const uint8_t ereg[] = {
		0x5b, 0x80, 'E', 'R', 'E', 'G', 0x00, 0x0c,
		(uint8_t)VIRT_GED_BASE, (uint8_t)(VIRT_GED_BASE >> 8),
		(uint8_t)(VIRT_GED_BASE >> 16), (uint8_t)(VIRT_GED_BASE >> 24),
		0x0a, 0x04,
	};
	const uint8_t *ged, *pwrb;
	const uint8_t *last = d;

	/* Devices in order: CPUs, APLIC, then the devices' hooks.  Each
	 * starts with its _HID (which tells a device's name from a
	 * reference to it, such as _EVT's \_SB.PWRB). */
	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		char key[10];
		const uint8_t *p;

		snprintf(key, sizeof(key), "%s\x08_HID", devs[i]);
		p = memmem(d, len, key, 9);

		assert_non_null(p);
		assert_true(p > last);
		/* DeviceOp, then a 1- or 2-byte PkgLength */
		assert_true((p[-3] == 0x5b && p[-2] == 0x82) ||
			    (p[-4] == 0x5b && p[-3] == 0x82));
		last = p;
	}
	/* Each CPU's _MAT is its MADT RINTC structure. */
	for (unsigned int i = 0; i < f->v.b.cfg.cpus; i++)
		assert_non_null(memmem(d, len, madt + 44 + 36 * i, 36));
	assert_non_null(memmem(d, len, "RSCV0002", 8));
	assert_non_null(memmem(d, len, "_GSB", 4));
	assert_non_null(memmem(d, len, "QEMU0002", 8));	/* fw_cfg */
	assert_non_null(memmem(d, len, "_PRT", 4));	/* PCIe root: INTx */
	assert_non_null(memmem(d, len, "_OSC", 4));
	/* The console's interrupt, GSI 10. */
	assert_non_null(memmem(d, len, "\x89\x06\x00\x01\x01\x0a\x00\x00\x00",
			       9));
	/* The GED (ACPI0013) between GED0 and PWRB: its interrupt, GSI 11
	 * (level, active high), its selector at its base, _EVT notifying
	 * the power button (PNP0C0C). */
	ged = memmem(d, len, "GED0\x08_HID", 9);
	pwrb = memmem(d, len, "PWRB\x08_HID", 9);
	assert_true(ged && pwrb && ged < pwrb);
	assert_non_null(memmem(ged, (size_t)(pwrb - ged), "ACPI0013", 8));
	assert_non_null(memmem(ged, (size_t)(pwrb - ged),
			       "\x89\x06\x00\x01\x01\x0b\x00\x00\x00", 9));
	assert_non_null(memmem(ged, (size_t)(pwrb - ged), ereg, sizeof(ereg)));
	assert_non_null(memmem(ged, (size_t)(pwrb - ged), "_EVT\x09", 5));
	assert_non_null(memmem(ged, (size_t)(pwrb - ged),
			       "\x86\x5c\x2e_SB_PWRB\x0a\x80", 13));
	assert_non_null(memmem(pwrb, len - (size_t)(pwrb - d), "PNP0C0C", 7));
	assert_int_equal(VIRT_GED_IRQ, 11);
}

/* Before linking: checksum fields zero, pointers are offsets; the fix-ups
 * are what fw_cfg's table loader will replay. */
static void test_fixups(void **state)
{
	struct fixture *f = *state;
	const struct acpi_tables *t = &f->t;
	unsigned int ptrs = 0, sums = 0;

	for (unsigned int i = 0; i < t->nr_tables; i++) {
		const struct acpi_table_ref *r = &t->tables[i];

		if (r->file == ACPI_FILE_TABLES)
			assert_int_equal(t->data[r->file][r->offset + 9], 0);
	}
	assert_int_equal(t->data[ACPI_FILE_RSDP][8], 0);
	assert_int_equal(t->data[ACPI_FILE_RSDP][32], 0);
	for (unsigned int i = 0; i < t->nr_fixups; i++) {
		const struct acpi_fixup *x = &t->fixups[i];

		assert_true(x->file < ACPI_NR_FILES);
		if (x->kind == ACPI_FIXUP_POINTER) {
			uint64_t v = le(t->data[x->file] + x->offset, x->size);

			assert_true(x->size == 8);
			assert_true(v < t->size[x->target]);
			/* Every pointer targets a table's start. */
			bool found = false;

			for (unsigned int j = 0; j < t->nr_tables; j++)
				found |= t->tables[j].file == x->target &&
					 t->tables[j].offset == v;
			assert_true(found);
			ptrs++;
		} else {
			assert_true(x->start + x->length <= t->size[x->file]);
			assert_true(x->offset >= x->start &&
				    x->offset < x->start + x->length);
			assert_int_equal(t->data[x->file][x->offset], 0);
			sums++;
		}
	}
	/* X_DSDT, 5 XSDT entries, the RSDP's XSDT; a checksum per table and
	 * two for the RSDP. */
	assert_int_equal(ptrs, 7);
	assert_int_equal(sums, 7 + 2);
	/* The RSDP's extended checksum comes after its first one and after
	 * the pointer patch. */
	assert_int_equal(t->fixups[t->nr_fixups - 1].length, 36);
	assert_int_equal(t->fixups[t->nr_fixups - 2].length, 20);
	assert_int_equal(t->fixups[t->nr_fixups - 3].kind, ACPI_FIXUP_POINTER);
	assert_string_equal(acpi_file_names[ACPI_FILE_TABLES],
			    "etc/acpi/tables");
	assert_string_equal(acpi_file_names[ACPI_FILE_RSDP], "etc/acpi/rsdp");
}

static void test_link_errors(void **state)
{
	struct fixture *f = *state;
	uint8_t small[64];

	assert_int_equal(acpi_link(&f->t, LINK_GPA, small, sizeof(small),
				   NULL), -ENOSPC);
	assert_int_equal(acpi_link(&f->t, UINT64_MAX - 16, f->img, f->size,
				   NULL), -ENOSPC);
}

static int build_variant(unsigned int cpus, bool console, bool pcie,
			 uint64_t stride, struct acpi_tables *t)
{
	struct acpi_virt v;
	int ret;

	acpi_virt_init(&v, cpus);
	if (!console)
		v.p.console = NULL;
	v.p.has_pcie = pcie;
	if (stride)
		v.b.m.aia.imsic_stride = stride;
	ret = acpi_build(&v.b.m, &v.p, t);
	acpi_virt_fini(&v);
	return ret;
}

static void test_variants(void **state)
{
	struct acpi_tables t;
	const uint8_t *x;

	/* No console, no PCIe: no SPCR, no MCFG, 3 XSDT entries. */
	assert_int_equal(build_variant(1, false, false, 0, &t), 0);
	assert_null(acpi_find_table(&t, "SPCR"));
	assert_null(acpi_find_table(&t, "MCFG"));
	x = t.data[ACPI_FILE_TABLES] + acpi_find_table(&t, "XSDT")->offset;
	assert_int_equal(le(x + 4, 4), 36 + 3 * 8);
	x = t.data[ACPI_FILE_TABLES] + acpi_find_table(&t, "APIC")->offset;
	assert_int_equal(x[44 + 36 + 13], 0);	/* 1 hart: 0 hart bits */
	acpi_tables_free(&t);

	/* The most harts: 5 hart index bits, 32 RINTCs, guest files. */
	assert_int_equal(build_variant(CONFIG_MAX_CPUS, true, true, 0x4000,
				       &t), 0);
	x = t.data[ACPI_FILE_TABLES] + acpi_find_table(&t, "APIC")->offset;
	assert_int_equal(le(x + 4, 4), 44 + 36 * CONFIG_MAX_CPUS + 16 + 36);
	assert_int_equal(x[44 + 36 * CONFIG_MAX_CPUS + 12], 2);	/* guest */
	assert_int_equal(x[44 + 36 * CONFIG_MAX_CPUS + 13], 5);	/* hart */
	acpi_tables_free(&t);

	/* An IMSIC stride that is not 4 KiB << n is refused. */
	assert_int_equal(build_variant(2, true, true, 0x1800, &t), -EINVAL);
	assert_null(t.data[ACPI_FILE_TABLES]);
	assert_int_equal(build_variant(2, true, true, 0x800, &t), -EINVAL);
	/* No harts. */
	assert_int_equal(build_variant(0, true, true, 0, &t), -EINVAL);
}

/* A device whose hook fails, or leaves a block open. */
static int hook_fails(struct rivet_dev *dev, struct aml_buf *b)
{
	aml_device_begin(b, "BAD0");
	return -EIO;
}

static int hook_open(struct rivet_dev *dev, struct aml_buf *b)
{
	aml_device_begin(b, "BAD1");
	return 0;
}

static void test_bad_hooks(void **state)
{
	static const struct dev_ops fails = { .name = "fails",
					      .acpi_dsdt = hook_fails };
	static const struct dev_ops open = { .name = "open",
					     .acpi_dsdt = hook_open };
	const struct dev_ops *ops[] = { &fails, &open };
	const int want[] = { -EIO, -EINVAL };

	for (int i = 0; i < 2; i++) {
		struct rivet_dev dev = { .ops = ops[i], .base = 0x20000000,
					 .size = 0x1000 };
		struct acpi_tables t;
		struct acpi_virt v;

		acpi_virt_init(&v, 2);
		assert_int_equal(machine_add_device(&v.b.m, &dev), 0);
		assert_int_equal(acpi_build(&v.b.m, &v.p, &t), want[i]);
		assert_null(t.data[ACPI_FILE_TABLES]);
		v.b.m.nr_devs--;	/* @dev is on the stack */
		acpi_virt_fini(&v);
	}
}

static void test_dump_dir(void **state)
{
	static const char *const names[] = { "DSDT", "FACP", "APIC", "RHCT",
					     "SPCR", "MCFG", "XSDT", "RSDP" };
	struct fixture *f = *state;
	char dir[] = "/tmp/rivet-acpi-XXXXXX", path[64];
	struct stat st;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(acpi_dump_write(&f->v.b.m, &f->v.p, dir), 0);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct acpi_table_ref *r = acpi_find_table(
			&f->t, i == 7 ? "RSD " : names[i]);

		snprintf(path, sizeof(path), "%s/%s.dat", dir, names[i]);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_size, r->length);
		unlink(path);
	}
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(acpi_dump_write(&f->v.b.m, &f->v.p, "/nonexistent/dir"),
			 -ENOENT);
}

/* ---- dump mode ----------------------------------------------------------- */

/* SSDT exercising every AML builder call, for iasl (tests/acpi/check.sh). */
static int dump_aml(const char *dir)
{
	static const uint32_t gsis[4] = { 32, 33, 34, 35 };
	struct aml_buf b;
	char path[4096];
	FILE *fp;
	int ret;

	aml_init(&b, 0);
	aml_bytes(&b, "SSDT", 4);
	aml_le(&b, 0, 4);
	aml_le(&b, 2, 1);
	aml_le(&b, 0, 1);
	aml_bytes(&b, "RIVET AMLTEST ", 14);
	aml_le(&b, 1, 4);
	aml_bytes(&b, "RIVT", 4);
	aml_le(&b, 1, 4);

	aml_scope_begin(&b, "\\_SB");
	aml_device_begin(&b, "PCI0");
	aml_name_eisaid(&b, "_HID", "PNP0A08");
	aml_name_eisaid(&b, "_CID", "PNP0A03");
	aml_name_int(&b, "_SEG", 0);
	aml_name_int(&b, "_BBN", 0);
	aml_name_int(&b, "_UID", 0);
	aml_name_int(&b, "_CCA", 1);
	aml_name(&b, "_CRS");
	aml_resource_template_begin(&b);
	aml_word_bus_number(&b, 0, 255);
	aml_dword_io(&b, 0, 0xffff, 0x03000000);
	aml_dword_memory(&b, AML_NON_CACHEABLE, true, 0x40000000, 0x7fffffff,
			 0);
	aml_qword_memory(&b, AML_NON_CACHEABLE, true, 0x400000000ULL,
			 0x7ffffffffULL, 0);
	aml_end(&b);
	aml_name(&b, "_PRT");
	aml_package_begin(&b);
	for (unsigned int i = 0; i < 4; i++) {
		aml_package_begin(&b);
		aml_int(&b, 0xffff);
		aml_int(&b, i);
		aml_int(&b, 0);
		aml_int(&b, gsis[i]);
		aml_end(&b);
	}
	aml_end(&b);
	aml_pci_osc(&b, 0x1f);
	aml_method_begin(&b, "_STA", 0, false);
	aml_return(&b, AML_INT(0x0f));
	aml_end(&b);
	aml_end(&b);

	aml_device_begin(&b, "LNKA");
	aml_name_str(&b, "_HID", "PNP0C0F");
	aml_name_int(&b, "_UID", 0);
	aml_name(&b, "_PRS");
	aml_resource_template_begin(&b);
	aml_interrupt(&b, AML_IRQ_CONSUMER | AML_IRQ_LEVEL |
			      AML_IRQ_ACTIVE_HIGH | AML_IRQ_SHARED, gsis, 4);
	aml_end(&b);
	aml_name(&b, "_CRS");
	aml_resource_template_begin(&b);
	aml_interrupt(&b, AML_IRQ_CONSUMER | AML_IRQ_LEVEL |
			      AML_IRQ_ACTIVE_HIGH | AML_IRQ_SHARED, gsis, 1);
	aml_end(&b);
	aml_name_int(&b, "IRQV", 0);
	aml_method_begin(&b, "_SRS", 1, true);
	aml_create_dword_field(&b, AML_ARG(0), 5, "IRQN");
	aml_store(&b, AML_NAME("IRQN"), AML_LOCAL(0));
	aml_store(&b, AML_LOCAL(0), AML_NAME("IRQV"));
	aml_end(&b);
	aml_end(&b);

	aml_device_begin(&b, "FWCF");
	aml_name_str(&b, "_HID", "QEMU0002");
	aml_name_int(&b, "_STA", 0x0b);
	aml_name(&b, "_CRS");
	aml_resource_template_begin(&b);
	aml_memory32_fixed(&b, 0x10100000, 0x18, true);
	aml_end(&b);
	aml_dsd_int(&b, "example-property", 0x123456789ULL);
	aml_name_buffer(&b, "BUF0", "\x01\x02\x03", 3);
	aml_name(&b, "MISC");
	aml_package_begin(&b);
	aml_int(&b, UINT64_MAX);
	aml_string(&b, "text");
	aml_name_ref(&b, "\\_SB.PCI0");
	aml_name_ref(&b, "^LNKA");
	aml_end(&b);
	aml_end(&b);

	/* A Generic Event Device: region, fields, _EVT, Notify. */
	aml_device_begin(&b, "GED0");
	aml_name_str(&b, "_HID", "ACPI0013");
	aml_operation_region(&b, "EREG", AML_REGION_SYSTEM_MEMORY,
			     0x10300000, 8);
	aml_field(&b, "EREG", AML_FIELD_DWORD_ACC | AML_FIELD_NOLOCK |
			       AML_FIELD_WRITE_ZEROS, "ESEL", 32);
	aml_operation_region(&b, "IREG", AML_REGION_SYSTEM_IO, 0x510, 1);
	aml_field(&b, "IREG", AML_FIELD_BYTE_ACC | AML_FIELD_LOCK |
			       AML_FIELD_PRESERVE, "IBYT", 8);
	aml_method_begin(&b, "_EVT", 1, true);
	aml_store(&b, AML_NAME("ESEL"), AML_LOCAL(0));
	aml_if_begin(&b);
	aml_lequal_op(&b);
	aml_and(&b, AML_LOCAL(0), AML_INT(2), AML_NOTARGET);
	aml_opnd(&b, AML_INT(2));
	aml_notify(&b, AML_NAME("\\_SB.PWRB"), AML_INT(0x80));
	aml_end(&b);
	aml_end(&b);
	aml_end(&b);
	aml_device_begin(&b, "PWRB");
	aml_name_str(&b, "_HID", "PNP0C0C");
	aml_end(&b);
	aml_end(&b);

	ret = aml_finish(&b);
	if (!ret) {
		aml_patch_le(&b, 4, b.len, 4);
		b.data[9] = (uint8_t)-sum8(b.data, b.len);
		snprintf(path, sizeof(path), "%s/SSDT.dat", dir);
		fp = fopen(path, "wb");
		ret = fp && fwrite(b.data, 1, b.len, fp) == b.len ? 0 : -EIO;
		if (fp && fclose(fp))
			ret = -EIO;
	}
	aml_free(&b);
	return ret;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rsdp_xsdt, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fadt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_madt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rhct, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spcr_mcfg, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dsdt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fixups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_errors, setup,
						teardown),
		cmocka_unit_test(test_variants),
		cmocka_unit_test(test_irqchip_modes),
		cmocka_unit_test(test_bad_hooks),
		cmocka_unit_test_setup_teardown(test_dump_dir, setup, teardown),
	};
	const char *aml_dir = getenv("RIVET_AML_DUMP");

	if (aml_dir) {
		int ret = dump_aml(aml_dir);

		if (ret)
			fprintf(stderr, "dump: %s\n", strerror(-ret));
		return ret ? 1 : 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
