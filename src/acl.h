/*
 * acl.h - access lists: --allow and --deny, by address prefix.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#ifndef MSGD_ACL_H
#define MSGD_ACL_H

#include <stddef.h>

struct sockaddr;
struct proxy_header;

/* The longest rule as written: "[" IPv6 "]/128". */
#define ACL_TEXT_MAX	56

/* One --allow or --deny. */
struct acl_rule {
	unsigned char	addr[16];	/* IPv4: the first 4 bytes */
	int		family;		/* AF_INET or AF_INET6 */
	int		bits;		/* prefix length */
	int		allow;		/* --allow, else --deny */
	char		text[ACL_TEXT_MAX]; /* as given, for the log */
};

/*
 * The rules in command-line order.  Built while the options are parsed,
 * read-only once msgd serves: every worker reads it, none writes it.
 */
struct acl {
	struct acl_rule	*rules;
	size_t		 n;
	size_t		 nallow;	/* any: no match is denied */
};

int	 acl_add(struct acl *, int, const char *, char *, size_t);
void	 acl_free(struct acl *);
int	 acl_check(const struct acl *, int, const void *, char *, size_t);
int	 acl_check_sockaddr(const struct acl *, const struct sockaddr *,
	    char *, size_t);
int	 acl_check_proxy(const struct acl *, const struct proxy_header *,
	    int, char *, size_t);

#endif /* MSGD_ACL_H */
