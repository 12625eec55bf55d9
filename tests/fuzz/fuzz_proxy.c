/*
 * fuzz_proxy.c - libFuzzer target for proxy.c: parse the input as a PROXY
 * header, as conn.c does, and check what conn.c relies on: a parse stays
 * within the bytes it is given and never takes more of them than the
 * header; a header is accepted whole, its prefixes ask for more, the bytes
 * after it change nothing; proxy_length reads only the 16 bytes conn.c
 * makes contiguous and agrees with the parse of a complete v2 header; and
 * proxy_source writes a NUL-terminated string within any size, naming the
 * header's address and port.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"

#define FUZZ_SOURCE_SIZE	64	/* conn.c's buffer */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	fuzz_header(const char *, ssize_t,
		    const struct proxy_header *);
static void	fuzz_prefixes(const char *, ssize_t,
		    const struct proxy_header *);
static void	fuzz_source(const struct proxy_header *, size_t);

/* Parse exactly len bytes copied to the heap: ASan sees any overread. */
static ssize_t
fuzz_parse(const char *buf, size_t len, struct proxy_header *h)
{
	const char	*why = NULL;
	char		*copy;
	ssize_t		 n;

	if ((copy = malloc(len > 0 ? len : 1)) == NULL)
		abort();
	memcpy(copy, buf, len);
	n = proxy_parse(copy, len, h, &why);
	free(copy);
	if (n < -1 || n > (ssize_t)len || (n == -1 &&
	    (why == NULL || *why == '\0')))
		abort();
	return (n);
}

/* proxy_length from the first 16 bytes only, as conn.c calls it. */
static size_t
fuzz_length(const char *buf, size_t len)
{
	char	*copy;
	size_t	 need, n = len < 16 ? len : 16;

	if ((copy = malloc(n > 0 ? n : 1)) == NULL)
		abort();
	memcpy(copy, buf, n);
	need = proxy_length(copy, len);
	free(copy);
	if (need != 0 && (need < 16 || need > PROXY_V2_MAX || len < 16))
		abort();
	return (need);
}

/* What an accepted header must look like. */
static void
fuzz_header(const char *buf, ssize_t n, const struct proxy_header *h)
{
	const unsigned char	*b = (const unsigned char *)buf;
	size_t			 alen;

	if (h->family != AF_INET && h->family != AF_INET6 &&
	    h->family != AF_UNSPEC)
		abort();
	switch (h->version) {
	case 1:
		if (n < 8 || n > PROXY_V1_MAX ||
		    memcmp(buf, "PROXY ", 6) != 0 ||
		    buf[n - 2] != '\r' || buf[n - 1] != '\n' ||
		    memchr(buf, '\n', (size_t)n - 1) != NULL)
			abort();
		break;
	case 2:
		if (n < 16 || n > PROXY_V2_MAX ||
		    (size_t)n != fuzz_length(buf, (size_t)n))
			abort();
		if (h->family == AF_UNSPEC)
			break;
		/* The address block as sent: src, dst, sport, dport. */
		alen = h->family == AF_INET ? 4 : 16;
		if (memcmp(h->src, b + 16, alen) != 0 ||
		    memcmp(h->dst, b + 16 + alen, alen) != 0 ||
		    h->sport != ((b[16 + 2 * alen] << 8) | b[17 + 2 * alen]) ||
		    h->dport != ((b[18 + 2 * alen] << 8) | b[19 + 2 * alen]))
			abort();
		break;
	default:
		abort();
	}
}

/*
 * A header arriving a byte at a time: every prefix asks for more (conn.c
 * would otherwise refuse a good header that trickles in), and the header
 * alone parses as it does with bytes after it.
 */
static void
fuzz_prefixes(const char *buf, ssize_t n, const struct proxy_header *h)
{
	struct proxy_header	h2;
	ssize_t			k;

	/* Past the v1 line's length, a sample: a v2 header is all alike. */
	for (k = 0; k < n; k += k < PROXY_V1_MAX ? 1 : 61) {
		if (fuzz_parse(buf, (size_t)k, &h2) != 0)
			abort();
	}
	if (fuzz_parse(buf, (size_t)n - 1, &h2) != 0)
		abort();
	if (fuzz_parse(buf, (size_t)n, &h2) != n ||
	    memcmp(h, &h2, sizeof(h2)) != 0)
		abort();
}

/*
 * Into size bytes (exactly, on the heap): NUL-terminated; at conn.c's size
 * not cut short, and naming the header's address and port.
 */
static void
fuzz_source(const struct proxy_header *h, size_t size)
{
	unsigned char	 a[16];
	char		*s, *colon, *end;
	unsigned long	 port;
	int		 r;

	if ((s = malloc(size > 0 ? size : 1)) == NULL)
		abort();
	memset(s, 'X', size);
	r = proxy_source(h, s, size);
	if (r != (h->family == AF_UNSPEC ? -1 : 0))
		abort();
	if (r == 0 && size > 0 && memchr(s, '\0', size) == NULL)
		abort();
	if (r == 0 && size == FUZZ_SOURCE_SIZE) {
		if ((colon = strrchr(s, ':')) == NULL)
			abort();
		*colon = '\0';
		port = strtoul(colon + 1, &end, 10);
		if (*end != '\0' || port != h->sport)
			abort();
		if (h->family == AF_INET6) {
			if (s[0] != '[' || colon[-1] != ']')
				abort();
			colon[-1] = '\0';
		}
		if (inet_pton(h->family, h->family == AF_INET6 ? s + 1 : s,
		    a) != 1 || memcmp(a, h->src, h->family == AF_INET ?
		    4 : 16) != 0)
			abort();
	}
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*buf = (const char *)data;
	struct proxy_header	 h;
	size_t			 need;
	ssize_t			 n;

	need = fuzz_length(buf, size);
	n = fuzz_parse(buf, size, &h);
	/* A complete v2 header is either all of need, or refused. */
	if (need != 0 && need <= size && n != -1 && n != (ssize_t)need)
		abort();
	/* More is needed only while the header could still be that long. */
	if (n == 0 && size >= PROXY_V1_MAX && (need == 0 || need <= size))
		abort();
	if (n <= 0)
		return (0);
	fuzz_header(buf, n, &h);
	fuzz_prefixes(buf, n, &h);
	fuzz_source(&h, FUZZ_SOURCE_SIZE);
	fuzz_source(&h, size > 0 ? data[size - 1] % FUZZ_SOURCE_SIZE : 0);
	return (0);
}
