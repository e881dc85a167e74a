/* SPDX-License-Identifier: MIT */
/* Internal to src/fwcfg/fwcfg.c, and shown to tests (tests/support/) so
 * they can look at the items without going through the guest interface,
 * whose selector state they would disturb. */
#ifndef RIVET_FWCFG_PRIV_H
#define RIVET_FWCFG_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/device.h"
#include "fwcfg/fwcfg.h"

struct gmem;

struct fwcfg_item {
	uint16_t key;		/* without FWCFG_WRITE_CHANNEL */
	bool writable;
	uint32_t len;
	uint8_t *data;		/* NULL when len == 0 */
	char name[FWCFG_NAME_SIZE];	/* files only */
};

struct fwcfg {
	struct rivet_dev dev;
	pthread_mutex_t lock;
	const struct gmem *gm;
	struct fwcfg_item fixed[FWCFG_MAX_ITEMS];
	unsigned int nr_fixed;
	struct fwcfg_item files[FWCFG_MAX_FILES];  /* key FILE_FIRST + i */
	unsigned int nr_files;
	struct fwcfg_item *cur;	/* selected item, NULL: invalid key */
	uint32_t offset;	/* into cur, never past cur->len */
	uint64_t dma_addr;	/* latched high half */
};

static inline struct fwcfg *to_fwcfg(struct rivet_dev *dev)
{
	return dev->priv;
}

/* The file @name, or NULL; f->lock held. */
struct fwcfg_item *fwcfg_find_name(struct fwcfg *f, const char *name);

#endif
