/* SPDX-License-Identifier: MIT */
/* Threads that serve device work off the vCPU threads.
 *
 * An iothread waits on its kick eventfd (written by a vCPU's notify
 * handler, or by KVM itself when the fd is registered as an ioeventfd) and
 * runs its serve function after every kick.  An iopool is a few threads
 * that run submitted jobs in parallel, so one queue can keep several host
 * requests in flight.  Both run a confinement step (the I/O thread's
 * seccomp filter) before anything else, and report its failure to the
 * starter, so a thread never serves a guest unconfined. */
#ifndef RIVET_IOTHREAD_H
#define RIVET_IOTHREAD_H

#include <stdbool.h>

/* What a new I/O thread runs first; 0 or -errno (the start fails). */
struct io_confine {
	int (*fn)(void *ctx);
	void *ctx;
};

struct iothread;

/* Start a thread named @name (at most 15 characters) that calls
 * @serve(@ctx) once per wake-up after one or more kicks.  @conf may be
 * NULL (no confinement: unit tests, --no-seccomp).  0 or -errno. */
int iothread_start(struct iothread **out, const char *name,
		   void (*serve)(void *ctx), void *ctx,
		   const struct io_confine *conf);
/* Another descriptor an I/O thread waits on (a TAP): before each wait the
 * thread asks @events(ctx) which poll events it wants now (0: none), and
 * runs serve when any of them happens, as after a kick. */
struct io_watch {
	int fd;
	short (*events)(void *ctx);
};

/* iothread_start() with a watched descriptor (@watch NULL: none). */
int iothread_start_watch(struct iothread **out, const char *name,
			 void (*serve)(void *ctx), void *ctx,
			 const struct io_confine *conf,
			 const struct io_watch *watch);
/* The eventfd a write to which kicks the thread (an ioeventfd target). */
int iothread_kick_fd(const struct iothread *t);
/* Kick from any thread; never blocks. */
void iothread_kick(struct iothread *t);
/* Wait until whatever was signalled on the thread's kick eventfd before
 * the call has been served (or was taken by a KVM irqfd on the same
 * eventfd); the kick eventfd itself is not signalled.  Never from the
 * thread itself, nor holding a lock its serve function takes. */
void iothread_sync(struct iothread *t);
/* Stop, join and free (NULL: nothing); the serve function has returned
 * for good afterwards. */
void iothread_stop(struct iothread *t);

/* A job for an iopool, embedded in the caller's request. */
struct iojob {
	void (*fn)(struct iojob *job);
	struct iojob *next;
};

struct iopool;

/* @nthreads (1..16) threads named @name.  0 or -errno. */
int iopool_start(struct iopool **out, const char *name, unsigned int nthreads,
		 const struct io_confine *conf);
/* Run @job->fn(@job) on one of the pool's threads, in submission order of
 * start.  Never blocks. */
void iopool_submit(struct iopool *p, struct iojob *job);
/* Run the jobs already submitted, then stop, join and free (NULL: nothing). */
void iopool_stop(struct iopool *p);

#endif
