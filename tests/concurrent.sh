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

# ...while N clients connect at once, each checked for its own reply.
i=0
while [ "$i" -lt "$N" ]; do
	( printf 'client %d\n' "$i" | timeout 20 nc 127.0.0.1 "$MSGD_PORT" \
	    > "$T/out.$i" 2>&1 ) &
	i=$((i + 1))
done
wait_for 30 sh -c "[ \$(cat '$T'/out.* 2>/dev/null | wc -l) -ge $N ]"
wait_for 5 sh -c "! jobs -p | grep -q ." 2>/dev/null
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
