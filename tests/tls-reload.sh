#!/bin/sh
# tls-reload.sh - SIGHUP reloads --tls-cert and --tls-key: a new
# connection gets the new certificate, an open -k connection goes on with
# the old one; a broken or missing file keeps the old certificate and the
# log says why.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need_tls
TLSPY="python3 -W ignore ${top_srcdir:-..}/tests/tls.py"
tls_cert a
tls_cert b
fp() { openssl x509 -in "$T/$1.crt" -outform der | sha256sum | cut -d' ' -f1; }
cp "$T/a.crt" "$T/cur.crt"
cp "$T/a.key" "$T/cur.key"

msgd_start -k --tls-cert "$T/cur.crt" --tls-key "$T/cur.key"
expect_eq "$($TLSPY fingerprint "$MSGD_PORT")" "$(fp a)" "first certificate"

# An open connection, answered once.
mkfifo "$T/keep.in"
$TLSPY client "$MSGD_PORT" --keep < "$T/keep.in" > "$T/keep.out" &
kpid=$!
track "$kpid"
exec 7> "$T/keep.in"
wait_for 10 grep -q 'Hello, client!' "$T/keep.out" || fail "no first reply"

cp "$T/b.crt" "$T/cur.crt"
cp "$T/b.key" "$T/cur.key"
kill -HUP "$MSGD_PID"
wait_for 10 grep -q 'SIGHUP: TLS certificate and key reloaded' "$MSGD_LOG" ||
    fail "reload not logged"
expect_eq "$($TLSPY fingerprint "$MSGD_PORT")" "$(fp b)" "reloaded certificate"
echo >&7
wait_for 10 sh -c "[ \$(grep -c 'Hello, client!' '$T/keep.out') -eq 2 ]" ||
    fail "the open connection was not answered after the reload"
exec 7>&-
wait "$kpid" || fail "the open connection failed: $(cat "$T/keep.out")"

# A broken certificate, then a missing key: the old one stays.
echo junk > "$T/cur.crt"
kill -HUP "$MSGD_PID"
wait_for 10 grep -q "SIGHUP: keeping the old TLS certificate: cannot load --tls-cert $T/cur.crt: no start line" \
    "$MSGD_LOG" || fail "broken certificate not logged"
expect_eq "$($TLSPY fingerprint "$MSGD_PORT")" "$(fp b)" "after a bad file"
cp "$T/a.crt" "$T/cur.crt"
rm "$T/cur.key"
kill -HUP "$MSGD_PID"
wait_for 10 grep -q "keeping the old TLS certificate: cannot read --tls-key $T/cur.key" \
    "$MSGD_LOG" || fail "missing key not logged"
expect_eq "$($TLSPY fingerprint "$MSGD_PORT")" "$(fp b)" "after a missing key"
msgd_stop
pass "SIGHUP reloads the certificate; open connections and bad files keep theirs"
