// SPDX-License-Identifier: MIT
/* What KVM holds of a VM, in and out of a snapshot (docs/snapshot.md):
 * every register KVM_GET_REG_LIST names on each vCPU and its MP state, and
 * the in-kernel AIA (each vCPU's IMSIC file, the APLIC with its wired
 * lines' levels).  Main thread, with every vCPU parked (vm_pause) on save,
 * and before any vCPU ran on load.  The rules for putting it back follow
 * Linux 6.12's arch/riscv/kvm (vcpu_onereg.c, vcpu_timer.c, aia_aplic.c,
 * aia_imsic.c): see each load function. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/riscv64/vm.h"
#include "core/log.h"
#include "snapshot/snap.h"

#define MAX_REGS 1024
#define MAX_REG_BYTES 256	/* a vector register of VLEN 2048 */

#define REG_TYPE(id) ((id) & KVM_REG_RISCV_TYPE_MASK)
#define TIMER_REG(name)                                                    \
	(KVM_REG_RISCV | KVM_REG_SIZE_U64 | KVM_REG_RISCV_TIMER |          \
	 KVM_REG_RISCV_TIMER_REG(name))
#define SIP_REG                                                            \
	(KVM_REG_RISCV | KVM_REG_SIZE_U64 | KVM_REG_RISCV_CSR |            \
	 KVM_REG_RISCV_CSR_GENERAL | KVM_REG_RISCV_CSR_REG(sip))
#define SIP_STIP (1ULL << 5)
#define SIP_SEIP (1ULL << 9)
/* Local interrupts only the guest's own sip writes and KVM's injections
 * tell KVM's WFI about (vm_local_check()). */
#define SIP_WATCH (1ULL << 1 | 1ULL << 13)	/* SSIP, LCOFIP */
#define VLENB_REG                                                          \
	(KVM_REG_RISCV | KVM_REG_SIZE_U64 | KVM_REG_RISCV_VECTOR |         \
	 KVM_REG_RISCV_VECTOR_CSR_REG(vlenb))

/* APLIC register offsets (the AIA spec's; KVM's attributes are these). */
#define APLIC_DOMAINCFG		0x0000
#define APLIC_DOMAINCFG_IE	(1u << 8)
#define APLIC_SOURCECFG		0x0004
#define APLIC_SETIP		0x1c00
#define APLIC_CLRIP		0x1d00	/* reads: rectified inputs */
#define APLIC_SETIE		0x1e00
#define APLIC_GENMSI		0x3000
#define APLIC_TARGET		0x3004
#define APLIC_SM_MASK		0x7
#define APLIC_SM_EDGE_FALL	5
#define APLIC_SM_LEVEL_LOW	7
/* IMSIC indirect registers. */
#define IMSIC_EIDELIVERY	0x70
#define IMSIC_EITHRESHOLD	0x72
#define IMSIC_EIP0		0x80
#define IMSIC_EIE0		0xc0
#define IMSIC_MAX_EIX		32	/* 64-bit EIP/EIE pairs: 2048 ids */

static const char *reg_class(uint64_t id)
{
	switch (REG_TYPE(id)) {
	case KVM_REG_RISCV_CONFIG: return "config";
	case KVM_REG_RISCV_CORE: return "core";
	case KVM_REG_RISCV_CSR: return "CSR";
	case KVM_REG_RISCV_TIMER: return "timer";
	case KVM_REG_RISCV_FP_F: return "FP (F)";
	case KVM_REG_RISCV_FP_D: return "FP (D)";
	case KVM_REG_RISCV_ISA_EXT: return "ISA extension";
	case KVM_REG_RISCV_SBI_EXT: return "SBI extension";
	case KVM_REG_RISCV_VECTOR: return "vector";
	case KVM_REG_RISCV_SBI_STATE: return "SBI state";
	default: return "unknown";
	}
}

/* The vCPU's register ids (KVM_GET_REG_LIST) into a malloc'd array. */
static int reg_list(int fd, uint64_t **ids, unsigned int *n)
{
	struct kvm_reg_list probe = { .n = 0 }, *l;

	*ids = NULL;
	*n = 0;
	if (ioctl(fd, KVM_GET_REG_LIST, &probe) == 0 || errno != E2BIG)
		return -(errno ? errno : EINVAL);
	if (probe.n > MAX_REGS)
		return -E2BIG;
	l = malloc(sizeof(*l) + probe.n * sizeof(uint64_t));
	if (!l)
		return -ENOMEM;
	l->n = probe.n;
	if (ioctl(fd, KVM_GET_REG_LIST, l)) {
		int ret = -errno;

		free(l);
		return ret;
	}
	*ids = malloc(l->n * sizeof(uint64_t));
	if (!*ids) {
		free(l);
		return -ENOMEM;
	}
	memcpy(*ids, l->reg, l->n * sizeof(uint64_t));
	*n = (unsigned int)l->n;
	free(l);
	return 0;
}

/* "VCPU" i: u32 mp_state, u32 count, then count x (u64 id, KVM_REG_SIZE
 * bytes), in KVM_GET_REG_LIST's order. */
static int save_vcpu(struct vcpu *v, struct snap_w *w)
{
	struct kvm_mp_state mp;
	uint64_t *ids;
	unsigned int n;
	size_t mark;
	int ret = reg_list(v->fd, &ids, &n);

	if (ret) {
		log_err("snapshot: vCPU %u: KVM_GET_REG_LIST: %s", v->id,
			strerror(-ret));
		return ret;
	}
	if (ioctl(v->fd, KVM_GET_MP_STATE, &mp)) {
		ret = -errno;
		log_err("snapshot: vCPU %u: KVM_GET_MP_STATE: %s", v->id,
			strerror(errno));
		goto out;
	}
	mark = snap_w_begin(w, SNAP_TAG('V', 'C', 'P', 'U'), v->id);
	snap_w_u32(w, mp.mp_state);
	snap_w_u32(w, n);
	for (unsigned int i = 0; i < n; i++) {
		uint8_t val[MAX_REG_BYTES];
		size_t size = KVM_REG_SIZE(ids[i]);

		if (size > sizeof(val)) {
			ret = -E2BIG;
			break;
		}
		ret = kvm_get_reg(v->fd, ids[i], val);
		/* The guest's time stands still while it is paused: the
		 * time it will resume at, not the timer's now. */
		if (!ret && ids[i] == TIMER_REG(time) && v->vm->time_saved)
			memcpy(val, &v->vm->guest_time, sizeof(uint64_t));
		/* The external interrupt's pending bit is the interrupt
		 * controller's to say (its record puts it back: the IMSIC
		 * file, rivet's PLIC), and KVM shows it here or not
		 * depending on where the IMSIC file lives at the moment. */
		if (!ret && ids[i] == SIP_REG) {
			uint64_t sip;

			memcpy(&sip, val, sizeof(sip));
			sip &= ~SIP_SEIP;
			memcpy(val, &sip, sizeof(sip));
		}
		/* Restored and not run since: armed as it was saved. */
		if (!ret && ids[i] == TIMER_REG(state) && v->timer_rearm) {
			uint64_t on = KVM_RISCV_TIMER_STATE_ON;

			memcpy(val, &on, sizeof(on));
		}
		if (ret) {
			log_err("snapshot: vCPU %u: %s register 0x%llx: %s",
				v->id, reg_class(ids[i]),
				(unsigned long long)ids[i], strerror(-ret));
			break;
		}
		snap_w_u64(w, ids[i]);
		snap_w_bytes(w, val, size);
	}
	snap_w_end(w, mark);
out:
	free(ids);
	return ret ? ret : w->err;
}

/* The order registers go back in: what the vCPU is (config, ISA and SBI
 * extensions: only before it first ran, and the rest depends on them),
 * then its state; the timer after the CSRs.  Its `state` is not written
 * here: see vm_timer_rearm(). */
static const uint64_t load_order[] = {
	KVM_REG_RISCV_CONFIG, KVM_REG_RISCV_ISA_EXT, KVM_REG_RISCV_SBI_EXT,
	KVM_REG_RISCV_CORE, KVM_REG_RISCV_CSR, KVM_REG_RISCV_FP_F,
	KVM_REG_RISCV_FP_D, KVM_REG_RISCV_VECTOR, KVM_REG_RISCV_SBI_STATE,
	KVM_REG_RISCV_TIMER,
};

struct saved_reg {
	uint64_t id;
	uint8_t val[MAX_REG_BYTES];
};

/* A saved register this vCPU's KVM does not list: a snapshot from
 * another kind of host.  Values KVM checks itself (timer frequency,
 * vlenb, satp mode, block sizes) are compared here first for a message
 * that says what differs. */
static bool reg_fits(struct vcpu *v, const uint64_t *ids, unsigned int n,
		     const struct saved_reg *s)
{
	uint64_t mine;
	bool listed = false;

	for (unsigned int i = 0; i < n && !listed; i++)
		listed = ids[i] == s->id;
	if (!listed) {
		log_err("snapshot: vCPU %u has a %s register 0x%llx this host's "
			"KVM does not have: the snapshot was taken on a "
			"different kind of host", v->id, reg_class(s->id),
			(unsigned long long)s->id);
		return false;
	}
	if (s->id != TIMER_REG(frequency) && s->id != VLENB_REG)
		return true;
	if (kvm_get_reg(v->fd, s->id, &mine))
		return false;
	if (memcmp(&mine, s->val, sizeof(mine)) == 0)
		return true;
	{
		uint64_t theirs;

		memcpy(&theirs, s->val, sizeof(theirs));
		log_err("snapshot: the snapshot's %s is %llu, this host's %llu: "
			"it cannot run here",
			s->id == VLENB_REG ? "vector length (vlenb)"
					   : "timer frequency (Hz)",
			(unsigned long long)theirs, (unsigned long long)mine);
	}
	return false;
}

static int load_vcpu(struct kvm_vm *vm, unsigned int id, struct snap_r *r)
{
	struct vcpu *v = &vm->vcpus[id];
	struct kvm_mp_state mp;
	struct saved_reg *regs = NULL;
	uint64_t *ids = NULL, state = 0, sip = 0;
	unsigned int n, nids;
	int ret;

	mp.mp_state = snap_r_u32(r);
	n = snap_r_u32(r);
	snap_r_check(r, mp.mp_state == KVM_MP_STATE_RUNNABLE ||
			mp.mp_state == KVM_MP_STATE_STOPPED, "MP state");
	if (!snap_r_check(r, n > 0 && n <= MAX_REGS, "register count"))
		return -EBADMSG;
	regs = calloc(n, sizeof(*regs));
	if (!regs)
		return -ENOMEM;
	for (unsigned int i = 0; i < n && !r->err; i++) {
		regs[i].id = snap_r_u64(r);
		if (!snap_r_check(r, (regs[i].id & KVM_REG_ARCH_MASK) ==
					     KVM_REG_RISCV &&
					     KVM_REG_SIZE(regs[i].id) <=
					     MAX_REG_BYTES, "register id"))
			break;
		snap_r_bytes(r, regs[i].val, KVM_REG_SIZE(regs[i].id));
	}
	ret = snap_r_finish(r);
	if (ret)
		goto out;
	ret = reg_list(v->fd, &ids, &nids);
	if (ret) {
		log_err("restore: vCPU %u: KVM_GET_REG_LIST: %s", id,
			strerror(-ret));
		goto out;
	}
	for (unsigned int i = 0; i < n; i++)
		if (!reg_fits(v, ids, nids, &regs[i])) {
			ret = -EINVAL;
			goto out;
		}
	for (size_t c = 0; c < sizeof(load_order) / sizeof(load_order[0]); c++)
		for (unsigned int i = 0; i < n; i++) {
			const struct saved_reg *s = &regs[i];

			/* The timer's state is vm_timer_rearm()'s (below). */
			if (REG_TYPE(s->id) != load_order[c] ||
			    s->id == TIMER_REG(state))
				continue;
			ret = kvm_set_reg(v->fd, s->id, s->val);
			/* The guest's time as it was: the first park keeps
			 * it (not the timer's now, which ran on since this
			 * write), so a paused restore saves the same time. */
			if (!ret && s->id == TIMER_REG(time)) {
				memcpy(&vm->guest_time, s->val,
				       sizeof(vm->guest_time));
				vm->time_saved = true;
			}
			if (ret) {
				log_err("restore: vCPU %u: %s register 0x%llx: "
					"%s", id, reg_class(s->id),
					(unsigned long long)s->id,
					strerror(-ret));
				goto out;
			}
		}
	for (unsigned int i = 0; i < n; i++) {
		if (regs[i].id == TIMER_REG(state))
			memcpy(&state, regs[i].val, sizeof(state));
		if (regs[i].id == SIP_REG)
			memcpy(&sip, regs[i].val, sizeof(sip));
	}
	v->timer_rearm = state == KVM_RISCV_TIMER_STATE_ON;
	/* Its interrupt pending, and so not armed (vm_timer_rearm()). */
	v->timer_refire = !v->timer_rearm && (sip & SIP_STIP);
	if (v->timer_refire)
		log_info("restore: vCPU %u: its timer's interrupt was pending: "
			 "the timer is armed again to raise it", id);
	if (sip & SIP_WATCH) {
		atomic_store(&v->local_watch, true);
		log_info("restore: vCPU %u has a software interrupt pending "
			 "(sip 0x%llx): kicked every %d ms until its guest "
			 "takes it", id, (unsigned long long)sip,
			 VM_LOCAL_POKE_MS);
	}
	if (ioctl(v->fd, KVM_SET_MP_STATE, &mp)) {
		ret = -errno;
		log_err("restore: vCPU %u: KVM_SET_MP_STATE: %s", id,
			strerror(errno));
	}
out:
	free(ids);
	free(regs);
	return ret;
}

/* A timer that was armed at the snapshot (KVM's `state` on: hosts without
 * Sstc, where KVM runs the guest's timer on a host hrtimer) can only be
 * armed again through that register, and Linux 6.12's vcpu_timer.c arms
 * it for cycle 1 when it is written, not for `compare`: it would fire at
 * once.  So: arm it as late as possible, as the vCPU first leaves the gate
 * (a restored VM may wait paused long before that), then put `compare`
 * back at once: the hrtimer, when it expires, looks at `compare` again and
 * waits for it if it is still ahead.  Only if it expires in between does
 * the guest see one early timer interrupt, which its timer code takes as
 * nothing due and re-arms (docs/snapshot.md, "Time").
 *
 * A timer whose interrupt was pending (sip.STIP, its `state` off) is
 * armed the same way (v->timer_refire), because that pending bit is in
 * the restored sip only (see vm_local_check()): KVM's WFI would not see
 * it, and the timer check it also makes does not help when the timer
 * fired during the pause, after the guest's time stood still (`compare`
 * is then still ahead of it).  Armed, the timer raises it again through
 * KVM: at once, or at `compare`. */
void vm_timer_rearm(struct vcpu *v)
{
	uint64_t on = KVM_RISCV_TIMER_STATE_ON, compare;

	v->timer_rearm = v->timer_refire = false;
	if (kvm_get_reg(v->fd, TIMER_REG(compare), &compare) ||
	    kvm_set_reg(v->fd, TIMER_REG(state), &on) ||
	    kvm_set_reg(v->fd, TIMER_REG(compare), &compare))
		log_warn("vCPU %u: cannot arm the restored timer: %s", v->id,
			 strerror(errno));
}

/* KVM keeps a vCPU's pending interrupts twice: in the guest's hvip, which
 * the hart shows the guest, and in a set of its own, which its WFI reads
 * to decide whether to wait (Linux 6.12 vcpu.c,
 * kvm_riscv_vcpu_has_interrupts()).  Only KVM's injections and the
 * guest's own sip writes fill that set; a sip written by a restore goes
 * to hvip alone.  A software interrupt pending at the snapshot (an IPI,
 * on a host without an IMSIC) is so taken as soon as the guest enables
 * interrupts, but a WFI with them disabled (Linux's idle loop) waits as
 * if nothing were pending: for ever, if nothing else comes.  So until
 * the guest has taken it (its sip bit clear, which KVM records), the main
 * thread kicks the vCPU out of KVM_RUN every VM_LOCAL_POKE_MS
 * (vm_poke_local()): a WFI ends as the interrupt would have ended it, at
 * most that much later.  A pending timer interrupt is raised again by
 * arming the timer (vm_timer_rearm()). */
void vm_local_check(struct vcpu *v)
{
	uint64_t sip;

	if (kvm_get_reg(v->fd, SIP_REG, &sip) == 0 && !(sip & SIP_WATCH))
		atomic_store(&v->local_watch, false);
}

/* ---- the in-kernel AIA ---------------------------------------------------- */

static int aia_get(struct kvm_vm *vm, uint32_t group, uint64_t attr,
		   void *val)
{
	struct kvm_device_attr a = { .group = group, .attr = attr,
				     .addr = (uint64_t)(uintptr_t)val };

	return ioctl(vm->aia_fd, KVM_GET_DEVICE_ATTR, &a) ? -errno : 0;
}

static int aia_set(struct kvm_vm *vm, uint32_t group, uint64_t attr,
		   const void *val)
{
	struct kvm_device_attr a = { .group = group, .attr = attr,
				     .addr = (uint64_t)(uintptr_t)val };

	return ioctl(vm->aia_fd, KVM_SET_DEVICE_ATTR, &a) ? -errno : 0;
}

/* Interrupt identities per EIP/EIE register pair: 64 on riscv64. */
static unsigned int imsic_nr_eix(const struct kvm_vm *vm)
{
	return (vm->m->aia.nr_ids + 64) / 64;
}

#define IMSIC_ATTR(vcpu, isel) KVM_DEV_RISCV_AIA_IMSIC_MKATTR(vcpu, isel)

/* "IMSC" i: u32 eix count, u64 eidelivery, u64 eithreshold, then eip[k],
 * eie[k] for each pair k. */
static int save_imsic(struct kvm_vm *vm, unsigned int id, struct snap_w *w)
{
	unsigned int neix = imsic_nr_eix(vm);
	uint64_t v[2 + 2 * IMSIC_MAX_EIX];
	int ret = 0;
	size_t mark;

	if (neix > IMSIC_MAX_EIX)
		return -E2BIG;
	ret = aia_get(vm, KVM_DEV_RISCV_AIA_GRP_IMSIC,
		      IMSIC_ATTR(id, IMSIC_EIDELIVERY), &v[0]);
	if (!ret)
		ret = aia_get(vm, KVM_DEV_RISCV_AIA_GRP_IMSIC,
			      IMSIC_ATTR(id, IMSIC_EITHRESHOLD), &v[1]);
	for (unsigned int k = 0; !ret && k < neix; k++) {
		ret = aia_get(vm, KVM_DEV_RISCV_AIA_GRP_IMSIC,
			      IMSIC_ATTR(id, IMSIC_EIP0 + 2 * k), &v[2 + 2 * k]);
		if (!ret)
			ret = aia_get(vm, KVM_DEV_RISCV_AIA_GRP_IMSIC,
				      IMSIC_ATTR(id, IMSIC_EIE0 + 2 * k),
				      &v[3 + 2 * k]);
	}
	if (ret) {
		log_err("snapshot: vCPU %u's IMSIC: %s", id, strerror(-ret));
		return ret;
	}
	mark = snap_w_begin(w, SNAP_TAG('I', 'M', 'S', 'C'), id);
	snap_w_u32(w, neix);
	for (unsigned int i = 0; i < 2 + 2 * neix; i++)
		snap_w_u64(w, v[i]);
	snap_w_end(w, mark);
	return w->err;
}

/* Threshold and enables, then pendings (each write re-evaluates the
 * file's output), delivery last: nothing reaches the hart before the
 * file is whole, and what was pending and enabled is delivered once. */
static int load_imsic(struct kvm_vm *vm, unsigned int id, struct snap_r *r)
{
	unsigned int neix = snap_r_u32(r);
	uint64_t v[2 + 2 * IMSIC_MAX_EIX];
	int ret;

	if (!snap_r_check(r, neix == imsic_nr_eix(vm), "IMSIC size"))
		return -EBADMSG;
	for (unsigned int i = 0; i < 2 + 2 * neix; i++)
		v[i] = snap_r_u64(r);
	snap_r_check(r, v[0] <= 1, "IMSIC eidelivery");
	snap_r_check(r, v[1] < 2048, "IMSIC eithreshold");
	ret = snap_r_finish(r);
	if (ret)
		return ret;
	ret = aia_set(vm, KVM_DEV_RISCV_AIA_GRP_IMSIC,
		      IMSIC_ATTR(id, IMSIC_EITHRESHOLD), &v[1]);
	for (unsigned int k = 0; !ret && k < neix; k++)
		ret = aia_set(vm, KVM_DEV_RISCV_AIA_GRP_IMSIC,
			      IMSIC_ATTR(id, IMSIC_EIE0 + 2 * k), &v[3 + 2 * k]);
	for (unsigned int k = 0; !ret && k < neix; k++)
		ret = aia_set(vm, KVM_DEV_RISCV_AIA_GRP_IMSIC,
			      IMSIC_ATTR(id, IMSIC_EIP0 + 2 * k), &v[2 + 2 * k]);
	if (!ret)
		ret = aia_set(vm, KVM_DEV_RISCV_AIA_GRP_IMSIC,
			      IMSIC_ATTR(id, IMSIC_EIDELIVERY), &v[0]);
	if (ret)
		log_err("restore: vCPU %u's IMSIC: %s", id, strerror(-ret));
	return ret;
}

static int aplic_get(struct kvm_vm *vm, uint32_t off, uint32_t *v)
{
	return aia_get(vm, KVM_DEV_RISCV_AIA_GRP_APLIC, off, v);
}

static int aplic_set(struct kvm_vm *vm, uint32_t off, uint32_t v)
{
	return aia_set(vm, KVM_DEV_RISCV_AIA_GRP_APLIC, off, &v);
}

/* "APLC": u32 sources (n, source 0 included), u32 domaincfg, u32 genmsi,
 * then for sources 1..n-1: u32 sourcecfg, u32 target, u8 line level (what
 * rivet last drove it to); then per 32-source word: u32 pending, u32
 * enabled. */
static int save_aplic(struct kvm_vm *vm, struct snap_w *w)
{
	uint32_t n = vm->m->aia.nr_sources + 1, words = (n + 31) / 32;
	uint32_t v;
	size_t mark;
	int ret;

	mark = snap_w_begin(w, SNAP_TAG('A', 'P', 'L', 'C'), 0);
	snap_w_u32(w, n);
	ret = aplic_get(vm, APLIC_DOMAINCFG, &v);
	snap_w_u32(w, v);
	if (!ret)
		ret = aplic_get(vm, APLIC_GENMSI, &v);
	snap_w_u32(w, v);
	for (uint32_t i = 1; !ret && i < n; i++) {
		ret = aplic_get(vm, APLIC_SOURCECFG + 4 * (i - 1), &v);
		snap_w_u32(w, v);
		if (!ret)
			ret = aplic_get(vm, APLIC_TARGET + 4 * (i - 1), &v);
		snap_w_u32(w, v);
		snap_w_u8(w, atomic_load(&vm->line_level[i]));
	}
	for (uint32_t k = 0; !ret && k < words; k++) {
		ret = aplic_get(vm, APLIC_SETIP + 4 * k, &v);
		snap_w_u32(w, v);
		if (!ret)
			ret = aplic_get(vm, APLIC_SETIE + 4 * k, &v);
		snap_w_u32(w, v);
	}
	snap_w_end(w, mark);
	if (ret)
		log_err("snapshot: the APLIC: %s", strerror(-ret));
	return ret ? ret : w->err;
}

/* With delivery off (domaincfg.IE 0: nothing is sent while the rest goes
 * back): sources and targets, then the lines' levels (KVM_IRQ_LINE; a
 * level source may turn pending by itself here), then the pendings as
 * saved (cleared first: only what was pending is) and the enables, and
 * domaincfg last, which sends what is pending and enabled.  genmsi is
 * never written: writing it sends an MSI. */
static int load_aplic(struct kvm_vm *vm, struct snap_r *r)
{
	uint32_t n = snap_r_u32(r), words, dcfg;
	uint32_t *cfg = NULL, *pend = NULL;
	uint8_t *level = NULL;
	int ret;

	if (!snap_r_check(r, n == vm->m->aia.nr_sources + 1, "APLIC size"))
		return -EBADMSG;
	words = (n + 31) / 32;
	cfg = calloc(2 * n, sizeof(*cfg));
	pend = calloc(2 * words, sizeof(*pend));
	level = calloc(n, 1);
	if (!cfg || !pend || !level) {
		ret = -ENOMEM;
		goto out;
	}
	dcfg = snap_r_u32(r);
	(void)snap_r_u32(r);	/* genmsi: informational */
	for (uint32_t i = 1; i < n; i++) {
		cfg[2 * i] = snap_r_u32(r);
		cfg[2 * i + 1] = snap_r_u32(r);
		level[i] = snap_r_u8(r);
		snap_r_check(r, level[i] <= 1, "APLIC line level");
	}
	for (uint32_t k = 0; k < 2 * words; k++)
		pend[k] = snap_r_u32(r);
	ret = snap_r_finish(r);
	if (ret)
		goto out;
	ret = aplic_set(vm, APLIC_DOMAINCFG, 0);
	for (uint32_t i = 1; !ret && i < n; i++) {
		ret = aplic_set(vm, APLIC_SOURCECFG + 4 * (i - 1), cfg[2 * i]);
		if (!ret)
			ret = aplic_set(vm, APLIC_TARGET + 4 * (i - 1),
					cfg[2 * i + 1]);
	}
	for (uint32_t i = 1; !ret && i < n; i++) {
		struct kvm_irq_level l = { .irq = i, .level = level[i] };

		if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &l))
			ret = -errno;
		else
			atomic_store(&vm->line_level[i], level[i]);
	}
	for (uint32_t k = 0; !ret && k < words; k++) {
		ret = aplic_set(vm, APLIC_CLRIP + 4 * k, ~0u);
		if (!ret)
			ret = aplic_set(vm, APLIC_SETIP + 4 * k, pend[2 * k]);
		if (!ret)
			ret = aplic_set(vm, APLIC_SETIE + 4 * k,
					pend[2 * k + 1]);
	}
	if (!ret)
		ret = aplic_set(vm, APLIC_DOMAINCFG, dcfg);
	if (ret)
		log_err("restore: the APLIC: %s", strerror(-ret));
out:
	free(cfg);
	free(pend);
	free(level);
	return ret;
}

/* ---- the VM ------------------------------------------------------------------ */

int vm_save_state(struct kvm_vm *vm, struct snap_w *w)
{
	int ret = 0;

	for (unsigned int i = 0; !ret && i < vm->nr_vcpus; i++)
		ret = save_vcpu(&vm->vcpus[i], w);
	if (vm->aia_fd >= 0)
		for (unsigned int i = 0; !ret && i < vm->nr_vcpus; i++)
			ret = save_imsic(vm, i, w);
	if (!ret && vm->aia_fd >= 0 && vm->m->irqchip_mode == IRQCHIP_AIA)
		ret = save_aplic(vm, w);
	return ret;
}

int vm_load_section(struct kvm_vm *vm, uint32_t tag, uint32_t inst,
		    struct snap_r *r)
{
	bool aia = vm->aia_fd >= 0;
	uint32_t bit = inst < 32 ? 1u << inst : 0;
	int ret;

	switch (tag) {
	case SNAP_TAG('V', 'C', 'P', 'U'):
		if (inst >= vm->nr_vcpus || (vm->loaded_vcpus & bit))
			return -EBADMSG;
		ret = load_vcpu(vm, inst, r);
		vm->loaded_vcpus |= bit;
		return ret ? ret : 1;
	case SNAP_TAG('I', 'M', 'S', 'C'):
		if (!aia || inst >= vm->nr_vcpus || (vm->loaded_imsics & bit))
			return -EBADMSG;
		ret = load_imsic(vm, inst, r);
		vm->loaded_imsics |= bit;
		return ret ? ret : 1;
	case SNAP_TAG('A', 'P', 'L', 'C'):
		if (!aia || vm->m->irqchip_mode != IRQCHIP_AIA || inst ||
		    vm->loaded_aplic)
			return -EBADMSG;
		vm->loaded_aplic = true;
		ret = load_aplic(vm, r);
		return ret ? ret : 1;
	default:
		return 0;	/* not the arch's */
	}
}

int vm_load_finish(struct kvm_vm *vm)
{
	uint32_t all = vm->nr_vcpus >= 32 ? ~0u : (1u << vm->nr_vcpus) - 1;
	bool aia = vm->aia_fd >= 0;

	if (vm->loaded_vcpus != all || (aia && vm->loaded_imsics != all) ||
	    (aia && vm->m->irqchip_mode == IRQCHIP_AIA && !vm->loaded_aplic))
		return -EBADMSG;
	vm->ran = true;		/* the guest's time is running already */
	return 0;
}
