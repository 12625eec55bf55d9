#!/bin/sh
# hostile-drain.sh - SIGTERM while 1000 clients are mid-conversation
# (each has exchanged 5 lines and sent 5 more, which msgd has read, whose
# replies the client has not read yet), and 10 more flood it without
# reading so that 64 KiB of replies wait in msgd for each: every reply msgd
# made is
# delivered (the replies the clients count equal the ones msgd logs), each
# light client gets exactly its 5, nobody is reset or cut mid-line, new
# connections are refused at once, and msgd exits 0 within -T.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need nc
need python3
need curl

NLIGHT=1000
K=5
NHEAVY=10
DRAIN=20
msgd_start -k -T $DRAIN --metrics 127.0.0.1:0
metrics_port

client_start drain drain "$MSGD_PORT" "$MPORT" $NLIGHT $K $NHEAVY
client_wait ready 40
t0=$(date +%s%3N)
kill -TERM "$MSGD_PID"
wait_for 5 grep -q 'stopping: draining' "$MSGD_LOG" || fail "no drain"
# New clients are refused: no listener any more.
! nc -z 127.0.0.1 "$MSGD_PORT" || fail "a new connection was accepted"
client_release
wait "$MSGD_PID"
rc=$?
t1=$(date +%s%3N)
expect_eq "$rc" 0 "exit status after SIGTERM"
cat "$CLIENT_OUT"
echo "msgd exited $((t1 - t0)) ms after SIGTERM"
[ $((t1 - t0)) -lt $((DRAIN * 1000)) ] || fail "drain took $((t1 - t0)) ms"
! grep -q 'drain time is up' "$MSGD_LOG" || fail "the drain timed out"

got() { awk -v k="$1" '$1 == k { print $2 }' "$CLIENT_OUT"; }
made=$(sed -n 's/.*msgd stopped: [0-9]* connections, \([0-9]*\) replies.*/\1/p' \
    "$MSGD_LOG")
[ -n "$made" ] || fail "no stop line"
expect_eq "$(got light_ok)" $NLIGHT "light clients with all their replies"
expect_eq "$(got resets)" 0 "connections reset"
expect_eq "$(got partial)" 0 "connections cut mid-line"
# Each light client's first K replies, read before SIGTERM, are counted by
# msgd but not by the client's final tally.
expect_eq "$(( $(got replies) + NLIGHT * K ))" "$made" \
    "replies delivered (+ $((NLIGHT * K)) read earlier) vs replies made"

# One-shot: a client accepted before SIGTERM that sends its line after it
# is answered; one that sends nothing does not hold the stop up to
# --drain-timeout (it gets a second: EXPIRE_DRAIN_SECS).
msgd_start -T $DRAIN
hold 1
mkfifo "$T/late.in"
cat > "$T/late.py" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print("connected", flush=True)
sys.stdin.readline()    # the test says when: after SIGTERM
s.sendall(b"hi\n")
print(s.recv(100).decode().strip(), flush=True)
PY
python3 "$T/late.py" "$MSGD_PORT" < "$T/late.in" > "$T/late.out" &
late=$!
track $late
exec 5> "$T/late.in"
wait_for 5 grep -q connected "$T/late.out" || fail "the late client did not connect"
t0=$(date +%s%3N)
kill -TERM "$MSGD_PID"
wait_for 5 grep -q 'stopping: draining' "$MSGD_LOG" || fail "no drain"
echo go >&5
exec 5>&-
wait "$late" || fail "the late client failed"
expect_eq "$(sed -n 2p "$T/late.out")" "Hello, client!" "a line sent after SIGTERM"
wait "$MSGD_PID"
expect_eq "$?" 0 "exit status with a silent client"
t1=$(date +%s%3N)
[ $((t1 - t0)) -lt 4000 ] ||
    fail "a silent client held the stop for $((t1 - t0)) ms"
release_hold

pass "SIGTERM with $NLIGHT + $NHEAVY clients: $made replies, all delivered, exit 0"
