// SPDX-License-Identifier: MIT
/* fio_piov: whole vectored transfers, empty segments, more segments than
 * one preadv takes (IOV_MAX), end of file and errors. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/fileio.h"

#define N (IOV_MAX + 476)	/* two batches */

static void test_piov(void **state)
{
	static uint8_t out[N], in[N];
	static struct iovec iov[N];
	FILE *f = tmpfile();
	int64_t written;
	int fd;

	(void)state;
	assert_non_null(f);
	fd = fileno(f);
	for (int i = 0; i < N; i++)
		out[i] = (uint8_t)(i * 7 + 1);
	/* One byte per segment, every 10th segment empty. */
	for (int i = 0; i < N; i++)
		iov[i] = (struct iovec){ out + i, i % 10 ? 1 : 0 };
	assert_int_equal(fio_piov(fd, iov, N, 100, true), 0);
	/* Read back as three uneven pieces. */
	iov[0] = (struct iovec){ in, 3 };
	iov[1] = (struct iovec){ in + 3, 0 };
	iov[2] = (struct iovec){ in + 3, 1000 };
	assert_int_equal(fio_piov(fd, iov, 3, 100, false), 0);
	for (int i = 0, k = 0; i < N && k < 1003; i++)
		if (i % 10)
			assert_int_equal(in[k++], out[i]);
	/* Past the end of the file: an error, not a silent short read. */
	iov[0] = (struct iovec){ in, 64 };
	assert_int_equal(fio_piov(fd, iov, 1, 100 + N, false), -EIO);
	/* Nothing to move. */
	assert_int_equal(fio_piov(fd, iov, 0, 0, false), 0);
	/* fio_pread_upto: the whole length, or what is there before EOF. */
	memset(in, 0, sizeof(in));
	assert_int_equal(fio_pread_upto(fd, in, 10, 100), 10);
	assert_int_equal(in[0], out[1]);	/* out[0]'s segment was empty */
	written = 0;
	for (int i = 0; i < N; i++)
		written += i % 10 ? 1 : 0;
	assert_int_equal(fio_pread_upto(fd, in, sizeof(in), 100 + 1000),
			 written - 1000);
	assert_int_equal(fio_pread_upto(fd, in, 64, 100 + written), 0);
	assert_int_equal(fio_pread_upto(-1, in, 64, 0), -EBADF);
	fclose(f);
	iov[0] = (struct iovec){ in, 1 };
	assert_int_equal(fio_piov(-1, iov, 1, 0, false), -EBADF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_piov),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
