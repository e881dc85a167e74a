/* SPDX-License-Identifier: MIT */
/* Message-signalled interrupts.  A device (virtio-pci's MSI-X) only sees a
 * struct msi_chip; on a real VM it is KVM (KVM_SIGNAL_MSI into the in-kernel
 * IMSIC), in unit tests a fake that records messages. */
#ifndef RIVET_MSI_H
#define RIVET_MSI_H

#include <stdint.h>

struct msi_chip {
	/* Deliver one message: @addr is the target hart's IMSIC page,
	 * @data the interrupt identity.  0 or -errno.  Any thread. */
	int (*send)(void *ctx, uint64_t addr, uint32_t data);
	/* Optional (KVM's irqfd): reserve @n binding slots for a device; the
	 * first slot's number, or -errno. */
	int (*irqfd_slots)(void *ctx, unsigned int n);
	/* Optional: while bound, a write to eventfd @fd delivers (@addr,
	 * @data) inside the kernel, with no trip through rivet; slot @slot
	 * (from irqfd_slots) holds one binding, @fd -1 undoes it.  0 or
	 * -errno.  Any thread. */
	int (*irqfd)(void *ctx, unsigned int slot, uint64_t addr,
		     uint32_t data, int fd);
	void *ctx;
};

static inline int msi_send(const struct msi_chip *c, uint64_t addr,
			   uint32_t data)
{
	if (!c || !c->send)
		return 0;
	return c->send(c->ctx, addr, data);
}

#endif
