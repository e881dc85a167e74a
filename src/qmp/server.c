// SPDX-License-Identifier: MIT
/* The QMP server thread (server.h): UNIX listening sockets, up to
 * QMP_MAX_CLIENTS clients, each a struct qmp_conn; the current VM process's
 * channel (ctl.h); the monitor's main thread over a socketpair.  Nothing a
 * client sends reaches anything but the engine (qmp.c) and the fixed
 * requests of ctl.h; a client that floods or stops reading is dropped. */
#include "qmp/server.h"

#include <errno.h>
#include <fcntl.h>
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
#include <time.h>
#include <unistd.h>

#include "core/exit.h"
#include "core/log.h"
#include "core/serial_relay.h"
#include "core/thread.h"
#include "core/usock.h"
#include "qmp/ctl.h"
#include "qmp/qmp.h"
#include "seccomp/seccomp.h"
#include "snapshot/image.h"

#define QMP_MAX_CLIENTS 16
#define QMP_MAX_PENDING 32
#define READ_CHUNK 4096

/* Main thread <-> server thread. */
enum mtype {
	M_STARTED = 1,	/* a: ctl fd, b: paused */
	M_EXITED,	/* a: exit status */
	M_SIGNAL,	/* a: signal number (main no longer waits) */
	M_STOP,
	M_DECIDE,	/* thread -> main; a: 1 boot, 0 exit; b: paused/status */
	/* migrate file:DIR: the thread cannot create files (its seccomp
	 * role), the monitor's main thread makes them for it. */
	M_MIG_OPEN,	/* thread -> main: make the files in mig.dir */
	M_MIG_FDS,	/* main -> thread; a: state fd or -errno, b: memory */
	M_MIG_COMMIT,	/* thread -> main: written, put them in place */
	M_MIG_ABORT,	/* thread -> main: failed, remove them */
	M_MIG_DONE,	/* main -> thread; a: 0 or -errno */
};

/* A snapshot (migrate file:DIR), as query-migrate reports it. */
enum mig_status { MIG_NONE, MIG_SETUP, MIG_ACTIVE, MIG_COMPLETED,
		  MIG_FAILED };

struct mig {
	enum mig_status status;
	char dir[2048];		/* set by the thread before M_MIG_OPEN */
	int dfd;		/* main thread's: the directory, or -1 */
	bool was_running;
	char error[192];
	uint64_t state_bytes, ram_bytes, ram_total;
	struct timespec start;
	uint64_t setup_ms;	/* until the VM process was asked */
	uint64_t total_ms;
	bool events;		/* the "events" capability: MIGRATION */
};

struct mmsg {
	int type, a, b;
};

struct client {
	int fd;		/* -1: free slot */
	unsigned int sock;	/* the --qmp socket it came on */
	bool wgone;	/* it reads no more: what it sent still counts */
	unsigned int gen;
	struct qmp_conn conn;
};

struct pend {
	unsigned int slot, gen;
	uint32_t type;
};

struct qmp_server {
	const struct vm_config *cfg;
	const struct serial_relay *console;	/* --serial pty|unix, or NULL */
	struct qmp_host host;
	int lfd[CONFIG_MAX_QMP];
	long long disk_size[CONFIG_MAX_DISKS];
	struct client cl[QMP_MAX_CLIENTS];
	unsigned int gen;
	int mfd[2];		/* [0] main thread's end, [1] the server's */
	pthread_t thread;
	bool running;
	/* The server thread's own from here. */
	int ctl;		/* current VM process, or -1 */
	enum qmp_runstate state;
	int tids[CONFIG_MAX_CPUS];
	unsigned int nr_tids;
	struct pend pend[QMP_MAX_PENDING];
	unsigned int npend;
	bool exiting_seen;	/* the VM said why it ends */
	int reason;		/* enum ctl_reason */
	bool waiting;		/* main waits for M_DECIDE */
	bool quit;		/* quit asked */
	bool stop;
	struct mig mig;
};

/* A pending request no client waits for (the snapshot, the resume after
 * a failed one). */
#define NO_CLIENT QMP_MAX_CLIENTS

/* poll() for the server thread: ppoll on every architecture (x86_64's
 * glibc poll() is the poll syscall, which the thread's filter lacks). */
static int tpoll(struct pollfd *p, nfds_t n, int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	return ppoll(p, n, ms < 0 ? NULL : &ts, NULL);
}

/* ---- events -------------------------------------------------------------- */

static void broadcast(struct qmp_server *s, const char *name, json_t *data)
{
	size_t len;
	char *line = qmp_event_format(name, data, &len);

	if (!line)
		return;
	for (unsigned int i = 0; i < QMP_MAX_CLIENTS; i++)
		if (s->cl[i].fd >= 0)
			qmp_conn_event(&s->cl[i].conn, line, len);
	free(line);
}

static void ev_reason(struct qmp_server *s, const char *name, bool guest,
		      const char *reason)
{
	broadcast(s, name, json_pack("{s:b, s:s}", "guest", guest, "reason",
				     reason));
}

static void set_state(struct qmp_server *s, enum qmp_runstate st)
{
	bool was_running = s->state == QMP_STATE_RUNNING;

	s->state = st;
	if (was_running && st != QMP_STATE_RUNNING)
		broadcast(s, "STOP", NULL);
	else if (!was_running && st == QMP_STATE_RUNNING)
		broadcast(s, "RESUME", NULL);
}

/* ---- the engine's host ------------------------------------------------------ */

static enum qmp_runstate host_state(void *opaque)
{
	return ((struct qmp_server *)opaque)->state;
}

static unsigned int host_tids(void *opaque, int *tids, unsigned int max)
{
	struct qmp_server *s = opaque;
	unsigned int n = s->cfg->cpus < max ? s->cfg->cpus : max;

	for (unsigned int i = 0; i < n; i++)
		tids[i] = i < s->nr_tids ? s->tids[i] : 0;
	return n;
}

static long long host_disk_size(void *opaque, unsigned int i)
{
	struct qmp_server *s = opaque;

	return i < CONFIG_MAX_DISKS ? s->disk_size[i] : -1;
}

static struct client *client_of(struct qmp_server *s, struct qmp_conn *c)
{
	for (unsigned int i = 0; i < QMP_MAX_CLIENTS; i++)
		if (s->cl[i].fd >= 0 && &s->cl[i].conn == c)
			return &s->cl[i];
	return NULL;
}

/* Ask the VM process; its answer completes @c's command. */
static int ask_vm(struct qmp_server *s, struct qmp_conn *c, uint32_t type,
		  char *err, size_t errlen)
{
	struct ctl_msg m = { .type = type };
	struct client *cl = c ? client_of(s, c) : NULL;

	if ((c && !cl) || s->npend >= QMP_MAX_PENDING) {
		snprintf(err, errlen, "too many commands in flight");
		return -EBUSY;
	}
	if (write(s->ctl, &m, sizeof(m)) != sizeof(m)) {
		snprintf(err, errlen, "the VM process does not answer: %s",
			 strerror(errno));
		return -EIO;
	}
	s->pend[s->npend++] = (struct pend){
		cl ? (unsigned int)(cl - s->cl) : NO_CLIENT,
		cl ? cl->gen : 0, type };
	return QMP_PENDING;
}

static void decide(struct qmp_server *s, bool boot, int b)
{
	struct mmsg m = { M_DECIDE, boot, b };

	s->waiting = false;
	if (write(s->mfd[1], &m, sizeof(m)) != sizeof(m))
		log_err("qmp: cannot reach the monitor: %s", strerror(errno));
}

/* ---- snapshots (migrate file:DIR) ------------------------------------------ */

static void to_main(struct qmp_server *s, int type)
{
	struct mmsg m = { type, 0, 0 };

	if (write(s->mfd[1], &m, sizeof(m)) != sizeof(m))
		log_err("qmp: cannot reach the monitor: %s", strerror(errno));
}

static uint64_t ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)(t.tv_sec - t0->tv_sec) * 1000 +
	       (uint64_t)((t.tv_nsec - t0->tv_nsec) / 1000000);
}

static const char *const mig_names[] = {
	[MIG_SETUP] = "setup", [MIG_ACTIVE] = "active",
	[MIG_COMPLETED] = "completed", [MIG_FAILED] = "failed",
};

/* A new status, and QEMU's MIGRATION event if a client asked for it. */
static void mig_set(struct qmp_server *s, enum mig_status st)
{
	s->mig.status = st;
	if (s->mig.events)
		broadcast(s, "MIGRATION", json_pack("{s:s}", "status",
						    mig_names[st]));
}

static void mig_end(struct qmp_server *s, const char *error)
{
	struct mig *g = &s->mig;

	g->total_ms = ms_since(&g->start);
	if (!error) {
		mig_set(s, MIG_COMPLETED);
		log_info("qmp: snapshot in %s complete (%llu ms)", g->dir,
			 (unsigned long long)g->total_ms);
		return;
	}
	snprintf(g->error, sizeof(g->error), "%s", error);
	mig_set(s, MIG_FAILED);
	log_err("qmp: snapshot to %s failed: %s", g->dir, error);
}

/* A snapshot is being taken: QEMU's message in @err. */
static bool mig_busy(const struct qmp_server *s, char *err, size_t errlen)
{
	if (s->mig.status != MIG_SETUP && s->mig.status != MIG_ACTIVE)
		return false;
	snprintf(err, errlen, "There's a migration process in progress");
	return true;
}

static int host_migrate(void *opaque, const char *dir, char *err,
			size_t errlen)
{
	struct qmp_server *s = opaque;
	struct mig *g = &s->mig;

	if (mig_busy(s, err, errlen))
		return -EBUSY;
	if (s->ctl < 0 || s->state == QMP_STATE_SHUTDOWN ||
	    s->state == QMP_STATE_GUEST_PANICKED ||
	    s->state == QMP_STATE_INTERNAL_ERROR) {
		snprintf(err, errlen, "no guest to take a snapshot of (it "
			 "powered off, failed or is restarting)");
		return -EAGAIN;
	}
	memset(g->error, 0, sizeof(g->error));
	snprintf(g->dir, sizeof(g->dir), "%s", dir);
	g->state_bytes = g->ram_bytes = 0;
	g->ram_total = s->cfg->mem_size;
	g->total_ms = g->setup_ms = 0;
	g->was_running = s->state == QMP_STATE_RUNNING;
	clock_gettime(CLOCK_MONOTONIC, &g->start);
	mig_set(s, MIG_SETUP);
	to_main(s, M_MIG_OPEN);
	return 0;
}

static bool host_migrate_events(void *opaque)
{
	return ((struct qmp_server *)opaque)->mig.events;
}

static int host_set_migrate_events(void *opaque, bool on, char *err,
				   size_t errlen)
{
	struct qmp_server *s = opaque;

	if (mig_busy(s, err, errlen))
		return -EBUSY;
	s->mig.events = on;
	return 0;
}

/* query-chardev: the console's and the sockets' state now. */
static void host_chardev_state(void *opaque, struct qmp_chardev_state *st)
{
	struct qmp_server *s = opaque;

	st->pty = serial_relay_pty_name(s->console);
	st->console_client = serial_relay_connected(s->console);
	for (unsigned int i = 0; i < QMP_MAX_CLIENTS; i++)
		if (s->cl[i].fd >= 0 && s->cl[i].sock < CONFIG_MAX_QMP)
			st->qmp_client[s->cl[i].sock] = true;
}

/* QEMU's MigrationStats: one pass with the VM paused, so every byte goes
 * during the downtime and none before.  The VM process reports the sizes
 * at the end: while active, nothing is counted yet and all remains. */
static json_t *mig_ram(const struct mig *g)
{
	bool done = g->status == MIG_COMPLETED;
	json_int_t sent = done ? (json_int_t)(g->state_bytes + g->ram_bytes)
			       : 0;
	json_int_t normal = (json_int_t)(g->ram_bytes / 4096);
	uint64_t ms = g->total_ms ? g->total_ms : 1;
	json_t *r = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			      "transferred", sent,
			      "total", (json_int_t)g->ram_total,
			      "remaining", done ? (json_int_t)0
						: (json_int_t)g->ram_total,
			      "normal", normal,
			      "normal-bytes", (json_int_t)g->ram_bytes,
			      "duplicate", done && g->ram_total > g->ram_bytes
					   ? (json_int_t)((g->ram_total -
							   g->ram_bytes) / 4096)
					   : (json_int_t)0,
			      "page-size", (json_int_t)4096,
			      "dirty-sync-count", (json_int_t)done);

	json_object_set_new(r, "mbps", json_real((double)sent * 8 /
						 ((double)ms * 1000)));
	json_object_set_new(r, "pages-per-second",
			    json_integer(normal * 1000 / (json_int_t)ms));
	json_object_set_new(r, "precopy-bytes", json_integer(0));
	json_object_set_new(r, "downtime-bytes", json_integer(sent));
	json_object_set_new(r, "postcopy-bytes", json_integer(0));
	json_object_set_new(r, "multifd-bytes", json_integer(0));
	json_object_set_new(r, "postcopy-requests", json_integer(0));
	json_object_set_new(r, "dirty-pages-rate", json_integer(0));
	json_object_set_new(r, "dirty-sync-missed-zero-copy",
			    json_integer(0));
	return r;
}

/* query-migrate: QEMU's MigrationInfo with the members QEMU 10 gives in
 * each status (setup: the status; active: the times so far; completed:
 * the times and the RAM figures; failed: the error).  A VM restored with
 * --incoming says "completed", as QEMU's destination does once its
 * incoming migration is done, until a snapshot of its own. */
static json_t *host_migrate_info(void *opaque)
{
	struct qmp_server *s = opaque;
	const struct mig *g = &s->mig;
	json_t *o;

	if (g->status == MIG_NONE)
		return s->cfg->incoming ? json_pack("{s:s}", "status",
						    "completed")
					: json_object();
	o = json_pack("{s:s}", "status", mig_names[g->status]);
	switch (g->status) {
	case MIG_ACTIVE: {
		json_int_t so_far = (json_int_t)ms_since(&g->start);

		json_object_set_new(o, "setup-time",
				    json_integer((json_int_t)g->setup_ms));
		json_object_set_new(o, "total-time", json_integer(so_far));
		/* Paused throughout: the whole snapshot is downtime. */
		json_object_set_new(o, "expected-downtime",
				    json_integer(so_far));
		json_object_set_new(o, "ram", mig_ram(g));
		break;
	}
	case MIG_COMPLETED:
		json_object_set_new(o, "setup-time",
				    json_integer((json_int_t)g->setup_ms));
		json_object_set_new(o, "downtime", json_integer(
			(json_int_t)(g->total_ms - g->setup_ms)));
		json_object_set_new(o, "total-time",
				    json_integer((json_int_t)g->total_ms));
		json_object_set_new(o, "ram", mig_ram(g));
		break;
	case MIG_FAILED:
		json_object_set_new(o, "error-desc", json_string(g->error));
		break;
	default:
		break;
	}
	return o;
}

/* Ask the VM process for the snapshot, the two files' descriptors with
 * the request. */
static int send_migrate(struct qmp_server *s, int sfd, int mfd)
{
	struct ctl_msg m = { .type = CTL_MIGRATE };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(2 * sizeof(int))];
	} u;
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	int fds[2] = { sfd, mfd };

	if (s->npend >= QMP_MAX_PENDING)
		return -EBUSY;
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	if (sendmsg(s->ctl, &mh, MSG_NOSIGNAL) != sizeof(m))
		return -errno;
	s->pend[s->npend++] = (struct pend){ NO_CLIENT, 0, CTL_MIGRATE };
	return 0;
}

/* The monitor made the files (or could not). */
static void on_mig_fds(struct qmp_server *s, int sfd, int mfd)
{
	char err[160];
	int ret;

	if (s->mig.status != MIG_SETUP) {
		if (sfd >= 0)
			close(sfd);
		if (mfd >= 0)
			close(mfd);
		return;
	}
	if (sfd < 0) {
		snprintf(err, sizeof(err), "cannot create the snapshot files "
			 "in %.96s: %s", s->mig.dir, strerror(-sfd));
		mig_end(s, err);
		return;
	}
	ret = s->ctl < 0 ? -ESRCH : send_migrate(s, sfd, mfd);
	close(sfd);
	close(mfd);
	if (ret) {
		snprintf(err, sizeof(err), "cannot ask the VM process: %s",
			 strerror(-ret));
		to_main(s, M_MIG_ABORT);
		mig_end(s, err);
		return;
	}
	s->mig.setup_ms = ms_since(&s->mig.start);
	mig_set(s, MIG_ACTIVE);
}

/* The VM process wrote the snapshot (@arg 0) or failed; it paused for
 * it either way (a failure logged what could not be saved). */
static void on_mig_ack(struct qmp_server *s, const struct ctl_msg *m)
{
	char err[160];

	if (!m->arg)
		set_state(s, QMP_STATE_POSTMIGRATE);
	else if (s->mig.was_running)
		set_state(s, QMP_STATE_PAUSED);	/* it paused for the save */
	if (m->arg) {
		snprintf(err, sizeof(err), "the VM could not save its state: "
			 "%s", strerror(-m->arg));
		to_main(s, M_MIG_ABORT);
		mig_end(s, err);
		/* As QEMU after a failed migration: the guest goes on. */
		if (s->mig.was_running &&
		    ask_vm(s, NULL, CTL_CONT, err, sizeof(err)) != QMP_PENDING)
			log_warn("qmp: cannot resume the VM: %s", err);
		return;
	}
	s->mig.state_bytes = m->size[0];
	s->mig.ram_bytes = m->size[1];
	to_main(s, M_MIG_COMMIT);
}

static void on_mig_done(struct qmp_server *s, int ret)
{
	char err[160];

	if (s->mig.status != MIG_ACTIVE)
		return;
	if (!ret) {
		mig_end(s, NULL);
		return;
	}
	snprintf(err, sizeof(err), "cannot put the snapshot files in "
		 "place in %.96s: %s", s->mig.dir, strerror(-ret));
	mig_end(s, err);
}

static int host_action(void *opaque, struct qmp_conn *c, enum qmp_action act,
		       char *err, size_t errlen)
{
	struct qmp_server *s = opaque;
	bool vm = s->ctl >= 0;

	switch (act) {
	case QMP_ACT_STOP:
		if (s->state != QMP_STATE_RUNNING)
			return QMP_DONE;
		return vm ? ask_vm(s, c, CTL_STOP, err, errlen) : QMP_DONE;
	case QMP_ACT_CONT:
		if (s->state == QMP_STATE_RUNNING)
			return QMP_DONE;
		if (s->state == QMP_STATE_SHUTDOWN ||
		    s->state == QMP_STATE_GUEST_PANICKED) {
			snprintf(err, errlen, "Resetting the Virtual Machine "
				 "is required");
			return -EINVAL;
		}
		if (s->state == QMP_STATE_INTERNAL_ERROR || !vm) {
			snprintf(err, errlen, "the VM is not there to "
				 "continue (it is restarting or failed)");
			return -EAGAIN;
		}
		return ask_vm(s, c, CTL_CONT, err, errlen);
	case QMP_ACT_RESET:
		if (vm)
			return ask_vm(s, c, CTL_RESET, err, errlen);
		if (s->waiting) {
			ev_reason(s, "RESET", false, "host-qmp-system-reset");
			s->state = QMP_STATE_RUNNING;
			broadcast(s, "RESUME", NULL);
			decide(s, true, 0);
			return QMP_DONE;
		}
		snprintf(err, errlen, "the VM is restarting; try again");
		return -EAGAIN;
	case QMP_ACT_POWERDOWN:
		if (!vm || s->state == QMP_STATE_SHUTDOWN ||
		    s->state == QMP_STATE_GUEST_PANICKED)
			return QMP_DONE;	/* nothing runs to power down */
		return ask_vm(s, c, CTL_POWERDOWN, err, errlen);
	case QMP_ACT_QUIT:
		s->quit = true;
		if (vm)
			return ask_vm(s, c, CTL_QUIT, err, errlen);
		ev_reason(s, "SHUTDOWN", false, "host-qmp-quit");
		if (s->waiting)
			decide(s, false, RIVET_EXIT_OK);
		return QMP_DONE;
	}
	snprintf(err, errlen, "unknown action");
	return -EINVAL;
}

/* ---- the VM process's answers ---------------------------------------------- */

static void complete(struct qmp_server *s, const struct pend *p,
		     const char *error)
{
	struct client *cl = p->slot < NO_CLIENT ? &s->cl[p->slot] : NULL;

	/* The client may have gone meanwhile: the action still happened. */
	if (cl && cl->fd >= 0 && cl->gen == p->gen)
		qmp_conn_done(&cl->conn, error);
}

static struct pend pop(struct qmp_server *s)
{
	struct pend p = s->pend[0];

	memmove(s->pend, s->pend + 1, --s->npend * sizeof(s->pend[0]));
	return p;
}

static void on_ack(struct qmp_server *s, const struct ctl_msg *m)
{
	int arg = m->arg;
	struct pend p;
	char err[128];

	if (!s->npend) {
		log_warn("qmp: the VM process answered what was not asked");
		return;
	}
	p = pop(s);
	if (p.type == CTL_MIGRATE) {
		on_mig_ack(s, m);
		return;
	}
	if (arg) {
		snprintf(err, sizeof(err), "%s", p.type == CTL_POWERDOWN &&
			 arg == -EOPNOTSUPP ? "this board has no power button"
			 : strerror(-arg));
		complete(s, &p, err);
		return;
	}
	switch (p.type) {
	case CTL_STOP:
		if (s->state == QMP_STATE_RUNNING)
			set_state(s, QMP_STATE_PAUSED);
		break;
	case CTL_CONT:
		set_state(s, QMP_STATE_RUNNING);
		break;
	case CTL_POWERDOWN:
		broadcast(s, "POWERDOWN", NULL);
		break;
	}
	complete(s, &p, NULL);
}

/* The VM ends: say why (QEMU's events for each cause), then finish what
 * it was asked. */
static void on_exiting(struct qmp_server *s, int reason)
{
	const struct vm_config *cfg = s->cfg;

	s->exiting_seen = true;
	s->reason = reason;
	switch (reason) {
	case CTL_REASON_HOST_QMP_QUIT:
		ev_reason(s, "SHUTDOWN", false, "host-qmp-quit");
		break;
	case CTL_REASON_HOST_QMP_RESET:
		ev_reason(s, cfg->no_reboot ? "SHUTDOWN" : "RESET", false,
			  "host-qmp-system-reset");
		if (cfg->no_reboot && cfg->no_shutdown)
			set_state(s, QMP_STATE_SHUTDOWN);
		break;
	case CTL_REASON_HOST_SIGNAL:
		ev_reason(s, "SHUTDOWN", false, "host-signal");
		break;
	case CTL_REASON_HOST_UI:
		ev_reason(s, "SHUTDOWN", false, "host-ui");
		break;
	case CTL_REASON_GUEST_SHUTDOWN:
		ev_reason(s, "SHUTDOWN", true, "guest-shutdown");
		if (cfg->no_shutdown)
			set_state(s, QMP_STATE_SHUTDOWN);
		break;
	case CTL_REASON_GUEST_RESET:
		ev_reason(s, cfg->no_reboot ? "SHUTDOWN" : "RESET", true,
			  "guest-reset");
		if (cfg->no_reboot && cfg->no_shutdown)
			set_state(s, QMP_STATE_SHUTDOWN);
		break;
	case CTL_REASON_GUEST_PANIC:
		broadcast(s, "GUEST_PANICKED",
			  json_pack("{s:s}", "action",
				    cfg->no_shutdown ? "pause" : "poweroff"));
		if (cfg->no_shutdown)
			set_state(s, QMP_STATE_GUEST_PANICKED);
		else
			ev_reason(s, "SHUTDOWN", true, "guest-panic");
		break;
	default:
		ev_reason(s, "SHUTDOWN", false, "host-error");
		s->state = QMP_STATE_INTERNAL_ERROR;
		break;
	}
	while (s->npend) {
		struct pend p = pop(s);

		if (p.type == CTL_MIGRATE) {
			to_main(s, M_MIG_ABORT);
			mig_end(s, "the VM ended before the snapshot was "
				   "written");
			continue;
		}
		complete(s, &p, p.type == CTL_RESET || p.type == CTL_QUIT
				? NULL : "the VM ended before the command was "
					 "done");
	}
}

static void close_ctl(struct qmp_server *s)
{
	if (s->ctl >= 0)
		close(s->ctl);
	s->ctl = -1;
}

static void read_ctl(struct qmp_server *s)
{
	struct ctl_msg m;
	ssize_t n = read(s->ctl, &m, sizeof(m));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n != sizeof(m)) {
		close_ctl(s);	/* the VM process is gone */
		return;
	}
	switch (m.type) {
	case CTL_READY:
		s->nr_tids = m.nr < CONFIG_MAX_CPUS ? m.nr : CONFIG_MAX_CPUS;
		memcpy(s->tids, m.tids, s->nr_tids * sizeof(int));
		break;
	case CTL_ACK:
		on_ack(s, &m);
		break;
	case CTL_EXITING:
		on_exiting(s, m.arg);
		break;
	default:
		log_warn("qmp: unknown message %u from the VM process",
			 m.type);
		break;
	}
}

/* ---- the monitor's messages -------------------------------------------------- */

static void on_exited(struct qmp_server *s, int status)
{
	const struct vm_config *cfg = s->cfg;

	/* Whatever is still in the channel (EXITING) first. */
	while (s->ctl >= 0) {
		struct pollfd p = { .fd = s->ctl, .events = POLLIN };

		if (tpoll(&p, 1, 0) <= 0)
			break;
		read_ctl(s);
	}
	close_ctl(s);
	if (!s->exiting_seen)
		on_exiting(s, CTL_REASON_HOST_ERROR);
	s->nr_tids = 0;
	if (s->quit) {
		decide(s, false, RIVET_EXIT_OK);
		return;
	}
	switch (s->reason) {
	case CTL_REASON_GUEST_RESET:
	case CTL_REASON_HOST_QMP_RESET:
		if (status != RIVET_EXIT_REBOOT)
			break;
		if (!cfg->no_reboot) {
			decide(s, true, s->state == QMP_STATE_PAUSED ||
					s->state == QMP_STATE_PRELAUNCH);
			return;
		}
		if (cfg->no_shutdown) {
			s->waiting = true;
			return;
		}
		break;
	case CTL_REASON_GUEST_SHUTDOWN:
	case CTL_REASON_GUEST_PANIC:
		if (cfg->no_shutdown) {
			s->waiting = true;
			return;
		}
		break;
	}
	decide(s, false, status);
}

static void read_main(struct qmp_server *s)
{
	struct mmsg m;

	if (read(s->mfd[1], &m, sizeof(m)) != sizeof(m)) {
		s->stop = true;
		return;
	}
	switch (m.type) {
	case M_STARTED:
		close_ctl(s);
		s->ctl = m.a;
		s->exiting_seen = false;
		s->reason = CTL_REASON_HOST_ERROR;
		s->nr_tids = 0;
		if (m.b) {
			if (s->state != QMP_STATE_PRELAUNCH)
				set_state(s, QMP_STATE_PAUSED);
		} else {
			set_state(s, QMP_STATE_RUNNING);
		}
		break;
	case M_EXITED:
		on_exited(s, m.a);
		break;
	case M_SIGNAL:
		if (s->waiting)
			ev_reason(s, "SHUTDOWN", false, "host-signal");
		s->waiting = false;
		break;
	case M_STOP:
		s->stop = true;
		break;
	case M_MIG_FDS:
		on_mig_fds(s, m.a, m.b);
		break;
	case M_MIG_DONE:
		on_mig_done(s, m.a);
		break;
	}
}

/* ---- clients --------------------------------------------------------------- */

static void drop_client(struct qmp_server *s, struct client *cl)
{
	close(cl->fd);
	cl->fd = -1;
	qmp_conn_free(&cl->conn);
}

static void add_client(struct qmp_server *s, int fd, unsigned int sock)
{
	for (unsigned int i = 0; i < QMP_MAX_CLIENTS; i++) {
		struct client *cl = &s->cl[i];

		if (cl->fd >= 0)
			continue;
		if (qmp_conn_init(&cl->conn, &s->host)) {
			qmp_conn_free(&cl->conn);
			break;
		}
		cl->fd = fd;
		cl->sock = sock;
		cl->wgone = false;
		cl->gen = ++s->gen;
		return;
	}
	log_warn("qmp: too many clients (%d): one refused", QMP_MAX_CLIENTS);
	close(fd);
}

static void accept_client(struct qmp_server *s, unsigned int sock)
{
	int fd = accept4(s->lfd[sock], NULL, NULL,
			 SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd >= 0)
		add_client(s, fd, sock);
}

static void client_read(struct qmp_server *s, struct client *cl)
{
	char buf[READ_CHUNK];
	ssize_t n = read(cl->fd, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop_client(s, cl);	/* gone (its command still runs) */
		return;
	}
	qmp_conn_input(&cl->conn, buf, (size_t)n);
}

/* Send what @cl has queued, as far as its socket takes it.  False when
 * it was dropped. */
static bool client_write(struct qmp_server *s, struct client *cl)
{
	while (cl->conn.out_len && !cl->wgone) {
		ssize_t n = write(cl->fd, cl->conn.out, cl->conn.out_len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		/* It closed (EPIPE): the commands it sent before are still
		 * read and run, and it is dropped at their end (EOF). */
		if (n <= 0)
			cl->wgone = true;
		else
			qmp_conn_sent(&cl->conn, (size_t)n);
	}
	if (cl->wgone)
		qmp_conn_sent(&cl->conn, cl->conn.out_len);
	if (cl->conn.dead) {
		drop_client(s, cl);	/* flooding, or never reading */
		return false;
	}
	return true;
}

/* ---- the thread ---------------------------------------------------------------- */

static void serve(struct qmp_server *s)
{
	struct pollfd p[2 + CONFIG_MAX_QMP + QMP_MAX_CLIENTS];
	unsigned int nl = s->cfg->nr_qmp;

	while (!s->stop) {
		nfds_t n = 0;

		p[n++] = (struct pollfd){ .fd = s->mfd[1], .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = s->ctl, .events = POLLIN };
		for (unsigned int i = 0; i < nl; i++)
			p[n++] = (struct pollfd){ .fd = s->lfd[i],
						  .events = POLLIN };
		for (unsigned int i = 0; i < QMP_MAX_CLIENTS; i++) {
			struct client *cl = &s->cl[i];
			short ev = 0;

			if (cl->fd >= 0) {
				/* A client waiting for the VM is not read:
				 * its next command waits in the socket. */
				if (!cl->conn.busy)
					ev |= POLLIN;
				if (cl->conn.out_len && !cl->wgone)
					ev |= POLLOUT;
			}
			p[n++] = (struct pollfd){ .fd = ev ? cl->fd : -1,
						  .events = ev };
		}
		if (tpoll(p, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_err("qmp: poll: %s", strerror(errno));
			return;
		}
		if (p[0].revents)
			read_main(s);
		if (p[1].revents && s->ctl >= 0)
			read_ctl(s);
		for (unsigned int i = 0; i < nl; i++)
			if (p[2 + i].revents)
				accept_client(s, i);
		for (unsigned int i = 0; i < QMP_MAX_CLIENTS; i++) {
			struct client *cl = &s->cl[i];
			short re = p[2 + nl + i].revents;

			if (cl->fd < 0 || p[2 + nl + i].fd != cl->fd)
				continue;
			if (re & (POLLIN | POLLHUP | POLLERR))
				client_read(s, cl);
		}
		/* Replies and events, from whatever happened above. */
		for (unsigned int i = 0; i < QMP_MAX_CLIENTS; i++)
			if (s->cl[i].fd >= 0)
				client_write(s, &s->cl[i]);
	}
}

/* At the end: what is queued goes out, for a moment at most. */
static void flush_all(struct qmp_server *s)
{
	for (int round = 0; round < 100; round++) {
		struct pollfd p[QMP_MAX_CLIENTS];
		nfds_t n = 0;

		for (unsigned int i = 0; i < QMP_MAX_CLIENTS; i++) {
			struct client *cl = &s->cl[i];

			if (cl->fd >= 0 && client_write(s, cl) &&
			    cl->conn.out_len)
				p[n++] = (struct pollfd){ .fd = cl->fd,
							  .events = POLLOUT };
		}
		if (!n || tpoll(p, n, 10) < 0)
			return;
	}
}

static void *server_thread(void *arg)
{
	struct qmp_server *s = arg;

	if (s->cfg->seccomp &&
	    rivet_seccomp_install(RIVET_SECCOMP_QMP, NULL)) {
		log_err("qmp: cannot confine the QMP thread; no QMP");
		return NULL;
	}
	serve(s);
	flush_all(s);
	return NULL;
}

/* ---- set-up and teardown (main thread) ------------------------------------------ */

int qmp_server_open(struct qmp_server **out, const struct vm_config *cfg)
{
	struct qmp_server *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return -ENOMEM;
	/* jansson seeds its hash function from /dev/urandom on first use:
	 * here, before the thread's filter (which opens nothing). */
	json_object_seed(0);
	s->cfg = cfg;
	s->ctl = -1;
	s->mfd[0] = s->mfd[1] = -1;
	s->mig.dfd = -1;
	/* Restored and paused: QEMU's "paused" after an incoming migration
	 * with -S (the guest has run before), not "prelaunch". */
	s->state = !cfg->paused ? QMP_STATE_RUNNING
		   : cfg->incoming ? QMP_STATE_PAUSED : QMP_STATE_PRELAUNCH;
	s->host = (struct qmp_host){
		.cfg = cfg, .opaque = s, .state = host_state,
		.cpu_tids = host_tids, .disk_size = host_disk_size,
		.action = host_action, .migrate = host_migrate,
		.migrate_info = host_migrate_info,
		.migrate_events = host_migrate_events,
		.set_migrate_events = host_set_migrate_events,
		.chardev_state = host_chardev_state,
	};
	for (unsigned int i = 0; i < QMP_MAX_CLIENTS; i++)
		s->cl[i].fd = -1;
	for (unsigned int i = 0; i < CONFIG_MAX_QMP; i++)
		s->lfd[i] = -1;
	for (unsigned int i = 0; i < cfg->nr_disks; i++) {
		int fd = open(cfg->disks[i].path, O_RDONLY | O_CLOEXEC);

		/* As virtio-blk sizes it: lseek sizes block devices too. */
		s->disk_size[i] = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
		if (fd >= 0)
			close(fd);
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, s->mfd)) {
		log_err("qmp: socketpair: %s", strerror(errno));
		qmp_server_close(s);
		return -errno;
	}
	for (unsigned int i = 0; i < cfg->nr_qmp; i++) {
		s->lfd[i] = usock_listen("--qmp", cfg->qmp[i].path);
		if (s->lfd[i] < 0) {
			int ret = s->lfd[i];

			qmp_server_close(s);
			return ret;
		}
	}
	*out = s;
	return 0;
}

int qmp_server_wait_clients(struct qmp_server *s, int sig_fd)
{
	for (unsigned int i = 0; i < s->cfg->nr_qmp; i++) {
		int fd, ret;

		if (!s->cfg->qmp[i].wait)
			continue;
		log_notice("waiting for a QMP client on %s",
			   s->cfg->qmp[i].path);
		ret = usock_wait_client(s->lfd[i], sig_fd, &fd);
		if (ret)
			return ret;
		add_client(s, fd, i);
	}
	return 0;
}

void qmp_server_set_console(struct qmp_server *s,
			    const struct serial_relay *console)
{
	s->console = console;
}

int qmp_server_start(struct qmp_server *s)
{
	int ret = rivet_thread_start_masked(&s->thread, server_thread, s);

	if (ret) {
		log_err("qmp: cannot start the QMP thread: %s", strerror(-ret));
		return ret;
	}
	s->running = true;
	return 0;
}

static void send_main(struct qmp_server *s, int type, int a, int b)
{
	struct mmsg m = { type, a, b };

	if (write(s->mfd[0], &m, sizeof(m)) != sizeof(m))
		log_err("qmp: cannot reach the QMP thread: %s",
			strerror(errno));
}

/* ---- snapshot files (main thread) ------------------------------------------------ */

#define STATE_TMP ".state.tmp"
#define MEMORY_TMP ".memory.tmp"

/* Make mig.dir (0700) if it is not there, and the two files (0600, new:
 * a stale one from an interrupted snapshot is removed first) under
 * temporary names, so a snapshot already in the directory stays whole
 * until the new one is. */
static void mig_open(struct qmp_server *s)
{
	struct mig *g = &s->mig;
	int sfd = -1, mfd = -1, ret = 0;

	if (g->dfd >= 0)
		close(g->dfd);
	if (mkdir(g->dir, 0700) && errno != EEXIST)
		ret = -errno;
	g->dfd = ret ? -1 : open(g->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!ret && g->dfd < 0)
		ret = -errno;
	if (!ret) {
		unlinkat(g->dfd, STATE_TMP, 0);
		unlinkat(g->dfd, MEMORY_TMP, 0);
		sfd = openat(g->dfd, STATE_TMP, O_WRONLY | O_CREAT | O_EXCL |
			     O_NOFOLLOW | O_CLOEXEC, 0600);
		mfd = sfd < 0 ? -1 : openat(g->dfd, MEMORY_TMP, O_RDWR |
					   O_CREAT | O_EXCL | O_NOFOLLOW |
					   O_CLOEXEC, 0600);
		if (sfd < 0 || mfd < 0)
			ret = -errno;
	}
	if (ret) {
		if (sfd >= 0)
			close(sfd);
		if (g->dfd >= 0) {
			unlinkat(g->dfd, STATE_TMP, 0);
			close(g->dfd);
		}
		g->dfd = -1;
		send_main(s, M_MIG_FDS, ret, -1);
		return;
	}
	send_main(s, M_MIG_FDS, sfd, mfd);
}

/* Written and synced: in place, memory first, the state (which names its
 * memory file) last, then the directory synced. */
static void mig_commit(struct qmp_server *s)
{
	struct mig *g = &s->mig;
	int ret = 0;

	if (g->dfd < 0)
		ret = -EBADF;
	else if (renameat(g->dfd, MEMORY_TMP, g->dfd, SNAP_MEMORY_FILE) ||
		 renameat(g->dfd, STATE_TMP, g->dfd, SNAP_STATE_FILE) ||
		 fsync(g->dfd))
		ret = -errno;
	if (g->dfd >= 0)
		close(g->dfd);
	g->dfd = -1;
	send_main(s, M_MIG_DONE, ret, 0);
}

static void mig_abort(struct qmp_server *s)
{
	struct mig *g = &s->mig;

	if (g->dfd < 0)
		return;
	unlinkat(g->dfd, STATE_TMP, 0);
	unlinkat(g->dfd, MEMORY_TMP, 0);
	close(g->dfd);
	g->dfd = -1;
}

/* A request of the thread's the main thread serves: true if @m was one. */
static bool main_request(struct qmp_server *s, const struct mmsg *m)
{
	switch (m->type) {
	case M_MIG_OPEN:
		mig_open(s);
		return true;
	case M_MIG_COMMIT:
		mig_commit(s);
		return true;
	case M_MIG_ABORT:
		mig_abort(s);
		return true;
	default:
		return false;
	}
}

int qmp_server_main_fd(const struct qmp_server *s)
{
	return s && s->running ? s->mfd[0] : -1;
}

void qmp_server_main_serve(struct qmp_server *s)
{
	struct mmsg m;

	if (read(s->mfd[0], &m, sizeof(m)) == sizeof(m) &&
	    !main_request(s, &m))
		log_warn("qmp: unexpected message %d from the QMP thread",
			 m.type);
}

void qmp_server_child_started(struct qmp_server *s, int ctl_fd, bool paused)
{
	send_main(s, M_STARTED, ctl_fd, paused);
}

bool qmp_server_child_exited(struct qmp_server *s, int status, int sig_fd,
			     bool *paused, int *exit_status)
{
	struct pollfd p[2] = {
		{ .fd = s->mfd[0], .events = POLLIN },
		{ .fd = sig_fd, .events = POLLIN },
	};

	*exit_status = status;
	*paused = false;
	if (!s->running)
		return false;
	send_main(s, M_EXITED, status, 0);
	for (;;) {
		struct mmsg m;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		if (p[1].revents) {
			struct signalfd_siginfo si;

			if (read(sig_fd, &si, sizeof(si)) == sizeof(si) &&
			    si.ssi_signo != SIGCHLD) {
				send_main(s, M_SIGNAL, (int)si.ssi_signo, 0);
				*exit_status = RIVET_EXIT_SIGNAL +
					       (int)si.ssi_signo;
				return false;
			}
		}
		if (p[0].revents) {
			if (read(s->mfd[0], &m, sizeof(m)) != sizeof(m))
				return false;	/* the thread is gone */
			if (main_request(s, &m) || m.type != M_DECIDE)
				continue;
			if (m.a)
				*paused = m.b;
			else
				*exit_status = m.b;
			return m.a;
		}
	}
}

void qmp_server_close(struct qmp_server *s)
{
	if (!s)
		return;
	if (s->running) {
		send_main(s, M_STOP, 0, 0);
		pthread_join(s->thread, NULL);
	}
	for (unsigned int i = 0; i < QMP_MAX_CLIENTS; i++)
		if (s->cl[i].fd >= 0)
			drop_client(s, &s->cl[i]);
	for (unsigned int i = 0; i < s->cfg->nr_qmp; i++) {
		if (s->lfd[i] < 0)
			continue;
		close(s->lfd[i]);
		unlink(s->cfg->qmp[i].path);
	}
	close_ctl(s);
	mig_abort(s);
	if (s->mfd[0] >= 0)
		close(s->mfd[0]);
	if (s->mfd[1] >= 0)
		close(s->mfd[1]);
	free(s);
}
