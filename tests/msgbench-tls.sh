#!/bin/sh
# msgbench-tls.sh - msgbench --tls against msgd --tls-cert/--tls-key with
# a self-signed ECDSA P-256 certificate: one-shot (conn) and -k, -k -e
# (ping, pipe).  Every mode with zero errors, a full handshake per
# connection and handshake percentiles in --json; --tls-ca with the right
# CA and name passes; with a wrong CA, or a name the certificate does not
# have, every connection fails verification with the reason; --tls-name
# is sent as SNI (openssl s_server picks its certificate by it); TLS to a
# plaintext msgd fails its handshakes; bad TLS options exit 64 or 66 with
# one line.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC

. "${top_srcdir:-..}/tests/lib.sh"

[ -x "$MSGBENCH" ] || fail "msgbench is not built ($MSGBENCH)"

if [ "${MSGD_HAVE_OPENSSL:-yes}" = no ]; then
	"$MSGBENCH" --tls > "$T/notls.out" 2> "$T/notls.err"
	rc=$?
	expect_eq "$rc" 64 "--tls without OpenSSL: exit status"
	expect_eq "$(wc -l < "$T/notls.err")" 1 "--tls without OpenSSL: lines"
	grep -q 'without OpenSSL' "$T/notls.err" ||
	    fail "--tls without OpenSSL: $(cat "$T/notls.err")"
	skip "built without OpenSSL (--tls refused with exit 64, as it must)"
fi
need openssl

# cert NAME [CN SAN]: a self-signed ECDSA P-256 certificate (by default
# for localhost and 127.0.0.1), its own CA, in $T/NAME.crt and NAME.key.
cert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -days 2 -subj "/CN=${2:-localhost}" \
	    -addext "subjectAltName=${3:-DNS:localhost,IP:127.0.0.1}" \
	    -keyout "$T/$1.key" -out "$T/$1.crt" 2> "$T/$1.openssl" ||
	    fail "openssl req: $(cat "$T/$1.openssl")"
}

# bench NAME ARGS...: msgbench --tls --json, bounded in time; its exit
# status in $rc, its JSON line in $T/NAME.json, its stderr in $T/NAME.err.
bench() {
	local name="$1"
	shift
	timeout 60 "$MSGBENCH" --tls --json -H 127.0.0.1 -p "${PORT:-$MSGD_PORT}" -t 10 \
	    "$@" > "$T/$name.json" 2> "$T/$name.err"
	rc=$?
	[ "$(wc -l < "$T/$name.json")" -eq 1 ] ||
	    fail "$name: expected one JSON line, got: $(cat "$T/$name.json")"
}

# bench_ok NAME ARGS...: exit 0, some messages, as many handshakes as
# connections, no errors, nothing lost, handshake percentiles above 0.
bench_ok() {
	local name="$1" messages hs k v
	bench "$@"
	[ "$rc" -eq 0 ] || fail "$name: exit status $rc: $(cat "$T/$name.err")"
	messages=$(json_get messages "$T/$name.json")
	[ "${messages:-0}" -gt 0 ] ||
	    fail "$name: no messages: $(cat "$T/$name.json")"
	expect_eq "$(json_get errors "$T/$name.json")" 0 "$name: errors"
	expect_eq "$(json_get tls "$T/$name.json")" 0 "$name: tls errors"
	expect_eq "$(json_get lost "$T/$name.json")" 0 "$name: lost"
	[ -s "$T/$name.err" ] && fail "$name: stderr: $(cat "$T/$name.err")"
	hs=$(json_get handshakes "$T/$name.json")
	[ "${hs:-0}" -gt 0 ] || fail "$name: no handshakes: $(cat "$T/$name.json")"
	for k in p50 p90 p99 p999 max; do
		v=$(json_get "handshake_${k}_us" "$T/$name.json")
		[ -n "$v" ] || fail "$name: no handshake_${k}_us in the JSON"
		awk -v v="$v" 'BEGIN { exit !(v > 0) }' ||
		    fail "$name: handshake_${k}_us is $v"
	done
	pass "$name: $messages messages, $hs handshakes, p50 \
$(json_get handshake_p50_us "$T/$name.json") us"
}

cert server
cert other
cert sni other.example DNS:other.example

TLS="--tls-cert $T/server.crt --tls-key $T/server.key"
PORT=

# conn: one-shot msgd, which closes after its reply; a full handshake each.
# shellcheck disable=SC2086
msgd_start $TLS
bench_ok conn conn -c 3 -d 1
bench_ok conn-one conn -c 1 -n 10
expect_eq "$(json_get handshakes "$T/conn-one.json")" 10 \
    "conn -c 1 -n 10: a full handshake each"
bench_ok conn-ca conn -c 2 -n 10 --tls-ca "$T/server.crt"
bench_ok conn-name conn -c 2 -n 10 --tls-ca "$T/server.crt" \
    --tls-name localhost
msgd_stop

# ping and pipe: persistent connections, the fixed reply and echoes.
# shellcheck disable=SC2086
msgd_start $TLS -k
bench_ok ping ping -c 3 -d 1
expect_eq "$(json_get handshakes "$T/ping.json")" 3 "ping: handshakes"
bench_ok pipe pipe -c 2 -D 8 -n 2000
expect_eq "$(json_get messages "$T/pipe.json")" 2000 "pipe -n 2000"
bench_ok ping-ca ping -c 2 -n 20 --tls-ca "$T/server.crt"

# The table has a handshake line.
timeout 60 "$MSGBENCH" --tls ping -H 127.0.0.1 -p "$MSGD_PORT" -c 1 -n 3 \
    > "$T/table.out" 2> "$T/table.err" ||
    fail "table: exit status $?: $(cat "$T/table.err")"
grep -q '^handshake  *1 in all: p50 [0-9.]* us, p90 [0-9.]* us, p99 [0-9.]* us' \
    "$T/table.out" || fail "table: $(cat "$T/table.out")"
pass "the table has the handshake percentiles"

# A wrong CA, or the right CA and a name not in the certificate: every
# connection fails verification, with the reason; exit 1.
bench wrong-ca ping -c 1 -n 4 --tls-ca "$T/other.crt"
[ "$rc" -eq 1 ] || fail "wrong CA: exit status $rc, expected 1"
expect_eq "$(json_get tls "$T/wrong-ca.json")" 4 "wrong CA: tls errors"
expect_eq "$(json_get messages "$T/wrong-ca.json")" 0 "wrong CA: messages"
expect_eq "$(json_get handshakes "$T/wrong-ca.json")" 0 "wrong CA: handshakes"
grep -q 'TLS handshake failed: certificate verify failed (self.signed certificate)' \
    "$T/wrong-ca.err" || fail "wrong CA: stderr: $(cat "$T/wrong-ca.err")"
pass "wrong CA: every connection fails verification, reason shown"

bench wrong-name ping -c 1 -n 3 --tls-ca "$T/server.crt" \
    --tls-name www.example.org
[ "$rc" -eq 1 ] || fail "wrong name: exit status $rc, expected 1"
expect_eq "$(json_get tls "$T/wrong-name.json")" 3 "wrong name: tls errors"
grep -q 'TLS handshake failed: certificate verify failed (hostname mismatch)' \
    "$T/wrong-name.err" || fail "wrong name: stderr: $(cat "$T/wrong-name.err")"
pass "a name not in the certificate: verification fails, reason shown"
msgd_stop

# shellcheck disable=SC2086
msgd_start $TLS -k -e
bench_ok echo-ping ping --echo -m 'echo me, please' -c 2 -d 0.5
bench_ok echo-pipe pipe --echo -m 'x' -c 2 -D 32 -n 3000
msgd_stop

# SNI: openssl s_server presents the sni certificate only to a client
# that names other.example, else the server one; verifying against the
# sni certificate passes only if msgbench sent the name.  -rev answers a
# line reversed.
openssl s_server -accept 127.0.0.1:0 -cert "$T/server.crt" \
    -key "$T/server.key" -servername other.example -cert2 "$T/sni.crt" \
    -key2 "$T/sni.key" -rev -naccept 1 > "$T/s_server.out" 2>&1 &
track $!
wait_for 10 grep -q '^ACCEPT' "$T/s_server.out" ||
    fail "openssl s_server did not start: $(cat "$T/s_server.out")"
PORT=$(sed -n 's/^ACCEPT 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/s_server.out")
bench sni ping -c 1 -n 1 -m 'sent as SNI' --expect 'INS sa tnes' \
    --tls-ca "$T/sni.crt" --tls-name other.example
[ "$rc" -eq 0 ] || fail "SNI: exit status $rc: $(cat "$T/sni.err")"
expect_eq "$(json_get messages "$T/sni.json")" 1 "SNI: messages"
pass "--tls-name is sent as SNI and verified"

# TLS to a plaintext msgd: a handshake failure, not a hang.
msgd_start
PORT=$MSGD_PORT
bench plain conn -c 1 -n 2
[ "$rc" -eq 1 ] || fail "TLS to plaintext: exit status $rc, expected 1"
expect_eq "$(json_get tls "$T/plain.json")" 2 "TLS to plaintext: tls errors"
grep -q 'TLS handshake failed' "$T/plain.err" ||
    fail "TLS to plaintext: stderr: $(cat "$T/plain.err")"
pass "TLS to a plaintext server: handshake failures, exit 1"
msgd_stop

# Bad TLS options: one line, exit 64 (usage) or 66 (no such CA file).
for args in "--tls-ca $T/server.crt" "--tls-name localhost" \
    "--tls --tls-name -bad-"; do
	# shellcheck disable=SC2086
	"$MSGBENCH" $args > "$T/usage.out" 2> "$T/usage.err"
	rc=$?
	[ "$rc" -eq 64 ] || fail "msgbench $args: exit status $rc, expected 64"
	expect_eq "$(wc -l < "$T/usage.err")" 1 "msgbench $args: stderr lines"
done
"$MSGBENCH" --tls --tls-ca "$T/nonexistent.crt" -n 1 \
    > "$T/noca.out" 2> "$T/noca.err"
rc=$?
expect_eq "$rc" 66 "--tls-ca of a missing file: exit status"
expect_eq "$(wc -l < "$T/noca.err")" 1 "--tls-ca of a missing file: lines"
grep -q "nonexistent.crt" "$T/noca.err" ||
    fail "--tls-ca of a missing file: $(cat "$T/noca.err")"
pass "bad TLS options: exit 64, a missing CA file: exit 66"
