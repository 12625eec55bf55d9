#!/bin/sh
# upgrade.sh - what a SIGUSR2 upgrade costs the clients: msgbench conn at
# full rate for UPGRADE_SECS (20) against msgd -d -P, once without an
# upgrade and once with UPGRADE_ROUNDS (10) upgrades spread over the run,
# with -t 1 and -t 2.  Prints one line per run: errors, p99, p99.9 and the
# longest reply latency msgbench saw (results in bench/RESULTS.md).
# About 2 minutes.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
MSGD=${MSGD:-$top/src/msgd}
MSGBENCH=${MSGBENCH:-$top/src/msgbench/msgbench}
SECS=${UPGRADE_SECS:-20}
ROUNDS=${UPGRADE_ROUNDS:-10}
T=$(mktemp -d "${TMPDIR:-/tmp}/msgd-bench-upgrade.XXXXXX")
trap 'kill "$(cat "$T/pid" 2>/dev/null)" 2>/dev/null; rm -rf "$T"' EXIT
ON_SERVER= ON_CLIENT=
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
	ON_SERVER="taskset -c 0"
	ON_CLIENT="taskset -c 1"
fi

json_get() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" "$2"; }

# run THREADS UPGRADES
run() {
	local old new i port
	rm -f "$T/pid" "$T/log"
	cp "$MSGD" "$T/msgd"
	$ON_SERVER "$T/msgd" -d -P "$T/pid" -p 0 -L "$T/log" -t "$1" ||
	    exit 1
	port=$(sed -n 's/.*started: listening on [^ ]*:\([0-9]*\).*/\1/p' \
	    "$T/log" | tail -n 1)
	$ON_CLIENT "$MSGBENCH" conn --json -q -H 127.0.0.1 -p "$port" -c 4 \
	    -s 4 -d "$SECS" > "$T/bench.json" &
	i=1
	while [ "$i" -le "$2" ]; do
		sleep "$(awk -v s="$SECS" -v n="$2" \
		    'BEGIN { printf "%.2f", s / (n + 1) }')"
		old=$(cat "$T/pid")
		kill -USR2 "$old"
		while [ "$(cat "$T/pid")" = "$old" ]; do
			sleep 0.01
		done
		i=$((i + 1))
	done
	wait $!
	kill "$(cat "$T/pid")"
	printf '%-4s %-9s %8s %6s %10s %10s %10s\n' "-t $1" "$2" \
	    "$(json_get messages "$T/bench.json")" \
	    "$(json_get errors "$T/bench.json")" \
	    "$(json_get p99_us "$T/bench.json")" \
	    "$(json_get p999_us "$T/bench.json")" \
	    "$(json_get max_us "$T/bench.json")"
}

printf '%-4s %-9s %8s %6s %10s %10s %10s\n' "" upgrades messages errors \
    p99_us p999_us max_us
for t in 1 2; do
	run "$t" 0
	run "$t" "$ROUNDS"
done
