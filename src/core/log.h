/* SPDX-License-Identifier: MIT */
/* One logging facility for the whole VMM: messages go to stderr with a
 * level prefix.  Anything a guest can trigger must use log_guest(), which is
 * rate-limited per call site so a hostile guest cannot flood the host log. */
#ifndef RIVET_LOG_H
#define RIVET_LOG_H

#include <stdint.h>

/* LOG_NOTICE: what a user should see once without asking (e.g. the
 * interrupt controller `--irqchip auto` chose); shown by default. */
enum log_level { LOG_ERR, LOG_WARN, LOG_NOTICE, LOG_INFO, LOG_DEBUG };

struct log_ratelimit {
	uint64_t window_start_ms;
	unsigned int emitted;
	unsigned int suppressed;
};

/* Messages at or below this level are printed (default LOG_NOTICE). */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

void rivet_log(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void rivet_log_rl(struct log_ratelimit *rl, enum log_level level,
		  const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Number of messages written so far (all levels); tests use it to prove a
 * hostile access was noticed. */
unsigned long log_count(void);
/* Guest-triggered messages dropped by the rate limit so far. */
unsigned long log_suppressed(void);

#define log_err(...) rivet_log(LOG_ERR, __VA_ARGS__)
#define log_warn(...) rivet_log(LOG_WARN, __VA_ARGS__)
#define log_notice(...) rivet_log(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) rivet_log(LOG_INFO, __VA_ARGS__)
#define log_debug(...) rivet_log(LOG_DEBUG, __VA_ARGS__)

/* Guest-triggerable warning: at most LOG_RL_BURST lines per second per call
 * site and 50 per second in all, then a count of what was suppressed. */
#define LOG_RL_BURST 10
#define log_guest(...)                                                      \
	do {                                                                \
		static struct log_ratelimit rl_;                            \
		rivet_log_rl(&rl_, LOG_WARN, __VA_ARGS__);                  \
	} while (0)

#endif
