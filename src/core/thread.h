/* SPDX-License-Identifier: MIT */
/* Threads of the monitor (QMP, console relay) that must never take a
 * signal: the monitor's main thread reads them all from its signalfd. */
#ifndef RIVET_THREAD_H
#define RIVET_THREAD_H

#include <pthread.h>
#include <signal.h>

/* pthread_create with every signal blocked in the new thread; 0 or
 * -errno. */
static inline int rivet_thread_start_masked(pthread_t *t,
					    void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int ret;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	ret = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -ret;
}

#endif
