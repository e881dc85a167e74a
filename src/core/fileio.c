// SPDX-License-Identifier: MIT
#include "core/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/log.h"

/* The one transfer loop: 0 when all of @iov moved, 1 at end of file, or
 * -errno; *@done counts the bytes moved either way. */
static int piov_loop(int fd, struct iovec *iov, int cnt, uint64_t off,
		     bool write, uint64_t *done)
{
	*done = 0;
	for (;;) {
		int batch;
		ssize_t n;
		size_t left;

		while (cnt > 0 && iov->iov_len == 0) {
			iov++;
			cnt--;
		}
		if (cnt == 0)
			return 0;
		batch = cnt < IOV_MAX ? cnt : IOV_MAX;
		n = write ? pwritev(fd, iov, batch, (off_t)off)
			  : preadv(fd, iov, batch, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 1;
		off += (uint64_t)n;
		*done += (uint64_t)n;
		left = (size_t)n;
		while (left && left >= iov->iov_len) {
			left -= iov->iov_len;
			iov++;
			cnt--;
		}
		if (left) {
			iov->iov_base = (uint8_t *)iov->iov_base + left;
			iov->iov_len -= left;
		}
	}
}

int fio_piov(int fd, struct iovec *iov, int cnt, uint64_t off, bool write)
{
	uint64_t done;
	int ret = piov_loop(fd, iov, cnt, off, write, &done);

	return ret == 1 ? -EIO : ret;
}

/* One segment is a vector of one: a single code path, and the vCPU
 * threads' seccomp list needs only preadv/pwritev. */
int fio_pio(int fd, void *buf, size_t len, uint64_t off, bool write)
{
	struct iovec v = { .iov_base = buf, .iov_len = len };

	return fio_piov(fd, &v, 1, off, write);
}

int64_t fio_pread_upto(int fd, void *buf, size_t len, uint64_t off)
{
	struct iovec v = { .iov_base = buf, .iov_len = len };
	uint64_t done;
	int ret = piov_loop(fd, &v, 1, off, false, &done);

	return ret < 0 ? ret : (int64_t)done;
}

int fio_open(const char *what, const char *path, bool readonly)
{
	int fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);

	if (fd < 0) {
		int err = -errno;

		log_err("%s: cannot open %s%s: %s", what, path,
			readonly ? " read-only" : "", strerror(-err));
		return err;
	}
	return fd;
}

int fio_read_file(const char *what, const char *path, uint64_t max,
		  uint8_t **buf, size_t *len)
{
	struct stat st;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		ret = -errno;
		log_err("%s '%s': %s", what, path, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > max) {
		log_err("%s '%s': not a regular file of 1 byte to %llu MiB",
			what, path, (unsigned long long)(max >> 20));
		close(fd);
		return -EINVAL;
	}
	*len = (size_t)st.st_size;
	*buf = malloc(*len);
	if (!*buf) {
		close(fd);
		return -ENOMEM;
	}
	ret = fio_pread_all(fd, *buf, *len, 0);
	if (ret) {
		log_err("%s '%s': read failed: %s", what, path, strerror(-ret));
		free(*buf);
		*buf = NULL;
	}
	close(fd);
	return ret;
}
