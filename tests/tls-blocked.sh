#!/bin/sh
# tls-blocked.sh - a TLS handshake whose server flight the socket does not
# take (a 90 kB certificate, a 4 KiB send buffer on the listener, a
# client with a 4 KiB receive buffer that reads nothing for 3 s) waits
# for the socket without spinning, although the client's next record
# keeps msgd's socket readable all along: at most 30 ticks (0.3 s) of
# msgd CPU over the stall (a spinning loop burns most of the 3 s); then
# the client reads, the handshake finishes and the line is answered.
# The small send buffer is the listener's, set before msgd gets it by
# socket activation (tests/activate.py --sndbuf, as systemd's
# SendBuffer=): over loopback the kernel grows an unset one to megabytes.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need_tls
need python3
[ "${MSGD_HAVE_SYSTEMD:-yes}" = yes ] ||
    skip "built without systemd: no socket activation"
slow=1
[ -z "${MSGD_SANITIZED:-}" ] || slow=4
TLSPY="python3 -W ignore ${top_srcdir:-..}/tests/tls.py"

# A certificate of about 90 kB: 4,000 names (a client takes up to 100 kB).
san=$(awk 'BEGIN { for (i = 0; i < 4000; i++)
    printf "%sDNS:host%d.msgd.example", (i ? "," : ""), i }')
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -days 2 -subj /CN=localhost -addext "subjectAltName=$san" \
    -keyout "$T/big.key" -out "$T/big.crt" 2> "$T/req.err" ||
    fail "openssl req: $(cat "$T/req.err")"

MSGD_LOG=$T/msgd.log
: > "$MSGD_LOG"
mkfifo "$T/activate.in"
python3 "${top_srcdir:-..}/tests/activate.py" --sndbuf 4096 "$MSGD" \
    --tls-cert "$T/big.crt" --tls-key "$T/big.key" -L "$MSGD_LOG" \
    < "$T/activate.in" > "$T/activate.out" 2> "$T/activate.err" &
APID=$!
track "$APID"
exec 8> "$T/activate.in"
wait_for $((10 * slow)) grep -q 'started: listening' "$MSGD_LOG" ||
    fail "msgd did not start: $(cat "$T/activate.err")"
port=$(sed -n 's/^port //p' "$T/activate.out")
pid=$(sed -n 's/^started //p' "$T/activate.out")

$TLSPY stall "$port" 3 > "$T/stall.out" 2>&1 &
CPID=$!
track "$CPID"
wait_for 10 grep -q '^stalled' "$T/stall.out" ||
    fail "the client did not start: $(cat "$T/stall.out")"
t0=$(cpu_ticks "$pid")
wait "$CPID" || fail "the client failed: $(cat "$T/stall.out")"
t1=$(cpu_ticks "$pid")
expect_eq "$(tail -n 1 "$T/stall.out")" "Hello, client!" \
    "reply after the blocked handshake"
[ $((t1 - t0)) -le $((30 * slow)) ] ||
    fail "msgd used $((t1 - t0)) ticks while its handshake waited to write"
exec 8>&-
wait "$APID" || fail "activate.py failed: $(cat "$T/activate.err")"
pass "a blocked handshake waited ($((t1 - t0)) ticks) and finished"
