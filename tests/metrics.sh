#!/bin/sh
# metrics.sh - /metrics counts what happened, in the names and shapes
# Prometheus expects (promtool, reason labels, histograms, process_*);
# /healthz tracks shutdown; SIGUSR1 logs the same counters.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need nc
need curl
need python3

msgd_start -c 2 -M 32 --no-evict --metrics 127.0.0.1:0
metrics_port
URL=http://127.0.0.1:$MPORT

scrape() { curl -sf --max-time 5 "$URL/metrics" > "$1" || fail "scrape"; }
# sample FILE NAME: the value of a sample in a saved scrape; NAME may have
# labels, written as they are exposed: 'msgd_x_total{reason="busy"}'.
sample() { awk -v n="$2" '$1 == n { print $2 }' "$1"; }
# delta NAME EXPECTED: how much NAME moved between the two scrapes.
delta() {
	d=$(( $(sample "$T/after" "$1") - $(sample "$T/before" "$1") ))
	expect_eq "$d" "$2" "change in $1"
}
# promtool FILE: the exposition format is clean.  CI must have promtool
# (install-deps --test): there, its absence fails the test.
promtool_check() {
	if command -v promtool >/dev/null 2>&1; then
		promtool check metrics < "$1" ||
		    fail "promtool rejects /metrics"
	elif [ -n "${CI:-}" ]; then
		fail "promtool is not installed (CI is set)"
	else
		echo "note: promtool not installed, format check not run" >&2
	fi
}
# histogram FILE NAME: buckets in rising le order ending in +Inf,
# cumulative counts never falling, +Inf equal to _count, a _sum.
histogram() {
	grep -q "^# TYPE $2 histogram\$" "$1" || fail "no histogram $2"
	awk -v n="$2" '
	    index($0, n "_bucket{le=\"") == 1 {
		le = $1; sub(/.*le="/, "", le); sub(/".*/, "", le)
		if (seen_inf) { print "bucket after +Inf"; bad = 1 }
		if (le == "+Inf") { seen_inf = 1; inf = $2 }
		else if (nb > 0 && le + 0 <= last_le) {
			print "le " le " after " last_le; bad = 1 }
		if (nb > 0 && $2 + 0 < last) {
			print "count falls at le=" le; bad = 1 }
		last_le = le + 0; last = $2 + 0; nb++
	    }
	    $1 == n "_count" { count = $2; has_count = 1 }
	    $1 == n "_sum" { has_sum = 1 }
	    END {
		if (!seen_inf || !has_count || !has_sum || nb < 3) {
			print "incomplete"; bad = 1 }
		if (inf != count) { print "+Inf " inf " != _count " count
			bad = 1 }
		exit bad
	    }' "$1" || fail "histogram $2 is inconsistent"
}
# above FILE NAME LE: observations of histogram NAME over LE seconds.
above() {
	echo $(( $(sample "$1" "$2_count") - \
	    $(sample "$1" "$2_bucket{le=\"$3\"}") ))
}

scrape "$T/before"
promtool_check "$T/before"
for m in connections_accepted_total connections_open max_connections \
    messages_received_total replies_sent_total received_bytes_total \
    sent_bytes_total accept_pauses_total max_message_bytes \
    idle_timeout_seconds max_connections_per_source; do
	grep -q "^# TYPE msgd_$m " "$T/before" || fail "no TYPE for msgd_$m"
	[ -n "$(sample "$T/before" "msgd_$m")" ] || fail "no msgd_$m"
done
for r in done error idle_timeout too_long proxy_header line_timeout \
    evicted per_source; do
	[ -n "$(sample "$T/before" \
	    "msgd_connections_closed_total{reason=\"$r\"}")" ] ||
	    fail "no msgd_connections_closed_total{reason=\"$r\"}"
done
expect_eq "$(sample "$T/before" \
    'msgd_connections_refused_total{reason="busy"}')" 0 "refused busy"
expect_eq "$(sample "$T/before" \
    'msgd_connections_refused_total{reason="per_source"}')" 0 \
    "refused per source"
for old in msgd_uptime_seconds msgd_connections_refused_busy_total \
    msgd_connections_idle_closed_total msgd_connections_too_long_closed_total; do
	grep -q "^$old " "$T/before" && fail "$old is still exported"
done
expect_eq "$(sample "$T/before" msgd_max_connections)" "2" "max_connections"
expect_eq "$(sample "$T/before" msgd_max_message_bytes)" "32" "max_message"
version=$("$MSGD" --version | sed -n '1s/.* //p')
expect_eq "$(sample "$T/before" "msgd_build_info{version=\"$version\"}")" 1 \
    "msgd_build_info for $version"

# The standard process collector's metrics, against /proc.
for m in cpu_seconds_total open_fds max_fds virtual_memory_bytes \
    resident_memory_bytes start_time_seconds; do
	grep -q "^# TYPE process_$m " "$T/before" || fail "no process_$m"
done
fds=$(sample "$T/before" process_open_fds)
now=$(fd_count "$MSGD_PID")	# no scrape open now: one fewer, at most
[ "$fds" -ge "$now" ] && [ "$fds" -le $((now + 2)) ] ||
    fail "process_open_fds $fds, /proc/$MSGD_PID/fd has $now"
expect_eq "$(sample "$T/before" process_max_fds)" \
    "$(awk '/^Max open files/ { print $4 }' "/proc/$MSGD_PID/limits")" \
    "process_max_fds"
start=$(sample "$T/before" process_start_time_seconds)
awk -v s="$start" -v b="$(awk '$1 == "btime" { print $2 }' /proc/stat)" \
    -v t="$(awk '{ print $22 }' "/proc/$MSGD_PID/stat")" \
    -v hz="$(getconf CLK_TCK)" 'BEGIN { d = s - (b + t / hz);
    exit !(d > -0.02 && d < 0.02) }' ||
    fail "process_start_time_seconds $start is not msgd's start"
awk -v s="$start" -v now="$(date +%s)" 'BEGIN { exit !(s > now - 60 &&
    s <= now) }' || fail "process_start_time_seconds $start is not recent"
rss=$(sample "$T/before" process_resident_memory_bytes)
kb=$(vm_kb "$MSGD_PID" VmRSS)
[ $((rss / 1024)) -gt $((kb / 2)) ] && [ $((rss / 1024)) -lt $((kb * 2)) ] ||
    fail "process_resident_memory_bytes $rss, VmRSS $kb kB"

# A scrape job with params: adds a query string; the path still counts.
expect_eq "$(http_code '/metrics?module=msgd&x=1')" "200" "/metrics?query"
curl -sf --max-time 5 "$URL/metrics?x=1" | grep -q '^msgd_build_info' ||
    fail "/metrics?x=1 is not the metrics"

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
# Settled: only the two held connections open, the other 11 counted closed.
settled() {
	scrape "$T/after"
	[ "$(sample "$T/after" msgd_connections_open)" = 2 ] &&
	    [ "$(sample "$T/after" msgd_connection_duration_seconds_count)" \
	    = 11 ]
}
wait_for 10 settled || fail "connections_open did not settle at 2"
promtool_check "$T/after"

delta msgd_connections_accepted_total 13
delta 'msgd_connections_refused_total{reason="busy"}' 1
delta 'msgd_connections_refused_total{reason="per_source"}' 0
delta 'msgd_connections_closed_total{reason="done"}' 10
delta 'msgd_connections_closed_total{reason="too_long"}' 1
delta 'msgd_connections_closed_total{reason="idle_timeout"}' 0
delta 'msgd_connections_closed_total{reason="error"}' 0
delta 'msgd_connections_closed_total{reason="proxy_header"}' 0
delta msgd_messages_received_total 10
delta msgd_replies_sent_total 10
delta msgd_received_bytes_total 101
delta msgd_sent_bytes_total 193
delta msgd_accept_pauses_total 0
# Every reply written is in the latency histogram, every closed
# connection in the duration one.
histogram "$T/after" msgd_reply_latency_seconds
histogram "$T/after" msgd_connection_duration_seconds
delta msgd_reply_latency_seconds_count 10
delta msgd_connection_duration_seconds_count 11

# SIGUSR1: the same counters in one log line.
kill -USR1 "$MSGD_PID"
wait_for 5 grep -q 'stats: connections_accepted=13 .*connections_refused_busy=1 .*connections_closed_too_long=1 .*replies_written=10 ' "$MSGD_LOG" ||
    fail "SIGUSR1 stats line"

# /healthz: 200 while serving; 503 while draining after SIGTERM (the two
# held connections keep msgd draining); unknown paths are 404.
expect_eq "$(http_code /healthz)" "200" "healthz while serving"
expect_eq "$(http_code '/healthz?x')" "200" "healthz with a query"
expect_eq "$(http_code /nothing)" "404" "unknown path"
expect_eq "$(http_code '/nothing?/metrics')" "404" "unknown path, query"
kill -TERM "$MSGD_PID"
wait_for 5 draining || fail "healthz is not 503 while draining"
expect_eq "$(metric draining)" "1" "msgd_draining while draining"
release_hold
wait "$MSGD_PID"
expect_eq "$?" "0" "exit status after draining"

# Time that shows: a client that does not read its 6000 echoed lines
# (6 MB, more than the socket buffers hold) for 0.3 s, so replies wait in
# msgd, and an idle connection that the 3 s --idle-timeout closes (long
# enough that a loaded machine cannot stall the reader's connection that
# long too).
msgd_start -k -e -i 3 --metrics 127.0.0.1:0
metrics_port
URL=http://127.0.0.1:$MPORT
python3 - "$MSGD_PORT" <<'PY' || fail "the slow reader"
import socket, sys, threading, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
data = (b"x" * 999 + b"\n") * 6000
sender = threading.Thread(target=s.sendall, args=(data,))
sender.start()
time.sleep(0.3)    # the stimulus: not reading
got = bytearray()
while len(got) < len(data):
    d = s.recv(1 << 20)
    if not d:
        sys.exit("closed early")
    got += d
sender.join()
sys.exit(0 if got == data else "wrong replies")
PY
hold 1
# Both closes counted: the idle one, and the reader's (msgd may see its
# EOF after the idle timeout on a loaded machine).
idle_closed() {
	scrape "$T/slow"
	[ "$(sample "$T/slow" \
	    'msgd_connections_closed_total{reason="idle_timeout"}')" = 1 ] &&
	    [ "$(sample "$T/slow" \
	    msgd_connection_duration_seconds_count)" = 2 ]
}
wait_for 10 idle_closed || fail "the two connections were not both counted"
release_hold
promtool_check "$T/slow"
histogram "$T/slow" msgd_reply_latency_seconds
histogram "$T/slow" msgd_connection_duration_seconds
expect_eq "$(sample "$T/slow" msgd_reply_latency_seconds_count)" 6000 \
    "replies in the latency histogram"
late=$(above "$T/slow" msgd_reply_latency_seconds 0.1)
# msgd stops reading at 64 KiB of queued output, so about 64 of these
# 1000-byte replies sit in msgd through the 0.3 s stall (more when the
# machine is quick enough to have read further lines meanwhile).
[ "$late" -ge 50 ] || fail "only $late replies waited over 0.1 s"
# Each of them waited over 0.1 s, so the sum is at least that much; how
# much more depends on the machine's load, so no more is asserted.
awk -v s="$(sample "$T/slow" msgd_reply_latency_seconds_sum)" \
    -v n="$late" 'BEGIN { exit !(s >= 0.1 * n) }' ||
    fail "reply latency sum too small for $late late replies"
# The two connections: the reader (0.3 s and more), the idle one (3 s+).
expect_eq "$(sample "$T/slow" msgd_connection_duration_seconds_count)" 2 \
    "connections in the duration histogram"
[ "$(above "$T/slow" msgd_connection_duration_seconds 0.1)" = 2 ] &&
    [ "$(above "$T/slow" msgd_connection_duration_seconds 0.5)" -ge 1 ] ||
    fail "connection durations: $(grep '^msgd_connection_dur' "$T/slow")"
awk -v s="$(sample "$T/slow" msgd_connection_duration_seconds_sum)" \
    'BEGIN { exit !(s >= 1.3) }' || fail "connection duration sum too small"
msgd_stop
pass "metrics and health"
