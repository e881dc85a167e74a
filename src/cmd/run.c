// SPDX-License-Identifier: MIT
/* `rivet run` and the monitor: a small monitor process owns the terminal and
 * forks one VM process per guest boot: a guest reboot is a fresh process
 * built from the same configuration, so the VM process can drop every right
 * it needs only for setting up (opening files, creating the VM) before the
 * guest runs.  Where `run`'s exit status is decided. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/config.h"
#include "core/console.h"
#include "core/log.h"
#include "jail/jail.h"
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

/* The VM process: run one boot and leave with its status.  _exit, not
 * exit: the terminal belongs to the monitor. */
static void vm_child(const struct vm_config *cfg, pid_t monitor)
{
	struct vmm_session st = { .stdin_open = true };
	sigset_t set;
	int status;

	/* Never outlive the monitor (e.g. it was SIGKILLed). */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != monitor)
		_exit(RIVET_EXIT_ERROR);
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

/* Wait for the VM process, forwarding stop signals; its exit status, or
 * 128 + N if signal N killed it. */
static int wait_child(pid_t pid, int sig_fd)
{
	struct signalfd_siginfo si;
	int wstatus;

	for (;;) {
		pid_t r = waitpid(pid, &wstatus, WNOHANG);

		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			log_err("waitpid: %s", strerror(errno));
			return RIVET_EXIT_ERROR;
		}
		if (r == 0 && read(sig_fd, &si, sizeof(si)) == sizeof(si) &&
		    si.ssi_signo != SIGCHLD)
			kill(pid, (int)si.ssi_signo);
	}
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	log_err("VM process killed by signal %d (%s)", WTERMSIG(wstatus),
		strsignal(WTERMSIG(wstatus)));
	return RIVET_EXIT_SIGNAL + WTERMSIG(wstatus);
}

static int run_monitor(const struct vm_config *cfg)
{
	pid_t self = getpid();
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
	if (console_raw_begin())
		log_warn("cannot put the terminal in raw mode");
	for (;;) {
		pid_t pid;

		fflush(NULL);
		pid = fork();
		if (pid < 0) {
			log_err("fork: %s", strerror(errno));
			status = RIVET_EXIT_ERROR;
			break;
		}
		if (pid == 0) {
			close(sig_fd);
			vm_child(cfg, self);
		}
		/* A filter is inherited by every later fork, so the monitor
		 * can only take its own once it will not fork again. */
		if (cfg->seccomp && cfg->no_reboot &&
		    rivet_seccomp_install(RIVET_SECCOMP_MONITOR, NULL)) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			status = RIVET_EXIT_ERROR;
			break;
		}
		status = wait_child(pid, sig_fd);
		if (status != RIVET_EXIT_REBOOT || cfg->no_reboot)
			break;
		log_info("guest reset: rebooting");
	}
	console_raw_end();
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
	int ret;

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
	if (cfg.jail_dir) {
		ret = enter_jail(&cfg);
		if (ret >= 0) {
			config_free(&cfg);
			return ret;	/* the PID namespace's outside */
		}
	}
	ret = run_monitor(&cfg);
	config_free(&cfg);
	return ret;
}
