/*
 * log.c - where msgd's messages go: stderr, a file or syslog.
 *
 * One formatter for every destination.  libevent's own warnings are routed
 * here too (log_libevent), so nothing bypasses the chosen destination.
 * syslog(3) drops messages without a word when nothing listens on
 * /dev/log (a container, a chroot), so log_open checks and says so while
 * the terminal still sees it.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"

static enum log_dest	 log_dest = LOG_TO_STDERR;
static int		 log_opened;
static char		*log_path;
static FILE		*log_file;
static int		 log_verbose = LOG_V_INFO;
static int		 log_console_fd = STDERR_FILENO;
static void		(*log_exit_hook)(int);

static int	log_syslog_reachable(void);
static void	log_vwrite(int, const char *, va_list, int)
		    __attribute__((format(printf, 2, 0)));
static void	log_event_cb(int, const char *);

/*
 * Whether anything takes syslog messages: connect to _PATH_LOG as glibc's
 * syslog(3) does, a datagram socket first, a stream socket if that is the
 * wrong type.  Under systemd, journald listens there.  Returns 1, or 0 with
 * errno set.
 */
static int
log_syslog_reachable(void)
{
	static const int	 types[] = { SOCK_DGRAM, SOCK_STREAM };
	struct sockaddr_un	 sun;
	size_t			 i;
	int			 fd, rc, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", _PATH_LOG);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if ((fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0)) == -1)
			return (0);
		rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
		saved = errno;
		close(fd);
		if (rc == 0)
			return (1);
		if (saved != EPROTOTYPE)
			break;
	}
	errno = saved;
	return (0);
}

/*
 * Open the destination.  For LOG_TO_FILE the path is kept so SIGHUP can
 * reopen it after rotation.  Returns -1 with errno set if the file cannot be
 * opened.  For syslog with nobody listening, warn (on the console too).
 */
int
log_open(enum log_dest dest, const char *path, int verbose)
{
	log_verbose = verbose;
	log_dest = dest;
	switch (dest) {
	case LOG_TO_SYSLOG:
		openlog("msgd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		break;
	case LOG_TO_FILE:
		free(log_path);
		if ((log_path = strdup(path)) == NULL)
			return (-1);
		if (log_reopen() == -1)
			return (-1);
		break;
	case LOG_TO_STDERR:
		break;
	}
	log_opened = 1;
	if (dest == LOG_TO_SYSLOG && !log_syslog_reachable())
		log_warnx("cannot reach syslog at %s (%s): the log is lost "
		    "until a syslog daemon listens there; use -L FILE to keep "
		    "it", _PATH_LOG, strerror(errno));
	return (0);
}

/* Reopen the log file (after logrotate moved it); a no-op otherwise. */
int
log_reopen(void)
{
	FILE	*f;
	int	 fd;

	if (log_dest != LOG_TO_FILE)
		return (0);
	fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd == -1)
		return (-1);
	if ((f = fdopen(fd, "a")) == NULL) {
		close(fd);
		return (-1);
	}
	setvbuf(f, NULL, _IOLBF, 0);
	if (log_file != NULL)
		fclose(log_file);
	log_file = f;
	return (0);
}

void
log_close(void)
{
	if (log_file != NULL)
		fclose(log_file);
	log_file = NULL;
	if (log_dest == LOG_TO_SYSLOG)
		closelog();
	free(log_path);
	log_path = NULL;
	log_opened = 0;
	log_dest = LOG_TO_STDERR;
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

int
log_getverbose(void)
{
	return (log_verbose);
}

/* Where errors are copied while somebody waits for start-up; -1 for none. */
void
log_set_console(int fd)
{
	log_console_fd = fd;
}

int
log_console(void)
{
	return (log_console_fd);
}

void
log_set_exit_hook(void (*hook)(int))
{
	log_exit_hook = hook;
}

static void
log_event_cb(int severity, const char *msg)
{
	if (severity >= EVENT_LOG_WARN)
		log_warnx("libevent: %s", msg);
	else
		log_trace("libevent: %s", msg);
}

/* Route libevent's own messages through this module. */
void
log_libevent(void)
{
	event_set_log_callback(log_event_cb);
}

static void
log_stamp(char *buf, size_t len)
{
	struct timeval	 tv;
	struct tm	 tm;
	size_t		 n;

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03ld", (long)tv.tv_usec / 1000);
}

/*
 * Format once, then write to the destination and, for errors, to the
 * console if the destination is not already the console.
 */
static void
log_vwrite(int pri, const char *fmt, va_list ap, int with_errno)
{
	char	 msg[1024], stamp[64];
	int	 saved = errno;
	size_t	 n;
	FILE	*f;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno) {
		n = strlen(msg);
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(saved));
	}

	if (!log_opened) {
		dprintf(STDERR_FILENO, "msgd: %s\n", msg);
		errno = saved;
		return;
	}
	if (log_dest == LOG_TO_SYSLOG)
		syslog(pri, "%s", msg);
	else if (pri <= LOG_ERR && log_dest == LOG_TO_STDERR &&
	    log_console_fd == STDERR_FILENO) {
		/* A fatal error on the terminal reads like any program's. */
		dprintf(STDERR_FILENO, "msgd: %s\n", msg);
	} else {
		f = log_dest == LOG_TO_FILE ? log_file : stderr;
		log_stamp(stamp, sizeof(stamp));
		if (f != NULL)
			fprintf(f, "%s msgd[%ld]: %s\n", stamp, (long)getpid(),
			    msg);
	}
	if (pri <= LOG_WARNING && log_console_fd != -1 &&
	    !(log_dest == LOG_TO_STDERR && log_console_fd == STDERR_FILENO))
		dprintf(log_console_fd, "msgd: %s\n", msg);
	errno = saved;
}

#define LOG_BODY(pri, level, with_errno) do {				\
	va_list ap;							\
	if (log_verbose < (level))					\
		return;							\
	va_start(ap, fmt);						\
	log_vwrite((pri), fmt, ap, (with_errno));			\
	va_end(ap);							\
} while (0)

void
log_warn(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, LOG_V_QUIET, 1);
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, LOG_V_QUIET, 0);
}

void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_INFO, LOG_V_INFO, 0);
}

void
log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_DEBUG, LOG_V_DEBUG, 0);
}

void
log_trace(const char *fmt, ...)
{
	LOG_BODY(LOG_DEBUG, LOG_V_TRACE, 0);
}

static void __attribute__((noreturn))
log_exit(int status)
{
	if (log_exit_hook != NULL)
		log_exit_hook(status);
	exit(status);
}

/* Log with strerror(errno) appended and exit with a sysexits(3) status. */
void
fatal(int status, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, fmt, ap, 1);
	va_end(ap);
	log_exit(status);
}

void
fatalx(int status, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, fmt, ap, 0);
	va_end(ap);
	log_exit(status);
}
