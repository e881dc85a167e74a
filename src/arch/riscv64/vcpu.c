// SPDX-License-Identifier: MIT
/* vCPU threads: one per hart, each running KVM_RUN and dispatching exits.
 * MMIO goes to the bus on the vCPU's own thread (devices lock themselves);
 * the VM ends when a vCPU sees power-off, reset or a failure, or the main
 * thread asks (signal), and every thread is kicked out of KVM_RUN with
 * SIGUSR1 + immediate_exit. */
#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "arch/riscv64/vm.h"
#include "core/log.h"

#define CORE_REG(name)                                              \
	(KVM_REG_RISCV | KVM_REG_SIZE_U64 | KVM_REG_RISCV_CORE |    \
	 KVM_REG_RISCV_CORE_REG(name))

#define TIMER_TIME                                                  \
	(KVM_REG_RISCV | KVM_REG_SIZE_U64 | KVM_REG_RISCV_TIMER |   \
	 KVM_REG_RISCV_TIMER_REG(time))

#define CSR_SEED 0x015
#define SEED_OPST_ES16 (2UL << 30)

void vm_request_exit(struct kvm_vm *vm, enum vm_exit why)
{
	int none = VM_EXIT_NONE;
	uint64_t one = 1;

	if (atomic_compare_exchange_strong(&vm->exit, &none, (int)why)) {
		if (write(vm->stop_fd, &one, sizeof(one)) < 0)
			log_err("cannot wake the main loop: %s",
				strerror(errno));
		/* Whoever waits at the gate (vm_pause, parked vCPUs) sees
		 * the end. */
		pthread_mutex_lock(&vm->gate_lock);
		pthread_cond_broadcast(&vm->gate_cond);
		pthread_mutex_unlock(&vm->gate_lock);
	}
}

int vm_setup_boot(struct kvm_vm *vm, uint64_t entry, uint64_t fdt)
{
	struct kvm_mp_state stopped = { .mp_state = KVM_MP_STATE_STOPPED };
	uint64_t hart0 = 0;
	int fd = vm->vcpus[0].fd, ret;

	ret = kvm_set_reg(fd, CORE_REG(regs.pc), &entry);
	if (!ret)
		ret = kvm_set_reg(fd, CORE_REG(regs.a0), &hart0);
	if (!ret)
		ret = kvm_set_reg(fd, CORE_REG(regs.a1), &fdt);
	if (ret) {
		log_err("cannot set the boot hart's registers: %s",
			strerror(-ret));
		return ret;
	}
	for (unsigned int i = 1; i < vm->nr_vcpus; i++) {
		if (ioctl(vm->vcpus[i].fd, KVM_SET_MP_STATE, &stopped)) {
			log_err("vCPU %u: KVM_SET_MP_STATE(STOPPED): %s", i,
				strerror(errno));
			return -errno;
		}
	}
	return 0;
}

/* SBI SRST's reset_reason (SBI spec, System Reset extension). */
#define SBI_SRST_REASON_SYSFAIL 1

static bool handle_system_event(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	bool failure = run->system_event.ndata >= 1 &&
		       run->system_event.data[0] == SBI_SRST_REASON_SYSFAIL;

	switch (run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
	case KVM_SYSTEM_EVENT_RESET:
		/* A reset or power-off "for a system failure" is the
		 * guest reporting a panic (QMP GUEST_PANICKED). */
		if (failure) {
			log_notice("vCPU %u: the guest reports a system "
				   "failure (SBI system reset, reason 1)",
				   v->id);
			vm_request_exit(v->vm, VM_EXIT_PANIC);
		} else {
			vm_request_exit(v->vm, run->system_event.type ==
					KVM_SYSTEM_EVENT_SHUTDOWN
					? VM_EXIT_POWEROFF : VM_EXIT_REBOOT);
		}
		break;
	default:
		log_err("vCPU %u: guest system event %u (crash?)", v->id,
			run->system_event.type);
		vm_request_exit(v->vm, VM_EXIT_ERROR);
		break;
	}
	return false;
}

/* The Zkr `seed` CSR traps to user space: serve host entropy. */
static void handle_csr(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint16_t r = 0;

	if (run->riscv_csr.csr_num != CSR_SEED) {
		log_guest("vCPU %u: access to CSR 0x%lx not emulated", v->id,
			  (unsigned long)run->riscv_csr.csr_num);
		run->riscv_csr.ret_value = 0;
		return;
	}
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r)) {
		run->riscv_csr.ret_value = 0;	/* BIST: try again later */
		return;
	}
	run->riscv_csr.ret_value = SEED_OPST_ES16 | r;
}

static enum vcpu_stat stat_of(uint32_t exit_reason)
{
	switch (exit_reason) {
	case KVM_EXIT_MMIO:
		return VSTAT_MMIO;
	case KVM_EXIT_RISCV_SBI:
		return VSTAT_SBI;
	case KVM_EXIT_RISCV_CSR:
		return VSTAT_CSR;
	case KVM_EXIT_SYSTEM_EVENT:
		return VSTAT_SYSTEM;
	case KVM_EXIT_INTR:
		return VSTAT_INTR;
	default:
		return VSTAT_OTHER;
	}
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/* Handle one exit; false when the VM must stop. */
static bool handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	switch (run->exit_reason) {
	case KVM_EXIT_MMIO:
		bus_access(&v->vm->m->bus, run->mmio.phys_addr, run->mmio.data,
			   run->mmio.len, run->mmio.is_write);
		return true;
	case KVM_EXIT_RISCV_SBI:
		return sbi_handle(v);
	case KVM_EXIT_RISCV_CSR:
		handle_csr(v);
		return true;
	case KVM_EXIT_SYSTEM_EVENT:
		return handle_system_event(v);
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_FAIL_ENTRY:
		log_err("vCPU %u: entry failed (reason 0x%llx)", v->id,
			(unsigned long long)
				run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		log_err("vCPU %u: KVM internal error %u", v->id,
			run->internal.suberror);
		break;
	default:
		log_err("vCPU %u: unexpected exit reason %u", v->id,
			run->exit_reason);
		break;
	}
	vm_request_exit(v->vm, VM_EXIT_ERROR);
	return false;
}

static bool ending(struct kvm_vm *vm)
{
	return atomic_load(&vm->exit) != VM_EXIT_NONE;
}

/* Wait at the closed gate (start-up, vm_pause).  A pause freezes the
 * guest's time: vCPU 0 reads the timer's `time` before it parks and writes
 * it back before any vCPU runs again (KVM keeps one time offset per VM, so
 * one write moves every vCPU's clock), as QEMU does for a stopped VM. */
/* An exit rivet served (MMIO, SBI, CSR) is complete only once KVM has
 * put the result in the guest's registers and moved its pc on, at the
 * next KVM_RUN: do that now, without entering the guest (immediate_exit),
 * so a paused vCPU's registers are whole (a snapshot re-running the
 * access would repeat its side effect, e.g. pop the UART's FIFO twice). */
static void finish_exit(struct vcpu *v)
{
	uint32_t r = v->run->exit_reason;

	if (r != KVM_EXIT_MMIO && r != KVM_EXIT_RISCV_SBI &&
	    r != KVM_EXIT_RISCV_CSR)
		return;
	v->run->immediate_exit = 1;
	if (ioctl(v->fd, KVM_RUN, 0) == 0 || errno != EINTR)
		log_warn("vCPU %u: completing an exit before a pause: %s", v->id,
			 strerror(errno));
	/* Done: the next KVM_RUN has nothing to complete. */
	v->run->exit_reason = KVM_EXIT_INTR;
}

static void park(struct vcpu *v)
{
	struct kvm_vm *vm = v->vm;

	finish_exit(v);
	pthread_mutex_lock(&vm->gate_lock);
	v->run->immediate_exit = 0;
	if (v->id == 0 && vm->ran && !vm->time_saved)
		vm->time_saved = kvm_get_reg(v->fd, TIMER_TIME,
					     &vm->guest_time) == 0;
	vm->nr_parked++;
	pthread_cond_broadcast(&vm->gate_cond);
	while (!atomic_load(&vm->gate_open) && !ending(vm))
		pthread_cond_wait(&vm->gate_cond, &vm->gate_lock);
	if (v->id == 0 && vm->time_saved) {
		if (kvm_set_reg(v->fd, TIMER_TIME, &vm->guest_time))
			log_warn("cannot restore the guest's time after a "
				 "pause: it jumps");
		vm->time_saved = false;
		pthread_cond_broadcast(&vm->gate_cond);
	}
	while (vm->time_saved && !ending(vm))
		pthread_cond_wait(&vm->gate_cond, &vm->gate_lock);
	/* After the time is back: the timer a restore left to arm. */
	if ((v->timer_rearm || v->timer_refire) && !ending(vm))
		vm_timer_rearm(v);
	vm->nr_parked--;
	vm->ran = true;
	v->run->immediate_exit = 0;
	pthread_mutex_unlock(&vm->gate_lock);
}

static void kick_handler(int sig)
{
	(void)sig;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct kvm_vm *vm = v->vm;
	bool stats = vm->m->cfg->stats;
	sigset_t set;

	/* SIGUSR1 only interrupts KVM_RUN; every other signal is the main
	 * thread's business. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	pthread_mutex_lock(&vm->gate_lock);
	v->tid = gettid();
	vm->nr_arrived++;
	pthread_cond_broadcast(&vm->gate_cond);
	pthread_mutex_unlock(&vm->gate_lock);
	if (vm->hooks.vcpu_confine &&
	    vm->hooks.vcpu_confine(vm, v->id, v->fd) != 0) {
		log_err("vCPU %u: cannot confine the thread", v->id);
		vm_request_exit(vm, VM_EXIT_ERROR);
	}
	park(v);
	if (v->id == 0 && vm->hooks.first_run && !ending(vm))
		vm->hooks.first_run(vm);
	while (!ending(vm)) {
		uint64_t t0 = 0, t1 = 0;
		bool more;

		if (!atomic_load(&vm->gate_open)) {
			park(v);
			continue;
		}
		if (stats)
			t0 = mono_ns();
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				/* Kicked: maybe by vm_poke_local(). */
				if (atomic_load(&v->local_watch))
					vm_local_check(v);
				continue;
			}
			if (errno == EIO || errno == EOPNOTSUPP)
				/* KVM refuses to emulate some guest accesses
				 * (e.g. misaligned MMIO): the guest's fault,
				 * not the VMM's. */
				log_err("vCPU %u: the guest made an access KVM "
					"cannot emulate (e.g. misaligned MMIO): "
					"%s; stopping the VM", v->id,
					strerror(errno));
			else
				log_err("vCPU %u: KVM_RUN: %s", v->id,
					strerror(errno));
			vm_request_exit(vm, VM_EXIT_ERROR);
			break;
		}
		if (stats) {
			t1 = mono_ns();
			v->run_ns += t1 - t0;
		}
		more = handle_exit(v);
		if (stats) {
			enum vcpu_stat s = stat_of(v->run->exit_reason);

			v->exits[s]++;
			v->handle_ns[s] += mono_ns() - t1;
		}
		if (!more)
			break;
	}
	return NULL;
}

int vm_start(struct kvm_vm *vm)
{
	struct sigaction sa = { .sa_handler = kick_handler,
				.sa_flags = SA_RESTART };
	sigset_t set, old;
	int ret;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	/* Threads inherit this mask; each vCPU unblocks SIGUSR1 itself. */
	sigfillset(&set);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		ret = pthread_create(&v->thread, NULL, vcpu_thread, v);
		if (ret) {
			log_err("cannot start vCPU %u: %s", i, strerror(ret));
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			vm_request_exit(vm, VM_EXIT_ERROR);
			return -ret;
		}
		v->started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}

void vm_open_gate(struct kvm_vm *vm)
{
	pthread_mutex_lock(&vm->gate_lock);
	atomic_store(&vm->gate_open, true);
	pthread_cond_broadcast(&vm->gate_cond);
	pthread_mutex_unlock(&vm->gate_lock);
}

/* Wait under gate_lock until *@count reaches the number of started vCPU
 * threads (or the VM ends). */
static void wait_for_vcpus(struct kvm_vm *vm, const unsigned int *count)
{
	unsigned int started = 0;

	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		started += vm->vcpus[i].started;
	while (*count < started && !ending(vm))
		pthread_cond_wait(&vm->gate_cond, &vm->gate_lock);
}

void vm_pause(struct kvm_vm *vm)
{
	pthread_mutex_lock(&vm->gate_lock);
	atomic_store(&vm->gate_open, false);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (!v->started)
			continue;
		v->run->immediate_exit = 1;
		pthread_kill(v->thread, SIGUSR1);
	}
	wait_for_vcpus(vm, &vm->nr_parked);
	pthread_mutex_unlock(&vm->gate_lock);
}

bool vm_poke_local(struct kvm_vm *vm)
{
	uint64_t now = 0;
	bool any = false;

	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (!v->started || !atomic_load(&v->local_watch))
			continue;
		/* The clock only once a vCPU is watched: the main loop
		 * calls this after every event. */
		if (!any) {
			any = true;
			now = mono_ns();
			if (now - vm->last_poke_ns <
			    VM_LOCAL_POKE_MS * 1000000ull)
				return true;
			vm->last_poke_ns = now;
		}
		/* A paused vCPU is parked, not in a WFI. */
		if (atomic_load(&vm->gate_open))
			pthread_kill(v->thread, SIGUSR1);
	}
	return any;
}

void vm_wait_vcpus(struct kvm_vm *vm)
{
	pthread_mutex_lock(&vm->gate_lock);
	wait_for_vcpus(vm, &vm->nr_arrived);
	pthread_mutex_unlock(&vm->gate_lock);
}

enum vm_exit vm_stop(struct kvm_vm *vm)
{
	vm_request_exit(vm, VM_EXIT_STOP);
	vm_open_gate(vm);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (!v->started)
			continue;
		v->run->immediate_exit = 1;
		pthread_kill(v->thread, SIGUSR1);
	}
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->started)
			pthread_join(v->thread, NULL);
		v->started = false;
	}
	return (enum vm_exit)atomic_load(&vm->exit);
}

void vm_print_stats(const struct kvm_vm *vm)
{
	static const char *const names[VSTAT_NR] = {
		[VSTAT_MMIO] = "mmio", [VSTAT_SBI] = "sbi", [VSTAT_CSR] = "csr",
		[VSTAT_SYSTEM] = "system", [VSTAT_INTR] = "intr",
		[VSTAT_OTHER] = "other",
	};
	const struct machine *m = vm->m;

	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		const struct vcpu *v = &vm->vcpus[i];
		uint64_t total = 0, handle = 0;
		char buf[512];
		int n = 0;

		for (int s = 0; s < VSTAT_NR; s++) {
			total += v->exits[s];
			handle += v->handle_ns[s];
			if (v->exits[s] && n >= 0 && (size_t)n < sizeof(buf))
				n += snprintf(buf + n, sizeof(buf) - (size_t)n,
					      " %s %llu (%.1f ms)", names[s],
					      (unsigned long long)v->exits[s],
					      (double)v->handle_ns[s] / 1e6);
		}
		if (n <= 0)
			buf[0] = '\0';
		fprintf(stderr,
			"rivet: stats: vCPU %u: in KVM_RUN %.1f ms, %llu exits "
			"handled in %.1f ms:%s\n",
			v->id, (double)v->run_ns / 1e6,
			(unsigned long long)total, (double)handle / 1e6, buf);
	}
	for (unsigned int i = 0; i < m->nr_devs; i++) {
		const struct rivet_dev *d = m->devs[i];
		uint64_t a = __atomic_load_n(&d->accesses, __ATOMIC_RELAXED);

		if (a)
			fprintf(stderr, "rivet: stats: mmio %s@0x%llx: %llu\n",
				d->ops->name, (unsigned long long)d->base,
				(unsigned long long)a);
	}
}
