// SPDX-License-Identifier: MIT
/* Each whole board, built by its own create_devices() as `rivet run` builds
 * it (without KVM): the device list, the memory map and interrupts a guest
 * finds (virtio-mmio windows, PCI functions through ECAM), the device tree
 * and, for virt, the ACPI tables; and the lists of board names kept in
 * step (core/boards.h, machine.c, the seccomp tables). */
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

#include "acpi/acpi.h"
#include "core/boards.h"
#include "core/bus.h"
#include "core/config.h"
#include "core/log.h"
#include "devices/aplic.h"
#include "devices/plic.h"
#include "devices/virtio.h"
#include "devices/virtio_input.h"
#include "devices/virtio_mmio.h"
#include "devices/virtio_pci.h"
#include "machine/machine.h"
#include "machine/microvm/microvm.h"
#include "machine/virt/virt.h"
#include "seccomp/seccomp.h"
#include "tests/support/board.h"
#include "tests/support/irqrec.h"

static uint64_t rd(struct machine *m, uint64_t addr, unsigned int len)
{
	uint8_t b[8] = { 0 };

	assert_int_equal(bus_access(&m->bus, addr, b, len, false), 0);
	return mmio_get(b, len);
}

static void wr(struct machine *m, uint64_t addr, uint32_t v)
{
	uint8_t b[4];

	mmio_put(b, 4, v);
	assert_int_equal(bus_access(&m->bus, addr, b, 4, true), 0);
}

/* The console asks for an interrupt: transmitter empty, enabled. */
static void uart_raise(struct machine *m)
{
	uint8_t ier = 0x02;	/* ETBEI */

	assert_int_equal(bus_access(&m->bus, m->console->base + 1, &ier, 1,
				    true), 0);
}

/* --irqchip plic and split on each board: rivet's PLIC or APLIC is on the
 * bus where the device tree says, the devices' lines go into it, and its
 * outputs reach the harts (KVM_INTERRUPT) or the IMSIC (KVM_SIGNAL_MSI),
 * here recorders.  With aia neither exists: KVM's APLIC is in the kernel. */
static void test_irqchip_wiring(void **state)
{
	(void)state;
	for (int i = 0; rivet_board_names[i]; i++) {
		struct tboard *b = calloc(1, sizeof(*b));
		struct ts_hart_rec *harts = calloc(1, sizeof(*harts));
		struct ts_msi_rec *msis = calloc(1, sizeof(*msis));
		struct machine *m = &b->m;
		uint32_t irq;
		uint64_t base;

		assert_true(b && harts && msis);
		/* plic: UART source to context (= hart) 1. */
		assert_int_equal(tboard_try(b, rivet_board_names[i], 2,
					    256ULL << 20, 1, IRQCHIP_PLIC), 0);
		ts_hart_rec_init(harts);
		m->harts = harts->irq;	/* as the arch code does, later */
		base = m->plic.base;
		assert_int_equal(base, 0x0c000000);
		assert_int_equal(bus_find(&m->bus, base, 4)->base, base);
		assert_null(bus_find(&m->bus, m->aia.aplic_base, 4));
		irq = m->console->irq.irq;
		wr(m, base + PLIC_PRIORITY_BASE + 4 * irq, 1);
		wr(m, base + PLIC_ENABLE_BASE + PLIC_ENABLE_STRIDE +
			      4 * (irq / 32), 1u << (irq % 32));
		uart_raise(m);
		assert_true(harts->level[1]);
		assert_false(harts->level[0]);
		assert_int_equal(rd(m, base + PLIC_CONTEXT_BASE +
					   PLIC_CONTEXT_STRIDE + PLIC_CLAIM,
				    4), irq);
		assert_false(harts->level[1]);	/* claimed */
		tboard_destroy(b);

		/* split: the UART's source to hart 1, EIID 5, as an MSI. */
		memset(b, 0, sizeof(*b));
		assert_int_equal(tboard_try(b, rivet_board_names[i], 2,
					    256ULL << 20, 1, IRQCHIP_SPLIT), 0);
		ts_msi_rec_init(msis);
		m->msichip = msis->chip;
		base = m->aia.aplic_base;
		assert_int_equal(bus_find(&m->bus, base, 4)->base, base);
		assert_null(bus_find(&m->bus, 0x0c000000, 4));
		irq = m->console->irq.irq;
		wr(m, base + APLIC_SOURCECFG(irq), APLIC_SM_LEVEL1);
		wr(m, base + APLIC_TARGET(irq),
		   1u << APLIC_TARGET_HART_SHIFT | 5);
		wr(m, base + APLIC_SETIENUM, irq);
		wr(m, base + APLIC_DOMAINCFG, APLIC_DOMAINCFG_IE);
		uart_raise(m);
		assert_int_equal(msis->total, 1);
		assert_int_equal(msis->ev[0].addr,
				 m->aia.imsic_base + m->aia.imsic_stride);
		assert_int_equal(msis->ev[0].data, 5);
		tboard_destroy(b);

		/* aia: nothing of rivet's at either address. */
		memset(b, 0, sizeof(*b));
		assert_int_equal(tboard_try(b, rivet_board_names[i], 2,
					    256ULL << 20, 1, IRQCHIP_AIA), 0);
		assert_null(bus_find(&m->bus, 0x0c000000, 4));
		assert_null(bus_find(&m->bus, m->aia.aplic_base, 4));
		tboard_destroy(b);
		free(msis);
		free(harts);
		free(b);
	}
}

/* Every name has a board of that name, and an audited allowlist. */
static void test_names(void **state)
{
	unsigned int n = 0;

	(void)state;
	for (const char *const *b = rivet_board_names; *b; b++, n++) {
		const struct board *board = board_find(*b);

		assert_non_null(board);
		assert_string_equal(board->name, *b);
		assert_non_null(board->create_devices);
		assert_non_null(board->add_virtio);
		assert_ptr_equal(rivet_board_name(*b), *b);
		for (int r = 0; r < RIVET_SECCOMP_NR_ROLES; r++) {
			FILE *null = fopen("/dev/null", "w");

			assert_non_null(null);
			for (int i = 0; i < 3; i++)
				assert_int_equal(rivet_seccomp_print(
					null, *b,
					config_irqchip_name(
						(enum irqchip_mode)(i + 1)),
					(enum rivet_seccomp_role)r), 0);
			fclose(null);
		}
	}
	assert_true(n >= 2);
	assert_string_equal(RIVET_BOARD_DEFAULT, "microvm");
	assert_null(board_find("pc"));
	assert_null(rivet_board_name("pc"));
	assert_null(rivet_board_name(NULL));
	assert_string_equal(rivet_board_list(), "microvm, virt");
}

/* microvm: the console, then one virtio-mmio window per device in slot
 * order (disks, the RNG, the power button), each with its own APLIC
 * source. */
static void test_microvm(void **state)
{
	static const uint32_t ids[] = { VIRTIO_ID_BLOCK, VIRTIO_ID_BLOCK,
					VIRTIO_ID_RNG, VIRTIO_ID_INPUT };
	const unsigned int n = sizeof(ids) / sizeof(ids[0]);
	struct tboard *b = calloc(1, sizeof(*b));
	struct machine *m;
	static uint8_t fdt[MACHINE_FDT_MAX];
	int off;

	(void)state;
	assert_non_null(b);
	tboard_create(b, "microvm", 2, 256ULL << 20, 2);
	m = &b->m;
	assert_string_equal(m->compatible, "rivet,microvm");
	assert_int_equal(m->ram.base, MICROVM_RAM_BASE);
	assert_int_equal(m->aia.aplic_base, MICROVM_APLIC_BASE);
	assert_int_equal(m->nr_virtio, n);
	assert_int_equal(m->nr_pollers, 0);	/* no NIC */
	assert_ptr_equal(m->power_dev, m->virtio[n - 1]);
	assert_int_equal(m->power_button(m), -ENODEV);	/* no driver yet */
	assert_non_null(m->console);
	assert_int_equal(m->console->base, MICROVM_UART_BASE);
	assert_int_equal(m->console->irq.irq, MICROVM_UART_IRQ);
	for (unsigned int i = 0; i < n; i++) {
		uint64_t base = MICROVM_VIRTIO_BASE + i * MICROVM_VIRTIO_SIZE;
		struct rivet_dev *d = bus_find(&m->bus, base, 4);

		assert_non_null(d);
		assert_int_equal(d->base, base);
		assert_int_equal(d->irq.irq, MICROVM_VIRTIO_IRQ0 + i);
		assert_int_equal(rd(m, base + VIRTIO_MMIO_MAGIC_VALUE, 4),
				 VIRTIO_MMIO_MAGIC);
		assert_int_equal(rd(m, base + VIRTIO_MMIO_DEVICE_ID, 4),
				 ids[i]);
	}
	/* Nothing past the last slot. */
	assert_null(bus_find(&m->bus, MICROVM_VIRTIO_BASE +
				      n * MICROVM_VIRTIO_SIZE, 4));
	/* The device tree names every one of them. */
	assert_int_equal(machine_build_fdt(m, fdt, sizeof(fdt)), 0);
	for (unsigned int i = 0; i < n; i++) {
		char path[64];

		snprintf(path, sizeof(path), "/soc/virtio_mmio@%llx",
			 (unsigned long long)(MICROVM_VIRTIO_BASE +
					      i * MICROVM_VIRTIO_SIZE));
		off = fdt_path_offset(fdt, path);
		assert_true(off >= 0);
	}
	/* microvm has no ACPI. */
	assert_null(m->board->acpi_platform);
	tboard_destroy(b);
	free(b);
}

/* ECAM address of function 0 of @slot, register @reg. */
static uint64_t ecam(unsigned int slot, unsigned int reg)
{
	return VIRT_PCIE_ECAM_BASE + ((uint64_t)slot << 15) + reg;
}

/* virt: the console, fw_cfg, the PCIe host with the virtio functions in
 * slots 1.. (disks, the RNG, the power button), the device tree and ACPI
 * tables. */
static void test_virt(void **state)
{
	static const uint16_t ids[] = { VIRTIO_ID_BLOCK, VIRTIO_ID_BLOCK,
					VIRTIO_ID_RNG, VIRTIO_ID_INPUT };
	const unsigned int n = sizeof(ids) / sizeof(ids[0]);
	struct tboard *b = calloc(1, sizeof(*b));
	struct machine *m;
	struct acpi_platform p;
	struct acpi_tables t;
	static uint8_t fdt[MACHINE_FDT_MAX];

	(void)state;
	assert_non_null(b);
	tboard_create(b, "virt", 2, 1ULL << 30, 2);
	m = &b->m;
	assert_string_equal(m->compatible, "riscv-virtio");
	assert_int_equal(m->ram.base, VIRT_RAM_BASE);
	assert_int_equal(m->nr_virtio, n);
	assert_ptr_equal(m->power_dev, m->virtio[n - 1]);
	assert_int_equal(m->power_button(m), -ENODEV);
	assert_int_equal(m->console->base, VIRT_UART_BASE);
	assert_int_equal(m->console->irq.irq, VIRT_UART_IRQ);
	assert_non_null(bus_find(&m->bus, VIRT_FWCFG_BASE, 1));
	/* No flash without --firmware. */
	assert_null(bus_find(&m->bus, VIRT_FLASH_BASE, 4));
	/* The host bridge at 00:00.0, then the functions. */
	assert_int_equal(rd(m, ecam(0, 0), 4), 0x00081b36);
	for (unsigned int i = 0; i < n; i++) {
		uint32_t id = (uint32_t)rd(m, ecam(i + 1, 0), 4);

		assert_int_equal(id & 0xffff, VIRTIO_PCI_VENDOR);
		assert_int_equal(id >> 16, VIRTIO_PCI_DEVICE_BASE + ids[i]);
		/* Disks are mass storage, the power button an input
		 * device, the rest "other". */
		assert_int_equal(rd(m, ecam(i + 1, 0x0b), 1),
				 ids[i] == VIRTIO_ID_BLOCK ? 0x01 :
				 ids[i] == VIRTIO_ID_INPUT ? 0x09 : 0xff);
	}
	assert_int_equal(rd(m, ecam(n + 1, 0), 4), 0xffffffff);	/* empty */
	assert_int_equal(machine_build_fdt(m, fdt, sizeof(fdt)), 0);
	assert_true(fdt_path_offset(fdt, "/soc/pcie@30000000") >= 0);
	assert_true(fdt_path_offset(fdt, "/soc/serial@10000000") >= 0);
	/* The tables describe the same machine. */
	assert_non_null(m->board->acpi_platform);
	m->board->acpi_platform(m, &p);
	assert_true(p.has_pcie);
	assert_int_equal(p.pcie.ecam_base, VIRT_PCIE_ECAM_BASE);
	assert_ptr_equal(p.console, m->console);
	assert_int_equal(acpi_build(m, &p, &t), 0);
	assert_non_null(acpi_find_table(&t, "MCFG"));
	assert_non_null(acpi_find_table(&t, "SPCR"));
	acpi_tables_free(&t);
	tboard_destroy(b);
	free(b);
}

/* A disk that cannot be opened stops the board with the file's error, and
 * what was built so far is freed (ASan/LSan in the sanitizer build). */
static void test_bad_disk(void **state)
{
	for (int i = 0; rivet_board_names[i]; i++) {
		struct tboard *b = calloc(1, sizeof(*b));

		(void)state;
		assert_non_null(b);
		assert_int_equal(tboard_try(b, rivet_board_names[i], 1,
					    256ULL << 20, 1, IRQCHIP_AIA), 0);
		tboard_destroy(b);
		memset(b, 0, sizeof(*b));
		b->cfg = (struct vm_config){
			.board = rivet_board_names[i], .kernel = "Image",
			.cmdline = "", .cpus = 1, .mem_size = 256ULL << 20,
			.nr_disks = 1, .boot_timeout = -1,
		};
		b->cfg.disks[0] = (struct disk_config){
			.path = "/nonexistent/disk.img", .bootindex = -1 };
		assert_int_equal(machine_create_offline(&b->m, &b->cfg),
				 -ENOENT);
		assert_int_equal(b->m.nr_virtio, 0);
		machine_free(&b->m);
		free(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_microvm),
		cmocka_unit_test(test_virt),
		cmocka_unit_test(test_bad_disk),
		cmocka_unit_test(test_irqchip_wiring),
	};

	log_set_level(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
