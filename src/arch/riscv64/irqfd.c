// SPDX-License-Identifier: MIT
/* KVM irqfd for MSIs into the in-kernel IMSIC (aia and split): a device
 * binds an eventfd to an MSI (address, data) and a write to the eventfd --
 * by the kernel's vhost-net, say -- becomes that MSI inside KVM, with no
 * thread of rivet's woken.
 *
 * KVM_SET_GSI_ROUTING replaces the whole routing table, so the table
 * rebuilt here always starts with the identity routes KVM set up for the
 * in-kernel APLIC's wired sources (GSI n -> pin n: what KVM_IRQ_LINE goes
 * through), followed by one MSI route per bound slot (GSI = wired + 1 +
 * slot).  One mutex: bindings come from any vCPU thread. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/riscv64/vm.h"
#include "core/log.h"
#include "machine/machine.h"

static unsigned int gsi_of(const struct vm_irqfd *r, unsigned int slot)
{
	return r->wired + 1 + slot;
}

/* The whole table: wired identity routes, then the bound slots. */
static int set_routes(struct kvm_vm *vm)
{
	struct vm_irqfd *r = &vm->irqfd;
	unsigned int n = r->wired ? r->wired + 1 : 0;
	struct kvm_irq_routing *t;
	int err = 0;

	t = calloc(1, sizeof(*t) +
		   (n + VM_MAX_IRQFD) * sizeof(t->entries[0]));
	if (!t)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++) {
		t->entries[i].gsi = i;
		t->entries[i].type = KVM_IRQ_ROUTING_IRQCHIP;
		t->entries[i].u.irqchip.irqchip = 0;
		t->entries[i].u.irqchip.pin = i;
	}
	t->nr = n;
	for (unsigned int s = 0; s < r->nslots; s++) {
		struct kvm_irq_routing_entry *e;

		if (r->slot[s].fd < 0)
			continue;
		e = &t->entries[t->nr++];
		e->gsi = gsi_of(r, s);
		e->type = KVM_IRQ_ROUTING_MSI;
		e->u.msi.address_lo = (uint32_t)r->slot[s].addr;
		e->u.msi.address_hi = (uint32_t)(r->slot[s].addr >> 32);
		e->u.msi.data = r->slot[s].data;
	}
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, t) < 0)
		err = -errno;
	free(t);
	return err;
}

static int irqfd_ioctl(struct kvm_vm *vm, int fd, unsigned int gsi, bool on)
{
	struct kvm_irqfd f = {
		.fd = (uint32_t)fd,
		.gsi = gsi,
		.flags = on ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};

	return ioctl(vm->vm_fd, KVM_IRQFD, &f) < 0 ? -errno : 0;
}

static int irqfd_slots(void *ctx, unsigned int n)
{
	struct kvm_vm *vm = ctx;
	struct vm_irqfd *r = &vm->irqfd;
	int first = -ENOSPC;

	pthread_mutex_lock(&r->lock);
	if (n <= VM_MAX_IRQFD - r->nslots) {
		first = (int)r->nslots;
		for (unsigned int s = r->nslots; s < r->nslots + n; s++)
			r->slot[s].fd = -1;
		r->nslots += n;
	}
	pthread_mutex_unlock(&r->lock);
	return first;
}

static int irqfd_bind(void *ctx, unsigned int slot, uint64_t addr,
		      uint32_t data, int fd)
{
	struct kvm_vm *vm = ctx;
	struct vm_irqfd *r = &vm->irqfd;
	int err = 0, old;

	pthread_mutex_lock(&r->lock);
	if (slot >= r->nslots) {
		pthread_mutex_unlock(&r->lock);
		return -EINVAL;
	}
	old = r->slot[slot].fd;
	if (old == fd && (fd < 0 || (r->slot[slot].addr == addr &&
				     r->slot[slot].data == data))) {
		pthread_mutex_unlock(&r->lock);
		return 0;
	}
	/* Off first: the eventfd is never bound to a stale message. */
	if (old >= 0)
		err = irqfd_ioctl(vm, old, gsi_of(r, slot), false);
	r->slot[slot].fd = fd;
	r->slot[slot].addr = addr;
	r->slot[slot].data = data;
	if (!err)
		err = set_routes(vm);
	if (!err && fd >= 0)
		err = irqfd_ioctl(vm, fd, gsi_of(r, slot), true);
	if (err) {
		r->slot[slot].fd = -1;
		log_err("KVM irqfd (slot %u, MSI 0x%llx/%u): %s", slot,
			(unsigned long long)addr, data, strerror(-err));
	} else if (fd >= 0 && !r->used) {
		r->used = true;
		log_info("KVM irqfd: a device's interrupts now bypass rivet (MSI 0x%llx/%u)",
			 (unsigned long long)addr, data);
	}
	pthread_mutex_unlock(&r->lock);
	return err;
}

void vm_irqfd_setup(struct kvm_vm *vm, unsigned int wired)
{
	struct vm_irqfd *r = &vm->irqfd;

	if (ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD) <= 0 ||
	    ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQ_ROUTING) <= 0) {
		log_info("KVM has no irqfd here: device interrupts go through rivet");
		return;
	}
	pthread_mutex_init(&r->lock, NULL);
	r->wired = wired;
	vm->m->msichip.irqfd_slots = irqfd_slots;
	vm->m->msichip.irqfd = irqfd_bind;
}
