/* SPDX-License-Identifier: MIT */
/* A restricted io_uring for one file (a disk image), by raw system calls.
 *
 * The ring is built on the unconfined main thread and locked down before
 * any guest request reaches it: created disabled, @fd registered as fixed
 * file 0, completions signalled on an eventfd, then
 * IORING_REGISTER_RESTRICTIONS: only READV, WRITEV and FSYNC, each with
 * IOSQE_FIXED_FILE (so only the registered file), and no register
 * operation once enabled but IORING_UNREGISTER_FILES, which uring_close()
 * uses to let go of the file (and its flock) at once.  The thread that uses it needs io_uring_enter only; io_uring's
 * kernel workers run outside seccomp, and the restrictions are what keep
 * them on the disk (docs/seccomp.md). */
#ifndef RIVET_URING_H
#define RIVET_URING_H

#include <stdbool.h>
#include <stdint.h>

struct iovec;
struct uring;

/* A ring of @entries (power of two, 1..4096) for I/O on @fd; each
 * completion writes eventfd @efd.  0 or -errno (-ENOSYS, -EPERM: the host
 * has no io_uring for us). */
int uring_open(struct uring **out, unsigned int entries, int fd, int efd);
void uring_close(struct uring *u);

/* Queue a vectored read/write of fixed file 0 at @off, or an fdatasync;
 * @tag comes back with the completion.  false if the submission queue is
 * full (submit, reap, retry).  @iov must stay valid until completion. */
bool uring_rw(struct uring *u, bool write, const struct iovec *iov,
	      unsigned int cnt, uint64_t off, uint64_t tag);
bool uring_fdatasync(struct uring *u, uint64_t tag);
/* Hand the queued entries to the kernel; 0 or -errno. */
int uring_submit(struct uring *u);
/* The next completion: true with its @tag and @res (bytes or -errno),
 * false when there is none now. */
bool uring_reap(struct uring *u, uint64_t *tag, int32_t *res);

#endif
