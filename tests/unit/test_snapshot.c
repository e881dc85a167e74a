// SPDX-License-Identifier: MIT
/* The snapshot files (src/snapshot/): the state encoding reads back what
 * was written and refuses anything cut, padded or altered; the machine
 * record refuses a snapshot that does not fit the run; guest RAM goes out
 * sparse and comes back mapped or copied, only from its own snapshot; the
 * record loop loads each device once and refuses unknown, repeated or
 * missing records; snapshot-info describes and compares. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/device.h"
#include "core/gmem.h"
#include "machine/machine.h"
#include "snapshot/image.h"
#include "snapshot/inspect.h"
#include "snapshot/snap.h"
#include "tests/support/board.h"

/* ---- the encoding ---------------------------------------------------------- */

static void test_values_round_trip(void **state)
{
	struct snap_w w;
	struct snap_r r, sub, inner;
	uint32_t tag, inst;
	size_t outer, in;
	char s[8];
	uint8_t b[3];

	(void)state;
	snap_w_init(&w);
	outer = snap_w_begin(&w, SNAP_TAG('T', 'E', 'S', 'T'), 7);
	snap_w_u8(&w, 0xab);
	snap_w_u16(&w, 0xbeef);
	snap_w_u32(&w, 0xdeadbeef);
	snap_w_u64(&w, 0x0123456789abcdefULL);
	snap_w_bool(&w, true);
	snap_w_str(&w, "rivet");
	snap_w_bytes(&w, "xyz", 3);
	in = snap_w_begin(&w, SNAP_TAG('I', 'N', ' ', ' '), 1);
	snap_w_u32(&w, 42);
	snap_w_end(&w, in);
	snap_w_end(&w, outer);
	assert_int_equal(w.err, 0);

	snap_r_init(&r, w.buf, w.len);
	assert_int_equal(snap_r_section(&r, &tag, &inst, &sub), 1);
	assert_int_equal(tag, SNAP_TAG('T', 'E', 'S', 'T'));
	assert_int_equal(inst, 7);
	assert_int_equal(snap_r_u8(&sub), 0xab);
	assert_int_equal(snap_r_u16(&sub), 0xbeef);
	assert_int_equal(snap_r_u32(&sub), 0xdeadbeef);
	assert_true(snap_r_u64(&sub) == 0x0123456789abcdefULL);
	assert_true(snap_r_bool(&sub));
	snap_r_str(&sub, s, sizeof(s));
	assert_string_equal(s, "rivet");
	snap_r_bytes(&sub, b, 3);
	assert_memory_equal(b, "xyz", 3);
	assert_int_equal(snap_r_section(&sub, &tag, &inst, &inner), 1);
	assert_int_equal(snap_r_u32(&inner), 42);
	assert_int_equal(snap_r_finish(&inner), 0);
	assert_int_equal(snap_r_section(&sub, &tag, &inst, &inner), 0);
	assert_int_equal(snap_r_finish(&sub), 0);
	assert_int_equal(snap_r_section(&r, &tag, &inst, &sub), 0);
	assert_int_equal(snap_r_finish(&r), 0);
	snap_w_free(&w);
}

static void test_reader_refuses(void **state)
{
	static const uint8_t two = 2, strbuf[] = { 5, 0, 'a', 'b' };
	static const uint8_t nul[] = { 2, 0, 'a', 0 };
	static const uint8_t sect[] = { 'A', 'B', 'C', 'D', 0, 0, 0, 0,
					9, 0, 0, 0, 1 };
	struct snap_r r, sub;
	uint32_t tag, inst;
	char s[16];

	(void)state;
	/* Past the end: zero, and the error sticks. */
	snap_r_init(&r, strbuf, 1);
	assert_int_equal(snap_r_u32(&r), 0);
	assert_int_equal(r.err, -EBADMSG);
	assert_int_equal(snap_r_u8(&r), 0);
	assert_int_equal(snap_r_finish(&r), -EBADMSG);
	/* A boolean is 0 or 1. */
	snap_r_init(&r, &two, 1);
	(void)snap_r_bool(&r);
	assert_int_equal(r.err, -EBADMSG);
	/* Strings: cut, too long for the buffer, with a NUL. */
	snap_r_init(&r, strbuf, sizeof(strbuf));
	snap_r_str(&r, s, sizeof(s));
	assert_int_equal(r.err, -EBADMSG);
	assert_string_equal(s, "");
	snap_r_init(&r, strbuf, sizeof(strbuf));
	snap_r_str(&r, s, 3);
	assert_int_equal(r.err, -EBADMSG);
	snap_r_init(&r, nul, sizeof(nul));
	snap_r_str(&r, s, sizeof(s));
	assert_int_equal(r.err, -EBADMSG);
	/* A section longer than what holds it. */
	snap_r_init(&r, sect, sizeof(sect));
	assert_int_equal(snap_r_section(&r, &tag, &inst, &sub), -EBADMSG);
	/* Trailing bytes are corruption too. */
	snap_r_init(&r, sect, sizeof(sect));
	(void)snap_r_u32(&r);
	assert_int_equal(snap_r_finish(&r), -EBADMSG);
	/* Ranges: snap_r_check() names the first failure. */
	snap_r_init(&r, sect, sizeof(sect));
	assert_false(snap_r_check(&r, false, "first"));
	assert_false(snap_r_check(&r, false, "second"));
	assert_string_equal(r.what, "first");
}

static void build_file(struct snap_w *file)
{
	struct snap_w body;
	size_t m;

	snap_w_init(&body);
	m = snap_w_begin(&body, SNAP_TAG('A', 'B', 'C', 'D'), 0);
	snap_w_str(&body, "payload");
	snap_w_end(&body, m);
	assert_int_equal(snap_file_build(&body, file), 0);
	snap_w_free(&body);
}

static void test_file_header(void **state)
{
	struct snap_w file;
	struct snap_r body;
	char err[160];
	uint8_t *copy;

	(void)state;
	build_file(&file);
	assert_int_equal(snap_file_open(file.buf, file.len, &body, err,
					sizeof(err)), 0);
	assert_int_equal(body.len, file.len - SNAP_HEADER_SIZE);
	/* Every cut is refused. */
	for (size_t n = 0; n < file.len; n++)
		assert_int_not_equal(snap_file_open(file.buf, n, &body, err,
						    sizeof(err)), 0);
	copy = malloc(file.len + 1);
	assert_non_null(copy);
	/* Every single flipped bit anywhere is refused (one in the version
	 * as another version). */
	for (size_t i = 0; i < file.len * 8; i++) {
		memcpy(copy, file.buf, file.len);
		copy[i / 8] ^= (uint8_t)(1u << (i % 8));
		assert_int_not_equal(snap_file_open(copy, file.len, &body, err,
						    sizeof(err)), 0);
	}
	/* Padding is refused. */
	memcpy(copy, file.buf, file.len);
	copy[file.len] = 0;
	assert_int_equal(snap_file_open(copy, file.len + 1, &body, err,
					sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "truncated or padded"));
	/* Another version, with a valid header checksum: named. */
	memcpy(copy, file.buf, file.len);
	copy[8] = 2;
	{
		uint32_t c = snap_crc32c(0, copy, SNAP_HEADER_SIZE - 4);

		for (int k = 0; k < 4; k++)
			copy[28 + k] = (uint8_t)(c >> (8 * k));
	}
	assert_int_equal(snap_file_open(copy, file.len, &body, err,
					sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "version 2"));
	memcpy(copy, "NOTRIVET", 8);
	assert_int_equal(snap_file_open(copy, file.len, &body, err,
					sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "not a rivet snapshot"));
	/* The CRC-32C check value (RFC 3720's "123456789"). */
	assert_int_equal(snap_crc32c(0, "123456789", 9), 0xe3069283);
	free(copy);
	snap_w_free(&file);
}

/* ---- the machine record ------------------------------------------------------ */

static void host_record(struct machine *m, uint64_t id, struct snap_w *w,
			struct snap_r *host)
{
	struct snap_r r;
	uint32_t tag, inst;

	snap_w_init(w);
	assert_int_equal(snap_save_host(m, id, w), 0);
	snap_r_init(&r, w->buf, w->len);
	assert_int_equal(snap_r_section(&r, &tag, &inst, host), 1);
	assert_int_equal(tag, SNAP_TAG('H', 'O', 'S', 'T'));
}

static void test_host_fit(void **state)
{
	struct tboard a, b;
	struct snap_w w;
	struct snap_r host;
	uint64_t id = 0;
	char err[256];

	(void)state;
	tboard_create(&a, "microvm", 2, 64 << 20, 1);
	host_record(&a.m, 0x1234, &w, &host);
	assert_int_equal(snap_check_host(&a.m, &host, true, &id, err,
					 sizeof(err)), 0);
	assert_true(id == 0x1234);

	/* Another board, RAM size, vCPU count, device set: refused. */
	tboard_create(&b, "virt", 2, 64 << 20, 1);
	assert_int_equal(snap_check_host(&b.m, &host, false, &id, err,
					 sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'microvm' board"));
	tboard_destroy(&b);
	tboard_create(&b, "microvm", 2, 128 << 20, 1);
	assert_int_equal(snap_check_host(&b.m, &host, false, &id, err,
					 sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "64 MiB"));
	tboard_destroy(&b);
	tboard_create(&b, "microvm", 3, 64 << 20, 1);
	assert_int_equal(snap_check_host(&b.m, &host, false, &id, err,
					 sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--cpus"));
	tboard_destroy(&b);
	tboard_create(&b, "microvm", 2, 64 << 20, 2);
	assert_int_equal(snap_check_host(&b.m, &host, false, &id, err,
					 sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "same devices"));
	tboard_destroy(&b);
	assert_int_equal(tboard_try(&b, "microvm", 2, 64 << 20, 1,
				    IRQCHIP_PLIC), 0);
	assert_int_equal(snap_check_host(&b.m, &host, false, &id, err,
					 sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--irqchip"));
	tboard_destroy(&b);

	/* The vCPUs' half: another timer frequency, another ISA. */
	tboard_create(&b, "microvm", 2, 64 << 20, 1);
	b.m.cpu.timebase_freq = 24000000;
	assert_int_equal(snap_check_host(&b.m, &host, false, &id, err,
					 sizeof(err)), 0);
	assert_int_equal(snap_check_host(&b.m, &host, true, &id, err,
					 sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "24000000 Hz"));
	b.m.cpu.timebase_freq = a.m.cpu.timebase_freq;
	b.m.cpu.nr_exts--;
	assert_int_equal(snap_check_host(&b.m, &host, true, &id, err,
					 sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--cpu-features"));
	tboard_destroy(&b);

	/* Cut short: corrupt, not a crash. */
	host.len -= 3;
	assert_int_equal(snap_check_host(&a.m, &host, false, &id, err,
					 sizeof(err)), -EBADMSG);
	snap_w_free(&w);
	tboard_destroy(&a);
}

/* ---- guest RAM -------------------------------------------------------------- */

static int temp_fd(void)
{
	char path[] = "/tmp/rivet-snap-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	return fd;
}

/* The pages of @gm's first @n whose maybe-data bit is set, as a list. */
static size_t maybe_pages(struct gmem *gm, size_t n, uint64_t *out,
			  size_t max, int *ret)
{
	uint64_t bits[2048 / 64];
	size_t k = 0;

	assert_true(n <= 2048);
	*ret = gmem_maybe_data(gm, 0, n, bits);
	for (size_t i = 0; i < n; i++)
		if (bits[i / 64] & (1ULL << (i % 64)) && k < max)
			out[k++] = i;
	return k;
}

/* Which pages a snapshot reads: the touched ones, and after a restore
 * also those its memory file holds; all of them without a page map. */
static void test_ram_maybe_data(void **state)
{
	struct gmem gm, back;
	uint64_t pages[8], written, written2, looked, bits[1];
	volatile uint8_t sink;
	char err[160];
	int fd = temp_fd(), fd2 = temp_fd(), ret;

	(void)state;
	assert_int_equal(gmem_pagemap_open(), 0);
	/* 4 KiB pages: a huge page would make its whole 2 MiB present. */
	assert_int_equal(gmem_alloc_pages(&gm, 0x80000000, 8 << 20,
					  GMEM_PAGES_SMALL), 0);
	assert_int_equal(maybe_pages(&gm, 2048, pages, 8, &ret), 0);
	assert_int_equal(ret, 0);
	gm.host[4096] = 1;
	gm.host[(2 << 20) + 4096] = 2;	/* page 513 */
	sink = gm.host[3 * 4096];	/* read only: mapped, still zeros */
	(void)sink;
	assert_int_equal(maybe_pages(&gm, 2048, pages, 8, &ret), 3);
	assert_int_equal(pages[0], 1);
	assert_int_equal(pages[1], 3);
	assert_int_equal(pages[2], 513);
	/* Page 3 is looked at, found zero, not written. */
	assert_int_equal(snap_write_ram(&gm, fd, 5, &written, &looked), 0);
	assert_int_equal(written, 2 * 4096);
	assert_int_equal(looked, 3 * 4096);	/* 1, 3 and 513 */

	/* Restored: untouched pages are the file's, data where it has. */
	assert_int_equal(gmem_alloc_pages(&back, 0x80000000, 8 << 20,
					  GMEM_PAGES_SMALL), 0);
	assert_int_equal(snap_map_ram(&back, fd, 5, false, err, sizeof(err)),
			 0);
	/* Where the file has data: worked out when first asked. */
	assert_true(back.file_backed);
	assert_null(back.file_data);
	assert_int_equal(maybe_pages(&back, 2048, pages, 8, &ret), 2);
	assert_non_null(back.file_data);
	assert_int_equal(pages[0], 1);
	assert_int_equal(pages[1], 513);
	back.host[(7 << 20)] = 3;	/* page 1792: the guest's own */
	assert_int_equal(maybe_pages(&back, 2048, pages, 8, &ret), 3);
	assert_int_equal(pages[2], 1792);
	assert_int_equal(snap_write_ram(&back, fd2, 6, &written2, &looked), 0);
	assert_int_equal(written2, 3 * 4096);
	assert_int_equal(looked, 3 * 4096);
	{
		uint8_t b[3];

		assert_int_equal(pread(fd2, &b[0], 1, 4096), 1);
		assert_int_equal(pread(fd2, &b[1], 1, (2 << 20) + 4096), 1);
		assert_int_equal(pread(fd2, &b[2], 1, 7 << 20), 1);
		assert_int_equal(b[0], 1);
		assert_int_equal(b[1], 2);
		assert_int_equal(b[2], 3);
	}

	/* No page map (--jail): every page is looked at, same result. */
	gmem_pagemap_close();
	assert_int_equal(maybe_pages(&gm, 2048, pages, 8, &ret), 8);
	assert_int_equal(ret, -ENOENT);
	assert_int_equal(snap_write_ram(&gm, fd2, 7, &written2, &looked), 0);
	assert_int_equal(written2, written);
	assert_int_equal(looked, 8 << 20);	/* all of it */
	/* Out of RAM: refused, all set. */
	assert_int_equal(gmem_pagemap_open(), 0);
	assert_int_equal(gmem_maybe_data(&gm, 2047, 2, bits), -EINVAL);
	assert_int_equal(bits[0], 3);
	gmem_pagemap_close();
	gmem_free(&back);
	gmem_free(&gm);
	close(fd);
	close(fd2);
}

static void test_ram(void **state)
{
	struct gmem gm, back;
	uint64_t written;
	struct stat st;
	char err[160];
	int fd = temp_fd();

	(void)state;
	assert_int_equal(gmem_alloc(&gm, 0x80000000, 8 << 20), 0);
	memset(gm.host + 4096, 0x11, 10);		/* page 1 */
	memset(gm.host + (2 << 20), 0x22, 8192);	/* 2 pages at 2 MiB */
	gm.host[(8 << 20) - 1] = 0x33;			/* the last page */
	assert_int_equal(snap_write_ram(&gm, fd, 77, &written, NULL), 0);
	assert_int_equal(written, 4 * 4096);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, (8 << 20) + 4096);
	/* Sparse: far fewer blocks than RAM (tmpfs and ext4 both). */
	assert_true((uint64_t)st.st_blocks * 512 < (1 << 20));

	/* Mapped back: the same bytes; the guest's writes stay private. */
	assert_int_equal(gmem_alloc(&back, 0x80000000, 8 << 20), 0);
	assert_int_equal(snap_map_ram(&back, fd, 77, false, err, sizeof(err)),
			 0);
	assert_memory_equal(back.host, gm.host, 8 << 20);
	back.host[4096] = 0x44;
	{
		uint8_t b;

		assert_int_equal(pread(fd, &b, 1, 4096), 1);
		assert_int_equal(b, 0x11);
	}
	gmem_free(&back);
	/* Copied back (huge pages). */
	assert_int_equal(gmem_alloc(&back, 0x80000000, 8 << 20), 0);
	assert_int_equal(snap_map_ram(&back, fd, 77, true, err, sizeof(err)),
			 0);
	assert_memory_equal(back.host, gm.host, 8 << 20);
	/* Another snapshot's memory file, or a cut one: refused. */
	assert_int_equal(snap_map_ram(&back, fd, 78, false, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "another snapshot"));
	assert_int_equal(ftruncate(fd, 8 << 20), 0);
	assert_int_equal(snap_map_ram(&back, fd, 77, false, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "truncated"));
	gmem_free(&back);
	gmem_free(&gm);
	close(fd);
}

/* ---- the record loop ------------------------------------------------------------ */

static int arch_calls;

/* The arch code's records in these tests: "VCPU" only. */
static int fake_arch(void *ctx, uint32_t tag, uint32_t inst,
		     struct snap_r *r)
{
	(void)ctx;
	if (tag != SNAP_TAG('V', 'C', 'P', 'U'))
		return 0;
	arch_calls++;
	return inst == 0 && snap_r_u32(r) == 5 && !snap_r_finish(r) ? 1
								  : -EBADMSG;
}

/* A device with a one-word state, for the loop. */
struct word_dev {
	struct rivet_dev dev;
	uint32_t word;
};

static int word_save(struct rivet_dev *d, struct snap_w *w)
{
	snap_w_u32(w, ((struct word_dev *)d)->word);
	return w->err;
}

static int word_load(struct rivet_dev *d, struct snap_r *r)
{
	uint32_t v = snap_r_u32(r);

	if (snap_r_finish(r) || !snap_r_check(r, v < 100, "word"))
		return -EBADMSG;
	((struct word_dev *)d)->word = v;
	return 0;
}

static const struct dev_ops word_ops = { .name = "word", .save = word_save,
					 .load = word_load };
static const struct dev_ops mute_ops = { .name = "mute" };

struct loop_case {
	struct machine m;
	struct word_dev d[2];
};

static void loop_setup(struct loop_case *c)
{
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < 2; i++) {
		c->d[i].dev.ops = &word_ops;
		c->d[i].dev.base = 0x1000 * (uint64_t)(i + 1);
		c->m.devs[c->m.nr_devs++] = &c->d[i].dev;
	}
}

static void loop_body(struct snap_w *w, int variant)
{
	size_t mk;

	snap_w_init(w);
	mk = snap_w_begin(w, SNAP_TAG('V', 'C', 'P', 'U'), 0);
	snap_w_u32(w, 5);
	snap_w_end(w, mk);
	for (uint32_t i = 0; i < 2; i++) {
		mk = snap_w_begin(w, SNAP_TAG('D', 'E', 'V', ' '),
				  variant == 1 ? 0 : i);
		snap_w_str(w, variant == 2 && i ? "other" : "word");
		snap_w_u64(w, 0x1000 * (uint64_t)(i + 1));
		snap_w_u32(w, variant == 3 ? 100 : 10 + i);
		snap_w_end(w, mk);
	}
	if (variant == 4) {
		mk = snap_w_begin(w, SNAP_TAG('X', 'X', 'X', 'X'), 0);
		snap_w_end(w, mk);
	}
}

static int run_loop(struct loop_case *c, int variant, char *err, size_t n)
{
	struct snap_w w;
	struct snap_r r;
	int ret;

	loop_body(&w, variant);
	snap_r_init(&r, w.buf, w.len);
	ret = snap_restore_sections(&c->m, &r, fake_arch, NULL, err, n);
	snap_w_free(&w);
	return ret;
}

static void test_restore_loop(void **state)
{
	struct loop_case c;
	struct snap_w w;
	char err[256];

	(void)state;
	loop_setup(&c);
	arch_calls = 0;
	assert_int_equal(run_loop(&c, 0, err, sizeof(err)), 0);
	assert_int_equal(arch_calls, 1);
	assert_int_equal(c.d[0].word, 10);
	assert_int_equal(c.d[1].word, 11);
	/* Saved again: the same records. */
	snap_w_init(&w);
	assert_int_equal(snap_save_devices(&c.m, &w), 0);
	{
		struct snap_w want;
		size_t off;

		loop_body(&want, 0);
		off = 12 + 4;	/* past the VCPU record */
		assert_int_equal(w.len, want.len - off);
		assert_memory_equal(w.buf, want.buf + off, w.len);
		snap_w_free(&want);
	}
	snap_w_free(&w);

	loop_setup(&c);
	assert_int_equal(run_loop(&c, 1, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "twice"));
	loop_setup(&c);
	assert_int_equal(run_loop(&c, 2, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "same devices"));
	loop_setup(&c);
	assert_int_equal(run_loop(&c, 3, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "corrupt record: word"));
	loop_setup(&c);
	assert_int_equal(run_loop(&c, 4, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "unknown record 'XXXX'"));
	/* A device missing from the file. */
	loop_setup(&c);
	c.m.devs[c.m.nr_devs++] = &(struct rivet_dev){ .ops = &word_ops,
						       .base = 0x9000 };
	assert_int_equal(run_loop(&c, 0, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "missing"));
	/* A device that cannot be saved makes the snapshot fail. */
	loop_setup(&c);
	c.d[1].dev.ops = &mute_ops;
	snap_w_init(&w);
	assert_int_equal(snap_save_devices(&c.m, &w), -EOPNOTSUPP);
	snap_w_free(&w);
}

/* ---- snapshot-info ----------------------------------------------------------------- */

static void write_snapshot(const char *dir, struct tboard *b, uint64_t id,
			   uint32_t word)
{
	struct snap_w body, file;
	char path[PATH_MAX];
	uint64_t written;
	size_t mk;
	int fd;

	mkdir(dir, 0700);
	snap_w_init(&body);
	assert_int_equal(snap_save_host(&b->m, id, &body), 0);
	mk = snap_w_begin(&body, SNAP_TAG('V', 'C', 'P', 'U'), 0);
	snap_w_u32(&body, word);
	snap_w_end(&body, mk);
	assert_int_equal(snap_file_build(&body, &file), 0);
	snprintf(path, sizeof(path), "%s/state", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, file.buf, file.len), (ssize_t)file.len);
	close(fd);
	snprintf(path, sizeof(path), "%s/memory", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(snap_write_ram(&b->m.ram, fd, id, &written, NULL), 0);
	close(fd);
	snap_w_free(&body);
	snap_w_free(&file);
}

static void remove_snapshot(const char *dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/state", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/memory", dir);
	unlink(path);
	rmdir(dir);
}

/* snap_inspect(@a, @b) returns @want; what it printed (free it). */
static char *inspect(const char *a, const char *b, int want)
{
	char err[256], *out;
	size_t len;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	assert_int_equal(snap_inspect(a, b, f, err, sizeof(err)), want);
	fclose(f);
	return out;
}

static void test_inspect(void **state)
{
	char a[64], b[64], err[256], *out;
	struct tboard t;
	size_t len;
	FILE *f;

	(void)state;
	snprintf(a, sizeof(a), "/tmp/rivet-snap-a.%d", (int)getpid());
	snprintf(b, sizeof(b), "/tmp/rivet-snap-b.%d", (int)getpid());
	tboard_create(&t, "microvm", 1, 32 << 20, 0);
	write_snapshot(a, &t, 1, 5);
	write_snapshot(b, &t, 2, 5);
	out = inspect(a, NULL, 0);
	assert_non_null(strstr(out, "board microvm"));
	assert_non_null(strstr(out, "VCPU 0"));
	free(out);
	/* Two snapshots of the same state: identical but for the id. */
	out = inspect(a, b, 0);
	assert_non_null(strstr(out, "identical: 2 records and 32 MiB of RAM"));
	free(out);
	/* RAM that differs in one page (its data beyond the first hole). */
	t.m.ram.host[(20 << 20) + 4096 + 7] = 1;
	write_snapshot(b, &t, 2, 5);
	out = inspect(a, b, 1);
	assert_non_null(strstr(out, "differ: RAM, first at offset 0x1401000"));
	assert_null(strstr(out, "record"));
	free(out);
	t.m.ram.host[(20 << 20) + 4096 + 7] = 0;
	write_snapshot(b, &t, 2, 6);
	out = inspect(a, b, 1);
	assert_non_null(strstr(out, "differ: record 1 (VCPU 0)"));
	free(out);
	/* A cut memory file is named. */
	{
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/memory", b);
		assert_int_equal(truncate(path, 4096), 0);
	}
	f = open_memstream(&out, &len);
	assert_true(snap_inspect(b, NULL, f, err, sizeof(err)) < 0);
	fclose(f);
	free(out);
	assert_non_null(strstr(err, "memory file"));
	remove_snapshot(a);
	remove_snapshot(b);
	tboard_destroy(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values_round_trip),
		cmocka_unit_test(test_reader_refuses),
		cmocka_unit_test(test_file_header),
		cmocka_unit_test(test_host_fit),
		cmocka_unit_test(test_ram_maybe_data),
		cmocka_unit_test(test_ram),
		cmocka_unit_test(test_restore_loop),
		cmocka_unit_test(test_inspect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
