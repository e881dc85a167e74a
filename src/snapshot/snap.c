// SPDX-License-Identifier: MIT
/* The snapshot state file's encoding: see snap.h and docs/snapshot.md. */
#include "snapshot/snap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A section's frame: tag, instance, payload length (u32 each). */
#define SECT_HDR 12

void snap_w_init(struct snap_w *w)
{
	memset(w, 0, sizeof(*w));
}

void snap_w_free(struct snap_w *w)
{
	free(w->buf);
	snap_w_init(w);
}

/* Room for @n more bytes; false (w->err set) if there is none. */
static bool w_room(struct snap_w *w, size_t n)
{
	size_t cap;
	uint8_t *b;

	if (w->err)
		return false;
	if (n > SNAP_STATE_MAX || w->len > SNAP_STATE_MAX - n) {
		w->err = -EOVERFLOW;
		return false;
	}
	if (w->len + n <= w->cap)
		return true;
	cap = w->cap ? w->cap : 4096;
	while (cap < w->len + n)
		cap *= 2;
	/* Not realloc: growing a large chunk would be mremap, which the
	 * VM process's main thread may not call (seccomp). */
	b = malloc(cap);
	if (!b) {
		w->err = -ENOMEM;
		return false;
	}
	if (w->len)
		memcpy(b, w->buf, w->len);
	free(w->buf);
	w->buf = b;
	w->cap = cap;
	return true;
}

static void w_le(struct snap_w *w, uint64_t v, unsigned int n)
{
	if (!w_room(w, n))
		return;
	for (unsigned int i = 0; i < n; i++)
		w->buf[w->len++] = (uint8_t)(v >> (8 * i));
}

void snap_w_u8(struct snap_w *w, uint8_t v) { w_le(w, v, 1); }
void snap_w_u16(struct snap_w *w, uint16_t v) { w_le(w, v, 2); }
void snap_w_u32(struct snap_w *w, uint32_t v) { w_le(w, v, 4); }
void snap_w_u64(struct snap_w *w, uint64_t v) { w_le(w, v, 8); }
void snap_w_bool(struct snap_w *w, bool v) { w_le(w, v ? 1 : 0, 1); }

void snap_w_bytes(struct snap_w *w, const void *p, size_t n)
{
	if (!n || !w_room(w, n))
		return;
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

void snap_w_str(struct snap_w *w, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n > UINT16_MAX) {
		if (!w->err)
			w->err = -EOVERFLOW;
		return;
	}
	snap_w_u16(w, (uint16_t)n);
	snap_w_bytes(w, s, n);
}

size_t snap_w_begin(struct snap_w *w, uint32_t tag, uint32_t inst)
{
	size_t mark = w->len;

	snap_w_u32(w, tag);
	snap_w_u32(w, inst);
	snap_w_u32(w, 0);	/* the length, patched by snap_w_end() */
	return mark;
}

void snap_w_end(struct snap_w *w, size_t mark)
{
	size_t n;

	if (w->err)
		return;
	if (mark > w->len || w->len - mark < SECT_HDR) {
		w->err = -EINVAL;
		return;
	}
	n = w->len - mark - SECT_HDR;
	for (unsigned int i = 0; i < 4; i++)
		w->buf[mark + 8 + i] = (uint8_t)(n >> (8 * i));
}

/* ---- reading ---- */

void snap_r_init(struct snap_r *r, const void *p, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->p = p;
	r->len = p ? len : 0;
}

static void r_fail(struct snap_r *r, const char *what)
{
	if (!r->err) {
		r->err = -EBADMSG;
		r->what = what;
	}
}

/* @n bytes at the cursor, or NULL (the reader failed). */
static const uint8_t *r_take(struct snap_r *r, size_t n)
{
	const uint8_t *p;

	if (r->err)
		return NULL;
	if (n > r->len - r->off) {
		r_fail(r, "truncated");
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

static uint64_t r_le(struct snap_r *r, unsigned int n)
{
	const uint8_t *p = r_take(r, n);
	uint64_t v = 0;

	if (!p)
		return 0;
	for (unsigned int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

uint8_t snap_r_u8(struct snap_r *r) { return (uint8_t)r_le(r, 1); }
uint16_t snap_r_u16(struct snap_r *r) { return (uint16_t)r_le(r, 2); }
uint32_t snap_r_u32(struct snap_r *r) { return (uint32_t)r_le(r, 4); }
uint64_t snap_r_u64(struct snap_r *r) { return r_le(r, 8); }

bool snap_r_bool(struct snap_r *r)
{
	uint8_t v = snap_r_u8(r);

	snap_r_check(r, v <= 1, "boolean out of range");
	return v == 1;
}

void snap_r_bytes(struct snap_r *r, void *dst, size_t n)
{
	const uint8_t *p = r_take(r, n);

	if (p)
		memcpy(dst, p, n);
	else if (n)
		memset(dst, 0, n);
}

void snap_r_str(struct snap_r *r, char *dst, size_t cap)
{
	size_t n = snap_r_u16(r);
	const uint8_t *p;

	if (cap)
		dst[0] = '\0';
	if (!snap_r_check(r, n < cap, "string too long"))
		return;
	p = r_take(r, n);
	if (!p || !snap_r_check(r, !memchr(p, 0, n), "NUL in a string"))
		return;
	memcpy(dst, p, n);
	dst[n] = '\0';
}

bool snap_r_check(struct snap_r *r, bool ok, const char *what)
{
	if (!ok)
		r_fail(r, what);
	return ok && !r->err;
}

int snap_r_section(struct snap_r *r, uint32_t *tag, uint32_t *inst,
		   struct snap_r *sub)
{
	uint32_t n;
	const uint8_t *p;

	snap_r_init(sub, NULL, 0);
	if (r->err)
		return r->err;
	if (r->off == r->len)
		return 0;
	*tag = snap_r_u32(r);
	*inst = snap_r_u32(r);
	n = snap_r_u32(r);
	p = r_take(r, n);
	if (!p) {
		r_fail(r, "section runs past its container");
		return r->err;
	}
	snap_r_init(sub, p, n);
	return 1;
}

int snap_r_finish(struct snap_r *r)
{
	if (!r->err && r->off != r->len)
		r_fail(r, "trailing bytes");
	return r->err ? -EBADMSG : 0;
}

size_t snap_r_left(const struct snap_r *r)
{
	return r->err ? 0 : r->len - r->off;
}

/* ---- the file ---- */

uint32_t snap_crc32c(uint32_t crc, const void *p, size_t len)
{
	static uint32_t table[256];
	static bool ready;
	const uint8_t *b = p;

	if (!ready) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
			table[i] = c;
		}
		ready = true;
	}
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* Header: magic[8], version u32, flags u32, body length u64, body CRC
 * u32, header CRC u32 (of the 28 bytes before it). */
int snap_file_build(const struct snap_w *body, struct snap_w *out)
{
	size_t hcrc;

	snap_w_init(out);
	if (body->err)
		return body->err;
	snap_w_bytes(out, SNAP_MAGIC, 8);
	snap_w_u32(out, SNAP_VERSION);
	snap_w_u32(out, 0);
	snap_w_u64(out, body->len);
	snap_w_u32(out, snap_crc32c(0, body->buf, body->len));
	hcrc = out->len;
	snap_w_u32(out, 0);
	if (!out->err) {
		uint32_t c = snap_crc32c(0, out->buf, hcrc);

		for (unsigned int i = 0; i < 4; i++)
			out->buf[hcrc + i] = (uint8_t)(c >> (8 * i));
	}
	snap_w_bytes(out, body->buf, body->len);
	return out->err;
}

int snap_file_open(const void *buf, size_t len, struct snap_r *body,
		   char *err, size_t errlen)
{
	struct snap_r r;
	uint8_t magic[8];
	uint32_t version, flags, bcrc, hcrc;
	uint64_t blen;

	snap_r_init(body, NULL, 0);
	snap_r_init(&r, buf, len);
	snap_r_bytes(&r, magic, sizeof(magic));
	version = snap_r_u32(&r);
	flags = snap_r_u32(&r);
	blen = snap_r_u64(&r);
	bcrc = snap_r_u32(&r);
	hcrc = snap_r_u32(&r);
	if (r.err || memcmp(magic, SNAP_MAGIC, 8)) {
		snprintf(err, errlen, "not a rivet snapshot (no %s header)",
			 SNAP_MAGIC);
		return -EBADMSG;
	}
	/* The version before the checksum: another version's header may
	 * be laid out (and checksummed) differently. */
	if (version != SNAP_VERSION) {
		snprintf(err, errlen, "format version %u; this rivet reads "
			 "version %u", version, SNAP_VERSION);
		return -EPROTO;
	}
	if (snap_crc32c(0, buf, SNAP_HEADER_SIZE - 4) != hcrc) {
		snprintf(err, errlen, "header checksum mismatch: corrupt");
		return -EBADMSG;
	}
	if (flags) {
		snprintf(err, errlen, "unknown flags 0x%x", flags);
		return -EPROTO;
	}
	if (blen != len - SNAP_HEADER_SIZE) {
		snprintf(err, errlen, "%llu bytes of state where the header "
			 "says %llu: truncated or padded",
			 (unsigned long long)(len - SNAP_HEADER_SIZE),
			 (unsigned long long)blen);
		return -EBADMSG;
	}
	if (snap_crc32c(0, (const uint8_t *)buf + SNAP_HEADER_SIZE,
			(size_t)blen) != bcrc) {
		snprintf(err, errlen, "state checksum mismatch: corrupt");
		return -EBADMSG;
	}
	snap_r_init(body, (const uint8_t *)buf + SNAP_HEADER_SIZE,
		    (size_t)blen);
	return 0;
}

void snap_tag_name(uint32_t tag, char out[5])
{
	for (unsigned int i = 0; i < 4; i++) {
		char c = (char)(tag >> (8 * i));

		out[i] = c >= 0x20 && c < 0x7f ? c : '?';
	}
	out[4] = '\0';
}
