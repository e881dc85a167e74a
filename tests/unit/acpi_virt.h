/* SPDX-License-Identifier: MIT */
/* A description of the virt board for the ACPI tests and the golden tables
 * (tests/acpi/): QEMU virt's memory map, two harts, the in-kernel AIA in MSI
 * mode, a 16550 console, PCIe ECAM.  Stands in for the virt board until it
 * exists (then the board's own create_devices() replaces this). */
#ifndef RIVET_TEST_ACPI_VIRT_H
#define RIVET_TEST_ACPI_VIRT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "acpi/acpi.h"
#include "core/config.h"
#include "devices/uart16550.h"
#include "devices/virtio_mmio.h"
#include "devices/virtio_rng.h"
#include "machine/machine.h"

#define VIRT_APLIC_BASE		0x0d000000ULL
#define VIRT_APLIC_SIZE		0x4000ULL
#define VIRT_APLIC_SOURCES	96
#define VIRT_UART_BASE		0x10000000ULL
#define VIRT_UART_SIZE		0x100ULL
#define VIRT_UART_IRQ		10
#define VIRT_VIRTIO_BASE	0x10001000ULL
#define VIRT_VIRTIO_SIZE	0x1000ULL
#define VIRT_VIRTIO_IRQ		1
#define VIRT_IMSIC_BASE		0x28000000ULL
#define VIRT_IMSIC_STRIDE	0x1000ULL
#define VIRT_IMSIC_IDS		255
#define VIRT_ECAM_BASE		0x30000000ULL
#define VIRT_ECAM_SIZE		0x10000000ULL
#define VIRT_RAM_BASE		0x80000000ULL
#define VIRT_RAM_SIZE		0x40000000ULL
#define VIRT_TIMEBASE		10000000ULL

struct acpi_virt {
	struct vm_config cfg;
	struct machine m;
	struct acpi_platform p;
};

static const char *const acpi_virt_exts[] = {
	"i", "m", "a", "f", "d", "c",
	"zicbom", "zicboz", "zicntr", "zicsr", "zifencei", "zihintpause",
	"zba", "zbb", "zbs", "sstc", "svinval", "svnapot", "svpbmt",
};

/* Fill @v: @cpus harts; with @virtio a virtio-rng on virtio-mmio after the
 * UART (to exercise its DSDT hook).  0 or -errno. */
static inline int acpi_virt_init(struct acpi_virt *v, unsigned int cpus,
				 bool virtio)
{
	struct rivet_dev *dev;
	int ret;

	memset(v, 0, sizeof(*v));
	v->cfg = (struct vm_config){ .board = "virt", .kernel = "K",
				     .cmdline = "", .cpus = cpus,
				     .mem_size = VIRT_RAM_SIZE };
	v->m.cfg = &v->cfg;
	v->m.compatible = "riscv-virtio";
	/* Only the addresses matter here: no host mapping. */
	v->m.ram.base = VIRT_RAM_BASE;
	v->m.ram.size = VIRT_RAM_SIZE;
	v->m.aia = (struct aia_layout){
		.imsic_base = VIRT_IMSIC_BASE,
		.imsic_stride = VIRT_IMSIC_STRIDE,
		.nr_ids = VIRT_IMSIC_IDS,
		.aplic_base = VIRT_APLIC_BASE,
		.aplic_size = VIRT_APLIC_SIZE,
		.nr_sources = VIRT_APLIC_SOURCES,
	};
	v->m.cpu.xlen = 64;
	for (unsigned int i = 0;
	     i < sizeof(acpi_virt_exts) / sizeof(acpi_virt_exts[0]); i++)
		v->m.cpu.exts[v->m.cpu.nr_exts++] = acpi_virt_exts[i];
	v->m.cpu.timebase_freq = VIRT_TIMEBASE;
	v->m.cpu.mmu_type = "riscv,sv57";
	v->m.cpu.cbom_block_size = 64;
	v->m.cpu.cboz_block_size = 64;

	ret = uart16550_create(VIRT_UART_BASE, VIRT_UART_SIZE,
			       machine_irq(&v->m, VIRT_UART_IRQ), NULL, &dev);
	if (!ret)
		ret = machine_add_device(&v->m, dev);
	if (ret)
		return ret;
	v->m.console = dev;
	if (virtio) {
		struct virtio_backend *be;

		ret = vrng_create(&be);
		if (!ret)
			ret = virtio_mmio_create(&v->m.ram, VIRT_VIRTIO_BASE,
						 VIRT_VIRTIO_SIZE,
						 machine_irq(&v->m,
							     VIRT_VIRTIO_IRQ),
						 be, &dev);
		if (!ret)
			ret = machine_add_device(&v->m, dev);
		if (ret)
			return ret;
	}

	acpi_platform_init(&v->p, &v->m);
	v->p.has_pcie = true;
	v->p.pcie = (struct acpi_pcie){ .ecam_base = VIRT_ECAM_BASE,
					.ecam_size = VIRT_ECAM_SIZE,
					.segment = 0, .bus_start = 0,
					.bus_end = 255 };
	return 0;
}

static inline void acpi_virt_fini(struct acpi_virt *v)
{
	machine_destroy_devices(&v->m);
}

#endif
