/* SPDX-License-Identifier: MIT */
/* A small AML (ACPI Machine Language) builder: the DSDT's encoding, ACPI 6.6
 * chapter 20 ("ACPI Machine Language Specification") and the resource
 * descriptors of section 6.4.
 *
 * Everything is written in order into one growable byte buffer.  Blocks
 * (Scope, Device, Method, Package, Buffer, If, Else, ResourceTemplate) are
 * opened with aml_*_begin() and closed with aml_end(); the PkgLength (and a
 * Buffer's size, a Package's element count, a ResourceTemplate's end tag)
 * is filled in when the block closes.  AML is prefix-encoded, so a call
 * sequence reads like the ASL it produces:
 *
 *	aml_device_begin(b, "COM0");
 *	aml_name_str(b, "_HID", "RSCV0003");
 *	aml_name_int(b, "_UID", 0);
 *	aml_name(b, "_CRS");
 *	aml_resource_template_begin(b);
 *	aml_memory32_fixed(b, 0x10000000, 0x100, true);
 *	aml_interrupt(b, AML_IRQ_CONSUMER | AML_IRQ_LEVEL, &gsi, 1);
 *	aml_end(b);			// ResourceTemplate
 *	aml_end(b);			// Device
 *
 * Errors are sticky (the first -errno is kept and every later call adds
 * nothing to the AML), so a builder checks once at the end with
 * aml_error().  Bad names, strings or values give -EINVAL, a resource
 * descriptor range that cannot be encoded -ERANGE, a Package of more than
 * 255 elements -E2BIG, exceeding the size limit -ENOSPC, unbalanced blocks
 * -EINVAL from aml_finish().
 *
 * Device hooks (dev_ops.acpi_dsdt) receive the DSDT's buffer, positioned
 * inside Scope (\_SB); aml_next_uid() and aml_gsi() give them what they
 * cannot know alone. */
#ifndef RIVET_AML_H
#define RIVET_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AML_MAX_DEPTH 16	/* nested open blocks */
#define AML_MAX_UID_KINDS 16	/* distinct _HIDs aml_next_uid() counts */
#define AML_DEFAULT_MAX (1U << 20)

enum aml_block_kind {
	AML_BLK_SCOPE,
	AML_BLK_DEVICE,
	AML_BLK_METHOD,
	AML_BLK_IF,
	AML_BLK_ELSE,
	AML_BLK_PACKAGE,
	AML_BLK_BUFFER,
	AML_BLK_RESTEMPLATE,
	AML_BLK_FIELD,		/* only inside aml_field() */
};

struct aml_block {
	size_t start;		/* first byte after the opcode */
	enum aml_block_kind kind;
	uint32_t items;		/* Package: elements so far */
};

struct aml_buf {
	uint8_t *data;
	size_t len, cap;
	size_t max;		/* never grow past this many bytes */
	int err;		/* sticky: the first -errno, or 0 */
	unsigned int depth;
	struct aml_block blk[AML_MAX_DEPTH];
	/* DSDT context for device hooks. */
	uint32_t gsi_base;	/* GSI of APLIC source 0 */
	struct {
		char hid[9];
		uint32_t next;
	} uids[AML_MAX_UID_KINDS];
	unsigned int nr_uids;
	char last_device[5];	/* last Device() opened directly in a Scope */
};

/* ---- the buffer ---------------------------------------------------------- */

/* Empty buffer that may grow to @max bytes (0: AML_DEFAULT_MAX). */
void aml_init(struct aml_buf *b, size_t max);
void aml_free(struct aml_buf *b);
/* The sticky error: 0 or -errno. */
static inline int aml_error(const struct aml_buf *b)
{
	return b->err;
}
/* The sticky error, or -EINVAL if a block is still open. */
int aml_finish(struct aml_buf *b);
/* Record @err (if none yet); returns the sticky error. */
int aml_fail(struct aml_buf *b, int err);

/* Raw bytes and little-endian integers (tables, buffer contents). */
void aml_bytes(struct aml_buf *b, const void *p, size_t n);
void aml_byte(struct aml_buf *b, uint8_t v);
void aml_le(struct aml_buf *b, uint64_t v, unsigned int nbytes);
void aml_zeros(struct aml_buf *b, size_t n);
/* Overwrite already written bytes (little-endian). */
void aml_patch_le(struct aml_buf *b, size_t off, uint64_t v,
		  unsigned int nbytes);

/* ---- names (20.2.2) ------------------------------------------------------ */

/* A NameString: optional '\' root or '^' parent prefixes, then dot-separated
 * segments of 1-4 characters [A-Z_][A-Z0-9_]* (padded with '_'):
 * "_HID", "\\_SB.PCI0", "^^FOO".  Used as a reference (an operand or a
 * Package element); declarations take their name as an argument. */
void aml_name_ref(struct aml_buf *b, const char *path);

/* ---- data objects (20.2.3) ----------------------------------------------- */

/* Integer in its smallest encoding: Zero, One, Ones, Byte/Word/DWord/QWord. */
void aml_int(struct aml_buf *b, uint64_t v);
/* String: ASCII 0x01-0x7f (what AML's String allows). */
void aml_string(struct aml_buf *b, const char *s);
/* EisaId("PNP0A08"): the compressed 32-bit EISA ID as a DWord constant. */
void aml_eisaid(struct aml_buf *b, const char *id);
/* Buffer() {@data}. */
void aml_buffer(struct aml_buf *b, const void *data, size_t len);
/* ToUUID("33DB4D5B-1FF7-401C-9657-7441C03DD766"): a 16-byte Buffer. */
void aml_touuid(struct aml_buf *b, const char *uuid);

/* ---- declarations -------------------------------------------------------- */

/* Name (@name, <the data object the caller emits next>). */
void aml_name(struct aml_buf *b, const char *name);
void aml_name_int(struct aml_buf *b, const char *name, uint64_t v);
void aml_name_str(struct aml_buf *b, const char *name, const char *s);
void aml_name_eisaid(struct aml_buf *b, const char *name, const char *id);
void aml_name_buffer(struct aml_buf *b, const char *name, const void *data,
		     size_t len);

/* ---- blocks -------------------------------------------------------------- */

void aml_scope_begin(struct aml_buf *b, const char *path);
void aml_device_begin(struct aml_buf *b, const char *name);
/* Method (@name, @nargs (0-7), Serialized/NotSerialized). */
void aml_method_begin(struct aml_buf *b, const char *name,
		      unsigned int nargs, bool serialized);
/* If (<predicate the caller emits next>) { ... }; Else { ... }. */
void aml_if_begin(struct aml_buf *b);
void aml_else_begin(struct aml_buf *b);
/* Package () { elements }: the element count is filled in by aml_end(). */
void aml_package_begin(struct aml_buf *b);
/* Buffer () { raw bytes from aml_bytes() }. */
void aml_buffer_begin(struct aml_buf *b);
/* ResourceTemplate () { descriptors }: aml_end() adds the end tag. */
void aml_resource_template_begin(struct aml_buf *b);
/* Close the innermost block. */
void aml_end(struct aml_buf *b);

/* ---- expressions (20.2.5) ------------------------------------------------ */

enum aml_opnd_kind {
	AML_OPND_NONE,		/* an unused Target (NullName) */
	AML_OPND_INT,
	AML_OPND_ARG,
	AML_OPND_LOCAL,
	AML_OPND_NAME,
	AML_OPND_STRING,
	AML_OPND_UUID,
};

/* A simple operand; build one with the macros below. */
struct aml_opnd {
	enum aml_opnd_kind kind;
	uint64_t v;
	const char *s;
};

#define AML_NOTARGET ((struct aml_opnd){ .kind = AML_OPND_NONE })
#define AML_INT(x) ((struct aml_opnd){ .kind = AML_OPND_INT, .v = (x) })
#define AML_ARG(n) ((struct aml_opnd){ .kind = AML_OPND_ARG, .v = (n) })
#define AML_LOCAL(n) ((struct aml_opnd){ .kind = AML_OPND_LOCAL, .v = (n) })
#define AML_NAME(p) ((struct aml_opnd){ .kind = AML_OPND_NAME, .s = (p) })
#define AML_STR(p) ((struct aml_opnd){ .kind = AML_OPND_STRING, .s = (p) })
#define AML_UUID(p) ((struct aml_opnd){ .kind = AML_OPND_UUID, .s = (p) })

/* Emit one operand. */
void aml_opnd(struct aml_buf *b, struct aml_opnd o);
/* Raw opcode byte, for expressions not covered here (its operands follow). */
void aml_op(struct aml_buf *b, uint8_t op);

void aml_store(struct aml_buf *b, struct aml_opnd src, struct aml_opnd dst);
void aml_and(struct aml_buf *b, struct aml_opnd x, struct aml_opnd y,
	     struct aml_opnd target);
void aml_or(struct aml_buf *b, struct aml_opnd x, struct aml_opnd y,
	    struct aml_opnd target);
void aml_return(struct aml_buf *b, struct aml_opnd o);
/* LEqual (x, y) and LNot (LEqual (x, y)): predicates for aml_if_begin(). */
void aml_lequal(struct aml_buf *b, struct aml_opnd x, struct aml_opnd y);
void aml_lnotequal(struct aml_buf *b, struct aml_opnd x, struct aml_opnd y);
/* LEqual's opcode alone, for operands that are expressions themselves: its
 * two operands are what the caller emits next.  If ((Local0 & 2) == 2):
 *
 *	aml_if_begin(b);
 *	aml_lequal_op(b);
 *	aml_and(b, AML_LOCAL(0), AML_INT(2), AML_NOTARGET);
 *	aml_opnd(b, AML_INT(2));
 */
void aml_lequal_op(struct aml_buf *b);
/* CreateDWordField (@src, @byte_index, @name). */
void aml_create_dword_field(struct aml_buf *b, struct aml_opnd src,
			    uint32_t byte_index, const char *name);

/* Notify (@obj, @value): 19.6.92; @obj is a name, an Arg or a Local
 * (a SuperName), else -EINVAL. */
void aml_notify(struct aml_buf *b, struct aml_opnd obj, struct aml_opnd value);

/* ---- operation regions and fields (19.6.100, 19.6.48) -------------------- */

/* RegionSpace keywords (20.2.5.2). */
enum aml_region_space {
	AML_REGION_SYSTEM_MEMORY = 0,
	AML_REGION_SYSTEM_IO = 1,
	AML_REGION_PCI_CONFIG = 2,
};
/* OperationRegion (@name, @space, @offset, @len). */
void aml_operation_region(struct aml_buf *b, const char *name,
			  enum aml_region_space space, uint64_t offset,
			  uint64_t len);

/* FieldFlags (20.2.5.2): AccessType | LockRule | UpdateRule. */
enum aml_field_flags {
	AML_FIELD_ANY_ACC = 0,
	AML_FIELD_BYTE_ACC = 1,
	AML_FIELD_WORD_ACC = 2,
	AML_FIELD_DWORD_ACC = 3,
	AML_FIELD_QWORD_ACC = 4,
	AML_FIELD_BUFFER_ACC = 5,
	AML_FIELD_NOLOCK = 0,
	AML_FIELD_LOCK = 1 << 4,
	AML_FIELD_PRESERVE = 0,
	AML_FIELD_WRITE_ONES = 1 << 5,
	AML_FIELD_WRITE_ZEROS = 2 << 5,
};
/* Field (@region, @flags) { @name, @bits }: one named field of @bits bits
 * (1 to 2^28 - 1) at the start of OperationRegion @region.  @name is a
 * NameSeg (1-4 characters, no path); a bad name, flag or width gives
 * -EINVAL. */
void aml_field(struct aml_buf *b, const char *region, unsigned int flags,
	       const char *name, uint32_t bits);

/* ---- resource descriptors (6.4) ------------------------------------------ */

/* Memory32Fixed (ReadWrite/ReadOnly, @base, @size): 6.4.3.4.  @base and
 * base + size - 1 must fit in 32 bits. */
void aml_memory32_fixed(struct aml_buf *b, uint64_t base, uint64_t size,
			bool rw);

/* Name (_CRS, ResourceTemplate () { Memory32Fixed (ReadWrite, @base,
 * @size); Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive)
 * { *@gsi } }): what an MMIO device with one wired interrupt (or none:
 * @gsi NULL) claims. */
void aml_crs_mmio(struct aml_buf *b, uint64_t base, uint64_t size,
		  const uint32_t *gsi);

/* Extended Interrupt Descriptor flags (6.4.3.6, byte 3). */
enum aml_irq_flags {
	AML_IRQ_PRODUCER = 0,
	AML_IRQ_CONSUMER = 1 << 0,
	AML_IRQ_LEVEL = 0,
	AML_IRQ_EDGE = 1 << 1,
	AML_IRQ_ACTIVE_HIGH = 0,
	AML_IRQ_ACTIVE_LOW = 1 << 2,
	AML_IRQ_EXCLUSIVE = 0,
	AML_IRQ_SHARED = 1 << 3,
	AML_IRQ_WAKE = 1 << 4,
};
/* Interrupt (@flags) { @gsis }: 6.4.3.6, 1-255 interrupts. */
void aml_interrupt(struct aml_buf *b, unsigned int flags,
		   const uint32_t *gsis, unsigned int n);

/* Address space descriptors: 6.4.3.5.1-3. */
enum aml_space { AML_SPACE_MEMORY = 0, AML_SPACE_IO = 1, AML_SPACE_BUS = 2 };
enum aml_cache {
	AML_NON_CACHEABLE = 0,
	AML_CACHEABLE = 1,
	AML_WRITE_COMBINING = 2,
	AML_PREFETCHABLE = 3,
};

struct aml_addr {
	unsigned int width;	/* 16 (Word), 32 (DWord) or 64 (QWord) */
	enum aml_space space;
	uint8_t gen_flags;	/* byte 4: AML_ADDR_* below */
	uint8_t type_flags;	/* byte 5: e.g. AML_MEM_RW | cache << 1 */
	uint64_t gran, min, max, tra, len;
};

#define AML_ADDR_CONSUMER 0x01	/* else ResourceProducer */
#define AML_ADDR_SUB_DECODE 0x02
#define AML_ADDR_MIN_FIXED 0x04
#define AML_ADDR_MAX_FIXED 0x08
#define AML_MEM_RW 0x01
#define AML_IO_ENTIRE_RANGE 0x03

void aml_address_space(struct aml_buf *b, const struct aml_addr *a);
/* Producer, MinFixed, MaxFixed, PosDecode, granularity 0 (the common case
 * for a host bridge's windows); @len = @max - @min + 1. */
void aml_word_bus_number(struct aml_buf *b, uint16_t min, uint16_t max);
void aml_dword_io(struct aml_buf *b, uint32_t min, uint32_t max, uint32_t tra);
void aml_dword_memory(struct aml_buf *b, enum aml_cache cache, bool rw,
		      uint32_t min, uint32_t max, uint32_t tra);
void aml_qword_memory(struct aml_buf *b, enum aml_cache cache, bool rw,
		      uint64_t min, uint64_t max, uint64_t tra);

/* ---- common objects ------------------------------------------------------ */

/* Name (_DSD, Package () { ToUUID (device properties UUID),
 * Package () { Package () { @prop, @val } } }): one integer property. */
void aml_dsd_int(struct aml_buf *b, const char *prop, uint64_t val);

/* Name (SUPP, 0), Name (CTRL, 0) and Method (_OSC, 4): the PCI Firmware
 * Specification 3.3 section 4.5.1 handshake for a PCIe host bridge,
 * granting the OS the control bits in @ctrl_mask (bit 0 native hot plug,
 * 1 SHPC, 2 PME, 3 AER, 4 PCIe capability structure). */
void aml_pci_osc(struct aml_buf *b, uint32_t ctrl_mask);

/* ---- DSDT context for device hooks --------------------------------------- */

/* The next _UID for a device with @hid: 0, 1, 2 ... per _HID (counted
 * even after an error: it emits nothing). */
uint32_t aml_next_uid(struct aml_buf *b, const char *hid);
/* The GSI of APLIC wired source @irq. */
/* Open Device (PREFIXn) for the next instance of @hid (aml_next_uid()):
 * the name is @prefix and the UID in @digits decimal digits (4 characters
 * in all), then Name (_HID, @hid) and Name (_UID, n).  Returns n, or
 * -ERANGE when n needs more digits; close the device with aml_end(). */
int aml_device_numbered(struct aml_buf *b, const char *prefix,
			unsigned int digits, const char *hid);

static inline uint32_t aml_gsi(const struct aml_buf *b, uint32_t irq)
{
	return b->gsi_base + irq;
}

#endif
