// SPDX-License-Identifier: MIT
/* `rivet run` command-line parsing: good values, defaults, and a one-line
 * error naming the option for every bad one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "core/config.h"

#define ARGV(...) ((char *const[]){ "run", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "run", __VA_ARGS__ }) /   \
			 sizeof(char *)))
#define PARSE(cfg, err, ...)                                          \
	config_parse(cfg, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), err,  \
		     sizeof(err))

static void test_defaults(void **state)
{
	struct vm_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cfg, err, "--kernel", "Image"), CONFIG_RUN);
	assert_string_equal(cfg.kernel, "Image");
	assert_string_equal(cfg.board, "microvm");
	assert_int_equal(cfg.cpus, 1);
	assert_int_equal(cfg.mem_size, 512ULL << 20);
	assert_string_equal(cfg.cmdline, "console=ttyS0");
	assert_null(cfg.initrd);
	assert_int_equal(cfg.nr_disks, 0);
	assert_true(cfg.rng);
	assert_true(cfg.seccomp);
	assert_false(cfg.no_reboot);
	assert_int_equal(cfg.aia_mode, AIA_MODE_AUTO);
	assert_int_equal(cfg.irqchip, IRQCHIP_AUTO);
	config_free(&cfg);
}

/* The control plane's options (docs/qmp.md). */
static void test_control_plane(void **state)
{
	struct vm_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cfg, err, "--kernel", "K", "--qmp",
			       "unix:/a,server,wait=off", "--qmp",
			       "unix:/b,server", "-S", "--no-shutdown",
			       "--daemonize", "--name", "vm", "--uuid",
			       "0123ABCD-0000-1111-2222-333344445555",
			       "--pidfile", "/run/p"), CONFIG_RUN);
	assert_int_equal(cfg.nr_qmp, 2);
	assert_false(cfg.qmp[0].wait);
	assert_true(cfg.qmp[1].wait);
	assert_true(cfg.paused && cfg.no_shutdown && cfg.daemonize);
	assert_string_equal(cfg.name, "vm");
	assert_string_equal(cfg.uuid, "0123abcd-0000-1111-2222-333344445555");
	assert_string_equal(cfg.pidfile, "/run/p");
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, err, "--kernel", "K"), CONFIG_RUN);
	assert_string_equal(cfg.uuid, "00000000-0000-0000-0000-000000000000");
	assert_int_equal(cfg.nr_qmp, 0);
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, err, "--kernel", "K", "--paused"),
			 -EINVAL);
	assert_non_null(strstr(err, "--paused: needs --qmp"));
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, err, "--kernel", "K", "--no-shutdown"),
			 -EINVAL);
	assert_non_null(strstr(err, "--no-shutdown: needs --qmp"));
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, err, "--kernel", "K", "--qmp",
			       "unix:/a,server", "--qmp", "unix:/a,server"),
			 -EINVAL);
	assert_non_null(strstr(err, "given twice"));
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, err, "--kernel", "K", "--uuid", "nope"),
			 -EINVAL);
	assert_non_null(strstr(err, "--uuid: 'nope' is not a UUID"));
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, err, "--kernel", "K", "--qmp",
			       "unix:/a"), -EINVAL);
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, err, "--kernel", "K", "--qmp", "unix:/1,server",
			       "--qmp", "unix:/2,server", "--qmp", "unix:/3,server",
			       "--qmp", "unix:/4,server", "--qmp", "unix:/5,server"),
			 -EINVAL);
	assert_non_null(strstr(err, "at most 4"));
	config_free(&cfg);
}

/* --incoming file:DIR: restores need no kernel; other URIs, an empty
 * directory are refused with the option named. */
static void test_incoming(void **state)
{
	struct vm_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cfg, err, "--incoming", "file:/snap/a"),
			 CONFIG_RUN);
	assert_string_equal(cfg.incoming, "/snap/a");
	assert_null(cfg.kernel);
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, err, "--kernel", "K"), CONFIG_RUN);
	assert_null(cfg.incoming);
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, err, "--incoming", "tcp:0:4444"),
			 -EINVAL);
	assert_non_null(strstr(err, "--incoming: 'tcp:0:4444': only file:DIR"));
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, err, "--incoming", "file:"), -EINVAL);
	assert_non_null(strstr(err, "--incoming: file: needs a directory"));
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, err, "--incoming", "file:/s", "--paused"),
			 -EINVAL);
	assert_non_null(strstr(err, "--paused: needs --qmp"));
	config_free(&cfg);
}

/* --irqchip: each mode, names both ways; --aia-mode belongs to KVM's
 * in-kernel AIA only. */
static void test_irqchip(void **state)
{
	static char *const names[] = { "auto", "aia", "split", "plic" };
	struct vm_config cfg;
	enum irqchip_mode m;
	char err[256];

	(void)state;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(PARSE(&cfg, err, "--kernel", "K", "--irqchip",
				       names[i]), CONFIG_RUN);
		assert_int_equal(cfg.irqchip, i);
		assert_string_equal(config_irqchip_name(cfg.irqchip),
				    names[i]);
		assert_int_equal(config_parse_irqchip(names[i], &m), 0);
		assert_int_equal(m, i);
		config_free(&cfg);
	}
	assert_int_equal(config_parse_irqchip("PLIC", &m), -EINVAL);
	assert_int_equal(config_parse_irqchip(NULL, &m), -EINVAL);
	assert_string_equal(config_irqchip_name((enum irqchip_mode)9), "?");
	assert_int_equal(PARSE(&cfg, err, "--kernel", "K", "--irqchip", "aia",
			       "--aia-mode", "emul"), CONFIG_RUN);
	assert_true(cfg.aia_mode_set);
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, err, "--kernel", "K", "--aia-mode",
			       "hwaccel", "--irqchip", "auto"), CONFIG_RUN);
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, err, "--kernel", "K", "--aia-mode",
			       "hwaccel", "--irqchip", "split"), CONFIG_RUN);
	assert_int_equal(cfg.aia_mode, AIA_MODE_HWACCEL);
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, err, "--kernel", "K", "--irqchip",
			       "plic", "--aia-mode", "auto"), -EINVAL);
	assert_non_null(strstr(err, "--aia-mode: KVM's in-kernel IMSIC only"));
	assert_non_null(strstr(err, "--irqchip plic"));
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, err, "--kernel", "K", "--irqchip",
			       "pic"), -EINVAL);
	assert_non_null(strstr(err, "--irqchip: 'pic' is not one of auto, "
				    "aia, split, plic"));
	config_free(&cfg);
}

static void test_full(void **state)
{
	struct vm_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cfg, err, "--board", "microvm", "--kernel",
			       "K", "--initrd", "I", "--cmdline", "quiet",
			       "--cpus", "4", "--memory", "1G", "--disk",
			       "a.img", "--disk", "/dev/vdb,readonly",
			       "--aia-mode", "hwaccel", "--dump-dtb", "x.dtb",
			       "--cpu-features=-Zicboz,-sstc", "--no-reboot",
			       "--no-rng", "--seccomp=off", "-vv"),
			 CONFIG_RUN);
	assert_string_equal(cfg.initrd, "I");
	assert_string_equal(cfg.cmdline, "quiet");
	assert_int_equal(cfg.cpus, 4);
	assert_int_equal(cfg.mem_size, 1ULL << 30);
	assert_int_equal(cfg.nr_disks, 2);
	assert_string_equal(cfg.disks[0].path, "a.img");
	assert_false(cfg.disks[0].readonly);
	assert_string_equal(cfg.disks[1].path, "/dev/vdb");
	assert_true(cfg.disks[1].readonly);
	assert_int_equal(cfg.aia_mode, AIA_MODE_HWACCEL);
	assert_string_equal(cfg.dump_dtb, "x.dtb");
	assert_int_equal(cfg.nr_cpu_features_off, 2);
	assert_string_equal(cfg.cpu_features_off[0], "zicboz");
	assert_string_equal(cfg.cpu_features_off[1], "sstc");
	assert_true(cfg.no_reboot);
	assert_false(cfg.rng);
	assert_false(cfg.seccomp);
	assert_int_equal(cfg.verbosity, 2);
	config_free(&cfg);
}

static void test_jail_options(void **state)
{
	struct vm_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cfg, err, "--kernel", "K", "--jail", "/srv/j",
			       "--uid", "1000", "--gid", "1001", "--new-pidns",
			       "--new-netns"),
			 CONFIG_RUN);
	assert_string_equal(cfg.jail_dir, "/srv/j");
	assert_int_equal(cfg.jail_uid, 1000);
	assert_int_equal(cfg.jail_gid, 1001);
	assert_true(cfg.new_pidns);
	assert_true(cfg.new_netns);
	config_free(&cfg);
}

static void test_firmware(void **state)
{
	struct vm_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cfg, err, "--board", "virt", "--firmware",
			       "C.fd", "--firmware-vars", "V.fd"),
			 CONFIG_RUN);
	assert_string_equal(cfg.board, "virt");
	assert_null(cfg.kernel);
	assert_string_equal(cfg.firmware, "C.fd");
	assert_string_equal(cfg.firmware_vars, "V.fd");
	assert_int_equal(cfg.boot_timeout, -1);
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, err, "--board", "virt", "--firmware",
			       "C.fd", "--disk", "a.img", "--disk",
			       "b.img,bootindex=0,ro", "--disk",
			       "c.img,bootindex=9999", "--boot-timeout", "0"),
			 CONFIG_RUN);
	assert_int_equal(cfg.disks[0].bootindex, -1);
	assert_int_equal(cfg.disks[1].bootindex, 0);
	assert_true(cfg.disks[1].readonly);
	assert_int_equal(cfg.disks[2].bootindex, 9999);
	assert_int_equal(cfg.boot_timeout, 0);
	config_free(&cfg);
	/* Queues: one per vCPU unless said; io=sync has one. */
	assert_int_equal(PARSE(&cfg, err, "--kernel", "K", "--cpus", "4",
			       "--disk", "a.img", "--disk", "b.img,queues=2",
			       "--disk", "c.img,io=sync", "--disk",
			       "d.img,io=threads,queues=1", "--disk",
			       "e.img,io=uring"),
			 CONFIG_RUN);
	assert_int_equal(cfg.disks[0].queues, 4);
	assert_int_equal(cfg.disks[0].io, DISK_IO_THREADS);
	assert_int_equal(cfg.disks[1].queues, 2);
	assert_int_equal(cfg.disks[2].queues, 1);
	assert_int_equal(cfg.disks[2].io, DISK_IO_SYNC);
	assert_int_equal(cfg.disks[3].queues, 1);
	assert_int_equal(cfg.disks[3].io, DISK_IO_THREADS);
	assert_int_equal(cfg.disks[4].io, DISK_IO_URING);
	assert_int_equal(cfg.disks[4].queues, 4);
	config_free(&cfg);
	/* --cpus after --disk counts too. */
	assert_int_equal(PARSE(&cfg, err, "--kernel", "K", "--disk", "a.img",
			       "--cpus", "3"), CONFIG_RUN);
	assert_int_equal(cfg.disks[0].queues, 3);
	assert_int_equal(cfg.pages, GMEM_PAGES_THP);
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, err, "--kernel", "K", "--hugepages",
			       "on"), CONFIG_RUN);
	assert_int_equal(cfg.pages, GMEM_PAGES_HUGETLB);
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, err, "--kernel", "K", "--hugepages",
			       "off"), CONFIG_RUN);
	assert_int_equal(cfg.pages, GMEM_PAGES_SMALL);
	config_free(&cfg);
}

static void expect_error(int ret, const char *err, const char *needle);

static void test_net(void **state)
{
	struct vm_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cfg, err, "--kernel", "K", "--net", "tap=tap0",
			       "--net", "tap=t1,mac=02:00:00:00:00:01"),
			 CONFIG_RUN);
	assert_int_equal(cfg.nr_nets, 2);
	assert_string_equal(cfg.nets[0].tap, "tap0");
	assert_string_equal(cfg.nets[1].tap, "t1");
	assert_int_equal(cfg.nets[1].mac[0], 2);
	assert_int_equal(cfg.nets[1].mac[5], 1);
	config_free(&cfg);
	expect_error(PARSE(&cfg, err, "--kernel", "K", "--net", "user"), err,
		     "--net: ");
	config_free(&cfg);
}

static void test_help_version(void **state)
{
	struct vm_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cfg, err, "--help"), CONFIG_HELP);
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, err, "--version"), CONFIG_VERSION);
	config_free(&cfg);
}

static void test_sizes(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(config_parse_size("64K", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(config_parse_size("512M", &v), 0);
	assert_int_equal(v, 512ULL << 20);
	assert_int_equal(config_parse_size("2g", &v), 0);
	assert_int_equal(v, 2ULL << 30);
	assert_int_equal(config_parse_size("3GiB", &v), 0);
	assert_int_equal(v, 3ULL << 30);
	assert_int_equal(config_parse_size("1048576", &v), 0);
	assert_int_equal(v, 1048576);
	assert_int_equal(config_parse_size("", &v), -EINVAL);
	assert_int_equal(config_parse_size("-1G", &v), -EINVAL);
	assert_int_equal(config_parse_size("12X", &v), -EINVAL);
	assert_int_equal(config_parse_size("1GG", &v), -EINVAL);
	assert_int_equal(config_parse_size(" 1G", &v), -EINVAL);
	assert_int_equal(config_parse_size("99999999999999999999", &v),
			 -ERANGE);
	assert_int_equal(config_parse_size("99999999999T", &v), -ERANGE);
}

/* Each bad command line fails with -EINVAL and a message that contains
 * @needle (the option's name and the reason). */
static void expect_error(int ret, const char *err, const char *needle)
{
	assert_int_equal(ret, -EINVAL);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not mention '%s'", err, needle);
}

static void test_bad_values(void **state)
{
	struct vm_config cfg;
	char err[256];
	char longcmd[1100];

	(void)state;
	memset(longcmd, 'x', sizeof(longcmd) - 1);
	longcmd[sizeof(longcmd) - 1] = '\0';
#define BAD(needle, ...)                                             \
	do {                                                         \
		expect_error(PARSE(&cfg, err, __VA_ARGS__), err, needle); \
		config_free(&cfg);                                   \
	} while (0)
	BAD("--kernel: a kernel Image is required", "--cpus", "2");
	BAD("--firmware: only --board virt", "--firmware", "F.fd");
	BAD("--firmware-vars: needs --firmware", "--board", "virt",
	    "--kernel", "K", "--firmware-vars", "V.fd");
	BAD("--firmware: empty file name", "--board", "virt", "--firmware",
	    "");
	BAD("--disk d.img: bootindex is for firmware boot", "--board", "virt",
	    "--kernel", "K", "--disk", "d.img,bootindex=1");
	BAD("--disk b: bootindex=1 is already a's", "--board", "virt",
	    "--firmware", "C.fd", "--disk", "a,bootindex=1", "--disk",
	    "b,bootindex=1");
	BAD("--hugepages: '2M' is not one of thp, on, off", "--kernel", "K",
	    "--hugepages", "2M");
	BAD("--disk a: queues=3 is more than the 2 vCPUs (--cpus)",
	    "--kernel", "K", "--cpus", "2", "--disk", "a,queues=3");
	BAD("--disk a: io=sync serves one queue, not queues=2", "--kernel",
	    "K", "--cpus", "2", "--disk", "a,queues=2,io=sync");
	BAD("--disk: queues '0' is not a number from 1 to 32", "--kernel",
	    "K", "--disk", "a,queues=0");
	BAD("--disk: queues 'x' is not a number from 1 to 32", "--kernel",
	    "K", "--disk", "a,queues=x");
	BAD("--disk: unknown option 'io=aio' (known: readonly, "
	    "bootindex=N, queues=N, io=threads|uring|sync)", "--kernel", "K",
	    "--disk", "a,io=aio");
	BAD("--disk: bootindex given twice", "--board", "virt", "--firmware",
	    "C.fd", "--disk", "a,bootindex=1,bootindex=2");
	BAD("--disk: bootindex '10000' is not a number", "--board", "virt",
	    "--firmware", "C.fd", "--disk", "a,bootindex=10000");
	BAD("--disk: bootindex '' is not a number", "--board", "virt",
	    "--firmware", "C.fd", "--disk", "a,bootindex=");
	BAD("--disk: bootindex '-1' is not a number", "--board", "virt",
	    "--firmware", "C.fd", "--disk", "a,bootindex=-1");
	BAD("--boot-timeout: needs --firmware", "--board", "virt", "--kernel",
	    "K", "--boot-timeout", "1");
	BAD("--boot-timeout: '66' is not a number", "--board", "virt",
	    "--firmware", "C.fd", "--boot-timeout", "66");
	BAD("--boot-timeout: 'x' is not a number", "--board", "virt",
	    "--firmware", "C.fd", "--boot-timeout", "x");
	BAD("--memory: firmware boot needs at least 256M", "--board", "virt",
	    "--firmware", "C.fd", "--memory", "128M");
	BAD("--cpus: '0'", "--kernel", "K", "--cpus", "0");
	BAD("--cpus: '33'", "--kernel", "K", "--cpus", "33");
	BAD("--cpus: 'two'", "--kernel", "K", "--cpus", "two");
	BAD("--cpus: '-1'", "--kernel", "K", "--cpus", "-1");
	BAD("--memory: '12X' is not a size", "--kernel", "K", "--memory",
	    "12X");
	BAD("--memory: 8M is out of range", "--kernel", "K", "--memory", "8M");
	BAD("--memory: 128G is out of range", "--kernel", "K", "--memory",
	    "128G");
	BAD("not a multiple of 2M", "--kernel", "K", "--memory", "513M");
	BAD("--board: unknown board 'pc' (known: microvm, virt)", "--kernel", "K", "--board", "pc");
	BAD("--aia-mode: 'fast'", "--kernel", "K", "--aia-mode", "fast");
	BAD("--disk: unknown option 'cache=none'", "--kernel", "K", "--disk",
	    "a.img,cache=none");
	BAD("--disk: missing path", "--kernel", "K", "--disk", ",readonly");
	BAD("--disk: at most 8", "--kernel", "K", "--disk", "1", "--disk",
	    "2", "--disk", "3", "--disk", "4", "--disk", "5", "--disk", "6",
	    "--disk", "7", "--disk", "8", "--disk", "9");
	BAD("--cpu-features: '+v': only disabling", "--kernel", "K",
	    "--cpu-features", "+v");
	BAD("not an extension name", "--kernel", "K", "--cpu-features",
	    "-z$");
	BAD("--cpu-features: unknown extension 'zfoo'", "--kernel", "K",
	    "--cpu-features", "-zicboz,-zfoo");
	BAD("--cpu-features: empty list", "--kernel", "K", "--cpu-features",
	    ",");
	BAD("--cmdline: 1099 bytes", "--kernel", "K", "--cmdline", longcmd);
	BAD("unknown option '--frobnicate'", "--kernel", "K", "--frobnicate");
	BAD("unknown option '-q'", "--kernel", "K", "-q");
	BAD("missing value", "--kernel");
	BAD("'--no-reboot=yes': no-reboot takes no value", "--kernel", "K",
	    "--no-reboot=yes");
	BAD("unexpected argument 'extra'", "--kernel", "K", "extra");
	BAD("--jail: needs --uid and --gid", "--kernel", "K", "--jail", "/j",
	    "--uid", "1000");
	BAD("need --jail", "--kernel", "K", "--uid", "1000");
	BAD("--net: not available with --jail yet", "--kernel", "K", "--jail",
	    "/j", "--uid", "1", "--gid", "1", "--net", "tap=t0");
	BAD("need --jail", "--kernel", "K", "--new-pidns");
	BAD("--uid: 'root' is not a numeric id", "--kernel", "K", "--jail",
	    "/j", "--uid", "root", "--gid", "1");
	BAD("--gid: '4294967295' is not a numeric id", "--kernel", "K",
	    "--jail", "/j", "--uid", "1", "--gid", "4294967295");
	BAD("--seccomp: 'maybe' is not on or off", "--kernel", "K",
	    "--seccomp", "maybe");
	BAD("--dump-dtb: empty file name", "--kernel", "K", "--dump-dtb", "");
#undef BAD
}

static void test_reparse(void **state)
{
	struct vm_config cfg;
	char err[256];

	(void)state;
	/* getopt state must not leak from one parse into the next. */
	assert_int_equal(PARSE(&cfg, err, "--kernel", "A", "--cpus", "2"),
			 CONFIG_RUN);
	config_free(&cfg);
	assert_int_equal(PARSE(&cfg, err, "--kernel", "B"), CONFIG_RUN);
	assert_string_equal(cfg.kernel, "B");
	assert_int_equal(cfg.cpus, 1);
	config_free(&cfg);
}

static void test_default_mac(void **state)
{
	uint8_t a[6], b[6], c[6];

	(void)state;
	config_default_mac("tap0", a);
	config_default_mac("tap0", b);
	config_default_mac("tap1", c);
	assert_memory_equal(a, b, 6);
	assert_memory_not_equal(a, c, 6);
	assert_int_equal(a[0], 0x52);	/* locally administered, unicast */
	assert_int_equal(a[1], 0x54);
	assert_int_equal(a[2], 0x00);
}

static void test_net_option(void **state)
{
	static const uint8_t want[6] = { 0x02, 0xab, 0xcd, 0xef, 0x01, 0x23 };
	char tap[CONFIG_IFNAMSIZ], err[160], small[8];
	uint8_t mac[6], def[6];
	unsigned int q = 99;
	enum net_vhost vh = NET_VHOST_OFF;

	(void)state;
	assert_int_equal(config_parse_net("tap=tap0", tap, sizeof(tap), mac, &q, &vh,
					err, sizeof(err)), 0);
	assert_string_equal(tap, "tap0");
	assert_int_equal(q, 1);
	assert_int_equal(vh, NET_VHOST_AUTO);
	config_default_mac("tap0", def);
	assert_memory_equal(mac, def, 6);
	assert_int_equal(config_parse_net("queues=4,tap=mq0", tap, sizeof(tap),
					mac, &q, &vh, err, sizeof(err)), 0);
	assert_int_equal(q, 4);
	assert_int_equal(config_parse_net("tap=mq0,queues=8", tap, sizeof(tap),
					mac, &q, &vh, err, sizeof(err)), 0);
	assert_int_equal(q, 8);
	assert_int_equal(config_parse_net("tap=v,vhost=off", tap, sizeof(tap),
					mac, &q, &vh, err, sizeof(err)), 0);
	assert_int_equal(vh, NET_VHOST_OFF);
	assert_int_equal(config_parse_net("vhost=on,tap=v", tap, sizeof(tap),
					mac, &q, &vh, err, sizeof(err)), 0);
	assert_int_equal(vh, NET_VHOST_ON);
	assert_int_equal(config_parse_net("tap=vm-1.a_b,mac=02:AB:cd:EF:01:23",
					tap, sizeof(tap), mac, &q, &vh, err,
					sizeof(err)), 0);
	assert_string_equal(tap, "vm-1.a_b");
	assert_memory_equal(mac, want, 6);
	assert_int_equal(config_parse_net("mac=02:ab:cd:ef:01:23,tap=x", tap,
					sizeof(tap), mac, &q, &vh, err, sizeof(err)),
			 0);
	assert_string_equal(tap, "x");
	assert_memory_equal(mac, want, 6);
	assert_int_equal(config_parse_net("tap=012345678912345", tap,
					sizeof(tap), mac, &q, &vh, err, sizeof(err)),
			 0);

	static const struct {
		const char *arg;
		const char *msg;
	} bad[] = {
		{ "", "missing tap=NAME" },
		{ "mac=02:00:00:00:00:01", "missing tap=NAME" },
		{ "tap=", "invalid TAP name" },
		{ "tap", "unknown option 'tap'" },
		{ "tap=0123456789123456", "invalid TAP name" },
		{ "tap=a/b", "invalid TAP name" },
		{ "tap=tap%d", "invalid TAP name" },
		{ "tap=.", "invalid TAP name" },
		{ "tap=..", "invalid TAP name" },
		{ "tap=a b", "invalid TAP name" },
		{ "tap=a,tap=b", "tap= given twice" },
		{ "tap=a,", "trailing ','" },
		{ "tap=a,,mac=02:00:00:00:00:01", "unknown option ''" },
		{ "tap=a,mac=02:00:00:00:00:01,mac=02:00:00:00:00:02",
		  "mac= given twice" },
		{ "tap=a,mac=", "invalid MAC" },
		{ "tap=a,mac=02:00:00:00:00", "invalid MAC" },
		{ "tap=a,mac=02:00:00:00:00:001", "invalid MAC" },
		{ "tap=a,mac=02-00-00-00-00-01", "invalid MAC" },
		{ "tap=a,mac=02:00:00:00:0g:01", "invalid MAC" },
		{ "tap=a,mac=2:0:0:0:0:1", "invalid MAC" },
		{ "tap=a,mac=01:00:5e:00:00:01", "multicast or zero" },
		{ "tap=a,mac=ff:ff:ff:ff:ff:ff", "multicast or zero" },
		{ "tap=a,mac=00:00:00:00:00:00", "multicast or zero" },
		{ "tap=a,model=virtio", "unknown option 'model=virtio'" },
		{ "TAP=a", "unknown option" },
		{ "tap=a,queues=0", "not a number of queue pairs from 1 to 8" },
		{ "tap=a,queues=9", "not a number of queue pairs from 1 to 8" },
		{ "tap=a,queues=", "not a number of queue pairs" },
		{ "tap=a,queues=2x", "not a number of queue pairs" },
		{ "tap=a,queues=-1", "not a number of queue pairs" },
		{ "tap=a,queues=00002", "not a number of queue pairs" },
		{ "tap=a,queues=4294967297", "not a number of queue pairs" },
		{ "tap=a,queues=2,queues=2", "queues= given twice" },
		{ "tap=a,vhost=yes", "vhost='yes' (auto, on or off)" },
		{ "tap=a,vhost=", "vhost='' (auto, on or off)" },
		{ "tap=a,vhost=on,vhost=off", "vhost= given twice" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(config_parse_net(bad[i].arg, tap, sizeof(tap),
						mac, &q, &vh, err, sizeof(err)),
				 -EINVAL);
		if (!strstr(err, bad[i].msg) || strncmp(err, "--net: ", 7) ||
		    strchr(err, '\n'))
			fail_msg("'%s': got \"%s\", want \"%s\"", bad[i].arg,
				 err, bad[i].msg);
	}
	/* A name buffer too small for any name is refused, not overrun. */
	assert_int_equal(config_parse_net("tap=a", small, sizeof(small), mac, &q, &vh,
					err, sizeof(err)), -EINVAL);
	/* A long bad value is cut in the message. */
	char longarg[600];

	memset(longarg, 'z', sizeof(longarg) - 1);
	longarg[sizeof(longarg) - 1] = '\0';
	memcpy(longarg, "tap=", 4);
	assert_int_equal(config_parse_net(longarg, tap, sizeof(tap), mac, &q, &vh, err,
					sizeof(err)), -EINVAL);
	assert_true(strlen(err) < sizeof(err));
	assert_int_equal(config_parse_net("tap=a", tap, sizeof(tap), mac, &q, &vh, NULL,
					0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_irqchip),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_help_version),
		cmocka_unit_test(test_jail_options),
		cmocka_unit_test(test_firmware),
		cmocka_unit_test(test_net),
		cmocka_unit_test(test_default_mac),
		cmocka_unit_test(test_net_option),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_reparse),
		cmocka_unit_test(test_control_plane),
		cmocka_unit_test(test_incoming),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
