// SPDX-License-Identifier: MIT
#include "devices/vhost_net.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int vhost_net_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

int vhost_net_open(int *out, const char **why)
{
	uint64_t f = 0;
	int fd, err;

	fd = open("/dev/vhost-net", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		*why = err == -ENOENT ? "no /dev/vhost-net (module vhost_net not loaded?)" :
					"cannot open /dev/vhost-net";
		return err;
	}
	err = vhost_net_ioctl(fd, VHOST_SET_OWNER, NULL);
	if (!err)
		err = vhost_net_ioctl(fd, VHOST_GET_FEATURES, &f);
	if (err) {
		*why = "VHOST_SET_OWNER/VHOST_GET_FEATURES failed";
		close(fd);
		return err;
	}
	if ((f & VHOST_NET_NEEDED) != VHOST_NET_NEEDED) {
		*why = "the kernel's vhost-net lacks VERSION_1 or MRG_RXBUF";
		close(fd);
		return -EOPNOTSUPP;
	}
	*out = fd;
	return 0;
}

int vhost_net_set_mem(int fd, vhost_ioctl_fn io, uint64_t gpa,
		      uint64_t size, void *host)
{
	struct vhost_memory *m;
	int err;

	m = calloc(1, sizeof(*m) + sizeof(m->regions[0]));
	if (!m)
		return -ENOMEM;
	m->nregions = 1;
	m->regions[0].guest_phys_addr = gpa;
	m->regions[0].memory_size = size;
	m->regions[0].userspace_addr = (uintptr_t)host;
	err = io(fd, VHOST_SET_MEM_TABLE, m);
	free(m);
	return err;
}

int vhost_net_set_fds(int fd, vhost_ioctl_fn io, unsigned int idx, int kick,
		      int call)
{
	struct vhost_vring_file k = { .index = idx, .fd = kick };
	struct vhost_vring_file c = { .index = idx, .fd = call };
	int err = io(fd, VHOST_SET_VRING_KICK, &k);

	return err ? err : io(fd, VHOST_SET_VRING_CALL, &c);
}

int vhost_net_start(int fd, vhost_ioctl_fn io, uint64_t features,
		    const struct vhost_ring rings[2], int tap)
{
	int err = io(fd, VHOST_SET_FEATURES, &features);

	for (unsigned int i = 0; !err && i < 2; i++) {
		struct vhost_vring_state num = { .index = i,
						 .num = rings[i].size };
		struct vhost_vring_state base = { .index = i,
						  .num = rings[i].base };
		struct vhost_vring_addr a = {
			.index = i,
			.desc_user_addr = (uintptr_t)rings[i].desc,
			.avail_user_addr = (uintptr_t)rings[i].avail,
			.used_user_addr = (uintptr_t)rings[i].used,
		};

		err = io(fd, VHOST_SET_VRING_NUM, &num);
		if (!err)
			err = io(fd, VHOST_SET_VRING_ADDR, &a);
		if (!err)
			err = io(fd, VHOST_SET_VRING_BASE, &base);
	}
	for (unsigned int i = 0; !err && i < 2; i++) {
		struct vhost_vring_file b = { .index = i, .fd = tap };

		err = io(fd, VHOST_NET_SET_BACKEND, &b);
	}
	if (err)
		vhost_net_stop(fd, io, (uint16_t[2]){ 0, 0 });
	return err;
}

int vhost_net_stop(int fd, vhost_ioctl_fn io, uint16_t base[2])
{
	int err = 0;

	for (unsigned int i = 0; i < 2; i++) {
		struct vhost_vring_file b = { .index = i, .fd = -1 };
		struct vhost_vring_state s = { .index = i };
		int e = io(fd, VHOST_NET_SET_BACKEND, &b);

		if (!e)
			e = io(fd, VHOST_GET_VRING_BASE, &s);
		base[i] = e ? 0 : (uint16_t)s.num;
		if (e && !err)
			err = e;
	}
	return err;
}
