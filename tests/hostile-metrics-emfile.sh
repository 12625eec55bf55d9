#!/bin/sh
# hostile-metrics-emfile.sh - out of descriptors with -t 16 and --metrics:
# the metrics listener pauses like the message listeners.  msgd's limit
# is cut to 20 over what it uses at rest (prlimit), 100 clients queue on
# the message port and 30 on the metrics port: msgd stays near idle (under
# 20% of a core over 3 s), logs one pause line a worker at most (the
# metrics listener's episode is worker 0's) and nothing else; when the
# clients leave, both ports answer again.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need nc
need curl
need python3
need prlimit

W=16
msgd_start -t $W -l 127.0.0.1 --metrics 127.0.0.1:0
metrics_port
LIMIT=$(($(fd_count "$MSGD_PID") + 20))
prlimit --pid "$MSGD_PID" --nofile=$LIMIT:$LIMIT ||
    skip "cannot change msgd's descriptor limit"
lines0=$(wc -l < "$MSGD_LOG")

# 100 message clients (msgd takes what it can, the rest wait in the
# backlogs), then 30 on the metrics port.
hold 100
metrics_hold 30
wait_for 5 grep -q 'cannot accept' "$MSGD_LOG" || fail "no pause logged"

hz=$(getconf CLK_TCK)
cpu0=$(cpu_ticks "$MSGD_PID")
sleep 3		# measuring an interval, not waiting for an event
cpu1=$(cpu_ticks "$MSGD_PID")
used=$((cpu1 - cpu0))
echo "out of descriptors: $used ticks ($hz a second) in 3 s"
[ "$used" -le $((hz * 3 / 5)) ] ||
    fail "msgd used $used ticks in 3 s out of descriptors (spins)"
pauses=$(grep -c 'cannot accept' "$MSGD_LOG")
[ "$pauses" -le $W ] || fail "$pauses pause lines from $W workers"
grown=$(($(wc -l < "$MSGD_LOG") - lines0))
[ "$grown" -le "$pauses" ] ||
    fail "the log grew by $grown lines, $pauses of them pauses"

# The clients leave: both ports answer again.
metrics_release
release_hold
expect_eq "$(printf 'hi\n' | ask)" "Hello, client!" "reply after the episode"
scraped() { [ "$(metric accept_pauses_total)" -ge 1 ]; }
wait_for 5 scraped || fail "no scrape after the episode"
msgd_stop
pass "-t $W --metrics out of descriptors: $used ticks in 3 s," \
    "$pauses pause lines"
