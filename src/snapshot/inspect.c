// SPDX-License-Identifier: MIT
/* `rivet snapshot-info`: check a snapshot directory's files and describe
 * them, or compare two snapshots record by record (inspect.h). */
#include "snapshot/inspect.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot/image.h"

struct snapfile {
	uint8_t *buf;
	size_t len;
	struct snap_r body;	/* after open: every section, HOST first */
	struct snap_host host;
	uint64_t mem_size;
};

/* Read @dir's state file and check both files' framing. */
static int load(const char *dir, struct snapfile *f, char *err,
		size_t errlen)
{
	struct snap_r body, host;
	struct stat st;
	uint32_t tag, inst;
	int fd, ret;

	memset(f, 0, sizeof(*f));
	fd = snap_open(dir, SNAP_STATE_FILE);
	if (fd < 0) {
		snprintf(err, errlen, "%s: no state file: %s", dir,
			 strerror(-fd));
		return fd;
	}
	ret = snap_read_state(fd, &f->buf, &f->len, &f->body, err, errlen);
	close(fd);
	if (ret)
		return ret;
	body = f->body;
	if (snap_r_section(&body, &tag, &inst, &host) != 1 ||
	    tag != SNAP_TAG('H', 'O', 'S', 'T')) {
		snprintf(err, errlen, "no machine record first");
		return -EBADMSG;
	}
	if (snap_read_host(&host, &f->host)) {
		snprintf(err, errlen, "its machine record is corrupt");
		return -EBADMSG;
	}
	fd = snap_open(dir, SNAP_MEMORY_FILE);
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(err, errlen, "%s: no memory file: %s", dir,
			 strerror(fd < 0 ? -fd : errno));
		if (fd >= 0)
			close(fd);
		return -ENOENT;
	}
	close(fd);
	f->mem_size = (uint64_t)st.st_size;
	if (f->mem_size != f->host.ram_size + SNAP_MEM_TRAILER) {
		snprintf(err, errlen, "its memory file has %llu bytes, not "
			 "RAM's %llu and a trailer",
			 (unsigned long long)f->mem_size,
			 (unsigned long long)f->host.ram_size);
		return -EBADMSG;
	}
	return 0;
}

static void describe(const struct snapfile *f, FILE *out)
{
	struct snap_r body = f->body, sub;
	uint32_t tag, inst;
	char name[5];

	fprintf(out, "board %s, irqchip %s, %llu MiB RAM, %u vCPUs, "
		"%u devices\n", f->host.board, f->host.irqchip,
		(unsigned long long)(f->host.ram_size >> 20), f->host.cpus,
		f->host.devs);
	while (snap_r_section(&body, &tag, &inst, &sub) == 1) {
		snap_tag_name(tag, name);
		fprintf(out, "  %s %-3u %6zu bytes", name, inst, sub.len);
		if (tag == SNAP_TAG('D', 'E', 'V', ' ')) {
			char dev[64];
			uint64_t base;

			snap_r_str(&sub, dev, sizeof(dev));
			base = snap_r_u64(&sub);
			if (!sub.err)
				fprintf(out, "  %s at 0x%llx", dev,
					(unsigned long long)base);
		}
		fputc('\n', out);
	}
}

/* Where two vCPU records of the same length first differ: "MP state" or
 * the register's id (KVM's ONE_REG id: its size is in bits 52-55). */
static void vcpu_diff(const struct snap_r *a, const struct snap_r *b,
		      FILE *out)
{
	size_t off = 8;

	if (a->len < 8 || memcmp(a->p, b->p, 8)) {
		fprintf(out, "  the MP state or the register count\n");
		return;
	}
	while (off + 8 <= a->len) {
		uint64_t id = 0;
		size_t size;

		for (int i = 0; i < 8; i++)
			id |= (uint64_t)a->p[off + i] << (8 * i);
		size = (size_t)1 << ((id >> 52) & 0xf);
		if (size > a->len - off - 8)
			return;
		if (memcmp(a->p + off, b->p + off, 8 + size)) {
			fprintf(out, "  register 0x%016llx first\n",
				(unsigned long long)id);
			return;
		}
		off += 8 + size;
	}
}

/* The HOST record without its last 8 bytes (the memory file's id, which
 * differs between any two snapshots). */
static bool same_section(uint32_t tag, const struct snap_r *a,
			 const struct snap_r *b)
{
	size_t n = a->len;

	if (a->len != b->len)
		return false;
	if (tag == SNAP_TAG('H', 'O', 'S', 'T') && n >= 8)
		n -= 8;
	return !memcmp(a->p, b->p, n);
}

/* Where @fd's next data at or after @pos is (@end if none; @pos where the
 * file system cannot tell). */
static uint64_t next_data(int fd, uint64_t pos, uint64_t end)
{
	off_t d = lseek(fd, (off_t)pos, SEEK_DATA);

	if (d < 0)
		return errno == ENXIO ? end : pos;
	return (uint64_t)d < end ? (uint64_t)d : end;
}

#define CMP_CHUNK (1u << 20)

/* Compare the RAM images of two memory files of @size bytes of RAM,
 * reading only where either has data (holes read as zeros): 0 equal,
 * 1 different (*@at: the first differing 4 KiB page), -errno.  *@data:
 * how many bytes were read from each. */
static int ram_cmp(int fa, int fb, uint64_t size, uint64_t *at,
		   uint64_t *data)
{
	uint8_t *ba = malloc(CMP_CHUNK), *bb = malloc(CMP_CHUNK);
	uint64_t pos = 0;
	int ret = 0;

	*data = 0;
	if (!ba || !bb)
		ret = -ENOMEM;
	while (!ret && pos < size) {
		uint64_t da = next_data(fa, pos, size);
		uint64_t db = next_data(fb, pos, size);
		size_t n;

		pos = (da < db ? da : db) & ~(uint64_t)(CMP_CHUNK - 1);
		if (pos >= size)
			break;
		n = (size_t)(size - pos < CMP_CHUNK ? size - pos : CMP_CHUNK);
		if (pread(fa, ba, n, (off_t)pos) != (ssize_t)n ||
		    pread(fb, bb, n, (off_t)pos) != (ssize_t)n) {
			ret = -EIO;
			break;
		}
		*data += n;
		if (memcmp(ba, bb, n)) {
			size_t i = 0;

			while (i < n && !memcmp(ba + i, bb + i, 4096 < n - i ?
						4096 : n - i))
				i += 4096;
			*at = pos + i;
			ret = 1;
		}
		pos += n;
	}
	free(ba);
	free(bb);
	return ret;
}

/* The RAM of @a's and @b's snapshots (same size): 0 equal, 1 different
 * (said on @out), -errno with @err. */
static int compare_ram(const char *a, const char *b, uint64_t size,
		       FILE *out, char *err, size_t errlen)
{
	int fa = snap_open(a, SNAP_MEMORY_FILE);
	int fb = snap_open(b, SNAP_MEMORY_FILE);
	uint64_t at = 0, data = 0;
	int ret = fa < 0 ? fa : fb < 0 ? fb : 0;

	if (!ret)
		ret = ram_cmp(fa, fb, size, &at, &data);
	if (ret < 0)
		snprintf(err, errlen, "cannot compare the memory files: %s",
			 strerror(-ret));
	else if (ret)
		fprintf(out, "differ: RAM, first at offset 0x%llx\n",
			(unsigned long long)at);
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return ret;
}

int snap_inspect(const char *dir, const char *other, FILE *out, char *err,
		 size_t errlen)
{
	struct snapfile a, b;
	struct snap_r ra, rb, sa, sb;
	uint32_t ta, ia, tb, ib;
	unsigned int n = 0;
	int ret, ka, kb;
	char name[5];

	ret = load(dir, &a, err, errlen);
	if (ret) {
		free(a.buf);
		return ret;
	}
	if (!other) {
		fprintf(out, "%s: rivet snapshot, format %u, %zu bytes of "
			"state\n", dir, SNAP_VERSION, a.len);
		describe(&a, out);
		free(a.buf);
		return 0;
	}
	ret = load(other, &b, err, errlen);
	if (ret) {
		free(a.buf);
		free(b.buf);
		return ret;
	}
	ra = a.body;
	rb = b.body;
	for (;;) {
		ka = snap_r_section(&ra, &ta, &ia, &sa);
		kb = snap_r_section(&rb, &tb, &ib, &sb);
		if (ka != 1 || kb != 1)
			break;
		snap_tag_name(ta, name);
		if (ta != tb || ia != ib || !same_section(ta, &sa, &sb)) {
			fprintf(out, "differ: record %u (%s %u)\n", n, name,
				ia);
			if (ta == tb && ta == SNAP_TAG('V', 'C', 'P', 'U') &&
			    sa.len == sb.len)
				vcpu_diff(&sa, &sb, out);
			ret = 1;
		}
		n++;
	}
	if (ka != kb) {
		fprintf(out, "differ: one has more records than the other\n");
		ret = 1;
	}
	if (a.host.ram_size != b.host.ram_size) {
		fprintf(out, "differ: RAM size\n");
		ret = 1;
	} else {
		int r = compare_ram(dir, other, a.host.ram_size, out, err,
				    errlen);

		if (r)
			ret = r;
	}
	if (!ret)
		fprintf(out, "identical: %u records and %llu MiB of RAM\n", n,
			(unsigned long long)(a.host.ram_size >> 20));
	free(a.buf);
	free(b.buf);
	return ret;
}
