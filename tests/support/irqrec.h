/* SPDX-License-Identifier: MIT */
/* Recorders for what an interrupt controller emits, for the PLIC and
 * APLIC tests and fuzz targets: a struct hart_irq that logs every
 * set(hart, level) call and a struct msi_chip that logs every message.
 *
 * The device calls them under its own lock; the current levels and the
 * per-EIID counts are kept with atomics so that other threads (a test's
 * simulated vCPUs) may poll them while devices run.  Everything else is
 * read once the device is quiet. */
#ifndef RIVET_TEST_IRQREC_H
#define RIVET_TEST_IRQREC_H

#include <stdbool.h>
#include <stdint.h>

#include "core/irq.h"
#include "core/msi.h"

#define TS_REC_EVENTS	4096	/* calls kept in order (the first ones) */
#define TS_REC_HARTS	64
#define TS_REC_EIIDS	2048

struct ts_hart_event {
	unsigned int hart;
	bool level;
};

struct ts_hart_rec {
	struct hart_irq irq;	/* give &rec->irq to the device */
	unsigned long n;	/* calls since the last ts_hart_rec_clear() */
	struct ts_hart_event ev[TS_REC_EVENTS];
	bool level[TS_REC_HARTS];	/* atomic: the last level per hart */
	unsigned long calls;		/* calls in all */
	unsigned long repeats;	/* calls that did not change the level */
	unsigned long bad_hart;	/* calls for a hart >= TS_REC_HARTS */
	int ret;		/* what set() returns */
};

struct ts_msi_event {
	uint64_t addr;
	uint32_t data;
};

struct ts_msi_rec {
	struct msi_chip chip;	/* give &rec->chip to the device */
	unsigned long n;	/* messages since the last ts_msi_rec_clear() */
	struct ts_msi_event ev[TS_REC_EVENTS];
	unsigned long count[TS_REC_EIIDS];	/* atomic: messages per data */
	unsigned long total;
	int ret;		/* what send() returns */
};

/* Zero @r and point its hart_irq / msi_chip at it. */
void ts_hart_rec_init(struct ts_hart_rec *r);
void ts_msi_rec_init(struct ts_msi_rec *r);

/* Forget the events seen so far (levels and counts stay). */
void ts_hart_rec_clear(struct ts_hart_rec *r);
void ts_msi_rec_clear(struct ts_msi_rec *r);

/* Hart @hart's level as last set (atomic read). */
bool ts_hart_level(const struct ts_hart_rec *r, unsigned int hart);

/* Messages with data @data so far (atomic read). */
unsigned long ts_msi_count(const struct ts_msi_rec *r, uint32_t data);

#endif
