// SPDX-License-Identifier: MIT
/* Fuzz target: the CFI-01 NOR flash as a guest drives it -- reads and
 * writes of any width and offset (also past the end and of odd widths),
 * commands, EDK2-like buffered programs with fuzzed counts, addresses and
 * confirms, resets -- with host I/O faults injected under it (/dev/full,
 * a read-only fd, /dev/null whose fdatasync fails).
 *
 * Input: [u8 cfg][ops...]; cfg bit 0: read-only bank.  Ops (u8 mod
 * FZ_CFI_NR_OPS), offsets u32 mod (bank + 16):
 *   READ    [u8 sel][u32 off]          sel bits 0-1: width 1/2/4/8,
 *                                      bit 2: width 3 (refused)
 *   WRITE   [u8 sel][u32 off][u64 v]
 *   CMD     [u8 cmd][u32 off]          the command in both halves (EDK2)
 *   BUFFER  [u32 off][u8 n][u8 confirm][n x u32]: 0xe8, count n-1,
 *           n 32-bit data writes from off on, confirm (0xd0 when the
 *           byte is odd, else the byte)
 *   FAULT   [u8 kind]                  0 healthy, 1 /dev/full, 2 read-only
 *                                      fd, 3 /dev/null
 *   RESET
 *
 * Checked against a model of the bank written from cfi_flash.h: every
 * read's bytes (array contents, status, identifier, the query fields that
 * matter), the mode callback (called exactly on changes, agreeing with
 * the model), and at the end of each input that the host mapping, the
 * backing file and the model hold the same bytes. */
#include "fuzz.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/device.h"
#include "devices/cfi_flash.h"
#include "tests/support/files.h"

#define BANK		(2 * CFI_FLASH_SECTOR_SIZE)
#define SECTOR		CFI_FLASH_SECTOR_SIZE
#define WIN		CFI_FLASH_BUFFER_SIZE
#define BASE		0x22000000ULL

enum fz_cfi_op {
	FZ_CFI_READ,
	FZ_CFI_WRITE,
	FZ_CFI_CMD,
	FZ_CFI_BUFFER,
	FZ_CFI_FAULT,
	FZ_CFI_RESET,
	FZ_CFI_NR_OPS
};

enum mstate { M_ARRAY, M_STATUS, M_ID, M_QUERY, M_PROGRAM, M_ERASE,
	      M_BUF_COUNT, M_BUF_DATA, M_BUF_CONFIRM, M_LOCK };

struct model {
	uint8_t mem[BANK];
	bool ro;
	bool faulty;		/* the device's fd cannot take writes */
	enum mstate st;
	uint8_t sr;
	uint64_t cmd_off;
	unsigned int words, seen;
	uint64_t base;
	bool bad;
	uint8_t buf[WIN], set[WIN];
};

static struct model m;
static int memfd = -1;
static int devfd = -1;
static bool cb_array;		/* what the callback said last */
static unsigned long cb_calls;

static uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off * 29 + (off >> 7));
}

static void mode_cb(void *opaque, bool array)
{
	(void)opaque;
	FUZZ_CHECK(array != cb_array);	/* only changes are reported */
	cb_array = array;
	cb_calls++;
}

/* ---- the model ----------------------------------------------------------- */

static void m_finish(uint8_t bits)
{
	m.sr |= 0x80 | bits;
	m.st = M_STATUS;
}

static uint8_t m_program(uint64_t off, const uint8_t *data, const uint8_t *set,
			 size_t len)
{
	uint8_t nb[WIN];

	if (m.ro)
		return 0x12;
	for (size_t i = 0; i < len; i++)
		nb[i] = !set || set[i] ? m.mem[off + i] & data[i] :
					 m.mem[off + i];
	if (!memcmp(nb, m.mem + off, len))
		return 0;
	if (m.faulty)
		return 0x10;
	memcpy(m.mem + off, nb, len);
	return 0;
}

static void m_command(uint64_t off, uint8_t c)
{
	m.cmd_off = off;
	switch (c) {
	case 0x70: m.st = M_STATUS; break;
	case 0x50: m.sr = 0x80; m.st = M_ARRAY; break;
	case 0x90: m.st = M_ID; break;
	case 0x98: m.st = M_QUERY; break;
	case 0x10: case 0x40: m.st = M_PROGRAM; break;
	case 0xe8: m.sr |= 0x80; m.st = M_BUF_COUNT; break;
	case 0x20: m.st = M_ERASE; break;
	case 0x60: m.st = M_LOCK; break;
	default: m.st = M_ARRAY; break;	/* 0xff, 0x00, 0xf0, unknown */
	}
}

static void m_write(uint64_t off, const uint8_t *d, unsigned int len)
{
	uint64_t sb;

	switch (m.st) {
	case M_ARRAY: case M_STATUS: case M_ID: case M_QUERY:
		m_command(off, d[0]);
		break;
	case M_PROGRAM:
		if (off / WIN != (off + len - 1) / WIN)
			m_finish(0x10);
		else
			m_finish(m_program(off, d, NULL, len));
		break;
	case M_ERASE:
		if (d[0] != 0xd0) {
			m_finish(0x30);
		} else if (m.ro) {
			m_finish(0x22);
		} else if (m.faulty) {
			m_finish(0x20);
		} else {
			sb = m.cmd_off / SECTOR * SECTOR;
			memset(m.mem + sb, 0xff, SECTOR);
			m_finish(0);
		}
		break;
	case M_BUF_COUNT:
		m.words = (unsigned int)(d[0] | (len > 1 ? d[1] << 8 : 0)) + 1;
		if (m.words > WIN / 4) {
			m_finish(0x30);
			break;
		}
		m.seen = 0;
		m.base = UINT64_MAX;
		m.bad = false;
		memset(m.buf, 0xff, WIN);
		memset(m.set, 0, WIN);
		m.st = M_BUF_DATA;
		break;
	case M_BUF_DATA:
		if (m.base == UINT64_MAX)
			m.base = off / WIN * WIN;
		if (off / SECTOR != m.cmd_off / SECTOR || off < m.base ||
		    off + len > m.base + WIN) {
			m.bad = true;
		} else {
			memcpy(m.buf + (off - m.base), d, len);
			memset(m.set + (off - m.base), 1, len);
		}
		if (++m.seen == m.words)
			m.st = M_BUF_CONFIRM;
		break;
	case M_BUF_CONFIRM:
		if (d[0] != 0xd0)
			m_finish(0x30);
		else if (m.bad)
			m_finish(0x10);
		else
			m_finish(m_program(m.base, m.buf, m.set, WIN));
		break;
	case M_LOCK:
		m_finish(d[0] == 0x01 || d[0] == 0xd0 || d[0] == 0x2f ? 0 :
								0x30);
		break;
	}
}

static const uint8_t qry_fixed[][2] = {
	{ 0x10, 'Q' }, { 0x11, 'R' }, { 0x12, 'Y' }, { 0x13, 0x01 },
	{ 0x14, 0x00 }, { 0x15, 0x31 }, { 0x16, 0x00 }, { 0x27, 18 },
	{ 0x2a, 6 }, { 0x2c, 1 }, { 0x2d, 1 }, { 0x2e, 0 }, { 0x2f, 0x00 },
	{ 0x30, 0x02 }, { 0x31, 'P' }, { 0x32, 'R' }, { 0x33, 'I' },
};

/* The expected byte, or -1 when the model does not pin it down. */
static int m_read_byte(uint64_t off)
{
	uint64_t q = off / 4;
	unsigned int v;

	if (m.st == M_ARRAY)
		return m.mem[off];
	if (m.st == M_ID) {
		switch (q % (SECTOR / 4)) {
		case 0: v = 0x89; break;
		case 1: v = 0x18; break;
		case 2: v = m.ro ? 3 : 0; break;
		default: v = 0; break;
		}
		return off & 1 ? 0 : (int)v;
	}
	if (m.st == M_QUERY) {
		if (off & 1)
			return 0;
		if (q >= 0x44 || q < 0x10)
			return 0;
		for (size_t i = 0; i < sizeof(qry_fixed) / 2; i++)
			if (qry_fixed[i][0] == q)
				return qry_fixed[i][1];
		return -1;
	}
	return off & 1 ? 0 : m.sr;
}

/* ---- the device under test ----------------------------------------------- */

static bool access_valid(uint64_t off, unsigned int len)
{
	return (len == 1 || len == 2 || len == 4 || len == 8) &&
	       off < BANK && len <= BANK - off;
}

static void do_read(struct rivet_dev *d, uint64_t off, unsigned int len)
{
	uint8_t b[8];

	memset(b, 0xa5, sizeof(b));
	d->ops->mmio_read(d, off, b, len);
	for (unsigned int i = 0; i < len; i++) {
		int want = access_valid(off, len) ? m_read_byte(off + i) : 0;

		if (want >= 0)
			FUZZ_CHECK(b[i] == want);
	}
}

static void do_write(struct rivet_dev *d, uint64_t off, uint64_t v,
		     unsigned int len)
{
	uint8_t b[8];

	mmio_put(b, len, v);
	d->ops->mmio_write(d, off, b, len);
	if (access_valid(off, len))
		m_write(off, b, len);
}

static void set_fault(unsigned int kind)
{
	static const char *const paths[] = { NULL, "/dev/full", NULL,
					     "/dev/null" };
	char self[64];
	int fd;

	snprintf(self, sizeof(self), "/proc/self/fd/%d", memfd);
	kind %= 4;
	if (kind == 0 || kind == 2)
		fd = open(self, kind ? O_RDONLY : O_RDWR);
	else
		fd = open(paths[kind], O_RDWR);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(dup2(fd, devfd) == devfd);
	close(fd);
	m.faulty = kind != 0;
}

static void check_end(struct rivet_dev *d)
{
	static uint8_t file[BANK];
	void *host;
	uint64_t size;
	bool rom;

	FUZZ_CHECK(cfi_flash_host_mapping(d, &host, &size, &rom) == 0);
	FUZZ_CHECK(size == BANK);
	FUZZ_CHECK(rom == (m.st == M_ARRAY));
	FUZZ_CHECK(rom == cb_array);
	FUZZ_CHECK(pread(memfd, file, BANK, 0) == BANK);
	FUZZ_CHECK(!memcmp(host, m.mem, BANK));
	FUZZ_CHECK(!memcmp(file, m.mem, BANK));
}

/* The bank over the memfd, in read-array mode with our callback: at the
 * start and at every "reset" (the next boot is a fresh device over the same
 * file). */
static struct rivet_dev *open_flash(void)
{
	struct rivet_dev *d;
	char self[64];

	/* A file description of its own, so its flock goes with it. */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", memfd);
	devfd = open(self, m.ro ? O_RDONLY : O_RDWR);
	FUZZ_CHECK(devfd >= 0);
	FUZZ_CHECK(cfi_flash_create_fd(BASE, BANK, devfd, "fuzz", m.ro,
				       &d) == 0);
	m.sr = 0x80;
	m.st = M_ARRAY;
	cb_array = true;
	FUZZ_CHECK(cfi_flash_set_mode_cb(d, mode_cb, NULL) == 1);
	return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned int widths[4] = { 1, 2, 4, 8 };
	static uint8_t initial[BANK];
	static bool init;
	struct fin in = { data, size };
	struct rivet_dev *d;
	uint8_t sel;
	uint64_t off;

	fuzz_quiet();
	ts_memfd(&memfd, "fuzz-cfi-flash", BANK);
	if (!init) {
		for (uint64_t i = 0; i < BANK; i++)
			initial[i] = pattern(i);
		init = true;
	}
	memset(&m, 0, sizeof(m));
	memcpy(m.mem, initial, BANK);
	FUZZ_CHECK(pwrite(memfd, m.mem, BANK, 0) == BANK);
	m.ro = fin_u8(&in) & 1;
	cb_calls = 0;
	d = open_flash();

	while (in.left) {
		unsigned int n, len;
		uint8_t c;

		switch (fin_u8(&in) % FZ_CFI_NR_OPS) {
		case FZ_CFI_READ:
			sel = fin_u8(&in);
			off = fin_u32(&in) % (BANK + 16);
			do_read(d, off, sel & 4 ? 3 : widths[sel & 3]);
			break;
		case FZ_CFI_WRITE:
			sel = fin_u8(&in);
			off = fin_u32(&in) % (BANK + 16);
			len = sel & 4 ? 3 : widths[sel & 3];
			do_write(d, off, fin_u64(&in), len);
			break;
		case FZ_CFI_CMD:
			c = fin_u8(&in);
			off = fin_u32(&in) % (BANK + 16);
			do_write(d, off, (uint32_t)c << 16 | c, 4);
			break;
		case FZ_CFI_BUFFER:
			off = fin_u32(&in) % (BANK + 16);
			n = fin_u8(&in) % 40 + 1;
			c = fin_u8(&in);
			do_write(d, off, 0x00e800e8, 4);
			do_read(d, off, 4);
			do_write(d, off, (n - 1) << 16 | (n - 1), 4);
			for (unsigned int i = 0; i < n; i++)
				do_write(d, off + 4 * i, fin_u32(&in), 4);
			if (c & 1)
				c = 0xd0;
			do_write(d, 0, (uint32_t)c << 16 | c, 4);
			do_read(d, 0, 4);
			break;
		case FZ_CFI_FAULT:
			set_fault(fin_u8(&in));
			break;
		case FZ_CFI_RESET:
			/* The next boot sees what reached the file (a fault
			 * may have lost writes) through a healthy fd. */
			d->ops->destroy(d);
			FUZZ_CHECK(pread(memfd, m.mem, BANK, 0) == BANK);
			m.faulty = false;
			d = open_flash();
			break;
		}
		FUZZ_CHECK(cb_array == (m.st == M_ARRAY));
	}
	if (m.faulty)
		set_fault(0);
	check_end(d);
	d->ops->destroy(d);
	devfd = -1;
	return 0;
}
