// SPDX-License-Identifier: MIT
#include "core/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static enum log_level cur_level = LOG_NOTICE;
static unsigned long nr_messages;
static unsigned long nr_suppressed;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {
	[LOG_ERR] = "error", [LOG_WARN] = "warning", [LOG_NOTICE] = "note",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

void log_set_level(enum log_level level)
{
	cur_level = level;
}

enum log_level log_get_level(void)
{
	return cur_level;
}

unsigned long log_count(void)
{
	unsigned long n;

	pthread_mutex_lock(&log_lock);
	n = nr_messages;
	pthread_mutex_unlock(&log_lock);
	return n;
}

unsigned long log_suppressed(void)
{
	unsigned long n;

	pthread_mutex_lock(&log_lock);
	n = nr_suppressed;
	pthread_mutex_unlock(&log_lock);
	return n;
}

/* All guest-triggered lines together, per second: many call sites at 10
 * lines each could still flood a slow console and stall the vCPUs that
 * write them. */
#define LOG_RL_GLOBAL 50
static uint64_t global_window_ms;
static unsigned int global_emitted;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Caller holds log_lock. */
static void emit(enum log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void emit(enum log_level level, const char *fmt, va_list ap)
{
	nr_messages++;
	if (level > cur_level)
		return;
	fprintf(stderr, "rivet: %s: ", level_names[level]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void rivet_log(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pthread_mutex_lock(&log_lock);
	emit(level, fmt, ap);
	pthread_mutex_unlock(&log_lock);
	va_end(ap);
}

void rivet_log_rl(struct log_ratelimit *rl, enum log_level level,
		  const char *fmt, ...)
{
	uint64_t now = now_ms();
	va_list ap;

	pthread_mutex_lock(&log_lock);
	if (now - global_window_ms >= 1000) {
		global_window_ms = now;
		global_emitted = 0;
	}
	if (now - rl->window_start_ms >= 1000) {
		if (rl->suppressed && level <= cur_level)
			fprintf(stderr, "rivet: %s: %u similar messages suppressed\n",
				level_names[level], rl->suppressed);
		rl->window_start_ms = now;
		rl->emitted = 0;
		rl->suppressed = 0;
	}
	if (rl->emitted < LOG_RL_BURST && global_emitted < LOG_RL_GLOBAL) {
		rl->emitted++;
		global_emitted++;
		va_start(ap, fmt);
		emit(level, fmt, ap);
		va_end(ap);
	} else {
		rl->suppressed++;
		nr_suppressed++;
		nr_messages++;
	}
	pthread_mutex_unlock(&log_lock);
}
