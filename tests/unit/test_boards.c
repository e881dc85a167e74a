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
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acpi/acpi.h"
#include "core/boards.h"
#include "core/bus.h"
#include "core/config.h"
#include "core/log.h"
#include "devices/aplic.h"
#include "devices/ged.h"
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
#include "tests/support/files.h"
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

/* A wired interrupt controller standing in for KVM's APLIC (aia), which
 * the arch code installs in m->irqchip after the devices exist. */
struct level_rec {
	uint32_t irq;
	bool level;
	unsigned int calls;
};

static int rec_set_level(void *ctx, uint32_t irq, bool level)
{
	struct level_rec *r = ctx;

	r->irq = irq;
	r->level = level;
	r->calls++;
	return 0;
}

/* The GED on virt: at VIRT_GED_BASE on source VIRT_GED_IRQ of whichever
 * interrupt controller the mode has -- rivet's PLIC (to a hart), rivet's
 * APLIC (an MSI), KVM's APLIC (installed later by the arch code) -- and
 * reading its selector lowers the line.  On a direct kernel boot it is no
 * power button (the guest has no ACPI): system_powerdown presses the
 * virtio-input one alone, as before. */
static void test_virt_ged(void **state)
{
	static const enum irqchip_mode modes[] = { IRQCHIP_PLIC,
						   IRQCHIP_SPLIT,
						   IRQCHIP_AIA };
	(void)state;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct tboard *b = calloc(1, sizeof(*b));
		struct ts_hart_rec *harts = calloc(1, sizeof(*harts));
		struct ts_msi_rec *msis = calloc(1, sizeof(*msis));
		struct level_rec kvm = { 0 };
		struct machine *m = &b->m;
		struct rivet_dev *ged;
		uint64_t base;

		assert_true(b && harts && msis);
		assert_int_equal(tboard_try(b, "virt", 2, 256ULL << 20, 0,
					    modes[i]), 0);
		ged = bus_find(&m->bus, VIRT_GED_BASE, 4);
		assert_non_null(ged);
		assert_string_equal(ged->ops->name, "ged");
		assert_int_equal(ged->base, VIRT_GED_BASE);
		assert_int_equal(ged->size, VIRT_GED_SIZE);
		assert_int_equal(ged->irq.irq, VIRT_GED_IRQ);
		assert_ptr_equal(ged->irq.chip, &m->irqchip);
		assert_null(bus_find(&m->bus, VIRT_GED_BASE + VIRT_GED_SIZE,
				     4));
		/* Direct kernel boot: only the virtio-input button. */
		assert_int_equal(m->nr_buttons, 1);
		assert_int_equal(m->power_button(m), -ENODEV);
		switch (modes[i]) {
		case IRQCHIP_PLIC:
			ts_hart_rec_init(harts);
			m->harts = harts->irq;
			base = m->plic.base;
			wr(m, base + PLIC_PRIORITY_BASE + 4 * VIRT_GED_IRQ, 1);
			wr(m, base + PLIC_ENABLE_BASE + PLIC_ENABLE_STRIDE,
			   1u << VIRT_GED_IRQ);
			assert_int_equal(ged_press_power(ged), 0);
			assert_true(harts->level[1]);
			assert_int_equal(rd(m, base + PLIC_CONTEXT_BASE +
						   PLIC_CONTEXT_STRIDE +
						   PLIC_CLAIM, 4),
					 VIRT_GED_IRQ);
			break;
		case IRQCHIP_SPLIT:
			ts_msi_rec_init(msis);
			m->msichip = msis->chip;
			base = m->aia.aplic_base;
			wr(m, base + APLIC_SOURCECFG(VIRT_GED_IRQ),
			   APLIC_SM_LEVEL1);
			wr(m, base + APLIC_TARGET(VIRT_GED_IRQ),
			   1u << APLIC_TARGET_HART_SHIFT | 6);
			wr(m, base + APLIC_SETIENUM, VIRT_GED_IRQ);
			wr(m, base + APLIC_DOMAINCFG, APLIC_DOMAINCFG_IE);
			assert_int_equal(ged_press_power(ged), 0);
			assert_int_equal(msis->total, 1);
			assert_int_equal(msis->ev[0].addr,
					 m->aia.imsic_base +
						 m->aia.imsic_stride);
			assert_int_equal(msis->ev[0].data, 6);
			break;
		default:
			m->irqchip = (struct irq_chip){
				.set_level = rec_set_level, .ctx = &kvm };
			assert_int_equal(ged_press_power(ged), 0);
			assert_int_equal(kvm.irq, VIRT_GED_IRQ);
			assert_true(kvm.level);
			break;
		}
		assert_int_equal(rd(m, VIRT_GED_BASE, 4), GED_EVT_POWER_BUTTON);
		assert_int_equal(rd(m, VIRT_GED_BASE, 4), 0);
		if (modes[i] == IRQCHIP_AIA) {
			assert_false(kvm.level);
			assert_int_equal(kvm.calls, 2);
			m->irqchip = (struct irq_chip){ 0 };
		}
		tboard_destroy(b);
		free(msis);
		free(harts);
		free(b);
	}
}

/* A firmware boot (the guest gets ACPI tables): the GED is a power button
 * too, pressed with the virtio-input one; the press counts as done
 * although virtio-input has no driver yet, and it reaches the selector. */
static void test_virt_firmware_power_button(void **state)
{
	struct vm_config cfg = {
		.board = "virt", .cpus = 1, .mem_size = 256ULL << 20,
		.boot_timeout = -1, .irqchip = IRQCHIP_AIA,
	};
	char fw[PATH_MAX];
	struct machine *m = calloc(1, sizeof(*m));

	(void)state;
	assert_non_null(m);
	ts_temp_file(fw, "ged-fw", 4096, NULL);
	cfg.firmware = fw;
	assert_int_equal(machine_create_offline(m, &cfg), 0);
	assert_non_null(bus_find(&m->bus, VIRT_FLASH_BASE, 4));
	assert_int_equal(m->nr_buttons, 2);
	assert_int_equal(vinput_press_power(m->power_dev), -ENODEV);
	assert_int_equal(rd(m, VIRT_GED_BASE, 4), 0);
	assert_int_equal(m->power_button(m), 0);
	assert_int_equal(rd(m, VIRT_GED_BASE, 4), GED_EVT_POWER_BUTTON);
	/* Destroying the devices forgets the buttons. */
	machine_destroy_devices(m);
	assert_int_equal(m->nr_buttons, 0);
	assert_null(m->power_button);
	assert_null(m->power_dev);
	machine_free(m);
	unlink(fw);
	free(m);
}

/* machine_press_power()'s answer from several buttons: any success wins;
 * else "nobody listens" (-ENODEV, which QMP still acknowledges); else the
 * first error.  Every button is pressed either way. */
static int fake_press(void *ctx)
{
	int *r = ctx;

	r[1]++;
	return r[0];
}

static void test_power_buttons(void **state)
{
	static const int cases[][3] = {
		/* button 1, button 2, the answer */
		{ 0, -ENODEV, 0 }, { -ENODEV, 0, 0 }, { -EIO, 0, 0 },
		{ -EIO, -ENODEV, -ENODEV }, { -ENODEV, -EIO, -ENODEV },
		{ -EIO, -EINVAL, -EIO }, { -ENODEV, -ENODEV, -ENODEV },
	};
	struct machine m;
	int a[2], c[2];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&m, 0, sizeof(m));
		a[0] = cases[i][0], a[1] = 0;
		c[0] = cases[i][1], c[1] = 0;
		assert_null(m.power_button);
		assert_int_equal(machine_add_power_button(&m, fake_press, a),
				 0);
		assert_int_equal(machine_add_power_button(&m, fake_press, c),
				 0);
		assert_int_equal(machine_add_power_button(&m, fake_press, c),
				 -ENOSPC);
		assert_int_equal(m.power_button(&m), cases[i][2]);
		assert_int_equal(a[1], 1);
		assert_int_equal(c[1], 1);
	}
	assert_int_equal(machine_add_power_button(&m, NULL, NULL), -EINVAL);
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
		cmocka_unit_test(test_virt_ged),
		cmocka_unit_test(test_virt_firmware_power_button),
		cmocka_unit_test(test_power_buttons),
		cmocka_unit_test(test_bad_disk),
		cmocka_unit_test(test_irqchip_wiring),
	};

	log_set_level(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
