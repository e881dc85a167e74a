// SPDX-License-Identifier: MIT
/* vCPU creation and what each hart offers the guest: the ISA as KVM reports
 * it (minus --cpu-features removals), the timebase and the MMU mode. */
#include <errno.h>
#include <linux/kvm.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "arch/riscv64/vm.h"
#include "core/isa_exts.h"
#include "core/log.h"

#define REG_U64(type, idx) (KVM_REG_RISCV | KVM_REG_SIZE_U64 | (type) | (idx))
#define CONFIG_REG(name) \
	REG_U64(KVM_REG_RISCV_CONFIG, KVM_REG_RISCV_CONFIG_REG(name))
#define TIMER_REG(name) \
	REG_U64(KVM_REG_RISCV_TIMER, KVM_REG_RISCV_TIMER_REG(name))
#define ISA_EXT_REG(id) \
	REG_U64(KVM_REG_RISCV_ISA_EXT, KVM_REG_RISCV_ISA_SINGLE | (id))

/* KVM's ISA extension ids and their names in the ISA string, in the order
 * the FDT lists them (core/isa_exts.h). */
static const struct {
	unsigned int id;
	const char *name;
} isa_exts[] = {
#define ISA_EXT(name, id) { KVM_RISCV_ISA_EXT_##id, #name },
	RIVET_ISA_EXTS(ISA_EXT)
#undef ISA_EXT
};

#define NR_ISA_EXTS (sizeof(isa_exts) / sizeof(isa_exts[0]))

static int find_ext(const char *name)
{
	for (size_t i = 0; i < NR_ISA_EXTS; i++)
		if (!strcmp(isa_exts[i].name, name))
			return (int)i;
	return -1;
}

static int vcpu_create(struct kvm_vm *vm, unsigned int id)
{
	struct vcpu *v = &vm->vcpus[id];

	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
	if (v->fd < 0) {
		log_err("KVM_CREATE_VCPU %u: %s", id, strerror(errno));
		return -errno;
	}
	v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		log_err("mmap of vCPU %u run area: %s", id, strerror(errno));
		return -errno;
	}
	return 0;
}

/* Hide the extensions named by --cpu-features on every vCPU. */
static int apply_cpu_features(struct kvm_vm *vm)
{
	const struct vm_config *cfg = vm->m->cfg;
	const uint64_t off = 0;

	for (unsigned int i = 0; i < cfg->nr_cpu_features_off; i++) {
		const char *name = cfg->cpu_features_off[i];
		int e = find_ext(name);

		if (e < 0) {
			/* Known to the option parser, not to this build's
			 * KVM headers. */
			log_warn("--cpu-features: '%s' is not offered by this "
				 "host; nothing to disable", name);
			continue;
		}
		for (unsigned int c = 0; c < vm->nr_vcpus; c++) {
			int ret = kvm_set_reg(vm->vcpus[c].fd,
					      ISA_EXT_REG(isa_exts[e].id), &off);

			if (ret == -ENOENT) {
				log_warn("--cpu-features: '%s' is not offered "
					 "by this host; nothing to disable",
					 name);
				break;
			}
			if (ret) {
				log_err("--cpu-features: '%s' cannot be "
					"disabled on this host: %s", name,
					strerror(-ret));
				return ret;
			}
		}
	}
	return 0;
}

static const char *mmu_type(uint64_t satp_mode)
{
	switch (satp_mode) {
	case 8:
		return "riscv,sv39";
	case 9:
		return "riscv,sv48";
	case 10:
		return "riscv,sv57";
	default:
		return NULL;
	}
}

static int probe_cpu(struct kvm_vm *vm, struct cpu_info *cpu)
{
	int fd = vm->vcpus[0].fd;
	uint64_t v;
	int ret;

	memset(cpu, 0, sizeof(*cpu));
	cpu->xlen = 64;
	for (size_t i = 0; i < NR_ISA_EXTS; i++) {
		if (kvm_get_reg(fd, ISA_EXT_REG(isa_exts[i].id), &v) || !v)
			continue;
		if (cpu->nr_exts < MACHINE_MAX_EXTS)
			cpu->exts[cpu->nr_exts++] = isa_exts[i].name;
	}
	ret = kvm_get_reg(fd, TIMER_REG(frequency), &cpu->timebase_freq);
	if (ret || !cpu->timebase_freq) {
		log_err("KVM: cannot read the timer frequency: %s",
			ret ? strerror(-ret) : "zero");
		return ret ? ret : -EINVAL;
	}
	if (!kvm_get_reg(fd, CONFIG_REG(satp_mode), &v))
		cpu->mmu_type = mmu_type(v);
	for (unsigned int i = 0; i < cpu->nr_exts; i++) {
		if (!strcmp(cpu->exts[i], "zicbom") &&
		    !kvm_get_reg(fd, CONFIG_REG(zicbom_block_size), &v))
			cpu->cbom_block_size = (uint32_t)v;
		if (!strcmp(cpu->exts[i], "zicboz") &&
		    !kvm_get_reg(fd, CONFIG_REG(zicboz_block_size), &v))
			cpu->cboz_block_size = (uint32_t)v;
	}
	return 0;
}

int vm_create_vcpus(struct kvm_vm *vm)
{
	unsigned int n = vm->m->cfg->cpus;
	int ret;

	for (unsigned int i = 0; i < CONFIG_MAX_CPUS; i++)
		vm->vcpus[i].fd = -1;
	for (unsigned int i = 0; i < n; i++) {
		ret = vcpu_create(vm, i);
		vm->nr_vcpus = i + 1;
		if (ret)
			return ret;
		ret = sbi_enable(&vm->vcpus[i]);
		if (ret)
			return ret;
	}
	ret = apply_cpu_features(vm);
	if (!ret)
		ret = probe_cpu(vm, &vm->m->cpu);
	return ret;
}
