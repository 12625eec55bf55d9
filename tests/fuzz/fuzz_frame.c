/*
 * fuzz_frame.c - libFuzzer target for frame.c: split the input into lines
 * the way conn.c does (with a resumed scan), and compose every reply in
 * both modes, checking the invariants conn.c relies on.
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct frame_reply	 modes[2] = {
		{ "Hello, client!", 14, 0 }, { "Hello, client!", 14, 1 }
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
	return (0);
}
