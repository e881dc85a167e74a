// SPDX-License-Identifier: MIT
/* virtio-rng's entropy in the fuzz binaries: a fixed stream restarted per
 * input (fuzz_rng_reset()), so what it writes into guest RAM (possibly
 * over the rings) replays exactly.  Calling fuzz_rng_reset() links this
 * file, whose getrandom() then stands in for the C library's. */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

void fuzz_rng_reset(void);
ssize_t getrandom(void *buf, size_t len, unsigned int flags);

static uint64_t state;

void fuzz_rng_reset(void)
{
	state = 0x9e3779b97f4a7c15ULL;
}

ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
	uint8_t *p = buf;

	(void)flags;
	for (size_t i = 0; i < len; i++) {
		state = state * 6364136223846793005ULL + 1442695040888963407ULL;
		p[i] = (uint8_t)(state >> 56);
	}
	return (ssize_t)len;
}
