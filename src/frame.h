/*
 * frame.h - bytes to lines to replies, without I/O.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#ifndef MSGD_FRAME_H
#define MSGD_FRAME_H

#include <stddef.h>
#include <sys/uio.h>

struct frame_reply {
	const char	*message;	/* fixed reply and its LF, ... */
	size_t		 message_len;	/* ... without the LF */
	int		 echo;		/* reply with the line itself */
	size_t		 run_len;	/* bytes of message that hold whole
					   replies back to back; 0: one */
};

/* How many bytes of replies back to back a server keeps for frame_append. */
#define FRAME_RUN_BYTES	16384

size_t	frame_line(const char *, size_t, size_t, size_t *);
size_t	frame_strip(const char *, size_t);
int	frame_compose(const struct frame_reply *, const char *, size_t,
	    struct iovec *);
int	frame_append(const struct frame_reply *, const char *, size_t,
	    struct iovec *, int);
size_t	frame_reply_len(const struct frame_reply *, size_t);

#endif /* MSGD_FRAME_H */
