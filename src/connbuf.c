/*
 * connbuf.c - a connection's evbuffers: reading into one, writing from
 * one, looking into one.
 *
 * Plain helpers over libevent's evbuffers and a descriptor; they know
 * nothing of struct conn and decide nothing about its life: conn.c makes
 * the buffers, calls these, and acts on what they return.  Reads stay
 * msgd's own rather than a bufferevent's, which would call ioctl(FIONREAD)
 * before every read.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "msgd.h"
#include "proxy.h"

/*
 * Read once into the buffer, at most CONN_READ_ASK bytes (the memory bound
 * on a long line counts on it), through scratch (CONN_READ_ASK bytes, the
 * worker's read buffer): the chain added is as big as what arrived, where
 * reserving room for a whole read first made every byte a trickling
 * client sent cost a 16 KiB chain (tests/hostile-slowloris.sh measures
 * it).  Returns the bytes read, 0 at EOF, -1 on error (errno EAGAIN:
 * nothing there after all; ENOMEM: no room).
 */
ssize_t
connbuf_fill(struct evbuffer *in, int fd, char *scratch)
{
	ssize_t	n;

	if ((n = read(fd, scratch, CONN_READ_ASK)) > 0 &&
	    evbuffer_add(in, scratch, (size_t)n) == -1) {
		errno = ENOMEM;
		return (-1);
	}
	return (n);
}

/*
 * As connbuf_fill(), but only bytes that belong to a PROXY header (what
 * the buffer holds is its start): on a TLS listener the ClientHello
 * follows it on the socket, for OpenSSL to read.  Peek, then take up to
 * the end of a v2 header once its length is known, else up to the first
 * LF (a v1 header's end; v2's signature has LFs too, so it comes a few
 * bytes at a time until its length is there), else all: every byte
 * before those belongs to the header, if it is one at all.  Each read
 * takes at least a byte, so a level-triggered event cannot spin.
 */
ssize_t
connbuf_fill_header(struct evbuffer *in, int fd, char *scratch)
{
	char		 head[16];
	const char	*lf;
	size_t		 have = evbuffer_get_length(in), n, want, h;
	ssize_t		 got;

	if ((got = recv(fd, scratch, CONN_READ_ASK, MSG_PEEK)) <= 0)
		return (got);
	n = (size_t)got;
	if ((h = (size_t)evbuffer_copyout(in, head, sizeof(head))) <
	    sizeof(head)) {
		memcpy(head + h, scratch, n < sizeof(head) - h ? n :
		    sizeof(head) - h);
		h += n < sizeof(head) - h ? n : sizeof(head) - h;
	}
	if ((want = proxy_length(head, h)) > have) {
		if (n > want - have)
			n = want - have;
	} else if ((lf = memchr(scratch, '\n', n)) != NULL)
		n = (size_t)(lf - scratch) + 1;
	if ((got = recv(fd, scratch, n, 0)) > 0 &&
	    evbuffer_add(in, scratch, (size_t)got) == -1) {
		errno = ENOMEM;
		return (-1);
	}
	return (got);
}

/*
 * Write what the buffer holds, as far as the socket takes it.  Returns -1
 * only when the connection is broken.
 */
int
connbuf_write(struct evbuffer *out, int fd)
{
	errno = 0;
	if (evbuffer_write(out, fd) == -1 && errno != EAGAIN &&
	    errno != EINTR)
		return (-1);
	return (0);
}

/* Add niov pieces, less the first 'skip' bytes of the first.  0 or -1. */
int
connbuf_add(struct evbuffer *out, const struct iovec *iov, int niov,
    size_t skip)
{
	int	i;

	for (i = 0; i < niov; i++, skip = 0) {
		if (evbuffer_add(out, (const char *)iov[i].iov_base + skip,
		    iov[i].iov_len - skip) == -1)
			return (-1);
	}
	return (0);
}

/*
 * Whether the buffer holds an LF at or after 'from', found without making
 * the buffer contiguous: a long line is neither copied nor rescanned.
 */
int
connbuf_has_lf(struct evbuffer *in, size_t from)
{
	struct evbuffer_ptr	start;

	return (evbuffer_ptr_set(in, &start, from, EVBUFFER_PTR_SET) == 0 &&
	    evbuffer_search(in, "\n", 1, &start).pos != -1);
}

/* Whether the buffer's last byte is a CR (a CRLF may be half in). */
int
connbuf_ends_cr(struct evbuffer *in)
{
	struct evbuffer_ptr	last;
	size_t			len = evbuffer_get_length(in);
	char			ch;

	return (len > 0 &&
	    evbuffer_ptr_set(in, &last, len - 1, EVBUFFER_PTR_SET) == 0 &&
	    evbuffer_copyout_from(in, &last, &ch, 1) == 1 && ch == '\r');
}
