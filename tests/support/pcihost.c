// SPDX-License-Identifier: MIT
#include "tests/support/pcihost.h"

#include <string.h>

#include "core/device.h"
#include "tests/support/check.h"

static int tp_msi_send(void *ctx, uint64_t addr, uint32_t data)
{
	struct tp_msi *m = ctx;

	m->sent++;
	m->addr = addr;
	m->data = data;
	return m->ret;
}

struct pci_host_cfg tp_host_cfg(const struct irq_chip *irq,
				const struct msi_chip *msi)
{
	return (struct pci_host_cfg){
		.ecam_base = TP_ECAM_BASE, .ecam_size = TP_ECAM_SIZE,
		.pio_base = TP_PIO_BASE, .pio_size = TP_PIO_SIZE,
		.mmio32_base = TP_M32_BASE, .mmio32_size = TP_M32_SIZE,
		.mmio64_base = TP_M64_BASE, .mmio64_size = TP_M64_SIZE,
		.irqchip = irq, .intx_base = TP_INTX_BASE, .msi = msi,
	};
}

void tp_host_up(struct tp_host *t, const struct irq_chip *irq,
		struct pci_dev *const *pd, const int *slot, unsigned int n)
{
	struct pci_host_cfg cfg = tp_host_cfg(irq, &t->msichip);

	t->msichip = (struct msi_chip){ .send = tp_msi_send, .ctx = &t->msi };
	TS_CHECK(pci_host_create(&cfg, &t->h) == 0);
	for (unsigned int i = 0; i < n; i++)
		TS_CHECK(pci_host_add_device(t->h, pd[i], slot[i]) == slot[i]);
	memset(&t->bus, 0, sizeof(t->bus));
	for (int w = 0; w < PCI_HOST_NR_WINDOWS; w++)
		TS_CHECK(bus_add(&t->bus, pci_host_window(t->h, w)) == 0);
	bus_seal(&t->bus);
}

void tp_host_down(struct tp_host *t)
{
	struct rivet_dev *ecam;

	if (!t->h)
		return;
	ecam = pci_host_window(t->h, PCI_HOST_ECAM);
	ecam->ops->destroy(ecam);
	t->h = NULL;
}

uint64_t tp_rd(struct tp_host *t, uint64_t addr, unsigned int len)
{
	uint8_t b[8];

	memset(b, 0xa5, sizeof(b));
	bus_access(&t->bus, addr, b, len, false);
	return mmio_get(b, len);
}

void tp_wr(struct tp_host *t, uint64_t addr, unsigned int len, uint64_t v)
{
	uint8_t b[8];

	mmio_put(b, len, v);
	bus_access(&t->bus, addr, b, len, true);
}
