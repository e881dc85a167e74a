// SPDX-License-Identifier: MIT
/* The boot timer: only the magic byte at offset 0 fires, once per boot, and
 * the line it prints carries the times a benchmark harness parses. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/device.h"
#include "core/startup.h"
#include "devices/boot_timer.h"

/* Run @fn with stderr captured into @buf. */
static void capture(void (*fn)(struct rivet_dev *), struct rivet_dev *d,
		    char *buf, size_t len)
{
	FILE *tmp = tmpfile();
	int saved = dup(fileno(stderr));
	size_t n;

	assert_non_null(tmp);
	fflush(stderr);
	dup2(fileno(tmp), fileno(stderr));
	fn(d);
	fflush(stderr);
	dup2(saved, fileno(stderr));
	close(saved);
	rewind(tmp);
	n = fread(buf, 1, len - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
}

static void wrong_writes(struct rivet_dev *d)
{
	uint8_t v[8] = { BOOT_TIMER_MAGIC };
	uint8_t other = BOOT_TIMER_MAGIC + 1;

	d->ops->mmio_write(d, 4, v, 1);		/* not offset 0 */
	d->ops->mmio_write(d, 0, &other, 1);	/* not the magic */
}

static void magic_write(struct rivet_dev *d)
{
	uint8_t v[4] = { BOOT_TIMER_MAGIC, 0, 0, 0 };

	d->ops->mmio_write(d, 0, v, 4);
}

static void test_fires_once(void **state)
{
	struct rivet_dev *d;
	char out[512];
	double init_ms, run_ms;
	long long s1, s2, s3;
	long u1, u2, u3;
	uint8_t r[8];

	(void)state;
	startup_note_start();
	startup_note_first_run();
	assert_int_equal(boot_timer_create(0x10200000ULL, &d), 0);
	assert_int_equal(d->size, BOOT_TIMER_SIZE);
	memset(r, 0xa5, sizeof(r));
	d->ops->mmio_read(d, 0, r, 8);
	for (int i = 0; i < 8; i++)
		assert_int_equal(r[i], 0);

	capture(wrong_writes, d, out, sizeof(out));
	assert_string_equal(out, "");
	capture(magic_write, d, out, sizeof(out));
	assert_int_equal(sscanf(out,
				"rivet: boot-timer: guest init +%lf ms, first "
				"KVM_RUN +%lf ms (realtime start=%lld.%ld "
				"first_run=%lld.%ld init=%lld.%ld)",
				&init_ms, &run_ms, &s1, &u1, &s2, &u2, &s3, &u3),
			 8);
	assert_true(run_ms >= 0 && init_ms >= run_ms);
	assert_true(s1 > 0 && s2 >= s1 && s3 >= s2);
	/* Once per boot; the next boot's device (a fresh VM process) fires
	 * again. */
	capture(magic_write, d, out, sizeof(out));
	assert_string_equal(out, "");
	d->ops->destroy(d);
	assert_int_equal(boot_timer_create(0x10200000ULL, &d), 0);
	capture(magic_write, d, out, sizeof(out));
	assert_non_null(strstr(out, "rivet: boot-timer: guest init +"));
	d->ops->destroy(d);
	assert_int_equal(boot_timer_create(UINT64_MAX - 10, &d), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fires_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
