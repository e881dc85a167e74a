// SPDX-License-Identifier: MIT
#include "devices/virtio_net.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/config.h"
#include "core/iothread.h"
#include "core/log.h"
#include "devices/virtio.h"
#include "devices/virtio_common.h"
#include "devices/vhost_net.h"
#include "devices/virtq.h"
#include "snapshot/snap.h"

#define HAS(feat, bit) (((feat) >> (bit)) & 1)
#define RXBUF_SIZE (VNET_HDR_SIZE + VIRTIO_NET_MAX_FRAME + 1)
#define TXBUF_SIZE (VNET_HDR_SIZE + VIRTIO_NET_MAX_FRAME)

struct vnet;
struct vnet_pair;

/* vhost: one ring's call eventfd's thread. */
struct vnet_call {
	struct vnet_pair *p;
	unsigned int q;		/* the transport's queue index */
};

struct vnet_pair {
	struct vnet *vn;
	unsigned int idx;
	int fd;			/* this pair's TAP queue */
	int kick_fd;		/* eventfd: wakes the main loop (not started) */
	struct iothread *thr;
	/* Owned by the thread that serves the pair. */
	bool rx_tap;		/* the guest had buffers: wait for the TAP */
	bool rx_dead;		/* the TAP failed: receive stopped */
	uint32_t held;		/* bytes in rxbuf (header + frame); 0: none */
	uint32_t held_gen;	/* vn->gen when it was read */
	uint8_t *rxbuf;
	uint8_t *txbuf;
	/* vhost-net (vhost_fd >= 0): the kernel serves both rings. */
	int vhost_fd;
	int vkick[2];			/* receive, transmit notify eventfds */
	struct iothread *vcall[2];	/* their call eventfds' threads */
	struct vnet_call callctx[2];
	bool vhost_on;			/* under the lock: rings handed over */
	uint16_t vhost_base[2];		/* next ring indices when stopped */
};

struct vnet {
	struct virtio_backend be;	/* first: the transport's handle */
	unsigned int nr_pairs;
	unsigned int host_offloads;	/* TAP_F_* the host takes */
	bool started;
	bool vhost;			/* the pairs are vhost-net's */
	vhost_ioctl_fn vio;
	int (*set_offload)(int fd, unsigned int flags);
	int (*set_queue)(int fd, bool on);
	/* Under the device lock. */
	bool frozen;			/* quiesced: no ring is served */
	bool negotiated;		/* features applied since the reset */
	uint32_t gen;			/* bumped by every reset */
	unsigned int rx_offloads;	/* TAP_F_* the guest takes now */
	uint8_t mac[6];			/* the configured one */
	struct vnet_ctrl ctrl;
	uint8_t config[VIRTIO_NET_CONFIG_SIZE];
	uint8_t *ctrlbuf;		/* VNET_CTRL_MAX bytes */
	struct vnet_stats st;
	struct vnet_pair pairs[];
};

#define STAT_ADD(vn, field, n) \
	__atomic_fetch_add(&(vn)->st.field, (uint64_t)(n), __ATOMIC_RELAXED)

static struct vnet *to_vnet(struct virtio_backend *be)
{
	return (struct vnet *)be;
}

static unsigned int ctrl_queue(const struct vnet *vn)
{
	return HAS(vn->be.driver_features, VIRTIO_NET_F_MQ) ?
	       2 * vn->nr_pairs : 2;
}

static void apply_features(struct vnet *vn);

/* Lock held: the driver's features take effect at the first service after
 * DRIVER_OK, whichever path it comes by (a notify, an ioeventfd). */
static bool negotiated(struct vnet *vn)
{
	if (!vn->negotiated && vn->be.core &&
	    (vn->be.core->status & VIRTIO_STATUS_DRIVER_OK))
		apply_features(vn);
	return vn->negotiated;
}

/* Lock held: may pair @p's queue @q be served now? */
static struct virtq *pair_queue(struct vnet *vn, struct vnet_pair *p,
				unsigned int q)
{
	if (vn->frozen || !negotiated(vn) || p->idx >= vn->ctrl.pairs)
		return NULL;
	return virtio_backend_queue(&vn->be, q);
}

static void pair_kick(struct vnet_pair *p)
{
	uint64_t one = 1;

	if (p->thr) {
		iothread_kick(p->thr);
		return;
	}
	if (write(p->kick_fd, &one, sizeof(one)) < 0)
		return;	/* counter full: the main loop wakes anyway */
}

/* ---- transmit ------------------------------------------------------------- */

/* Lock held: copy chain @c (header, frame) into @buf (TXBUF_SIZE bytes),
 * checked; the bytes to write to the TAP, or 0 (dropped, logged). */
static uint32_t tx_take(struct vnet *vn, uint8_t *buf,
			const struct virtq_chain *c)
{
	struct vnet_hdr h;
	const char *why;
	uint32_t len;

	if (c->nr_out != c->nr_segs) {
		log_guest("virtio-net: transmit chain with device-writable descriptors dropped");
		goto bad;
	}
	if (c->out_len < VNET_HDR_SIZE) {
		log_guest("virtio-net: transmit chain of %u bytes, shorter than the header, dropped",
			  c->out_len);
		goto bad;
	}
	len = c->out_len - VNET_HDR_SIZE;
	if (len == 0 || len > VIRTIO_NET_MAX_FRAME) {
		log_guest("virtio-net: transmit frame of %u bytes dropped (1 to %d allowed)",
			  len, VIRTIO_NET_MAX_FRAME);
		goto bad;
	}
	/* One copy, then only the copy is looked at. */
	virtq_chain_read(c, 0, buf, VNET_HDR_SIZE + len);
	vnet_hdr_get(buf, &h);
	why = vnet_tx_hdr_check(&h, len, vn->ctrl.features);
	if (why) {
		log_guest("virtio-net: transmit frame dropped: %s", why);
		goto bad;
	}
	vnet_hdr_put(&h, buf);
	return VNET_HDR_SIZE + len;
bad:
	STAT_ADD(vn, tx_bad, 1);
	return 0;
}

static void tx_write(struct vnet *vn, struct vnet_pair *p, const uint8_t *buf,
		     uint32_t n)
{
	ssize_t w;

	do {
		w = write(p->fd, buf, n);
	} while (w < 0 && errno == EINTR);
	if (w != (ssize_t)n) {
		log_guest("virtio-net: host dropped a %u-byte frame: %s",
			  n - VNET_HDR_SIZE, w < 0 ? strerror(errno) : "short write");
		STAT_ADD(vn, tx_dropped, 1);
		return;
	}
	STAT_ADD(vn, tx_packets, 1);
	STAT_ADD(vn, tx_bytes, n - VNET_HDR_SIZE);
}

/* Send what the guest queued, up to the budget; true if it was spent.
 * @drain (a snapshot's, the pair's thread possibly running): everything,
 * through @buf and with the lock held throughout. */
static bool pair_tx_with(struct vnet_pair *p, uint8_t *buf, bool drain)
{
	struct vnet *vn = p->vn;
	unsigned int q = 2 * p->idx + 1, n = 0;
	bool more = false;
	int err = 0;

	virtio_backend_lock(&vn->be);
	for (;;) {
		struct virtq *vq = pair_queue(vn, p, q);
		struct virtq_chain c;
		uint32_t len;
		int r;

		if (!vq)
			break;
		if (n == VIRTIO_NET_BUDGET && !drain) {
			more = true;
			break;
		}
		virtq_set_notify(vq, false);
		r = virtq_pop(vq, &c);
		if (r < 0) {
			err = r;
			break;
		}
		if (r == 0) {
			virtq_set_notify(vq, true);
			/* A chain added before the driver saw the flag. */
			if (virtq_has_avail(vq))
				continue;
			break;
		}
		len = tx_take(vn, buf, &c);
		virtq_push(vq, &c, 0);
		n++;
		if (!len)
			continue;
		if (drain) {
			tx_write(vn, p, buf, len);
			continue;
		}
		virtio_backend_unlock(&vn->be);
		tx_write(vn, p, buf, len);
		virtio_backend_lock(&vn->be);
	}
	if (n || err)
		virtio_backend_queue_done(&vn->be, q, err);
	virtio_backend_unlock(&vn->be);
	return more;
}

static bool pair_tx(struct vnet_pair *p)
{
	return pair_tx_with(p, p->txbuf, false);
}

/* ---- receive -------------------------------------------------------------- */

/* Without the lock: the next frame into rxbuf.  1 (held), 0 (nothing to
 * read now), -1 (a bad frame was dropped: try again). */
static int rx_read(struct vnet *vn, struct vnet_pair *p, uint32_t gen)
{
	ssize_t n;

	n = read(p->fd, p->rxbuf, RXBUF_SIZE);
	/* EBADFD: a multi-queue TAP's queue detached meanwhile. */
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		      errno == EINTR || errno == EBADFD))
		return 0;
	if (n <= 0) {
		/* Not a state a TAP recovers from; polling on would spin. */
		log_err("virtio-net: TAP queue %u: %s: receive stopped", p->idx,
			n < 0 ? strerror(errno) : "closed");
		p->rx_dead = true;
		return 0;
	}
	if (n <= VNET_HDR_SIZE || n > VNET_HDR_SIZE + VIRTIO_NET_MAX_FRAME) {
		log_guest("virtio-net: %zd-byte frame from the TAP dropped", n);
		STAT_ADD(vn, rx_bad, 1);
		return -1;
	}
	p->held = (uint32_t)n;
	p->held_gen = gen;
	return 1;
}

enum rx_result { RX_DONE, RX_NOBUF, RX_ERR };

/* The byte at offset @off of the writable part of @c, or NULL. */
static uint8_t *chain_byte(const struct virtq_chain *c, uint32_t off)
{
	for (unsigned int i = c->nr_out; i < c->nr_segs; i++) {
		if (off < c->segs[i].len)
			return c->segs[i].ptr + off;
		off -= c->segs[i].len;
	}
	return NULL;
}

/* Lock held: the held frame into the guest's buffers, or dropped. */
static enum rx_result rx_deliver(struct vnet *vn, struct vnet_pair *p,
				 struct virtq *vq, int *err)
{
	const bool mrg = HAS(vn->ctrl.features, VIRTIO_NET_F_MRG_RXBUF);
	uint32_t need = p->held, len = need - VNET_HDR_SIZE, off = 0;
	uint8_t *nb_lo = NULL, *nb_hi = NULL;
	struct vnet_hdr h;
	const char *why;
	unsigned int n = 0;

	vnet_hdr_get(p->rxbuf, &h);
	why = vnet_rx_hdr_check(&h, len, vn->rx_offloads);
	if (why) {
		log_guest("virtio-net: received frame dropped: %s", why);
		STAT_ADD(vn, rx_bad, 1);
		p->held = 0;
		return RX_DONE;
	}
	if (!vnet_filter_accept(&vn->ctrl.filter, p->rxbuf + VNET_HDR_SIZE,
				len)) {
		STAT_ADD(vn, rx_filtered, 1);
		p->held = 0;
		return RX_DONE;
	}
	h.num_buffers = 1;
	vnet_hdr_put(&h, p->rxbuf);
	while (off < need) {
		struct virtq_chain c;
		uint32_t chunk;
		/* Never more than a ring's worth, whatever avail says. */
		int r = n < vq->size ? virtq_pop(vq, &c) : 0;

		if (r <= 0) {
			/* No more buffers: give back those taken, keep the
			 * frame for later (or drop it if the whole ring is too
			 * small for it: it would never fit). */
			virtq_unpop(vq, n);
			if (r < 0) {
				*err = r;
				return RX_ERR;
			}
			if (n < vq->size)
				return RX_NOBUF;
			log_guest("virtio-net: %u-byte frame dropped: larger than all receive buffers",
				  len);
			STAT_ADD(vn, rx_dropped, 1);
			p->held = 0;
			return RX_DONE;
		}
		if (c.nr_out || (mrg && c.in_len < VNET_HDR_SIZE)) {
			/* Receive buffers are device-writable, and merged
			 * ones hold at least a header (§5.1.6.3.1). */
			log_guest("virtio-net: receive chain %s: driver error",
				  c.nr_out ? "with device-readable descriptors" :
					     "shorter than the header");
			virtq_unpop(vq, n + 1);
			*err = -EINVAL;
			return RX_ERR;
		}
		if (!mrg && c.in_len < need) {
			log_guest("virtio-net: %u-byte frame dropped: receive buffer of %u bytes",
				  len, c.in_len);
			STAT_ADD(vn, rx_dropped, 1);
			virtq_push(vq, &c, 0);
			p->held = 0;
			return RX_DONE;
		}
		chunk = c.in_len < need - off ? c.in_len : need - off;
		virtq_chain_write(&c, 0, p->rxbuf + off, chunk);
		if (n == 0) {
			/* Where num_buffers went, to set it once the count is
			 * known (the segments are gone after the next pop). */
			nb_lo = chain_byte(&c, VIRTIO_NET_HDR_NUM_BUFFERS);
			nb_hi = chain_byte(&c, VIRTIO_NET_HDR_NUM_BUFFERS + 1);
		}
		virtq_fill(vq, c.head, chunk, n);
		n++;
		off += chunk;
	}
	if (n > 1 && nb_lo && nb_hi) {
		*nb_lo = (uint8_t)n;
		*nb_hi = (uint8_t)(n >> 8);
	}
	virtq_flush(vq, n);
	STAT_ADD(vn, rx_packets, 1);
	STAT_ADD(vn, rx_bytes, len);
	p->held = 0;
	return RX_DONE;
}

/* Move frames from the TAP into the guest's buffers, up to the budget;
 * true if it was spent. */
static bool pair_rx(struct vnet_pair *p)
{
	struct vnet *vn = p->vn;
	unsigned int q = 2 * p->idx, n = 0;
	struct virtq *vq;
	bool more = false;
	int err = 0;

	virtio_backend_lock(&vn->be);
	if (p->held && p->held_gen != vn->gen)
		p->held = 0;	/* read before a reset: the guest is gone */
	p->rx_tap = false;
	while ((vq = pair_queue(vn, p, q)) != NULL && !p->rx_dead) {
		if (n == VIRTIO_NET_BUDGET) {
			more = true;
			break;
		}
		if (!p->held) {
			uint32_t gen = vn->gen;
			int r;

			/* Read only while the guest has buffers: otherwise
			 * frames wait in the TAP's queue. */
			if (!virtq_has_avail(vq))
				break;
			virtio_backend_unlock(&vn->be);
			r = rx_read(vn, p, gen);
			virtio_backend_lock(&vn->be);
			if (r == 0) {
				p->rx_tap = !p->rx_dead;
				break;
			}
			if (r < 0 || p->held_gen != vn->gen) {
				p->held = 0;
				n++;	/* dropped frames count too */
			}
			continue;	/* the queue may have gone meanwhile */
		}
		/* RX_NOBUF: the guest notifies when it adds buffers. */
		if (rx_deliver(vn, p, vq, &err) != RX_DONE)
			break;
		n++;
	}
	if (vq && (n || err))
		virtio_backend_queue_done(&vn->be, q, err);
	virtio_backend_unlock(&vn->be);
	return more;
}

/* ---- vhost-net ------------------------------------------------------------ */

/* The feature bits the kernel's vhost-net takes (the rest are rivet's). */
#define VHOST_FEATURES (VIRTIO_BIT(VIRTIO_F_VERSION_1) |		\
			VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) |		\
			VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF))

/* On a ring's call thread: the kernel used buffers and asks for the
 * interrupt. */
static void vhost_call(void *ctx)
{
	struct vnet_call *c = ctx;
	struct virtio_backend *be = &c->p->vn->be;

	virtio_backend_lock(be);
	virtio_backend_queue_irq(be, c->q);
	virtio_backend_unlock(be);
}

/* Lock held: hand pair @p's rings to the kernel. */
static void vhost_pair_start(struct vnet *vn, struct vnet_pair *p)
{
	struct vhost_ring r[2];
	int err;

	if (p->vhost_on || p->vhost_fd < 0)
		return;
	for (unsigned int i = 0; i < 2; i++) {
		struct virtq *vq = virtio_backend_queue(&vn->be, 2 * p->idx + i);

		if (!vq) {
			log_guest("virtio-net: queue %u not ready: pair %u not served",
				  2 * p->idx + i, p->idx);
			return;
		}
		r[i] = (struct vhost_ring){ vq->size, vq->desc, vq->avail,
					    vq->used, p->vhost_base[i] };
	}
	err = vhost_net_start(p->vhost_fd, vn->vio,
			      vn->ctrl.features & VHOST_FEATURES, r, p->fd);
	if (err) {
		log_err("virtio-net: vhost-net refused queue pair %u: %s",
			p->idx, strerror(-err));
		virtio_backend_queue_done(&vn->be, 2 * p->idx, err);
		return;
	}
	p->vhost_on = true;
}

/* Lock held: take pair @p's rings back (the kernel stops touching them). */
static void vhost_pair_stop(struct vnet *vn, struct vnet_pair *p)
{
	int err;

	if (!p->vhost_on || p->vhost_fd < 0)
		return;
	err = vhost_net_stop(p->vhost_fd, vn->vio, p->vhost_base);
	if (err)
		log_err("virtio-net: stopping vhost-net on pair %u: %s", p->idx,
			strerror(-err));
	p->vhost_on = false;
}

/* Lock held: the kernel serves exactly the pairs in use (none while the
 * device is quiesced). */
static void vhost_sync_pairs(struct vnet *vn)
{
	for (unsigned int i = 0; vn->vhost && i < vn->nr_pairs; i++) {
		if (i < vn->ctrl.pairs && vn->negotiated && !vn->frozen)
			vhost_pair_start(vn, &vn->pairs[i]);
		else
			vhost_pair_stop(vn, &vn->pairs[i]);
	}
}

/* ---- control queue ------------------------------------------------------ */

static void set_offloads(struct vnet *vn)
{
	unsigned int f = vnet_tap_offloads(vn->ctrl.guest_offloads,
					   vn->host_offloads);
	int err = vn->set_offload(vn->pairs[0].fd, f);

	/* If the TAP keeps more, rx_offloads still drops what the guest
	 * does not take. */
	if (err)
		log_err("virtio-net: cannot set the TAP's offloads to %#x: %s",
			f, strerror(-err));
	vn->rx_offloads = f;
}

/* Attach the TAP queues of the pairs in use, detach the others; 0 or the
 * first error. */
static int set_pairs(struct vnet *vn, unsigned int pairs)
{
	int err = 0;

	if (vn->nr_pairs == 1)
		return 0;
	for (unsigned int i = 1; i < vn->nr_pairs; i++) {
		int e = vn->set_queue(vn->pairs[i].fd, i < pairs);

		if (e && !err) {
			log_err("virtio-net: cannot %s TAP queue %u: %s",
				i < pairs ? "attach" : "detach", i, strerror(-e));
			err = e;
		}
	}
	return err;
}

static void update_config_mac(struct vnet *vn)
{
	memcpy(vn->config, vn->ctrl.filter.mac, 6);
}

/* Lock held: one command; its ack. */
static uint8_t ctrl_chain(struct vnet *vn, const struct virtq_chain *c)
{
	struct vnet_ctrl old = vn->ctrl;
	uint8_t ack;

	if (c->nr_out == 0 || c->out_len > VNET_CTRL_MAX) {
		log_guest("virtio-net: control command of %u bytes refused",
			  c->out_len);
		return VIRTIO_NET_ERR;
	}
	virtq_chain_read(c, 0, vn->ctrlbuf, c->out_len);
	ack = vnet_ctrl_exec(&vn->ctrl, vn->ctrlbuf, c->out_len);
	if (ack != VIRTIO_NET_OK)
		return ack;
	if (vn->ctrl.pairs != old.pairs) {
		if (set_pairs(vn, vn->ctrl.pairs)) {
			set_pairs(vn, old.pairs);
			vn->ctrl.pairs = old.pairs;
			return VIRTIO_NET_ERR;
		}
		/* Pairs now in use start with what the guest queued. */
		for (unsigned int i = old.pairs; !vn->vhost && i < vn->ctrl.pairs;
		     i++)
			pair_kick(&vn->pairs[i]);
		vhost_sync_pairs(vn);
	}
	if (vn->ctrl.guest_offloads != old.guest_offloads)
		set_offloads(vn);
	if (memcmp(vn->ctrl.filter.mac, old.filter.mac, 6))
		update_config_mac(vn);
	return ack;
}

/* Lock held: serve the control queue. */
static void ctrl_serve(struct vnet *vn, unsigned int q)
{
	struct virtq *vq = virtio_backend_queue(&vn->be, q);
	struct virtq_chain c;
	int r = 0;

	if (!vq)
		return;
	for (unsigned int budget = vq->size; budget; budget--) {
		uint8_t ack;

		r = virtq_pop(vq, &c);
		if (r <= 0)
			break;
		if (c.in_len < 1) {
			log_guest("virtio-net: control command without room for the ack ignored");
			virtq_push(vq, &c, 0);
			continue;
		}
		ack = ctrl_chain(vn, &c);
		virtq_chain_write(&c, 0, &ack, 1);
		virtq_push(vq, &c, 1);
	}
	virtio_backend_queue_done(&vn->be, q, r < 0 ? r : 0);
}

/* Lock held: the driver's features, once per reset, before any queue is
 * served. */
static void apply_features(struct vnet *vn)
{
	uint64_t f = vn->be.driver_features;

	vn->negotiated = true;
	vn->ctrl.features = f;
	vn->ctrl.guest_offloads = f & VNET_GUEST_OFFLOADS;
	vn->ctrl.filter.vlan_filter = HAS(f, VIRTIO_NET_F_CTRL_VLAN);
	set_offloads(vn);
	vhost_sync_pairs(vn);
}

/* ---- the pairs' service ----------------------------------------------------- */

static void pair_serve(void *ctx)
{
	struct vnet_pair *p = ctx;
	struct vnet *vn = p->vn;

	/* Without MQ queue 2 is the control queue, and its ioeventfd is
	 * pair 1's (the registration could not know). */
	if (p->idx == 1) {
		virtio_backend_lock(&vn->be);
		if (negotiated(vn) && ctrl_queue(vn) == 2)
			ctrl_serve(vn, 2);
		virtio_backend_unlock(&vn->be);
	}
	for (unsigned int round = 0; round < 16; round++) {
		bool more = pair_tx(p);

		more |= pair_rx(p);
		if (!more)
			return;
	}
	pair_kick(p);	/* still busy: come back after a look around */
}

static short pair_events(void *ctx)
{
	struct vnet_pair *p = ctx;

	return p->rx_tap && !p->rx_dead ? POLLIN : 0;
}

static void vnet_notify(struct virtio_backend *be, unsigned int qidx)
{
	struct vnet *vn = to_vnet(be);

	if (!negotiated(vn))
		return;
	if (qidx == ctrl_queue(vn)) {
		ctrl_serve(vn, qidx);
		return;
	}
	if (qidx / 2 >= vn->nr_pairs)
		return;
	if (vn->vhost) {
		/* No ioeventfd for this queue: pass the notify on. */
		uint64_t one = 1;

		if (write(vn->pairs[qidx / 2].vkick[qidx % 2], &one, 8) < 0)
			return;	/* counter full: the kernel is awake */
		return;
	}
	pair_kick(&vn->pairs[qidx / 2]);
}

static int vnet_kick_fd(struct virtio_backend *be, unsigned int qidx)
{
	struct vnet *vn = to_vnet(be);

	if (!vn->started || qidx >= 2 * vn->nr_pairs)
		return -1;
	if (vn->vhost) {
		/* Queue 2 is the control queue until MQ is negotiated: its
		 * notify must reach rivet, not the kernel. */
		if (qidx == 2)
			return -1;
		return vn->pairs[qidx / 2].vkick[qidx % 2];
	}
	return iothread_kick_fd(vn->pairs[qidx / 2].thr);
}

static int vnet_call_fd(struct virtio_backend *be, unsigned int qidx)
{
	struct vnet *vn = to_vnet(be);

	if (!vn->vhost || !vn->started || qidx >= 2 * vn->nr_pairs ||
	    !vn->pairs[qidx / 2].vcall[qidx % 2])
		return -1;
	/* Without MQ, queue 2 is the control queue: rivet's interrupt. */
	if (qidx >= 2 && !HAS(be->driver_features, VIRTIO_NET_F_MQ))
		return -1;
	return iothread_kick_fd(vn->pairs[qidx / 2].vcall[qidx % 2]);
}

static void vnet_stop(struct virtio_backend *be)
{
	struct vnet *vn = to_vnet(be);

	for (unsigned int i = 0; i < vn->nr_pairs; i++) {
		struct vnet_pair *p = &vn->pairs[i];

		/* Closing the vhost fd stops the kernel's work on the rings
		 * before guest RAM goes away (and needs no ioctl). */
		if (p->vhost_fd >= 0 && vn->started) {
			close(p->vhost_fd);
			p->vhost_fd = -1;
			p->vhost_on = false;
		}
		iothread_stop(p->thr);
		p->thr = NULL;
		for (unsigned int r = 0; r < 2; r++) {
			iothread_stop(p->vcall[r]);
			p->vcall[r] = NULL;
		}
	}
	vn->started = false;
}

/* vhost: each ring's call thread, the guest's RAM and the eventfds. */
static int vhost_prepare(struct vnet *vn, struct vnet_pair *p,
			 const struct io_confine *conf)
{
	const struct gmem *gm = vn->be.core ? vn->be.core->vqs[0].gm : NULL;
	int err;

	if (!gm)
		return -EINVAL;
	err = vhost_net_set_mem(p->vhost_fd, vn->vio, gm->base, gm->size,
				gm->host);
	for (unsigned int r = 0; !err && r < 2; r++) {
		char name[16];

		snprintf(name, sizeof(name), "rivet-vhost%u%c",
			 p->idx % VIRTIO_NET_MAX_PAIRS, r ? 't' : 'r');
		p->callctx[r] = (struct vnet_call){ p, 2 * p->idx + r };
		err = iothread_start(&p->vcall[r], name, vhost_call,
				     &p->callctx[r], conf);
		if (!err)
			err = vhost_net_set_fds(p->vhost_fd, vn->vio, r,
						p->vkick[r],
						iothread_kick_fd(p->vcall[r]));
	}
	if (err)
		log_err("virtio-net: cannot set up vhost-net for pair %u: %s",
			p->idx, strerror(-err));
	return err;
}

static int vnet_start(struct virtio_backend *be, const struct io_confine *conf)
{
	struct vnet *vn = to_vnet(be);
	int err = 0;

	if (vn->started)
		return 0;
	for (unsigned int i = 0; !err && i < vn->nr_pairs; i++) {
		struct vnet_pair *p = &vn->pairs[i];
		const struct io_watch w = { .fd = p->fd, .events = pair_events };
		char name[16];

		if (vn->vhost) {
			err = vhost_prepare(vn, p, conf);
			continue;
		}
		snprintf(name, sizeof(name), "rivet-net-q%u", i % VIRTIO_NET_MAX_PAIRS);
		err = iothread_start_watch(&p->thr, name, pair_serve, p, conf,
					   &w);
	}
	if (err) {
		vnet_stop(be);
		return err;
	}
	vn->started = true;
	/* A restored device's rings (vnet_load() took their indices). */
	if (vn->vhost) {
		virtio_backend_lock(be);
		vhost_sync_pairs(vn);
		virtio_backend_unlock(be);
	}
	/* Whatever was queued meanwhile. */
	for (unsigned int i = 0; !vn->vhost && i < vn->nr_pairs; i++)
		pair_kick(&vn->pairs[i]);
	return 0;
}

/* Not started: the main loop waits on each pair's wake-up eventfd, and on
 * its TAP queue while the guest has buffers. */
static unsigned int vnet_poll_fds(struct virtio_backend *be,
				  int fds[VIRTIO_POLL_MAX])
{
	struct vnet *vn = to_vnet(be);
	unsigned int n = 0;

	if (vn->started || vn->vhost)
		return 0;
	for (unsigned int i = 0; i < vn->nr_pairs; i++) {
		fds[n++] = vn->pairs[i].kick_fd;
		fds[n++] = pair_events(&vn->pairs[i]) ? vn->pairs[i].fd : -1;
	}
	return n;
}

static void vnet_poll_ready(struct virtio_backend *be)
{
	struct vnet *vn = to_vnet(be);

	if (vn->started)
		return;
	for (unsigned int i = 0; i < vn->nr_pairs; i++) {
		uint64_t v;

		if (read(vn->pairs[i].kick_fd, &v, sizeof(v)) < 0)
			v = 0;	/* not kicked: the TAP is readable */
		pair_serve(&vn->pairs[i]);
	}
}

/* ---- the backend ----------------------------------------------------------- */

static void vnet_config_read(struct virtio_backend *be, uint32_t off,
			     uint8_t *data, unsigned int len)
{
	memcpy(data, to_vnet(be)->config + off, len);
}

/* Device reset (lock held): back to one pair, no offloads, promiscuous
 * with the configured MAC; frames read before it are dropped (gen). */
static void vnet_reset(struct virtio_backend *be)
{
	struct vnet *vn = to_vnet(be);
	unsigned int pairs = vn->ctrl.pairs;

	vn->gen++;
	vn->negotiated = false;
	for (unsigned int i = 0; vn->vhost && i < vn->nr_pairs; i++) {
		vhost_pair_stop(vn, &vn->pairs[i]);
		vn->pairs[i].vhost_base[0] = 0;
		vn->pairs[i].vhost_base[1] = 0;
	}
	vnet_filter_reset(&vn->ctrl.filter, vn->mac);
	update_config_mac(vn);
	vn->ctrl.features = 0;
	vn->ctrl.pairs = 1;
	if (pairs != 1)
		set_pairs(vn, 1);
	if (vn->ctrl.guest_offloads || vn->rx_offloads) {
		vn->ctrl.guest_offloads = 0;
		set_offloads(vn);
	}
}

static void vnet_free(struct vnet *vn)
{
	for (unsigned int i = 0; i < vn->nr_pairs; i++) {
		struct vnet_pair *p = &vn->pairs[i];

		if (p->fd >= 0)
			close(p->fd);
		if (p->kick_fd >= 0)
			close(p->kick_fd);
		if (p->vhost_fd >= 0)
			close(p->vhost_fd);
		for (unsigned int r = 0; r < 2; r++)
			if (p->vkick[r] >= 0)
				close(p->vkick[r]);
		free(p->rxbuf);
		free(p->txbuf);
	}
	free(vn->ctrlbuf);
	free(vn);
}

static void vnet_destroy(struct virtio_backend *be)
{
	vnet_stop(be);
	vnet_free(to_vnet(be));
}

/* ---- snapshots -------------------------------------------------------------- */

/* The indices vhost-net stopped pair @p's rings at, as the rings' own
 * (the used index is the one the kernel wrote), so that they are saved and
 * a restore hands the rings back where they were. */
static void vhost_pair_sync_rings(struct vnet *vn, struct vnet_pair *p)
{
	for (unsigned int r = 0; r < 2; r++) {
		struct virtq *vq = &vn->be.core->vqs[2 * p->idx + r];

		if (!vq->ready)
			continue;
		vq->last_avail = p->vhost_base[r];
		vq->used_idx = virtq_used_idx(vq);
	}
}

/* Quiesce (vCPUs paused: QMP stop, a snapshot, a restore before the VM
 * runs).  Transmit: send everything the guest queued, so that no frame is
 * sent again by a VM restored from a snapshot (the pair threads may be
 * running: this uses a buffer of its own and holds the lock throughout).
 * Then freeze: no ring is served until vnet_resume(), so a frame received
 * meanwhile waits in the TAP; one read from it and not delivered yet is
 * lost to a snapshot, as on a wire.  vhost-net: the kernel stops (it
 * finishes what it started and asks for its interrupts first), and its
 * call threads raise them now. */
static void vnet_drain(struct virtio_backend *be)
{
	struct vnet *vn = to_vnet(be);
	uint8_t *buf = vn->vhost ? NULL : malloc(TXBUF_SIZE);

	if (!be->core) {
		free(buf);
		return;
	}
	if (!vn->vhost && !buf)
		log_err("virtio-net: no memory to drain transmit: frames queued may be sent again after a restore");
	for (unsigned int i = 0; buf && i < vn->nr_pairs; i++)
		pair_tx_with(&vn->pairs[i], buf, true);
	free(buf);
	virtio_backend_lock(be);
	vn->frozen = true;
	for (unsigned int i = 0; vn->vhost && i < vn->nr_pairs; i++) {
		struct vnet_pair *p = &vn->pairs[i];

		if (!p->vhost_on)
			continue;
		vhost_pair_stop(vn, p);
		vhost_pair_sync_rings(vn, p);
	}
	virtio_backend_unlock(be);
	for (unsigned int i = 0; vn->vhost && i < vn->nr_pairs; i++) {
		iothread_sync(vn->pairs[i].vcall[0]);
		iothread_sync(vn->pairs[i].vcall[1]);
	}
}

/* The vCPUs run again: serve the rings, from where they stood. */
static void vnet_resume(struct virtio_backend *be)
{
	struct vnet *vn = to_vnet(be);

	virtio_backend_lock(be);
	vn->frozen = false;
	vhost_sync_pairs(vn);
	virtio_backend_unlock(be);
	for (unsigned int i = 0; !vn->vhost && i < vn->nr_pairs; i++)
		pair_kick(&vn->pairs[i]);
}

/* virtio-net's record: u32 queue pairs (the configuration's: checked),
 * bool features applied, u64 features applied, u64 guest offloads, u32
 * pairs in use, the filter: bool promisc, allmulti, unicast and multicast
 * overflow, VLAN filtering, 6 bytes MAC, u32 unicast and multicast
 * entries, their addresses (6 bytes each), 128 u32 VLAN bitmap words. */
static int vnet_save(struct virtio_backend *be, struct snap_w *w)
{
	struct vnet *vn = to_vnet(be);
	const struct vnet_filter *f = &vn->ctrl.filter;

	snap_w_u32(w, vn->nr_pairs);
	snap_w_bool(w, vn->negotiated);
	snap_w_u64(w, vn->ctrl.features);
	snap_w_u64(w, vn->ctrl.guest_offloads);
	snap_w_u32(w, vn->ctrl.pairs);
	snap_w_bool(w, f->promisc);
	snap_w_bool(w, f->allmulti);
	snap_w_bool(w, f->uni_overflow);
	snap_w_bool(w, f->multi_overflow);
	snap_w_bool(w, f->vlan_filter);
	snap_w_bytes(w, f->mac, 6);
	snap_w_u32(w, f->nr_uni);
	snap_w_u32(w, f->nr_multi);
	snap_w_bytes(w, f->uni, (size_t)f->nr_uni * 6);
	snap_w_bytes(w, f->multi, (size_t)f->nr_multi * 6);
	for (unsigned int i = 0; i < VNET_MAX_VID / 32; i++)
		snap_w_u32(w, f->vlans[i]);
	return 0;
}

static bool vlans_empty(const struct vnet_filter *f)
{
	for (unsigned int i = 0; i < VNET_MAX_VID / 32; i++)
		if (f->vlans[i])
			return false;
	return true;
}

/* What the control queue lets a driver that negotiated @c->features
 * reach (vnet_ctrl_exec()); before negotiation, only the reset state. */
static bool ctrl_ok(const struct vnet *vn, bool neg, const struct vnet_ctrl *c)
{
	const struct vnet_filter *f = &c->filter;
	const uint64_t ft = c->features;

	if (f->nr_uni > VNET_MAC_TABLE || f->nr_multi > VNET_MAC_TABLE ||
	    (f->uni_overflow && f->nr_uni) ||
	    (f->multi_overflow && f->nr_multi) || (f->mac[0] & 1))
		return false;
	if (!neg)
		return !ft && !c->guest_offloads && c->pairs == 1 &&
		       f->promisc && !f->allmulti && !f->uni_overflow &&
		       !f->multi_overflow && !f->vlan_filter && !f->nr_uni &&
		       !f->nr_multi && !memcmp(f->mac, vn->mac, 6) &&
		       vlans_empty(f);
	if (!vn->be.core ||
	    !(vn->be.core->status & VIRTIO_STATUS_DRIVER_OK) ||
	    ft != vn->be.driver_features ||
	    (c->guest_offloads & ~(ft & VNET_GUEST_OFFLOADS)) ||
	    c->pairs < 1 || c->pairs > vn->nr_pairs ||
	    (c->pairs > 1 && !HAS(ft, VIRTIO_NET_F_MQ)) ||
	    f->vlan_filter != HAS(ft, VIRTIO_NET_F_CTRL_VLAN))
		return false;
	if (!HAS(ft, VIRTIO_NET_F_CTRL_RX) &&
	    (!f->promisc || f->allmulti || f->uni_overflow ||
	     f->multi_overflow || f->nr_uni || f->nr_multi))
		return false;
	if (!HAS(ft, VIRTIO_NET_F_CTRL_MAC_ADDR) && memcmp(f->mac, vn->mac, 6))
		return false;
	return HAS(ft, VIRTIO_NET_F_CTRL_VLAN) || vlans_empty(f);
}

static int vnet_load(struct virtio_backend *be, struct snap_r *r)
{
	struct vnet *vn = to_vnet(be);
	struct vnet_ctrl c = { .max_pairs = vn->nr_pairs };
	struct vnet_filter *f = &c.filter;
	uint32_t pairs;
	bool neg;
	int err;

	pairs = snap_r_u32(r);
	neg = snap_r_bool(r);
	c.features = snap_r_u64(r);
	c.guest_offloads = snap_r_u64(r);
	c.pairs = snap_r_u32(r);
	f->promisc = snap_r_bool(r);
	f->allmulti = snap_r_bool(r);
	f->uni_overflow = snap_r_bool(r);
	f->multi_overflow = snap_r_bool(r);
	f->vlan_filter = snap_r_bool(r);
	snap_r_bytes(r, f->mac, 6);
	f->nr_uni = snap_r_u32(r);
	f->nr_multi = snap_r_u32(r);
	if (!snap_r_check(r, pairs == vn->nr_pairs,
			  "virtio-net: another number of queue pairs") ||
	    !snap_r_check(r, ctrl_ok(vn, neg, &c), "virtio-net: bad state"))
		return -EBADMSG;
	snap_r_bytes(r, f->uni, (size_t)f->nr_uni * 6);
	snap_r_bytes(r, f->multi, (size_t)f->nr_multi * 6);
	for (unsigned int i = 0; i < VNET_MAX_VID / 32; i++)
		f->vlans[i] = snap_r_u32(r);
	if (!snap_r_check(r, ctrl_ok(vn, neg, &c), "virtio-net: bad VLANs"))
		return -EBADMSG;
	err = snap_r_finish(r);
	if (err)
		return err;
	/* What the state means on the host: the TAP's offloads and queues
	 * and the config space's MAC. */
	vn->negotiated = neg;
	vn->ctrl = c;
	update_config_mac(vn);
	if (!neg)
		return 0;
	/* vhost-net takes the rings where the transport's record left them
	 * (the queues are loaded first), once vnet_start() prepared it. */
	for (unsigned int i = 0; vn->vhost && i < vn->nr_pairs; i++)
		for (unsigned int q = 0; q < 2; q++)
			vn->pairs[i].vhost_base[q] =
				be->core->vqs[2 * i + q].last_avail;
	set_offloads(vn);
	err = set_pairs(vn, c.pairs);
	/* Look at the rings and the TAP once the VM runs (vnet_start()
	 * does the same for the I/O threads). */
	for (unsigned int i = 0; !err && i < c.pairs; i++)
		pair_kick(&vn->pairs[i]);
	return err;
}

static const struct virtio_backend_ops vnet_ops = {
	.name = "net",
	.device_id = VIRTIO_ID_NET,
	.nr_queues = 3,
	.max_queue_size = VIRTIO_NET_QUEUE_SIZE,
	.config_read = vnet_config_read,
	.notify = vnet_notify,
	.reset = vnet_reset,
	.destroy = vnet_destroy,
	.start = vnet_start,
	.stop = vnet_stop,
	.kick_fd = vnet_kick_fd,
	.call_fd = vnet_call_fd,
	.poll_fds = vnet_poll_fds,
	.poll_ready = vnet_poll_ready,
	.drain = vnet_drain,
	.resume = vnet_resume,
	.save = vnet_save,
	.load = vnet_load,
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
	st->rx_filtered = __atomic_load_n(&s->rx_filtered, __ATOMIC_RELAXED);
}

static uint64_t offered_features(const struct vnet *vn)
{
	const unsigned int h = vn->host_offloads;
	uint64_t f = VIRTIO_BIT(VIRTIO_F_VERSION_1) |
		     VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) |
		     VIRTIO_BIT(VIRTIO_NET_F_MAC) |
		     VIRTIO_BIT(VIRTIO_NET_F_STATUS) |
		     VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) |
		     VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ) |
		     VIRTIO_BIT(VIRTIO_NET_F_CTRL_RX) |
		     VIRTIO_BIT(VIRTIO_NET_F_CTRL_VLAN) |
		     VIRTIO_BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) |
		     VIRTIO_BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) |
		     /* The host kernel checks and does what the guest
		      * leaves to it on transmit. */
		     VIRTIO_BIT(VIRTIO_NET_F_CSUM) |
		     VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4) |
		     VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO6) |
		     VIRTIO_BIT(VIRTIO_NET_F_HOST_ECN) |
		     VIRTIO_BIT(VIRTIO_NET_F_HOST_UFO);

	if (vn->nr_pairs > 1)
		f |= VIRTIO_BIT(VIRTIO_NET_F_MQ);
	/* The kernel's vhost-net does not filter what it receives. */
	if (vn->vhost)
		f &= ~(VIRTIO_BIT(VIRTIO_NET_F_CTRL_RX) |
		       VIRTIO_BIT(VIRTIO_NET_F_CTRL_VLAN));
	/* Receive offloads only as far as the TAP hands them over. */
	if (h & TAP_F_CSUM) {
		f |= VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM);
		if (h & TAP_F_TSO4)
			f |= VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4);
		if (h & TAP_F_TSO6)
			f |= VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6);
		if (h & TAP_F_TSO_ECN)
			f |= VIRTIO_BIT(VIRTIO_NET_F_GUEST_ECN);
		if (h & TAP_F_UFO)
			f |= VIRTIO_BIT(VIRTIO_NET_F_GUEST_UFO);
	}
	return f;
}

int vnet_create(const int *fds, unsigned int nfds, const struct vnet_opts *o,
		struct virtio_backend **out)
{
	struct vnet *vn = NULL;
	int err = -EINVAL;

	if (!fds || nfds < 1 || nfds > VIRTIO_NET_MAX_PAIRS)
		return -EINVAL;		/* not fds we can know about */
	if (!o || !out)
		goto fail;
	for (unsigned int i = 0; i < nfds; i++)
		if (fds[i] < 0)
			goto fail;
	if (!config_mac_ok(o->mac)) {
		log_err("virtio-net: MAC address must be unicast and not zero");
		goto fail;
	}
	for (unsigned int i = 0; i < nfds; i++) {
		int fl = fcntl(fds[i], F_GETFL);

		if (fl < 0 || fcntl(fds[i], F_SETFL, fl | O_NONBLOCK) < 0) {
			err = -errno;
			log_err("virtio-net: cannot make the TAP non-blocking: %s",
				strerror(errno));
			goto fail;
		}
	}
	err = -ENOMEM;
	vn = calloc(1, sizeof(*vn) + nfds * sizeof(vn->pairs[0]));
	if (!vn)
		goto fail;
	vn->nr_pairs = nfds;
	vn->vhost = o->vhost_fds != NULL;
	vn->vio = o->vhost_ioctl ? o->vhost_ioctl : vhost_net_ioctl;
	for (unsigned int i = 0; i < nfds; i++) {
		vn->pairs[i].fd = fds[i];
		vn->pairs[i].kick_fd = -1;
		vn->pairs[i].vhost_fd = vn->vhost ? o->vhost_fds[i] : -1;
		vn->pairs[i].vkick[0] = vn->pairs[i].vkick[1] = -1;
	}
	vn->ctrlbuf = malloc(VNET_CTRL_MAX);
	if (!vn->ctrlbuf)
		goto fail_free;
	for (unsigned int i = 0; i < nfds; i++) {
		struct vnet_pair *p = &vn->pairs[i];

		p->vn = vn;
		p->idx = i;
		p->rxbuf = malloc(RXBUF_SIZE);
		p->txbuf = malloc(TXBUF_SIZE);
		p->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		for (unsigned int r = 0; vn->vhost && r < 2; r++)
			p->vkick[r] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (p->kick_fd < 0 ||
		    (vn->vhost && (p->vkick[0] < 0 || p->vkick[1] < 0))) {
			err = -errno;
			log_err("virtio-net: eventfd: %s", strerror(errno));
			goto fail_free;
		}
		if (!p->rxbuf || !p->txbuf)
			goto fail_free;
	}
	vn->host_offloads = o->offloads;
	vn->set_offload = o->set_offload ? o->set_offload : tap_set_offload;
	vn->set_queue = o->set_queue ? o->set_queue : tap_set_queue;
	memcpy(vn->mac, o->mac, 6);
	vnet_filter_reset(&vn->ctrl.filter, vn->mac);
	vn->ctrl.pairs = 1;
	vn->ctrl.max_pairs = nfds;
	update_config_mac(vn);
	vn->config[6] = VIRTIO_NET_S_LINK_UP;	/* status, le16 */
	vn->config[8] = (uint8_t)nfds;		/* max_virtqueue_pairs */
	vn->be.ops = &vnet_ops;
	vn->be.config_size = VIRTIO_NET_CONFIG_SIZE;
	vn->be.nr_queues = 2 * nfds + 1;
	vn->be.features = offered_features(vn);
	/* One pair in use until the driver asks for more (MQ). */
	err = set_pairs(vn, 1);
	if (err)
		goto fail_free;
	*out = &vn->be;
	return 0;
fail_free:
	vnet_free(vn);
	return err;
fail:
	for (unsigned int i = 0; i < nfds; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		if (o && o->vhost_fds && o->vhost_fds[i] >= 0)
			close(o->vhost_fds[i]);
	}
	return err;
}

/* One /dev/vhost-net per pair into @vfds, as @mode says: 1 (use them),
 * 0 (rivet serves the TAP), or -errno (vhost=on and it cannot be). */
static int vhost_open_all(const char *tap, unsigned int queues,
			  enum vnet_vhost mode, int *vfds)
{
	const char *why = "";
	unsigned int i;
	int err = 0;

	if (mode == VNET_VHOST_OFF)
		return 0;
	for (i = 0; i < queues && !err; i++)
		err = vhost_net_open(&vfds[i], &why);
	if (!err)
		return 1;
	while (--i > 0)
		close(vfds[i - 1]);
	if (mode == VNET_VHOST_ON) {
		log_err("virtio-net %s: vhost=on: %s: %s", tap, why,
			strerror(-err));
		return err;
	}
	log_notice("virtio-net %s: vhost-net not available (%s: %s): rivet's I/O threads serve the TAP",
		   tap, why, strerror(-err));
	return 0;
}

int vnet_open(const char *tap, unsigned int queues, const uint8_t mac[6],
	      enum vnet_vhost vhost, struct virtio_backend **be)
{
	struct vnet_opts o = { .offloads = 0 };
	int fds[TAP_MAX_QUEUES], vfds[TAP_MAX_QUEUES];
	int err, use;

	if (!tap || !mac || !be || queues < 1 || queues > TAP_MAX_QUEUES)
		return -EINVAL;
	err = tap_open(tap, queues, fds, &o.offloads);
	if (err)
		return err;
	use = vhost_open_all(tap, queues, vhost, vfds);
	if (use < 0) {
		for (unsigned int i = 0; i < queues; i++)
			close(fds[i]);
		return use;
	}
	if (use) {
		o.vhost_fds = vfds;
		log_notice("virtio-net %s: vhost-net serves %u queue pair%s", tap,
			 queues, queues > 1 ? "s" : "");
	}
	memcpy(o.mac, mac, 6);
	return vnet_create(fds, queues, &o, be);
}
