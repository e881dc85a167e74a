/* SPDX-License-Identifier: MIT */
/* Host files for tests: disk and flash images in $TMPDIR (or /tmp), and
 * the fuzz targets' in-memory images. */
#ifndef RIVET_TEST_FILES_H
#define RIVET_TEST_FILES_H

#include <stddef.h>
#include <stdint.h>

/* Create $TMPDIR/rivet-@tag-XXXXXX of @size bytes, byte i = @pattern(i)
 * (NULL: all zero), and put its name in @path (PATH_MAX bytes).  The
 * caller unlinks it. */
void ts_temp_file(char *path, const char *tag, size_t size,
		  uint8_t (*pattern)(uint64_t off));

/* Put the file @path, opened with @flags, behind @fd (dup2): the host
 * errors a device meets after its image was opened. */
void ts_swap_fd(int fd, const char *path, int flags);

/* The process's memfd kept in *@fd (made on first use, named @name),
 * emptied and resized to @size bytes; returns it. */
int ts_memfd(int *fd, const char *name, uint64_t size);

#endif
