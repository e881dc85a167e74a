// SPDX-License-Identifier: MIT
/* SBI calls KVM forwards to user space (KVM_EXIT_RISCV_SBI).  KVM serves
 * BASE, TIME, IPI, RFENCE, HSM, SRST, PMU and STA itself; rivet serves the
 * debug console (DBCN) and answers anything else with NOT_SUPPORTED. */
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>

#include "arch/riscv64/vm.h"
#include "core/console.h"
#include "core/log.h"

#define SBI_EXT_DBCN 0x4442434EUL
#define SBI_DBCN_WRITE 0
#define SBI_DBCN_READ 1
#define SBI_DBCN_WRITE_BYTE 2

#define SBI_SUCCESS 0L
#define SBI_ERR_NOT_SUPPORTED (-2L)
#define SBI_ERR_INVALID_PARAM (-3L)
#define SBI_ERR_FAILED (-1L)

/* Bytes one DBCN write may emit; the spec lets us write fewer than asked
 * and the guest loops, so a huge request cannot stall this vCPU. */
#define DBCN_MAX_WRITE 4096UL

int sbi_enable(struct vcpu *vcpu)
{
	const unsigned long on = 1;
	int ret;

	ret = kvm_set_reg(vcpu->fd,
			  KVM_REG_RISCV | KVM_REG_SIZE_U64 |
				  KVM_REG_RISCV_SBI_EXT |
				  KVM_REG_RISCV_SBI_SINGLE |
				  KVM_RISCV_SBI_EXT_DBCN,
			  &on);
	if (ret == -ENOENT || ret == -EINVAL) {
		log_info("SBI debug console not offered by this host's KVM");
		return 0;
	}
	if (!ret)
		vcpu->vm->dbcn = true;
	return ret;
}

static void dbcn_write(struct vcpu *vcpu, unsigned long len, uint64_t addr,
		       unsigned long *ret)
{
	const void *p;
	long n;

	if (len > DBCN_MAX_WRITE)
		len = DBCN_MAX_WRITE;
	p = gmem_ptr(&vcpu->vm->m->ram, addr, len);
	if (!p) {
		log_guest("SBI DBCN write: %lu bytes at 0x%llx outside RAM",
			  len, (unsigned long long)addr);
		ret[0] = (unsigned long)SBI_ERR_INVALID_PARAM;
		return;
	}
	n = console_write(p, len);
	ret[0] = n < 0 ? (unsigned long)SBI_ERR_FAILED : SBI_SUCCESS;
	ret[1] = n < 0 ? 0 : (unsigned long)n;
}

bool sbi_handle(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	unsigned long *a = run->riscv_sbi.args, *ret = run->riscv_sbi.ret;
	uint8_t byte;

	ret[0] = (unsigned long)SBI_ERR_NOT_SUPPORTED;
	ret[1] = 0;
	if (run->riscv_sbi.extension_id != SBI_EXT_DBCN) {
		log_debug("SBI: extension 0x%lx function %lu not supported",
			  run->riscv_sbi.extension_id,
			  run->riscv_sbi.function_id);
		return true;
	}
	switch (run->riscv_sbi.function_id) {
	case SBI_DBCN_WRITE:
		/* a0 = length, a1/a2 = address low/high (high is 0 on RV64) */
		dbcn_write(vcpu, a[0], a[1], ret);
		break;
	case SBI_DBCN_READ:
		/* Input goes to the UART; the SBI console never has any. */
		ret[0] = SBI_SUCCESS;
		ret[1] = 0;
		break;
	case SBI_DBCN_WRITE_BYTE:
		byte = (uint8_t)a[0];
		ret[0] = console_write(&byte, 1) == 1 ? SBI_SUCCESS
						      : (unsigned long)SBI_ERR_FAILED;
		break;
	default:
		break;
	}
	return true;
}
