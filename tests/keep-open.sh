#!/bin/sh
# keep-open.sh - -k line protocol and -e echo, in both modes.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need nc
need python3

msgd_start -k
# 10,000 pipelined lines in one go: 10,000 replies.
seq 1 10000 | ask -N > "$T/replies"
expect_eq "$(wc -l < "$T/replies")" "10000" "replies to 10000 lines"
expect_eq "$(sort -u "$T/replies")" "Hello, client!" "reply text"
# CRLF lines, an empty line and an unterminated last line before EOF.
got=$(printf 'a\r\n\nlast' | ask -N | wc -l)
expect_eq "$got" "3" "replies to CRLF, empty and unterminated lines"
msgd_stop

msgd_start -k -e
# Echo keeps the order: the replies are the lines themselves.
seq 1 10000 > "$T/lines"
ask -N < "$T/lines" > "$T/replies"
cmp -s "$T/lines" "$T/replies" || fail "echo of 10000 lines differs"
got=$(printf 'one\r\n\nthree' | ask -N | od -An -c | tr -s ' ')
expect_eq "$got" " o n e \n \n t h r e e \n" "echo of CRLF/empty/last"
# The connection stays open between lines.
mkfifo "$T/in"
ask -N < "$T/in" > "$T/out" &
client=$!
track "$client"
exec 3> "$T/in"
printf 'first\n' >&3
wait_for 5 grep -qx first "$T/out" || fail "no reply to the first line"
alive "$client" || fail "the connection closed after one line"
printf 'second\n' >&3
wait_for 5 grep -qx second "$T/out" || fail "no reply to the second line"
exec 3>&-
wait_for 5 gone "$client" || fail "the connection stayed open after EOF"
msgd_stop

# Lines from empty to longer than one read (16 KiB), about 6 MB in all:
# reads end inside lines, replies outrun the socket, and msgd moves between
# answering straight from its read buffer and keeping what waits in the
# connection's buffers.  The echo is still every line, whole and in order.
msgd_start -k -e -M 40000
awk 'BEGIN { for (i = 1; i <= 3000; i++) {
	n = (i % 97 == 0) ? 20000 + i : (i * 7919) % 3000
	s = sprintf("%d:", i)
	while (length(s) < n) s = s "abcdefghijklmnopqrstuvwxyz0123456789"
	print substr(s, 1, n) } }' > "$T/mixed"
ask -N < "$T/mixed" > "$T/mixed.out"
cmp -s "$T/mixed" "$T/mixed.out" ||
    fail "echo of $(wc -c < "$T/mixed") bytes of mixed lines differs"
# Step by step through each way a line is answered (see tests/steps.py).
got=$(python3 "${top_srcdir:-..}/tests/steps.py" "$MSGD_PORT")
expect_eq "$got" "ok 160005" "steps.py"
msgd_stop

msgd_start -e
got=$(printf 'only this\nnot this\n' | ask -N)
expect_eq "$got" "only this" "one-shot echo"
got=$(printf 'no newline' | ask)
expect_eq "$got" "no newline" "one-shot echo without newline"
msgd_stop
pass "keep-open and echo"
