// SPDX-License-Identifier: MIT
/* ACPI Generic Event Device with a power button (see ged.h).  What Linux
 * needs, from drivers/acpi/evged.c and drivers/acpi/button.c: a _CRS with
 * the interrupt (evged requests it as a threaded, oneshot IRQ and runs
 * _EVT with the GSI as argument), and a PNP0C0C device that _EVT notifies
 * with 0x80 (the button driver then reports KEY_POWER). */
#include "devices/ged.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "acpi/aml.h"
#include "core/device.h"
#include "core/log.h"
#include "snapshot/snap.h"

struct ged {
	struct rivet_dev dev;
	pthread_mutex_t lock;
	uint32_t pending;	/* event bits not yet read */
	bool irq_level;		/* what the line was last driven to */
};

static const struct dev_ops ged_ops;

static struct ged *to_ged(struct rivet_dev *dev)
{
	return dev->priv;
}

/* Lock held: the line follows the pending bits.  The chip's error, or 0. */
static int update_irq_locked(struct ged *g)
{
	bool level = g->pending != 0;
	int err;

	if (level == g->irq_level)
		return 0;
	err = irq_line_set(&g->dev.irq, level);
	if (!err)
		g->irq_level = level;
	return err;
}

static bool access_ok(struct rivet_dev *dev, uint64_t off, unsigned int len,
		      bool is_write)
{
	if (off == GED_REG_SEL && len == GED_REG_SEL_LEN)
		return true;
	log_guest("ged@0x%" PRIx64 ": %u-byte %s at +0x%" PRIx64
		  " ignored (one 32-bit register at +0)", dev->base, len,
		  is_write ? "write" : "read", off);
	return false;
}

/* Read-to-clear: the events, which the read consumes, and the line
 * drops.  Linux's _EVT reads once per interrupt. */
static void ged_mmio_read(struct rivet_dev *dev, uint64_t off, uint8_t *data,
			  unsigned int len)
{
	struct ged *g = to_ged(dev);
	uint32_t v;
	int err;

	memset(data, 0, len);
	if (!access_ok(dev, off, len, false))
		return;
	pthread_mutex_lock(&g->lock);
	v = g->pending;
	g->pending = 0;
	err = update_irq_locked(g);
	pthread_mutex_unlock(&g->lock);
	if (err)
		log_guest("ged@0x%" PRIx64 ": cannot lower the interrupt: %s",
			  dev->base, strerror(-err));
	mmio_put(data, len, v);
}

/* The selector is read-only (the DSDT's Field says WriteAsZeros, and _EVT
 * never writes it): a write there is dropped quietly, anything else is
 * logged. */
static void ged_mmio_write(struct rivet_dev *dev, uint64_t off,
			   const uint8_t *data, unsigned int len)
{
	(void)data;
	access_ok(dev, off, len, true);
}

int ged_press_power(struct rivet_dev *dev)
{
	struct ged *g;
	int err;

	if (!dev || dev->ops != &ged_ops)
		return -EINVAL;
	g = to_ged(dev);
	pthread_mutex_lock(&g->lock);
	g->pending |= GED_EVT_POWER_BUTTON;
	err = update_irq_locked(g);
	pthread_mutex_unlock(&g->lock);
	return err;
}

/* Device (GED0) and Device (PWRB) in \_SB (see ged.h for the ASL): fixed
 * names, since _EVT names the button; one GED per machine. */
static int ged_acpi_dsdt(struct rivet_dev *dev, struct aml_buf *b)
{
	uint32_t gsi = aml_gsi(b, dev->irq.irq);

	aml_device_begin(b, "GED0");
	aml_name_str(b, "_HID", "ACPI0013");
	aml_name_int(b, "_UID", 0);
	aml_name(b, "_CRS");
	aml_resource_template_begin(b);
	aml_interrupt(b, AML_IRQ_CONSUMER | AML_IRQ_LEVEL |
			      AML_IRQ_ACTIVE_HIGH | AML_IRQ_EXCLUSIVE, &gsi, 1);
	aml_end(b);
	aml_operation_region(b, "EREG", AML_REGION_SYSTEM_MEMORY,
			     dev->base + GED_REG_SEL, GED_REG_SEL_LEN);
	aml_field(b, "EREG", AML_FIELD_DWORD_ACC | AML_FIELD_NOLOCK |
			     AML_FIELD_WRITE_ZEROS, "ESEL", 32);
	aml_method_begin(b, "_EVT", 1, true);
	aml_store(b, AML_NAME("ESEL"), AML_LOCAL(0));
	aml_if_begin(b);
	aml_lequal_op(b);
	aml_and(b, AML_LOCAL(0), AML_INT(GED_EVT_POWER_BUTTON), AML_NOTARGET);
	aml_opnd(b, AML_INT(GED_EVT_POWER_BUTTON));
	aml_notify(b, AML_NAME("\\_SB.PWRB"), AML_INT(0x80));
	aml_end(b);	/* If */
	aml_end(b);	/* Method */
	aml_end(b);	/* Device */

	aml_device_begin(b, "PWRB");
	aml_name_str(b, "_HID", "PNP0C0C");
	aml_name_int(b, "_UID", 0);
	aml_end(b);
	return aml_error(b);
}

static void ged_destroy(struct rivet_dev *dev)
{
	struct ged *g = to_ged(dev);

	pthread_mutex_destroy(&g->lock);
	free(g);
}

/* Record: the pending event bits (u32).  The line's level follows them. */
static int ged_save(struct rivet_dev *dev, struct snap_w *w)
{
	struct ged *g = to_ged(dev);

	pthread_mutex_lock(&g->lock);
	snap_w_u32(w, g->pending);
	pthread_mutex_unlock(&g->lock);
	return w->err;
}

static int ged_load(struct rivet_dev *dev, struct snap_r *r)
{
	struct ged *g = to_ged(dev);
	uint32_t pending = snap_r_u32(r);

	snap_r_check(r, !(pending & ~GED_EVT_POWER_BUTTON),
		     "ged: unknown event bits");
	if (snap_r_finish(r))
		return -EBADMSG;
	pthread_mutex_lock(&g->lock);
	g->pending = pending;
	/* The line itself is the interrupt controller's state. */
	g->irq_level = pending != 0;
	pthread_mutex_unlock(&g->lock);
	return 0;
}

static const struct dev_ops ged_ops = {
	.name = "ged",
	.mmio_read = ged_mmio_read,
	.mmio_write = ged_mmio_write,
	.acpi_dsdt = ged_acpi_dsdt,
	.destroy = ged_destroy,
	.save = ged_save,
	.load = ged_load,
};

int ged_create(uint64_t base, struct irq_line irq, struct rivet_dev **out)
{
	struct ged *g;
	int err;

	if (!out || !irq.irq || base > UINT64_MAX - GED_SIZE)
		return -EINVAL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	err = pthread_mutex_init(&g->lock, NULL);
	if (err) {
		free(g);
		return -err;
	}
	g->dev = (struct rivet_dev){ .ops = &ged_ops, .base = base,
				     .size = GED_SIZE, .irq = irq, .priv = g };
	*out = &g->dev;
	return 0;
}
