// SPDX-License-Identifier: MIT
/* The VM: /dev/kvm, the VM file descriptor, guest RAM as one memory slot,
 * wired interrupts through KVM_IRQ_LINE, and the in-kernel AIA device. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/riscv64/vm.h"
#include "core/log.h"

int kvm_get_reg(int fd, uint64_t id, void *val)
{
	struct kvm_one_reg reg = { .id = id, .addr = (uint64_t)(uintptr_t)val };

	return ioctl(fd, KVM_GET_ONE_REG, &reg) ? -errno : 0;
}

int kvm_set_reg(int fd, uint64_t id, const void *val)
{
	struct kvm_one_reg reg = { .id = id, .addr = (uint64_t)(uintptr_t)val };

	return ioctl(fd, KVM_SET_ONE_REG, &reg) ? -errno : 0;
}

static int rom_map(void *ctx, uint64_t gpa, uint64_t size, void *host);
static int rom_unmap(void *ctx, uint64_t gpa);
static int ioeventfd(void *ctx, uint64_t addr, unsigned int len,
		     uint64_t datamatch, int fd, bool on);

int vm_open(struct kvm_vm *vm)
{
	int ret, api;

	memset(vm, 0, sizeof(*vm));
	pthread_mutex_init(&vm->gate_lock, NULL);
	pthread_cond_init(&vm->gate_cond, NULL);
	vm->vm_fd = vm->aia_fd = vm->stop_fd = -1;
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		ret = -errno;
		log_err("cannot open /dev/kvm: %s (is the kvm module loaded "
			"and the H extension present?)", strerror(errno));
		return ret;
	}
	api = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION) {
		log_err("/dev/kvm: API version %d, expected %d", api,
			KVM_API_VERSION);
		return -ENOTSUP;
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		ret = -errno;
		log_err("KVM_CREATE_VM: %s", strerror(errno));
		return ret;
	}
	ret = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (ret < (int)sizeof(struct kvm_run)) {
		log_err("KVM_GET_VCPU_MMAP_SIZE: %s",
			ret < 0 ? strerror(errno) : "too small");
		return ret < 0 ? -errno : -EINVAL;
	}
	vm->run_size = (size_t)ret;
	vm->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_fd < 0)
		return -errno;
	pthread_mutex_init(&vm->rom_lock, NULL);
	return 0;
}

bool vm_has_aia(struct kvm_vm *vm)
{
	struct kvm_create_device cd = { .type = KVM_DEV_TYPE_RISCV_AIA,
					.flags = KVM_CREATE_DEVICE_TEST };

	return ioctl(vm->vm_fd, KVM_CREATE_DEVICE, &cd) == 0;
}

int vm_map_ram(struct kvm_vm *vm, struct machine *m)
{
	struct kvm_userspace_memory_region region;
	int ret;

	vm->m = m;
	region = (struct kvm_userspace_memory_region){
		.slot = 0,
		.guest_phys_addr = m->ram.base,
		.memory_size = m->ram.size,
		.userspace_addr = (uint64_t)(uintptr_t)m->ram.host,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region)) {
		ret = -errno;
		log_err("KVM_SET_USER_MEMORY_REGION (%llu MiB at 0x%llx): %s",
			(unsigned long long)(m->ram.size >> 20),
			(unsigned long long)m->ram.base, strerror(errno));
		return ret;
	}
	m->memops = (struct machine_memops){ .map_rom = rom_map,
					     .unmap = rom_unmap,
					     .ioeventfd = ioeventfd,
					     .ctx = vm };
	return 0;
}

static int set_slot(struct kvm_vm *vm, unsigned int slot, uint64_t gpa,
		    uint64_t size, void *host, bool readonly)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = readonly ? KVM_MEM_READONLY : 0,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)host,
	};

	return ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) ? -errno : 0;
}

/* machine_memops: flash banks come and go as read-only slots while they
 * switch between read-array and command mode (from a vCPU thread). */
static int rom_map(void *ctx, uint64_t gpa, uint64_t size, void *host)
{
	struct kvm_vm *vm = ctx;
	int ret = -ENOSPC, free_i = -1;

	pthread_mutex_lock(&vm->rom_lock);
	for (int i = 0; i < VM_MAX_ROM_SLOTS; i++) {
		if (vm->rom[i].size && vm->rom[i].gpa == gpa) {
			free_i = i;
			break;
		}
		if (!vm->rom[i].size && free_i < 0)
			free_i = i;
	}
	if (free_i >= 0) {
		struct rom_slot *r = &vm->rom[free_i];

		ret = r->mapped ? 0 : set_slot(vm, 1 + free_i, gpa, size, host,
					       true);
		if (!ret)
			*r = (struct rom_slot){ gpa, size, host, true };
	}
	pthread_mutex_unlock(&vm->rom_lock);
	if (ret)
		log_err("cannot map %llu KiB read-only at 0x%llx: %s",
			(unsigned long long)(size >> 10),
			(unsigned long long)gpa, strerror(-ret));
	return ret;
}

/* machine_memops: a guest MMIO write that KVM turns into an eventfd
 * signal (a virtio queue notify), so the vCPU never leaves the kernel. */
static int ioeventfd(void *ctx, uint64_t addr, unsigned int len,
		     uint64_t datamatch, int fd, bool on)
{
	struct kvm_vm *vm = ctx;
	struct kvm_ioeventfd e = {
		.datamatch = datamatch,
		.addr = addr,
		.len = len,
		.fd = fd,
		.flags = KVM_IOEVENTFD_FLAG_DATAMATCH |
			 (on ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	return ioctl(vm->vm_fd, KVM_IOEVENTFD, &e) ? -errno : 0;
}

static int rom_unmap(void *ctx, uint64_t gpa)
{
	struct kvm_vm *vm = ctx;
	int ret = -ENOENT;

	pthread_mutex_lock(&vm->rom_lock);
	for (int i = 0; i < VM_MAX_ROM_SLOTS; i++) {
		struct rom_slot *r = &vm->rom[i];

		if (!r->size || r->gpa != gpa)
			continue;
		/* A zero-sized region deletes the slot. */
		ret = r->mapped ? set_slot(vm, 1 + i, gpa, 0, r->host, true) : 0;
		if (!ret)
			r->mapped = false;
		break;
	}
	pthread_mutex_unlock(&vm->rom_lock);
	if (ret)
		log_err("cannot unmap the read-only slot at 0x%llx: %s",
			(unsigned long long)gpa, strerror(-ret));
	return ret;
}

static int irq_set_level(void *ctx, uint32_t irq, bool level)
{
	struct kvm_vm *vm = ctx;
	struct kvm_irq_level l = { .irq = irq, .level = level };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &l)) {
		log_guest("KVM_IRQ_LINE %u=%d: %s", irq, level,
			  strerror(errno));
		return -errno;
	}
	if (irq < VM_MAX_APLIC_SOURCES)
		atomic_store(&vm->line_level[irq], level);
	return 0;
}

/* MSI-X messages from virtio-pci: straight into the in-kernel IMSIC. */
static int kvm_msi_send(void *ctx, uint64_t addr, uint32_t data)
{
	struct kvm_vm *vm = ctx;
	struct kvm_msi msi = {
		.address_lo = (uint32_t)addr,
		.address_hi = (uint32_t)(addr >> 32),
		.data = data,
	};

	/* 1: delivered, 0: blocked by the guest (masked), <0: error. */
	if (ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0) {
		int err = errno;

		log_guest("KVM_SIGNAL_MSI 0x%llx/%u: %s",
			  (unsigned long long)addr, data, strerror(err));
		return -err;
	}
	return 0;
}

static int aia_attr(struct kvm_vm *vm, bool set, uint32_t group,
		    uint64_t attr, void *val)
{
	struct kvm_device_attr a = {
		.group = group,
		.attr = attr,
		.addr = (uint64_t)(uintptr_t)val,
	};

	return ioctl(vm->aia_fd, set ? KVM_SET_DEVICE_ATTR : KVM_GET_DEVICE_ATTR,
		     &a) ? -errno : 0;
}

static uint32_t kvm_aia_mode(enum aia_mode mode)
{
	switch (mode) {
	case AIA_MODE_EMUL:
		return KVM_DEV_RISCV_AIA_MODE_EMUL;
	case AIA_MODE_HWACCEL:
		return KVM_DEV_RISCV_AIA_MODE_HWACCEL;
	default:
		return KVM_DEV_RISCV_AIA_MODE_AUTO;
	}
}

static int aia_set_u32(struct kvm_vm *vm, uint64_t attr, uint32_t v,
		       const char *what)
{
	int ret = aia_attr(vm, true, KVM_DEV_RISCV_AIA_GRP_CONFIG, attr, &v);

	if (ret)
		log_err("AIA: cannot set %s to %u: %s", what, v,
			strerror(-ret));
	return ret;
}

static int aia_set_mode(struct kvm_vm *vm, enum aia_mode mode)
{
	uint32_t kmode = kvm_aia_mode(mode);
	int ret;

	ret = aia_attr(vm, true, KVM_DEV_RISCV_AIA_GRP_CONFIG,
		       KVM_DEV_RISCV_AIA_CONFIG_MODE, &kmode);
	if (ret && mode == AIA_MODE_AUTO) {
		/* KVM refuses its own "auto" when the host has no IMSIC guest
		 * interrupt files; emulation is what auto means then. */
		kmode = KVM_DEV_RISCV_AIA_MODE_EMUL;
		ret = aia_attr(vm, true, KVM_DEV_RISCV_AIA_GRP_CONFIG,
			       KVM_DEV_RISCV_AIA_CONFIG_MODE, &kmode);
		if (!ret)
			log_info("AIA: no IMSIC guest interrupt files on this "
				 "host: emulating the IMSIC");
	}
	if (!ret)
		return 0;
	if (mode == AIA_MODE_HWACCEL)
		log_err("--aia-mode hwaccel: not available on this host (no "
			"free IMSIC guest interrupt files: %s); use --aia-mode "
			"emul or auto", strerror(-ret));
	else
		log_err("--aia-mode %s: rejected by KVM: %s",
			config_aia_mode_name(mode), strerror(-ret));
	return ret;
}

/* @wired: KVM's APLIC serves the wired sources (aia); without (split) the
 * device has IMSIC files only and rivet's APLIC sends their MSIs. */
static int aia_configure(struct kvm_vm *vm, enum aia_mode mode, bool wired)
{
	const struct aia_layout *a = &vm->m->aia;
	uint32_t hart_bits = 0;
	int ret;

	ret = aia_set_mode(vm, mode);
	if (ret)
		return ret;
	while ((1U << hart_bits) < vm->nr_vcpus)
		hart_bits++;
	ret = aia_set_u32(vm, KVM_DEV_RISCV_AIA_CONFIG_IDS, a->nr_ids,
			  "interrupt identities");
	if (!ret)
		ret = aia_set_u32(vm, KVM_DEV_RISCV_AIA_CONFIG_SRCS,
				  wired ? a->nr_sources : 0, "wired sources");
	if (!ret)
		ret = aia_set_u32(vm, KVM_DEV_RISCV_AIA_CONFIG_HART_BITS,
				  hart_bits, "hart index bits");
	return ret;
}

static int aia_place(struct kvm_vm *vm, bool wired)
{
	const struct aia_layout *a = &vm->m->aia;
	uint64_t addr = a->aplic_base;
	int ret = 0;

	if (wired)
		ret = aia_attr(vm, true, KVM_DEV_RISCV_AIA_GRP_ADDR,
			       KVM_DEV_RISCV_AIA_ADDR_APLIC, &addr);
	for (unsigned int i = 0; !ret && i < vm->nr_vcpus; i++) {
		addr = a->imsic_base + i * a->imsic_stride;
		ret = aia_attr(vm, true, KVM_DEV_RISCV_AIA_GRP_ADDR,
			       KVM_DEV_RISCV_AIA_ADDR_IMSIC(i), &addr);
	}
	if (ret)
		log_err("AIA: cannot place APLIC/IMSIC: %s", strerror(-ret));
	return ret;
}

static int create_aia(struct kvm_vm *vm, enum aia_mode mode, bool wired)
{
	struct kvm_create_device cd = { .type = KVM_DEV_TYPE_RISCV_AIA };
	uint32_t dflt = 0;
	int ret;

	if (ioctl(vm->vm_fd, KVM_CREATE_DEVICE, &cd)) {
		ret = -errno;
		log_err("this host's KVM has no in-kernel AIA (creating the "
			"RISC-V AIA device: %s): it needs the Ssaia extension "
			"and Linux >= 6.5; --irqchip plic runs without it",
			strerror(errno));
		return ret;
	}
	vm->aia_fd = (int)cd.fd;
	if (!aia_attr(vm, false, KVM_DEV_RISCV_AIA_GRP_CONFIG,
		      KVM_DEV_RISCV_AIA_CONFIG_MODE, &dflt))
		log_debug("AIA: host default mode %u", dflt);
	ret = aia_configure(vm, mode, wired);
	if (!ret)
		ret = aia_place(vm, wired);
	if (!ret) {
		ret = aia_attr(vm, true, KVM_DEV_RISCV_AIA_GRP_CTRL,
			       KVM_DEV_RISCV_AIA_CTRL_INIT, NULL);
		if (ret)
			log_err("AIA: initialisation failed: %s",
				strerror(-ret));
	}
	if (ret)
		return ret;
	log_info("AIA: in-kernel IMSIC%s, mode %s", wired ? " + APLIC" : "",
		 config_aia_mode_name(mode));
	vm->m->msichip = (struct msi_chip){ .send = kvm_msi_send, .ctx = vm };
	vm_irqfd_setup(vm, wired ? vm->m->aia.nr_sources : 0);
	return 0;
}

/* The PLIC's outputs: each hart's VS-level external interrupt.  An async
 * vCPU ioctl in KVM: any thread, no vCPU mutex, and it kicks the vCPU. */
static int kvm_hart_irq_set(void *ctx, unsigned int hart, bool level)
{
	struct kvm_vm *vm = ctx;
	struct kvm_interrupt irq = {
		.irq = level ? KVM_INTERRUPT_SET : KVM_INTERRUPT_UNSET,
	};

	if (hart >= vm->nr_vcpus)
		return -EINVAL;
	if (ioctl(vm->vcpus[hart].fd, KVM_INTERRUPT, &irq)) {
		log_guest("KVM_INTERRUPT hart %u=%d: %s", hart, level,
			  strerror(errno));
		return -errno;
	}
	return 0;
}

int vm_create_irqchip(struct kvm_vm *vm, enum aia_mode mode)
{
	struct machine *m = vm->m;
	int ret;

	switch (m->irqchip_mode) {
	case IRQCHIP_AIA:
		ret = create_aia(vm, mode, true);
		if (!ret)
			m->irqchip = (struct irq_chip){
				.set_level = irq_set_level, .ctx = vm };
		return ret;
	case IRQCHIP_SPLIT:
		/* The wired sources are rivet's APLIC's (machine.c). */
		return create_aia(vm, mode, false);
	case IRQCHIP_PLIC:
		m->harts = (struct hart_irq){ .set = kvm_hart_irq_set, .ctx = vm };
		return 0;
	default:
		return -EINVAL;
	}
}

void vm_destroy(struct kvm_vm *vm)
{
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->run)
			munmap(v->run, vm->run_size);
		if (v->fd >= 0)
			close(v->fd);
	}
	vm->nr_vcpus = 0;
	if (vm->aia_fd >= 0)
		close(vm->aia_fd);
	if (vm->stop_fd >= 0)
		close(vm->stop_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->aia_fd = vm->stop_fd = vm->vm_fd = vm->kvm_fd = -1;
}
