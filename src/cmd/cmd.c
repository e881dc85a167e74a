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

int cmd_parse(const char *cmd, int argc, char *argv[],
	      const struct option *opts,
	      int (*fn)(void *ctx, int val, const char *arg), void *ctx,
	      void (*usage)(FILE *out), int *first)
{
	int opt, ret;

	optind = 0;	/* full re-initialisation: commands may run twice */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			usage(stdout);
			return RIVET_EXIT_OK;
		case ':':
			return cmd_usage_error(cmd, true,
					       "option needs a value: '%s'",
					       argv[optind - 1]);
		case '?':
			return cmd_usage_error(cmd, true,
					       "unknown option '%s'",
					       argv[optind - 1]);
		default:
			ret = fn(ctx, opt, optarg);
			if (ret)
				return ret;
		}
	}
	*first = optind;
	return -1;
}
