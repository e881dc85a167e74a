/* SPDX-License-Identifier: MIT */
/* A fw_cfg device's files as the VMM holds them, for tests: read without
 * going through the guest interface, so the device's selector state is
 * left alone. */
#ifndef RIVET_TEST_FWCFG_PEEK_H
#define RIVET_TEST_FWCFG_PEEK_H

#include <stddef.h>
#include <stdint.h>

struct rivet_dev;

/* Look a file up: its key and current size.  0 or -ENOENT (-EINVAL: not a
 * fw_cfg device). */
int fwcfg_find_file(struct rivet_dev *dev, const char *name, uint16_t *key,
		    uint32_t *size);

/* Copy up to @len bytes of a file's current contents (a writable file as
 * the guest left it) to @buf; returns the number copied or -ENOENT. */
long fwcfg_read_file(struct rivet_dev *dev, const char *name, void *buf,
		     size_t len);

#endif
