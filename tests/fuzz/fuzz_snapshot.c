// SPDX-License-Identifier: MIT
/* Fuzz target: restoring a snapshot's state file (src/snapshot/), the way
 * `rivet run --incoming` reads it before any vCPU runs: the header and its
 * checksums, the machine record against this run's machine, then every
 * record into the arch code (a stand-in here) and the devices' load
 * operations of a whole board built without KVM.
 *
 * Input: [u8 cfg][rest].  cfg bit 0: the virt board (else microvm); bits
 * 1-2: the interrupt controller (aia, split, plic); bits 4-5 the mode:
 *  0  raw: rest is the whole state file;
 *  1  wrapped: rest is the body, given a valid header (past the CRCs);
 *  2+ mutated: the body of a real snapshot of this board (its machine
 *     record, a vCPU record, every device's record as its save writes
 *     it), then rest as edits [u16 offset][u8 xor] ... and, if the edit
 *     list ends with an odd byte, the body cut at offset rest[last] * 4.
 * Checked besides the sanitizers: a refused record leaves a message; when
 * the whole restore succeeds every device saves again, and the records
 * it writes load again (idempotent). */
#include "fuzz.h"

#include <errno.h>

#include "core/device.h"
#include "machine/machine.h"
#include "snapshot/image.h"
#include "snapshot/snap.h"
#include "tests/support/board.h"

static int fake_arch(void *ctx, uint32_t tag, uint32_t inst,
		     struct snap_r *r)
{
	(void)ctx;
	if (tag != SNAP_TAG('V', 'C', 'P', 'U') &&
	    tag != SNAP_TAG('I', 'M', 'S', 'C') &&
	    tag != SNAP_TAG('A', 'P', 'L', 'C'))
		return 0;
	(void)snap_r_u32(r);
	return inst < 2 && !snap_r_finish(r) ? 1 : -EBADMSG;
}

/* Every device that can save, as snap_save_devices() frames them (one
 * that cannot, -EOPNOTSUPP, is left out: its record is then missing). */
static void save_devices(struct machine *m, struct snap_w *w)
{
	for (unsigned int i = 0; i < m->nr_devs; i++) {
		struct rivet_dev *d = m->devs[i];
		struct snap_w one;
		size_t mk;
		int ret;

		if (!d->ops->save)
			continue;
		snap_w_init(&one);
		ret = d->ops->save(d, &one);
		FUZZ_CHECK(ret == 0 || ret == -EOPNOTSUPP);
		if (!ret) {
			mk = snap_w_begin(w, SNAP_TAG('D', 'E', 'V', ' '), i);
			snap_w_str(w, d->ops->name);
			snap_w_u64(w, d->base);
			snap_w_bytes(w, one.buf, one.len);
			snap_w_end(w, mk);
		}
		snap_w_free(&one);
	}
}

static void real_body(struct machine *m, struct snap_w *w)
{
	size_t mk;

	snap_w_init(w);
	FUZZ_CHECK(snap_save_host(m, 1, w) == 0);
	mk = snap_w_begin(w, SNAP_TAG('V', 'C', 'P', 'U'), 0);
	snap_w_u32(w, 0);
	snap_w_end(w, mk);
	save_devices(m, w);
	FUZZ_CHECK(w->err == 0);
}

static void restore(struct machine *m, const uint8_t *file, size_t len)
{
	struct snap_r body, host, again;
	uint32_t tag, inst;
	uint64_t id;
	char err[256] = "";
	struct snap_w w;
	int ret;

	if (snap_file_open(file, len, &body, err, sizeof(err))) {
		FUZZ_CHECK(err[0]);
		return;
	}
	if (snap_r_section(&body, &tag, &inst, &host) != 1 ||
	    tag != SNAP_TAG('H', 'O', 'S', 'T'))
		return;
	err[0] = '\0';
	if (snap_check_host(m, &host, true, &id, err, sizeof(err))) {
		FUZZ_CHECK(err[0]);
		return;
	}
	err[0] = '\0';
	ret = snap_restore_sections(m, &body, fake_arch, NULL, err,
				    sizeof(err));
	if (ret) {
		FUZZ_CHECK(err[0]);
		return;
	}
	/* Restored: what the devices hold now saves, and loads again. */
	snap_w_init(&w);
	save_devices(m, &w);
	FUZZ_CHECK(w.err == 0);
	snap_r_init(&again, w.buf, w.len);
	while (snap_r_section(&again, &tag, &inst, &host) == 1)
		FUZZ_CHECK(snap_load_device(m, inst, &host, err,
					    sizeof(err)) == 0);
	FUZZ_CHECK(again.err == 0);
	snap_w_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum irqchip_mode chips[] = { IRQCHIP_AIA, IRQCHIP_SPLIT,
						   IRQCHIP_PLIC, IRQCHIP_AIA };
	struct tboard b;
	struct snap_w body, file;
	unsigned int mode;
	uint8_t cfg;

	fuzz_quiet();
	if (size < 1)
		return 0;
	cfg = data[0];
	data++;
	size--;
	mode = (cfg >> 4) & 3;
	if (tboard_try(&b, cfg & 1 ? "virt" : "microvm", 2, 64 << 20, 0,
		       chips[(cfg >> 1) & 3])) {
		tboard_destroy(&b);
		return 0;
	}
	if (mode == 0) {
		restore(&b.m, data, size);
		tboard_destroy(&b);
		return 0;
	}
	if (mode == 1) {
		snap_w_init(&body);
		snap_w_bytes(&body, data, size);
	} else {
		size_t i = 0, cut = 0;

		real_body(&b.m, &body);
		for (; i + 3 <= size; i += 3) {
			size_t off = (size_t)(data[i] | data[i + 1] << 8);

			if (body.len)
				body.buf[off % body.len] ^= data[i + 2];
		}
		if (i < size) {
			cut = (size_t)data[size - 1] * 4;
			if (cut < body.len)
				body.len = cut;
		}
	}
	if (!snap_file_build(&body, &file))
		restore(&b.m, file.buf, file.len);
	snap_w_free(&file);
	snap_w_free(&body);
	tboard_destroy(&b);
	return 0;
}
