// SPDX-License-Identifier: MIT
#include "cmd/cmd.h"

#include <stdarg.h>
#include <stdio.h>

int cmd_usage_error(const char *cmd, bool prefix, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, prefix ? "rivet: %s: " : "rivet: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'rivet %s --help'.\n", cmd);
	return RIVET_EXIT_USAGE;
}

/* -h/--help stops the loop; everything else is the command's. */
struct parse_ctx {
	opt_fn fn;
	void *ctx;
};

#define CMD_HELP 1

static int cmd_opt(void *ctx, int val, const char *arg, char *err,
		   size_t errlen)
{
	struct parse_ctx *p = ctx;

	return val == 'h' ? CMD_HELP : p->fn(p->ctx, val, arg, err, errlen);
}

int cmd_parse(const char *cmd, int argc, char *argv[],
	      const struct option *opts, opt_fn fn, void *ctx,
	      void (*usage)(FILE *out), int *first)
{
	struct parse_ctx p = { fn, ctx };
	char err[256];
	int ret;

	ret = opt_parse(argc, argv, "h", opts, cmd_opt, &p, first, err,
			sizeof(err));
	if (ret == CMD_HELP) {
		usage(stdout);
		return RIVET_EXIT_OK;
	}
	if (ret)
		return cmd_usage_error(cmd, true, "%s", err);
	return -1;
}
