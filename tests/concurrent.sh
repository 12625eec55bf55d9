#!/bin/sh
# concurrent.sh - many clients at once, and a silent one delays nobody.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need nc

N=${CONCURRENT_CLIENTS:-200}
msgd_start

# A client that connects and says nothing holds a connection open...
mkfifo "$T/silent"
nc 127.0.0.1 "$MSGD_PORT" < "$T/silent" > "$T/silent.out" &
silent=$!
track "$silent"
exec 3> "$T/silent"

# ...while N clients connect at once, each checked for its own reply and
# for a clean close: nc exits 0 once msgd has closed the connection (it
# does not stop at end of input), and timeout kills it at 20 s otherwise.
i=0
clients=""
while [ "$i" -lt "$N" ]; do
	printf 'client %d\n' "$i" | timeout 20 nc 127.0.0.1 "$MSGD_PORT" \
	    > "$T/out.$i" 2>&1 &
	clients="$clients $!"
	i=$((i + 1))
done
i=0
for p in $clients; do
	wait "$p" ||
	    fail "client $i: nc exited with status $?: $(cat "$T/out.$i")"
	i=$((i + 1))
done
ok=$(grep -lx 'Hello, client!' "$T"/out.* | wc -l)
expect_eq "$ok" "$N" "clients answered"

# The silent client is still connected, and still unanswered.
alive "$silent" || fail "the silent client was disconnected"
[ ! -s "$T/silent.out" ] || fail "the silent client got a reply unasked"
printf 'late\n' >&3
exec 3>&-
wait_for 10 gone "$silent" || fail "the silent client got no reply"
expect_eq "$(cat "$T/silent.out")" "Hello, client!" "late reply"
msgd_stop
pass "$N concurrent clients and a silent one"
