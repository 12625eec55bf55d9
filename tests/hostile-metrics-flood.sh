#!/bin/sh
# hostile-metrics-flood.sh - the metrics port cannot hurt the message
# port.  msgd -c 200 under a descriptor limit of 300 (soft and hard), and
# 400 connections to --metrics that trickle a header byte a second: msgd
# keeps 16 (METRICS_MAX_CONNS) and closes the others at once; it closes
# the 16 when their 5 s (METRICS_TIMEOUT_SECS) from accept are up although
# they keep sending; the message port answers 7 clients of 7 meanwhile;
# the log grows by a line or two at most; the counters say what happened,
# and a scrape works afterwards.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need nc
need curl
need python3
need prlimit

slow=1
[ -z "${MSGD_SANITIZED:-}" ] || slow=4
N=400
cat > "$T/limited" <<EOS
#!/bin/sh
exec prlimit --nofile=300:300 -- "$MSGD" "\$@"
EOS
chmod +x "$T/limited"
REAL=$MSGD
MSGD=$T/limited
msgd_start -c 200 -l 127.0.0.1 --metrics 127.0.0.1:0
MSGD=$REAL
metrics_port
lines0=$(wc -l < "$MSGD_LOG")

python3 "${top_srcdir:-..}/tests/http-flood.py" "$MPORT" $N \
    $((5 + 4 * slow)) > "$T/flood.out" &
FLOOD_PID=$!
track "$FLOOD_PID"
wait_for $((20 * slow)) grep -q '^connected' "$T/flood.out" ||
    fail "the flood could not connect: $(cat "$T/flood.out")"

# While the flood trickles: the message port answers every client, and
# at once (under a flood that has taken every descriptor, a client waits
# until the flood ends).
i=0
while [ $i -lt 7 ]; do
	got=$(printf 'hi\n' | timeout $((3 * slow)) nc 127.0.0.1 "$MSGD_PORT")
	expect_eq "$got" "Hello, client!" \
	    "message-port client $((i + 1)) of 7 during the flood"
	i=$((i + 1))
done
wait "$FLOOD_PID" || fail "http-flood.py failed: $(cat "$T/flood.out")"
out() { awk -v k="$1" '$1 == k { print $2 }' "$T/flood.out"; }
echo "flood: $(tr '\n' ' ' < "$T/flood.out")"
expect_eq "$(out open)" 0 "metrics connections still open at the end"
[ "$(out bounded)" -ge 1 ] && [ "$(out bounded)" -le 16 ] ||
    fail "$(out bounded) metrics connections kept (cap 16)"
expect_eq $(($(out refused) + $(out bounded))) $N "connections closed"
# The others at once (the flood notices after its last connect).
awk -v r="$(out slowest)" -v s=$slow 'BEGIN { exit !(r <= 2 * s) }' ||
    fail "refused connections closed up to $(out slowest) s after connect"
# Closed at the bound, not before it, not long after, though trickling.
awk -v f="$(out first)" -v l="$(out last)" -v s=$slow \
    'BEGIN { exit !(f >= 4.5 && l <= 5 + 2 * s) }' ||
    fail "kept connections closed $(out first)-$(out last) s after connect"
[ "$(out trickled)" -ge 4 ] ||
    fail "a kept connection sent only $(out trickled) bytes before its close"

grown=$(($(wc -l < "$MSGD_LOG") - lines0))
[ "$grown" -le 2 ] || fail "the log grew by $grown lines"

# Afterwards a scrape works, and counts what happened.
refused=$(metric metrics_connections_refused_total)
timed_out=$(metric metrics_connections_timed_out_total)
expect_eq "$refused" "$(out refused)" "msgd_metrics_connections_refused_total"
expect_eq "$timed_out" "$(out bounded)" \
    "msgd_metrics_connections_timed_out_total"
expect_eq "$(printf 'hi\n' | ask)" "Hello, client!" "reply after the flood"
msgd_stop
pass "$(out bounded) of $N trickling metrics connections kept, closed at" \
    "$(out first)-$(out last) s, the rest at once; 7 of 7 answered"
