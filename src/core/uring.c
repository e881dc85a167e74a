// SPDX-License-Identifier: MIT
#include "core/uring.h"

#include <errno.h>
#include <linux/io_uring.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

struct uring {
	int fd;
	/* Submission ring: head moved by the kernel, tail by us. */
	unsigned int *sq_head, *sq_tail, *sq_array, sq_mask, sq_entries;
	struct io_uring_sqe *sqes;
	unsigned int sq_local;		/* our tail, not yet published */
	/* Completion ring: tail moved by the kernel, head by us. */
	unsigned int *cq_head, *cq_tail, cq_mask;
	struct io_uring_cqe *cqes;
	void *sq_map, *cq_map;
	size_t sq_map_len, cq_map_len, sqes_len;
};

static long sys_setup(unsigned int entries, struct io_uring_params *p)
{
	return syscall(SYS_io_uring_setup, entries, p);
}

static long sys_register(int fd, unsigned int op, const void *arg,
			 unsigned int nr)
{
	return syscall(SYS_io_uring_register, fd, op, arg, nr);
}

static int map_rings(struct uring *u, const struct io_uring_params *p)
{
	u->sq_map_len = p->sq_off.array + p->sq_entries * sizeof(unsigned int);
	u->cq_map_len = p->cq_off.cqes +
			p->cq_entries * sizeof(struct io_uring_cqe);
	if (p->features & IORING_FEAT_SINGLE_MMAP) {
		if (u->cq_map_len > u->sq_map_len)
			u->sq_map_len = u->cq_map_len;
		u->cq_map_len = u->sq_map_len;
	}
	u->sq_map = mmap(NULL, u->sq_map_len, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_SQ_RING);
	if (u->sq_map == MAP_FAILED)
		return -errno;
	if (p->features & IORING_FEAT_SINGLE_MMAP) {
		u->cq_map = u->sq_map;
	} else {
		u->cq_map = mmap(NULL, u->cq_map_len, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_POPULATE, u->fd,
				 IORING_OFF_CQ_RING);
		if (u->cq_map == MAP_FAILED)
			return -errno;
	}
	u->sqes_len = p->sq_entries * sizeof(struct io_uring_sqe);
	u->sqes = mmap(NULL, u->sqes_len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_SQES);
	if (u->sqes == MAP_FAILED) {
		u->sqes = NULL;
		return -errno;
	}
	u->sq_head = (unsigned int *)((char *)u->sq_map + p->sq_off.head);
	u->sq_tail = (unsigned int *)((char *)u->sq_map + p->sq_off.tail);
	u->sq_array = (unsigned int *)((char *)u->sq_map + p->sq_off.array);
	u->sq_mask = *(unsigned int *)((char *)u->sq_map +
				       p->sq_off.ring_mask);
	u->sq_entries = p->sq_entries;
	u->cq_head = (unsigned int *)((char *)u->cq_map + p->cq_off.head);
	u->cq_tail = (unsigned int *)((char *)u->cq_map + p->cq_off.tail);
	u->cq_mask = *(unsigned int *)((char *)u->cq_map +
				       p->cq_off.ring_mask);
	u->cqes = (struct io_uring_cqe *)((char *)u->cq_map +
					  p->cq_off.cqes);
	u->sq_local = *u->sq_tail;
	return 0;
}

/* Fixed file 0, the eventfd, the restrictions, then enable: in that order,
 * as no register operation is allowed afterwards. */
static int lock_down(struct uring *u, int fd, int efd)
{
	static const struct io_uring_restriction r[] = {
		{ .opcode = IORING_RESTRICTION_SQE_OP,
		  .sqe_op = IORING_OP_READV },
		{ .opcode = IORING_RESTRICTION_SQE_OP,
		  .sqe_op = IORING_OP_WRITEV },
		{ .opcode = IORING_RESTRICTION_SQE_OP,
		  .sqe_op = IORING_OP_FSYNC },
		{ .opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED,
		  .sqe_flags = IOSQE_FIXED_FILE },
		{ .opcode = IORING_RESTRICTION_SQE_FLAGS_REQUIRED,
		  .sqe_flags = IOSQE_FIXED_FILE },
		/* Only to let go of the file at the end (uring_close). */
		{ .opcode = IORING_RESTRICTION_REGISTER_OP,
		  .register_op = IORING_UNREGISTER_FILES },
	};

	if (sys_register(u->fd, IORING_REGISTER_FILES, &fd, 1) ||
	    sys_register(u->fd, IORING_REGISTER_EVENTFD, &efd, 1) ||
	    sys_register(u->fd, IORING_REGISTER_RESTRICTIONS, r,
			 sizeof(r) / sizeof(r[0])) ||
	    sys_register(u->fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0))
		return -errno;
	return 0;
}

int uring_open(struct uring **out, unsigned int entries, int fd, int efd)
{
	struct io_uring_params p;
	struct uring *u;
	int err;

	if (!entries || entries > 4096 || (entries & (entries - 1)))
		return -EINVAL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_R_DISABLED;
	u->fd = (int)sys_setup(entries, &p);
	if (u->fd < 0) {
		err = -errno;
		free(u);
		return err;
	}
	u->sq_map = u->cq_map = MAP_FAILED;
	err = map_rings(u, &p);
	if (!err)
		err = lock_down(u, fd, efd);
	if (err) {
		uring_close(u);
		return err;
	}
	*out = u;
	return 0;
}

void uring_close(struct uring *u)
{
	if (!u)
		return;
	/* Synchronously: the ring's teardown is asynchronous, and until it
	 * drops the file, its flock would keep the next boot out. */
	sys_register(u->fd, IORING_UNREGISTER_FILES, NULL, 0);
	if (u->sqes)
		munmap(u->sqes, u->sqes_len);
	if (u->cq_map != MAP_FAILED && u->cq_map != u->sq_map)
		munmap(u->cq_map, u->cq_map_len);
	if (u->sq_map != MAP_FAILED)
		munmap(u->sq_map, u->sq_map_len);
	close(u->fd);
	free(u);
}

/* The next free submission entry, zeroed, or NULL if the ring is full. */
static struct io_uring_sqe *next_sqe(struct uring *u, uint64_t tag)
{
	unsigned int head = __atomic_load_n(u->sq_head, __ATOMIC_ACQUIRE);
	struct io_uring_sqe *sqe;

	if (u->sq_local - head >= u->sq_entries)
		return NULL;
	sqe = &u->sqes[u->sq_local & u->sq_mask];
	memset(sqe, 0, sizeof(*sqe));
	sqe->flags = IOSQE_FIXED_FILE;
	sqe->fd = 0;			/* fixed file 0: the disk */
	sqe->user_data = tag;
	u->sq_array[u->sq_local & u->sq_mask] = u->sq_local & u->sq_mask;
	u->sq_local++;
	return sqe;
}

bool uring_rw(struct uring *u, bool write, const struct iovec *iov,
	      unsigned int cnt, uint64_t off, uint64_t tag)
{
	struct io_uring_sqe *sqe = next_sqe(u, tag);

	if (!sqe)
		return false;
	sqe->opcode = write ? IORING_OP_WRITEV : IORING_OP_READV;
	sqe->addr = (uint64_t)(uintptr_t)iov;
	sqe->len = cnt;
	sqe->off = off;
	return true;
}

bool uring_fdatasync(struct uring *u, uint64_t tag)
{
	struct io_uring_sqe *sqe = next_sqe(u, tag);

	if (!sqe)
		return false;
	sqe->opcode = IORING_OP_FSYNC;
	sqe->fsync_flags = IORING_FSYNC_DATASYNC;
	return true;
}

int uring_submit(struct uring *u)
{
	unsigned int n;

	/* Release: the entries are written before the kernel sees the tail. */
	__atomic_store_n(u->sq_tail, u->sq_local, __ATOMIC_RELEASE);
	n = u->sq_local - __atomic_load_n(u->sq_head, __ATOMIC_ACQUIRE);
	while (n) {
		long r = syscall(SYS_io_uring_enter, u->fd, n, 0, 0, NULL, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		n -= (unsigned int)r;
	}
	return 0;
}

bool uring_reap(struct uring *u, uint64_t *tag, int32_t *res)
{
	unsigned int head = *u->cq_head;
	const struct io_uring_cqe *cqe;

	if (head == __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE))
		return false;
	cqe = &u->cqes[head & u->cq_mask];
	*tag = cqe->user_data;
	*res = cqe->res;
	__atomic_store_n(u->cq_head, head + 1, __ATOMIC_RELEASE);
	return true;
}
