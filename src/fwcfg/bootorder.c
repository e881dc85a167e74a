// SPDX-License-Identifier: MIT
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwcfg/bootorder.h"
#include "fwcfg/fwcfg.h"

#define BOOTORDER_PATH_MAX 80	/* "/pci@" + 16 + "/ethernet@1f/ethernet-phy@0" */

static int path_of(uint64_t pci_base, const struct bootorder_dev *d,
		   char *buf, size_t len)
{
	int n;

	if (d->slot < 1 || d->slot > 31)
		return -EINVAL;
	if (d->kind == BOOTORDER_DISK)
		n = snprintf(buf, len, "/pci@%016" PRIx64 "/scsi@%x/disk@0,0",
			     pci_base, d->slot);
	else
		n = snprintf(buf, len,
			     "/pci@%016" PRIx64 "/ethernet@%x/ethernet-phy@0",
			     pci_base, d->slot);
	return n > 0 && (size_t)n < len ? n : -EINVAL;
}

int bootorder_build(uint64_t pci_base, const struct bootorder_dev *devs,
		    size_t n, char **out, size_t *len)
{
	char path[BOOTORDER_PATH_MAX];
	size_t used = 0, count = 0;
	char *buf;
	int last = -1;

	*out = NULL;
	*len = 0;
	for (size_t i = 0; i < n; i++) {
		if (devs[i].bootindex < 0)
			continue;
		for (size_t j = 0; j < i; j++)
			if (devs[j].bootindex == devs[i].bootindex)
				return -EINVAL;
		if (path_of(pci_base, &devs[i], path, sizeof(path)) < 0)
			return -EINVAL;
		count++;
	}
	if (!count)
		return 0;
	buf = malloc(count * BOOTORDER_PATH_MAX);
	if (!buf)
		return -ENOMEM;
	/* n is small (disks + nets): pick the next larger index each time. */
	for (size_t k = 0; k < count; k++) {
		const struct bootorder_dev *next = NULL;
		int pl;

		for (size_t i = 0; i < n; i++)
			if (devs[i].bootindex > last &&
			    (!next || devs[i].bootindex < next->bootindex))
				next = &devs[i];
		last = next->bootindex;
		pl = path_of(pci_base, next, path, sizeof(path));
		if (used)
			buf[used - 1] = '\n';
		memcpy(buf + used, path, (size_t)pl + 1);
		used += (size_t)pl + 1;
	}
	*out = buf;
	*len = used;
	return 0;
}

int bootorder_install(struct rivet_dev *fwcfg, uint64_t pci_base,
		      const struct bootorder_dev *devs, size_t n,
		      int timeout_s)
{
	char *file;
	size_t len;
	int ret;

	ret = bootorder_build(pci_base, devs, n, &file, &len);
	if (ret)
		return ret;
	if (file) {
		ret = fwcfg_add_file(fwcfg, "bootorder", file, len, false);
		free(file);
		if (ret)
			return ret;
	}
	if (timeout_s >= 0) {
		/* EDK2 rounds the milliseconds up to whole seconds. */
		uint32_t ms = (uint32_t)timeout_s * 1000;
		uint8_t on[2] = { 1, 0 };
		uint8_t wait[2] = { (uint8_t)ms, (uint8_t)(ms >> 8) };

		if (ms > UINT16_MAX)
			return -EINVAL;
		ret = fwcfg_add_item(fwcfg, FWCFG_BOOT_MENU, on, sizeof(on));
		if (!ret)
			ret = fwcfg_add_file(fwcfg, "etc/boot-menu-wait", wait,
					     sizeof(wait), false);
	}
	return ret;
}
