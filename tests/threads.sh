#!/bin/sh
# threads.sh - --threads: workers share the port, --max-conns holds for
# the whole process, metrics add up, SIGTERM drains every worker, and
# every -t up to the maximum works with every form of -l.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need nc
need curl
need ss

# start ARGS...: msgd with metrics on a free port (MPORT).
start() {
	msgd_start --metrics 0 "$@"
	metrics_port
}
one_open() { [ "$(metric connections_open)" = 1 ]; }
both_draining() { [ "$(grep -c 'stopping: draining' "$MSGD_LOG")" = 2 ]; }

start -t 2 -c 3 --no-evict

expect_eq "$(ls "/proc/$MSGD_PID/task" | wc -l)" "2" "threads"
n=$(ss -Hltn "sport = :$MSGD_PORT" | grep -c '127\.0\.0\.1:')
expect_eq "$n" "2" "IPv4 listening sockets (one per worker)"
expect_eq "$(metric threads)" "2" "msgd_threads"

# Clients one after another land on both workers; all are answered.
i=0
while [ "$i" -lt 60 ]; do
	expect_eq "$(printf 'hi\n' | ask)" "Hello, client!" "reply $i"
	i=$((i + 1))
done
expect_eq "$(metric connections_accepted_total)" "60" "accepted, summed"
expect_eq "$(metric replies_sent_total)" "60" "replies, summed"

# --max-conns counts connections in all workers together.
hold 3
settled() { [ "$(metric connections_open)" = 3 ]; }
wait_for 10 settled || fail "connections_open is not 3"
expect_eq "$(printf 'hi\n' | ask)" "error: server busy" "4th connection"

# SIGTERM drains both workers: 503 while the held connections are open,
# exit 0 once they close.
kill -TERM "$MSGD_PID"
wait_for 5 draining || fail "healthz is not 503 while draining"
release_hold
wait "$MSGD_PID"
expect_eq "$?" "0" "exit status"
grep -q "msgd stopped: 63 connections, 60 replies" "$MSGD_LOG" ||
    fail "stop line does not count every worker's connections"
pass "two workers"

# Worker 0 serves /healthz and answers 503 until every worker has drained,
# also when the only open connection is in worker 1.  The kernel picks the
# worker, so try until that case comes up (each try: one chance in two);
# worker 0 drains first, so its count is the first "draining" line.
tries=0
while :; do
	tries=$((tries + 1))
	[ "$tries" -le 20 ] || fail "no connection landed in worker 1 in 20 tries"
	start -t 2
	hold 1
	wait_for 10 one_open || fail "connections_open is not 1"
	kill -TERM "$MSGD_PID"
	wait_for 5 both_draining || fail "both workers did not start draining"
	if grep -m 1 'stopping: draining' "$MSGD_LOG" |
	    grep -q 'draining 0 connections'; then
		expect_eq "$(http_code /healthz)" 503 \
		    "/healthz while only worker 1 drains (try $tries)"
		release_hold
		wait "$MSGD_PID"
		expect_eq "$?" "0" "exit status"
		break
	fi
	release_hold
	wait "$MSGD_PID"
	expect_eq "$?" "0" "exit status"
done
pass "/healthz stays 503 while another worker drains ($tries tries)"

# Every -t up to the maximum works with every form of -l: the addresses are
# expanded once, not once per worker (-t 17 -l '[::1]' was a usage error).
# The maximum is the one the usage error names.
max=$("$MSGD" -t 0 2>&1 | sed -n 's/.*from 1 to \([0-9]*\).*/\1/p')
[ -n "$max" ] || fail "no --threads maximum in the usage error"
have_ipv6() {
	python3 -c 'import socket
socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null
}
# at_max ADDR ARGS...: msgd -t MAX ARGS starts, with a socket per worker
# listening on ADDR as ss(8) writes it, and answers there.
at_max() {
	local addr=$1 to n
	shift
	case $addr in
	0.0.0.0)	to=127.0.0.1 ;;
	\[*)		to=${addr#[}; to=${to%]} ;;
	*)		to=$addr ;;
	esac
	start -t "$max" "$@"
	expect_eq "$(ls "/proc/$MSGD_PID/task" | wc -l)" "$max" \
	    "threads with $*"
	n=$(ss -Hltn "sport = :$MSGD_PORT" | grep -cF " $addr:$MSGD_PORT ")
	expect_eq "$n" "$max" "sockets on $addr with $*"
	expect_eq "$(printf 'hi\n' | timeout 10 nc "$to" "$MSGD_PORT")" \
	    "Hello, client!" "reply on $to with $*"
	msgd_stop
}
at_max 127.0.0.1 -l 127.0.0.1
at_max 127.0.0.1 -l localhost
at_max 0.0.0.0 -l '*'
if have_ipv6; then
	at_max '[::1]' -l '[::1]'
	at_max '[::1]' -l 127.0.0.1 -l '[::1]'
	at_max 127.0.0.1 -l '[::1]' -l 127.0.0.1
	at_max '[::1]' -l localhost
else
	echo "no IPv6 on this host: -l '[::1]' not tried"
fi
pass "-t $max with each form of -l"
