#!/bin/sh
# tls-haproxy.sh - HAProxy in front of a TLS msgd, as its "ssl
# send-proxy-v2" (and "send-proxy") server lines send it: the PROXY
# header in plaintext, then the TLS handshake on the same connection.
# nc's clients are answered through it, and msgd logs their addresses.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need_tls
need haproxy
need nc
tls_cert server

msgd_start -l 127.0.0.1 -v -k --proxy-protocol \
    --tls-cert "$T/server.crt" --tls-key "$T/server.key"
FRONT=$(python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
FRONT1=$(python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$T/haproxy.cfg" <<EOC
defaults
	mode tcp
	timeout connect 5s
	timeout client 10s
	timeout server 10s
frontend v2
	bind 127.0.0.1:$FRONT
	default_backend msgd_v2
frontend v1
	bind 127.0.0.1:$FRONT1
	default_backend msgd_v1
backend msgd_v2
	server m 127.0.0.1:$MSGD_PORT ssl verify none send-proxy-v2
backend msgd_v1
	server m 127.0.0.1:$MSGD_PORT ssl verify none send-proxy
EOC
haproxy -db -f "$T/haproxy.cfg" > "$T/haproxy.log" 2>&1 &
track $!
wait_for 10 listening "$FRONT" || fail "haproxy did not start: \
$(cat "$T/haproxy.log")"
wait_for 10 listening "$FRONT1" || fail "haproxy (v1) did not start"

got=$(printf 'one\ntwo\n' | timeout 10 nc -N 127.0.0.1 "$FRONT")
expect_eq "$got" "$(printf 'Hello, client!\nHello, client!')" \
    "replies through HAProxy, PROXY v2 + TLS"
got=$(printf 'one\n' | timeout 10 nc -N 127.0.0.1 "$FRONT1")
expect_eq "$got" "Hello, client!" "reply through HAProxy, PROXY v1 + TLS"
wait_for 5 grep -q 'client 127.0.0.1:[0-9]* (PROXY v2)' "$MSGD_LOG" ||
    fail "PROXY v2 address not logged"
wait_for 5 grep -q 'client 127.0.0.1:[0-9]* (PROXY v1)' "$MSGD_LOG" ||
    fail "PROXY v1 address not logged"
grep -q 'TLS handshake failed' "$MSGD_LOG" && fail "a handshake failed"
msgd_stop
pass "HAProxy ssl send-proxy(-v2) to a TLS msgd"
