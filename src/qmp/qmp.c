// SPDX-License-Identifier: MIT
/* QMP's wire (greeting, capabilities negotiation, commands, replies,
 * errors, events) and the commands that need no VM.  Replies follow QEMU's
 * own shapes key for key (checked against Debian's QEMU by the e2e tests,
 * docs/qmp.md); every member and argument is checked before use. */
#include "qmp/qmp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CRLF "\r\n"

static const char *const state_names[] = {
	[QMP_STATE_PRELAUNCH] = "prelaunch",
	[QMP_STATE_RUNNING] = "running",
	[QMP_STATE_PAUSED] = "paused",
	[QMP_STATE_SHUTDOWN] = "shutdown",
	[QMP_STATE_GUEST_PANICKED] = "guest-panicked",
	[QMP_STATE_INTERNAL_ERROR] = "internal-error",
	[QMP_STATE_POSTMIGRATE] = "postmigrate",
};

const char *qmp_runstate_name(enum qmp_runstate s)
{
	if ((unsigned int)s >= sizeof(state_names) / sizeof(state_names[0]))
		return "internal-error";
	return state_names[s];
}

/* ---- output ------------------------------------------------------------ */

static void out_append(struct qmp_conn *c, const char *s, size_t len)
{
	if (c->dead)
		return;
	if (c->out_len + len > QMP_MAX_OUTPUT) {
		c->dead = true;	/* it does not read: drop it, not the VM */
		return;
	}
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		char *p;

		while (cap < c->out_len + len)
			cap *= 2;
		if (cap > QMP_MAX_OUTPUT)
			cap = QMP_MAX_OUTPUT;
		p = realloc(c->out, cap);
		if (!p) {
			c->dead = true;
			return;
		}
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, s, len);
	c->out_len += len;
}

/* Queue @obj (reference taken) as one line. */
static void send_json(struct qmp_conn *c, json_t *obj)
{
	char *s = obj ? json_dumps(obj, JSON_ENSURE_ASCII) : NULL;

	json_decref(obj);
	if (!s) {
		c->dead = true;
		return;
	}
	out_append(c, s, strlen(s));
	out_append(c, CRLF, 2);
	free(s);
}

void qmp_conn_sent(struct qmp_conn *c, size_t n)
{
	if (n > c->out_len)
		n = c->out_len;
	memmove(c->out, c->out + n, c->out_len - n);
	c->out_len -= n;
}

static void reply_return(struct qmp_conn *c, json_t *ret, json_t *id)
{
	json_t *o = json_object();

	json_object_set_new(o, "return", ret ? ret : json_object());
	if (id)
		json_object_set(o, "id", id);
	send_json(c, o);
}

static void reply_error(struct qmp_conn *c, json_t *id, const char *cls,
			const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void reply_error(struct qmp_conn *c, json_t *id, const char *cls,
			const char *fmt, ...)
{
	char desc[256];
	json_t *o = json_object();
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	if (id)
		json_object_set(o, "id", id);
	json_object_set_new(o, "error",
			    json_pack("{s:s, s:s}", "class", cls, "desc",
				      desc));
	send_json(c, o);
}

static json_t *version_obj(void)
{
	char pkg[64];

	snprintf(pkg, sizeof(pkg), "rivet %s", RIVET_VERSION);
	return json_pack("{s:{s:i, s:i, s:i}, s:s}", "qemu", "micro",
			 QMP_COMPAT_MICRO, "minor", QMP_COMPAT_MINOR, "major",
			 QMP_COMPAT_MAJOR, "package", pkg);
}

int qmp_conn_init(struct qmp_conn *c, const struct qmp_host *host)
{
	memset(c, 0, sizeof(*c));
	c->host = host;
	c->in = malloc(QMP_MAX_INPUT);
	if (!c->in)
		return -ENOMEM;
	/* No out-of-band execution: an empty capability list. */
	send_json(c, json_pack("{s:{s:o, s:[]}}", "QMP", "version",
			       version_obj(), "capabilities"));
	return c->dead ? -ENOMEM : 0;
}

void qmp_conn_free(struct qmp_conn *c)
{
	free(c->in);
	free(c->out);
	json_decref(c->pending_id);
	memset(c, 0, sizeof(*c));
}

char *qmp_event_format(const char *name, json_t *data, size_t *len)
{
	struct timespec ts;
	json_t *o;
	char *s, *line;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	o = json_pack("{s:{s:I, s:I}, s:s}", "timestamp", "seconds",
		      (json_int_t)ts.tv_sec, "microseconds",
		      (json_int_t)(ts.tv_nsec / 1000), "event", name);
	if (o && data)
		json_object_set(o, "data", data);
	json_decref(data);
	s = o ? json_dumps(o, JSON_ENSURE_ASCII) : NULL;
	json_decref(o);
	if (!s)
		return NULL;
	n = strlen(s);
	line = realloc(s, n + 3);
	if (!line) {
		free(s);
		return NULL;
	}
	memcpy(line + n, CRLF, 3);
	*len = n + 2;
	return line;
}

void qmp_conn_event(struct qmp_conn *c, const char *line, size_t len)
{
	if (c->negotiated)
		out_append(c, line, len);
}

/* ---- commands ------------------------------------------------------------ */

/* A command's outcome: a return value, an error, or waiting for the VM. */
struct result {
	json_t *ret;		/* success (NULL: {}) */
	const char *cls;	/* error class, or NULL */
	char desc[224];
	bool pending;
};

static void fail(struct result *r, const char *cls, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct result *r, const char *cls, const char *fmt, ...)
{
	va_list ap;

	r->cls = cls;
	va_start(ap, fmt);
	vsnprintf(r->desc, sizeof(r->desc), fmt, ap);
	va_end(ap);
}

struct qmp_arg {
	const char *name;
	json_type type;
	const char *type_name;
};

struct qmp_cmd {
	const char *name;
	void (*fn)(struct qmp_conn *c, json_t *args, struct result *r,
		   unsigned int act);
	const struct qmp_arg *args;	/* all optional; NULL: none */
	unsigned int act;		/* enum qmp_action for do_action */
};

static void do_capabilities(struct qmp_conn *c, json_t *args,
			    struct result *r, unsigned int act)
{
	json_t *enable = json_object_get(args, "enable"), *v;
	size_t i;

	json_array_foreach(enable, i, v) {
		if (!json_is_string(v)) {
			fail(r, "GenericError",
			     "Invalid parameter type for 'enable[%zu]', "
			     "expected: string", i);
			return;
		}
		if (!strcmp(json_string_value(v), "oob")) {
			fail(r, "GenericError", "This monitor does not "
			     "support Out-Of-Band (OOB)");
			return;
		}
		fail(r, "GenericError", "Parameter 'enable[%zu]' does not "
		     "accept value '%.64s'", i, json_string_value(v));
		return;
	}
	c->negotiated = true;
}

static void do_query_status(struct qmp_conn *c, json_t *args,
			    struct result *r, unsigned int act)
{
	enum qmp_runstate s = c->host->state(c->host->opaque);

	r->ret = json_pack("{s:s, s:b}", "status", qmp_runstate_name(s),
			   "running", s == QMP_STATE_RUNNING);
}

static void do_query_version(struct qmp_conn *c, json_t *args,
			     struct result *r, unsigned int act)
{
	r->ret = version_obj();
}

static void do_query_name(struct qmp_conn *c, json_t *args,
			  struct result *r, unsigned int act)
{
	const char *name = c->host->cfg->name;

	r->ret = name ? json_pack("{s:s}", "name", name) : json_object();
}

static void do_query_uuid(struct qmp_conn *c, json_t *args,
			  struct result *r, unsigned int act)
{
	r->ret = json_pack("{s:s}", "UUID", c->host->cfg->uuid);
}

static void do_query_target(struct qmp_conn *c, json_t *args,
			    struct result *r, unsigned int act)
{
	r->ret = json_pack("{s:s}", "arch", "riscv64");
}

static void do_query_kvm(struct qmp_conn *c, json_t *args,
			 struct result *r, unsigned int act)
{
	/* rivet runs on KVM only: it does not start without it. */
	r->ret = json_pack("{s:b, s:b}", "enabled", 1, "present", 1);
}

static void do_query_cpus_fast(struct qmp_conn *c, json_t *args,
			       struct result *r, unsigned int act)
{
	int tids[CONFIG_MAX_CPUS] = { 0 };
	unsigned int n = c->host->cpu_tids(c->host->opaque, tids,
					   CONFIG_MAX_CPUS);
	json_t *list = json_array();

	for (unsigned int i = 0; i < n && i < CONFIG_MAX_CPUS; i++) {
		char path[48];

		snprintf(path, sizeof(path), "/machine/soc0/harts[%u]", i);
		json_array_append_new(list,
			json_pack("{s:i, s:{s:i}, s:s, s:i, s:s}",
				  "thread-id", tids[i], "props", "core-id",
				  (int)i, "qom-path", path, "cpu-index",
				  (int)i, "target", "riscv64"));
	}
	r->ret = list;
}

static void do_query_block(struct qmp_conn *c, json_t *args,
			   struct result *r, unsigned int act)
{
	const struct vm_config *cfg = c->host->cfg;
	json_t *list = json_array();

	for (unsigned int i = 0; i < cfg->nr_disks; i++) {
		const struct disk_config *d = &cfg->disks[i];
		long long size = c->host->disk_size(c->host->opaque, i);
		char dev[16], node[24], qdev[48];
		json_t *image, *inserted;

		if (size < 0)
			size = 0;
		snprintf(dev, sizeof(dev), "disk%u", i);
		snprintf(node, sizeof(node), "disk%u-file", i);
		snprintf(qdev, sizeof(qdev),
			 "/machine/peripheral-anon/device[%u]", i);
		image = json_pack("{s:I, s:s, s:s, s:I, s:b}", "virtual-size",
				  (json_int_t)size, "filename", d->path,
				  "format", "raw", "actual-size",
				  (json_int_t)size, "dirty-flag", 0);
		inserted = json_pack(
			"{s:i, s:s, s:b, s:o, s:i, s:b, s:s, s:i, s:s, s:i, "
			"s:i, s:i, s:b, s:i, s:i, s:{s:b, s:b, s:b}, s:s}",
			"iops_rd", 0, "detect_zeroes", "off", "active", 1,
			"image", image, "iops_wr", 0, "ro", d->readonly,
			"node-name", node, "backing_file_depth", 0, "drv",
			"raw", "iops", 0, "bps_wr", 0, "write_threshold", 0,
			"encrypted", 0, "bps", 0, "bps_rd", 0, "cache",
			"no-flush", 0, "direct", 0, "writeback", 1, "file",
			d->path);
		json_array_append_new(list,
			json_pack("{s:s, s:s, s:b, s:b, s:o, s:s, s:s}",
				  "io-status", "ok", "device", dev, "locked",
				  0, "removable", 0, "inserted", inserted,
				  "qdev", qdev, "type", "unknown"));
	}
	r->ret = list;
}

static void do_query_commands(struct qmp_conn *c, json_t *args,
			      struct result *r, unsigned int act);

static void do_action(struct qmp_conn *c, json_t *args, struct result *r,
		      unsigned int act)
{
	char err[sizeof(r->desc)] = "";
	int ret = c->host->action(c->host->opaque, c, (enum qmp_action)act,
				  err, sizeof(err));

	if (ret == QMP_PENDING)
		r->pending = true;
	else if (ret < 0)
		fail(r, "GenericError", "%s", err[0] ? err : strerror(-ret));
}

/* QEMU 10's other form of the destination: "channels", one "main"
 * channel whose "addr" is {"transport": "file", "filename": DIR} (the
 * directory, as in file:DIR; "offset", if given, 0).  DIR, or NULL after
 * fail(). */
static const char *channel_dir(json_t *chans, struct result *r)
{
	json_t *ch = json_array_get(chans, 0), *addr, *off;
	const char *type, *tr, *dir;

	addr = json_object_get(ch, "addr");
	type = json_string_value(json_object_get(ch, "channel-type"));
	tr = json_string_value(json_object_get(addr, "transport"));
	dir = json_string_value(json_object_get(addr, "filename"));
	off = json_object_get(addr, "offset");
	if (json_array_size(chans) != 1 || !type || strcmp(type, "main") ||
	    !tr) {
		fail(r, "GenericError", "migrate: 'channels' must be one "
		     "channel of type 'main' with an 'addr' and its "
		     "'transport'");
		return NULL;
	}
	if (strcmp(tr, "file")) {
		fail(r, "GenericError", "migrate: transport '%.32s' is not "
		     "supported yet; rivet takes snapshots to a 'file' "
		     "transport's directory", tr);
		return NULL;
	}
	if (!dir || (off && !(json_is_integer(off) &&
			      json_integer_value(off) == 0))) {
		fail(r, "GenericError", "migrate: a 'file' channel needs a "
		     "'filename' (the snapshot's directory) and no 'offset' "
		     "but 0");
		return NULL;
	}
	return dir;
}

/* migrate: {"uri": "file:DIR"} or QEMU's "channels" (docs/snapshot.md).
 * QEMU's detach is accepted and, as in QEMU, means nothing: migrate never
 * waits. */
static void do_migrate(struct qmp_conn *c, json_t *args, struct result *r,
		       unsigned int act)
{
	json_t *uri = json_object_get(args, "uri");
	json_t *chans = json_object_get(args, "channels");
	const char *u;
	char err[sizeof(r->desc)] = "";
	int ret;

	if (json_is_true(json_object_get(args, "resume"))) {
		fail(r, "GenericError", "migrate: 'resume' is for postcopy, "
		     "which rivet does not do");
		return;
	}
	if (uri && chans) {
		fail(r, "GenericError", "Parameters 'uri' and 'channels' are "
		     "mutually exclusive; exactly one of the two should be "
		     "present");
		return;
	}
	if (!uri && !chans) {
		fail(r, "GenericError", "Parameter 'uri' is missing (or "
		     "'channels')");
		return;
	}
	if (chans) {
		u = channel_dir(chans, r);
		if (!u)
			return;
	} else {
		u = json_string_value(uri);
		if (strncmp(u, "file:", 5)) {
			fail(r, "GenericError", "migrate: URI '%.64s' is not "
			     "supported yet; rivet takes snapshots to "
			     "file:DIR", u);
			return;
		}
		u += 5;
	}
	if (!u[0] || strlen(u) >= 2048) {
		fail(r, "GenericError", "migrate: file: needs a directory "
		     "(at most 2047 bytes)");
		return;
	}
	ret = c->host->migrate(c->host->opaque, u, err, sizeof(err));
	if (ret)
		fail(r, "GenericError", "%s", err[0] ? err : strerror(-ret));
}

/* A listening UNIX socket's "filename" as QEMU's socket chardev says it. */
static json_t *socket_chardev(const char *label, const char *path,
			      bool client)
{
	char name[CONFIG_SUN_PATH + 40];

	snprintf(name, sizeof(name), "%sunix:%s,server=on",
		 client ? "" : "disconnected:", path);
	return json_pack("{s:s, s:s, s:b}", "label", label, "filename", name,
			 "frontend-open", 1);
}

/* The console (label serial0, as QEMU's -serial) and each QMP socket
 * (compat_monitorN, as QEMU's -qmp), with QEMU's filenames. */
static void do_query_chardev(struct qmp_conn *c, json_t *args,
			     struct result *r, unsigned int act)
{
	const struct vm_config *cfg = c->host->cfg;
	struct qmp_chardev_state st;
	json_t *list = json_array();
	char name[CONFIG_SUN_PATH + 8];

	memset(&st, 0, sizeof(st));
	if (c->host->chardev_state)
		c->host->chardev_state(c->host->opaque, &st);
	switch (cfg->serial.kind) {
	case SERIAL_UNIX:
		json_array_append_new(list, socket_chardev("serial0",
							   cfg->serial.path,
							   st.console_client));
		name[0] = '\0';
		break;
	case SERIAL_PTY:
		snprintf(name, sizeof(name), "pty:%s", st.pty ? st.pty : "");
		break;
	case SERIAL_STDIO:
		/* --daemonize: rivet has no terminal; the console goes nowhere. */
		snprintf(name, sizeof(name), "%s",
			 cfg->daemonize ? "null" : "stdio");
		break;
	default:
		snprintf(name, sizeof(name), "null");
		break;
	}
	if (name[0])
		json_array_append_new(list, json_pack("{s:s, s:s, s:b}",
						      "label", "serial0",
						      "filename", name,
						      "frontend-open", 1));
	for (unsigned int i = 0; i < cfg->nr_qmp && i < CONFIG_MAX_QMP; i++) {
		char label[32];

		snprintf(label, sizeof(label), "compat_monitor%u", i);
		json_array_append_new(list, socket_chardev(label,
							   cfg->qmp[i].path,
							   st.qmp_client[i]));
	}
	r->ret = list;
}

static void do_query_migrate(struct qmp_conn *c, json_t *args,
			     struct result *r, unsigned int act)
{
	r->ret = c->host->migrate_info(c->host->opaque);
}

/* QEMU's migration capabilities (MigrationCapability, QEMU 10).  rivet
 * has "events"; the others can only be set false, which they are. */
static const char *const mig_caps[] = {
	"xbzrle", "rdma-pin-all", "auto-converge", "events", "postcopy-ram",
	"x-colo", "release-ram", "return-path", "pause-before-switchover",
	"multifd", "dirty-bitmaps", "postcopy-blocktime",
	"late-block-activate", "x-ignore-shared", "validate-uuid",
	"background-snapshot", "zero-copy-send", "postcopy-preempt",
	"switchover-ack", "dirty-limit", "mapped-ram",
};

static bool mig_cap_known(const char *name)
{
	for (size_t i = 0; i < sizeof(mig_caps) / sizeof(mig_caps[0]); i++)
		if (!strcmp(mig_caps[i], name))
			return true;
	return false;
}

/* One MigrationCapabilityStatus, {"capability": S, "state": B}: its
 * name, or NULL after failing @r. */
static const char *mig_cap_entry(json_t *v, size_t i, bool *state,
				 struct result *r)
{
	json_t *cap = json_object_get(v, "capability");
	json_t *st = json_object_get(v, "state");
	const char *key;
	json_t *m;

	if (!json_is_object(v)) {
		fail(r, "GenericError", "Invalid parameter type for "
		     "'capabilities[%zu]', expected: object", i);
		return NULL;
	}
	json_object_foreach(v, key, m)
		if (strcmp(key, "capability") && strcmp(key, "state")) {
			fail(r, "GenericError", "Parameter "
			     "'capabilities[%zu].%.64s' is unexpected", i, key);
			return NULL;
		}
	if (!cap || !st) {
		fail(r, "GenericError", "Parameter 'capabilities[%zu].%s' is "
		     "missing", i, cap ? "state" : "capability");
		return NULL;
	}
	if (!json_is_string(cap) || !json_is_boolean(st)) {
		fail(r, "GenericError", "Invalid parameter type for "
		     "'capabilities[%zu].%s', expected: %s", i,
		     json_is_string(cap) ? "state" : "capability",
		     json_is_string(cap) ? "boolean" : "string");
		return NULL;
	}
	if (!mig_cap_known(json_string_value(cap))) {
		fail(r, "GenericError", "Parameter 'capability' does not "
		     "accept value '%.64s'", json_string_value(cap));
		return NULL;
	}
	*state = json_is_true(st);
	return json_string_value(cap);
}

/* migrate-set-capabilities: all or nothing, as QEMU's. */
static void do_migrate_set_caps(struct qmp_conn *c, json_t *args,
				struct result *r, unsigned int act)
{
	json_t *caps = json_object_get(args, "capabilities"), *v;
	bool events = c->host->migrate_events(c->host->opaque);
	char err[sizeof(r->desc)] = "";
	size_t i;

	if (!caps) {
		fail(r, "GenericError", "Parameter 'capabilities' is missing");
		return;
	}
	json_array_foreach(caps, i, v) {
		bool on = false;
		const char *name = mig_cap_entry(v, i, &on, r);

		if (!name)
			return;
		if (!strcmp(name, "events")) {
			events = on;
		} else if (on) {
			fail(r, "GenericError", "Capability '%s' is not "
			     "supported by rivet (it has 'events' only)",
			     name);
			return;
		}
	}
	if (c->host->set_migrate_events(c->host->opaque, events, err,
					sizeof(err)))
		fail(r, "GenericError", "%s", err);
}

static void do_query_migrate_caps(struct qmp_conn *c, json_t *args,
				  struct result *r, unsigned int act)
{
	r->ret = json_pack("[{s:s, s:b}]", "capability", "events", "state",
			   c->host->migrate_events(c->host->opaque));
}

static const struct qmp_arg migrate_caps_args[] = {
	{ "capabilities", JSON_ARRAY, "array" },
	{ NULL, 0, NULL },
};

static const struct qmp_arg migrate_args[] = {
	{ "uri", JSON_STRING, "string" },
	{ "channels", JSON_ARRAY, "array" },
	{ "detach", JSON_TRUE, "boolean" },
	{ "resume", JSON_TRUE, "boolean" },
	{ NULL, 0, NULL },
};

static const struct qmp_arg caps_args[] = {
	{ "enable", JSON_ARRAY, "array" },
	{ NULL, 0, NULL },
};

static const struct qmp_cmd commands[] = {
	{ "qmp_capabilities", do_capabilities, caps_args, 0 },
	{ "query-status", do_query_status, NULL, 0 },
	{ "query-version", do_query_version, NULL, 0 },
	{ "query-commands", do_query_commands, NULL, 0 },
	{ "query-name", do_query_name, NULL, 0 },
	{ "query-uuid", do_query_uuid, NULL, 0 },
	{ "query-target", do_query_target, NULL, 0 },
	{ "query-kvm", do_query_kvm, NULL, 0 },
	{ "query-cpus-fast", do_query_cpus_fast, NULL, 0 },
	{ "query-block", do_query_block, NULL, 0 },
	{ "query-chardev", do_query_chardev, NULL, 0 },
	{ "stop", do_action, NULL, QMP_ACT_STOP },
	{ "cont", do_action, NULL, QMP_ACT_CONT },
	{ "system_reset", do_action, NULL, QMP_ACT_RESET },
	{ "system_powerdown", do_action, NULL, QMP_ACT_POWERDOWN },
	{ "quit", do_action, NULL, QMP_ACT_QUIT },
	{ "migrate", do_migrate, migrate_args, 0 },
	{ "query-migrate", do_query_migrate, NULL, 0 },
	{ "migrate-set-capabilities", do_migrate_set_caps, migrate_caps_args,
	  0 },
	{ "query-migrate-capabilities", do_query_migrate_caps, NULL, 0 },
};

#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void do_query_commands(struct qmp_conn *c, json_t *args,
			      struct result *r, unsigned int act)
{
	json_t *list = json_array();

	for (size_t i = 0; i < NR_COMMANDS; i++)
		json_array_append_new(list, json_pack("{s:s}", "name",
						      commands[i].name));
	r->ret = list;
}

/* Every argument known and of its type (QEMU's messages). */
static bool check_args(const struct qmp_cmd *cmd, json_t *args,
		       struct result *r)
{
	const char *key;
	json_t *v;

	json_object_foreach(args, key, v) {
		const struct qmp_arg *a = cmd->args;

		while (a && a->name && strcmp(a->name, key))
			a++;
		if (!a || !a->name) {
			fail(r, "GenericError", "Parameter '%.64s' is "
			     "unexpected", key);
			return false;
		}
		/* JSON_TRUE stands for a boolean: true or false. */
		if (a->type == JSON_TRUE ? !json_is_boolean(v)
					 : json_typeof(v) != a->type) {
			fail(r, "GenericError", "Invalid parameter type for "
			     "'%s', expected: %s", a->name, a->type_name);
			return false;
		}
	}
	return true;
}

/* One parsed value from the client. */
static void dispatch(struct qmp_conn *c, json_t *req)
{
	struct result r = { 0 };
	json_t *id = NULL, *args = NULL, *v;
	const char *key, *name = NULL;
	const struct qmp_cmd *cmd = NULL;

	if (!json_is_object(req)) {
		reply_error(c, NULL, "GenericError",
			    "QMP input must be a JSON object");
		return;
	}
	id = json_object_get(req, "id");
	json_object_foreach(req, key, v) {
		if (!strcmp(key, "execute")) {
			if (!json_is_string(v)) {
				reply_error(c, id, "GenericError",
					    "QMP input member 'execute' must "
					    "be a string");
				return;
			}
			name = json_string_value(v);
		} else if (!strcmp(key, "arguments")) {
			if (!json_is_object(v)) {
				reply_error(c, id, "GenericError",
					    "QMP input member 'arguments' "
					    "must be an object");
				return;
			}
			args = v;
		} else if (!strcmp(key, "exec-oob")) {
			reply_error(c, id, "GenericError",
				    "QMP input member 'exec-oob' is "
				    "unexpected (no out-of-band execution)");
			return;
		} else if (strcmp(key, "id")) {
			reply_error(c, id, "GenericError",
				    "QMP input member '%.64s' is unexpected",
				    key);
			return;
		}
	}
	if (!name) {
		reply_error(c, id, "GenericError",
			    "QMP input lacks member 'execute'");
		return;
	}
	if (!c->negotiated && strcmp(name, "qmp_capabilities")) {
		reply_error(c, id, "CommandNotFound",
			    "Expecting capabilities negotiation with "
			    "'qmp_capabilities'");
		return;
	}
	if (c->negotiated && !strcmp(name, "qmp_capabilities")) {
		reply_error(c, id, "CommandNotFound",
			    "Capabilities negotiation is already complete, "
			    "command ignored");
		return;
	}
	for (size_t i = 0; i < NR_COMMANDS && !cmd; i++)
		if (!strcmp(commands[i].name, name))
			cmd = &commands[i];
	if (!cmd) {
		reply_error(c, id, "CommandNotFound",
			    "The command %.64s has not been found", name);
		return;
	}
	if (check_args(cmd, args, &r))
		cmd->fn(c, args, &r, cmd->act);
	if (r.pending) {
		c->busy = true;
		c->pending_id = id ? json_incref(id) : NULL;
		c->pending_act = cmd->act;
		return;
	}
	if (r.cls) {
		json_decref(r.ret);
		reply_error(c, id, r.cls, "%s", r.desc);
		return;
	}
	reply_return(c, r.ret, id);
}

/* ---- input --------------------------------------------------------------- */

static void drop_input(struct qmp_conn *c, size_t n)
{
	if (n > c->in_len)
		n = c->in_len;
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* Parse and run commands from c->in while the client is not waiting. */
static void run_input(struct qmp_conn *c)
{
	while (!c->busy && !c->dead && c->in_len) {
		json_error_t e;
		json_t *req;
		size_t skip = 0;

		while (skip < c->in_len && is_space(c->in[skip]))
			skip++;
		drop_input(c, skip);
		if (!c->in_len)
			return;
		req = json_loadb(c->in, c->in_len,
				 JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY |
				 JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &e);
		if (req) {
			drop_input(c, (size_t)e.position);
			dispatch(c, req);
			json_decref(req);
			continue;
		}
		/* The rest is still coming, unless a NUL byte (never valid
		 * raw in JSON) made the parser see an early end. */
		if (json_error_code(&e) == json_error_premature_end_of_input &&
		    !memchr(c->in, '\0', c->in_len))
			return;
		reply_error(c, NULL, "GenericError", "JSON parse error, %s",
			    e.text);
		/* Start again after this line: one error per bad line. */
		{
			char *nl = memchr(c->in, '\n', c->in_len);

			drop_input(c, nl ? (size_t)(nl - c->in) + 1
					 : c->in_len);
		}
	}
}

int qmp_conn_input(struct qmp_conn *c, const void *data, size_t len)
{
	if (c->dead)
		return -EPIPE;
	if (len > QMP_MAX_INPUT - c->in_len) {
		reply_error(c, NULL, "GenericError",
			    "JSON parse error, input longer than %d bytes",
			    QMP_MAX_INPUT);
		c->dead = true;
		return -EMSGSIZE;
	}
	memcpy(c->in + c->in_len, data, len);
	c->in_len += len;
	run_input(c);
	if (!c->busy && c->in_len == QMP_MAX_INPUT) {
		reply_error(c, NULL, "GenericError",
			    "JSON parse error, input longer than %d bytes",
			    QMP_MAX_INPUT);
		c->dead = true;
		return -EMSGSIZE;
	}
	return c->dead ? -ENOMEM : 0;
}

void qmp_conn_done(struct qmp_conn *c, const char *error)
{
	json_t *id = c->pending_id;

	if (!c->busy)
		return;
	c->busy = false;
	c->pending_id = NULL;
	if (error)
		reply_error(c, id, "GenericError", "%s", error);
	else
		reply_return(c, NULL, id);
	json_decref(id);
	run_input(c);
}
