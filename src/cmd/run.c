// SPDX-License-Identifier: MIT
/* `rivet run` and the monitor: a small monitor process owns the terminal and
 * forks one VM process per guest boot: a guest reboot is a fresh process
 * built from the same configuration, so the VM process can drop every right
 * it needs only for setting up (opening files, creating the VM) before the
 * guest runs.  Where `run`'s exit status is decided. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/config.h"
#include "core/console.h"
#include "core/serial_relay.h"
#include "core/log.h"
#include "jail/jail.h"
#include "qmp/server.h"
#include "seccomp/seccomp.h"
#include "vmm.h"

/* Signals the monitor handles itself (blocked, read from a signalfd) and
 * forwards to the VM process. */
static void stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

/* Close every descriptor from 3 up but @a and @b (-1: none). */
static void close_other_fds(int a, int b)
{
	unsigned int lo = 3;

	if (a > b) {
		int t = a;

		a = b;
		b = t;
	}
	for (int keep = 0; keep < 2; keep++) {
		int fd = keep ? b : a;

		if (fd < 0)
			continue;
		if ((unsigned int)fd > lo)
			close_range(lo, (unsigned int)fd - 1, 0);
		lo = (unsigned int)fd + 1;
	}
	close_range(lo, ~0U, 0);
}

/* The VM process: run one boot and leave with its status.  _exit, not
 * exit: the terminal belongs to the monitor. */
static void vm_child(const struct vm_config *cfg, pid_t monitor, int ctl_fd,
		     bool paused, int ready_fd, int console_fd,
		     const char *incoming)
{
	struct vmm_session st = { .stdin_open = true, .ctl_fd = ctl_fd,
				  .start_paused = paused, .ctl_reason = -1,
				  .ready_fd = ready_fd, .null_fd = -1,
				  .incoming = incoming };
	sigset_t set;
	int status;

	/* Never outlive the monitor (e.g. it was SIGKILLed). */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != monitor)
		_exit(RIVET_EXIT_ERROR);
	/* --serial pty|unix: the console is the monitor's relay. */
	if (console_fd >= 0 && (dup2(console_fd, STDIN_FILENO) < 0 ||
				dup2(console_fd, STDOUT_FILENO) < 0)) {
		log_err("console: %s", strerror(errno));
		_exit(RIVET_EXIT_ERROR);
	}
	/* The monitor's QMP sockets and clients, and its console relay, are
	 * not the VM's business: keep the standard streams and the channel
	 * only. */
	if (ctl_fd >= 0 || ready_fd >= 0 || console_fd >= 0)
		close_other_fds(ctl_fd, ready_fd);
	/* Detached or --serial null: no console (input at its end, output
	 * discarded), unless the relay is the console. */
	if (ready_fd >= 0 || cfg->serial.kind == SERIAL_NULL) {
		st.null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (st.null_fd < 0) {
			log_err("/dev/null: %s", strerror(errno));
			_exit(RIVET_EXIT_ERROR);
		}
		if (console_fd < 0) {
			dup2(st.null_fd, STDIN_FILENO);
			dup2(st.null_fd, STDOUT_FILENO);
		}
	}
	stop_signals(&set);
	st.sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (st.sig_fd < 0) {
		log_err("signalfd: %s", strerror(errno));
		_exit(RIVET_EXIT_ERROR);
	}
	st.tty = isatty(STDIN_FILENO);
	st.wake_fd = console_wakeup_fd();
	status = vmm_run(cfg, &st);
	fflush(NULL);
	_exit(status);
}

/* Wait for the VM process, forwarding stop signals and serving the QMP
 * thread's requests (@qs may be NULL); its exit status, or 128 + N if
 * signal N killed it. */
static int wait_child(pid_t pid, int sig_fd, struct qmp_server *qs)
{
	struct signalfd_siginfo si;
	int wstatus;

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = sig_fd, .events = POLLIN },
			{ .fd = qmp_server_main_fd(qs), .events = POLLIN },
		};
		pid_t r = waitpid(pid, &wstatus, WNOHANG);

		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			log_err("waitpid: %s", strerror(errno));
			return RIVET_EXIT_ERROR;
		}
		if (r != 0)
			continue;
		/* Without QMP, a blocking read: the filtered monitor's list
		 * has no ppoll. */
		if (qs) {
			if (poll(p, 2, -1) < 0)
				continue;
			if (p[1].revents)
				qmp_server_main_serve(qs);
			if (!p[0].revents)
				continue;
		}
		if (read(sig_fd, &si, sizeof(si)) == sizeof(si) &&
		    si.ssi_signo != SIGCHLD)
			kill(pid, (int)si.ssi_signo);
	}
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	log_err("VM process killed by signal %d (%s)", WTERMSIG(wstatus),
		strsignal(WTERMSIG(wstatus)));
	return RIVET_EXIT_SIGNAL + WTERMSIG(wstatus);
}

/* --pidfile: the monitor's id, for whoever manages the VM.  0 or -errno
 * (logged). */
static int write_pidfile(const char *path)
{
	char buf[24];
	int fd, n, ret = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0644);
	if (fd < 0) {
		log_err("--pidfile: cannot create %s: %s", path,
			strerror(errno));
		return -errno;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		ret = -(errno ? errno : EIO);
		log_err("--pidfile: cannot write %s: %s", path,
			strerror(-ret));
	}
	close(fd);
	return ret;
}

/* The control plane before the first boot: the QMP sockets and the
 * console's endpoint, their first clients (unless wait=off), then the pid
 * file.  Exit status or -1 to go on. */
static bool pidfile_written;

static int control_start(const struct vm_config *cfg, int sig_fd,
			 struct qmp_server **qs, struct serial_relay **sr)
{
	int ret;

	if (cfg->nr_qmp && qmp_server_open(qs, cfg))
		return RIVET_EXIT_ERROR;
	if (serial_relay_open(cfg, sr))
		return RIVET_EXIT_ERROR;
	if (*qs) {
		qmp_server_set_console(*qs, *sr);
		ret = qmp_server_wait_clients(*qs, sig_fd);
		if (ret > 0)
			return RIVET_EXIT_SIGNAL + ret;
		if (ret || qmp_server_start(*qs))
			return RIVET_EXIT_ERROR;
	}
	if (*sr) {
		ret = serial_relay_wait_client(*sr, sig_fd);
		if (ret > 0)
			return RIVET_EXIT_SIGNAL + ret;
		if (ret || serial_relay_start(*sr))
			return RIVET_EXIT_ERROR;
	}
	if (cfg->pidfile) {
		if (write_pidfile(cfg->pidfile))
			return RIVET_EXIT_ERROR;
		pidfile_written = true;
	}
	return -1;
}

/* --daemonize: the caller waits on a pipe while a new session does the
 * work: "R" when a VM is set up (exit 0), else "S" and the daemon's exit
 * status.  Returns -1 in the daemon (*@ready_fd: the pipe), or the exit
 * status in the caller. */
static int daemonize(int *ready_fd)
{
	unsigned char buf[2];
	int p[2];
	pid_t pid;
	ssize_t n;

	fflush(NULL);
	if (pipe2(p, O_CLOEXEC)) {
		log_err("pipe: %s", strerror(errno));
		return RIVET_EXIT_ERROR;
	}
	pid = fork();
	if (pid < 0) {
		log_err("fork: %s", strerror(errno));
		return RIVET_EXIT_ERROR;
	}
	if (pid == 0) {
		close(p[0]);
		if (setsid() < 0)
			log_warn("setsid: %s", strerror(errno));
		*ready_fd = p[1];
		return -1;
	}
	close(p[1]);
	do
		n = read(p[0], buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	close(p[0]);
	if (n >= 1 && buf[0] == 'R')
		return RIVET_EXIT_OK;
	if (n == 2 && buf[0] == 'S')
		return buf[1];
	log_err("--daemonize: the daemon ended without a word");
	return RIVET_EXIT_ERROR;
}

static void detach_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	fflush(NULL);
	if (fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

static int run_monitor(const struct vm_config *cfg, int ready_fd)
{
	pid_t self = getpid();
	struct qmp_server *qs = NULL;
	struct serial_relay *sr = NULL;
	bool paused = cfg->paused;
	/* The first boot restores --incoming; a reboot boots afresh. */
	const char *incoming = cfg->incoming;
	sigset_t set;
	int sig_fd, status;

	signal(SIGPIPE, SIG_IGN);
	stop_signals(&set);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) ||
	    (sig_fd = signalfd(-1, &set, SFD_CLOEXEC)) < 0) {
		log_err("signalfd: %s", strerror(errno));
		return RIVET_EXIT_ERROR;
	}
	if (!cfg->seccomp)
		log_warn("--seccomp=off: running WITHOUT syscall filters "
			 "(debugging only)");
	status = control_start(cfg, sig_fd, &qs, &sr);
	if (status >= 0)
		goto out;
	/* The terminal is the guest's console only with --serial stdio. */
	if (ready_fd < 0 && cfg->serial.kind == SERIAL_STDIO &&
	    console_raw_begin())
		log_warn("cannot put the terminal in raw mode");
	for (;;) {
		int ctl[2] = { -1, -1 };
		pid_t pid;

		if (qs && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK |
				     SOCK_CLOEXEC, 0, ctl)) {
			log_err("socketpair: %s", strerror(errno));
			status = RIVET_EXIT_ERROR;
			break;
		}
		fflush(NULL);
		pid = fork();
		if (pid < 0) {
			log_err("fork: %s", strerror(errno));
			status = RIVET_EXIT_ERROR;
			break;
		}
		if (pid == 0) {
			close(sig_fd);
			if (ctl[0] >= 0)
				close(ctl[0]);
			vm_child(cfg, self, ctl[1], paused, ready_fd,
				 serial_relay_vm_fd(sr), incoming);
		}
		incoming = NULL;
		/* Detached: nothing more reaches the caller's terminal from
		 * here (a later VM process's "up" goes to a pipe nobody reads
		 * any more: the caller left at the first). */
		if (ready_fd >= 0)
			detach_stdio();
		if (qs) {
			close(ctl[1]);
			qmp_server_child_started(qs, ctl[0], paused);
		}
		/* A filter is inherited by every later fork, so the monitor
		 * can only take its own once it will not fork again (with
		 * QMP, system_reset may always boot again).  Its list has
		 * nothing for the console relay's teardown either. */
		if (cfg->seccomp && cfg->no_reboot && !qs && !sr &&
		    rivet_seccomp_install(RIVET_SECCOMP_MONITOR, NULL)) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			status = RIVET_EXIT_ERROR;
			break;
		}
		status = wait_child(pid, sig_fd, qs);
		if (qs) {
			int st;

			if (!qmp_server_child_exited(qs, status, sig_fd,
						     &paused, &st)) {
				status = st;
				break;
			}
		} else if (status != RIVET_EXIT_REBOOT || cfg->no_reboot) {
			break;
		}
		log_info("guest reset: rebooting");
	}
	console_raw_end();
out:
	qmp_server_close(qs);
	serial_relay_close(sr);
	if (pidfile_written)
		unlink(cfg->pidfile);
	close(sig_fd);
	return status;
}

/* Confine the whole of rivet before it opens anything of the guest's.
 * Returns -1 to go on (inside the jail), or an exit status: the process
 * outside a new PID namespace only waits for the one inside. */
static int enter_jail(const struct vm_config *cfg)
{
	struct jail_config jc = {
		.dir = cfg->jail_dir,
		.uid = cfg->jail_uid,
		.gid = cfg->jail_gid,
		.new_pidns = cfg->new_pidns,
		.new_netns = cfg->new_netns,
	};
	int status, ret;

	if (jail_validate(&jc))
		return RIVET_EXIT_USAGE;
	if (jail_enter(&jc, NULL, 0))
		return RIVET_EXIT_ERROR;
	if (!jc.new_pidns)
		return -1;
	ret = jail_pidns_fork(&status);
	if (ret < 0)
		return RIVET_EXIT_ERROR;
	return ret == JAIL_PIDNS_OUTSIDE ? status : -1;
}

int cmd_run(int argc, char *argv[])
{
	struct vm_config cfg;
	char err[256];
	int ret, ready_fd = -1;

	ret = config_parse(&cfg, argc, argv, err, sizeof(err));
	if (ret < 0) {
		config_free(&cfg);
		return cmd_usage_error("run", false, "%s", err);
	}
	if (ret == CONFIG_HELP || ret == CONFIG_VERSION) {
		if (ret == CONFIG_HELP)
			config_usage(stdout);
		else
			printf("rivet %s\n", RIVET_VERSION);
		config_free(&cfg);
		return RIVET_EXIT_OK;
	}
	log_set_level(cfg.verbosity >= 2 ? LOG_DEBUG
		      : cfg.verbosity == 1 ? LOG_INFO : LOG_NOTICE);
	if (cfg.daemonize) {
		ret = daemonize(&ready_fd);
		if (ret >= 0) {
			config_free(&cfg);
			return ret;	/* the caller */
		}
	}
	if (cfg.jail_dir) {
		ret = enter_jail(&cfg);
		if (ret >= 0) {
			config_free(&cfg);
			return ret;	/* the PID namespace's outside */
		}
	}
	ret = run_monitor(&cfg, ready_fd);
	if (ready_fd >= 0) {
		/* Heard only if no VM process was set up: the caller's
		 * exit status. */
		unsigned char msg[2] = { 'S', (unsigned char)ret };

		if (write(ready_fd, msg, 2) < 0)
			log_debug("--daemonize: the caller is gone");
		close(ready_fd);
	}
	config_free(&cfg);
	return ret;
}
