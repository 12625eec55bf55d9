/*
 * epoll-server.c - the reference msgd is measured against: the same
 * protocol on raw epoll, with nothing a single core could skip.
 *
 * One thread, level-triggered epoll, non-blocking sockets.  Connection
 * state is a 16-byte slot in one table indexed by descriptor (calloc'd
 * once, so pages are only touched as descriptors are used).  Reads go into
 * one shared 64 KiB buffer; only when a read ends inside a line is the
 * unfinished part kept, in the connection's fixed line buffer (allocated
 * the first time it is needed, freed on close), and reads then continue
 * into that buffer until the line is complete.  Level triggering lets one
 * read(2) per readiness event suffice: no extra read to see EAGAIN.  Every reply
 * is the same 15 bytes, so pending output is just a byte count into a
 * static run of repeated replies and is written with write(2) at once;
 * EPOLLOUT is asked for only when a write is short, and reading stops
 * until the backlog drains (backpressure for free).
 *
 * -k: answer every LF-terminated line and keep the connection open.
 * default: answer the first data, shutdown(SHUT_WR), read until the
 * client closes, close.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REPLY		"Hello, client!\n"
#define REPLY_LEN	(sizeof(REPLY) - 1)
#define REPLY_RUN	1024	/* replies in the static output run */
#define CONN_BUF	4096	/* longest line */
#define READ_BUF	65536
#define MAX_EVENTS	512

enum { ST_FREE, ST_READ, ST_LINGER };

struct conn {
	uint8_t		state;
	uint8_t		closing;	/* one-shot: shut down once drained */
	uint16_t	inlen;		/* bytes of an unfinished line */
	uint32_t	outpend;	/* reply bytes not yet written */
	char		*in;		/* CONN_BUF bytes, once needed */
};

static char		 out_run[(REPLY_RUN + 1) * REPLY_LEN];
static char		 rbuf[READ_BUF];
static struct conn	*conns;
static int		 nconns_max;
static int		 epfd, lfd;
static int		 keep_open;
static int		 listening = 1;

static void
fatal(const char *what)
{
	perror(what);
	exit(1);
}

static void
ep_set(int fd, uint32_t events, int op)
{
	struct epoll_event ev;

	ev.events = events;
	ev.data.u64 = 0;
	ev.data.fd = fd;
	if (epoll_ctl(epfd, op, fd, &ev) == -1)
		fatal("epoll_ctl");
}

static void
conn_close(int fd)
{
	conns[fd].state = ST_FREE;
	free(conns[fd].in);
	conns[fd].in = NULL;
	close(fd);		/* also leaves the epoll set */
	if (!listening) {	/* out of descriptors before: try again */
		listening = 1;
		ep_set(lfd, EPOLLIN, EPOLL_CTL_ADD);
	}
}

/*
 * Write what is pending.  Returns 0 when everything went, 1 when the
 * socket is full, -1 if the connection is gone.
 */
static int
conn_flush(int fd, struct conn *c)
{
	ssize_t	n;
	size_t	len, off;

	while (c->outpend > 0) {
		/* Pending bytes always end on a reply boundary. */
		off = (REPLY_LEN - c->outpend % REPLY_LEN) % REPLY_LEN;
		len = c->outpend;
		if (len > REPLY_RUN * REPLY_LEN)
			len = REPLY_RUN * REPLY_LEN;
		n = write(fd, out_run + off, len);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return (1);
			return (-1);
		}
		c->outpend -= (uint32_t)n;
		if ((size_t)n < len)
			return (1);
	}
	return (0);
}

/* One-shot: the reply is out; stop sending and wait for the client. */
static void
conn_linger(int fd, struct conn *c)
{
	shutdown(fd, SHUT_WR);
	c->state = ST_LINGER;
}

/* Write, and switch to waiting for EPOLLOUT only if that fell short. */
static void
conn_send(int fd, struct conn *c)
{
	switch (conn_flush(fd, c)) {
	case -1:
		conn_close(fd);
		return;
	case 1:
		ep_set(fd, EPOLLOUT, EPOLL_CTL_MOD);
		return;
	}
	if (c->closing)
		conn_linger(fd, c);
}

static void
conn_read(int fd, struct conn *c)
{
	ssize_t	 n;
	char	*buf, *p, *end, *nl, *line;
	size_t	 room, rest;

	if (c->state == ST_LINGER) {
		n = read(fd, rbuf, sizeof(rbuf));
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
			conn_close(fd);
		return;
	}
	/* Into the line buffer while a line is unfinished, else the shared. */
	if (c->inlen > 0) {
		buf = c->in;
		room = CONN_BUF - c->inlen;
	} else {
		buf = rbuf;
		room = sizeof(rbuf);
	}
	n = read(fd, buf + c->inlen, room);
	if (n == -1) {
		if (errno != EAGAIN && errno != EINTR)
			conn_close(fd);
		return;
	}
	if (n == 0) {
		/* An unterminated last line is a line too. */
		if (keep_open && c->inlen > 0) {
			c->outpend += REPLY_LEN;
			conn_flush(fd, c);
		}
		conn_close(fd);
		return;
	}
	if (!keep_open) {
		c->outpend = REPLY_LEN;
		c->closing = 1;
		conn_send(fd, c);
		return;
	}

	line = buf;
	p = buf + c->inlen;	/* only new bytes can hold a newline */
	end = p + n;
	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		c->outpend += REPLY_LEN;
		line = p = nl + 1;
	}
	/* Keep the unfinished line at the front of the line buffer. */
	if ((rest = (size_t)(end - line)) >= CONN_BUF) {
		conn_close(fd);			/* line too long */
		return;
	}
	if (rest > 0 && line != c->in) {
		if (c->in == NULL && (c->in = malloc(CONN_BUF)) == NULL) {
			conn_close(fd);
			return;
		}
		memmove(c->in, line, rest);
	}
	c->inlen = (uint16_t)rest;
	if (c->outpend > 0)
		conn_send(fd, c);
}

static void
conn_writable(int fd, struct conn *c)
{
	switch (conn_flush(fd, c)) {
	case -1:
		conn_close(fd);
		return;
	case 1:
		return;
	}
	if (c->closing)
		conn_linger(fd, c);
	ep_set(fd, EPOLLIN, EPOLL_CTL_MOD);
}

static void
server_accept(void)
{
	struct conn	*c;
	int		 fd;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				/* Listen again when a connection closes. */
				listening = 0;
				if (epoll_ctl(epfd, EPOLL_CTL_DEL, lfd,
				    NULL) == -1)
					fatal("epoll_ctl");
			}
			return;
		}
		if (fd >= nconns_max) {
			close(fd);
			continue;
		}
		c = &conns[fd];
		c->state = ST_READ;
		c->closing = 0;
		c->inlen = 0;
		c->outpend = 0;
		ep_set(fd, EPOLLIN, EPOLL_CTL_ADD);
	}
}

static int
server_listen(int port)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			one = 1;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd == -1)
		fatal("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		fatal("bind");
	if (listen(lfd, 65535) == -1)
		fatal("listen");
	if (getsockname(lfd, (struct sockaddr *)&sin, &len) == -1)
		fatal("getsockname");
	return (ntohs(sin.sin_port));
}

static void
usage(void)
{
	fprintf(stderr, "usage: epoll-server [-k] [-p PORT]\n");
	exit(64);
}

int
main(int argc, char *argv[])
{
	struct epoll_event	 ev[MAX_EVENTS];
	struct rlimit		 rl;
	size_t			 i;
	int			 ch, n, port = 5000;

	while ((ch = getopt(argc, argv, "kp:h")) != -1) {
		switch (ch) {
		case 'k':
			keep_open = 1;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("getrlimit");
	nconns_max = rl.rlim_cur > 1048576 ? 1048576 : (int)rl.rlim_cur;
	if ((conns = calloc((size_t)nconns_max, sizeof(*conns))) == NULL)
		fatal("calloc");
	for (i = 0; i <= REPLY_RUN; i++)
		memcpy(out_run + i * REPLY_LEN, REPLY, REPLY_LEN);

	port = server_listen(port);
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
	ep_set(lfd, EPOLLIN, EPOLL_CTL_ADD);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("listening on 127.0.0.1:%d\n", port);

	for (;;) {
		n = epoll_wait(epfd, ev, MAX_EVENTS, -1);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			fatal("epoll_wait");
		}
		for (i = 0; i < (size_t)n; i++) {
			int		 fd = ev[i].data.fd;
			struct conn	*c = &conns[fd];

			if (fd == lfd) {
				server_accept();
				continue;
			}
			if (c->state == ST_FREE)
				continue;	/* closed earlier this round */
			if (ev[i].events & EPOLLOUT)
				conn_writable(fd, c);
			else if (ev[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				conn_read(fd, c);
		}
	}
}
