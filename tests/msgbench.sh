#!/bin/sh
# msgbench.sh - msgbench against a real msgd: every mode for about a second
# each, with the fixed reply and with --echo, then the failures it must
# catch: a wrong --expect, nobody listening, and bad options.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC

. "${top_srcdir:-..}/tests/lib.sh"

[ -x "$MSGBENCH" ] || fail "msgbench is not built ($MSGBENCH)"


# bench NAME ARGS...: run msgbench --json against msgd, bounded in time;
# leaves its exit status in $rc, its JSON line in $T/NAME.json and its
# stderr in $T/NAME.err.
bench() {
	local name=$1
	shift
	timeout 60 "$MSGBENCH" --json -H 127.0.0.1 -p "$MSGD_PORT" -t 5 "$@" \
	    > "$T/$name.json" 2> "$T/$name.err"
	rc=$?
	[ "$(wc -l < "$T/$name.json")" -eq 1 ] ||
	    fail "$name: expected one JSON line, got: $(cat "$T/$name.json")"
}

# bench_ok NAME ARGS...: exit 0, some messages, no errors, nothing lost.
bench_ok() {
	local name=$1 messages errors lost
	bench "$@"
	[ "$rc" -eq 0 ] || fail "$name: exit status $rc: $(cat "$T/$name.err")"
	messages=$(json_get messages "$T/$name.json")
	errors=$(json_get errors "$T/$name.json")
	lost=$(json_get lost "$T/$name.json")
	[ "${messages:-0}" -gt 0 ] ||
	    fail "$name: no messages: $(cat "$T/$name.json")"
	expect_eq "$errors" 0 "$name: errors"
	expect_eq "$lost" 0 "$name: lost"
	[ -s "$T/$name.err" ] && fail "$name: stderr: $(cat "$T/$name.err")"
	pass "$name: $messages messages, $(json_get msgs_per_sec \
	    "$T/$name.json") msgs/s, p99 $(json_get p99_us "$T/$name.json") us"
}

# One-shot msgd: a connection per message, also over 4 source addresses.
msgd_start
bench_ok conn conn -c 4 -d 1
bench_ok conn-sources conn -c 8 -s 4 -d 0.5
bench_ok conn-count conn -c 3 -n 50
expect_eq "$(json_get messages "$T/conn-count.json")" 50 "conn -n 50"

# The default mode (ping) and pipe against it: exit 1, and one line that
# says why and what to use instead.
for mode in ping pipe; do
	bench "oneshot-$mode" $mode -c 2 -d 0.3
	[ "$rc" -eq 1 ] || fail "$mode against one-shot: exit status $rc"
	grep -q 'closed by the server after 1 reply, with [0-9]* outstanding' \
	    "$T/oneshot-$mode.err" ||
	    fail "$mode against one-shot: stderr: $(cat "$T/oneshot-$mode.err")"
	expect_eq "$(grep -c "looks like a one-shot server (msgd without -k); \
use 'msgbench conn', or start msgd with -k" "$T/oneshot-$mode.err")" 1 \
	    "$mode against one-shot: hint lines"
done
pass "ping and pipe against a one-shot msgd: exit 1 with a hint"
msgd_stop

# Keep-open msgd: persistent connections, one or many in flight.
msgd_start -k
bench_ok ping ping -c 4 -d 1
# The table, with one connection: singular.
timeout 60 "$MSGBENCH" ping -H 127.0.0.1 -p "$MSGD_PORT" -c 1 -n 3 \
    > "$T/one.out" || fail "ping -c 1 -n 3: exit status $?"
grep -q '^mode  *ping: 1 connection, 1 in flight each' "$T/one.out" ||
    fail "ping -c 1: $(cat "$T/one.out")"
pass "ping -c 1: '1 connection' in the table"
bench_ok pipe pipe -c 4 -D 8 -d 1
bench_ok pipe-count pipe -c 3 -D 5 -n 1001
expect_eq "$(json_get messages "$T/pipe-count.json")" 1001 "pipe -n 1001"

# A wrong --expect: every reply is a mismatch, found at the right byte.
bench wrong -c 2 -n 10 --expect 'Hello, world!'
[ "$rc" -eq 1 ] || fail "wrong --expect: exit status $rc, expected 1"
[ "$(json_get mismatch "$T/wrong.json")" -gt 0 ] ||
    fail "wrong --expect: no mismatches counted: $(cat "$T/wrong.json")"
expect_eq "$(json_get messages "$T/wrong.json")" 0 "wrong --expect: messages"
grep -q "differs at byte 8 of 14: expected 'w' (0x77), got 'c' (0x63)" \
    "$T/wrong.err" || fail "wrong --expect: stderr: $(cat "$T/wrong.err")"
pass "wrong --expect: exit 1, mismatches reported"

# The fixed reply is not an echo.
bench echo-wrong -c 1 -n 3 --echo -m 'ping me'
[ "$rc" -eq 1 ] || fail "--echo against a fixed reply: exit status $rc"
pass "--echo against a fixed reply: exit 1"
msgd_stop

# Echoing msgd.
msgd_start -k -e
bench_ok echo-ping ping --echo -m 'echo me, please' -c 4 -d 1
bench_ok echo-pipe pipe --echo -m 'x' -c 2 -D 32 -d 0.5
msgd_stop

# Nobody listening any more: cannot connect at all.
bench refused -c 2 -d 1
[ "$rc" -eq 69 ] || fail "nobody listening: exit status $rc, expected 69"
expect_eq "$(json_get messages "$T/refused.json")" 0 "refused: messages"
grep -q "cannot connect" "$T/refused.err" ||
    fail "nobody listening: stderr: $(cat "$T/refused.err")"
pass "nobody listening: exit 69"

# Usage errors: one line on stderr, exit 64; --help and --version exit 0.
for args in "-c 0" "-d x" "--depth 4 ping" "-s 2 -H ::1" "bogus" \
    "--echo --expect x" "--no-such-option"; do
	# shellcheck disable=SC2086
	"$MSGBENCH" $args > "$T/usage.out" 2> "$T/usage.err"
	rc=$?
	[ "$rc" -eq 64 ] || fail "msgbench $args: exit status $rc, expected 64"
	[ "$(wc -l < "$T/usage.err")" -eq 1 ] ||
	    fail "msgbench $args: stderr: $(cat "$T/usage.err")"
	[ -s "$T/usage.out" ] && fail "msgbench $args: wrote to stdout"
done
"$MSGBENCH" --help > "$T/help.out" || fail "--help exit status"
grep -q '^Usage: msgbench' "$T/help.out" || fail "--help"
help_layout "$T/help.out" || fail "--help: an option line help2man would misread"
"$MSGBENCH" --version | grep -q '^msgbench' || fail "--version"
pass "usage errors exit 64; --help and --version exit 0"
