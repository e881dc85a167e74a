/* SPDX-License-Identifier: MIT */
/* The `rivet run` command line: parsed and validated here, portable, so
 * every bad value is unit-tested on x86_64.  Errors are one line naming the
 * option and the reason. */
#ifndef RIVET_CONFIG_H
#define RIVET_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/gmem.h"

#define CONFIG_MAX_DISKS 8
#define CONFIG_MAX_CPUS 32
#define CONFIG_MIN_MEM (16ULL << 20)
#define CONFIG_MAX_MEM (64ULL << 30)
#define CONFIG_DEFAULT_MEM (512ULL << 20)
#define CONFIG_MAX_CMDLINE 1023	/* Linux/riscv COMMAND_LINE_SIZE - 1 */
#define CONFIG_MAX_FEATURES 32
#define CONFIG_MAX_NETS 4
#define CONFIG_MAX_NET_QUEUES 8	/* queue pairs of one --net (TAP_MAX_QUEUES) */
#define CONFIG_IFNAMSIZ 16	/* a TAP name and its NUL: Linux's IFNAMSIZ */

enum aia_mode { AIA_MODE_AUTO, AIA_MODE_EMUL, AIA_MODE_HWACCEL };

/* Who emulates the guest's interrupt controller (docs/irqchip.md):
 *  aia    KVM's in-kernel IMSIC + APLIC;
 *  split  rivet's APLIC (MSI mode) in front of KVM's in-kernel IMSIC;
 *  plic   rivet's PLIC, one S-mode context per hart (KVM_INTERRUPT);
 *  auto   the best of those the host offers (decided at start-up). */
enum irqchip_mode { IRQCHIP_AUTO, IRQCHIP_AIA, IRQCHIP_SPLIT, IRQCHIP_PLIC };

#define CONFIG_MAX_BOOTINDEX 9999
#define CONFIG_MAX_BOOT_TIMEOUT 65	/* s; fw_cfg holds le16 milliseconds */

/* How a disk's requests are served (--disk io=, docs/user-guide.md). */
enum disk_io { DISK_IO_THREADS, DISK_IO_SYNC, DISK_IO_URING };

struct disk_config {
	const char *path;
	bool readonly;
	int bootindex;			/* -1: none; else firmware boot order */
	unsigned int queues;		/* after config_parse: 1..cpus */
	enum disk_io io;		/* io= */
};

/* --net vhost=: the kernel's vhost-net serves the queues (auto: where it
 * can, else rivet's I/O threads). */
enum net_vhost { NET_VHOST_AUTO, NET_VHOST_ON, NET_VHOST_OFF };

struct net_config {
	char tap[CONFIG_IFNAMSIZ];	/* TAP interface name */
	uint8_t mac[6];
	unsigned int queues;		/* queue pairs, 1..CONFIG_MAX_NET_QUEUES */
	enum net_vhost vhost;
};

/* --qmp unix:PATH,server[,wait=off] (src/qmp/). */
#define CONFIG_MAX_QMP 4
#define CONFIG_SUN_PATH 108	/* sockaddr_un's sun_path, with its NUL */
struct qmp_config {
	char path[CONFIG_SUN_PATH];
	bool wait;		/* start the guest once a client connected */
};

/* --serial: where the guest console (the UART) goes (docs/user-guide.md). */
enum serial_kind {
	SERIAL_STDIO,	/* rivet's stdin/stdout (default; discarded when
			 * --daemonize) */
	SERIAL_PTY,	/* a new pseudo-terminal, its name logged */
	SERIAL_UNIX,	/* a listening UNIX socket, one client at a time */
	SERIAL_NULL,	/* output discarded, no input */
};
struct serial_config {
	enum serial_kind kind;
	char path[CONFIG_SUN_PATH];	/* SERIAL_UNIX */
	bool wait;	/* SERIAL_UNIX: start the guest once a client came */
};

#define CONFIG_UUID_LEN 36	/* 8-4-4-4-12 hex digits */
#define CONFIG_MAX_NAME 255

struct vm_config {
	const char *board;		/* "microvm" */
	const char *kernel;		/* NULL only with --firmware */
	const char *initrd;		/* NULL: none */
	const char *cmdline;
	unsigned int cpus;
	uint64_t mem_size;
	enum gmem_pages pages;		/* --hugepages */
	struct disk_config disks[CONFIG_MAX_DISKS];
	unsigned int nr_disks;
	struct net_config nets[CONFIG_MAX_NETS];
	unsigned int nr_nets;
	enum aia_mode aia_mode;
	bool aia_mode_set;		/* --aia-mode given */
	enum irqchip_mode irqchip;
	const char *dump_dtb;		/* NULL: don't */
	const char *firmware;		/* virt: flash bank 0 (read-only) */
	const char *firmware_vars;	/* virt: flash bank 1 (persistent) */
	int boot_timeout;		/* firmware boot menu wait, s; -1: its own */
	/* ISA extensions to hide from the guest (lower case, no sign). */
	const char *cpu_features_off[CONFIG_MAX_FEATURES];
	unsigned int nr_cpu_features_off;
	bool no_reboot;
	bool boot_timer;		/* --boot-timer: the boot timer device */
	bool stats;			/* --stats: exit statistics at the end */
	bool rng;
	bool seccomp;			/* false: --seccomp=off (debugging) */
	/* --jail: run confined in DIR as uid:gid (see docs/jail.md). */
	const char *jail_dir;
	uint32_t jail_uid, jail_gid;
	bool jail_uid_set, jail_gid_set;
	bool new_pidns, new_netns;
	int verbosity;			/* -v count */
	/* The control plane (docs/qmp.md). */
	struct qmp_config qmp[CONFIG_MAX_QMP];
	unsigned int nr_qmp;
	const char *name;		/* --name, or NULL */
	char uuid[CONFIG_UUID_LEN + 1];	/* --uuid, lower case; all zero */
	const char *pidfile;		/* --pidfile, or NULL */
	struct serial_config serial;	/* --serial */
	bool paused;			/* --paused: wait for QMP cont */
	/* --incoming file:DIR: the snapshot directory to restore, or NULL. */
	const char *incoming;
	bool no_shutdown;		/* --no-shutdown: stay after power-off */
	bool daemonize;			/* --daemonize: detach once set up */
	/* Storage for strings split out of option values: one per --disk
	 * (at most CONFIG_MAX_DISKS), one per --cpu-features (each adds at
	 * least one entry, so at most CONFIG_MAX_FEATURES), and the one
	 * whose option was then refused. */
	char *owned[CONFIG_MAX_DISKS + CONFIG_MAX_FEATURES + 1];
	unsigned int nr_owned;
};

/* Outcome of config_parse() besides errors. */
enum config_action { CONFIG_RUN, CONFIG_HELP, CONFIG_VERSION };

/* Parse `rivet run` arguments (argv[0] is "run").  Returns CONFIG_* >= 0, or
 * -EINVAL with a one-line message in @err. */
int config_parse(struct vm_config *cfg, int argc, char *const argv[],
		 char *err, size_t errlen);
void config_free(struct vm_config *cfg);
void config_usage(FILE *out);

/* "512M", "2G", "1048576", "64K": bytes.  0 or -EINVAL/-ERANGE. */
int config_parse_size(const char *s, uint64_t *out);

const char *config_aia_mode_name(enum aia_mode mode);

/* "auto", "aia", "split", "plic" <-> the mode; parse: 0 or -EINVAL. */
const char *config_irqchip_name(enum irqchip_mode mode);
int config_parse_irqchip(const char *s, enum irqchip_mode *out);

/* Is @name (lower case) an ISA extension --cpu-features knows? */
bool config_isa_ext_known(const char *name);

/* Format a one-line message into @err (if @err and @errlen) and return
 * -EINVAL: how every parser here reports a bad value. */
int config_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* --net (src/core/config_net.c). */
/* Parse `tap=NAME[,mac=aa:bb:cc:dd:ee:ff][,queues=N][,vhost=auto|on|off]`
 * (keys in any order, each once) into @tap (@taplen >= CONFIG_IFNAMSIZ),
 * @mac, @queues (1 to CONFIG_MAX_NET_QUEUES queue pairs, default 1) and
 * @vhost (default auto).  NAME: 1-15 of
 * [A-Za-z0-9._-], not "." or "..".  The MAC must be unicast and not
 * all-zero; without one, config_default_mac().  0, or -EINVAL with a
 * one-line message in @err. */
int config_parse_net(const char *arg, char *tap, size_t taplen,
		     uint8_t mac[6], unsigned int *queues,
		     enum net_vhost *vhost, char *err, size_t errlen);
/* @len bytes at @name are a TAP name the rules above allow. */
bool config_tap_name_ok(const char *name, size_t len);
/* Unicast and not all-zero. */
bool config_mac_ok(const uint8_t mac[6]);
/* The MAC used when none is given: 52:54:00 (locally administered,
 * unicast) and 24 bits of a hash of the TAP name, so it is stable across
 * reboots and differs between the VMs of a host. */
void config_default_mac(const char *tap, uint8_t mac[6]);

/* The control plane's options (src/core/config_ctl.c). */
/* `unix:PATH,server[,wait=on|off]` (also server=on, nowait) into @q.  0 or
 * -EINVAL with a one-line message in @err. */
int config_parse_qmp(const char *arg, struct qmp_config *q, char *err,
		     size_t errlen);
/* `stdio`, `pty`, `null` or `unix:PATH,server[,wait=on|off]` into @s.  0
 * or -EINVAL with a one-line message in @err. */
int config_parse_serial(const char *arg, struct serial_config *s, char *err,
			size_t errlen);
/* 8-4-4-4-12 hex digits into @out, lower case; 0 or -EINVAL. */
int config_parse_uuid(const char *arg, char out[CONFIG_UUID_LEN + 1]);
/* 1 to CONFIG_MAX_NAME bytes, no control characters; 0 or -EINVAL. */
int config_parse_name(const char *arg, char *err, size_t errlen);

#endif
