// SPDX-License-Identifier: MIT
/* Fuzz target: the fw_cfg device as a hostile guest drives it: register
 * accesses of any width at any offset, DMA descriptors anywhere (inside
 * RAM, straddling it, wrapping, above 4 GiB), any control bits, lengths and
 * addresses, RAM rewritten between transfers, resets.
 *
 * Checked against a model of docs/specs/fw_cfg.rst kept alongside: every
 * data register read returns exactly the model's bytes, the DMA register
 * reads "QEMU CFG", the rest zeros; after every operation all of guest RAM
 * equals the model's copy (a transfer writes only its target and the
 * descriptor's control word, and only when it may) and the writable file
 * holds what the model says.  The directory read at start-up is sorted
 * and lists every file with its key and size. */
#include "fuzz.h"

#include "core/device.h"
#include "fwcfg/fwcfg.h"
#include "tests/support/fwcfg_peek.h"

#define WIN		FWCFG_MMIO_SIZE
#define RO_LEN		16
#define BOOT_LEN	9
#define KERNEL_LEN	40

struct item {
	const uint8_t *data;
	uint32_t len;
	bool writable;
};

struct model {
	struct gmem gm;			/* the device's view of RAM */
	uint8_t ram[FZ_FC_RAM_SIZE];	/* what RAM must hold */
	struct rivet_dev *dev;
	bool kernel;
	uint16_t key;			/* selected, bit 14 cleared */
	uint32_t offset;
	uint64_t high;			/* latched DMA address */
	/* the items' contents */
	uint8_t id[4], dir[4 + 3 * 64], ro[RO_LEN], boot[BOOT_LEN];
	uint8_t w[31], w_orig[31], size_le[3][4], kern[KERNEL_LEN];
	uint32_t w_len;
	char cmdline[16];
};

static struct item lookup(struct model *m, uint16_t key)
{
	struct item none = { NULL, 0, false };

	switch (key) {
	case FWCFG_SIGNATURE:
		return (struct item){ (const uint8_t *)"QEMU", 4, false };
	case FWCFG_ID:
		return (struct item){ m->id, 4, false };
	case FWCFG_FILE_DIR:
		return (struct item){ m->dir, sizeof(m->dir), false };
	case 0x20:
		return (struct item){ m->ro, RO_LEN, false };
	case 0x21:
		return (struct item){ m->w, m->w_len, true };
	case 0x22:
		return (struct item){ m->boot, BOOT_LEN, false };
	}
	if (!m->kernel)
		return none;
	switch (key) {
	case FWCFG_KERNEL_SIZE:
		return (struct item){ m->size_le[0], 4, false };
	case FWCFG_KERNEL_DATA:
		return (struct item){ m->kern, KERNEL_LEN, false };
	case FWCFG_INITRD_SIZE:
		return (struct item){ m->size_le[1], 4, false };
	case FWCFG_INITRD_DATA:
		return (struct item){ m->kern, 3, false };
	case FWCFG_CMDLINE_SIZE:
		return (struct item){ m->size_le[2], 4, false };
	case FWCFG_CMDLINE_DATA:
		return (struct item){ (const uint8_t *)m->cmdline,
				      (uint32_t)strlen(m->cmdline) + 1, false };
	}
	return none;
}

static void select_key(struct model *m, uint16_t key)
{
	m->key = key & (uint16_t)~FWCFG_WRITE_CHANNEL;
	m->offset = 0;
}

static bool in_ram(const struct model *m, uint64_t gpa, uint64_t len)
{
	return gpa >= m->gm.base && gpa - m->gm.base <= FZ_FC_RAM_SIZE &&
	       len <= FZ_FC_RAM_SIZE - (gpa - m->gm.base);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* What a transfer through the descriptor at @desc does to the model. */
static void model_dma(struct model *m, uint64_t desc)
{
	uint32_t control, len, left, n;
	uint8_t *d;
	uint64_t gpa;
	struct item it;
	bool ok = true;

	m->high = 0;
	if (!in_ram(m, desc, 16))
		return;
	d = m->ram + (desc - m->gm.base);
	control = be32(d);
	len = be32(d + 4);
	gpa = (uint64_t)be32(d + 8) << 32 | be32(d + 12);
	if (control & FWCFG_DMA_SELECT)
		select_key(m, (uint16_t)(control >> 16));
	it = lookup(m, m->key);
	left = it.len - m->offset;
	n = len < left ? len : left;
	if (control & FWCFG_DMA_READ) {
		if (len && !in_ram(m, gpa, len)) {
			ok = false;
		} else if (len) {
			uint8_t *dst = m->ram + (gpa - m->gm.base);

			if (n)
				memcpy(dst, it.data + m->offset, n);
			memset(dst + n, 0, len - n);
			m->offset += n;
		}
	} else if (control & FWCFG_DMA_WRITE) {
		if (len && (!it.writable || len > left ||
			    !in_ram(m, gpa, len))) {
			ok = false;
		} else if (len) {
			memcpy(m->w + m->offset, m->ram + (gpa - m->gm.base),
			       len);
			m->offset += len;
		}
	} else if (control & FWCFG_DMA_SKIP) {
		m->offset += n;
	}
	memset(d, 0, 4);
	if (!ok)
		d[3] = FWCFG_DMA_ERROR;
}

static uint64_t be_value(const uint8_t *b, unsigned int len)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < len; i++)
		v = v << 8 | b[i];
	return v;
}

static void guest_access(struct model *m, struct fin *in, bool is_write)
{
	uint8_t sel = fin_u8(in), o = fin_u8(in), buf[8], want[8];
	unsigned int len = 1u << (sel & 3);
	uint64_t off = o;

	if (!(sel & 4)) {
		off = o % WIN;
		if (off + len > WIN)
			off = WIN - len;
	}
	if (is_write) {
		uint64_t v = fin_u64(in);
		bool fits = off + len <= WIN;

		for (unsigned int i = 0; i < 8; i++)
			buf[i] = (uint8_t)(v >> (8 * i));
		m->dev->ops->mmio_write(m->dev, off, buf, len);
		if (!fits)
			return;
		if (off == FWCFG_REG_SELECTOR && len == 2) {
			select_key(m, (uint16_t)be_value(buf, 2));
		} else if (off == FWCFG_REG_DMA && len == 4) {
			m->high = be_value(buf, 4) << 32;
		} else if (off == FWCFG_REG_DMA + 4 && len == 4) {
			model_dma(m, m->high | be_value(buf, 4));
		} else if (off == FWCFG_REG_DMA && len == 8) {
			model_dma(m, be_value(buf, 8));
		}
		return;
	}
	memset(want, 0, sizeof(want));
	if (off + len > WIN) {
		/* outside the contract: refused, zeros */
	} else if (off == FWCFG_REG_DATA) {
		struct item it = lookup(m, m->key);

		for (unsigned int i = 0; i < len && m->offset < it.len; i++)
			want[i] = it.data[m->offset++];
	} else if (off >= FWCFG_REG_DMA) {
		memcpy(want, &"QEMU CFG"[off - FWCFG_REG_DMA], len);
	}
	memset(buf, 0xa5, sizeof(buf));
	m->dev->ops->mmio_read(m->dev, off, buf, len);
	FUZZ_CHECK(!memcmp(buf, want, len));
	for (unsigned int i = len; i < sizeof(buf); i++)
		FUZZ_CHECK(buf[i] == 0xa5);	/* exactly its width */
}

static void put_be(uint8_t *p, uint64_t v, unsigned int len)
{
	for (unsigned int i = 0; i < len; i++)
		p[i] = (uint8_t)(v >> (8 * (len - 1 - i)));
}

static void kick(struct model *m, uint64_t desc, bool wide)
{
	uint8_t b[8];

	if (wide) {
		put_be(b, desc, 8);
		m->dev->ops->mmio_write(m->dev, FWCFG_REG_DMA, b, 8);
		model_dma(m, desc);
		return;
	}
	put_be(b, desc >> 32, 4);
	m->dev->ops->mmio_write(m->dev, FWCFG_REG_DMA, b, 4);
	m->high = desc & ~0xffffffffULL;
	put_be(b, desc, 4);
	m->dev->ops->mmio_write(m->dev, FWCFG_REG_DMA + 4, b, 4);
	model_dma(m, m->high | (uint32_t)desc);
}

static void dma_op(struct model *m, struct fin *in)
{
	uint8_t mode = fin_u8(in), d[16];
	uint64_t desc, gpa;
	uint32_t control, len;

	desc = mode & 4 ? fin_u64(in) : m->gm.base + fin_u16(in);
	control = fin_u32(in);
	len = fin_u32(in);
	gpa = mode & 2 ? fin_u64(in) : m->gm.base + fin_u16(in);
	put_be(d, control, 4);
	put_be(d + 4, len, 4);
	put_be(d + 8, gpa, 8);
	if (in_ram(m, desc, 16)) {
		memcpy(m->gm.host + (desc - m->gm.base), d, 16);
		memcpy(m->ram + (desc - m->gm.base), d, 16);
	}
	kick(m, desc, mode & 1);
}

static void poke(struct model *m, struct fin *in)
{
	uint16_t off = fin_u16(in);
	uint8_t len = fin_u8(in);

	size_t n;

	/* A u16 offset is always inside the 64 KiB of RAM. */
	fuzz_ram_poke(&m->gm, in, off, len);
	n = len < FZ_FC_RAM_SIZE - off ? len : FZ_FC_RAM_SIZE - off;
	memcpy(m->ram + off, m->gm.host + off, n);
}

/* The directory must list the three files, sorted, with keys and sizes. */
static void check_dir(struct model *m)
{
	static const char *const names[3] = { "bootorder", "etc/ro", "etc/w" };
	const uint16_t keys[3] = { 0x22, 0x20, 0x21 };
	const uint32_t sizes[3] = { BOOT_LEN, RO_LEN, m->w_len };

	FUZZ_CHECK(be32(m->dir) == 3);
	for (int i = 0; i < 3; i++) {
		const uint8_t *e = m->dir + 4 + 64 * i;

		FUZZ_CHECK(be32(e) == sizes[i]);
		FUZZ_CHECK((e[4] << 8 | e[5]) == keys[i] && !e[6] && !e[7]);
		FUZZ_CHECK(!strncmp((const char *)e + 8, names[i], 56));
	}
}

static void setup(struct model *m, uint8_t cfg)
{
	uint8_t sel[2] = { 0, FWCFG_FILE_DIR };

	m->kernel = cfg & FZ_FC_CFG_KERNEL;
	m->w_len = cfg & 0x1f;
	for (int i = 0; i < RO_LEN; i++)
		m->ro[i] = (uint8_t)('a' + i);
	memcpy(m->boot, "/virtio\n", BOOT_LEN);
	for (uint32_t i = 0; i < sizeof(m->w); i++)
		m->w[i] = m->w_orig[i] = (uint8_t)(0xc0 + i);
	for (int i = 0; i < KERNEL_LEN; i++)
		m->kern[i] = (uint8_t)(i * 13);
	strcpy(m->cmdline, "console=ttyS0");
	m->id[0] = 3;
	m->size_le[0][0] = KERNEL_LEN;
	m->size_le[1][0] = 3;
	m->size_le[2][0] = (uint8_t)(strlen(m->cmdline) + 1);

	FUZZ_CHECK(fwcfg_create(&m->gm, FZ_FC_BASE, &m->dev) == 0);
	FUZZ_CHECK(fwcfg_add_file(m->dev, "etc/ro", m->ro, RO_LEN, false) ==
		   0);
	FUZZ_CHECK(fwcfg_add_file(m->dev, "etc/w", m->w, m->w_len, true) ==
		   0);
	FUZZ_CHECK(fwcfg_add_file(m->dev, "bootorder", m->boot, BOOT_LEN,
				  false) == 0);
	if (m->kernel) {
		FUZZ_CHECK(fwcfg_set_kernel(m->dev, m->kern, KERNEL_LEN) == 0);
		FUZZ_CHECK(fwcfg_set_initrd(m->dev, m->kern, 3) == 0);
		FUZZ_CHECK(fwcfg_set_cmdline(m->dev, m->cmdline) == 0);
	}
	/* Read the directory the way firmware does, 8 bytes at a time. */
	m->dev->ops->mmio_write(m->dev, FWCFG_REG_SELECTOR, sel, 2);
	for (size_t i = 0; i < sizeof(m->dir); i += 4)
		m->dev->ops->mmio_read(m->dev, FWCFG_REG_DATA, m->dir + i, 4);
	check_dir(m);
	sel[1] = FWCFG_SIGNATURE;
	m->dev->ops->mmio_write(m->dev, FWCFG_REG_SELECTOR, sel, 2);
}

static void check_state(struct model *m)
{
	uint8_t w[32];

	FUZZ_CHECK(!memcmp(m->gm.host, m->ram, FZ_FC_RAM_SIZE));
	FUZZ_CHECK(fwcfg_read_file(m->dev, "etc/w", w, sizeof(w)) ==
		   (long)m->w_len);
	FUZZ_CHECK(!memcmp(w, m->w, m->w_len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct model m;
	struct fin in = { data, size };
	struct gmem *ram;
	uint8_t cfg;

	fuzz_quiet();
	memset(&m, 0, sizeof(m));
	cfg = fin_u8(&in);
	ram = fuzz_ram(FZ_RAM_BASE, FZ_FC_RAM_SIZE);
	fuzz_ram_fill(ram, &in);
	m.gm = *ram;
	if (cfg & FZ_FC_CFG_HIGH)
		m.gm.base = FZ_FC_RAM_HIGH;
	memcpy(m.ram, ram->host, FZ_FC_RAM_SIZE);
	setup(&m, cfg);

	while (in.left) {
		switch (fin_u8(&in) % FZ_FC_NR_OPS) {
		case FZ_FC_READ:
			guest_access(&m, &in, false);
			break;
		case FZ_FC_WRITE:
			guest_access(&m, &in, true);
			break;
		case FZ_FC_DMA:
			dma_op(&m, &in);
			break;
		case FZ_FC_POKE:
			poke(&m, &in);
			break;
		case FZ_FC_HIGH: {
			uint8_t b[4];

			put_be(b, fin_u32(&in), 4);
			m.dev->ops->mmio_write(m.dev, FWCFG_REG_DMA, b, 4);
			m.high = be_value(b, 4) << 32;
			break;
		}
		case FZ_FC_RESET:
			m.dev->ops->destroy(m.dev);
			setup(&m, cfg);
			select_key(&m, FWCFG_SIGNATURE);
			m.high = 0;
			break;
		}
		check_state(&m);
	}
	m.dev->ops->destroy(m.dev);
	return 0;
}
