// SPDX-License-Identifier: MIT
#include "tests/support/files.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/fileio.h"
#include "tests/support/check.h"

void ts_temp_file(char *path, const char *tag, size_t size,
		  uint8_t (*pattern)(uint64_t off))
{
	const char *dir = getenv("TMPDIR");
	uint8_t *buf = calloc(1, size ? size : 1);
	int fd;

	TS_CHECK(buf);
	snprintf(path, PATH_MAX, "%s/rivet-%s-XXXXXX", dir ? dir : "/tmp",
		 tag);
	fd = mkstemp(path);
	TS_CHECK(fd >= 0);
	for (size_t i = 0; pattern && i < size; i++)
		buf[i] = pattern(i);
	TS_CHECK(fio_pwrite_all(fd, buf, size, 0) == 0);
	close(fd);
	free(buf);
}

void ts_swap_fd(int fd, const char *path, int flags)
{
	int f = open(path, flags);

	TS_CHECK(f >= 0);
	TS_CHECK(dup2(f, fd) == fd);
	close(f);
}

int ts_memfd(int *fd, const char *name, uint64_t size)
{
	if (*fd < 0)
		*fd = memfd_create(name, MFD_CLOEXEC);
	TS_CHECK(*fd >= 0);
	TS_CHECK(ftruncate(*fd, 0) == 0 && ftruncate(*fd, (off_t)size) == 0);
	return *fd;
}
