#!/bin/sh
# hostile-backpressure.sh - clients that pipeline lines forever with -k and
# never read.  msgd stops reading them once 64 KiB of replies wait
# (CONN_OUTPUT_HIGH), so each costs bounded memory: VmHWM grows by at most
# 256 KiB a flooder (measured with 8 of them, fixed replies and --echo),
# msgd does not spin while they are stalled (under 0.2 s of CPU in 2 s),
# and other clients are answered meanwhile.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need nc
need python3

F=8
for mode in "-k" "-k -e"; do
	msgd_start $mode
	want=Hello,\ client!
	case $mode in *-e*) want=hi ;; esac
	expect_eq "$(printf 'hi\n' | ask -N)" "$want" "warm-up"
	hwm0=$(vm_kb "$MSGD_PID" VmHWM)
	client_start flood flood "$MSGD_PORT" $F 100
	client_wait stalled 30
	sent=$(awk '/^stalled/ { print $2 }' "$CLIENT_OUT")
	# The flooders are stalled: msgd reads no more from them.
	cpu0=$(cpu_ticks "$MSGD_PID")
	sleep 2		# measuring an interval, not waiting for an event
	cpu1=$(cpu_ticks "$MSGD_PID")
	hwm1=$(vm_kb "$MSGD_PID" VmHWM)
	grow=$((hwm1 - hwm0))
	echo "msgd $mode: $F flooders sent $sent bytes; VmHWM $hwm0 -> $hwm1 kB (+$grow); $((cpu1 - cpu0)) ticks in 2 s"
	[ -n "${MSGD_SANITIZED:-}" ] || [ "$grow" -le $((F * 256)) ] ||
	    fail "msgd $mode: $F flooders cost $grow kB (limit $((F * 256)))"
	[ $((cpu1 - cpu0)) -le 20 ] ||
	    fail "msgd $mode used $((cpu1 - cpu0)) ticks in 2 s while stalled"
	[ "$sent" -gt $((F * 1024 * 1024)) ] ||
	    fail "the flooders stalled after $sent bytes: not a flood"
	# Others are served while the flooders are stuck.
	expect_eq "$(printf 'hi\nthere\n' | ask -N | head -n 1)" "$want" \
	    "reply beside $F flooders"
	client_release
	alive "$MSGD_PID" || fail "msgd died"
	msgd_stop
done
pass "$F stalled flooders cost at most 256 kB each; others served"
