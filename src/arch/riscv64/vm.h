/* SPDX-License-Identifier: MIT */
/* The KVM side of a VM on a riscv64 host: VM and memory slot, vCPUs and
 * their threads, the in-kernel AIA, SBI calls forwarded to user space.
 * Only src/arch/riscv64/ includes <linux/kvm.h>. */
#ifndef RIVET_ARCH_VM_H
#define RIVET_ARCH_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "machine/machine.h"

enum vm_exit {
	VM_EXIT_NONE,		/* still running */
	VM_EXIT_POWEROFF,	/* guest asked to power off */
	VM_EXIT_REBOOT,		/* guest asked to reset */
	VM_EXIT_ERROR,		/* KVM failure or guest crash */
	VM_EXIT_STOP,		/* host asked us to stop (signal, Ctrl-A x) */
	VM_EXIT_PANIC,		/* guest reset or power-off for a failure */
};

struct kvm_run;

/* Exit statistics (rivet run --stats), kept by each vCPU thread. */
enum vcpu_stat { VSTAT_MMIO, VSTAT_SBI, VSTAT_CSR, VSTAT_SYSTEM, VSTAT_INTR,
		 VSTAT_OTHER, VSTAT_NR };

struct vcpu {
	struct kvm_vm *vm;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
	int tid;			/* the thread's id (QMP query-cpus-fast) */
	uint64_t exits[VSTAT_NR];
	uint64_t handle_ns[VSTAT_NR];	/* time rivet spent on them */
	uint64_t run_ns;		/* time inside KVM_RUN */
	/* Restored with its timer armed (KVM's timer `state` on, hosts
	 * without Sstc): armed as it first leaves the gate (snapshot.c). */
	bool timer_rearm;
	/* Restored with its timer's interrupt pending (sip.STIP): armed too,
	 * to raise it again through KVM (vm_timer_rearm()). */
	bool timer_refire;
	/* Restored with a software or counter-overflow interrupt pending
	 * in sip, which KVM's WFI does not see: kicked out of KVM_RUN
	 * every VM_LOCAL_POKE_MS until the guest took it (vm_poke_local()). */
	_Atomic bool local_watch;
};

#define VM_LOCAL_POKE_MS 10

#define VM_MAX_ROM_SLOTS 4
#define VM_MAX_APLIC_SOURCES 1024

struct kvm_vm;

/* What the VM assembly (src/vmm.c) runs on the vCPU threads, so the arch
 * code holds no policy of its own (which filter, what to time). */
struct vm_hooks {
	/* On vCPU @id's thread, before anything the guest controls: confine
	 * the thread.  0, or -errno to stop the VM.  Optional. */
	int (*vcpu_confine)(struct kvm_vm *vm, unsigned int id, int vcpu_fd);
	/* Right before vCPU 0's first KVM_RUN.  Optional. */
	void (*first_run)(struct kvm_vm *vm);
	void *ctx;
};

/* A read-only memory slot (flash in read-array mode). */
struct rom_slot {
	uint64_t gpa, size;
	void *host;
	bool mapped;
};

/* KVM irqfd bindings of MSIs (irqfd.c). */
#define VM_MAX_IRQFD 256
struct vm_irqfd {
	pthread_mutex_t lock;
	unsigned int wired;	/* in-kernel APLIC sources (identity routes) */
	unsigned int nslots;
	bool used;		/* a binding was made (logged once) */
	struct {
		uint64_t addr;
		uint32_t data;
		int fd;		/* -1: not bound */
	} slot[VM_MAX_IRQFD];
};

struct kvm_vm {
	int kvm_fd;
	int vm_fd;
	int aia_fd;
	int stop_fd;		/* eventfd: a vCPU saw the VM end */
	size_t run_size;
	struct machine *m;
	struct vcpu vcpus[CONFIG_MAX_CPUS];
	unsigned int nr_vcpus;
	_Atomic int exit;	/* enum vm_exit: first writer wins */
	bool dbcn;		/* SBI debug console enabled */
	/* Slot 0 is RAM; slot 1 + i is rom[i]. */
	struct rom_slot rom[VM_MAX_ROM_SLOTS];
	pthread_mutex_t rom_lock;
	struct vm_hooks hooks;	/* set before vm_start() */
	/* vCPUs wait here, filtered, until the main thread has its filter
	 * too: no guest instruction runs before every filter is in place. */
	pthread_mutex_t gate_lock;
	pthread_cond_t gate_cond;
	/* The gate also pauses a running VM (vm_pause): closed, every vCPU
	 * parks at the top of its loop.  Under gate_lock: */
	_Atomic bool gate_open;
	unsigned int nr_parked;		/* vCPUs parked at the gate */
	unsigned int nr_arrived;	/* vCPU threads that set their tid */
	bool ran;			/* the guest has run (time is its) */
	bool time_saved;		/* vCPU 0 froze guest_time */
	uint64_t guest_time;		/* the timer's time at the pause */
	struct vm_irqfd irqfd;
	/* What rivet last drove each in-kernel APLIC source to
	 * (KVM_IRQ_LINE): a snapshot's line levels. */
	_Atomic uint8_t line_level[VM_MAX_APLIC_SOURCES];
	/* Restore: which sections were loaded (snapshot.c). */
	uint32_t loaded_vcpus, loaded_imsics;
	bool loaded_aplic;
	uint64_t last_poke_ns;		/* vm_poke_local(), main thread */
};

/* Open /dev/kvm and create the VM; 0 or -errno (messages logged). */
int vm_open(struct kvm_vm *vm);
/* Can this host's KVM make the in-kernel AIA device (Ssaia, Linux >= 6.5)? */
bool vm_has_aia(struct kvm_vm *vm);
/* The VM's machine @m: guest RAM as memory slot 0; 0 or -errno. */
int vm_map_ram(struct kvm_vm *vm, struct machine *m);
/* Create m->cfg->cpus vCPUs, apply --cpu-features and fill m->cpu. */
int vm_create_vcpus(struct kvm_vm *vm);
/* KVM's part of the interrupt controller of m->irqchip_mode, once every
 * vCPU exists: aia, the in-kernel AIA at m->aia (sets m->irqchip and
 * m->msichip); split, its IMSIC files only (m->msichip; rivet's APLIC is
 * a device); plic, each hart's external interrupt through KVM_INTERRUPT
 * (m->harts).  0 or -errno. */
int vm_create_irqchip(struct kvm_vm *vm, enum aia_mode mode);
/* Offer KVM irqfd for MSIs (m->msichip.irqfd) where the host's KVM has
 * it; @wired in-kernel APLIC sources keep their routes. */
void vm_irqfd_setup(struct kvm_vm *vm, unsigned int wired);
/* Boot hart 0 at @entry with a1 = @fdt; the others stay stopped until the
 * guest starts them through SBI HSM. */
int vm_setup_boot(struct kvm_vm *vm, uint64_t entry, uint64_t fdt);
/* Start the vCPU threads; each runs hooks.vcpu_confine and waits for
 * vm_open_gate() before its first KVM_RUN. */
int vm_start(struct kvm_vm *vm);
/* Let the vCPUs run (call after the main thread's own filter). */
void vm_open_gate(struct kvm_vm *vm);
/* Pause every vCPU (the gate closes; each is kicked out of KVM_RUN) and
 * return once all are parked; the guest's time stands still until
 * vm_open_gate().  Main thread. */
void vm_pause(struct kvm_vm *vm);
/* Wait until every started vCPU thread set its tid. */
void vm_wait_vcpus(struct kvm_vm *vm);
/* Record why the VM ends (first caller wins) and wake the main loop. */
void vm_request_exit(struct kvm_vm *vm, enum vm_exit why);
/* Stop and join the vCPU threads; returns the exit reason. */
enum vm_exit vm_stop(struct kvm_vm *vm);
/* --stats: exits per vCPU and reason, time in KVM_RUN and in rivet's
 * handlers, MMIO accesses per device; to stderr. */
void vm_print_stats(const struct kvm_vm *vm);
void vm_destroy(struct kvm_vm *vm);

/* sbi.c: handle a KVM_EXIT_RISCV_SBI; false if the VM must stop. */
bool sbi_handle(struct vcpu *vcpu);
/* Enable the extensions rivet serves (DBCN) on a vCPU; 0 or -errno. */
int sbi_enable(struct vcpu *vcpu);

struct snap_r;
struct snap_w;
/* Snapshots (snapshot.c), on the main thread.  Save: with every vCPU
 * parked (vm_pause), each vCPU's registers and MP state and the
 * in-kernel AIA's state as sections of @w; 0 or -errno (logged). */
int vm_save_state(struct kvm_vm *vm, struct snap_w *w);
/* Restore, once the vCPUs and the irqchip exist and before any vCPU ran:
 * section @tag/@inst if it is one of vm_save_state()'s: 1 when loaded, 0
 * when the section is not the arch's, -errno (logged; -EBADMSG: a bad or
 * repeated record, -EINVAL: it does not fit this host). */
int vm_load_section(struct kvm_vm *vm, uint32_t tag, uint32_t inst,
		    struct snap_r *r);
/* After the last section: every vCPU and the AIA were in it.  0 or
 * -EBADMSG. */
int vm_load_finish(struct kvm_vm *vm);
/* On vCPU @v's thread as it leaves the gate: arm the timer a restore left
 * for it (v->timer_rearm, v->timer_refire). */
void vm_timer_rearm(struct vcpu *v);
/* On vCPU @v's thread, kicked out of KVM_RUN while v->local_watch: end
 * the watch once the guest has taken the interrupt (snapshot.c). */
void vm_local_check(struct vcpu *v);
/* Main thread, as often as it likes: every VM_LOCAL_POKE_MS, kick each
 * running vCPU that has v->local_watch out of KVM_RUN (which ends a WFI
 * as the interrupt would have).  True while any vCPU is watched: call
 * again within VM_LOCAL_POKE_MS. */
bool vm_poke_local(struct kvm_vm *vm);

/* One-reg helpers (kvm.c). */
int kvm_get_reg(int fd, uint64_t id, void *val);
int kvm_set_reg(int fd, uint64_t id, const void *val);

#endif
