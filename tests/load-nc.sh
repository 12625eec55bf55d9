#!/bin/sh
# load-nc.sh - many concurrent nc clients against msgd, each reply checked.
#
# By hand, against a msgd you started:
#     tests/load-nc.sh -p 5000 [-H 127.0.0.1] [-n 500] [-j 100]
# From make check (no -p): starts its own msgd on a free port and runs
# LOAD_NC_CLIENTS clients (default 300).
#   -n N      clients in all [500]          -j J  at most J at a time [100]
#   -m TEXT   what each client sends        -e TEXT  the reply expected
# Prints how many got the right reply and how long it took; exits 1 if
# any reply was missing or wrong.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
set -u
n=${LOAD_NC_CLIENTS:-500} j=100 port= host=127.0.0.1
message='Hello, server!' expect='Hello, client!'
while getopts 'n:j:p:H:m:e:' opt; do
	case $opt in
	n) n=$OPTARG ;;
	j) j=$OPTARG ;;
	p) port=$OPTARG ;;
	H) host=$OPTARG ;;
	m) message=$OPTARG ;;
	e) expect=$OPTARG ;;
	*) echo "usage: load-nc.sh [-n N] [-j J] [-p PORT] [-H HOST]" \
	       "[-m TEXT] [-e TEXT]" >&2; exit 64 ;;
	esac
done
case "$n$j" in *[!0-9]*) echo "load-nc.sh: -n and -j take numbers" >&2
	exit 64 ;; esac
command -v nc >/dev/null || { echo "load-nc.sh: nc is not installed" >&2
	exit 77; }

if [ -z "$port" ]; then
	# From make check: our own msgd, a modest count.
	n=${LOAD_NC_CLIENTS:-300}
	. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
	msgd_start
	port=$MSGD_PORT
	out=$T/replies
else
	out=$(mktemp "${TMPDIR:-/tmp}/load-nc.XXXXXX")
	trap 'rm -f "$out"' EXIT
fi

start=$(date +%s.%N)
# Each client: send the message, print the reply (or nothing) on one line.
seq 1 "$n" | xargs -P "$j" -I '{}' sh -c \
    'r=$(printf "%s\n" "$1" | timeout 20 nc "$2" "$3" 2>/dev/null); \
     printf "%s\n" "$r"' sh "$message" "$host" "$port" > "$out"
end=$(date +%s.%N)

ok=$(grep -cxF -- "$expect" "$out")
secs=$(echo "$start $end" | awk '{ printf "%.2f", $2 - $1 }')
echo "load-nc: $ok of $n clients answered '$expect' in $secs s" \
    "($j at a time, $host:$port)"
if [ "$ok" -ne "$n" ]; then
	echo "load-nc: $((n - ok)) replies missing or wrong:" >&2
	grep -vxF -- "$expect" "$out" | sort | uniq -c | head -5 >&2
	exit 1
fi
[ -n "${MSGD_PID:-}" ] && msgd_stop
exit 0
