/* SPDX-License-Identifier: MIT */
/* A snapshot of a machine (docs/snapshot.md): the directory's two files,
 * `state` (snap.h's encoding: the machine's identity, then the arch
 * code's sections for KVM's state, then one section per device) and
 * `memory` (guest RAM as a sparse image).  The portable half: what the
 * machine and its devices contribute and check; src/vmm.c adds KVM's.
 * Everything read here is untrusted. */
#ifndef RIVET_SNAPSHOT_IMAGE_H
#define RIVET_SNAPSHOT_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot/snap.h"

struct gmem;
struct machine;

#define SNAP_STATE_FILE "state"
#define SNAP_MEMORY_FILE "memory"
/* The memory file's trailer page, after RAM's bytes. */
#define SNAP_MEM_TRAILER 4096u

/* The "HOST" record, read. */
struct snap_host {
	char board[64], irqchip[64], isa[512];
	uint64_t ram_base, ram_size, timebase, mem_id;
	uint32_t cpus, devs;
};

/* DIR/NAME opened read-only (not through a symlink): the fd, or -errno
 * (-ENAMETOOLONG for a path too long). */
int snap_open(const char *dir, const char *name);
/* Read HOST record @host (a copy is consumed) into @h: 0, or -EBADMSG
 * with @host->what saying what was wrong. */
int snap_read_host(struct snap_r *host, struct snap_host *h);

/* The "HOST" section: what the machine is (board, interrupt controller,
 * RAM, vCPUs, devices) and what its vCPUs were (timer frequency, ISA).
 * First in every state file. */
int snap_save_host(const struct machine *m, uint64_t mem_id,
		   struct snap_w *w);
/* Does the snapshot fit @m (made from this run's configuration)?  The
 * machine half (board, irqchip mode, RAM, vCPU and device counts) before
 * anything is created; @cpu also the vCPU half (m->cpu filled: after the
 * vCPUs exist).  *@mem_id: the memory file's id.  0 or -EINVAL/-EBADMSG
 * with the reason in @err. */
int snap_check_host(const struct machine *m, struct snap_r *host, bool cpu,
		    uint64_t *mem_id, char *err, size_t errlen);

/* Every device's section ("DEV ", instance = its place in m->devs: name,
 * base, then the device's own record), with the devices quiesced
 * (machine_quiesce_io()).  -EOPNOTSUPP (logged,
 * naming it) for a device that cannot be saved. */
int snap_save_devices(struct machine *m, struct snap_w *w);
/* A "DEV " section into device @inst: its name and base must match. */
int snap_load_device(struct machine *m, uint32_t inst, struct snap_r *r,
		     char *err, size_t errlen);

/* Every section after HOST, in order: @arch(@ctx, tag, instance, record)
 * first (1: it was the arch code's and is loaded, 0: not the arch's,
 * -errno: refused), else a "DEV " section into its device; every device
 * exactly once, any other section refused.  0 or -errno with the reason
 * in @err. */
int snap_restore_sections(struct machine *m, struct snap_r *body,
			  int (*arch)(void *ctx, uint32_t tag, uint32_t inst,
				      struct snap_r *r),
			  void *ctx, char *err, size_t errlen);

/* Guest RAM into @fd from offset 0: only pages holding a non-zero byte
 * are written (holes read as zeros), then a trailer page naming the
 * snapshot (@mem_id, which its state file holds too: a memory file from
 * another snapshot is refused).  *@written: bytes of RAM written;
 * *@looked (if not NULL): bytes read to find them (the pages that may hold
 * data, gmem_maybe_data()).  0 or -errno. */
int snap_write_ram(struct gmem *gm, int fd, uint64_t mem_id,
		   uint64_t *written, uint64_t *looked);
/* Guest RAM from the memory file @fd, whose trailer must name @mem_id:
 * mapped private over @gm's pages (@copy false), so the guest starts
 * before the file is read and never changes the file; or read into them
 * (@copy: huge pages stay huge).  0 or -errno with the reason in @err. */
int snap_map_ram(struct gmem *gm, int fd, uint64_t mem_id, bool copy,
		 char *err, size_t errlen);

/* The state file: read whole (at most SNAP_STATE_MAX) into *@buf
 * (malloc'd) and its header checked; @body over its sections.  0 or
 * -errno with the reason in @err. */
int snap_read_state(int fd, uint8_t **buf, size_t *len, struct snap_r *body,
		    char *err, size_t errlen);

#endif
