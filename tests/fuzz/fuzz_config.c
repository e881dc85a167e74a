// SPDX-License-Identifier: MIT
/* Fuzz target: the `rivet run` command line.  The input, split at NUL
 * bytes, is the argument list after "run" (each argument its own heap
 * allocation, so a read past its end is caught).  A configuration
 * config_parse() accepts must be within the documented limits; a refusal
 * must come with a one-line message that does not misname the problem
 * (an option that exists called unknown, a false "out of memory"). */
#include "fuzz.h"

#include <ctype.h>
#include <errno.h>

#include "core/config.h"

/* Is @s printable text with no control characters? */
static bool one_line(const char *s)
{
	for (; *s; s++)
		if (iscntrl((unsigned char)*s))
			return false;
	return true;
}

static bool any_arg_has_cntrl(char **argv, int argc)
{
	for (int i = 0; i < argc; i++)
		if (!one_line(argv[i]))
			return true;
	return false;
}

/* "unknown option 'X'" must quote an option the user gave: a whole
 * argument starting with '-', or -c for a c inside such an argument. */
static bool names_given_option(const char *err, char **argv, int argc)
{
	const char *prefix = "unknown option '";
	size_t plen = strlen(prefix), len = strlen(err);
	char q[256];

	if (strncmp(err, prefix, plen) || len < plen + 1 || err[len - 1] != '\'')
		return true;	/* some other message */
	snprintf(q, sizeof(q), "%.*s", (int)(len - plen - 1), err + plen);
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] != '-')
			continue;
		if (!strcmp(q, argv[i]))
			return true;
		if (q[0] == '-' && q[1] && !q[2] && argv[i][1] != '-' &&
		    strchr(argv[i] + 1, q[1]))
			return true;
	}
	return false;
}

static void check_config(const struct vm_config *cfg)
{
	FUZZ_CHECK(cfg->kernel);
	FUZZ_CHECK(cfg->board && !strcmp(cfg->board, "microvm"));
	FUZZ_CHECK(cfg->cmdline && strlen(cfg->cmdline) <= CONFIG_MAX_CMDLINE);
	FUZZ_CHECK(cfg->cpus >= 1 && cfg->cpus <= CONFIG_MAX_CPUS);
	FUZZ_CHECK(cfg->mem_size >= CONFIG_MIN_MEM &&
		   cfg->mem_size <= CONFIG_MAX_MEM &&
		   cfg->mem_size % (2ULL << 20) == 0);
	FUZZ_CHECK(cfg->nr_disks <= CONFIG_MAX_DISKS);
	for (unsigned int i = 0; i < cfg->nr_disks; i++)
		FUZZ_CHECK(cfg->disks[i].path && cfg->disks[i].path[0] &&
			   !strchr(cfg->disks[i].path, ','));
	FUZZ_CHECK(cfg->nr_cpu_features_off <= CONFIG_MAX_FEATURES);
	for (unsigned int i = 0; i < cfg->nr_cpu_features_off; i++) {
		const char *s = cfg->cpu_features_off[i];

		FUZZ_CHECK(s[0] && strlen(s) <= 31);
		for (; *s; s++)
			FUZZ_CHECK(islower((unsigned char)*s) ||
				   isdigit((unsigned char)*s));
	}
	FUZZ_CHECK(cfg->aia_mode == AIA_MODE_AUTO ||
		   cfg->aia_mode == AIA_MODE_EMUL ||
		   cfg->aia_mode == AIA_MODE_HWACCEL);
	FUZZ_CHECK(!cfg->dump_dtb || cfg->dump_dtb[0]);
	FUZZ_CHECK(cfg->nr_owned <= sizeof(cfg->owned) / sizeof(cfg->owned[0]));
}

/* config_parse_size() against a plain reading of the same string. */
static void check_size(const char *s)
{
	uint64_t v = 0;
	int r = config_parse_size(s, &v);

	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ERANGE);
	if (r == 0 && s[0] == '0' && !s[1])
		FUZZ_CHECK(v == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[FZ_CFG_MAX_ARGS + 2];
	struct vm_config cfg;
	char err[256];
	int argc = 0, r;
	size_t pos = 0;

	fuzz_quiet();
	argv[argc++] = strdup("run");
	FUZZ_CHECK(argv[0]);
	while (pos < size && argc <= FZ_CFG_MAX_ARGS) {
		const uint8_t *nul = memchr(data + pos, 0, size - pos);
		size_t len = nul ? (size_t)(nul - (data + pos)) : size - pos;

		argv[argc] = malloc(len + 1);
		FUZZ_CHECK(argv[argc]);
		memcpy(argv[argc], data + pos, len);
		argv[argc][len] = '\0';
		argc++;
		pos += len + 1;
	}
	argv[argc] = NULL;

	r = config_parse(&cfg, argc, argv, err, sizeof(err));
	if (r < 0) {
		FUZZ_CHECK(r == -EINVAL);
		FUZZ_CHECK(err[0]);
		/* One line, unless it quotes an argument that is not. */
		if (!one_line(err) && !any_arg_has_cntrl(argv, argc)) {
			fprintf(fuzz_err, "config: message '%s'\n", err);
			FUZZ_CHECK(one_line(err));
		}
		/* (A message that filled err[] may end mid-quote.) */
		if (strlen(err) < sizeof(err) - 1 &&
		    !names_given_option(err, argv, argc)) {
			fprintf(fuzz_err, "config: message '%s'\n", err);
			FUZZ_CHECK(!"unknown option not among the arguments");
		}
		/* -h and -v exist: never "unknown" (--help=1, --verbose=1). */
		if (!strcmp(err, "unknown option '-h'") ||
		    !strcmp(err, "unknown option '-v'")) {
			fprintf(fuzz_err, "config: message '%s'\n", err);
			FUZZ_CHECK(!"a known option called unknown");
		}
		/* Only a failing malloc is "out of memory". */
		if (!strcmp(err, "--disk: out of memory") ||
		    !strcmp(err, "--cpu-features: out of memory")) {
			fprintf(fuzz_err, "config: message '%s'\n", err);
			FUZZ_CHECK(!"out of memory without a failing malloc");
		}
	} else {
		FUZZ_CHECK(r == CONFIG_RUN || r == CONFIG_HELP ||
			   r == CONFIG_VERSION);
		if (r == CONFIG_RUN)
			check_config(&cfg);
	}
	config_free(&cfg);
	for (int i = 1; i < argc; i++)
		check_size(argv[i]);
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	return 0;
}
