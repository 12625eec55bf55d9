#!/bin/sh
# log-rotate.sh - the log rotated as logrotate does it (mv, then SIGHUP),
# over and over, while four workers each log a warning per client (clients
# without a PROXY header; most of them counted, not written: see
# log-flood.sh) and a trace line per connection (-vv).  msgd
# must stay up and answer, stop on SIGTERM, and every line must arrive
# whole, in one of the files, exactly once per client.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need nc
need python3

msgd_start -t 4 -vv --proxy-protocol
log=$MSGD_LOG

client_start churn churn "$MSGD_PORT" 8
client_wait churning 10

# Rotate every 2 ms for three seconds (not every SIGHUP is handled).
python3 "${top_srcdir:-..}/tests/hostile.py" rotate 0 "$log" "$MSGD_PID" 3 \
    > "$T/rotate.out"
i=$(sed -n 's/^rotations //p' "$T/rotate.out")
[ -n "$i" ] || fail "msgd died while the log rotated: $(cat "$T/rotate.out")"
alive "$MSGD_PID" || fail "msgd died after $i rotations"

# The last SIGHUP was handled: a fresh log file exists again.
wait_for 5 test -f "$log" || fail "no log file after the last SIGHUP"
got=$(printf 'PROXY TCP4 192.0.2.7 127.0.0.1 1 2\r\nhi\n' | ask -N)
expect_eq "$got" "Hello, client!" "a reply after $i rotations"

client_release
clients=$(awk '$1 == "connections" { print $2 }' "$CLIENT_OUT")
[ "${clients:-0}" -gt 0 ] || fail "no client connections were made"

# SIGTERM: a clean exit, in bounded time (not stuck on the log).
kill -TERM "$MSGD_PID"
wait_gone "$MSGD_PID" 10 || fail "msgd did not exit within 10 s of SIGTERM"
wait "$MSGD_PID"
rc=$?
expect_eq "$rc" "0" "exit status after SIGTERM"

# Every line whole: one stamp at its start, no second one inside it.
cat "$log".* "$log" > "$T/all"
stamp='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} msgd\[[0-9]+\]: '
if grep -Evn "^$stamp" "$T/all" > "$T/bad" ||
    grep -En "^$stamp.*msgd\[[0-9]+\]: " "$T/all" >> "$T/bad"; then
	head -n 5 "$T/bad" >&2
	fail "$(wc -l < "$T/bad") torn or interleaved log lines"
fi

# Exactly one warning per headerless client, written or counted in a
# "N more like this" line (log-flood.sh): none lost, none twice.
warned=$(awk '/msgd\[[0-9]+\]: connection [0-9]+: closed: .*PROXY/ { n++ }
    /[0-9]+ more like this in the last [0-9]+ s: connection .*PROXY/ {
	n += $3 }
    END { print n + 0 }' "$T/all")
expect_eq "$warned" "$clients" "PROXY warnings logged for $clients clients"
grep -q 'SIGHUP: log file reopened' "$T/all" || fail "no reopen logged"
grep -q 'msgd stopped' "$log" || fail "no stop line in the last log file"

pass "$i rotations, $clients clients, $(wc -l < "$T/all") whole lines"
