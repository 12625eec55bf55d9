/*
 * idle-conns.c - open many connections to a server and hold them, for
 * run.sh's idle-memory and most-connections workloads.
 *
 * Opens N connections (at most -P connects in flight, spread over -s
 * loopback source addresses 127.0.0.1, .2, ...), and confirms each one is
 * established (SO_ERROR 0).  With -x it then sends one line on every
 * connection and checks that each gets "Hello, client!\n" back, timing
 * each answer.  With -w it holds the connections until SIGTERM or SIGINT.
 * The outcome is one JSON line in msgbench's format, on stdout.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define REPLY		"Hello, client!\n"
#define REPLY_LEN	(sizeof(REPLY) - 1)
#define LINE		"hello\n"

struct peer {
	int		fd;
	int		state;		/* 0 connecting, 1 open, 2 answered,
					   -1 failed */
	uint8_t		got;
	char		buf[REPLY_LEN];
	uint64_t	sent;		/* ns */
	uint64_t	lat;		/* ns */
};

static volatile sig_atomic_t	stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

static void
usage(void)
{
	fprintf(stderr, "usage: idle-conns [-wx] [-H HOST] [-p PORT] [-n N] "
	    "[-s SOURCES] [-P PARALLEL] [-t SECONDS]\n");
	exit(64);
}

static int
peer_connect(struct peer *p, const struct sockaddr_in *dst, int src)
{
	struct sockaddr_in	sin;
	int			one = 1;

	p->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd == -1)
		return (-1);
	if (src > 0) {
		/* Spread over 127.0.0.x; pick the port at connect time. */
		setsockopt(p->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof(one));
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(0x7f000000u | (uint32_t)src);
		if (bind(p->fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
			return (-1);
	}
	if (connect(p->fd, (const struct sockaddr *)dst, sizeof(*dst)) == -1 &&
	    errno != EINPROGRESS)
		return (-1);
	return (0);
}

int
main(int argc, char *argv[])
{
	struct epoll_event	 ev, evs[1024];
	struct sockaddr_in	 dst;
	struct rlimit		 rl;
	struct peer		*peers, *p;
	uint64_t		*lat, t0, t1, deadline;
	socklen_t		 len;
	const char		*host = "127.0.0.1";
	long			 n = 1000, i, next = 0, inflight = 0, open = 0;
	long			 failed = 0, answered = 0, bad = 0, pending;
	int			 ch, k, nev, err, port = 5000, sources = 1;
	int			 parallel = 256, hold = 0, exchange = 0;
	int			 seconds = 60, epfd;
	ssize_t			 r;

	while ((ch = getopt(argc, argv, "H:n:P:p:s:t:wx")) != -1) {
		switch (ch) {
		case 'H': host = optarg; break;
		case 'n': n = atol(optarg); break;
		case 'P': parallel = atoi(optarg); break;
		case 'p': port = atoi(optarg); break;
		case 's': sources = atoi(optarg); break;
		case 't': seconds = atoi(optarg); break;
		case 'w': hold = 1; break;
		case 'x': exchange = 1; break;
		default: usage();
		}
	}
	if (optind != argc || n < 1 || parallel < 1 || sources < 1 ||
	    sources > 254)
		usage();
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &dst.sin_addr) != 1 ||
	    (ntohl(dst.sin_addr.s_addr) >> 24) != 127) {
		fprintf(stderr, "idle-conns: %s: loopback IPv4 only\n", host);
		return (64);
	}

	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((peers = calloc((size_t)n, sizeof(*peers))) == NULL ||
	    (lat = calloc((size_t)n, sizeof(*lat))) == NULL ||
	    (epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		perror("idle-conns");
		return (1);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	t0 = now_ns();
	deadline = t0 + (uint64_t)seconds * 1000000000ull;

	/* Connect, a window at a time so the listen backlog never drops. */
	while ((open + failed < n) && !stop && now_ns() < deadline) {
		while (next < n && inflight < parallel) {
			p = &peers[next];
			p->fd = -1;
			if (peer_connect(p, &dst, sources > 1 ?
			    1 + (int)(next % sources) : 0) == -1) {
				fprintf(stderr, "idle-conns: connection %ld: "
				    "%s\n", next, strerror(errno));
				if (p->fd != -1)
					close(p->fd);
				p->fd = -1;
				p->state = -1;
				failed++;
				next++;
				continue;
			}
			ev.events = EPOLLOUT;
			ev.data.u64 = (uint64_t)next;
			epoll_ctl(epfd, EPOLL_CTL_ADD, p->fd, &ev);
			inflight++;
			next++;
		}
		nev = epoll_wait(epfd, evs, 1024, 100);
		for (k = 0; k < nev; k++) {
			p = &peers[evs[k].data.u64];
			len = sizeof(err);
			if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err,
			    &len) == -1)
				err = errno;
			inflight--;
			if (err != 0) {
				fprintf(stderr, "idle-conns: connect: %s\n",
				    strerror(err));
				epoll_ctl(epfd, EPOLL_CTL_DEL, p->fd, NULL);
				close(p->fd);
				p->fd = -1;
				p->state = -1;
				failed++;
				continue;
			}
			/* Established: watch it for input from now on. */
			ev.events = EPOLLIN;
			ev.data.u64 = evs[k].data.u64;
			epoll_ctl(epfd, EPOLL_CTL_MOD, p->fd, &ev);
			p->state = 1;
			open++;
		}
	}
	t1 = now_ns();
	fprintf(stderr, "idle-conns: established %ld of %ld in %.2f s "
	    "(%ld failed)\n", open, n, (double)(t1 - t0) / 1e9, failed);

	if (exchange && open > 0) {
		/* One line on every connection, then wait for every answer. */
		t0 = now_ns();
		for (i = 0; i < n; i++) {
			p = &peers[i];
			if (p->state != 1)
				continue;
			p->sent = now_ns();
			if (write(p->fd, LINE, sizeof(LINE) - 1) !=
			    (ssize_t)(sizeof(LINE) - 1)) {
				p->state = -1;
				bad++;
			}
		}
		pending = open - bad;
		deadline = now_ns() + (uint64_t)seconds * 1000000000ull;
		while (pending > 0 && !stop && now_ns() < deadline) {
			nev = epoll_wait(epfd, evs, 1024, 100);
			for (k = 0; k < nev; k++) {
				p = &peers[evs[k].data.u64];
				if (p->state != 1) {
					/* Answered before: only EOF is due. */
					epoll_ctl(epfd, EPOLL_CTL_DEL, p->fd,
					    NULL);
					continue;
				}
				r = read(p->fd, p->buf + p->got,
				    REPLY_LEN - p->got);
				if (r == -1 && errno == EAGAIN)
					continue;
				if (r <= 0) {
					p->state = -1;
					bad++;
					pending--;
					continue;
				}
				p->got += (uint8_t)r;
				if (p->got < REPLY_LEN)
					continue;
				pending--;
				if (memcmp(p->buf, REPLY, REPLY_LEN) != 0) {
					p->state = -1;
					bad++;
					continue;
				}
				p->lat = now_ns() - p->sent;
				lat[answered++] = p->lat;
				p->state = 2;
			}
		}
		t1 = now_ns();
		bad += pending;		/* never answered */
		qsort(lat, (size_t)answered, sizeof(*lat), cmp_u64);
#define PCT(q) (answered ? lat[(size_t)((double)(answered - 1) * (q))] / 1000 : 0)
		printf("{\"mode\":\"hold\",\"conns\":%ld,\"established\":%ld,"
		    "\"depth\":1,\"messages\":%ld,\"errors\":%ld,"
		    "\"msgs_per_sec\":%.1f,\"seconds\":%.3f,"
		    "\"p50_us\":%llu,\"p90_us\":%llu,\"p99_us\":%llu,"
		    "\"p999_us\":%llu,\"max_us\":%llu}\n", n, open, answered,
		    bad + failed, (double)answered * 1e9 / (double)(t1 - t0),
		    (double)(t1 - t0) / 1e9,
		    (unsigned long long)PCT(0.50), (unsigned long long)PCT(0.90),
		    (unsigned long long)PCT(0.99), (unsigned long long)PCT(0.999),
		    (unsigned long long)PCT(1.0));
	} else {
		printf("{\"mode\":\"idle\",\"conns\":%ld,\"established\":%ld,"
		    "\"errors\":%ld}\n", n, open, failed);
	}

	/* Hold (bounded by -t too, so a lost signal cannot hang a run). */
	deadline = now_ns() + (uint64_t)seconds * 1000000000ull;
	while (hold && !stop && now_ns() < deadline)
		sleep(1);
	return (open == n && bad == 0 ? 0 : 1);
}
