/* SPDX-License-Identifier: MIT */
/* `rivet snapshot-info` (docs/snapshot.md): a snapshot directory checked
 * and described without restoring it, or two compared. */
#ifndef RIVET_SNAPSHOT_INSPECT_H
#define RIVET_SNAPSHOT_INSPECT_H

#include <stddef.h>
#include <stdio.h>

/* Check @dir's files (state header and checksums, the memory file's
 * size) and print what it holds to @out; with @other, compare the two
 * instead, record by record (the memory file's id aside) and RAM (where
 * either memory file has data), and print what differs.  0 (valid;
 * identical), 1 (they differ), or -errno with the reason in @err. */
int snap_inspect(const char *dir, const char *other, FILE *out, char *err,
		 size_t errlen);

#endif
