// SPDX-License-Identifier: MIT
/* virt: a standard VM in QEMU virt's memory map, which Debian's EDK2 build
 * assumes.  RAM, the in-kernel AIA, a 16550 console, fw_cfg, an ACPI GED
 * (the power button of ACPI boots), two CFI flash banks (with --firmware)
 * and a PCIe host bridge whose virtio-pci devices use MSI-X.  The FDT and
 * the ACPI tables (handed to firmware through fw_cfg's table loader) are
 * generated from this one device list. */
#include "machine/virt/virt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acpi/acpi.h"
#include "boot/loader.h"
#include "core/fileio.h"
#include "core/log.h"
#include "devices/cfi_flash.h"
#include "devices/ged.h"
#include "devices/pci.h"
#include "devices/pci_host.h"
#include "devices/uart16550.h"
#include "devices/virtio.h"
#include "devices/virtio_pci.h"
#include "fwcfg/bootorder.h"
#include "fwcfg/fwcfg.h"
#include "fwcfg/table_loader.h"
#include "machine/machine.h"

/* Files handed to the firmware are read whole; bound what we accept. */
#define VIRT_MAX_BOOT_FILE (1ULL << 30)

struct flash_slot {
	struct machine *m;
	struct rivet_dev *dev;
	void *host;
};

struct virt_state {
	struct rivet_dev *fwcfg;
	struct pci_host *pci;		/* owned by its ECAM device */
	struct flash_slot flash[2];
	unsigned int nr_flash;
	struct bootorder_dev boot[CONFIG_MAX_DISKS];	/* for "bootorder" */
	unsigned int nr_boot;
};

/* The end of the 64-bit PCI window's base: 16 GiB aligned above RAM. */
static uint64_t mmio64_base(const struct machine *m)
{
	uint64_t end = m->ram.base + m->ram.size;

	return (end + VIRT_PCIE_MMIO64_SIZE - 1) & ~(VIRT_PCIE_MMIO64_SIZE - 1);
}

/* Kernel, initrd and command line for the firmware to boot (EDK2's
 * QemuKernelLoaderFsDxe reads them from fw_cfg). */
static int fwcfg_boot_files(struct machine *m, struct rivet_dev *fwcfg)
{
	const struct vm_config *cfg = m->cfg;
	struct boot_image img;
	uint8_t *buf;
	size_t len;
	int ret;

	ret = fio_read_file("kernel", cfg->kernel, VIRT_MAX_BOOT_FILE, &buf,
			    &len);
	if (ret)
		return ret;
	ret = loader_parse_image_header(buf, len, len, &img);
	if (!ret)
		ret = fwcfg_set_kernel(fwcfg, buf, len);
	free(buf);
	if (ret)
		return ret;
	if (cfg->initrd) {
		ret = fio_read_file("initrd", cfg->initrd, VIRT_MAX_BOOT_FILE,
				    &buf, &len);
		if (ret)
			return ret;
		ret = fwcfg_set_initrd(fwcfg, buf, len);
		free(buf);
		if (ret)
			return ret;
	}
	return fwcfg_set_cmdline(fwcfg, cfg->cmdline);
}

/* A missing variable store starts as erased flash (all ones): EDK2 formats
 * it on first boot.  Without --firmware-vars it lives in memory only. */
static int open_vars(const char *path, int *fd)
{
	static uint8_t ones[65536];
	uint64_t done;

	if (path) {
		*fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (*fd < 0 && errno == EEXIST)
			*fd = open(path, O_RDWR | O_CLOEXEC);
		else if (*fd >= 0)
			log_info("--firmware-vars: creating %s", path);
	} else {
		*fd = memfd_create("rivet-vars", MFD_CLOEXEC);
	}
	if (*fd < 0) {
		log_err("--firmware-vars %s: %s", path ? path : "(memory)",
			strerror(errno));
		return -errno;
	}
	if (lseek(*fd, 0, SEEK_END) != 0)
		return 0;	/* an existing store: the device checks it */
	memset(ones, 0xff, sizeof(ones));
	for (done = 0; done < VIRT_FLASH_BANK_SIZE; done += sizeof(ones)) {
		int ret = fio_pwrite_all(*fd, ones, sizeof(ones), done);

		if (ret) {
			log_err("--firmware-vars: cannot initialise %s: %s",
				path ? path : "(memory)", strerror(-ret));
			close(*fd);
			return ret;
		}
	}
	return fdatasync(*fd) && path ? -errno : 0;
}

static int add_flash(struct machine *m, struct virt_state *vs)
{
	const struct vm_config *cfg = m->cfg;
	struct rivet_dev *code, *vars;
	int fd, ret;

	ret = cfi_flash_create(VIRT_FLASH_BASE, VIRT_FLASH_BANK_SIZE,
			       cfg->firmware, true, &code);
	if (ret)
		return ret;
	ret = machine_add_device(m, code);
	if (ret)
		return ret;
	ret = open_vars(cfg->firmware_vars, &fd);
	if (ret)
		return ret;
	ret = cfi_flash_create_fd(VIRT_FLASH_BASE + VIRT_FLASH_BANK_SIZE,
				  VIRT_FLASH_BANK_SIZE, fd,
				  cfg->firmware_vars ? cfg->firmware_vars
						     : "(memory)",
				  false, &vars);
	if (ret)
		return ret;
	ret = machine_add_device(m, vars);
	if (ret)
		return ret;
	vs->flash[0] = (struct flash_slot){ .m = m, .dev = code };
	vs->flash[1] = (struct flash_slot){ .m = m, .dev = vars };
	vs->nr_flash = 2;
	return cfi_flash_pair(code, vars);
}

/* The PCIe host bridge and its windows on the bus; devices come later. */
static int add_pcie(struct machine *m, struct virt_state *vs)
{
	struct pci_host_cfg hc = {
		.ecam_base = VIRT_PCIE_ECAM_BASE,
		.ecam_size = VIRT_PCIE_ECAM_SIZE,
		.pio_base = VIRT_PCIE_PIO_BASE,
		.pio_size = VIRT_PCIE_PIO_SIZE,
		.mmio32_base = VIRT_PCIE_MMIO32_BASE,
		.mmio32_size = VIRT_PCIE_MMIO32_SIZE,
		.mmio64_base = mmio64_base(m),
		.mmio64_size = VIRT_PCIE_MMIO64_SIZE,
		.irqchip = &m->irqchip,
		.intx_base = VIRT_PCIE_INTX_IRQ,
		.msi = &m->msichip,
	};
	struct pci_host *h;
	int ret;

	ret = pci_host_create(&hc, &h);
	if (ret)
		return ret;
	/* ECAM first: it owns the host and the other windows (and frees
	 * them all if it cannot be added). */
	ret = machine_add_device(m, pci_host_window(h, PCI_HOST_ECAM));
	for (int w = PCI_HOST_PIO; !ret && w < PCI_HOST_NR_WINDOWS; w++) {
		struct rivet_dev *d = pci_host_window(h, w);

		if (d)
			ret = machine_add_device(m, d);
	}
	if (!ret)
		vs->pci = h;
	return ret;
}

_Static_assert(VIRT_GED_SIZE == GED_SIZE, "virt.h: the GED is one page");

static int press_ged(void *ctx)
{
	return ged_press_power(ctx);
}

/* The ACPI Generic Event Device with the power button (devices/ged.h).
 * It is always there -- a page and a wired source, no FDT node -- so the
 * memory map and the DSDT (`rivet acpi-dump`) do not depend on how the
 * guest boots; it is a power button for system_powerdown only when the
 * guest gets ACPI tables (--firmware).  On a direct kernel boot the guest
 * cannot know it, and the press goes to virtio-input alone, which answers
 * whether a driver listens (the "no driver yet" notice). */
static int add_ged(struct machine *m)
{
	struct rivet_dev *dev;
	int ret;

	ret = ged_create(VIRT_GED_BASE, machine_irq(m, VIRT_GED_IRQ), &dev);
	if (!ret)
		ret = machine_add_device(m, dev);
	if (!ret && m->cfg->firmware)
		ret = machine_add_power_button(m, press_ged, dev);
	return ret;
}

/* virtio-pci: the next free slot of the host bridge.  Disks are also
 * remembered for the firmware's boot order. */
static int virt_add_virtio(struct machine *m, unsigned int idx,
			   struct virtio_backend *be, int bootindex)
{
	struct virt_state *vs = m->board_priv;
	bool disk = be && be->ops->device_id == VIRTIO_ID_BLOCK;
	struct pci_dev *pd;
	int slot, ret;

	ret = virtio_pci_create(&m->ram, be, &pd);
	if (ret)
		return ret;
	slot = pci_host_add_device(vs->pci, pd, -1);
	if (slot < 0) {
		log_err("virt: no free PCI slot for virtio device %u", idx);
		pci_dev_destroy(pd);
		return slot;
	}
	if (disk && vs->nr_boot < CONFIG_MAX_DISKS)
		vs->boot[vs->nr_boot++] = (struct bootorder_dev){
			.bootindex = bootindex,
			.slot = (unsigned int)slot,
			.kind = BOOTORDER_DISK,
		};
	return slot;
}

static int virt_create_devices(struct machine *m)
{
	const struct vm_config *cfg = m->cfg;
	struct virt_state *vs;
	struct rivet_dev *dev;
	int ret;

	vs = calloc(1, sizeof(*vs));
	if (!vs)
		return -ENOMEM;
	m->board_priv = vs;
	ret = machine_add_console(m, VIRT_UART_BASE, VIRT_UART_SIZE,
				  VIRT_UART_IRQ);
	if (!ret)
		ret = machine_add_boot_timer(m, VIRT_BOOT_TIMER_BASE);
	if (!ret)
		ret = add_ged(m);
	if (ret)
		return ret;

	ret = fwcfg_create(&m->ram, VIRT_FWCFG_BASE, &dev);
	if (!ret)
		ret = machine_add_device(m, dev);
	if (ret)
		return ret;
	vs->fwcfg = dev;
	ret = fwcfg_set_nb_cpus(dev, (uint16_t)cfg->cpus);
	if (!ret && cfg->firmware && cfg->kernel)
		ret = fwcfg_boot_files(m, dev);
	if (!ret && cfg->firmware)
		ret = add_flash(m, vs);
	if (!ret)
		ret = add_pcie(m, vs);
	if (!ret)
		ret = machine_add_virtio_devices(m);
	if (!ret && cfg->firmware) {
		ret = bootorder_install(vs->fwcfg, VIRT_PCIE_ECAM_BASE,
					vs->boot, vs->nr_boot,
					cfg->boot_timeout);
		if (ret)
			log_err("fw_cfg boot order: %s", strerror(-ret));
	}
	return ret;
}

/* What the ACPI tables need beyond struct machine: the PCIe ECAM (MCFG). */
static void virt_acpi_platform(const struct machine *m,
			       struct acpi_platform *p)
{
	acpi_platform_init(p, m);
	p->console_clock = UART16550_CLOCK_HZ;
	p->has_pcie = true;
	p->pcie = (struct acpi_pcie){
		.ecam_base = VIRT_PCIE_ECAM_BASE,
		.ecam_size = VIRT_PCIE_ECAM_SIZE,
		.bus_start = 0,
		.bus_end = (uint8_t)(VIRT_PCIE_ECAM_SIZE / (1 << 20) - 1),
	};
}

/* ACPI for the firmware: the tables and RSDP as fw_cfg files plus the
 * table-loader commands that place and link them (EDK2 then installs them
 * and hands the OS ACPI). */
static int install_acpi(struct machine *m, struct virt_state *vs)
{
	struct acpi_platform p;
	struct acpi_tables t;
	struct table_loader tl;
	const uint8_t *blob;
	size_t len;
	int ret;

	virt_acpi_platform(m, &p);
	ret = acpi_build(m, &p, &t);
	if (ret) {
		log_err("ACPI tables: %s", strerror(-ret));
		return ret;
	}
	tl_init(&tl);
	for (int f = 0; !ret && f < ACPI_NR_FILES; f++) {
		ret = fwcfg_add_file(vs->fwcfg, acpi_file_names[f], t.data[f],
				     t.size[f], false);
		if (!ret)
			ret = tl_allocate(&tl, acpi_file_names[f],
					  (uint32_t)t.size[f],
					  acpi_file_align[f],
					  (enum tl_zone)acpi_file_zone[f]);
	}
	for (unsigned int i = 0; !ret && i < t.nr_fixups; i++) {
		const struct acpi_fixup *fx = &t.fixups[i];

		if (fx->kind == ACPI_FIXUP_POINTER)
			ret = tl_add_pointer(&tl, acpi_file_names[fx->file],
					     fx->offset, fx->size,
					     acpi_file_names[fx->target]);
		else
			ret = tl_add_checksum(&tl, acpi_file_names[fx->file],
					      fx->offset, fx->start,
					      fx->length);
	}
	blob = ret ? NULL : tl_blob(&tl, &len);
	if (!ret && !blob)
		ret = -EINVAL;
	if (!ret)
		ret = fwcfg_add_file(vs->fwcfg, "etc/table-loader", blob, len,
				     false);
	tl_free(&tl);
	acpi_tables_free(&t);
	if (ret)
		log_err("ACPI tables for the firmware: %s", strerror(-ret));
	return ret;
}

/* A flash bank in read-array mode is a read-only memory slot, so the
 * firmware can execute in place; in command mode accesses exit to the
 * device.  Runs on the vCPU thread that made the access. */
static void flash_mode(void *opaque, bool read_array)
{
	struct flash_slot *fs = opaque;
	const struct machine_memops *mo = &fs->m->memops;

	if (read_array)
		mo->map_rom(mo->ctx, fs->dev->base, fs->dev->size, fs->host);
	else
		mo->unmap(mo->ctx, fs->dev->base);
}

static int map_flash(struct machine *m, struct flash_slot *fs)
{
	uint64_t size;
	bool rom;
	int ret;

	ret = cfi_flash_host_mapping(fs->dev, &fs->host, &size, &rom);
	if (!ret && rom)
		ret = m->memops.map_rom(m->memops.ctx, fs->dev->base, size,
					fs->host);
	if (!ret)
		ret = cfi_flash_set_mode_cb(fs->dev, flash_mode, fs) < 0
			      ? -EINVAL : 0;
	return ret;
}

static int virt_finalize(struct machine *m)
{
	struct virt_state *vs = m->board_priv;
	int ret = 0;

	if (m->cfg->firmware)
		ret = install_acpi(m, vs);
	for (unsigned int i = 0; !ret && i < vs->nr_flash; i++)
		ret = map_flash(m, &vs->flash[i]);
	return ret;
}

static void virt_destroy(struct machine *m)
{
	free(m->board_priv);
	m->board_priv = NULL;
}

const struct board virt_board = {
	.name = "virt",
	/* EDK2 and Linux know QEMU's root compatible for this layout. */
	.compatible = "riscv-virtio",
	.aia = {
		.imsic_base = VIRT_IMSIC_BASE,
		.imsic_stride = VIRT_IMSIC_STRIDE,
		.nr_ids = VIRT_IMSIC_IDS,
		.aplic_base = VIRT_APLIC_BASE,
		.aplic_size = VIRT_APLIC_SIZE,
		.nr_sources = VIRT_APLIC_SOURCES,
	},
	.plic_base = VIRT_PLIC_BASE,
	.ram_base = VIRT_RAM_BASE,
	.firmware_entry = VIRT_FLASH_BASE,
	.create_devices = virt_create_devices,
	.add_virtio = virt_add_virtio,
	.finalize = virt_finalize,
	.destroy = virt_destroy,
	.acpi_platform = virt_acpi_platform,
};
