#!/bin/sh
# idle-memory.sh - an idle connection costs msgd at most 512 bytes of
# memory (measured: RSS growth over 4000 idle connections) and exactly one
# descriptor.  So does a -k connection that has been answered and has
# nothing pending: its buffers are made only when something has to wait.
# An answered -k TLS connection costs at most 20 kB (its SSL and
# bufferevent; OpenSSL's buffers are given back while it is idle), when
# msgd is built with OpenSSL.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need python3

N=4000
limit=512

# per_conn WHAT [LINE]: hold N connections (sending LINE on each, if
# given) and check the memory and descriptors each one costs.
per_conn() {
	rss0=$(vm_kb "$MSGD_PID" VmRSS)
	fd0=$(fd_count "$MSGD_PID")
	hold $N ${2+"$2"}
	open_all() { [ "$(fd_count "$MSGD_PID")" -ge $((fd0 + N)) ]; }
	wait_for 20 open_all || fail "msgd has $(fd_count "$MSGD_PID") fds"
	rss1=$(vm_kb "$MSGD_PID" VmRSS)
	fd1=$(fd_count "$MSGD_PID")
	per=$(( (rss1 - rss0) * 1024 / N ))
	echo "RSS $rss0 -> $rss1 kB over $N $1 connections: $per bytes each"
	expect_eq "$((fd1 - fd0))" "$N" "descriptors for $N $1 connections"
	# Under the sanitizers every allocation carries ASan's redzones: the
	# bound is glibc's malloc's, checked in the plain make check.
	[ -n "${MSGD_SANITIZED:-}" ] || [ "$per" -le $limit ] ||
	    fail "$per bytes per $1 connection (limit $limit)"
}

msgd_start -c $((N + 100))
per_conn idle
idle=$per
# Idle, but alive: they are still answered.
expect_eq "$(printf 'hi\n' | ask)" "Hello, client!" "reply beside idlers"
release_hold
msgd_stop

msgd_start -k -c $((N + 100))
per_conn "answered -k" hello
# Still open and served: a second line on a new connection is answered.
expect_eq "$(printf 'hi\n' | ask)" "Hello, client!" "reply beside them"
release_hold
msgd_stop
msg="$idle bytes per idle connection, $per per answered -k connection"

if [ "${MSGD_HAVE_OPENSSL:-yes}" = yes ] && command -v openssl > /dev/null
then
	tls_cert server
	N=1000 limit=20480
	msgd_start -k -c $((N + 100)) --tls-cert "$T/server.crt" \
	    --tls-key "$T/server.key"
	HOLD_TLS=1 per_conn "answered -k TLS" hello
	release_hold
	msgd_stop
	msg="$msg, $per per answered -k TLS connection"
else
	msg="$msg (TLS not built: not measured)"
fi
pass "$msg"
