// SPDX-License-Identifier: MIT
#include "core/iothread.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"

/* Enough for the deepest path (a 256-segment iovec, a log line); small so
 * many queues cost little address space. */
#define IO_STACK (256 * 1024)
#define POOL_MAX 16

/* The starter waits until the new thread confined itself (or failed to). */
struct handshake {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	int err;
	const char *name;
	const struct io_confine *conf;
};

static void handshake_init(struct handshake *h, const char *name,
			   const struct io_confine *conf)
{
	memset(h, 0, sizeof(*h));
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->cond, NULL);
	h->name = name;
	h->conf = conf;
}

/* On the new thread: name it, block the signals other threads serve,
 * confine it and tell the starter.  0 or the confinement's -errno. */
static int thread_begin(struct handshake *h)
{
	sigset_t all;
	int err = 0;

	pthread_setname_np(pthread_self(), h->name);
	sigfillset(&all);
	sigdelset(&all, SIGSYS);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	if (h->conf && h->conf->fn)
		err = h->conf->fn(h->conf->ctx);
	pthread_mutex_lock(&h->lock);
	h->err = err;
	h->done = true;
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->lock);
	return err;	/* @h is gone once the lock is released */
}

/* Create a thread running @fn(@arg) whose first act is thread_begin(@h);
 * wait for it.  0 or -errno (the thread is joined on failure). */
static int thread_create(pthread_t *tid, void *(*fn)(void *), void *arg,
			 struct handshake *h)
{
	pthread_attr_t attr;
	int err;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, IO_STACK);
	err = -pthread_create(tid, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	if (err)
		return err;
	pthread_mutex_lock(&h->lock);
	while (!h->done)
		pthread_cond_wait(&h->cond, &h->lock);
	err = h->err;
	pthread_mutex_unlock(&h->lock);
	if (err)
		pthread_join(*tid, NULL);
	return err;
}

/* ---- iothread ----------------------------------------------------------- */

struct iothread {
	pthread_t tid;
	int kick_fd;
	int stop_fd;
	/* iothread_sync()'s own wake-up: the kick eventfd may also be a KVM
	 * irqfd (vhost-net's call eventfd), which takes a kick before the
	 * thread can see it. */
	int sync_fd;
	void (*serve)(void *ctx);
	void *ctx;
	struct io_watch watch;	/* fd -1: none */
	struct handshake *hs;	/* during start only */
	/* iothread_sync(): requests made, and the last one the thread had
	 * seen before it read the kick eventfd and then served (atomic; set
	 * under sync_lock, so a waiter cannot miss the broadcast). */
	pthread_mutex_t sync_lock;
	pthread_cond_t sync_cond;
	uint64_t sync_req, sync_done;
};

static void *iothread_main(void *arg)
{
	struct iothread *t = arg;

	if (thread_begin(t->hs))
		return NULL;
	for (;;) {
		struct pollfd p[4] = {
			{ .fd = t->kick_fd, .events = POLLIN },
			{ .fd = t->stop_fd, .events = POLLIN },
			{ .fd = t->sync_fd, .events = POLLIN },
			{ .fd = -1 },
		};
		bool kicked = false, synced = false;
		uint64_t v, req = 0;

		if (t->watch.fd >= 0) {
			p[3].events = t->watch.events(t->ctx);
			p[3].fd = p[3].events ? t->watch.fd : -1;
		}
		/* ppoll, not poll: the one riscv64 has, on x86_64 too. */
		if (ppoll(p, 4, NULL, NULL) < 0) {
			if (errno == EINTR)
				continue;
			log_err("I/O thread: poll: %s", strerror(errno));
			return NULL;
		}
		if (p[1].revents)
			return NULL;
		/* A sync request: the requests published so far, loaded
		 * before the kick eventfd is read, so whatever was signalled
		 * before any of them is served by the call below (or was
		 * taken by KVM's irqfd).  No lock unless one waits. */
		if (p[2].revents && read(t->sync_fd, &v, sizeof(v)) > 0) {
			synced = true;
			req = __atomic_load_n(&t->sync_req, __ATOMIC_ACQUIRE);
		}
		if ((p[0].revents || synced) &&
		    read(t->kick_fd, &v, sizeof(v)) > 0)
			kicked = true;
		if (kicked || p[3].revents)
			t->serve(t->ctx);
		if (synced) {
			pthread_mutex_lock(&t->sync_lock);
			__atomic_store_n(&t->sync_done, req, __ATOMIC_RELEASE);
			pthread_cond_broadcast(&t->sync_cond);
			pthread_mutex_unlock(&t->sync_lock);
		}
	}
}

int iothread_start(struct iothread **out, const char *name,
		   void (*serve)(void *ctx), void *ctx,
		   const struct io_confine *conf)
{
	return iothread_start_watch(out, name, serve, ctx, conf, NULL);
}

int iothread_start_watch(struct iothread **out, const char *name,
			 void (*serve)(void *ctx), void *ctx,
			 const struct io_confine *conf,
			 const struct io_watch *watch)
{
	struct iothread *t = calloc(1, sizeof(*t));
	struct handshake hs;
	int err = -ENOMEM;

	if (!t)
		return err;
	t->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	t->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	t->sync_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (t->kick_fd < 0 || t->stop_fd < 0 || t->sync_fd < 0) {
		err = -errno;
		goto fail;
	}
	t->serve = serve;
	t->ctx = ctx;
	t->watch.fd = -1;
	pthread_mutex_init(&t->sync_lock, NULL);
	pthread_cond_init(&t->sync_cond, NULL);
	if (watch && watch->fd >= 0 && watch->events)
		t->watch = *watch;
	handshake_init(&hs, name, conf);
	t->hs = &hs;
	err = thread_create(&t->tid, iothread_main, t, &hs);
	t->hs = NULL;
	if (!err) {
		*out = t;
		return 0;
	}
fail:
	log_err("cannot start I/O thread %s: %s", name, strerror(-err));
	if (t->kick_fd >= 0)
		close(t->kick_fd);
	if (t->stop_fd >= 0)
		close(t->stop_fd);
	if (t->sync_fd >= 0)
		close(t->sync_fd);
	free(t);
	return err;
}

int iothread_kick_fd(const struct iothread *t)
{
	return t->kick_fd;
}

static void eventfd_poke(int fd)
{
	uint64_t one = 1;

	/* EAGAIN only when the counter is saturated: a kick is pending. */
	if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_err("I/O thread kick: %s", strerror(errno));
}

void iothread_kick(struct iothread *t)
{
	eventfd_poke(t->kick_fd);
}

void iothread_sync(struct iothread *t)
{
	uint64_t req;

	if (!t)
		return;
	/* Published before the poke, which the thread reads before it
	 * loads sync_req. */
	req = __atomic_add_fetch(&t->sync_req, 1, __ATOMIC_RELEASE);
	eventfd_poke(t->sync_fd);
	pthread_mutex_lock(&t->sync_lock);
	while (__atomic_load_n(&t->sync_done, __ATOMIC_ACQUIRE) < req)
		pthread_cond_wait(&t->sync_cond, &t->sync_lock);
	pthread_mutex_unlock(&t->sync_lock);
}

void iothread_stop(struct iothread *t)
{
	if (!t)
		return;
	eventfd_poke(t->stop_fd);
	pthread_join(t->tid, NULL);
	close(t->kick_fd);
	close(t->stop_fd);
	close(t->sync_fd);
	free(t);
}

/* ---- iopool ------------------------------------------------------------- */

struct iopool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct iojob *head, *tail;	/* FIFO of submitted jobs */
	bool stopping;
	unsigned int nr;
	pthread_t tids[POOL_MAX];
	struct handshake *hs;		/* during start only */
};

static void *pool_main(void *arg)
{
	struct iopool *p = arg;

	if (thread_begin(p->hs))
		return NULL;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct iojob *job = p->head;

		if (!job) {
			if (p->stopping)
				break;
			pthread_cond_wait(&p->cond, &p->lock);
			continue;
		}
		p->head = job->next;
		if (!p->head)
			p->tail = NULL;
		pthread_mutex_unlock(&p->lock);
		job->fn(job);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int iopool_start(struct iopool **out, const char *name, unsigned int nthreads,
		 const struct io_confine *conf)
{
	struct iopool *p;
	int err = 0;

	if (nthreads < 1 || nthreads > POOL_MAX)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	for (; p->nr < nthreads; p->nr++) {
		struct handshake hs;

		handshake_init(&hs, name, conf);
		p->hs = &hs;
		err = thread_create(&p->tids[p->nr], pool_main, p, &hs);
		p->hs = NULL;
		if (err)
			break;
	}
	if (err) {
		log_err("cannot start I/O pool %s: %s", name, strerror(-err));
		iopool_stop(p);
		return err;
	}
	*out = p;
	return 0;
}

void iopool_submit(struct iopool *p, struct iojob *job)
{
	job->next = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->tail)
		p->tail->next = job;
	else
		p->head = job;
	p->tail = job;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

void iopool_stop(struct iopool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (unsigned int i = 0; i < p->nr; i++)
		pthread_join(p->tids[i], NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p);
}
