// SPDX-License-Identifier: MIT
#include "core/opt.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "core/config.h"

static const char *long_name(const struct option *opts, int val)
{
	for (const struct option *o = opts; o->name; o++)
		if (o->val == val)
			return o->name;
	return "option";
}

static bool known(const struct option *opts, int val)
{
	for (const struct option *o = opts; o->name; o++)
		if (o->val == val)
			return true;
	return false;
}

int opt_parse(int argc, char *const argv[], const char *shorts,
	      const struct option *opts, opt_fn fn, void *ctx, int *first,
	      char *err, size_t errlen)
{
	char optstring[32];
	int opt, ret;

	if (err && errlen)
		err[0] = '\0';
	/* '+': stop at the first operand; ':': tell a missing value apart. */
	snprintf(optstring, sizeof(optstring), "+:%s", shorts);
	optind = 0;	/* full re-initialisation: a command may run twice */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, optstring, opts, NULL)) != -1) {
		switch (opt) {
		case '?':
			/* glibc: optopt is the option's value for a long
			 * option given a value it does not take, 0 for an
			 * unknown long option, the letter for a short one. */
			if (optopt && known(opts, optopt))
				return config_fail(err, errlen,
						   "'%s': %s takes no value",
						   argv[optind - 1],
						   long_name(opts, optopt));
			if (optopt > 0 && optopt < 128 && isgraph(optopt))
				return config_fail(err, errlen,
						   "unknown option '-%c'",
						   optopt);
			/* Any other byte (optopt is a plain char: negative
			 * above 0x7f): getopt may still be inside the
			 * argument, so argv[optind - 1] is not it. */
			if (optopt)
				return config_fail(err, errlen,
						   "unknown option byte 0x%02x after '-'",
						   (unsigned char)optopt);
			return config_fail(err, errlen, "unknown option '%s'",
					   argv[optind - 1]);
		case ':':
			return config_fail(err, errlen, "%s: missing value",
					   argv[optind - 1]);
		default:
			ret = fn(ctx, opt, optarg, err, errlen);
			if (ret)
				return ret;
		}
	}
	*first = optind;
	return 0;
}
