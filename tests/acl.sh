#!/bin/sh
# acl.sh - --allow and --deny: clients from 127.0.0.x and ::1 sources.
# An allowed client gets its reply; a denied one is closed at once with
# no byte sent (EOF, or a reset for the line it sent), counted under
# msgd_connections_refused_total{reason="denied"}, and not accepted.  The
# first rule that matches decides; with no match a client is denied if
# any --allow is given, else allowed.  IPv6 rules decide for ::1.  With
# --proxy-protocol the header's address decides (a header without one:
# the peer's).  --udp datagrams from a denied source get no reply and are
# counted.  With -t 4 the workers' counts add up.  A flood of denied
# clients gets no more log lines than the limiter allows, and every one
# is accounted for.  A bad rule is one usage error (exit 64).
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need nc
need python3
need curl

HELLO="Hello, client!"

have_ipv6() {
	python3 -c 'import socket
socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null
}
V6=
if have_ipv6; then
	V6=yes
	LISTEN="-l 127.0.0.1 -l ::1"
else
	echo "no IPv6 on this host: ::1 not tried"
	LISTEN="-l 127.0.0.1"
fi

# sample NAME: the value of the sample NAME (with its labels) in /metrics.
sample() {
	curl -sf --max-time 5 "http://127.0.0.1:$MPORT/metrics" |
	    awk -v n="$1" '$1 == n { print $2 }'
}
denied_count() {
	sample 'msgd_connections_refused_total{reason="denied"}'
}
# from SRC [DST [LINE]]: the reply to LINE (default "hi") from SRC to DST
# (default 127.0.0.1).  msgd answers one line and closes, or closes a
# denied client at once: either way nc ends well within the timeout.
from() {
	local out rc
	out=$(printf '%s\n' "${3:-hi}" |
	    timeout 10 nc -s "$1" "${2:-127.0.0.1}" "$MSGD_PORT" 2>/dev/null)
	rc=$?
	[ $rc -ne 124 ] || fail "a client from $1 was left open"
	printf '%s' "$out"
}
# allowed SRC [DST]: SRC gets its reply.
allowed() {
	expect_eq "$(from "$@")" "$HELLO" "a client from $1"
}
# denied SRC [DST [LINE]]: SRC is closed without a byte.
denied() {
	expect_eq "$(from "$@")" "" "a denied client from $1"
}
# proxied HEADER-ARGS... [-s SRC]: one line behind a v1 PROXY header
# "PROXY HEADER-ARGS", from SRC (default 127.0.0.1).
proxied() {
	local src=127.0.0.1
	if [ "$1" = -s ]; then
		src=$2
		shift 2
	fi
	from "$src" 127.0.0.1 "$(printf 'PROXY %s\r\nhi' "$*")"
}

# 1. --allow: the first match decides; no match is denied.  127.0.0.3 is
# in the allowed /30 but denied first; 127.0.0.5 matches no rule.
t0=$(date +%s)
msgd_start $LISTEN --deny 127.0.0.3 --allow 127.0.0.0/30 --allow ::1 \
    --metrics 0
metrics_port
allowed 127.0.0.1
allowed 127.0.0.2
denied 127.0.0.3
denied 127.0.0.5
n=2
if [ -n "$V6" ]; then
	allowed ::1 ::1
fi
grep -q 'denied a connection: 127.0.0.3 matches --deny 127.0.0.3' \
    "$MSGD_LOG" || fail "no log line for the denied 127.0.0.3"
grep -q 'denied a connection: 127.0.0.5 matches no --allow' \
    "$MSGD_LOG" || fail "no log line for the denied 127.0.0.5"
expect_eq "$(denied_count)" $n "refused{denied} after 2 denied clients"
expect_eq "$(sample msgd_connections_accepted_total)" $((5 - n)) \
    "connections accepted (the denied are not)"
expect_eq "$(sample 'msgd_connections_refused_total{reason="busy"}')" 0 \
    "refused busy"

# A flood of denied clients: each closed without a byte, every one
# counted, and the log gets at most the limiter's 5 lines a kind per
# 10-s window, the rest counted in a line at the latest when msgd stops.
FLOOD=60
python3 - "$MSGD_PORT" $FLOOD > "$T/flood" <<'EOF'
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
got = 0
for _ in range(n):
    s = socket.socket()
    s.settimeout(10)
    s.bind(("127.0.0.3", 0))
    s.connect(("127.0.0.1", port))
    try:
        while True:
            b = s.recv(4096)
            if not b:
                break
            got += len(b)
    except ConnectionResetError:
        pass
    s.close()
print("bytes", got)
EOF
expect_eq "$(cat "$T/flood")" "bytes 0" "bytes sent to $FLOOD denied clients"
expect_eq "$(denied_count)" $((n + FLOOD)) "refused{denied} after the flood"
# 5 lines per 10-s window of the kind (a slow run may see two windows).
windows=$(( ($(date +%s) - t0 + 1) / 10 + 1 ))
written=$(grep -c ']: denied a connection: ' "$MSGD_LOG")
[ "$written" -le $((5 * windows)) ] ||
    fail "$written lines for $((n + FLOOD)) denied clients in $windows" \
	"10-s window(s) (the limit is 5 each)"
msgd_stop
held=$(sed -n 's/.*: \([0-9]*\) more like this in the last [0-9]* s: denied a connection: .*/\1/p' \
    "$MSGD_LOG" | awk '{ s += $1 } END { print s + 0 }')
expect_eq "$((written + held))" $((n + FLOOD)) \
    "denials written ($written) + counted in summaries ($held)"

# 2. Only --deny: no match is allowed; an IPv6 rule denies ::1.
msgd_start $LISTEN --deny 127.0.0.2 --deny ::1/128 --metrics 0
metrics_port
allowed 127.0.0.1
denied 127.0.0.2
allowed 127.0.0.5
n=1
if [ -n "$V6" ]; then
	denied ::1 ::1
	n=2
fi
expect_eq "$(denied_count)" $n "refused{denied} with --deny alone"
msgd_stop

# With -t 4 every worker denies what it accepts, and the counts add up.
msgd_start -l 127.0.0.1 -t 4 --deny 127.0.0.3 --metrics 0
metrics_port
for i in 1 2 3 4 5 6 7 8; do
	denied 127.0.0.3
	allowed 127.0.0.2
done
expect_eq "$(denied_count)" 8 "refused{denied} with -t 4"
expect_eq "$(sample msgd_connections_accepted_total)" 8 \
    "connections accepted with -t 4"
msgd_stop

# 3. --proxy-protocol: the client in the header decides, not the
# balancer (127.0.0.1, which matches no --allow); a header without an
# address leaves it to the balancer's own.
msgd_start -l 127.0.0.1 --proxy-protocol --allow 10.0.0.0/8 \
    --allow 127.0.0.2 --metrics 0
metrics_port
expect_eq "$(proxied TCP4 10.1.2.3 127.0.0.1 40000 5000)" "$HELLO" \
    "PROXY client 10.1.2.3 through 127.0.0.1"
expect_eq "$(proxied TCP4 192.0.2.1 127.0.0.1 40000 5000)" "" \
    "PROXY client 192.0.2.1"
expect_eq "$(proxied TCP6 ::ffff:10.1.2.3 ::1 40000 5000)" "$HELLO" \
    "PROXY client ::ffff:10.1.2.3 (IPv4-mapped)"
expect_eq "$(proxied TCP6 2001:db8::1 ::1 40000 5000)" "" \
    "PROXY client 2001:db8::1"
expect_eq "$(proxied UNKNOWN)" "" "PROXY UNKNOWN through 127.0.0.1"
expect_eq "$(proxied -s 127.0.0.2 UNKNOWN)" "$HELLO" \
    "PROXY UNKNOWN through 127.0.0.2"
grep -q 'denied client 192.0.2.1 matches no --allow' "$MSGD_LOG" ||
    fail "no log line for the denied PROXY client"
expect_eq "$(denied_count)" 3 "refused{denied} after PROXY headers"
expect_eq "$(sample 'msgd_connections_closed_total{reason="denied"}')" 3 \
    "accepted connections closed at their PROXY header"
msgd_stop

# 4. --udp: a datagram from a denied source gets no reply, and is counted.
msgd_start -l 127.0.0.1 -U --deny 127.0.0.2 --metrics 0
metrics_port
python3 "${top_srcdir:-..}/tests/udpflood.py" "$MSGD_PORT" 3 127.0.0.1 \
    > "$T/udp1" || fail "udpflood.py from 127.0.0.1"
expect_eq "$(awk '/^sent/ { print $4 }' "$T/udp1")" 3 \
    "UDP replies to 127.0.0.1"
python3 "${top_srcdir:-..}/tests/udpflood.py" "$MSGD_PORT" 3 127.0.0.2 \
    > "$T/udp2" || fail "udpflood.py from 127.0.0.2"
expect_eq "$(awk '/^sent/ { print $4 }' "$T/udp2")" 0 \
    "UDP replies to the denied 127.0.0.2"
expect_eq "$(sample msgd_udp_denied_total)" 3 "msgd_udp_denied_total"
expect_eq "$(sample msgd_udp_replies_sent_total)" 3 "UDP replies sent"
expect_eq "$(denied_count)" 0 "refused{denied} (TCP) after UDP"
msgd_stop

# 5. A bad rule: one line, exit 64 (EX_USAGE), nothing started.
for bad in '--deny 10.0.0.1/8' '--allow 10.0.0.0/33' '--allow ::/129' \
    '--deny 300.0.0.1' '--allow example.com' '--deny' ; do
	"$MSGD" -p 0 $bad > "$T/out" 2> "$T/err"
	rc=$?
	expect_eq "$rc" 64 "exit status for $bad"
	expect_eq "$(wc -l < "$T/err")" 1 "lines of error for $bad"
	[ ! -s "$T/out" ] || fail "$bad wrote to stdout"
done
"$MSGD" -p 0 --deny 10.0.0.1/8 2>&1 | grep -q \
    "^msgd: invalid --deny '10.0.0.1/8': address bits set past the /8 prefix (the network is 10.0.0.0/8)" ||
    fail "the error for --deny 10.0.0.1/8: $("$MSGD" -p 0 --deny 10.0.0.1/8 2>&1)"
pass "first match, defaults, ::1, PROXY address, UDP, log limit, bad rules"
