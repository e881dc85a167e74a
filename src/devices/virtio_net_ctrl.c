// SPDX-License-Identifier: MIT
#include "devices/virtio_net_ctrl.h"

#include <string.h>

#include "core/log.h"
#include "devices/tap.h"

#define HAS(feat, bit) (((feat) >> (bit)) & 1)

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void vnet_hdr_get(const uint8_t raw[VNET_HDR_SIZE], struct vnet_hdr *h)
{
	h->flags = raw[0];
	h->gso_type = raw[1];
	h->hdr_len = le16(raw + 2);
	h->gso_size = le16(raw + 4);
	h->csum_start = le16(raw + 6);
	h->csum_offset = le16(raw + 8);
	h->num_buffers = le16(raw + 10);
}

void vnet_hdr_put(const struct vnet_hdr *h, uint8_t raw[VNET_HDR_SIZE])
{
	raw[0] = h->flags;
	raw[1] = h->gso_type;
	put16(raw + 2, h->hdr_len);
	put16(raw + 4, h->gso_size);
	put16(raw + 6, h->csum_start);
	put16(raw + 8, h->csum_offset);
	put16(raw + 10, h->num_buffers);
}

/* The checksum field (2 bytes at csum_start + csum_offset) is in the frame. */
static bool csum_in_frame(const struct vnet_hdr *h, uint32_t len)
{
	return (uint32_t)h->csum_start + h->csum_offset + 2 <= len;
}

const char *vnet_tx_hdr_check(struct vnet_hdr *h, uint32_t len,
			      uint64_t features)
{
	uint8_t gso = h->gso_type & ~VNET_HDR_GSO_ECN;
	bool ecn = h->gso_type & VNET_HDR_GSO_ECN;

	/* Flags a device does not know are ignored (§5.1.6.2.2); DATA_VALID
	 * means nothing on transmit. */
	h->flags &= VNET_HDR_F_NEEDS_CSUM;
	h->num_buffers = 0;
	if (h->flags) {
		if (!HAS(features, VIRTIO_NET_F_CSUM))
			return "checksum offload not negotiated";
		if (!csum_in_frame(h, len))
			return "checksum offset beyond the frame";
	} else {
		h->csum_start = 0;
		h->csum_offset = 0;
	}
	switch (gso) {
	case VNET_HDR_GSO_NONE:
		if (ecn)
			return "ECN without segmentation";
		h->gso_size = 0;
		h->hdr_len = 0;
		return NULL;
	case VNET_HDR_GSO_TCPV4:
		if (!HAS(features, VIRTIO_NET_F_HOST_TSO4))
			return "TCPv4 segmentation not negotiated";
		break;
	case VNET_HDR_GSO_TCPV6:
		if (!HAS(features, VIRTIO_NET_F_HOST_TSO6))
			return "TCPv6 segmentation not negotiated";
		break;
	case VNET_HDR_GSO_UDP:
		if (!HAS(features, VIRTIO_NET_F_HOST_UFO))
			return "UDP fragmentation not negotiated";
		if (ecn)
			return "ECN on UDP";
		break;
	default:
		return "unknown segmentation type";
	}
	if (ecn && !HAS(features, VIRTIO_NET_F_HOST_ECN))
		return "ECN segmentation not negotiated";
	if (!h->flags)
		return "segmentation without checksum offload";
	if (!h->gso_size)
		return "segment size 0";
	if (h->hdr_len > len)
		return "header length beyond the frame";
	return NULL;
}

const char *vnet_rx_hdr_check(struct vnet_hdr *h, uint32_t len,
			      unsigned int offloads)
{
	uint8_t gso = h->gso_type & ~VNET_HDR_GSO_ECN;

	h->num_buffers = 0;
	if (!(offloads & TAP_F_CSUM)) {
		/* The guest takes only whole, checksummed frames. */
		if (h->flags & VNET_HDR_F_NEEDS_CSUM)
			return "partial checksum for a guest without GUEST_CSUM";
		h->flags = 0;
	} else {
		h->flags &= VNET_HDR_F_NEEDS_CSUM | VNET_HDR_F_DATA_VALID;
		if ((h->flags & VNET_HDR_F_NEEDS_CSUM) && !csum_in_frame(h, len))
			return "checksum offset beyond the frame";
	}
	if (!(h->flags & VNET_HDR_F_NEEDS_CSUM)) {
		h->csum_start = 0;
		h->csum_offset = 0;
	}
	switch (gso) {
	case VNET_HDR_GSO_NONE:
		h->gso_type = 0;
		h->gso_size = 0;
		h->hdr_len = 0;
		return NULL;
	case VNET_HDR_GSO_TCPV4:
		if (!(offloads & TAP_F_TSO4))
			return "TCPv4 segment for a guest without GUEST_TSO4";
		break;
	case VNET_HDR_GSO_TCPV6:
		if (!(offloads & TAP_F_TSO6))
			return "TCPv6 segment for a guest without GUEST_TSO6";
		break;
	case VNET_HDR_GSO_UDP:
		if (!(offloads & TAP_F_UFO))
			return "UDP datagram for a guest without GUEST_UFO";
		break;
	default:
		return "unknown segmentation type";
	}
	if ((h->gso_type & VNET_HDR_GSO_ECN) && !(offloads & TAP_F_TSO_ECN))
		return "ECN segment for a guest without GUEST_ECN";
	return NULL;
}

unsigned int vnet_tap_offloads(uint64_t guest, unsigned int host)
{
	unsigned int f = 0;

	/* Segments come with their checksum left to do: no TSO or UFO
	 * without checksum offload, no ECN without TSO. */
	if (!HAS(guest, VIRTIO_NET_F_GUEST_CSUM) || !(host & TAP_F_CSUM))
		return 0;
	f = TAP_F_CSUM;
	if (HAS(guest, VIRTIO_NET_F_GUEST_TSO4))
		f |= TAP_F_TSO4;
	if (HAS(guest, VIRTIO_NET_F_GUEST_TSO6))
		f |= TAP_F_TSO6;
	if (HAS(guest, VIRTIO_NET_F_GUEST_ECN) && (f & (TAP_F_TSO4 | TAP_F_TSO6)))
		f |= TAP_F_TSO_ECN;
	if (HAS(guest, VIRTIO_NET_F_GUEST_UFO))
		f |= TAP_F_UFO;
	f &= host;
	if (!(f & (TAP_F_TSO4 | TAP_F_TSO6)))
		f &= ~TAP_F_TSO_ECN;
	return f;
}

/* ---- receive filter -------------------------------------------------------- */

void vnet_filter_reset(struct vnet_filter *f, const uint8_t mac[6])
{
	memset(f, 0, sizeof(*f));
	f->promisc = true;
	memcpy(f->mac, mac, 6);
}

static bool in_table(const uint8_t (*t)[6], unsigned int n, const uint8_t *a)
{
	for (unsigned int i = 0; i < n; i++)
		if (!memcmp(t[i], a, 6))
			return true;
	return false;
}

bool vnet_filter_accept(const struct vnet_filter *f, const uint8_t *frame,
			uint32_t len)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	if (f->promisc)
		return true;
	if (len < 14)
		return false;
	if (f->vlan_filter && frame[12] == 0x81 && frame[13] == 0x00) {
		uint16_t vid;

		if (len < 16)
			return false;
		vid = (uint16_t)((frame[14] << 8 | frame[15]) & 0xfff);
		if (!(f->vlans[vid / 32] & (1u << (vid % 32))))
			return false;
	}
	if (!memcmp(frame, bcast, 6))
		return true;
	if (frame[0] & 1)
		return f->allmulti || f->multi_overflow ||
		       in_table(f->multi, f->nr_multi, frame);
	return f->uni_overflow || !memcmp(frame, f->mac, 6) ||
	       in_table(f->uni, f->nr_uni, frame);
}

/* ---- control queue --------------------------------------------------------- */

static uint8_t ctrl_err(const char *what, uint8_t cls, uint8_t cmd)
{
	log_guest("virtio-net: control command %u.%u refused: %s", cls, cmd,
		  what);
	return VIRTIO_NET_ERR;
}

/* One MAC table (le32 count, then count addresses) at @p, @left bytes on:
 * how many bytes it takes, or 0 if it does not fit. */
static uint32_t mac_table(const uint8_t *p, uint32_t left, uint8_t (*t)[6],
			  unsigned int *nr, bool *overflow, bool apply)
{
	uint32_t n;

	if (left < 4)
		return 0;
	n = le32(p);
	if (n > (left - 4) / 6)
		return 0;
	if (apply) {
		*overflow = n > VNET_MAC_TABLE;
		*nr = *overflow ? 0 : n;
		if (!*overflow)
			memcpy(t, p + 4, (size_t)n * 6);
	}
	return 4 + n * 6;
}

static uint8_t ctrl_mac_tables(struct vnet_filter *f, const uint8_t *d,
			       uint32_t len)
{
	uint32_t a, b;
	bool dummy;
	unsigned int nd;

	/* Check both tables before changing either. */
	a = mac_table(d, len, NULL, &nd, &dummy, false);
	if (!a)
		return ctrl_err("unicast table does not fit the command",
				VIRTIO_NET_CTRL_MAC, 0);
	b = mac_table(d + a, len - a, NULL, &nd, &dummy, false);
	if (!b || a + b != len)
		return ctrl_err("multicast table does not fit the command",
				VIRTIO_NET_CTRL_MAC, 0);
	mac_table(d, len, f->uni, &f->nr_uni, &f->uni_overflow, true);
	mac_table(d + a, len - a, f->multi, &f->nr_multi, &f->multi_overflow,
		  true);
	return VIRTIO_NET_OK;
}

uint8_t vnet_ctrl_exec(struct vnet_ctrl *st, const uint8_t *cmd, uint32_t len)
{
	const uint64_t ft = st->features;
	const uint8_t *d = cmd + 2;
	uint8_t cls, op;
	uint32_t dl;

	if (len < 2)
		return ctrl_err("shorter than its header", 0xff, 0xff);
	cls = cmd[0];
	op = cmd[1];
	dl = len - 2;
	switch (cls) {
	case VIRTIO_NET_CTRL_RX:
		if (!HAS(ft, VIRTIO_NET_F_CTRL_RX))
			return ctrl_err("CTRL_RX not negotiated", cls, op);
		if (op > VIRTIO_NET_CTRL_RX_ALLMULTI)
			return ctrl_err("unknown RX mode", cls, op);
		if (dl != 1)
			return ctrl_err("data is not 1 byte", cls, op);
		if (op == VIRTIO_NET_CTRL_RX_PROMISC)
			st->filter.promisc = d[0] != 0;
		else
			st->filter.allmulti = d[0] != 0;
		return VIRTIO_NET_OK;
	case VIRTIO_NET_CTRL_MAC:
		if (op == VIRTIO_NET_CTRL_MAC_TABLE_SET) {
			if (!HAS(ft, VIRTIO_NET_F_CTRL_RX))
				return ctrl_err("CTRL_RX not negotiated", cls, op);
			return ctrl_mac_tables(&st->filter, d, dl);
		}
		if (op == VIRTIO_NET_CTRL_MAC_ADDR_SET) {
			if (!HAS(ft, VIRTIO_NET_F_CTRL_MAC_ADDR))
				return ctrl_err("CTRL_MAC_ADDR not negotiated", cls, op);
			if (dl != 6)
				return ctrl_err("data is not 6 bytes", cls, op);
			if (d[0] & 1)
				return ctrl_err("multicast address", cls, op);
			memcpy(st->filter.mac, d, 6);
			return VIRTIO_NET_OK;
		}
		return ctrl_err("unknown MAC command", cls, op);
	case VIRTIO_NET_CTRL_VLAN: {
		uint16_t vid;

		if (!HAS(ft, VIRTIO_NET_F_CTRL_VLAN))
			return ctrl_err("CTRL_VLAN not negotiated", cls, op);
		if (op > VIRTIO_NET_CTRL_VLAN_DEL)
			return ctrl_err("unknown VLAN command", cls, op);
		if (dl != 2)
			return ctrl_err("data is not 2 bytes", cls, op);
		vid = le16(d);
		if (vid >= VNET_MAX_VID)
			return ctrl_err("VLAN id over 4095", cls, op);
		if (op == VIRTIO_NET_CTRL_VLAN_ADD)
			st->filter.vlans[vid / 32] |= 1u << (vid % 32);
		else
			st->filter.vlans[vid / 32] &= ~(1u << (vid % 32));
		return VIRTIO_NET_OK;
	}
	case VIRTIO_NET_CTRL_MQ: {
		uint16_t n;

		if (!HAS(ft, VIRTIO_NET_F_MQ))
			return ctrl_err("MQ not negotiated", cls, op);
		if (op != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET)
			return ctrl_err("unknown MQ command", cls, op);
		if (dl != 2)
			return ctrl_err("data is not 2 bytes", cls, op);
		n = le16(d);
		if (n < 1 || n > st->max_pairs)
			return ctrl_err("queue pairs out of range", cls, op);
		st->pairs = n;
		return VIRTIO_NET_OK;
	}
	case VIRTIO_NET_CTRL_GUEST_OFFLOADS: {
		uint64_t v;

		if (!HAS(ft, VIRTIO_NET_F_CTRL_GUEST_OFFLOADS))
			return ctrl_err("CTRL_GUEST_OFFLOADS not negotiated", cls, op);
		if (op != VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET)
			return ctrl_err("unknown offloads command", cls, op);
		if (dl != 8)
			return ctrl_err("data is not 8 bytes", cls, op);
		v = (uint64_t)le32(d) | (uint64_t)le32(d + 4) << 32;
		if (v & ~(ft & VNET_GUEST_OFFLOADS))
			return ctrl_err("offloads not negotiated", cls, op);
		st->guest_offloads = v;
		return VIRTIO_NET_OK;
	}
	default:
		return ctrl_err("unknown class", cls, op);
	}
}
