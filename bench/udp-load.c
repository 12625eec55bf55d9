/*
 * udp-load.c - a UDP load generator for msgd -U, for bench/udp.sh.
 *
 * Sends from -s sockets, each bound to 127.0.0.1 on a port of its own (so
 * that SO_REUSEPORT's hash of the address pair can spread them over the
 * server's workers), keeping -w datagrams in flight on each: every reply
 * lets the socket send one more (closed loop, so the rate is what the
 * server answers, not what the kernel drops).  A socket that has waited
 * 200 ms for a reply counts its datagrams as lost and sends a new window.
 * After -d seconds prints one line:
 *
 *     replies N seconds S rate R lost L
 *
 * Needs a server whose rate limit does not bite (--udp-rate and
 * --udp-burst above the rate measured).
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* sendmmsg, recvmmsg */
#endif
#include <sys/epoll.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define UDP_LOAD_BATCH		64
#define UDP_LOAD_TIMEOUT_NS	200000000ULL
#define UDP_LOAD_LINE		"ping\n"

struct udp_load_sock {
	int		fd;
	int		inflight;
	uint64_t	last;		/* ns: last reply, or window sent */
};

static uint64_t
udp_load_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec);
}

/* Send n datagrams on s; returns how many left. */
static int
udp_load_send(struct udp_load_sock *s, int n)
{
	struct mmsghdr	msgs[UDP_LOAD_BATCH];
	struct iovec	iov = { UDP_LOAD_LINE, sizeof(UDP_LOAD_LINE) - 1 };
	int		i, sent;

	if (n > UDP_LOAD_BATCH)
		n = UDP_LOAD_BATCH;
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < n; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	if ((sent = sendmmsg(s->fd, msgs, (unsigned)n, MSG_DONTWAIT)) == -1)
		return (0);
	s->inflight += sent;
	return (sent);
}

/* Read every reply waiting on s; returns how many. */
static int
udp_load_recv(struct udp_load_sock *s)
{
	static char	bufs[UDP_LOAD_BATCH][256];
	struct mmsghdr	msgs[UDP_LOAD_BATCH];
	struct iovec	iov[UDP_LOAD_BATCH];
	int		i, n, total = 0;

	for (;;) {
		memset(msgs, 0, sizeof(msgs));
		for (i = 0; i < UDP_LOAD_BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = sizeof(bufs[i]);
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(s->fd, msgs, UDP_LOAD_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return (total);
		total += n;
		s->inflight -= n;
		if (s->inflight < 0)
			s->inflight = 0;	/* a late reply after a timeout */
	}
}

static void
udp_load_usage(void)
{
	fprintf(stderr, "usage: udp-load [-s sockets] [-w window] "
	    "[-d seconds] port\n");
	exit(64);
}

int
main(int argc, char **argv)
{
	struct udp_load_sock	*socks;
	struct sockaddr_in	 sin;
	struct epoll_event	 ev, evs[256];
	uint64_t		 start, end, now, replies = 0, lost = 0;
	double			 secs;
	int			 ch, i, n, ep, nsocks = 64, window = 8;
	int			 duration = 5, port;

	while ((ch = getopt(argc, argv, "s:w:d:")) != -1) {
		switch (ch) {
		case 's':
			nsocks = atoi(optarg);
			break;
		case 'w':
			window = atoi(optarg);
			break;
		case 'd':
			duration = atoi(optarg);
			break;
		default:
			udp_load_usage();
		}
	}
	if (optind + 1 != argc || nsocks < 1 || window < 1 || duration < 1 ||
	    (port = atoi(argv[optind])) < 1 || port > 65535)
		udp_load_usage();
	if ((socks = calloc((size_t)nsocks, sizeof(*socks))) == NULL ||
	    (ep = epoll_create1(0)) == -1) {
		perror("udp-load");
		return (71);
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	start = udp_load_now();
	for (i = 0; i < nsocks; i++) {
		if ((socks[i].fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK,
		    0)) == -1 || connect(socks[i].fd, (struct sockaddr *)&sin,
		    sizeof(sin)) == -1) {
			perror("udp-load: socket");
			return (71);
		}
		ev.events = EPOLLIN;
		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, socks[i].fd, &ev) == -1) {
			perror("udp-load: epoll_ctl");
			return (71);
		}
		socks[i].last = start;
		udp_load_send(&socks[i], window);
	}
	end = start + (uint64_t)duration * 1000000000;
	while ((now = udp_load_now()) < end) {
		n = epoll_wait(ep, evs, 256, 50);
		for (i = 0; i < n; i++) {
			struct udp_load_sock *s = &socks[evs[i].data.u32];
			int got = udp_load_recv(s);

			replies += (uint64_t)got;
			if (got > 0) {
				s->last = now;
				udp_load_send(s, window - s->inflight);
			}
		}
		for (i = 0; i < nsocks; i++) {
			if (now - socks[i].last < UDP_LOAD_TIMEOUT_NS)
				continue;
			lost += (uint64_t)socks[i].inflight;
			socks[i].inflight = 0;
			socks[i].last = now;
			udp_load_send(&socks[i], window);
		}
	}
	secs = (double)(udp_load_now() - start) / 1e9;
	printf("replies %llu seconds %.3f rate %.0f lost %llu\n",
	    (unsigned long long)replies, secs, (double)replies / secs,
	    (unsigned long long)lost);
	return (0);
}
