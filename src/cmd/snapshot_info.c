// SPDX-License-Identifier: MIT
/* `rivet snapshot-info`: check and describe a snapshot, or compare two. */
#include <stdio.h>

#include "cmd/cmd.h"
#include "snapshot/inspect.h"

static void usage(FILE *out)
{
	fputs("Usage: rivet snapshot-info DIR [OTHER-DIR]\n"
	      "\n"
	      "Check the snapshot QMP 'migrate' wrote to file:DIR (the state\n"
	      "file's format, version and checksums, the memory file's size)\n"
	      "and list its records: the machine, each vCPU, the interrupt\n"
	      "controller, each device.  With OTHER-DIR, compare the two\n"
	      "record by record and RAM byte for byte, and name what differs\n"
	      "(exit status 1).\n"
	      "\n"
	      "  -h, --help     this text\n"
	      "\n"
	      "See docs/snapshot.md.\n", out);
}

static int opt(void *ctx, int val, const char *arg, char *err,
	       size_t errlen)
{
	(void)ctx;
	(void)val;
	(void)arg;
	(void)err;
	(void)errlen;
	return 0;
}

int cmd_snapshot_info(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char err[256] = "";
	int ret, first;

	ret = cmd_parse("snapshot-info", argc, argv, opts, opt, NULL, usage,
			&first);
	if (ret >= 0)
		return ret;
	if (first >= argc)
		return cmd_usage_error("snapshot-info", true,
				       "a snapshot directory is needed");
	if (first + 2 < argc)
		return cmd_usage_error("snapshot-info", true,
				       "unexpected argument '%s'",
				       argv[first + 2]);
	ret = snap_inspect(argv[first], first + 1 < argc ? argv[first + 1]
							 : NULL,
			   stdout, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "rivet: snapshot-info: %s\n", err);
		return RIVET_EXIT_ERROR;
	}
	return ret ? RIVET_EXIT_ERROR : RIVET_EXIT_OK;
}
