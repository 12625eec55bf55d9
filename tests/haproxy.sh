#!/bin/sh
# haproxy.sh - real HAProxy (contrib/haproxy.cfg) in front of two msgd
# with --proxy-protocol: load through it; msgd logging the client's real
# address from the PROXY v2 header; one msgd killed (kill -9) under load
# losing only the requests in flight on it, every later one retried on
# the other; the killed one restarted on its port and taken back; one
# stopped with SIGTERM mid-run, and every request answered by the
# survivor once the health check noticed.  HAPROXY_CFG names another
# configuration to test (by default contrib/haproxy.cfg).
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need nc
need haproxy
need python3
[ -x "$MSGBENCH" ] || fail "msgbench not built at $MSGBENCH"

free_port() {
	python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Two msgd, each with its own log.
msgd_start -l 127.0.0.1 -v --proxy-protocol
A_PID=$MSGD_PID A_PORT=$MSGD_PORT A_LOG=$MSGD_LOG
mv "$A_LOG" "$T/a.log"
A_LOG=$T/a.log
msgd_start -l 127.0.0.1 -v --proxy-protocol
B_PID=$MSGD_PID B_PORT=$MSGD_PORT B_LOG=$MSGD_LOG

# HAProxy with the shipped configuration, ports and a stats socket ours.
FRONT=$(free_port)
sed -e "s|bind 127.0.0.1:5000|bind 127.0.0.1:$FRONT|" \
    -e "s|127.0.0.1:5001|127.0.0.1:$A_PORT|" \
    -e "s|127.0.0.1:5002|127.0.0.1:$B_PORT|" \
    -e "s|# stats socket [^ ]*|stats socket $T/haproxy.sock|" \
    "${HAPROXY_CFG:-${top_srcdir:-..}/contrib/haproxy.cfg}" \
    > "$T/haproxy.cfg"
haproxy -c -f "$T/haproxy.cfg" > "$T/haproxy.check" 2>&1 ||
    fail "haproxy rejects the config: $(cat "$T/haproxy.check")"
haproxy -db -f "$T/haproxy.cfg" > "$T/haproxy.log" 2>&1 &
HA_PID=$!
track "$HA_PID"

# ha COMMAND: HAProxy's answer to COMMAND on its stats socket.
ha() {
	python3 - "$T/haproxy.sock" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
try:
    s.connect(sys.argv[1])
    s.sendall(sys.argv[2].encode() + b"\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
except OSError:
    sys.exit(1)
sys.stdout.write(data.decode())
PY
}
# ha_do COMMAND: a command that answers nothing when it succeeds.
ha_do() {
	local out
	out=$(ha "$1") || fail "no answer from haproxy to '$1'"
	[ -z "$out" ] || fail "haproxy: '$1': $out"
}
# srv_stat NAME COLUMN...: columns of "show stat" for backend server NAME,
# such as status (UP, DOWN; "no" while its checks are disabled) or scur
# (its sessions now).
srv_stat() {
	local name=$1
	shift
	ha "show stat" | awk -F, -v s="$name" -v want="$*" '
	NR == 1 {
		sub(/^# /, "")
		for (i = 1; i <= NF; i++)
			col[$i] = i
		n = split(want, w, " ")
		next
	}
	$1 == "msgd_back" && $2 == s {
		out = ""
		for (i = 1; i <= n; i++) {
			split($col[w[i]], v, " ")
			out = out (i > 1 ? " " : "") v[1]
		}
		print out
	}'
}
state() { srv_stat "$1" status; }
is_up() { [ "$(state "$1")" = UP ]; }
is_down() { [ "$(state "$1")" = DOWN ]; }
wait_for 15 is_up msgd1 || fail "msgd1 never UP: $(cat "$T/haproxy.log")"
wait_for 15 is_up msgd2 || fail "msgd2 never UP"

# Load through HAProxy: every request answered.
"$MSGBENCH" conn -H 127.0.0.1 -p "$FRONT" -c 10 -n 400 --json \
    > "$T/bench1" 2>&1 || fail "msgbench through haproxy: $(cat "$T/bench1")"

# The real client address: a client on 127.0.0.2 appears as such in
# msgd's log, although msgd's TCP peer is HAProxy on 127.0.0.1.
got=$(printf 'hi\n' | timeout 10 nc -s 127.0.0.2 127.0.0.1 "$FRONT")
expect_eq "$got" "Hello, client!" "reply through haproxy"
wait_for 5 sh -c "grep -h 'client 127.0.0.2:[0-9]* (PROXY v2)' \
    '$A_LOG' '$B_LOG' | grep -q ." ||
    fail "no msgd logged the real client 127.0.0.2"

# json FIELD FILE: a number from msgbench's --json line.
json() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" "$2"; }
# more: msgd A has served 20 more clients than $served.
more() { [ "$(grep -c '(PROXY v2)' "$A_LOG")" -gt "$((served + 20))" ]; }

# Kill msgd A (kill -9) under load, with a known number of requests in
# flight on it: in conn mode each of msgbench's C clients has one at a
# time, and with A stopped (SIGSTOP) they all come to wait on it, as
# HAProxy's sessions on A show.  Killed then, A takes those C requests
# with it, and no other may be lost, however long HAProxy takes to mark
# A DOWN: it must try a connection A refuses again on B (retries,
# option redispatch).  So A's checks are off from before the stop until
# the load ends, and only the connections that fail on A can tell
# HAProxy (observe layer4).  The load goes on until HAProxy has had to
# try again a connection begun after the kill (its retry or redispatch
# counters for A).  (Without redispatch HAProxy retried on A for 3 s,
# and lost 19 or 20.)
C=10
served=$(grep -c '(PROXY v2)' "$A_LOG")
"$MSGBENCH" conn -H 127.0.0.1 -p "$FRONT" -c "$C" -d 60 --json \
    > "$T/kill" 2> "$T/kill.err" &
BENCH_PID=$!
track "$BENCH_PID"
wait_for 10 more || fail "the kill run never reached msgd A"
ha_do "disable health msgd_back/msgd1"
kill -STOP "$A_PID"
all_on_a() { [ "$(srv_stat msgd1 scur)" = "$C" ]; }
wait_for 10 all_on_a ||
    fail "$(srv_stat msgd1 scur) of $C sessions on the stopped msgd A"
kill -KILL "$A_PID"
wait "$A_PID"
expect_eq "$?" "137" "msgd A exit status after kill -9"
retried() { [ "$(srv_stat msgd1 wretr wredis | awk '{ print $1 + $2 }')" -gt 0 ]; }
wait_for 15 retried || fail "no connection tried on msgd A after the kill"
kill -INT "$BENCH_PID"	# stop sending; the replies due still count
wait "$BENCH_PID"	# 1 if any error: counted below
ha_do "enable health msgd_back/msgd1"
wait_for 15 is_down msgd1 || fail "haproxy never marked msgd1 DOWN"
errors=$(json errors "$T/kill")
answered=$(json messages "$T/kill")
[ -n "$errors" ] && [ -n "$answered" ] ||
    fail "no result from msgbench: $(cat "$T/kill" "$T/kill.err")"
echo "kill -9 with $C in flight: $errors errors, $answered answered"
[ "$errors" -le "$C" ] ||
    fail "$errors requests lost with msgd A, more than the $C in flight" \
    "on it: $(cat "$T/kill" "$T/kill.err")"
[ "$answered" -ge 200 ] || fail "only $answered answered around the kill"

# Restart A on its port: HAProxy takes it back once its checks pass.
mv "$B_LOG" "$T/b.log"
B_LOG=$T/b.log
msgd_start -l 127.0.0.1 -v --proxy-protocol -p "$A_PORT"
A_PID=$MSGD_PID A_LOG=$MSGD_LOG
expect_eq "$MSGD_PORT" "$A_PORT" "port of the restarted msgd A"
wait_for 15 is_up msgd1 || fail "haproxy never took msgd1 back"

# Stop msgd A in the middle of a run.
served=$(grep -c '(PROXY v2)' "$A_LOG")
"$MSGBENCH" conn -H 127.0.0.1 -p "$FRONT" -c 10 -d 4 --json \
    > "$T/bench2" 2>&1 &
BENCH_PID=$!
track "$BENCH_PID"
wait_for 10 more || fail "the second run never reached msgd A"
kill -TERM "$A_PID"
wait "$A_PID"
expect_eq "$?" "0" "msgd A exit status"
wait_for 15 is_down msgd1 || fail "haproxy never marked msgd1 DOWN"
wait "$BENCH_PID"	# errors here are the ones in flight: not asserted

# Now the survivor answers everything.
before=$(grep -c '(PROXY v2)' "$B_LOG")
"$MSGBENCH" conn -H 127.0.0.1 -p "$FRONT" -c 10 -n 300 --json \
    > "$T/bench3" 2>&1 ||
    fail "requests lost after failover: $(cat "$T/bench3")"
after=$(grep -c '(PROXY v2)' "$B_LOG")
[ $((after - before)) -ge 300 ] ||
    fail "msgd B logged $((after - before)) of 300 clients"
grep -q '"errors": *0' "$T/bench3" || fail "errors: $(cat "$T/bench3")"
pass "haproxy failover, kill -9 and PROXY v2"
