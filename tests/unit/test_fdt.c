// SPDX-License-Identifier: MIT
/* The microvm device tree: built from the board's own device table with a
 * fake vCPU description, checked node by node with libfdt and by dtc,
 * which must read it back without a single warning. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "machine/machine.h"
#include "machine/microvm/microvm.h"
#include "tests/support/board.h"

struct fixture {
	struct tboard b;
	struct machine *m;
	uint8_t fdt[MACHINE_FDT_MAX];
};

static const char *const exts[] = { "i", "m", "a", "f", "d", "c",
				    "zicbom", "zicboz", "sstc" };

/* The microvm board as `rivet run --cpus 2 --memory 256M --disk D`
 * builds it, with a hart offering exts[] and an initrd. */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	tboard_create(&f->b, "microvm", 2, 256ULL << 20, 1);
	f->b.cfg.cmdline = "console=ttyS0 x";
	f->m = &f->b.m;
	f->m->cpu.nr_exts = 0;
	for (unsigned int i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
		f->m->cpu.exts[f->m->cpu.nr_exts++] = exts[i];
	f->m->initrd_start = 0x8fc00000;
	f->m->initrd_size = 0x1234;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	tboard_destroy(&f->b);
	free(f);
	return 0;
}

static const void *getprop(const void *fdt, const char *path,
			   const char *name, int *len)
{
	int off = fdt_path_offset(fdt, path);
	const void *p;

	if (off < 0)
		fail_msg("no node %s", path);
	p = fdt_getprop(fdt, off, name, len);
	if (!p)
		fail_msg("no property %s in %s", name, path);
	return p;
}

static uint32_t getu32(const void *fdt, const char *path, const char *name)
{
	int len;
	const fdt32_t *p = getprop(fdt, path, name, &len);

	assert_int_equal(len, 4);
	return fdt32_ld(p);
}

static void test_cpus(void **state)
{
	struct fixture *f = *state;
	const char *fdt = (const char *)f->fdt;
	const char *s;
	int len;

	assert_int_equal(machine_build_fdt(f->m, f->fdt, sizeof(f->fdt)), 0);
	assert_int_equal(getu32(fdt, "/cpus", "timebase-frequency"), 10000000);
	for (int c = 0; c < 2; c++) {
		char path[32], intc[64];

		snprintf(path, sizeof(path), "/cpus/cpu@%d", c);
		assert_string_equal(getprop(fdt, path, "riscv,isa", &len),
				    "rv64imafdc_zicbom_zicboz_sstc");
		assert_string_equal(getprop(fdt, path, "riscv,isa-base", &len),
				    "rv64i");
		assert_string_equal(getprop(fdt, path, "mmu-type", &len),
				    "riscv,sv57");
		assert_int_equal(getu32(fdt, path, "reg"), c);
		assert_int_equal(getu32(fdt, path, "riscv,cbom-block-size"),
				 64);
		s = getprop(fdt, path, "riscv,isa-extensions", &len);
		assert_int_equal(fdt_stringlist_count(fdt,
					fdt_path_offset(fdt, path),
					"riscv,isa-extensions"), 9);
		assert_string_equal(s, "i");
		snprintf(intc, sizeof(intc), "%s/interrupt-controller", path);
		assert_string_equal(getprop(fdt, intc, "compatible", &len),
				    "riscv,cpu-intc");
		assert_int_equal(getu32(fdt, intc, "phandle"), c + 1);
	}
	assert_true(fdt_path_offset(fdt, "/cpus/cpu@2") < 0);
}

static void test_aia(void **state)
{
	struct fixture *f = *state;
	const char *fdt = (const char *)f->fdt;
	const char *imsic = "/soc/interrupt-controller@28000000";
	const char *aplic = "/soc/interrupt-controller@d000000";
	const fdt32_t *p;
	int len;

	assert_int_equal(machine_build_fdt(f->m, f->fdt, sizeof(f->fdt)), 0);
	assert_string_equal(getprop(fdt, imsic, "compatible", &len),
			    "riscv,imsics");
	p = getprop(fdt, imsic, "interrupts-extended", &len);
	assert_int_equal(len, 16);	/* <&cpu0-intc 9 &cpu1-intc 9> */
	assert_int_equal(fdt32_ld(p), 1);
	assert_int_equal(fdt32_ld(p + 1), 9);
	assert_int_equal(fdt32_ld(p + 2), 2);
	assert_int_equal(fdt32_ld(p + 3), 9);
	p = getprop(fdt, imsic, "reg", &len);
	assert_int_equal(len, 16);
	assert_int_equal(fdt64_ld((const fdt64_t *)p + 1), 0x2000);
	assert_int_equal(getu32(fdt, imsic, "riscv,num-ids"), 255);
	assert_string_equal(getprop(fdt, aplic, "compatible", &len),
			    "riscv,aplic");
	assert_int_equal(getu32(fdt, aplic, "msi-parent"),
			 getu32(fdt, imsic, "phandle"));
	assert_int_equal(getu32(fdt, aplic, "riscv,num-sources"),
			 MICROVM_APLIC_SOURCES);
	assert_int_equal(getu32(fdt, aplic, "#interrupt-cells"), 2);
}

/* --irqchip plic: a SiFive PLIC, context N = hart N's S-mode external
 * interrupt; devices name it with one cell; no IMSIC, no APLIC. */
static void test_plic(void **state)
{
	struct fixture *f = *state;
	const char *fdt = (const char *)f->fdt;
	const char *plic = "/soc/interrupt-controller@c000000";
	const char *uart = "/soc/serial@10000000";
	const fdt32_t *p;
	const fdt64_t *q;
	int len;

	f->m->irqchip_mode = IRQCHIP_PLIC;
	assert_int_equal(machine_build_fdt(f->m, f->fdt, sizeof(f->fdt)), 0);
	assert_int_equal(fdt_stringlist_search(fdt, fdt_path_offset(fdt, plic),
					       "compatible",
					       "sifive,plic-1.0.0"), 0);
	assert_int_equal(fdt_stringlist_search(fdt, fdt_path_offset(fdt, plic),
					       "compatible", "riscv,plic0"), 1);
	q = getprop(fdt, plic, "reg", &len);
	assert_int_equal(fdt64_ld(q), MICROVM_PLIC_BASE);
	assert_int_equal(fdt64_ld(q + 1), 0x200000 + 2 * 0x1000);
	p = getprop(fdt, plic, "interrupts-extended", &len);
	assert_int_equal(len, 16);	/* <&cpu0-intc 9 &cpu1-intc 9> */
	assert_int_equal(fdt32_ld(p), 1);
	assert_int_equal(fdt32_ld(p + 1), 9);
	assert_int_equal(fdt32_ld(p + 2), 2);
	assert_int_equal(fdt32_ld(p + 3), 9);
	assert_int_equal(getu32(fdt, plic, "riscv,ndev"),
			 MICROVM_APLIC_SOURCES);
	assert_int_equal(getu32(fdt, plic, "#interrupt-cells"), 1);
	assert_int_equal(getu32(fdt, plic, "#address-cells"), 0);
	assert_non_null(fdt_getprop(fdt, fdt_path_offset(fdt, plic),
				    "interrupt-controller", NULL));
	assert_true(fdt_path_offset(fdt,
			"/soc/interrupt-controller@28000000") < 0);
	assert_true(fdt_path_offset(fdt, "/soc/interrupt-controller@d000000")
		    < 0);
	p = getprop(fdt, uart, "interrupts", &len);
	assert_int_equal(len, 4);
	assert_int_equal(fdt32_ld(p), MICROVM_UART_IRQ);
	assert_int_equal(getu32(fdt, uart, "interrupt-parent"),
			 getu32(fdt, plic, "phandle"));
}

static void test_devices_and_chosen(void **state)
{
	struct fixture *f = *state;
	const char *fdt = (const char *)f->fdt;
	const char *uart = "/soc/serial@10000000";
	const char *blk = "/soc/virtio_mmio@10001000";
	const char *rng = "/soc/virtio_mmio@10002000";
	const char *aplic = "/soc/interrupt-controller@d000000";
	const fdt32_t *p;
	const fdt64_t *q;
	int len;

	assert_int_equal(machine_build_fdt(f->m, f->fdt, sizeof(f->fdt)), 0);
	assert_string_equal(getprop(fdt, uart, "compatible", &len),
			    "ns16550a");
	p = getprop(fdt, uart, "interrupts", &len);
	assert_int_equal(len, 8);
	assert_int_equal(fdt32_ld(p), MICROVM_UART_IRQ);
	assert_int_equal(fdt32_ld(p + 1), 4);	/* level high */
	assert_int_equal(getu32(fdt, uart, "interrupt-parent"),
			 getu32(fdt, aplic, "phandle"));
	assert_string_equal(getprop(fdt, blk, "compatible", &len),
			    "virtio,mmio");
	p = getprop(fdt, blk, "interrupts", &len);
	assert_int_equal(fdt32_ld(p), MICROVM_VIRTIO_IRQ0);
	assert_int_equal(fdt32_ld(p + 1), 4);	/* level high */
	p = getprop(fdt, rng, "interrupts", &len);
	assert_int_equal(fdt32_ld(p), MICROVM_VIRTIO_IRQ0 + 1);
	/* Tree order = probe order: the first disk comes first. */
	assert_true(fdt_path_offset(fdt, blk) < fdt_path_offset(fdt, rng));

	assert_string_equal(getprop(fdt, "/chosen", "bootargs", &len),
			    "console=ttyS0 x");
	assert_string_equal(getprop(fdt, "/chosen", "stdout-path", &len),
			    uart);
	q = getprop(fdt, "/chosen", "linux,initrd-start", &len);
	assert_int_equal(fdt64_ld(q), 0x8fc00000);
	q = getprop(fdt, "/chosen", "linux,initrd-end", &len);
	assert_int_equal(fdt64_ld(q), 0x8fc01234);
	getprop(fdt, "/chosen", "rng-seed", &len);
	assert_int_equal(len, 64);
	q = getprop(fdt, "/memory@80000000", "reg", &len);
	assert_int_equal(fdt64_ld(q), 0x80000000);
	assert_int_equal(fdt64_ld(q + 1), 256ULL << 20);
}

static void test_dtc_accepts(void **state)
{
	struct fixture *f = *state;
	char path[] = "/tmp/rivet-dtb-XXXXXX", cmd[256], out[4096];
	size_t n;
	FILE *p;
	int fd, status;

	assert_int_equal(machine_build_fdt(f->m, f->fdt, sizeof(f->fdt)), 0);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, f->fdt, fdt_totalsize(f->fdt)),
			 (ssize_t)fdt_totalsize(f->fdt));
	close(fd);
	snprintf(cmd, sizeof(cmd), "dtc -I dtb -O dts -o /dev/null %s 2>&1",
		 path);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	status = pclose(p);
	unlink(path);
	if (status != 0 || n != 0)
		fail_msg("dtc (status %d) said:\n%s", status, out);
}

static void test_dtc_accepts_plic(void **state)
{
	struct fixture *f = *state;

	f->m->irqchip_mode = IRQCHIP_PLIC;
	test_dtc_accepts(state);
}

static void test_no_initrd_no_space(void **state)
{
	struct fixture *f = *state;
	static uint8_t tiny[512];

	f->m->initrd_size = 0;
	assert_int_equal(machine_build_fdt(f->m, f->fdt, sizeof(f->fdt)), 0);
	assert_true(fdt_path_offset(f->fdt, "/chosen") >= 0);
	assert_null(fdt_getprop(f->fdt, fdt_path_offset(f->fdt, "/chosen"),
				"linux,initrd-start", NULL));
	assert_int_equal(machine_build_fdt(f->m, tiny, sizeof(tiny)),
			 -ENOSPC);
}

static void test_isa_string(void **state)
{
	struct cpu_info cpu = { .xlen = 64 };
	char buf[64], small[8];

	(void)state;
	/* KVM's order is not canonical: single letters get sorted. */
	cpu.exts[cpu.nr_exts++] = "a";
	cpu.exts[cpu.nr_exts++] = "c";
	cpu.exts[cpu.nr_exts++] = "i";
	cpu.exts[cpu.nr_exts++] = "ssaia";
	cpu.exts[cpu.nr_exts++] = "m";
	cpu.exts[cpu.nr_exts++] = "zba";
	assert_int_equal(machine_isa_string(&cpu, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "rv64imac_zba_ssaia");
	assert_int_equal(machine_isa_string(&cpu, small, sizeof(small)),
			 -ENOSPC);
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cpus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aia, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_devices_and_chosen, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dtc_accepts, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dtc_accepts_plic, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_initrd_no_space, setup,
						teardown),
		cmocka_unit_test(test_isa_string),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
