/*
 * fuzz_frame.c - libFuzzer target for frame.c: split the input into lines
 * the way conn.c does (with a resumed scan), and compose every reply in
 * both modes, checking the invariants conn.c relies on; and answer it with
 * frame_answer in every mode, a batch at a time, as conn.c and udp.c do.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	fuzz_answer(const char *, size_t, enum frame_mode, int);

/* Answer all of buf: every batch in bounds, and always progress. */
static void
fuzz_answer(const char *buf, size_t size, enum frame_mode mode, int echo)
{
	struct frame_policy	p = { "Hi\nHi\n", 2, 6, 8, echo, mode };
	struct iovec		iov[5];
	struct frame_batch	b;
	enum frame_status	st;
	size_t			used = 0, sum;
	int			i, last = size % 2;

	b.iov = iov;
	b.maxiov = 5;
	b.room = 32;
	b.scanned = 0;
	do {
		st = frame_answer(&p, buf + used, size - used, last, &b);
		if (b.used > size - used || b.niov > b.maxiov || b.niov < 0)
			abort();
		for (i = 0, sum = 0; i < b.niov; i++)
			sum += b.iov[i].iov_len;
		if (sum != b.reply_bytes)
			abort();
		if (st == FRAME_FULL && b.used == 0)
			abort();	/* no progress */
		if ((st == FRAME_DONE || st == FRAME_TOO_LONG) &&
		    b.used != size - used)
			abort();
		used += b.used;
	} while (st == FRAME_FULL);
	if (st == FRAME_MORE && (mode == FRAME_DATAGRAM ||
	    b.scanned != size - used || b.scanned > p.max_message + 1))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct frame_policy modes[2] = {
		{ "Hello, client!", 14, 0, 0, 0, FRAME_KEEP_OPEN },
		{ "Hello, client!", 14, 0, 0, 1, FRAME_KEEP_OPEN }
	};
	const char	*buf = (const char *)data;
	struct iovec	 iov[2];
	size_t		 off = 0, n, linelen, scanned, total;
	int		 i, m;

	/* A scan resumed part-way must find the same line. */
	scanned = size > 0 ? data[0] % (size + 1) : 0;
	if (memchr(buf, '\n', scanned) != NULL)
		scanned = 0;
	while ((n = frame_line(buf + off, size - off, scanned,
	    &linelen)) != 0) {
		scanned = 0;
		if (n > size - off || linelen >= n ||
		    buf[off + n - 1] != '\n' ||
		    memchr(buf + off, '\n', n - 1) != NULL)
			abort();
		for (m = 0; m < 2; m++) {
			i = frame_compose(&modes[m], buf + off, linelen, iov);
			if (i < 1 || i > 2)
				abort();
			total = iov[0].iov_len + (i == 2 ? iov[1].iov_len : 0);
			if (total != frame_reply_len(&modes[m], linelen))
				abort();
			if (m == 1 && i == 2 &&
			    memcmp(iov[0].iov_base, buf + off, linelen) != 0)
				abort();
		}
		off += n;
	}
	if (memchr(buf + off, '\n', size - off) != NULL)
		abort();
	if (frame_strip(buf + off, size - off) > size - off)
		abort();
	for (m = 0; m < 2; m++) {
		fuzz_answer(buf, size, FRAME_ONESHOT, m);
		fuzz_answer(buf, size, FRAME_KEEP_OPEN, m);
		fuzz_answer(buf, size, FRAME_DATAGRAM, m);
	}
	return (0);
}
