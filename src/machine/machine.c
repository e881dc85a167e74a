// SPDX-License-Identifier: MIT
#include "machine/machine.h"

#include <errno.h>
#include <string.h>

#include "core/log.h"
#include "devices/boot_timer.h"

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

int machine_add_boot_timer(struct machine *m, uint64_t base)
{
	struct rivet_dev *dev;
	int ret;

	if (!m->cfg->boot_timer)
		return 0;
	ret = boot_timer_create(base, &dev);
	return ret ? ret : machine_add_device(m, dev);
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
	m->console = NULL;
}

void machine_reset_devices(struct machine *m)
{
	for (unsigned int i = 0; i < m->nr_devs; i++)
		if (m->devs[i]->ops->reset)
			m->devs[i]->ops->reset(m->devs[i]);
}
