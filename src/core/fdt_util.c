// SPDX-License-Identifier: MIT
#include "core/fdt_util.h"

#include <errno.h>
#include <inttypes.h>
#include <libfdt.h>
#include <stdio.h>

#include "core/device.h"

int fdtu_errno(int fdt_err)
{
	switch (fdt_err) {
	case 0:
		return 0;
	case -FDT_ERR_NOSPACE:
		return -ENOSPC;
	case -FDT_ERR_NOTFOUND:
		return -ENOENT;
	case -FDT_ERR_EXISTS:
		return -EEXIST;
	default:
		return -EINVAL;
	}
}

unsigned int fdtu_irq_spec(const struct fdt_ctx *ctx, uint32_t irq,
			   uint32_t cells[2])
{
	cells[0] = cpu_to_fdt32(irq);
	if (ctx->irq_cells == 1)
		return 1;
	cells[1] = cpu_to_fdt32(FDT_IRQ_TYPE_LEVEL_HIGH);
	return 2;
}


int fdtu_add_soc_node(struct fdt_ctx *ctx, const char *name,
		      const char *compatible, const struct rivet_dev *dev)
{
	uint64_t reg[2] = { cpu_to_fdt64(dev->base), cpu_to_fdt64(dev->size) };
	char node[64];
	int soc, off, err;

	soc = fdt_path_offset(ctx->fdt, "/soc");
	if (soc < 0)
		return fdtu_errno(soc);
	snprintf(node, sizeof(node), "%s@%" PRIx64, name, dev->base);
	off = fdt_add_subnode(ctx->fdt, soc, node);
	if (off < 0)
		return fdtu_errno(off);
	err = fdt_setprop_string(ctx->fdt, off, "compatible", compatible);
	if (!err)
		err = fdt_setprop(ctx->fdt, off, "reg", reg, sizeof(reg));
	if (!err && dev->irq.irq) {
		uint32_t irqs[2];
		unsigned int n = fdtu_irq_spec(ctx, dev->irq.irq, irqs);

		err = fdt_setprop(ctx->fdt, off, "interrupts", irqs,
				  (int)(n * sizeof(irqs[0])));
		if (!err)
			err = fdt_setprop_u32(ctx->fdt, off, "interrupt-parent",
					      ctx->irq_phandle);
	}
	return err ? fdtu_errno(err) : off;
}

int fdtu_path(const struct fdt_ctx *ctx, int off, char *buf, size_t len)
{
	return fdtu_errno(fdt_get_path(ctx->fdt, off, buf, (int)len));
}
