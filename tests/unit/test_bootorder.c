// SPDX-License-Identifier: MIT
/* The fw_cfg boot order: QEMU's "bootorder" file format (the OpenFirmware
 * paths EDK2's QemuBootOrderLib translates) and the boot menu wait. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/gmem.h"
#include "fwcfg/bootorder.h"
#include "fwcfg/fwcfg.h"
#include "tests/support/fwcfg_peek.h"

#define ECAM 0x30000000ULL
#define DISK(s) "/pci@0000000030000000/scsi@" s "/disk@0,0"

static void test_order_by_bootindex(void **state)
{
	/* Listed in PCI order; the file goes by bootindex, gaps allowed. */
	const struct bootorder_dev devs[] = {
		{ .bootindex = 7, .slot = 1, .kind = BOOTORDER_DISK },
		{ .bootindex = -1, .slot = 2, .kind = BOOTORDER_DISK },
		{ .bootindex = 0, .slot = 3, .kind = BOOTORDER_NET },
		{ .bootindex = 2, .slot = 0x1e, .kind = BOOTORDER_DISK },
	};
	const char want[] =
		"/pci@0000000030000000/ethernet@3/ethernet-phy@0\n"
		DISK("1e") "\n" DISK("1");
	char *out;
	size_t len;

	(void)state;
	assert_int_equal(bootorder_build(ECAM, devs, 4, &out, &len), 0);
	assert_non_null(out);
	/* NUL-terminated, no newline after the last path (as QEMU). */
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
	free(out);
}

static void test_nothing_to_order(void **state)
{
	const struct bootorder_dev devs[] = {
		{ .bootindex = -1, .slot = 1, .kind = BOOTORDER_DISK },
	};
	char *out = (char *)devs;
	size_t len = 99;

	(void)state;
	assert_int_equal(bootorder_build(ECAM, devs, 1, &out, &len), 0);
	assert_null(out);
	assert_int_equal(len, 0);
	assert_int_equal(bootorder_build(ECAM, NULL, 0, &out, &len), 0);
	assert_null(out);
}

static void test_refused(void **state)
{
	const struct bootorder_dev dup[] = {
		{ .bootindex = 1, .slot = 1, .kind = BOOTORDER_DISK },
		{ .bootindex = 1, .slot = 2, .kind = BOOTORDER_DISK },
	};
	const struct bootorder_dev slot0[] = {
		{ .bootindex = 0, .slot = 0, .kind = BOOTORDER_DISK },
	};
	const struct bootorder_dev slot32[] = {
		{ .bootindex = 0, .slot = 32, .kind = BOOTORDER_DISK },
	};
	char *out;
	size_t len;

	(void)state;
	assert_int_equal(bootorder_build(ECAM, dup, 2, &out, &len), -EINVAL);
	assert_null(out);
	assert_int_equal(bootorder_build(ECAM, slot0, 1, &out, &len), -EINVAL);
	assert_int_equal(bootorder_build(ECAM, slot32, 1, &out, &len),
			 -EINVAL);
}

static void read_item(struct rivet_dev *d, uint16_t key, uint8_t *buf,
		      size_t n)
{
	uint8_t be[2] = { (uint8_t)(key >> 8), (uint8_t)key };

	d->ops->mmio_write(d, FWCFG_REG_SELECTOR, be, 2);
	for (size_t i = 0; i < n; i++)
		d->ops->mmio_read(d, FWCFG_REG_DATA, buf + i, 1);
}

static void test_install(void **state)
{
	const struct bootorder_dev devs[] = {
		{ .bootindex = -1, .slot = 1, .kind = BOOTORDER_DISK },
		{ .bootindex = 3, .slot = 2, .kind = BOOTORDER_DISK },
	};
	const char want[] = DISK("2");
	struct rivet_dev *d;
	struct gmem gm;
	uint8_t buf[64];
	uint16_t key;
	uint32_t size;

	(void)state;
	assert_int_equal(gmem_alloc(&gm, 0x80000000ULL, 1 << 20), 0);
	assert_int_equal(fwcfg_create(&gm, 0x10100000ULL, &d), 0);
	assert_int_equal(bootorder_install(d, ECAM, devs, 2, 3), 0);
	assert_int_equal(fwcfg_find_file(d, "bootorder", &key, &size), 0);
	assert_int_equal(size, sizeof(want));
	read_item(d, key, buf, size);
	assert_memory_equal(buf, want, sizeof(want));
	/* Boot menu on (le16 1), wait 3000 ms (le16). */
	read_item(d, FWCFG_BOOT_MENU, buf, 2);
	assert_int_equal(buf[0], 1);
	assert_int_equal(buf[1], 0);
	assert_int_equal(fwcfg_find_file(d, "etc/boot-menu-wait", &key, &size),
			 0);
	assert_int_equal(size, 2);
	read_item(d, key, buf, 2);
	assert_int_equal(buf[0] | buf[1] << 8, 3000);
	d->ops->destroy(d);

	/* Neither order nor timeout: no file, the menu item left unset. */
	assert_int_equal(fwcfg_create(&gm, 0x10100000ULL, &d), 0);
	assert_int_equal(bootorder_install(d, ECAM, devs, 1, -1), 0);
	assert_int_equal(fwcfg_find_file(d, "bootorder", &key, &size),
			 -ENOENT);
	assert_int_equal(fwcfg_find_file(d, "etc/boot-menu-wait", &key,
					 &size), -ENOENT);
	buf[0] = buf[1] = 0xa5;
	read_item(d, FWCFG_BOOT_MENU, buf, 2);
	assert_int_equal(buf[0] | buf[1], 0);
	/* A timeout that does not fit fw_cfg's le16 milliseconds. */
	assert_int_equal(bootorder_install(d, ECAM, devs, 1, 66), -EINVAL);
	d->ops->destroy(d);
	gmem_free(&gm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_by_bootindex),
		cmocka_unit_test(test_nothing_to_order),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_install),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
