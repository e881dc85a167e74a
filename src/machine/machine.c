// SPDX-License-Identifier: MIT
#include "machine/machine.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "core/console.h"
#include "core/log.h"
#include "devices/aplic.h"
#include "devices/boot_timer.h"
#include "devices/plic.h"
#include "devices/uart16550.h"
#include "devices/virtio.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_input.h"
#include "devices/virtio_net.h"
#include "devices/virtio_rng.h"

extern const struct board microvm_board;
extern const struct board virt_board;

static const struct board *const boards[] = { &microvm_board, &virt_board };

const struct board *board_find(const char *name)
{
	for (size_t i = 0; i < sizeof(boards) / sizeof(boards[0]); i++)
		if (!strcmp(boards[i]->name, name))
			return boards[i];
	return NULL;
}

void machine_init(struct machine *m, const struct vm_config *cfg,
		  const struct board *board, enum irqchip_mode mode)
{
	memset(m, 0, sizeof(*m));
	m->cfg = cfg;
	m->board = board;
	m->compatible = board->compatible;
	m->irqchip_mode = mode == IRQCHIP_AUTO ? IRQCHIP_AIA : mode;
	m->aia = board->aia;
	m->plic = (struct plic_layout){
		.base = board->plic_base,
		.size = 0x200000ULL + 0x1000ULL * cfg->cpus,
		.nr_sources = board->aia.nr_sources,
	};
}

int machine_add_device(struct machine *m, struct rivet_dev *dev)
{
	int ret;

	ret = m->nr_devs >= BUS_MAX_DEVICES ? -ENOSPC : bus_add(&m->bus, dev);
	if (ret) {
		log_err("%s at 0x%llx: cannot map: %s", dev->ops->name,
			(unsigned long long)dev->base, strerror(-ret));
		if (dev->ops->destroy)
			dev->ops->destroy(dev);
		return ret;
	}
	m->devs[m->nr_devs++] = dev;
	return 0;
}

int machine_add_console(struct machine *m, uint64_t base, uint64_t size,
			uint32_t irq)
{
	static const struct uart_backend console_backend = {
		.tx = console_tx,
		.rx_ready = console_rx_ready,
	};
	struct rivet_dev *dev;
	int ret;

	ret = uart16550_create(base, size, machine_irq(m, irq),
			       &console_backend, &dev);
	if (!ret)
		ret = machine_add_device(m, dev);
	if (!ret)
		m->console = dev;
	return ret;
}

int machine_add_boot_timer(struct machine *m, uint64_t base)
{
	struct rivet_dev *dev;
	int ret;

	if (!m->cfg->boot_timer)
		return 0;
	ret = boot_timer_create(base, &dev);
	return ret ? ret : machine_add_device(m, dev);
}

/* The wired interrupt controller when it is rivet's own (split: the
 * APLIC in front of KVM's IMSIC; plic: the PLIC); with aia it is KVM's,
 * set up by the arch code.  Its outputs (m->msichip, m->harts) are
 * filled in by the arch code once the vCPUs exist; the devices keep the
 * pointers. */
static int machine_add_irqchip(struct machine *m)
{
	struct rivet_dev *dev;
	int ret;

	switch (m->irqchip_mode) {
	case IRQCHIP_PLIC:
		ret = plic_create(&(struct plic_cfg){
				.base = m->plic.base,
				.nr_sources = m->plic.nr_sources,
				.nr_contexts = m->cfg->cpus,
				.harts = &m->harts,
			}, &dev);
		break;
	case IRQCHIP_SPLIT:
		ret = aplic_create(&(struct aplic_cfg){
				.base = m->aia.aplic_base,
				.size = m->aia.aplic_size,
				.nr_sources = m->aia.nr_sources,
				.nr_harts = m->cfg->cpus,
				.msi = &m->msichip,
				.imsic_base = m->aia.imsic_base,
				.imsic_stride = m->aia.imsic_stride,
			}, &dev);
		break;
	default:
		return 0;
	}
	if (ret) {
		log_err("%s: cannot create the %s: %s", m->board->name,
			m->irqchip_mode == IRQCHIP_PLIC ? "PLIC" : "APLIC",
			strerror(-ret));
		return ret;
	}
	m->irqchip = *(m->irqchip_mode == IRQCHIP_PLIC ? plic_irq_chip(dev)
						       : aplic_irq_chip(dev));
	ret = machine_add_device(m, dev);
	if (ret)
		m->irqchip = (struct irq_chip){ 0 };
	return ret;
}

int machine_create_devices(struct machine *m)
{
	int ret = machine_add_irqchip(m);

	return ret ? ret : m->board->create_devices(m);
}

struct irq_line machine_irq(struct machine *m, uint32_t irq)
{
	return (struct irq_line){ .chip = &m->irqchip, .irq = irq };
}

void machine_destroy_devices(struct machine *m)
{
	while (m->nr_devs) {
		struct rivet_dev *d = m->devs[--m->nr_devs];

		if (d->ops->destroy)
			d->ops->destroy(d);
	}
	memset(&m->bus, 0, sizeof(m->bus));
	if (m->irqchip_mode != IRQCHIP_AIA)	/* it was a device's */
		m->irqchip = (struct irq_chip){ 0 };
	m->console = NULL;
	m->nr_pollers = 0;
	m->nr_virtio = 0;
	m->power_dev = NULL;	/* its transport destroyed it */
	m->power_button = NULL;
	memset(m->buttons, 0, sizeof(m->buttons));
	m->nr_buttons = 0;
}

int machine_add_virtio(struct machine *m, struct virtio_backend *be,
		       int bootindex)
{
	int slot;

	if (!m->board->add_virtio || m->nr_virtio >= MACHINE_MAX_VIRTIO) {
		log_err("%s: no room for another virtio device", m->board->name);
		virtio_backend_destroy(be);
		return -ENOSPC;
	}
	slot = m->board->add_virtio(m, m->nr_virtio, be, bootindex);
	if (slot < 0)
		return slot;
	m->virtio[m->nr_virtio++] = be;
	if (be->ops->poll_fds)
		m->pollers[m->nr_pollers++] = be;
	return slot;
}

int machine_start_io(struct machine *m, const struct io_confine *conf)
{
	const struct virtio_ioeventfd iev = {
		.assign = m->memops.ioeventfd,
		.ctx = m->memops.ctx,
	};
	int err = 0;

	for (unsigned int i = 0; !err && i < m->nr_virtio; i++)
		err = virtio_backend_start(m->virtio[i], conf,
					   iev.assign ? &iev : NULL);
	return err;
}

void machine_stop_io(struct machine *m)
{
	for (unsigned int i = 0; i < m->nr_virtio; i++)
		virtio_backend_stop(m->virtio[i]);
}

void machine_quiesce_io(struct machine *m)
{
	if (m->io_quiesced)
		return;
	m->io_quiesced = true;
	for (unsigned int i = 0; i < m->nr_virtio; i++)
		virtio_backend_drain(m->virtio[i]);
}

void machine_resume_io(struct machine *m)
{
	if (!m->io_quiesced)
		return;
	m->io_quiesced = false;
	for (unsigned int i = 0; i < m->nr_virtio; i++)
		virtio_backend_resume(m->virtio[i]);
}

/* QMP system_powerdown, on the VM's main thread: every button, whichever
 * the guest listens to (one, or both: see machine_add_power_button()). */
static int machine_press_power(struct machine *m)
{
	bool pressed = false, unheard = false;
	int first = -EOPNOTSUPP;

	for (unsigned int i = 0; i < m->nr_buttons; i++) {
		int ret = m->buttons[i].press(m->buttons[i].ctx);

		pressed |= ret == 0;
		unheard |= ret == -ENODEV;
		if (ret && first == -EOPNOTSUPP)
			first = ret;
	}
	if (pressed)
		return 0;
	return unheard ? -ENODEV : first;
}

int machine_add_power_button(struct machine *m, int (*press)(void *ctx),
			     void *ctx)
{
	if (!press)
		return -EINVAL;
	if (m->nr_buttons >= MACHINE_MAX_POWER_BUTTONS)
		return -ENOSPC;
	m->buttons[m->nr_buttons++] = (struct machine_power_button){
		.press = press, .ctx = ctx,
	};
	m->power_button = machine_press_power;
	return 0;
}

static int press_vinput(void *ctx)
{
	return vinput_press_power(ctx);
}

/* The power button comes after the devices the configuration asked for,
 * so it is the one that gives way when they take every slot
 * (MACHINE_MAX_VIRTIO): system_powerdown is then refused. */
static int add_power_button(struct machine *m)
{
	struct virtio_backend *be;
	int ret;

	if (m->nr_virtio >= MACHINE_MAX_VIRTIO) {
		log_notice("%s: no room for the power button after %u virtio devices",
			   m->board->name, m->nr_virtio);
		return 0;
	}
	ret = vinput_create(&be);
	if (!ret)
		ret = machine_add_virtio(m, be, -1);
	if (ret < 0)
		return ret;
	m->power_dev = be;
	return machine_add_power_button(m, press_vinput, be);
}

int machine_add_virtio_devices(struct machine *m)
{
	const struct vm_config *cfg = m->cfg;
	struct virtio_backend *be;
	int ret = 0;

	for (unsigned int i = 0; ret >= 0 && i < cfg->nr_disks; i++) {
		const struct disk_config *d = &cfg->disks[i];
		const struct vblk_opts o = {
			.readonly = d->readonly,
			.queues = d->queues,
			.io = d->io == DISK_IO_SYNC ? VBLK_IO_SYNC :
			      d->io == DISK_IO_URING ? VBLK_IO_URING :
						       VBLK_IO_THREADS,
		};

		ret = vblk_open(d->path, &o, &be);
		if (!ret)
			ret = machine_add_virtio(m, be, d->bootindex);
	}
	for (unsigned int i = 0; ret >= 0 && i < cfg->nr_nets; i++) {
		const struct net_config *n = &cfg->nets[i];

		ret = vnet_open(n->tap, n->queues, n->mac,
				n->vhost == NET_VHOST_ON ? VNET_VHOST_ON :
				n->vhost == NET_VHOST_OFF ? VNET_VHOST_OFF :
							    VNET_VHOST_AUTO,
				&be);
		if (!ret)
			ret = machine_add_virtio(m, be, -1);
	}
	if (ret >= 0 && cfg->rng) {
		ret = vrng_create(&be);
		if (!ret)
			ret = machine_add_virtio(m, be, -1);
	}
	if (ret >= 0)
		ret = add_power_button(m);
	return ret < 0 ? ret : 0;
}

void machine_free(struct machine *m)
{
	machine_destroy_devices(m);
	if (m->board && m->board->destroy)
		m->board->destroy(m);
	gmem_free(&m->ram);
}

void machine_typical_cpu(struct cpu_info *cpu)
{
	static const char *const exts[] = {
		"i", "m", "a", "f", "d", "c", "zicbom", "zicboz", "zicntr",
		"zicsr", "zifencei", "zihintpause", "zba", "zbb", "zbs",
		"sstc",
	};

	memset(cpu, 0, sizeof(*cpu));
	cpu->xlen = 64;
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
		cpu->exts[cpu->nr_exts++] = exts[i];
	cpu->timebase_freq = 10000000;
	cpu->mmu_type = "riscv,sv57";
	cpu->cbom_block_size = 64;
	cpu->cboz_block_size = 64;
}

int machine_create_offline(struct machine *m, const struct vm_config *cfg)
{
	int ret;

	const struct board *board = board_find(cfg->board);

	memset(m, 0, sizeof(*m));
	if (!board)
		return -EINVAL;
	machine_init(m, cfg, board, cfg->irqchip);
	ret = gmem_alloc(&m->ram, m->board->ram_base, cfg->mem_size);
	if (!ret)
		ret = machine_create_devices(m);
	machine_typical_cpu(&m->cpu);
	return ret;
}
