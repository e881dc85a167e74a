// SPDX-License-Identifier: MIT
/* The guest's device tree: the board's skeleton (cpus, memory, AIA, chosen)
 * plus one node per device, added by the device itself.
 *
 * libfdt inserts a new child before its siblings, so children are added in
 * reverse to appear in natural order (Linux probes virtio-mmio disks in
 * tree order: the first --disk becomes /dev/vda). */
#include <errno.h>
#include <inttypes.h>
#include <libfdt.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "core/fdt_util.h"
#include "core/log.h"
#include "machine/machine.h"

#define IRQ_S_EXT 9	/* supervisor external interrupt (scause code) */

/* Phandles: hart N's interrupt controller is N + 1, then these. */
#define PH_IMSIC(m) ((m)->cfg->cpus + 1)
#define PH_APLIC(m) ((m)->cfg->cpus + 2)
#define PH_PLIC(m) ((m)->cfg->cpus + 3)

struct fdtb {
	void *fdt;
	int err;	/* sticky: the first libfdt error */
};

static int sub(struct fdtb *b, const char *parent, const char *name)
{
	int off;

	if (b->err)
		return -1;
	off = fdt_path_offset(b->fdt, parent);
	if (off >= 0)
		off = fdt_add_subnode(b->fdt, off, name);
	if (off < 0)
		b->err = off;
	return off;
}

static void prop(struct fdtb *b, int node, const char *name, const void *val,
		 int len)
{
	if (!b->err)
		b->err = fdt_setprop(b->fdt, node, name, val, len);
}

static void prop_str(struct fdtb *b, int node, const char *name,
		     const char *s)
{
	prop(b, node, name, s, (int)strlen(s) + 1);
}

static void prop_u32(struct fdtb *b, int node, const char *name, uint32_t v)
{
	fdt32_t be = cpu_to_fdt32(v);

	prop(b, node, name, &be, sizeof(be));
}

static void prop_u64(struct fdtb *b, int node, const char *name, uint64_t v)
{
	fdt64_t be = cpu_to_fdt64(v);

	prop(b, node, name, &be, sizeof(be));
}

static void prop_reg(struct fdtb *b, int node, uint64_t base, uint64_t size)
{
	fdt64_t reg[2] = { cpu_to_fdt64(base), cpu_to_fdt64(size) };

	prop(b, node, "reg", reg, sizeof(reg));
}

static void prop_empty(struct fdtb *b, int node, const char *name)
{
	prop(b, node, name, NULL, 0);
}

int machine_isa_string(const struct cpu_info *cpu, char *buf, size_t len)
{
	static const char order[] = "imafdqcbkjpvh";
	size_t n;

	n = (size_t)snprintf(buf, len, "rv%u", cpu->xlen);
	for (const char *o = order; *o; o++) {
		for (unsigned int i = 0; i < cpu->nr_exts; i++) {
			if (cpu->exts[i][0] == *o && !cpu->exts[i][1]) {
				if (n + 1 < len)
					buf[n] = *o;
				n++;
			}
		}
	}
	/* Multi-letter extensions as KVM listed them: Z* before S*. */
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned int i = 0; i < cpu->nr_exts; i++) {
			const char *e = cpu->exts[i];

			if (!e[1] || (e[0] == 'z') != (pass == 0))
				continue;
			if (n < len)
				n += (size_t)snprintf(buf + n, len - n, "_%s",
						      e);
			else
				n += strlen(e) + 1;
		}
	}
	if (n >= len) {
		if (len)
			buf[len - 1] = '\0';
		return -ENOSPC;
	}
	buf[n] = '\0';
	return 0;
}

static void add_cpu(struct fdtb *b, struct machine *m, unsigned int hart,
		    const char *isa, const char *exts, int exts_len)
{
	char name[32], path[48];
	int cpu, intc;

	snprintf(name, sizeof(name), "cpu@%x", hart);
	cpu = sub(b, "/cpus", name);
	prop_str(b, cpu, "device_type", "cpu");
	prop_u32(b, cpu, "reg", hart);
	prop_str(b, cpu, "status", "okay");
	prop_str(b, cpu, "compatible", "riscv");
	prop_str(b, cpu, "riscv,isa", isa);
	prop_str(b, cpu, "riscv,isa-base", m->cpu.xlen == 32 ? "rv32i"
							      : "rv64i");
	prop(b, cpu, "riscv,isa-extensions", exts, exts_len);
	if (m->cpu.mmu_type)
		prop_str(b, cpu, "mmu-type", m->cpu.mmu_type);
	if (m->cpu.cbom_block_size)
		prop_u32(b, cpu, "riscv,cbom-block-size",
			 m->cpu.cbom_block_size);
	if (m->cpu.cboz_block_size)
		prop_u32(b, cpu, "riscv,cboz-block-size",
			 m->cpu.cboz_block_size);
	snprintf(path, sizeof(path), "/cpus/%s", name);
	intc = sub(b, path, "interrupt-controller");
	prop_u32(b, intc, "#interrupt-cells", 1);
	prop_u32(b, intc, "#address-cells", 0);
	prop_empty(b, intc, "interrupt-controller");
	prop_str(b, intc, "compatible", "riscv,cpu-intc");
	prop_u32(b, intc, "phandle", FDT_CPU_INTC_PHANDLE(hart));
}

static void add_cpus(struct fdtb *b, struct machine *m)
{
	char isa[1024], exts[2048];
	int node, exts_len = 0;

	if (machine_isa_string(&m->cpu, isa, sizeof(isa))) {
		b->err = -FDT_ERR_NOSPACE;
		return;
	}
	for (unsigned int i = 0; i < m->cpu.nr_exts; i++) {
		size_t l = strlen(m->cpu.exts[i]) + 1;

		if (exts_len + l > sizeof(exts)) {
			b->err = -FDT_ERR_NOSPACE;
			return;
		}
		memcpy(exts + exts_len, m->cpu.exts[i], l);
		exts_len += (int)l;
	}
	node = sub(b, "/", "cpus");
	prop_u32(b, node, "#address-cells", 1);
	prop_u32(b, node, "#size-cells", 0);
	prop_u32(b, node, "timebase-frequency", (uint32_t)m->cpu.timebase_freq);
	for (unsigned int i = m->cfg->cpus; i-- > 0;)
		add_cpu(b, m, i, isa, exts, exts_len);
}

static void add_memory(struct fdtb *b, struct machine *m)
{
	char name[32];
	int node;

	snprintf(name, sizeof(name), "memory@%" PRIx64, m->ram.base);
	node = sub(b, "/", name);
	prop_str(b, node, "device_type", "memory");
	prop_reg(b, node, m->ram.base, m->ram.size);
}

/* /soc/interrupt-controller@BASE, with the interrupt-controller
 * property. */
static int intc_node(struct fdtb *b, uint64_t base)
{
	char name[48];
	int node;

	snprintf(name, sizeof(name), "interrupt-controller@%" PRIx64, base);
	node = sub(b, "/soc", name);
	prop_empty(b, node, "interrupt-controller");
	return node;
}

/* interrupts-extended: each hart's supervisor external interrupt, hart 0
 * first (an IMSIC's S-level files, a PLIC's S-mode contexts). */
static void prop_harts_s_ext(struct fdtb *b, int node, struct machine *m)
{
	fdt32_t ext[2 * CONFIG_MAX_CPUS];

	for (unsigned int i = 0; i < m->cfg->cpus; i++) {
		ext[2 * i] = cpu_to_fdt32(FDT_CPU_INTC_PHANDLE(i));
		ext[2 * i + 1] = cpu_to_fdt32(IRQ_S_EXT);
	}
	prop(b, node, "interrupts-extended", ext,
	     (int)(2 * m->cfg->cpus * sizeof(ext[0])));
}

static void add_imsic(struct fdtb *b, struct machine *m)
{
	const struct aia_layout *a = &m->aia;
	int node = intc_node(b, a->imsic_base);

	prop_str(b, node, "compatible", "riscv,imsics");
	prop_reg(b, node, a->imsic_base, a->imsic_stride * m->cfg->cpus);
	prop_harts_s_ext(b, node, m);
	prop_u32(b, node, "#interrupt-cells", 0);
	prop_u32(b, node, "#address-cells", 0);
	prop_empty(b, node, "msi-controller");
	prop_u32(b, node, "riscv,num-ids", a->nr_ids);
	prop_u32(b, node, "phandle", PH_IMSIC(m));
}

static void add_aplic(struct fdtb *b, struct machine *m)
{
	const struct aia_layout *a = &m->aia;
	int node = intc_node(b, a->aplic_base);

	prop_str(b, node, "compatible", "riscv,aplic");
	prop_reg(b, node, a->aplic_base, a->aplic_size);
	prop_u32(b, node, "#interrupt-cells", 2);
	prop_u32(b, node, "#address-cells", 0);
	prop_u32(b, node, "msi-parent", PH_IMSIC(m));
	prop_u32(b, node, "riscv,num-sources", a->nr_sources);
	prop_u32(b, node, "phandle", PH_APLIC(m));
}

/* A SiFive-compatible PLIC with one S-mode context per hart: context N is
 * hart N's supervisor external interrupt (the binding's
 * interrupts-extended order). */
static void add_plic(struct fdtb *b, struct machine *m)
{
	static const char compat[] = "sifive,plic-1.0.0\0riscv,plic0";
	const struct plic_layout *p = &m->plic;
	int node = intc_node(b, p->base);

	prop(b, node, "compatible", compat, sizeof(compat));
	prop_reg(b, node, p->base, p->size);
	prop_harts_s_ext(b, node, m);
	prop_u32(b, node, "#interrupt-cells", 1);
	prop_u32(b, node, "#address-cells", 0);
	prop_u32(b, node, "riscv,ndev", p->nr_sources);
	prop_u32(b, node, "phandle", PH_PLIC(m));
}

static void add_soc(struct fdtb *b, struct machine *m, struct fdt_ctx *ctx)
{
	int node = sub(b, "/", "soc");

	prop_u32(b, node, "#address-cells", 2);
	prop_u32(b, node, "#size-cells", 2);
	prop_str(b, node, "compatible", "simple-bus");
	prop_empty(b, node, "ranges");
	for (unsigned int i = m->nr_devs; i-- > 0 && !b->err;) {
		struct rivet_dev *d = m->devs[i];

		if (d->ops->fdt_node) {
			int ret = d->ops->fdt_node(d, ctx);

			if (ret == -ENOSPC) {
				b->err = -FDT_ERR_NOSPACE;
			} else if (ret < 0) {
				log_err("%s: device tree node: %s",
					d->ops->name, strerror(-ret));
				b->err = -FDT_ERR_BADSTATE;
			}
		}
	}
	if (m->irqchip_mode == IRQCHIP_PLIC) {
		add_plic(b, m);
	} else {
		add_aplic(b, m);
		add_imsic(b, m);
	}
}

static void add_chosen(struct fdtb *b, struct machine *m,
		       const struct fdt_ctx *ctx)
{
	uint8_t seed[64];
	int node = sub(b, "/", "chosen");

	prop_str(b, node, "bootargs", m->cfg->cmdline);
	if (ctx->stdout_path[0])
		prop_str(b, node, "stdout-path", ctx->stdout_path);
	if (m->initrd_size) {
		prop_u64(b, node, "linux,initrd-start", m->initrd_start);
		prop_u64(b, node, "linux,initrd-end",
			 m->initrd_start + m->initrd_size);
	}
	/* Entropy for the guest's early boot (KASLR, stack canaries). */
	if (getrandom(seed, sizeof(seed), 0) == sizeof(seed))
		prop(b, node, "rng-seed", seed, sizeof(seed));
}

int machine_build_fdt(struct machine *m, void *buf, size_t size)
{
	bool plic = m->irqchip_mode == IRQCHIP_PLIC;
	struct fdt_ctx ctx = {
		.fdt = buf,
		.size = size,
		.irq_phandle = plic ? PH_PLIC(m) : PH_APLIC(m),
		.irq_cells = plic ? 1 : 2,
		.msi_phandle = plic ? 0 : PH_IMSIC(m),
	};
	struct fdtb b = { .fdt = buf };
	int root;

	b.err = fdt_create_empty_tree(buf, (int)size);
	root = 0;
	prop_u32(&b, root, "#address-cells", 2);
	prop_u32(&b, root, "#size-cells", 2);
	prop_str(&b, root, "compatible", m->compatible);
	prop_str(&b, root, "model", m->compatible);
	/* Children in reverse: soc, memory, cpus, then chosen (which needs the
	 * console's path from the soc pass). */
	add_soc(&b, m, &ctx);
	add_memory(&b, m);
	add_cpus(&b, m);
	add_chosen(&b, m, &ctx);
	if (!b.err)
		b.err = fdt_pack(buf);
	if (b.err) {
		log_err("device tree: %s", fdt_strerror(b.err));
		return b.err == -FDT_ERR_NOSPACE ? -ENOSPC : -EINVAL;
	}
	return 0;
}
