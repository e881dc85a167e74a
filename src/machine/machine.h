/* SPDX-License-Identifier: MIT */
/* A machine: guest RAM, the MMIO bus, the board's devices, the interrupt
 * controller layout and what the vCPUs offer.  Boards fill it in; the FDT
 * (and, for virt, ACPI) is generated from this one description so the two
 * cannot disagree.  Portable: the KVM side lives in src/arch/. */
#ifndef RIVET_MACHINE_H
#define RIVET_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/config.h"
#include "core/gmem.h"
#include "core/irq.h"
#include "core/msi.h"

#define MACHINE_MAX_EXTS 96
#define MACHINE_FDT_MAX (64 * 1024)
/* virtio devices a configuration can ask for: disks, NICs, the RNG. */
/* Disks, NICs, rng and the power button (virtio-input). */
#define MACHINE_MAX_VIRTIO (CONFIG_MAX_DISKS + CONFIG_MAX_NETS + 2)

/* What each hart offers the guest, as KVM reports it (all harts alike). */
struct cpu_info {
	unsigned int xlen;			/* 64 */
	const char *exts[MACHINE_MAX_EXTS];	/* lower case: "i", "zicbom" */
	unsigned int nr_exts;
	uint64_t timebase_freq;			/* Hz */
	const char *mmu_type;			/* "riscv,sv57"; NULL: none */
	uint32_t cbom_block_size;		/* 0: no Zicbom */
	uint32_t cboz_block_size;		/* 0: no Zicboz */
};

/* Where the in-kernel AIA lives in guest physical space. */
struct aia_layout {
	uint64_t imsic_base;		/* hart N's S-file at base + N * stride */
	uint64_t imsic_stride;
	uint32_t nr_ids;		/* IMSIC interrupt identities */
	uint64_t aplic_base;
	uint64_t aplic_size;
	uint32_t nr_sources;		/* APLIC wired sources */
};

/* Where a PLIC lives (irqchip plic): one S-mode context per hart. */
struct plic_layout {
	uint64_t base, size;
	uint32_t nr_sources;		/* riscv,ndev */
};

/* Extra guest memory (flash banks in read-array mode), set by the arch
 * code: @map adds a read-only KVM memory slot at @gpa backed by @host,
 * @unmap removes it (accesses then exit as MMIO).  Any thread. */
struct machine_memops {
	int (*map_rom)(void *ctx, uint64_t gpa, uint64_t size, void *host);
	int (*unmap)(void *ctx, uint64_t gpa);
	/* KVM_IOEVENTFD: see struct virtio_ioeventfd. */
	int (*ioeventfd)(void *ctx, uint64_t addr, unsigned int len,
			 uint64_t datamatch, int fd, bool on);
	void *ctx;
};

struct acpi_platform;
struct board;
struct virtio_backend;

/* A power button: @press(@ctx) presses and releases it; 0 or -errno
 * (-ENODEV: nobody is listening yet).  The board's devices own @ctx. */
#define MACHINE_MAX_POWER_BUTTONS 2
struct machine_power_button {
	int (*press)(void *ctx);
	void *ctx;
};

struct machine {
	const struct vm_config *cfg;
	const char *compatible;		/* FDT root compatible */
	struct gmem ram;
	struct bus bus;
	struct rivet_dev *devs[BUS_MAX_DEVICES];	/* creation order */
	unsigned int nr_devs;
	struct rivet_dev *console;	/* receives host input; may be NULL */
	/* virtio backends whose host events the main loop serves
	 * (ops->poll_fds), owned by their transports. */
	struct virtio_backend *pollers[MACHINE_MAX_VIRTIO];
	unsigned int nr_pollers;
	/* Every virtio backend, for starting and stopping I/O threads. */
	struct virtio_backend *virtio[MACHINE_MAX_VIRTIO];
	unsigned int nr_virtio;		/* virtio devices added so far */
	bool io_quiesced;		/* machine_quiesce_io() in force */
	/* The interrupt controller: its mode (never IRQCHIP_AUTO here), the
	 * wired inputs devices drive (KVM's APLIC: set by the arch code;
	 * rivet's PLIC or APLIC: set by machine_add_irqchip()), MSIs into
	 * the IMSIC (arch code; none with a PLIC) and the harts' external
	 * interrupt lines (arch code; PLIC only). */
	enum irqchip_mode irqchip_mode;
	struct irq_chip irqchip;
	struct msi_chip msichip;
	struct hart_irq harts;
	struct plic_layout plic;
	struct machine_memops memops;	/* set by the arch code */
	const struct board *board;
	void *board_priv;		/* the board's own state */
	struct cpu_info cpu;
	struct aia_layout aia;
	uint64_t initrd_start, initrd_size;	/* size 0: no initrd */
	/* QMP system_powerdown, on the main thread: presses every power
	 * button registered with machine_add_power_button() (NULL: none).
	 * 0 if any press succeeded, else -ENODEV if any button had nobody
	 * listening yet, else the first button's -errno. */
	int (*power_button)(struct machine *m);
	struct virtio_backend *power_dev;	/* the virtio-input button */
	struct machine_power_button buttons[MACHINE_MAX_POWER_BUTTONS];
	unsigned int nr_buttons;
};

/* @m for @cfg on @board with interrupt controller @mode (not AUTO),
 * before anything is created: what the board describes by itself
 * (compatible, interrupt controller layout). */
void machine_init(struct machine *m, const struct vm_config *cfg,
		  const struct board *board, enum irqchip_mode mode);

/* The interrupt controller, if rivet emulates it (split, plic), then the
 * board's devices (board->create_devices).  0 or -errno. */
int machine_create_devices(struct machine *m);
/* Register a created device: on the bus and in the device list.  Takes
 * ownership: on failure the device is destroyed. */
int machine_add_device(struct machine *m, struct rivet_dev *dev);
/* The console: a 16550 at @base (@size bytes, APLIC source @irq) wired to
 * the host's terminal; sets m->console.  0 or -errno. */
int machine_add_console(struct machine *m, uint64_t base, uint64_t size,
			uint32_t irq);
/* The boot timer at @base when --boot-timer asked for it; 0 or -errno. */
int machine_add_boot_timer(struct machine *m, uint64_t base);
/* An IRQ line on the machine's interrupt controller. */
struct irq_line machine_irq(struct machine *m, uint32_t irq);
/* Put virtio backend @be on the board's transport (board->add_virtio) and,
 * if it has host events to serve, on the main loop's list.  Takes @be over:
 * on failure it is destroyed.  @bootindex: its place in the firmware boot
 * order, -1 for none.  Returns the transport's slot (>= 0) or -errno. */
int machine_add_virtio(struct machine *m, struct virtio_backend *be,
		       int bootindex);
struct io_confine;
/* Start the devices' I/O threads, each confined with @conf (NULL: not),
 * once the VM and its vCPUs exist and before they run; queue notifications
 * go to them through m->memops.ioeventfd where the transport allows.
 * 0 or -errno. */
int machine_start_io(struct machine *m, const struct io_confine *conf);
/* Stop and join them: before the VM they inject interrupts into goes. */
void machine_stop_io(struct machine *m);
/* While the vCPUs are paused (QMP stop, a snapshot, a restored VM not
 * running yet), on the main thread: finish every virtio request in flight
 * (its interrupt raised) and keep the devices from starting any work of
 * their own (a received frame waits in the TAP), so that nothing the
 * guest can see changes until machine_resume_io(), just before the vCPUs
 * run again.  Both do nothing if already so. */
void machine_quiesce_io(struct machine *m);
void machine_resume_io(struct machine *m);
/* Every virtio device m->cfg asks for, in a fixed order (disks in --disk
 * order, NICs, the RNG), then the virtio-input power button
 * (m->power_dev, registered with machine_add_power_button()) if
 * MACHINE_MAX_VIRTIO leaves room for it, through machine_add_virtio(): the
 * one list a new virtio device joins.  0 or -errno. */
int machine_add_virtio_devices(struct machine *m);
/* Register a power button for QMP system_powerdown (sets
 * m->power_button): a press presses every registered button, in the
 * order they were registered.  The virt board has two on a firmware boot,
 * the virtio-input one and the ACPI GED's: the guest may see both (Linux
 * binds both drivers under ACPI), and systemd-logind acts on the first
 * KEY_POWER and ignores the second while the power-off it started is in
 * progress ("Action already in progress ..., ignoring").  0, -ENOSPC
 * (MACHINE_MAX_POWER_BUTTONS) or -EINVAL (@press NULL). */
int machine_add_power_button(struct machine *m, int (*press)(void *ctx),
			     void *ctx);
/* Destroy all devices (reverse order) and forget the power buttons. */
void machine_destroy_devices(struct machine *m);
/* Everything a machine holds: devices, the board's state, guest RAM.
 * Safe on a partly built or zeroed machine. */
void machine_free(struct machine *m);

/* A hart as a typical host's KVM offers it (RV64GC, Zicbom/Zicboz 64-byte
 * blocks, Zicntr, Zicsr, Zifencei, Zihintpause, Zba/Zbb/Zbs, Sstc; Sv57;
 * 10 MHz timebase): for describing a machine without KVM. */
void machine_typical_cpu(struct cpu_info *cpu);
/* @m as @cfg describes it (cfg->board) without KVM: guest RAM, the board's
 * devices, machine_typical_cpu().  For `rivet acpi-dump` and tests.  0 or
 * -errno (-EINVAL: no such board); machine_free() @m either way. */
int machine_create_offline(struct machine *m, const struct vm_config *cfg);

/* Build the guest's flattened device tree into @buf (@size bytes), packed.
 * 0 or -errno. */
int machine_build_fdt(struct machine *m, void *buf, size_t size);

/* "rv64imafdc_zicbom_..." from cpu->exts; 0 or -ENOSPC. */
int machine_isa_string(const struct cpu_info *cpu, char *buf, size_t len);

/* Boards. */
struct board {
	const char *name;
	const char *compatible;		/* FDT root compatible */
	/* Where the interrupt controller is: the AIA (aia, split) or the
	 * PLIC (its size follows from the number of harts). */
	struct aia_layout aia;
	uint64_t plic_base;
	uint64_t ram_base;
	/* Where a firmware (--firmware) starts; 0: the board has none. */
	uint64_t firmware_entry;
	/* Create the devices for m->cfg; 0 or -errno. */
	int (*create_devices)(struct machine *m);
	/* The board's virtio transport: wrap @be as the @idx-th virtio
	 * device and register it.  Takes @be over (destroyed on failure).
	 * Returns its slot or -errno.  See machine_add_virtio(). */
	int (*add_virtio)(struct machine *m, unsigned int idx,
			  struct virtio_backend *be, int bootindex);
	/* Once KVM is set up (m->cpu, m->memops known), before the FDT is
	 * built: firmware tables, memory slots.  Optional; 0 or -errno. */
	int (*finalize)(struct machine *m);
	/* Free m->board_priv. Optional. */
	void (*destroy)(struct machine *m);
	/* ACPI boards: what the tables need beyond struct machine. */
	void (*acpi_platform)(const struct machine *m,
			      struct acpi_platform *p);
};

const struct board *board_find(const char *name);

#endif
