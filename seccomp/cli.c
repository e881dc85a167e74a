// SPDX-License-Identifier: MIT
/* `rivet seccomp`: print the allowlists for audits. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "seccomp/seccomp.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"

#define CLI_USAGE 2

static void cli_usage(FILE *out)
{
	fprintf(out,
		"Usage: rivet seccomp [--board NAME] [--role ROLE]\n"
		"\n"
		"Print the seccomp allowlist rivet installs for each thread role:\n"
		"one line per rule with the syscall, its argument rule and the\n"
		"reason it is allowed.  Anything else ends the process with exit\n"
		"status %d and a message naming the syscall.\n"
		"\n"
		"  --board NAME   machine type (microvm, virt); default microvm\n"
		"  --role ROLE    monitor, main or vcpu; default: all three\n"
		"  -h, --help     this text\n"
		"\n"
		"See docs/seccomp.md for the reasoning behind every rule.\n",
		RIVET_EXIT_SECCOMP);
}

/* One line naming the problem, then where to look: exit status 2. */
static int cli_error(const char *what, const char *arg, const char *hint)
{
	fprintf(stderr, "rivet: seccomp: %s '%s'%s\n", what, arg, hint);
	fprintf(stderr, "Try 'rivet seccomp --help'.\n");
	return CLI_USAGE;
}

/* --opt VALUE or --opt=VALUE; NULL if argv[*i] is not @opt, or is @opt
 * without a value (then *missing is set). */
static const char *opt_value(int argc, char *argv[], int *i, const char *opt,
			     bool *missing)
{
	size_t len = strlen(opt);
	const char *a = argv[*i];

	if (strncmp(a, opt, len))
		return NULL;
	if (a[len] == '=')
		return a + len + 1;
	if (a[len])
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}

int rivet_seccomp_cmd(int argc, char *argv[])
{
	const char *board = "microvm", *role_name = NULL;
	enum rivet_seccomp_role role = RIVET_SECCOMP_MONITOR;
	bool missing;

	for (int i = 1; i < argc; i++) {
		const char *v;

		missing = false;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			cli_usage(stdout);
			return 0;
		}
		if ((v = opt_value(argc, argv, &i, "--board", &missing))) {
			board = v;
		} else if ((v = opt_value(argc, argv, &i, "--role",
					  &missing))) {
			role_name = v;
		} else if (missing) {
			return cli_error("option needs a value:", argv[i], "");
		} else {
			return cli_error(argv[i][0] == '-' ?
						 "unknown option" :
						 "unexpected argument",
					 argv[i], "");
		}
	}
	if (role_name && rivet_seccomp_role_parse(role_name, &role))
		return cli_error("--role: unknown role", role_name,
				 " (monitor, main or vcpu)");
	for (int r = 0; r < RIVET_SECCOMP_NR_ROLES; r++) {
		if (role_name && r != (int)role)
			continue;
		if (!role_name && r)
			putchar('\n');
		/* Validates the board before printing anything. */
		if (rivet_seccomp_print(stdout, board,
					(enum rivet_seccomp_role)r))
			return cli_error("--board: no allowlist for board",
					 board, " (microvm, virt)");
	}
	return fflush(stdout) ? 1 : 0;
}

void seccomp_selftest(const struct vm_config *cfg, const char *role, int vm_fd)
{
	const char *t = cfg->seccomp_selftest;
	size_t n = strlen(role);

	if (!t || strncmp(t, role, n))
		return;
	if (!t[n]) {
		log_warn("seccomp self-test: %s role calls openat", role);
		syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY);
	} else if (!strcmp(t + n, "-ioctl")) {
		log_warn("seccomp self-test: %s role calls KVM_CREATE_VCPU",
			 role);
		ioctl(vm_fd, KVM_CREATE_VCPU, 99);
	}
}
