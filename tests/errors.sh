#!/bin/sh
# errors.sh - bad input: one clear line on stderr and the sysexits status.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need nc

# expect_usage_error 'FRAGMENT' ARGS...: exit 64, one stderr line with it.
expect_usage_error() {
	frag=$1
	shift
	"$MSGD" "$@" > "$T/out" 2> "$T/err"
	rc=$?
	expect_eq "$rc" "64" "exit status of msgd $*"
	[ ! -s "$T/out" ] || fail "msgd $* wrote to stdout"
	expect_eq "$(wc -l < "$T/err")" "1" "stderr lines of msgd $*"
	grep -qF -- "$frag" "$T/err" ||
	    fail "msgd $*: '$frag' not in: $(cat "$T/err")"
	grep -q '^msgd: ' "$T/err" || fail "msgd $*: no 'msgd:' prefix"
}

expect_usage_error "invalid --port '70000'" -p 70000
expect_usage_error "invalid --port 'http'" -p http
expect_usage_error "invalid --port '-1'" --port=-1
expect_usage_error "option '--help' takes no value" --help=x
expect_usage_error "unknown option '--frobnicate'" --frobnicate
expect_usage_error "unknown option '-z'" -z
expect_usage_error "invalid --listen address 'nowhere'" -l nowhere
expect_usage_error "invalid --max-conns '-3'" -c -3
expect_usage_error "invalid --max-message '0'" -M 0
expect_usage_error "invalid --idle-timeout '-1'" -i -1
expect_usage_error "needs a value" -m
expect_usage_error "unexpected argument 'now'" now

# --help and --version: stdout, exit 0.
"$MSGD" --help > "$T/out" 2> "$T/err" || fail "--help exit status"
grep -q '^Usage: msgd' "$T/out" || fail "--help text"
help_layout "$T/out" || fail "--help: an option line help2man would misread"
[ ! -s "$T/err" ] || fail "--help wrote to stderr"
"$MSGD" --version > "$T/out" || fail "--version exit status"
grep -q '^msgd [0-9]' "$T/out" || fail "--version text"

# A port in use: the reason on stderr, EX_UNAVAILABLE (69).
msgd_start
"$MSGD" -l 127.0.0.1 -p "$MSGD_PORT" > "$T/out" 2> "$T/err"
expect_eq "$?" "69" "exit status when the port is in use"
grep -qF "msgd: cannot listen on 127.0.0.1:$MSGD_PORT: Address already in use" \
    "$T/err" || fail "port in use message: $(cat "$T/err")"
expect_eq "$(wc -l < "$T/err")" "1" "stderr lines for a port in use"
# The first instance is undisturbed.
expect_eq "$(printf 'hi\n' | ask)" "Hello, client!" "reply after the clash"
msgd_stop

# An address this host does not have.
"$MSGD" -l 192.0.2.1 -p 0 2> "$T/err"
expect_eq "$?" "69" "exit status for an unavailable address"
grep -q 'cannot listen on 192.0.2.1:0: Cannot assign requested address' \
    "$T/err" || fail "unavailable address message: $(cat "$T/err")"

# A log file that cannot be created: EX_CANTCREAT (73).
"$MSGD" -p 0 -L "$T/no/such/dir/log" 2> "$T/err"
expect_eq "$?" "73" "exit status for an unwritable log file"
grep -q 'cannot open log file' "$T/err" || fail "log file message"
# TLS: both files or neither; then a missing file (EX_NOINPUT, 66) or a
# bad one (EX_CONFIG, 78) is one line naming it; built without OpenSSL,
# the options are still known but refused (EX_CONFIG).
expect_usage_error "--tls-cert and --tls-key go together" --tls-cert x.pem
expect_usage_error "--tls-client-ca needs --tls-cert" --tls-client-ca ca.pem
echo junk > "$T/junk.pem"
if [ "${MSGD_HAVE_OPENSSL:-yes}" = yes ]; then
	"$MSGD" -p 0 --tls-cert "$T/none.pem" --tls-key "$T/junk.pem" \
	    2> "$T/err"
	expect_eq "$?" "66" "exit status for a missing --tls-cert"
	grep -q "cannot read --tls-cert $T/none.pem: No such file" "$T/err" ||
	    fail "missing --tls-cert message: $(cat "$T/err")"
	"$MSGD" -p 0 --tls-cert "$T/junk.pem" --tls-key "$T/junk.pem" \
	    2> "$T/err"
	expect_eq "$?" "78" "exit status for a bad --tls-cert"
	grep -q "cannot load --tls-cert $T/junk.pem: no start line" \
	    "$T/err" || fail "bad --tls-cert message: $(cat "$T/err")"
else
	"$MSGD" -p 0 --tls-cert "$T/junk.pem" --tls-key "$T/junk.pem" \
	    2> "$T/err"
	expect_eq "$?" "78" "exit status for TLS without OpenSSL"
	expect_eq "$(cat "$T/err")" \
	    "msgd: msgd was built without TLS (--without-openssl)" \
	    "TLS without OpenSSL"
fi
pass "usage and start-up errors"
