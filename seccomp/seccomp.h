/* SPDX-License-Identifier: MIT */
/* Per-thread seccomp allowlists, one per thread role (docs/seccomp.md).
 *
 * Each thread installs its own filter before it handles anything a guest
 * controls; filters are built by syscall *name* with libseccomp for the
 * native architecture, so the same tables serve riscv64 (rivet) and x86_64
 * (the unit tests).  Anything not on the list raises SIGSYS; the handler
 * installed here writes
 *     rivet: seccomp: <role> thread made forbidden syscall <name> (<nr>)
 * to stderr and ends the whole process with RIVET_EXIT_SECCOMP. */
#ifndef RIVET_SECCOMP_H
#define RIVET_SECCOMP_H

#include <stdio.h>

#include "core/exit.h"	/* RIVET_EXIT_SECCOMP */

enum rivet_seccomp_role {
	RIVET_SECCOMP_MONITOR,	/* the parent process: waits, forwards signals */
	RIVET_SECCOMP_MAIN,	/* a VM process's event loop (main thread) */
	RIVET_SECCOMP_VCPU,	/* a vCPU thread */
	RIVET_SECCOMP_IO,	/* an I/O thread (virtio queues, pool) */
	RIVET_SECCOMP_QMP,	/* the monitor's QMP server thread */
	RIVET_SECCOMP_CONSOLE,	/* the monitor's --serial relay thread */
};
#define RIVET_SECCOMP_NR_ROLES 6

/* What argument rules pin to file descriptors.  Any fd < 0 (or a NULL
 * context) leaves that rule unpinned: the request number is still exact. */
struct rivet_seccomp_ctx {
	int vm_fd;	/* KVM_IRQ_LINE only on this fd (main, vcpu) */
	int vcpu_fd;	/* KVM_RUN only on this fd (vcpu) */
	const char *board;	/* adds the board's rules; NULL: microvm */
	/* Adds the interrupt controller's rules: "aia" (or NULL), "split",
	 * "plic" (config_irqchip_name()). */
	const char *irqchip;
	/* plic: KVM_INTERRUPT only on these fds (every vCPU's). */
	const int *vcpu_fds;
	unsigned int nr_vcpu_fds;
};

/* Install @role's filter on the calling thread only (threads created later
 * inherit it).  Also installs the SIGSYS handler (process-wide), unblocks
 * SIGSYS in this thread, sets PR_SET_NO_NEW_PRIVS and turns off malloc
 * trimming (see docs/seccomp.md: a first arena trim reads /proc).  Returns 0
 * or -errno; on failure no filter is installed. */
int rivet_seccomp_install(enum rivet_seccomp_role role,
			  const struct rivet_seccomp_ctx *ctx);

/* The same in two steps, for many threads with one filter (the I/O
 * threads): build @role's program once (any thread, no filter needed),
 * then load it on each thread.  0 or -errno. */
struct rivet_seccomp_prog;
int rivet_seccomp_prepare(enum rivet_seccomp_role role,
			  const struct rivet_seccomp_ctx *ctx,
			  struct rivet_seccomp_prog **out);
int rivet_seccomp_load(const struct rivet_seccomp_prog *p);
void rivet_seccomp_prog_free(struct rivet_seccomp_prog *p);

/* Print @role's allowlist for @board and @irqchip (NULL: aia) (names,
 * argument rules, reasons) in the format of `rivet seccomp`.  0, or
 * -EINVAL for an unknown board, interrupt controller or role. */
int rivet_seccomp_print(FILE *out, const char *board, const char *irqchip,
			enum rivet_seccomp_role role);

/* "monitor", "main", "vcpu", "io", "qmp", "console" -> role; 0 or -EINVAL. */
int rivet_seccomp_role_parse(const char *name, enum rivet_seccomp_role *out);
/* The role's name, or NULL for a bad value. */
const char *rivet_seccomp_role_name(enum rivet_seccomp_role role);

/* Distinct syscalls in @role's list for @board and @irqchip (NULL: aia;
 * the budget figure), or -EINVAL. */
int rivet_seccomp_count(const char *board, const char *irqchip,
			enum rivet_seccomp_role role);
/* Syscall name of rule @i of @role's list for @board and @irqchip (NULL:
 * aia) as `rivet seccomp` prints it (several rules may name one syscall,
 * e.g. one per ioctl request), or NULL past the last rule. */
const char *rivet_seccomp_rule_syscall(const char *board,
				       const char *irqchip,
				       enum rivet_seccomp_role role,
				       unsigned int i);

#endif
