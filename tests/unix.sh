#!/bin/sh
# unix.sh - -l unix:PATH: msgd answers on a Unix-domain socket beside its
# TCP listener, with real nc -U clients: one-shot, -k, -e, -t 2 (both
# workers take the one socket's connections in turn), PROXY,
# --max-conns-per-source (not applied to Unix peers), --max-conns and
# --idle-timeout; --unix-mode and --unix-owner as stat(1) shows them; a
# stale socket of a killed msgd is replaced, a live msgd's is not stolen,
# a file that is not a socket is never removed; the file goes at SIGTERM,
# and stays (and answers) across a SIGUSR2 upgrade.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need nc
need stat
need curl

S=$T/msgd.sock
slow=1
[ -z "${MSGD_SANITIZED:-}" ] || slow=4

# uask PATH [NC-ARGS...] < input: one nc -U client, bounded in time.
uask() {
	local p=$1
	shift
	timeout 10 nc -U "$@" "$p"
}

# A bad --unix-mode, and a unix: address without a path: usage errors.
"$MSGD" -p 0 -l "unix:$S" --unix-mode 999 > "$T/out" 2> "$T/err"
expect_eq "$?" 64 "exit status for --unix-mode 999"
expect_eq "$(wc -l < "$T/err")" 1 "lines for --unix-mode 999"
grep -q "unix-mode" "$T/err" || fail "no --unix-mode in: $(cat "$T/err")"
"$MSGD" -p 0 -l "unix:" > "$T/out" 2> "$T/err"
expect_eq "$?" 64 "exit status for -l unix:"
expect_eq "$(wc -l < "$T/err")" 1 "lines for -l unix:"

# 1. One-shot on the socket and on TCP in one msgd; the default mode.
msgd_start -l 127.0.0.1 -l "unix:$S"
[ -S "$S" ] || fail "no socket at $S"
expect_eq "$(stat -c %a "$S")" 660 "default mode"
expect_eq "$(printf 'hi\n' | uask "$S")" "Hello, client!" "one-shot over nc -U"
expect_eq "$(printf 'hi\n' | ask)" "Hello, client!" "one-shot over TCP"
expect_eq "$(printf 'one\ntwo\n' | uask "$S" -N | wc -l)" 1 \
    "replies in one-shot mode over nc -U"
grep -q "started: listening on 127.0.0.1:$MSGD_PORT unix:$S" "$MSGD_LOG" ||
    fail "the start line does not name the socket"

# 2. A live msgd's socket is not taken: a second one fails, clearly, and
# the first goes on answering on it.
"$MSGD" -p 0 -l 127.0.0.1 -l "unix:$S" > "$T/out" 2> "$T/err"
expect_eq "$?" 69 "exit status of a second msgd on a live socket"
expect_eq "$(wc -l < "$T/err")" 1 "lines from the second msgd"
grep -q "another server is listening" "$T/err" ||
    fail "second msgd said: $(cat "$T/err")"
expect_eq "$(printf 'hi\n' | uask "$S")" "Hello, client!" \
    "the first msgd after a second one tried its socket"

# 3. SIGTERM removes the file.
msgd_stop
[ ! -e "$S" ] || fail "$S is still there after SIGTERM"

# 4. -k -e with --unix-mode 600; then kill -9 leaves the file, and the
# next msgd removes it as stale and serves.
msgd_start -l 127.0.0.1 -l "unix:$S" -k -e --unix-mode 600
expect_eq "$(stat -c %a "$S")" 600 "--unix-mode 600"
got=$(printf 'a\nb\nc\n' | uask "$S" -N | tr '\n' ' ')
expect_eq "$got" "a b c " "-k -e over nc -U"
kill -9 "$MSGD_PID"
wait "$MSGD_PID" 2>/dev/null
[ -S "$S" ] || fail "no socket file left by the killed msgd"
msgd_start -l 127.0.0.1 -l "unix:$S" -k
grep -q "removed the stale socket $S" "$MSGD_LOG" ||
    fail "no word of the stale socket"
expect_eq "$(printf 'x\ny\n' | uask "$S" -N | wc -l)" 2 \
    "-k over nc -U after a stale socket"
msgd_stop

# 5. Anything but a socket at the path is left alone.
echo precious > "$S"
"$MSGD" -p 0 -l 127.0.0.1 -l "unix:$S" > "$T/out" 2> "$T/err"
expect_eq "$?" 73 "exit status with a regular file at the path"
expect_eq "$(wc -l < "$T/err")" 1 "lines for a regular file at the path"
grep -q "not a socket" "$T/err" || fail "regular file: $(cat "$T/err")"
expect_eq "$(cat "$S")" precious "the regular file"
rm -f "$S"
mkdir "$T/dir"
ln -s "$T/dir" "$S"
"$MSGD" -p 0 -l 127.0.0.1 -l "unix:$S" > "$T/out" 2> "$T/err"
expect_eq "$?" 73 "exit status with a symbolic link at the path"
[ -L "$S" ] && [ -d "$T/dir" ] || fail "the symbolic link was touched"
rm -f "$S"

# served K: connections worker K accepted, scraped now.
served() {
	curl -sf --max-time 5 "http://127.0.0.1:$MPORT/metrics" | awk \
	    -v n="msgd_worker_connections_accepted_total{worker=\"$1\"}" \
	    '$1 == n { print $2 }'
}

# 6. -t 2: one socket, and both workers take its connections in turn.
msgd_start -l 127.0.0.1 -l "unix:$S" -t 2 -v --metrics 0
metrics_port
i=0
pids=""
while [ "$i" -lt 20 ]; do
	printf 'hi\n' | uask "$S" > "$T/threads.$i" &
	pids="$pids $!"
	i=$((i + 1))
done
wait $pids
expect_eq "$(cat "$T"/threads.* | grep -c '^Hello, client!$')" 20 \
    "-t 2: clients answered"
grep -q "2 workers share the listening sockets" "$MSGD_LOG" ||
    fail "-t 2: the workers do not share the Unix socket"
w0=$(served 0)
w1=$(served 1)
expect_eq "$((w0 + w1))" 20 "-t 2: connections the two workers accepted"
[ "$w0" -ge 5 ] && [ "$w1" -ge 5 ] ||
    fail "-t 2: uneven split of 20: worker 0 $w0, worker 1 $w1"
msgd_stop
[ ! -e "$S" ] || fail "-t 2: $S is still there after SIGTERM"

# 7. PROXY over the socket; --max-conns-per-source does not count Unix
# peers (they have no address), but does count the address a header
# names.
msgd_start -l 127.0.0.1 -l "unix:$S" --proxy-protocol \
    --max-conns-per-source 1
got=$(printf 'PROXY TCP4 192.0.2.1 192.0.2.2 1000 5000\r\nhi\n' | uask "$S")
expect_eq "$got" "Hello, client!" "PROXY over nc -U"
got=$(printf 'PROXY UNKNOWN\r\nhi\n' | uask "$S")
expect_eq "$got" "Hello, client!" "PROXY UNKNOWN over nc -U"
msgd_stop
msgd_start -l 127.0.0.1 -l "unix:$S" --max-conns-per-source 1 -vv
mkfifo "$T/idle.in"
timeout 20 nc -U "$S" < "$T/idle.in" > /dev/null &
track $!
exec 9> "$T/idle.in"
wait_for 10 grep -q ": open (1 open)" "$MSGD_LOG" ||
    fail "the first Unix client did not connect"
expect_eq "$(printf 'hi\n' | uask "$S")" "Hello, client!" \
    "a second Unix client with --max-conns-per-source 1"
exec 9>&-
msgd_stop

# 8. --max-conns and --idle-timeout hold for Unix clients: with one
# client idle, the next is refused; the idle one is closed in time.
msgd_start -l 127.0.0.1 -l "unix:$S" -c 1 --no-evict -i 1 -vv
mkfifo "$T/idle2.in"
timeout 20 nc -U "$S" < "$T/idle2.in" > /dev/null &
idle=$!
track "$idle"
exec 9> "$T/idle2.in"
wait_for 10 grep -q ": open (1 open)" "$MSGD_LOG" ||
    fail "the idle Unix client did not connect"
expect_eq "$(printf 'hi\n' | uask "$S")" "error: server busy" \
    "a second Unix client with --max-conns 1"
wait_for $((10 * slow)) gone "$idle" ||
    fail "--idle-timeout 1 did not close the idle Unix client"
exec 9>&-
expect_eq "$(printf 'hi\n' | uask "$S")" "Hello, client!" \
    "a Unix client once the idle one is gone"
msgd_stop

# 9. --unix-owner, and by default the --user msgd runs as (root only).
if [ "$(id -u)" -eq 0 ] && id nobody > /dev/null 2>&1; then
	grp=$(id -gn nobody)
	msgd_start -l 127.0.0.1 -l "unix:$S" --unix-owner "nobody:$grp"
	expect_eq "$(stat -c %U:%G "$S")" "nobody:$grp" "--unix-owner"
	msgd_stop
	chmod 755 "$T"
	mkdir -m 777 "$T/run"
	msgd_start -l 127.0.0.1 -l "unix:$T/run/u.sock" -u nobody
	expect_eq "$(stat -c %U:%G "$T/run/u.sock")" "nobody:$grp" \
	    "owner with --user"
	expect_eq "$(printf 'hi\n' | uask "$T/run/u.sock")" "Hello, client!" \
	    "answers after dropping privileges"
	msgd_stop
	[ ! -e "$T/run/u.sock" ] || fail "--user: socket left behind"
else
	echo "note: not root: --unix-owner is not tried" >&2
fi

# 10. SIGUSR2: the new msgd serves on the same file, which stays; it
# removes the file at its own SIGTERM.
MSGD_LOG=$T/up.log
: > "$MSGD_LOG"
"$MSGD" -d -P "$T/pid" -p 0 -L "$MSGD_LOG" -l 127.0.0.1 -l "unix:$S" ||
    fail "msgd -d did not start"
old=$(cat "$T/pid")
track "$old"
msgd_wait_started "$MSGD_LOG" "$old"
msgd_upgrade "$old" $((20 * slow))
new=$NEW
wait_for $((20 * slow)) gone "$old" || fail "the old msgd $old still runs"
[ -S "$S" ] || fail "the socket file went with the old msgd"
expect_eq "$(printf 'hi\n' | uask "$S")" "Hello, client!" \
    "over nc -U after the upgrade"
grep -q "(from the old msgd)" "$MSGD_LOG" || fail "no inherited start line"
kill -TERM "$new"
wait_for $((20 * slow)) gone "$new" || fail "the new msgd $new still runs"
[ ! -e "$S" ] || fail "the upgraded msgd left $S behind"

pass "Unix-domain sockets beside TCP"
