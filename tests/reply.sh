#!/bin/sh
# reply.sh - one-shot mode: what a textbook socket client sees.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need nc

msgd_start

# A client that sends a line gets the message and the server closes.
got=$(printf 'Hello, server!\n' | ask)
expect_eq "$got" "Hello, client!" "reply to a line"

# A client that sends no newline and waits (no FIN) still gets its reply:
# nc without -N keeps its side open until msgd closes the connection.
got=$(printf 'Hello, server!' | ask)
expect_eq "$got" "Hello, client!" "reply to a message without newline"

# The reply is exactly the message plus LF, nothing more.
got=$(printf 'x\r\n' | ask | od -An -c | tr -s ' ')
expect_eq "$got" " H e l l o , c l i e n t ! \n" "reply bytes"

# Only the first message is answered in one-shot mode.
got=$(printf 'one\ntwo\nthree\n' | ask -N | wc -l)
expect_eq "$got" "1" "replies in one-shot mode"

# Connect and half-close without sending: no reply, clean close, exit 0.
# (nc's own status: after a pipeline $? would be the last command's.)
ask -N </dev/null > "$T/silent.out"
rc=$?
expect_eq "$rc" "0" "nc exit status for a silent client"
expect_eq "$(wc -c < "$T/silent.out")" "0" "bytes sent to a silent client"
msgd_stop

# -m sets the message.
msgd_start -m 'Bonjour, client !'
got=$(printf 'Hello\n' | ask)
expect_eq "$got" "Bonjour, client !" "reply with --message"
msgd_stop

# The log has one start and one stop line at the default verbosity, and
# counts in the singular when there was one.
grep -q 'msgd stopped: 1 connection, 1 reply$' "$MSGD_LOG" ||
    fail "no stop line for 1 connection and 1 reply in the log"
n=$(wc -l < "$MSGD_LOG")
[ "$n" -le 4 ] || fail "default verbosity logged $n lines for 1 client"
pass "one-shot replies"
