#!/bin/sh
# idle-memory.sh - an idle connection costs msgd at most 512 bytes of
# memory (measured: RSS growth over 4000 idle connections) and exactly one
# descriptor.
. "${top_srcdir:-..}/tests/lib.sh"
need python3

N=4000
msgd_start -c $((N + 100))
rss0=$(vm_kb "$MSGD_PID" VmRSS)
fd0=$(fd_count "$MSGD_PID")
hold $N
open_all() { [ "$(fd_count "$MSGD_PID")" -ge $((fd0 + N)) ]; }
wait_for 20 open_all || fail "msgd has $(fd_count "$MSGD_PID") descriptors"
rss1=$(vm_kb "$MSGD_PID" VmRSS)
fd1=$(fd_count "$MSGD_PID")
per=$(( (rss1 - rss0) * 1024 / N ))
echo "RSS $rss0 -> $rss1 kB over $N idle connections: $per bytes each"
expect_eq "$((fd1 - fd0))" "$N" "descriptors for $N connections"
[ "$per" -le 512 ] || fail "$per bytes per idle connection (limit 512)"
# Idle, but alive: they are still answered.
expect_eq "$(printf 'hi\n' | ask)" "Hello, client!" "reply beside idlers"
release_hold
msgd_stop
pass "$per bytes per idle connection"
