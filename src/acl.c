/*
 * acl.c - access lists: which clients --allow and --deny let in.
 *
 * A rule is an IPv4 or IPv6 prefix ("192.0.2.0/24", "2001:db8::/32"; a
 * bare address is one host).  The rules are looked at in command-line
 * order and the first that matches decides; when none matches, a client
 * is denied if any --allow was given, else allowed -- as ncat's --allow
 * and tcp wrappers behave, so "--allow 10.0.0.0/8" alone means "only
 * 10.0.0.0/8".  An IPv4 client is IPv4 however it arrives (as
 * ::ffff:a.b.c.d on a dual-stack socket or in a PROXY TCP6 header): IPv4
 * rules match it and IPv6 rules, ::/0 included, do not; a rule written
 * as an IPv4-mapped prefix is the IPv4 rule it means.  A peer without an
 * IP address (a Unix-domain socket) is not subject to the list.
 *
 * The list is built while the options are parsed and never changes after:
 * every worker reads it without a lock.  Checking costs a loop over the
 * rules at accept (or at the PROXY header) and per datagram; text is made
 * only for a denial, for its log line.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/util.h>

#include "acl.h"
#include "proxy.h"

/* ::ffff:0:0/96, IPv4-mapped IPv6 addresses. */
static const unsigned char acl_v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

static int	 acl_bits(const char *, int);
static int	 acl_in(const unsigned char *, const unsigned char *, int);
static int	 acl_host_bits(unsigned char *, int, int);
static void	 acl_unmap(int *, const unsigned char **);

/* A prefix length: 0 to max, decimal, no sign, no leading zero; or -1. */
static int
acl_bits(const char *s, int max)
{
	int	n = 0;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return (-1);
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || (n = n * 10 + (*s - '0')) > max)
			return (-1);
	}
	return (n);
}

/* Clear the bits of addr (len bytes) past bits; 1 if any was set. */
static int
acl_host_bits(unsigned char *addr, int len, int bits)
{
	unsigned char	mask;
	int		i, set = 0;

	for (i = bits / 8; i < len; i++) {
		/* The byte the prefix ends in keeps its first bits. */
		mask = i == bits / 8 ? (unsigned char)(0xff00 >> bits % 8) : 0;
		if (addr[i] & ~mask)
			set = 1;
		addr[i] &= mask;
	}
	return (set);
}

/* Does addr have the first bits of net? */
static int
acl_in(const unsigned char *addr, const unsigned char *net, int bits)
{
	int	whole = bits / 8, rest = bits % 8;

	if (memcmp(addr, net, whole) != 0)
		return (0);
	return (rest == 0 ||
	    ((addr[whole] ^ net[whole]) & (0xff << (8 - rest))) == 0);
}

/* An IPv4-mapped IPv6 address is its IPv4 address. */
static void
acl_unmap(int *family, const unsigned char **addr)
{
	if (*family == AF_INET6 &&
	    memcmp(*addr, acl_v4mapped, sizeof(acl_v4mapped)) == 0) {
		*family = AF_INET;
		*addr += sizeof(acl_v4mapped);
	}
}

/*
 * Append the rule "ADDR[/BITS]" (IPv6 may be in brackets), allow or deny.
 * -1 if it is not one, with why (whylen bytes) saying what is wrong.  A
 * rule with bits set past its prefix is refused, not masked: "10.0.0.1/8"
 * is likelier a typo for a /32 or another network than a way of writing
 * 10.0.0.0/8, and the error says which network it would be.
 */
int
acl_add(struct acl *a, int allow, const char *cidr, char *why,
    size_t whylen)
{
	struct acl_rule	 r, *more;
	char		 buf[ACL_TEXT_MAX], net[INET6_ADDRSTRLEN];
	const char	*slash, *s = buf;
	size_t		 len;
	int		 max;

	memset(&r, 0, sizeof(r));
	if ((len = strlen(cidr)) >= sizeof(r.text))
		goto bad_address;
	memcpy(r.text, cidr, len + 1);
	memcpy(buf, cidr, len + 1);
	if ((slash = strchr(cidr, '/')) != NULL)
		buf[slash - cidr] = '\0';
	len = strlen(buf);
	if (len >= 2 && buf[0] == '[' && buf[len - 1] == ']') {
		buf[len - 1] = '\0';
		s = buf + 1;
		if (evutil_inet_pton(AF_INET6, s, r.addr) != 1)
			goto bad_address;
		r.family = AF_INET6;
	} else if (evutil_inet_pton(AF_INET, s, r.addr) == 1)
		r.family = AF_INET;
	else if (evutil_inet_pton(AF_INET6, s, r.addr) == 1)
		r.family = AF_INET6;
	else
		goto bad_address;
	max = r.family == AF_INET ? 32 : 128;
	r.bits = slash == NULL ? max : acl_bits(slash + 1, max);
	if (r.bits == -1) {
		snprintf(why, whylen, "the prefix length must be a number "
		    "from 0 to %d", max);
		return (-1);
	}
	if (acl_host_bits(r.addr, max / 8, r.bits)) {
		evutil_inet_ntop(r.family, r.addr, net, sizeof(net));
		snprintf(why, whylen, "address bits set past the /%d prefix "
		    "(the network is %s%s%s/%d)", r.bits,
		    s != buf ? "[" : "", net, s != buf ? "]" : "", r.bits);
		return (-1);
	}
	if (r.family == AF_INET6 && r.bits >= 96 &&
	    memcmp(r.addr, acl_v4mapped, sizeof(acl_v4mapped)) == 0) {
		memmove(r.addr, r.addr + sizeof(acl_v4mapped), 4);
		memset(r.addr + 4, 0, sizeof(r.addr) - 4);
		r.family = AF_INET;
		r.bits -= 96;
	}
	r.allow = allow;
	if ((more = realloc(a->rules, (a->n + 1) * sizeof(*more))) == NULL) {
		snprintf(why, whylen, "out of memory");
		return (-1);
	}
	a->rules = more;
	a->rules[a->n++] = r;
	if (allow)
		a->nallow++;
	return (0);

bad_address:
	snprintf(why, whylen, "need an IPv4 or IPv6 address, optionally "
	    "with a /prefix length");
	return (-1);
}

void
acl_free(struct acl *a)
{
	free(a->rules);
	memset(a, 0, sizeof(*a));
}

/*
 * May a client at addr (family AF_INET: 4 bytes, AF_INET6: 16) come in?
 * 1 if so.  0 if not, and why (whylen bytes; NULL: not wanted) says
 * which rule, or none, denied it.  Other families are not subject to the
 * list: 1.
 */
int
acl_check(const struct acl *a, int family, const void *addr, char *why,
    size_t whylen)
{
	const struct acl_rule	*r = NULL;
	const unsigned char	*p = addr;
	char			 text[INET6_ADDRSTRLEN];
	size_t			 i;

	if (a->n == 0 || (family != AF_INET && family != AF_INET6))
		return (1);
	acl_unmap(&family, &p);
	for (i = 0; i < a->n; i++) {
		r = &a->rules[i];
		if (r->family == family && acl_in(p, r->addr, r->bits)) {
			if (r->allow)
				return (1);
			break;
		}
		r = NULL;
	}
	if (r == NULL && a->nallow == 0)
		return (1);
	if (why == NULL)
		return (0);
	if (evutil_inet_ntop(family, p, text, sizeof(text)) == NULL)
		text[0] = '\0';
	if (r != NULL)
		snprintf(why, whylen, "%s matches --deny %s", text, r->text);
	else
		snprintf(why, whylen, "%s matches no --allow", text);
	return (0);
}

/* The same for a socket's peer address: anything but IP is let in. */
int
acl_check_sockaddr(const struct acl *a, const struct sockaddr *sa,
    char *why, size_t whylen)
{
	if (sa->sa_family == AF_INET)
		return (acl_check(a, AF_INET,
		    &((const struct sockaddr_in *)sa)->sin_addr, why, whylen));
	if (sa->sa_family == AF_INET6)
		return (acl_check(a, AF_INET6,
		    &((const struct sockaddr_in6 *)sa)->sin6_addr, why,
		    whylen));
	return (1);
}

/*
 * --proxy-protocol: the client the header names decides, or, when it
 * names none (LOCAL, UNKNOWN, a Unix address), the connection's own peer
 * (fd's): the balancer's address, or a Unix socket's, which is let in.
 * A peer that cannot be asked is gone, and is not let in.
 */
int
acl_check_proxy(const struct acl *a, const struct proxy_header *h, int fd,
    char *why, size_t whylen)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);

	if (a->n == 0)
		return (1);
	if (h->family == AF_INET || h->family == AF_INET6)
		return (acl_check(a, h->family, h->src, why, whylen));
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1) {
		if (why != NULL)
			snprintf(why, whylen, "the peer is gone");
		return (0);
	}
	return (acl_check_sockaddr(a, (struct sockaddr *)&ss, why, whylen));
}
