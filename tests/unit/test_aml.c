// SPDX-License-Identifier: MIT
/* The AML builder, byte for byte against ACPI 6.6 chapter 20 and section 6.4
 * (the expected resource descriptor bytes are also what iasl 20250404
 * compiles from the equivalent ASL).  tests/acpi/check.sh additionally
 * disassembles a table using every builder call with iasl. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acpi/aml.h"

#define EXPECT(b, ...)                                                     \
	do {                                                               \
		static const uint8_t exp_[] = { __VA_ARGS__ };             \
		expect_bytes((b), exp_, sizeof(exp_));                     \
	} while (0)

static void expect_bytes(struct aml_buf *b, const uint8_t *exp, size_t n)
{
	assert_int_equal(aml_error(b), 0);
	assert_int_equal(b->len, n);
	assert_memory_equal(b->data, exp, n);
}

static void reset(struct aml_buf *b)
{
	aml_free(b);
	aml_init(b, 0);
}

static void test_integers(void **state)
{
	struct aml_buf b;

	aml_init(&b, 0);
	aml_int(&b, 0);
	EXPECT(&b, 0x00);			/* ZeroOp */
	reset(&b);
	aml_int(&b, 1);
	EXPECT(&b, 0x01);			/* OneOp */
	reset(&b);
	aml_int(&b, UINT64_MAX);
	EXPECT(&b, 0xff);			/* OnesOp */
	reset(&b);
	aml_int(&b, 2);
	EXPECT(&b, 0x0a, 0x02);			/* BytePrefix */
	reset(&b);
	aml_int(&b, 0xff);
	EXPECT(&b, 0x0a, 0xff);
	reset(&b);
	aml_int(&b, 0x100);
	EXPECT(&b, 0x0b, 0x00, 0x01);		/* WordPrefix */
	reset(&b);
	aml_int(&b, 0xffff);
	EXPECT(&b, 0x0b, 0xff, 0xff);
	reset(&b);
	aml_int(&b, 0x10000);
	EXPECT(&b, 0x0c, 0x00, 0x00, 0x01, 0x00);	/* DWordPrefix */
	reset(&b);
	aml_int(&b, 0xffffffff);
	EXPECT(&b, 0x0c, 0xff, 0xff, 0xff, 0xff);
	reset(&b);
	aml_int(&b, 0x100000000ULL);
	EXPECT(&b, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00);
	reset(&b);
	aml_int(&b, 0xfffffffffffffffeULL);
	EXPECT(&b, 0x0e, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
	aml_free(&b);
}

static void test_strings_eisaid_uuid(void **state)
{
	struct aml_buf b;

	aml_init(&b, 0);
	aml_string(&b, "ab");
	EXPECT(&b, 0x0d, 'a', 'b', 0x00);
	reset(&b);
	aml_string(&b, "");
	EXPECT(&b, 0x0d, 0x00);
	reset(&b);
	aml_eisaid(&b, "PNP0A08");
	EXPECT(&b, 0x0c, 0x41, 0xd0, 0x0a, 0x08);
	reset(&b);
	aml_eisaid(&b, "PNP0A03");
	EXPECT(&b, 0x0c, 0x41, 0xd0, 0x0a, 0x03);
	reset(&b);
	aml_touuid(&b, "33DB4D5B-1FF7-401C-9657-7441C03DD766");
	EXPECT(&b, 0x11, 0x13, 0x0a, 0x10, 0x5b, 0x4d, 0xdb, 0x33, 0xf7, 0x1f,
	       0x1c, 0x40, 0x96, 0x57, 0x74, 0x41, 0xc0, 0x3d, 0xd7, 0x66);

	/* Invalid input: sticky -EINVAL, nothing more written. */
	static const char *const bad_eisa[] = { "pnp0a08", "PNP0A0", "PNP0A0G",
						"PNP0a08", "P1P0A08", "" };
	for (size_t i = 0; i < sizeof(bad_eisa) / sizeof(bad_eisa[0]); i++) {
		reset(&b);
		aml_eisaid(&b, bad_eisa[i]);
		assert_int_equal(aml_error(&b), -EINVAL);
		assert_int_equal(b.len, 0);
	}
	reset(&b);
	aml_string(&b, "caf\xc3\xa9");
	assert_int_equal(aml_error(&b), -EINVAL);
	reset(&b);
	aml_touuid(&b, "33DB4D5B-1FF7-401C-9657-7441C03DD76");
	assert_int_equal(aml_error(&b), -EINVAL);
	reset(&b);
	aml_touuid(&b, "33DB4D5B+1FF7-401C-9657-7441C03DD766");
	assert_int_equal(aml_error(&b), -EINVAL);
	aml_free(&b);
}

static void test_names(void **state)
{
	struct aml_buf b;

	aml_init(&b, 0);
	aml_name_ref(&b, "FOO");
	EXPECT(&b, 'F', 'O', 'O', '_');		/* NameSeg padding */
	reset(&b);
	aml_name_ref(&b, "A");
	EXPECT(&b, 'A', '_', '_', '_');
	reset(&b);
	aml_name_ref(&b, "\\");
	EXPECT(&b, 0x5c, 0x00);			/* RootChar NullName */
	reset(&b);
	aml_name_ref(&b, "\\_SB");
	EXPECT(&b, 0x5c, '_', 'S', 'B', '_');
	reset(&b);
	aml_name_ref(&b, "\\_SB.PCI0");
	EXPECT(&b, 0x5c, 0x2e, '_', 'S', 'B', '_', 'P', 'C', 'I', '0');
	reset(&b);
	aml_name_ref(&b, "\\_SB.PCI0.S08");
	EXPECT(&b, 0x5c, 0x2f, 0x03, '_', 'S', 'B', '_', 'P', 'C', 'I', '0',
	       'S', '0', '8', '_');
	reset(&b);
	aml_name_ref(&b, "^^AB");
	EXPECT(&b, 0x5e, 0x5e, 'A', 'B', '_', '_');
	reset(&b);
	aml_name_ref(&b, "PCI0.S08");
	EXPECT(&b, 0x2e, 'P', 'C', 'I', '0', 'S', '0', '8', '_');

	static const char *const bad[] = { "", "foo", "TOOLONG", "1ABC",
					   "A..B", "A.", ".A", "^\\A", "\\^A",
					   "^", "A-B", "AB C" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		reset(&b);
		aml_name_ref(&b, bad[i]);
		assert_int_equal(aml_error(&b), -EINVAL);
		assert_int_equal(b.len, 0);
		/* Sticky: later calls write nothing. */
		aml_int(&b, 5);
		aml_name_ref(&b, "GOOD");
		assert_int_equal(b.len, 0);
		assert_int_equal(aml_error(&b), -EINVAL);
	}
	reset(&b);
	aml_device_begin(&b, "dev0");
	assert_int_equal(aml_error(&b), -EINVAL);
	aml_free(&b);
}

/* Scope (\) { <n raw bytes> }: 10 PkgLength 5C 00 bytes. */
static void check_pkglen(size_t n, const uint8_t *pl, size_t pl_len)
{
	struct aml_buf b;

	aml_init(&b, 4 << 20);
	aml_scope_begin(&b, "\\");
	aml_zeros(&b, n);
	aml_end(&b);
	assert_int_equal(aml_finish(&b), 0);
	assert_int_equal(b.len, 1 + pl_len + 2 + n);
	assert_int_equal(b.data[0], 0x10);
	assert_memory_equal(b.data + 1, pl, pl_len);
	assert_int_equal(b.data[1 + pl_len], 0x5c);
	assert_int_equal(b.data[2 + pl_len], 0x00);
	aml_free(&b);
}

static void test_pkglength(void **state)
{
	/* Body = 2 name bytes + n; PkgLength counts itself (20.2.4). */
	check_pkglen(0, (const uint8_t[]){ 0x03 }, 1);
	check_pkglen(60, (const uint8_t[]){ 0x3f }, 1);	/* 1-byte max */
	check_pkglen(61, (const uint8_t[]){ 0x41, 0x04 }, 2);	/* 0x041 */
	check_pkglen(0xffb, (const uint8_t[]){ 0x4f, 0xff }, 2); /* 0xfff */
	check_pkglen(0xffc, (const uint8_t[]){ 0x81, 0x00, 0x01 }, 3);
	check_pkglen(0xffffa, (const uint8_t[]){ 0x8f, 0xff, 0xff }, 3);
	check_pkglen(0xffffb, (const uint8_t[]){ 0xc1, 0x00, 0x00, 0x01 }, 4);
}

static void test_nesting(void **state)
{
	struct aml_buf b;

	aml_init(&b, 0);
	aml_scope_begin(&b, "\\_SB");
	aml_device_begin(&b, "DEV0");
	aml_name_int(&b, "_STA", 0x0b);
	aml_end(&b);
	aml_end(&b);
	assert_int_equal(aml_finish(&b), 0);
	EXPECT(&b, 0x10, 0x14, 0x5c, '_', 'S', 'B', '_',
	       0x5b, 0x82, 0x0c, 'D', 'E', 'V', '0',
	       0x08, '_', 'S', 'T', 'A', 0x0a, 0x0b);
	assert_string_equal(b.last_device, "DEV0");

	/* Method (_STA, 0, NotSerialized) { Return (0x0F) } */
	reset(&b);
	aml_method_begin(&b, "_STA", 0, false);
	aml_return(&b, AML_INT(0x0f));
	aml_end(&b);
	EXPECT(&b, 0x14, 0x09, '_', 'S', 'T', 'A', 0x00, 0xa4, 0x0a, 0x0f);

	/* Serialized, 4 arguments: flags 0x0c. */
	reset(&b);
	aml_method_begin(&b, "_OSC", 4, true);
	aml_end(&b);
	EXPECT(&b, 0x14, 0x06, '_', 'O', 'S', 'C', 0x0c);

	/* Package () { One, "a", Package () { 2 } }: counts by itself. */
	reset(&b);
	aml_package_begin(&b);
	aml_int(&b, 1);
	aml_string(&b, "a");
	aml_package_begin(&b);
	aml_int(&b, 2);
	aml_end(&b);
	aml_end(&b);
	EXPECT(&b, 0x12, 0x0b, 0x03, 0x01, 0x0d, 'a', 0x00,
	       0x12, 0x04, 0x01, 0x0a, 0x02);

	/* _PRT-style: Package () { Package () { 0xFFFF, Zero, LNKA, Zero } } */
	reset(&b);
	aml_package_begin(&b);
	aml_package_begin(&b);
	aml_int(&b, 0xffff);
	aml_int(&b, 0);
	aml_name_ref(&b, "LNKA");
	aml_int(&b, 0);
	aml_end(&b);
	aml_end(&b);
	EXPECT(&b, 0x12, 0x0e, 0x01, 0x12, 0x0b, 0x04, 0x0b, 0xff, 0xff, 0x00,
	       'L', 'N', 'K', 'A', 0x00);

	/* If (LEqual (Arg0, One)) { Store (Local0, CTRL) } Else { ... } */
	reset(&b);
	aml_if_begin(&b);
	aml_lequal(&b, AML_ARG(0), AML_INT(1));
	aml_store(&b, AML_LOCAL(0), AML_NAME("CTRL"));
	aml_end(&b);
	aml_else_begin(&b);
	aml_or(&b, AML_NAME("CDW1"), AML_INT(4), AML_NAME("CDW1"));
	aml_and(&b, AML_ARG(1), AML_INT(0x1f), AML_NOTARGET);
	aml_end(&b);
	EXPECT(&b, 0xa0, 0x0a, 0x93, 0x68, 0x01, 0x70, 0x60, 'C', 'T', 'R', 'L',
	       0xa1, 0x11, 0x7d, 'C', 'D', 'W', '1', 0x0a, 0x04,
	       'C', 'D', 'W', '1', 0x7b, 0x69, 0x0a, 0x1f, 0x00);

	/* LNot (LEqual ()) and CreateDWordField (Arg3, 4, CDW2) */
	reset(&b);
	aml_lnotequal(&b, AML_NAME("CDW3"), AML_NAME("CTRL"));
	aml_create_dword_field(&b, AML_ARG(3), 4, "CDW2");
	EXPECT(&b, 0x92, 0x93, 'C', 'D', 'W', '3', 'C', 'T', 'R', 'L',
	       0x8a, 0x6b, 0x0a, 0x04, 'C', 'D', 'W', '2');

	/* Name (_MAT, Buffer () {1, 2, 3}) */
	reset(&b);
	aml_name_buffer(&b, "_MAT", (const uint8_t[]){ 1, 2, 3 }, 3);
	EXPECT(&b, 0x08, '_', 'M', 'A', 'T', 0x11, 0x06, 0x0a, 0x03, 1, 2, 3);
	aml_free(&b);
}

static void test_resources(void **state)
{
	static const uint32_t irq10 = 10, irqs[2] = { 32, 33 };
	struct aml_buf b;

	aml_init(&b, 0);
	aml_resource_template_begin(&b);
	size_t start = b.len;

	aml_memory32_fixed(&b, 0x10000000, 0x100, true);
	assert_int_equal(aml_error(&b), 0);
	assert_memory_equal(b.data + start,
			    ((const uint8_t[]){ 0x86, 0x09, 0x00, 0x01,
						0x00, 0x00, 0x00, 0x10,
						0x00, 0x01, 0x00, 0x00 }),
			    12);
	aml_end(&b);
	/* Buffer, PkgLength 0x11, BufferSize 14, descriptor, end tag. */
	assert_int_equal(b.len, 1 + 1 + 2 + 12 + 2);
	assert_int_equal(b.data[0], 0x11);
	assert_int_equal(b.data[1], 0x11);
	assert_int_equal(b.data[2], 0x0a);
	assert_int_equal(b.data[3], 0x0e);
	assert_int_equal(b.data[16], 0x79);
	uint8_t sum = 0;

	for (size_t i = 4; i < b.len; i++)
		sum = (uint8_t)(sum + b.data[i]);
	assert_int_equal(sum, 0);		/* end tag checksum (6.4.2.9) */

#define RES(...)                                                           \
	do {                                                               \
		reset(&b);                                                 \
		aml_resource_template_begin(&b);                           \
		__VA_ARGS__;                                               \
		start = b.len;                                             \
	} while (0)
#define RES_EXPECT(...)                                                    \
	do {                                                               \
		static const uint8_t e_[] = { __VA_ARGS__ };               \
		assert_int_equal(aml_error(&b), 0);                        \
		assert_int_equal(b.len - 1, sizeof(e_));                   \
		assert_memory_equal(b.data + 1, e_, sizeof(e_));           \
	} while (0)

	RES(aml_interrupt(&b, AML_IRQ_CONSUMER | AML_IRQ_LEVEL |
				      AML_IRQ_ACTIVE_HIGH | AML_IRQ_EXCLUSIVE,
			  &irq10, 1));
	RES_EXPECT(0x89, 0x06, 0x00, 0x01, 0x01, 0x0a, 0x00, 0x00, 0x00);
	RES(aml_interrupt(&b, AML_IRQ_CONSUMER | AML_IRQ_EDGE |
				      AML_IRQ_ACTIVE_LOW | AML_IRQ_SHARED,
			  irqs, 2));
	RES_EXPECT(0x89, 0x0a, 0x00, 0x0f, 0x02, 0x20, 0, 0, 0, 0x21, 0, 0, 0);
	RES(aml_word_bus_number(&b, 0, 255));
	RES_EXPECT(0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00,
		   0xff, 0x00, 0x00, 0x00, 0x00, 0x01);
	RES(aml_dword_memory(&b, AML_NON_CACHEABLE, true, 0x40000000,
			     0x7fffffff, 0));
	RES_EXPECT(0x87, 0x17, 0x00, 0x00, 0x0c, 0x01, 0, 0, 0, 0,
		   0x00, 0x00, 0x00, 0x40, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0,
		   0x00, 0x00, 0x00, 0x40);
	RES(aml_qword_memory(&b, AML_PREFETCHABLE, true, 0x100000000ULL,
			     0x1ffffffffULL, 0));
	RES_EXPECT(0x8a, 0x2b, 0x00, 0x00, 0x0c, 0x07, 0, 0, 0, 0, 0, 0, 0, 0,
		   0, 0, 0, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0,
		   0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0);
	RES(aml_dword_io(&b, 0, 0xffff, 0x3000000));
	RES_EXPECT(0x87, 0x17, 0x00, 0x01, 0x0c, 0x03, 0, 0, 0, 0, 0, 0, 0, 0,
		   0xff, 0xff, 0, 0, 0, 0, 0, 3, 0, 0, 1, 0);
	(void)start;

	/* Errors: outside a template, out of range, bad arguments. */
	reset(&b);
	aml_memory32_fixed(&b, 0, 4, true);
	assert_int_equal(aml_error(&b), -EINVAL);
	RES(aml_memory32_fixed(&b, 0xfffff000, 0x2000, true));
	assert_int_equal(aml_error(&b), -ERANGE);
	RES(aml_memory32_fixed(&b, 0x100000000ULL, 0x1000, true));
	assert_int_equal(aml_error(&b), -ERANGE);
	RES(aml_interrupt(&b, AML_IRQ_CONSUMER, irqs, 0));
	assert_int_equal(aml_error(&b), -EINVAL);
	RES(aml_interrupt(&b, 0x20, irqs, 1));
	assert_int_equal(aml_error(&b), -EINVAL);
	RES(aml_word_bus_number(&b, 10, 5));
	assert_int_equal(aml_error(&b), -EINVAL);
	RES(struct aml_addr a = { .width = 16, .max = 0x10000 };
	    aml_address_space(&b, &a));
	assert_int_equal(aml_error(&b), -ERANGE);
	RES(struct aml_addr a = { .width = 24 }; aml_address_space(&b, &a));
	assert_int_equal(aml_error(&b), -EINVAL);
	aml_free(&b);
}

static void test_sticky_errors(void **state)
{
	struct aml_buf b;

	/* Overflow: the limit holds and the error sticks. */
	aml_init(&b, 16);
	aml_zeros(&b, 10);
	aml_int(&b, 0x1122334455667788ULL);
	assert_int_equal(aml_error(&b), -ENOSPC);
	assert_true(b.len <= 16);
	size_t len = b.len;

	aml_byte(&b, 1);
	aml_scope_begin(&b, "\\");
	aml_end(&b);
	assert_int_equal(b.len, len);
	assert_int_equal(aml_finish(&b), -ENOSPC);
	aml_free(&b);

	/* Growing while closing a block can overflow too. */
	aml_init(&b, 64);
	aml_scope_begin(&b, "\\");
	aml_zeros(&b, 61);
	assert_int_equal(aml_error(&b), 0);
	aml_end(&b);
	assert_int_equal(aml_error(&b), -ENOSPC);
	aml_free(&b);

	/* Unbalanced blocks. */
	aml_init(&b, 0);
	aml_device_begin(&b, "DEV0");
	assert_int_equal(aml_error(&b), 0);
	assert_int_equal(aml_finish(&b), -EINVAL);
	reset(&b);
	aml_end(&b);
	assert_int_equal(aml_error(&b), -EINVAL);
	reset(&b);
	for (int i = 0; i <= AML_MAX_DEPTH; i++)
		aml_scope_begin(&b, "\\");
	assert_int_equal(aml_error(&b), -EINVAL);

	/* Bad operands. */
	reset(&b);
	aml_method_begin(&b, "_FOO", 8, false);
	assert_int_equal(aml_error(&b), -EINVAL);
	reset(&b);
	aml_return(&b, AML_ARG(7));
	assert_int_equal(aml_error(&b), -EINVAL);
	reset(&b);
	aml_return(&b, AML_LOCAL(8));
	assert_int_equal(aml_error(&b), -EINVAL);
	reset(&b);
	aml_le(&b, 0, 9);
	assert_int_equal(aml_error(&b), -EINVAL);
	reset(&b);
	aml_patch_le(&b, 0, 1, 1);
	assert_int_equal(aml_error(&b), -EINVAL);

	/* A Package of more than 255 elements (no VarPackage). */
	reset(&b);
	aml_package_begin(&b);
	for (int i = 0; i < 256; i++)
		aml_int(&b, 0);
	aml_end(&b);
	assert_int_equal(aml_error(&b), -E2BIG);

	/* aml_fail keeps the first error. */
	reset(&b);
	assert_int_equal(aml_fail(&b, -EIO), -EIO);
	assert_int_equal(aml_fail(&b, -EINVAL), -EIO);
	aml_free(&b);
}

/* Devices named by prefix and UID: COM0..COM9, VR00..VR99, then -ERANGE;
 * the AML is Device (name) { Name (_HID, hid) Name (_UID, n) }. */
static void test_device_numbered(void **state)
{
	static const uint8_t want[] = {
		0x5b, 0x82, 0x1b, 'V', 'R', '0', '7',
		0x08, '_', 'H', 'I', 'D', 0x0d,
		'L', 'N', 'R', 'O', '0', '0', '0', '5', 0x00,
		0x08, '_', 'U', 'I', 'D', 0x0a, 0x07,
	};
	struct aml_buf b;

	(void)state;
	aml_init(&b, 0);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(aml_device_numbered(&b, "COM", 1, "RSCV0003"),
				 i);
		aml_end(&b);
	}
	assert_int_equal(aml_device_numbered(&b, "COM", 1, "RSCV0003"),
			 -ERANGE);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(aml_device_numbered(&b, "VR", 2, "LNRO0005"),
				 i);
		aml_end(&b);
	}
	assert_int_equal(aml_device_numbered(&b, "VR", 2, "LNRO0005"),
			 -ERANGE);
	assert_int_equal(aml_device_numbered(&b, "VR", 1, "LNRO0005"),
			 -EINVAL);
	assert_int_equal(aml_finish(&b), 0);
	aml_free(&b);

	aml_init(&b, 0);
	for (int i = 0; i < 7; i++)
		aml_next_uid(&b, "LNRO0005");
	assert_int_equal(aml_device_numbered(&b, "VR", 2, "LNRO0005"), 7);
	aml_end(&b);
	assert_int_equal(aml_finish(&b), 0);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	aml_free(&b);
}

static void test_uid_and_gsi(void **state)
{
	struct aml_buf b;
	char hid[9];

	aml_init(&b, 0);
	b.gsi_base = 64;
	assert_int_equal(aml_gsi(&b, 10), 74);
	assert_int_equal(aml_next_uid(&b, "LNRO0005"), 0);
	assert_int_equal(aml_next_uid(&b, "RSCV0003"), 0);
	assert_int_equal(aml_next_uid(&b, "LNRO0005"), 1);
	assert_int_equal(aml_next_uid(&b, "LNRO0005"), 2);
	assert_int_equal(aml_next_uid(&b, "RSCV0003"), 1);
	assert_int_equal(aml_error(&b), 0);
	for (unsigned int i = 2; i < AML_MAX_UID_KINDS; i++) {
		snprintf(hid, sizeof(hid), "TEST%04u", i % 10000);
		assert_int_equal(aml_next_uid(&b, hid), 0);
	}
	assert_int_equal(aml_error(&b), 0);
	aml_next_uid(&b, "ONEMORE1");
	assert_int_equal(aml_error(&b), -ENOSPC);
	reset(&b);
	aml_next_uid(&b, "TOOLONGHID");
	assert_int_equal(aml_error(&b), -EINVAL);
	aml_free(&b);
}

static void test_dsd_and_osc(void **state)
{
	static const uint8_t osc_uuid[16] = { 0x5b, 0x4d, 0xdb, 0x33, 0xf7,
					      0x1f, 0x1c, 0x40, 0x96, 0x57,
					      0x74, 0x41, 0xc0, 0x3d, 0xd7,
					      0x66 };
	struct aml_buf b;

	aml_init(&b, 0);
	aml_dsd_int(&b, "clock-frequency", 3686400);
	assert_int_equal(aml_finish(&b), 0);
	/* Name (_DSD, Package (2) { Buffer (16), Package (1) { Package (2)
	 * { "clock-frequency", 0x384000 } } }) */
	assert_memory_equal(b.data, "\x08_DSD\x12", 6);
	assert_int_equal(b.data[7], 0x02);
	assert_memory_equal(b.data + b.len - 5,
			    "\x0c\x00\x40\x38\x00", 5);

	reset(&b);
	aml_pci_osc(&b, 0x1f);
	assert_int_equal(aml_finish(&b), 0);
	assert_memory_equal(b.data, "\x08SUPP\x00\x08" "CTRL\x00\x14", 13);
	assert_non_null(memmem(b.data, b.len, osc_uuid, sizeof(osc_uuid)));
	/* The method ends with Else { Or (CDW1, 4, CDW1) Return (Arg3) } */
	assert_memory_equal(b.data + b.len - 15,
			    "\xa1\x0e\x7d" "CDW1\x0a\x04" "CDW1\xa4\x6b", 15);
	aml_free(&b);
}

/* OperationRegion, Field, Notify, LEqual of an expression (19.6.100,
 * 19.6.48, 19.6.92; encodings 20.2.5.2, 20.2.5.3, 20.2.5.4): the pieces
 * of a Generic Event Device's _EVT. */
static void test_regions_fields_notify(void **state)
{
	struct aml_buf b;

	(void)state;
	aml_init(&b, 0);
	/* OperationRegion (EREG, SystemMemory, 0x10300000, 4):
	 * ExtOpPrefix OpRegionOp NameString RegionSpace Offset Len */
	aml_operation_region(&b, "EREG", AML_REGION_SYSTEM_MEMORY,
			     0x10300000, 4);
	EXPECT(&b, 0x5b, 0x80, 'E', 'R', 'E', 'G', 0x00,
	       0x0c, 0x00, 0x00, 0x30, 0x10, 0x0a, 0x04);
	reset(&b);
	aml_operation_region(&b, "\\_SB.REGN", AML_REGION_SYSTEM_IO, 0, 1);
	EXPECT(&b, 0x5b, 0x80, 0x5c, 0x2e, '_', 'S', 'B', '_',
	       'R', 'E', 'G', 'N', 0x01, 0x00, 0x01);

	/* Field (EREG, DWordAcc, NoLock, WriteAsZeros) { ESEL, 32 }:
	 * ExtOpPrefix FieldOp PkgLength NameString FieldFlags (3 | 2 << 5)
	 * NamedField (NameSeg, PkgLength-encoded bit count). */
	reset(&b);
	aml_field(&b, "EREG", AML_FIELD_DWORD_ACC | AML_FIELD_NOLOCK |
			       AML_FIELD_WRITE_ZEROS, "ESEL", 32);
	EXPECT(&b, 0x5b, 0x81, 0x0b, 'E', 'R', 'E', 'G', 0x43,
	       'E', 'S', 'E', 'L', 0x20);
	/* ByteAcc, Lock, Preserve; a short name is padded; 64 bits need a
	 * 2-byte length (0x40: lead 0x40 | low nibble 0, then 0x04). */
	reset(&b);
	aml_field(&b, "R", AML_FIELD_BYTE_ACC | AML_FIELD_LOCK |
			    AML_FIELD_PRESERVE, "F", 64);
	EXPECT(&b, 0x5b, 0x81, 0x0c, 'R', '_', '_', '_', 0x11,
	       'F', '_', '_', '_', 0x40, 0x04);
	reset(&b);
	aml_field(&b, "R", AML_FIELD_QWORD_ACC | AML_FIELD_WRITE_ONES, "F",
		  0x3f);
	EXPECT(&b, 0x5b, 0x81, 0x0b, 'R', '_', '_', '_', 0x24,
	       'F', '_', '_', '_', 0x3f);

	/* Notify (\_SB.PWRB, 0x80) and Notify (Arg0, One) */
	reset(&b);
	aml_notify(&b, AML_NAME("\\_SB.PWRB"), AML_INT(0x80));
	EXPECT(&b, 0x86, 0x5c, 0x2e, '_', 'S', 'B', '_', 'P', 'W', 'R', 'B',
	       0x0a, 0x80);
	reset(&b);
	aml_notify(&b, AML_ARG(0), AML_INT(1));
	EXPECT(&b, 0x86, 0x68, 0x01);

	/* Method (_EVT, 1, Serialized) { Local0 = ESEL
	 *   If (((Local0 & 2) == 2)) { Notify (PWRB, 0x80) } } */
	reset(&b);
	aml_method_begin(&b, "_EVT", 1, true);
	aml_store(&b, AML_NAME("ESEL"), AML_LOCAL(0));
	aml_if_begin(&b);
	aml_lequal_op(&b);
	aml_and(&b, AML_LOCAL(0), AML_INT(2), AML_NOTARGET);
	aml_opnd(&b, AML_INT(2));
	aml_notify(&b, AML_NAME("PWRB"), AML_INT(0x80));
	aml_end(&b);
	aml_end(&b);
	assert_int_equal(aml_finish(&b), 0);
	EXPECT(&b, 0x14, 0x1d, '_', 'E', 'V', 'T', 0x09,	/* 1 arg | 0x08 */
	       0x70, 'E', 'S', 'E', 'L', 0x60,			/* Store */
	       0xa0, 0x10,					/* If */
	       0x93, 0x7b, 0x60, 0x0a, 0x02, 0x00, 0x0a, 0x02,	/* LEqual(And) */
	       0x86, 'P', 'W', 'R', 'B', 0x0a, 0x80);		/* Notify */

	/* Refused: a Notify target that is no SuperName, bad field names,
	 * flags and widths, a bad region space or name. */
	static const struct aml_opnd bad_obj[] = {
		AML_INT(1), AML_STR("x"), AML_NOTARGET, AML_LOCAL(8),
	};
	for (size_t i = 0; i < sizeof(bad_obj) / sizeof(bad_obj[0]); i++) {
		reset(&b);
		aml_notify(&b, bad_obj[i], AML_INT(0x80));
		assert_int_equal(aml_error(&b), -EINVAL);
		if (bad_obj[i].kind != AML_OPND_LOCAL)
			assert_int_equal(b.len, 0);
	}
	static const char *const bad_field[] = { "", "TOOLONG", "\\ESEL",
						 "A.B", "1ABC", "^ESE", NULL };
	for (size_t i = 0; i < sizeof(bad_field) / sizeof(bad_field[0]); i++) {
		reset(&b);
		aml_field(&b, "EREG", AML_FIELD_DWORD_ACC, bad_field[i], 32);
		assert_int_equal(aml_error(&b), -EINVAL);
		assert_int_equal(b.len, 0);
	}
	static const struct {
		unsigned int flags;
		uint32_t bits;
	} bad_fw[] = {
		{ 6, 32 },			/* no such AccessType */
		{ 3 << 5, 32 },			/* no such UpdateRule */
		{ 0x80, 32 },			/* reserved bit 7 */
		{ AML_FIELD_DWORD_ACC, 0 },
		{ AML_FIELD_DWORD_ACC, 0x10000000 },	/* past 28 bits */
	};
	for (size_t i = 0; i < sizeof(bad_fw) / sizeof(bad_fw[0]); i++) {
		reset(&b);
		aml_field(&b, "EREG", bad_fw[i].flags, "ESEL", bad_fw[i].bits);
		assert_int_equal(aml_error(&b), -EINVAL);
		assert_int_equal(b.len, 0);
	}
	reset(&b);
	aml_field(&b, "EREG", AML_FIELD_DWORD_ACC, "ESEL", 0x0fffffff);
	EXPECT(&b, 0x5b, 0x81, 0x0e, 'E', 'R', 'E', 'G', 0x03,
	       'E', 'S', 'E', 'L', 0xcf, 0xff, 0xff, 0xff);
	reset(&b);
	aml_field(&b, "1BAD", AML_FIELD_DWORD_ACC, "ESEL", 32);
	assert_int_equal(aml_error(&b), -EINVAL);
	assert_int_equal(aml_finish(&b), -EINVAL);
	reset(&b);
	aml_operation_region(&b, "E.", AML_REGION_SYSTEM_MEMORY, 0, 4);
	assert_int_equal(aml_error(&b), -EINVAL);
	reset(&b);
	aml_operation_region(&b, "EREG", (enum aml_region_space)0x100, 0, 4);
	assert_int_equal(aml_error(&b), -EINVAL);
	assert_int_equal(b.len, 0);
	aml_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_strings_eisaid_uuid),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_pkglength),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_resources),
		cmocka_unit_test(test_sticky_errors),
		cmocka_unit_test(test_uid_and_gsi),
		cmocka_unit_test(test_device_numbered),
		cmocka_unit_test(test_dsd_and_osc),
		cmocka_unit_test(test_regions_fields_notify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
