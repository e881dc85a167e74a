// SPDX-License-Identifier: MIT
#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/boards.h"
#include "core/isa_exts.h"
#include "core/opt.h"

/* The names --cpu-features accepts (core/isa_exts.h). */
static const char *const known_exts[] = {
#define EXT_NAME(name, id) #name,
	RIVET_ISA_EXTS(EXT_NAME)
#undef EXT_NAME
};

bool config_isa_ext_known(const char *name)
{
	for (size_t i = 0; i < sizeof(known_exts) / sizeof(known_exts[0]);
	     i++)
		if (!strcmp(known_exts[i], name))
			return true;
	return false;
}

enum {
	OPT_BOARD = 256, OPT_KERNEL, OPT_INITRD, OPT_CMDLINE, OPT_CPUS,
	OPT_MEMORY, OPT_DISK, OPT_AIA_MODE, OPT_IRQCHIP, OPT_DUMP_DTB,
	OPT_CPU_FEATURES,
	OPT_NO_REBOOT, OPT_NO_RNG, OPT_VERSION, OPT_JAIL, OPT_UID, OPT_GID,
	OPT_NEW_PIDNS, OPT_NEW_NETNS, OPT_SECCOMP, OPT_FIRMWARE,
	OPT_FIRMWARE_VARS, OPT_NET, OPT_BOOT_TIMEOUT, OPT_BOOT_TIMER, OPT_STATS,
	OPT_HUGEPAGES, OPT_QMP, OPT_NAME, OPT_UUID, OPT_PIDFILE, OPT_PAUSED,
	OPT_NO_SHUTDOWN, OPT_DAEMONIZE, OPT_SERIAL, OPT_INCOMING,
};

static const struct option long_opts[] = {
	{ "board", required_argument, NULL, OPT_BOARD },
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "hugepages", required_argument, NULL, OPT_HUGEPAGES },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "aia-mode", required_argument, NULL, OPT_AIA_MODE },
	{ "irqchip", required_argument, NULL, OPT_IRQCHIP },
	{ "dump-dtb", required_argument, NULL, OPT_DUMP_DTB },
	{ "cpu-features", required_argument, NULL, OPT_CPU_FEATURES },
	{ "no-reboot", no_argument, NULL, OPT_NO_REBOOT },
	{ "no-rng", no_argument, NULL, OPT_NO_RNG },
	{ "jail", required_argument, NULL, OPT_JAIL },
	{ "uid", required_argument, NULL, OPT_UID },
	{ "gid", required_argument, NULL, OPT_GID },
	{ "new-pidns", no_argument, NULL, OPT_NEW_PIDNS },
	{ "new-netns", no_argument, NULL, OPT_NEW_NETNS },
	{ "seccomp", required_argument, NULL, OPT_SECCOMP },
	{ "firmware", required_argument, NULL, OPT_FIRMWARE },
	{ "firmware-vars", required_argument, NULL, OPT_FIRMWARE_VARS },
	{ "net", required_argument, NULL, OPT_NET },
	{ "boot-timeout", required_argument, NULL, OPT_BOOT_TIMEOUT },
	{ "boot-timer", no_argument, NULL, OPT_BOOT_TIMER },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "qmp", required_argument, NULL, OPT_QMP },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "uuid", required_argument, NULL, OPT_UUID },
	{ "pidfile", required_argument, NULL, OPT_PIDFILE },
	{ "paused", no_argument, NULL, OPT_PAUSED },
	{ "no-shutdown", no_argument, NULL, OPT_NO_SHUTDOWN },
	{ "daemonize", no_argument, NULL, OPT_DAEMONIZE },
	{ "serial", required_argument, NULL, OPT_SERIAL },
	{ "incoming", required_argument, NULL, OPT_INCOMING },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

void config_usage(FILE *out)
{
	fprintf(out, "Usage: rivet run --kernel IMAGE [options]\n"
		"\n"
		"Boot a Linux guest under KVM on a RISC-V host.\n"
		"\n"
		"  --board NAME           machine type: %s (default %s)\n",
		rivet_board_list(), RIVET_BOARD_DEFAULT);
	fputs("  --kernel IMAGE         RISC-V Linux Image to boot (required "
	      "unless --firmware)\n"
	      "  --firmware CODE.fd     virt: UEFI firmware in flash bank 0 "
	      "(read-only); with\n"
	      "                         --kernel, the firmware boots it "
	      "through fw_cfg\n"
	      "  --firmware-vars FILE   virt: flash bank 1, the firmware's "
	      "variables; guest\n"
	      "                         writes persist (created blank if "
	      "missing)\n"
	      "  --boot-timeout SECS    virt: how long the firmware waits for "
	      "a key before\n"
	      "                         booting (0-65; default: its own, 5 s "
	      "for EDK2)\n"
	      "  --initrd FILE          initial ramdisk\n"
	      "  --cmdline STR          kernel command line (default "
	      "\"console=ttyS0\")\n"
	      "  --cpus N               vCPUs, 1-32 (default 1)\n"
	      "  --memory SIZE          guest RAM, K/M/G suffix, multiple of "
	      "2M, 16M-64G\n"
	      "                         (default 512M)\n"
	      "  --hugepages MODE       guest RAM pages: thp (default: "
	      "transparent huge\n"
	      "                         pages), on (2M hugetlb pages, "
	      "reserved at start;\n"
	      "                         see /proc/sys/vm/nr_hugepages), off "
	      "(4K pages)\n"
	      "  --disk PATH[,readonly][,bootindex=N][,queues=N][,io=MODE]\n"
	      "                         virtio-blk disk from a raw file or "
	      "block device;\n"
	      "                         repeat for more (up to 8); bootindex: "
	      "the firmware\n"
	      "                         tries disks in increasing N first "
	      "(virt, --firmware);\n"
	      "                         queues: 1 to --cpus (default: one per "
	      "vCPU); io:\n"
	      "                         threads (default: I/O threads, "
	      "requests in parallel),\n"
	      "                         uring (I/O threads submitting to a "
	      "restricted io_uring)\n"
	      "                         or sync (the vCPU serves its own "
	      "requests, 1 queue)\n"
	      "  --net tap=NAME[,mac=MAC][,queues=N]  virtio-net on host TAP "
	      "interface NAME\n"
	      "                         (up to 4); queues=N: N queue pairs on a "
	      "multi-queue TAP\n"
	      "                         (1 to 8, default 1); vhost=auto|on|off: "
	      "the kernel's\n"
	      "                         vhost-net serves the queues (auto: where "
	      "it can)\n"
	      "  --irqchip MODE         interrupt controller: auto (default: the "
	      "best the host\n"
	      "                         offers), aia (KVM's IMSIC + APLIC), "
	      "split (rivet's\n"
	      "                         APLIC, KVM's IMSIC), plic (rivet's "
	      "PLIC)\n"
	      "  --aia-mode MODE        KVM's IMSIC (aia, split): auto "
	      "(default), emul, hwaccel\n"
	      "  --cpu-features LIST    hide ISA extensions from the guest, "
	      "e.g. -zicboz,-sstc\n"
	      "  --dump-dtb FILE        also write the guest's device tree "
	      "blob to FILE\n"
	      "  --no-reboot            exit (status 3) when the guest "
	      "reboots\n"
	      "  --no-rng               no virtio-rng device\n"
	      "  --boot-timer           a device the guest writes 123 to when "
	      "booted; rivet\n"
	      "                         then prints the time since its start "
	      "(docs/benchmarks.md)\n"
	      "  --qmp unix:PATH,server[,wait=off]\n"
	      "                         a QMP control socket at PATH (up to "
	      "4; docs/qmp.md);\n"
	      "                         without wait=off the guest starts "
	      "once a client\n"
	      "                         connected\n"
	      "  --name NAME            the VM's name (QMP query-name)\n"
	      "  --uuid UUID            the VM's UUID (QMP query-uuid; "
	      "default all zero)\n"
	      "  --pidfile FILE         write rivet's process id to FILE "
	      "(removed at exit)\n"
	      "  -S, --paused           set up the VM, then wait for QMP "
	      "'cont' to start it\n"
	      "  --no-shutdown          when the guest powers off or panics, "
	      "keep rivet and\n"
	      "                         its QMP sockets (system_reset boots "
	      "again, quit ends)\n"
	      "  --daemonize            run in the background: detach once "
	      "the VM is set up\n"
	      "                         (setup errors still give the exit "
	      "status); the guest\n"
	      "                         console is discarded unless --serial "
	      "says where\n"
	      "  --serial stdio|pty|null|unix:PATH,server[,wait=off]\n"
	      "                         the guest console: rivet's terminal "
	      "(default), a new\n"
	      "                         pseudo-terminal (its name is "
	      "printed), nowhere, or a\n"
	      "                         UNIX socket (0600, one client at a "
	      "time; without\n"
	      "                         wait=off the guest starts once a "
	      "client connected)\n"
	      "  --incoming file:DIR    restore the snapshot in DIR (QMP "
	      "'migrate' wrote it;\n"
	      "                         give the options it was taken with; "
	      "--kernel is\n"
	      "                         not needed) and run it, or wait with "
	      "--paused\n"
	      "                         (docs/snapshot.md)\n"
	      "  --stats                at the end, print vCPU exits by reason "
	      "and MMIO accesses\n"
	      "                         by device, with the time spent on "
	      "them\n"
	      "  --jail DIR             confine rivet to DIR (pivot_root), "
	      "then run as\n"
	      "                         --uid U --gid G with no capabilities; "
	      "paths are\n"
	      "                         then as seen inside DIR "
	      "(docs/jail.md)\n"
	      "  --new-pidns, --new-netns  with --jail: new PID / network "
	      "namespace\n"
	      "  --seccomp on|off       per-thread syscall allowlists (default "
	      "on; off is\n"
	      "                         for debugging only: docs/seccomp.md)\n"
	      "  -v, --verbose          more log output (repeat for debug)\n"
	      "  -h, --help             this text\n"
	      "  --version              print the version\n"
	      "\n"
	      "Exit status: 0 guest powered off, 1 VM error or guest crash, "
	      "2 bad usage or\n"
	      "input file, 3 guest reboot with --no-reboot, 148 forbidden "
	      "syscall (seccomp),\n"
	      "128+N stopped by signal N.\n", out);
}

int config_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

int config_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	switch (toupper((unsigned char)*end)) {
	case '\0':
		break;
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	case 'T':
		shift = 40;
		break;
	default:
		return -EINVAL;
	}
	if (*end) {
		end++;
		/* Accept "512M", "512MB", "512MiB". */
		if (*end == 'i' || *end == 'I')
			end++;
		if (*end == 'B' || *end == 'b')
			end++;
		if (*end)
			return -EINVAL;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_uint(const char *s, unsigned long *out)
{
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

static char *own(struct vm_config *cfg, const char *s)
{
	char *p;

	if (cfg->nr_owned >= sizeof(cfg->owned) / sizeof(cfg->owned[0]))
		return NULL;
	p = strdup(s);
	if (p)
		cfg->owned[cfg->nr_owned++] = p;
	return p;
}

static int parse_disk(struct vm_config *cfg, const char *arg, char *err,
		      size_t errlen)
{
	struct disk_config *d;
	char *copy, *opt, *save = NULL;

	if (cfg->nr_disks >= CONFIG_MAX_DISKS)
		return config_fail(err, errlen, "--disk: at most %d disks",
				   CONFIG_MAX_DISKS);
	copy = own(cfg, arg);
	if (!copy)
		return config_fail(err, errlen, "--disk: out of memory");
	d = &cfg->disks[cfg->nr_disks];
	d->path = strtok_r(copy, ",", &save);
	if (!d->path || !*d->path || arg[0] == ',')
		return config_fail(err, errlen, "--disk: missing path in '%s'", arg);
	d->bootindex = -1;
	while ((opt = strtok_r(NULL, ",", &save))) {
		unsigned long n;

		if (!strcmp(opt, "readonly") || !strcmp(opt, "ro")) {
			d->readonly = true;
		} else if (!strncmp(opt, "bootindex=", 10)) {
			if (d->bootindex >= 0)
				return config_fail(err, errlen,
						   "--disk: bootindex given twice in "
						   "'%s'", arg);
			if (parse_uint(opt + 10, &n) ||
			    n > CONFIG_MAX_BOOTINDEX)
				return config_fail(err, errlen,
						   "--disk: bootindex '%s' is not a "
						   "number from 0 to %d", opt + 10,
						   CONFIG_MAX_BOOTINDEX);
			d->bootindex = (int)n;
		} else if (!strncmp(opt, "queues=", 7)) {
			if (parse_uint(opt + 7, &n) || n < 1 ||
			    n > CONFIG_MAX_CPUS)
				return config_fail(err, errlen,
						   "--disk: queues '%s' is not a "
						   "number from 1 to %d", opt + 7,
						   CONFIG_MAX_CPUS);
			d->queues = (unsigned int)n;
		} else if (!strcmp(opt, "io=sync")) {
			d->io = DISK_IO_SYNC;
		} else if (!strcmp(opt, "io=threads")) {
			d->io = DISK_IO_THREADS;
		} else if (!strcmp(opt, "io=uring")) {
			d->io = DISK_IO_URING;
		} else {
			return config_fail(err, errlen,
					   "--disk: unknown option '%s' (known: "
					   "readonly, bootindex=N, queues=N, "
					   "io=threads|uring|sync)", opt);
		}
	}
	cfg->nr_disks++;
	return 0;
}

static bool valid_ext_name(const char *s)
{
	if (!*s || strlen(s) > 31)
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s))
			return false;
	return true;
}

static int parse_features(struct vm_config *cfg, const char *arg, char *err,
			  size_t errlen)
{
	char *copy, *tok, *save = NULL;

	copy = own(cfg, arg);
	if (!copy)
		return config_fail(err, errlen, "--cpu-features: out of memory");
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		for (char *c = tok; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		if (tok[0] != '-')
			return config_fail(err, errlen,
					   "--cpu-features: '%s': only disabling is "
					   "supported, write -NAME", tok);
		if (!valid_ext_name(tok + 1))
			return config_fail(err, errlen,
					   "--cpu-features: '%s' is not an extension "
					   "name", tok);
		if (!config_isa_ext_known(tok + 1))
			return config_fail(err, errlen,
					   "--cpu-features: unknown extension '%s'",
					   tok + 1);
		if (cfg->nr_cpu_features_off >= CONFIG_MAX_FEATURES)
			return config_fail(err, errlen,
					   "--cpu-features: too many entries");
		cfg->cpu_features_off[cfg->nr_cpu_features_off++] = tok + 1;
	}
	if (!cfg->nr_cpu_features_off)
		return config_fail(err, errlen, "--cpu-features: empty list");
	return 0;
}

static int parse_board(struct vm_config *cfg, const char *arg, char *err,
		       size_t errlen)
{
	cfg->board = rivet_board_name(arg);
	if (cfg->board)
		return 0;
	return config_fail(err, errlen, "--board: unknown board '%s' (known: %s)",
			   arg, rivet_board_list());
}

static int parse_one(void *ctx, int opt, const char *arg, char *err,
		     size_t errlen)
{
	struct vm_config *cfg = ctx;
	unsigned long n;
	uint64_t size;

	switch (opt) {
	case 'h':
		return CONFIG_HELP;
	case OPT_VERSION:
		return CONFIG_VERSION;
	case OPT_BOARD:
		return parse_board(cfg, arg, err, errlen);
	case OPT_KERNEL:
		cfg->kernel = arg;
		return 0;
	case OPT_INITRD:
		cfg->initrd = arg;
		return 0;
	case OPT_CMDLINE:
		if (strlen(arg) > CONFIG_MAX_CMDLINE)
			return config_fail(err, errlen,
					   "--cmdline: %zu bytes, at most %d allowed",
					   strlen(arg), CONFIG_MAX_CMDLINE);
		cfg->cmdline = arg;
		return 0;
	case OPT_CPUS:
		if (parse_uint(arg, &n) || n < 1 || n > CONFIG_MAX_CPUS)
			return config_fail(err, errlen,
					   "--cpus: '%s' is not a number from 1 to %d",
					   arg, CONFIG_MAX_CPUS);
		cfg->cpus = (unsigned int)n;
		return 0;
	case OPT_MEMORY:
		if (config_parse_size(arg, &size))
			return config_fail(err, errlen,
					   "--memory: '%s' is not a size (e.g. 512M, "
					   "2G)", arg);
		if (size < CONFIG_MIN_MEM || size > CONFIG_MAX_MEM)
			return config_fail(err, errlen,
					   "--memory: %s is out of range (16M to 64G)",
					   arg);
		if (size % (2ULL << 20))
			return config_fail(err, errlen,
					   "--memory: %s is not a multiple of 2M", arg);
		cfg->mem_size = size;
		return 0;
	case OPT_HUGEPAGES:
		if (!strcmp(arg, "thp"))
			cfg->pages = GMEM_PAGES_THP;
		else if (!strcmp(arg, "off"))
			cfg->pages = GMEM_PAGES_SMALL;
		else if (!strcmp(arg, "on"))
			cfg->pages = GMEM_PAGES_HUGETLB;
		else
			return config_fail(err, errlen,
					   "--hugepages: '%s' is not one of thp, "
					   "on, off", arg);
		return 0;
	case OPT_DISK:
		return parse_disk(cfg, arg, err, errlen);
	case OPT_AIA_MODE:
		if (!strcmp(arg, "auto"))
			cfg->aia_mode = AIA_MODE_AUTO;
		else if (!strcmp(arg, "emul"))
			cfg->aia_mode = AIA_MODE_EMUL;
		else if (!strcmp(arg, "hwaccel"))
			cfg->aia_mode = AIA_MODE_HWACCEL;
		else
			return config_fail(err, errlen,
					   "--aia-mode: '%s' is not one of auto, emul, "
					   "hwaccel", arg);
		cfg->aia_mode_set = true;
		return 0;
	case OPT_IRQCHIP:
		if (config_parse_irqchip(arg, &cfg->irqchip))
			return config_fail(err, errlen,
					   "--irqchip: '%s' is not one of auto, aia, "
					   "split, plic", arg);
		return 0;
	case OPT_DUMP_DTB:
		if (!*arg)
			return config_fail(err, errlen, "--dump-dtb: empty file name");
		cfg->dump_dtb = arg;
		return 0;
	case OPT_CPU_FEATURES:
		return parse_features(cfg, arg, err, errlen);
	case OPT_NO_REBOOT:
		cfg->no_reboot = true;
		return 0;
	case OPT_BOOT_TIMER:
		cfg->boot_timer = true;
		return 0;
	case OPT_STATS:
		cfg->stats = true;
		return 0;
	case OPT_QMP:
		if (cfg->nr_qmp >= CONFIG_MAX_QMP)
			return config_fail(err, errlen,
					   "--qmp: at most %d sockets",
					   CONFIG_MAX_QMP);
		if (config_parse_qmp(arg, &cfg->qmp[cfg->nr_qmp], err, errlen))
			return -EINVAL;
		for (unsigned int i = 0; i < cfg->nr_qmp; i++)
			if (!strcmp(cfg->qmp[i].path,
				    cfg->qmp[cfg->nr_qmp].path))
				return config_fail(err, errlen,
						   "--qmp: %s given twice",
						   cfg->qmp[i].path);
		cfg->nr_qmp++;
		return 0;
	case OPT_NAME:
		if (config_parse_name(arg, err, errlen))
			return -EINVAL;
		cfg->name = arg;
		return 0;
	case OPT_UUID:
		if (config_parse_uuid(arg, cfg->uuid))
			return config_fail(err, errlen,
					   "--uuid: '%s' is not a UUID "
					   "(8-4-4-4-12 hex digits)", arg);
		return 0;
	case OPT_PIDFILE:
		if (!*arg)
			return config_fail(err, errlen,
					   "--pidfile: empty file name");
		cfg->pidfile = arg;
		return 0;
	case 'S':
	case OPT_PAUSED:
		cfg->paused = true;
		return 0;
	case OPT_NO_SHUTDOWN:
		cfg->no_shutdown = true;
		return 0;
	case OPT_DAEMONIZE:
		cfg->daemonize = true;
		return 0;
	case OPT_SERIAL:
		return config_parse_serial(arg, &cfg->serial, err, errlen);
	case OPT_INCOMING:
		if (strncmp(arg, "file:", 5))
			return config_fail(err, errlen,
					   "--incoming: '%s': only file:DIR (a "
					   "snapshot QMP 'migrate' wrote) is "
					   "supported", arg);
		if (!arg[5])
			return config_fail(err, errlen,
					   "--incoming: file: needs a directory");
		cfg->incoming = arg + 5;
		return 0;
	case OPT_NO_RNG:
		cfg->rng = false;
		return 0;
	case OPT_JAIL:
		if (!*arg)
			return config_fail(err, errlen, "--jail: empty directory name");
		cfg->jail_dir = arg;
		return 0;
	case OPT_UID:
	case OPT_GID:
		if (parse_uint(arg, &n) || n >= UINT32_MAX)
			return config_fail(err, errlen, "%s: '%s' is not a numeric id",
					   opt == OPT_UID ? "--uid" : "--gid", arg);
		if (opt == OPT_UID) {
			cfg->jail_uid = (uint32_t)n;
			cfg->jail_uid_set = true;
		} else {
			cfg->jail_gid = (uint32_t)n;
			cfg->jail_gid_set = true;
		}
		return 0;
	case OPT_NEW_PIDNS:
		cfg->new_pidns = true;
		return 0;
	case OPT_NEW_NETNS:
		cfg->new_netns = true;
		return 0;
	case OPT_FIRMWARE:
	case OPT_FIRMWARE_VARS:
		if (!*arg)
			return config_fail(err, errlen, "%s: empty file name",
					   opt == OPT_FIRMWARE ? "--firmware"
					   : "--firmware-vars");
		if (opt == OPT_FIRMWARE)
			cfg->firmware = arg;
		else
			cfg->firmware_vars = arg;
		return 0;
	case OPT_BOOT_TIMEOUT:
		if (parse_uint(arg, &n) || n > CONFIG_MAX_BOOT_TIMEOUT)
			return config_fail(err, errlen,
					   "--boot-timeout: '%s' is not a number of "
					   "seconds from 0 to %d", arg,
					   CONFIG_MAX_BOOT_TIMEOUT);
		cfg->boot_timeout = (int)n;
		return 0;
	case OPT_NET: {
		struct net_config *net;

		if (cfg->nr_nets >= CONFIG_MAX_NETS)
			return config_fail(err, errlen, "--net: at most %d interfaces",
					   CONFIG_MAX_NETS);
		net = &cfg->nets[cfg->nr_nets];
		if (config_parse_net(arg, net->tap, sizeof(net->tap), net->mac,
				     &net->queues, &net->vhost, err, errlen))
			return -EINVAL;
		cfg->nr_nets++;
		return 0;
	}
	case OPT_SECCOMP:
		if (!strcmp(arg, "on"))
			cfg->seccomp = true;
		else if (!strcmp(arg, "off"))
			cfg->seccomp = false;
		else
			return config_fail(err, errlen,
					   "--seccomp: '%s' is not on or off", arg);
		return 0;
	case 'v':
		cfg->verbosity++;
		return 0;
	default:
		return config_fail(err, errlen, "internal: unhandled option %d", opt);
	}
}

/* A boot order is the firmware's business, and each place in it is one
 * device's. */
static int check_bootindex(const struct vm_config *cfg, char *err,
			   size_t errlen)
{
	for (unsigned int i = 0; i < cfg->nr_disks; i++) {
		int bi = cfg->disks[i].bootindex;

		if (bi < 0)
			continue;
		if (!cfg->firmware)
			return config_fail(err, errlen,
					   "--disk %s: bootindex is for firmware boot "
					   "(--board virt --firmware)",
					   cfg->disks[i].path);
		for (unsigned int j = 0; j < i; j++)
			if (cfg->disks[j].bootindex == bi)
				return config_fail(err, errlen,
						   "--disk %s: bootindex=%d is "
						   "already %s's", cfg->disks[i].path,
						   bi, cfg->disks[j].path);
	}
	return 0;
}

/* A queue per vCPU at most (Linux uses no more); a synchronous disk has
 * one, served by whichever vCPU notifies it. */
static int check_queues(struct vm_config *cfg, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < cfg->nr_disks; i++) {
		struct disk_config *d = &cfg->disks[i];

		if (d->io == DISK_IO_SYNC && d->queues > 1)
			return config_fail(err, errlen,
					   "--disk %s: io=sync serves one queue, "
					   "not queues=%u", d->path, d->queues);
		if (d->queues > cfg->cpus)
			return config_fail(err, errlen,
					   "--disk %s: queues=%u is more than "
					   "the %u vCPUs (--cpus)", d->path,
					   d->queues, cfg->cpus);
		if (!d->queues)
			d->queues = d->io == DISK_IO_SYNC ? 1 : cfg->cpus;
	}
	return 0;
}

int config_parse(struct vm_config *cfg, int argc, char *const argv[],
		 char *err, size_t errlen)
{
	int first, ret;

	memset(cfg, 0, sizeof(*cfg));
	cfg->board = RIVET_BOARD_DEFAULT;
	cfg->cpus = 1;
	cfg->mem_size = CONFIG_DEFAULT_MEM;
	cfg->pages = GMEM_PAGES_THP;
	cfg->rng = true;
	cfg->seccomp = true;
	cfg->aia_mode = AIA_MODE_AUTO;
	cfg->boot_timeout = -1;

	memcpy(cfg->uuid, "00000000-0000-0000-0000-000000000000",
	       CONFIG_UUID_LEN + 1);

	ret = opt_parse(argc, argv, "vhS", long_opts, parse_one, cfg, &first,
			err, errlen);
	if (ret)
		return ret;
	if (first < argc)
		return config_fail(err, errlen, "unexpected argument '%s'",
				   argv[first]);
	if (!cfg->kernel && !cfg->firmware && !cfg->incoming)
		return config_fail(err, errlen,
				   "--kernel: a kernel Image is required (or, on "
				   "--board virt, --firmware)");
	if ((cfg->firmware || cfg->firmware_vars) &&
	    strcmp(cfg->board, "virt"))
		return config_fail(err, errlen,
				   "--firmware: only --board virt boots firmware");
	if (cfg->firmware_vars && !cfg->firmware)
		return config_fail(err, errlen, "--firmware-vars: needs --firmware");
	if (cfg->boot_timeout >= 0 && !cfg->firmware)
		return config_fail(err, errlen, "--boot-timeout: needs --firmware");
	ret = check_bootindex(cfg, err, errlen);
	if (!ret)
		ret = check_queues(cfg, err, errlen);
	if (ret)
		return ret;
	if (cfg->aia_mode_set && cfg->irqchip == IRQCHIP_PLIC)
		return config_fail(err, errlen,
				   "--aia-mode: KVM's in-kernel IMSIC only "
				   "(--irqchip aia, split or auto), not "
				   "--irqchip plic");
	/* EDK2's early stages use RAM up to 64 MiB in, then allocate their
	 * memory pool; below this they stop without a word. */
	if (cfg->firmware && cfg->mem_size < (256ULL << 20))
		return config_fail(err, errlen,
				   "--memory: firmware boot needs at least 256M");
	if (cfg->jail_dir && (!cfg->jail_uid_set || !cfg->jail_gid_set))
		return config_fail(err, errlen, "--jail: needs --uid and --gid");
	if (cfg->jail_dir && cfg->nr_nets)
		return config_fail(err, errlen,
				   "--net: not available with --jail yet (the "
				   "jail's /dev holds only /dev/kvm: no "
				   "/dev/net/tun)");
	if (!cfg->jail_dir && (cfg->jail_uid_set || cfg->jail_gid_set ||
			       cfg->new_pidns || cfg->new_netns))
		return config_fail(err, errlen,
				   "--uid, --gid, --new-pidns and --new-netns need "
				   "--jail");
	if (cfg->jail_dir && cfg->serial.kind == SERIAL_PTY)
		return config_fail(err, errlen,
				   "--serial pty: not available with --jail "
				   "(the jail's /dev has no /dev/ptmx); use "
				   "--serial unix:PATH,server");
	for (unsigned int i = 0; cfg->serial.kind == SERIAL_UNIX &&
				 i < cfg->nr_qmp; i++)
		if (!strcmp(cfg->qmp[i].path, cfg->serial.path))
			return config_fail(err, errlen,
					   "--serial: %s is also a --qmp socket",
					   cfg->serial.path);
	if (cfg->paused && !cfg->nr_qmp)
		return config_fail(err, errlen,
				   "--paused: needs --qmp (nothing could "
				   "start the guest)");
	if (cfg->no_shutdown && !cfg->nr_qmp)
		return config_fail(err, errlen,
				   "--no-shutdown: needs --qmp (nothing could "
				   "end rivet but a signal)");
	if (!cfg->cmdline)
		cfg->cmdline = "console=ttyS0";
	return CONFIG_RUN;
}

void config_free(struct vm_config *cfg)
{
	for (unsigned int i = 0; i < cfg->nr_owned; i++)
		free(cfg->owned[i]);
	cfg->nr_owned = 0;
}

const char *config_aia_mode_name(enum aia_mode mode)
{
	switch (mode) {
	case AIA_MODE_EMUL:
		return "emul";
	case AIA_MODE_HWACCEL:
		return "hwaccel";
	default:
		return "auto";
	}
}

static const char *const irqchip_names[] = {
	[IRQCHIP_AUTO] = "auto",
	[IRQCHIP_AIA] = "aia",
	[IRQCHIP_SPLIT] = "split",
	[IRQCHIP_PLIC] = "plic",
};

const char *config_irqchip_name(enum irqchip_mode mode)
{
	if ((unsigned int)mode >= sizeof(irqchip_names) / sizeof(*irqchip_names))
		return "?";
	return irqchip_names[mode];
}

int config_parse_irqchip(const char *s, enum irqchip_mode *out)
{
	for (size_t i = 0; s && i < sizeof(irqchip_names) / sizeof(*irqchip_names);
	     i++) {
		if (!strcmp(s, irqchip_names[i])) {
			*out = (enum irqchip_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}
