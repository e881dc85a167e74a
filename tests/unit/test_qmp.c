// SPDX-License-Identifier: MIT
/* QMP: the protocol engine (src/qmp/qmp.c) fed hostile input, and the
 * server (src/qmp/server.c) on real UNIX sockets with its thread confined
 * by the "qmp" seccomp role, driving a fake VM process over the channel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/child.h"
#include "core/config.h"
#include "core/exit.h"
#include "qmp/ctl.h"
#include "qmp/qmp.h"
#include "qmp/server.h"

#if defined(__SANITIZE_ADDRESS__)
/* ASan's thread teardown removes the alternate signal stack it gave the
 * thread (sigaltstack), which the QMP thread's filter does not allow. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "use_sigaltstack=0";
}
#endif

/* ---- the engine with a fake host -------------------------------------------- */

struct fake {
	struct vm_config cfg;
	struct qmp_host host;
	enum qmp_runstate state;
	int action_ret;
	int last_act;
	unsigned int actions;
	char mig_dir[64];
	int migrate_ret;
	bool mig_events;
	unsigned int mig_event_sets;
	struct qmp_chardev_state cd;
};

static enum qmp_runstate f_state(void *o)
{
	return ((struct fake *)o)->state;
}

static unsigned int f_tids(void *o, int *tids, unsigned int max)
{
	struct fake *f = o;

	for (unsigned int i = 0; i < f->cfg.cpus && i < max; i++)
		tids[i] = 100 + (int)i;
	return f->cfg.cpus;
}

static long long f_size(void *o, unsigned int i)
{
	return 1 << 20;
}

static int f_action(void *o, struct qmp_conn *c, enum qmp_action act,
		    char *err, size_t errlen)
{
	struct fake *f = o;

	f->last_act = (int)act;
	f->actions++;
	if (f->action_ret < 0)
		snprintf(err, errlen, "refused by the fake");
	return f->action_ret;
}

static int f_migrate(void *o, const char *dir, char *err, size_t errlen)
{
	struct fake *f = o;

	snprintf(f->mig_dir, sizeof(f->mig_dir), "%s", dir);
	if (f->migrate_ret)
		snprintf(err, errlen, "migration refused by the fake");
	return f->migrate_ret;
}

static json_t *f_migrate_info(void *o)
{
	struct fake *f = o;

	return f->mig_dir[0] ? json_pack("{s:s}", "status", "active")
			     : json_object();
}

static bool f_mig_events(void *o)
{
	return ((struct fake *)o)->mig_events;
}

static int f_set_mig_events(void *o, bool on, char *err, size_t errlen)
{
	struct fake *f = o;

	f->mig_event_sets++;
	if (f->migrate_ret) {
		snprintf(err, errlen, "There's a migration process in progress");
		return f->migrate_ret;
	}
	f->mig_events = on;
	return 0;
}

static void f_chardev(void *o, struct qmp_chardev_state *st)
{
	*st = ((struct fake *)o)->cd;
}

static struct fake *fake_new(void)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->cfg.cpus = 2;
	f->cfg.nr_disks = 1;
	f->cfg.disks[0].path = "/tmp/disk.img";
	f->cfg.disks[0].readonly = true;
	memcpy(f->cfg.uuid, "00000000-0000-0000-0000-000000000000", 37);
	f->state = QMP_STATE_RUNNING;
	f->host = (struct qmp_host){ .cfg = &f->cfg, .opaque = f,
				     .state = f_state, .cpu_tids = f_tids,
				     .disk_size = f_size,
				     .action = f_action, .migrate = f_migrate,
				     .migrate_info = f_migrate_info,
				     .migrate_events = f_mig_events,
				     .set_migrate_events = f_set_mig_events,
				     .chardev_state = f_chardev };
	return f;
}

/* The next CRLF-terminated line of c->out, parsed; consumed. */
static json_t *next_reply(struct qmp_conn *c)
{
	char *crlf;
	json_t *j;
	json_error_t e;
	size_t n;

	assert_true(c->out_len > 0);
	crlf = memmem(c->out, c->out_len, "\r\n", 2);
	assert_non_null(crlf);
	n = (size_t)(crlf - c->out);
	assert_null(memchr(c->out, '\n', n));	/* one line each */
	j = json_loadb(c->out, n, 0, &e);
	if (!j)
		fail_msg("bad reply JSON: %s: %.*s", e.text, (int)n, c->out);
	qmp_conn_sent(c, n + 2);
	return j;
}

static void in(struct qmp_conn *c, const char *s)
{
	qmp_conn_input(c, s, strlen(s));
}

static const char *err_class(json_t *r)
{
	return json_string_value(json_object_get(json_object_get(r, "error"),
						 "class"));
}

static const char *err_desc(json_t *r)
{
	return json_string_value(json_object_get(json_object_get(r, "error"),
						 "desc"));
}

static void expect_error(struct qmp_conn *c, const char *cls,
			 const char *desc_part)
{
	json_t *r = next_reply(c);

	if (!err_class(r) || strcmp(err_class(r), cls) ||
	    !strstr(err_desc(r), desc_part))
		fail_msg("expected %s '%s', got %s", cls, desc_part,
			 json_dumps(r, 0));
	json_decref(r);
}

static json_t *expect_return(struct qmp_conn *c)
{
	json_t *r = next_reply(c);
	json_t *ret = json_object_get(r, "return");

	if (!ret)
		fail_msg("expected a return, got %s", json_dumps(r, 0));
	json_incref(ret);
	json_decref(r);
	return ret;
}

static void setup_conn(struct fake **f, struct qmp_conn *c, bool negotiate)
{
	json_t *g;

	*f = fake_new();
	assert_int_equal(qmp_conn_init(c, &(*f)->host), 0);
	g = next_reply(c);
	json_decref(g);
	if (negotiate) {
		in(c, "{\"execute\": \"qmp_capabilities\"}\n");
		json_decref(expect_return(c));
	}
}

static void teardown_conn(struct fake *f, struct qmp_conn *c)
{
	assert_int_equal(c->out_len, 0);	/* every reply checked */
	qmp_conn_free(c);
	free(f);
}

static void test_greeting(void **state)
{
	struct fake *f = fake_new();
	struct qmp_conn c;
	json_t *g, *v;

	assert_int_equal(qmp_conn_init(&c, &f->host), 0);
	assert_true(c.out_len > 2);
	assert_memory_equal(c.out + c.out_len - 2, "\r\n", 2);
	g = next_reply(&c);
	v = json_object_get(json_object_get(g, "QMP"), "version");
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(v, "qemu"), "major")),
			 QMP_COMPAT_MAJOR);
	assert_true(QMP_COMPAT_MAJOR >= 5);	/* Kata's client checks */
	assert_non_null(strstr(json_string_value(json_object_get(v,
			"package")), "rivet"));
	assert_true(json_is_array(json_object_get(json_object_get(g, "QMP"),
						  "capabilities")));
	json_decref(g);
	teardown_conn(f, &c);
}

static void test_negotiation(void **state)
{
	struct fake *f;
	struct qmp_conn c;
	json_t *r;

	setup_conn(&f, &c, false);
	in(&c, "{\"execute\": \"query-status\", \"id\": 5}\n");
	r = next_reply(&c);
	assert_string_equal(err_class(r), "CommandNotFound");
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 5);
	json_decref(r);
	/* No events before negotiation. */
	qmp_conn_event(&c, "x\r\n", 3);
	assert_int_equal(c.out_len, 0);
	in(&c, "{\"execute\": \"qmp_capabilities\", \"arguments\": "
	       "{\"enable\": [\"oob\"]}}");
	expect_error(&c, "GenericError", "Out-Of-Band");
	in(&c, "{\"execute\": \"qmp_capabilities\", \"arguments\": "
	       "{\"enable\": \"oob\"}}");
	expect_error(&c, "GenericError", "Invalid parameter type");
	in(&c, "{\"execute\": \"qmp_capabilities\", \"arguments\": "
	       "{\"enable\": [7]}}");
	expect_error(&c, "GenericError", "enable[0]");
	in(&c, "{\"execute\": \"qmp_capabilities\", \"id\": [\"x\"]}");
	r = next_reply(&c);
	assert_non_null(json_object_get(r, "return"));
	assert_string_equal(json_string_value(json_array_get(
				json_object_get(r, "id"), 0)), "x");
	json_decref(r);
	in(&c, "{\"execute\": \"qmp_capabilities\"}");
	expect_error(&c, "CommandNotFound", "already complete");
	qmp_conn_event(&c, "x\r\n", 3);
	assert_int_equal(c.out_len, 3);
	qmp_conn_sent(&c, 3);
	teardown_conn(f, &c);
}

static void test_queries(void **state)
{
	static const char *const names[] = {
		"qmp_capabilities", "query-status", "query-version",
		"query-commands", "query-name", "query-uuid", "query-target",
		"query-kvm", "query-cpus-fast", "query-block", "stop", "cont",
		"system_reset", "system_powerdown", "quit", "migrate",
		"query-migrate", "migrate-set-capabilities",
		"query-migrate-capabilities", "query-chardev",
	};
	struct fake *f;
	struct qmp_conn c;
	json_t *r, *d, *ins;

	setup_conn(&f, &c, true);
	f->state = QMP_STATE_PAUSED;
	in(&c, "{\"execute\": \"query-status\"}");
	r = expect_return(&c);
	assert_string_equal(json_string_value(json_object_get(r, "status")),
			    "paused");
	assert_true(json_is_false(json_object_get(r, "running")));
	json_decref(r);
	f->state = QMP_STATE_GUEST_PANICKED;
	in(&c, "{\"execute\": \"query-status\"}");
	r = expect_return(&c);
	assert_string_equal(json_string_value(json_object_get(r, "status")),
			    "guest-panicked");
	json_decref(r);

	in(&c, "{\"execute\": \"query-commands\"}");
	r = expect_return(&c);
	assert_int_equal(json_array_size(r), sizeof(names) / sizeof(*names));
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		bool found = false;

		for (size_t j = 0; j < json_array_size(r); j++)
			found |= !strcmp(json_string_value(json_object_get(
				json_array_get(r, j), "name")), names[i]);
		assert_true(found);
	}
	json_decref(r);

	in(&c, "{\"execute\": \"query-name\"}");
	r = expect_return(&c);
	assert_int_equal(json_object_size(r), 0);	/* no --name */
	json_decref(r);
	f->cfg.name = "vm1";
	in(&c, "{\"execute\": \"query-name\"}");
	r = expect_return(&c);
	assert_string_equal(json_string_value(json_object_get(r, "name")),
			    "vm1");
	json_decref(r);

	in(&c, "{\"execute\": \"query-uuid\"}{\"execute\": \"query-target\"}"
	       "{\"execute\": \"query-kvm\"}{\"execute\": \"query-version\"}");
	r = expect_return(&c);
	assert_string_equal(json_string_value(json_object_get(r, "UUID")),
			    "00000000-0000-0000-0000-000000000000");
	json_decref(r);
	r = expect_return(&c);
	assert_string_equal(json_string_value(json_object_get(r, "arch")),
			    "riscv64");
	json_decref(r);
	r = expect_return(&c);
	assert_true(json_is_true(json_object_get(r, "enabled")));
	assert_true(json_is_true(json_object_get(r, "present")));
	json_decref(r);
	r = expect_return(&c);
	assert_true(json_is_object(json_object_get(r, "qemu")));
	json_decref(r);

	in(&c, "{\"execute\": \"query-cpus-fast\"}");
	r = expect_return(&c);
	assert_int_equal(json_array_size(r), 2);
	d = json_array_get(r, 1);
	assert_int_equal(json_integer_value(json_object_get(d, "cpu-index")),
			 1);
	assert_int_equal(json_integer_value(json_object_get(d, "thread-id")),
			 101);
	assert_true(json_is_object(json_object_get(d, "props")));
	assert_true(json_is_string(json_object_get(d, "qom-path")));
	json_decref(r);

	in(&c, "{\"execute\": \"query-block\"}");
	r = expect_return(&c);
	assert_int_equal(json_array_size(r), 1);
	d = json_array_get(r, 0);
	assert_string_equal(json_string_value(json_object_get(d, "device")),
			    "disk0");
	ins = json_object_get(d, "inserted");
	assert_string_equal(json_string_value(json_object_get(ins, "file")),
			    "/tmp/disk.img");
	assert_true(json_is_true(json_object_get(ins, "ro")));
	assert_int_equal(json_integer_value(json_object_get(
			 json_object_get(ins, "image"), "virtual-size")),
			 1 << 20);
	json_decref(r);
	assert_int_equal(f->actions, 0);
	teardown_conn(f, &c);
}

/* query-chardev's entry @i: label, filename, frontend-open. */
static void chardev_is(json_t *list, size_t i, const char *label,
		       const char *filename)
{
	json_t *d = json_array_get(list, i);

	assert_non_null(d);
	assert_int_equal(json_object_size(d), 3);
	assert_string_equal(json_string_value(json_object_get(d, "label")),
			    label);
	assert_string_equal(json_string_value(json_object_get(d, "filename")),
			    filename);
	assert_true(json_is_true(json_object_get(d, "frontend-open")));
}

/* The console and the QMP sockets, named as QEMU's query-chardev names
 * them, with whether a client is there now. */
static void test_query_chardev(void **state)
{
	struct fake *f;
	struct qmp_conn c;
	json_t *r;

	setup_conn(&f, &c, true);
	in(&c, "{\"execute\": \"query-chardev\"}");
	r = expect_return(&c);
	assert_int_equal(json_array_size(r), 1);
	chardev_is(r, 0, "serial0", "stdio");
	json_decref(r);

	f->cfg.daemonize = true;	/* no terminal: the console is lost */
	f->cfg.nr_qmp = 2;
	snprintf(f->cfg.qmp[0].path, sizeof(f->cfg.qmp[0].path), "/run/a");
	snprintf(f->cfg.qmp[1].path, sizeof(f->cfg.qmp[1].path), "/run/b");
	f->cd.qmp_client[1] = true;
	in(&c, "{\"execute\": \"query-chardev\"}");
	r = expect_return(&c);
	assert_int_equal(json_array_size(r), 3);
	chardev_is(r, 0, "serial0", "null");
	chardev_is(r, 1, "compat_monitor0",
		   "disconnected:unix:/run/a,server=on");
	chardev_is(r, 2, "compat_monitor1", "unix:/run/b,server=on");
	json_decref(r);

	f->cfg.serial.kind = SERIAL_PTY;
	f->cd.pty = "/dev/pts/7";
	in(&c, "{\"execute\": \"query-chardev\", \"id\": 1}");
	r = expect_return(&c);
	chardev_is(r, 0, "serial0", "pty:/dev/pts/7");
	json_decref(r);

	f->cfg.serial.kind = SERIAL_UNIX;
	snprintf(f->cfg.serial.path, sizeof(f->cfg.serial.path), "/run/con");
	in(&c, "{\"execute\": \"query-chardev\"}");
	r = expect_return(&c);
	chardev_is(r, 0, "serial0", "disconnected:unix:/run/con,server=on");
	json_decref(r);
	f->cd.console_client = true;
	in(&c, "{\"execute\": \"query-chardev\"}");
	r = expect_return(&c);
	chardev_is(r, 0, "serial0", "unix:/run/con,server=on");
	json_decref(r);

	f->cfg.serial.kind = SERIAL_NULL;
	in(&c, "{\"execute\": \"query-chardev\"}");
	r = expect_return(&c);
	chardev_is(r, 0, "serial0", "null");
	json_decref(r);
	in(&c, "{\"execute\": \"query-chardev\", \"arguments\": {\"x\": 1}}");
	expect_error(&c, "GenericError", "Parameter 'x' is unexpected");
	teardown_conn(f, &c);
}

static void test_bad_requests(void **state)
{
	struct fake *f;
	struct qmp_conn c;
	char deep[6000];
	json_t *r;

	setup_conn(&f, &c, true);
	in(&c, "[1, 2]\n");
	expect_error(&c, "GenericError", "must be a JSON object");
	in(&c, "42\n");
	expect_error(&c, "GenericError", "must be a JSON object");
	in(&c, "{\"execute\": 1}");
	expect_error(&c, "GenericError", "'execute' must be a string");
	in(&c, "{\"id\": 3}");
	expect_error(&c, "GenericError", "lacks member 'execute'");
	in(&c, "{\"execute\": \"stop\", \"foo\": 1}");
	expect_error(&c, "GenericError", "'foo' is unexpected");
	in(&c, "{\"execute\": \"stop\", \"arguments\": []}");
	expect_error(&c, "GenericError", "must be an object");
	in(&c, "{\"execute\": \"stop\", \"arguments\": {\"x\": 1}}");
	expect_error(&c, "GenericError", "Parameter 'x' is unexpected");
	in(&c, "{\"execute\": \"query-status\", \"arguments\": {\"a\": 1}}");
	expect_error(&c, "GenericError", "Parameter 'a' is unexpected");
	in(&c, "{\"execute\": \"nope\", \"id\": \"q\"}");
	r = next_reply(&c);
	assert_string_equal(err_class(r), "CommandNotFound");
	assert_string_equal(json_string_value(json_object_get(r, "id")), "q");
	json_decref(r);
	in(&c, "{\"exec-oob\": \"stop\"}");
	expect_error(&c, "GenericError", "exec-oob");
	in(&c, "{\"execute\": \"stop\", \"execute\": \"cont\"}");
	expect_error(&c, "GenericError", "JSON parse error");
	/* Malformed JSON: one error per line, and the next line works. */
	in(&c, "garbage}\n{\"execute\": \"query-kvm\"}\n");
	expect_error(&c, "GenericError", "JSON parse error");
	json_decref(expect_return(&c));
	in(&c, "{\"execute\": \"query-kvm\", \"id\": 123456789012345678901234567890}\n");
	expect_error(&c, "GenericError", "JSON parse error");
	in(&c, "{\"id\": 1e999}\n");
	expect_error(&c, "GenericError", "JSON parse error");
	in(&c, "{\"execute\": \"query-kvm\", \"id\": 1.5}\n");
	json_decref(expect_return(&c));
	/* Deep nesting is refused by the parser's depth limit. */
	memset(deep, '[', sizeof(deep) - 2);
	deep[sizeof(deep) - 2] = '\n';
	deep[sizeof(deep) - 1] = '\0';
	in(&c, deep);
	expect_error(&c, "GenericError", "JSON parse error");
	/* NUL bytes inside and outside strings. */
	in(&c, "{\"execute\": \"q\\u0000x\"}\n");
	expect_error(&c, "CommandNotFound", "has not been found");
	qmp_conn_input(&c, "{\"execute\": \"q\0x\"}\n", 19);
	expect_error(&c, "GenericError", "JSON parse error");
	qmp_conn_input(&c, "\0\n", 2);
	expect_error(&c, "GenericError", "JSON parse error");
	assert_false(c.dead);
	assert_int_equal(f->actions, 0);
	teardown_conn(f, &c);
}

/* migrate takes file:DIR only, checks its arguments before the host
 * hears of it, and replies at once; query-migrate is the host's. */
static void test_migrate(void **state)
{
	struct fake *f;
	struct qmp_conn c;
	json_t *r;

	(void)state;
	setup_conn(&f, &c, true);
	in(&c, "{\"execute\": \"query-migrate\"}");
	r = expect_return(&c);
	assert_int_equal(json_object_size(r), 0);
	json_decref(r);
	in(&c, "{\"execute\": \"migrate\"}");
	expect_error(&c, "GenericError", "Parameter 'uri' is missing");
	/* QEMU 10's "channels": one main channel, a file transport. */
	in(&c, "{\"execute\": \"migrate\", \"arguments\": "
	       "{\"uri\": \"file:/s\", \"channels\": []}}");
	expect_error(&c, "GenericError", "mutually exclusive");
	in(&c, "{\"execute\": \"migrate\", \"arguments\": "
	       "{\"channels\": {}}}");
	expect_error(&c, "GenericError", "Invalid parameter type for 'channels'");
	in(&c, "{\"execute\": \"migrate\", \"arguments\": "
	       "{\"channels\": []}}");
	expect_error(&c, "GenericError", "one channel of type 'main'");
	in(&c, "{\"execute\": \"migrate\", \"arguments\": {\"channels\": "
	       "[{\"channel-type\": \"main\", \"addr\": {\"transport\": "
	       "\"socket\", \"type\": \"inet\", \"host\": \"h\", "
	       "\"port\": \"1\"}}]}}");
	expect_error(&c, "GenericError", "transport 'socket' is not supported");
	in(&c, "{\"execute\": \"migrate\", \"arguments\": {\"channels\": "
	       "[{\"channel-type\": \"main\", \"addr\": {\"transport\": "
	       "\"file\", \"filename\": \"/s\", \"offset\": 4096}}]}}");
	expect_error(&c, "GenericError", "no 'offset' but 0");
	in(&c, "{\"execute\": \"migrate\", \"arguments\": {\"channels\": "
	       "[{\"channel-type\": \"main\", \"addr\": {\"transport\": "
	       "\"file\", \"filename\": \"\"}}]}}");
	expect_error(&c, "GenericError", "needs a directory");
	in(&c, "{\"execute\": \"migrate\", \"arguments\": {\"uri\": 5}}");
	expect_error(&c, "GenericError", "Invalid parameter type for 'uri'");
	in(&c, "{\"execute\": \"migrate\", \"arguments\": "
	       "{\"uri\": \"tcp:127.0.0.1:4444\"}}");
	expect_error(&c, "GenericError", "not supported yet");
	in(&c, "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"file:\"}}");
	expect_error(&c, "GenericError", "needs a directory");
	in(&c, "{\"execute\": \"migrate\", \"arguments\": "
	       "{\"uri\": \"file:/s\", \"resume\": true}}");
	expect_error(&c, "GenericError", "postcopy");
	in(&c, "{\"execute\": \"migrate\", \"arguments\": "
	       "{\"uri\": \"file:/s\", \"blk\": true}}");
	expect_error(&c, "GenericError", "Parameter 'blk' is unexpected");
	in(&c, "{\"execute\": \"migrate\", \"arguments\": "
	       "{\"uri\": \"file:/s\", \"detach\": \"yes\"}}");
	expect_error(&c, "GenericError", "expected: boolean");
	assert_string_equal(f->mig_dir, "");
	f->migrate_ret = -EBUSY;
	in(&c, "{\"execute\": \"migrate\", \"arguments\": "
	       "{\"uri\": \"file:/snap/a\"}, \"id\": 7}");
	expect_error(&c, "GenericError", "refused by the fake");
	f->migrate_ret = 0;
	in(&c, "{\"execute\": \"migrate\", \"arguments\": "
	       "{\"uri\": \"file:/snap/b\", \"detach\": false}, "
	       "\"id\": 8}");
	r = next_reply(&c);
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 8);
	assert_non_null(json_object_get(r, "return"));
	json_decref(r);
	assert_string_equal(f->mig_dir, "/snap/b");
	in(&c, "{\"execute\": \"migrate\", \"arguments\": {\"channels\": "
	       "[{\"channel-type\": \"main\", \"addr\": {\"transport\": "
	       "\"file\", \"filename\": \"/snap/c\", \"offset\": 0}}]}}");
	json_decref(expect_return(&c));
	assert_string_equal(f->mig_dir, "/snap/c");
	in(&c, "{\"execute\": \"query-migrate\"}");
	r = expect_return(&c);
	assert_string_equal(json_string_value(json_object_get(r, "status")),
			    "active");
	json_decref(r);
	f->state = QMP_STATE_POSTMIGRATE;
	in(&c, "{\"execute\": \"query-status\"}");
	r = expect_return(&c);
	assert_string_equal(json_string_value(json_object_get(r, "status")),
			    "postmigrate");
	assert_true(json_is_false(json_object_get(r, "running")));
	json_decref(r);
	qmp_conn_free(&c);
	free(f);
}

/* The "events" migration capability: set and read as QEMU's; every other
 * capability of QEMU's may be set false only; a bad list changes
 * nothing. */
static void test_migrate_caps(void **state)
{
	static const struct {
		const char *caps, *error;
	} bad[] = {
		{ "{}", "expected: array" },
		{ "[{\"capability\": \"events\", \"state\": false}, "
		  "{\"capability\": \"multifd\", \"state\": true}]",
		  "Capability 'multifd' is not supported" },
		{ "[{\"capability\": \"warp\", \"state\": false}]",
		  "does not accept value 'warp'" },
		{ "[7]", "'capabilities[0]', expected: object" },
		{ "[{\"capability\": \"events\"}]",
		  "'capabilities[0].state' is missing" },
		{ "[{\"capability\": \"events\", \"state\": 0}]",
		  "capabilities[0].state', expected: boolean" },
		{ "[{\"capability\": 1, \"state\": true}]",
		  "capabilities[0].capability', expected: string" },
		{ "[{\"capability\": \"events\", \"state\": false, "
		  "\"x\": 1}]", "'capabilities[0].x' is unexpected" },
	};
	struct fake *f;
	struct qmp_conn c;
	json_t *r, *e;

	(void)state;
	setup_conn(&f, &c, true);
	in(&c, "{\"execute\": \"query-migrate-capabilities\"}");
	r = expect_return(&c);
	assert_int_equal(json_array_size(r), 1);
	e = json_array_get(r, 0);
	assert_string_equal(json_string_value(json_object_get(e,
				"capability")), "events");
	assert_true(json_is_false(json_object_get(e, "state")));
	json_decref(r);
	in(&c, "{\"execute\": \"migrate-set-capabilities\", \"arguments\": "
	       "{\"capabilities\": [{\"capability\": \"events\", "
	       "\"state\": true}, {\"capability\": \"xbzrle\", "
	       "\"state\": false}]}}");
	json_decref(expect_return(&c));
	assert_true(f->mig_events);
	in(&c, "{\"execute\": \"query-migrate-capabilities\"}");
	r = expect_return(&c);
	assert_true(json_is_true(json_object_get(json_array_get(r, 0),
						 "state")));
	json_decref(r);
	/* Refused, each naming its problem; events stays on. */
	in(&c, "{\"execute\": \"migrate-set-capabilities\"}");
	expect_error(&c, "GenericError", "'capabilities' is missing");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char req[256];

		snprintf(req, sizeof(req), "{\"execute\": "
			 "\"migrate-set-capabilities\", \"arguments\": "
			 "{\"capabilities\": %s}}", bad[i].caps);
		in(&c, req);
		expect_error(&c, "GenericError", bad[i].error);
	}
	assert_true(f->mig_events);
	assert_int_equal(f->mig_event_sets, 1);
	/* The host refuses while a snapshot is being taken. */
	f->migrate_ret = -EBUSY;
	in(&c, "{\"execute\": \"migrate-set-capabilities\", \"arguments\": "
	       "{\"capabilities\": []}}");
	expect_error(&c, "GenericError", "migration process in progress");
	teardown_conn(f, &c);
}

static void test_streaming(void **state)
{
	struct fake *f;
	struct qmp_conn c;
	const char *cmd = "{\"execute\": \"query-target\", \"id\": 9}";

	setup_conn(&f, &c, true);
	/* A byte at a time. */
	for (size_t i = 0; cmd[i]; i++) {
		qmp_conn_input(&c, cmd + i, 1);
		if (cmd[i + 1])
			assert_int_equal(c.out_len, 0);
	}
	json_decref(expect_return(&c));
	in(&c, "  \r\n\t ");
	assert_int_equal(c.out_len, 0);
	in(&c, "{\"execute\": \"query-kvm\"}{\"execute\": \"query-kvm\"}\n"
	       "{\"execute\": \"query-kvm\"}");
	json_decref(expect_return(&c));
	json_decref(expect_return(&c));
	json_decref(expect_return(&c));
	teardown_conn(f, &c);
}

static void test_pending_action(void **state)
{
	struct fake *f;
	struct qmp_conn c;
	json_t *r;

	setup_conn(&f, &c, true);
	f->action_ret = QMP_PENDING;
	in(&c, "{\"execute\": \"stop\", \"id\": 1}"
	       "{\"execute\": \"query-kvm\", \"id\": 2}");
	assert_int_equal(f->last_act, QMP_ACT_STOP);
	assert_true(c.busy);
	assert_int_equal(c.out_len, 0);	/* in order: query-kvm waits */
	f->action_ret = QMP_DONE;
	qmp_conn_done(&c, NULL);
	r = next_reply(&c);
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 1);
	assert_non_null(json_object_get(r, "return"));
	json_decref(r);
	r = next_reply(&c);
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 2);
	json_decref(r);

	f->action_ret = QMP_PENDING;
	in(&c, "{\"execute\": \"system_powerdown\", \"id\": \"p\"}");
	assert_int_equal(f->last_act, QMP_ACT_POWERDOWN);
	qmp_conn_done(&c, "no button");
	r = next_reply(&c);
	assert_string_equal(err_class(r), "GenericError");
	assert_string_equal(err_desc(r), "no button");
	assert_string_equal(json_string_value(json_object_get(r, "id")), "p");
	json_decref(r);
	qmp_conn_done(&c, NULL);	/* nothing waits: nothing happens */
	assert_int_equal(c.out_len, 0);

	f->action_ret = -EINVAL;
	in(&c, "{\"execute\": \"cont\"}");
	expect_error(&c, "GenericError", "refused by the fake");
	f->action_ret = QMP_DONE;
	in(&c, "{\"execute\": \"quit\"}");
	assert_int_equal(f->last_act, QMP_ACT_QUIT);
	json_decref(expect_return(&c));
	teardown_conn(f, &c);
}

static void test_limits(void **state)
{
	struct fake *f;
	struct qmp_conn c;
	char *big = malloc(QMP_MAX_INPUT);
	size_t len;
	char *ev;

	assert_non_null(big);
	/* A value that never ends: refused at the cap, client dropped. */
	setup_conn(&f, &c, true);
	big[0] = '"';
	memset(big + 1, 'a', QMP_MAX_INPUT - 1);
	assert_int_equal(qmp_conn_input(&c, big, 100), 0);
	assert_int_equal(qmp_conn_input(&c, big + 100, QMP_MAX_INPUT - 100),
			 -EMSGSIZE);
	assert_true(c.dead);
	expect_error(&c, "GenericError", "longer than");
	assert_true(qmp_conn_input(&c, "{}", 2) < 0);
	teardown_conn(f, &c);

	/* A client that never reads: dropped once its output is full. */
	setup_conn(&f, &c, true);
	ev = qmp_event_format("STOP", NULL, &len);
	assert_non_null(ev);
	for (size_t i = 0; i <= QMP_MAX_OUTPUT / len; i++)
		qmp_conn_event(&c, ev, len);
	assert_true(c.dead);
	assert_true(c.out_len <= QMP_MAX_OUTPUT);
	free(ev);
	qmp_conn_free(&c);
	free(f);
	free(big);
}

static void test_event_format(void **state)
{
	size_t len;
	char *s = qmp_event_format("SHUTDOWN",
				   json_pack("{s:b, s:s}", "guest", 1,
					     "reason", "guest-shutdown"),
				   &len);
	json_t *j, *ts;

	assert_non_null(s);
	assert_int_equal(strlen(s), len);
	assert_memory_equal(s + len - 2, "\r\n", 2);
	j = json_loads(s, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "event")),
			    "SHUTDOWN");
	ts = json_object_get(j, "timestamp");
	assert_true(json_integer_value(json_object_get(ts, "seconds")) >
		    1600000000);
	assert_true(json_integer_value(json_object_get(ts, "microseconds")) <
		    1000000);
	assert_true(json_is_true(json_object_get(json_object_get(j, "data"),
						 "guest")));
	json_decref(j);
	free(s);
	s = qmp_event_format("STOP", NULL, &len);
	j = json_loads(s, 0, NULL);
	assert_null(json_object_get(j, "data"));
	json_decref(j);
	free(s);
}

static void test_config(void **state)
{
	struct qmp_config q;
	char err[256], uuid[CONFIG_UUID_LEN + 1];

	assert_int_equal(config_parse_qmp("unix:/tmp/a.sock,server,wait=off",
					  &q, err, sizeof(err)), 0);
	assert_string_equal(q.path, "/tmp/a.sock");
	assert_false(q.wait);
	assert_int_equal(config_parse_qmp("unix:/x,server=on", &q, err,
					  sizeof(err)), 0);
	assert_true(q.wait);
	assert_int_equal(config_parse_qmp("unix:/x,server,nowait", &q, err,
					  sizeof(err)), 0);
	assert_false(q.wait);
	assert_int_equal(config_parse_qmp("unix:/x", &q, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "server"));
	assert_int_equal(config_parse_qmp("tcp:1.2.3.4:5,server", &q, err,
					  sizeof(err)), -EINVAL);
	assert_int_equal(config_parse_qmp("unix:,server", &q, err,
					  sizeof(err)), -EINVAL);
	assert_int_equal(config_parse_qmp("unix:/x,server,wait=maybe", &q,
					  err, sizeof(err)), -EINVAL);
	assert_int_equal(config_parse_qmp("unix:/x,server,server", &q, err,
					  sizeof(err)), -EINVAL);
	assert_int_equal(config_parse_qmp("unix:/x,server,bogus", &q, err,
					  sizeof(err)), -EINVAL);
	{
		char longp[200] = "unix:/";

		memset(longp + 6, 'a', 150);
		strcat(longp, ",server");
		assert_int_equal(config_parse_qmp(longp, &q, err,
						  sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "at most"));
	}
	assert_int_equal(config_parse_uuid("12345678-ABCD-1234-1234-123456789abc",
					   uuid), 0);
	assert_string_equal(uuid, "12345678-abcd-1234-1234-123456789abc");
	assert_int_equal(config_parse_uuid("12345678-1234-1234-1234-123456789ab",
					   uuid), -EINVAL);
	assert_int_equal(config_parse_uuid("12345678x1234-1234-1234-123456789abc",
					   uuid), -EINVAL);
	assert_int_equal(config_parse_uuid("g2345678-1234-1234-1234-123456789abc",
					   uuid), -EINVAL);
	assert_int_equal(config_parse_name("vm-1", err, sizeof(err)), 0);
	assert_int_equal(config_parse_name("", err, sizeof(err)), -EINVAL);
	assert_int_equal(config_parse_name("a\nb", err, sizeof(err)), -EINVAL);
}

/* ---- the server, confined, on real sockets ------------------------------------- */

/* The next line from @fd (5 s at most), NUL-terminated, no CRLF; false
 * on EOF or timeout.  Byte by byte: the rest stays in the socket. */
static bool read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;

	while (n + 1 < size) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char ch;

		if (poll(&p, 1, 5000) != 1 || read(fd, &ch, 1) != 1)
			return false;
		if (ch == '\n')
			break;
		if (ch != '\r')
			buf[n++] = ch;
	}
	buf[n] = '\0';
	return true;
}

static void say(int fd, const char *s)
{
	size_t len = strlen(s);

	if (write(fd, s, len) != (ssize_t)len)
		abort();
}

/* Read lines until one contains @what; the child's check. */
#define EXPECT(fd, what)                                                  \
	do {                                                              \
		char l_[4096];                                            \
		bool ok_ = false;                                         \
		while (!ok_ && read_line(fd, l_, sizeof(l_)))             \
			ok_ = strstr(l_, what) != NULL;                   \
		if (!ok_) {                                               \
			fprintf(stderr, "line %d: no '%s'\n", __LINE__,   \
				what);                                    \
			_exit(10);                                        \
		}                                                         \
	} while (0)

#define CHECK(cond)                                                       \
	do {                                                              \
		if (!(cond)) {                                            \
			fprintf(stderr, "line %d: %s\n", __LINE__, #cond);\
			_exit(11);                                        \
		}                                                         \
	} while (0)

static int client(const char *path)
{
	int fd = ts_unix_connect(path);

	CHECK(fd >= 0);
	EXPECT(fd, "\"QMP\"");
	say(fd, "{\"execute\": \"qmp_capabilities\"}\n");
	EXPECT(fd, "\"return\"");
	return fd;
}

static void vm_read(int vm, uint32_t type)
{
	struct ctl_msg m;
	struct pollfd p = { .fd = vm, .events = POLLIN };

	CHECK(poll(&p, 1, 5000) == 1);
	CHECK(read(vm, &m, sizeof(m)) == sizeof(m));
	CHECK(m.type == type);
}

static void vm_say(int vm, uint32_t type, int arg)
{
	struct ctl_msg m = { .type = type, .arg = arg };

	if (type == CTL_READY) {
		m.nr = 2;
		m.tids[0] = 4242;
		m.tids[1] = 4343;
	}
	CHECK(write(vm, &m, sizeof(m)) == sizeof(m));
}

static char sock_path[64];

/* The monitor's main thread: one request of the QMP thread's. */
static void serve_main(struct qmp_server *s)
{
	struct pollfd p = { .fd = qmp_server_main_fd(s), .events = POLLIN };

	CHECK(poll(&p, 1, 5000) == 1);
	qmp_server_main_serve(s);
}

/* The fake VM process takes CTL_MIGRATE and its two files. */
static void vm_read_migrate(int vm, int fds[2])
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(2 * sizeof(int))];
	} u;
	struct ctl_msg m;
	struct iovec iov = { &m, sizeof(m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	struct pollfd p = { .fd = vm, .events = POLLIN };
	struct cmsghdr *c;

	CHECK(poll(&p, 1, 5000) == 1);
	CHECK(recvmsg(vm, &mh, MSG_CMSG_CLOEXEC) == sizeof(m));
	CHECK(m.type == CTL_MIGRATE);
	c = CMSG_FIRSTHDR(&mh);
	CHECK(c && c->cmsg_type == SCM_RIGHTS &&
	      c->cmsg_len == CMSG_LEN(2 * sizeof(int)));
	memcpy(fds, CMSG_DATA(c), 2 * sizeof(int));
}

/* migrate file:DIR through the confined thread and the main thread: the
 * files made 0600 under temporary names, handed to the VM, put in place
 * once it says they are written; a failure removes them and resumes. */
static void server_migrate(struct qmp_server *s, int a, int vm)
{
	char dir[80], path[128];
	struct ctl_msg m = { .type = CTL_ACK };
	struct stat st;
	int fds[2];

	snprintf(dir, sizeof(dir), "%s.snap", sock_path);
	say(a, "{\"execute\": \"migrate-set-capabilities\", \"arguments\": "
	    "{\"capabilities\": [{\"capability\": \"events\", "
	    "\"state\": true}]}}\n");
	EXPECT(a, "\"return\"");
	dprintf(a, "{\"execute\": \"migrate\", \"arguments\": "
		"{\"uri\": \"file:%s\"}, \"id\": 9}\n", dir);
	EXPECT(a, "\"MIGRATION\", \"data\": {\"status\": \"setup\"}");
	EXPECT(a, "\"id\": 9");
	serve_main(s);			/* the files */
	vm_read_migrate(vm, fds);
	CHECK(fstat(fds[0], &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);
	EXPECT(a, "\"MIGRATION\", \"data\": {\"status\": \"active\"}");
	say(a, "{\"execute\": \"migrate-set-capabilities\", \"arguments\": "
	    "{\"capabilities\": []}}\n");
	EXPECT(a, "migration process in progress");
	say(a, "{\"execute\": \"query-migrate\"}\n");
	/* QEMU's members: nothing counted until the VM process is done. */
	EXPECT(a, "\"ram\": {\"transferred\": 0, \"total\": 1048576, "
		  "\"remaining\": 1048576, ");
	CHECK(write(fds[0], "state", 5) == 5 && ftruncate(fds[1], 8192) == 0);
	close(fds[0]);
	close(fds[1]);
	m.size[0] = 5;
	m.size[1] = 4096;
	CHECK(write(vm, &m, sizeof(m)) == sizeof(m));
	EXPECT(a, "\"STOP\"");
	serve_main(s);			/* in place */
	EXPECT(a, "\"MIGRATION\", \"data\": {\"status\": \"completed\"}");
	say(a, "{\"execute\": \"query-migrate\"}\n");
	EXPECT(a, "{\"transferred\": 4101, \"total\": 1048576, \"remaining\": "
		  "0, \"normal\": 1, \"normal-bytes\": 4096, \"duplicate\": 255, "
		  "\"page-size\": 4096, \"dirty-sync-count\": 1, \"mbps\": ");
	say(a, "{\"execute\": \"query-status\"}\n");
	EXPECT(a, "\"postmigrate\"");
	snprintf(path, sizeof(path), "%s/state", dir);
	CHECK(stat(path, &st) == 0 && st.st_size == 5 &&
	      (st.st_mode & 0777) == 0600);
	snprintf(path, sizeof(path), "%s/memory", dir);
	CHECK(stat(path, &st) == 0 && st.st_size == 8192);
	snprintf(path, sizeof(path), "%s/.state.tmp", dir);
	CHECK(stat(path, &st) < 0);
	say(a, "{\"execute\": \"cont\"}\n");
	vm_read(vm, CTL_CONT);
	vm_say(vm, CTL_ACK, 0);
	EXPECT(a, "\"RESUME\"");
	/* The VM cannot save: failed, the files gone, the guest resumed;
	 * the snapshot already there untouched. */
	dprintf(a, "{\"execute\": \"migrate\", \"arguments\": "
		"{\"uri\": \"file:%s\"}}\n", dir);
	EXPECT(a, "\"return\"");
	serve_main(s);
	vm_read_migrate(vm, fds);
	close(fds[0]);
	close(fds[1]);
	vm_say(vm, CTL_ACK, -EOPNOTSUPP);
	EXPECT(a, "\"MIGRATION\", \"data\": {\"status\": \"failed\"}");
	serve_main(s);			/* removed */
	vm_read(vm, CTL_CONT);
	vm_say(vm, CTL_ACK, 0);
	EXPECT(a, "\"RESUME\"");
	say(a, "{\"execute\": \"query-migrate\"}\n");
	EXPECT(a, "\"failed\"");
	CHECK(stat(path, &st) < 0);
	snprintf(path, sizeof(path), "%s/state", dir);
	CHECK(stat(path, &st) == 0 && st.st_size == 5);
	unlink(path);
	snprintf(path, sizeof(path), "%s/memory", dir);
	unlink(path);
	rmdir(dir);
}

static int sigfd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_CLOEXEC);
}

static void server_cfg(struct vm_config *cfg, bool no_shutdown)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->cpus = 2;
	cfg->mem_size = 1 << 20;
	cfg->seccomp = true;
	cfg->no_shutdown = no_shutdown;
	cfg->name = "unit";
	memcpy(cfg->uuid, "00000000-0000-0000-0000-000000000000", 37);
	cfg->nr_qmp = 1;
	snprintf(cfg->qmp[0].path, sizeof(cfg->qmp[0].path), "%s", sock_path);
	cfg->qmp[0].wait = false;
}

/* A whole life in a child (the server thread's filter must not reach the
 * test runner): boot, stop/cont through the fake VM, two clients, one
 * that leaves mid-command, a flood, a guest power-off, quit. */
static void server_life(void)
{
	struct vm_config cfg;
	struct qmp_server *s;
	int ctl[2], a, b, sfd = sigfd(), status;
	bool paused;
	struct stat st;
	char *junk;

	server_cfg(&cfg, false);
	CHECK(qmp_server_open(&s, &cfg) == 0);
	CHECK(lstat(sock_path, &st) == 0 && S_ISSOCK(st.st_mode));
	CHECK((st.st_mode & 0777) == 0600);
	CHECK(qmp_server_start(s) == 0);
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK |
			 SOCK_CLOEXEC, 0, ctl) == 0);
	qmp_server_child_started(s, ctl[0], false);
	vm_say(ctl[1], CTL_READY, 0);

	a = client(sock_path);
	b = client(sock_path);
	say(a, "{\"execute\": \"query-cpus-fast\"}\n");
	EXPECT(a, "4343");
	{
		char want[128];

		/* The server's own view: a client on the socket now. */
		snprintf(want, sizeof(want), "\"compat_monitor0\", "
			 "\"filename\": \"unix:%s,server=on\"", sock_path);
		say(a, "{\"execute\": \"query-chardev\"}\n");
		EXPECT(a, want);
	}
	say(a, "{\"execute\": \"stop\", \"id\": 1}\n");
	vm_read(ctl[1], CTL_STOP);
	vm_say(ctl[1], CTL_ACK, 0);
	EXPECT(a, "\"STOP\"");
	EXPECT(a, "\"id\": 1");
	EXPECT(b, "\"STOP\"");	/* events go to every client */
	say(b, "{\"execute\": \"query-status\"}\n");
	EXPECT(b, "\"paused\"");
	/* b asks to continue and leaves before the answer. */
	say(b, "{\"execute\": \"cont\"}\n");
	vm_read(ctl[1], CTL_CONT);
	close(b);
	vm_say(ctl[1], CTL_ACK, 0);
	EXPECT(a, "\"RESUME\"");
	/* A flood of garbage with no newline: that client is dropped. */
	b = client(sock_path);
	junk = malloc(1 << 20);
	CHECK(junk);
	memset(junk, '{', 1 << 20);
	for (size_t off = 0; off < (1 << 20);) {
		ssize_t n = write(b, junk + off, (1 << 20) - off);

		if (n <= 0)
			break;	/* dropped: EPIPE/ECONNRESET */
		off += (size_t)n;
	}
	free(junk);
	close(b);
	say(a, "{\"execute\": \"query-status\"}\n");
	EXPECT(a, "\"running\"");
	/* A client that sends and leaves before it is even accepted: its
	 * command still runs (writing its greeting fails first). */
	b = ts_unix_connect(sock_path);
	CHECK(b >= 0);
	say(b, "{\"execute\": \"qmp_capabilities\"}\r\n"
	       "{\"execute\": \"stop\"}\r\n");
	close(b);
	vm_read(ctl[1], CTL_STOP);
	vm_say(ctl[1], CTL_ACK, 0);
	EXPECT(a, "\"STOP\"");
	say(a, "{\"execute\": \"cont\"}\n");
	vm_read(ctl[1], CTL_CONT);
	vm_say(ctl[1], CTL_ACK, 0);
	EXPECT(a, "\"RESUME\"");
	server_migrate(s, a, ctl[1]);
	/* The board has no button: the VM says so. */
	say(a, "{\"execute\": \"system_powerdown\"}\n");
	vm_read(ctl[1], CTL_POWERDOWN);
	vm_say(ctl[1], CTL_ACK, -EOPNOTSUPP);
	EXPECT(a, "no power button");
	/* The guest powers off: SHUTDOWN, and rivet ends with it. */
	vm_say(ctl[1], CTL_EXITING, CTL_REASON_GUEST_SHUTDOWN);
	close(ctl[1]);
	CHECK(!qmp_server_child_exited(s, RIVET_EXIT_OK, sfd, &paused,
				       &status));
	CHECK(status == RIVET_EXIT_OK);
	EXPECT(a, "\"guest-shutdown\"");
	qmp_server_close(s);
	CHECK(lstat(sock_path, &st) < 0);	/* removed at exit */
	_exit(0);
}

struct resetter {
	int fd;
};

/* With --no-shutdown: after the guest's power-off a client resets (a new
 * boot), then quits. */
static void *no_shutdown_client(void *arg)
{
	struct resetter *r = arg;

	EXPECT(r->fd, "\"GUEST_PANICKED\"");
	say(r->fd, "{\"execute\": \"query-status\"}\n");
	EXPECT(r->fd, "\"guest-panicked\"");
	say(r->fd, "{\"execute\": \"cont\"}\n");
	EXPECT(r->fd, "Resetting the Virtual Machine is required");
	say(r->fd, "{\"execute\": \"system_reset\"}\n");
	EXPECT(r->fd, "\"host-qmp-system-reset\"");
	return NULL;
}

static void server_no_shutdown(void)
{
	struct vm_config cfg;
	struct qmp_server *s;
	struct resetter r;
	pthread_t t;
	int ctl[2], sfd = sigfd(), status;
	bool paused;

	server_cfg(&cfg, true);
	CHECK(qmp_server_open(&s, &cfg) == 0);
	CHECK(qmp_server_start(s) == 0);
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK |
			 SOCK_CLOEXEC, 0, ctl) == 0);
	qmp_server_child_started(s, ctl[0], false);
	r.fd = client(sock_path);
	vm_say(ctl[1], CTL_EXITING, CTL_REASON_GUEST_PANIC);
	close(ctl[1]);
	CHECK(pthread_create(&t, NULL, no_shutdown_client, &r) == 0);
	/* Waits for the client's decision: boot again. */
	CHECK(qmp_server_child_exited(s, RIVET_EXIT_ERROR, sfd, &paused,
				      &status));
	CHECK(!paused);
	pthread_join(t, NULL);
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK |
			 SOCK_CLOEXEC, 0, ctl) == 0);
	qmp_server_child_started(s, ctl[0], false);
	say(r.fd, "{\"execute\": \"quit\", \"id\": \"q\"}\n");
	vm_read(ctl[1], CTL_QUIT);
	vm_say(ctl[1], CTL_EXITING, CTL_REASON_HOST_QMP_QUIT);
	close(ctl[1]);
	CHECK(!qmp_server_child_exited(s, RIVET_EXIT_OK, sfd, &paused,
				       &status));
	CHECK(status == RIVET_EXIT_OK);
	qmp_server_close(s);
	/* The reply to quit went out before the end. */
	EXPECT(r.fd, "\"host-qmp-quit\"");
	EXPECT(r.fd, "\"id\": \"q\"");
	_exit(0);
}

/* Restored (--incoming) and --paused: QEMU's "paused" (the guest ran
 * before), not "prelaunch"; query-migrate says the incoming one completed
 * until a snapshot of its own; cont runs it. */
static void server_incoming(void)
{
	struct vm_config cfg;
	struct qmp_server *s;
	int ctl[2], a, sfd = sigfd(), status;
	bool paused;

	server_cfg(&cfg, false);
	cfg.paused = true;
	cfg.incoming = "/tmp/snap";
	CHECK(qmp_server_open(&s, &cfg) == 0);
	CHECK(qmp_server_start(s) == 0);
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK |
			 SOCK_CLOEXEC, 0, ctl) == 0);
	qmp_server_child_started(s, ctl[0], true);
	vm_say(ctl[1], CTL_READY, 0);
	a = client(sock_path);
	say(a, "{\"execute\": \"query-status\"}\n");
	EXPECT(a, "\"status\": \"paused\", \"running\": false");
	say(a, "{\"execute\": \"query-migrate\"}\n");
	EXPECT(a, "{\"return\": {\"status\": \"completed\"}}");
	say(a, "{\"execute\": \"cont\"}\n");
	vm_read(ctl[1], CTL_CONT);
	vm_say(ctl[1], CTL_ACK, 0);
	EXPECT(a, "\"RESUME\"");
	say(a, "{\"execute\": \"query-status\"}\n");
	EXPECT(a, "\"status\": \"running\"");
	vm_say(ctl[1], CTL_EXITING, CTL_REASON_GUEST_SHUTDOWN);
	close(ctl[1]);
	CHECK(!qmp_server_child_exited(s, RIVET_EXIT_OK, sfd, &paused,
				       &status));
	qmp_server_close(s);
	_exit(0);
}

static void run_in_child(void (*fn)(void))
{
	const char *failure = ts_child_failure(fn);

	if (failure)
		fail_msg("%s: %s", "server child", failure);
}

static void test_server_life(void **state)
{
	run_in_child(server_life);
}

static void test_server_incoming(void **state)
{
	run_in_child(server_incoming);
}

static void test_server_no_shutdown(void **state)
{
	run_in_child(server_no_shutdown);
}

static void test_server_socket_rules(void **state)
{
	struct vm_config cfg;
	struct qmp_server *s, *s2;
	struct stat st;
	int fd;

	server_cfg(&cfg, false);
	cfg.seccomp = false;
	/* Not a socket: refused, untouched. */
	fd = open(sock_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "keep", 4), 4);
	close(fd);
	assert_int_equal(qmp_server_open(&s, &cfg), -EEXIST);
	assert_int_equal(stat(sock_path, &st), 0);
	assert_int_equal(st.st_size, 4);
	unlink(sock_path);
	/* A live socket: refused; a stale one: replaced. */
	assert_int_equal(qmp_server_open(&s, &cfg), 0);
	assert_int_equal(qmp_server_open(&s2, &cfg), -EADDRINUSE);
	assert_null(s2);
	qmp_server_close(s);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
		assert_int_equal(bind(fd, (struct sockaddr *)&sa,
				      sizeof(sa)), 0);
	}
	close(fd);	/* stale: bound, nobody listens */
	assert_int_equal(qmp_server_open(&s, &cfg), 0);
	qmp_server_close(s);
	assert_int_not_equal(access(sock_path, F_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_greeting),
		cmocka_unit_test(test_negotiation),
		cmocka_unit_test(test_queries),
		cmocka_unit_test(test_query_chardev),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_migrate),
		cmocka_unit_test(test_migrate_caps),
		cmocka_unit_test(test_streaming),
		cmocka_unit_test(test_pending_action),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_event_format),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_server_socket_rules),
		cmocka_unit_test(test_server_life),
		cmocka_unit_test(test_server_incoming),
		cmocka_unit_test(test_server_no_shutdown),
	};

	snprintf(sock_path, sizeof(sock_path), "/tmp/rivet-qmp-test.%d",
		 (int)getpid());
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
