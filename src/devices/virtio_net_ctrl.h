/* SPDX-License-Identifier: MIT */
/* virtio-net's guest-facing rules, apart from queues and threads so they
 * are unit-tested and fuzzed on their own (virtio 1.2 §5.1.6):
 *  - the virtio_net_hdr of a transmitted frame, checked against what the
 *    driver negotiated and rebuilt (only checked fields reach the host);
 *  - the header the TAP gives a received frame, checked against the
 *    offloads the guest takes now;
 *  - the control queue's commands (RX mode, MAC tables and address, VLAN
 *    filter, queue pairs, guest offloads) and the receive filter they
 *    configure. */
#ifndef RIVET_VIRTIO_NET_CTRL_H
#define RIVET_VIRTIO_NET_CTRL_H

#include <stdbool.h>
#include <stdint.h>

/* Feature bits (virtio 1.2 §5.1.3). */
#define VIRTIO_NET_F_CSUM		0
#define VIRTIO_NET_F_GUEST_CSUM		1
#define VIRTIO_NET_F_CTRL_GUEST_OFFLOADS 2
#define VIRTIO_NET_F_MAC		5
#define VIRTIO_NET_F_GUEST_TSO4		7
#define VIRTIO_NET_F_GUEST_TSO6		8
#define VIRTIO_NET_F_GUEST_ECN		9
#define VIRTIO_NET_F_GUEST_UFO		10
#define VIRTIO_NET_F_HOST_TSO4		11
#define VIRTIO_NET_F_HOST_TSO6		12
#define VIRTIO_NET_F_HOST_ECN		13
#define VIRTIO_NET_F_HOST_UFO		14
#define VIRTIO_NET_F_MRG_RXBUF		15
#define VIRTIO_NET_F_STATUS		16
#define VIRTIO_NET_F_CTRL_VQ		17
#define VIRTIO_NET_F_CTRL_RX		18
#define VIRTIO_NET_F_CTRL_VLAN		19
#define VIRTIO_NET_F_MQ			22
#define VIRTIO_NET_F_CTRL_MAC_ADDR	23

/* The guest's receive offloads: what CTRL_GUEST_OFFLOADS may switch. */
#define VNET_GUEST_OFFLOADS						\
	((1ULL << VIRTIO_NET_F_GUEST_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_TSO4) | \
	 (1ULL << VIRTIO_NET_F_GUEST_TSO6) | (1ULL << VIRTIO_NET_F_GUEST_ECN) | \
	 (1ULL << VIRTIO_NET_F_GUEST_UFO))

/* struct virtio_net_hdr with VERSION_1 (12 bytes, little endian). */
#define VNET_HDR_SIZE			12
#define VNET_HDR_F_NEEDS_CSUM		1
#define VNET_HDR_F_DATA_VALID		2
#define VNET_HDR_GSO_NONE		0
#define VNET_HDR_GSO_TCPV4		1
#define VNET_HDR_GSO_UDP		3
#define VNET_HDR_GSO_TCPV6		4
#define VNET_HDR_GSO_ECN		0x80

struct vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};

void vnet_hdr_get(const uint8_t raw[VNET_HDR_SIZE], struct vnet_hdr *h);
void vnet_hdr_put(const struct vnet_hdr *h, uint8_t raw[VNET_HDR_SIZE]);

/* A transmitted frame of @len bytes (header excluded) with header @h, from
 * a driver that negotiated @features: NULL with @h rebuilt for the host
 * (unknown flags and unused fields zeroed), or why it must be dropped. */
const char *vnet_tx_hdr_check(struct vnet_hdr *h, uint32_t len,
			      uint64_t features);
/* A received frame of @len bytes with the TAP's header @h, for a guest
 * that takes the TAP_F_* offloads @offloads now: NULL with @h ready for
 * the guest (num_buffers aside), or why it must be dropped. */
const char *vnet_rx_hdr_check(struct vnet_hdr *h, uint32_t len,
			      unsigned int offloads);
/* The TAP_F_* offloads that the guest offloads @guest (VIRTIO_NET_F_GUEST_*
 * bits) ask for, within what the host takes (@host). */
unsigned int vnet_tap_offloads(uint64_t guest, unsigned int host);

/* ---- receive filter and control queue -------------------------------------- */

#define VNET_MAC_TABLE	64	/* entries per table; more: accept all */
#define VNET_MAX_VID	4096

struct vnet_filter {
	bool promisc;
	bool allmulti;
	bool uni_overflow;
	bool multi_overflow;
	bool vlan_filter;	/* CTRL_VLAN negotiated: tagged frames filtered */
	uint8_t mac[6];
	unsigned int nr_uni;
	unsigned int nr_multi;
	uint8_t uni[VNET_MAC_TABLE][6];
	uint8_t multi[VNET_MAC_TABLE][6];
	uint32_t vlans[VNET_MAX_VID / 32];
};

/* After a device reset: promiscuous (until the driver says otherwise, as
 * drivers without CTRL_RX expect), tables and VLANs empty. */
void vnet_filter_reset(struct vnet_filter *f, const uint8_t mac[6]);
/* Does the guest want the @len-byte frame @frame? */
bool vnet_filter_accept(const struct vnet_filter *f, const uint8_t *frame,
			uint32_t len);

/* Control queue classes and commands (virtio 1.2 §5.1.6.5). */
#define VIRTIO_NET_CTRL_RX		0
#define  VIRTIO_NET_CTRL_RX_PROMISC	0
#define  VIRTIO_NET_CTRL_RX_ALLMULTI	1
#define VIRTIO_NET_CTRL_MAC		1
#define  VIRTIO_NET_CTRL_MAC_TABLE_SET	0
#define  VIRTIO_NET_CTRL_MAC_ADDR_SET	1
#define VIRTIO_NET_CTRL_VLAN		2
#define  VIRTIO_NET_CTRL_VLAN_ADD	0
#define  VIRTIO_NET_CTRL_VLAN_DEL	1
#define VIRTIO_NET_CTRL_MQ		4
#define  VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET 0
#define VIRTIO_NET_CTRL_GUEST_OFFLOADS	5
#define  VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET 0

#define VIRTIO_NET_OK	0
#define VIRTIO_NET_ERR	1

/* Largest command taken (two full MAC tables fit many times over). */
#define VNET_CTRL_MAX	8192

/* What the control queue changes; the device applies the side effects
 * (TAP offloads and queues, config space) after each command. */
struct vnet_ctrl {
	struct vnet_filter filter;
	uint64_t features;		/* negotiated */
	uint64_t guest_offloads;	/* VIRTIO_NET_F_GUEST_* bits in use */
	unsigned int pairs;		/* queue pairs in use */
	unsigned int max_pairs;
};

/* Run the @len-byte command @cmd (class, command, data); VIRTIO_NET_OK or
 * VIRTIO_NET_ERR (logged: the command was malformed or not negotiated,
 * and nothing changed). */
uint8_t vnet_ctrl_exec(struct vnet_ctrl *st, const uint8_t *cmd, uint32_t len);

#endif
