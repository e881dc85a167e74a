// SPDX-License-Identifier: MIT
/* microvm: RAM, the in-kernel AIA, one 16550 console and virtio-mmio
 * devices (disks in --disk order, NICs, then the RNG).  Direct kernel boot
 * only. */
#include "machine/microvm/microvm.h"

#include <errno.h>

#include "core/log.h"
#include "devices/virtio.h"
#include "devices/virtio_mmio.h"
#include "machine/machine.h"

/* virtio-mmio: the @idx-th device takes slot @idx, its window and IRQ. */
static int microvm_add_virtio(struct machine *m, unsigned int idx,
			      struct virtio_backend *be, int bootindex)
{
	struct rivet_dev *dev;
	int ret;

	if (idx >= MICROVM_VIRTIO_SLOTS) {
		log_err("microvm: at most %d virtio devices",
			MICROVM_VIRTIO_SLOTS);
		virtio_backend_destroy(be);
		return -ENOSPC;
	}
	ret = virtio_mmio_create(&m->ram,
				 MICROVM_VIRTIO_BASE + idx * MICROVM_VIRTIO_SIZE,
				 MICROVM_VIRTIO_SIZE,
				 machine_irq(m, MICROVM_VIRTIO_IRQ0 + idx), be,
				 &dev);
	if (!ret)
		ret = machine_add_device(m, dev);
	return ret ? ret : (int)idx;
}

static int microvm_create_devices(struct machine *m)
{
	int ret;

	ret = machine_add_console(m, MICROVM_UART_BASE, MICROVM_UART_SIZE,
				  MICROVM_UART_IRQ);
	if (!ret)
		ret = machine_add_boot_timer(m, MICROVM_BOOT_TIMER_BASE);
	return ret ? ret : machine_add_virtio_devices(m);
}

const struct board microvm_board = {
	.name = "microvm",
	.compatible = "rivet,microvm",
	.aia = {
		.imsic_base = MICROVM_IMSIC_BASE,
		.imsic_stride = MICROVM_IMSIC_STRIDE,
		.nr_ids = MICROVM_IMSIC_IDS,
		.aplic_base = MICROVM_APLIC_BASE,
		.aplic_size = MICROVM_APLIC_SIZE,
		.nr_sources = MICROVM_APLIC_SOURCES,
	},
	.plic_base = MICROVM_PLIC_BASE,
	.ram_base = MICROVM_RAM_BASE,
	.create_devices = microvm_create_devices,
	.add_virtio = microvm_add_virtio,
};
