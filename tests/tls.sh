#!/bin/sh
# tls.sh - --tls-cert/--tls-key: real TLS clients (openssl s_client, ncat
# --ssl, Python's ssl module) get their replies in one-shot, -k and -e
# mode and with two threads; --max-message and --line-timeout hold; TLS
# 1.1 is refused, 1.2 and 1.3 work; a PROXY header before the handshake
# (HAProxy's send-proxy) works; the handshakes are counted; a Unix-domain
# socket beside them stays plaintext.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need_tls
need ncat
need nc
need curl
TLSPY="python3 -W ignore ${top_srcdir:-..}/tests/tls.py"
tls_cert server
TLS="--tls-cert $T/server.crt --tls-key $T/server.key"

# One-shot, with each client.
msgd_start $TLS --metrics 0
metrics_port
grep -q "listening on .*TLS" "$MSGD_LOG" || fail "start line does not say TLS"
got=$(printf 'Hello, server!\n' | tls_ask)
expect_eq "$got" "Hello, client!" "s_client one-shot reply"
got=$(printf 'Hello, server!\n' | timeout 10 ncat --ssl 127.0.0.1 "$MSGD_PORT")
expect_eq "$got" "Hello, client!" "ncat --ssl one-shot reply"
got=$($TLSPY client "$MSGD_PORT")
expect_eq "$got" "Hello, client!" "Python ssl (the seed's client) reply"
# The client's line in the same segment as its Finished: OpenSSL reads
# it ahead with the handshake's end, and it is answered all the same.
got=$($TLSPY burst "$MSGD_PORT" 1)
expect_eq "$got" "replies 1" "line read ahead with the handshake's end"
for v in 1.2 1.3; do
	got=$($TLSPY client "$MSGD_PORT" --version $v)
	expect_eq "$got" "Hello, client!" "TLS $v reply"
done
got=$($TLSPY client "$MSGD_PORT" --version 1.1)
case $got in
refused:*) ;;
*) fail "TLS 1.1 was not refused: $got" ;;
esac
# Plaintext to the TLS port gets no reply.
got=$(printf 'Hello, server!\n' | ask -N -w 10 | tr -d '\0' | grep -c Hello)
expect_eq "$got" "0" "plaintext replies on a TLS port"
wait_for 5 grep -q "TLS handshake failed" "$MSGD_LOG" ||
    fail "no log line for the failed handshakes"
n=$(metric tls_handshakes_total)
expect_eq "$n" "6" "msgd_tls_handshakes_total"
wait_for 5 sh -c "curl -sf http://127.0.0.1:$MPORT/metrics |
    grep -q '^msgd_tls_handshake_failures_total{reason=\"error\"} 2$'" ||
    fail "handshake failures not counted: $(curl -s \
    http://127.0.0.1:$MPORT/metrics | grep tls_)"
msgd_stop

# A Unix-domain socket beside it stays plaintext.
msgd_start $TLS -l 127.0.0.1 -l "unix:$T/msgd.sock"
got=$(printf 'Hello, server!\n' | timeout 10 nc -U -N "$T/msgd.sock")
expect_eq "$got" "Hello, client!" "plaintext reply on the Unix socket"
got=$(printf 'Hello, server!\n' | tls_ask)
expect_eq "$got" "Hello, client!" "TLS reply beside the Unix socket"
msgd_stop

# Keep-open and echo (-i 1: s_client -quiet waits for msgd to close).
msgd_start $TLS -k -e -i 1
got=$(printf 'one\ntwo\n' | tls_ask)
expect_eq "$got" "$(printf 'one\ntwo')" "-k -e replies over TLS"
# 2,000 lines, a record each, read ahead in one segment with the
# handshake's end: more than one read's worth, every one answered.
got=$($TLSPY burst "$MSGD_PORT" 2000)
expect_eq "$got" "replies 2000" "-k -e: 2,000 lines read ahead at once"
# A client that shuts its socket down without close_notify, with a last
# line unterminated and 1 MiB of replies still to read: all of it is
# answered, as in plaintext.
got=$($TLSPY halfclose "$MSGD_PORT" 1048576)
expect_eq "$got" "got 1048581" "half-close without close_notify over TLS"
msgd_stop

# The limits hold over TLS: --max-message, --line-timeout.
msgd_start $TLS -k -M 8 --line-timeout 1
got=$(printf 'one\n0123456789abcdef\ntwo\n' | tls_ask)
expect_eq "$got" "$(printf 'Hello, client!\nerror: message too long')" \
    "--max-message over TLS"
# s_client -quiet waits for msgd to close: the line timeout, not idle's 60 s.
start=$(date +%s)
got=$(printf 'part' | tls_ask | wc -c)
expect_eq "$got" "0" "bytes sent before a line timeout over TLS"
[ $(($(date +%s) - start)) -lt 8 ] || fail "--line-timeout 1 did not close"
msgd_stop

# Two threads, several clients; and a PROXY v1 header before the
# handshake, as HAProxy's send-proxy sends it to a TLS backend.
msgd_start $TLS -t 2 -v --proxy-protocol
pids=
for i in 1 2 3 4; do
	$TLSPY client "$MSGD_PORT" --proxy > "$T/c$i" &
	pids="$pids $!"
done
for p in $pids; do
	wait "$p" || fail "client $p failed"
done
for i in 1 2 3 4; do
	expect_eq "$(cat "$T/c$i")" "Hello, client!" "-t 2 client $i"
done
grep -q 'client 192.0.2.9:40000 (PROXY v1)' "$MSGD_LOG" ||
    fail "PROXY address before TLS not logged"
msgd_stop
pass "TLS: s_client, ncat, Python; one-shot, -k -e, -t 2, PROXY, Unix plain; 1.1 refused"
