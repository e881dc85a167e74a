// SPDX-License-Identifier: MIT
/* Snapshot records of the device models (tests/support/snapdev.h): a
 * device driven into a non-trivial state, saved and loaded into a fresh
 * one, saves the same bytes and goes on behaving the same; the PLIC's
 * outputs and the CFI flash's ROM mapping follow the loaded state; every
 * truncation of a record, a trailing byte and each out-of-range value is
 * refused with -EBADMSG, leaving the device as it was (the PCI host: safe
 * to destroy); a PCI function without hooks cannot be saved. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/log.h"
#include "devices/cfi_flash.h"
#include "devices/pci.h"
#include "snapshot/snap.h"
#include "tests/support/snapdev.h"

#define FLASH_BANK	CFI_FLASH_SECTOR_SIZE
#define FN_INTX		(TP_INTX_BASE + 1)

/* A driven device's record (@w, freed by the caller) and the device. */
static struct ts_snapdev *driven(enum ts_sd_kind kind, struct snap_w *w)
{
	struct ts_snapdev *sd = ts_sd_new(kind);

	ts_sd_drive(sd);
	assert_int_equal(ts_sd_save(sd, w), 0);
	assert_true(w->len > 0 || kind == TS_SD_BOOT_TIMER);
	return sd;
}

static void assert_same(const struct snap_w *a, const struct snap_w *b)
{
	assert_int_equal(a->len, b->len);
	if (a->len)
		assert_memory_equal(a->buf, b->buf, a->len);
}

/* Load @w into a fresh device of @kind; 0 expected. */
static struct ts_snapdev *restored(enum ts_sd_kind kind,
				   const struct snap_w *w)
{
	struct ts_snapdev *sd = ts_sd_new(kind);

	assert_int_equal(ts_sd_load(sd, w->buf, w->len), 0);
	return sd;
}

/* A driven device @x and its record @w; @y fresh, with @w loaded into it
 * (@load) or saved as it is into @fresh. */
struct pair {
	struct snap_w w, fresh;
	struct ts_snapdev *x, *y;
};

static void pair_up(struct pair *p, enum ts_sd_kind kind, bool load)
{
	p->x = driven(kind, &p->w);
	snap_w_init(&p->fresh);
	if (load) {
		p->y = restored(kind, &p->w);
	} else {
		p->y = ts_sd_new(kind);
		assert_int_equal(ts_sd_save(p->y, &p->fresh), 0);
	}
}

static void pair_down(struct pair *p)
{
	snap_w_free(&p->w);
	snap_w_free(&p->fresh);
	ts_sd_free(p->x);
	ts_sd_free(p->y);
}

static void roundtrip(enum ts_sd_kind kind, bool drive)
{
	struct snap_w a, b, pa, pb;
	struct ts_snapdev *x = ts_sd_new(kind), *y;

	if (drive)
		ts_sd_drive(x);
	assert_int_equal(ts_sd_save(x, &a), 0);
	y = restored(kind, &a);
	assert_int_equal(ts_sd_save(y, &b), 0);
	assert_same(&a, &b);
	/* The wired lines' levels are the interrupt controller's state,
	 * restored by it: here, by hand. */
	memcpy(y->level, x->level, sizeof(y->level));
	ts_sd_probe(x, &pa);
	ts_sd_probe(y, &pb);
	assert_int_equal(pa.err, 0);
	assert_same(&pa, &pb);
	/* And they stay alike. */
	snap_w_free(&a);
	snap_w_free(&b);
	assert_int_equal(ts_sd_save(x, &a), 0);
	assert_int_equal(ts_sd_save(y, &b), 0);
	assert_same(&a, &b);
	snap_w_free(&a);
	snap_w_free(&b);
	snap_w_free(&pa);
	snap_w_free(&pb);
	ts_sd_free(x);
	ts_sd_free(y);
}

static void test_roundtrip(void **state)
{
	for (int k = 0; k < TS_SD_NR; k++) {
		roundtrip(k, true);
		roundtrip(k, false);
	}
}

/* Loading into the PLIC drives the harts' lines to what the state says,
 * once each, and only those that are high. */
static void test_plic_outputs(void **state)
{
	struct pair p;

	pair_up(&p, TS_SD_PLIC, true);
	assert_true(ts_hart_level(&p.x->harts, 0));
	assert_false(ts_hart_level(&p.x->harts, 1));
	assert_int_equal(p.y->harts.calls, 1);
	assert_int_equal(p.y->harts.ev[0].hart, 0);
	assert_true(p.y->harts.ev[0].level);
	pair_down(&p);
}

/* Wired devices raise nothing on load; the APLIC sends nothing. */
static void test_no_interrupt_on_load(void **state)
{
	static const enum ts_sd_kind kinds[] = {
		TS_SD_UART, TS_SD_GED, TS_SD_APLIC, TS_SD_PCI };

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct pair p;

		pair_up(&p, kinds[i], true);
		assert_int_equal(p.y->irq_calls, 0);
		assert_int_equal(p.y->msi.total, 0);
		assert_int_equal(p.y->pci.msi.sent, 0);
		pair_down(&p);
	}
}

/* A bank loaded out of read-array mode has its ROM slot taken away. */
static void test_flash_mode(void **state)
{
	struct pair p;

	pair_up(&p, TS_SD_CFI_FLASH, true);
	assert_false(p.x->flash_array);
	assert_int_equal(p.y->flash_modes, 1);
	assert_false(p.y->flash_array);
	pair_down(&p);
}

/* A refused load of @p leaves the device as a fresh one (@fresh: its
 * record); the PCI host is only safe to destroy. */
static void refused(enum ts_sd_kind kind, const void *p, size_t len,
		    const struct snap_w *fresh, const char *what)
{
	struct ts_snapdev *sd = ts_sd_new(kind);
	struct snap_w w;
	int ret = ts_sd_load(sd, p, len);

	/* -EINVAL: another configuration's record (the PCI host's slots). */
	if (ret != -EBADMSG && ret != -EINVAL)
		fail_msg("%s: %s (%zu bytes) accepted", ts_sd_name(kind),
			 what, len);
	if (kind != TS_SD_PCI) {
		assert_int_equal(ts_sd_save(sd, &w), 0);
		assert_same(&w, fresh);
		snap_w_free(&w);
	}
	ts_sd_free(sd);
}

static void test_truncated(void **state)
{
	for (int k = 0; k < TS_SD_NR; k++) {
		struct pair p;
		uint8_t *longer;

		pair_up(&p, k, false);
		for (size_t n = 0; n < p.w.len; n++)
			refused(k, p.w.buf, n, &p.fresh, "truncated");
		longer = calloc(1, p.w.len + 1);
		assert_non_null(longer);
		if (p.w.len)
			memcpy(longer, p.w.buf, p.w.len);
		refused(k, longer, p.w.len + 1, &p.fresh, "a trailing byte");
		free(longer);
		pair_down(&p);
	}
}

struct bad {
	enum ts_sd_kind kind;
	size_t off;
	unsigned int width;	/* bytes of @v written at @off */
	uint64_t v;
	const char *what;
};

/* Offsets in the driven records (see each device's save function). */
static const struct bad bads[] = {
	{ TS_SD_UART, 0, 1, 0x10, "IER reserved bit" },
	{ TS_SD_UART, 1, 1, 0xc3, "FCR clear bit kept" },
	{ TS_SD_UART, 1, 1, 0xc0, "FCR bits with the FIFO off" },
	{ TS_SD_UART, 1, 1, 0x00, "5 bytes without the FIFO" },
	{ TS_SD_UART, 3, 1, 0x20, "MCR reserved bit" },
	{ TS_SD_UART, 7, 1, 0x01, "LSR DR as an error bit" },
	{ TS_SD_UART, 8, 1, 0x0f, "MSR inputs not MCR's" },
	{ TS_SD_UART, 9, 1, 2, "THR pending not a boolean" },
	{ TS_SD_UART, 10, 1, 17, "FIFO count past 16" },
	{ TS_SD_PLIC, 0, 4, 41, "another number of sources" },
	{ TS_SD_PLIC, 4, 4, 3, "another number of contexts" },
	{ TS_SD_PLIC, 8, 4, 0x81, "input of source 0" },
	{ TS_SD_PLIC, 12, 4, 0x88, "claimed source pending" },
	{ TS_SD_PLIC, 12, 4, 0x00, "asserted source not pending" },
	{ TS_SD_PLIC, 20, 4, 0x202, "input of source 41" },
	{ TS_SD_PLIC, 28, 4, 1u << 31, "claimed source 63" },
	{ TS_SD_PLIC, 34, 1, 8, "priority 8" },
	{ TS_SD_PLIC, 72, 1, 8, "threshold 8" },
	{ TS_SD_PLIC, 77, 4, 0x200, "enable of source 41" },
	{ TS_SD_APLIC, 0, 4, 39, "another number of sources" },
	{ TS_SD_APLIC, 4, 1, 2, "IE not a boolean" },
	{ TS_SD_APLIC, 5, 4, 1u << 12, "genmsi guest index" },
	{ TS_SD_APLIC, 9, 1, 2, "reserved source mode" },
	{ TS_SD_APLIC, 9, 1, 8, "source mode past 7" },
	{ TS_SD_APLIC, 10, 4, 1u << 12, "target guest index" },
	{ TS_SD_APLIC, 14, 1, 0, "level source pending, input low" },
	{ TS_SD_APLIC, 16, 1, 1, "source due for delivery" },
	{ TS_SD_APLIC, 42, 4, 1, "inactive source with a target" },
	{ TS_SD_APLIC, 47, 1, 1, "inactive source pending" },
	{ TS_SD_GED, 0, 4, 1, "unknown event" },
	{ TS_SD_BOOT_TIMER, 0, 1, 2, "fired not a boolean" },
	{ TS_SD_CFI_FLASH, 0, 8, 2 * FLASH_BANK, "another bank size" },
	{ TS_SD_CFI_FLASH, 8, 1, 10, "unknown state" },
	{ TS_SD_CFI_FLASH, 9, 1, 0x00, "status not ready" },
	{ TS_SD_CFI_FLASH, 9, 1, 0x81, "status reserved bit" },
	{ TS_SD_CFI_FLASH, 10, 8, FLASH_BANK, "command past the bank" },
	{ TS_SD_CFI_FLASH, 18, 1, 33, "33 buffer words" },
	{ TS_SD_CFI_FLASH, 19, 1, 4, "all words taken, still taking" },
	{ TS_SD_CFI_FLASH, 19, 1, 5, "more words taken than counted" },
	{ TS_SD_CFI_FLASH, 20, 8, 0x104, "buffer window misaligned" },
	{ TS_SD_CFI_FLASH, 20, 8, FLASH_BANK, "buffer window past the bank" },
	{ TS_SD_CFI_FLASH, 20, 8, UINT64_MAX, "data taken, no window" },
	{ TS_SD_CFI_FLASH, 28, 1, 2, "buf_bad not a boolean" },
	{ TS_SD_CFI_FLASH, 157, 1, 2, "buffer byte flag 2" },
	{ TS_SD_FWCFG, 0, 1, 0, "offset without a selection" },
	{ TS_SD_FWCFG, 1, 2, 0x1234, "no such item" },
	{ TS_SD_FWCFG, 1, 2, 0x4020, "write channel bit" },
	{ TS_SD_FWCFG, 3, 4, 11, "offset past the item" },
	{ TS_SD_FWCFG, 7, 8, 1ULL << 32 | 8, "DMA address low half" },
	{ TS_SD_FWCFG, 15, 1, 2, "two writable files" },
	{ TS_SD_FWCFG, 16, 2, 0x20, "writable file's key" },
	{ TS_SD_FWCFG, 18, 4, 9, "writable file's size" },
};

static void put(uint8_t *p, unsigned int width, uint64_t v)
{
	for (unsigned int i = 0; i < width; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void try_bad(const struct snap_w *w, const struct snap_w *fresh,
		    enum ts_sd_kind kind, size_t off, unsigned int width,
		    uint64_t v, const char *what)
{
	uint8_t *p = malloc(w->len);

	assert_non_null(p);
	assert_true(off + width <= w->len);
	memcpy(p, w->buf, w->len);
	put(p + off, width, v);
	assert_memory_not_equal(p, w->buf, w->len);
	refused(kind, p, w->len, fresh, what);
	free(p);
}

static void test_bad_values(void **state)
{
	for (int k = 0; k < TS_SD_NR; k++) {
		struct pair p;

		pair_up(&p, k, false);
		for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++)
			if (bads[i].kind == (enum ts_sd_kind)k)
				try_bad(&p.w, &p.fresh, k, bads[i].off,
					bads[i].width, bads[i].v,
					bads[i].what);
		pair_down(&p);
	}
}

/* The payload offset of section @tag of @slot in a PCI host record. */
static size_t section(const struct snap_w *w, uint32_t tag, uint32_t slot)
{
	struct snap_r r, sub;
	uint32_t t, inst;

	snap_r_init(&r, w->buf, w->len);
	snap_r_u32(&r);		/* the slots */
	while (snap_r_section(&r, &t, &inst, &sub) == 1)
		if (t == tag && inst == slot)
			return (size_t)(sub.p - w->buf);
	fail_msg("no section %08x for slot %u", tag, slot);
	return 0;
}

#define PCIC	SNAP_TAG('P', 'C', 'I', 'C')
#define PCIF	SNAP_TAG('P', 'C', 'I', 'F')

/* Out-of-range values in @p's PCI host record, found through its
 * sections. */
static void pci_bad_values(struct pair *p)
{
	const struct snap_w *w = &p->w;
	size_t br = section(w, PCIC, 0), c1 = section(w, PCIC, 1);
	size_t tab = c1 + PCI_CFG_SIZE + 3, pba = tab + 16 * TS_SD_FN_VECS;
	size_t fn1 = section(w, PCIF, 1);
	uint32_t tab0 = (uint32_t)(w->buf[tab] | w->buf[tab + 1] << 8 |
				   w->buf[tab + 2] << 16 |
				   (uint32_t)w->buf[tab + 3] << 24);
	const struct bad pbads[] = {
		{ TS_SD_PCI, 0, 4, 1u << 0 | 1u << 1 | 1u << 5 | 1u << 7,
		  "other slots" },
		{ TS_SD_PCI, br + PCI_VENDOR_ID, 1, 0x37, "vendor ID" },
		{ TS_SD_PCI, br + PCI_HEADER_TYPE, 1, 0x80, "header type" },
		{ TS_SD_PCI, br + PCI_STATUS, 1, PCI_STATUS_INTERRUPT |
		  PCI_STATUS_CAP_LIST, "INTx status, level low" },
		{ TS_SD_PCI, br + PCI_CFG_SIZE, 1, 1, "INTx level, status 0" },
		{ TS_SD_PCI, br + PCI_CFG_SIZE, 1, 2, "INTx not a boolean" },
		{ TS_SD_PCI, br + PCI_CFG_SIZE + 1, 2, 1, "MSI-X vectors" },
		{ TS_SD_PCI, c1 + PCI_BAR0, 1, 0x00, "BAR type bits" },
		{ TS_SD_PCI, tab, 4, tab0 | 1, "table address low bits" },
		{ TS_SD_PCI, tab + 28, 4, 3, "vector control reserved bit" },
		{ TS_SD_PCI, pba, 8, 1u << 1 | 1u << 3, "PBA past the vectors" },
		{ TS_SD_PCI, pba, 8, 1u << 0 | 1u << 1,
		  "pending vector that could go out" },
		{ TS_SD_PCI, fn1, 4, TS_SD_FN_RSVD | 0x1234,
		  "function's own record" },
		{ TS_SD_PCI, fn1 - 12, 4, SNAP_TAG('X', 'X', 'X', 'X'),
		  "section tag" },
		{ TS_SD_PCI, fn1 - 8, 4, 2, "section slot" },
	};

	assert_int_equal(w->buf[tab + 12 + 16], 1);	/* vector 1 masked */
	assert_int_equal(w->buf[pba], 2);		/* and pending */
	for (size_t i = 0; i < sizeof(pbads) / sizeof(pbads[0]); i++)
		try_bad(w, &p->fresh, TS_SD_PCI, pbads[i].off, pbads[i].width,
			pbads[i].v, pbads[i].what);
}

static void test_pci_bad_values(void **state)
{
	struct pair p;

	pair_up(&p, TS_SD_PCI, false);
	pci_bad_values(&p);
	pair_down(&p);
}

/* INTx: a loaded function whose line is high counts on its source, so
 * the source drops when the function lowers its pin. */
static void test_pci_intx_count(void **state)
{
	struct pair p;

	pair_up(&p, TS_SD_PCI, true);
	assert_false(p.y->level[FN_INTX]);	/* nothing driven on load */
	p.y->level[FN_INTX] = true;		/* the controller's restore */
	tp_wr(&p.y->pci, TP_M32_BASE + TS_SD_FN_IRQ, 4, 0);
	assert_false(p.y->level[FN_INTX]);
	assert_int_equal(p.y->irq_calls, 1);
	pair_down(&p);
}

/* Each loaded function hears that its MSI-X routing changed (its irqfds
 * follow the table), once, with nothing sent. */
static void test_pci_msix_changed(void **state)
{
	struct pair p;

	pair_up(&p, TS_SD_PCI, true);
	for (int i = 0; i < 2; i++)
		assert_int_equal(p.y->fn[i]->msix_changes, 1);
	assert_int_equal(p.y->pci.msi.sent, 0);
	pair_down(&p);
}

/* A function without save/load hooks: the host refuses to save and says
 * which function it is. */
static void test_pci_unsaved_function(void **state)
{
	struct ts_sd_fn *fn = ts_sd_fn_new(false);
	struct pci_dev *pd = &fn->pd;
	const int slot = 3;
	struct tp_host t;
	struct irq_chip chip = { 0 };
	struct rivet_dev *ecam;
	struct snap_w w;
	unsigned long n;

	memset(&t, 0, sizeof(t));
	tp_host_up(&t, &chip, &pd, &slot, 1);
	ecam = pci_host_window(t.h, PCI_HOST_ECAM);
	snap_w_init(&w);
	n = log_count();
	assert_int_equal(ecam->ops->save(ecam, &w), -EOPNOTSUPP);
	assert_true(log_count() > n);
	snap_w_free(&w);
	tp_host_down(&t);
}

/* The windows other than ECAM have empty records. */
static void test_pci_windows(void **state)
{
	struct ts_snapdev *sd = ts_sd_new(TS_SD_PCI);

	for (int i = PCI_HOST_PIO; i < PCI_HOST_NR_WINDOWS; i++) {
		struct rivet_dev *d = pci_host_window(sd->pci.h, i);
		struct snap_w w;
		struct snap_r r;
		uint8_t junk = 0;

		snap_w_init(&w);
		assert_int_equal(d->ops->save(d, &w), 0);
		assert_int_equal(w.len, 0);
		snap_r_init(&r, NULL, 0);
		assert_int_equal(d->ops->load(d, &r), 0);
		snap_r_init(&r, &junk, 1);
		assert_int_equal(d->ops->load(d, &r), -EBADMSG);
		snap_w_free(&w);
	}
	ts_sd_free(sd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_plic_outputs),
		cmocka_unit_test(test_no_interrupt_on_load),
		cmocka_unit_test(test_flash_mode),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_pci_bad_values),
		cmocka_unit_test(test_pci_intx_count),
		cmocka_unit_test(test_pci_msix_changed),
		cmocka_unit_test(test_pci_unsaved_function),
		cmocka_unit_test(test_pci_windows),
	};

	log_set_level(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
