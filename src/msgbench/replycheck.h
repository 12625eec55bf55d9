/*
 * replycheck.h - checks a stream of replies against the expected one,
 * byte for byte, however the reads split it.  No I/O.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#ifndef MSGD_REPLYCHECK_H
#define MSGD_REPLYCHECK_H

#include <stddef.h>
#include <stdint.h>

enum replycheck_result {
	REPLYCHECK_OK,		/* everything so far was right */
	REPLYCHECK_MISMATCH,	/* a byte differs from the expected reply */
	REPLYCHECK_EXTRA	/* a byte came when no reply was owed */
};

struct replycheck {
	const char	*expect;	/* one whole reply, with its LF */
	size_t		 len;
	size_t		 pos;		/* into the current reply */
	uint64_t	 replies;	/* complete replies since the reset */

	/* Where the first bad byte was, once feed() has said so. */
	uint64_t	 bad_reply;	/* replies complete before it */
	size_t		 bad_offset;	/* its offset in that reply */
	int		 bad_expected;	/* wanted; -1 for EXTRA */
	unsigned char	 bad_got;	/* the byte that came */
};

void	replycheck_init(struct replycheck *, const char *, size_t);
void	replycheck_reset(struct replycheck *);
enum replycheck_result replycheck_feed(struct replycheck *, const char *,
	    size_t, size_t, size_t *);
size_t	replycheck_partial(const struct replycheck *);

#endif /* MSGD_REPLYCHECK_H */
