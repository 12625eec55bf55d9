#!/bin/sh
# hostile-tls.sh - bad TLS input: plaintext to the TLS port, a truncated
# ClientHello then silence, a connection that sends nothing, one that
# connects and closes, one that resets in the middle of its ClientHello.  Each is closed (the stalled ones within the
# 10-second handshake bound), logged and counted by reason, and msgd's
# descriptors come back to what they were; a real client is still served;
# SIGTERM does not wait for unfinished handshakes.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need_tls
need curl
need nc
TLSPY="python3 -W ignore ${top_srcdir:-..}/tests/tls.py"
tls_cert server
slow=1
[ -z "${MSGD_SANITIZED:-}" ] || slow=2

msgd_start --tls-cert "$T/server.crt" --tls-key "$T/server.key" --metrics 0
metrics_port
base=$(fd_count "$MSGD_PID")

$TLSPY hostile "$MSGD_PORT" $((20 * slow)) > "$T/hostile.out" &
hpid=$!
track "$hpid"
wait_for 10 grep -q '^ready' "$T/hostile.out" || fail "hostile.py not ready"
wait "$hpid" || fail "hostile.py failed"
grep -q '^open' "$T/hostile.out" &&
    fail "connections left open: $(cat "$T/hostile.out")"
for kind in plaintext truncated silent; do
	secs=$(sed -n "s/^closed $kind //p" "$T/hostile.out")
	[ -n "$secs" ] || fail "$kind: not closed: $(cat "$T/hostile.out")"
done
# The stalled ones waited for the bound, not much longer.
for kind in truncated silent; do
	secs=$(sed -n "s/^closed $kind \([0-9]*\).*/\1/p" "$T/hostile.out")
	[ "$secs" -ge 9 ] && [ "$secs" -le $((11 * slow)) ] ||
	    fail "$kind closed after $secs s, not at the 10 s bound"
done
# Connect and close at once; send part of a ClientHello and reset.
nc -z 127.0.0.1 "$MSGD_PORT" || fail "nc -z could not connect"
python3 -c 'import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(bytes.fromhex("16030100"))
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()' "$MSGD_PORT" || fail "could not send the reset"

wait_for 5 sh -c "[ \$(grep -c 'TLS handshake failed: not done in time' \
    '$MSGD_LOG') -eq 2 ]" || fail "timeouts not logged twice"
grep -q 'TLS handshake failed: wrong version number' "$MSGD_LOG" ||
    fail "plaintext not logged"
wait_for 5 grep -q 'TLS handshake failed: the client closed' "$MSGD_LOG" ||
    fail "connect-and-close not logged"
wait_for 5 grep -q 'TLS handshake failed: the client reset' "$MSGD_LOG" ||
    fail "reset not logged as such"
curl -sf "http://127.0.0.1:$MPORT/metrics" > "$T/metrics"
for r in timeout:2 error:1 closed:2; do
	grep -q "^msgd_tls_handshake_failures_total{reason=\"${r%:*}\"} ${r#*:}$" \
	    "$T/metrics" || fail "failures{${r%:*}} not ${r#*:}: $(grep \
	    tls_handshake_failures "$T/metrics")"
done
grep -q '^msgd_connections_closed_total{reason="tls_handshake"} 5$' \
    "$T/metrics" || fail "closed{tls_handshake} not 5"
wait_for 5 sh -c "[ \$(ls /proc/$MSGD_PID/fd | wc -l) -eq $base ]" ||
    fail "descriptors: $(fd_count "$MSGD_PID"), were $base"
got=$($TLSPY client "$MSGD_PORT")
expect_eq "$got" "Hello, client!" "a real client afterwards"
msgd_stop

# SIGTERM with handshakes not done: those connections close at once (no
# 5-s linger after a reply never given), and msgd exits 0.
msgd_start -k --tls-cert "$T/server.crt" --tls-key "$T/server.key"
hold 3
start=$(date +%s%N)
msgd_stop
ms=$((($(date +%s%N) - start) / 1000000))
[ -n "${MSGD_SANITIZED:-}" ] || [ "$ms" -lt 3000 ] ||
    fail "the drain waited $ms ms for unfinished handshakes"
release_hold
pass "plaintext, truncated, stalled, closed handshakes: closed, logged, counted; drained at once"
