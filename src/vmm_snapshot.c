// SPDX-License-Identifier: MIT
/* Snapshots of the VM this process runs: vmm_snapshot.h. */
#include "vmm_snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arch/riscv64/vm.h"
#include "core/fileio.h"
#include "core/log.h"
#include "core/startup.h"
#include "machine/machine.h"
#include "snapshot/image.h"

/* Pairs a state file with its memory file: not secret, only distinct. */
static uint64_t new_mem_id(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^
	       ((uint64_t)getpid() << 48);
}

int vmm_snapshot_take(struct kvm_vm *vm, int state_fd, int mem_fd,
		      uint64_t sizes[2])
{
	struct machine *m = vm->m;
	struct snap_w body, file;
	uint64_t id = new_mem_id();
	uint64_t looked = 0;
	int64_t t[5];
	int ret;

	t[0] = startup_now_ns();
	sizes[0] = sizes[1] = 0;
	/* The devices too, before the interrupt controller is read: a
	 * completion drained now raises its interrupt into what is saved,
	 * and each request in flight is in the saved rings exactly once.
	 * Both stay so (postmigrate) until QMP cont. */
	vm_pause(vm);
	machine_quiesce_io(m);
	t[1] = startup_now_ns();
	snap_w_init(&body);
	snap_w_init(&file);
	ret = snap_save_host(m, id, &body);
	if (!ret)
		ret = vm_save_state(vm, &body);
	if (!ret)
		ret = snap_save_devices(m, &body);
	if (!ret)
		ret = snap_file_build(&body, &file);
	if (!ret) {
		ret = fio_pwrite_all(state_fd, file.buf, file.len, 0);
		if (ret)
			log_err("snapshot: writing the state: %s",
				strerror(-ret));
	}
	t[2] = startup_now_ns();
	if (!ret) {
		sizes[0] = file.len;
		ret = snap_write_ram(&m->ram, mem_fd, id, &sizes[1], &looked);
		if (ret)
			log_err("snapshot: writing guest RAM: %s",
				strerror(-ret));
	}
	t[3] = startup_now_ns();
	/* On the disk before anyone is told it is there. */
	if (!ret && (fdatasync(state_fd) || fdatasync(mem_fd))) {
		ret = -errno;
		log_err("snapshot: syncing the files: %s", strerror(errno));
	}
	t[4] = startup_now_ns();
	/* A notice: an operator sees what each snapshot cost the guest. */
	if (!ret)
		log_notice("snapshot: %llu bytes of state, %llu MiB of RAM data "
			 "(%llu MiB looked at) in %.0f ms (pause and drain "
			 "%.0f, state %.0f, RAM %.0f, sync %.0f)",
			 (unsigned long long)sizes[0],
			 (unsigned long long)(sizes[1] >> 20),
			 (unsigned long long)(looked >> 20),
			 startup_ms_between(t[0], t[4]),
			 startup_ms_between(t[0], t[1]),
			 startup_ms_between(t[1], t[2]),
			 startup_ms_between(t[2], t[3]),
			 startup_ms_between(t[3], t[4]));
	snap_w_free(&body);
	snap_w_free(&file);
	return ret;
}

/* @dir's file @name, or -errno (logged). */
static int open_in(const char *dir, const char *name)
{
	int fd = snap_open(dir, name);

	if (fd < 0)
		log_err("--incoming: cannot open %s/%s: %s", dir, name,
			strerror(-fd));
	return fd;
}

int vmm_restore_open(struct vmm_restore *rs, const char *dir)
{
	char err[256] = "";
	uint32_t tag, inst;
	int ret;

	memset(rs, 0, sizeof(*rs));
	rs->dir = dir;
	rs->state_fd = rs->mem_fd = -1;
	rs->state_fd = open_in(dir, SNAP_STATE_FILE);
	if (rs->state_fd < 0)
		return rs->state_fd;
	rs->mem_fd = open_in(dir, SNAP_MEMORY_FILE);
	if (rs->mem_fd < 0)
		return rs->mem_fd;
	ret = snap_read_state(rs->state_fd, &rs->buf, &rs->len, &rs->body,
			      err, sizeof(err));
	if (!ret) {
		ret = snap_r_section(&rs->body, &tag, &inst, &rs->host);
		if (ret == 1 && tag == SNAP_TAG('H', 'O', 'S', 'T'))
			ret = 0;
		else
			snprintf(err, sizeof(err), "%s", ret < 0 ?
				 "its sections are corrupt" :
				 "it does not begin with the machine record");
		if (ret)
			ret = -EBADMSG;
	}
	if (ret)
		log_err("--incoming: %s is not a snapshot rivet can restore: "
			"%s", dir, err);
	return ret;
}

int vmm_restore_check(struct vmm_restore *rs, const struct machine *m,
		      bool cpu)
{
	char err[256] = "";
	int ret = snap_check_host(m, &rs->host, cpu, &rs->mem_id, err,
				  sizeof(err));

	if (ret)
		log_err("--incoming: the snapshot in %s does not fit this "
			"run: %s", rs->dir, err);
	return ret;
}

int vmm_restore_ram(struct vmm_restore *rs, struct machine *m)
{
	char err[256] = "";
	int ret = snap_map_ram(&m->ram, rs->mem_fd, rs->mem_id,
			       m->cfg->pages == GMEM_PAGES_HUGETLB, err,
			       sizeof(err));

	if (ret) {
		log_err("--incoming: %s: %s", rs->dir, err);
		rs->failed = true;
	}
	return ret;
}

static int arch_section(void *ctx, uint32_t tag, uint32_t inst,
			struct snap_r *r)
{
	return vm_load_section(ctx, tag, inst, r);
}

int vmm_restore_state(struct vmm_restore *rs, struct kvm_vm *vm)
{
	char err[256] = "";
	int ret = snap_restore_sections(vm->m, &rs->body, arch_section, vm,
					err, sizeof(err));

	if (!ret && vm_load_finish(vm)) {
		snprintf(err, sizeof(err), "records are missing (a vCPU or "
			 "the interrupt controller)");
		ret = -EBADMSG;
	}
	if (ret)
		log_err("--incoming: cannot restore %s: %s", rs->dir,
			err[0] ? err : strerror(-ret));
	return ret;
}

void vmm_restore_close(struct vmm_restore *rs)
{
	if (rs->state_fd >= 0)
		close(rs->state_fd);
	if (rs->mem_fd >= 0)
		close(rs->mem_fd);
	free(rs->buf);
	rs->buf = NULL;
	rs->state_fd = rs->mem_fd = -1;
}
