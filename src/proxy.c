/*
 * proxy.c - parse the PROXY protocol header a load balancer puts before
 * the client's bytes (--proxy-protocol), so msgd sees the real client.
 *
 * Both versions of the protocol as HAProxy documents them: v1, one text
 * line "PROXY TCP4|TCP6|UNKNOWN src dst sport dport\r\n"; v2, a 16-byte
 * binary preamble, the addresses and TLVs, up to 16 + 65535 bytes, every
 * family (those without a TCP address mean "keep the peer's").  Pure
 * functions, no I/O.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/util.h>

#include "proxy.h"

static const char proxy_v2_sig[12] = "\r\n\r\n\0\r\nQUIT\n";

static ssize_t	proxy_v1(const char *, size_t, struct proxy_header *,
		    const char **);
static ssize_t	proxy_v2(const unsigned char *, size_t,
		    struct proxy_header *, const char **);

/* A port: 1 to 5 digits, no sign, no leading zero, at most 65535. */
static int
proxy_port(const char *s, uint16_t *port)
{
	char	*end;
	long	 n;

	if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] != '\0') ||
	    strlen(s) > 5)
		return (-1);
	n = strtol(s, &end, 10);
	if (*end != '\0' || n > 65535)
		return (-1);
	*port = (uint16_t)n;
	return (0);
}

static ssize_t
proxy_v1(const char *buf, size_t len, struct proxy_header *h,
    const char **why)
{
	char		 line[PROXY_V1_MAX + 1], *f[7], *p;
	const char	*crlf;
	size_t		 n;
	int		 nf = 0, af;

	if ((crlf = memchr(buf, '\n', len < PROXY_V1_MAX ? len :
	    PROXY_V1_MAX)) == NULL) {
		if (len >= PROXY_V1_MAX) {
			*why = "v1 line too long";
			return (-1);
		}
		return (0);
	}
	n = (size_t)(crlf - buf);
	if (n == 0 || buf[n - 1] != '\r') {
		*why = "v1 line does not end in CRLF";
		return (-1);
	}
	memcpy(line, buf, n - 1);
	line[n - 1] = '\0';
	if (memchr(line, '\0', n - 1) != NULL) {
		*why = "NUL in v1 line";
		return (-1);
	}
	for (p = line; nf < 7 && (f[nf] = strsep(&p, " ")) != NULL; nf++)
		;
	memset(h, 0, sizeof(*h));
	h->version = 1;
	if (nf >= 2 && strcmp(f[1], "UNKNOWN") == 0) {
		h->family = AF_UNSPEC;
		return ((ssize_t)n + 1);
	}
	if (nf != 6 || p != NULL) {
		*why = "v1 line needs 6 fields";
		return (-1);
	}
	if (strcmp(f[1], "TCP4") == 0)
		af = AF_INET;
	else if (strcmp(f[1], "TCP6") == 0)
		af = AF_INET6;
	else {
		*why = "v1 protocol is not TCP4, TCP6 or UNKNOWN";
		return (-1);
	}
	if (evutil_inet_pton(af, f[2], h->src) != 1 ||
	    evutil_inet_pton(af, f[3], h->dst) != 1) {
		*why = "v1 address does not match its family";
		return (-1);
	}
	if (proxy_port(f[4], &h->sport) == -1 ||
	    proxy_port(f[5], &h->dport) == -1) {
		*why = "v1 port is not a number from 0 to 65535";
		return (-1);
	}
	h->family = af;
	return ((ssize_t)n + 1);
}

static ssize_t
proxy_v2(const unsigned char *b, size_t len, struct proxy_header *h,
    const char **why)
{
	size_t	body, need;

	if (len < 16)
		return (0);
	if ((b[12] & 0xf0) != 0x20) {
		*why = "v2 version is not 2";
		return (-1);
	}
	/* 16 bits of length: at most PROXY_V2_MAX, TLVs and all. */
	body = ((size_t)b[14] << 8) | b[15];
	if (len < 16 + body)
		return (0);
	memset(h, 0, sizeof(*h));
	h->version = 2;
	switch (b[12] & 0x0f) {
	case 0x0:		/* LOCAL: the balancer's own health check */
		h->family = AF_UNSPEC;
		return ((ssize_t)(16 + body));
	case 0x1:		/* PROXY */
		break;
	default:
		*why = "v2 command is not LOCAL or PROXY";
		return (-1);
	}
	/* Family UNSPEC, INET, INET6 or UNIX; transport UNSPEC, STREAM or
	 * DGRAM.  The spec has receivers reject any other value. */
	if ((b[13] >> 4) > 0x3 || (b[13] & 0x0f) > 0x2) {
		*why = "v2 family or transport is not defined";
		return (-1);
	}
	switch (b[13]) {
	case 0x11:		/* TCP over IPv4 */
		need = 12;
		h->family = AF_INET;
		break;
	case 0x21:		/* TCP over IPv6 */
		need = 36;
		h->family = AF_INET6;
		break;
	default:
		/* UNSPEC, UDP, AF_UNIX: not addresses msgd can use, so, as
		 * section 2.2 says, keep the connection's own. */
		h->family = AF_UNSPEC;
		return ((ssize_t)(16 + body));
	}
	if (body < need) {
		*why = "v2 address block too short";
		return (-1);
	}
	need = h->family == AF_INET ? 4 : 16;
	memcpy(h->src, b + 16, need);
	memcpy(h->dst, b + 16 + need, need);
	h->sport = (uint16_t)((b[16 + 2 * need] << 8) | b[17 + 2 * need]);
	h->dport = (uint16_t)((b[18 + 2 * need] << 8) | b[19 + 2 * need]);
	return ((ssize_t)(16 + body));
}

/*
 * How many bytes the header at buf will take, known from its first 16
 * bytes for v2 (0 while that is not known, and for v1, at most 107
 * anyway): the caller need not make a long header contiguous byte by byte
 * as it trickles in.
 */
size_t
proxy_length(const char *buf, size_t len)
{
	const unsigned char	*b = (const unsigned char *)buf;

	if (len < 16 || memcmp(buf, proxy_v2_sig, sizeof(proxy_v2_sig)) != 0)
		return (0);
	return (16 + (((size_t)b[14] << 8) | b[15]));
}

/*
 * Parse the header at the start of buf.  Returns its length, 0 if more
 * bytes are needed to tell, or -1 with *why set if it is not a valid
 * header (or not one at all).
 */
ssize_t
proxy_parse(const char *buf, size_t len, struct proxy_header *h,
    const char **why)
{
	size_t	n = len < sizeof(proxy_v2_sig) ? len : sizeof(proxy_v2_sig);

	if (len == 0)
		return (0);	/* buf may be NULL: an empty evbuffer's pullup */
	if (memcmp(buf, proxy_v2_sig, n) == 0) {
		if (len < sizeof(proxy_v2_sig))
			return (0);
		return (proxy_v2((const unsigned char *)buf, len, h, why));
	}
	n = len < 6 ? len : 6;
	if (memcmp(buf, "PROXY ", n) == 0) {
		if (len < 6)
			return (0);
		return (proxy_v1(buf, len, h, why));
	}
	*why = "no PROXY header";
	return (-1);
}

/* "1.2.3.4:5678" or "[::1]:5678"; returns -1 for a header with none. */
int
proxy_source(const struct proxy_header *h, char *buf, size_t len)
{
	char	a[INET6_ADDRSTRLEN];

	if (h->family == AF_UNSPEC ||
	    evutil_inet_ntop(h->family, h->src, a, sizeof(a)) == NULL)
		return (-1);
	snprintf(buf, len, h->family == AF_INET6 ? "[%s]:%u" : "%s:%u", a,
	    h->sport);
	return (0);
}
