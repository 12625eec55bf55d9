#!/bin/sh
# limits-fds.sh - the soft descriptor limit msgd sets is what it uses.
# Started with a soft limit of 64 and -t 16, three -l addresses, --udp,
# --pidfile and --metrics, msgd raises the limit to what it holds at rest
# plus -c, plus what it may open later: 16 metrics connections, 8 refused
# sockets lingering, one socket being refused (or accepted while an idle
# one is closed for it) per worker and a few brief
# ones (src/server.c, server_fd_reserve).  Then every -c connection, 16
# metrics connections and a burst of refused clients at once never run it
# out of descriptors: no pause, every refused client told, and a scrape
# afterwards counts no pause.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need nc
need curl
need python3
need prlimit

N=200
W=16
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] || [ "$hard" -ge 1000 ] ||
    skip "hard descriptor limit $hard"
cat > "$T/limited" <<EOS
#!/bin/sh
exec prlimit --nofile=64:$hard -- "$MSGD" "\$@"
EOS
chmod +x "$T/limited"
REAL=$MSGD
MSGD=$T/limited
msgd_start -t $W -c $N --no-evict -l 127.0.0.1 -l 127.0.0.2 -l 127.0.0.3 -U \
    -P "$T/msgd.pid" --metrics 127.0.0.1:0
MSGD=$REAL
metrics_port

# At rest: every listener, loop, log, UDP socket and the pidfile are open.
rest=$(fd_count "$MSGD_PID")
soft=$(awk '/^Max open files/ { print $4 }' "/proc/$MSGD_PID/limits")
later=$((soft - rest - N))
echo "soft limit $soft: $rest at rest + -c $N + $later"
# 16 metrics connections, 8 refused sockets lingering, one being refused
# in each worker are certain; a margin for brief ones, but not a flat
# guess far over what is used.
[ "$later" -ge $((16 + 8 + W)) ] ||
    fail "soft limit $soft leaves $later over $rest at rest + -c $N"
[ "$later" -le $((16 + 8 + W + 16)) ] ||
    fail "soft limit $soft reserves $later over $rest at rest + -c $N"

# Fill: every connection -c allows...
hold $N
full() { [ "$(metric connections_open)" = $N ]; }
wait_for 10 full || fail "$(metric connections_open) connections open, not $N"
# ...every metrics connection...
metrics_hold 16
# ...and a burst of clients past -c, 24 at once.
max=0
i=0
pids=
while [ $i -lt 24 ]; do
	printf 'hi\n' | ask > "$T/busy.$i" 2>&1 &
	pids="$pids $!"
	i=$((i + 1))
	n=$(fd_count "$MSGD_PID")
	[ "$n" -gt "$max" ] && max=$n
done
for p in $pids; do wait "$p"; done
got=$(cat "$T"/busy.* | grep -cx 'error: server busy')
expect_eq "$got" 24 "clients told 'server busy'"
echo "at most $max descriptors of $soft"
[ "$max" -le "$soft" ] || fail "$max descriptors over the limit $soft"
grep -q 'cannot accept' "$MSGD_LOG" && fail "msgd ran out of descriptors"

metrics_release
release_hold
expect_eq "$(metric accept_pauses_total)" 0 "msgd_accept_pauses_total"
expect_eq "$(metric metrics_connections_refused_total)" 0 \
    "msgd_metrics_connections_refused_total"
msgd_stop
pass "soft limit $soft = $rest at rest + -c $N + $later; filled, no pause"
