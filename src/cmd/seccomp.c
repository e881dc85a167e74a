// SPDX-License-Identifier: MIT
/* `rivet seccomp`: print the allowlists for audits. */
#include <stdio.h>

#include "cmd/cmd.h"
#include "core/boards.h"
#include "core/config.h"
#include "seccomp/seccomp.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: rivet seccomp [--board NAME] [--irqchip MODE] [--role ROLE]\n"
		"\n"
		"Print the seccomp allowlist rivet installs for each thread role:\n"
		"one line per rule with the syscall, its argument rule and the\n"
		"reason it is allowed.  Anything else ends the process with exit\n"
		"status %d and a message naming the syscall.\n"
		"\n"
		"  --board NAME   machine type (%s); default %s\n"
		"  --irqchip MODE interrupt controller: aia (default), split, plic\n"
		"  --role ROLE    monitor, main, vcpu, io, qmp or console; default: all "
		"six\n"
		"  -h, --help     this text\n"
		"\n"
		"See docs/seccomp.md for the reasoning behind every rule.\n",
		RIVET_EXIT_SECCOMP, rivet_board_list(), RIVET_BOARD_DEFAULT);
}

struct args {
	const char *board;
	const char *role;
	enum irqchip_mode irqchip;
};

static int opt(void *ctx, int val, const char *arg, char *err,
	       size_t errlen)
{
	struct args *a = ctx;

	if (val == 'b')
		a->board = arg;
	else if (val == 'r')
		a->role = arg;
	else if (config_parse_irqchip(arg, &a->irqchip) ||
		 a->irqchip == IRQCHIP_AUTO)
		return config_fail(err, errlen,
				   "--irqchip: '%s' is not one of aia, split, "
				   "plic", arg);
	return 0;
}

int cmd_seccomp(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "board", required_argument, NULL, 'b' },
		{ "role", required_argument, NULL, 'r' },
		{ "irqchip", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct args a = { .board = RIVET_BOARD_DEFAULT,
			  .irqchip = IRQCHIP_AIA };
	enum rivet_seccomp_role role = RIVET_SECCOMP_MONITOR;
	int ret, first;

	ret = cmd_parse("seccomp", argc, argv, opts, opt, &a, usage, &first);
	if (ret >= 0)
		return ret;
	if (first < argc)
		return cmd_usage_error("seccomp", true,
				       "unexpected argument '%s'", argv[first]);
	if (a.role && rivet_seccomp_role_parse(a.role, &role))
		return cmd_usage_error("seccomp", true,
				       "--role: unknown role '%s' (monitor, "
				       "main, vcpu, io, qmp or console)",
				       a.role);
	for (int r = 0; r < RIVET_SECCOMP_NR_ROLES; r++) {
		if (a.role && r != (int)role)
			continue;
		if (!a.role && r)
			putchar('\n');
		/* Validates the board before printing anything. */
		if (rivet_seccomp_print(stdout, a.board,
					config_irqchip_name(a.irqchip),
					(enum rivet_seccomp_role)r))
			return cmd_usage_error("seccomp", true,
					       "--board: no allowlist for board "
					       "'%s' (%s)", a.board,
					       rivet_board_list());
	}
	return fflush(stdout) ? RIVET_EXIT_ERROR : RIVET_EXIT_OK;
}
