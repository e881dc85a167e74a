// SPDX-License-Identifier: MIT
/* `rivet acpi-dump`: the virt board's real device list becomes a complete,
 * checksummed table set on disk; bad arguments are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/log.h"

static size_t slurp(const char *dir, const char *name, uint8_t *buf,
		    size_t max)
{
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("no %s", path);
	n = fread(buf, 1, max, f);
	fclose(f);
	return n;
}

static int run(int argc, char **argv)
{
	enum log_level old = log_get_level();
	int ret;

	log_set_level(LOG_ERR);
	ret = cmd_acpi_dump(argc, argv);
	log_set_level(old);
	return ret;
}

static void test_dump_virt(void **state)
{
	static const char *const tables[] = { "FACP", "DSDT", "APIC", "RHCT",
					      "SPCR", "MCFG", "XSDT" };
	char dir[] = "/tmp/rivet-acpi-XXXXXX";
	char *argv[] = { "acpi-dump", "--cpus", "4", "--memory", "1G", dir,
			 NULL };
	static uint8_t buf[65536];
	char cmd[600];
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(run(6, argv), 0);
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		char name[16];
		uint8_t sum = 0;

		snprintf(name, sizeof(name), "%s.dat", tables[t]);
		n = slurp(dir, name, buf, sizeof(buf));
		assert_true(n >= 36);
		assert_memory_equal(buf, tables[t], 4);
		assert_int_equal(buf[4] | buf[5] << 8 | buf[6] << 16 |
				 (uint32_t)buf[7] << 24, n);
		for (size_t i = 0; i < n; i++)
			sum = (uint8_t)(sum + buf[i]);
		assert_int_equal(sum, 0);
	}
	/* The DSDT describes the board's own devices. */
	n = slurp(dir, "DSDT.dat", buf, sizeof(buf));
	assert_non_null(memmem(buf, n, "PCI0", 4));
	assert_non_null(memmem(buf, n, "FWCF", 4));
	assert_non_null(memmem(buf, n, "COM0", 4));
	assert_non_null(memmem(buf, n, "GED0", 4));	/* the power button */
	assert_non_null(memmem(buf, n, "PWRB", 4));
	assert_non_null(memmem(buf, n, "C003", 4));	/* four harts */
	assert_null(memmem(buf, n, "C004", 4));
	slurp(dir, "RSDP.dat", buf, sizeof(buf));
	assert_memory_equal(buf, "RSD PTR ", 8);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_dump_errors(void **state)
{
	char *a1[] = { "acpi-dump", "--board", "microvm", "/tmp", NULL };
	char *a2[] = { "acpi-dump", NULL };
	char *a3[] = { "acpi-dump", "--cpus", "0", "/tmp", NULL };
	char *a4[] = { "acpi-dump", "--memory", "3M", "/tmp", NULL };
	char *a5[] = { "acpi-dump", "/nonexistent/dir", NULL };
	char *a6[] = { "acpi-dump", "--frob", "/tmp", NULL };
	char *a7[] = { "acpi-dump", "--board", "pc", "/tmp", NULL };
	char *a8[] = { "acpi-dump", "/tmp", "/tmp", NULL };
	char *a9[] = { "acpi-dump", "--cpus", NULL };

	(void)state;
	assert_int_equal(run(4, a1), 2);
	assert_int_equal(run(1, a2), 2);
	assert_int_equal(run(4, a3), 2);
	assert_int_equal(run(4, a4), 2);
	assert_int_equal(run(2, a5), 1);
	assert_int_equal(run(3, a6), 2);
	assert_int_equal(run(4, a7), 2);
	assert_int_equal(run(3, a8), 2);
	assert_int_equal(run(2, a9), 2);
}

int main(void)
{
	const char *dir = getenv("RIVET_ACPI_BOARD_DUMP");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dump_virt),
		cmocka_unit_test(test_dump_errors),
	};

	/* tests/acpi/check.sh: the default virt board's tables, for iasl
	 * and the golden copies. */
	if (dir) {
		const char *irqchip = getenv("RIVET_ACPI_BOARD_IRQCHIP");
		char *argv[] = { "acpi-dump", "--irqchip",
				 (char *)(irqchip ? irqchip : "aia"),
				 (char *)dir, NULL };

		return cmd_acpi_dump(4, argv);
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
