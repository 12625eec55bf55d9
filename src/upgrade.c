/*
 * upgrade.c - SIGUSR2: put a new msgd (binary or options) into service
 * without refusing a connection, as nginx's binary upgrade does.
 *
 * The old msgd forks and execs the same program with the same arguments,
 * handing over every listening socket (TCP of every worker, Unix-domain,
 * UDP, metrics) in the form systemd uses for socket activation:
 * descriptors 3.. with LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES
 * ("msgd-tcp", "msgd-unix", "msgd-udp", "msgd-metrics"; upgrade_add), so
 * that systemd.c reads both.  The old msgd leaves its Unix socket files
 * to the new one.  It also
 * passes the locked pidfile (MSGD_PIDFILE_FD: the flock belongs to the
 * open file, which both now hold, so no second msgd -P can take it in
 * between) and the write end of a pipe (MSGD_UPGRADE_FD) that the new msgd
 * uses as daemon.c uses -d's: its start-up errors, then a NUL and its
 * status.  Status 0 means it serves: the old one names it to systemd
 * (MAINPID=), leaves the pidfile to it, stops accepting and drains as on
 * SIGTERM.  The sockets are the same open sockets in both processes, so
 * closing the old copies drops no connection waiting in a queue.  Any
 * other end -- a failed exec, a bad option, an exit, no word within
 * UPGRADE_TIMEOUT -- is logged, the pidfile is rewritten with the old
 * pid, and the old msgd goes on serving as if nothing had happened.
 *
 * The program run is the path msgd was started as, made absolute at start
 * (argv[0], or its match on PATH), not /proc/self/exe: that names the
 * file that was running, which an upgrade has replaced or removed.  A
 * symbolic link there is followed at each upgrade, so switching it picks
 * the new binary.  The new msgd starts in the directory the first one was
 * started in, so relative paths in the arguments mean what they meant.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "msgd.h"

/* Seconds the new msgd has to say it serves (slow under valgrind). */
#define UPGRADE_TIMEOUT		30
/* Sockets handed over: every worker's TCP, UDP and metrics. */
#define UPGRADE_MAX_FDS		(MSGD_MAX_LISTENERS + MSGD_MAX_UDP + 1)

extern char	**environ;

struct upgrade_fd {
	int		 fd;
	const char	*name;		/* LISTEN_FDNAMES: "msgd-tcp", ... */
};

static char		 *upgrade_path;		/* the program, absolute */
static char		**upgrade_argv;		/* as given, before getopt */
static char		 *upgrade_cwd;		/* where msgd was started */
static struct upgrade_fd upgrade_fds[UPGRADE_MAX_FDS];
static int		  upgrade_nfds;
static int		  upgrade_ntcp;
static int		  upgrade_toomany;

static int		  upgrade_inherited_flag;	/* we are the new one */

/* In the old msgd, while a new one starts. */
static pid_t		  upgrade_pid = -1;
static struct event	 *upgrade_read_ev;
static struct event	 *upgrade_timer_ev;
static struct server	 *upgrade_srv;
static char		  upgrade_buf[4096];
static size_t		  upgrade_len;
static int		  upgrade_done;		/* handed over: draining */

static char	*upgrade_find(const char *);
static void	 upgrade_exec(char *, char **, char **, const int *, int,
		    char *) __attribute__((noreturn));
static void	 upgrade_read(evutil_socket_t, short, void *);
static void	 upgrade_timeout(evutil_socket_t, short, void *);
static void	 upgrade_failed(const char *);
static void	 upgrade_succeeded(void);
static void	 upgrade_reap(char *, size_t);
static void	 upgrade_end(void);

/* argv[0] as an absolute path: made so here, or found on PATH. */
static char *
upgrade_find(const char *arg0)
{
	const char	*path, *p, *end;
	char		*s;
	struct stat	 sb;
	ssize_t		 n;
	char		 buf[PATH_MAX];

	if (strchr(arg0, '/') != NULL) {
		if (*arg0 == '/' || upgrade_cwd == NULL)
			return (strdup(arg0));
		if (asprintf(&s, "%s/%s", upgrade_cwd, arg0) == -1)
			return (NULL);
		return (s);
	}
	if ((path = getenv("PATH")) != NULL) {
		for (p = path; ; p = end + 1) {
			end = strchr(p, ':');
			if (end == NULL)
				end = p + strlen(p);
			if (end > p && *p == '/' &&
			    asprintf(&s, "%.*s/%s", (int)(end - p), p,
			    arg0) != -1) {
				if (stat(s, &sb) == 0 && S_ISREG(sb.st_mode) &&
				    access(s, X_OK) == 0)
					return (s);
				free(s);
			}
			if (*end == '\0')
				break;
		}
	}
	/* Not found as it was run: the file that is running, then. */
	if ((n = readlink("/proc/self/exe", buf, sizeof(buf) - 1)) <= 0)
		return (NULL);
	buf[n] = '\0';
	return (strdup(buf));
}

/*
 * First thing in main(): remember how msgd was run (getopt may permute
 * argv), and whether an old msgd started us.
 */
void
upgrade_init(int argc, char **argv)
{
	char		 cwd[PATH_MAX];
	const char	*s;
	int		 i, fd;

	if (getcwd(cwd, sizeof(cwd)) != NULL)
		upgrade_cwd = strdup(cwd);
	if ((upgrade_argv = calloc(argc + 1, sizeof(*upgrade_argv))) == NULL)
		fatal(EX_OSERR, "calloc");
	for (i = 0; i < argc; i++)
		if ((upgrade_argv[i] = strdup(argv[i])) == NULL)
			fatal(EX_OSERR, "strdup");
	upgrade_path = upgrade_find(argc > 0 ? argv[0] : "msgd");

	if ((s = getenv("MSGD_UPGRADE_FD")) == NULL)
		return;
	fd = atoi(s);
	unsetenv("MSGD_UPGRADE_FD");
	if (fd < 3 || fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		return;
	upgrade_inherited_flag = 1;
	daemon_inherit(fd);
}

/* Did an old msgd start us (SIGUSR2)? */
int
upgrade_inherited(void)
{
	return (upgrade_inherited_flag);
}

/* The pidfile the old msgd passed, locked, or -1. */
int
upgrade_pidfile(void)
{
	const char	*s;
	int		 fd;

	if (!upgrade_inherited_flag || (s = getenv("MSGD_PIDFILE_FD")) == NULL)
		return (-1);
	fd = atoi(s);
	unsetenv("MSGD_PIDFILE_FD");
	if (fd < 3 || fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		return (-1);
	return (fd);
}

/*
 * A socket to hand over, under name: "msgd-tcp", "msgd-unix" (a socket
 * file msgd bound: the new msgd removes it at exit), "msgd-unix-kept"
 * (systemd's file: no one removes it), "msgd-udp" or "msgd-metrics".
 */
void
upgrade_add(int fd, const char *name)
{
	int	stream = strcmp(name, "msgd-udp") != 0 &&
		    strcmp(name, "msgd-metrics") != 0;

	if (upgrade_nfds == UPGRADE_MAX_FDS ||
	    (stream && upgrade_ntcp == MSGD_MAX_LISTENERS)) {
		upgrade_toomany = 1;
		return;
	}
	if (stream)
		upgrade_ntcp++;
	upgrade_fds[upgrade_nfds].fd = fd;
	upgrade_fds[upgrade_nfds].name = name;
	upgrade_nfds++;
}

/*
 * In the child, between fork and exec: only async-signal-safe calls (the
 * workers are threads).  The sockets go to 3.., then the pipe and the
 * pidfile; pidbuf is "LISTEN_PID=" and room for our pid.
 */
static void
upgrade_exec(char *path, char **argv, char **envp, const int *fds, int n,
    char *pidbuf)
{
	sigset_t	 all;
	int		 i, tmp[UPGRADE_MAX_FDS + 2];
	char		 digits[24], *p;
	long		 pid;
	static const char msg[] = "cannot run it (execve failed)";
	static const char end[2] = { '\0', EX_OSERR };

	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	/* Above the range first, so that no dup2 overwrites a source. */
	for (i = 0; i < n; i++)
		if ((tmp[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3 + n)) == -1)
			_exit(EX_OSERR);
	for (i = 0; i < n; i++)
		if (dup2(tmp[i], 3 + i) == -1)	/* without FD_CLOEXEC */
			_exit(EX_OSERR);
	p = digits + sizeof(digits) - 1;
	*p = '\0';
	pid = (long)getpid();
	do {
		*--p = '0' + pid % 10;
		pid /= 10;
	} while (pid > 0);
	for (i = 0; p[i] != '\0'; i++)
		pidbuf[strlen("LISTEN_PID=") + i] = p[i];
	pidbuf[strlen("LISTEN_PID=") + i] = '\0';
	if (upgrade_cwd != NULL && chdir(upgrade_cwd) == -1)
		(void)0;	/* a relative -P or -L fails: we hear why */
	execve(path, argv, envp);
	/* The pipe follows the sockets: tell the old msgd, as daemon.c does. */
	if (write(3 + upgrade_nfds, msg, sizeof(msg) - 1) == -1 ||
	    write(3 + upgrade_nfds, end, sizeof(end)) == -1)
		(void)0;
	_exit(EX_OSERR);
}

/* SIGUSR2: start the new msgd; the loop hears from it (upgrade_read). */
void
upgrade_start(struct server *srv)
{
	char		**envp = NULL, *names = NULL, *pidbuf = NULL;
	char		  fdsbuf[32], upbuf[40], pfbuf[40];
	int		  fds[UPGRADE_MAX_FDS + 2], p[2] = { -1, -1 };
	int		  i, n, nenv, pidfd;
	size_t		  len;
	struct timeval	  tv = { UPGRADE_TIMEOUT, 0 };

	if (upgrade_pid != -1) {
		log_warnx("SIGUSR2: already upgrading (new pid %ld)",
		    (long)upgrade_pid);
		return;
	}
	if (upgrade_done || srv->draining) {
		log_warnx("SIGUSR2: stopping, not upgrading");
		return;
	}
	if (upgrade_path == NULL) {
		log_warnx("SIGUSR2: cannot upgrade: the path msgd was run as "
		    "is unknown");
		return;
	}
	if (upgrade_toomany) {
		log_warnx("SIGUSR2: cannot upgrade: more than %d listening "
		    "sockets (threads times addresses)", MSGD_MAX_LISTENERS);
		return;
	}
	log_info("SIGUSR2: starting %s", upgrade_path);

	/* LISTEN_FDNAMES, and the environment without old LISTEN_*. */
	len = 1;
	for (i = 0; i < upgrade_nfds; i++)
		len += strlen(upgrade_fds[i].name) + 1;
	if ((names = malloc(len + strlen("LISTEN_FDNAMES="))) == NULL)
		goto nomem;
	strcpy(names, "LISTEN_FDNAMES=");
	for (i = 0; i < upgrade_nfds; i++) {
		if (i > 0)
			strcat(names, ":");
		strcat(names, upgrade_fds[i].name);
	}
	for (nenv = 0; environ[nenv] != NULL; nenv++)
		;
	if ((envp = calloc(nenv + 6, sizeof(*envp))) == NULL ||
	    (pidbuf = malloc(strlen("LISTEN_PID=") + 24)) == NULL)
		goto nomem;
	strcpy(pidbuf, "LISTEN_PID=");
	n = 0;
	for (i = 0; i < nenv; i++) {
		if (strncmp(environ[i], "LISTEN_", 7) == 0 ||
		    strncmp(environ[i], "MSGD_UPGRADE_FD=", 16) == 0 ||
		    strncmp(environ[i], "MSGD_PIDFILE_FD=", 16) == 0)
			continue;
		envp[n++] = environ[i];
	}
	snprintf(fdsbuf, sizeof(fdsbuf), "LISTEN_FDS=%d", upgrade_nfds);
	envp[n++] = fdsbuf;
	envp[n++] = pidbuf;
	envp[n++] = names;
	snprintf(upbuf, sizeof(upbuf), "MSGD_UPGRADE_FD=%d", 3 + upgrade_nfds);
	envp[n++] = upbuf;
	if ((pidfd = pidfile_fd_get()) != -1) {
		snprintf(pfbuf, sizeof(pfbuf), "MSGD_PIDFILE_FD=%d",
		    3 + upgrade_nfds + 1);
		envp[n++] = pfbuf;
	}
	envp[n] = NULL;

	if (pipe2(p, O_CLOEXEC) == -1) {
		log_warn("SIGUSR2: cannot upgrade: pipe");
		goto out;
	}
	for (i = 0; i < upgrade_nfds; i++)
		fds[i] = upgrade_fds[i].fd;
	n = upgrade_nfds;
	fds[n++] = p[1];
	if (pidfd != -1)
		fds[n++] = pidfd;

	switch ((upgrade_pid = fork())) {
	case -1:
		log_warn("SIGUSR2: cannot upgrade: fork");
		goto out;
	case 0:
		upgrade_exec(upgrade_path, upgrade_argv, envp, fds, n, pidbuf);
	}
	close(p[1]);
	p[1] = -1;
	upgrade_srv = srv;
	upgrade_len = 0;
	if (evutil_make_socket_nonblocking(p[0]) == -1 ||
	    (upgrade_read_ev = event_new(srv->base, p[0], EV_READ | EV_PERSIST,
	    upgrade_read, NULL)) == NULL ||
	    event_add(upgrade_read_ev, NULL) == -1 ||
	    (upgrade_timer_ev = evtimer_new(srv->base, upgrade_timeout,
	    NULL)) == NULL || evtimer_add(upgrade_timer_ev, &tv) == -1)
		fatalx(EX_SOFTWARE, "upgrade: event_new");
	p[0] = -1;
	log_debug("SIGUSR2: new msgd is pid %ld", (long)upgrade_pid);
out:
	if (p[0] != -1)
		close(p[0]);
	if (p[1] != -1)
		close(p[1]);
	if (upgrade_read_ev == NULL)
		upgrade_pid = -1;
	free(names);
	free(pidbuf);
	free(envp);
	return;
nomem:
	log_warn("SIGUSR2: cannot upgrade");
	goto out;
}

/* The new msgd's start-up messages, then NUL and its status. */
static void
upgrade_read(evutil_socket_t fd, short events, void *arg)
{
	ssize_t	n;
	char	why[sizeof(upgrade_buf) + 64];

	(void)events;
	(void)arg;
	if (upgrade_len == sizeof(upgrade_buf))
		upgrade_len = 0;	/* endless chatter: keep the last */
	n = read(fd, upgrade_buf + upgrade_len,
	    sizeof(upgrade_buf) - upgrade_len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		upgrade_len += (size_t)n;
		if (upgrade_len >= 2 && upgrade_buf[upgrade_len - 2] == '\0') {
			if (upgrade_buf[upgrade_len - 1] == 0) {
				upgrade_succeeded();
				return;
			}
			upgrade_reap(why, sizeof(why));
			upgrade_failed(why);
		}
		return;
	}
	/* EOF (or an error) without a status: it died, or it is no msgd. */
	upgrade_reap(why, sizeof(why));
	upgrade_failed(why);
}

static void
upgrade_timeout(evutil_socket_t fd, short events, void *arg)
{
	char	why[sizeof(upgrade_buf) + 64];

	(void)fd;
	(void)events;
	(void)arg;
	kill(upgrade_pid, SIGKILL);
	upgrade_reap(why, sizeof(why));
	snprintf(why + strlen(why), sizeof(why) - strlen(why),
	    " (no word within %d seconds)", UPGRADE_TIMEOUT);
	upgrade_failed(why);
}

/*
 * Wait for a failed new msgd (it is exiting; a second at most, then it is
 * killed) and say why it failed: its messages, else its exit status.
 */
static void
upgrade_reap(char *why, size_t len)
{
	struct timespec	 ts = { 0, 10 * 1000 * 1000 };
	size_t		 mlen = upgrade_len;
	int		 i, status = 0;
	pid_t		 r = 0;
	char		*nl;

	for (i = 0; i < 100 && (r = waitpid(upgrade_pid, &status, WNOHANG)) ==
	    0; i++)
		nanosleep(&ts, NULL);
	if (r == 0) {
		kill(upgrade_pid, SIGKILL);
		r = waitpid(upgrade_pid, &status, 0);
	}
	if (mlen >= 2 && upgrade_buf[mlen - 2] == '\0')
		mlen -= 2;
	while (mlen > 0 && (upgrade_buf[mlen - 1] == '\n' ||
	    upgrade_buf[mlen - 1] == '\0'))
		mlen--;
	upgrade_buf[mlen] = '\0';
	while ((nl = strchr(upgrade_buf, '\n')) != NULL)
		*nl = ' ';
	if (r == -1)
		snprintf(why, len, "%s", mlen > 0 ? upgrade_buf : "no status");
	else if (WIFEXITED(status))
		snprintf(why, len, "%s%sexit status %d", upgrade_buf,
		    mlen > 0 ? "; " : "", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(why, len, "%s%skilled by signal %d", upgrade_buf,
		    mlen > 0 ? "; " : "", WTERMSIG(status));
	else
		snprintf(why, len, "%s", upgrade_buf);
}

/* The new msgd is not serving: we go on, as the pidfile says again. */
static void
upgrade_failed(const char *why)
{
	log_warnx("SIGUSR2: the new msgd (pid %ld) failed: %s; still "
	    "serving as pid %ld", (long)upgrade_pid, why, (long)getpid());
	upgrade_end();
	pidfile_write();
}

/*
 * The new msgd serves: it is the main process now (systemd, the
 * pidfile), and we stop accepting and drain.  Its copies of the sockets
 * keep their queues.
 */
static void
upgrade_succeeded(void)
{
	pid_t	pid = upgrade_pid;

	log_info("SIGUSR2: the new msgd (pid %ld) serves: handing over",
	    (long)pid);
	upgrade_end();
	upgrade_done = 1;
	unixsock_keep();
	systemd_mainpid(pid);
	pidfile_leave();
	metrics_stop();
	udp_stop();
	worker_stop();
}

static void
upgrade_end(void)
{
	if (upgrade_read_ev != NULL) {
		close(event_get_fd(upgrade_read_ev));
		event_free(upgrade_read_ev);
	}
	if (upgrade_timer_ev != NULL)
		event_free(upgrade_timer_ev);
	upgrade_read_ev = upgrade_timer_ev = NULL;
	upgrade_pid = -1;
}

/* SIGTERM during an upgrade: the new msgd is not wanted either. */
void
upgrade_abort(void)
{
	if (upgrade_pid == -1)
		return;
	log_info("SIGUSR2: stopping the new msgd (pid %ld) too",
	    (long)upgrade_pid);
	kill(upgrade_pid, SIGTERM);
	upgrade_end();
}

/* At exit. */
void
upgrade_free(void)
{
	int	i;

	upgrade_end();
	for (i = 0; upgrade_argv != NULL && upgrade_argv[i] != NULL; i++)
		free(upgrade_argv[i]);
	free(upgrade_argv);
	free(upgrade_path);
	free(upgrade_cwd);
	upgrade_argv = NULL;
	upgrade_path = upgrade_cwd = NULL;
}
