#!/bin/sh
# hostile-slowloris.sh - one host holding every connection msgd allows
# cannot lock anyone else out.  An attacker on 127.0.0.1 keeps -c
# connections open, each trickling a byte every 2 s and never completing
# a line (reopening each one msgd closes); meanwhile a client on 127.0.0.2
# connects every 100 ms, and at least 95% of its tries must get "Hello,
# client!" within 1 s.  msgd makes room by closing the connection idle
# longest (no line answered); its RSS stays bounded.  In one-shot mode,
# -k, and --proxy-protocol with half headers.  Scaled down (-c 200, 8 s a
# mode) for make check; bench/slowloris.sh runs it at full size (-c 10000,
# 60 s).
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need python3

# bench/slowloris.sh sets these for the full-size run.
C=${SLOWLORIS_CONNS:-200}
SECS=${SLOWLORIS_SECS:-8}
INTERVAL=${SLOWLORIS_INTERVAL:-2}
SLOWLORIS="python3 ${top_srcdir:-..}/tests/slowloris.py"

# attack_mode NAME [MSGD-OPTION] [proxy]
attack_mode() {
	local name=$1 opt=${2:-} proxy=${3:-} rss0 hwm fd0 tries ok
	msgd_start -c $C $opt
	rss0=$(vm_kb "$MSGD_PID" VmRSS)
	fd0=$(fd_count "$MSGD_PID")
	mkfifo "$T/$name.in"
	$SLOWLORIS attack "$MSGD_PORT" $C $INTERVAL $proxy < "$T/$name.in" \
	    > "$T/$name.attack" &
	apid=$!
	track $apid
	exec 9> "$T/$name.in"
	wait_for $((20 + C / 500)) grep -q '^holding' "$T/$name.attack" ||
	    fail "$name: the attacker could not open $C connections"
	full() { [ "$(fd_count "$MSGD_PID")" -ge $((fd0 + C)) ]; }
	wait_for $((20 + C / 500)) full ||
	    fail "$name: msgd holds $(fd_count "$MSGD_PID") descriptors"
	$SLOWLORIS legit "$MSGD_PORT" $SECS 0.1 $proxy > "$T/$name.legit" ||
	    fail "$name: slowloris.py legit failed"
	exec 9>&-
	wait $apid || fail "$name: slowloris.py attack failed"
	hwm=$(vm_kb "$MSGD_PID" VmHWM)
	alive "$MSGD_PID" || fail "$name: msgd died"
	msgd_stop
	set -- $(cat "$T/$name.legit")
	ok=$2
	tries=$4
	echo "$name: $ok of $tries answered within 1 s;" \
	    "$(cat "$T/$name.attack" | tr '\n' ' ')RSS $rss0 kB, peak $hwm kB"
	[ "$ok" -ge $((tries * 95 / 100)) ] ||
	    fail "$name: only $ok of $tries tries answered within 1 s"
	# An attacking connection costs its part line's buffers: about 2 kB
	# (8 kB when every trickled byte took a 16 kB chain).
	[ $((hwm - rss0)) -le $((C * 3 + 2048)) ] ||
	    fail "$name: RSS grew from $rss0 kB to $hwm kB"
}

attack_mode oneshot
attack_mode keep-open -k
attack_mode proxy --proxy-protocol proxy
pass "a client got through 95% of the time in 1 s while one host held every slot"
