#!/bin/sh
# upgrade.sh - SIGUSR2 replaces msgd under full load and loses nothing.
#
# Three msgd -d -P run at once, each from its own copy of the binary just
# built: one-shot, one-shot with -t 2 (one SO_REUSEPORT socket per worker,
# whose queue a plain restart would drop), and keep-open.  msgbench loads
# them for UPGRADE_SECS (conn mode on the first two, ping on the third)
# while each is upgraded UPGRADE_ROUNDS times, each upgrade waited for (the
# pidfile names a new pid, which logged that it serves, and the old one
# has exited); once, the binary is a script that exits 1, and the old msgd
# must say so and go on serving; once, a script there runs it with -t 3
# instead of -t 2, so that every old per-worker socket is handed to a
# different number of workers.  Meanwhile a watcher checks that each
# pidfile always names a live msgd.  Then: no error of any kind from the
# conn runs; from ping, nothing refused, reset, timed out or wrong, no
# old msgd cut short by its drain time, and the final processes serve.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need nc
[ -x "$MSGBENCH" ] || fail "msgbench is not built ($MSGBENCH)"

SECS=${UPGRADE_SECS:-20}
ROUNDS=${UPGRADE_ROUNDS:-10}
slow=1
[ -z "${MSGD_SANITIZED:-}" ] || slow=4

# Gone, or a zombie: an old msgd's parent is gone too (its upgrade had
# started it), so init reaps it, whenever it gets to it.
ended() {
	gone "$1" || [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]
}
live() { ! ended "$1" && grep -q msgd "/proc/$1/comm" 2>/dev/null; }


# start NAME ARGS...: msgd -d -P from $T/NAME/msgd (a copy of $MSGD).
start() {
	local d=$T/$1
	shift
	mkdir "$d"
	cp "$MSGD" "$d/msgd" || fail "cannot copy $MSGD"
	: > "$d/log"
	"$d/msgd" -d -P "$d/pid" -p 0 -L "$d/log" "$@" ||
	    fail "$d: msgd -d did not start"
	msgd_wait_started "$d/log" "$(cat "$d/pid")"
	echo "$MSGD_PORT" > "$d/port"
	track "$(cat "$d/pid")"
}

# upgrade NAME [fail]: SIGUSR2, and wait until it is done.
upgrade() {
	local d=$T/$1 old new
	[ -z "${UPGRADE_TRACE:-}" ] || date "+%T.%N upgrade $1 $*" >&2
	old=$(cat "$d/pid")
	kill -USR2 "$old" || fail "$1: msgd $old is gone"
	if [ "${2:-}" = fail ]; then
		wait_for $((10 * slow)) grep -q "(pid [0-9]*) failed: .*exit \
status 1; still serving as pid $old" "$d/log" ||
		    MSGD_LOG=$d/log fail "$1: no failed upgrade logged"
		expect_eq "$(cat "$d/pid")" "$old" "$1: pidfile after a failure"
		live "$old" || fail "$1: msgd $old died with its upgrade"
		return
	fi
	wait_for $((10 * slow)) grep -q "msgd\[$old\]: SIGUSR2: the new msgd \
(pid [0-9]*) serves" "$d/log" || MSGD_LOG=$d/log fail "$1: upgrade of $old"
	new=$(sed -n "s/.*msgd\[$old\]: SIGUSR2: the new msgd (pid \
\([0-9]*\)) serves.*/\1/p" "$d/log")
	track "$new"
	wait_for $((10 * slow)) [ "$(cat "$d/pid")" = "$new" ] ||
	    fail "$1: pidfile says $(cat "$d/pid"), not $new"
	wait_for $((20 * slow)) ended "$old" || fail "$1: old msgd $old still runs"
}

# watch NAME: until $T/stop exists, the pidfile names a live msgd (read
# again if the process is gone: an upgrade may have just replaced it).
watch() {
	local f=$T/$1/pid p
	while [ ! -e "$T/stop" ]; do
		p=$(cat "$f")
		if ! live "$p" &&
		    [ "$(cat "$f")" = "$p" ]; then
			echo "pidfile $f names $p, which is not a live msgd" \
			    > "$T/$1.watch"
			return
		fi
		sleep 0.05
	done
}

start one
start threads -t 2
start keep -k

for n in one threads keep; do
	watch "$n" &
	track $!
done
mode() { [ "$1" = keep ] && echo ping || echo conn; }
for n in one threads keep; do
	timeout $((SECS * 3 * slow)) "$MSGBENCH" "$(mode "$n")" --json -q \
	    -H 127.0.0.1 -p "$(cat "$T/$n/port")" -c 4 -s 4 -d "$SECS" \
	    > "$T/$n.json" 2> "$T/$n.err" &
	echo $! > "$T/$n.bench"
	track "$(cat "$T/$n.bench")"
done

# Spread the upgrades over the run (round i at i/(ROUNDS+1) of it: pacing,
# not waiting for anything); the third round has a failed one first.
start_ms=$(date +%s%3N)
start_s=$(date +%s)
i=1
while [ "$i" -le "$ROUNDS" ]; do
	wait_ms=$((start_ms + i * SECS * 1000 / (ROUNDS + 1) - $(date +%s%3N)))
	[ "$wait_ms" -le 0 ] || sleep "$((wait_ms / 1000)).$(printf %03d \
	    $((wait_ms % 1000)))"
	for n in one threads keep; do
		if [ "$i" -eq 3 ]; then
			mv "$T/$n/msgd" "$T/$n/msgd.good"
			printf '#!/bin/sh\nexit 1\n' > "$T/$n/msgd"
			chmod +x "$T/$n/msgd"
			upgrade "$n" fail
			mv "$T/$n/msgd.good" "$T/$n/msgd"
		fi
		# New options: a script at the path runs msgd with them.
		if [ "$i" -eq 5 ] && [ "$n" = threads ]; then
			mv "$T/$n/msgd" "$T/$n/msgd.real"
			printf '#!/bin/sh\nexec "%s" "$@" -t 3\n' \
			    "$T/$n/msgd.real" > "$T/$n/msgd"
			chmod +x "$T/$n/msgd"
		fi
		upgrade "$n"
	done
	i=$((i + 1))
done
elapsed=$(($(date +%s) - start_s))
[ "$elapsed" -le "$SECS" ] ||
    echo "note: $ROUNDS upgrades took ${elapsed}s, longer than the run" >&2

for n in one threads keep; do
	wait "$(cat "$T/$n.bench")"
	echo $? > "$T/$n.rc"
done
: > "$T/stop"
wait_for 5 true
for n in one threads keep; do
	[ ! -s "$T/$n.watch" ] || fail "$(cat "$T/$n.watch")"
	[ "$(wc -l < "$T/$n.json")" -eq 1 ] ||
	    fail "$n: no msgbench result: $(cat "$T/$n.err")"
	[ "$(json_get messages "$T/$n.json")" -gt 0 ] ||
	    fail "$n: no messages: $(cat "$T/$n.json")"
done
# One-shot: every connection answered, none refused or reset.
for n in one threads; do
	expect_eq "$(cat "$T/$n.rc")" 0 "$n: msgbench status \
($(cat "$T/$n.json") $(cat "$T/$n.err"))"
	for k in errors lost refused reset timeout mismatch closed other; do
		expect_eq "$(json_get "$k" "$T/$n.json")" 0 "$n: $k \
($(cat "$T/$n.json"))"
	done
done
# Keep-open: connections of the old msgd are closed at a pause (that is
# "closed"; a line sent after the close is "lost"); nothing else.
for k in refused reset timeout mismatch other; do
	expect_eq "$(json_get "$k" "$T/keep.json")" 0 "keep: $k \
($(cat "$T/keep.json"))"
done
[ "$(json_get lost "$T/keep.json")" -le "$(json_get closed "$T/keep.json")" ] ||
    fail "keep: more lost than closed: $(cat "$T/keep.json")"
# Every old msgd finished its conversations (none cut by --drain-timeout).
for n in one threads keep; do
	! grep -q 'drain time is up' "$T/$n/log" ||
	    MSGD_LOG=$T/$n/log fail "$n: $(grep 'drain time' "$T/$n/log")"
	expect_eq "$(grep -c 'SIGUSR2: the new msgd (pid [0-9]*) serves' \
	    "$T/$n/log")" "$ROUNDS" "$n: upgrades"
done
grep -q "msgd\[$(cat "$T/threads/pid")\]: .*started: .*3 threads" \
    "$T/threads/log" || MSGD_LOG=$T/threads/log fail "-t 3 did not take"

# The final processes serve, and stop cleanly (removing the pidfile).
for n in one threads; do
	MSGD_PORT=$(cat "$T/$n/port")
	expect_eq "$(printf 'hi\n' | ask)" "Hello, client!" "$n: reply"
done
for n in one threads keep; do
	p=$(cat "$T/$n/pid")
	kill -TERM "$p"
	wait_for $((20 * slow)) ended "$p" || fail "$n: msgd $p did not stop"
	[ ! -e "$T/$n/pid" ] || fail "$n: pidfile left behind"
done
pass "$ROUNDS upgrades (one failed, one -t 2 to 3) under load, -k: nothing lost"
