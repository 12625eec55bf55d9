#!/bin/sh
# log-stall.sh - a log reader that stops reading: msgd logs to stderr, a
# pipe that fills up under -vv and connection load.  No worker may wait
# on it for long: every client is still answered, and once the reader
# reads again msgd says how many lines it had to drop.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need nc
need python3

mkfifo "$T/stderr" "$T/resume"
: > "$T/log"
python3 "${top_srcdir:-..}/tests/hostile.py" logreader "$T/stderr" \
    "$T/log" < "$T/resume" > "$T/reader.out" &
READER_PID=$!
track "$READER_PID"
exec 9> "$T/resume"

MSGD_LOG=$T/log
"$MSGD" -p 0 -t 4 -vv 2> "$T/stderr" 9>&- &
MSGD_PID=$!
track "$MSGD_PID"
msgd_wait_started "$T/log" "$MSGD_PID"

# Connections until the pipe is full, and for a second after that.
client_start churn churn "$MSGD_PORT" 8
client_wait churning 10
wait_for 30 grep -q '^full' "$T/reader.out" || fail "the pipe never filled"
sleep 1		# load on a full pipe, for a while (not a readiness wait)
client_release
set -- $(awk '$1 == "connections" { print $2, $4 }' "$CLIENT_OUT")
[ "${1:-0}" -gt 0 ] || fail "no client was answered"
expect_eq "${2:-x}" "0" "clients not answered in 10 s (of $1)"
expect_eq "$(printf 'hi\n' | ask)" "Hello, client!" "reply, log still full"

# The reader reads again: the next line says how many were dropped.
exec 9>&-
expect_eq "$(printf 'hi\n' | ask)" "Hello, client!" "reply, log read again"
wait_for 10 grep -q 'log lines\{0,1\} lost' "$T/log" ||
    fail "no word of the lines dropped"

kill -TERM "$MSGD_PID"
wait_gone "$MSGD_PID" 10 || fail "msgd did not exit within 10 s of SIGTERM"
wait "$MSGD_PID"
expect_eq "$?" "0" "exit status after SIGTERM"
wait_for 10 grep -q '^eof' "$T/reader.out" || fail "the reader got no EOF"
pass "$1 clients answered with the log full; $(grep 'lost' "$T/log")"
