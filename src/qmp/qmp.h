/* SPDX-License-Identifier: MIT */
/* QMP, the QEMU Machine Protocol (QEMU's docs/interop/qmp-spec.rst): one
 * client connection's protocol engine, portable and free of I/O, so every
 * hostile input is unit-tested and fuzzed on x86_64.  Bytes in
 * (qmp_conn_input), bytes out (c->out); what needs the VM is handed to the
 * owner (struct qmp_host, src/qmp/server.c).  JSON by jansson. */
#ifndef RIVET_QMP_H
#define RIVET_QMP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"

/* One command's JSON text at most (a client sending more without ending
 * its value is dropped), and the replies and events waiting for a client
 * that does not read (more: it is dropped, the VM goes on). */
#define QMP_MAX_INPUT (64 * 1024)
#define QMP_MAX_OUTPUT (256 * 1024)

/* The version the greeting reports as "qemu": clients check it (Kata's
 * rejects a major below 5); rivet's own is in "package" (docs/qmp.md). */
#define QMP_COMPAT_MAJOR 9
#define QMP_COMPAT_MINOR 2
#define QMP_COMPAT_MICRO 0

/* QEMU's RunState names, the ones rivet's VM can be in. */
enum qmp_runstate {
	QMP_STATE_PRELAUNCH,	/* --paused, before the first cont */
	QMP_STATE_RUNNING,
	QMP_STATE_PAUSED,	/* stop */
	QMP_STATE_SHUTDOWN,	/* powered off, --no-shutdown */
	QMP_STATE_GUEST_PANICKED,
	QMP_STATE_INTERNAL_ERROR,
	QMP_STATE_POSTMIGRATE,	/* a snapshot was taken (migrate): paused */
};
const char *qmp_runstate_name(enum qmp_runstate s);

/* What the VM is asked to do. */
enum qmp_action {
	QMP_ACT_STOP,
	QMP_ACT_CONT,
	QMP_ACT_RESET,
	QMP_ACT_POWERDOWN,
	QMP_ACT_QUIT,
};

/* An action's outcome from struct qmp_host.action. */
#define QMP_DONE 0	/* finished: reply success now */
#define QMP_PENDING 1	/* the owner calls qmp_conn_done() later */

struct qmp_conn;

/* What query-chardev reports that changes while rivet runs. */
struct qmp_chardev_state {
	const char *pty;		/* --serial pty: "/dev/pts/N" */
	bool console_client;		/* --serial unix: a client now */
	bool qmp_client[CONFIG_MAX_QMP];	/* each --qmp: a client now */
};

/* The engine's owner: the VM's facts and its actions. */
struct qmp_host {
	const struct vm_config *cfg;
	void *opaque;
	enum qmp_runstate (*state)(void *opaque);
	/* vCPU thread ids into @tids (0: not known yet); how many. */
	unsigned int (*cpu_tids)(void *opaque, int *tids, unsigned int max);
	/* Each disk's size in bytes (cfg order), or -1 when unknown. */
	long long (*disk_size)(void *opaque, unsigned int i);
	/* Start @act for @c: QMP_DONE, QMP_PENDING, or -errno with a
	 * message for the client in @err. */
	int (*action)(void *opaque, struct qmp_conn *c, enum qmp_action act,
		      char *err, size_t errlen);
	/* migrate to file:@dir: start a snapshot (it goes on after the
	 * reply; migrate_info tells how it went).  0, or -errno with a
	 * message in @err. */
	int (*migrate)(void *opaque, const char *dir, char *err,
		       size_t errlen);
	/* query-migrate's reply: a new reference. */
	json_t *(*migrate_info)(void *opaque);
	/* The "events" migration capability (the MIGRATION event), the VM's
	 * as in QEMU, not a client's: read it; set it (0, or -errno with a
	 * message in @err: not while a snapshot is being taken). */
	bool (*migrate_events)(void *opaque);
	int (*set_migrate_events)(void *opaque, bool on, char *err,
				  size_t errlen);
	/* The consoles' and sockets' state now (query-chardev). */
	void (*chardev_state)(void *opaque, struct qmp_chardev_state *st);
};

struct qmp_conn {
	const struct qmp_host *host;
	char *in;		/* received, not yet parsed */
	size_t in_len;
	char *out;		/* to send */
	size_t out_len, out_cap;
	bool negotiated;	/* qmp_capabilities done */
	bool busy;		/* a command waits for the VM */
	bool dead;		/* drop this client (input or output cap) */
	json_t *pending_id;	/* the waiting command's id, or NULL */
	unsigned int pending_act;
};

/* Set up @c and queue the greeting.  0 or -ENOMEM. */
int qmp_conn_init(struct qmp_conn *c, const struct qmp_host *host);
void qmp_conn_free(struct qmp_conn *c);

/* Take @len received bytes and run every complete command in them (up to
 * one that waits for the VM).  0, or -EMSGSIZE / -ENOMEM: drop the client
 * (an error reply may be queued: send it first, best effort). */
int qmp_conn_input(struct qmp_conn *c, const void *data, size_t len);

/* The waiting command ended: success, or the GenericError @error.  Runs the
 * commands received meanwhile. */
void qmp_conn_done(struct qmp_conn *c, const char *error);

/* @n bytes of c->out were sent. */
void qmp_conn_sent(struct qmp_conn *c, size_t n);

/* An event line (qmp_event_format) to @c if it negotiated. */
void qmp_conn_event(struct qmp_conn *c, const char *line, size_t len);

/* "{"timestamp": ..., "event": @name[, "data": @data]}\r\n" into a
 * malloc'ed string (NULL: no memory); takes @data's reference (may be
 * NULL). */
char *qmp_event_format(const char *name, json_t *data, size_t *len);

#endif
