/*
 * pidfile.c - the pidfile: created and locked before msgd detaches, so a
 * second instance is refused on the terminal; filled in with the daemon's
 * pid once it has one; removed on a clean exit.
 *
 * The lock is flock(2), which belongs to the open file and so survives the
 * fork into the daemon.  A pidfile left behind by a crash is not locked and
 * is simply taken over.
 *
 * The directory is often writable by the -u user (who must be able to
 * remove the pidfile), so the path is not trusted: a symbolic link is not
 * followed (O_NOFOLLOW), and anything but a regular file with one link is
 * refused before it is locked, let alone truncated.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "log.h"
#include "msgd.h"

static int	 pidfile_fd = -1;
static char	*pidfile_path;

void
pidfile_open(const char *path)
{
	struct stat	sb;
	char		buf[32];
	ssize_t		n;

	if ((pidfile_path = strdup(path)) == NULL)
		fatal(EX_OSERR, "strdup");
	/* O_NONBLOCK: a FIFO planted at the path must not hang the open. */
	pidfile_fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC, 0644);
	if (pidfile_fd == -1 && errno == ELOOP)
		fatalx(EX_CANTCREAT, "cannot open pidfile %s: it is a symbolic "
		    "link", path);
	if (pidfile_fd == -1)
		fatal(EX_CANTCREAT, "cannot open pidfile %s", path);
	if (fstat(pidfile_fd, &sb) == -1)
		fatal(EX_CANTCREAT, "cannot open pidfile %s: fstat", path);
	if (!S_ISREG(sb.st_mode))
		fatalx(EX_CANTCREAT, "cannot open pidfile %s: not a regular "
		    "file", path);
	if (sb.st_nlink != 1)
		fatalx(EX_CANTCREAT, "cannot open pidfile %s: it has %lu hard "
		    "links", path, (unsigned long)sb.st_nlink);
	if (flock(pidfile_fd, LOCK_EX | LOCK_NB) == 0) {
		/* 0644 whatever the umask: anyone may read the pid. */
		if ((sb.st_mode & 07777) != 0644 &&
		    fchmod(pidfile_fd, 0644) == -1)
			fatal(EX_CANTCREAT, "cannot chmod pidfile %s", path);
		return;
	}
	if (errno != EWOULDBLOCK)
		fatal(EX_CANTCREAT, "cannot lock pidfile %s", path);
	n = pread(pidfile_fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fatalx(EX_TEMPFAIL, "pidfile %s is locked: msgd is already running%s%s",
	    path, *buf ? " as pid " : "", buf);
}

/* SIGUSR2 (upgrade.c): the old msgd's pidfile, open and locked. */
void
pidfile_inherit(int fd, const char *path)
{
	if ((pidfile_path = strdup(path)) == NULL)
		fatal(EX_OSERR, "strdup");
	pidfile_fd = fd;
}

/* For upgrade.c to hand over, or -1. */
int
pidfile_fd_get(void)
{
	return (pidfile_fd);
}

/*
 * The new msgd has it (upgrade.c): close our descriptor, which leaves the
 * lock to the new one's (the same open file), and do not remove it.
 */
void
pidfile_leave(void)
{
	if (pidfile_fd == -1)
		return;
	close(pidfile_fd);
	pidfile_fd = -1;
	free(pidfile_path);
	pidfile_path = NULL;
}

/*
 * Write first, then cut to length: a reader never sees it empty (an
 * upgrade rewrites it while msgd -P scripts watch).
 */
void
pidfile_write(void)
{
	char	buf[32];
	int	len;

	if (pidfile_fd == -1)
		return;
	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (pwrite(pidfile_fd, buf, len, 0) != len ||
	    ftruncate(pidfile_fd, len) == -1)
		fatal(EX_IOERR, "cannot write pidfile %s", pidfile_path);
}

void
pidfile_remove(void)
{
	if (pidfile_fd == -1)
		return;
	if (unlink(pidfile_path) == -1 && errno != ENOENT)
		log_warn("cannot remove pidfile %s", pidfile_path);
	close(pidfile_fd);
	pidfile_fd = -1;
	free(pidfile_path);
	pidfile_path = NULL;
}
