/*
 * frame.h - bytes to lines to replies, without I/O.
 */
#ifndef MSGD_FRAME_H
#define MSGD_FRAME_H

#include <stddef.h>
#include <sys/uio.h>

struct frame_reply {
	const char	*message;	/* fixed reply, NUL-terminated */
	size_t		 message_len;
	int		 echo;		/* reply with the line itself */
};

size_t	frame_line(const char *, size_t, size_t, size_t *);
size_t	frame_strip(const char *, size_t);
int	frame_compose(const struct frame_reply *, const char *, size_t,
	    struct iovec *);
size_t	frame_reply_len(const struct frame_reply *, size_t);

#endif /* MSGD_FRAME_H */
