// SPDX-License-Identifier: MIT
#include "tests/support/fwcfg_peek.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fwcfg/fwcfg_priv.h"

static bool fwcfg_dev_ok(const struct rivet_dev *dev)
{
	return dev && dev->ops && dev->ops->name &&
	       !strcmp(dev->ops->name, "fw_cfg");
}

int fwcfg_find_file(struct rivet_dev *dev, const char *name, uint16_t *key,
		    uint32_t *size)
{
	struct fwcfg *f;
	struct fwcfg_item *it;

	if (!fwcfg_dev_ok(dev) || !name)
		return -EINVAL;
	f = to_fwcfg(dev);
	pthread_mutex_lock(&f->lock);
	it = fwcfg_find_name(f, name);
	if (it) {
		if (key)
			*key = it->key;
		if (size)
			*size = it->len;
	}
	pthread_mutex_unlock(&f->lock);
	return it ? 0 : -ENOENT;
}

long fwcfg_read_file(struct rivet_dev *dev, const char *name, void *buf,
		     size_t len)
{
	struct fwcfg *f;
	struct fwcfg_item *it;
	size_t n = 0;

	if (!fwcfg_dev_ok(dev) || !name || (!buf && len))
		return -EINVAL;
	f = to_fwcfg(dev);
	pthread_mutex_lock(&f->lock);
	it = fwcfg_find_name(f, name);
	if (it) {
		n = len < it->len ? len : it->len;
		if (n)
			memcpy(buf, it->data, n);
	}
	pthread_mutex_unlock(&f->lock);
	return it ? (long)n : -ENOENT;
}
