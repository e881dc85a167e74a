// SPDX-License-Identifier: MIT
/* Fuzz target: the QMP engine (src/qmp/qmp.c) as a hostile client drives
 * it: bytes in any split, commands that wait for the VM completed or
 * failed in any order, events, and a client that reads slowly.  Checks:
 * every line rivet sends is one JSON object of a known kind ending CRLF,
 * its output never exceeds QMP_MAX_OUTPUT, a client that is not waiting
 * never holds a full input buffer, and nothing reaches the VM before
 * capabilities negotiation. */
#include "fuzz.h"

#include <errno.h>
#include <jansson.h>

#include "qmp/qmp.h"

struct qmp_fuzz {
	struct vm_config cfg;
	struct qmp_host host;
	enum qmp_runstate state;
	int answer;
	unsigned int actions;
	bool mig_events;
};

static enum qmp_runstate fz_state(void *o)
{
	return ((struct qmp_fuzz *)o)->state;
}

static unsigned int fz_tids(void *o, int *tids, unsigned int max)
{
	for (unsigned int i = 0; i < 3 && i < max; i++)
		tids[i] = 1000 + (int)i;
	return 3;
}

static long long fz_size(void *o, unsigned int i)
{
	return i ? -1 : 4096;
}

static int fz_action(void *o, struct qmp_conn *c, enum qmp_action act,
		     char *err, size_t errlen)
{
	struct qmp_fuzz *f = o;

	FUZZ_CHECK(c->negotiated);
	FUZZ_CHECK((unsigned int)act <= QMP_ACT_QUIT);
	f->actions++;
	if (f->answer == 2) {
		snprintf(err, errlen, "refused");
		return -EPERM;
	}
	return f->answer == 1 ? QMP_PENDING : QMP_DONE;
}

/* Every whole line of c->out is a known kind of JSON object; up to
 * @drain bytes of whole lines are then read by the client (a partial read
 * would leave half a line to check). */
static void check_output(struct qmp_conn *c, size_t drain)
{
	size_t off = 0, readable = 0;

	FUZZ_CHECK(c->out_len <= QMP_MAX_OUTPUT);
	while (off < c->out_len) {
		char *crlf = memmem(c->out + off, c->out_len - off, "\r\n", 2);
		json_t *j;
		size_t n;

		if (!crlf)
			break;
		n = (size_t)(crlf - (c->out + off));
		FUZZ_CHECK(!memchr(c->out + off, '\n', n));
		j = json_loadb(c->out + off, n, 0, NULL);
		FUZZ_CHECK(json_is_object(j));
		FUZZ_CHECK(json_object_get(j, "return") ||
			   json_object_get(j, "error") ||
			   json_object_get(j, "event") ||
			   json_object_get(j, "QMP"));
		if (json_object_get(j, "error")) {
			json_t *e = json_object_get(j, "error");

			FUZZ_CHECK(json_is_string(json_object_get(e, "class")));
			FUZZ_CHECK(json_is_string(json_object_get(e, "desc")));
		}
		json_decref(j);
		off += n + 2;
		if (off <= drain)
			readable = off;
	}
	qmp_conn_sent(c, readable);
}

/* migrate file:DIR reaches here only with a non-empty directory. */
static int fz_migrate(void *o, const char *dir, char *err, size_t errlen)
{
	struct qmp_fuzz *f = o;

	FUZZ_CHECK(dir && dir[0]);
	if (f->answer == 1) {
		snprintf(err, errlen, "refused");
		return -EBUSY;
	}
	return 0;
}

static json_t *fz_migrate_info(void *o)
{
	(void)o;
	return json_pack("{s:s}", "status", "completed");
}

static bool fz_mig_events(void *o)
{
	return ((struct qmp_fuzz *)o)->mig_events;
}

static int fz_set_mig_events(void *o, bool on, char *err, size_t errlen)
{
	struct qmp_fuzz *f = o;

	if (f->answer == 1) {
		snprintf(err, errlen, "busy");
		return -EBUSY;
	}
	f->mig_events = on;
	return 0;
}

static void fz_chardev(void *o, struct qmp_chardev_state *st)
{
	struct qmp_fuzz *f = o;

	st->pty = f->answer & 1 ? "/dev/pts/9" : NULL;
	st->console_client = f->answer & 2;
	st->qmp_client[0] = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct qmp_fuzz f;
	static const char *const events[] = { "STOP", "RESUME", "RESET" };
	struct fin in = { data, size };
	struct qmp_conn c;
	uint8_t cfg;

	fuzz_quiet();
	memset(&f, 0, sizeof(f));
	f.cfg.cpus = 3;
	f.cfg.nr_disks = 2;
	f.cfg.disks[0].path = "/d0";
	f.cfg.disks[1].path = "/d1";
	f.cfg.name = "fz";
	f.cfg.nr_qmp = 2;
	snprintf(f.cfg.qmp[0].path, sizeof(f.cfg.qmp[0].path), "/q0");
	snprintf(f.cfg.qmp[1].path, sizeof(f.cfg.qmp[1].path), "/q1");
	memcpy(f.cfg.uuid, "00000000-0000-0000-0000-000000000000", 37);
	f.host = (struct qmp_host){ .cfg = &f.cfg, .opaque = &f,
				    .state = fz_state, .cpu_tids = fz_tids,
				    .disk_size = fz_size,
				    .action = fz_action, .migrate = fz_migrate,
				    .migrate_info = fz_migrate_info,
				    .migrate_events = fz_mig_events,
				    .set_migrate_events = fz_set_mig_events,
				    .chardev_state = fz_chardev };
	cfg = fin_u8(&in);
	f.answer = cfg & 3;
	/* stdio, pty, unix, null; daemonized or not. */
	f.cfg.serial.kind = (enum serial_kind)(cfg >> 6);
	f.cfg.daemonize = cfg & 0x20;
	snprintf(f.cfg.serial.path, sizeof(f.cfg.serial.path), "/con");
	f.state = (enum qmp_runstate)((cfg >> 3) % 6);
	if (qmp_conn_init(&c, &f.host))
		return 0;
	check_output(&c, ~(size_t)0);
	if (cfg & FZ_QMP_CFG_NEGOTIATED) {
		const char *neg = "{\"execute\": \"qmp_capabilities\"}";

		qmp_conn_input(&c, neg, strlen(neg));
		FUZZ_CHECK(c.negotiated);
	}
	while (in.left && !c.dead) {
		uint8_t op = fin_u8(&in) % FZ_QMP_NR_OPS;
		size_t drain = ~(size_t)0;

		switch (op) {
		case FZ_QMP_INPUT: {
			uint16_t len = fin_u16(&in);
			size_t n = len < in.left ? len : in.left;

			qmp_conn_input(&c, in.p, n);
			in.p += n;
			in.left -= n;
			break;
		}
		case FZ_QMP_DONE:
		case FZ_QMP_FAIL:
			qmp_conn_done(&c, op == FZ_QMP_FAIL ? "failed" : NULL);
			break;
		case FZ_QMP_EVENT: {
			size_t len;
			char *ev = qmp_event_format(
				events[fin_u8(&in) % 3], NULL, &len);

			if (ev)
				qmp_conn_event(&c, ev, len);
			free(ev);
			break;
		}
		case FZ_QMP_STATE:
			f.state = (enum qmp_runstate)(fin_u8(&in) % 6);
			break;
		case FZ_QMP_DRAIN:
			drain = fin_u16(&in);
			break;
		}
		FUZZ_CHECK(c.busy || c.dead || c.in_len < QMP_MAX_INPUT);
		if (!c.negotiated)
			FUZZ_CHECK(f.actions == 0);
		check_output(&c, drain);
	}
	qmp_conn_free(&c);
	return 0;
}
