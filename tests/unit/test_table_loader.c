// SPDX-License-Identifier: MIT
/* Tests for the table-loader: the builder's entries byte for byte (layout
 * from QEMU hw/acpi/bios-linker-loader.c, written out here with literal
 * offsets), its sticky errors, and tl_apply() running a command stream
 * through a real fw_cfg device the way firmware does: a synthetic
 * RSDP -> XSDT -> table set comes out placed, linked and checksummed; every
 * malformed command is refused as EDK2 would refuse it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/gmem.h"
#include "core/log.h"
#include "fwcfg/fwcfg.h"
#include "fwcfg/table_loader.h"
#include "tests/support/fwcfg_peek.h"
#include "tests/support/tl_exec.h"

#define BASE		0x10100000ULL
#define RAM_BASE	0x80000000ULL
#define RAM_SIZE	0x40000ULL
#define AREA_LO		(RAM_BASE + 0x10000)
#define AREA_HI		(RAM_BASE + 0x20000)

#define TABLES		"etc/acpi/tables"
#define RSDP		"etc/acpi/rsdp"
#define PTR		"etc/ptr"	/* writable */
#define RO		"etc/ro"	/* read-only */

/* ---- raw entries: the layout, independently of table_loader.c ----------- */

struct raw {
	uint8_t b[128];
};

static void le32_at(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t rd_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t rd_le64(const uint8_t *p)
{
	return (uint64_t)rd_le32(p) | (uint64_t)rd_le32(p + 4) << 32;
}

static struct raw raw_alloc(const char *file, uint32_t align, uint8_t zone)
{
	struct raw r = { { 0 } };

	le32_at(r.b, 1);
	strncpy((char *)r.b + 4, file, 56);
	le32_at(r.b + 60, align);
	r.b[64] = zone;
	return r;
}

static struct raw raw_ptr(const char *dst, const char *src, uint32_t off,
			  uint8_t size)
{
	struct raw r = { { 0 } };

	le32_at(r.b, 2);
	strncpy((char *)r.b + 4, dst, 56);
	strncpy((char *)r.b + 60, src, 56);
	le32_at(r.b + 116, off);
	r.b[120] = size;
	return r;
}

static struct raw raw_cksum(const char *file, uint32_t result, uint32_t start,
			    uint32_t len)
{
	struct raw r = { { 0 } };

	le32_at(r.b, 3);
	strncpy((char *)r.b + 4, file, 56);
	le32_at(r.b + 60, result);
	le32_at(r.b + 64, start);
	le32_at(r.b + 68, len);
	return r;
}

static struct raw raw_wp(const char *dst, const char *src, uint32_t dst_off,
			 uint32_t src_off, uint8_t size)
{
	struct raw r = { { 0 } };

	le32_at(r.b, 4);
	strncpy((char *)r.b + 4, dst, 56);
	strncpy((char *)r.b + 60, src, 56);
	le32_at(r.b + 116, dst_off);
	le32_at(r.b + 120, src_off);
	r.b[124] = size;
	return r;
}

/* ---- builder ------------------------------------------------------------ */

static void test_entries_byte_exact(void **state)
{
	struct table_loader tl;
	struct raw want[5];
	const uint8_t *blob;
	size_t len;

	tl_init(&tl);
	assert_int_equal(tl_allocate(&tl, RSDP, 36, 16, TL_ZONE_FSEG), 0);
	assert_int_equal(tl_allocate(&tl, TABLES, 4096, 64, TL_ZONE_HIGH), 0);
	assert_int_equal(tl_add_pointer(&tl, RSDP, 24, 8, TABLES), 0);
	assert_int_equal(tl_add_checksum(&tl, RSDP, 8, 0, 20), 0);
	assert_int_equal(tl_write_pointer(&tl, PTR, 4, 4, TABLES, 40), 0);
	want[0] = raw_alloc(RSDP, 16, 2);
	want[1] = raw_alloc(TABLES, 64, 1);
	want[2] = raw_ptr(RSDP, TABLES, 24, 8);
	want[3] = raw_cksum(RSDP, 8, 0, 20);
	want[4] = raw_wp(PTR, TABLES, 4, 40, 4);
	blob = tl_blob(&tl, &len);
	assert_non_null(blob);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(blob, want, sizeof(want));
	tl_free(&tl);
	assert_null(tl_blob(&tl, &len) ? (void *)1 : NULL);
	assert_int_equal(len, 0);
}

static void test_builder_errors(void **state)
{
	struct table_loader tl;
	char name[64];
	size_t len;

	/* Each line is one error on a fresh builder. */
#define EXPECT(call, err)                                                   \
	do {                                                                \
		tl_init(&tl);                                               \
		assert_int_equal(tl_allocate(&tl, TABLES, 100, 8,           \
					     TL_ZONE_HIGH), 0);             \
		assert_int_equal(call, err);                                \
		/* sticky: later valid calls report it, no blob */          \
		assert_int_equal(tl_add_checksum(&tl, TABLES, 0, 0, 1),     \
				 err);                                      \
		assert_null(tl_blob(&tl, &len));                            \
		assert_int_equal(len, 0);                                   \
		tl_free(&tl);                                               \
	} while (0)

	memset(name, 'n', sizeof(name));
	name[56] = 0;
	EXPECT(tl_allocate(&tl, "", 1, 8, TL_ZONE_HIGH), -EINVAL);
	EXPECT(tl_allocate(&tl, NULL, 1, 8, TL_ZONE_HIGH), -EINVAL);
	EXPECT(tl_allocate(&tl, name, 1, 8, TL_ZONE_HIGH), -EINVAL);
	EXPECT(tl_allocate(&tl, RSDP, 1, 0, TL_ZONE_HIGH), -EINVAL);
	EXPECT(tl_allocate(&tl, RSDP, 1, 12, TL_ZONE_HIGH), -EINVAL);
	EXPECT(tl_allocate(&tl, RSDP, 1, 8, 0), -EINVAL);
	EXPECT(tl_allocate(&tl, RSDP, 1, 8, 3), -EINVAL);
	EXPECT(tl_allocate(&tl, RSDP, 1, 8192, TL_ZONE_HIGH), -EINVAL);
	EXPECT(tl_allocate(&tl, RSDP, 0, 8, TL_ZONE_HIGH), -EINVAL);
	EXPECT(tl_allocate(&tl, TABLES, 1, 8, TL_ZONE_HIGH), -EEXIST);
	EXPECT(tl_add_pointer(&tl, TABLES, 0, 8, RSDP), -EINVAL);
	EXPECT(tl_add_pointer(&tl, RSDP, 0, 8, TABLES), -EINVAL);
	EXPECT(tl_add_pointer(&tl, TABLES, 0, 3, TABLES), -EINVAL);
	EXPECT(tl_add_pointer(&tl, TABLES, 0, 0, TABLES), -EINVAL);
	EXPECT(tl_add_pointer(&tl, TABLES, 93, 8, TABLES), -EINVAL);
	EXPECT(tl_add_pointer(&tl, TABLES, 0xfffffffc, 8, TABLES), -EINVAL);
	EXPECT(tl_add_checksum(&tl, TABLES, 100, 0, 10), -EINVAL);
	EXPECT(tl_add_checksum(&tl, TABLES, 0, 50, 51), -EINVAL);
	EXPECT(tl_add_checksum(&tl, TABLES, 0, 0xffffffff, 2), -EINVAL);
	EXPECT(tl_add_checksum(&tl, RSDP, 0, 0, 1), -EINVAL);
	EXPECT(tl_write_pointer(&tl, PTR, 0, 8, RSDP, 0), -EINVAL);
	EXPECT(tl_write_pointer(&tl, PTR, 0, 5, TABLES, 0), -EINVAL);
	EXPECT(tl_write_pointer(&tl, PTR, 0, 8, TABLES, 100), -EINVAL);
	EXPECT(tl_write_pointer(&tl, PTR, 0xfffffffc, 8, TABLES, 0), -EINVAL);
	EXPECT(tl_write_pointer(&tl, "", 0, 8, TABLES, 0), -EINVAL);
#undef EXPECT

	/* The edges that are fine. */
	tl_init(&tl);
	name[55] = 0;
	assert_int_equal(tl_allocate(&tl, name, 100, 4096, TL_ZONE_HIGH), 0);
	assert_int_equal(tl_add_pointer(&tl, name, 92, 8, name), 0);
	assert_int_equal(tl_add_checksum(&tl, name, 99, 0, 100), 0);
	assert_int_equal(tl_add_checksum(&tl, name, 0, 100, 0), 0);
	assert_int_equal(tl_write_pointer(&tl, PTR, 0, 1, name, 99), 0);
	for (int i = 1; i < TL_MAX_FILES; i++) {
		char n[16];

		snprintf(n, sizeof(n), "f%d", i);
		assert_int_equal(tl_allocate(&tl, n, 1, 1, TL_ZONE_HIGH), 0);
	}
	assert_int_equal(tl_allocate(&tl, "more", 1, 1, TL_ZONE_HIGH),
			 -ENOSPC);
	tl_free(&tl);
}

/* ---- a synthetic RSDP -> XSDT -> TEST table set ------------------------- */

/* etc/acpi/tables: XSDT at 0 (36-byte header + one entry), TEST at 64.
 * etc/acpi/rsdp: a revision 2 RSDP. */
#define XSDT_OFF	0
#define XSDT_LEN	44
#define TEST_OFF	64
#define TEST_LEN	40
#define TABLES_LEN	128

static void header(uint8_t *t, const char *sig, uint32_t len)
{
	memcpy(t, sig, 4);
	le32_at(t + 4, len);
	t[8] = 1;			/* revision */
	t[9] = 0;			/* checksum: the loader fills it */
	memcpy(t + 10, "RIVET ", 6);	/* OEM ID */
	memcpy(t + 16, "RIVETVM ", 8);	/* OEM table ID */
}

static void make_blobs(uint8_t *tables, uint8_t *rsdp)
{
	memset(tables, 0, TABLES_LEN);
	header(tables + XSDT_OFF, "XSDT", XSDT_LEN);
	/* The XSDT entry holds the offset of TEST within etc/acpi/tables. */
	le32_at(tables + XSDT_OFF + 36, TEST_OFF);
	header(tables + TEST_OFF, "TEST", TEST_LEN);
	for (int i = 36; i < TEST_LEN; i++)
		tables[TEST_OFF + i] = (uint8_t)(0xa0 + i);

	memset(rsdp, 0, 36);
	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "RIVET ", 6);
	rsdp[15] = 2;			/* revision */
	le32_at(rsdp + 20, 36);		/* length */
	/* XsdtAddress (offset 24) holds the XSDT's offset: 0. */
}

static void build_loader(struct table_loader *tl)
{
	tl_init(tl);
	tl_allocate(tl, RSDP, 36, 16, TL_ZONE_FSEG);
	tl_allocate(tl, TABLES, TABLES_LEN, 64, TL_ZONE_HIGH);
	tl_add_checksum(tl, TABLES, TEST_OFF + 9, TEST_OFF, TEST_LEN);
	tl_add_pointer(tl, TABLES, XSDT_OFF + 36, 8, TABLES);
	tl_add_checksum(tl, TABLES, XSDT_OFF + 9, XSDT_OFF, XSDT_LEN);
	tl_add_pointer(tl, RSDP, 24, 8, TABLES);
	tl_add_checksum(tl, RSDP, 8, 0, 20);
	tl_add_checksum(tl, RSDP, 32, 0, 36);
	tl_write_pointer(tl, PTR, 0, 8, TABLES, TEST_OFF);
}

struct fixture {
	struct gmem gm;
	struct rivet_dev *dev;
	struct tl_result res;
};

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	assert_int_equal(gmem_alloc(&f.gm, RAM_BASE, RAM_SIZE), 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->dev)
		f->dev->ops->destroy(f->dev);
	gmem_free(&f->gm);
	return 0;
}

/* A fresh device with the blobs, PTR (writable), RO and @loader (none if
 * NULL); then tl_apply() over [AREA_LO, AREA_HI). */
static int run(struct fixture *f, const void *loader, size_t len)
{
	uint8_t tables[TABLES_LEN], rsdp[36];

	if (f->dev)
		f->dev->ops->destroy(f->dev);
	assert_int_equal(fwcfg_create(&f->gm, BASE, &f->dev), 0);
	make_blobs(tables, rsdp);
	assert_int_equal(fwcfg_add_file(f->dev, TABLES, tables, TABLES_LEN,
					false), 0);
	assert_int_equal(fwcfg_add_file(f->dev, RSDP, rsdp, 36, false), 0);
	assert_int_equal(fwcfg_add_file(f->dev, PTR, "\0\0\0\0\0\0\0\0", 8,
					true), 0);
	assert_int_equal(fwcfg_add_file(f->dev, RO, "\0\0\0\0\0\0\0\0", 8,
					false), 0);
	if (loader)
		assert_int_equal(fwcfg_add_file(f->dev, TL_LOADER_FILE, loader,
						len, false), 0);
	memset(gmem_ptr(&f->gm, RAM_BASE, RAM_SIZE), 0x5a, RAM_SIZE);
	return tl_apply(f->dev, &f->gm, AREA_LO, AREA_HI, &f->res);
}

static int run_raw(struct fixture *f, const struct raw *r, size_t n)
{
	return run(f, r, n * sizeof(*r));
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static void test_apply_links_tables(void **state)
{
	struct fixture *f = *state;
	struct table_loader tl;
	const uint8_t *blob, *rsdp, *xsdt, *test;
	uint64_t rsdp_at, tables_at, xsdt_at, test_at;
	uint8_t ptr[8];
	size_t len;

	build_loader(&tl);
	blob = tl_blob(&tl, &len);
	assert_non_null(blob);
	assert_int_equal(len, 9 * TL_ENTRY_SIZE);
	assert_int_equal(run(f, blob, len), 0);
	tl_free(&tl);

	/* Placed in order, aligned, inside the area. */
	assert_int_equal(f->res.nr, 2);
	assert_int_equal(f->res.ignored, 0);
	rsdp_at = tl_result_addr(&f->res, RSDP);
	tables_at = tl_result_addr(&f->res, TABLES);
	assert_int_equal(rsdp_at, AREA_LO);
	assert_int_equal(tables_at % 64, 0);
	assert_true(tables_at >= rsdp_at + 36);
	assert_true(tables_at + TABLES_LEN <= AREA_HI);
	assert_int_equal(tl_result_addr(&f->res, "nope"), 0);

	/* RSDP -> XSDT -> TEST, every pointer a guest address. */
	rsdp = gmem_ptr(&f->gm, rsdp_at, 36);
	assert_memory_equal(rsdp, "RSD PTR ", 8);
	xsdt_at = rd_le64(rsdp + 24);
	assert_int_equal(xsdt_at, tables_at + XSDT_OFF);
	xsdt = gmem_ptr(&f->gm, xsdt_at, XSDT_LEN);
	assert_memory_equal(xsdt, "XSDT", 4);
	assert_int_equal(rd_le32(xsdt + 4), XSDT_LEN);
	test_at = rd_le64(xsdt + 36);
	assert_int_equal(test_at, tables_at + TEST_OFF);
	test = gmem_ptr(&f->gm, test_at, TEST_LEN);
	assert_memory_equal(test, "TEST", 4);
	assert_int_equal(test[TEST_LEN - 1], 0xa0 + TEST_LEN - 1);

	/* Checksums: each range sums to zero, and the bytes were needed. */
	assert_int_equal(sum(rsdp, 20), 0);
	assert_int_equal(sum(rsdp, 36), 0);
	assert_int_equal(sum(xsdt, XSDT_LEN), 0);
	assert_int_equal(sum(test, TEST_LEN), 0);
	assert_int_not_equal(rsdp[8], 0);
	assert_int_not_equal(xsdt[9], 0);
	assert_int_not_equal(test[9], 0);

	/* WRITE_POINTER reached the writable fw_cfg file through DMA. */
	assert_int_equal(fwcfg_read_file(f->dev, PTR, ptr, 8), 8);
	assert_int_equal(rd_le64(ptr), test_at);

	/* Nothing outside the blobs and the scratch area changed. */
	for (uint64_t a = RAM_BASE; a < AREA_LO; a++)
		assert_int_equal(*(uint8_t *)gmem_ptr(&f->gm, a, 1), 0x5a);
	for (uint64_t a = AREA_HI; a < RAM_BASE + RAM_SIZE; a++)
		assert_int_equal(*(uint8_t *)gmem_ptr(&f->gm, a, 1), 0x5a);
}

static void test_apply_small_pointers(void **state)
{
	struct fixture *f = *state;
	/* 4-byte pointers (an RSDT) still fit: RAM is below 4 GiB here. */
	struct raw r[] = {
		raw_alloc(RSDP, 16, 2),
		raw_alloc(TABLES, 64, 1),
		raw_ptr(RSDP, TABLES, 16, 4),
		raw_cksum(RSDP, 8, 0, 20),
		raw_wp(PTR, TABLES, 4, TEST_OFF, 4),
	};
	uint8_t ptr[8];
	uint64_t tables_at;

	assert_int_equal(run_raw(f, r, 5), 0);
	tables_at = tl_result_addr(&f->res, TABLES);
	assert_int_equal(rd_le32(gmem_ptr(&f->gm, AREA_LO + 16, 4)),
			 tables_at);
	assert_int_equal(fwcfg_read_file(f->dev, PTR, ptr, 8), 8);
	assert_int_equal(rd_le32(ptr), 0);
	assert_int_equal(rd_le32(ptr + 4), tables_at + TEST_OFF);
}

static void test_apply_ignores_unknown(void **state)
{
	struct fixture *f = *state;
	struct raw r[3] = { raw_alloc(RSDP, 16, 2) };

	le32_at(r[1].b, 0x77);
	le32_at(r[2].b, 0);
	assert_int_equal(run_raw(f, r, 3), 0);
	assert_int_equal(f->res.ignored, 2);
	assert_int_equal(f->res.nr, 1);
	/* An empty loader is fine too. */
	assert_int_equal(run(f, "", 0), 0);
	assert_int_equal(f->res.nr, 0);
}

/* Malformed streams, as EDK2's QemuFwCfgAcpiPlatformDxe refuses them. */
static void test_apply_rejects(void **state)
{
	struct fixture *f = *state;
	struct raw a_rsdp = raw_alloc(RSDP, 16, 2);
	struct raw a_tab = raw_alloc(TABLES, 64, 1);
	struct raw unterminated = raw_alloc(RSDP, 16, 2), r[3];

	memset(unterminated.b + 4, 'x', 56);

#define REJECT(err, ...)                                                    \
	do {                                                                \
		const struct raw list_[] = { __VA_ARGS__ };                 \
		assert_int_equal(run_raw(f, list_, sizeof(list_) /          \
					 sizeof(list_[0])), err);           \
	} while (0)

	/* No loader at all, or one whose length is not whole entries. */
	assert_int_equal(run(f, NULL, 0), -ENOENT);
	assert_int_equal(run(f, &a_rsdp, 100), -EPROTO);

	/* ALLOCATE */
	REJECT(-ENOENT, raw_alloc("etc/none", 16, 1));
	REJECT(-EPROTO, a_rsdp, a_rsdp);
	REJECT(-EPROTO, raw_alloc(RSDP, 0, 1));
	REJECT(-EPROTO, raw_alloc(RSDP, 24, 1));
	REJECT(-EPROTO, raw_alloc(RSDP, 8192, 1));
	REJECT(-EPROTO, unterminated);
	/* ADD_POINTER */
	REJECT(-EPROTO, a_rsdp, raw_ptr(RSDP, TABLES, 24, 8));
	REJECT(-EPROTO, a_tab, raw_ptr(RSDP, TABLES, 24, 8));
	REJECT(-EPROTO, a_rsdp, a_tab, raw_ptr(RSDP, TABLES, 24, 3));
	REJECT(-EPROTO, a_rsdp, a_tab, raw_ptr(RSDP, TABLES, 29, 8));
	REJECT(-EPROTO, a_rsdp, a_tab, raw_ptr(RSDP, TABLES, 0xfffffffc, 8));
	/* The field holds "RSD PTR " there: not an offset inside TABLES. */
	REJECT(-EPROTO, a_rsdp, a_tab, raw_ptr(RSDP, TABLES, 0, 8));
	/* A RAM address does not fit in one byte. */
	REJECT(-EPROTO, a_rsdp, a_tab, raw_ptr(RSDP, TABLES, 24, 1));
	/* ADD_CHECKSUM */
	REJECT(-EPROTO, raw_cksum(RSDP, 8, 0, 20));
	REJECT(-EPROTO, a_rsdp, raw_cksum(RSDP, 36, 0, 20));
	REJECT(-EPROTO, a_rsdp, raw_cksum(RSDP, 8, 0, 37));
	REJECT(-EPROTO, a_rsdp, raw_cksum(RSDP, 8, 37, 0));
	REJECT(-EPROTO, a_rsdp, raw_cksum(RSDP, 8, 0xffffffff, 2));
	/* WRITE_POINTER */
	REJECT(-ENOENT, a_tab, raw_wp("etc/none", TABLES, 0, 0, 8));
	REJECT(-EPROTO, raw_wp(PTR, TABLES, 0, 0, 8));
	REJECT(-EPROTO, a_tab, raw_wp(PTR, TABLES, 1, 0, 8));
	REJECT(-EPROTO, a_tab, raw_wp(PTR, TABLES, 0xfffffffc, 0, 8));
	REJECT(-EPROTO, a_tab, raw_wp(PTR, TABLES, 0, TABLES_LEN, 8));
	REJECT(-EPROTO, a_tab, raw_wp(PTR, TABLES, 0, 0, 2));
	REJECT(-EPROTO, a_tab, raw_wp(PTR, TABLES, 0, 0, 7));
	/* The device refuses a write to a read-only file. */
	REJECT(-EIO, a_tab, raw_wp(RO, TABLES, 0, 0, 8));
#undef REJECT

	/* No room in the area. */
	r[0] = a_tab;
	assert_int_equal(run_raw(f, r, 1), 0);
	assert_int_equal(tl_apply(f->dev, &f->gm, AREA_LO, AREA_LO + 64 + 100,
				  &f->res), -ENOSPC);
	/* Bad areas. */
	assert_int_equal(tl_apply(f->dev, &f->gm, AREA_LO, AREA_LO, &f->res),
			 -EINVAL);
	assert_int_equal(tl_apply(f->dev, &f->gm, AREA_HI, AREA_LO, &f->res),
			 -EINVAL);
	assert_int_equal(tl_apply(f->dev, &f->gm, RAM_BASE - 0x1000,
				  RAM_BASE + 0x1000, &f->res), -EINVAL);
	assert_int_equal(tl_apply(f->dev, &f->gm, RAM_BASE,
				  RAM_BASE + RAM_SIZE + 1, &f->res), -EINVAL);
	assert_int_equal(tl_apply(NULL, &f->gm, AREA_LO, AREA_HI, &f->res),
			 -EINVAL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entries_byte_exact),
		cmocka_unit_test(test_builder_errors),
		T(test_apply_links_tables),
		T(test_apply_small_pointers),
		T(test_apply_ignores_unknown),
		T(test_apply_rejects),
	};

	log_set_level(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
