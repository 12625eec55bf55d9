#!/bin/sh
# hostile-trickle.sh - time limits that a trickle of bytes cannot reset.
# Each client below sends one byte every second or so and never finishes
# what it should; msgd must close it at the bound counted from the event
# that started the clock, not from its last byte:
#   -k, no line ever complete      --idle-timeout from accept (idle means
#                                  "no line answered", not "no byte")
#   -k, a line that never ends     --line-timeout from its first byte
#   one-shot, after the reply      the 5 s linger from the reply
#   --proxy-protocol, half header  5 s from accept
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need python3

slow=1
[ -z "${MSGD_SANITIZED:-}" ] || slow=4

# trickle NAME PORT FIRST INTERVAL: start a trickling client.
trickle() {
	python3 "${top_srcdir:-..}/tests/slowloris.py" trickle "$2" "$3" "$4" \
	    $((20 * slow)) > "$T/$1.out" &
	track $!
	eval "pid_$1=$!"
}
# closed_within NAME LOW HIGH: the client was closed after LOW..HIGH s.
closed_within() {
	local pid t
	eval "pid=\$pid_$1"
	wait "$pid" || fail "$1: slowloris.py failed"
	t=$(sed -n 's/^closed //p' "$T/$1.out")
	[ -n "$t" ] || fail "$1: msgd never closed it: $(cat "$T/$1.out")"
	awk -v t="$t" -v lo="$2" -v hi="$3" 'BEGIN { exit !(t >= lo && t <= hi) }' ||
	    fail "$1: closed after $t s, not within $2..$3 s"
	echo "$1: closed after $t s"
}

msgd_start -k -i 3
trickle idle "$MSGD_PORT" '' 0.5
msgd_start -k --line-timeout 2
trickle line "$MSGD_PORT" 'hello' 0.5
msgd_start
trickle linger "$MSGD_PORT" 'hi\n' 0.5
msgd_start --proxy-protocol
trickle proxy "$MSGD_PORT" 'PROXY TCP4 ' 1

closed_within idle 2.9 $((5 * slow))
closed_within line 1.9 $((4 * slow))
closed_within linger 4.9 $((7 * slow))
grep -qx "reply 'Hello, client!\\\\n'" "$T/linger.out" ||
    fail "linger: no reply first: $(cat "$T/linger.out")"
closed_within proxy 4.9 $((8 * slow))
pass "idle, line, linger and PROXY-header clocks ignore trickled bytes"
