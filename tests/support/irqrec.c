// SPDX-License-Identifier: MIT
#include "tests/support/irqrec.h"

#include <string.h>

static int rec_hart_set(void *ctx, unsigned int hart, bool level)
{
	struct ts_hart_rec *r = ctx;

	if (r->n < TS_REC_EVENTS)
		r->ev[r->n] = (struct ts_hart_event){ hart, level };
	r->n++;
	r->calls++;
	if (hart >= TS_REC_HARTS) {
		r->bad_hart++;
		return r->ret;
	}
	if (__atomic_load_n(&r->level[hart], __ATOMIC_RELAXED) == level)
		r->repeats++;
	__atomic_store_n(&r->level[hart], level, __ATOMIC_RELEASE);
	return r->ret;
}

static int rec_msi_send(void *ctx, uint64_t addr, uint32_t data)
{
	struct ts_msi_rec *r = ctx;

	if (r->n < TS_REC_EVENTS)
		r->ev[r->n] = (struct ts_msi_event){ addr, data };
	r->n++;
	r->total++;
	if (data < TS_REC_EIIDS)
		__atomic_fetch_add(&r->count[data], 1, __ATOMIC_RELEASE);
	return r->ret;
}

void ts_hart_rec_init(struct ts_hart_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->irq = (struct hart_irq){ .set = rec_hart_set, .ctx = r };
}

void ts_msi_rec_init(struct ts_msi_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->chip = (struct msi_chip){ .send = rec_msi_send, .ctx = r };
}

void ts_hart_rec_clear(struct ts_hart_rec *r)
{
	r->n = 0;
}

void ts_msi_rec_clear(struct ts_msi_rec *r)
{
	r->n = 0;
}

bool ts_hart_level(const struct ts_hart_rec *r, unsigned int hart)
{
	if (hart >= TS_REC_HARTS)
		return false;
	return __atomic_load_n(&r->level[hart], __ATOMIC_ACQUIRE);
}

unsigned long ts_msi_count(const struct ts_msi_rec *r, uint32_t data)
{
	if (data >= TS_REC_EIIDS)
		return 0;
	return __atomic_load_n(&r->count[data], __ATOMIC_ACQUIRE);
}
