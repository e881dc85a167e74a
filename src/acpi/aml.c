// SPDX-License-Identifier: MIT
/* The AML builder (see aml.h).  Section numbers are ACPI 6.6's. */
#include "acpi/aml.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* 20.3 AML Byte Stream Byte Values */
#define AML_ZERO_OP		0x00
#define AML_ONE_OP		0x01
#define AML_NAME_OP		0x08
#define AML_BYTE_PREFIX		0x0a
#define AML_WORD_PREFIX		0x0b
#define AML_DWORD_PREFIX	0x0c
#define AML_STRING_PREFIX	0x0d
#define AML_QWORD_PREFIX	0x0e
#define AML_SCOPE_OP		0x10
#define AML_BUFFER_OP		0x11
#define AML_PACKAGE_OP		0x12
#define AML_METHOD_OP		0x14
#define AML_DUAL_NAME_PREFIX	0x2e
#define AML_MULTI_NAME_PREFIX	0x2f
#define AML_EXT_OP_PREFIX	0x5b
#define AML_OPREGION_OP		0x80	/* after AML_EXT_OP_PREFIX */
#define AML_FIELD_OP		0x81	/* after AML_EXT_OP_PREFIX */
#define AML_DEVICE_OP		0x82	/* after AML_EXT_OP_PREFIX */
#define AML_ROOT_CHAR		0x5c
#define AML_PARENT_PREFIX	0x5e
#define AML_LOCAL0_OP		0x60
#define AML_ARG0_OP		0x68
#define AML_STORE_OP		0x70
#define AML_AND_OP		0x7b
#define AML_OR_OP		0x7d
#define AML_NOTIFY_OP		0x86
#define AML_CREATE_DWORD_FIELD_OP 0x8a
#define AML_LNOT_OP		0x92
#define AML_LEQUAL_OP		0x93
#define AML_IF_OP		0xa0
#define AML_ELSE_OP		0xa1
#define AML_RETURN_OP		0xa4
#define AML_ONES_OP		0xff

/* 6.4 resource descriptor tags (large items carry a 16-bit length) */
#define RES_END_TAG		0x79
#define RES_MEMORY32_FIXED	0x86
#define RES_DWORD_ADDR		0x87
#define RES_WORD_ADDR		0x88
#define RES_EXT_IRQ		0x89
#define RES_QWORD_ADDR		0x8a

#define PKGLEN_MAX 0x0fffffffU	/* 28 bits (20.2.4) */
#define NAME_MAX_SEGS 255

static const char DSD_UUID[] = "daffd814-6eba-4d8c-8a91-bc9bbf4aa301";
static const char PCI_HOST_OSC_UUID[] = "33db4d5b-1ff7-401c-9657-7441c03dd766";

/* ---- the buffer ---------------------------------------------------------- */

void aml_init(struct aml_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max ? max : AML_DEFAULT_MAX;
}

void aml_free(struct aml_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int aml_fail(struct aml_buf *b, int err)
{
	if (!b->err)
		b->err = err;
	return b->err;
}

int aml_finish(struct aml_buf *b)
{
	if (!b->err && b->depth)
		b->err = -EINVAL;
	return b->err;
}

/* Make room for @n more bytes; false (and the sticky error) if impossible. */
static bool reserve(struct aml_buf *b, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (b->err)
		return false;
	if (n > b->max || b->len > b->max - n) {
		aml_fail(b, -ENOSPC);
		return false;
	}
	if (b->len + n <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + n)
		cap *= 2;
	if (cap > b->max)
		cap = b->max;
	p = realloc(b->data, cap);
	if (!p) {
		aml_fail(b, -ENOMEM);
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void aml_bytes(struct aml_buf *b, const void *p, size_t n)
{
	if (!n || !reserve(b, n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void aml_byte(struct aml_buf *b, uint8_t v)
{
	aml_bytes(b, &v, 1);
}

void aml_le(struct aml_buf *b, uint64_t v, unsigned int nbytes)
{
	uint8_t le[8];

	if (nbytes > 8) {
		aml_fail(b, -EINVAL);
		return;
	}
	for (unsigned int i = 0; i < nbytes; i++)
		le[i] = (uint8_t)(v >> (8 * i));
	aml_bytes(b, le, nbytes);
}

void aml_zeros(struct aml_buf *b, size_t n)
{
	if (!n || !reserve(b, n))
		return;
	memset(b->data + b->len, 0, n);
	b->len += n;
}

void aml_patch_le(struct aml_buf *b, size_t off, uint64_t v,
		  unsigned int nbytes)
{
	if (b->err)
		return;
	if (nbytes > 8 || off > b->len || nbytes > b->len - off) {
		aml_fail(b, -EINVAL);
		return;
	}
	for (unsigned int i = 0; i < nbytes; i++)
		b->data[off + i] = (uint8_t)(v >> (8 * i));
}

/* A data object starts: count it if it is a Package element. */
static void note_item(struct aml_buf *b)
{
	if (b->depth && b->blk[b->depth - 1].kind == AML_BLK_PACKAGE)
		b->blk[b->depth - 1].items++;
}

/* ---- names --------------------------------------------------------------- */

static bool seg_char(char c, bool first)
{
	return (c >= 'A' && c <= 'Z') || c == '_' ||
	       (!first && c >= '0' && c <= '9');
}

/* Encode @path as a NameString (20.2.2) into @out; length or -EINVAL. */
static int encode_path(const char *path, uint8_t *out, size_t cap)
{
	size_t n = 0, hdr;
	unsigned int segs = 0;
	const char *p = path;

	if (!path || !*path)
		return -EINVAL;
	if (*p == '\\') {
		out[n++] = AML_ROOT_CHAR;
		p++;
	} else {
		while (*p == '^') {
			if (n >= cap)
				return -EINVAL;
			out[n++] = AML_PARENT_PREFIX;
			p++;
		}
	}
	hdr = n;
	/* Leave room for the Dual/MultiNamePrefix and count. */
	n += 2;
	while (*p) {
		char seg[4] = { '_', '_', '_', '_' };
		unsigned int l = 0;

		while (*p && *p != '.') {
			if (l >= 4 || !seg_char(*p, l == 0))
				return -EINVAL;
			seg[l++] = *p++;
		}
		if (!l || segs >= NAME_MAX_SEGS || n + 4 > cap)
			return -EINVAL;
		memcpy(out + n, seg, 4);
		n += 4;
		segs++;
		if (*p == '.' && !*++p)
			return -EINVAL;
	}
	if (segs == 0) {
		/* "\" alone: the root; "^" alone is meaningless. */
		if (!hdr || out[0] != AML_ROOT_CHAR)
			return -EINVAL;
		out[hdr] = 0x00;	/* NullName */
		return (int)hdr + 1;
	}
	if (segs == 1) {
		memmove(out + hdr, out + hdr + 2, 4);
		return (int)hdr + 4;
	}
	if (segs == 2) {
		out[hdr] = AML_DUAL_NAME_PREFIX;
		memmove(out + hdr + 1, out + hdr + 2, 8);
		return (int)hdr + 9;
	}
	out[hdr] = AML_MULTI_NAME_PREFIX;
	out[hdr + 1] = (uint8_t)segs;
	return (int)n;
}

static void put_path(struct aml_buf *b, const char *path)
{
	uint8_t enc[2 + 2 + 4 * NAME_MAX_SEGS + 256];
	int n;

	if (b->err)
		return;
	n = encode_path(path, enc, sizeof(enc));
	if (n < 0)
		aml_fail(b, n);
	else
		aml_bytes(b, enc, (size_t)n);
}

void aml_name_ref(struct aml_buf *b, const char *path)
{
	note_item(b);
	put_path(b, path);
}

/* ---- data objects -------------------------------------------------------- */

/* 20.2.3 ComputationalData: the smallest encoding of @v; its length. */
static unsigned int enc_int(uint64_t v, uint8_t out[9])
{
	unsigned int n;

	if (v == 0) {
		out[0] = AML_ZERO_OP;
		return 1;
	}
	if (v == 1) {
		out[0] = AML_ONE_OP;
		return 1;
	}
	if (v == UINT64_MAX) {
		out[0] = AML_ONES_OP;
		return 1;
	}
	if (v <= 0xff) {
		out[0] = AML_BYTE_PREFIX;
		n = 1;
	} else if (v <= 0xffff) {
		out[0] = AML_WORD_PREFIX;
		n = 2;
	} else if (v <= 0xffffffff) {
		out[0] = AML_DWORD_PREFIX;
		n = 4;
	} else {
		out[0] = AML_QWORD_PREFIX;
		n = 8;
	}
	for (unsigned int i = 0; i < n; i++)
		out[1 + i] = (uint8_t)(v >> (8 * i));
	return n + 1;
}

static void put_int(struct aml_buf *b, uint64_t v)
{
	uint8_t enc[9];

	aml_bytes(b, enc, enc_int(v, enc));
}

void aml_int(struct aml_buf *b, uint64_t v)
{
	note_item(b);
	put_int(b, v);
}

void aml_string(struct aml_buf *b, const char *s)
{
	note_item(b);
	if (!s) {
		aml_fail(b, -EINVAL);
		return;
	}
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p > 0x7f) {
			aml_fail(b, -EINVAL);
			return;
		}
	}
	aml_byte(b, AML_STRING_PREFIX);
	aml_bytes(b, s, strlen(s) + 1);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

void aml_eisaid(struct aml_buf *b, const char *id)
{
	uint8_t v[4];
	int h[4];

	note_item(b);
	if (!id || strlen(id) != 7) {
		aml_fail(b, -EINVAL);
		return;
	}
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z') {
			aml_fail(b, -EINVAL);
			return;
		}
	}
	for (int i = 0; i < 4; i++) {
		h[i] = hexval(id[3 + i]);
		if (h[i] < 0 || (id[3 + i] >= 'a' && id[3 + i] <= 'f')) {
			aml_fail(b, -EINVAL);
			return;
		}
	}
	/* Three 5-bit letters ('A' = 1) then four hex digits, in byte order
	 * (19.6.42 EISAID). */
	v[0] = (uint8_t)(((id[0] - 0x40) << 2) | ((id[1] - 0x40) >> 3));
	v[1] = (uint8_t)((((id[1] - 0x40) & 7) << 5) | (id[2] - 0x40));
	v[2] = (uint8_t)(h[0] << 4 | h[1]);
	v[3] = (uint8_t)(h[2] << 4 | h[3]);
	aml_byte(b, AML_DWORD_PREFIX);
	aml_bytes(b, v, 4);
}

void aml_buffer(struct aml_buf *b, const void *data, size_t len)
{
	aml_buffer_begin(b);
	aml_bytes(b, data, len);
	aml_end(b);
}

/* 19.6.146 ToUUID: fields 1-3 little-endian, 4-5 in written order. */
static int parse_uuid(const char *s, uint8_t out[16])
{
	static const int pos[16] = { 6, 4, 2, 0, 11, 9, 16, 14,
				     19, 21, 24, 26, 28, 30, 32, 34 };

	if (!s || strlen(s) != 36 || s[8] != '-' || s[13] != '-' ||
	    s[18] != '-' || s[23] != '-')
		return -EINVAL;
	for (int i = 0; i < 16; i++) {
		int hi = hexval(s[pos[i]]), lo = hexval(s[pos[i] + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void aml_touuid(struct aml_buf *b, const char *uuid)
{
	uint8_t u[16];

	if (parse_uuid(uuid, u)) {
		aml_fail(b, -EINVAL);
		return;
	}
	aml_buffer(b, u, sizeof(u));
}

/* ---- declarations -------------------------------------------------------- */

void aml_name(struct aml_buf *b, const char *name)
{
	aml_byte(b, AML_NAME_OP);
	put_path(b, name);
}

void aml_name_int(struct aml_buf *b, const char *name, uint64_t v)
{
	aml_name(b, name);
	aml_int(b, v);
}

void aml_name_str(struct aml_buf *b, const char *name, const char *s)
{
	aml_name(b, name);
	aml_string(b, s);
}

void aml_name_eisaid(struct aml_buf *b, const char *name, const char *id)
{
	aml_name(b, name);
	aml_eisaid(b, id);
}

void aml_name_buffer(struct aml_buf *b, const char *name, const void *data,
		     size_t len)
{
	aml_name(b, name);
	aml_buffer(b, data, len);
}

/* ---- blocks -------------------------------------------------------------- */

static void push(struct aml_buf *b, enum aml_block_kind kind)
{
	if (b->err)
		return;
	if (b->depth >= AML_MAX_DEPTH) {
		aml_fail(b, -EINVAL);
		return;
	}
	b->blk[b->depth++] = (struct aml_block){ .start = b->len,
						 .kind = kind };
}

void aml_scope_begin(struct aml_buf *b, const char *path)
{
	aml_byte(b, AML_SCOPE_OP);
	push(b, AML_BLK_SCOPE);
	put_path(b, path);
}

void aml_device_begin(struct aml_buf *b, const char *name)
{
	bool in_scope = b->depth &&
			b->blk[b->depth - 1].kind == AML_BLK_SCOPE;

	aml_byte(b, AML_EXT_OP_PREFIX);
	aml_byte(b, AML_DEVICE_OP);
	push(b, AML_BLK_DEVICE);
	put_path(b, name);
	if (!b->err && in_scope) {
		size_t l = strlen(name);

		memset(b->last_device, 0, sizeof(b->last_device));
		if (l <= 4)
			memcpy(b->last_device, name, l);
	}
}

void aml_method_begin(struct aml_buf *b, const char *name,
		      unsigned int nargs, bool serialized)
{
	if (nargs > 7) {
		aml_fail(b, -EINVAL);
		return;
	}
	aml_byte(b, AML_METHOD_OP);
	push(b, AML_BLK_METHOD);
	put_path(b, name);
	/* MethodFlags: bits 0-2 ArgCount, bit 3 SerializeFlag, SyncLevel 0 */
	aml_byte(b, (uint8_t)(nargs | (serialized ? 0x08 : 0)));
}

void aml_if_begin(struct aml_buf *b)
{
	aml_byte(b, AML_IF_OP);
	push(b, AML_BLK_IF);
}

void aml_else_begin(struct aml_buf *b)
{
	aml_byte(b, AML_ELSE_OP);
	push(b, AML_BLK_ELSE);
}

void aml_package_begin(struct aml_buf *b)
{
	note_item(b);
	aml_byte(b, AML_PACKAGE_OP);
	push(b, AML_BLK_PACKAGE);
}

void aml_buffer_begin(struct aml_buf *b)
{
	note_item(b);
	aml_byte(b, AML_BUFFER_OP);
	push(b, AML_BLK_BUFFER);
}

void aml_resource_template_begin(struct aml_buf *b)
{
	note_item(b);
	aml_byte(b, AML_BUFFER_OP);
	push(b, AML_BLK_RESTEMPLATE);
}

/* 20.2.4 PkgLength: @v in @n bytes (1-4; the caller checked it fits). */
static void pkg_bytes(size_t v, unsigned int n, uint8_t out[4])
{
	if (n == 1) {
		out[0] = (uint8_t)v;
		return;
	}
	out[0] = (uint8_t)(((n - 1) << 6) | (v & 0x0f));
	for (unsigned int i = 1; i < n; i++)
		out[i] = (uint8_t)(v >> (4 + 8 * (i - 1)));
}

static const size_t pkg_lim[4] = { 0x3f, 0xfff, 0xfffff, PKGLEN_MAX };

/* PkgLength for a package of @body bytes after it (the PkgLength itself
 * counts too); its length, or 0 if too long. */
static unsigned int enc_pkglen(size_t body, uint8_t out[4])
{
	unsigned int n;

	for (n = 1; n <= 4; n++)
		if (body <= pkg_lim[n - 1] - n)
			break;
	if (n > 4)
		return 0;
	pkg_bytes(body + n, n, out);
	return n;
}

/* A plain value in PkgLength's encoding (a NamedField's bit count,
 * 20.2.5.2); its length, or 0 if too big. */
static unsigned int enc_pkgval(size_t v, uint8_t out[4])
{
	unsigned int n;

	for (n = 1; n <= 4; n++)
		if (v <= pkg_lim[n - 1])
			break;
	if (n > 4)
		return 0;
	pkg_bytes(v, n, out);
	return n;
}

/* 6.4.2.9 End Tag: the checksum makes the template's bytes sum to zero. */
static void end_tag(struct aml_buf *b, size_t start)
{
	uint8_t sum = RES_END_TAG;

	if (b->err)
		return;
	for (size_t i = start; i < b->len; i++)
		sum = (uint8_t)(sum + b->data[i]);
	aml_byte(b, RES_END_TAG);
	aml_byte(b, (uint8_t)-sum);
}

void aml_end(struct aml_buf *b)
{
	struct aml_block *blk;
	uint8_t hdr[4 + 9];
	unsigned int hlen = 0, plen;
	size_t body;

	if (b->err)
		return;
	if (!b->depth) {
		aml_fail(b, -EINVAL);
		return;
	}
	blk = &b->blk[b->depth - 1];
	if (blk->kind == AML_BLK_RESTEMPLATE)
		end_tag(b, blk->start);
	body = b->len - blk->start;
	if (blk->kind == AML_BLK_BUFFER || blk->kind == AML_BLK_RESTEMPLATE) {
		/* BufferSize: a TermArg, here an integer constant. */
		hlen = enc_int(body, hdr + 4);
	} else if (blk->kind == AML_BLK_PACKAGE) {
		if (blk->items > 255) {	/* VarPackage not supported */
			aml_fail(b, -E2BIG);
			return;
		}
		hdr[4] = (uint8_t)blk->items;
		hlen = 1;
	}
	plen = enc_pkglen(body + hlen, hdr);
	if (!plen) {
		aml_fail(b, -E2BIG);
		return;
	}
	memmove(hdr + plen, hdr + 4, hlen);
	hlen += plen;
	if (!reserve(b, hlen))
		return;
	memmove(b->data + blk->start + hlen, b->data + blk->start, body);
	memcpy(b->data + blk->start, hdr, hlen);
	b->len += hlen;
	b->depth--;
}

/* ---- expressions --------------------------------------------------------- */

void aml_op(struct aml_buf *b, uint8_t op)
{
	aml_byte(b, op);
}

void aml_opnd(struct aml_buf *b, struct aml_opnd o)
{
	switch (o.kind) {
	case AML_OPND_NONE:
		aml_byte(b, 0x00);	/* NullName */
		return;
	case AML_OPND_INT:
		aml_int(b, o.v);
		return;
	case AML_OPND_ARG:
		if (o.v > 6)
			break;
		aml_byte(b, (uint8_t)(AML_ARG0_OP + o.v));
		return;
	case AML_OPND_LOCAL:
		if (o.v > 7)
			break;
		aml_byte(b, (uint8_t)(AML_LOCAL0_OP + o.v));
		return;
	case AML_OPND_NAME:
		aml_name_ref(b, o.s);
		return;
	case AML_OPND_STRING:
		aml_string(b, o.s);
		return;
	case AML_OPND_UUID:
		aml_touuid(b, o.s);
		return;
	}
	aml_fail(b, -EINVAL);
}

void aml_store(struct aml_buf *b, struct aml_opnd src, struct aml_opnd dst)
{
	aml_byte(b, AML_STORE_OP);
	aml_opnd(b, src);
	aml_opnd(b, dst);
}

static void binop(struct aml_buf *b, uint8_t op, struct aml_opnd x,
		  struct aml_opnd y, struct aml_opnd target)
{
	aml_byte(b, op);
	aml_opnd(b, x);
	aml_opnd(b, y);
	aml_opnd(b, target);
}

void aml_and(struct aml_buf *b, struct aml_opnd x, struct aml_opnd y,
	     struct aml_opnd target)
{
	binop(b, AML_AND_OP, x, y, target);
}

void aml_or(struct aml_buf *b, struct aml_opnd x, struct aml_opnd y,
	    struct aml_opnd target)
{
	binop(b, AML_OR_OP, x, y, target);
}

void aml_return(struct aml_buf *b, struct aml_opnd o)
{
	aml_byte(b, AML_RETURN_OP);
	aml_opnd(b, o);
}

void aml_lequal(struct aml_buf *b, struct aml_opnd x, struct aml_opnd y)
{
	aml_byte(b, AML_LEQUAL_OP);
	aml_opnd(b, x);
	aml_opnd(b, y);
}

void aml_lequal_op(struct aml_buf *b)
{
	aml_byte(b, AML_LEQUAL_OP);
}

void aml_lnotequal(struct aml_buf *b, struct aml_opnd x, struct aml_opnd y)
{
	aml_byte(b, AML_LNOT_OP);
	aml_lequal(b, x, y);
}

void aml_create_dword_field(struct aml_buf *b, struct aml_opnd src,
			    uint32_t byte_index, const char *name)
{
	aml_byte(b, AML_CREATE_DWORD_FIELD_OP);
	aml_opnd(b, src);
	aml_opnd(b, AML_INT(byte_index));
	put_path(b, name);
}

void aml_notify(struct aml_buf *b, struct aml_opnd obj, struct aml_opnd value)
{
	/* NotifyObject is a SuperName: a name, an Arg or a Local. */
	if (obj.kind != AML_OPND_NAME && obj.kind != AML_OPND_ARG &&
	    obj.kind != AML_OPND_LOCAL) {
		aml_fail(b, -EINVAL);
		return;
	}
	aml_byte(b, AML_NOTIFY_OP);
	aml_opnd(b, obj);
	aml_opnd(b, value);
}

/* ---- operation regions and fields ---------------------------------------- */

void aml_operation_region(struct aml_buf *b, const char *name,
			  enum aml_region_space space, uint64_t offset,
			  uint64_t len)
{
	if ((unsigned int)space > 0xff) {
		aml_fail(b, -EINVAL);
		return;
	}
	aml_byte(b, AML_EXT_OP_PREFIX);
	aml_byte(b, AML_OPREGION_OP);
	put_path(b, name);
	aml_byte(b, (uint8_t)space);
	put_int(b, offset);
	put_int(b, len);
}

/* A NameSeg: one segment, no prefix (what a NamedField is called). */
static bool name_seg(const char *s)
{
	size_t l = s ? strlen(s) : 0;

	if (!l || l > 4)
		return false;
	for (size_t i = 0; i < l; i++)
		if (!seg_char(s[i], i == 0))
			return false;
	return true;
}

void aml_field(struct aml_buf *b, const char *region, unsigned int flags,
	       const char *name, uint32_t bits)
{
	uint8_t len[4];
	unsigned int n = enc_pkgval(bits, len);

	if (flags > 0x7f || (flags & 0x0f) > AML_FIELD_BUFFER_ACC ||
	    (flags >> 5) > 2 || !name_seg(name) || !bits || !n) {
		aml_fail(b, -EINVAL);
		return;
	}
	aml_byte(b, AML_EXT_OP_PREFIX);
	aml_byte(b, AML_FIELD_OP);
	push(b, AML_BLK_FIELD);
	put_path(b, region);
	aml_byte(b, (uint8_t)flags);
	put_path(b, name);	/* a NameSeg: 4 bytes, padded with '_' */
	aml_bytes(b, len, n);
	aml_end(b);
}

/* ---- resource descriptors ------------------------------------------------ */

static bool in_template(struct aml_buf *b)
{
	if (b->err)
		return false;
	if (!b->depth || b->blk[b->depth - 1].kind != AML_BLK_RESTEMPLATE) {
		aml_fail(b, -EINVAL);
		return false;
	}
	return true;
}

void aml_memory32_fixed(struct aml_buf *b, uint64_t base, uint64_t size,
			bool rw)
{
	if (!in_template(b))
		return;
	if (base > UINT32_MAX || size > UINT32_MAX ||
	    (size && base + size - 1 > UINT32_MAX)) {
		aml_fail(b, -ERANGE);
		return;
	}
	aml_byte(b, RES_MEMORY32_FIXED);
	aml_le(b, 9, 2);		/* length of the rest */
	aml_byte(b, rw ? 1 : 0);	/* information: bit 0 write status */
	aml_le(b, base, 4);
	aml_le(b, size, 4);
}

void aml_interrupt(struct aml_buf *b, unsigned int flags,
		   const uint32_t *gsis, unsigned int n)
{
	if (!in_template(b))
		return;
	if (!gsis || !n || n > 255 || flags > 0x1f) {
		aml_fail(b, -EINVAL);
		return;
	}
	aml_byte(b, RES_EXT_IRQ);
	aml_le(b, 2 + 4 * n, 2);
	aml_byte(b, (uint8_t)flags);
	aml_byte(b, (uint8_t)n);
	for (unsigned int i = 0; i < n; i++)
		aml_le(b, gsis[i], 4);
}

void aml_address_space(struct aml_buf *b, const struct aml_addr *a)
{
	const uint64_t vals[5] = { a->gran, a->min, a->max, a->tra, a->len };
	unsigned int w = a->width / 8;
	uint8_t tag;

	if (!in_template(b))
		return;
	switch (a->width) {
	case 16:
		tag = RES_WORD_ADDR;
		break;
	case 32:
		tag = RES_DWORD_ADDR;
		break;
	case 64:
		tag = RES_QWORD_ADDR;
		break;
	default:
		aml_fail(b, -EINVAL);
		return;
	}
	for (int i = 0; i < 5; i++) {
		if (w < 8 && vals[i] >> (8 * w)) {
			aml_fail(b, -ERANGE);
			return;
		}
	}
	aml_byte(b, tag);
	aml_le(b, 3 + 5 * w, 2);
	aml_byte(b, (uint8_t)a->space);
	aml_byte(b, a->gen_flags);
	aml_byte(b, a->type_flags);
	for (int i = 0; i < 5; i++)
		aml_le(b, vals[i], w);
}

static void window(struct aml_buf *b, unsigned int width, enum aml_space sp,
		   uint8_t tflags, uint64_t min, uint64_t max, uint64_t tra)
{
	struct aml_addr a = {
		.width = width, .space = sp,
		.gen_flags = AML_ADDR_MIN_FIXED | AML_ADDR_MAX_FIXED,
		.type_flags = tflags, .min = min, .max = max, .tra = tra,
		.len = max - min + 1,
	};

	if (max < min) {
		aml_fail(b, -EINVAL);
		return;
	}
	/* All of the 64-bit space: _LEN would be 2^64, and a _LEN of 0 with
	 * MinFixed and MaxFixed is invalid (6.4.3.5). */
	if (max - min == UINT64_MAX) {
		aml_fail(b, -ERANGE);
		return;
	}
	aml_address_space(b, &a);
}

void aml_word_bus_number(struct aml_buf *b, uint16_t min, uint16_t max)
{
	window(b, 16, AML_SPACE_BUS, 0, min, max, 0);
}

void aml_dword_io(struct aml_buf *b, uint32_t min, uint32_t max, uint32_t tra)
{
	window(b, 32, AML_SPACE_IO, AML_IO_ENTIRE_RANGE, min, max, tra);
}

static uint8_t mem_flags(enum aml_cache cache, bool rw)
{
	return (uint8_t)(((unsigned int)cache & 3) << 1 | (rw ? AML_MEM_RW : 0));
}

void aml_dword_memory(struct aml_buf *b, enum aml_cache cache, bool rw,
		      uint32_t min, uint32_t max, uint32_t tra)
{
	window(b, 32, AML_SPACE_MEMORY, mem_flags(cache, rw), min, max, tra);
}

void aml_qword_memory(struct aml_buf *b, enum aml_cache cache, bool rw,
		      uint64_t min, uint64_t max, uint64_t tra)
{
	window(b, 64, AML_SPACE_MEMORY, mem_flags(cache, rw), min, max, tra);
}

/* ---- common objects ------------------------------------------------------ */

void aml_dsd_int(struct aml_buf *b, const char *prop, uint64_t val)
{
	/* Device Properties UUID (ACPI "_DSD Implementation Guide"). */
	aml_name(b, "_DSD");
	aml_package_begin(b);
	aml_touuid(b, DSD_UUID);
	aml_package_begin(b);
	aml_package_begin(b);
	aml_string(b, prop);
	aml_int(b, val);
	aml_end(b);
	aml_end(b);
	aml_end(b);
}

void aml_pci_osc(struct aml_buf *b, uint32_t ctrl_mask)
{
	/* Capabilities buffer (Arg3): DWord 1 status, 2 support, 3 control.
	 * Status bits: 2 unrecognised UUID, 3 unrecognised revision, 4
	 * capabilities masked. */
	aml_name_int(b, "SUPP", 0);
	aml_name_int(b, "CTRL", 0);
	aml_method_begin(b, "_OSC", 4, false);
	aml_create_dword_field(b, AML_ARG(3), 0, "CDW1");
	aml_if_begin(b);
	aml_lequal(b, AML_ARG(0), AML_UUID(PCI_HOST_OSC_UUID));
	aml_create_dword_field(b, AML_ARG(3), 4, "CDW2");
	aml_create_dword_field(b, AML_ARG(3), 8, "CDW3");
	aml_store(b, AML_NAME("CDW2"), AML_NAME("SUPP"));
	aml_store(b, AML_NAME("CDW3"), AML_NAME("CTRL"));
	aml_and(b, AML_NAME("CTRL"), AML_INT(ctrl_mask), AML_NAME("CTRL"));
	aml_if_begin(b);
	aml_lnotequal(b, AML_ARG(1), AML_INT(1));
	aml_or(b, AML_NAME("CDW1"), AML_INT(0x08), AML_NAME("CDW1"));
	aml_end(b);
	aml_if_begin(b);
	aml_lnotequal(b, AML_NAME("CDW3"), AML_NAME("CTRL"));
	aml_or(b, AML_NAME("CDW1"), AML_INT(0x10), AML_NAME("CDW1"));
	aml_end(b);
	aml_store(b, AML_NAME("CTRL"), AML_NAME("CDW3"));
	aml_return(b, AML_ARG(3));
	aml_end(b);
	aml_else_begin(b);
	aml_or(b, AML_NAME("CDW1"), AML_INT(0x04), AML_NAME("CDW1"));
	aml_return(b, AML_ARG(3));
	aml_end(b);
	aml_end(b);
}

/* ---- DSDT context -------------------------------------------------------- */

uint32_t aml_next_uid(struct aml_buf *b, const char *hid)
{
	unsigned int i;

	if (!hid || strlen(hid) >= sizeof(b->uids[0].hid)) {
		aml_fail(b, -EINVAL);
		return 0;
	}
	for (i = 0; i < b->nr_uids; i++)
		if (!strcmp(b->uids[i].hid, hid))
			return b->uids[i].next++;
	if (i >= AML_MAX_UID_KINDS) {
		aml_fail(b, -ENOSPC);
		return 0;
	}
	strcpy(b->uids[i].hid, hid);
	b->uids[i].next = 1;
	b->nr_uids++;
	return 0;
}

void aml_crs_mmio(struct aml_buf *b, uint64_t base, uint64_t size,
		  const uint32_t *gsi)
{
	aml_name(b, "_CRS");
	aml_resource_template_begin(b);
	aml_memory32_fixed(b, base, size, true);
	if (gsi)
		aml_interrupt(b, AML_IRQ_CONSUMER | AML_IRQ_LEVEL |
			      AML_IRQ_ACTIVE_HIGH | AML_IRQ_EXCLUSIVE, gsi, 1);
	aml_end(b);
}

int aml_device_numbered(struct aml_buf *b, const char *prefix,
			unsigned int digits, const char *hid)
{
	uint32_t uid = aml_next_uid(b, hid), v;
	size_t len = strlen(prefix);
	char name[5];

	if (len + digits != 4)
		return -EINVAL;
	memcpy(name, prefix, len);
	name[4] = '\0';
	v = uid;
	for (unsigned int i = 4; i-- > len; v /= 10)
		name[i] = (char)('0' + v % 10);
	if (v)
		return -ERANGE;	/* more digits than there is room for */
	aml_device_begin(b, name);
	aml_name_str(b, "_HID", hid);
	aml_name_int(b, "_UID", uid);
	return (int)uid;
}
