// SPDX-License-Identifier: MIT
/* A snapshot of a machine: the portable half (image.h). */
#include "snapshot/image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/device.h"
#include "core/fileio.h"
#include "core/gmem.h"
#include "core/log.h"
#include "devices/virtio.h"
#include "machine/machine.h"

#define NAME_MAX_LEN 64

int snap_open(const char *dir, const char *name)
{
	char path[4096];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	return fd < 0 ? -errno : fd;
}

static void isa_of(const struct machine *m, char *buf, size_t len)
{
	if (machine_isa_string(&m->cpu, buf, len))
		snprintf(buf, len, "?");
}

/* "HOST": str board, str irqchip, u64 RAM base, u64 RAM size, u32 vCPUs,
 * u32 devices, u64 timer frequency, str ISA, u64 memory file id. */
int snap_save_host(const struct machine *m, uint64_t mem_id,
		   struct snap_w *w)
{
	char isa[sizeof(((struct snap_host *)0)->isa)];
	size_t mark = snap_w_begin(w, SNAP_TAG('H', 'O', 'S', 'T'), 0);

	isa_of(m, isa, sizeof(isa));
	snap_w_str(w, m->board->name);
	snap_w_str(w, config_irqchip_name(m->irqchip_mode));
	snap_w_u64(w, m->ram.base);
	snap_w_u64(w, m->ram.size);
	snap_w_u32(w, m->cfg->cpus);
	snap_w_u32(w, m->nr_devs);
	snap_w_u64(w, m->cpu.timebase_freq);
	snap_w_str(w, isa);
	snap_w_u64(w, mem_id);
	snap_w_end(w, mark);
	return w->err;
}

int snap_read_host(struct snap_r *host, struct snap_host *h)
{
	snap_r_str(host, h->board, sizeof(h->board));
	snap_r_str(host, h->irqchip, sizeof(h->irqchip));
	h->ram_base = snap_r_u64(host);
	h->ram_size = snap_r_u64(host);
	h->cpus = snap_r_u32(host);
	h->devs = snap_r_u32(host);
	h->timebase = snap_r_u64(host);
	snap_r_str(host, h->isa, sizeof(h->isa));
	h->mem_id = snap_r_u64(host);
	return snap_r_finish(host);
}

int snap_check_host(const struct machine *m, struct snap_r *host, bool cpu,
		    uint64_t *mem_id, char *err, size_t errlen)
{
	struct snap_r r = *host;
	struct snap_host h;
	char mine[sizeof(h.isa)];

	if (snap_read_host(&r, &h)) {
		snprintf(err, errlen, "its machine record is corrupt (%s)",
			 r.what);
		return -EBADMSG;
	}
	*mem_id = h.mem_id;
	if (strcmp(h.board, m->board->name)) {
		snprintf(err, errlen, "it is of a '%s' board, not --board %s",
			 h.board, m->board->name);
		return -EINVAL;
	}
	if (strcmp(h.irqchip, config_irqchip_name(m->irqchip_mode))) {
		snprintf(err, errlen, "its interrupt controller is '%s', this "
			 "run's is '%s' (--irqchip)", h.irqchip,
			 config_irqchip_name(m->irqchip_mode));
		return -EINVAL;
	}
	if (h.ram_size != m->cfg->mem_size ||
	    h.ram_base != m->board->ram_base) {
		snprintf(err, errlen, "its guest has %llu MiB of RAM, this "
			 "run's %llu MiB (--memory)",
			 (unsigned long long)(h.ram_size >> 20),
			 (unsigned long long)(m->cfg->mem_size >> 20));
		return -EINVAL;
	}
	if (h.cpus != m->cfg->cpus) {
		snprintf(err, errlen, "its guest has %u vCPUs, this run's %u "
			 "(--cpus)", h.cpus, m->cfg->cpus);
		return -EINVAL;
	}
	if (m->nr_devs && h.devs != m->nr_devs) {
		snprintf(err, errlen, "its machine has %u devices, this run's "
			 "%u: give the same devices (--disk, --net, ...) as "
			 "when it was taken", h.devs, m->nr_devs);
		return -EINVAL;
	}
	if (!cpu)
		return 0;
	if (h.timebase != m->cpu.timebase_freq) {
		snprintf(err, errlen, "its timer runs at %llu Hz, this host's "
			 "at %llu Hz", (unsigned long long)h.timebase,
			 (unsigned long long)m->cpu.timebase_freq);
		return -EINVAL;
	}
	isa_of(m, mine, sizeof(mine));
	if (strcmp(h.isa, mine)) {
		snprintf(err, errlen, "its vCPUs were %s, this host's (with "
			 "this run's --cpu-features) are %s", h.isa, mine);
		return -EINVAL;
	}
	return 0;
}

int snap_save_devices(struct machine *m, struct snap_w *w)
{
	for (unsigned int i = 0; i < m->nr_devs; i++) {
		struct rivet_dev *d = m->devs[i];
		size_t mark;
		int ret;

		if (!d->ops->save) {
			log_err("snapshot: the %s at 0x%llx cannot be saved "
				"yet", d->ops->name, (unsigned long long)d->base);
			return -EOPNOTSUPP;
		}
		mark = snap_w_begin(w, SNAP_TAG('D', 'E', 'V', ' '), i);
		snap_w_str(w, d->ops->name);
		snap_w_u64(w, d->base);
		ret = d->ops->save(d, w);
		snap_w_end(w, mark);
		if (ret) {
			log_err("snapshot: the %s at 0x%llx: %s", d->ops->name,
				(unsigned long long)d->base, strerror(-ret));
			return ret;
		}
	}
	return w->err;
}

int snap_load_device(struct machine *m, uint32_t inst, struct snap_r *r,
		     char *err, size_t errlen)
{
	char name[NAME_MAX_LEN];
	struct rivet_dev *d;
	struct snap_r rest;
	uint64_t base;
	int ret;

	snap_r_str(r, name, sizeof(name));
	base = snap_r_u64(r);
	if (r->err) {
		snprintf(err, errlen, "device record %u is corrupt", inst);
		return -EBADMSG;
	}
	if (inst >= m->nr_devs) {
		snprintf(err, errlen, "it has a device %u (%s), this run's "
			 "machine only %u", inst, name, m->nr_devs);
		return -EINVAL;
	}
	d = m->devs[inst];
	if (strcmp(name, d->ops->name) || base != d->base) {
		snprintf(err, errlen, "its device %u is a %s at 0x%llx, this "
			 "run's a %s at 0x%llx: give the same devices as when "
			 "it was taken", inst, name, (unsigned long long)base,
			 d->ops->name, (unsigned long long)d->base);
		return -EINVAL;
	}
	if (!d->ops->load) {
		snprintf(err, errlen, "the %s cannot be restored", name);
		return -EOPNOTSUPP;
	}
	snap_r_init(&rest, r->p + r->off, r->len - r->off);
	ret = d->ops->load(d, &rest);
	if (ret == -EINVAL && rest.what)
		snprintf(err, errlen, "the %s at 0x%llx does not fit this "
			 "run: %s; give the same devices as when it was taken",
			 name, (unsigned long long)base, rest.what);
	else if (ret)
		snprintf(err, errlen, "the %s at 0x%llx: %s%s%s", name,
			 (unsigned long long)base,
			 ret == -EBADMSG ? "corrupt record" : strerror(-ret),
			 rest.what ? ": " : "", rest.what ? rest.what : "");
	return ret;
}

int snap_restore_sections(struct machine *m, struct snap_r *body,
			  int (*arch)(void *ctx, uint32_t tag, uint32_t inst,
				      struct snap_r *r),
			  void *ctx, char *err, size_t errlen)
{
	bool loaded[BUS_MAX_DEVICES] = { false };
	unsigned int nr_loaded = 0;
	struct snap_r sub;
	uint32_t tag, inst;
	char name[5];
	int ret;

	while ((ret = snap_r_section(body, &tag, &inst, &sub)) == 1) {
		snap_tag_name(tag, name);
		ret = arch(ctx, tag, inst, &sub);
		if (ret == 1)
			continue;
		if (ret < 0) {
			snprintf(err, errlen, "its %s record %u %s", name, inst,
				 ret == -EBADMSG ? "is corrupt or repeated"
						 : "does not fit this host");
			return ret;
		}
		if (tag != SNAP_TAG('D', 'E', 'V', ' ')) {
			snprintf(err, errlen, "unknown record '%s'", name);
			return -EBADMSG;
		}
		if (inst < BUS_MAX_DEVICES && loaded[inst]) {
			snprintf(err, errlen, "device %u twice", inst);
			return -EBADMSG;
		}
		ret = snap_load_device(m, inst, &sub, err, errlen);
		if (ret)
			return ret;
		loaded[inst] = true;
		nr_loaded++;
	}
	if (ret < 0 || body->err) {
		snprintf(err, errlen, "its sections are corrupt");
		return -EBADMSG;
	}
	if (nr_loaded != m->nr_devs) {
		snprintf(err, errlen, "%u of the %u devices' records are "
			 "missing", m->nr_devs - nr_loaded, m->nr_devs);
		return -EBADMSG;
	}
	return 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	const uint64_t *q = (const uint64_t *)(const void *)p;

	for (size_t i = 0; i < n / 8; i++)
		if (q[i])
			return false;
	return true;
}

/* The memory file's last page: magic, the snapshot's id, RAM's size. */
#define MEM_MAGIC "RIVETMEM"

static void trailer(uint8_t *t, uint64_t mem_id, uint64_t size)
{
	memset(t, 0, SNAP_MEM_TRAILER);
	memcpy(t, MEM_MAGIC, 8);
	for (unsigned int i = 0; i < 8; i++) {
		t[8 + i] = (uint8_t)(mem_id >> (8 * i));
		t[16 + i] = (uint8_t)(size >> (8 * i));
	}
}

/* Pages looked at per page-map read: 8 MiB of RAM. */
#define RAM_WINDOW 2048u

/* RAM's pages [@start, @end) into @fd at their offset; *@written grows. */
static int write_run(const struct gmem *gm, int fd, uint64_t start,
		     uint64_t end, uint64_t *written)
{
	uint64_t len = (end - start) * GMEM_PAGE;
	int ret = fio_pwrite_all(fd, gm->host + start * GMEM_PAGE,
				 (size_t)len, start * GMEM_PAGE);

	if (!ret)
		*written += len;
	return ret;
}

int snap_write_ram(struct gmem *gm, int fd, uint64_t mem_id,
		   uint64_t *written, uint64_t *looked)
{
	static uint8_t t[SNAP_MEM_TRAILER];
	uint64_t maybe[RAM_WINDOW / 64];
	uint64_t pages = gm->size / GMEM_PAGE, start = 0;
	bool in_run = false;
	int ret;

	*written = 0;
	if (looked)
		*looked = 0;
	if (gm->size % GMEM_PAGE)
		return -EINVAL;
	if (ftruncate(fd, 0) || ftruncate(fd, (off_t)gm->size))
		return -errno;
	/* One write per run of pages that hold data.  Pages the process
	 * never touched are not even read (a read would fault each in):
	 * most of a fresh guest's RAM. */
	for (uint64_t w = 0; w < pages; w += RAM_WINDOW) {
		size_t n = pages - w < RAM_WINDOW ? (size_t)(pages - w)
						  : RAM_WINDOW;

		gmem_maybe_data(gm, w, n, maybe);	/* all set on error */
		for (size_t i = 0; i < n; i++) {
			uint64_t page = w + i;
			bool maybe_data = maybe[i / 64] & (1ULL << (i % 64));
			bool data = maybe_data &&
				    !all_zero(gm->host + page * GMEM_PAGE,
					      GMEM_PAGE);

			if (maybe_data && looked)
				*looked += GMEM_PAGE;
			if (data && !in_run) {
				start = page;
				in_run = true;
			} else if (!data && in_run) {
				ret = write_run(gm, fd, start, page, written);
				if (ret)
					return ret;
				in_run = false;
			}
		}
	}
	if (in_run) {
		ret = write_run(gm, fd, start, pages, written);
		if (ret)
			return ret;
	}
	trailer(t, mem_id, gm->size);
	return fio_pwrite_all(fd, t, SNAP_MEM_TRAILER, gm->size);
}

int snap_map_ram(struct gmem *gm, int fd, uint64_t mem_id, bool copy,
		 char *err, size_t errlen)
{
	static uint8_t want[SNAP_MEM_TRAILER], have[SNAP_MEM_TRAILER];
	struct stat st;
	int ret;

	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size != gm->size + SNAP_MEM_TRAILER) {
		snprintf(err, errlen, "its memory file is not the %llu MiB "
			 "of RAM it should hold (truncated, or of another "
			 "snapshot)", (unsigned long long)(gm->size >> 20));
		return -EINVAL;
	}
	trailer(want, mem_id, gm->size);
	ret = fio_pread_all(fd, have, SNAP_MEM_TRAILER, gm->size);
	if (ret || memcmp(want, have, SNAP_MEM_TRAILER)) {
		snprintf(err, errlen, "its memory file %s", ret
			 ? "cannot be read" : "belongs to another snapshot");
		return ret ? ret : -EINVAL;
	}
	if (copy) {
		ret = fio_pread_all(fd, gm->host, gm->size, 0);
		if (ret)
			snprintf(err, errlen, "cannot read its memory file: "
				 "%s", strerror(-ret));
		return ret;
	}
	ret = gmem_map_file(gm, fd);
	if (ret)
		snprintf(err, errlen, "cannot map its memory file: %s",
			 strerror(-ret));
	return ret;
}

int snap_read_state(int fd, uint8_t **buf, size_t *len, struct snap_r *body,
		    char *err, size_t errlen)
{
	struct stat st;
	uint8_t *b;
	size_t n;
	int ret;

	*buf = NULL;
	*len = 0;
	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size < SNAP_HEADER_SIZE ||
	    (uint64_t)st.st_size > SNAP_STATE_MAX + SNAP_HEADER_SIZE) {
		snprintf(err, errlen, "its state file is %s",
			 !S_ISREG(st.st_mode) ? "not a regular file"
			 : st.st_size < SNAP_HEADER_SIZE ? "truncated"
							 : "too large");
		return -EBADMSG;
	}
	b = malloc((size_t)st.st_size);
	if (!b)
		return -ENOMEM;
	n = (size_t)st.st_size;
	ret = fio_pread_all(fd, b, n, 0);
	if (ret) {
		snprintf(err, errlen, "cannot read its state file: %s",
			 strerror(-ret));
		free(b);
		return ret;
	}
	ret = snap_file_open(b, n, body, err, errlen);
	if (ret) {
		free(b);
		return ret;
	}
	*buf = b;
	*len = n;
	return 0;
}
