#!/bin/sh
# metrics.sh - /metrics counts what happened, /healthz tracks shutdown,
# SIGUSR1 logs the same counters.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need nc
need curl

msgd_start -c 2 -M 32 --metrics 127.0.0.1:0
metrics_port
URL=http://127.0.0.1:$MPORT

scrape() { curl -sf --max-time 5 "$URL/metrics" > "$1" || fail "scrape"; }
# sample FILE NAME: the value of an unlabelled sample in a saved scrape.
sample() { awk -v n="$2" '$1 == n { print $2 }' "$1"; }
# delta NAME EXPECTED: how much NAME moved between the two scrapes.
delta() {
	d=$(( $(sample "$T/after" "$1") - $(sample "$T/before" "$1") ))
	expect_eq "$d" "$2" "change in $1"
}

scrape "$T/before"
if command -v promtool >/dev/null 2>&1; then
	promtool check metrics < "$T/before" ||
	    fail "promtool rejects /metrics"
else
	echo "note: promtool not installed, format check not run" >&2
fi
for m in connections_accepted_total connections_refused_busy_total \
    connections_idle_closed_total connections_too_long_closed_total \
    messages_received_total replies_sent_total received_bytes_total \
    sent_bytes_total accept_pauses_total connections_open uptime_seconds \
    max_connections max_message_bytes idle_timeout_seconds; do
	grep -q "^# TYPE msgd_$m " "$T/before" || fail "no TYPE for msgd_$m"
	[ -n "$(sample "$T/before" "msgd_$m")" ] || fail "no msgd_$m"
done
expect_eq "$(sample "$T/before" msgd_max_connections)" "2" "max_connections"
expect_eq "$(sample "$T/before" msgd_max_message_bytes)" "32" "max_message"

# Known load: 10 answered clients (6 bytes in, 15 out each), one line
# over --max-message (41 bytes in, 24 out), two idle connections, and one
# client refused as busy (19 bytes out).
i=0
while [ "$i" -lt 10 ]; do
	expect_eq "$(printf 'hello\n' | ask)" "Hello, client!" "reply $i"
	i=$((i + 1))
done
got=$(printf '%040d\n' 0 | ask)
expect_eq "$got" "error: message too long" "reply to a long line"
hold 2
got=$(printf 'hi\n' | ask)
expect_eq "$got" "error: server busy" "reply over --max-conns"
open_is_2() {
	scrape "$T/after"
	[ "$(sample "$T/after" msgd_connections_open)" = 2 ]
}
wait_for 10 open_is_2 || fail "connections_open did not settle at 2"

delta msgd_connections_accepted_total 13
delta msgd_connections_refused_busy_total 1
delta msgd_connections_too_long_closed_total 1
delta msgd_connections_idle_closed_total 0
delta msgd_messages_received_total 10
delta msgd_replies_sent_total 10
delta msgd_received_bytes_total 101
delta msgd_sent_bytes_total 193
delta msgd_accept_pauses_total 0

# SIGUSR1: the same counters in one log line.
kill -USR1 "$MSGD_PID"
wait_for 5 grep -q 'stats: connections_accepted=13 ' "$MSGD_LOG" ||
    fail "SIGUSR1 stats line"

# /healthz: 200 while serving; 503 while draining after SIGTERM (the two
# held connections keep msgd draining); unknown paths are 404.
expect_eq "$(http_code /healthz)" "200" "healthz while serving"
expect_eq "$(http_code /nothing)" "404" "unknown path"
kill -TERM "$MSGD_PID"
wait_for 5 draining || fail "healthz is not 503 while draining"
expect_eq "$(metric draining)" "1" "msgd_draining while draining"
release_hold
wait "$MSGD_PID"
expect_eq "$?" "0" "exit status after draining"
pass "metrics and health"
