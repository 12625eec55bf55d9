#!/bin/sh
# activate-unix.sh - a Unix-domain socket passed as systemd passes
# msgd.socket's (LISTEN_FDS, tests/activate.py --unix) is served, over
# nc -U, also with -t 2 (the workers share it); it is systemd's file, so
# msgd leaves it at exit and the next msgd serves on it again; and
# SIGUSR2 hands it to a new msgd, which leaves it too.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need nc
need python3
[ "${MSGD_HAVE_SYSTEMD:-yes}" = yes ] ||
    skip "built without systemd: no socket activation"
slow=1
[ -z "${MSGD_SANITIZED:-}" ] || slow=4

S=$T/activated.sock
started() { [ "$(grep -c 'started: listening' "$MSGD_LOG")" -ge "$1" ]; }
uask() { timeout 10 nc -U "$S"; }

MSGD_LOG=$T/msgd.log
: > "$MSGD_LOG"
mkfifo "$T/activate.in"
python3 "${top_srcdir:-..}/tests/activate.py" --unix "$S" "$MSGD" \
    -L "$MSGD_LOG" -t 2 -P "$T/pid" < "$T/activate.in" \
    > "$T/activate.out" 2> "$T/activate.err" &
APID=$!
track "$APID"
exec 8> "$T/activate.in"
wait_for 10 grep -q '^unix' "$T/activate.out" || fail "activate.py: \
$(cat "$T/activate.err")"
wait_for $((10 * slow)) started 1 || fail "msgd did not start"
grep -q "started: listening on unix:$S (from systemd)" "$MSGD_LOG" ||
    fail "msgd did not take the Unix socket from systemd"
i=0
while [ "$i" -lt 10 ]; do
	expect_eq "$(printf 'hi\n' | uask)" "Hello, client!" "client $i"
	i=$((i + 1))
done

# "systemctl restart msgd": the stopped msgd leaves the file, the next
# one serves on it.
echo restart >&8
wait_for $((10 * slow)) started 2 || fail "msgd did not start again"
expect_eq "$(grep -c '^exited 0$' "$T/activate.out")" 1 "clean exit"
[ -S "$S" ] || fail "msgd removed systemd's socket file at SIGTERM"
expect_eq "$(printf 'hi\n' | uask)" "Hello, client!" "after a restart"

# SIGUSR2: the new msgd takes the socket over; the old one leaves the
# file.
old=$(sed -n 's/^started //p' "$T/activate.out" | tail -n 1)
msgd_upgrade "$old" $((20 * slow))
new=$NEW
wait_for $((20 * slow)) grep -q "msgd\[$old\]: msgd stopped" "$MSGD_LOG" ||
    fail "the old msgd did not stop"
[ -S "$S" ] || fail "the old msgd removed systemd's socket file"
expect_eq "$(printf 'hi\n' | uask)" "Hello, client!" "after SIGUSR2"
kill -TERM "$new"
wait_for $((20 * slow)) gone "$new" || fail "the new msgd $new still runs"
[ -S "$S" ] || fail "the new msgd removed systemd's socket file"

exec 8>&-
wait "$APID" || fail "activate.py failed: $(cat "$T/activate.err")"
[ -S "$S" ] || fail "msgd removed systemd's socket file"
pass "a Unix socket from systemd, over nc -U, across SIGUSR2"
