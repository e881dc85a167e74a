// SPDX-License-Identifier: MIT
#include "core/serial_relay.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "core/thread.h"
#include "core/usock.h"
#include "seccomp/seccomp.h"

/* While the pty has no reader (POLLHUP), look again this often instead of
 * spinning on the hang-up. */
#define PTY_RETRY_MS 200

struct serial_relay {
	const struct vm_config *cfg;
	int vm_fd;		/* the VM processes' end (blocking) */
	int my_fd;		/* the relay's end (non-blocking) */
	int lfd;		/* unix: listening socket */
	int cfd;		/* unix: the client, or -1 */
	int pty;		/* pty: master */
	bool pty_hup;		/* pty: nobody has the other side open */
	bool connected;		/* unix: atomic, cfd >= 0 (for QMP) */
	int stop_fd;		/* eventfd: the thread ends */
	char pty_name[64];
	pthread_t thread;
	bool running;
	unsigned long long dropped;	/* atomic: guest bytes dropped */
	uint8_t in[4096];	/* endpoint -> VM, not yet taken */
	size_t in_len, in_off;
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Whether the pty has nobody on its other side now.  Writes to a master
 * whose side is closed still succeed, into a buffer the next reader would
 * get as stale output: look before each write. */
static bool pty_hung_up(struct serial_relay *r)
{
	struct pollfd p = { .fd = r->pty, .events = POLLIN };
	const struct timespec zero = { 0, 0 };

	if (!r->pty_hup && ppoll(&p, 1, &zero, NULL) == 1 &&
	    (p.revents & POLLHUP))
		r->pty_hup = true;
	return r->pty_hup;
}

/* The endpoint guest output goes to now, or -1. */
static int out_fd(struct serial_relay *r)
{
	if (r->cfg->serial.kind == SERIAL_PTY)
		return pty_hung_up(r) ? -1 : r->pty;
	return r->cfd;
}

/* Guest output: whatever the endpoint takes at once; the rest is
 * dropped so the guest never waits for a reader. */
static void to_endpoint(struct serial_relay *r, const uint8_t *buf, size_t n)
{
	int fd = out_fd(r);
	size_t done = 0;

	while (fd >= 0 && done < n) {
		ssize_t w = write(fd, buf + done, n - done);

		if (w > 0) {
			done += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		break;
	}
	if (done < n)
		__atomic_add_fetch(&r->dropped, n - done, __ATOMIC_RELAXED);
}

static void client_gone(struct serial_relay *r)
{
	close_fd(&r->cfd);
	__atomic_store_n(&r->connected, false, __ATOMIC_RELAXED);
	r->in_len = r->in_off = 0;	/* its unread input goes with it */
}

/* Input from the endpoint, once the VM took the last. */
static void from_endpoint(struct serial_relay *r, int fd)
{
	ssize_t n = read(fd, r->in, sizeof(r->in));

	if (n > 0) {
		r->in_len = (size_t)n;
		r->in_off = 0;
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (fd == r->pty)
		r->pty_hup = true;	/* EIO: the other side closed */
	else
		client_gone(r);
}

static void to_vm(struct serial_relay *r)
{
	ssize_t n = write(r->my_fd, r->in + r->in_off, r->in_len - r->in_off);

	if (n > 0)
		r->in_off += (size_t)n;
	if (r->in_off >= r->in_len)
		r->in_len = r->in_off = 0;
}

static void accept_client(struct serial_relay *r)
{
	r->cfd = accept4(r->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	__atomic_store_n(&r->connected, r->cfd >= 0, __ATOMIC_RELAXED);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void relay(struct serial_relay *r)
{
	bool unix_sock = r->cfg->serial.kind == SERIAL_UNIX;
	long long look_again = 0;	/* pty hung up: when to look again */
	uint8_t buf[4096];

	for (;;) {
		bool pending = r->in_len > r->in_off;
		struct pollfd p[3] = {
			{ .fd = r->stop_fd, .events = POLLIN },
			{ .fd = r->my_fd,
			  .events = (short)(POLLIN | (pending ? POLLOUT : 0)) },
			{ .fd = -1 },
		};
		struct timespec ts = { 0, 0 };
		bool retry = false;

		if (unix_sock) {
			p[2].fd = r->cfd >= 0 ? r->cfd : r->lfd;
			/* Input waits while the VM has not taken the last. */
			p[2].events = r->cfd >= 0 && pending ? 0 : POLLIN;
		} else if (!r->pty_hup) {
			p[2].fd = r->pty;
			p[2].events = pending ? 0 : POLLIN;
		} else {
			long long left;

			if (!look_again)
				look_again = now_ms() + PTY_RETRY_MS;
			left = look_again - now_ms();
			if (left <= 0) {
				/* Look again: poll the master once more. */
				look_again = 0;
				r->pty_hup = false;
				continue;
			}
			ts.tv_nsec = left * 1000000L;
			retry = true;
		}
		if (ppoll(p, 3, retry ? &ts : NULL, NULL) < 0) {
			if (errno == EINTR)
				continue;
			log_err("serial: poll: %s", strerror(errno));
			return;
		}
		if (p[0].revents)
			return;
		if (p[1].revents & POLLOUT)
			to_vm(r);
		if (p[1].revents & POLLIN) {
			ssize_t n = read(r->my_fd, buf, sizeof(buf));

			if (n > 0)
				to_endpoint(r, buf, (size_t)n);
		}
		if (!p[2].revents)
			continue;
		if (unix_sock && r->cfd < 0) {
			accept_client(r);
		} else if (p[2].revents & POLLIN) {
			from_endpoint(r, p[2].fd);
		} else if (p[2].revents & (POLLHUP | POLLERR)) {
			if (unix_sock)
				client_gone(r);
			else
				r->pty_hup = true;
		}
	}
}

static void *relay_thread(void *arg)
{
	struct serial_relay *r = arg;

	if (r->cfg->seccomp &&
	    rivet_seccomp_install(RIVET_SECCOMP_CONSOLE, NULL)) {
		log_err("serial: cannot confine the console thread; no "
			"console");
		return NULL;
	}
	relay(r);
	return NULL;
}

/* A new pseudo-terminal in raw mode: the guest does its own echo and line
 * discipline, as on rivet's own terminal. */
static int open_pty(struct serial_relay *r)
{
	struct termios t;

	r->pty = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (r->pty < 0 || grantpt(r->pty) || unlockpt(r->pty) ||
	    ptsname_r(r->pty, r->pty_name, sizeof(r->pty_name)) ||
	    tcgetattr(r->pty, &t)) {
		int err = errno ? errno : EIO;

		log_err("--serial pty: cannot make a pseudo-terminal: %s",
			strerror(err));
		return -err;
	}
	cfmakeraw(&t);
	if (tcsetattr(r->pty, TCSANOW, &t)) {
		log_err("--serial pty: %s: %s", r->pty_name, strerror(errno));
		return -errno;
	}
	log_notice("serial: the guest console is on %s", r->pty_name);
	return 0;
}

int serial_relay_open(const struct vm_config *cfg, struct serial_relay **out)
{
	struct serial_relay *r;
	int sv[2], ret;

	*out = NULL;
	if (cfg->serial.kind != SERIAL_PTY && cfg->serial.kind != SERIAL_UNIX)
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->cfg = cfg;
	r->vm_fd = r->my_fd = r->lfd = r->cfd = r->pty = -1;
	r->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->stop_fd < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		ret = -errno;
		log_err("serial: %s", strerror(errno));
		goto fail;
	}
	r->vm_fd = sv[0];
	r->my_fd = sv[1];
	if (fcntl(r->my_fd, F_SETFL, O_NONBLOCK)) {
		ret = -errno;
		goto fail;
	}
	if (cfg->serial.kind == SERIAL_PTY) {
		ret = open_pty(r);
	} else {
		r->lfd = usock_listen("--serial", cfg->serial.path);
		ret = r->lfd < 0 ? r->lfd : 0;
	}
	if (ret)
		goto fail;
	*out = r;
	return 0;
fail:
	serial_relay_close(r);
	return ret;
}

int serial_relay_wait_client(struct serial_relay *r, int sig_fd)
{
	if (!r || r->lfd < 0 || !r->cfg->serial.wait)
		return 0;
	int ret;

	log_notice("waiting for a console client on %s", r->cfg->serial.path);
	ret = usock_wait_client(r->lfd, sig_fd, &r->cfd);
	__atomic_store_n(&r->connected, r->cfd >= 0, __ATOMIC_RELAXED);
	return ret;
}

int serial_relay_start(struct serial_relay *r)
{
	int ret = rivet_thread_start_masked(&r->thread, relay_thread, r);

	if (ret) {
		log_err("serial: cannot start the console thread: %s",
			strerror(-ret));
		return ret;
	}
	r->running = true;
	return 0;
}

int serial_relay_vm_fd(const struct serial_relay *r)
{
	return r ? r->vm_fd : -1;
}

const char *serial_relay_pty_name(const struct serial_relay *r)
{
	return r && r->pty >= 0 ? r->pty_name : NULL;
}

bool serial_relay_connected(const struct serial_relay *r)
{
	return r && __atomic_load_n(&r->connected, __ATOMIC_RELAXED);
}

unsigned long long serial_relay_dropped(const struct serial_relay *r)
{
	return r ? __atomic_load_n(&r->dropped, __ATOMIC_RELAXED) : 0;
}

void serial_relay_close(struct serial_relay *r)
{
	uint64_t one = 1;

	if (!r)
		return;
	if (r->running) {
		if (write(r->stop_fd, &one, sizeof(one)) != sizeof(one))
			log_err("serial: cannot stop the console thread");
		else
			pthread_join(r->thread, NULL);
	}
	close_fd(&r->cfd);
	if (r->lfd >= 0) {
		close_fd(&r->lfd);
		unlink(r->cfg->serial.path);
	}
	close_fd(&r->pty);
	close_fd(&r->vm_fd);
	close_fd(&r->my_fd);
	close_fd(&r->stop_fd);
	free(r);
}
