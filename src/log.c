/*
 * log.c - where msgd's messages go: stderr, a file or syslog.
 *
 * One formatter for every destination.  libevent's own warnings are routed
 * here too (log_libevent), so nothing bypasses the chosen destination.
 * syslog(3) drops messages without a word when nothing listens on
 * /dev/log (a container, a chroot), so log_open checks and says so while
 * the terminal still sees it.
 *
 * Every worker thread logs, and SIGHUP reopens the file while they do.
 * So there is no stdio and no lock here: a line is formatted on the
 * caller's stack and leaves in one write(2) on a descriptor that never
 * changes.  SIGHUP opens the new file and dup2()s it over that descriptor,
 * which the kernel does atomically: a write in flight lands whole in the
 * old file or the new one, and nothing a thread holds is ever freed (a
 * FILE closed under a writer crashed, and a writer waiting on its lock
 * waited forever).  The file is opened O_APPEND, so lines written at once
 * by several threads go in whole, one after another.  A lock or
 * line-buffered stdio would serialize every worker on the log; a write per
 * line costs the system call that a line-buffered FILE made anyway.
 *
 * No worker may wait on the log forever.  A regular file does not block
 * for long; a pipe, terminal or socket does block while its reader is
 * stopped.  Those are written without blocking (an open file description
 * of our own with O_NONBLOCK, or send(MSG_DONTWAIT)): a full one is given
 * LOG_WAIT_MS, then lines are dropped, without waiting, until it takes
 * one again, and how many were lost is said then.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"

/* How long a full pipe, terminal or socket may hold up a line. */
#define LOG_WAIT_MS	1000

/* The longest message; longer ones are cut. */
#define LOG_MSG_MAX	1024

/* Set before the workers start, or read and written atomically. */
static enum log_dest	 log_dest = LOG_TO_STDERR;
static int		 log_opened;
static char		*log_path;
static int		 log_fd = -1;		/* the file, or stderr */
static int		 log_fd_socket;		/* log_fd: use send(2) */
static int		 log_verbose = LOG_V_INFO;	/* atomic */
static int		 log_console_fd = STDERR_FILENO; /* atomic */
static int		 log_stalled;		/* atomic: dropping lines */
static unsigned long	 log_lost;		/* atomic: lines dropped */
static void		(*log_exit_hook)(int);	/* atomic */

static int	log_syslog_reachable(void);
static void	log_stderr(void);
static int	log_put(int, int, const char *, size_t);
static void	log_line(int, int, const char *, const char *);
static void	log_plain(int, int, const char *);
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
 * stderr as the destination.  A regular file is written as it is; a
 * socket with send(MSG_DONTWAIT); anything else (a pipe, a terminal)
 * through an open file description of msgd's own, made non-blocking, so
 * that the one shared with whoever started msgd keeps its flags.  Without
 * /proc, stderr as it is.
 */
static void
log_stderr(void)
{
	struct stat	sb;
	int		fd;

	log_fd = STDERR_FILENO;
	log_fd_socket = 0;
	if (fstat(STDERR_FILENO, &sb) == -1 || S_ISREG(sb.st_mode))
		return;
	if (S_ISSOCK(sb.st_mode)) {
		log_fd_socket = 1;
		return;
	}
	fd = open("/proc/self/fd/2", O_WRONLY | O_APPEND | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC);
	if (fd != -1)
		log_fd = fd;
}

/*
 * Open the destination.  For LOG_TO_FILE the path is kept so SIGHUP can
 * reopen it after rotation.  Returns -1 with errno set if the file cannot be
 * opened.  For syslog with nobody listening, warn (on the console too).
 */
int
log_open(enum log_dest dest, const char *path, int verbose)
{
	log_setverbose(verbose);
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
		log_stderr();
		break;
	}
	log_opened = 1;
	if (dest == LOG_TO_SYSLOG && !log_syslog_reachable())
		log_warnx("cannot reach syslog at %s (%s): the log is lost "
		    "until a syslog daemon listens there; use -L FILE to keep "
		    "it", _PATH_LOG, strerror(errno));
	return (0);
}

/*
 * Reopen the log file (after logrotate moved it); a no-op otherwise.  The
 * new file takes the place of the old one on the same descriptor, in one
 * dup2(2), while other threads may be writing to it (see the top).
 */
int
log_reopen(void)
{
	int	fd, saved;

	if (log_dest != LOG_TO_FILE)
		return (0);
	fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd == -1)
		return (-1);
	if (log_fd == -1) {
		log_fd = fd;
		return (0);
	}
	if (dup2(fd, log_fd) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return (-1);
	}
	close(fd);
	/* dup2 clears close-on-exec on the copy. */
	fcntl(log_fd, F_SETFD, FD_CLOEXEC);
	return (0);
}

/* After the workers are gone: no other thread uses the log now. */
void
log_close(void)
{
	if (log_fd != -1 && log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = -1;
	log_fd_socket = 0;
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
	__atomic_store_n(&log_verbose, v, __ATOMIC_RELAXED);
}

/*
 * Where warnings are copied while somebody waits for start-up; -1 for
 * none.  Workers may be logging when it changes: they see the old
 * descriptor or the new, so the old one must stay open a while (daemon.c).
 */
void
log_set_console(int fd)
{
	__atomic_store_n(&log_console_fd, fd, __ATOMIC_RELAXED);
}

void
log_set_exit_hook(void (*hook)(int))
{
	__atomic_store_n(&log_exit_hook, hook, __ATOMIC_RELAXED);
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
 * Write one line whole, in one write(2) unless the descriptor takes less.
 * Returns 0, or -1 if the line was dropped: an error, or a descriptor that
 * stayed full for LOG_WAIT_MS (and then every line until one goes through
 * without waiting).
 */
static int
log_put(int fd, int sock, const char *buf, size_t len)
{
	struct pollfd	pfd;
	ssize_t		n;

	while (len > 0) {
		if (sock)
			n = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		else
			n = write(fd, buf, len);
		if (n >= 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if ((errno != EAGAIN && errno != EWOULDBLOCK) ||
		    __atomic_load_n(&log_stalled, __ATOMIC_RELAXED))
			return (-1);
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if ((n = poll(&pfd, 1, LOG_WAIT_MS)) == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			__atomic_store_n(&log_stalled, 1, __ATOMIC_RELAXED);
			return (-1);
		}
	}
	return (0);
}

/*
 * One timestamped line to the file or stderr.  After lines were dropped,
 * the first one that goes through is followed by how many.
 */
static void
log_line(int fd, int sock, const char *stamp, const char *msg)
{
	char		line[LOG_MSG_MAX + 128];
	unsigned long	lost;
	int		n;

	n = snprintf(line, sizeof(line), "%s msgd[%ld]: %s\n", stamp,
	    (long)getpid(), msg);
	if (n < 0)
		return;
	if (log_put(fd, sock, line, (size_t)n < sizeof(line) ? (size_t)n :
	    sizeof(line) - 1) == -1) {
		__atomic_add_fetch(&log_lost, 1, __ATOMIC_RELAXED);
		return;
	}
	if (__atomic_load_n(&log_lost, __ATOMIC_RELAXED) == 0 ||
	    (lost = __atomic_exchange_n(&log_lost, 0, __ATOMIC_RELAXED)) == 0)
		return;
	__atomic_store_n(&log_stalled, 0, __ATOMIC_RELAXED);
	n = snprintf(line, sizeof(line), "%s msgd[%ld]: %lu log line%s lost: "
	    "the log destination did not take them\n", stamp, (long)getpid(),
	    lost, lost == 1 ? "" : "s");
	if (n > 0 && (size_t)n < sizeof(line))
		log_put(fd, sock, line, (size_t)n);
}

/* A plain "msgd: message" line, as on a terminal. */
static void
log_plain(int fd, int sock, const char *msg)
{
	char	line[LOG_MSG_MAX + 16];
	int	n;

	n = snprintf(line, sizeof(line), "msgd: %s\n", msg);
	if (n > 0)
		log_put(fd, sock, line, (size_t)n < sizeof(line) ? (size_t)n :
		    sizeof(line) - 1);
}

/*
 * Format once, then write to the destination and, for errors, to the
 * console if the destination is not already the console.
 */
static void
log_vwrite(int pri, const char *fmt, va_list ap, int with_errno)
{
	char	 msg[LOG_MSG_MAX], stamp[64];
	int	 saved = errno, console, fd;
	size_t	 n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno) {
		n = strlen(msg);
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(saved));
	}

	if (!log_opened) {
		log_plain(STDERR_FILENO, 0, msg);
		errno = saved;
		return;
	}
	console = __atomic_load_n(&log_console_fd, __ATOMIC_RELAXED);
	fd = log_fd != -1 ? log_fd : STDERR_FILENO;
	if (log_dest == LOG_TO_SYSLOG)
		syslog(pri, "%s", msg);
	else if (pri <= LOG_ERR && log_dest == LOG_TO_STDERR &&
	    console == STDERR_FILENO) {
		/* A fatal error on the terminal reads like any program's. */
		log_plain(fd, log_fd_socket, msg);
	} else {
		log_stamp(stamp, sizeof(stamp));
		log_line(fd, log_fd_socket, stamp, msg);
	}
	if (pri <= LOG_WARNING && console != -1 &&
	    !(log_dest == LOG_TO_STDERR && console == STDERR_FILENO))
		log_plain(console, 0, msg);
	errno = saved;
}

#define LOG_BODY(pri, level, with_errno) do {				\
	va_list ap;							\
	if (__atomic_load_n(&log_verbose, __ATOMIC_RELAXED) < (level))	\
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
	void	(*hook)(int);

	if ((hook = __atomic_load_n(&log_exit_hook, __ATOMIC_RELAXED)) != NULL)
		hook(status);
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
