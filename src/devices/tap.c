// SPDX-License-Identifier: MIT
#include "devices/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"

_Static_assert(CONFIG_IFNAMSIZ == IFNAMSIZ, "IFNAMSIZ");
_Static_assert(CONFIG_MAX_NET_QUEUES == TAP_MAX_QUEUES, "queues");
_Static_assert(TAP_F_CSUM == TUN_F_CSUM && TAP_F_TSO4 == TUN_F_TSO4 &&
	       TAP_F_TSO6 == TUN_F_TSO6 && TAP_F_TSO_ECN == TUN_F_TSO_ECN &&
	       TAP_F_UFO == TUN_F_UFO, "TUN_F_* values");

int tap_set_offload(int fd, unsigned int flags)
{
	return ioctl(fd, TUNSETOFFLOAD, (unsigned long)flags) < 0 ? -errno : 0;
}

int tap_set_queue(int fd, bool on)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = on ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE;
	return ioctl(fd, TUNSETQUEUE, &ifr) < 0 ? -errno : 0;
}

/* Which offloads the host kernel takes: the segmentation ones need
 * checksum offload; UFO is probed apart (kernels refused it for a while). */
static unsigned int probe_offloads(int fd)
{
	static const unsigned int tries[] = {
		TAP_F_CSUM,
		TAP_F_CSUM | TAP_F_TSO4 | TAP_F_TSO6,
		TAP_F_CSUM | TAP_F_TSO4 | TAP_F_TSO6 | TAP_F_TSO_ECN,
		TAP_F_CSUM | TAP_F_UFO,
	};
	unsigned int got = 0;

	for (unsigned int i = 0; i < sizeof(tries) / sizeof(tries[0]); i++)
		if (!tap_set_offload(fd, tries[i]))
			got |= tries[i];
	tap_set_offload(fd, 0);
	return got;
}

static int open_one(const char *name, bool mq, int *out)
{
	int hdr = TAP_VNET_HDR;
	const char *hint = "";
	struct ifreq ifr;
	int f, err;

	f = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (f < 0) {
		err = -errno;
		log_err("virtio-net: cannot open /dev/net/tun: %s%s",
			strerror(-err), err == -ENOENT ?
			" (is the tun module loaded?)" : "");
		return err;
	}
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, strlen(name));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR |
			(mq ? IFF_MULTI_QUEUE : 0);
	if (ioctl(f, TUNSETIFF, &ifr) < 0) {
		err = -errno;
		if (err == -EPERM)
			hint = " (create it first: ip tuntap add dev NAME mode tap user USER)";
		else if (err == -EBUSY)
			hint = " (in use by another process)";
		else if (err == -EINVAL && mq)
			hint = " (queues=N needs a TUN/TAP made multi-queue: ip tuntap add dev NAME mode tap multi_queue)";
		else if (err == -EINVAL)
			hint = " (is it a TUN, not a TAP, interface? or made multi-queue: then give queues=N)";
		log_err("virtio-net: cannot attach to TAP %s: %s%s", name,
			strerror(-err), hint);
		close(f);
		return err;
	}
	if (ioctl(f, TUNSETVNETHDRSZ, &hdr) < 0) {
		err = -errno;
		log_err("virtio-net: TAP %s: cannot set the virtio header size: %s",
			name, strerror(-err));
		close(f);
		return err;
	}
	*out = f;
	return 0;
}

int tap_open(const char *name, unsigned int queues, int *fds,
	     unsigned int *offloads)
{
	int err = 0;

	if (!name || !fds || !offloads ||
	    !config_tap_name_ok(name, strlen(name))) {
		log_err("virtio-net: invalid TAP name '%s'", name ? name : "");
		return -EINVAL;
	}
	if (queues < 1 || queues > TAP_MAX_QUEUES) {
		log_err("virtio-net: TAP %s: %u queues (1 to %d allowed)", name,
			queues, TAP_MAX_QUEUES);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < queues; i++) {
		err = open_one(name, queues > 1, &fds[i]);
		if (err) {
			while (i--)
				close(fds[i]);
			return err;
		}
	}
	*offloads = probe_offloads(fds[0]);
	return 0;
}
