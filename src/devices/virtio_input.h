/* SPDX-License-Identifier: MIT */
/* virtio-input (virtio 1.2 §5.8) backend that is a power button: it
 * reports one key, KEY_POWER, so that the guest's input layer (Linux:
 * virtio_input, then systemd-logind or acpid) can shut down cleanly when
 * the host presses it.
 *
 * Queues: eventq (0, device-writable 8-byte buffers that receive struct
 * virtio_input_event) and statusq (1, LED and similar events from the
 * driver: consumed and returned unread).  An eventq buffer that is
 * device-readable or shorter than an event is returned with length 0 and
 * the event waits for the next one (Linux ignores such a buffer and posts
 * it again).
 *
 * Config space: the driver writes select/subsel and reads size and the
 * answer (name "rivet power button", IDs BUS_VIRTUAL 0001:0001 v1, EV_KEY
 * with only KEY_POWER); every other question gets size 0.  Other config
 * writes are ignored (logged). */
#ifndef RIVET_VIRTIO_INPUT_H
#define RIVET_VIRTIO_INPUT_H

struct virtio_backend;

#define VIRTIO_ID_INPUT			18

#define VIRTIO_INPUT_QUEUE_SIZE		64	/* Linux posts up to 64 */
#define VIRTIO_INPUT_EVENTQ		0
#define VIRTIO_INPUT_STATUSQ		1

/* Config space select values (virtio 1.2 §5.8.4). */
#define VIRTIO_INPUT_CFG_UNSET		0x00
#define VIRTIO_INPUT_CFG_ID_NAME	0x01
#define VIRTIO_INPUT_CFG_ID_SERIAL	0x02
#define VIRTIO_INPUT_CFG_ID_DEVIDS	0x03
#define VIRTIO_INPUT_CFG_PROP_BITS	0x10
#define VIRTIO_INPUT_CFG_EV_BITS	0x11
#define VIRTIO_INPUT_CFG_ABS_INFO	0x12

/* struct virtio_input_config: select, subsel, size, 5 reserved bytes,
 * then a 128-byte union. */
#define VIRTIO_INPUT_CFG_SELECT		0
#define VIRTIO_INPUT_CFG_SUBSEL		1
#define VIRTIO_INPUT_CFG_SIZE		2
#define VIRTIO_INPUT_CFG_U		8
#define VIRTIO_INPUT_CFG_U_SIZE		128
#define VIRTIO_INPUT_CONFIG_SIZE	(VIRTIO_INPUT_CFG_U + \
					 VIRTIO_INPUT_CFG_U_SIZE)

/* struct virtio_input_event: le16 type, le16 code, le32 value. */
#define VIRTIO_INPUT_EVENT_SIZE		8

/* The Linux input event codes the device uses (linux/input-event-codes.h). */
#define VINPUT_EV_SYN			0x00
#define VINPUT_EV_KEY			0x01
#define VINPUT_SYN_REPORT		0
#define VINPUT_KEY_POWER		116
#define VINPUT_BUS_VIRTUAL		0x06

#define VINPUT_NAME			"rivet power button"

/* Events waiting for eventq buffers; a press is 4 of them. */
#define VINPUT_PENDING_MAX		64
#define VINPUT_PRESS_EVENTS		4

/* The backend, for any transport: 0 or -ENOMEM. */
int vinput_create(struct virtio_backend **out);

/* Press and release the power button: queue EV_KEY KEY_POWER 1, SYN,
 * EV_KEY KEY_POWER 0, SYN and hand the driver as many as it has buffers
 * for now, with the used-buffer interrupt; the rest follow as it posts
 * more.  When the VINPUT_PENDING_MAX events waiting leave no room for
 * another press, the oldest press not yet started is dropped (logged).
 * Any thread except inside a callback of this backend (takes the device
 * lock).  0, -ENODEV when no driver is ready for events (no DRIVER_OK, or
 * the device needs a reset): nothing is queued then; -EINVAL if @be is
 * not a vinput_create() backend. */
int vinput_press_power(struct virtio_backend *be);

#endif
