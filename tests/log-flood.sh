#!/bin/sh
# log-flood.sh - clients cannot flood the log: 2000 connections, from 8
# threads, to msgd -t 2 --proxy-protocol, each with a bad PROXY header
# (a warning at the default verbosity).  msgd still answers; the log gets
# the first warning verbatim and at most 5 lines + 1 count of that kind
# per 10-s window; the counts ("N more like this in the last S s") and
# the lines written add up to every header sent, nothing lost; and a
# count is written when its window ends although no more warnings come.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need nc
need python3

N=2000
SLOW=1
[ -z "${MSGD_SANITIZED:-}" ] || SLOW=4
WHY='connection [0-9]+: closed: v1 port is not a number'

# bad N: N connections, each sending a bad header and reading to the end;
# prints "refused N hung M" (hung: msgd did not close it in 10 s).
bad() {
	python3 - "$MSGD_PORT" "$1" <<'EOF'
import socket, sys, threading
port, n = int(sys.argv[1]), int(sys.argv[2])
counts = {"refused": 0, "hung": 0}
lock = threading.Lock()
def client(k):
    for _ in range(k):
        what, s = "refused", None
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(b"PROXY TCP4 192.0.2.1 127.0.0.1 99999 1\r\n")
            while s.recv(4096):
                what = "hung"		# a reply: not what we sent for
        except ConnectionResetError:
            pass
        except OSError:
            what = "hung"
        finally:
            if s is not None:
                s.close()
        with lock:
            counts[what] += 1
threads = [threading.Thread(target=client, args=(n // 8 + (i < n % 8),))
           for i in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("refused", counts["refused"], "hung", counts["hung"])
EOF
}

# tally: "WRITTEN SUMMARIES HELD" for lines of that kind: written
# verbatim, counts of those held back, and the sum of those counts.
tally() {
	awk -v why="$WHY" '
	$0 ~ "msgd\\[[0-9]+\\]: " why { w++ }
	$0 ~ "[0-9]+ more like this in the last [0-9]+ s: " why {
		s++
		h += $3
	}
	END { print w + 0, s + 0, h + 0 }' "$MSGD_LOG"
}
# accounted N: written + held back is N or more.
accounted() {
	set -- "$1" $(tally)
	[ $(($2 + $4)) -ge "$1" ]
}

msgd_start -t 2 --proxy-protocol
lines0=$(wc -l < "$MSGD_LOG")
t0=$(date +%s)
expect_eq "$(bad $N)" "refused $N hung 0" "clients with a bad header"

# The last window's count comes by itself: no more warnings follow.
wait_for $((20 * SLOW)) accounted $N || fail "written, counts, held: $(tally)"
secs=$(($(date +%s) - t0))
set -- $(tally)
expect_eq "$(($1 + $3))" "$N" "bad headers written or counted ($*)"
lines=$(($1 + $2))
windows=$((secs / 10 + 2))
[ "$lines" -le $((6 * windows)) ] ||
    fail "$lines lines for $N bad headers in $secs s (at most 5 + 1 a window)"
grown=$(($(wc -l < "$MSGD_LOG") - lines0))
[ "$grown" -le $((lines + 2)) ] || fail "the log grew by $grown lines"
sed -n "$((lines0 + 1))p" "$MSGD_LOG" | grep -Eq "msgd\[[0-9]+\]: $WHY" ||
    fail "the first bad header was not logged verbatim"
got=$(printf 'PROXY TCP4 192.0.2.7 127.0.0.1 1 2\r\nhi\n' | ask -N)
expect_eq "$got" "Hello, client!" "a reply after the flood"

# 11 more, then nothing: at least 6 of them in one window, so one is held
# back, and its count must still be written when that window ends.
expect_eq "$(bad 11)" "refused 11 hung 0" "11 more bad headers"
wait_for $((15 * SLOW)) accounted $((N + 11)) ||
    fail "written, counts, held: $(tally)"
set -- $(tally)
expect_eq "$(($1 + $3))" "$((N + 11))" "bad headers written or counted ($*)"
msgd_stop
pass "$N + 11 bad headers: $lines lines in $secs s, then $(($1 + $2))"
