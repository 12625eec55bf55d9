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

/* What a message is. */
enum frame_mode {
	FRAME_ONESHOT,		/* the first line is the only one */
	FRAME_KEEP_OPEN,	/* a line at a time, until the client ends */
	FRAME_DATAGRAM		/* all of the input is one message (UDP) */
};

/* How a server answers, built once from its options (server_new). */
struct frame_policy {
	const char	*message;	/* fixed reply and its LF, ... */
	size_t		 message_len;	/* ... without the LF */
	size_t		 run_len;	/* bytes of message that hold whole
					   replies back to back; 0: one */
	size_t		 max_message;	/* longest message answered */
	int		 echo;		/* reply with the line itself */
	enum frame_mode	 mode;
};

/* What frame_answer made of some input. */
enum frame_status {
	FRAME_MORE,		/* all complete lines answered: need more */
	FRAME_FULL,		/* the batch is full: send it, call again */
	FRAME_DONE,		/* the last reply is in: close once sent */
	FRAME_TOO_LONG		/* a message over max_message: the error
				   line is in; close once sent */
};

/*
 * One batch of replies.  The caller sets iov, maxiov (at least
 * FRAME_MIN_IOVS), room and scanned; frame_answer sets the rest.
 */
struct frame_batch {
	struct iovec	*iov;		/* reply pieces, pointing into the
					   input or the policy's message */
	int		 maxiov;
	size_t		 room;		/* full at this many reply bytes */
	size_t		 scanned;	/* in: input bytes known LF-free;
					   out: the same for what is left */
	int		 niov;
	int		 nreplies;	/* replies to messages (not errors) */
	size_t		 reply_bytes;	/* bytes in iov */
	size_t		 used;		/* input bytes answered or dropped */
};

#define FRAME_MIN_IOVS	3

/* How many bytes of replies back to back a server keeps for frame_append. */
#define FRAME_RUN_BYTES	16384

/* The reply to a message over max_message. */
#define FRAME_TOO_LONG_TEXT	"error: message too long\n"

enum frame_status frame_answer(const struct frame_policy *, const char *,
	    size_t, int, struct frame_batch *);
enum frame_status frame_waiting(const struct frame_policy *, size_t, int,
	    struct frame_batch *);
size_t	frame_line(const char *, size_t, size_t, size_t *);
size_t	frame_strip(const char *, size_t);
int	frame_compose(const struct frame_policy *, const char *, size_t,
	    struct iovec *);
int	frame_append(const struct frame_policy *, const char *, size_t,
	    struct iovec *, int);
size_t	frame_reply_len(const struct frame_policy *, size_t);

#endif /* MSGD_FRAME_H */
