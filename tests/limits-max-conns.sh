#!/bin/sh
# limits-max-conns.sh - -c N: with N connections open, a new client gets
# in by closing the one idle longest, and msgd never holds more than N;
# with --no-evict the N+1st client gets "error: server busy" and is
# closed (after a second's linger, however it trickles), msgd's
# descriptors stay within its baseline + N + 8 (the refused sockets that
# may linger) under a burst of refused clients, and service resumes once
# connections close.  RLIMIT_NOFILE is raised to N + what msgd needs
# besides (tests/limits-fds.sh measures that), and when
# the hard limit is too low -c is lowered, with one warning, and the
# lowered limit is the one enforced.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need nc
need python3
need prlimit

N=20

# Full: the newcomer is answered, in the place of an idle connection.
msgd_start -c $N -k --metrics 0
metrics_port
fd0=$(fd_count "$MSGD_PID")
hold $N
all_open() { [ "$(fd_count "$MSGD_PID")" -eq $((fd0 + N)) ]; }
wait_for 10 all_open || fail "msgd has $(fd_count "$MSGD_PID") descriptors"
# A connection younger than 100 ms is not closed for a newcomer
# (EXPIRE_EVICT_MIN_MS): what is awaited here is their age itself.
sleep 0.2
expect_eq "$(printf 'hi\n' | ask)" "Hello, client!" "client $((N + 1))"
evicted() {
	curl -sf --max-time 5 "http://127.0.0.1:$MPORT/metrics" |
	    awk '$1 == "msgd_connections_closed_total{reason=\"evicted\"}" {
		print $2 }'
}
expect_eq "$(evicted)" 1 "connections closed to make room"
[ "$(fd_count "$MSGD_PID")" -le $((fd0 + N)) ] ||
    fail "msgd holds $(fd_count "$MSGD_PID") descriptors, over -c $N"
release_hold
msgd_stop

msgd_start -c $N --no-evict
fd0=$(fd_count "$MSGD_PID")
hold $N
wait_for 10 all_open || fail "msgd has $(fd_count "$MSGD_PID") descriptors"

# A burst of clients past the limit, 8 at a time: every one is told, and
# msgd never holds more descriptors than its N connections and the 8
# refused sockets it may keep open for a second (SERVER_REFUSE_MAX, so that
# a late line from the client cannot reset away the busy line).
max=0
i=0
while [ $i -lt 64 ]; do
	j=0
	pids=
	while [ $j -lt 8 ]; do
		printf 'hi\n' | ask > "$T/busy.$i.$j" 2>&1 &
		pids="$pids $!"
		j=$((j + 1))
	done
	n=$(fd_count "$MSGD_PID")
	[ "$n" -gt "$max" ] && max=$n
	for p in $pids; do wait "$p"; done
	i=$((i + 8))
done
bad=$(cat "$T"/busy.* | grep -cvx 'error: server busy')
got=$(cat "$T"/busy.* | grep -cx 'error: server busy')
expect_eq "$got" 64 "clients told 'server busy'"
expect_eq "$bad" 0 "other output to refused clients"
[ "$max" -le $((fd0 + N + 8)) ] ||
    fail "msgd held $max descriptors (baseline $fd0 + $N + 8)"
wait_for 5 all_open ||
    fail "$(fd_count "$MSGD_PID") descriptors after the burst"
alive "$MSGD_PID" || fail "msgd died"

# A refused client that keeps sending does not keep its socket: the
# linger ends a second after the refusal, whatever arrives.
python3 "${top_srcdir:-..}/tests/slowloris.py" trickle "$MSGD_PORT" 'hi\n' \
    0.2 10 > "$T/trickle.out" || fail "slowloris.py trickle failed"
grep -qx "reply 'error: server busy\\\\n'" "$T/trickle.out" ||
    fail "refused trickler: $(cat "$T/trickle.out")"
t=$(sed -n 's/^closed //p' "$T/trickle.out")
[ -n "$t" ] && awk -v t="$t" 'BEGIN { exit !(t <= 3) }' ||
    fail "refused trickler closed after ${t:-never} s, not within 3 s"

# Service resumes as soon as connections close.
release_hold
expect_eq "$(printf 'hi\n' | ask)" "Hello, client!" "reply after release"
msgd_stop

# The soft RLIMIT_NOFILE is raised to fit -c 5000 + what is open at rest.
cat > "$T/limited" <<EOS
#!/bin/sh
exec prlimit --nofile=\$NOFILE -- "$MSGD" "\$@"
EOS
chmod +x "$T/limited"
REAL=$MSGD
MSGD=$T/limited
NOFILE=1024:20000
export NOFILE
msgd_start -c 5000
soft=$(awk '/^Max open files/ { print $4 }' "/proc/$MSGD_PID/limits")
[ "$soft" -ge $((5000 + $(fd_count "$MSGD_PID"))) ] ||
    fail "soft descriptor limit $soft for -c 5000"
msgd_stop

# A hard limit of 100 lowers -c 5000 to what fits, with one warning...
NOFILE=100:100
msgd_start -c 5000 --no-evict
LOW=$(sed -n 's/.*lowering --max-conns from 5000 to \([0-9]*\)$/\1/p' \
    "$MSGD_LOG")
[ -n "$LOW" ] || fail "no warning about lowering --max-conns"
expect_eq "$(grep -c 'lowering' "$MSGD_LOG")" 1 "warnings about the limit"
fd0=$(fd_count "$MSGD_PID")
[ $((fd0 + LOW)) -le 100 ] && [ "$LOW" -ge 50 ] ||
    fail "-c lowered to $LOW with $fd0 descriptors open at rest"
# ...and that is the limit: the next client is refused, with the words.
hold $LOW
wait_for 10 sh -c "[ \$(ls /proc/$MSGD_PID/fd | wc -l) -eq $((fd0 + LOW)) ]" ||
    fail "msgd has $(fd_count "$MSGD_PID") descriptors, not $((fd0 + LOW))"
expect_eq "$(printf 'hi\n' | ask)" "error: server busy" "client $((LOW + 1))"
release_hold
expect_eq "$(printf 'hi\n' | ask)" "Hello, client!" "reply after release"
msgd_stop
MSGD=$REAL

# A hard limit at or under the reserve: a clear error, not a server that
# can serve no one.
prlimit --nofile=16:16 -- "$MSGD" -p 0 -L "$T/low.log" 2> "$T/err"
expect_eq "$?" 71 "exit status with 16 descriptors"
grep -q 'descriptor limit 16 is too low' "$T/err" "$T/low.log" ||
    fail "no clear error for a limit of 16: $(cat "$T/err")"
pass "-c $N makes room, or refuses with 'server busy' within $max descriptors; -c lowered to fit"
