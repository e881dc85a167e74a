// SPDX-License-Identifier: MIT
/* The allowlists: one table per thread role, each rule with the reason it
 * exists (printed by `rivet seccomp`, listed in docs/seccomp.md).
 *
 * The lists are worked out for rivet's own code paths over static glibc
 * 2.41 on riscv64, which uses the generic syscall table: ppoll (no poll),
 * openat (no open), clone/clone3, preadv/pwritev.  Names only, never
 * numbers: libseccomp maps them for the native architecture, and the unit
 * tests check each name is a real riscv64 syscall.
 *
 * Budgets for the microvm board (Firecracker's x86_64 figures): vcpu at most
 * 27 distinct syscalls, main at most 50; the monitor is kept minimal, and
 * an I/O thread (which never runs the guest) within 20. */
#include "seccomp/seccomp.h"

#include <errno.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/if_tun.h>
#include <linux/io_uring.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <linux/vhost.h>
#include <malloc.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The request numbers the rules name.  They are the asm-generic encodings,
 * identical on riscv64 and x86_64; both builds check it here. */
_Static_assert(KVM_RUN == 0xae80, "KVM_RUN");
_Static_assert(KVM_IRQ_LINE == 0x4008ae61, "KVM_IRQ_LINE");
_Static_assert(KVM_INTERRUPT == 0x4004ae86, "KVM_INTERRUPT");
_Static_assert(KVM_SIGNAL_MSI == 0x4020aea5, "KVM_SIGNAL_MSI");
_Static_assert(KVM_IOEVENTFD == 0x4040ae79, "KVM_IOEVENTFD");
_Static_assert(KVM_IRQFD == 0x4020ae76, "KVM_IRQFD");
_Static_assert(KVM_SET_GSI_ROUTING == 0x4008ae6a, "KVM_SET_GSI_ROUTING");
_Static_assert(TCGETS == 0x5401, "TCGETS");
_Static_assert(TCSETS == 0x5402, "TCSETS");

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1	/* si_code of a seccomp SIGSYS (kernel ABI) */
#endif

enum arg_rule {
	ARG_NONE,	/* any arguments */
	ARG_IOCTL,	/* request (a1) == value; fd (a0) pinned per .fd */
	ARG_NO_EXEC,	/* (prot (a2) & PROT_EXEC) == 0 */
	ARG_KILL_SIG,	/* kill: sig (a1) == value */
	ARG_TGKILL,	/* tgkill: tgid (a0) == own pid, sig (a2) == value */
	ARG_OP,		/* opcode (a1) == value */
	ARG_WHENCE,	/* lseek: whence (a2) == value */
};

enum fd_pin {
	FD_ANY,
	FD_STDIN,	/* fd 0 */
	FD_VM,		/* ctx->vm_fd */
	FD_VCPU,	/* ctx->vcpu_fd */
	FD_VCPUS,	/* each of ctx->vcpu_fds: one rule per vCPU */
};

struct rule {
	const char *sys;
	enum arg_rule arg;
	enum fd_pin fd;
	unsigned long value;
	const char *value_name;
	const char *why;
};

#define ANY(s, w) { .sys = (s), .why = (w) }
#define NOEXEC(s, w) { .sys = (s), .arg = ARG_NO_EXEC, .why = (w) }
#define IOCTL(pin, req, w)                                               \
	{ .sys = "ioctl", .arg = ARG_IOCTL, .fd = (pin), .value = (req),  \
	  .value_name = #req, .why = (w) }
#define KILL(sig, w)                                                     \
	{ .sys = "kill", .arg = ARG_KILL_SIG, .value = (sig),             \
	  .value_name = #sig, .why = (w) }
#define OP(s, op, w)                                                     \
	{ .sys = (s), .arg = ARG_OP, .value = (op), .value_name = #op,    \
	  .why = (w) }
#define WHENCE(wh, w)                                                     \
	{ .sys = "lseek", .arg = ARG_WHENCE, .value = (wh),               \
	  .value_name = #wh, .why = (w) }
#define TGKILL(sig, w)                                                   \
	{ .sys = "tgkill", .arg = ARG_TGKILL, .value = (sig),             \
	  .value_name = #sig, .why = (w) }

/* What every worker thread (vCPU, I/O) needs from glibc: malloc's
 * anonymous memory, never executable, and the end of the thread. */
#define THREAD_MEMORY_RULES(thread)                                         \
	ANY("rt_sigprocmask", "glibc blocks all signals while a thread "     \
			      "exits"),                                     \
	NOEXEC("mmap", "malloc: thread arena and large chunks; never "       \
		       "executable"),                                       \
	NOEXEC("mprotect", "malloc: growing the thread's arena; never "      \
			   "executable"),                                   \
	ANY("munmap", "free of large chunks"),                               \
	ANY("madvise", "glibc releases the stack of an exiting thread "      \
		       "(MADV_DONTNEED)"),                                  \
	ANY("exit", "the " thread " thread ends (after the VM stopped)"),    \
	ANY("exit_group", "_exit from the SIGSYS handler and fatal errors")

/* virtio-net's control of its TAP, from whichever thread serves the
 * driver's request (device reset and the control queue: a vCPU; the
 * control queue's notify without MQ: the I/O thread of pair 1).  They
 * act on the TAP only: the request numbers mean nothing to KVM's fds. */
#define VNET_TAP_RULES                                                      \
	IOCTL(FD_ANY, TUNSETOFFLOAD,                                         \
	      "virtio-net: the offloads the guest takes changed "            \
	      "(negotiation, GUEST_OFFLOADS command, reset): tell the TAP"), \
	IOCTL(FD_ANY, TUNSETQUEUE,                                           \
	      "virtio-net: the guest changed its queue pairs (MQ command, "  \
	      "reset): attach or detach the TAP's queues")

/* vhost-net (--net vhost=): a vCPU hands a queue pair's rings to the
 * kernel when the driver is ready (DRIVER_OK, the MQ command) and takes
 * them back at a device reset.  Opening, the memory table and the
 * eventfds are done before any filter; closing stops it at the end. */
#define VNET_VHOST_RULES                                                     \
	IOCTL(FD_ANY, VHOST_SET_FEATURES,                                     \
	      "vhost-net: the features the driver took"),                     \
	IOCTL(FD_ANY, VHOST_SET_VRING_NUM, "vhost-net: a ring's size"),       \
	IOCTL(FD_ANY, VHOST_SET_VRING_ADDR,                                   \
	      "vhost-net: a ring's host addresses (checked at enable)"),      \
	IOCTL(FD_ANY, VHOST_SET_VRING_BASE, "vhost-net: a ring's next index"),\
	IOCTL(FD_ANY, VHOST_GET_VRING_BASE,                                   \
	      "vhost-net: a stopped ring's next index"),                      \
	IOCTL(FD_ANY, VHOST_NET_SET_BACKEND,                                  \
	      "vhost-net: start or stop a ring on its TAP queue")

/* A vCPU thread: KVM_RUN and the exits it serves itself (MMIO to the
 * devices, SBI DBCN, the seed CSR).  17 syscalls (budget 27); the
 * interrupt controller's request numbers are in the irqchip lists. */
static const struct rule vcpu_rules[] = {
	IOCTL(FD_VCPU, KVM_RUN, "run the guest: the vCPU loop"),
	IOCTL(FD_VCPU, KVM_GET_ONE_REG,
	      "QMP stop: vCPU 0 reads the guest's timer time as it parks; "
	      "after a restore: the timer's compare, and sip until the "
	      "guest took a software interrupt pending at the snapshot"),
	IOCTL(FD_VCPU, KVM_SET_ONE_REG,
	      "QMP cont: vCPU 0 writes it back, so the guest's clock stood "
	      "still while paused"),
	VNET_TAP_RULES,
	VNET_VHOST_RULES,
	ANY("write", "guest console output (UART, SBI DBCN) to stdout, log "
		     "lines to stderr, eventfd wake-ups (VM end, console room, "
		     "kicks of virtio I/O threads)"),
	ANY("preadv", "virtio-blk reads (one call per scattered request)"),
	ANY("pwritev", "virtio-blk writes (one call per scattered request), "
		       "CFI flash writes reaching --firmware-vars"),
	ANY("fdatasync", "virtio-blk flush: acknowledged writes are durable"),
	ANY("getrandom", "virtio-rng and the Zkr seed CSR"),
	ANY("futex", "device and log mutexes under contention, glibc locks"),
	ANY("clock_gettime", "log rate limiting (when the vDSO falls back to "
			     "the syscall)"),
	ANY("rt_sigreturn", "return from the SIGUSR1 kick that ends KVM_RUN"),
	ANY("brk", "malloc falling back to the main arena"),
	THREAD_MEMORY_RULES("vCPU"),
};

/* An I/O thread: waits for its queue's kick, moves the guest's data to and
 * from the disk, and raises the completion interrupt (the irqchip lists
 * add the request numbers).  Never KVM_RUN, never opens anything. */
static const struct rule io_rules[] = {
	ANY("ppoll", "wait for the queue's kick eventfd (glibc's poll()), "
		     "and a virtio-net pair's TAP queue"),
	ANY("read", "consume the kick eventfd's count; virtio-net frames "
		    "from the TAP"),
	ANY("write", "log lines to stderr; re-kick a queue whose requests "
		     "waited for a free slot; virtio-net frames to the TAP"),
	VNET_TAP_RULES,
	ANY("preadv", "virtio-blk reads (one call per scattered request)"),
	ANY("pwritev", "virtio-blk writes (one call per scattered request)"),
	ANY("fdatasync", "virtio-blk flush: acknowledged writes are durable"),
	ANY("io_uring_enter", "io=uring: submit to the disk's ring, built "
			      "before any filter and restricted to READV, "
			      "WRITEV and FSYNC on the disk's fixed file"),
	ANY("futex", "the device lock, the pool's job queue"),
	ANY("clock_gettime", "log rate limiting (when the vDSO falls back to "
			     "the syscall)"),
	THREAD_MEMORY_RULES("I/O"),
};

/* A VM process's main thread once the vCPUs run: the event loop (console
 * input, signals, the VM-end eventfd), the kick and join of the vCPUs,
 * teardown and _exit; a snapshot's writes.  23 syscalls with the irqchip's
 * ioctl (budget 50). */
static const struct rule main_rules[] = {
	ANY("ppoll", "the event loop: glibc's poll() on riscv64"),
	ANY("read", "console input (stdin), the signalfd, eventfds"),
	ANY("write", "log lines to stderr, eventfd write (VM end), fflush "
		     "before _exit"),
	ANY("futex", "device and log mutexes, pthread_join, the exit lock "
		     "pthread_kill takes"),
	ANY("getpid", "pthread_kill: tgkill names the process"),
	TGKILL(SIGUSR1, "kick a vCPU thread out of KVM_RUN (pthread_kill): "
			"pause, end, a restored vCPU's pending software "
			"interrupt; own process only"),
	ANY("rt_sigprocmask", "pthread_kill blocks signals around the exit "
			      "lock"),
	ANY("rt_sigreturn", "return from the SIGUSR1 handler if the process "
			    "(not a vCPU) is sent SIGUSR1"),
	ANY("clock_gettime", "log rate limiting, when a restored vCPU's next "
			     "kick is due (when the vDSO falls back to the "
			     "syscall)"),
	ANY("close", "teardown: device, vCPU, VM and KVM descriptors"),
	ANY("munmap", "teardown: guest RAM, kvm_run areas, thread stacks "
		      "after join, large chunks"),
	NOEXEC("mmap", "malloc of large chunks; never executable"),
	ANY("madvise", "free of chunks from a vCPU thread's arena"),
	ANY("brk", "malloc in the main arena"),
	ANY("exit_group", "_exit at the end of the VM process; the SIGSYS "
			  "handler"),
	ANY("recvmsg", "the monitor's requests on the control channel, with "
		       "a snapshot's two files (SCM_RIGHTS)"),
	ANY("pwritev", "snapshot: the state, and guest RAM's pages that "
		       "hold data at their offsets in the memory file; "
		       "virtio-blk writes the drain serves"),
	ANY("preadv", "snapshot: virtio-blk reads the drain serves (requests "
		      "the driver made available that no I/O thread took); "
		      "the page map (/proc/self/pagemap, opened before the "
		      "filter) says which pages of RAM to read"),
	ANY("ftruncate", "snapshot: the memory file sized to guest RAM "
			 "(holes where RAM is zero)"),
	ANY("fdatasync", "snapshot: both files on the disk before the "
			 "monitor puts them in place; virtio-blk flushes the "
			 "drain serves"),
	WHENCE(SEEK_DATA, "snapshot of a restored VM: where the memory file "
			  "it was restored from has data (pages untouched "
			  "since hold that)"),
	WHENCE(SEEK_HOLE, "snapshot of a restored VM: where that data ends"),
	IOCTL(FD_VCPUS, KVM_GET_REG_LIST,
	      "snapshot: the registers each vCPU has; vCPU fds only"),
	IOCTL(FD_VCPUS, KVM_GET_ONE_REG,
	      "snapshot: each register of a parked vCPU; vCPU fds only"),
	IOCTL(FD_VCPUS, KVM_GET_MP_STATE,
	      "snapshot: whether a vCPU is stopped (SBI HSM); vCPU fds only"),
	/* A snapshot stops vhost-net (its ring indices) and hands the rings
	 * back afterwards. */
	VNET_VHOST_RULES,
	OP("io_uring_register", IORING_UNREGISTER_FILES,
	   "io=uring at the VM's end: drop the ring's hold on the disk file "
	   "now, so its lock is free for the next boot (the only register "
	   "operation the rings allow)"),
};

/* A process that only waits for its VM process, once it will fork no more
 * (a forked child inherits the filter, so it goes on after the last fork;
 * see docs/seccomp.md): the monitor, or the jail's waiter outside a new PID
 * namespace.  Wait, forward stop signals, restore the terminal, exit.
 * 12 syscalls. */
static const struct rule monitor_rules[] = {
	ANY("wait4", "waitpid for the VM process"),
	ANY("read", "the signalfd (SIGINT, SIGTERM, SIGHUP, SIGCHLD)"),
	ANY("rt_sigtimedwait", "sigwaitinfo: the PID-namespace waiter's "
			       "signals (--new-pidns)"),
	ANY("rt_sigprocmask", "the PID-namespace waiter restores its signal "
			      "mask"),
	KILL(SIGINT, "forward a stop signal to the VM process"),
	KILL(SIGTERM, "forward a stop signal to the VM process"),
	KILL(SIGHUP, "forward a stop signal to the VM process"),
	IOCTL(FD_STDIN, TCGETS, "tcsetattr reads the terminal back (glibc "
				"2.41); fd 0 only"),
	IOCTL(FD_STDIN, TCSETS, "restore the terminal mode (tcsetattr "
				"TCSANOW); fd 0 only"),
	ANY("write", "log lines to stderr, fflush of stdout"),
	ANY("close", "the signalfd at the end"),
	ANY("brk", "malloc/free in the main arena"),
	NOEXEC("mmap", "malloc of large chunks; never executable"),
	ANY("munmap", "free of large chunks"),
	ANY("exit_group", "exit with the VM's status; the SIGSYS handler"),
};

/* The monitor's QMP server thread (src/qmp/server.c): clients on UNIX
 * sockets made before its filter, the VM process's channel, the monitor's
 * socketpair.  It opens, creates and executes nothing; a client's JSON is
 * parsed here, with no guest memory and no KVM descriptor in the process
 * to reach.  16 syscalls. */
static const struct rule qmp_rules[] = {
	ANY("ppoll", "wait for clients, the VM process and the monitor"),
	ANY("accept4", "a new client on a --qmp socket (bound before the "
		       "filter)"),
	ANY("read", "client commands, the VM process's answers, the "
		    "monitor's messages"),
	ANY("write", "replies and events, requests to the VM process, "
		     "decisions to the monitor, log lines to stderr"),
	ANY("close", "a client that left or was dropped; a VM process's "
		     "channel after its end; its copies of a snapshot's files "
		     "once sent"),
	ANY("sendmsg", "migrate: hand the VM process the snapshot's two "
		       "files (SCM_RIGHTS), which the monitor's main thread "
		       "created"),
	ANY("futex", "the log mutex, glibc locks"),
	ANY("clock_gettime", "event timestamps (when the vDSO falls back to "
			     "the syscall)"),
	ANY("brk", "malloc in the main arena"),
	THREAD_MEMORY_RULES("QMP"),
};

/* The monitor's --serial relay thread (src/core/serial_relay.c): bytes
 * between the VM processes' console socketpair and a pty master or a UNIX
 * socket client, all opened before its filter.  It opens, creates and
 * parses nothing.  14 syscalls. */
static const struct rule console_rules[] = {
	ANY("ppoll", "wait for guest output, the endpoint and the stop event"),
	ANY("accept4", "the next client on the --serial socket (bound before "
		       "the filter)"),
	ANY("read", "guest output, the endpoint's input, the stop event"),
	ANY("write", "guest output to the endpoint, input to the VM, log "
		     "lines to stderr"),
	ANY("close", "a client that left"),
	ANY("futex", "the log mutex, glibc locks"),
	ANY("clock_gettime", "log timestamps (when the vDSO falls back to "
			     "the syscall)"),
	THREAD_MEMORY_RULES("console"),
};

#define NRULES(t) (sizeof(t) / sizeof((t)[0]))

/* The virt board's additions (its devices are microvm's plus CFI flash,
 * fw_cfg and virtio-pci).  ioctl is already on both lists: these add
 * request numbers, not syscalls. */
static const struct rule virt_vcpu_rules[] = {
	IOCTL(FD_VM, KVM_SET_USER_MEMORY_REGION,
	      "virt: a flash bank entering/leaving read-array mode gets/loses "
	      "its read-only memory slot (firmware executes in place)"),
	IOCTL(FD_VM, KVM_IOEVENTFD,
	      "virt: the guest moved a virtio-pci BAR: its queue-notify "
	      "ioeventfds move with it"),
};

/* virtio-pci MSI-X goes to KVM's IMSIC: aia and split (whose own rule
 * already has the request); a PLIC guest has no MSIs. */
/* KVM irqfd: vhost-net's call eventfds bound to their queues' MSI-X
 * messages while these may go out, rebound as the guest changes them. */
#define VIRT_IRQFD_RULES                                                    \
	IOCTL(FD_VM, KVM_SET_GSI_ROUTING,                                    \
	      "virt: the guest changed an MSI-X vector a vhost-net queue "   \
	      "uses (table, mask, enable, bus mastering): its route"),       \
	IOCTL(FD_VM, KVM_IRQFD,                                              \
	      "virt: bind or unbind that queue's call eventfd (irqfd)")

static const struct rule virt_aia_vcpu_rules[] = {
	IOCTL(FD_VM, KVM_SIGNAL_MSI,
	      "virt: virtio-pci MSI-X messages raised while serving MMIO"),
	VIRT_IRQFD_RULES,
};

static const struct rule virt_split_vcpu_rules[] = {
	VIRT_IRQFD_RULES,
};

static const struct rule virt_aia_main_rules[] = {
	IOCTL(FD_VM, KVM_SIGNAL_MSI,
	      "virt: QMP system_powerdown: the power button's (virtio-input) "
	      "MSI-X message"),
};

static const struct rule virt_aia_io_rules[] = {
	IOCTL(FD_VM, KVM_SIGNAL_MSI,
	      "virt: virtio-pci MSI-X for a completed request"),
};

/* Each interrupt controller's requests (--irqchip): how a device's
 * interrupt reaches the guest.  A vCPU thread raises them while serving
 * MMIO (UART, virtio), the main thread for console input, an I/O thread
 * for a completed request or a received frame. */
static const struct rule aia_rules[] = {
	IOCTL(FD_VM, KVM_IRQ_LINE,
	      "aia: a device's wired interrupt into KVM's APLIC"),
};
/* The main thread saving the in-kernel AIA (aia and split): the only
 * device descriptor the VM process has is the AIA's. */
#define AIA_SAVE_RULE                                                       \
	IOCTL(FD_ANY, KVM_GET_DEVICE_ATTR,                                   \
	      "snapshot: the in-kernel AIA's state (APLIC registers, each "  \
	      "IMSIC file); the AIA device's is the only device fd")
static const struct rule aia_main_rules[] = {
	IOCTL(FD_VM, KVM_IRQ_LINE,
	      "aia: a device's wired interrupt into KVM's APLIC"),
	AIA_SAVE_RULE,
};

static const struct rule split_rules[] = {
	IOCTL(FD_VM, KVM_SIGNAL_MSI,
	      "split: rivet's APLIC sends a device's interrupt as an MSI to "
	      "KVM's IMSIC"),
};
static const struct rule split_main_rules[] = {
	IOCTL(FD_VM, KVM_SIGNAL_MSI,
	      "split: rivet's APLIC sends a device's interrupt as an MSI to "
	      "KVM's IMSIC"),
	AIA_SAVE_RULE,
};

static const struct rule plic_rules[] = {
	IOCTL(FD_VCPUS, KVM_INTERRUPT,
	      "plic: rivet's PLIC raises/lowers a hart's external interrupt; "
	      "vCPU fds only"),
};

/* Rules added to a role's list for one board, one interrupt controller or
 * one board with one interrupt controller (NULL: any; never both). */
struct extra {
	const char *board;
	const char *irqchip;
	enum rivet_seccomp_role role;
	const struct rule *rules;
	unsigned int nr_rules;
};

#define EXTRA(b, i, r, t) { (b), (i), (r), (t), NRULES(t) }
#define MAX_EXTRAS 3	/* board, irqchip, board with irqchip */

static const struct extra extras[] = {
	EXTRA("virt", NULL, RIVET_SECCOMP_VCPU, virt_vcpu_rules),
	EXTRA("virt", "aia", RIVET_SECCOMP_VCPU, virt_aia_vcpu_rules),
	EXTRA("virt", "split", RIVET_SECCOMP_VCPU, virt_split_vcpu_rules),
	EXTRA(NULL, "aia", RIVET_SECCOMP_VCPU, aia_rules),
	EXTRA(NULL, "aia", RIVET_SECCOMP_MAIN, aia_main_rules),
	EXTRA("virt", "aia", RIVET_SECCOMP_IO, virt_aia_io_rules),
	EXTRA("virt", "aia", RIVET_SECCOMP_MAIN, virt_aia_main_rules),
	EXTRA(NULL, "aia", RIVET_SECCOMP_IO, aia_rules),
	EXTRA(NULL, "split", RIVET_SECCOMP_IO, split_rules),
	EXTRA(NULL, "plic", RIVET_SECCOMP_IO, plic_rules),
	EXTRA(NULL, "split", RIVET_SECCOMP_VCPU, split_rules),
	EXTRA(NULL, "split", RIVET_SECCOMP_MAIN, split_main_rules),
	EXTRA(NULL, "plic", RIVET_SECCOMP_VCPU, plic_rules),
	EXTRA(NULL, "plic", RIVET_SECCOMP_MAIN, plic_rules),
};

static const char *const irqchips[] = { "aia", "split", "plic" };

/* The lists that apply to @board, @irqchip (NULL: aia) and @role, into
 * @out; how many. */
static unsigned int extras_for(const char *board, const char *irqchip,
			       enum rivet_seccomp_role role,
			       const struct extra *out[MAX_EXTRAS])
{
	unsigned int n = 0;

	if (!irqchip)
		irqchip = "aia";
	for (size_t i = 0; i < NRULES(extras) && n < MAX_EXTRAS; i++) {
		const struct extra *x = &extras[i];

		if (x->role != role)
			continue;
		if (x->board && (!board || strcmp(x->board, board)))
			continue;
		if (x->irqchip && strcmp(x->irqchip, irqchip))
			continue;
		out[n++] = x;
	}
	return n;
}

static const struct role_def {
	const char *name;
	const struct rule *rules;
	unsigned int nr_rules;
} roles[RIVET_SECCOMP_NR_ROLES] = {
	[RIVET_SECCOMP_MONITOR] = { "monitor", monitor_rules,
				    NRULES(monitor_rules) },
	[RIVET_SECCOMP_MAIN] = { "main", main_rules, NRULES(main_rules) },
	[RIVET_SECCOMP_VCPU] = { "vcpu", vcpu_rules, NRULES(vcpu_rules) },
	[RIVET_SECCOMP_IO] = { "io", io_rules, NRULES(io_rules) },
	[RIVET_SECCOMP_QMP] = { "qmp", qmp_rules, NRULES(qmp_rules) },
	[RIVET_SECCOMP_CONSOLE] = { "console", console_rules,
				    NRULES(console_rules) },
};

/* Boards with an audited allowlist (the same for every role's device set
 * today; a board with other devices gets its own review). */
static const char *const boards[] = { "microvm", "virt" };

static const struct role_def *role_def(enum rivet_seccomp_role role)
{
	if ((unsigned int)role >= RIVET_SECCOMP_NR_ROLES)
		return NULL;
	return &roles[role];
}

const char *rivet_seccomp_role_name(enum rivet_seccomp_role role)
{
	const struct role_def *rd = role_def(role);

	return rd ? rd->name : NULL;
}

int rivet_seccomp_role_parse(const char *name, enum rivet_seccomp_role *out)
{
	for (unsigned int i = 0; name && i < RIVET_SECCOMP_NR_ROLES; i++) {
		if (!strcmp(name, roles[i].name)) {
			*out = (enum rivet_seccomp_role)i;
			return 0;
		}
	}
	return -EINVAL;
}


static bool same_rule(const struct rule *a, const struct rule *b)
{
	return !strcmp(a->sys, b->sys) && a->arg == b->arg && a->fd == b->fd &&
	       a->value == b->value;
}

/* Rule @i of the whole list for @rd and @x[0..@nx): the role's own rules,
 * then each extra's; NULL past the end. */
static const struct rule *nth_rule(const struct role_def *rd,
				   const struct extra *const *x,
				   unsigned int nx, unsigned int i)
{
	if (i < rd->nr_rules)
		return &rd->rules[i];
	i -= rd->nr_rules;
	for (unsigned int k = 0; k < nx; k++) {
		if (i < x[k]->nr_rules)
			return &x[k]->rules[i];
		i -= x[k]->nr_rules;
	}
	return NULL;
}

/* Is rule @i the first of its kind (@same) among rules 0..@i? */
static bool first_of(const struct role_def *rd, const struct extra *const *x,
		     unsigned int nx, unsigned int i,
		     bool (*same)(const struct rule *, const struct rule *))
{
	const struct rule *r = nth_rule(rd, x, nx, i);

	for (unsigned int j = 0; j < i; j++)
		if (same(nth_rule(rd, x, nx, j), r))
			return false;
	return true;
}

static bool same_syscall(const struct rule *a, const struct rule *b)
{
	return !strcmp(a->sys, b->sys);
}

static bool known_irqchip(const char *irqchip)
{
	for (size_t i = 0; i < NRULES(irqchips); i++)
		if (!irqchip || !strcmp(irqchip, irqchips[i]))
			return true;
	return false;
}

const char *rivet_seccomp_rule_syscall(const char *board,
				       const char *irqchip,
				       enum rivet_seccomp_role role,
				       unsigned int i)
{
	const struct role_def *rd = role_def(role);
	const struct extra *x[MAX_EXTRAS];
	unsigned int nx;

	if (!rd || !known_irqchip(irqchip))
		return NULL;
	nx = extras_for(board, irqchip, role, x);
	for (unsigned int j = 0; nth_rule(rd, x, nx, j); j++)
		if (first_of(rd, x, nx, j, same_rule) && !i--)
			return nth_rule(rd, x, nx, j)->sys;
	return NULL;
}

int rivet_seccomp_count(const char *board, const char *irqchip,
			enum rivet_seccomp_role role)
{
	const struct role_def *rd = role_def(role);
	const struct extra *x[MAX_EXTRAS];
	unsigned int nx;
	int n = 0;

	if (!rd || !known_irqchip(irqchip))
		return -EINVAL;
	nx = extras_for(board, irqchip, role, x);
	for (unsigned int i = 0; nth_rule(rd, x, nx, i); i++)
		n += first_of(rd, x, nx, i, same_syscall);
	return n;
}

/* ---- violation: the SIGSYS handler ------------------------------------- */

/* Syscall names by number, resolved before any filter is loaded: the
 * handler only looks them up (async-signal-safe). */
#define SYS_NAMES_MAX 1024
static char *sys_names[SYS_NAMES_MAX];
static pthread_once_t names_once = PTHREAD_ONCE_INIT;
/* The role of the filter on this thread (for the message); -1: none. */
static __thread int thread_role = -1;

static void load_names(void)
{
	for (int nr = 0; nr < SYS_NAMES_MAX; nr++)
		sys_names[nr] = seccomp_syscall_resolve_num_arch(
			SCMP_ARCH_NATIVE, nr);
}

static size_t put_str(char *buf, size_t len, size_t cap, const char *s)
{
	while (*s && len < cap)
		buf[len++] = *s++;
	return len;
}

static size_t put_int(char *buf, size_t len, size_t cap, int v)
{
	char tmp[16];
	unsigned int u = v < 0 ? 0U - (unsigned int)v : (unsigned int)v;
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		tmp[n++] = '-';
	while (n && len < cap)
		buf[len++] = tmp[--n];
	return len;
}

static void sigsys_handler(int sig, siginfo_t *si, void *uctx)
{
	const char *role = rivet_seccomp_role_name(
		(enum rivet_seccomp_role)thread_role);
	char msg[192];
	size_t len = 0, cap = sizeof(msg) - 1;
	ssize_t ignored;

	(void)sig;
	(void)uctx;
	len = put_str(msg, len, cap, "rivet: seccomp: ");
	len = put_str(msg, len, cap, role ? role : "unfiltered");
	if (si->si_code == SYS_SECCOMP) {
		int nr = si->si_syscall;
		const char *name = nr >= 0 && nr < SYS_NAMES_MAX ?
					   sys_names[nr] : NULL;

		len = put_str(msg, len, cap,
			      " thread made forbidden syscall ");
		len = put_str(msg, len, cap, name ? name : "unknown");
		len = put_str(msg, len, cap, " (");
		len = put_int(msg, len, cap, nr);
		len = put_str(msg, len, cap, ")");
	} else {
		len = put_str(msg, len, cap, " thread got SIGSYS from pid ");
		len = put_int(msg, len, cap, si->si_pid);
	}
	msg[len++] = '\n';
	ignored = write(STDERR_FILENO, msg, len);
	(void)ignored;
	/* exit_group itself, not _exit: nothing (not even a sanitizer's exit
	 * hook) may run more syscalls now. */
	syscall(SYS_exit_group, RIVET_EXIT_SECCOMP);
	_exit(RIVET_EXIT_SECCOMP);	/* not reached */
}

/* ---- building and loading ---------------------------------------------- */

static int pinned_fd(enum fd_pin pin, const struct rivet_seccomp_ctx *ctx)
{
	switch (pin) {
	case FD_STDIN:
		return STDIN_FILENO;
	case FD_VM:
		return ctx ? ctx->vm_fd : -1;
	case FD_VCPU:
		return ctx ? ctx->vcpu_fd : -1;
	default:
		return -1;
	}
}

static int add_rule_fd(scmp_filter_ctx f, const struct rule *r, int fd)
{
	int nr = seccomp_syscall_resolve_name(r->sys);
	struct scmp_arg_cmp cmp[2];
	unsigned int n = 0;

	/* Negative: unknown, or a pseudo-syscall this architecture lacks. */
	if (nr < 0)
		return -EINVAL;
	switch (r->arg) {
	case ARG_IOCTL:
		cmp[n++] = SCMP_A1(SCMP_CMP_EQ, r->value);
		if (fd >= 0)
			cmp[n++] = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)fd);
		break;
	case ARG_NO_EXEC:
		cmp[n++] = SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
		break;
	case ARG_KILL_SIG:
	case ARG_OP:
		cmp[n++] = SCMP_A1(SCMP_CMP_EQ, r->value);
		break;
	case ARG_WHENCE:
		cmp[n++] = SCMP_A2(SCMP_CMP_EQ, r->value);
		break;
	case ARG_TGKILL:
		cmp[n++] = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid());
		cmp[n++] = SCMP_A2(SCMP_CMP_EQ, r->value);
		break;
	default:
		break;
	}
	return seccomp_rule_add_exact_array(f, SCMP_ACT_ALLOW, nr, n, cmp);
}

/* @r as rules: one, or one per vCPU fd for FD_VCPUS (unpinned without a
 * context that lists them). */
static int add_rule(scmp_filter_ctx f, const struct rule *r,
		    const struct rivet_seccomp_ctx *ctx)
{
	int ret = 0;

	if (r->fd != FD_VCPUS || !ctx || !ctx->nr_vcpu_fds)
		return add_rule_fd(f, r, pinned_fd(r->fd, ctx));
	for (unsigned int i = 0; !ret && i < ctx->nr_vcpu_fds; i++)
		ret = add_rule_fd(f, r, ctx->vcpu_fds[i] >= 0 ?
				  ctx->vcpu_fds[i] : INT_MAX);
	return ret;
}

/* Build @rd's filter and copy the BPF program into @insns.  libseccomp's
 * memory is freed before the filter is loaded, so nothing it does runs
 * under the filter. */
static int build(const struct role_def *rd, const struct extra *const *x,
		 unsigned int nx, const struct rivet_seccomp_ctx *ctx,
		 struct sock_filter *insns, unsigned short *nr_insns)
{
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_TRAP);
	off_t size;
	int ret, fd = -1;

	if (!f)
		return -ENOMEM;
	ret = seccomp_attr_set(f, SCMP_FLTATR_ACT_BADARCH,
			       SCMP_ACT_KILL_PROCESS);
	for (unsigned int i = 0; !ret && nth_rule(rd, x, nx, i); i++)
		if (first_of(rd, x, nx, i, same_rule))
			ret = add_rule(f, nth_rule(rd, x, nx, i), ctx);
	if (ret)
		goto out;
	fd = memfd_create("rivet-seccomp", MFD_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	ret = seccomp_export_bpf(f, fd);
	if (ret)
		goto out;
	size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || size % (off_t)sizeof(*insns) ||
	    size > (off_t)(BPF_MAXINSNS * sizeof(*insns))) {
		ret = size < 0 ? -errno : -E2BIG;
		goto out;
	}
	if (pread(fd, insns, (size_t)size, 0) != size) {
		ret = -EIO;
		goto out;
	}
	*nr_insns = (unsigned short)(size / (off_t)sizeof(*insns));
out:
	if (fd >= 0)
		close(fd);
	seccomp_release(f);
	return ret;
}

struct rivet_seccomp_prog {
	enum rivet_seccomp_role role;
	unsigned short len;
	struct sock_filter insns[];
};

int rivet_seccomp_prepare(enum rivet_seccomp_role role,
			  const struct rivet_seccomp_ctx *ctx,
			  struct rivet_seccomp_prog **out)
{
	const struct role_def *rd = role_def(role);
	const struct extra *x[MAX_EXTRAS];
	struct rivet_seccomp_prog *p;
	unsigned int nx;
	int ret;

	if (!rd || (ctx && !known_irqchip(ctx->irqchip)))
		return -EINVAL;
	nx = extras_for(ctx ? ctx->board : NULL, ctx ? ctx->irqchip : NULL,
			role, x);
	pthread_once(&names_once, load_names);
	p = malloc(sizeof(*p) + BPF_MAXINSNS * sizeof(p->insns[0]));
	if (!p)
		return -ENOMEM;
	p->role = role;
	ret = build(rd, x, nx, ctx, p->insns, &p->len);
	if (ret) {
		free(p);
		return ret;
	}
	/* Kept until the VM ends (one per vCPU): only what it holds. */
	*out = realloc(p, sizeof(*p) + p->len * sizeof(p->insns[0])) ?: p;
	return 0;
}

void rivet_seccomp_prog_free(struct rivet_seccomp_prog *p)
{
	free(p);
}

int rivet_seccomp_install(enum rivet_seccomp_role role,
			  const struct rivet_seccomp_ctx *ctx)
{
	struct rivet_seccomp_prog *p;
	int ret = rivet_seccomp_prepare(role, ctx, &p);

	if (ret)
		return ret;
	ret = rivet_seccomp_load(p);
	free(p);
	return ret;
}

int rivet_seccomp_load(const struct rivet_seccomp_prog *p)
{
	struct sock_fprog prog = {
		.len = p->len,
		.filter = (struct sock_filter *)p->insns,
	};
	struct sigaction sa;
	sigset_t set;
	uint8_t warm;
	int ret;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sigsys_handler;
	sa.sa_flags = SA_SIGINFO;
	sigfillset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL))
		return -errno;
	/* A blocked SIGSYS would still kill (the kernel forces it), but
	 * silently: unblock it so the handler names the syscall. */
	sigemptyset(&set);
	sigaddset(&set, SIGSYS);
	ret = pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	if (ret)
		return -ret;
	/* The first trim of a thread arena makes glibc open
	 * /proc/sys/vm/overcommit_memory: never trim, never open. */
	mallopt(M_TRIM_THRESHOLD, INT_MAX);
	/* Where glibc serves getrandom from the vDSO, a thread's first call
	 * allocates its state (and may read /sys): do it now. */
	if (getrandom(&warm, sizeof(warm), GRND_NONBLOCK) < 0)
		warm = 0;	/* no entropy yet: nothing to warm */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	thread_role = (int)p->role;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
		ret = -errno;
		thread_role = -1;
		return ret;
	}
	return 0;
}

/* ---- audit listing ------------------------------------------------------ */

static const char *pin_name(enum fd_pin pin)
{
	switch (pin) {
	case FD_STDIN:
		return "0";
	case FD_VM:
		return "vm_fd";
	case FD_VCPU:
		return "vcpu_fd";
	case FD_VCPUS:
		return "a vcpu_fd";
	default:
		return NULL;
	}
}

static void format_args(const struct rule *r, char *buf, size_t size)
{
	const char *pin = pin_name(r->fd);

	switch (r->arg) {
	case ARG_IOCTL:
		snprintf(buf, size, "%s%s%srequest == %s (%#lx)",
			 pin ? "fd == " : "", pin ? pin : "", pin ? " && " : "",
			 r->value_name, r->value);
		break;
	case ARG_NO_EXEC:
		snprintf(buf, size, "(prot & PROT_EXEC) == 0");
		break;
	case ARG_KILL_SIG:
		snprintf(buf, size, "sig == %s (%lu)", r->value_name,
			 r->value);
		break;
	case ARG_TGKILL:
		snprintf(buf, size, "tgid == own pid && sig == %s (%lu)",
			 r->value_name, r->value);
		break;
	case ARG_WHENCE:
		snprintf(buf, size, "whence == %s (%lu)", r->value_name,
			 r->value);
		break;
	case ARG_OP:
		snprintf(buf, size, "opcode == %s (%lu)", r->value_name,
			 r->value);
		break;
	default:
		snprintf(buf, size, "-");
		break;
	}
}

static bool board_known(const char *board)
{
	for (size_t i = 0; board && i < sizeof(boards) / sizeof(boards[0]);
	     i++)
		if (!strcmp(board, boards[i]))
			return true;
	return false;
}

int rivet_seccomp_print(FILE *out, const char *board, const char *irqchip,
			enum rivet_seccomp_role role)
{
	const struct role_def *rd = role_def(role);
	const struct extra *x[MAX_EXTRAS];
	unsigned int nx, nr = 0;
	char args[96];

	if (!rd || !board_known(board) || !known_irqchip(irqchip))
		return -EINVAL;
	nx = extras_for(board, irqchip, role, x);
	for (unsigned int i = 0; nth_rule(rd, x, nx, i); i++)
		nr += first_of(rd, x, nx, i, same_rule);
	fprintf(out, "# rivet seccomp allowlist: board %s, irqchip %s, role "
		"%s: %d syscalls, %u rules\n", board, irqchip ? irqchip : "aia",
		rd->name, rivet_seccomp_count(board, irqchip, role), nr);
	fprintf(out, "# anything else: SIGSYS, \"rivet: seccomp: %s thread "
		"made forbidden syscall NAME (NR)\", exit status %d\n",
		rd->name, RIVET_EXIT_SECCOMP);
	for (unsigned int i = 0; nth_rule(rd, x, nx, i); i++) {
		const struct rule *r = nth_rule(rd, x, nx, i);

		if (!first_of(rd, x, nx, i, same_rule))
			continue;
		format_args(r, args, sizeof(args));
		fprintf(out, "%-15s %-44s # %s\n", r->sys, args, r->why);
	}
	return 0;
}
