// SPDX-License-Identifier: MIT
/* rivet's main(): find the subcommand and run it. */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/startup.h"

static const struct {
	const char *name;
	int (*run)(int argc, char *argv[]);
	const char *summary;
} commands[] = {
	{ "run", cmd_run, "boot a VM" },
	{ "seccomp", cmd_seccomp, "print the seccomp allowlists" },
	{ "acpi-dump", cmd_acpi_dump,
	  "write a board's ACPI tables to a directory" },
	{ "snapshot-info", cmd_snapshot_info,
	  "check and describe a snapshot, or compare two" },
};

#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fputs("Usage: rivet COMMAND [options]\n\nCommands:\n", out);
	for (size_t i = 0; i < NR_COMMANDS; i++)
		fprintf(out, "  %-14s %s (rivet %s --help)\n", commands[i].name,
			commands[i].summary, commands[i].name);
	fputs("\n  rivet --help | --version\n", out);
}

int main(int argc, char *argv[])
{
	startup_note_start();
	if (argc < 2) {
		usage(stderr);
		return RIVET_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return RIVET_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("rivet %s\n", RIVET_VERSION);
		return RIVET_EXIT_OK;
	}
	for (size_t i = 0; i < NR_COMMANDS; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "rivet: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return RIVET_EXIT_USAGE;
}
