/* SPDX-License-Identifier: MIT */
/* Whole-buffer positioned I/O on host files: short reads and writes are
 * continued, EINTR retried, and end of file is an error (-EIO), never a
 * spin.  0 or -errno. */
#ifndef RIVET_FILEIO_H
#define RIVET_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int fio_pio(int fd, void *buf, size_t len, uint64_t off, bool write);

struct iovec;
/* The whole of @iov[0 .. @cnt) from/to byte @off, with preadv/pwritev (one
 * system call for a scattered guest buffer), resumed after short transfers
 * and EINTR.  @iov is consumed.  0, -errno, or -EIO at end of file. */
int fio_piov(int fd, struct iovec *iov, int cnt, uint64_t off, bool write);

/* Read up to @len bytes at @off, stopping early only at end of file: the
 * count read, or -errno. */
int64_t fio_pread_upto(int fd, void *buf, size_t len, uint64_t off);

/* Read the whole of regular file @path (1 byte to @max bytes) into a new
 * buffer (*@buf, free() it; *@len its size).  @what names the file in the
 * message logged on failure.  0 or -errno. */
int fio_read_file(const char *what, const char *path, uint64_t max,
		  uint8_t **buf, size_t *len);

/* Open a disk or flash image read-write (or read-only) for @what (the
 * device, for the message logged on failure): the fd or -errno. */
int fio_open(const char *what, const char *path, bool readonly);

static inline int fio_pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	return fio_pio(fd, buf, len, off, false);
}

static inline int fio_pwrite_all(int fd, const void *buf, size_t len,
				 uint64_t off)
{
	return fio_pio(fd, (void *)buf, len, off, true);
}

#endif
