// SPDX-License-Identifier: MIT
/* microvm: RAM, the in-kernel AIA, one 16550 console and virtio-mmio
 * devices (disks in --disk order, then the RNG).  Direct kernel boot only. */
#include "machine/microvm/microvm.h"

#include <errno.h>

#include "core/console.h"
#include "devices/uart16550.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_net.h"
#include "devices/virtio_rng.h"
#include "machine/machine.h"

static const struct uart_backend console_backend = {
	.tx = console_tx,
	.rx_ready = console_rx_ready,
};

static int add_virtio_blk(struct machine *m, unsigned int slot,
			  const struct disk_config *disk)
{
	struct rivet_dev *dev;
	int ret;

	ret = virtio_blk_mmio_create(&m->ram,
				     MICROVM_VIRTIO_BASE +
					     slot * MICROVM_VIRTIO_SIZE,
				     MICROVM_VIRTIO_SIZE,
				     machine_irq(m, MICROVM_VIRTIO_IRQ0 + slot),
				     disk->path, disk->readonly, &dev);
	return ret ? ret : machine_add_device(m, dev);
}

static int add_virtio_rng(struct machine *m, unsigned int slot)
{
	struct rivet_dev *dev;
	int ret;

	ret = virtio_rng_mmio_create(&m->ram,
				     MICROVM_VIRTIO_BASE +
					     slot * MICROVM_VIRTIO_SIZE,
				     MICROVM_VIRTIO_SIZE,
				     machine_irq(m, MICROVM_VIRTIO_IRQ0 + slot),
				     &dev);
	return ret ? ret : machine_add_device(m, dev);
}

static int add_virtio_net(struct machine *m, unsigned int slot,
			  const struct net_config *net)
{
	struct rivet_dev *dev;
	int ret;

	ret = virtio_net_mmio_create(&m->ram,
				     MICROVM_VIRTIO_BASE +
					     slot * MICROVM_VIRTIO_SIZE,
				     MICROVM_VIRTIO_SIZE,
				     machine_irq(m, MICROVM_VIRTIO_IRQ0 + slot),
				     net->tap, net->mac, &dev,
				     &m->nets[m->nr_nets]);
	if (ret)
		return ret;
	m->nr_nets++;
	return machine_add_device(m, dev);
}

static int microvm_create_devices(struct machine *m)
{
	const struct vm_config *cfg = m->cfg;
	unsigned int slot = 0;
	struct rivet_dev *uart;
	int ret;

	m->compatible = "rivet,microvm";
	m->aia = (struct aia_layout){
		.imsic_base = MICROVM_IMSIC_BASE,
		.imsic_stride = MICROVM_IMSIC_STRIDE,
		.nr_ids = MICROVM_IMSIC_IDS,
		.aplic_base = MICROVM_APLIC_BASE,
		.aplic_size = MICROVM_APLIC_SIZE,
		.nr_sources = MICROVM_APLIC_SOURCES,
	};

	ret = uart16550_create(MICROVM_UART_BASE, MICROVM_UART_SIZE,
			       machine_irq(m, MICROVM_UART_IRQ),
			       &console_backend, &uart);
	if (ret)
		return ret;
	ret = machine_add_device(m, uart);
	if (ret)
		return ret;
	m->console = uart;
	ret = machine_add_boot_timer(m, MICROVM_BOOT_TIMER_BASE);
	if (ret)
		return ret;

	for (unsigned int i = 0; i < cfg->nr_disks; i++) {
		ret = add_virtio_blk(m, slot++, &cfg->disks[i]);
		if (ret)
			return ret;
	}
	for (unsigned int i = 0; i < cfg->nr_nets; i++) {
		ret = add_virtio_net(m, slot++, &cfg->nets[i]);
		if (ret)
			return ret;
	}
	if (cfg->rng) {
		ret = add_virtio_rng(m, slot++);
		if (ret)
			return ret;
	}
	return 0;
}

const struct board microvm_board = {
	.name = "microvm",
	.ram_base = MICROVM_RAM_BASE,
	.create_devices = microvm_create_devices,
};
