#!/bin/sh
# udp.sh - --udp: a reply datagram per datagram, and the per-source rate
# limit that keeps msgd from being a traffic amplifier.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need nc
need curl

RATE=10 BURST=20
msgd_start -U --udp-rate "$RATE" --udp-burst "$BURST" --metrics 0
metrics_port

# nc -u: one datagram, one reply (nc waits at most 2 s for it).
got=$(printf 'Hello, server!\n' | timeout 5 nc -u -w 2 127.0.0.1 "$MSGD_PORT")
expect_eq "$got" "Hello, client!" "UDP reply"
# TCP is still served on the same port.
expect_eq "$(printf 'hi\n' | ask)" "Hello, client!" "TCP reply beside UDP"

# A flood of 1000 datagrams from one source: at most the burst plus what
# the rate refills while the flood and the collection last, however long
# that is (sanitizer and valgrind runs are slow), and the rest counted as
# rate-limited.
python3 "${top_srcdir:-..}/tests/udpflood.py" "$MSGD_PORT" 1000 \
    > "$T/flood" || fail "udpflood.py"
replies=$(awk '/^sent/ { print $4 }' "$T/flood")
secs=$(awk '/^sent/ { print $6 }' "$T/flood")
allowed=$(awk -v b="$BURST" -v r="$RATE" -v s="$secs" \
    'BEGIN { print int(b + r * s) }')
[ -n "$replies" ] && [ -n "$secs" ] ||
    fail "no count from udpflood.py: $(cat "$T/flood")"
[ "$replies" -ge "$BURST" ] ||
    fail "only $replies replies to a flood (burst $BURST)"
[ "$replies" -le "$allowed" ] ||
    fail "$replies replies to 1000 datagrams, at most $allowed allowed" \
	"(burst $BURST + $RATE/s for $secs s)"
! grep -q '^odd' "$T/flood" || fail "unexpected replies: $(cat "$T/flood")"
# The kernel may drop some of the flood before msgd reads it; of what
# msgd received (the nc datagram above included), every datagram was
# either answered or counted as rate-limited.
limited=$(metric udp_rate_limited_total)
received=$(metric udp_datagrams_received_total)
[ "$received" -ge 200 ] || fail "msgd received only $received datagrams"
[ "$received" -le 1001 ] || fail "msgd counted $received of 1001 datagrams"
expect_eq "$((limited + replies + 1))" "$received" \
    "rate-limited + answered datagrams"

# Another source address is not punished for the first one's flood.
python3 "${top_srcdir:-..}/tests/udpflood.py" "$MSGD_PORT" 5 127.0.0.2 \
    > "$T/other" || fail "udpflood.py from 127.0.0.2"
expect_eq "$(awk '/^sent/ { print $4 }' "$T/other")" "5" \
    "replies to another source"
msgd_stop

# Echo mode over UDP, and the refusal of an oversized datagram.
msgd_start -U -e -M 8
got=$(printf 'echo me\n' | timeout 5 nc -u -w 2 127.0.0.1 "$MSGD_PORT")
expect_eq "$got" "echo me" "UDP echo"
got=$(printf 'far too long\n' | timeout 5 nc -u -w 2 127.0.0.1 "$MSGD_PORT")
expect_eq "$got" "error: message too long" "oversized datagram"
# An empty datagram gets no reply; one sent after it from the same socket
# does, so the server is alive and it was the empty one left unanswered.
python3 - "$MSGD_PORT" > "$T/empty" <<'PY' || fail "empty datagram: $(cat "$T/empty")"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.settimeout(1.0)
s.send(b"")
try:
    print("empty answered: %r" % s.recv(65536))
    sys.exit(1)
except socket.timeout:
    pass
s.settimeout(5.0)
s.send(b"after\n")
print(s.recv(65536).decode().rstrip("\n"))
PY
expect_eq "$(cat "$T/empty")" "after" "reply after an empty datagram"
msgd_stop

# Without -U nothing answers UDP.
msgd_start
got=$(printf 'hi\n' | timeout 5 nc -u -w 1 127.0.0.1 "$MSGD_PORT" | wc -c)
expect_eq "$got" "0" "UDP answered without --udp"
msgd_stop
pass "UDP replies and rate limit"
