#!/bin/sh
# tls-client-ca.sh - --tls-client-ca: a client without a certificate, or
# with one the CA did not sign, is refused (logged, counted); one with a
# signed certificate is answered and its subject is in the -vv log.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need_tls
need curl
TLSPY="python3 -W ignore ${top_srcdir:-..}/tests/tls.py"
tls_cert server
tls_cert ca "msgd test CA"
tls_cert stranger "stranger"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/CN=msgd-test-client" -keyout "$T/client.key" \
    -out "$T/client.csr" 2>/dev/null || fail "client request"
openssl x509 -req -in "$T/client.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" \
    -CAcreateserial -days 2 -out "$T/client.crt" 2>/dev/null ||
    fail "client certificate"

msgd_start -vv --tls-cert "$T/server.crt" --tls-key "$T/server.key" \
    --tls-client-ca "$T/ca.crt" --metrics 0
metrics_port
got=$($TLSPY client "$MSGD_PORT")
case $got in
*Hello*) fail "answered without a client certificate" ;;
esac
got=$($TLSPY client "$MSGD_PORT" --cert "$T/stranger.crt" \
    --key "$T/stranger.key")
case $got in
*Hello*) fail "answered with an unsigned client certificate" ;;
esac
got=$($TLSPY client "$MSGD_PORT" --cert "$T/client.crt" --key "$T/client.key")
expect_eq "$got" "Hello, client!" "reply with a signed client certificate"
wait_for 5 grep -q 'client certificate /CN=msgd-test-client' "$MSGD_LOG" ||
    fail "client certificate subject not logged"
wait_for 5 sh -c "[ \$(grep -c 'TLS handshake failed' '$MSGD_LOG') -eq 2 ]" ||
    fail "refused handshakes not logged"
grep -q 'TLS handshake failed: peer did not return a certificate' \
    "$MSGD_LOG" || fail "missing certificate not logged as such"
curl -sf "http://127.0.0.1:$MPORT/metrics" |
    grep -q '^msgd_tls_handshake_failures_total{reason="error"} 2$' ||
    fail "refused handshakes not counted"
msgd_stop
pass "client certificates required and verified; subject logged"
