#!/bin/sh
# restart-activated.sh - with the listening socket held as systemd holds
# msgd.socket's, stopping msgd (SIGTERM) and starting it again, five times
# under msgbench conn load, refuses, resets or leaves unanswered no
# connection: they wait in the socket's backlog while no msgd runs, and
# the stopping msgd answers every connection it accepted (even one whose
# line had not arrived yet).
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need python3
[ -x "$MSGBENCH" ] || fail "msgbench is not built ($MSGBENCH)"
[ "${MSGD_HAVE_SYSTEMD:-yes}" = yes ] ||
    skip "built without systemd: no socket activation"

RESTARTS=5
SECS=8
slow=1
[ -z "${MSGD_SANITIZED:-}" ] || slow=4

started() { [ "$(grep -c 'started: listening' "$MSGD_LOG")" -ge "$1" ]; }

MSGD_LOG=$T/msgd.log
: > "$MSGD_LOG"
mkfifo "$T/activate.in"
python3 "${top_srcdir:-..}/tests/activate.py" "$MSGD" -L "$MSGD_LOG" \
    < "$T/activate.in" > "$T/activate.out" 2> "$T/activate.err" &
APID=$!
track "$APID"
exec 8> "$T/activate.in"
wait_for 10 grep -q '^port' "$T/activate.out" || fail "activate.py: \
$(cat "$T/activate.err")"
MSGD_PORT=$(sed -n 's/^port //p' "$T/activate.out")
wait_for $((10 * slow)) started 1 || fail "msgd did not start"
grep -q "(from systemd)" "$MSGD_LOG" || fail "msgd bound its own socket"

timeout $((SECS * 4 * slow)) "$MSGBENCH" conn --json -q -H 127.0.0.1 \
    -p "$MSGD_PORT" -c 4 -s 4 -d "$SECS" > "$T/bench.json" \
    2> "$T/bench.err" &
BPID=$!
track "$BPID"

i=1
while [ "$i" -le "$RESTARTS" ]; do
	# Pacing over the run, not a readiness wait (that is started).
	sleep "$(awk -v s="$SECS" -v n="$RESTARTS" \
	    'BEGIN { printf "%.2f", s / (n + 2) }')"
	echo restart >&8
	wait_for $((10 * slow)) started $((i + 1)) ||
	    fail "msgd did not start again ($i)"
	i=$((i + 1))
done
wait "$BPID"
rc=$?
exec 8>&-
wait "$APID" || fail "activate.py failed: $(cat "$T/activate.err")"
expect_eq "$(grep -c '^exited 0$' "$T/activate.out")" $((RESTARTS + 1)) \
    "clean exits ($(cat "$T/activate.out"))"
[ "$(json_get messages "$T/bench.json")" -gt 0 ] 2>/dev/null ||
    fail "no messages: $(cat "$T/bench.json") $(cat "$T/bench.err")"
for k in errors lost refused reset timeout mismatch closed other; do
	expect_eq "$(json_get "$k" "$T/bench.json")" 0 "$k \
($(cat "$T/bench.json") $(cat "$T/bench.err"))"
done
expect_eq "$rc" 0 "msgbench status"
pass "$RESTARTS restarts under load with the socket held: nothing lost"
