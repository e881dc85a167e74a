/* SPDX-License-Identifier: MIT */
/* rivet's subcommands (`rivet run`, `rivet seccomp`, `rivet acpi-dump`):
 * each is one file here with an entry point taking (argc, argv) with
 * argv[0] = its name and returning an exit status (core/exit.h).  They share
 * the option loop and the way bad usage is reported, so every command says
 * it the same way:
 *
 *   rivet: CMD: unknown option '--frob'
 *   Try 'rivet CMD --help'.
 *
 * This is the top layer: it may use every other one; nothing includes it
 * but the commands themselves. */
#ifndef RIVET_CMD_H
#define RIVET_CMD_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "core/exit.h"
#include "core/opt.h"

struct acpi_platform;
struct machine;

int cmd_run(int argc, char *argv[]);
int cmd_seccomp(int argc, char *argv[]);
int cmd_acpi_dump(int argc, char *argv[]);
int cmd_snapshot_info(int argc, char *argv[]);

/* acpi-dump's output: every table of @m (with @p), linked at m->ram.base,
 * as DIR/SIG.dat (iasl's naming: DSDT.dat, FACP.dat, APIC.dat, RHCT.dat,
 * SPCR.dat, MCFG.dat, XSDT.dat, RSDP.dat).  0 or -errno. */
int acpi_dump_write(const struct machine *m, const struct acpi_platform *p,
		    const char *dir);

/* Report bad usage of @cmd: "rivet: @cmd: MESSAGE" (just "rivet: MESSAGE"
 * when !@prefix: `run`'s messages name their option first), then "Try
 * 'rivet @cmd --help'.", on stderr.  Returns RIVET_EXIT_USAGE. */
int cmd_usage_error(const char *cmd, bool prefix, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The option loop of `rivet seccomp` and `rivet acpi-dump` (core/opt.h,
 * which `rivet run`'s config_parse() uses too): @opts, no short options
 * but -h, which with --help prints @usage to stdout.  Returns -1 to go on,
 * with *@first the index of the first operand, or the exit status to stop
 * with (RIVET_EXIT_OK after the help; RIVET_EXIT_USAGE after reporting
 * bad usage, @fn's refusals included). */
int cmd_parse(const char *cmd, int argc, char *argv[],
	      const struct option *opts, opt_fn fn, void *ctx,
	      void (*usage)(FILE *out), int *first);

#endif
