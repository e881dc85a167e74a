/* SPDX-License-Identifier: MIT */
/* Snapshots of the VM this process runs (docs/snapshot.md): QMP migrate
 * to a file:DIR URI takes one (the monitor made the files), rivet run
 * --incoming file:DIR restores one before any vCPU runs. */
#ifndef RIVET_VMM_SNAPSHOT_H
#define RIVET_VMM_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot/snap.h"

struct kvm_vm;
struct machine;

/* Pause the VM (it stays paused), finish the devices' requests in flight,
 * and write its state to @state_fd and its RAM to @mem_fd, both synced to
 * disk.  sizes[0]: state bytes, sizes[1]: RAM bytes written.  Main thread.
 * 0 or -errno (logged). */
int vmm_snapshot_take(struct kvm_vm *vm, int state_fd, int mem_fd,
		      uint64_t sizes[2]);

/* A restore in progress. */
struct vmm_restore {
	const char *dir;
	int state_fd, mem_fd;
	uint8_t *buf;		/* the state file */
	size_t len;
	struct snap_r body;	/* its sections after HOST */
	struct snap_r host;	/* the HOST section */
	uint64_t mem_id;
	bool failed;		/* the snapshot was refused (not the options) */
};

/* Open @dir's files and check the state file's header and framing.
 * 0 or -errno (logged).  vmm_restore_close() either way. */
int vmm_restore_open(struct vmm_restore *rs, const char *dir);
/* Does it fit @m?  The machine's half (@cpu false: right after
 * machine_init) or also the vCPUs' (after they exist).  0 or -errno
 * (logged). */
int vmm_restore_check(struct vmm_restore *rs, const struct machine *m,
		      bool cpu);
/* Guest RAM from the memory file (after it is allocated).  0 or -errno
 * (logged). */
int vmm_restore_ram(struct vmm_restore *rs, struct machine *m);
/* Every vCPU, the interrupt controller and every device, once they exist
 * (the board finalized) and before the I/O threads start and any vCPU
 * runs.  0 or -errno (logged). */
int vmm_restore_state(struct vmm_restore *rs, struct kvm_vm *vm);
void vmm_restore_close(struct vmm_restore *rs);

#endif
