#!/bin/sh
# hostile-emfile.sh - out of descriptors (EMFILE): msgd started with the
# default -c, then its limit cut to 40 under it (prlimit).  While clients
# keep queueing, accept pauses with a back-off: under 0.2 s of CPU in 2 s,
# one log line for the episode, the descriptors never over 40; when
# clients leave, msgd accepts again by itself and answers.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need nc
need python3
need prlimit

LIMIT=40
msgd_start
prlimit --pid "$MSGD_PID" --nofile=$LIMIT:$LIMIT ||
    skip "cannot change msgd's descriptor limit"
lines0=$(wc -l < "$MSGD_LOG")
# Descriptors numbered past the limit, inherited from whoever started us.
above=$(ls "/proc/$MSGD_PID/fd" | awk -v l=$LIMIT '$1 >= l' | wc -l)

# 80 clients: msgd takes what it can, the rest wait in the backlog.
hold 80
full() { [ "$(fd_count "$MSGD_PID")" -ge $((LIMIT + above)) ]; }
wait_for 10 full || fail "msgd stopped at $(fd_count "$MSGD_PID") descriptors"
wait_for 5 grep -q 'cannot accept' "$MSGD_LOG" || fail "no pause logged"
cpu0=$(cpu_ticks "$MSGD_PID")
sleep 2		# measuring an interval, not waiting for an event
cpu1=$(cpu_ticks "$MSGD_PID")
fds=$(fd_count "$MSGD_PID")
echo "out of descriptors: $((cpu1 - cpu0)) ticks in 2 s, $fds descriptors"
[ $((cpu1 - cpu0)) -le 20 ] ||
    fail "msgd used $((cpu1 - cpu0)) ticks in 2 s out of descriptors (spins)"
[ "$fds" -le $((LIMIT + above)) ] ||
    fail "$fds descriptors over a limit of $LIMIT (+ $above inherited)"
expect_eq "$(grep -c 'cannot accept' "$MSGD_LOG")" 1 "pause lines"
[ $(($(wc -l < "$MSGD_LOG") - lines0)) -le 2 ] ||
    fail "the log grew by $(($(wc -l < "$MSGD_LOG") - lines0)) lines"
grep -q 'Too many open files' "$MSGD_LOG" || fail "the pause gives no reason"

# The clients leave: msgd accepts again on its own and answers.
release_hold
expect_eq "$(printf 'hi\n' | ask)" "Hello, client!" "reply after the episode"
# The episode ends once accepting has worked for a second (back-off max).
ended() {
	printf 'hi\n' | ask > /dev/null
	grep -q 'descriptors available again' "$MSGD_LOG"
}
wait_for 5 ended || fail "no line saying that accepting resumed"
[ $(($(wc -l < "$MSGD_LOG") - lines0)) -le 3 ] ||
    fail "the log grew by $(($(wc -l < "$MSGD_LOG") - lines0)) lines"
msgd_stop
pass "EMFILE: paused at $((cpu1 - cpu0)) ticks in 2 s, one log line, resumed"
