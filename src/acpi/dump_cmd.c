// SPDX-License-Identifier: MIT
/* `rivet acpi-dump`: write a board's ACPI tables as SIG.dat files without
 * starting a VM, for people who validate tables (iasl -d). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acpi/acpi.h"
#include "core/config.h"
#include "core/log.h"
#include "machine/machine.h"

/* Without KVM there is no host to ask what a hart offers: describe a
 * typical one.  A running VM's tables use what KVM reports. */
static const char *const default_exts[] = {
	"i", "m", "a", "f", "d", "c", "zicbom", "zicboz", "zicntr", "zicsr",
	"zifencei", "zihintpause", "zba", "zbb", "zbs", "sstc",
};

static void usage(FILE *out)
{
	fputs("Usage: rivet acpi-dump [--board virt] [--cpus N] "
	      "[--memory SIZE] DIR\n"
	      "\n"
	      "Write the board's ACPI tables (RSDP, XSDT, FACP, DSDT, APIC, "
	      "RHCT, SPCR, MCFG)\n"
	      "as DIR/SIG.dat, linked at the start of RAM, without starting a "
	      "VM.  The harts\n"
	      "are described as rv64imafdc_zicbom_zicboz_zicntr_zicsr_zifencei_"
	      "zihintpause_\n"
	      "zba_zbb_zbs_sstc, Sv57, 10 MHz timebase; a running VM's tables "
	      "use what KVM\n"
	      "reports instead.\n", out);
}

static int dump(const struct vm_config *cfg, const char *dir)
{
	const struct board *board = board_find(cfg->board);
	struct machine m = { .cfg = cfg, .board = board };
	struct acpi_platform p;
	int ret;

	if (!board || !board->acpi_platform) {
		fprintf(stderr, "rivet: acpi-dump: --board %s has no ACPI "
			"tables (use virt)\n", cfg->board);
		return 2;
	}
	ret = gmem_alloc(&m.ram, board->ram_base, cfg->mem_size);
	if (!ret)
		ret = board->create_devices(&m);
	if (!ret) {
		m.cpu.xlen = 64;
		for (size_t i = 0;
		     i < sizeof(default_exts) / sizeof(default_exts[0]); i++)
			m.cpu.exts[m.cpu.nr_exts++] = default_exts[i];
		m.cpu.timebase_freq = 10000000;
		m.cpu.mmu_type = "riscv,sv57";
		m.cpu.cbom_block_size = 64;
		m.cpu.cboz_block_size = 64;
		board->acpi_platform(&m, &p);
		ret = acpi_dump_dir_platform(&m, &p, dir);
		if (ret)
			log_err("acpi-dump: cannot write the tables to %s: %s",
				dir, strerror(-ret));
	}
	machine_destroy_devices(&m);
	if (board->destroy)
		board->destroy(&m);
	gmem_free(&m.ram);
	return ret ? 1 : 0;
}

int acpi_dump_cmd(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "board", required_argument, NULL, 'b' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct vm_config cfg = {
		.board = "virt", .cpus = 2, .mem_size = 2ULL << 30,
		.cmdline = "", .rng = true,
	};
	char *end;
	int opt;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (opt) {
		case 'b':
			cfg.board = optarg;
			break;
		case 'c':
			cfg.cpus = (unsigned int)strtoul(optarg, &end, 10);
			if (*end || !*optarg || cfg.cpus < 1 ||
			    cfg.cpus > CONFIG_MAX_CPUS) {
				fprintf(stderr, "rivet: acpi-dump: --cpus: '%s' "
					"is not a number from 1 to %d\n",
					optarg, CONFIG_MAX_CPUS);
				return 2;
			}
			break;
		case 'm':
			if (config_parse_size(optarg, &cfg.mem_size) ||
			    cfg.mem_size < CONFIG_MIN_MEM ||
			    cfg.mem_size > CONFIG_MAX_MEM ||
			    cfg.mem_size % (2ULL << 20)) {
				fprintf(stderr, "rivet: acpi-dump: --memory: "
					"'%s' is not a size from 16M to 64G, "
					"a multiple of 2M\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "rivet: acpi-dump: bad option '%s'\n",
				argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "rivet: acpi-dump: one output directory "
			"needed\n");
		usage(stderr);
		return 2;
	}
	return dump(&cfg, argv[optind]);
}
