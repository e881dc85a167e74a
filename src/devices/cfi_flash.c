// SPDX-License-Identifier: MIT
/* CFI-01 NOR flash (Intel/Sharp command set).  See cfi_flash.h for the
 * behaviour; the command set follows Intel's P30/StrataFlash data sheets
 * and the CFI specification (JESD68), the geometry QEMU's virt boards. */
#include "devices/cfi_flash.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libfdt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/device.h"
#include "core/fdt_util.h"
#include "core/fileio.h"
#include "core/log.h"
#include "snapshot/snap.h"

/* Commands (Intel/Sharp extended command set). */
#define CMD_READ_ARRAY		0xff
#define CMD_READ_ARRAY_QEMU	0x00	/* QEMU's reset value */
#define CMD_AMD_RESET		0xf0	/* Linux's probe sends it */
#define CMD_READ_STATUS		0x70
#define CMD_CLEAR_STATUS	0x50
#define CMD_READ_ID		0x90
#define CMD_CFI_QUERY		0x98
#define CMD_WORD_PROGRAM	0x40
#define CMD_WORD_PROGRAM_ALT	0x10
#define CMD_BUFFERED_PROGRAM	0xe8
#define CMD_BLOCK_ERASE		0x20
#define CMD_CONFIRM		0xd0
#define CMD_LOCK_SETUP		0x60
#define CMD_LOCK_BLOCK		0x01
#define CMD_LOCK_DOWN		0x2f

/* Identifier space (per device, in device words from a sector's base). */
#define ID_MFR			0
#define ID_DEV			1
#define ID_LOCK			2
#define LOCK_LOCKED		0x01
#define LOCK_LOCKED_DOWN	0x02

#define CFI_TABLE_SIZE		0x44
#define DEVICES			(CFI_FLASH_BANK_WIDTH / CFI_FLASH_DEVICE_WIDTH)

enum cfi_state {
	ST_ARRAY,	/* read array */
	ST_STATUS,	/* read status: also after every operation */
	ST_ID,		/* read identifier */
	ST_QUERY,	/* CFI query */
	ST_PROGRAM,	/* word program: waiting for the data */
	ST_ERASE,	/* block erase: waiting for the confirm */
	ST_BUF_COUNT,	/* buffered program: waiting for the count */
	ST_BUF_DATA,	/* buffered program: taking the data */
	ST_BUF_CONFIRM,	/* buffered program: waiting for the confirm */
	ST_LOCK,	/* lock setup: waiting for lock/unlock/lock-down */
};

struct cfi_flash {
	struct rivet_dev dev;
	pthread_mutex_t lock;
	int fd;
	char *name;
	bool readonly;
	uint8_t *mem;		/* the bank, page-aligned, dev.size bytes */
	uint8_t cfi[CFI_TABLE_SIZE];

	enum cfi_state state;
	uint8_t status;
	uint64_t cmd_off;	/* address of the running command's setup */
	/* buffered program */
	unsigned int buf_words;	/* data writes expected */
	unsigned int buf_seen;	/* data writes taken */
	uint64_t buf_base;	/* window; UINT64_MAX before the first data */
	bool buf_bad;		/* a data write fell outside the window */
	uint8_t buf[CFI_FLASH_BUFFER_SIZE];
	uint8_t buf_set[CFI_FLASH_BUFFER_SIZE];	/* byte i was written */

	cfi_flash_mode_fn mode_fn;
	void *mode_opaque;
	bool reported_array;	/* what mode_fn last heard */

	struct cfi_flash *pair;	/* bank 1, when this is a paired bank 0 */
	bool paired_second;	/* this is a paired bank 1 */
};

static const struct dev_ops cfi_flash_ops;

static struct cfi_flash *to_flash(struct rivet_dev *dev)
{
	return dev->priv;
}

static struct cfi_flash *flash_of(struct rivet_dev *dev)
{
	return dev && dev->ops == &cfi_flash_ops ? dev->priv : NULL;
}

/* ---- CFI query table ----------------------------------------------------- */

static unsigned int log2u(uint64_t v)
{
	unsigned int n = 0;

	while (v > 1) {
		v >>= 1;
		n++;
	}
	return n;
}

/* The table one x16 device answers; offsets are device addresses. */
static void fill_cfi_table(uint8_t *t, uint64_t bank_size)
{
	uint64_t dev_sector = CFI_FLASH_SECTOR_SIZE / DEVICES;
	uint64_t blocks = bank_size / CFI_FLASH_SECTOR_SIZE;

	memset(t, 0, CFI_TABLE_SIZE);
	t[0x10] = 'Q';
	t[0x11] = 'R';
	t[0x12] = 'Y';
	t[0x13] = 0x01;		/* primary command set: Intel/Sharp */
	t[0x15] = 0x31;		/* primary extended table at 0x31 */
	/* 0x17-0x1a: no alternate command set */
	t[0x1b] = 0x27;		/* Vcc min 2.7 V */
	t[0x1c] = 0x36;		/* Vcc max 3.6 V */
	/* 0x1d-0x1e: no Vpp */
	t[0x1f] = 0x07;		/* typical word program 2^7 us */
	t[0x20] = 0x08;		/* typical buffer program 2^8 us */
	t[0x21] = 0x0a;		/* typical block erase 2^10 ms */
	/* 0x22: no chip erase */
	t[0x23] = 0x04;		/* maximum: 2^4 times typical */
	t[0x24] = 0x04;
	t[0x25] = 0x04;
	t[0x27] = (uint8_t)log2u(bank_size / DEVICES);	/* device size */
	t[0x28] = 0x01;		/* interface: x16 asynchronous */
	t[0x2a] = (uint8_t)log2u(CFI_FLASH_BUFFER_SIZE / DEVICES);
	t[0x2c] = 1;		/* one erase block region */
	t[0x2d] = (uint8_t)(blocks - 1);
	t[0x2e] = (uint8_t)((blocks - 1) >> 8);
	t[0x2f] = (uint8_t)(dev_sector >> 8);
	t[0x30] = (uint8_t)(dev_sector >> 16);
	/* Primary vendor-specific extended query, version 1.0. */
	t[0x31] = 'P';
	t[0x32] = 'R';
	t[0x33] = 'I';
	t[0x34] = '1';
	t[0x35] = '0';
	/* 0x36-0x39 optional features, 0x3a suspend: none */
	t[0x3b] = 0x03;		/* block status: lock and lock-down bits */
	t[0x3d] = 0x33;		/* Vcc optimum 3.3 V */
	t[0x3f] = 0x01;		/* one protection register field */
	t[0x40] = 0x80;		/* ... at device address 0x80 */
	t[0x42] = 0x03;		/* 2^3 factory bytes */
	t[0x43] = 0x03;		/* 2^3 user bytes */
}

/* ---- mode and status (caller holds the lock) ----------------------------- */

static void set_state(struct cfi_flash *f, enum cfi_state st)
{
	bool array = st == ST_ARRAY;

	f->state = st;
	if (array == f->reported_array)
		return;
	f->reported_array = array;
	if (f->mode_fn)
		f->mode_fn(f->mode_opaque, array);
}

static void reset_locked(struct cfi_flash *f)
{
	f->status = CFI_SR_READY;
	f->buf_words = 0;
	f->buf_seen = 0;
	f->buf_base = UINT64_MAX;
	f->buf_bad = false;
	set_state(f, ST_ARRAY);
}

/* An operation ended: report @err_bits in the status register, which the
 * bank shows until the next read-mode command. */
static void finish(struct cfi_flash *f, uint8_t err_bits)
{
	f->status |= CFI_SR_READY | err_bits;
	set_state(f, ST_STATUS);
}

/* The 16-bit word device @dev_addr answers in identifier or query mode. */
static uint16_t device_word(struct cfi_flash *f, uint64_t off)
{
	uint64_t q = off / CFI_FLASH_BANK_WIDTH;

	if (f->state == ST_QUERY)
		return q < CFI_TABLE_SIZE ? f->cfi[q] : 0;
	/* Identifier: relative to the sector read. */
	switch (q % (CFI_FLASH_SECTOR_SIZE / CFI_FLASH_BANK_WIDTH)) {
	case ID_MFR:
		return CFI_FLASH_MFR_ID;
	case ID_DEV:
		return CFI_FLASH_DEV_ID;
	case ID_LOCK:
		return f->readonly ? LOCK_LOCKED | LOCK_LOCKED_DOWN : 0;
	default:
		return 0;
	}
}

static uint8_t read_byte(struct cfi_flash *f, uint64_t off)
{
	bool high = off & 1;	/* odd byte of its device's word */
	uint16_t w;

	switch (f->state) {
	case ST_ARRAY:
		return f->mem[off];
	case ST_ID:
	case ST_QUERY:
		w = device_word(f, off);
		return (uint8_t)(high ? w >> 8 : w);
	default:
		return high ? 0 : f->status;
	}
}

/* ---- host I/O ------------------------------------------------------------ */


/* Make [@off, @off + @len) of the file hold @data durably.  On failure,
 * write the bank's (unchanged) bytes back, best effort, so the file stays
 * what the guest last saw acknowledged. */
static int persist(struct cfi_flash *f, uint64_t off, const uint8_t *data,
		   size_t len)
{
	int err = fio_pwrite_all(f->fd, data, len, off);

	if (!err && fdatasync(f->fd))
		err = -errno;
	if (err) {
		log_guest("cfi-flash %s: writing %zu bytes at 0x%" PRIx64 " failed: %s",
			  f->name, len, off, strerror(-err));
		if (!fio_pwrite_all(f->fd, f->mem + off, len, off))
			(void)fdatasync(f->fd);
	}
	return err;
}

/* ---- operations (caller holds the lock) ---------------------------------- */

/* Program @len bytes at @off: bytes with @set[i] (all if NULL) become
 * old & data.  Returns the status error bits. */
static uint8_t program(struct cfi_flash *f, uint64_t off, const uint8_t *data,
		       const uint8_t *set, size_t len)
{
	uint8_t nb[CFI_FLASH_BUFFER_SIZE];

	if (f->readonly) {
		log_guest("cfi-flash %s: program at 0x%" PRIx64 " refused: read-only",
			  f->name, off);
		return CFI_SR_PROGRAM_ERR | CFI_SR_LOCKED;
	}
	for (size_t i = 0; i < len; i++)
		nb[i] = !set || set[i] ? f->mem[off + i] & data[i] :
					 f->mem[off + i];
	if (!memcmp(nb, f->mem + off, len))
		return 0;
	if (persist(f, off, nb, len))
		return CFI_SR_PROGRAM_ERR;
	memcpy(f->mem + off, nb, len);
	return 0;
}

static uint8_t erase(struct cfi_flash *f, uint64_t off)
{
	static const size_t chunk = 4096;
	uint64_t base = off & ~(uint64_t)(CFI_FLASH_SECTOR_SIZE - 1);
	uint8_t ff[4096];
	int err = 0;

	if (f->readonly) {
		log_guest("cfi-flash %s: erase at 0x%" PRIx64 " refused: read-only",
			  f->name, base);
		return CFI_SR_ERASE_ERR | CFI_SR_LOCKED;
	}
	memset(ff, 0xff, sizeof(ff));
	for (uint64_t o = 0; o < CFI_FLASH_SECTOR_SIZE && !err; o += chunk)
		err = fio_pwrite_all(f->fd, ff, chunk, base + o);
	if (!err && fdatasync(f->fd))
		err = -errno;
	if (err) {
		log_guest("cfi-flash %s: erasing 0x%" PRIx64 " failed: %s",
			  f->name, base, strerror(-err));
		if (!fio_pwrite_all(f->fd, f->mem + base, CFI_FLASH_SECTOR_SIZE,
				base))
			(void)fdatasync(f->fd);
		return CFI_SR_ERASE_ERR;
	}
	memset(f->mem + base, 0xff, CFI_FLASH_SECTOR_SIZE);
	return 0;
}

static bool in_window(uint64_t off, unsigned int len)
{
	return off / CFI_FLASH_BUFFER_SIZE ==
	       (off + len - 1) / CFI_FLASH_BUFFER_SIZE;
}

static void word_program(struct cfi_flash *f, uint64_t off,
			 const uint8_t *data, unsigned int len)
{
	if (!in_window(off, len)) {
		log_guest("cfi-flash %s: %u-byte program at 0x%" PRIx64 " crosses a %d-byte boundary",
			  f->name, len, off, CFI_FLASH_BUFFER_SIZE);
		finish(f, CFI_SR_PROGRAM_ERR);
		return;
	}
	finish(f, program(f, off, data, NULL, len));
}

static void buffer_count(struct cfi_flash *f, const uint8_t *data,
			 unsigned int len)
{
	/* The low device's word: both devices get the same count. */
	unsigned int n = (unsigned int)mmio_get(data, len < 2 ? len : 2) + 1;

	if (n > CFI_FLASH_BUFFER_WORDS) {
		log_guest("cfi-flash %s: buffered program of %u words (at most %d)",
			  f->name, n, CFI_FLASH_BUFFER_WORDS);
		finish(f, CFI_SR_SEQ_ERR);
		return;
	}
	f->buf_words = n;
	f->buf_seen = 0;
	f->buf_base = UINT64_MAX;
	f->buf_bad = false;
	memset(f->buf, 0xff, sizeof(f->buf));
	memset(f->buf_set, 0, sizeof(f->buf_set));
	set_state(f, ST_BUF_DATA);
}

/* One data write of a buffered program; bad ones are remembered and fail
 * the confirm, so the count of writes stays in step with the guest's. */
static void buffer_data(struct cfi_flash *f, uint64_t off, const uint8_t *data,
			unsigned int len)
{
	uint64_t sector = f->cmd_off / CFI_FLASH_SECTOR_SIZE;

	if (f->buf_base == UINT64_MAX)
		f->buf_base = off & ~(uint64_t)(CFI_FLASH_BUFFER_SIZE - 1);
	if (off / CFI_FLASH_SECTOR_SIZE != sector || off < f->buf_base ||
	    off + len > f->buf_base + CFI_FLASH_BUFFER_SIZE) {
		if (!f->buf_bad)
			log_guest("cfi-flash %s: buffered program data at 0x%" PRIx64 " (%u bytes) outside the buffer at 0x%" PRIx64,
				  f->name, off, len, f->buf_base);
		f->buf_bad = true;
	} else {
		memcpy(f->buf + (off - f->buf_base), data, len);
		memset(f->buf_set + (off - f->buf_base), 1, len);
	}
	if (++f->buf_seen == f->buf_words)
		set_state(f, ST_BUF_CONFIRM);
}

static void buffer_confirm(struct cfi_flash *f, uint8_t cmd)
{
	if (cmd != CMD_CONFIRM) {
		log_guest("cfi-flash %s: buffered program confirmed with 0x%02x",
			  f->name, cmd);
		finish(f, CFI_SR_SEQ_ERR);
	} else if (f->buf_bad) {
		finish(f, CFI_SR_PROGRAM_ERR);
	} else {
		finish(f, program(f, f->buf_base, f->buf, f->buf_set,
				  CFI_FLASH_BUFFER_SIZE));
	}
}

/* A write in a read mode: a new command. */
static void command(struct cfi_flash *f, uint64_t off, uint8_t cmd)
{
	f->cmd_off = off;
	switch (cmd) {
	case CMD_READ_ARRAY:
	case CMD_READ_ARRAY_QEMU:
	case CMD_AMD_RESET:
		set_state(f, ST_ARRAY);
		break;
	case CMD_READ_STATUS:
		set_state(f, ST_STATUS);
		break;
	case CMD_CLEAR_STATUS:
		f->status = CFI_SR_READY;
		set_state(f, ST_ARRAY);
		break;
	case CMD_READ_ID:
		set_state(f, ST_ID);
		break;
	case CMD_CFI_QUERY:
		set_state(f, ST_QUERY);
		break;
	case CMD_WORD_PROGRAM:
	case CMD_WORD_PROGRAM_ALT:
		set_state(f, ST_PROGRAM);
		break;
	case CMD_BUFFERED_PROGRAM:
		/* Status bit 7 now says the write buffer is free: it is. */
		f->status |= CFI_SR_READY;
		set_state(f, ST_BUF_COUNT);
		break;
	case CMD_BLOCK_ERASE:
		set_state(f, ST_ERASE);
		break;
	case CMD_LOCK_SETUP:
		set_state(f, ST_LOCK);
		break;
	default:
		log_guest("cfi-flash %s: unknown command 0x%02x at 0x%" PRIx64,
			  f->name, cmd, off);
		set_state(f, ST_ARRAY);
		break;
	}
}

static void write_locked(struct cfi_flash *f, uint64_t off,
			 const uint8_t *data, unsigned int len)
{
	uint8_t cmd = data[0];

	switch (f->state) {
	case ST_ARRAY:
	case ST_STATUS:
	case ST_ID:
	case ST_QUERY:
		command(f, off, cmd);
		break;
	case ST_PROGRAM:
		word_program(f, off, data, len);
		break;
	case ST_ERASE:
		if (cmd == CMD_CONFIRM) {
			finish(f, erase(f, f->cmd_off));
		} else {
			log_guest("cfi-flash %s: block erase confirmed with 0x%02x",
				  f->name, cmd);
			finish(f, CFI_SR_SEQ_ERR);
		}
		break;
	case ST_BUF_COUNT:
		buffer_count(f, data, len);
		break;
	case ST_BUF_DATA:
		buffer_data(f, off, data, len);
		break;
	case ST_BUF_CONFIRM:
		buffer_confirm(f, cmd);
		break;
	case ST_LOCK:
		if (cmd == CMD_LOCK_BLOCK || cmd == CMD_CONFIRM ||
		    cmd == CMD_LOCK_DOWN) {
			finish(f, 0);
		} else {
			log_guest("cfi-flash %s: lock setup followed by 0x%02x",
				  f->name, cmd);
			finish(f, CFI_SR_SEQ_ERR);
		}
		break;
	}
}

/* ---- device operations --------------------------------------------------- */

static bool access_ok(struct cfi_flash *f, uint64_t off, unsigned int len,
		      bool is_write)
{
	if ((len == 1 || len == 2 || len == 4 || len == 8) &&
	    off < f->dev.size && len <= f->dev.size - off)
		return true;
	log_guest("cfi-flash %s: %u-byte %s at +0x%" PRIx64 " ignored",
		  f->name, len, is_write ? "write" : "read", off);
	return false;
}

static void flash_mmio_read(struct rivet_dev *dev, uint64_t off,
			    uint8_t *data, unsigned int len)
{
	struct cfi_flash *f = to_flash(dev);

	if (!access_ok(f, off, len, false)) {
		memset(data, 0, len);
		return;
	}
	pthread_mutex_lock(&f->lock);
	if (f->state == ST_ARRAY) {
		memcpy(data, f->mem + off, len);
	} else {
		for (unsigned int i = 0; i < len; i++)
			data[i] = read_byte(f, off + i);
	}
	pthread_mutex_unlock(&f->lock);
}

static void flash_mmio_write(struct rivet_dev *dev, uint64_t off,
			     const uint8_t *data, unsigned int len)
{
	struct cfi_flash *f = to_flash(dev);

	if (!access_ok(f, off, len, true))
		return;
	pthread_mutex_lock(&f->lock);
	write_locked(f, off, data, len);
	pthread_mutex_unlock(&f->lock);
}

static int flash_fdt_node(struct rivet_dev *dev, struct fdt_ctx *ctx)
{
	struct cfi_flash *f = to_flash(dev);
	int off, err;

	if (f->paired_second)
		return 0;	/* described by bank 0's node */
	off = fdtu_add_soc_node(ctx, "flash", "cfi-flash", dev);
	if (off < 0)
		return off;
	err = 0;
	if (f->pair) {
		const struct rivet_dev *b1 = &f->pair->dev;
		uint64_t reg[4] = { cpu_to_fdt64(dev->base),
				    cpu_to_fdt64(dev->size),
				    cpu_to_fdt64(b1->base),
				    cpu_to_fdt64(b1->size) };

		err = fdt_setprop(ctx->fdt, off, "reg", reg, sizeof(reg));
	}
	if (!err)
		err = fdt_setprop_u32(ctx->fdt, off, "bank-width",
				      CFI_FLASH_BANK_WIDTH);
	return fdtu_errno(err);
}

static void flash_free(struct cfi_flash *f)
{
	if (f->mem)
		munmap(f->mem, f->dev.size);
	if (f->fd >= 0)
		close(f->fd);	/* also drops the flock */
	free(f->name);
	free(f);
}

static void flash_destroy(struct rivet_dev *dev)
{
	struct cfi_flash *f = to_flash(dev);

	pthread_mutex_destroy(&f->lock);
	flash_free(f);
}

/* ---- snapshots ----------------------------------------------------------- */

/* Record: bank size (u64, must match), state (u8, enum cfi_state), status
 * (u8), cmd_off (u64), buf_words, buf_seen (u8 each), buf_base (u64),
 * buf_bad (bool), buf[CFI_FLASH_BUFFER_SIZE], buf_set[...] (0/1 bytes).
 * The bank's contents are not in it: they are the file's. */
static int flash_snap_save(struct rivet_dev *dev, struct snap_w *w)
{
	struct cfi_flash *f = to_flash(dev);

	pthread_mutex_lock(&f->lock);
	snap_w_u64(w, f->dev.size);
	snap_w_u8(w, (uint8_t)f->state);
	snap_w_u8(w, f->status);
	snap_w_u64(w, f->cmd_off);
	snap_w_u8(w, (uint8_t)f->buf_words);
	snap_w_u8(w, (uint8_t)f->buf_seen);
	snap_w_u64(w, f->buf_base);
	snap_w_bool(w, f->buf_bad);
	snap_w_bytes(w, f->buf, sizeof(f->buf));
	snap_w_bytes(w, f->buf_set, sizeof(f->buf_set));
	pthread_mutex_unlock(&f->lock);
	return w->err;
}

/* What buffer_count() and buffer_data() can leave behind; in the two
 * buffered-program states the buffer must be in use (the confirm programs
 * at buf_base). */
static bool buf_ok(const struct cfi_flash *f, const struct cfi_flash *n)
{
	bool based = n->buf_base != UINT64_MAX;

	if (n->buf_words > CFI_FLASH_BUFFER_WORDS ||
	    n->buf_seen > n->buf_words ||
	    (based && (n->buf_base % CFI_FLASH_BUFFER_SIZE ||
		       n->buf_base >= f->dev.size)))
		return false;
	for (size_t i = 0; i < sizeof(n->buf_set); i++)
		if (n->buf_set[i] > 1)
			return false;
	if (n->state == ST_BUF_DATA)
		return n->buf_seen < n->buf_words && based == !!n->buf_seen;
	if (n->state == ST_BUF_CONFIRM)
		return n->buf_seen == n->buf_words && n->buf_words && based;
	return true;
}

static int flash_snap_load(struct rivet_dev *dev, struct snap_r *r)
{
	struct cfi_flash *f = to_flash(dev), *n;
	uint8_t state;

	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	snap_r_check(r, snap_r_u64(r) == f->dev.size,
		     "cfi-flash: another bank size");
	state = snap_r_u8(r);
	n->state = state <= ST_LOCK ? (enum cfi_state)state : ST_ARRAY;
	n->status = snap_r_u8(r);
	n->cmd_off = snap_r_u64(r);
	n->buf_words = snap_r_u8(r);
	n->buf_seen = snap_r_u8(r);
	n->buf_base = snap_r_u64(r);
	n->buf_bad = snap_r_bool(r);
	snap_r_bytes(r, n->buf, sizeof(n->buf));
	snap_r_bytes(r, n->buf_set, sizeof(n->buf_set));
	snap_r_check(r, state <= ST_LOCK, "cfi-flash: unknown state");
	/* Ready is always set; the rest are the error bits finish() sets. */
	snap_r_check(r, n->status & CFI_SR_READY &&
			 !(n->status & ~(CFI_SR_READY | CFI_SR_SEQ_ERR |
					 CFI_SR_LOCKED)),
		     "cfi-flash: status register");
	snap_r_check(r, n->cmd_off < f->dev.size,
		     "cfi-flash: command address outside the bank");
	snap_r_check(r, buf_ok(f, n), "cfi-flash: write buffer");
	if (snap_r_finish(r)) {
		free(n);
		return -EBADMSG;
	}
	pthread_mutex_lock(&f->lock);
	f->status = n->status;
	f->cmd_off = n->cmd_off;
	f->buf_words = n->buf_words;
	f->buf_seen = n->buf_seen;
	f->buf_base = n->buf_base;
	f->buf_bad = n->buf_bad;
	memcpy(f->buf, n->buf, sizeof(f->buf));
	memcpy(f->buf_set, n->buf_set, sizeof(f->buf_set));
	/* Out of read-array mode the board takes the ROM slot away
	 * (mode_fn); set_state() tells it, as a command would. */
	set_state(f, n->state);
	pthread_mutex_unlock(&f->lock);
	free(n);
	return 0;
}

static const struct dev_ops cfi_flash_ops = {
	.name = "cfi-flash",
	.mmio_read = flash_mmio_read,
	.mmio_write = flash_mmio_write,
	.fdt_node = flash_fdt_node,
	.destroy = flash_destroy,
	.save = flash_snap_save,
	.load = flash_snap_load,
};

/* ---- creation ------------------------------------------------------------ */

/* Lock, check and size the file behind f->fd. */
static int flash_probe(struct cfi_flash *f, uint64_t *file_size)
{
	struct stat st;
	off_t size;
	int err;

	if (flock(f->fd, (f->readonly ? LOCK_SH : LOCK_EX) | LOCK_NB)) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		log_err("cfi-flash: %s: cannot lock: %s", f->name,
			err == -EBUSY ? "in use by another process" :
					strerror(-err));
		return err;
	}
	if (fstat(f->fd, &st)) {
		err = -errno;
		log_err("cfi-flash: %s: cannot stat: %s", f->name,
			strerror(-err));
		return err;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		log_err("cfi-flash: %s: not a regular file or block device",
			f->name);
		return -EINVAL;
	}
	size = lseek(f->fd, 0, SEEK_END);
	if (size < 0) {
		err = -errno;
		log_err("cfi-flash: %s: cannot get size: %s", f->name,
			strerror(-err));
		return err;
	}
	if ((uint64_t)size > f->dev.size) {
		log_err("cfi-flash: %s: %lld bytes do not fit the %" PRIu64 "-byte flash bank",
			f->name, (long long)size, f->dev.size);
		return -EFBIG;
	}
	if (!f->readonly && (uint64_t)size != f->dev.size) {
		log_err("cfi-flash: %s: a writable flash file must be exactly %" PRIu64 " bytes, not %lld",
			f->name, f->dev.size, (long long)size);
		return -EINVAL;
	}
	*file_size = (uint64_t)size;
	return 0;
}

static int flash_load(struct cfi_flash *f, uint64_t file_size)
{
	void *p;
	int err;

	p = mmap(NULL, f->dev.size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		log_err("cfi-flash: %s: cannot allocate %" PRIu64 " bytes: %s",
			f->name, f->dev.size, strerror(-err));
		return err;
	}
	f->mem = p;
	err = fio_pread_all(f->fd, f->mem, file_size, 0);
	if (err) {
		log_err("cfi-flash: %s: cannot read: %s", f->name,
			strerror(-err));
		return err;
	}
	memset(f->mem + file_size, 0xff, f->dev.size - file_size);
	/* Nothing writes a read-only bank: make sure of it. */
	if (f->readonly && mprotect(f->mem, f->dev.size, PROT_READ)) {
		err = -errno;
		log_err("cfi-flash: %s: mprotect: %s", f->name,
			strerror(-err));
		return err;
	}
	return 0;
}

static bool geometry_ok(uint64_t base, uint64_t size)
{
	return size >= CFI_FLASH_SECTOR_SIZE && size <= CFI_FLASH_MAX_SIZE &&
	       !(size & (size - 1)) && !(base & 4095) &&
	       size - 1 <= UINT64_MAX - base;
}

int cfi_flash_create_fd(uint64_t base, uint64_t size, int fd,
			const char *name, bool readonly,
			struct rivet_dev **out)
{
	struct cfi_flash *f = NULL;
	uint64_t file_size = 0;
	int err = -EINVAL;

	if (fd < 0 || !name || !out)
		goto fail;
	if (!geometry_ok(base, size)) {
		log_err("cfi-flash: %s: bad bank 0x%" PRIx64 "+0x%" PRIx64 " (page-aligned, a power of two of 256 KiB to 1 GiB)",
			name, base, size);
		goto fail;
	}
	err = -ENOMEM;
	f = calloc(1, sizeof(*f));
	if (!f)
		goto fail;
	f->fd = fd;
	fd = -1;
	f->name = strdup(name);
	if (!f->name)
		goto fail;
	f->readonly = readonly;
	f->dev = (struct rivet_dev){ .ops = &cfi_flash_ops, .base = base,
				     .size = size, .priv = f };
	err = flash_probe(f, &file_size);
	if (!err)
		err = flash_load(f, file_size);
	if (err)
		goto fail;
	err = -pthread_mutex_init(&f->lock, NULL);
	if (err)
		goto fail;
	fill_cfi_table(f->cfi, size);
	f->reported_array = true;
	reset_locked(f);
	*out = &f->dev;
	return 0;
fail:
	if (f)
		flash_free(f);
	if (fd >= 0)
		close(fd);
	return err;
}

int cfi_flash_create(uint64_t base, uint64_t size, const char *path,
		     bool readonly, struct rivet_dev **out)
{
	int fd;

	if (!path || !out)
		return -EINVAL;
	fd = fio_open("cfi-flash", path, readonly);
	if (fd < 0)
		return fd;
	return cfi_flash_create_fd(base, size, fd, path, readonly, out);
}

/* ---- board helpers ------------------------------------------------------- */

int cfi_flash_pair(struct rivet_dev *bank0, struct rivet_dev *bank1)
{
	struct cfi_flash *f0 = flash_of(bank0), *f1 = flash_of(bank1);

	if (!f0 || !f1 || f0 == f1 || f0->pair || f0->paired_second ||
	    f1->pair || f1->paired_second || bank1->base < bank0->base)
		return -EINVAL;
	f0->pair = f1;
	f1->paired_second = true;
	return 0;
}

int cfi_flash_set_mode_cb(struct rivet_dev *dev, cfi_flash_mode_fn fn,
			  void *opaque)
{
	struct cfi_flash *f = flash_of(dev);
	int array;

	if (!f)
		return -EINVAL;
	pthread_mutex_lock(&f->lock);
	f->mode_fn = fn;
	f->mode_opaque = opaque;
	array = f->state == ST_ARRAY;
	f->reported_array = array;
	pthread_mutex_unlock(&f->lock);
	return array;
}

int cfi_flash_host_mapping(struct rivet_dev *dev, void **host,
			   uint64_t *size, bool *rom_mode)
{
	struct cfi_flash *f = flash_of(dev);

	if (!f)
		return -EINVAL;
	pthread_mutex_lock(&f->lock);
	if (host)
		*host = f->mem;
	if (size)
		*size = f->dev.size;
	if (rom_mode)
		*rom_mode = f->state == ST_ARRAY;
	pthread_mutex_unlock(&f->lock);
	return 0;
}
