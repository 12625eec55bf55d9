#!/bin/sh
# proxy.sh - --proxy-protocol: the real client address from v1 and v2
# headers; connections without a valid header are refused and logged.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need nc

msgd_start -v -k --proxy-protocol

got=$(printf 'PROXY TCP4 192.0.2.7 127.0.0.1 56324 5000\r\nhi\nho\n' | ask -N)
expect_eq "$got" "$(printf 'Hello, client!\nHello, client!')" "v1 replies"
wait_for 5 grep -q 'client 192.0.2.7:56324 (PROXY v1)' "$MSGD_LOG" ||
    fail "v1 client address not logged"

# v2: signature, PROXY command, TCP over IPv6, 36 address bytes.
{
	printf '\r\n\r\n\000\r\nQUIT\n\041\041\000\044'
	printf '\040\001\015\270\000\000\000\000\000\000\000\000\000\000\000\011'
	printf '\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\001'
	printf '\060\071\023\210'
	printf 'v2 line\n'
} | ask -N > "$T/v2"
expect_eq "$(cat "$T/v2")" "Hello, client!" "v2 reply"
wait_for 5 grep -q 'client \[2001:db8::9\]:12345 (PROXY v2)' "$MSGD_LOG" ||
    fail "v2 client address not logged"

# No header, or a broken one: no reply, a clear log line.
got=$(printf 'Hello, server!\n' | ask -N | wc -c)
expect_eq "$got" "0" "bytes sent without a PROXY header"
wait_for 5 grep -q 'closed: no PROXY header' "$MSGD_LOG" ||
    fail "missing header not logged"
got=$(printf 'PROXY TCP4 1.2.3.4 5.6.7.8 99999 1\r\nhi\n' | ask -N | wc -c)
expect_eq "$got" "0" "bytes sent after a malformed header"
wait_for 5 grep -q 'closed: v1 port is not a number' "$MSGD_LOG" ||
    fail "malformed header not logged"
# ...and others are still served.
got=$(printf 'PROXY UNKNOWN\r\nafter\n' | ask -N)
expect_eq "$got" "Hello, client!" "reply after refused headers"
msgd_stop
pass "PROXY protocol v1 and v2"
