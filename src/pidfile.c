/*
 * pidfile.c - the pidfile: created and locked before msgd detaches, so a
 * second instance is refused on the terminal; filled in with the daemon's
 * pid once it has one; removed on a clean exit.
 *
 * The lock is flock(2), which belongs to the open file and so survives the
 * fork into the daemon.  A pidfile left behind by a crash is not locked and
 * is simply taken over.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <sys/file.h>

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
	char	buf[32];
	ssize_t	n;

	if ((pidfile_path = strdup(path)) == NULL)
		fatal(EX_OSERR, "strdup");
	pidfile_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (pidfile_fd == -1)
		fatal(EX_CANTCREAT, "cannot open pidfile %s", path);
	if (flock(pidfile_fd, LOCK_EX | LOCK_NB) == 0)
		return;
	if (errno != EWOULDBLOCK)
		fatal(EX_CANTCREAT, "cannot lock pidfile %s", path);
	n = pread(pidfile_fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fatalx(EX_TEMPFAIL, "pidfile %s is locked: msgd is already running%s%s",
	    path, *buf ? " as pid " : "", buf);
}

void
pidfile_write(void)
{
	char	buf[32];
	int	len;

	if (pidfile_fd == -1)
		return;
	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(pidfile_fd, 0) == -1 ||
	    pwrite(pidfile_fd, buf, len, 0) != len)
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
