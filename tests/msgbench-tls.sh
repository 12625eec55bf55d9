#!/bin/sh
# msgbench-tls.sh - msgbench --tls against a real TLS server: ncat --ssl
# with a self-signed ECDSA P-256 certificate, echoing (ping, pipe) or
# answering one line and closing (conn).  Every mode with zero errors and
# handshake percentiles in --json; --tls-ca with the right CA and name
# passes; with a wrong CA, or a name the certificate does not have, every
# connection fails verification with the reason; bad TLS options exit 64
# or 66 with one line.
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
need ncat
need openssl
need python3

# cert NAME [CN SAN]: a self-signed ECDSA P-256 certificate (by default
# for localhost and 127.0.0.1), its own CA, in $T/NAME.crt and NAME.key.
cert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -days 2 -subj "/CN=${2:-localhost}" \
	    -addext "subjectAltName=${3:-DNS:localhost,IP:127.0.0.1}" \
	    -keyout "$T/$1.key" -out "$T/$1.crt" 2> "$T/$1.openssl" ||
	    fail "openssl req: $(cat "$T/$1.openssl")"
}

# listening PORT: something listens on 127.0.0.1:PORT (from /proc).
listening() {
	awk -v a="$(printf '0100007F:%04X' "$1")" \
	    '$2 == a && $4 == "0A" { found = 1 } END { exit !found }' \
	    /proc/net/tcp
}

# tls_server CMD: ncat --ssl on a free loopback port running the shell
# command CMD for each connection; sets PORT.  A port taken between
# choosing and binding it makes ncat quit: then try another.
tls_server() {
	local pid
	for _ in 1 2 3; do
		PORT=$(python3 -c 'import socket; s = socket.socket(); '\
's.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
		ncat --ssl -l -k 127.0.0.1 "$PORT" --ssl-cert "$T/server.crt" \
		    --ssl-key "$T/server.key" --sh-exec "$1" \
		    2>> "$T/ncat.err" &
		pid=$!
		track "$pid"
		NCAT_PID=$pid
		wait_for 10 eval "listening $PORT || gone $pid"
		alive "$pid" && listening "$PORT" && return 0
	done
	fail "ncat --ssl did not start: $(cat "$T/ncat.err")"
}
tls_server_stop() {
	kill "$NCAT_PID"
	wait "$NCAT_PID" 2>/dev/null
}

# bench NAME ARGS...: msgbench --tls --json, bounded in time; its exit
# status in $rc, its JSON line in $T/NAME.json, its stderr in $T/NAME.err.
bench() {
	local name="$1"
	shift
	timeout 60 "$MSGBENCH" --tls --json -H 127.0.0.1 -p "$PORT" -t 10 \
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

# conn: one line answered, then the server closes; a full handshake each.
tls_server 'head -n 1'
bench_ok conn conn --echo -c 3 -d 1
bench_ok conn-one conn --echo -c 1 -n 10
expect_eq "$(json_get handshakes "$T/conn-one.json")" 10 \
    "conn -c 1 -n 10: a full handshake each"
bench_ok conn-ca conn --echo -c 2 -n 10 --tls-ca "$T/server.crt"
bench_ok conn-name conn --echo -c 2 -n 10 --tls-ca "$T/server.crt" \
    --tls-name localhost
tls_server_stop

# ping and pipe: an echo server, persistent connections.
tls_server cat
bench_ok ping ping --echo -c 3 -d 1
expect_eq "$(json_get handshakes "$T/ping.json")" 3 "ping: handshakes"
bench_ok pipe pipe --echo -c 2 -D 8 -n 2000
expect_eq "$(json_get messages "$T/pipe.json")" 2000 "pipe -n 2000"
bench_ok ping-ca ping --echo -c 2 -n 20 --tls-ca "$T/server.crt"

# The table has a handshake line.
timeout 60 "$MSGBENCH" --tls ping --echo -H 127.0.0.1 -p "$PORT" -c 1 -n 3 \
    > "$T/table.out" 2> "$T/table.err" ||
    fail "table: exit status $?: $(cat "$T/table.err")"
grep -q '^handshake  *1 in all: p50 [0-9.]* us, p90 [0-9.]* us, p99 [0-9.]* us' \
    "$T/table.out" || fail "table: $(cat "$T/table.out")"
pass "the table has the handshake percentiles"

# A wrong CA, or the right CA and a name not in the certificate: every
# connection fails verification, with the reason; exit 1.
bench wrong-ca ping --echo -c 1 -n 4 --tls-ca "$T/other.crt"
[ "$rc" -eq 1 ] || fail "wrong CA: exit status $rc, expected 1"
expect_eq "$(json_get tls "$T/wrong-ca.json")" 4 "wrong CA: tls errors"
expect_eq "$(json_get messages "$T/wrong-ca.json")" 0 "wrong CA: messages"
expect_eq "$(json_get handshakes "$T/wrong-ca.json")" 0 "wrong CA: handshakes"
grep -q 'TLS handshake failed: certificate verify failed (self.signed certificate)' \
    "$T/wrong-ca.err" || fail "wrong CA: stderr: $(cat "$T/wrong-ca.err")"
pass "wrong CA: every connection fails verification, reason shown"

bench wrong-name ping --echo -c 1 -n 3 --tls-ca "$T/server.crt" \
    --tls-name www.example.org
[ "$rc" -eq 1 ] || fail "wrong name: exit status $rc, expected 1"
expect_eq "$(json_get tls "$T/wrong-name.json")" 3 "wrong name: tls errors"
grep -q 'TLS handshake failed: certificate verify failed (hostname mismatch)' \
    "$T/wrong-name.err" || fail "wrong name: stderr: $(cat "$T/wrong-name.err")"
pass "a name not in the certificate: verification fails, reason shown"
tls_server_stop

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

# TLS to a plaintext server: a handshake failure, not a hang.
python3 -c '
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    c.sendall(b"Hello, client!\n")
    c.close()
' > "$T/plain.port" &
track $!
wait_for 10 test -s "$T/plain.port" || fail "the plaintext server did not start"
PORT=$(cat "$T/plain.port")
bench plain conn -c 1 -n 2
[ "$rc" -eq 1 ] || fail "TLS to plaintext: exit status $rc, expected 1"
expect_eq "$(json_get tls "$T/plain.json")" 2 "TLS to plaintext: tls errors"
grep -q 'TLS handshake failed' "$T/plain.err" ||
    fail "TLS to plaintext: stderr: $(cat "$T/plain.err")"
pass "TLS to a plaintext server: handshake failures, exit 1"

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
