#!/bin/sh
# limits-idle-timeout.sh - -i SECONDS: a silent connection, one that went
# quiet after a line, and one that stopped reading while replies are
# pending are all closed after the timeout (not before 0.8 s, and within
# 3 s, for -i 1), and their descriptors are given back; -i 0 closes
# nothing.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need nc
need python3

now_ms() { date +%s%3N; }

msgd_start -k -i 1
fd0=$(fd_count "$MSGD_PID")

# A silent client (nc -d reads no stdin, sends nothing, and exits when
# msgd closes) and one that goes quiet after a line (its stdin is a fifo
# held open, so only msgd's descriptor count tells that it was closed).
back() { [ "$(fd_count "$MSGD_PID")" -eq "$fd0" ]; }
mkfifo "$T/a" "$T/b"
t0=$(now_ms)
nc -d 127.0.0.1 "$MSGD_PORT" > "$T/a.out" &
a=$!
track "$a"
nc 127.0.0.1 "$MSGD_PORT" < "$T/b" > "$T/b.out" &
b=$!
track "$b"
exec 4> "$T/b"
printf 'one line\n' >&4
wait_for 5 grep -q Hello "$T/b.out" || fail "no reply to the quiet client"
wait_for 5 back || fail "connections outlived -i 1 by 4 s"
t1=$(now_ms)
wait_for 2 gone "$a" || fail "the silent client was not closed"
exec 4>&-
expect_eq "$(cat "$T/b.out")" "Hello, client!" "reply before the timeout"
[ $((t1 - t0)) -ge 800 ] || fail "closed after $((t1 - t0)) ms: before -i 1"
[ $((t1 - t0)) -le 3000 ] || fail "closed after $((t1 - t0)) ms (-i 1)"
echo "idle connections closed after $((t1 - t0)) ms with -i 1"

# A client that pipelines lines and never reads: msgd stalls on writing,
# and the idle timeout covers the pending reply too.
client_start flood flood "$MSGD_PORT" 1 100 wait-close 5
client_wait 'closed\|open' 15
grep -q '^closed' "$CLIENT_OUT" ||
    fail "a client that stopped reading is still open 5 s after it stalled"
secs=$(awk '/^closed/ { print $3 }' "$CLIENT_OUT")
echo "non-reading client closed $secs s after it stalled"
client_release
wait_for 2 back || fail "$(fd_count "$MSGD_PID") descriptors, not $fd0"
expect_eq "$(printf 'hi\n' | ask -N)" "Hello, client!" "reply afterwards"
msgd_stop
grep -q 'idle timeout' "$MSGD_LOG" && fail "idle closes logged at -v0"

# -i 0: no timeout; a silent connection is still there after 2.5 s.
msgd_start -i 0
fd0=$(fd_count "$MSGD_PID")
nc 127.0.0.1 "$MSGD_PORT" < "$T/a" > "$T/a.out" &
a=$!
track "$a"
exec 3> "$T/a"
wait_for 5 sh -c "[ \$(ls /proc/$MSGD_PID/fd | wc -l) -gt $fd0 ]" ||
    fail "the connection did not open"
sleep 2.5	# the absence of an event: nothing to poll for
alive "$a" || fail "-i 0 closed a silent connection"
printf 'late\n' >&3
exec 3>&-
wait_for 5 gone "$a" || fail "no reply after 2.5 s of silence"
expect_eq "$(cat "$T/a.out")" "Hello, client!" "late reply with -i 0"
msgd_stop
pass "idle, quiet and non-reading clients closed after -i 1; -i 0 keeps them"
