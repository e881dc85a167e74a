/* SPDX-License-Identifier: MIT */
/* The snapshot state file's encoding (docs/snapshot.md): a header (magic,
 * version, length, CRC-32C) and a sequence of tagged sections, each a
 * little-endian record that one part of the VM (a vCPU, the in-kernel AIA,
 * a device) writes and reads back.  Writers append to a growing buffer;
 * readers are bounds-checked cursors whose first error sticks, so a load
 * reads on and checks once at the end.  The file may have been written by
 * anyone: nothing here trusts a length, count or tag it reads.  Portable
 * (no KVM): unit-tested and fuzzed on x86_64. */
#ifndef RIVET_SNAP_H
#define RIVET_SNAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SNAP_MAGIC "RIVETSNP"		/* 8 bytes, no NUL */
#define SNAP_VERSION 1
#define SNAP_HEADER_SIZE 32
/* A state file is small (registers and device state; RAM is a file of its
 * own): anything larger is refused before it is read. */
#define SNAP_STATE_MAX (16u << 20)

/* A section's tag: four ASCII characters, e.g. SNAP_TAG('V','C','P','U'). */
#define SNAP_TAG(a, b, c, d) \
	((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | \
	 (uint32_t)(d) << 24)

/* ---- writing ---- */
struct snap_w {
	uint8_t *buf;
	size_t len, cap;
	int err;		/* first error (-ENOMEM, -EOVERFLOW), sticky */
};

void snap_w_init(struct snap_w *w);
void snap_w_free(struct snap_w *w);
void snap_w_u8(struct snap_w *w, uint8_t v);
void snap_w_u16(struct snap_w *w, uint16_t v);
void snap_w_u32(struct snap_w *w, uint32_t v);
void snap_w_u64(struct snap_w *w, uint64_t v);
void snap_w_bool(struct snap_w *w, bool v);
void snap_w_bytes(struct snap_w *w, const void *p, size_t n);
/* A string of up to 65535 bytes: u16 length, the bytes, no NUL. */
void snap_w_str(struct snap_w *w, const char *s);
/* Open a section @tag (instance @inst: a vCPU's or device's number);
 * returns the mark snap_w_end() closes it with.  Sections nest. */
size_t snap_w_begin(struct snap_w *w, uint32_t tag, uint32_t inst);
void snap_w_end(struct snap_w *w, size_t mark);

/* ---- reading ---- */
struct snap_r {
	const uint8_t *p;
	size_t len, off;
	int err;		/* first error (-EBADMSG), sticky */
	const char *what;	/* what failed first, for the message */
};

void snap_r_init(struct snap_r *r, const void *p, size_t len);
/* Each returns 0 (or zero-fills) once the reader has failed. */
uint8_t snap_r_u8(struct snap_r *r);
uint16_t snap_r_u16(struct snap_r *r);
uint32_t snap_r_u32(struct snap_r *r);
uint64_t snap_r_u64(struct snap_r *r);
/* 0 or 1; anything else fails the reader. */
bool snap_r_bool(struct snap_r *r);
void snap_r_bytes(struct snap_r *r, void *dst, size_t n);
/* A string written by snap_w_str() into @dst (@cap bytes, NUL-terminated);
 * longer than @cap - 1, or holding a NUL, fails the reader. */
void snap_r_str(struct snap_r *r, char *dst, size_t cap);
/* Fail the reader unless @ok: a value out of its range.  Returns @ok. */
bool snap_r_check(struct snap_r *r, bool ok, const char *what);
/* The next section: its tag, instance and a reader over exactly its
 * payload (@sub).  1 if there is one, 0 at the end, -EBADMSG when the
 * framing is broken (also left in r->err). */
int snap_r_section(struct snap_r *r, uint32_t *tag, uint32_t *inst,
		   struct snap_r *sub);
/* 0 if @r read all of its bytes without an error, else -EBADMSG: a
 * section longer or shorter than its reader expected is corrupt too. */
int snap_r_finish(struct snap_r *r);
size_t snap_r_left(const struct snap_r *r);

/* ---- the file ---- */
/* CRC-32C (Castagnoli) of @len bytes at @p, continuing from @crc (0 to
 * start). */
uint32_t snap_crc32c(uint32_t crc, const void *p, size_t len);
/* The state file for body @w's sections: header then body, in @out (a
 * fresh writer).  0 or -errno. */
int snap_file_build(const struct snap_w *body, struct snap_w *out);
/* Check a state file's header (magic, version, length, both CRCs) and
 * set @body to its sections.  0, or -EBADMSG / -EPROTO (another version)
 * with the reason in @err (@errlen bytes). */
int snap_file_open(const void *buf, size_t len, struct snap_r *body,
		   char *err, size_t errlen);

/* "VCPU" for a tag (@out: 5 bytes); non-printable bytes as '?'. */
void snap_tag_name(uint32_t tag, char out[5]);

#endif
