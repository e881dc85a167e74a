// SPDX-License-Identifier: MIT
/* One boot of the guest in this process: assemble the machine from the
 * configuration, create the VM in KVM, run it and report how it ended.
 * A guest reboot is a new call (in a new process: see main.c). */
#include "vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <libfdt.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "arch/riscv64/vm.h"
#include "boot/loader.h"
#include "core/console.h"
#include "core/exit.h"
#include "core/gmem.h"
#include "core/iothread.h"
#include "core/log.h"
#include "core/startup.h"
#include "devices/uart16550.h"
#include "devices/virtio.h"
#include "machine/machine.h"
#include "qmp/ctl.h"
#include "seccomp/seccomp.h"
#include "vmm_snapshot.h"

#define CTRL_A 0x01

/* Read host input into st->pend, handling the Ctrl-A escape on a terminal:
 * Ctrl-A x quits, Ctrl-A Ctrl-A sends one Ctrl-A. */
static void read_stdin(struct vmm_session *st)
{
	uint8_t buf[sizeof(st->pend) / 2];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

	st->pend_len = st->pend_off = 0;
	if (n <= 0) {
		if (n == 0 || (errno != EINTR && errno != EAGAIN))
			st->stdin_open = false;	/* EOF: guest keeps running */
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (st->tty && st->escape) {
			st->escape = false;
			if (buf[i] == 'x' || buf[i] == 'X') {
				st->quit = true;
				return;
			}
			if (buf[i] != CTRL_A)
				st->pend[st->pend_len++] = CTRL_A;
		} else if (st->tty && buf[i] == CTRL_A) {
			st->escape = true;
			continue;
		}
		st->pend[st->pend_len++] = buf[i];
	}
}

/* The backend's descriptors as pollfds at @p; how many. */
static unsigned int poller_fds(struct virtio_backend *be, struct pollfd *p)
{
	int fds[VIRTIO_POLL_MAX];
	unsigned int n = be->ops->poll_fds(be, fds);

	if (n > VIRTIO_POLL_MAX)
		n = VIRTIO_POLL_MAX;
	for (unsigned int i = 0; i < n; i++)
		p[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	return n;
}

/* Hand pending input to the UART, as much as its FIFO takes. */
static void push_pending(struct machine *m, struct vmm_session *st)
{
	st->pend_off += uart16550_push_input(m->console,
					     st->pend + st->pend_off,
					     st->pend_len - st->pend_off);
}

#define NR_FIXED_FDS 5

static void ctl_send(struct vmm_session *st, const struct ctl_msg *m)
{
	if (write(st->ctl_fd, m, sizeof(*m)) != sizeof(*m))
		log_warn("cannot answer the monitor: %s", strerror(errno));
}

/* A message from the monitor and the descriptors it carries (@fds, up
 * to 2, -1 where none). */
static ssize_t ctl_recv(int fd, struct ctl_msg *m, int fds[2])
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(2 * sizeof(int))];
	} u;
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);

	fds[0] = fds[1] = -1;
	for (struct cmsghdr *c = n >= 0 ? CMSG_FIRSTHDR(&mh) : NULL; c;
	     c = CMSG_NXTHDR(&mh, c)) {
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < k; i++) {
			int f;

			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(f));
			if (i < 2 && fds[i] < 0)
				fds[i] = f;
			else
				close(f);
		}
	}
	return n;
}

/* One request from the monitor (QMP).  False when the VM ends. */
static bool ctl_request(struct kvm_vm *vm, struct vmm_session *st)
{
	struct ctl_msg m, ack = { .type = CTL_ACK };
	int fds[2];
	ssize_t n = ctl_recv(st->ctl_fd, &m, fds);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n != sizeof(m)) {
		/* The monitor is gone: nobody is left to serve. */
		log_err("the monitor closed the control channel");
		vm_request_exit(vm, VM_EXIT_ERROR);
		return false;
	}
	switch (m.type) {
	case CTL_STOP:
		/* The guest's devices stop with it: no disk request is left
		 * in flight, no frame is received. */
		vm_pause(vm);
		machine_quiesce_io(vm->m);
		break;
	case CTL_CONT:
		machine_resume_io(vm->m);
		vm_open_gate(vm);
		break;
	case CTL_POWERDOWN:
		/* Every power button the board has (virt on a firmware
		 * boot: virtio-input and the ACPI GED; a guest binding both
		 * gets two KEY_POWER presses, and systemd-logind ignores the
		 * second while the power-off it started is in progress). */
		ack.arg = vm->m->power_button ? vm->m->power_button(vm->m)
					      : -EOPNOTSUPP;
		/* Like a real button (and QEMU): pressed, whether or not
		 * anyone listens yet. */
		if (ack.arg == -ENODEV) {
			log_notice("power button pressed, but the guest has no "
				   "driver for it (yet)");
			ack.arg = 0;
		}
		break;
	case CTL_RESET:
		st->ctl_reason = CTL_REASON_HOST_QMP_RESET;
		vm_request_exit(vm, VM_EXIT_REBOOT);
		return false;
	case CTL_QUIT:
		st->ctl_reason = CTL_REASON_HOST_QMP_QUIT;
		vm_request_exit(vm, VM_EXIT_STOP);
		return false;
	case CTL_MIGRATE:
		ack.arg = fds[0] >= 0 && fds[1] >= 0
			? vmm_snapshot_take(vm, fds[0], fds[1], ack.size)
			: -EBADF;
		break;
	default:
		ack.arg = -EINVAL;
		break;
	}
	for (unsigned int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	ctl_send(st, &ack);
	return true;
}

/* Wait for the VM to end, serving console input and the devices' host
 * events (network receive) meanwhile. */
static void main_loop(struct kvm_vm *vm, struct vmm_session *st)
{
	struct machine *m = vm->m;

	for (;;) {
		struct pollfd p[NR_FIXED_FDS +
				VIRTIO_POLL_MAX * MACHINE_MAX_VIRTIO] = {
			{ .fd = vm->stop_fd, .events = POLLIN },
			{ .fd = st->sig_fd, .events = POLLIN },
			{ .fd = -1, .events = POLLIN },
			{ .fd = -1, .events = POLLIN },
			{ .fd = st->ctl_fd, .events = POLLIN },
		};
		unsigned int cnt[MACHINE_MAX_VIRTIO];
		bool pending = st->pend_off < st->pend_len;
		nfds_t n = NR_FIXED_FDS;
		int timeout = -1;

		if (m->console && pending) {
			/* Wait for the guest to drain its FIFO. */
			p[3].fd = st->wake_fd;
			if (st->wake_fd < 0)
				timeout = 5;
		} else if (m->console && st->stdin_open) {
			p[2].fd = STDIN_FILENO;
		}
		/* A restored vCPU's pending software interrupt (snapshot.c). */
		if (vm_poke_local(vm) &&
		    (timeout < 0 || timeout > VM_LOCAL_POKE_MS))
			timeout = VM_LOCAL_POKE_MS;
		for (unsigned int i = 0; i < m->nr_pollers; i++) {
			cnt[i] = poller_fds(m->pollers[i], &p[n]);
			n += cnt[i];
		}
		if (poll(p, n, timeout) < 0 && errno != EINTR) {
			log_err("poll: %s", strerror(errno));
			vm_request_exit(vm, VM_EXIT_ERROR);
			return;
		}
		if (p[0].revents)
			return;
		if (p[1].revents) {
			struct signalfd_siginfo si;

			if (read(st->sig_fd, &si, sizeof(si)) == sizeof(si)) {
				log_warn("signal %u: shutting the VM down",
					 si.ssi_signo);
				st->stop_signal = (int)si.ssi_signo;
				vm_request_exit(vm, VM_EXIT_STOP);
				return;
			}
		}
		if (p[4].revents && !ctl_request(vm, st))
			return;
		if (p[3].revents) {
			uint64_t v;

			if (read(st->wake_fd, &v, sizeof(v)) < 0)
				v = 0;	/* spurious wake-up: harmless */
		}
		if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
			read_stdin(st);
			if (st->quit) {
				log_info("Ctrl-A x: stopping the VM");
				vm_request_exit(vm, VM_EXIT_STOP);
				return;
			}
		}
		if (m->console && st->pend_off < st->pend_len)
			push_pending(m, st);
		n = NR_FIXED_FDS;
		for (unsigned int i = 0; i < m->nr_pollers; i++) {
			struct virtio_backend *be = m->pollers[i];
			bool ready = false;

			for (unsigned int j = 0; j < cnt[i]; j++)
				ready |= p[n + j].revents != 0;
			n += cnt[i];
			if (ready)
				be->ops->poll_ready(be);
		}
	}
}

/* Firmware boot: the boot hart starts in the firmware (executing from
 * flash) with a1 = the FDT, placed at the top of RAM below 4 GiB, 2 MiB
 * aligned (as QEMU does: 32-bit-clean for early firmware code). */
static void firmware_layout(const struct machine *m, const struct board *b,
			    struct boot_layout *boot)
{
	uint64_t end = m->ram.base + m->ram.size;

	if (end > 0x100000000ULL)
		end = 0x100000000ULL;
	memset(boot, 0, sizeof(*boot));
	boot->kernel_addr = b->firmware_entry;
	boot->fdt_max = MACHINE_FDT_MAX;
	boot->fdt_addr = (end - MACHINE_FDT_MAX) & ~((2ULL << 20) - 1);
}

/* Everything that comes from the user's files, before KVM is touched:
 * errors here are the user's (exit 2). */
static int assemble(struct machine *m, const struct board *board,
		    struct boot_layout *boot, int *dump_fd,
		    struct vmm_restore *rs)
{
	const struct vm_config *cfg = m->cfg;
	int ret;

	if (cfg->dump_dtb) {
		*dump_fd = open(cfg->dump_dtb,
				O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (*dump_fd < 0) {
			log_err("--dump-dtb: cannot open %s: %s", cfg->dump_dtb,
				strerror(errno));
			return -errno;
		}
	}

	ret = gmem_alloc_pages(&m->ram, board->ram_base, cfg->mem_size,
			       cfg->pages);
	if (ret == -ENOMEM && cfg->pages == GMEM_PAGES_HUGETLB) {
		long avail = gmem_hugepages_available();
		char have[32] = "fewer";

		if (avail >= 0)
			snprintf(have, sizeof(have), "%ld", avail);
		log_err("--hugepages on: %llu MiB of guest RAM needs %llu huge "
			"pages of 2 MiB; the host has %s available (raise "
			"/proc/sys/vm/nr_hugepages, or use --hugepages thp)",
			(unsigned long long)(cfg->mem_size >> 20),
			(unsigned long long)(cfg->mem_size / GMEM_HUGE_PAGE),
			have);
		return ret;
	}
	if (ret) {
		log_err("--memory: cannot allocate %llu MiB of guest RAM: %s",
			(unsigned long long)(cfg->mem_size >> 20),
			strerror(-ret));
		return ret;
	}
	startup_phase("guest RAM mapped");
	if (rs) {
		/* The guest's RAM as it was, before any device opens its
		 * files: nothing to load, no FDT. */
		ret = vmm_restore_ram(rs, m);
		if (ret)
			return ret;
	} else if (cfg->firmware) {
		firmware_layout(m, board, boot);
	} else {
		ret = loader_load(&m->ram, cfg->kernel, cfg->initrd,
				  MACHINE_FDT_MAX, boot);
		if (ret)
			return ret;
		m->initrd_start = boot->initrd_addr;
		m->initrd_size = boot->initrd_size;
		startup_phase("kernel, initrd loaded");
	}
	return machine_create_devices(m);
}

static int install_fdt(struct machine *m, const struct boot_layout *boot,
		       int dump_fd)
{
	static uint8_t fdt[MACHINE_FDT_MAX];
	size_t size;
	int ret;

	ret = machine_build_fdt(m, fdt, sizeof(fdt));
	if (ret)
		return ret;
	size = fdt_totalsize(fdt);
	if (dump_fd >= 0 && write(dump_fd, fdt, size) != (ssize_t)size) {
		log_err("--dump-dtb: cannot write %s: %s", m->cfg->dump_dtb,
			strerror(errno ? errno : EIO));
		return -EIO;
	}
	if (size > boot->fdt_max) {
		log_err("device tree of %zu bytes does not fit the %llu "
			"reserved for it", size,
			(unsigned long long)boot->fdt_max);
		return -ENOSPC;
	}
	return gmem_write(&m->ram, boot->fdt_addr, fdt, size);
}

/* What the filters are pinned to: the VM, every vCPU (a PLIC raises any
 * hart's interrupt), the board's and the interrupt controller's rules. */
static struct rivet_seccomp_ctx seccomp_ctx(struct kvm_vm *vm)
{
	static int fds[CONFIG_MAX_CPUS];

	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		fds[i] = vm->vcpus[i].fd;
	return (struct rivet_seccomp_ctx){
		.vm_fd = vm->vm_fd,
		.vcpu_fd = -1,
		.board = vm->m->cfg->board,
		.irqchip = config_irqchip_name(vm->m->irqchip_mode),
		.vcpu_fds = fds,
		.nr_vcpu_fds = vm->nr_vcpus,
	};
}

/* Each vCPU thread's own allowlist, pinned to its vCPU and the VM, built
 * beforehand on the main thread (vcpu_progs()): building one runs
 * libseccomp, whose allocations would give every vCPU thread a malloc
 * arena of its own (~44 KiB resident each, for nothing afterwards). */
static int vcpu_confine(struct kvm_vm *vm, unsigned int id, int vcpu_fd)
{
	struct rivet_seccomp_prog **progs = vm->hooks.ctx;

	(void)vcpu_fd;
	return id < vm->nr_vcpus && progs[id] ? rivet_seccomp_load(progs[id])
					      : -EINVAL;
}

/* The vCPUs' programs into @progs (vm->nr_vcpus of them).  0 or -errno. */
static int vcpu_progs(struct kvm_vm *vm, struct rivet_seccomp_prog **progs)
{
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct rivet_seccomp_ctx ctx = seccomp_ctx(vm);
		int ret;

		ctx.vcpu_fd = vm->vcpus[i].fd;
		ret = rivet_seccomp_prepare(RIVET_SECCOMP_VCPU, &ctx,
					    &progs[i]);
		if (ret) {
			log_err("cannot build vCPU %u's seccomp filter: %s", i,
				strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/* Each I/O thread's own allowlist: host I/O and interrupt injection,
 * built once (start_io()) and loaded by every I/O thread. */
static int io_confine(void *ctx)
{
	return rivet_seccomp_load(ctx);
}

/* The devices' I/O threads, confined (unless --seccomp off). */
static int start_io(struct kvm_vm *vm)
{
	struct rivet_seccomp_ctx sctx = seccomp_ctx(vm);
	struct rivet_seccomp_prog *prog = NULL;
	int ret;

	if (!vm->m->cfg->seccomp)
		return machine_start_io(vm->m, NULL);
	ret = rivet_seccomp_prepare(RIVET_SECCOMP_IO, &sctx, &prog);
	if (ret) {
		log_err("cannot build the I/O threads' seccomp filter: %s",
			strerror(-ret));
		return ret;
	}
	ret = machine_start_io(vm->m, &(struct io_confine){ io_confine,
							     prog });
	rivet_seccomp_prog_free(prog);
	return ret;
}

static void first_run(struct kvm_vm *vm)
{
	startup_note_first_run();
}

/* The interrupt controller for this host: --irqchip, or for auto the best
 * the host's KVM offers (its in-kernel AIA, else rivet's PLIC), said in
 * one line.  0 or -ENODEV (logged) when the host cannot do the mode. */
static int pick_irqchip(const struct vm_config *cfg, struct kvm_vm *vm,
			enum irqchip_mode *mode)
{
	bool aia = vm_has_aia(vm);

	*mode = cfg->irqchip;
	if (*mode == IRQCHIP_AUTO) {
		*mode = aia ? IRQCHIP_AIA : IRQCHIP_PLIC;
		log_notice("interrupt controller: %s (%s)",
			   config_irqchip_name(*mode),
			   aia ? "KVM's in-kernel AIA"
			       : "this host's KVM has no AIA: rivet's PLIC");
		return 0;
	}
	if (*mode != IRQCHIP_PLIC && !aia) {
		log_err("--irqchip %s: this host's KVM has no in-kernel AIA "
			"(it needs the Ssaia extension and Linux >= 6.5); "
			"--irqchip plic runs without it",
			config_irqchip_name(*mode));
		return -ENODEV;
	}
	return 0;
}

/* Tell the monitor the vCPUs exist (QMP query-cpus-fast). */
static void send_ready(struct kvm_vm *vm, struct vmm_session *st)
{
	struct ctl_msg m = { .type = CTL_READY, .arg = st->start_paused };

	vm_wait_vcpus(vm);
	m.nr = vm->nr_vcpus;
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		m.tids[i] = vm->vcpus[i].tid;
	ctl_send(st, &m);
}

/* --daemonize: the VM is set up; the waiting caller can go, and nothing
 * is written to its terminal any more. */
static void detached(struct vmm_session *st)
{
	if (write(st->ready_fd, "R", 1) != 1)
		log_warn("cannot tell the caller the VM is up: %s",
			 strerror(errno));
	fflush(NULL);
	dup2(st->null_fd, STDERR_FILENO);
	close(st->ready_fd);
	st->ready_fd = -1;
}

/* Tell the monitor why this boot ends (QMP SHUTDOWN, RESET, ...). */
static void send_exiting(struct vmm_session *st, enum vm_exit why)
{
	struct ctl_msg m = { .type = CTL_EXITING };

	switch (why) {
	case VM_EXIT_POWEROFF:
		m.arg = CTL_REASON_GUEST_SHUTDOWN;
		break;
	case VM_EXIT_REBOOT:
		m.arg = st->ctl_reason >= 0 ? st->ctl_reason
					    : CTL_REASON_GUEST_RESET;
		break;
	case VM_EXIT_PANIC:
		m.arg = CTL_REASON_GUEST_PANIC;
		break;
	case VM_EXIT_STOP:
		m.arg = st->ctl_reason >= 0 ? st->ctl_reason
			: st->stop_signal ? CTL_REASON_HOST_SIGNAL
					  : CTL_REASON_HOST_UI;
		break;
	default:
		m.arg = CTL_REASON_HOST_ERROR;
		break;
	}
	ctl_send(st, &m);
}

/* One boot of the guest, from nothing to the end of the VM. */
int vmm_run(const struct vm_config *cfg, struct vmm_session *st)
{
	const struct board *board = board_find(cfg->board);
	struct machine m;
	struct boot_layout boot;
	struct kvm_vm vm;
	struct rivet_seccomp_prog *vprogs[CONFIG_MAX_CPUS] = { NULL };
	struct vmm_restore restore, *rs = NULL;
	enum vm_exit why = VM_EXIT_ERROR;
	enum irqchip_mode mode;
	int status = RIVET_EXIT_USAGE, dump_fd = -1;

	memset(&m, 0, sizeof(m));
	memset(&restore, 0, sizeof(restore));
	restore.state_fd = restore.mem_fd = -1;
	startup_phase("VM process");
	/* A snapshot then skips the pages the guest never touched; under
	 * --jail (no /proc) it reads them all. */
	if (gmem_pagemap_open())
		log_debug("no /proc/self/pagemap: a snapshot reads all of RAM");
	if (st->incoming) {
		/* Checked before anything is made of it. */
		if (vmm_restore_open(&restore, st->incoming)) {
			status = RIVET_EXIT_ERROR;
			goto out;
		}
		rs = &restore;
	}
	if (vm_open(&vm) || pick_irqchip(cfg, &vm, &mode)) {
		status = RIVET_EXIT_ERROR;
		goto out;
	}
	machine_init(&m, cfg, board, mode);
	if (rs && vmm_restore_check(rs, &m, false)) {
		status = RIVET_EXIT_ERROR;
		goto out;
	}
	if (assemble(&m, board, &boot, &dump_fd, rs)) {
		if (rs && rs->failed)
			status = RIVET_EXIT_ERROR;	/* the snapshot's */
		goto out;
	}
	startup_phase("devices");
	bus_seal(&m.bus);
	status = RIVET_EXIT_ERROR;
	if (vm_map_ram(&vm, &m) || vm_create_vcpus(&vm) ||
	    vm_create_irqchip(&vm, cfg->aia_mode))
		goto out;
	startup_phase("KVM VM, vCPUs, irqchip");
	if (rs && vmm_restore_check(rs, &m, true))
		goto out;
	if (board->finalize && board->finalize(&m))
		goto out;
	/* Before the I/O threads start (the devices' queues as they were)
	 * and before any vCPU runs. */
	if (rs) {
		if (vmm_restore_state(rs, &vm))
			goto out;
		startup_phase("snapshot restored");
		vmm_restore_close(rs);
		/* The devices wait for the vCPUs (--paused: for cont). */
		machine_quiesce_io(&m);
	}
	if (start_io(&vm))
		goto out;
	startup_phase("I/O threads");
	if (!rs && (install_fdt(&m, &boot, dump_fd) ||
		    vm_setup_boot(&vm, boot.kernel_addr, boot.fdt_addr)))
		goto out;
	if (!rs)
		startup_phase("FDT, boot registers");
	if (dump_fd >= 0) {
		close(dump_fd);
		dump_fd = -1;
	}
	if (cfg->seccomp && vcpu_progs(&vm, vprogs))
		goto out;
	vm.hooks = (struct vm_hooks){
		.vcpu_confine = cfg->seccomp ? vcpu_confine : NULL,
		.first_run = first_run,
		.ctx = vprogs,
	};
	if (vm_start(&vm) == 0) {
		/* After the threads exist (a filtered thread cannot create
		 * any) and before the guest's first instruction. */
		struct rivet_seccomp_ctx sctx = seccomp_ctx(&vm);

		/* Set up: what remains is this thread's filter (after which
		 * it could not redirect its output). */
		if (st->ready_fd >= 0)
			detached(st);
		if (cfg->seccomp &&
		    rivet_seccomp_install(RIVET_SECCOMP_MAIN, &sctx) != 0) {
			log_err("cannot install the seccomp filter");
			vm_request_exit(&vm, VM_EXIT_ERROR);
		}
		startup_phase("threads filtered");
		if (!st->start_paused) {
			machine_resume_io(&m);
			vm_open_gate(&vm);
		}
		if (st->ctl_fd >= 0)
			send_ready(&vm, st);
		main_loop(&vm, st);
	}
	why = vm_stop(&vm);
	machine_stop_io(&m);
	if (cfg->stats) {
		fprintf(stderr, "rivet: stats: interrupt controller: %s%s\n",
			config_irqchip_name(m.irqchip_mode),
			cfg->irqchip == IRQCHIP_AUTO ? " (auto)" : "");
		startup_print_phases();
		vm_print_stats(&vm);
	}
	switch (why) {
	case VM_EXIT_POWEROFF:
		status = RIVET_EXIT_OK;
		break;
	case VM_EXIT_REBOOT:
		status = RIVET_EXIT_REBOOT;
		break;
	case VM_EXIT_STOP:
		status = st->stop_signal ? RIVET_EXIT_SIGNAL + st->stop_signal
					 : RIVET_EXIT_OK;
		break;
	case VM_EXIT_PANIC:	/* the guest's crash: exit status 1 */
	default:
		status = RIVET_EXIT_ERROR;
		break;
	}
	if (st->ctl_fd >= 0)
		send_exiting(st, why);
out:
	vmm_restore_close(&restore);
	if (dump_fd >= 0)
		close(dump_fd);
	machine_stop_io(&m);	/* they inject into the VM */
	vm_destroy(&vm);	/* the VM before the memory it maps */
	machine_free(&m);
	gmem_pagemap_close();
	for (unsigned int i = 0; i < CONFIG_MAX_CPUS; i++)
		rivet_seccomp_prog_free(vprogs[i]);
	return status;
}

