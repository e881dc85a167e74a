// SPDX-License-Identifier: MIT
#include "core/fileio.h"

#include <errno.h>
#include <limits.h>
#include <sys/uio.h>
#include <unistd.h>

int fio_piov(int fd, struct iovec *iov, int cnt, uint64_t off, bool write)
{
	while (cnt > 0 && iov->iov_len == 0) {
		iov++;
		cnt--;
	}
	while (cnt > 0) {
		int batch = cnt < IOV_MAX ? cnt : IOV_MAX;
		ssize_t n = write ? pwritev(fd, iov, batch, (off_t)off)
				  : preadv(fd, iov, batch, (off_t)off);
		size_t left;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		off += (uint64_t)n;
		left = (size_t)n;
		while (cnt > 0 && left >= iov->iov_len) {
			left -= iov->iov_len;
			iov++;
			cnt--;
		}
		if (left) {
			iov->iov_base = (uint8_t *)iov->iov_base + left;
			iov->iov_len -= left;
		}
		while (cnt > 0 && iov->iov_len == 0) {
			iov++;
			cnt--;
		}
	}
	return 0;
}

/* One segment is a vector of one: a single code path, and the vCPU
 * threads' seccomp list needs only preadv/pwritev. */
int fio_pio(int fd, void *buf, size_t len, uint64_t off, bool write)
{
	struct iovec v = { .iov_base = buf, .iov_len = len };

	return fio_piov(fd, &v, 1, off, write);
}
