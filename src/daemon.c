/*
 * daemon.c - detaching from the terminal, without losing start-up errors.
 *
 * The command that ran "msgd -d" waits on a pipe until the daemon says it is
 * serving, and exits with the daemon's start-up status.  Anything fatal
 * before that point is printed on its terminal, because log.c copies errors
 * to the pipe (the "console") until daemon_ready() closes it.
 *
 * Pipe protocol: any number of text lines, then two bytes: NUL and the exit
 * status.  EOF without them means the daemon died without saying why.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <paths.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "log.h"
#include "msgd.h"

static int	daemon_fd = -1;

static void	daemon_wait(int) __attribute__((noreturn));
static void	daemon_report(int);

/* In the waiting parent: relay the daemon's messages and status, exit. */
static void
daemon_wait(int fd)
{
	char	buf[4096];
	size_t	len = 0;
	ssize_t	n;

	while (len < sizeof(buf) &&
	    (n = read(fd, buf + len, sizeof(buf) - len)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		len += (size_t)n;
	}
	if (len >= 2 && buf[len - 2] == '\0') {
		if (len > 2)
			fwrite(buf, 1, len - 2, stderr);
		_exit((unsigned char)buf[len - 1]);
	}
	fwrite(buf, 1, len, stderr);
	fprintf(stderr, "msgd: the daemon exited during start-up\n");
	_exit(EX_SOFTWARE);
}

/* fatal() hook in the daemon: tell the waiting parent how we ended. */
static void
daemon_report(int status)
{
	char	end[2] = { '\0', (char)status };

	/* A parent that is gone has nobody left to tell: ignore a failure. */
	if (daemon_fd != -1 &&
	    write(daemon_fd, end, sizeof(end)) != (ssize_t)sizeof(end))
		return;
}

/*
 * Fork twice (new session, never a session leader again), chdir to /, and
 * point standard input and output, and standard error unless the log goes
 * there, to /dev/null.  Returns in the daemon.
 */
void
daemon_start(int keep_stderr)
{
	int	p[2], fd;

	if (pipe2(p, O_CLOEXEC) == -1)
		fatal(EX_OSERR, "pipe");
	switch (fork()) {
	case -1:
		fatal(EX_OSERR, "fork");
	case 0:
		break;
	default:
		close(p[1]);
		daemon_wait(p[0]);
	}
	close(p[0]);
	if (setsid() == -1)
		fatal(EX_OSERR, "setsid");
	switch (fork()) {
	case -1:
		fatal(EX_OSERR, "fork");
	case 0:
		break;
	default:
		_exit(0);
	}
	daemon_fd = p[1];
	log_set_console(daemon_fd);
	log_set_exit_hook(daemon_report);
	if (chdir("/") == -1)
		fatal(EX_OSERR, "chdir /");
	if ((fd = open(_PATH_DEVNULL, O_RDWR)) == -1)
		fatal(EX_OSERR, "%s", _PATH_DEVNULL);
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	if (!keep_stderr)
		dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

/*
 * SIGUSR2 (upgrade.c): the old msgd waits on fd as -d's parent does, and
 * we are already detached.
 */
void
daemon_inherit(int fd)
{
	daemon_fd = fd;
	log_set_console(daemon_fd);
	log_set_exit_hook(daemon_report);
}

/*
 * Serving: release the waiting parent with status 0.  Workers are running
 * and may be copying a warning to the pipe: rather than close it (its
 * number could go to a client's socket), put /dev/null (our stdin) in its
 * place, which ends the pipe all the same.
 */
void
daemon_ready(void)
{
	if (daemon_fd == -1)
		return;
	log_set_console(-1);
	log_set_exit_hook(NULL);
	daemon_report(0);
	if (dup2(STDIN_FILENO, daemon_fd) == -1)
		close(daemon_fd);
	daemon_fd = -1;
}
