/* SPDX-License-Identifier: MIT */
/* Shared by the fuzz targets (tests/fuzz/fuzz_*.c) and the seed generator
 * (tests/fuzz/mkseeds.c): the input reader, guest RAM, a quiet log, a fake
 * interrupt chip, and the input formats (opcodes and layouts).
 *
 * Every target is deterministic: all it does follows from the input bytes
 * (virtio-rng's entropy comes from the getrandom() below, reset per input;
 * the disk serial virtio-blk derives from the image's inode is fixed for
 * the life of the process).  A failed check of an invariant is a crash:
 * FUZZ_CHECK() prints the condition and aborts. */
#ifndef RIVET_FUZZ_H
#define RIVET_FUZZ_H

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gmem.h"
#include "core/irq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- input formats (shared with mkseeds.c) ------------------------------ */

/* Guest RAM of every virtio target starts here. */
#define FZ_RAM_BASE	0x80000000ULL

/* fuzz_virtq: [u8 cfg][u8 size][areas][u16 n][n bytes of RAM][ops...]
 * cfg bits 0-3: log2 max_size; bit 4: indirect negotiated; bit 5: areas
 * are 3 raw u64 guest addresses, else 3 u32 offsets from FZ_RAM_BASE.
 * size: < 16 means 1 << size, else the raw (invalid) value. */
#define FZ_VQ_RAM_SIZE		0x40000ULL	/* 256 KiB */
#define FZ_VQ_CFG_INDIRECT	0x10
#define FZ_VQ_CFG_RAW_AREAS	0x20
enum fz_vq_op {
	FZ_VQ_POP,	/* [u32 written]: pop, check, push */
	FZ_VQ_POP_RW,	/* [u16 roff][u16 rlen][u16 woff][u16 wlen] */
	FZ_VQ_PUBLISH,	/* [u16 head]: avail ring entry + idx++ */
	FZ_VQ_POKE,	/* [u32 off][u8 len][len bytes] into RAM */
	FZ_VQ_NEED_IRQ,
	FZ_VQ_DISABLE,
	FZ_VQ_ENABLE,	/* [u8 indirect] */
	FZ_VQ_RESET,	/* [u8 size][3 x u32 area offsets] */
	FZ_VQ_NR_OPS
};

/* fuzz_virtio_mmio: [u8 cfg][u16 n][n bytes of RAM][ops...]
 * cfg bit 0: disk read-only; bits 1-2: disk size (FZ_DISK_SIZES). */
#define FZ_MMIO_RAM_SIZE	0x10000ULL	/* 64 KiB */
#define FZ_MMIO_BLK_BASE	0x10001000ULL
#define FZ_MMIO_RNG_BASE	0x10002000ULL
#define FZ_MMIO_WINDOW		0x1000ULL
#define FZ_DISK_SIZES		{ 0, 512, 8192, 8192 + 100 }
enum fz_mmio_op {
	FZ_MMIO_READ,	/* [u8 sel][u16 off]: sel bits 0-1 width 1/2/4/8,
			 * bits 2-3 device: blk, rng, raw address (u64
			 * instead of u16), blk with odd width (3) */
	FZ_MMIO_WRITE,	/* like READ, then [u64 value] */
	FZ_MMIO_NOTIFY,	/* [u8 dev][u8 queue] */
	FZ_MMIO_INIT,	/* [u8 dev][u64 feature mask][u16 qsize]
			 * [3 x u16 ring offsets in RAM]: the Linux probe */
	FZ_MMIO_POKE,	/* [u16 off][u8 len][len bytes] into RAM */
	FZ_MMIO_RESET,	/* [u8 dev]: the next boot: that device made anew */
	FZ_MMIO_STATUS,	/* [u8 dev][u8 status] */
	FZ_MMIO_NR_OPS
};

/* fuzz_virtio_blk: [u8 cfg][u8 log2 qsize (mod 9)][requests...]
 * cfg bit 0: read-only; bit 1: negotiate INDIRECT_DESC; bits 2-3: disk
 * size (FZ_DISK_SIZES).  A request:
 * [u8 kind][u8 sector, or u64 if kind bit 6][u32 type if kind type 4]
 * [u8 header length if kind bit 5][u8 cut if kind bit 4]
 * [u8 nseg (mod 9)][nseg x (u16 len, u8 flags)][u8 status len (mod 4)]
 * [u8 notify]
 * kind bits 0-2: type IN, OUT, FLUSH, GET_ID, raw, IN, OUT, IN; bit 3: in
 * an indirect table; bit 4: header split in two descriptors at cut; bit 5:
 * header shorter than 16 bytes.  Data segments are device-writable unless
 * the type is OUT; seg flags bit 0 flips that.  notify: non-zero publishes
 * the requests made so far and notifies (a full ring does it too). */
#define FZ_BLK_RAM_SIZE		0x40000ULL	/* 256 KiB */
#define FZ_BLK_KIND_TYPE	0x07
#define FZ_BLK_KIND_INDIRECT	0x08
#define FZ_BLK_KIND_SPLIT_HDR	0x10
#define FZ_BLK_KIND_SHORT_HDR	0x20
#define FZ_BLK_KIND_SECTOR64	0x40
#define FZ_BLK_SEG_FLIP		0x01

/* fuzz_uart: [ops...] */
enum fz_uart_op {
	FZ_UART_READ,	/* [u8 off][u8 width] */
	FZ_UART_WRITE,	/* [u8 off][u8 width][u8 value] */
	FZ_UART_INPUT,	/* [u8 len][len bytes] */
	FZ_UART_RESET,	/* the next boot: the UART made anew */
	FZ_UART_NR_OPS
};

/* fuzz_loader: [u8 flags][6 x u64 loader_plan args][u8 ram base sel]
 * [u8 RAM in 256 KiB units][u32 fdt_max][u32 initrd size]
 * [u32 kernel pad][kernel file bytes...]
 * flags bit 0: an initrd; bits 1-2: kernel path kind (file, directory,
 * character device, missing); bit 3: initrd path missing. */
#define FZ_LD_RAM_MAX		(16ULL << 20)
#define FZ_LD_PAD_MAX		(2ULL << 20)

/* fuzz_config: NUL-separated arguments after "run". */
#define FZ_CFG_MAX_ARGS		64

/* fuzz_fwcfg: [u8 cfg][u16 n][n bytes of RAM][ops...]
 * cfg bits 0-4: size of the writable file "etc/w"; bit 5: kernel, initrd
 * and command line items; bit 6: RAM at FZ_FC_RAM_HIGH (above 4 GiB). */
#define FZ_FC_RAM_SIZE		0x10000ULL	/* 64 KiB */
#define FZ_FC_RAM_HIGH		0x100000000ULL
#define FZ_FC_BASE		0x10100000ULL
#define FZ_FC_CFG_KERNEL	0x20
#define FZ_FC_CFG_HIGH		0x40
enum fz_fc_op {
	FZ_FC_READ,	/* [u8 sel][u8 off]: sel bits 0-1 width 1/2/4/8; bit
			 * 2: raw offset, else off % window, kept inside */
	FZ_FC_WRITE,	/* like READ, then [u64 value] (LE bytes) */
	FZ_FC_DMA,	/* [u8 mode][desc][u32 control][u32 len][addr]: mode
			 * bit 0: one 64-bit trigger, else two halves; bit 1:
			 * addr a raw u64, else a u16 RAM offset; bit 2: desc
			 * a raw u64, else a u16 RAM offset (the descriptor is
			 * written there when it fits in RAM) */
	FZ_FC_POKE,	/* [u16 off][u8 len][len bytes] into RAM */
	FZ_FC_HIGH,	/* [u32 v]: write the DMA address high half only */
	FZ_FC_RESET,	/* the next boot: the device made anew */
	FZ_FC_NR_OPS
};

/* fuzz_virtio_pci: [u8 cfg][u16 n][n bytes of RAM][ops...]
 * cfg bit 0: disk read-only; bits 1-2: disk size (FZ_DISK_SIZES).  The
 * host bridge's windows are those of the virt board; virtio-blk is in slot
 * 1, virtio-rng in slot 2.  FZ_PCI_PROBE places the device's BARs at
 * FZ_PCI_BAR32(slot) (BAR 1) and FZ_PCI_BAR64(slot) (BAR 4). */
#define FZ_PCI_RAM_SIZE		0x10000ULL	/* 64 KiB */
#define FZ_PCI_ECAM		0x30000000ULL
#define FZ_PCI_ECAM_SIZE	0x10000000ULL
#define FZ_PCI_PIO		0x03000000ULL
#define FZ_PCI_MMIO32		0x40000000ULL
#define FZ_PCI_MMIO32_SIZE	0x40000000ULL
#define FZ_PCI_MMIO64		0x400000000ULL
#define FZ_PCI_MMIO64_SIZE	0x100000000ULL
#define FZ_PCI_BAR32(slot)	(FZ_PCI_MMIO32 + 0x10000ULL * (slot))
#define FZ_PCI_BAR64(slot)	(FZ_PCI_MMIO64 + 0x10000ULL * (slot))
#define FZ_PCI_PROBE_NO_MASTER	0x01	/* probe flags */
#define FZ_PCI_PROBE_MSIX	0x02
#define FZ_PCI_PROBE_MASKALL	0x04
#define FZ_PCI_PROBE_INTX_OFF	0x08
enum fz_pci_op {
	FZ_PCI_CFG_READ,	/* [u8 sel][u32 ecam offset]: sel bits 0-1
				 * width 1/2/4/8; bit 2: offset as is, else
				 * bits 15-19 of it mod 3 (slots 0-2) */
	FZ_PCI_CFG_WRITE,	/* like CFG_READ, then [u32 value] */
	FZ_PCI_BAR_READ,	/* [u8 sel][u8 dev][u16 off]: sel bits 0-1
				 * width; bit 2: [u64 address] instead of
				 * dev/off; bit 3: BAR 4, else BAR 1 */
	FZ_PCI_BAR_WRITE,	/* like BAR_READ, then [u64 value] */
	FZ_PCI_NOTIFY,		/* [u8 dev][u8 queue] */
	FZ_PCI_PROBE,		/* [u8 dev][u8 flags][u64 feature mask]
				 * [u16 qsize][3 x u16 ring offsets][u16 queue
				 * vector][u16 config vector][u32 msi data] */
	FZ_PCI_POKE,		/* [u16 off][u8 len][len bytes] into RAM */
	FZ_PCI_RESET,		/* the next boot: host and devices made anew */
	FZ_PCI_STATUS,		/* [u8 dev][u8 status] */
	FZ_PCI_NR_OPS
};

/* fuzz_virtio_net: [u8 cfg][u24 features][ops...]
 * cfg bit 0: negotiate INDIRECT_DESC; bits 1-3: log2 queue size (every
 * queue); bit 4: two queue pairs (MQ offered); bit 5: the host's TAP takes
 * every offload (else none).  The driver takes VERSION_1 and whichever of
 * the 24 virtio-net feature bits (0-23) are set and offered.  Datagram
 * socketpairs stand in for the TAP queues.  Chains: [u8 flags][u8 nseg]
 * [(nseg % 4) + 1 x (u16 len, u8 seg flags)]; flags bit 0: in an indirect
 * table (when negotiated), bit 1: notify after publishing; seg flags bit 0
 * flips the direction (TX readable, RX writable). */
#define FZ_NET_RAM_SIZE		0x100000ULL	/* 1 MiB */
#define FZ_NET_CFG_MQ		0x10
#define FZ_NET_CFG_HOST_OFFLOADS 0x20
#define FZ_NET_CHAIN_INDIRECT	0x01
#define FZ_NET_CHAIN_NOTIFY	0x02
#define FZ_NET_SEG_FLIP		0x01
#define FZ_NET_SEND_OVERSIZE	0x01
#define FZ_NET_SEND_TO_US	0x02
enum fz_net_op {
	FZ_NET_TX,	/* [u8 pair][12-byte header][chain]: transmit */
	FZ_NET_RX_BUF,	/* [u8 pair][chain]: receive buffers */
	FZ_NET_SEND,	/* [u8 pair][u8 kind][u16 len][12-byte header]: the
			 * host sends len bytes (kind bit 0: over the
			 * maximum; bit 1: to the device's MAC) */
	FZ_NET_LOOP,	/* the main loop until idle */
	FZ_NET_NOTIFY,	/* [u8 queue]: any index */
	FZ_NET_POKE,	/* [u16 off][u8 len][len bytes] into the ring area */
	FZ_NET_RESET,	/* status 0, then the driver's init */
	FZ_NET_CONFIG,	/* [u8 off][u8 width sel]: config space read */
	FZ_NET_ACK,	/* acknowledge the interrupt status */
	FZ_NET_CTRL,	/* [u8 n][n + 1 bytes]: a control command */
	FZ_NET_NR_OPS
};

/* TAP stand-ins for fuzz_virtio_net: they accept everything. */
static inline int fuzz_tap_offload(int fd, unsigned int flags)
{
	(void)fd;
	(void)flags;
	return 0;
}

static inline int fuzz_tap_queue(int fd, bool on)
{
	(void)fd;
	(void)on;
	return 0;
}

/* fuzz_table_loader: see the top of fuzz_table_loader.c for the layout;
 * its names[] table is indexed by mkseeds.c too. */
enum fz_tl_op {
	FZ_TL_ALLOC,
	FZ_TL_PTR,
	FZ_TL_CKSUM,
	FZ_TL_WPTR,
	FZ_TL_BLOB,
	FZ_TL_RESET,
	FZ_TL_APPLY,
	FZ_TL_NR_OPS
};

#define FZ_TL_NR_NAMES		12
#define FZ_TL_NAME_RAW		0x80
#define FZ_TL_RAM_SIZE		0x10000ULL	/* 64 KiB */
#define FZ_TL_RAM_BASES		{ FZ_RAM_BASE, 0x100000000ULL, 0, \
				  0xffff0000ULL }
#define FZ_TL_FILE_MAX		0x8000
#define FZ_TL_LOADER_MASK	0x03
#define FZ_TL_LOADER_BLOB	0
#define FZ_TL_LOADER_RAW	1
#define FZ_TL_LOADER_NONE	2
#define FZ_TL_LOADER_EMPTY	3
#define FZ_TL_RESIZE		0x04
#define FZ_TL_PTR_RO		0x08

/* fuzz_aml: see the top of fuzz_aml.c for the layout; its names[],
 * eisa[] and uuids[] tables are indexed by mkseeds.c too. */
enum fz_aml_op {
	FZ_AML_INT,		/* [int] */
	FZ_AML_STRING,		/* [string] */
	FZ_AML_NAME_REF,	/* [name] */
	FZ_AML_EISAID,		/* [eisaid] */
	FZ_AML_BUFFER,		/* [u8 len][len bytes] */
	FZ_AML_TOUUID,		/* [uuid] */
	FZ_AML_NAME,		/* [name] */
	FZ_AML_NAME_INT,	/* [name][int] */
	FZ_AML_NAME_STR,	/* [name][string] */
	FZ_AML_NAME_EISAID,	/* [name][eisaid] */
	FZ_AML_NAME_BUFFER,	/* [name][u8 len][len bytes] */
	FZ_AML_SCOPE,		/* [name] */
	FZ_AML_DEVICE,		/* [name] */
	FZ_AML_METHOD,		/* [name][u8 nargs][u8 serialized] */
	FZ_AML_IF,
	FZ_AML_ELSE,
	FZ_AML_PACKAGE,
	FZ_AML_BUFFER_BEGIN,
	FZ_AML_RESTEMPLATE,
	FZ_AML_END,
	FZ_AML_RAW,		/* [u8 sel]: sel % 4: aml_bytes [u8 n]
				 * [n bytes], aml_byte [u8], aml_le [u8 n]
				 * [u64], aml_zeros [u16 n] */
	FZ_AML_OP,		/* [u8 opcode] */
	FZ_AML_PATCH,		/* [u16 off][u8 n][u64 v]: patched,
				 * checked, patched back */
	FZ_AML_OPND,		/* [opnd] */
	FZ_AML_STORE,		/* [opnd src][opnd dst] */
	FZ_AML_ANDOR,		/* [u8 or][opnd x][opnd y][opnd target] */
	FZ_AML_RETURN,		/* [opnd] */
	FZ_AML_LEQUAL,		/* [u8 not][opnd x][opnd y] */
	FZ_AML_DWORD_FIELD,	/* [opnd src][u32 index][name] */
	FZ_AML_MEM32,		/* [int base][int size][u8 rw] */
	FZ_AML_INTERRUPT,	/* [u8 flags][u16 n]: n & 0x1ff interrupts, the
				 * first 64 [u32] each, the others i; bit 15:
				 * a NULL array */
	FZ_AML_ADDRESS,		/* [u8 width][u8 space][u8 gen][u8 type]
				 * [5 x int]: width & 3: 16, 32, 64, width */
	FZ_AML_WINDOW,		/* [u8 kind]: kind % 4: WordBusNumber [int
				 * min][int max], DWordIO [3 x int],
				 * DWordMemory, QWordMemory [u8 cache][u8 rw]
				 * [3 x int] */
	FZ_AML_CRS_MMIO,	/* [int base][int size][u8 has gsi][u32 gsi] */
	FZ_AML_DSD_INT,		/* [string][int] */
	FZ_AML_PCI_OSC,		/* [u32 mask] */
	FZ_AML_NEXT_UID,	/* [string] */
	FZ_AML_FAIL,		/* [u8 e]: aml_fail(-(e % 64)) */
	FZ_AML_FINISH,
	FZ_AML_NR_OPS
};

#define FZ_AML_NR_NAMES		32
#define FZ_AML_NAME_GEN		0x7f
#define FZ_AML_NAME_RAW		0x80
#define FZ_AML_NR_EISA		16
#define FZ_AML_NR_UUID		12
#define FZ_AML_UUID_GEN		0x80
#define FZ_AML_CLOSE		0x08

/* fuzz_plic: [u8 contexts][u16 sources][ops...]
 * nr_contexts = 1 + contexts % 32, nr_sources = 1 + sources % 1023.  An
 * address is [u8 sel][u32 off]: sel bits 0-1: width 1/2/4/8; bit 2: off
 * rounded down to a multiple of 4; bits 3-4: off picks an area (raw offset
 * in the window, priority of source off % 1024, enable word off % 32 of
 * context (off / 32) % 32, byte (off >> 5) % 0x1000 of the page of context
 * (off % 32) % nr_contexts).  The bus never lets an access straddle the
 * window's end: one that would is moved back inside.  Sources in ops are
 * raw u16 (0 and those past nr_sources included); contexts are u8, taken
 * modulo nr_contexts, or modulo 32 for FZ_PLIC_ROUTE (whose enable blocks
 * of absent contexts are reserved space). */
#define FZ_PLIC_SEL_WIDTH	0x03
#define FZ_PLIC_SEL_ALIGN	0x04
#define FZ_PLIC_SEL_AREA	0x18
#define FZ_PLIC_AREA_RAW	0x00
#define FZ_PLIC_AREA_PRIO	0x08
#define FZ_PLIC_AREA_ENABLE	0x10
#define FZ_PLIC_AREA_CONTEXT	0x18
enum fz_plic_op {
	FZ_PLIC_READ,		/* [addr] */
	FZ_PLIC_WRITE,		/* [addr][u32 value] */
	FZ_PLIC_LEVEL,		/* [u16 source][u8 level]: set_level */
	FZ_PLIC_CLAIM,		/* [u8 context] */
	FZ_PLIC_COMPLETE,	/* [u8 context][u16 source] */
	FZ_PLIC_ROUTE,		/* [u8 context][u16 source][u8 priority]
				 * [u8 on]: Linux's enable toggle + priority */
	FZ_PLIC_THRESHOLD,	/* [u8 context][u32 value] */
	FZ_PLIC_RESET,		/* the next boot: the PLIC made anew */
	FZ_PLIC_NR_OPS
};

/* fuzz_aplic: [u16 sources][u8 harts][ops...]
 * nr_sources = 1 + sources % 1023, nr_harts = 1 + harts % 8; the window
 * is FZ_APLIC_SIZE bytes (past the registers).  An address is [u8 sel]
 * [u16 off]: sel bits 0-1: width 1/2/4/8; bit 2: off rounded down to a
 * multiple of 4; off is taken modulo the window.  Sources in ops are raw
 * u16; targets and genmsi values raw u32 (any hart, guest index, EIID). */
#define FZ_APLIC_BASE		0x0d000000ULL
#define FZ_APLIC_SIZE		0x5000ULL
#define FZ_APLIC_IMSIC		0x28000000ULL
#define FZ_APLIC_STRIDE		0x1000ULL
#define FZ_APLIC_SEL_WIDTH	0x03
#define FZ_APLIC_SEL_ALIGN	0x04
enum fz_aplic_op {
	FZ_APLIC_READ,		/* [addr] */
	FZ_APLIC_WRITE,		/* [addr][u32 value] */
	FZ_APLIC_LEVEL,		/* [u16 source][u8 level]: set_level */
	FZ_APLIC_ROUTE,		/* [u16 source][u8 sourcecfg][u32 target]
				 * [u8 on]: Linux's set_type, write_msg and
				 * (un)mask */
	FZ_APLIC_NUM,		/* [u8 reg][u16 source]: reg % 7: setipnum,
				 * setipnum_le, setipnum_be (byte-swapped
				 * source), clripnum, setienum, clrienum,
				 * setipnum_be (raw source) */
	FZ_APLIC_DOMAINCFG,	/* [u32 value] */
	FZ_APLIC_GENMSI,	/* [u32 value] */
	FZ_APLIC_RESET,		/* the next boot: the APLIC made anew */
	FZ_APLIC_NR_OPS
};

/* fuzz_qmp: [u8 cfg][ops...]; cfg bits 0-1: what the VM answers an
 * action: done, pending, refused; bit 2: start negotiated; bits 3-5: the
 * run state. */
#define FZ_QMP_CFG_NEGOTIATED	0x04
enum fz_qmp_op {
	FZ_QMP_INPUT,	/* [u16 len][len bytes] from the client */
	FZ_QMP_DONE,	/* the waiting command succeeded */
	FZ_QMP_FAIL,	/* the waiting command failed */
	FZ_QMP_EVENT,	/* [u8 which] an event to the client */
	FZ_QMP_STATE,	/* [u8 state] */
	FZ_QMP_DRAIN,	/* [u16 n] the client read n bytes */
	FZ_QMP_NR_OPS
};

/* ---- input reader ------------------------------------------------------- */

/* Little-endian reads past the end of the input give zeros. */
struct fin {
	const uint8_t *p;
	size_t left;
};

static inline uint8_t fin_u8(struct fin *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static inline uint64_t fin_le(struct fin *in, unsigned int bytes)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < bytes; i++)
		v |= (uint64_t)fin_u8(in) << (8 * i);
	return v;
}

static inline uint16_t fin_u16(struct fin *in)
{
	return (uint16_t)fin_le(in, 2);
}

static inline uint32_t fin_u32(struct fin *in)
{
	return (uint32_t)fin_le(in, 4);
}

static inline uint64_t fin_u64(struct fin *in)
{
	return fin_le(in, 8);
}

/* Copy up to @len bytes to @dst, zero-filling what the input lacks. */
static inline void fin_bytes(struct fin *in, void *dst, size_t len)
{
	size_t n = len < in->left ? len : in->left;

	memcpy(dst, in->p, n);
	memset((uint8_t *)dst + n, 0, len - n);
	in->p += n;
	in->left -= n;
}

/* ---- checks, logging, guest RAM (targets only) --------------------------- */

#ifndef FUZZ_NO_RUNTIME

#define FUZZ_CHECK(cond)                                                    \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(fuzz_err, "%s:%d: check failed: %s\n",       \
				__FILE__, __LINE__, #cond);                 \
			abort();                                            \
		}                                                           \
	} while (0)

/* Where checks report: the real stderr, kept when fuzz_quiet() sends the
 * rivet log away. */
static FILE *fuzz_err;

/* rivet logs every rejected guest access (rate-limited) and every bad
 * input file: at thousands of inputs a second that is all noise.  Send the
 * log to /dev/null unless RIVET_FUZZ_LOG is set.  Only the stdio stream is
 * swapped: the sanitizers and libFuzzer keep writing to the real stderr. */
static inline void fuzz_quiet(void)
{
	FILE *null;

	if (fuzz_err)
		return;
	fuzz_err = stderr;
	if (getenv("RIVET_FUZZ_LOG"))
		return;
	null = fopen("/dev/null", "w");
	if (null)
		stderr = null;
}

/* Guest RAM for the whole process, from the (ASan) heap rather than
 * gmem_alloc()'s mmap: a byte read or written just outside guest RAM is
 * then a reported heap-buffer-overflow, not a silent access to whatever
 * mapping follows.  Page-aligned like real RAM; zeroed by fuzz_ram_fill(). */
static inline struct gmem *fuzz_ram(uint64_t base, uint64_t size)
{
	static struct gmem gm;

	if (!gm.host) {
		gm.host = aligned_alloc(4096, size);
		if (!gm.host)
			abort();
		gm.base = base;
		gm.size = size;
	}
	return &gm;
}

/* Zero guest RAM, then copy [u16 n][n bytes] from the input to its start. */
static inline void fuzz_ram_fill(struct gmem *gm, struct fin *in)
{
	uint16_t n = fin_u16(in);

	memset(gm->host, 0, gm->size);
	fin_bytes(in, gm->host, n < gm->size ? n : gm->size);
	if (n > gm->size) {
		size_t skip = n - gm->size < in->left ? n - gm->size : in->left;

		in->p += skip;
		in->left -= skip;
	}
}

/* Write @len input bytes at RAM offset @off, clipped to RAM. */
static inline void fuzz_ram_poke(struct gmem *gm, struct fin *in,
				 uint64_t off, size_t len)
{
	uint8_t buf[256];

	if (len > sizeof(buf))
		len = sizeof(buf);
	fin_bytes(in, buf, len);
	if (off >= gm->size)
		return;
	if (len > gm->size - off)
		len = gm->size - off;
	memcpy(gm->host + off, buf, len);
}

/* A fake interrupt chip: the level each source was last driven to. */
struct fuzz_irq {
	bool level[64];
};

static inline int fuzz_irq_set(void *ctx, uint32_t irq, bool level)
{
	struct fuzz_irq *f = ctx;

	FUZZ_CHECK(irq < 64);
	f->level[irq] = level;
	return 0;
}

/* virtio-rng's entropy: a fixed stream restarted per input, so what it
 * writes into guest RAM (possibly over the rings) replays exactly
 * (tests/support/fuzz_rng.c: calling this puts its getrandom() in place
 * of the C library's). */
void fuzz_rng_reset(void);

#endif /* FUZZ_NO_RUNTIME */

#endif
