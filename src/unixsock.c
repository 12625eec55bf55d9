/*
 * unixsock.c - -l unix:PATH: Unix-domain listening sockets, and their
 * files.
 *
 * A path is bound once, whatever --threads says (no SO_REUSEPORT for
 * these): the workers share the one socket, as they share systemd's
 * (listen.c dups it, handoff.c deals its connections out).  Binding
 * removes a dead msgd's leftover file -- a socket nobody answers on -- and
 * nothing else: a live server's socket, or a file that is not a socket,
 * is a clear error.  The file is created with --unix-mode itself (the
 * umask during bind(2) is its complement: no chmod(2), which would follow
 * a symbolic link planted at the path meanwhile) and gets its owner
 * (lchown(2)) before listen(): until then a connection is refused, so no
 * one it is not meant for can ever connect.
 *
 * msgd removes the files it bound at exit, if they are still the ones it
 * bound, but not when it has handed the sockets to a new msgd (SIGUSR2:
 * the new one removes them at its exit), and never a file that came with
 * a socket from systemd (the socket unit's, to remove).
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "log.h"
#include "msgd.h"

/* A file msgd bound, to remove at exit if it is still that file. */
struct unixsock_file {
	char		path[UNIXSOCK_PATH_MAX];
	dev_t		dev;
	ino_t		ino;
};

static struct unixsock_file	unixsock_files[MSGD_MAX_LISTENERS];
static int			unixsock_nfiles;
static int			unixsock_kept;	/* handed over: leave them */

static void	unixsock_addr(struct sockaddr_un *, const char *);
static void	unixsock_stale(const char *);
static void	unixsock_own(const char *);
static void	unixsock_fail(const char *, int, const char *)
		    __attribute__((noreturn));

/*
 * "unix:PATH" as an absolute path into buf (the daemon runs in /, and
 * removes the file from there): 1, or 0 if arg is no unix: address.
 */
int
unixsock_path(const char *arg, char *buf, size_t len)
{
	const char	*path;
	char		 cwd[PATH_MAX];
	int		 n;

	if (strncmp(arg, OPTIONS_UNIX_PREFIX,
	    strlen(OPTIONS_UNIX_PREFIX)) != 0)
		return (0);
	path = arg + strlen(OPTIONS_UNIX_PREFIX);
	if (*path == '/')
		n = snprintf(buf, len, "%s", path);
	else {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			fatal(EX_OSERR, "getcwd");
		n = snprintf(buf, len, "%s/%s", cwd, path);
	}
	if (n < 0 || (size_t)n >= len)
		fatalx(EX_USAGE, "invalid --listen address '%s': the socket's "
		    "absolute path is over %zu bytes", arg, len - 1);
	return (1);
}

static void
unixsock_addr(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, strlen(path) + 1);
}

/*
 * Something at path already: a socket nobody answers on is a dead msgd's
 * (or any dead server's) and goes; anything else stays, and msgd stops.
 */
static void
unixsock_stale(const char *path)
{
	struct sockaddr_un	sun;
	struct stat		sb, again;
	int			fd, error;

	if (lstat(path, &sb) == -1) {
		if (errno == ENOENT)
			return;
		fatal(EX_CANTCREAT, "cannot listen on unix:%s", path);
	}
	if (!S_ISSOCK(sb.st_mode))
		fatalx(EX_CANTCREAT, "cannot listen on unix:%s: it exists and "
		    "is not a socket (not removing it)", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		fatal(EX_OSERR, "cannot listen on unix:%s: socket", path);
	unixsock_addr(&sun, path);
	error = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 ? 0 :
	    errno;
	close(fd);
	switch (error) {
	case ECONNREFUSED:
		break;
	case ENOENT:
		return;		/* gone meanwhile */
	case 0:
	case EAGAIN:		/* a full backlog: alive, and busy */
	case EINPROGRESS:
	case EPROTOTYPE:	/* a datagram socket: not ours either */
		fatalx(EX_UNAVAILABLE, "cannot listen on unix:%s: another "
		    "server is listening there", path);
	default:
		errno = error;
		fatal(error == EACCES ? EX_NOPERM : EX_UNAVAILABLE,
		    "cannot listen on unix:%s: cannot tell whether a server "
		    "is listening there", path);
	}
	/* Still the file that refused, not one a new server put there. */
	if (lstat(path, &again) == -1)
		return;
	if (again.st_dev != sb.st_dev || again.st_ino != sb.st_ino)
		fatalx(EX_UNAVAILABLE, "cannot listen on unix:%s: another "
		    "server took the path meanwhile", path);
	if (unlink(path) == -1 && errno != ENOENT)
		fatal(errno == EACCES || errno == EPERM ? EX_NOPERM :
		    EX_CANTCREAT, "cannot remove the stale socket %s", path);
	log_info("removed the stale socket %s (nothing listened on it)", path);
}

/* Bound, but not to be served: take the file away again, and stop. */
static void
unixsock_fail(const char *path, int status, const char *what)
{
	int	error = errno;

	unlink(path);
	errno = error;
	fatal(status, "cannot listen on unix:%s: %s", path, what);
}

/* Remember the file bound at path, to remove at exit. */
static void
unixsock_own(const char *path)
{
	struct unixsock_file	*f;
	struct stat		 sb;

	if (unixsock_nfiles == MSGD_MAX_LISTENERS || lstat(path, &sb) == -1 ||
	    !S_ISSOCK(sb.st_mode))
		return;
	f = &unixsock_files[unixsock_nfiles++];
	snprintf(f->path, sizeof(f->path), "%s", path);
	f->dev = sb.st_dev;
	f->ino = sb.st_ino;
}

/*
 * Bind and listen on path (absolute, from unixsock_path), owned as
 * --unix-owner or --user say and with --unix-mode, into l.
 */
void
unixsock_bind(const char *path, const struct options *o, struct listener *l)
{
	struct sockaddr_un	 sun;
	mode_t			 mask;
	uid_t			 uid;
	gid_t			 gid;
	int			 fd, rc, error;

	privs_owner(o->unix_owner, o->user, &uid, &gid);
	unixsock_stale(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		fatal(EX_OSERR, "cannot listen on unix:%s: socket", path);
	unixsock_addr(&sun, path);
	/* A new socket's file mode is 0777 less the umask. */
	mask = umask(~(mode_t)o->unix_mode & 0777);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	error = errno;
	umask(mask);
	if (rc == -1) {
		errno = error;
		fatal(error == EACCES || error == EPERM ? EX_NOPERM :
		    error == EADDRINUSE ? EX_UNAVAILABLE : EX_CANTCREAT,
		    "cannot listen on unix:%s", path);
	}
	/* Not listening yet: no one can connect before this is done. */
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	    lchown(path, uid, gid) == -1)
		unixsock_fail(path, EX_NOPERM, "cannot set its owner");
	if (listen(fd, SOMAXCONN) == -1)
		unixsock_fail(path, EX_UNAVAILABLE, "listen");
	unixsock_own(path);
	l->fd = fd;
	l->lev = NULL;
	l->shared = 0;
	l->handover = "msgd-unix";
	snprintf(l->name, sizeof(l->name), "unix:%s", path);
	log_debug("listening on unix:%s, mode %04o", path, o->unix_mode);
}

/*
 * A Unix-domain socket passed in (systemd.c): from an old msgd that bound
 * it ("msgd-unix": ours to remove at exit now), or from systemd, whose
 * file it is.
 */
void
unixsock_inherit(int fd, const char *name, struct listener *l)
{
	struct sockaddr_un	sun;
	socklen_t		len = sizeof(sun);
	size_t			plen = 0;
	int			own = strcmp(name, "msgd-unix") == 0;

	memset(&sun, 0, sizeof(sun));
	if (getsockname(fd, (struct sockaddr *)&sun, &len) == 0 &&
	    len > offsetof(struct sockaddr_un, sun_path))
		plen = len - offsetof(struct sockaddr_un, sun_path);
	if (plen > 0 && sun.sun_path[0] == '\0')	/* abstract */
		snprintf(l->name, sizeof(l->name), "unix:@%.*s",
		    (int)plen - 1, sun.sun_path + 1);
	else if (plen > 0) {
		snprintf(l->name, sizeof(l->name), "unix:%.*s", (int)plen,
		    sun.sun_path);
		if (own)
			unixsock_own(l->name + strlen("unix:"));
	} else
		snprintf(l->name, sizeof(l->name), "unix:fd %d", fd);
	l->handover = own ? "msgd-unix" : "msgd-unix-kept";
}

/* SIGUSR2 handed the sockets over: the new msgd serves on the files. */
void
unixsock_keep(void)
{
	unixsock_kept = 1;
}

/*
 * At exit: remove the files msgd bound, unless they were handed over, or
 * are not the files it bound any more (a new msgd may have taken a path
 * while this one drained).  Past --user, the directory must let that user
 * remove them; if it does not, say so and leave them: the next msgd finds
 * them stale.
 */
void
unixsock_remove(void)
{
	struct unixsock_file	*f;
	struct stat		 sb;
	int			 i;

	for (i = 0; !unixsock_kept && i < unixsock_nfiles; i++) {
		f = &unixsock_files[i];
		if (lstat(f->path, &sb) == -1 || !S_ISSOCK(sb.st_mode) ||
		    sb.st_dev != f->dev || sb.st_ino != f->ino)
			continue;
		if (unlink(f->path) == -1)
			log_warn("cannot remove %s", f->path);
	}
	unixsock_nfiles = 0;
}
