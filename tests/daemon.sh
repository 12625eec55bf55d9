#!/bin/sh
# daemon.sh - -d and -P: detach only once listening, one instance per
# pidfile, SIGTERM stops it and removes the pidfile, SIGHUP reopens logs.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need nc

pidfile=$T/msgd.pid
MSGD_LOG=$T/daemon.log

# msgd -d returns 0 only when the daemon is listening: connect at once.
"$MSGD" -d -p 0 -P "$pidfile" -L "$MSGD_LOG" > "$T/out" 2> "$T/err"
rc=$?
expect_eq "$rc" "0" "msgd -d exit status"
[ -s "$pidfile" ] || fail "no pidfile"
pid=$(cat "$pidfile")
track "$pid"
case $pid in *[!0-9]*|'') fail "pidfile holds '$pid'" ;; esac
alive "$pid" || fail "pid $pid from the pidfile is not running"
[ ! -s "$T/out" ] && [ ! -s "$T/err" ] || fail "msgd -d printed something"
msgd_wait_started "$MSGD_LOG" "$pid"
expect_eq "$(printf 'hi\n' | ask)" "Hello, client!" "daemon reply"

# The daemon is detached: its own session, cwd /, stdin on /dev/null.
expect_eq "$(readlink "/proc/$pid/cwd")" "/" "daemon working directory"
expect_eq "$(readlink "/proc/$pid/fd/0")" "/dev/null" "daemon stdin"
sid=$(awk '{ print $6 }' "/proc/$pid/stat")
[ "$sid" != "$$" ] && [ "$sid" != "$(awk '{print $6}' /proc/$$/stat)" ] ||
    fail "daemon shares our session"

# A second instance with the same pidfile is refused, the first untouched.
"$MSGD" -d -p 0 -P "$pidfile" -L "$T/second.log" 2> "$T/err"
expect_eq "$?" "75" "second instance exit status"
grep -qF "pidfile $pidfile is locked: msgd is already running as pid $pid" \
    "$T/err" || fail "second instance message: $(cat "$T/err")"
expect_eq "$(cat "$pidfile")" "$pid" "pidfile after the second instance"
expect_eq "$(printf 'hi\n' | ask)" "Hello, client!" "first after second"

# SIGHUP reopens the log file (as after logrotate).
mv "$MSGD_LOG" "$MSGD_LOG.1"
kill -HUP "$pid"
wait_for 5 grep -q 'log file reopened' "$MSGD_LOG" ||
    fail "SIGHUP did not reopen the log"

# SIGTERM: exits and removes the pidfile.
kill -TERM "$pid"
wait_gone "$pid" 15 || fail "daemon did not exit on SIGTERM"
[ ! -e "$pidfile" ] || fail "pidfile left behind"
grep -q 'msgd stopped' "$MSGD_LOG" || fail "no stop line in the log"

# -d when the port is taken: the error reaches the terminal, non-zero.
msgd_start
"$MSGD" -d -l 127.0.0.1 -p "$MSGD_PORT" -P "$pidfile" > "$T/out" 2> "$T/err"
expect_eq "$?" "69" "msgd -d exit status when the port is in use"
grep -qF "cannot listen on 127.0.0.1:$MSGD_PORT: Address already in use" \
    "$T/err" || fail "msgd -d did not say why: $(cat "$T/err")"
[ ! -s "$pidfile" ] || fail "failed daemon left a pid in the pidfile"
msgd_stop

# -d with an error after detaching (--user as non-root is caught early, so
# use a log file the daemon can open but a pidfile it cannot write): the
# status and message still come back through the start-up pipe.
"$MSGD" -d -p 0 -P /proc/version -L "$T/x.log" 2> "$T/err"
rc=$?
[ "$rc" -ne 0 ] || fail "msgd -d with an unusable pidfile exited 0"
grep -q 'pidfile' "$T/err" || fail "no pidfile error: $(cat "$T/err")"
pass "daemon mode, pidfile and signals"
