#!/bin/sh
# haproxy.sh - real HAProxy (contrib/haproxy.cfg) in front of two msgd
# with --proxy-protocol: load through it, one msgd stopped mid-run, every
# request answered by the survivor once the health check noticed, and
# msgd logging the client's real address from the PROXY v2 header.
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
    "${top_srcdir:-..}/contrib/haproxy.cfg" > "$T/haproxy.cfg"
haproxy -c -f "$T/haproxy.cfg" > "$T/haproxy.check" 2>&1 ||
    fail "haproxy rejects the config: $(cat "$T/haproxy.check")"
haproxy -db -f "$T/haproxy.cfg" > "$T/haproxy.log" 2>&1 &
HA_PID=$!
track "$HA_PID"

# state NAME: UP/DOWN of a backend server, from HAProxy's stats socket.
state() {
	python3 - "$T/haproxy.sock" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
try:
    s.connect(sys.argv[1])
    s.sendall(b"show stat\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
except OSError:
    sys.exit(1)
for line in data.decode().splitlines():
    f = line.split(",")
    if len(f) > 17 and f[0] == "msgd_back" and f[1] == sys.argv[2]:
        print(f[17].split()[0])
PY
}
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

# Stop msgd A in the middle of a run.
served=$(grep -c '(PROXY v2)' "$A_LOG")
"$MSGBENCH" conn -H 127.0.0.1 -p "$FRONT" -c 10 -d 4 --json \
    > "$T/bench2" 2>&1 &
BENCH_PID=$!
track "$BENCH_PID"
more() { [ "$(grep -c '(PROXY v2)' "$A_LOG")" -gt "$((served + 20))" ]; }
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
pass "haproxy failover and PROXY v2"
