#!/bin/sh
# limits-per-source.sh - --max-conns-per-source N: a source (an IPv4
# address, an IPv6 /64) with N connections open gets "error: server busy"
# for the next one, while other sources are answered; closing connections
# gives the places back; the limit holds for the process across -t 4
# workers; with --proxy-protocol the source is the header's address (the
# balancer's own is not counted; a header without one counts under the
# peer's); the refusals are in /metrics under reason="per_source", and
# the source's limit is looked at before --max-conns.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need nc
need python3
need curl

N=5
HELLO="Hello, client!"
BUSY="error: server busy"

# sample NAME: the value of the sample NAME (with its labels) in /metrics.
sample() {
	curl -sf --max-time 5 "http://127.0.0.1:$MPORT/metrics" |
	    awk -v n="$1" '$1 == n { print $2 }'
}
open_is() { [ "$(sample msgd_connections_open)" = "$1" ]; }
refused() {
	sample "msgd_connections_refused_total{reason=\"$1\"}"
}
# held [LINE]: hold N connections (to $HOLD_HOST), all accepted and open.
held() {
	hold $N ${1+"$1"}
	wait_for 20 open_is $N ||
	    fail "$(sample msgd_connections_open) connections open, not $N"
}
# let_go: release them, and wait until msgd has closed them all.
let_go() {
	release_hold
	wait_for 20 open_is 0 ||
	    fail "$(sample msgd_connections_open) open after the release"
}
# ask6 [NC-ARGS...]: ask, from ::1 to ::1.
ask6() { timeout 10 nc "$@" ::1 "$MSGD_PORT"; }
# proxied ADDR [FAMILY [NC-ARGS...]]: one line behind a v1 PROXY header
# that says ADDR is the client (FAMILY TCP4, TCP6 or UNKNOWN).
proxied() {
	local addr=$1 fam=${2:-TCP4} dst=127.0.0.1
	shift
	[ $# -gt 0 ] && shift
	[ "$fam" = TCP6 ] && dst=::1
	if [ "$fam" = UNKNOWN ]; then
		printf 'PROXY UNKNOWN\r\nhi\n'
	else
		printf 'PROXY %s %s %s 40000 5000\r\nhi\n' "$fam" "$addr" "$dst"
	fi | ask -N "$@"
}

# 1. One worker, one-shot: 127.0.0.1 and ::1 are sources of their own.
msgd_start --max-conns-per-source $N --metrics 0
metrics_port
expect_eq "$(sample msgd_max_connections_per_source)" $N "the limit in /metrics"
held
expect_eq "$(refused per_source)" 0 "refusals for $N connections"
expect_eq "$(printf 'hi\n' | ask)" "$BUSY" "client $((N + 1)) from 127.0.0.1"
expect_eq "$(printf 'hi\n' | ask -s 127.0.0.2)" "$HELLO" \
    "client from 127.0.0.2 beside $N from 127.0.0.1"
expect_eq "$(printf 'hi\n' | ask6)" "$HELLO" \
    "client from ::1 beside $N from 127.0.0.1"
let_go
expect_eq "$(printf 'hi\n' | ask)" "$HELLO" "127.0.0.1 once its clients left"

HOLD_HOST=::1 held
expect_eq "$(printf 'hi\n' | ask6)" "$BUSY" "client $((N + 1)) from ::1"
expect_eq "$(printf 'hi\n' | ask)" "$HELLO" "127.0.0.1 beside $N from ::1"
let_go
expect_eq "$(printf 'hi\n' | ask6)" "$HELLO" "::1 once its clients left"
expect_eq "$(refused per_source)" 2 "refusals counted"
expect_eq "$(refused busy)" 0 "refusals counted as busy"
msgd_stop

# 2. Four workers: one count for the process, taken and given back.
msgd_start -t 4 --max-conns-per-source $N --metrics 0
metrics_port
for round in 1 2 3; do
	held
	expect_eq "$(printf 'hi\n' | ask)" "$BUSY" "-t 4, round $round: client $((N + 1))"
	expect_eq "$(printf 'hi\n' | ask -s 127.0.0.2)" "$HELLO" \
	    "-t 4, round $round: client from 127.0.0.2"
	let_go
done
expect_eq "$(printf 'hi\n' | ask)" "$HELLO" "-t 4: 127.0.0.1 after the rounds"
expect_eq "$(refused per_source)" 3 "-t 4: refusals counted"
msgd_stop

# 3. At -c N too, a source over its limit is refused for its source:
# it takes no place from, and makes none among, the others'.
msgd_start -c $N --max-conns-per-source $N --metrics 0
metrics_port
held
expect_eq "$(printf 'hi\n' | ask)" "$BUSY" "client $((N + 1)) at -c $N"
expect_eq "$(refused per_source)/$(refused busy)" 1/0 \
    "refusals per_source/busy at -c $N"
open_is $N || fail "$(sample msgd_connections_open) open, not the $N held"
let_go
msgd_stop

# 4. --proxy-protocol: the address in the header is the source.
msgd_start -k --proxy-protocol --max-conns-per-source $N --metrics 0
metrics_port
held "$(printf 'PROXY TCP4 192.0.2.1 127.0.0.1 40000 5000\r\nhi')"
expect_eq "$(proxied 192.0.2.1)" "$BUSY" "client $((N + 1)) from 192.0.2.1"
expect_eq "$(proxied ::ffff:192.0.2.1 TCP6)" "$BUSY" \
    "192.0.2.1 as an IPv4-mapped IPv6 address"
expect_eq "$(proxied 198.51.100.7)" "$HELLO" "client from 198.51.100.7"
# The balancer (127.0.0.1) has 5 + 4 connections open: not counted.
expect_eq "$(proxied '' UNKNOWN)" "$HELLO" "PROXY UNKNOWN from 127.0.0.1"
let_go
expect_eq "$(proxied 192.0.2.1)" "$HELLO" "192.0.2.1 once its clients left"

# IPv6 sources are /64 prefixes.
held "$(printf 'PROXY TCP6 2001:db8::1 ::1 40000 5000\r\nhi')"
expect_eq "$(proxied 2001:db8::2:3 TCP6)" "$BUSY" \
    "client from 2001:db8::2:3 beside $N from 2001:db8::1"
expect_eq "$(proxied 2001:db8:0:1::1 TCP6)" "$HELLO" \
    "client from 2001:db8:0:1::1 (another /64)"
let_go

# A header without an address counts under the connection's own.
held "$(printf 'PROXY UNKNOWN\r\nhi')"
expect_eq "$(proxied '' UNKNOWN)" "$BUSY" "PROXY UNKNOWN client $((N + 1))"
expect_eq "$(proxied '' UNKNOWN -s 127.0.0.2)" "$HELLO" \
    "PROXY UNKNOWN from 127.0.0.2"
expect_eq "$(proxied 192.0.2.1)" "$HELLO" "192.0.2.1 beside them"
let_go
expect_eq "$(refused per_source)" 4 "refusals after the PROXY header"
expect_eq "$(sample 'msgd_connections_closed_total{reason="per_source"}')" 4 \
    "accepted connections closed for their source"
msgd_stop
pass "--max-conns-per-source $N: by address, /64, PROXY address, across -t 4"
