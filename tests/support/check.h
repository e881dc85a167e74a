/* SPDX-License-Identifier: MIT */
/* How test support code fails: a line naming the check, then abort() —
 * which cmocka reports as the test's failure and a fuzzer as a crash. */
#ifndef RIVET_TEST_CHECK_H
#define RIVET_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define TS_CHECK(cond)                                                      \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "%s:%d: check failed: %s\n",        \
				__FILE__, __LINE__, #cond);                 \
			abort();                                            \
		}                                                           \
	} while (0)

#endif
