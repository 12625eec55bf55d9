/*
 * check_acl.c - unit tests for acl.c: what --allow and --deny accept,
 * which rule decides (the first that matches; none: denied if there is
 * an --allow), IPv4-mapped IPv6 as IPv4, peers without an IP address
 * (a Unix socket) exempt, and the PROXY header's address over the peer's.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acl.h"
#include "msgd.h"
#include "proxy.h"

static char	why[256];

/* Rules from "+CIDR" (allow) and "-CIDR" (deny) words, all valid. */
static void
rules(struct acl *a, const char *const *r)
{
	memset(a, 0, sizeof(*a));
	for (; *r != NULL; r++)
		ck_assert_msg(acl_add(a, **r == '+', *r + 1, why,
		    sizeof(why)) == 0, "%s: %s", *r, why);
}

/* Is the literal address s let in?  why says why not. */
static int
allowed(const struct acl *a, const char *s)
{
	unsigned char	addr[16];
	int		af = strchr(s, ':') != NULL ? AF_INET6 : AF_INET;

	ck_assert_int_eq(inet_pton(af, s, addr), 1);
	why[0] = '\0';
	return (acl_check(a, af, addr, why, sizeof(why)));
}

/* The error for one bad rule (and that it is one). */
static const char *
bad(const char *cidr)
{
	struct acl	a;

	memset(&a, 0, sizeof(a));
	why[0] = '\0';
	ck_assert_msg(acl_add(&a, 0, cidr, why, sizeof(why)) == -1,
	    "'%s' taken", cidr);
	ck_assert_int_eq(a.n, 0);
	ck_assert_msg(why[0] != '\0' && strchr(why, '\n') == NULL,
	    "'%s': no one-line reason", cidr);
	acl_free(&a);
	return (why);
}

START_TEST(test_parse_good)
{
	static const char *const good[] = {
		"+10.0.0.0/8", "+192.0.2.1", "+192.0.2.1/32", "+0.0.0.0/0",
		"+2001:db8::/32", "+::1", "+::1/128", "+::/0",
		"+[2001:db8::]/48", "+[::1]", "+172.16.0.0/12",
		"+2001:db8:0:8000::/49", "+255.255.255.255/32", NULL
	};
	struct acl	a;

	rules(&a, good);
	ck_assert_int_eq(a.n, 13);
	ck_assert_int_eq(a.nallow, 13);
	ck_assert_int_eq(a.rules[1].family, AF_INET);
	ck_assert_int_eq(a.rules[1].bits, 32);		/* bare: one host */
	ck_assert_int_eq(a.rules[5].family, AF_INET6);
	ck_assert_int_eq(a.rules[5].bits, 128);
	ck_assert_int_eq(a.rules[8].bits, 48);
	ck_assert_str_eq(a.rules[0].text, "10.0.0.0/8");
	ck_assert_str_eq(a.rules[8].text, "[2001:db8::]/48");
	acl_free(&a);
	ck_assert_ptr_null(a.rules);
	ck_assert_int_eq(a.n, 0);
}
END_TEST

/* Each bad rule is refused with a reason that names what is wrong. */
START_TEST(test_parse_bad)
{
	ck_assert_ptr_nonnull(strstr(bad(""), "address"));
	ck_assert_ptr_nonnull(strstr(bad("example.com"), "address"));
	ck_assert_ptr_nonnull(strstr(bad("10.0.0"), "address"));
	ck_assert_ptr_nonnull(strstr(bad("10.0.0.256"), "address"));
	ck_assert_ptr_nonnull(strstr(bad("fe80::1%lo"), "address"));
	ck_assert_ptr_nonnull(strstr(bad("/8"), "address"));
	ck_assert_ptr_nonnull(strstr(bad("[10.0.0.0]/8"), "address"));
	ck_assert_ptr_nonnull(strstr(bad("[::1"), "address"));
	ck_assert_ptr_nonnull(strstr(bad("10.0.0.0/33"), "0 to 32"));
	ck_assert_ptr_nonnull(strstr(bad("::/129"), "0 to 128"));
	ck_assert_ptr_nonnull(strstr(bad("10.0.0.0/"), "0 to 32"));
	ck_assert_ptr_nonnull(strstr(bad("10.0.0.0/-1"), "0 to 32"));
	ck_assert_ptr_nonnull(strstr(bad("10.0.0.0/+8"), "0 to 32"));
	ck_assert_ptr_nonnull(strstr(bad("10.0.0.0/ 8"), "0 to 32"));
	ck_assert_ptr_nonnull(strstr(bad("10.0.0.0/8x"), "0 to 32"));
	ck_assert_ptr_nonnull(strstr(bad("10.0.0.0/08"), "0 to 32"));
	ck_assert_ptr_nonnull(strstr(bad("10.0.0.0/8/8"), "0 to 32"));
	ck_assert_ptr_nonnull(strstr(bad("10.0.0.0/99999999999999999999"),
	    "0 to 32"));
	/* Host bits set: a typo for another network, or a host's /32. */
	ck_assert_str_eq(bad("10.0.0.1/8"),
	    "address bits set past the /8 prefix (the network is 10.0.0.0/8)");
	ck_assert_str_eq(bad("192.0.2.1/0"),
	    "address bits set past the /0 prefix (the network is 0.0.0.0/0)");
	ck_assert_str_eq(bad("2001:db8::1/64"), "address bits set past the "
	    "/64 prefix (the network is 2001:db8::/64)");
	ck_assert_str_eq(bad("172.31.0.0/12"), "address bits set past the "
	    "/12 prefix (the network is 172.16.0.0/12)");
}
END_TEST

/* The first rule that matches decides; later ones do not matter. */
START_TEST(test_first_match)
{
	static const char *const r[] = {
		"-127.0.0.3", "+127.0.0.0/8", "-127.0.0.2", NULL
	};
	struct acl	a;

	rules(&a, r);
	ck_assert(!allowed(&a, "127.0.0.3"));
	ck_assert_str_eq(why, "127.0.0.3 matches --deny 127.0.0.3");
	ck_assert(allowed(&a, "127.0.0.2"));
	ck_assert(allowed(&a, "127.255.255.255"));
	ck_assert(!allowed(&a, "128.0.0.1"));
	ck_assert_str_eq(why, "128.0.0.1 matches no --allow");
	/* Without a buffer for why: the same answers. */
	ck_assert(!acl_check(&a, AF_INET, "\x7f\0\0\x03", NULL, 0));
	ck_assert(acl_check(&a, AF_INET, "\x7f\0\0\x02", NULL, 0));
	ck_assert(!acl_check(&a, AF_INET, "\x80\0\0\x01", NULL, 0));
	acl_free(&a);
}
END_TEST

/* No match: denied if any --allow is given, else allowed. */
START_TEST(test_default)
{
	static const char *const deny[] = { "-192.0.2.0/24", NULL };
	static const char *const allow[] = { "+192.0.2.0/24", NULL };
	static const char *const none[] = { NULL };
	struct acl	a;

	rules(&a, none);
	ck_assert(allowed(&a, "192.0.2.1"));
	ck_assert(allowed(&a, "::1"));
	acl_free(&a);
	rules(&a, deny);
	ck_assert(!allowed(&a, "192.0.2.1"));
	ck_assert(allowed(&a, "198.51.100.1"));
	ck_assert(allowed(&a, "2001:db8::1"));
	acl_free(&a);
	rules(&a, allow);
	ck_assert(allowed(&a, "192.0.2.1"));
	ck_assert(!allowed(&a, "198.51.100.1"));
	ck_assert(!allowed(&a, "2001:db8::1"));
	ck_assert_str_eq(why, "2001:db8::1 matches no --allow");
	acl_free(&a);
}
END_TEST

/* Prefixes of every length end where they say, not a bit off. */
START_TEST(test_prefix_edges)
{
	static const char *const r[] = {
		"+172.16.0.0/12", "+2001:db8:0:8000::/49", "+192.0.2.254/31",
		"+0.0.0.0/1", "+::2/127", NULL
	};
	struct acl	a;

	rules(&a, r);
	ck_assert(allowed(&a, "172.16.0.0"));
	ck_assert(allowed(&a, "172.31.255.255"));
	ck_assert(!allowed(&a, "172.32.0.0"));
	ck_assert(!allowed(&a, "172.15.255.255"));
	ck_assert(allowed(&a, "2001:db8:0:8000::1"));
	ck_assert(allowed(&a, "2001:db8:0:ffff:ffff:ffff:ffff:ffff"));
	ck_assert(!allowed(&a, "2001:db8:0:7fff::1"));
	ck_assert(allowed(&a, "192.0.2.254"));
	ck_assert(allowed(&a, "192.0.2.255"));
	ck_assert(!allowed(&a, "192.0.2.253"));
	ck_assert(allowed(&a, "127.255.255.255"));	/* 0/1 */
	ck_assert(!allowed(&a, "128.0.0.0"));
	ck_assert(allowed(&a, "::3"));
	ck_assert(!allowed(&a, "::1"));
	acl_free(&a);
}
END_TEST

/*
 * An IPv4 client is an IPv4 client however it comes (a dual-stack
 * socket's ::ffff:a.b.c.d, a PROXY TCP6 header): IPv4 rules match it and
 * IPv6 rules do not, even ::/0; an IPv6 rule written as a mapped prefix
 * is the IPv4 rule it means.
 */
START_TEST(test_ipv4_mapped)
{
	static const char *const r[] = {
		"-127.0.0.3", "-::/0", "+::ffff:10.0.0.0/104", NULL
	};
	static const char *const all4[] = { "+0.0.0.0/0", NULL };
	struct acl	a;

	rules(&a, r);
	ck_assert_int_eq(a.rules[2].family, AF_INET);
	ck_assert_int_eq(a.rules[2].bits, 8);
	ck_assert(!allowed(&a, "::ffff:127.0.0.3"));
	ck_assert_str_eq(why, "127.0.0.3 matches --deny 127.0.0.3");
	ck_assert(allowed(&a, "::ffff:10.1.2.3"));
	ck_assert(allowed(&a, "10.1.2.3"));
	ck_assert(!allowed(&a, "::ffff:127.0.0.2"));	/* no --allow */
	ck_assert_str_eq(why, "127.0.0.2 matches no --allow");
	ck_assert(!allowed(&a, "::1"));
	ck_assert_str_eq(why, "::1 matches --deny ::/0");
	/* Not mapped, though in ::/64: IPv6, not 10.1.2.3. */
	ck_assert(!allowed(&a, "::10.1.2.3"));
	acl_free(&a);
	rules(&a, all4);
	ck_assert(allowed(&a, "::ffff:192.0.2.1"));
	ck_assert(!allowed(&a, "::1"));
	ck_assert(!allowed(&a, "::"));
	acl_free(&a);
}
END_TEST

/* A peer address without an IP address (a Unix socket's) is exempt. */
START_TEST(test_sockaddr)
{
	static const char *const r[] = { "+192.0.2.0/24", NULL };
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;
	struct sockaddr_un	sun;
	struct acl		a;

	rules(&a, r);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(40000);
	inet_pton(AF_INET, "192.0.2.9", &sin.sin_addr);
	ck_assert(acl_check_sockaddr(&a, (struct sockaddr *)&sin, why,
	    sizeof(why)));
	inet_pton(AF_INET, "198.51.100.9", &sin.sin_addr);
	ck_assert(!acl_check_sockaddr(&a, (struct sockaddr *)&sin, why,
	    sizeof(why)));
	ck_assert_str_eq(why, "198.51.100.9 matches no --allow");
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:192.0.2.9", &sin6.sin6_addr);
	ck_assert(acl_check_sockaddr(&a, (struct sockaddr *)&sin6, why,
	    sizeof(why)));
	inet_pton(AF_INET6, "2001:db8::9", &sin6.sin6_addr);
	ck_assert(!acl_check_sockaddr(&a, (struct sockaddr *)&sin6, why,
	    sizeof(why)));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, "/run/msgd.sock");
	ck_assert(acl_check_sockaddr(&a, (struct sockaddr *)&sun, why,
	    sizeof(why)));
	acl_free(&a);
}
END_TEST

/*
 * --proxy-protocol: the header's client decides; a header without one
 * (LOCAL, UNKNOWN) leaves the connection's own peer to decide, and a
 * Unix peer is exempt.
 */
START_TEST(test_proxy)
{
	static const char *const r[] = { "-127.0.0.1", "+0.0.0.0/0", NULL };
	struct proxy_header	h;
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	struct acl		a;
	int			sv[2], lfd, cfd, afd;

	rules(&a, r);
	memset(&h, 0, sizeof(h));
	h.version = 1;
	h.family = AF_INET;
	inet_pton(AF_INET, "10.1.2.3", h.src);
	ck_assert(acl_check_proxy(&a, &h, -1, why, sizeof(why)));
	inet_pton(AF_INET, "127.0.0.1", h.src);
	ck_assert(!acl_check_proxy(&a, &h, -1, why, sizeof(why)));
	ck_assert_str_eq(why, "127.0.0.1 matches --deny 127.0.0.1");
	h.family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:127.0.0.1", h.src);
	ck_assert(!acl_check_proxy(&a, &h, -1, why, sizeof(why)));
	inet_pton(AF_INET6, "2001:db8::1", h.src);
	ck_assert(!acl_check_proxy(&a, &h, -1, why, sizeof(why)));
	ck_assert_str_eq(why, "2001:db8::1 matches no --allow");

	/* No address in the header: the peer's, over a real connection. */
	h.family = AF_UNSPEC;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ne(lfd = socket(AF_INET, SOCK_STREAM, 0), -1);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(lfd, 1), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	ck_assert_int_ne(cfd = socket(AF_INET, SOCK_STREAM, 0), -1);
	ck_assert_int_eq(connect(cfd, (struct sockaddr *)&sin, len), 0);
	ck_assert_int_ne(afd = accept(lfd, NULL, NULL), -1);
	ck_assert(!acl_check_proxy(&a, &h, afd, why, sizeof(why)));
	ck_assert_str_eq(why, "127.0.0.1 matches --deny 127.0.0.1");
	close(afd);
	close(cfd);
	close(lfd);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert(acl_check_proxy(&a, &h, sv[0], why, sizeof(why)));
	close(sv[0]);
	close(sv[1]);
	acl_free(&a);
}
END_TEST

/* The options: in order, repeatable, a bad one is one usage error. */
START_TEST(test_options)
{
	char		*ok[] = { "msgd", "--deny", "127.0.0.3", "--allow",
			    "127.0.0.0/8", "--deny=::1", "--allow", "::/0",
			    NULL };
	char		*badv[] = { "msgd", "--allow", "127.0.0.0/8", "--deny",
			    "10.0.0.1/8", NULL };
	char		*bad6[] = { "msgd", "--allow", "::/200", NULL };
	struct options	o;
	char		err[256];

	options_defaults(&o);
	ck_assert_int_eq(options_parse(&o, 8, ok, err, sizeof(err)),
	    OPTIONS_RUN);
	ck_assert_int_eq(o.acl.n, 4);
	ck_assert_int_eq(o.acl.nallow, 2);
	ck_assert(!o.acl.rules[0].allow);
	ck_assert_str_eq(o.acl.rules[0].text, "127.0.0.3");
	ck_assert(o.acl.rules[1].allow);
	ck_assert_str_eq(o.acl.rules[2].text, "::1");
	ck_assert_int_eq(o.acl.rules[3].family, AF_INET6);
	acl_free(&o.acl);

	options_defaults(&o);
	ck_assert_int_eq(options_parse(&o, 5, badv, err, sizeof(err)),
	    OPTIONS_ERROR);
	ck_assert_str_eq(err, "invalid --deny '10.0.0.1/8': address bits set "
	    "past the /8 prefix (the network is 10.0.0.0/8)");
	acl_free(&o.acl);
	options_defaults(&o);
	ck_assert_int_eq(options_parse(&o, 3, bad6, err, sizeof(err)),
	    OPTIONS_ERROR);
	ck_assert_str_eq(err, "invalid --allow '::/200': the prefix length "
	    "must be a number from 0 to 128");
	acl_free(&o.acl);
}
END_TEST

static Suite *
acl_suite(void)
{
	Suite	*s = suite_create("acl");
	TCase	*parse = tcase_create("parse");
	TCase	*match = tcase_create("match");

	tcase_add_test(parse, test_parse_good);
	tcase_add_test(parse, test_parse_bad);
	tcase_add_test(parse, test_options);
	suite_add_tcase(s, parse);
	tcase_add_test(match, test_first_match);
	tcase_add_test(match, test_default);
	tcase_add_test(match, test_prefix_edges);
	tcase_add_test(match, test_ipv4_mapped);
	tcase_add_test(match, test_sockaddr);
	tcase_add_test(match, test_proxy);
	suite_add_tcase(s, match);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(acl_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
