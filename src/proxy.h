/*
 * proxy.h - the PROXY protocol header (HAProxy's, v1 text and v2 binary).
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#ifndef MSGD_PROXY_H
#define MSGD_PROXY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROXY_V1_MAX	107	/* the longest v1 line, CRLF included */
#define PROXY_V2_MAX	(16 + 65535)	/* the longest v2 header */

struct proxy_header {
	int		version;	/* 1 or 2 */
	int		family;		/* AF_INET, AF_INET6; AF_UNSPEC: */
					/* LOCAL/UNKNOWN/UDP/UNIX, keep */
					/* the peer */
	unsigned char	src[16];
	unsigned char	dst[16];
	uint16_t	sport;
	uint16_t	dport;
};

ssize_t	proxy_parse(const char *, size_t, struct proxy_header *,
	    const char **);
size_t	proxy_length(const char *, size_t);
int	proxy_source(const struct proxy_header *, char *, size_t);

#endif /* MSGD_PROXY_H */
