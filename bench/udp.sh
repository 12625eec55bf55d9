#!/bin/sh
# udp.sh - UDP datagrams answered a second by msgd -U with one worker and
# with two (-t 1, -t 2), in one run, alternating, BENCH_REPEAT times (see
# "UDP: one worker and two" in bench/RESULTS.md).
#
# The load is bench/udp-load: 64 sockets on 127.0.0.1, each on its own
# port, 3 datagrams in flight each (closed loop: the rate is what msgd
# answers; 192 in flight fit the kernel's default receive buffer of one
# socket).  msgd's rate limit is lifted (--udp-rate and --udp-burst at
# their maximum).  Three configurations: "1p", one worker on CPU 0 and the
# load on CPU 1 (as run.sh); "1", one worker and the load sharing CPUs 0
# and 1; "2", two workers and the load sharing them, there being no more.
# Server CPU is utime+stime from /proc/PID/stat.  With MSGD_BASE=PROGRAM
# (an earlier msgd) "b1" and "b2" run it with one and two workers too, in
# the same runs, for a before/after.
#
# Environment: BENCH_SECONDS (5), BENCH_REPEAT (3), BENCH_UDP_WINDOW
# (datagrams in flight per socket, 3), BENCH_UDP_RCVBUF
# (--udp-rcvbuf; unset: not given, for an msgd older than the option),
# BENCH_OUT, MSGD, UDP_LOAD.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
set -u

srcdir=$(cd "$(dirname "$0")/.." && pwd)
MSGD=${MSGD:-$srcdir/src/msgd}
UDP_LOAD=${UDP_LOAD:-$srcdir/bench/udp-load}
MSGD_BASE=${MSGD_BASE:-}
WINDOW=${BENCH_UDP_WINDOW:-3}
OUT=${BENCH_OUT:-$srcdir/bench/out}
SECS=${BENCH_SECONDS:-5}
REPEAT=${BENCH_REPEAT:-3}
RCVBUF=${BENCH_UDP_RCVBUF:-}
TICK=$(getconf CLK_TCK)

mkdir -p "$OUT"
TSV=$OUT/udp.tsv
printf 'config\trun\treplies_per_s\tlost\tserver_cpu_us_per_reply\n' > "$TSV"

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# one CONFIG RUN: start msgd, load it for SECS, record a line.
one() {
	local log=$OUT/udp-msgd.log pid port cpus lcpus c0 c1 line prog=$MSGD
	local t=${1%p}
	cpus=0,1 lcpus=0,1
	[ "$1" = 1p ] && cpus=0 lcpus=1
	case $1 in b*) prog=$MSGD_BASE t=${1#b} ;; esac
	: > "$log"
	taskset -c "$cpus" "$prog" -p 0 -U -t "$t" --udp-rate 1000000 \
	    --udp-burst 1000000 ${RCVBUF:+--udp-rcvbuf "$RCVBUF"} -L "$log" &
	pid=$!
	i=0
	until grep -q 'started: listening on' "$log"; do
		i=$((i + 1))
		[ "$i" -lt 500 ] || { echo "msgd did not start" >&2; exit 1; }
		sleep 0.02
	done
	port=$(sed -n 's/.*started: listening on [^ ]*:\([0-9]*\).*/\1/p' \
	    "$log")
	c0=$(cpu_ticks "$pid")
	line=$(taskset -c "$lcpus" "$UDP_LOAD" -s 64 -w "$WINDOW" -d "$SECS" "$port")
	c1=$(cpu_ticks "$pid")
	kill "$pid"
	wait "$pid"
	echo "$line" | awk -v t="$1" -v r="$2" -v c=$((c1 - c0)) -v hz="$TICK" \
	    '{ printf "%s\t%s\t%d\t%d\t%.3f\n", t, r, $6, $8,
	       ($2 > 0 ? c / hz * 1e6 / $2 : 0) }' >> "$TSV"
}

r=1
while [ "$r" -le "$REPEAT" ]; do
	one 1p "$r"
	one 1 "$r"
	one 2 "$r"
	if [ -n "$MSGD_BASE" ]; then
		one b1 "$r"
		one b2 "$r"
	fi
	r=$((r + 1))
done
cat "$TSV"
# Two workers against one within each run (the machine drifts between
# runs, not within one).
awk -F '\t' 'NR > 1 { v[$1, $2] = $3; c[$1, $2] = $5; if ($2 > n) n = $2 }
END {
	for (r = 1; r <= n; r++)
		printf "run %d: -t 1 pinned %d/s (%.2f us CPU), -t 1 %d/s " \
		    "(%.2f us), -t 2 %d/s (%.2f us), 2/1 %.2fx\n", r,
		    v["1p", r], c["1p", r], v[1, r], c[1, r], v[2, r],
		    c[2, r], v[2, r] / v[1, r]
	for (r = 1; r <= n; r++)
		if (v["b1", r] > 0)
			printf "run %d: base -t 1 %d/s (%.2f us), -t 2 %d/s " \
			    "(%.2f us), 2/1 %.2fx; -t 2 against base -t 2 " \
			    "%.2fx\n", r, v["b1", r], c["b1", r], v["b2", r],
			    c["b2", r], v["b2", r] / v["b1", r],
			    v[2, r] / v["b2", r]
}' "$TSV" | tee "$OUT/udp.txt"
