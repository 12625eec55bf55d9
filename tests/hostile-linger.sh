#!/bin/sh
# hostile-linger.sh - graceful close: a one-shot client that sends 4 MB
# (msgd answers the first line, then reads and discards the rest) still
# gets its whole reply and a clean EOF, never a reset; and a client that
# never closes after its reply is let go after the linger time (5 s).
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need nc
need python3

msgd_start
# python: send all 4 MB without reading, half-close, read to EOF: as
# 40,000 lines (the first is answered), and as one line (refused).
i=0
while [ $i -lt 4 ]; do
	got=$(python3 "${top_srcdir:-..}/tests/hostile.py" bigsend \
	    "$MSGD_PORT" 4000000 lines) || fail "4 MB client: $got"
	expect_eq "$got" "reply 'Hello, client!\\n'" "reply to 4 MB of lines"
	got=$(python3 "${top_srcdir:-..}/tests/hostile.py" bigsend \
	    "$MSGD_PORT" 4000000) || fail "4 MB client: $got"
	expect_eq "$got" "reply 'error: message too long\\n'" \
	    "reply to a 4 MB line"
	i=$((i + 1))
done
# nc, the same through a pipe: the reply, and exit status 0.
{ echo 'Hello, server!'; head -c 4000000 /dev/zero | tr '\0' x; } |
    ask -N > "$T/out" 2> "$T/err"
expect_eq "$?" 0 "nc status for 4 MB ($(cat "$T/err"))"
expect_eq "$(cat "$T/out")" "Hello, client!" "nc reply to 4 MB"

# A client that reads its reply and EOF but never closes: msgd's end is
# gone within the linger time (CONN_LINGER_SECS = 5) + 2 s.
fd0=$(fd_count "$MSGD_PID")
mkfifo "$T/in"
nc 127.0.0.1 "$MSGD_PORT" < "$T/in" > "$T/out" &
track $!
exec 3> "$T/in"
printf 'hi\n' >&3
wait_for 5 grep -q Hello "$T/out" || fail "no reply"
back() { [ "$(fd_count "$MSGD_PID")" -eq "$fd0" ]; }
wait_for 7 back || fail "a lingering client still holds a descriptor after 7 s"
exec 3>&-
msgd_stop
pass "4 MB one-shot clients get their reply without a reset"
