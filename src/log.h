/*
 * log.h - msgd's logging API, after OpenBSD's ldapd/relayd log.h.
 *
 * Before log_open() everything goes to stderr as "msgd: message", the way
 * GNU programs report usage errors.  After it, messages go to the chosen
 * destination: stderr or a file (one timestamped line each) or syslog.
 * Until msgd is serving, a console is attached (the terminal, or the pipe
 * a daemonizing parent waits on) and warnings and errors are copied there
 * too, as plain "msgd: reason" lines, so a start-up failure is always seen
 * by whoever started msgd.
 *
 * Warnings and information are limited per call site: 5 lines in 10 s,
 * then one line counting the rest (log.c says how; log_limit_start sets
 * the timer that writes the counts on time).  Debug and trace lines and
 * fatal errors are never held back.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#ifndef MSGD_LOG_H
#define MSGD_LOG_H

#include <stdarg.h>

struct event_base;

enum log_dest {
	LOG_TO_STDERR,
	LOG_TO_SYSLOG,
	LOG_TO_FILE
};

/* Verbosity: -q gives LOG_V_QUIET, -v and -vv raise it. */
#define LOG_V_QUIET	0	/* warnings and errors only */
#define LOG_V_INFO	1	/* + start, stop, limits (the default) */
#define LOG_V_DEBUG	2	/* + configuration detail (-v) */
#define LOG_V_TRACE	3	/* + one line per connection event (-vv) */

int	 log_open(enum log_dest, const char *, int);
int	 log_reopen(void);
void	 log_close(void);
void	 log_setverbose(int);
void	 log_set_console(int);
void	 log_libevent(void);
void	 log_limit_start(struct event_base *);
void	 log_limit_stop(void);

void	 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_trace(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 fatal(int, const char *, ...)
	    __attribute__((format(printf, 2, 3), noreturn));
void	 fatalx(int, const char *, ...)
	    __attribute__((format(printf, 2, 3), noreturn));

/* Called by fatal() just before exit; daemon.c reports the status. */
void	 log_set_exit_hook(void (*)(int));

#endif /* MSGD_LOG_H */
