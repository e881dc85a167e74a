/* SPDX-License-Identifier: MIT */
/* The one option loop of every rivet command: getopt_long with rivet's
 * rules and messages.  Options stop at the first operand; --opt VALUE and
 * --opt=VALUE both work; every problem is one line naming the option. */
#ifndef RIVET_OPT_H
#define RIVET_OPT_H

#include <getopt.h>
#include <stddef.h>

/* Called for each option: @val is its struct option val (or its short
 * letter), @arg its value (NULL if it takes none).  Returns 0 to go on, a
 * positive value to stop parsing with it (e.g. "help was asked"), or
 * -EINVAL with a message in @err (config_fail()). */
typedef int (*opt_fn)(void *ctx, int val, const char *arg, char *err,
		      size_t errlen);

/* Walk the options of @argv (argv[0] is the command) with the short
 * letters @shorts and the long options @opts.  Returns 0 once they are all
 * done, with *@first the index of the first operand; @fn's positive value
 * when it stopped; or -EINVAL with a one-line message in @err: an unknown
 * option, a missing value, a value given to an option that takes none, or
 * @fn's own refusal. */
int opt_parse(int argc, char *const argv[], const char *shorts,
	      const struct option *opts, opt_fn fn, void *ctx, int *first,
	      char *err, size_t errlen);

#endif
