#!/bin/sh
# udp-threads.sh - --udp with --threads: every worker has its own UDP
# socket on the port (SO_REUSEPORT) and answers what the kernel gives it,
# the workers share one per-source rate limit, --udp-rcvbuf sizes the
# receive buffers, and a reply that cannot be sent is counted.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need python3
need curl
need ss

PORTS="python3 ${top_srcdir:-..}/tests/udpports.py"
slow=1
[ -z "${MSGD_SANITIZED:-}" ] || slow=4

# field NAME: the value after NAME in the udpports.py line in $T/out.
field() {
	awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' \
	    "$T/out"
}

# 200 datagrams from 200 source ports, queued while msgd is stopped: the
# kernel spreads them over both workers' sockets, and every one is
# answered, so both workers serve UDP.
msgd_start -t 2 -U --udp-rate 100000 --udp-burst 100000
$PORTS "$MSGD_PORT" 200 "$MSGD_PID" > "$T/out" || fail "udpports.py"
expect_eq "$(field sockets)" 2 "UDP sockets on 127.0.0.1 with -t 2"
for q in $(field queued | tr , ' '); do
	[ "$q" -gt 0 ] || fail "a worker's UDP socket got no datagram of 200:" \
	    "$(cat "$T/out")"
done
expect_eq "$(field replies)" 200 "replies to 200 datagrams from 200 ports"
msgd_stop

# One source over many ports meets both workers, and still gets no more
# than --udp-burst plus what --udp-rate refills: the workers share the
# limit (one table each would answer up to twice the burst).
RATE=1 BURST=50
msgd_start -t 2 -U --udp-rate "$RATE" --udp-burst "$BURST"
$PORTS "$MSGD_PORT" 200 "$MSGD_PID" > "$T/out" || fail "udpports.py"
for q in $(field queued | tr , ' '); do
	[ "$q" -gt 0 ] || fail "a worker's UDP socket got no datagram:" \
	    "$(cat "$T/out")"
done
replies=$(field replies)
allowed=$(awk -v b="$BURST" -v r="$RATE" -v s="$(field seconds)" \
    'BEGIN { print int(b + r * s) }')
[ "$replies" -ge "$BURST" ] || fail "only $replies replies (burst $BURST)"
[ "$replies" -le "$allowed" ] ||
    fail "$replies replies to one source over two workers, at most" \
	"$allowed allowed: $(cat "$T/out")"
msgd_stop

# --udp-rcvbuf: every UDP socket gets it (the kernel reports twice the
# size, its bookkeeping included), -v says so, and a size over
# net.core.rmem_max is capped with a warning.
msgd_start -t 2 -U -v --udp-rcvbuf 100000
ss -uamn "sport = :$MSGD_PORT" > "$T/ss"
n=$(grep -c 'skmem:' "$T/ss")
[ "$n" -ge 2 ] || fail "ss shows $n UDP sockets: $(cat "$T/ss")"
expect_eq "$(grep -c 'skmem:(.*rb200000,' "$T/ss")" "$n" \
    "sockets with rb200000 (--udp-rcvbuf 100000)"
grep -q 'udp: receive buffer 100000 bytes' "$MSGD_LOG" ||
    fail "-v does not log the receive buffer"
msgd_stop
max=$(cat /proc/sys/net/core/rmem_max)
if [ "$max" -lt $((128 * 1024 * 1024)) ]; then
	msgd_start -U --udp-rcvbuf $((max * 2))
	grep -q "capped by the kernel to $max (raise .*rmem_max)" "$MSGD_LOG" ||
	    fail "no warning for --udp-rcvbuf over net.core.rmem_max ($max)"
	msgd_stop
fi
"$MSGD" --udp-rcvbuf=-1 > "$T/bad" 2>&1
expect_eq "$?" 64 "exit status of --udp-rcvbuf=-1"
expect_eq "$(wc -l < "$T/bad")" 1 "error lines for --udp-rcvbuf=-1"

# A reply that cannot be sent is counted with its reason: the echo of a
# largest IPv4 datagram (65507 bytes) without a newline gains one, and is
# one byte over what UDP over IPv4 can carry.  One byte less is answered.
msgd_start -t 2 -U -e -M 70000 --metrics 0
metrics_port
python3 - "$MSGD_PORT" > "$T/big" <<'PY' || fail "big datagrams: $(cat "$T/big")"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.settimeout(10.0)
s.send(b"a" * 65506)
print(len(s.recv(70000)))
s.send(b"a" * 65507)
PY
expect_eq "$(cat "$T/big")" 65507 "reply to a 65506-byte datagram"
failed() {
	curl -sf --max-time 5 "http://127.0.0.1:$MPORT/metrics" |
	    awk -v n="msgd_udp_replies_failed_total{reason=\"$1\"}" \
	    '$1 == n { print $2 }'
}
wait_for $((10 * slow)) test "$(failed too_large)" = 1 ||
    fail "udp_replies_failed_total{reason=\"too_large\"} is" \
	"'$(failed too_large)', not 1"
expect_eq "$(failed buffer_full)" 0 "failed replies, buffer_full"
expect_eq "$(failed error)" 0 "failed replies, error"
expect_eq "$(metric udp_replies_sent_total)" 1 "UDP replies sent"
msgd_stop
# SIGUSR2: the new msgd takes over the very UDP sockets (the same inodes,
# so nothing queued in them is lost), shares them out one per worker
# again, and both workers answer.
udp_inodes() {
	awk -v l="$(printf '0100007F:%04X' "$MSGD_PORT")" \
	    '$2 == l { print $10 }' /proc/net/udp | sort | tr '\n' ' '
}
ended() {
	gone "$1" || [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]
}
MSGD_LOG=$T/upgrade.log
"$MSGD" -d -P "$T/pid" -p 0 -L "$MSGD_LOG" -t 2 -U --udp-rate 100000 \
    --udp-burst 100000 || fail "msgd -d did not start"
old=$(cat "$T/pid")
track "$old"
msgd_wait_started "$MSGD_LOG" "$old"
before=$(udp_inodes)
msgd_upgrade "$old" $((10 * slow))
new=$NEW
wait_for $((20 * slow)) ended "$old" || fail "old msgd $old still runs"
expect_eq "$(udp_inodes)" "$before" "UDP sockets after SIGUSR2"
$PORTS "$MSGD_PORT" 200 "$new" > "$T/out" || fail "udpports.py"
for q in $(field queued | tr , ' '); do
	[ "$q" -gt 0 ] || fail "after SIGUSR2 a UDP socket got no datagram:" \
	    "$(cat "$T/out")"
done
expect_eq "$(field replies)" 200 "replies after SIGUSR2"
kill -TERM "$new"
wait_for $((20 * slow)) ended "$new" || fail "msgd $new did not stop"

# Socket activation passes TCP sockets only; each worker binds its own UDP
# socket on their address and port, as without systemd.
if [ "${MSGD_HAVE_SYSTEMD:-no}" = yes ] &&
    command -v systemd-socket-activate >/dev/null 2>&1; then
	port=$(python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	MSGD_LOG=$T/activated.log
	systemd-socket-activate -l "127.0.0.1:$port" "$MSGD" -t 2 -U -L \
	    "$MSGD_LOG" 2> "$T/activate.err" &
	MSGD_PID=$!
	track "$MSGD_PID"
	wait_for $((10 * slow)) grep -q "Listening on 127.0.0.1:$port" "$T/activate.err" ||
	    fail "systemd-socket-activate did not listen"
	MSGD_PORT=$port
	expect_eq "$(printf 'hi\n' | ask)" "Hello, client!" "activated TCP reply"
	msgd_wait_started "$MSGD_LOG" "$MSGD_PID"
	$PORTS "$MSGD_PORT" 20 "$MSGD_PID" > "$T/out" || fail "udpports.py"
	expect_eq "$(field sockets)" 2 "UDP sockets with -t 2, activated"
	expect_eq "$(field replies)" 20 "activated UDP replies"
	msgd_stop
fi
pass "UDP on every worker, shared rate limit, --udp-rcvbuf, failed replies"
