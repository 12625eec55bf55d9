/*
 * check_options.c - unit tests for options.c: every value msgd accepts,
 * and one clear message for every value it refuses.
 *
 * Copyright (c) 2026 the msgd developers
 * SPDX-License-Identifier: ISC
 */
#include "config.h"

#include <check.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

static struct options	o;
static char		err[256];

/* parse("-p", "80", NULL): run options_parse on a NULL-terminated list. */
static enum options_result
parse(const char *first, ...)
{
	char		*argv[32];
	const char	*a;
	va_list		 ap;
	int		 argc = 0;

	argv[argc++] = (char *)"msgd";
	va_start(ap, first);
	for (a = first; a != NULL; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	options_defaults(&o);
	err[0] = '\0';
	return (options_parse(&o, argc, argv, err, sizeof(err)));
}

/* The error must be refused and mention every given fragment. */
static void
refused(enum options_result r, const char *frag1, const char *frag2)
{
	ck_assert_int_eq(r, OPTIONS_ERROR);
	ck_assert_msg(strstr(err, frag1) != NULL, "'%s' not in '%s'", frag1,
	    err);
	if (frag2 != NULL)
		ck_assert_msg(strstr(err, frag2) != NULL, "'%s' not in '%s'",
		    frag2, err);
	ck_assert_msg(strchr(err, '\n') == NULL, "not one line: '%s'", err);
}

START_TEST(test_defaults)
{
	ck_assert_int_eq(parse(NULL), OPTIONS_RUN);
	ck_assert_int_eq(o.port, 5000);
	ck_assert_str_eq(o.message, "Hello, client!");
	ck_assert_int_eq(o.nlisten, 0);
	ck_assert_int_eq(o.keep_open, 0);
	ck_assert_int_eq(o.echo, 0);
	ck_assert_int_eq(o.daemonize, 0);
	ck_assert_ptr_null(o.pidfile);
	ck_assert_int_eq(o.log_dest, LOG_TO_STDERR);
	ck_assert_int_eq(o.verbose, LOG_V_INFO);
	ck_assert_int_eq(o.max_conns, 10000);
	ck_assert_int_eq(o.max_conns_per_source, 0);
	ck_assert_int_eq(o.max_message, 65536);
	ck_assert_int_eq(o.idle_timeout, 60);
	ck_assert_int_eq(o.drain_timeout, 10);
	ck_assert_int_eq(o.udp_rcvbuf, 0);
}
END_TEST

/* --udp-rcvbuf: 0 (the kernel's) to MAX_UDP_RCVBUF bytes. */
START_TEST(test_udp_rcvbuf)
{
	ck_assert_int_eq(parse("--udp-rcvbuf=4194304", NULL), OPTIONS_RUN);
	ck_assert_int_eq(o.udp_rcvbuf, 4194304);
	ck_assert_int_eq(parse("--udp-rcvbuf", "0", NULL), OPTIONS_RUN);
	ck_assert_int_eq(o.udp_rcvbuf, 0);
	refused(parse("--udp-rcvbuf=-1", NULL), "invalid --udp-rcvbuf '",
	    "-1");
	refused(parse("--udp-rcvbuf=268435457", NULL), "--udp-rcvbuf",
	    "268435456");
	refused(parse("--udp-rcvbuf=4M", NULL), "--udp-rcvbuf", "4M");
}
END_TEST

START_TEST(test_everything)
{
	ck_assert_int_eq(parse("-l", "127.0.0.2", "--listen=::1", "-l", "*",
	    "-p", "0", "-m", "hi there", "-k", "-e", "-d", "-P", "/run/m.pid",
	    "-L", "/tmp/m.log", "-vv", "-c", "5", "-M", "10", "-i", "0",
	    "-T", "3", "-u", "nobody", NULL), OPTIONS_RUN);
	ck_assert_int_eq(o.nlisten, 3);
	ck_assert_str_eq(o.listen[0], "127.0.0.2");
	ck_assert_str_eq(o.listen[1], "::1");
	ck_assert_str_eq(o.listen[2], "*");
	ck_assert_int_eq(o.port, 0);
	ck_assert_str_eq(o.message, "hi there");
	ck_assert(o.keep_open && o.echo && o.daemonize);
	ck_assert_str_eq(o.pidfile, "/run/m.pid");
	ck_assert_int_eq(o.log_dest, LOG_TO_FILE);
	ck_assert_str_eq(o.log_path, "/tmp/m.log");
	ck_assert_int_eq(o.verbose, LOG_V_TRACE);
	ck_assert_int_eq(o.max_conns, 5);
	ck_assert_int_eq(o.max_message, 10);
	ck_assert_int_eq(o.idle_timeout, 0);
	ck_assert_int_eq(o.drain_timeout, 3);
	ck_assert_str_eq(o.user, "nobody");
}
END_TEST

START_TEST(test_port_range)
{
	ck_assert_int_eq(parse("-p", "65535", NULL), OPTIONS_RUN);
	ck_assert_int_eq(o.port, 65535);
	ck_assert_int_eq(parse("--port=1", NULL), OPTIONS_RUN);
	ck_assert_int_eq(o.port, 1);
	refused(parse("-p", "65536", NULL), "invalid --port '", "65536");
	refused(parse("-p", "-1", NULL), "invalid --port '", "-1");
	refused(parse("-p", "abc", NULL), "invalid --port '", "abc");
	refused(parse("-p", "80x", NULL), "invalid --port '", "80x");
	refused(parse("-p", "", NULL), "invalid --port '", NULL);
	refused(parse("-p", " 80", NULL), "invalid --port '", NULL);
	refused(parse("-p", "99999999999999999999", NULL), "invalid --port '", NULL);
}
END_TEST

START_TEST(test_counts)
{
	refused(parse("-c", "0", NULL), "--max-conns", "'0'");
	refused(parse("-c", "-5", NULL), "--max-conns", "-5");
	refused(parse("--max-conns=many", NULL), "--max-conns", "many");
	refused(parse("-M", "0", NULL), "--max-message", NULL);
	refused(parse("-M", "-1", NULL), "--max-message", "-1");
	refused(parse("-i", "-1", NULL), "--idle-timeout", "-1");
	refused(parse("-i", "1.5", NULL), "--idle-timeout", "1.5");
	refused(parse("-T", "-2", NULL), "--drain-timeout", "-2");
}
END_TEST

/* --max-conns-per-source: 0 (no limit) to MAX_MAX_CONNS. */
START_TEST(test_per_source)
{
	ck_assert_int_eq(parse("--max-conns-per-source=7", NULL), OPTIONS_RUN);
	ck_assert_int_eq(o.max_conns_per_source, 7);
	ck_assert_int_eq(parse("--max-conns-per-source", "0", NULL),
	    OPTIONS_RUN);
	ck_assert_int_eq(o.max_conns_per_source, 0);
	ck_assert_int_eq(parse("--max-conns-per-source=1000000", NULL),
	    OPTIONS_RUN);
	ck_assert_int_eq(o.max_conns_per_source, MAX_MAX_CONNS);
	refused(parse("--max-conns-per-source=1000001", NULL),
	    "invalid --max-conns-per-source '1000001'", "0 (no limit)");
	refused(parse("--max-conns-per-source=-1", NULL),
	    "--max-conns-per-source", "'-1'");
	refused(parse("--max-conns-per-source=five", NULL),
	    "--max-conns-per-source", "five");
	refused(parse("--max-conns-per-source", NULL), "needs a value",
	    "--max-conns-per-source");
}
END_TEST

START_TEST(test_addresses)
{
	ck_assert_int_eq(parse("-l", "[::1]", NULL), OPTIONS_RUN);
	ck_assert_int_eq(parse("-l", "localhost", NULL), OPTIONS_RUN);
	ck_assert_int_eq(parse("-l", "0.0.0.0", NULL), OPTIONS_RUN);
	refused(parse("-l", "256.1.1.1", NULL), "--listen", "256.1.1.1");
	refused(parse("-l", "example.org", NULL), "--listen", "example.org");
	refused(parse("-l", "", NULL), "--listen", NULL);
	refused(parse("-l", "::1::2", NULL), "--listen", "::1::2");
	ck_assert_int_eq(options_check_address("127.0.0.1"), 0);
	ck_assert_int_eq(options_check_address("[fe80::1"), -1);
}
END_TEST

/* -l unix:PATH, --unix-mode (octal, at most 0777), --unix-owner. */
START_TEST(test_unix)
{
	char	long_path[160];

	ck_assert_int_eq(parse(NULL), OPTIONS_RUN);
	ck_assert_int_eq(o.unix_mode, 0660);
	ck_assert_ptr_null(o.unix_owner);
	ck_assert_int_eq(parse("-l", "unix:/run/msgd.sock", "-l", "::1",
	    "--unix-mode", "0600", "--unix-owner=msgd:www-data", NULL),
	    OPTIONS_RUN);
	ck_assert_int_eq(o.nlisten, 2);
	ck_assert_str_eq(o.listen[0], "unix:/run/msgd.sock");
	ck_assert_int_eq(o.unix_mode, 0600);
	ck_assert_str_eq(o.unix_owner, "msgd:www-data");
	ck_assert_int_eq(parse("--unix-mode=777", NULL), OPTIONS_RUN);
	ck_assert_int_eq(o.unix_mode, 0777);
	ck_assert_int_eq(parse("--unix-mode=0", NULL), OPTIONS_RUN);
	ck_assert_int_eq(o.unix_mode, 0);
	refused(parse("--unix-mode=999", NULL), "invalid --unix-mode '999'",
	    "octal");
	refused(parse("--unix-mode=1777", NULL), "--unix-mode", "1777");
	refused(parse("--unix-mode=-1", NULL), "--unix-mode", "-1");
	refused(parse("--unix-mode=rw", NULL), "--unix-mode", "rw");
	refused(parse("--unix-mode=", NULL), "--unix-mode", NULL);
	refused(parse("--unix-owner=", NULL), "--unix-owner", NULL);
	refused(parse("--unix-owner=:", NULL), "--unix-owner", NULL);
	refused(parse("-l", "unix:", NULL), "--listen", "unix:");
	memset(long_path, 'x', sizeof(long_path) - 1);
	memcpy(long_path, "unix:/", 6);
	long_path[sizeof(long_path) - 1] = '\0';
	refused(parse("-l", long_path, NULL), "--listen", "107 bytes");
}
END_TEST

START_TEST(test_too_many_addresses)
{
	char	*argv[2 * OPTIONS_MAX_LISTEN + 4];
	int	 i, argc = 0;

	argv[argc++] = (char *)"msgd";
	for (i = 0; i <= OPTIONS_MAX_LISTEN; i++) {
		argv[argc++] = (char *)"-l";
		argv[argc++] = (char *)"127.0.0.1";
	}
	argv[argc] = NULL;
	options_defaults(&o);
	refused(options_parse(&o, argc, argv, err, sizeof(err)),
	    "too many", NULL);
}
END_TEST

START_TEST(test_message)
{
	refused(parse("-m", "two\nlines", NULL), "--message", NULL);
	refused(parse("-m", "cr\r", NULL), "--message", NULL);
	ck_assert_int_eq(parse("-m", "", NULL), OPTIONS_RUN);
	ck_assert_str_eq(o.message, "");
}
END_TEST

START_TEST(test_unknown_and_missing)
{
	refused(parse("-x", NULL), "unknown option", "-x");
	refused(parse("--bogus", NULL), "unknown option", "--bogus");
	refused(parse("-p", NULL), "needs a value", "-p");
	refused(parse("--port", NULL), "needs a value", "--port");
	refused(parse("extra", NULL), "unexpected argument", "extra");
	refused(parse("-q", "-v", NULL), "--quiet", NULL);
	refused(parse("-P", "", NULL), "--pidfile", NULL);
	refused(parse("-u", "", NULL), "--user", NULL);
	refused(parse("-L", "", NULL), "log", NULL);
}
END_TEST

/* getopt_long() reports these as the option's short form: not "-h". */
START_TEST(test_value_not_taken)
{
	refused(parse("--help=x", NULL), "option '--help' takes no value",
	    NULL);
	ck_assert_msg(strstr(err, "'-h'") == NULL, "short form in '%s'", err);
	refused(parse("--keep-open=yes", NULL),
	    "option '--keep-open' takes no value", NULL);
	refused(parse("--proxy-protocol=1", NULL),
	    "option '--proxy-protocol' takes no value", NULL);
	refused(parse("-k", "--daemon=", NULL),
	    "option '--daemon' takes no value", NULL);
	refused(parse("-kz", NULL), "unknown option '-z'", NULL);
}
END_TEST

START_TEST(test_help_version)
{
	ck_assert_int_eq(parse("--help", NULL), OPTIONS_HELP);
	ck_assert_int_eq(parse("-h", "-p", "x", NULL), OPTIONS_HELP);
	ck_assert_int_eq(parse("-V", NULL), OPTIONS_VERSION);
	ck_assert(strstr(options_usage(), "--keep-open") != NULL);
	ck_assert(strncmp(options_version(), "msgd ", 5) == 0);
}
END_TEST

START_TEST(test_log_and_daemon)
{
	ck_assert_int_eq(parse("-d", NULL), OPTIONS_RUN);
	ck_assert_int_eq(o.log_dest, LOG_TO_SYSLOG);
	ck_assert_int_eq(parse("-d", "-L", "stderr", NULL), OPTIONS_RUN);
	ck_assert_int_eq(o.log_dest, LOG_TO_STDERR);
	ck_assert_int_eq(parse("-L", "syslog", NULL), OPTIONS_RUN);
	ck_assert_int_eq(o.log_dest, LOG_TO_SYSLOG);
	ck_assert_int_eq(parse("-q", NULL), OPTIONS_RUN);
	ck_assert_int_eq(o.verbose, LOG_V_QUIET);
	ck_assert_int_eq(parse("-v", NULL), OPTIONS_RUN);
	ck_assert_int_eq(o.verbose, LOG_V_DEBUG);
	ck_assert_int_eq(parse("-vvvvv", NULL), OPTIONS_RUN);
	ck_assert_int_eq(o.verbose, LOG_V_TRACE);
}
END_TEST

START_TEST(test_metrics)
{
	ck_assert_ptr_null((parse(NULL), o.metrics_addr));
	ck_assert_int_eq(parse("--metrics", "9100", NULL), OPTIONS_RUN);
	ck_assert_str_eq(o.metrics_addr, "127.0.0.1");
	ck_assert_int_eq(o.metrics_port, 9100);
	ck_assert_int_eq(parse("--metrics=:9101", NULL), OPTIONS_RUN);
	ck_assert_str_eq(o.metrics_addr, "127.0.0.1");
	ck_assert_int_eq(o.metrics_port, 9101);
	ck_assert_int_eq(parse("--metrics=0.0.0.0:0", NULL), OPTIONS_RUN);
	ck_assert_str_eq(o.metrics_addr, "0.0.0.0");
	ck_assert_int_eq(o.metrics_port, 0);
	ck_assert_int_eq(parse("--metrics=[::1]:9102", NULL), OPTIONS_RUN);
	ck_assert_str_eq(o.metrics_addr, "::1");
	refused(parse("--metrics=::1:9102", NULL), "--metrics", "::1:9102");
	refused(parse("--metrics=host:80", NULL), "--metrics", NULL);
	refused(parse("--metrics=127.0.0.1:", NULL), "--metrics", NULL);
	refused(parse("--metrics=127.0.0.1:99999", NULL), "--metrics", NULL);
	refused(parse("--metrics", "*:80", NULL), "--metrics", NULL);
}
END_TEST

/* Parsing twice in one process starts afresh (getopt state is reset). */
START_TEST(test_reparse)
{
	ck_assert_int_eq(parse("-p", "1", "-k", NULL), OPTIONS_RUN);
	ck_assert_int_eq(parse("-p", "2", NULL), OPTIONS_RUN);
	ck_assert_int_eq(o.port, 2);
	ck_assert_int_eq(o.keep_open, 0);
}
END_TEST

static Suite *
options_suite(void)
{
	Suite	*s = suite_create("options");
	TCase	*good = tcase_create("accepted");
	TCase	*bad = tcase_create("refused");

	tcase_add_test(good, test_defaults);
	tcase_add_test(good, test_everything);
	tcase_add_test(good, test_help_version);
	tcase_add_test(good, test_log_and_daemon);
	tcase_add_test(good, test_reparse);
	tcase_add_test(good, test_metrics);
	suite_add_tcase(s, good);
	tcase_add_test(bad, test_port_range);
	tcase_add_test(bad, test_counts);
	tcase_add_test(bad, test_per_source);
	tcase_add_test(bad, test_udp_rcvbuf);
	tcase_add_test(bad, test_addresses);
	tcase_add_test(bad, test_unix);
	tcase_add_test(bad, test_too_many_addresses);
	tcase_add_test(bad, test_message);
	tcase_add_test(bad, test_unknown_and_missing);
	tcase_add_test(bad, test_value_not_taken);
	suite_add_tcase(s, bad);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(options_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
