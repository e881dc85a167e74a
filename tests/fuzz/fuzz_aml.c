// SPDX-License-Identifier: MIT
/* Fuzz target: the AML builder (src/acpi/aml.c) driven by a sequence of
 * calls decoded from the input: names (valid, malformed, up to hundreds of
 * segments or prefixes), integers of every size class, strings, EisaIds,
 * UUIDs, buffers, nested Scope/Device/Method/If/Else/Package/Buffer/
 * ResourceTemplate blocks (also past AML_MAX_DEPTH, also closed too often),
 * raw bytes, patches, expressions with every operand kind, resource
 * descriptors with hostile ranges, the _CRS/_DSD/_OSC helpers, _UID
 * counters, explicit failures; the size limit is fuzzed too.
 *
 * Checked against a model of aml.h and the ACPI encoding (20.2): each call
 * succeeds exactly when the header says it may (bad names, strings,
 * EisaIds, UUIDs, operands and values are refused with its error, going
 * over the limit with -ENOSPC), the length grows by exactly what the model
 * emits, and the first error is sticky: nothing changes afterwards.  At
 * the end the output is walked along the model's tree: every leaf holds
 * the model's bytes, and every block's PkgLength -- 1 to 4 bytes, bits
 * 6-7 of the lead byte counting the bytes after it, bits 4-5 zero when
 * there are any -- equals the real size of the block from the PkgLength
 * on, a Buffer's size its real size, a Package's count its elements, and a
 * ResourceTemplate ends with an end tag whose checksum makes it sum to 0.
 *
 * Input: [u8 cfg][ops...]; cfg bits 0-2: the size limit
 * (FZ_AML_LIMITS, 0: AML_DEFAULT_MAX), bit 3: close every open block at
 * the end (aml_finish() must then give 0).  Each op is a u8 mod
 * FZ_AML_NR_OPS and the arguments enum fz_aml_op lists, made of:
 *   name:   [u8 sel]: < FZ_AML_NR_NAMES names[sel]; FZ_AML_NAME_GEN
 *           [u8 mode][u16 n]: n % 1400 '^' then "X" (mode bit 0), else n
 *           segments "A", after '\' if mode bit 1; >= 0x80 [u8 len]
 *           [len bytes] cut at a NUL; else names[sel % FZ_AML_NR_NAMES]
 *   int:    [u8 class]: class % 8: 0, 1, Ones, [u8], [u16], [u32], [u64],
 *           [u8 i] bounds[i % 10]
 *   string: [u8 len][len bytes] cut at a NUL; len 0xff: NULL
 *   eisaid: [u8 sel]: < FZ_AML_NR_EISA eisa[sel], else [u8 len][len % 12
 *           bytes]
 *   uuid:   [u8 sel]: < FZ_AML_NR_UUID uuids[sel]; >= 0x80 [16 bytes]
 *           written out (upper case if sel bit 0); else [u8 len][len % 40
 *           bytes]
 *   opnd:   [u8 kind]: kind % 8: none, int, Arg [u8], Local [u8], name,
 *           string, uuid, an invalid kind */
#include "fuzz.h"

#include <errno.h>

#include "acpi/aml.h"

/* ---- input format: fuzz.h (shared with mkseeds.c) ---------------------- */

#define FZ_AML_LIMITS		{ 0, 1, 48, 200, 4096, 0x10000, \
				  AML_DEFAULT_MAX + 64, 2 * AML_DEFAULT_MAX }

static const char *const names[FZ_AML_NR_NAMES] = {
	"_SB", "\\_SB", "\\_SB.PCI0", "PCI0", "COM0", "_HID", "_CRS", "^FOO",
	"^^_SB.A.B", "\\", "^", "", NULL, "a", "FOO.", ".FOO", "A..B",
	"TOOLONG", "1ABC", "_SB.PCI0.S00.D0", "\\^A", "^\\A", "A_9", "A B",
	"\\_SB_.PCI0", "Z9Z9.Z_Z_.ZZZZ", "_", "\\\\", "^^^^", "ABCDE.A", "A.",
	"SUPP",
};

static const char *const eisa[FZ_AML_NR_EISA] = {
	"PNP0A08", "PNP0C0F", "RSC0001", "ACPI0007", "pnp0a08", "PNP0a08",
	"PNP0A0", "@NP0A08", "[NP0A08", "PNP0G08", "ZZZFFFF", "AAA0000", NULL,
	"", "PNP0A0/", "PNP:A08",
};

static const char *const uuids[FZ_AML_NR_UUID] = {
	"daffd814-6eba-4d8c-8a91-bc9bbf4aa301",
	"33DB4D5B-1FF7-401C-9657-7441C03DD766",
	"00000000-0000-0000-0000-000000000000",
	"ffffffff-FFFF-ffff-FFFF-ffffffffffff",
	"33db4d5b-1ff7-401c-9657-7441c03dd76",
	"33db4d5b-1ff7-401c-9657-7441c03dd7666",
	"33db4d5b1-ff7-401c-9657-7441c03dd766",
	"33db4d5b-1ff7-401c-9657-7441c03dd76g",
	"33db4d5b-1ff7-401c-9657+7441c03dd766",
	NULL, "", "g3db4d5b-1ff7-401c-9657-7441c03dd766",
};

static const uint64_t bounds[10] = {
	2, 0xfe, 0xff, 0x100, 0xffff, 0x10000, 0xffffffffULL,
	0x100000000ULL, UINT64_MAX - 1, INT64_MAX,
};

/* Storage for a decoded name, string or UUID. */
struct arg {
	char s[4096];
};

static const char *fin_name(struct fin *in, struct arg *a)
{
	uint8_t sel = fin_u8(in), mode;
	size_t n, len = 0;

	if (sel < FZ_AML_NR_NAMES)
		return names[sel];
	if (sel == FZ_AML_NAME_GEN) {
		mode = fin_u8(in);
		n = fin_u16(in) % 1400;
		if (mode & 1) {
			memset(a->s, '^', n);
			len = n;
			a->s[len++] = 'X';
		} else {
			if (mode & 2)
				a->s[len++] = '\\';
			for (size_t i = 0; i < n; i++) {
				if (i)
					a->s[len++] = '.';
				a->s[len++] = 'A';
			}
		}
		a->s[len] = 0;
		return a->s;
	}
	if (sel < FZ_AML_NAME_RAW)
		return names[sel % FZ_AML_NR_NAMES];
	n = fin_u8(in);
	fin_bytes(in, a->s, n);
	a->s[n] = 0;
	return a->s;
}

static uint64_t fin_int(struct fin *in)
{
	switch (fin_u8(in) % 8) {
	case 0: return 0;
	case 1: return 1;
	case 2: return UINT64_MAX;
	case 3: return fin_u8(in);
	case 4: return fin_u16(in);
	case 5: return fin_u32(in);
	case 6: return fin_u64(in);
	}
	return bounds[fin_u8(in) % 10];
}

static const char *fin_str(struct fin *in, struct arg *a)
{
	uint8_t n = fin_u8(in);

	if (n == 0xff)
		return NULL;
	fin_bytes(in, a->s, n);
	a->s[n] = 0;
	return a->s;
}

static const char *fin_eisa(struct fin *in, struct arg *a)
{
	uint8_t sel = fin_u8(in), n;

	if (sel < FZ_AML_NR_EISA)
		return eisa[sel];
	n = fin_u8(in) % 12;
	fin_bytes(in, a->s, n);
	a->s[n] = 0;
	return a->s;
}

static const char *fin_uuid(struct fin *in, struct arg *a)
{
	uint8_t sel = fin_u8(in), u[16], n;

	if (sel < FZ_AML_NR_UUID)
		return uuids[sel];
	if (sel >= FZ_AML_UUID_GEN) {
		fin_bytes(in, u, 16);
		snprintf(a->s, sizeof(a->s),
			 sel & 1 ? "%02X%02X%02X%02X-%02X%02X-%02X%02X-"
				   "%02X%02X-%02X%02X%02X%02X%02X%02X" :
				   "%02x%02x%02x%02x-%02x%02x-%02x%02x-"
				   "%02x%02x-%02x%02x%02x%02x%02x%02x",
			 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8],
			 u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
		return a->s;
	}
	n = fin_u8(in) % 40;
	fin_bytes(in, a->s, n);
	a->s[n] = 0;
	return a->s;
}

static struct aml_opnd fin_opnd(struct fin *in, struct arg *a)
{
	uint8_t k = fin_u8(in);

	switch (k % 8) {
	case 0: return AML_NOTARGET;
	case 1: return AML_INT(fin_int(in));
	case 2: return AML_ARG(fin_u8(in));
	case 3: return AML_LOCAL(fin_u8(in));
	case 4: return AML_NAME(fin_name(in, a));
	case 5: return AML_STR(fin_str(in, a));
	case 6: return AML_UUID(fin_uuid(in, a));
	}
	return (struct aml_opnd){ .kind = (enum aml_opnd_kind)(7 + k / 8) };
}

/* ---- the model --------------------------------------------------------- */

/* What the builder's output must be: a tree of blocks whose leaves are
 * byte strings; node 0 is the root (an open block with no opcode). */
struct node {
	bool leaf, open;
	uint8_t kind;		/* enum aml_block_kind */
	uint8_t op[2], oplen;
	uint32_t items;		/* Package: elements so far */
	size_t off, len;	/* leaf: its bytes in M.pool */
	size_t size;		/* a leaf's or a closed block's encoding */
	int first, last, next;	/* children, next sibling (-1: none) */
};

static struct {
	struct aml_buf b;
	size_t max;
	struct node *n;
	size_t nn, ncap;
	uint8_t *pool;
	size_t plen, pcap;
	int stack[AML_MAX_DEPTH + 1];	/* open blocks; [0] the root */
	unsigned int depth;
	size_t len;			/* what b.len must be */
	char last_device[5];
	struct {
		char hid[9];
		uint32_t next;
	} uids[AML_MAX_UID_KINDS];
	unsigned int nr_uids;
	/* this call */
	int inv;			/* it must fail with this */
	size_t inv_len;			/* the length when it failed */
	int maybe;			/* it may fail with this */
	/* after the first error */
	int err;
	uint8_t *snap;
	size_t snap_len;
	unsigned int snap_depth;
} M;

static void m_invalid(int err)
{
	if (!M.inv) {
		M.inv = err;
		M.inv_len = M.len;
	}
}

static int m_new(void)
{
	struct node *n;

	if (M.nn == M.ncap) {
		M.ncap = M.ncap ? 2 * M.ncap : 1024;
		M.n = realloc(M.n, M.ncap * sizeof(*M.n));
		FUZZ_CHECK(M.n);
	}
	n = &M.n[M.nn];
	memset(n, 0, sizeof(*n));
	n->first = n->last = n->next = -1;
	return (int)M.nn++;
}

static struct node *m_top(void)
{
	return &M.n[M.stack[M.depth]];
}

static void m_child(int i)
{
	struct node *p = m_top();

	if (p->last >= 0)
		M.n[p->last].next = i;
	else
		p->first = i;
	p->last = i;
}

/* A data object starts: a Package element if directly in one. */
static void m_note(void)
{
	if (!M.inv && M.depth && m_top()->kind == AML_BLK_PACKAGE)
		m_top()->items++;
}

static void m_leaf(const void *p, size_t n)
{
	int i;

	if (M.inv || !n)
		return;
	if (M.plen + n > M.pcap) {
		while (M.plen + n > M.pcap)
			M.pcap = M.pcap ? 2 * M.pcap : 65536;
		M.pool = realloc(M.pool, M.pcap);
		FUZZ_CHECK(M.pool);
	}
	memcpy(M.pool + M.plen, p, n);
	i = m_new();
	M.n[i].leaf = true;
	M.n[i].off = M.plen;
	M.n[i].len = M.n[i].size = n;
	M.plen += n;
	M.len += n;
	m_child(i);
}

static void m_byte(uint8_t v)
{
	m_leaf(&v, 1);
}

static void m_le(uint64_t v, unsigned int n)
{
	uint8_t b[8];

	for (unsigned int i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	m_leaf(b, n);
}

static void m_begin(enum aml_block_kind kind, uint8_t op0, uint8_t op1,
		    unsigned int oplen)
{
	int i;

	if (M.inv)
		return;
	if (M.depth >= AML_MAX_DEPTH) {
		m_invalid(-EINVAL);
		return;
	}
	i = m_new();
	M.n[i].open = true;
	M.n[i].kind = (uint8_t)kind;
	M.n[i].op[0] = op0;
	M.n[i].op[1] = op1;
	M.n[i].oplen = (uint8_t)oplen;
	m_child(i);
	M.stack[++M.depth] = i;
	M.len += oplen;
}

/* 20.2.3: the bytes of the shortest encoding of @v. */
static unsigned int int_len(uint64_t v)
{
	if (v <= 1 || v == UINT64_MAX)
		return 1;
	return v <= 0xff ? 2 : v <= 0xffff ? 3 : v <= 0xffffffff ? 5 : 9;
}

static void m_end(void)
{
	struct node *n;
	size_t body = 0, hdr = 0, total;
	unsigned int pl;

	if (M.inv)
		return;
	if (!M.depth) {
		m_invalid(-EINVAL);
		return;
	}
	n = m_top();
	if (n->kind == AML_BLK_PACKAGE && n->items > 255) {
		m_invalid(-E2BIG);
		return;
	}
	for (int c = n->first; c >= 0; c = M.n[c].next)
		body += M.n[c].size;
	if (n->kind == AML_BLK_RESTEMPLATE)
		body += 2;		/* the end tag */
	if (n->kind == AML_BLK_BUFFER || n->kind == AML_BLK_RESTEMPLATE)
		hdr = int_len(body);	/* BufferSize */
	else if (n->kind == AML_BLK_PACKAGE)
		hdr = 1;		/* NumElements */
	/* 20.2.4: the PkgLength counts itself; up to 2^28 - 1. */
	total = body + hdr;
	pl = total + 1 <= 0x3f ? 1 : total + 2 <= 0xfff ? 2 :
	     total + 3 <= 0xfffff ? 3 : total + 4 <= 0xfffffff ? 4 : 0;
	if (!pl) {
		m_invalid(-E2BIG);
		return;
	}
	n->size = n->oplen + pl + total;
	n->open = false;
	M.len += n->size - n->oplen - (body - (n->kind ==
					       AML_BLK_RESTEMPLATE ? 2 : 0));
	M.depth--;
}

/* The NameString of @path as aml.h describes it (20.2.2): '\' or '^'...,
 * then segments of 1-4 characters [A-Z_][A-Z0-9_]* joined by '.', padded
 * with '_' (at most 255: SegCount is a byte); "\" alone is the root.  Its
 * length in @out, 0 if invalid. */
static size_t enc_path(const char *path, uint8_t *out, size_t cap)
{
	static uint8_t segs[255 * 4];
	const char *p = path;
	size_t n = 0, nseg = 0;

	if (!path)
		return 0;
	if (*p == '\\') {
		out[n++] = 0x5c;
		p++;
	} else {
		while (*p == '^' && n < cap - 1100) {
			out[n++] = 0x5e;
			p++;
		}
	}
	while (*p) {
		uint8_t s[4] = { '_', '_', '_', '_' };
		size_t l = 0;

		for (; *p && *p != '.'; p++, l++) {
			char c = *p;

			if (l >= 4 || !((c >= 'A' && c <= 'Z') || c == '_' ||
					(l && c >= '0' && c <= '9')))
				return 0;
			s[l] = (uint8_t)c;
		}
		if (!l || nseg >= 255)
			return 0;
		memcpy(segs + 4 * nseg++, s, 4);
		if (*p == '.' && !*++p)
			return 0;	/* a trailing '.' */
	}
	if (!nseg) {
		if (path[0] != '\\')
			return 0;
		out[n++] = 0x00;	/* NullName */
		return n;
	}
	if (nseg == 2)
		out[n++] = 0x2e;	/* DualNamePrefix */
	if (nseg > 2) {
		out[n++] = 0x2f;	/* MultiNamePrefix */
		out[n++] = (uint8_t)nseg;
	}
	memcpy(out + n, segs, 4 * nseg);
	return n + 4 * nseg;
}

static void m_path(const char *path)
{
	static uint8_t enc[8192];
	size_t n;

	if (M.inv)
		return;
	n = enc_path(path, enc, sizeof(enc));
	if (!n) {
		m_invalid(-EINVAL);
		return;
	}
	/* A builder may refuse names longer than any real one. */
	if (n > 1024 && !M.maybe)
		M.maybe = -EINVAL;
	m_leaf(enc, n);
}

static void m_int(uint64_t v)
{
	uint8_t e[9] = { 0 };
	unsigned int n = int_len(v);

	m_note();
	if (v == UINT64_MAX) {
		e[0] = 0xff;		/* OnesOp */
	} else if (v > 1) {
		e[0] = n == 2 ? 0x0a : n == 3 ? 0x0b : n == 5 ? 0x0c : 0x0e;
		for (unsigned int i = 1; i < n; i++)
			e[i] = (uint8_t)(v >> (8 * (i - 1)));
	} else {
		e[0] = (uint8_t)v;	/* ZeroOp, OneOp */
	}
	m_leaf(e, n);
}

/* String: 0x01-0x7f (AsciiCharList); aml.h says printable ASCII, so
 * control characters may be refused. */
static void m_string(const char *s)
{
	m_note();
	if (!s) {
		m_invalid(-EINVAL);
		return;
	}
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p > 0x7f) {
			m_invalid(-EINVAL);
			return;
		}
		if ((*p < 0x20 || *p == 0x7f) && !M.maybe)
			M.maybe = -EINVAL;
	}
	m_byte(0x0d);
	m_leaf(s, strlen(s) + 1);
}

static int hexdig(char c, bool lower_ok)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (lower_ok && c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* EisaId: three letters A-Z, four upper-case hex digits; the letters 5
 * bits each ('A' = 1) in a big-endian 16-bit word, then the product
 * number big-endian (19.6.42). */
static void m_eisaid(const char *id)
{
	uint8_t e[5];
	unsigned int v, prod = 0;

	m_note();
	if (!id || strlen(id) != 7) {
		m_invalid(-EINVAL);
		return;
	}
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z') {
			m_invalid(-EINVAL);
			return;
		}
	}
	for (int i = 3; i < 7; i++) {
		int h = hexdig(id[i], false);

		if (h < 0) {
			m_invalid(-EINVAL);
			return;
		}
		prod = prod << 4 | (unsigned int)h;
	}
	v = (unsigned int)(id[0] - '@') << 10 |
	    (unsigned int)(id[1] - '@') << 5 | (unsigned int)(id[2] - '@');
	e[0] = 0x0c;
	e[1] = (uint8_t)(v >> 8);
	e[2] = (uint8_t)v;
	e[3] = (uint8_t)(prod >> 8);
	e[4] = (uint8_t)prod;
	m_leaf(e, 5);
}

static void m_buffer_begin(void)
{
	m_note();
	m_begin(AML_BLK_BUFFER, 0x11, 0, 1);
}

static void m_buffer(const void *p, size_t n)
{
	m_buffer_begin();
	m_leaf(p, n);
	m_end();
}

static uint8_t hexbyte(const char *s)
{
	return (uint8_t)(hexdig(s[0], true) << 4 | hexdig(s[1], true));
}

/* ToUUID (19.6.146): "aabbccdd-eeff-gghh-iijj-kkllmmnnoopp" is the buffer
 * dd cc bb aa ff ee hh gg ii jj kk ll mm nn oo pp. */
static void m_touuid(const char *s)
{
	uint8_t u[16];

	if (!s || strlen(s) != 36) {
		m_invalid(-EINVAL);
		return;
	}
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : hexdig(s[i], true) < 0) {
			m_invalid(-EINVAL);
			return;
		}
	}
	for (int i = 0; i < 4; i++)
		u[i] = hexbyte(s + 6 - 2 * i);
	u[4] = hexbyte(s + 11);
	u[5] = hexbyte(s + 9);
	u[6] = hexbyte(s + 16);
	u[7] = hexbyte(s + 14);
	u[8] = hexbyte(s + 19);
	u[9] = hexbyte(s + 21);
	for (int i = 0; i < 6; i++)
		u[10 + i] = hexbyte(s + 24 + 2 * i);
	m_buffer(u, 16);
}

static void m_name_ref(const char *path)
{
	m_note();
	m_path(path);
}

static void m_name(const char *name)
{
	m_byte(0x08);
	m_path(name);
}

static void m_package_begin(void)
{
	m_note();
	m_begin(AML_BLK_PACKAGE, 0x12, 0, 1);
}

static void m_template_begin(void)
{
	m_note();
	m_begin(AML_BLK_RESTEMPLATE, 0x11, 0, 1);
}

static void m_method_begin(const char *name, unsigned int nargs,
			   bool serialized)
{
	if (nargs > 7) {
		m_invalid(-EINVAL);
		return;
	}
	m_begin(AML_BLK_METHOD, 0x14, 0, 1);
	m_path(name);
	m_byte((uint8_t)(nargs | (serialized ? 0x08 : 0)));
}

static void m_opnd(struct aml_opnd o)
{
	switch (o.kind) {
	case AML_OPND_NONE:
		m_byte(0x00);
		return;
	case AML_OPND_INT:
		m_int(o.v);
		return;
	case AML_OPND_ARG:
		if (o.v <= 6)
			m_byte((uint8_t)(0x68 + o.v));
		else
			m_invalid(-EINVAL);
		return;
	case AML_OPND_LOCAL:
		if (o.v <= 7)
			m_byte((uint8_t)(0x60 + o.v));
		else
			m_invalid(-EINVAL);
		return;
	case AML_OPND_NAME:
		m_name_ref(o.s);
		return;
	case AML_OPND_STRING:
		m_string(o.s);
		return;
	case AML_OPND_UUID:
		m_touuid(o.s);
		return;
	}
	m_invalid(-EINVAL);
}

static void m_op3(uint8_t op, struct aml_opnd x, struct aml_opnd y,
		  struct aml_opnd t)
{
	m_byte(op);
	m_opnd(x);
	m_opnd(y);
	m_opnd(t);
}

static void m_lequal(struct aml_opnd x, struct aml_opnd y)
{
	m_byte(0x93);
	m_opnd(x);
	m_opnd(y);
}

static void m_store(struct aml_opnd s, struct aml_opnd d)
{
	m_byte(0x70);
	m_opnd(s);
	m_opnd(d);
}

static void m_dword_field(struct aml_opnd src, uint32_t index,
			  const char *name)
{
	m_byte(0x8a);
	m_opnd(src);
	m_int(index);
	m_path(name);
}

static bool m_in_template(void)
{
	if (M.inv)
		return false;
	if (!M.depth || m_top()->kind != AML_BLK_RESTEMPLATE) {
		m_invalid(-EINVAL);
		return false;
	}
	return true;
}

/* Memory32Fixed (6.4.3.4): 12 bytes; [base, base + size) within 4 GiB. */
static void m_mem32(uint64_t base, uint64_t size, bool rw)
{
	if (!m_in_template())
		return;
	if (base > UINT32_MAX || size > UINT32_MAX ||
	    size > (1ULL << 32) - base) {
		m_invalid(-ERANGE);
		return;
	}
	m_byte(0x86);
	m_le(9, 2);
	m_byte(rw);
	m_le(base, 4);
	m_le(size, 4);
}

/* Extended Interrupt Descriptor (6.4.3.6). */
static void m_interrupt(unsigned int flags, const uint32_t *g,
			unsigned int n)
{
	if (!m_in_template())
		return;
	if (!g || !n || n > 255 || flags > 0x1f) {
		m_invalid(-EINVAL);
		return;
	}
	m_byte(0x89);
	m_le(2 + 4 * n, 2);
	m_byte((uint8_t)flags);
	m_byte((uint8_t)n);
	for (unsigned int i = 0; i < n; i++)
		m_le(g[i], 4);
}

/* Word/DWord/QWord Address Space Descriptors (6.4.3.5.1-3). */
static void m_address(const struct aml_addr *a)
{
	const uint64_t v[5] = { a->gran, a->min, a->max, a->tra, a->len };
	unsigned int w = a->width / 8;

	if (!m_in_template())
		return;
	if (a->width != 16 && a->width != 32 && a->width != 64) {
		m_invalid(-EINVAL);
		return;
	}
	for (int i = 0; i < 5; i++) {
		if (w < 8 && v[i] >> (8 * w)) {
			m_invalid(-ERANGE);
			return;
		}
	}
	m_byte(a->width == 16 ? 0x88 : a->width == 32 ? 0x87 : 0x8a);
	m_le(3 + 5 * w, 2);
	m_byte((uint8_t)a->space);
	m_byte(a->gen_flags);
	m_byte(a->type_flags);
	for (int i = 0; i < 5; i++)
		m_le(v[i], w);
}

/* A fixed window [min, max]: _LEN = max - min + 1 must be representable
 * (ACPI 6.4.3.5: MinFixed and MaxFixed with a zero _LEN are invalid). */
static void m_window(unsigned int width, enum aml_space sp, uint8_t tflags,
		     uint64_t min, uint64_t max, uint64_t tra)
{
	struct aml_addr a = {
		.width = width, .space = sp,
		.gen_flags = AML_ADDR_MIN_FIXED | AML_ADDR_MAX_FIXED,
		.type_flags = tflags, .min = min, .max = max, .tra = tra,
		.len = max - min + 1,
	};

	if (max < min) {
		m_invalid(-EINVAL);
		return;
	}
	if (max - min == UINT64_MAX) {
		m_invalid(-ERANGE);
		return;
	}
	m_address(&a);
}

static uint8_t mem_flags(unsigned int cache, bool rw)
{
	return (uint8_t)((cache & 3) << 1 | (rw ? AML_MEM_RW : 0));
}

static void m_crs_mmio(uint64_t base, uint64_t size, const uint32_t *gsi)
{
	m_name("_CRS");
	m_template_begin();
	m_mem32(base, size, true);
	if (gsi)
		m_interrupt(AML_IRQ_CONSUMER, gsi, 1);
	m_end();
}

static void m_dsd_int(const char *prop, uint64_t val)
{
	m_name("_DSD");
	m_package_begin();
	m_touuid("daffd814-6eba-4d8c-8a91-bc9bbf4aa301");
	m_package_begin();
	m_package_begin();
	m_string(prop);
	m_int(val);
	m_end();
	m_end();
	m_end();
}

/* aml_pci_osc(): the handshake of the PCI Firmware Specification 4.5.1. */
static void m_pci_osc(uint32_t mask)
{
	const struct aml_opnd cdw1 = AML_NAME("CDW1"), ctrl = AML_NAME("CTRL");

	m_name("SUPP");
	m_int(0);
	m_name("CTRL");
	m_int(0);
	m_method_begin("_OSC", 4, false);
	m_dword_field(AML_ARG(3), 0, "CDW1");
	m_begin(AML_BLK_IF, 0xa0, 0, 1);
	m_lequal(AML_ARG(0), AML_UUID("33db4d5b-1ff7-401c-9657-7441c03dd766"));
	m_dword_field(AML_ARG(3), 4, "CDW2");
	m_dword_field(AML_ARG(3), 8, "CDW3");
	m_store(AML_NAME("CDW2"), AML_NAME("SUPP"));
	m_store(AML_NAME("CDW3"), ctrl);
	m_op3(0x7b, ctrl, AML_INT(mask), ctrl);
	m_begin(AML_BLK_IF, 0xa0, 0, 1);
	m_byte(0x92);
	m_lequal(AML_ARG(1), AML_INT(1));
	m_op3(0x7d, cdw1, AML_INT(0x08), cdw1);
	m_end();
	m_begin(AML_BLK_IF, 0xa0, 0, 1);
	m_byte(0x92);
	m_lequal(AML_NAME("CDW3"), ctrl);
	m_op3(0x7d, cdw1, AML_INT(0x10), cdw1);
	m_end();
	m_store(ctrl, AML_NAME("CDW3"));
	m_byte(0xa4);
	m_opnd(AML_ARG(3));
	m_end();
	m_begin(AML_BLK_ELSE, 0xa1, 0, 1);
	m_op3(0x7d, cdw1, AML_INT(0x04), cdw1);
	m_byte(0xa4);
	m_opnd(AML_ARG(3));
	m_end();
	m_end();
}

/* aml_next_uid(): 0, 1, 2 ... per _HID (at most 8 characters), for at
 * most AML_MAX_UID_KINDS of them. */
static uint32_t m_next_uid(const char *hid)
{
	unsigned int i;

	if (!hid || strlen(hid) > 8) {
		m_invalid(-EINVAL);
		return 0;
	}
	for (i = 0; i < M.nr_uids; i++)
		if (!strcmp(M.uids[i].hid, hid))
			return M.uids[i].next++;
	if (i >= AML_MAX_UID_KINDS) {
		m_invalid(-ENOSPC);
		return 0;
	}
	strcpy(M.uids[i].hid, hid);
	M.uids[i].next = 1;
	M.nr_uids++;
	return 0;
}

/* ---- checks ------------------------------------------------------------ */

static void die(int err)
{
	M.err = err;
	M.snap_len = M.b.len;
	M.snap_depth = M.b.depth;
	M.snap = malloc(M.b.len ? M.b.len : 1);
	FUZZ_CHECK(M.snap);
	if (M.b.len)
		memcpy(M.snap, M.b.data, M.b.len);
}

/* After a call: the builder's error and length are the model's. */
static void judge(void)
{
	int err = aml_error(&M.b);
	bool ok;

	if (M.inv)
		ok = err == M.inv ||
		     (err == -ENOSPC && M.inv_len + 16 > M.max);
	else if (M.len > M.max)
		ok = err == -ENOSPC;
	else
		ok = !err;
	if (!ok && !(M.maybe && err == M.maybe))
		fprintf(fuzz_err, "aml: error %d, model %d (maybe %d), "
			"length %zu, model %zu, limit %zu\n", err, M.inv,
			M.maybe, M.b.len, M.len, M.max);
	FUZZ_CHECK(ok || (M.maybe && err == M.maybe));
	FUZZ_CHECK(M.b.len <= M.b.cap && M.b.cap <= M.max);
	if (err) {
		die(err);
		return;
	}
	FUZZ_CHECK(M.b.len == M.len);
	FUZZ_CHECK(M.b.depth == M.depth);
}

static uint64_t read_int(size_t *pos)
{
	const uint8_t *d = M.b.data;
	size_t p = *pos, n;
	uint64_t v = 0;

	FUZZ_CHECK(p < M.b.len);
	switch (d[p]) {
	case 0x00: *pos = p + 1; return 0;
	case 0x01: *pos = p + 1; return 1;
	case 0xff: *pos = p + 1; return UINT64_MAX;
	case 0x0a: n = 1; break;
	case 0x0b: n = 2; break;
	case 0x0c: n = 4; break;
	case 0x0e: n = 8; break;
	default: FUZZ_CHECK(!"BufferSize is an integer constant");
	}
	FUZZ_CHECK(n < M.b.len - p);
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)d[p + 1 + i] << (8 * i);
	*pos = p + 1 + n;
	return v;
}

/* Walk node @i of the model at @pos of the output; the position after it. */
static size_t walk(int i, size_t pos)
{
	const struct node *n = &M.n[i];
	const uint8_t *d = M.b.data;
	size_t end = M.b.len, p, q, content;
	uint64_t plen, bsize = 0;
	unsigned int pl;
	uint8_t sum = 0;

	if (n->leaf) {
		FUZZ_CHECK(n->len <= end - pos);
		FUZZ_CHECK(!memcmp(d + pos, M.pool + n->off, n->len));
		return pos + n->len;
	}
	FUZZ_CHECK(n->oplen <= end - pos);
	FUZZ_CHECK(!n->oplen || !memcmp(d + pos, n->op, n->oplen));
	p = pos + n->oplen;
	if (n->open) {		/* no PkgLength yet */
		for (int c = n->first; c >= 0; c = M.n[c].next)
			p = walk(c, p);
		return p;
	}
	/* PkgLength: bits 6-7 of the lead byte count the bytes after it;
	 * alone, bits 0-5 are the length, else bits 4-5 are 0, bits 0-3 the
	 * low nibble and each following byte the next 8 bits. */
	FUZZ_CHECK(p < end);
	pl = (d[p] >> 6) + 1u;
	FUZZ_CHECK(pl <= end - p);
	if (pl == 1) {
		plen = d[p] & 0x3f;
	} else {
		FUZZ_CHECK(!(d[p] & 0x30));
		plen = d[p] & 0x0f;
		for (unsigned int k = 1; k < pl; k++)
			plen |= (uint64_t)d[p + k] << (4 + 8 * (k - 1));
	}
	q = p + pl;
	if (n->kind == AML_BLK_BUFFER || n->kind == AML_BLK_RESTEMPLATE) {
		bsize = read_int(&q);
	} else if (n->kind == AML_BLK_PACKAGE) {
		FUZZ_CHECK(q < end && d[q] == n->items);
		q++;
	}
	content = q;
	for (int c = n->first; c >= 0; c = M.n[c].next)
		q = walk(c, q);
	if (n->kind == AML_BLK_RESTEMPLATE) {
		FUZZ_CHECK(2 <= end - q && d[q] == 0x79);
		q += 2;
		for (size_t k = content; k < q; k++)
			sum = (uint8_t)(sum + d[k]);
		FUZZ_CHECK(!sum);
	}
	FUZZ_CHECK(plen == q - p);	/* encoded length = real length */
	if (n->kind == AML_BLK_BUFFER || n->kind == AML_BLK_RESTEMPLATE)
		FUZZ_CHECK(bsize == q - content);
	FUZZ_CHECK(q - pos == n->size);
	return q;
}

/* ---- the target -------------------------------------------------------- */

static void patch(uint16_t off, uint8_t nbytes, uint64_t v)
{
	uint8_t before[8], after[8];
	uint64_t old = 0;
	bool ok = nbytes <= 8 && off <= M.b.len && nbytes <= M.b.len - off;

	if (ok && nbytes)
		memcpy(before, M.b.data + off, nbytes);
	aml_patch_le(&M.b, off, v, nbytes);
	if (!ok) {
		m_invalid(-EINVAL);
		return;
	}
	judge();
	if (M.err || !nbytes)
		return;
	for (unsigned int i = 0; i < nbytes; i++) {
		after[i] = (uint8_t)(v >> (8 * i));
		old |= (uint64_t)before[i] << (8 * i);
	}
	FUZZ_CHECK(!memcmp(M.b.data + off, after, nbytes));
	aml_patch_le(&M.b, off, old, nbytes);
	FUZZ_CHECK(!aml_error(&M.b));
	FUZZ_CHECK(!memcmp(M.b.data + off, before, nbytes));
}

static void one_op(struct fin *in)
{
	static const uint8_t zero[4096];
	static struct arg a[4];
	static uint32_t g[512];
	static uint8_t buf[256];
	struct aml_opnd x, y, t;
	bool live = !M.err, f;
	const char *s, *s2;
	uint64_t u, v, w;
	uint32_t id;
	uint8_t op = fin_u8(in) % FZ_AML_NR_OPS, c, k;
	struct aml_addr ad;
	int e;

	M.inv = 0;
	M.maybe = 0;
#define BOTH(model, builder)                                                \
	do {                                                                \
		if (live) {                                                 \
			model;                                              \
		}                                                           \
		builder;                                                    \
	} while (0)

	switch (op) {
	case FZ_AML_INT:
		u = fin_int(in);
		BOTH(m_int(u), aml_int(&M.b, u));
		break;
	case FZ_AML_STRING:
		s = fin_str(in, &a[0]);
		BOTH(m_string(s), aml_string(&M.b, s));
		break;
	case FZ_AML_NAME_REF:
		s = fin_name(in, &a[0]);
		BOTH(m_name_ref(s), aml_name_ref(&M.b, s));
		break;
	case FZ_AML_EISAID:
		s = fin_eisa(in, &a[0]);
		BOTH(m_eisaid(s), aml_eisaid(&M.b, s));
		break;
	case FZ_AML_BUFFER:
		c = fin_u8(in);
		fin_bytes(in, buf, c);
		BOTH(m_buffer(buf, c), aml_buffer(&M.b, buf, c));
		break;
	case FZ_AML_TOUUID:
		s = fin_uuid(in, &a[0]);
		BOTH(m_touuid(s), aml_touuid(&M.b, s));
		break;
	case FZ_AML_NAME:
		s = fin_name(in, &a[0]);
		BOTH(m_name(s), aml_name(&M.b, s));
		break;
	case FZ_AML_NAME_INT:
		s = fin_name(in, &a[0]);
		u = fin_int(in);
		BOTH((m_name(s), m_int(u)), aml_name_int(&M.b, s, u));
		break;
	case FZ_AML_NAME_STR:
		s = fin_name(in, &a[0]);
		s2 = fin_str(in, &a[1]);
		BOTH((m_name(s), m_string(s2)), aml_name_str(&M.b, s, s2));
		break;
	case FZ_AML_NAME_EISAID:
		s = fin_name(in, &a[0]);
		s2 = fin_eisa(in, &a[1]);
		BOTH((m_name(s), m_eisaid(s2)), aml_name_eisaid(&M.b, s, s2));
		break;
	case FZ_AML_NAME_BUFFER:
		s = fin_name(in, &a[0]);
		c = fin_u8(in);
		fin_bytes(in, buf, c);
		BOTH((m_name(s), m_buffer(buf, c)),
		     aml_name_buffer(&M.b, s, buf, c));
		break;
	case FZ_AML_SCOPE:
		s = fin_name(in, &a[0]);
		BOTH((m_begin(AML_BLK_SCOPE, 0x10, 0, 1), m_path(s)),
		     aml_scope_begin(&M.b, s));
		break;
	case FZ_AML_DEVICE:
		s = fin_name(in, &a[0]);
		f = M.b.depth && M.b.blk[M.b.depth - 1].kind == AML_BLK_SCOPE;
		BOTH((m_begin(AML_BLK_DEVICE, 0x5b, 0x82, 2), m_path(s)),
		     aml_device_begin(&M.b, s));
		if (live && !aml_error(&M.b) && f) {
			memset(M.last_device, 0, sizeof(M.last_device));
			if (strlen(s) <= 4)
				strcpy(M.last_device, s);
		}
		break;
	case FZ_AML_METHOD:
		s = fin_name(in, &a[0]);
		c = fin_u8(in);
		f = fin_u8(in) & 1;
		BOTH(m_method_begin(s, c, f),
		     aml_method_begin(&M.b, s, c, f));
		break;
	case FZ_AML_IF:
		BOTH(m_begin(AML_BLK_IF, 0xa0, 0, 1), aml_if_begin(&M.b));
		break;
	case FZ_AML_ELSE:
		BOTH(m_begin(AML_BLK_ELSE, 0xa1, 0, 1), aml_else_begin(&M.b));
		break;
	case FZ_AML_PACKAGE:
		BOTH(m_package_begin(), aml_package_begin(&M.b));
		break;
	case FZ_AML_BUFFER_BEGIN:
		BOTH(m_buffer_begin(), aml_buffer_begin(&M.b));
		break;
	case FZ_AML_RESTEMPLATE:
		BOTH(m_template_begin(), aml_resource_template_begin(&M.b));
		break;
	case FZ_AML_END:
		BOTH(m_end(), aml_end(&M.b));
		break;
	case FZ_AML_RAW:
		switch (fin_u8(in) % 4) {
		case 0:
			c = fin_u8(in);
			fin_bytes(in, buf, c);
			BOTH(m_leaf(buf, c), aml_bytes(&M.b, buf, c));
			break;
		case 1:
			c = fin_u8(in);
			BOTH(m_byte(c), aml_byte(&M.b, c));
			break;
		case 2:
			c = fin_u8(in);
			u = fin_u64(in);
			BOTH(c > 8 ? m_invalid(-EINVAL) : m_le(u, c),
			     aml_le(&M.b, u, c));
			break;
		case 3:
			id = fin_u16(in);
			for (uint32_t left = id; live && left;) {
				uint32_t n = left < sizeof(zero) ? left :
								 sizeof(zero);

				m_leaf(zero, n);
				left -= n;
			}
			aml_zeros(&M.b, id);
			break;
		}
		break;
	case FZ_AML_OP:
		c = fin_u8(in);
		BOTH(m_byte(c), aml_op(&M.b, c));
		break;
	case FZ_AML_PATCH:
		id = fin_u16(in);
		c = fin_u8(in);
		u = fin_u64(in);
		if (!live) {
			aml_patch_le(&M.b, id, u, c);
			break;
		}
		patch((uint16_t)id, c, u);
		if (M.err || !M.inv)
			return;		/* judged */
		break;
	case FZ_AML_OPND:
		x = fin_opnd(in, &a[0]);
		BOTH(m_opnd(x), aml_opnd(&M.b, x));
		break;
	case FZ_AML_STORE:
		x = fin_opnd(in, &a[0]);
		y = fin_opnd(in, &a[1]);
		BOTH(m_store(x, y), aml_store(&M.b, x, y));
		break;
	case FZ_AML_ANDOR:
		f = fin_u8(in) & 1;
		x = fin_opnd(in, &a[0]);
		y = fin_opnd(in, &a[1]);
		t = fin_opnd(in, &a[2]);
		if (f)
			BOTH(m_op3(0x7d, x, y, t), aml_or(&M.b, x, y, t));
		else
			BOTH(m_op3(0x7b, x, y, t), aml_and(&M.b, x, y, t));
		break;
	case FZ_AML_RETURN:
		x = fin_opnd(in, &a[0]);
		BOTH((m_byte(0xa4), m_opnd(x)), aml_return(&M.b, x));
		break;
	case FZ_AML_LEQUAL:
		f = fin_u8(in) & 1;
		x = fin_opnd(in, &a[0]);
		y = fin_opnd(in, &a[1]);
		if (f)
			BOTH((m_byte(0x92), m_lequal(x, y)),
			     aml_lnotequal(&M.b, x, y));
		else
			BOTH(m_lequal(x, y), aml_lequal(&M.b, x, y));
		break;
	case FZ_AML_DWORD_FIELD:
		x = fin_opnd(in, &a[0]);
		id = fin_u32(in);
		s = fin_name(in, &a[1]);
		BOTH(m_dword_field(x, id, s),
		     aml_create_dword_field(&M.b, x, id, s));
		break;
	case FZ_AML_MEM32:
		u = fin_int(in);
		v = fin_int(in);
		f = fin_u8(in) & 1;
		BOTH(m_mem32(u, v, f), aml_memory32_fixed(&M.b, u, v, f));
		break;
	case FZ_AML_INTERRUPT: {
		unsigned int n;
		uint16_t sel;

		c = fin_u8(in);
		sel = fin_u16(in);
		n = sel & 0x1ff;
		for (unsigned int i = 0; i < n; i++)
			g[i] = i < 64 ? fin_u32(in) : i;
		BOTH(m_interrupt(c, sel & 0x8000 ? NULL : g, n),
		     aml_interrupt(&M.b, c, sel & 0x8000 ? NULL : g, n));
		break;
	}
	case FZ_AML_ADDRESS:
		c = fin_u8(in);
		memset(&ad, 0, sizeof(ad));
		ad.width = (c & 3) == 3 ? c : 16u << (c & 3);
		ad.space = (enum aml_space)fin_u8(in);
		ad.gen_flags = fin_u8(in);
		ad.type_flags = fin_u8(in);
		ad.gran = fin_int(in);
		ad.min = fin_int(in);
		ad.max = fin_int(in);
		ad.tra = fin_int(in);
		ad.len = fin_int(in);
		BOTH(m_address(&ad), aml_address_space(&M.b, &ad));
		break;
	case FZ_AML_WINDOW:
		k = fin_u8(in) % 4;
		c = k >= 2 ? fin_u8(in) : 0;
		f = k >= 2 ? fin_u8(in) & 1 : false;
		u = fin_int(in);
		v = fin_int(in);
		w = k ? fin_int(in) : 0;
		if (k == 0) {
			BOTH(m_window(16, AML_SPACE_BUS, 0, (uint16_t)u,
				      (uint16_t)v, 0),
			     aml_word_bus_number(&M.b, (uint16_t)u,
						 (uint16_t)v));
		} else if (k == 1) {
			BOTH(m_window(32, AML_SPACE_IO, AML_IO_ENTIRE_RANGE,
				      (uint32_t)u, (uint32_t)v, (uint32_t)w),
			     aml_dword_io(&M.b, (uint32_t)u, (uint32_t)v,
					  (uint32_t)w));
		} else if (k == 2) {
			BOTH(m_window(32, AML_SPACE_MEMORY, mem_flags(c, f),
				      (uint32_t)u, (uint32_t)v, (uint32_t)w),
			     aml_dword_memory(&M.b, (enum aml_cache)c, f,
					      (uint32_t)u, (uint32_t)v,
					      (uint32_t)w));
		} else {
			BOTH(m_window(64, AML_SPACE_MEMORY, mem_flags(c, f), u,
				      v, w),
			     aml_qword_memory(&M.b, (enum aml_cache)c, f, u, v,
					      w));
		}
		break;
	case FZ_AML_CRS_MMIO:
		u = fin_int(in);
		v = fin_int(in);
		f = fin_u8(in) & 1;
		g[0] = fin_u32(in);
		BOTH(m_crs_mmio(u, v, f ? g : NULL),
		     aml_crs_mmio(&M.b, u, v, f ? g : NULL));
		break;
	case FZ_AML_DSD_INT:
		s = fin_str(in, &a[0]);
		u = fin_int(in);
		BOTH(m_dsd_int(s, u), aml_dsd_int(&M.b, s, u));
		break;
	case FZ_AML_PCI_OSC:
		id = fin_u32(in);
		BOTH(m_pci_osc(id), aml_pci_osc(&M.b, id));
		break;
	case FZ_AML_NEXT_UID: {
		uint32_t want = 0, got;

		s = fin_str(in, &a[0]);
		BOTH(want = m_next_uid(s), got = aml_next_uid(&M.b, s));
		if (live && !M.inv)
			FUZZ_CHECK(got == want);
		break;
	}
	case FZ_AML_FAIL:
		e = -(int)(fin_u8(in) % 64);
		BOTH(if (e) m_invalid(e), (void)0);
		FUZZ_CHECK(aml_fail(&M.b, e) == (live ? e : M.err));
		break;
	case FZ_AML_FINISH:
		BOTH(if (M.depth) m_invalid(-EINVAL), (void)0);
		FUZZ_CHECK(aml_finish(&M.b) == (live ? M.inv : M.err));
		break;
	}
#undef BOTH
	if (live) {
		judge();
		FUZZ_CHECK(M.err || !strcmp(M.b.last_device, M.last_device));
	} else {
		/* Sticky: nothing changes after the first error. */
		FUZZ_CHECK(M.b.err == M.err && M.b.len == M.snap_len &&
			   M.b.depth == M.snap_depth);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t limits[8] = FZ_AML_LIMITS;
	struct fin in = { data, size };
	uint8_t cfg;

	fuzz_quiet();
	cfg = fin_u8(&in);
	M.nn = M.plen = 0;
	M.depth = 0;
	M.stack[0] = m_new();
	M.n[0].open = true;
	M.len = 0;
	M.err = 0;
	M.nr_uids = 0;
	memset(M.last_device, 0, sizeof(M.last_device));
	aml_init(&M.b, limits[cfg & 7]);
	M.max = limits[cfg & 7] ? limits[cfg & 7] : AML_DEFAULT_MAX;
	FUZZ_CHECK(M.b.max == M.max && !M.b.len && !M.b.err);

	while (in.left)
		one_op(&in);

	if ((cfg & FZ_AML_CLOSE) && !M.err) {
		while (M.depth && !M.err) {
			M.inv = 0;
			M.maybe = 0;
			m_end();
			aml_end(&M.b);
			judge();
		}
	}
	if (!M.err) {
		FUZZ_CHECK(walk(0, 0) == M.b.len);
		FUZZ_CHECK(aml_finish(&M.b) == (M.depth ? -EINVAL : 0));
	} else {
		FUZZ_CHECK(M.b.len == M.snap_len && aml_error(&M.b) == M.err);
		FUZZ_CHECK(!M.snap_len ||
			   !memcmp(M.b.data, M.snap, M.snap_len));
		FUZZ_CHECK(aml_finish(&M.b) == M.err);
		free(M.snap);
		M.snap = NULL;
	}
	aml_free(&M.b);
	return 0;
}
