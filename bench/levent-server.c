/*
 * levent-server.c - the libevent server a user would write from the
 * samples (sample/hello-world.c, the bufferevent echo server): an
 * evconnlistener, one bufferevent per connection, evbuffer_readln for
 * lines, bufferevent_write for replies, libevent's own write handling.
 * It is the baseline msgd is measured against besides raw epoll.
 *
 * -k: answer every LF-terminated line and keep the connection open.
 * default: answer the first data, shutdown(SHUT_WR) once it is written,
 * read until the client closes, close.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

static const char	reply[] = "Hello, client!\n";
static int		keep_open;

static void	conn_read(struct bufferevent *, void *);
static void	conn_write(struct bufferevent *, void *);
static void	conn_event(struct bufferevent *, short, void *);

/* One-shot state is the callback argument: NULL reading, else lingering. */
#define LINGERING	((void *)1)

static void
conn_read(struct bufferevent *bev, void *arg)
{
	struct evbuffer	*in = bufferevent_get_input(bev);
	char		*line;
	size_t		 n;

	if (!keep_open) {
		evbuffer_drain(in, evbuffer_get_length(in));
		if (arg == NULL) {
			bufferevent_write(bev, reply, sizeof(reply) - 1);
			bufferevent_setcb(bev, conn_read, conn_write,
			    conn_event, LINGERING);
		}
		return;
	}
	while ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF)) != NULL) {
		bufferevent_write(bev, reply, sizeof(reply) - 1);
		free(line);
	}
}

/* The output has drained: a one-shot reply is out, stop sending. */
static void
conn_write(struct bufferevent *bev, void *arg)
{
	if (arg == LINGERING)
		shutdown(bufferevent_getfd(bev), SHUT_WR);
}

static void
conn_event(struct bufferevent *bev, short what, void *arg)
{
	(void)arg;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		bufferevent_free(bev);
}

static void
server_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct event_base	*base = arg;
	struct bufferevent	*bev;

	(void)l;
	(void)sa;
	(void)salen;
	bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		evutil_closesocket(fd);
		return;
	}
	bufferevent_setcb(bev, conn_read, conn_write, conn_event, NULL);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

/* Out of descriptors: pause accepting for a moment instead of spinning. */
static void
server_resume(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	evconnlistener_enable(arg);
}

static void
server_accept_error(struct evconnlistener *l, void *arg)
{
	struct timeval	tv = { 0, 100000 };

	(void)arg;
	evconnlistener_disable(l);
	event_base_once(evconnlistener_get_base(l), -1, EV_TIMEOUT,
	    server_resume, l, &tv);
}

int
main(int argc, char *argv[])
{
	struct event_base	*base;
	struct evconnlistener	*listener;
	struct sockaddr_in	 sin;
	struct rlimit		 rl;
	socklen_t		 len = sizeof(sin);
	int			 ch, port = 5000;

	while ((ch = getopt(argc, argv, "kp:h")) != -1) {
		switch (ch) {
		case 'k':
			keep_open = 1;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: levent-server [-k] [-p PORT]\n");
			return (64);
		}
	}

	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	if ((base = event_base_new()) == NULL) {
		fprintf(stderr, "could not initialize libevent\n");
		return (1);
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listener = evconnlistener_new_bind(base, server_accept, base,
	    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE, -1,
	    (struct sockaddr *)&sin, sizeof(sin));
	if (listener == NULL) {
		perror("could not create a listener");
		event_base_free(base);
		return (1);
	}
	evconnlistener_set_error_cb(listener, server_accept_error);
	if (getsockname(evconnlistener_get_fd(listener),
	    (struct sockaddr *)&sin, &len) == -1) {
		perror("getsockname");
		return (1);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("listening on 127.0.0.1:%d\n", ntohs(sin.sin_port));

	event_base_dispatch(base);

	evconnlistener_free(listener);
	event_base_free(base);
	return (0);
}
