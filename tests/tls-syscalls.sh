#!/bin/sh
# tls-syscalls.sh - what a TLS connection costs msgd in system calls,
# counted with strace over 50 one-shot connections from msgbench (a full
# TLS 1.3 handshake each): at most 6 read(2)s, 3 write(2)s and 3
# epoll_ctl(2)s a connection.  OpenSSL reads ahead (a read takes what the
# socket holds, not a record header and then its body), writes into
# memory that msgd sends when the conversation allows (the flight; then
# the session tickets, the reply and close_notify together), and msgd
# registers the socket once; nginx makes 3 reads, 5 writes, 1 epoll_ctl.
# libevent 2.1's OpenSSL bufferevent, which msgd used before, took 10
# reads, 6 writes and 10 epoll_ctl calls a connection (bench/RESULTS.md,
# "TLS: msgd and nginx").
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need_tls
need strace
[ -x "$MSGBENCH" ] || fail "msgbench is not built ($MSGBENCH)"
tls_cert server
N=50

msgd_start --tls-cert "$T/server.crt" --tls-key "$T/server.key" -t 1
# strace attaches to every thread; it is ready once it says so.
strace -f -c -e trace=read,write,epoll_ctl -o "$T/strace.out" -p "$MSGD_PID" \
    2> "$T/strace.err" &
SPID=$!
track "$SPID"
wait_for 10 grep -q attached "$T/strace.err" ||
    skip "strace cannot attach here (ptrace refused): $(cat "$T/strace.err")"
base=$(fd_count "$MSGD_PID")
"$MSGBENCH" conn --tls -c 1 -n "$N" -H 127.0.0.1 -p "$MSGD_PORT" --json \
    > "$T/bench.out" 2> "$T/bench.err" || fail "msgbench: $(cat "$T/bench.err")"
expect_eq "$(json_get messages "$T/bench.out")" "$N" "connections answered"
expect_eq "$(json_get handshakes "$T/bench.out")" "$N" "TLS handshakes"
expect_eq "$(json_get errors "$T/bench.out")" "0" "msgbench errors"
# Every connection closed (its linger ends with the client's close), so
# that the close's calls are counted too.
closed() { [ "$(fd_count "$MSGD_PID")" -le "$base" ]; }
wait_for 10 closed || fail "connections still open: $(fd_count "$MSGD_PID") fds"
kill -INT "$SPID"
wait "$SPID"
calls() { awk -v s="$1" '$NF == s { print $4 }' "$T/strace.out"; }
reads=$(calls read) writes=$(calls write) ctls=$(calls epoll_ctl)
[ -n "$reads" ] && [ -n "$writes" ] && [ -n "$ctls" ] ||
    fail "no counts: $(cat "$T/strace.out")"
[ "$reads" -le $((N * 6)) ] ||
    fail "$reads read(2)s for $N TLS connections (at most $((N * 6)))"
[ "$writes" -le $((N * 3)) ] ||
    fail "$writes write(2)s for $N TLS connections (at most $((N * 3)))"
[ "$ctls" -le $((N * 3)) ] ||
    fail "$ctls epoll_ctl(2)s for $N TLS connections (at most $((N * 3)))"
msgd_stop
pass "$N TLS connections: $reads reads, $writes writes, $ctls epoll_ctl calls"
