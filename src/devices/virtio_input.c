// SPDX-License-Identifier: MIT
#include "devices/virtio_input.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "devices/virtio.h"
#include "devices/virtio_common.h"
#include "devices/virtq.h"
#include "snapshot/snap.h"

#define VINPUT_PCI_CLASS	0x098000	/* input device, other */

/* Room for a whole press behind one already started (see drop_press()). */
_Static_assert(VINPUT_PENDING_MAX >= 2 * VINPUT_PRESS_EVENTS,
	       "pending ring too small");

struct vinput_event {
	uint16_t type;
	uint16_t code;
	uint32_t value;
};

struct vinput {
	struct virtio_backend be;
	/* The config space as the driver sees it: select and subsel as
	 * written, size and the union answering them. */
	uint8_t cfg[VIRTIO_INPUT_CONFIG_SIZE];
	/* Events not delivered yet: a ring of @count from @head.  Presses
	 * are queued whole and taken one event at a time, so count %
	 * VINPUT_PRESS_EVENTS is what is left of a press already started. */
	struct vinput_event pending[VINPUT_PENDING_MAX];
	unsigned int head;
	unsigned int count;
};

static const struct virtio_backend_ops vinput_ops;

static struct vinput *to_vinput(struct virtio_backend *be)
{
	return (struct vinput *)be;
}

static struct vinput_event *pending_at(struct vinput *vi, unsigned int i)
{
	return &vi->pending[(vi->head + i) % VINPUT_PENDING_MAX];
}

/* A press: what queue_press() queues, and all a pending event can be. */
static const struct vinput_event press_events[VINPUT_PRESS_EVENTS] = {
	{ VINPUT_EV_KEY, VINPUT_KEY_POWER, 1 },
	{ VINPUT_EV_SYN, VINPUT_SYN_REPORT, 0 },
	{ VINPUT_EV_KEY, VINPUT_KEY_POWER, 0 },
	{ VINPUT_EV_SYN, VINPUT_SYN_REPORT, 0 },
};

/* ---- config space -------------------------------------------------------- */

static void answer_bytes(struct vinput *vi, const void *p, size_t len)
{
	memcpy(vi->cfg + VIRTIO_INPUT_CFG_U, p, len);
	vi->cfg[VIRTIO_INPUT_CFG_SIZE] = (uint8_t)len;
}

/* Fill size and the union for the current select/subsel; anything we do
 * not have is size 0 with a zeroed union, which the driver takes as "no". */
static void vinput_answer(struct vinput *vi)
{
	uint8_t sel = vi->cfg[VIRTIO_INPUT_CFG_SELECT];
	uint8_t sub = vi->cfg[VIRTIO_INPUT_CFG_SUBSEL];

	memset(vi->cfg + VIRTIO_INPUT_CFG_SIZE, 0,
	       sizeof(vi->cfg) - VIRTIO_INPUT_CFG_SIZE);
	switch (sel) {
	case VIRTIO_INPUT_CFG_ID_NAME:
		if (sub == 0)
			answer_bytes(vi, VINPUT_NAME, strlen(VINPUT_NAME));
		break;
	case VIRTIO_INPUT_CFG_ID_DEVIDS:
		if (sub == 0) {
			/* bustype, vendor, product, version: le16 each */
			const uint16_t ids[4] = {
				htole16(VINPUT_BUS_VIRTUAL), htole16(1),
				htole16(1), htole16(1),
			};

			answer_bytes(vi, ids, sizeof(ids));
		}
		break;
	case VIRTIO_INPUT_CFG_EV_BITS:
		/* Only EV_KEY has codes; Linux adds EV_SYN itself. */
		if (sub == VINPUT_EV_KEY) {
			uint8_t bits[VINPUT_KEY_POWER / 8 + 1] = { 0 };

			bits[VINPUT_KEY_POWER / 8] =
				1u << (VINPUT_KEY_POWER % 8);
			answer_bytes(vi, bits, sizeof(bits));
		}
		break;
	default:
		/* ID_SERIAL, PROP_BITS, ABS_INFO, UNSET, unknown: none. */
		break;
	}
}

static void vinput_config_read(struct virtio_backend *be, uint32_t off,
			       uint8_t *data, unsigned int len)
{
	memcpy(data, to_vinput(be)->cfg + off, len);
}

/* Only select and subsel are the driver's; the transport checked that
 * @off + @len fits the config space. */
static void vinput_config_write(struct virtio_backend *be, uint32_t off,
				const uint8_t *data, unsigned int len)
{
	struct vinput *vi = to_vinput(be);
	bool ignored = false;

	for (unsigned int i = 0; i < len; i++) {
		uint32_t pos = off + i;

		if (pos == VIRTIO_INPUT_CFG_SELECT ||
		    pos == VIRTIO_INPUT_CFG_SUBSEL)
			vi->cfg[pos] = data[i];
		else
			ignored = true;
	}
	if (ignored)
		log_guest("virtio-input: write to read-only config 0x%x+%u ignored",
			  off, len);
	vinput_answer(vi);
}

/* ---- events -------------------------------------------------------------- */

/* Make room for one press: drop the oldest press that has not started,
 * keeping what is left of a started one, so the guest never sees a key
 * pressed without its release. */
static void drop_press(struct vinput *vi)
{
	unsigned int started = vi->count % VINPUT_PRESS_EVENTS;

	for (unsigned int i = started; i-- > 0;)
		*pending_at(vi, i + VINPUT_PRESS_EVENTS) = *pending_at(vi, i);
	vi->head = (vi->head + VINPUT_PRESS_EVENTS) % VINPUT_PENDING_MAX;
	vi->count -= VINPUT_PRESS_EVENTS;
}

static void queue_press(struct vinput *vi)
{
	if (vi->count + VINPUT_PRESS_EVENTS > VINPUT_PENDING_MAX) {
		log_guest("virtio-input: the driver takes no events: oldest power button press dropped");
		drop_press(vi);
	}
	for (unsigned int i = 0; i < VINPUT_PRESS_EVENTS; i++)
		*pending_at(vi, vi->count++) = press_events[i];
}

/* Lock held: move pending events into the driver's eventq buffers, one
 * event per buffer, as long as both last.  Buffers popped are bounded by
 * the ring size.  0 or -errno (the ring is broken). */
static int deliver(struct vinput *vi, struct virtq *vq)
{
	struct virtq_chain c;
	int r = 0;

	for (unsigned int budget = vq->size; budget && vi->count; budget--) {
		const struct vinput_event *ev = pending_at(vi, 0);
		uint8_t raw[VIRTIO_INPUT_EVENT_SIZE];
		uint16_t type = htole16(ev->type), code = htole16(ev->code);
		uint32_t value = htole32(ev->value);

		r = virtq_pop(vq, &c);
		if (r <= 0)
			break;
		if (c.nr_out || c.in_len < sizeof(raw)) {
			log_guest("virtio-input: event buffer %s: returned unused",
				  c.nr_out ? "device-readable"
					   : "shorter than an event");
			virtq_push(vq, &c, 0);
			continue;
		}
		memcpy(raw, &type, 2);
		memcpy(raw + 2, &code, 2);
		memcpy(raw + 4, &value, 4);
		virtq_chain_write(&c, 0, raw, sizeof(raw));
		virtq_push(vq, &c, sizeof(raw));
		vi->head = (vi->head + 1) % VINPUT_PENDING_MAX;
		vi->count--;
	}
	return r < 0 ? r : 0;
}

static void status_serve(void *ctx, struct virtq *vq, struct virtq_chain *c)
{
	virtq_push(vq, c, 0);	/* LEDs and the like: we have none */
}

static int vinput_handle_queue(struct virtio_backend *be, struct virtq *vq,
			       unsigned int qidx)
{
	if (qidx == VIRTIO_INPUT_EVENTQ)
		return deliver(to_vinput(be), vq);
	return virtq_serve(vq, status_serve, NULL);
}

int vinput_press_power(struct virtio_backend *be)
{
	struct vinput *vi = to_vinput(be);
	struct virtq *vq;
	uint32_t status;
	int err;

	if (!be || be->ops != &vinput_ops)
		return -EINVAL;
	if (!be->core)
		return -ENODEV;
	virtio_backend_lock(be);
	status = be->core->status;
	if (!(status & VIRTIO_STATUS_DRIVER_OK) ||
	    (status & VIRTIO_STATUS_NEEDS_RESET)) {
		virtio_backend_unlock(be);
		return -ENODEV;
	}
	queue_press(vi);
	/* NULL while the queue is not ready or bus mastering is off: the
	 * events wait for the driver's next notify. */
	vq = virtio_backend_queue(be, VIRTIO_INPUT_EVENTQ);
	if (vq) {
		err = deliver(vi, vq);
		virtio_backend_queue_done(be, VIRTIO_INPUT_EVENTQ, err);
	}
	virtio_backend_unlock(be);
	return 0;
}

/* ---- the backend --------------------------------------------------------- */

/* Lock held: the driver is gone, and so are the events meant for it. */
static void vinput_reset(struct virtio_backend *be)
{
	struct vinput *vi = to_vinput(be);

	memset(vi->cfg, 0, sizeof(vi->cfg));
	vi->head = 0;
	vi->count = 0;
}

static void vinput_destroy(struct virtio_backend *be)
{
	free(to_vinput(be));
}

/* ---- snapshots ----------------------------------------------------------- */

/* virtio-input's record: u8 select, u8 subsel (the answer is computed
 * from them), u32 head and u32 count of the pending ring, then each
 * pending event from the head: u16 type, u16 code, u32 value. */
static int vinput_save(struct virtio_backend *be, struct snap_w *w)
{
	struct vinput *vi = to_vinput(be);

	snap_w_u8(w, vi->cfg[VIRTIO_INPUT_CFG_SELECT]);
	snap_w_u8(w, vi->cfg[VIRTIO_INPUT_CFG_SUBSEL]);
	snap_w_u32(w, vi->head);
	snap_w_u32(w, vi->count);
	for (unsigned int i = 0; i < vi->count; i++) {
		const struct vinput_event *ev = pending_at(vi, i);

		snap_w_u16(w, ev->type);
		snap_w_u16(w, ev->code);
		snap_w_u32(w, ev->value);
	}
	return 0;
}

static int vinput_load(struct virtio_backend *be, struct snap_r *r)
{
	struct vinput *vi = to_vinput(be);
	struct vinput_event ev[VINPUT_PENDING_MAX];
	uint8_t sel = snap_r_u8(r), sub = snap_r_u8(r);
	uint32_t head = snap_r_u32(r), count = snap_r_u32(r);
	uint32_t skip;
	int err;

	/* Events are queued only for a driver past DRIVER_OK. */
	if (!snap_r_check(r, head < VINPUT_PENDING_MAX &&
			  count <= VINPUT_PENDING_MAX &&
			  (!count || (be->core->status &
				      VIRTIO_STATUS_DRIVER_OK)),
			  "virtio-input: bad pending events"))
		return -EBADMSG;
	/* What is left of a started press, then whole presses. */
	skip = (VINPUT_PRESS_EVENTS - count % VINPUT_PRESS_EVENTS) %
	       VINPUT_PRESS_EVENTS;
	for (uint32_t i = 0; i < count; i++) {
		const struct vinput_event *want =
			&press_events[(i + skip) % VINPUT_PRESS_EVENTS];

		ev[i].type = snap_r_u16(r);
		ev[i].code = snap_r_u16(r);
		ev[i].value = snap_r_u32(r);
		if (!snap_r_check(r, ev[i].type == want->type &&
				  ev[i].code == want->code &&
				  ev[i].value == want->value,
				  "virtio-input: not a power button event"))
			return -EBADMSG;
	}
	err = snap_r_finish(r);
	if (err)
		return err;
	vi->cfg[VIRTIO_INPUT_CFG_SELECT] = sel;
	vi->cfg[VIRTIO_INPUT_CFG_SUBSEL] = sub;
	vinput_answer(vi);
	vi->head = head;
	vi->count = count;
	for (uint32_t i = 0; i < count; i++)
		*pending_at(vi, i) = ev[i];
	return 0;
}

static const struct virtio_backend_ops vinput_ops = {
	.name = "input",
	.device_id = VIRTIO_ID_INPUT,
	.nr_queues = 2,
	.max_queue_size = VIRTIO_INPUT_QUEUE_SIZE,
	.pci_class = VINPUT_PCI_CLASS,
	.config_read = vinput_config_read,
	.config_write = vinput_config_write,
	.handle_queue = vinput_handle_queue,
	.reset = vinput_reset,
	.destroy = vinput_destroy,
	.save = vinput_save,
	.load = vinput_load,
};

int vinput_create(struct virtio_backend **out)
{
	struct vinput *vi = calloc(1, sizeof(*vi));

	if (!vi)
		return -ENOMEM;
	vi->be.ops = &vinput_ops;
	vi->be.features = VIRTIO_BIT(VIRTIO_F_VERSION_1);
	vi->be.config_size = VIRTIO_INPUT_CONFIG_SIZE;
	*out = &vi->be;
	return 0;
}
