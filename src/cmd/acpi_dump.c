// SPDX-License-Identifier: MIT
/* `rivet acpi-dump`: write a board's ACPI tables as SIG.dat files without
 * starting a VM, for people who validate tables (iasl -d). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acpi/acpi.h"
#include "cmd/cmd.h"
#include "core/boards.h"
#include "core/config.h"
#include "core/fileio.h"
#include "core/log.h"
#include "machine/machine.h"

static void usage(FILE *out)
{
	fputs("Usage: rivet acpi-dump [--board virt] [--cpus N] "
	      "[--memory SIZE]\n"
	      "                       [--irqchip aia|split|plic] DIR\n"
	      "\n"
	      "Write the board's ACPI tables (RSDP, XSDT, FACP, DSDT, APIC, "
	      "RHCT, SPCR, MCFG)\n"
	      "as DIR/SIG.dat, linked at the start of RAM, without starting a "
	      "VM, for the\n"
	      "interrupt controller --irqchip names (default aia; split shows "
	      "the guest the\n"
	      "same tables).  The harts\n"
	      "are described as rv64imafdc_zicbom_zicboz_zicntr_zicsr_zifencei_"
	      "zihintpause_\n"
	      "zba_zbb_zbs_sstc, Sv57, 10 MHz timebase; a running VM's tables "
	      "use what KVM\n"
	      "reports instead.\n", out);
}

static int write_file(const char *dir, const char *name, const uint8_t *p,
		      size_t len)
{
	char path[4096];
	int fd, err;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s.dat", dir, name) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = -errno;
		log_err("%s: %s", path, strerror(-err));
		return err;
	}
	err = fio_pwrite_all(fd, p, len, 0);
	if (err)
		log_err("%s: %s", path, strerror(-err));
	if (close(fd) && !err)
		err = -errno;
	return err;
}

int acpi_dump_write(const struct machine *m, const struct acpi_platform *p,
		    const char *dir)
{
	struct acpi_tables t;
	uint64_t rsdp_gpa;
	uint8_t *img;
	size_t size;
	int err;

	err = acpi_build(m, p, &t);
	if (err)
		return err;
	size = acpi_linked_size(&t);
	img = malloc(size);
	err = img ? acpi_link(&t, m->ram.base, img, size, &rsdp_gpa)
		  : -ENOMEM;
	for (unsigned int i = 0; !err && i < t.nr_tables; i++) {
		const struct acpi_table_ref *r = &t.tables[i];
		bool rsdp = r->file == ACPI_FILE_RSDP;
		size_t off = r->offset +
			     (rsdp ? (size_t)(rsdp_gpa - m->ram.base) : 0);

		err = write_file(dir, rsdp ? "RSDP" : r->sig, img + off,
				 r->length);
	}
	free(img);
	acpi_tables_free(&t);
	return err;
}

static int dump(const struct vm_config *cfg, const char *dir)
{
	struct machine m;
	struct acpi_platform p;
	int ret;

	ret = machine_create_offline(&m, cfg);
	if (!ret && !m.board->acpi_platform)
		ret = -ENOTSUP;
	if (!ret) {
		m.board->acpi_platform(&m, &p);
		ret = acpi_dump_write(&m, &p, dir);
		if (ret)
			log_err("acpi-dump: cannot write the tables to %s: %s",
				dir, strerror(-ret));
	}
	machine_free(&m);
	if (ret == -ENOTSUP)
		return cmd_usage_error("acpi-dump", true,
				       "--board %s has no ACPI tables (use "
				       "virt)", cfg->board);
	return ret ? RIVET_EXIT_ERROR : RIVET_EXIT_OK;
}

static int opt(void *ctx, int val, const char *arg, char *err,
	       size_t errlen)
{
	struct vm_config *cfg = ctx;
	unsigned long n;
	char *end;

	switch (val) {
	case 'b':
		cfg->board = rivet_board_name(arg);
		if (!cfg->board)
			return config_fail(err, errlen,
					   "--board: unknown board '%s' "
					   "(known: %s)", arg,
					   rivet_board_list());
		return 0;
	case 'i':
		if (config_parse_irqchip(arg, &cfg->irqchip) ||
		    cfg->irqchip == IRQCHIP_AUTO)
			return config_fail(err, errlen,
					   "--irqchip: '%s' is not one of aia, "
					   "split, plic", arg);
		return 0;
	case 'c':
		n = strtoul(arg, &end, 10);
		if (*end || !*arg || n < 1 || n > CONFIG_MAX_CPUS)
			return config_fail(err, errlen,
					   "--cpus: '%s' is not a number from "
					   "1 to %d", arg, CONFIG_MAX_CPUS);
		cfg->cpus = (unsigned int)n;
		return 0;
	default:
		if (config_parse_size(arg, &cfg->mem_size) ||
		    cfg->mem_size < CONFIG_MIN_MEM ||
		    cfg->mem_size > CONFIG_MAX_MEM ||
		    cfg->mem_size % (2ULL << 20))
			return config_fail(err, errlen,
					   "--memory: '%s' is not a size from "
					   "16M to 64G, a multiple of 2M", arg);
		return 0;
	}
}

int cmd_acpi_dump(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "board", required_argument, NULL, 'b' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'm' },
		{ "irqchip", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct vm_config cfg = {
		.board = "virt", .cpus = 2, .mem_size = 2ULL << 30,
		.cmdline = "", .rng = true, .irqchip = IRQCHIP_AIA,
	};
	int ret, first;

	ret = cmd_parse("acpi-dump", argc, argv, opts, opt, &cfg, usage,
			&first);
	if (ret >= 0)
		return ret;
	if (first >= argc)
		return cmd_usage_error("acpi-dump", true,
				       "one output directory needed");
	if (first + 1 < argc)
		return cmd_usage_error("acpi-dump", true,
				       "unexpected argument '%s'",
				       argv[first + 1]);
	return dump(&cfg, argv[first]);
}
