// SPDX-License-Identifier: MIT
#include "devices/virtio_net.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "devices/virtio.h"
#include "devices/virtq.h"

_Static_assert(CONFIG_IFNAMSIZ == IFNAMSIZ, "IFNAMSIZ");

/* rx_state: bit 0 says the main loop should poll the TAP; the bits above
 * count the driver's receive-queue notifications, so the main loop can
 * tell whether one came in while it was not looking (see vnet_rx_ready). */
#define RX_WANTED	1u
#define RX_GEN		2u

struct vnet {
	struct virtio_backend be;	/* first: the transport's handle */
	int fd;				/* the TAP */
	int wake_fd;			/* eventfd: RX_WANTED turned on */
	uint32_t rx_state;		/* atomic; see above */
	bool rx_dead;			/* the TAP failed: receive stopped */
	/* A frame read from the TAP that is still looking for a buffer. */
	uint32_t held_len;
	uint8_t *rxbuf;			/* VIRTIO_NET_MAX_FRAME + 1 bytes */
	uint8_t *txbuf;			/* VIRTIO_NET_MAX_FRAME bytes */
	uint8_t config[VIRTIO_NET_CONFIG_SIZE];
	struct vnet_stats st;
};

/* The device whose receive queue this thread is serving right now (set by
 * vnet_rx_ready() around the kick), and whether the transport called us:
 * a notify of queue 0 from anywhere else is the driver's. */
static __thread struct vnet *rx_thread_dev;
static __thread bool rx_served;

#define STAT_ADD(vn, field, n) \
	__atomic_fetch_add(&(vn)->st.field, (uint64_t)(n), __ATOMIC_RELAXED)

static struct vnet *to_vnet(struct virtio_backend *be)
{
	return (struct vnet *)be;
}

static void wake_main(struct vnet *vn)
{
	uint64_t one = 1;

	if (write(vn->wake_fd, &one, sizeof(one)) < 0)
		return;	/* counter full: the main loop is awake anyway */
}

static void rx_stop(struct vnet *vn)
{
	__atomic_and_fetch(&vn->rx_state, ~RX_WANTED, __ATOMIC_SEQ_CST);
}

/* ---- transmit ------------------------------------------------------------- */

static void tx_chain(struct vnet *vn, const struct virtq_chain *c)
{
	uint32_t len;
	ssize_t n;

	if (c->nr_out != c->nr_segs) {
		log_guest("virtio-net: transmit chain with device-writable descriptors dropped");
		STAT_ADD(vn, tx_bad, 1);
		return;
	}
	if (c->out_len < VIRTIO_NET_HDR_SIZE) {
		log_guest("virtio-net: transmit chain of %u bytes, shorter than the header, dropped",
			  c->out_len);
		STAT_ADD(vn, tx_bad, 1);
		return;
	}
	len = c->out_len - VIRTIO_NET_HDR_SIZE;
	if (len == 0 || len > VIRTIO_NET_MAX_FRAME) {
		log_guest("virtio-net: transmit frame of %u bytes dropped (1 to %d allowed)",
			  len, VIRTIO_NET_MAX_FRAME);
		STAT_ADD(vn, tx_bad, 1);
		return;
	}
	/* The header is not looked at: no offloads were offered, so it can
	 * only say "nothing to do", and it is not passed on. */
	virtq_chain_read(c, VIRTIO_NET_HDR_SIZE, vn->txbuf, len);
	do {
		n = write(vn->fd, vn->txbuf, len);
	} while (n < 0 && errno == EINTR);
	if (n != (ssize_t)len) {
		log_guest("virtio-net: host dropped a %u-byte frame: %s", len,
			  n < 0 ? strerror(errno) : "short write");
		STAT_ADD(vn, tx_dropped, 1);
		return;
	}
	STAT_ADD(vn, tx_packets, 1);
	STAT_ADD(vn, tx_bytes, len);
}

/* One transmitted chain: returned unused (nothing written). */
static void tx_serve(void *ctx, struct virtq *vq, struct virtq_chain *c)
{
	tx_chain(ctx, c);
	virtq_push(vq, c, 0);
}

static int vnet_tx(struct vnet *vn, struct virtq *vq)
{
	return virtq_serve(vq, tx_serve, vn);
}

/* ---- receive -------------------------------------------------------------- */

/* Read the next frame into rxbuf: 1 (held_len set), 0 (nothing to read,
 * or receive stopped), -1 (a frame was dropped: try again). */
static int rx_read(struct vnet *vn)
{
	ssize_t n;

	n = read(vn->fd, vn->rxbuf, VIRTIO_NET_MAX_FRAME + 1);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		      errno == EINTR))
		return 0;
	if (n <= 0) {
		/* Not a state a TAP recovers from; polling on would spin. */
		log_err("virtio-net: TAP %s: receive stopped",
			n < 0 ? strerror(errno) : "closed");
		vn->rx_dead = true;
		rx_stop(vn);
		return 0;
	}
	if (n > VIRTIO_NET_MAX_FRAME) {
		log_guest("virtio-net: frame over %d bytes from the TAP dropped",
			  VIRTIO_NET_MAX_FRAME);
		STAT_ADD(vn, rx_dropped, 1);
		return -1;
	}
	vn->held_len = (uint32_t)n;
	return 1;
}

/* Put the held frame into @c, or drop it if it does not fit. */
static void rx_deliver(struct vnet *vn, struct virtq *vq,
		       const struct virtq_chain *c)
{
	uint8_t hdr[VIRTIO_NET_HDR_SIZE] = { 0 };
	uint32_t len = vn->held_len;

	if (c->nr_out) {
		/* The frame stays held for the next chain. */
		log_guest("virtio-net: receive chain with device-readable descriptors returned unused");
		STAT_ADD(vn, rx_bad, 1);
		virtq_push(vq, c, 0);
		return;
	}
	vn->held_len = 0;
	if (c->in_len < VIRTIO_NET_HDR_SIZE ||
	    c->in_len - VIRTIO_NET_HDR_SIZE < len) {
		log_guest("virtio-net: %u-byte frame dropped: receive buffer of %u bytes",
			  len, c->in_len);
		STAT_ADD(vn, rx_dropped, 1);
		virtq_push(vq, c, 0);
		return;
	}
	/* No offloads, no merged buffers: all zero but num_buffers = 1. */
	hdr[VIRTIO_NET_HDR_NUM_BUFFERS] = 1;
	virtq_chain_write(c, 0, hdr, sizeof(hdr));
	virtq_chain_write(c, VIRTIO_NET_HDR_SIZE, vn->rxbuf, len);
	virtq_push(vq, c, VIRTIO_NET_HDR_SIZE + len);
	STAT_ADD(vn, rx_packets, 1);
	STAT_ADD(vn, rx_bytes, len);
}

/* On the main thread, under the device lock: TAP -> receive buffers. */
static int vnet_rx(struct vnet *vn, struct virtq *vq)
{
	struct virtq_chain c;

	if (vn->rx_dead)
		return 0;
	for (unsigned int budget = VIRTIO_NET_RX_BUDGET; budget; budget--) {
		int r;

		if (!vn->held_len) {
			r = rx_read(vn);
			if (r == 0)
				return 0;
			if (r < 0)
				continue;
		}
		r = virtq_pop(vq, &c);
		if (r <= 0) {
			/* No buffers (or a broken ring): stop reading until
			 * the driver notifies; the frame stays held and the
			 * rest wait in the TAP's queue. */
			rx_stop(vn);
			return r;
		}
		rx_deliver(vn, vq, &c);
	}
	return 0;
}

/* The driver notified the receive queue (new buffers): have the main loop
 * look at the TAP again. */
static void rx_notified(struct vnet *vn)
{
	uint32_t old = __atomic_load_n(&vn->rx_state, __ATOMIC_RELAXED);

	if (vn->rx_dead)
		return;
	while (!__atomic_compare_exchange_n(&vn->rx_state, &old,
					    (old + RX_GEN) | RX_WANTED, true,
					    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
		;
	if (!(old & RX_WANTED))
		wake_main(vn);
}

static int vnet_handle_queue(struct virtio_backend *be, struct virtq *vq,
			     unsigned int qidx)
{
	struct vnet *vn = to_vnet(be);

	if (qidx == VIRTIO_NET_TXQ)
		return vnet_tx(vn, vq);
	if (rx_thread_dev == vn) {
		rx_served = true;
		return vnet_rx(vn, vq);
	}
	rx_notified(vn);
	return 0;
}

int vnet_rx_fd(struct virtio_backend *be)
{
	return to_vnet(be)->fd;
}

int vnet_wake_fd(struct virtio_backend *be)
{
	return to_vnet(be)->wake_fd;
}

bool vnet_rx_wanted(struct virtio_backend *be)
{
	return __atomic_load_n(&to_vnet(be)->rx_state, __ATOMIC_ACQUIRE) &
	       RX_WANTED;
}

void vnet_rx_ready(struct virtio_backend *be)
{
	struct vnet *vn = to_vnet(be);
	uint32_t snap;
	uint64_t v;

	if (read(vn->wake_fd, &v, sizeof(v)) < 0)
		v = 0;		/* not woken: the TAP is readable */
	snap = __atomic_load_n(&vn->rx_state, __ATOMIC_ACQUIRE);
	if (!(snap & RX_WANTED))
		return;
	rx_thread_dev = vn;
	rx_served = false;
	virtio_backend_kick(&vn->be, VIRTIO_NET_RXQ);
	rx_thread_dev = NULL;
	/* The transport would not serve the queue (driver not ready, device
	 * needs reset, queue disabled, no bus mastering; or no transport was
	 * attached): stop polling until the driver notifies queue 0 again,
	 * unless it already did. */
	if (!rx_served)
		__atomic_compare_exchange_n(&vn->rx_state, &snap,
					    snap & ~RX_WANTED, false,
					    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
}

/* ---- the backend ----------------------------------------------------------- */

static void vnet_config_read(struct virtio_backend *be, uint32_t off,
			     uint8_t *data, unsigned int len)
{
	memcpy(data, to_vnet(be)->config + off, len);
}

/* Device reset: forget the held frame and stop receiving until the driver
 * is back; frames keep waiting in the TAP. */
static void vnet_reset(struct virtio_backend *be)
{
	struct vnet *vn = to_vnet(be);

	vn->held_len = 0;
	rx_stop(vn);
}

static void vnet_free(struct vnet *vn)
{
	if (vn->fd >= 0)
		close(vn->fd);
	if (vn->wake_fd >= 0)
		close(vn->wake_fd);
	free(vn->rxbuf);
	free(vn->txbuf);
	free(vn);
}

static void vnet_destroy(struct virtio_backend *be)
{
	vnet_free(to_vnet(be));
}

/* The main loop waits on the wake-up eventfd always, and on the TAP only
 * while the guest has receive buffers. */
static unsigned int vnet_poll_fds(struct virtio_backend *be,
				  int fds[VIRTIO_POLL_MAX])
{
	fds[0] = vnet_wake_fd(be);
	fds[1] = vnet_rx_wanted(be) ? vnet_rx_fd(be) : -1;
	return 2;
}

static const struct virtio_backend_ops vnet_ops = {
	.name = "net",
	.device_id = VIRTIO_ID_NET,
	.nr_queues = 2,
	.max_queue_size = VIRTIO_NET_QUEUE_SIZE,
	.config_read = vnet_config_read,
	.handle_queue = vnet_handle_queue,
	.reset = vnet_reset,
	.destroy = vnet_destroy,
	.poll_fds = vnet_poll_fds,
	.poll_ready = vnet_rx_ready,
};

void vnet_get_stats(struct virtio_backend *be, struct vnet_stats *st)
{
	const struct vnet_stats *s = &to_vnet(be)->st;

	st->tx_packets = __atomic_load_n(&s->tx_packets, __ATOMIC_RELAXED);
	st->tx_bytes = __atomic_load_n(&s->tx_bytes, __ATOMIC_RELAXED);
	st->tx_bad = __atomic_load_n(&s->tx_bad, __ATOMIC_RELAXED);
	st->tx_dropped = __atomic_load_n(&s->tx_dropped, __ATOMIC_RELAXED);
	st->rx_packets = __atomic_load_n(&s->rx_packets, __ATOMIC_RELAXED);
	st->rx_bytes = __atomic_load_n(&s->rx_bytes, __ATOMIC_RELAXED);
	st->rx_bad = __atomic_load_n(&s->rx_bad, __ATOMIC_RELAXED);
	st->rx_dropped = __atomic_load_n(&s->rx_dropped, __ATOMIC_RELAXED);
}

int vnet_create(int tap_fd, const uint8_t mac[6], struct virtio_backend **out)
{
	struct vnet *vn = NULL;
	int fl, err = -EINVAL;

	if (tap_fd < 0 || !mac || !out)
		goto fail;
	if (!config_mac_ok(mac)) {
		log_err("virtio-net: MAC address must be unicast and not zero");
		goto fail;
	}
	fl = fcntl(tap_fd, F_GETFL);
	if (fl < 0 || fcntl(tap_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		err = -errno;
		log_err("virtio-net: cannot make the TAP non-blocking: %s",
			strerror(errno));
		goto fail;
	}
	err = -ENOMEM;
	vn = calloc(1, sizeof(*vn));
	if (!vn)
		goto fail;
	vn->fd = tap_fd;
	vn->rxbuf = malloc(VIRTIO_NET_MAX_FRAME + 1);
	vn->txbuf = malloc(VIRTIO_NET_MAX_FRAME);
	vn->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vn->wake_fd < 0) {
		err = -errno;
		log_err("virtio-net: eventfd: %s", strerror(errno));
	}
	if (!vn->rxbuf || !vn->txbuf || vn->wake_fd < 0) {
		vnet_free(vn);
		return err;
	}
	memcpy(vn->config, mac, 6);
	vn->config[6] = VIRTIO_NET_S_LINK_UP;	/* status, le16 */
	vn->be.ops = &vnet_ops;
	vn->be.config_size = VIRTIO_NET_CONFIG_SIZE;
	vn->be.features = VIRTIO_BIT(VIRTIO_F_VERSION_1) |
			  VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) |
			  VIRTIO_BIT(VIRTIO_NET_F_MAC) |
			  VIRTIO_BIT(VIRTIO_NET_F_STATUS);
	*out = &vn->be;
	return 0;
fail:
	if (tap_fd >= 0)
		close(tap_fd);
	return err;
}

/* ---- TAP, names, options ---------------------------------------------------- */

int vnet_tap_open(const char *name, int *fd)
{
	struct ifreq ifr;
	const char *hint = "";
	int f, err;

	if (!name || !fd || !config_tap_name_ok(name, strlen(name))) {
		log_err("virtio-net: invalid TAP name '%s'", name ? name : "");
		return -EINVAL;
	}
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
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (ioctl(f, TUNSETIFF, &ifr) < 0) {
		err = -errno;
		if (err == -EPERM)
			hint = " (create it first: ip tuntap add dev NAME mode tap user USER)";
		else if (err == -EBUSY)
			hint = " (in use by another process)";
		else if (err == -EINVAL)
			hint = " (is it a TUN, not a TAP, interface?)";
		log_err("virtio-net: cannot attach to TAP %s: %s%s", name,
			strerror(-err), hint);
		close(f);
		return err;
	}
	*fd = f;
	return 0;
}

int vnet_open(const char *tap, const uint8_t mac[6],
	      struct virtio_backend **be)
{
	int fd, err;

	if (!tap || !mac || !be)
		return -EINVAL;
	err = vnet_tap_open(tap, &fd);
	if (err)
		return err;
	return vnet_create(fd, mac, be);
}
