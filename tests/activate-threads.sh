#!/bin/sh
# activate-threads.sh - socket activation with -t 2: the two workers share
# systemd's one listening socket, and each serves at least 35%
# (msgd_worker_connections_accepted_total) of 200 connections that wait
# in the socket's backlog at once, as they do while msgd (re)starts.
# Before handoff.c the first worker to wake took them all.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need python3
need curl
need ss
[ -x "$MSGBENCH" ] || fail "msgbench is not built ($MSGBENCH)"
[ "${MSGD_HAVE_SYSTEMD:-yes}" = yes ] ||
    skip "built without systemd: no socket activation"

N=200
slow=1
[ -z "${MSGD_SANITIZED:-}" ] || slow=4

# served K: connections worker K served, scraped now.
served() {
	curl -sf --max-time 5 "http://127.0.0.1:$MPORT/metrics" | awk \
	    -v n="msgd_worker_connections_accepted_total{worker=\"$1\"}" \
	    '$1 == n { print $2 }'
}
all_served() { [ "$(metric connections_accepted_total)" -ge "$N" ]; }
# queued N: N connections wait in the listening socket's accept queue.
queued() {
	[ "$(ss -Hltn "sport = :$MSGD_PORT" | awk '{ print $2 }')" = "$1" ]
}

MSGD_LOG=$T/msgd.log
: > "$MSGD_LOG"
mkfifo "$T/activate.in"
python3 "${top_srcdir:-..}/tests/activate.py" "$MSGD" -L "$MSGD_LOG" \
    -t 2 --metrics 0 < "$T/activate.in" > "$T/activate.out" \
    2> "$T/activate.err" &
APID=$!
track "$APID"
exec 8> "$T/activate.in"
wait_for 10 grep -q '^port' "$T/activate.out" || fail "activate.py: \
$(cat "$T/activate.err")"
MSGD_PORT=$(sed -n 's/^port //p' "$T/activate.out")
wait_for $((10 * slow)) grep -q 'started: listening' "$MSGD_LOG" ||
    fail "msgd did not start"
grep -q "(from systemd)" "$MSGD_LOG" || fail "msgd bound its own socket"
metrics_port
MSGD_PID=$(sed -n 's/^started //p' "$T/activate.out")

# A burst: N clients connect while msgd is stopped, and wait in the
# backlog; then msgd goes on.
kill -STOP "$MSGD_PID"
timeout $((60 * slow)) "$MSGBENCH" conn --json -q -H 127.0.0.1 \
    -p "$MSGD_PORT" -c "$N" -n "$N" -t $((30 * slow)) > "$T/bench.json" \
    2> "$T/bench.err" &
BPID=$!
track "$BPID"
wait_for $((10 * slow)) queued "$N" || { kill -CONT "$MSGD_PID"
    fail "not $N connections in the backlog: $(ss -Hltn \
"sport = :$MSGD_PORT")"; }
kill -CONT "$MSGD_PID"
wait "$BPID" ||
    fail "msgbench: $(cat "$T/bench.json") $(cat "$T/bench.err")"
expect_eq "$(json_get errors "$T/bench.json")" 0 \
    "client errors ($(cat "$T/bench.json"))"
wait_for 10 all_served || fail "not $N connections accepted: \
$(metric connections_accepted_total)"
w0=$(served 0)
w1=$(served 1)
[ -n "$w0" ] && [ -n "$w1" ] ||
    fail "no msgd_worker_connections_accepted_total for workers 0 and 1"
expect_eq "$((w0 + w1))" "$(metric connections_accepted_total)" "connections served by the two workers"
[ "$w0" -ge $((N * 35 / 100)) ] && [ "$w1" -ge $((N * 35 / 100)) ] ||
    fail "uneven split of $N connections: worker 0 $w0, worker 1 $w1"
exec 8>&-
wait "$APID" || fail "activate.py failed: $(cat "$T/activate.err")"
expect_eq "$(grep -c '^exited 0$' "$T/activate.out")" 1 \
    "clean exit ($(cat "$T/activate.out"))"
pass "$N connections on one inherited socket: worker 0 $w0, worker 1 $w1"
