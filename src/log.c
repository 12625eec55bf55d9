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
 * No client may flood the log either.  Every line shown at the default
 * verbosity (log_warn, log_warnx, log_info, and libevent's warnings) is
 * of a kind: the call site, that is its format string, or for libevent,
 * which hands over finished text, that text with its digits left out.  A
 * kind may write LOG_BURST lines in a window of LOG_WINDOW_MS that
 * starts at its first line; past that, lines are counted, the first of
 * them kept, and when the window closes one line says "N more like this
 * in the last S s: <the first one not written>".  The first line of a
 * kind from each thread is always written, over the burst if need be, so
 * a one-off per worker (its drain line at SIGTERM, with -t 16) is never
 * held back.  So an attack costs at most LOG_BURST + 1 lines per kind
 * every 10 s (and once, one more per worker), the first line of any kind
 * is always written, and nothing is dropped without being counted.
 * The window closes when the kind's next line comes, or at the latest
 * LOG_TICK_MS later by a timer on the main event loop (log_limit_start),
 * so a count is written even if the attack stops; log_limit_stop, fatal
 * and log_close write what is still counted.  The timer ticks once a
 * second: arming it only when a line is held back would mean event_add
 * on the main loop from any worker, and from inside libevent's own log
 * callback.  -v and -vv lines are not limited: they are asked for, to
 * see every event; fatal errors are never held back.
 *
 * The kinds are a small table under one mutex, taken once per line at
 * the default verbosity: a line costs a write(2) anyway, and a held-back
 * one now costs no more than the lock.  Lines are formatted and written
 * outside it.
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
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sysexits.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"

/* How long a full pipe, terminal or socket may hold up a line. */
#define LOG_WAIT_MS	1000

/* The longest message; longer ones are cut. */
#define LOG_MSG_MAX	1024

/*
 * The limiter (see the top): LOG_BURST lines of a kind per window, then
 * one line of how many more.  LOG_KINDS is well over the number of call
 * sites at the default verbosity; should more kinds have a window open
 * at once, the rest share the last entry (and its burst).
 */
#define LOG_BURST	5
#define LOG_WINDOW_MS	10000
#define LOG_TICK_MS	1000
#define LOG_KINDS	64

struct log_kind {
	const void	*site;		/* the format string; NULL: unused */
	uint32_t	 hash;		/* of libevent's text */
	int		 pri;
	uint64_t	 start;		/* the window's, in ms */
	unsigned int	 written;	/* lines written in the window */
	uint64_t	 threads;	/* log_thread ids that wrote one */
	unsigned long	 held;		/* lines held back in it */
	char		 first[LOG_MSG_MAX]; /* the first held back */
};

/* A count to write, copied out of the table. */
struct log_summary {
	int		 pri;
	unsigned long	 held;
	uint64_t	 ms;		/* since its window started */
	char		 first[LOG_MSG_MAX];
};

static pthread_mutex_t	 log_kinds_lock = PTHREAD_MUTEX_INITIALIZER;
static struct log_kind	 log_kinds[LOG_KINDS];	/* under the lock */
static struct event	*log_tick_ev;		/* main thread only */
static const char	 log_site_libevent[] = "libevent";
static const char	 log_site_other[] = "other";
static int		 log_nthreads;		/* atomic */
static __thread int	 log_thread = -1;	/* this thread's id */

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
static void	log_emit(int, const char *);
static uint64_t	log_now_ms(void);
static uint32_t	log_hash(const char *);
static void	log_kind_close(struct log_kind *, uint64_t,
		    struct log_summary *);
static struct log_kind *log_kind_get(const void *, uint32_t, int, uint64_t,
		    struct log_summary *);
static void	log_summary_emit(const struct log_summary *);
static int	log_limit(int, const void *, uint32_t, const char *);
static void	log_limit_flush(int);
static void	log_limit_tick(evutil_socket_t, short, void *);
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
	log_limit_flush(1);
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

/*
 * libevent's warnings are kinds by their text (without digits, which are
 * descriptors and counts), not by the one format that carries them all.
 */
static void
log_event_cb(int severity, const char *msg)
{
	char	line[LOG_MSG_MAX];
	int	saved = errno;

	if (severity < EVENT_LOG_WARN) {
		log_trace("libevent: %s", msg);
		return;
	}
	snprintf(line, sizeof(line), "libevent: %s", msg);
	if (log_limit(LOG_WARNING, log_site_libevent, log_hash(msg), line))
		log_emit(LOG_WARNING, line);
	errno = saved;
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
 * Write to the destination and, for errors, to the console if the
 * destination is not already the console.
 */
static void
log_emit(int pri, const char *msg)
{
	char	 stamp[64];
	int	 console, fd;

	if (!log_opened) {
		log_plain(STDERR_FILENO, 0, msg);
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
}

/*
 * Format once, then write, unless the line is one too many of its kind:
 * the levels shown at the default verbosity are limited (see the top).
 */
static void
log_vwrite(int pri, const char *fmt, va_list ap, int with_errno)
{
	char	 msg[LOG_MSG_MAX];
	int	 saved = errno;
	size_t	 n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno) {
		n = strlen(msg);
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(saved));
	}
	if ((pri != LOG_WARNING && pri != LOG_INFO) ||
	    log_limit(pri, fmt, 0, msg))
		log_emit(pri, msg);
	errno = saved;
}

static uint64_t
log_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/* FNV-1a of a text without its digits. */
static uint32_t
log_hash(const char *s)
{
	uint32_t	h = 2166136261U;

	for (; *s != '\0'; s++) {
		if (*s >= '0' && *s <= '9')
			continue;
		h ^= (unsigned char)*s;
		h *= 16777619U;
	}
	return (h);
}

/*
 * End a kind's window (under the lock): what it held back, if anything,
 * goes to *sum (sum->held is 0 if nothing).  Its next line opens a new one.
 */
static void
log_kind_close(struct log_kind *k, uint64_t now, struct log_summary *sum)
{
	sum->held = k->held;
	if (k->held > 0) {
		sum->pri = k->pri;
		sum->ms = now - k->start;
		memcpy(sum->first, k->first, sizeof(sum->first));
	}
	k->held = 0;
	k->written = 0;
	k->start = now;
}

/*
 * The kind of a line (under the lock), with a window open at now.  A new
 * kind takes an unused entry or one whose window has closed; what that
 * entry held back goes to *sum.  If every entry is in use, the last one
 * is shared.
 */
static struct log_kind *
log_kind_get(const void *site, uint32_t hash, int pri, uint64_t now,
    struct log_summary *sum)
{
	struct log_kind	*k, *spare = NULL;
	size_t		 i;

	sum->held = 0;
	for (i = 0; i < LOG_KINDS - 1; i++) {
		k = &log_kinds[i];
		if (k->site == site && k->hash == hash) {
			if (now - k->start >= LOG_WINDOW_MS)
				log_kind_close(k, now, sum);
			return (k);
		}
		if (k->site == NULL ||
		    (now - k->start >= LOG_WINDOW_MS &&
		    (spare == NULL || (spare->site != NULL && k->held == 0))))
			spare = k;
	}
	if (spare == NULL) {
		spare = &log_kinds[LOG_KINDS - 1];
		if (spare->site == NULL) {
			spare->site = log_site_other;
			spare->pri = pri;
			spare->start = now;
		} else if (now - spare->start >= LOG_WINDOW_MS)
			log_kind_close(spare, now, sum);
		return (spare);
	}
	if (spare->site != NULL)
		log_kind_close(spare, now, sum);
	spare->site = site;
	spare->hash = hash;
	spare->pri = pri;
	spare->start = now;
	spare->written = 0;
	spare->threads = 0;
	spare->held = 0;
	return (spare);
}

/* Write a kind's count of lines held back. */
static void
log_summary_emit(const struct log_summary *sum)
{
	char	msg[LOG_MSG_MAX];

	/* The held line is cut to leave room for the count before it. */
	snprintf(msg, sizeof(msg), "%lu more like this in the last %llu s: "
	    "%.*s", sum->held, (unsigned long long)(sum->ms + 999) / 1000,
	    (int)sizeof(msg) - 96, sum->first);
	log_emit(sum->pri, msg);
}

/*
 * Whether to write a line of this kind now: 1 while its window has room
 * or if this thread never wrote one, else 0 and it is counted.  A count
 * from a window that closed is written first.
 */
static int
log_limit(int pri, const void *site, uint32_t hash, const char *msg)
{
	struct log_summary	 sum;
	struct log_kind		*k;
	uint64_t		 me = 0;
	int			 ok;

	if (log_thread == -1)
		log_thread = __atomic_fetch_add(&log_nthreads, 1,
		    __ATOMIC_RELAXED);
	if (log_thread < 64)
		me = (uint64_t)1 << log_thread;
	pthread_mutex_lock(&log_kinds_lock);
	k = log_kind_get(site, hash, pri, log_now_ms(), &sum);
	if ((ok = k->written < LOG_BURST || (k->threads & me) == 0)) {
		k->written++;
		k->threads |= me;
	} else if (k->held++ == 0)
		snprintf(k->first, sizeof(k->first), "%s", msg);
	pthread_mutex_unlock(&log_kinds_lock);
	if (sum.held > 0)
		log_summary_emit(&sum);
	return (ok);
}

/*
 * Write the counts of the windows that have closed, or with all, of every
 * window (at exit).  One at a time, so the lock is not held to write.
 */
static void
log_limit_flush(int all)
{
	struct log_summary	 sum;
	uint64_t		 now;
	size_t			 i;
	int			 saved = errno;

	for (;;) {
		sum.held = 0;
		pthread_mutex_lock(&log_kinds_lock);
		now = log_now_ms();
		for (i = 0; i < LOG_KINDS; i++) {
			if (log_kinds[i].held > 0 && (all ||
			    now - log_kinds[i].start >= LOG_WINDOW_MS)) {
				log_kind_close(&log_kinds[i], now, &sum);
				break;
			}
		}
		pthread_mutex_unlock(&log_kinds_lock);
		if (sum.held == 0)
			break;
		log_summary_emit(&sum);
	}
	errno = saved;	/* for fatal() */
}

static void
log_limit_tick(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	(void)arg;
	log_limit_flush(0);
}

/*
 * Close windows on time, on the main loop: a count is written within
 * LOG_TICK_MS of its window's end even if no line of its kind follows.
 */
void
log_limit_start(struct event_base *base)
{
	struct timeval	tv = { LOG_TICK_MS / 1000, (LOG_TICK_MS % 1000) * 1000 };

	if ((log_tick_ev = event_new(base, -1, EV_PERSIST, log_limit_tick,
	    NULL)) == NULL || event_add(log_tick_ev, &tv) == -1)
		fatalx(EX_OSERR, "cannot set up the log timer");
}

/* Before the loop is freed, once the workers are gone: write every count. */
void
log_limit_stop(void)
{
	if (log_tick_ev != NULL)
		event_free(log_tick_ev);
	log_tick_ev = NULL;
	log_limit_flush(1);
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

	log_limit_flush(1);
	va_start(ap, fmt);
	log_vwrite(LOG_ERR, fmt, ap, 1);
	va_end(ap);
	log_exit(status);
}

void
fatalx(int status, const char *fmt, ...)
{
	va_list	ap;

	log_limit_flush(1);
	va_start(ap, fmt);
	log_vwrite(LOG_ERR, fmt, ap, 0);
	va_end(ap);
	log_exit(status);
}
