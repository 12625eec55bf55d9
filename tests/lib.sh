# lib.sh - shared helpers for msgd's integration tests.  Source it:
#     . "${top_srcdir:-..}/tests/lib.sh"
#
# Every test gets its own temporary directory ($T), starts msgd on a
# kernel-chosen loopback port, waits for it by reading its log (a readiness
# check, not a sleep), and on exit - pass or fail - stops every process it
# started, by PID.  Nothing here talks to anything but loopback.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC

set -u

# make check sets both; by hand, the programs of an in-tree build.
MSGD=${MSGD:-$(cd "$(dirname "$0")/.." && pwd)/src/msgd}
MSGBENCH=${MSGBENCH:-$(cd "$(dirname "$0")/.." && pwd)/src/msgbench/msgbench}
T=$(mktemp -d "${TMPDIR:-/tmp}/msgd-test.XXXXXX")
TEST_NAME=$(basename "$0" .sh)
_PIDS=""

# Remember a PID so that cleanup stops it.
track() { _PIDS="$_PIDS $1"; }

cleanup() {
	local p
	for p in $_PIDS; do
		kill "$p" 2>/dev/null
	done
	for p in $_PIDS; do
		# wait only works for our own children; poll for the rest.
		wait_gone "$p" 5 || kill -9 "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: $TEST_NAME: $*" >&2
	if [ -n "${MSGD_LOG:-}" ] && [ -f "$MSGD_LOG" ]; then
		echo "--- last lines of the msgd log:" >&2
		tail -n 20 "$MSGD_LOG" >&2
	fi
	exit 1
}

pass() { echo "PASS: $TEST_NAME: $*"; }

skip() { echo "SKIP: $TEST_NAME: $*"; exit 77; }

need() {
	command -v "$1" >/dev/null 2>&1 || skip "$1 is not installed"
}

# wait_for SECONDS CMD...: poll CMD every 20 ms until it succeeds.
wait_for() {
	local limit=$(( $1 * 50 )) i=0
	shift
	while ! "$@"; do
		i=$((i + 1))
		[ "$i" -ge "$limit" ] && return 1
		sleep 0.02
	done
	return 0
}

# msgd_upgrade PID SECS [LOG]: SIGUSR2 to msgd PID, and wait until it
# logs (in LOG, by default $MSGD_LOG) that its successor serves; NEW is
# the successor's PID, tracked.
msgd_upgrade() {
	local log="${3:-$MSGD_LOG}"
	kill -USR2 "$1" || fail "msgd $1 is gone"
	wait_for "$2" grep -q "msgd\[$1\]: SIGUSR2: the new msgd (pid [0-9]*) \
serves" "$log" || MSGD_LOG=$log fail "no upgrade of msgd $1"
	NEW=$(sed -n "s/.*msgd\[$1\]: SIGUSR2: the new msgd (pid \([0-9]*\)) \
serves.*/\1/p" "$log")
	track "$NEW"
}
alive() { kill -0 "$1" 2>/dev/null; }
# A TCP socket listens on 127.0.0.1:$1: asked of the kernel, not by
# connecting, which a proxy would pass on to its backend.
listening() { ss -Hltn "sport = :$1" | grep -q .; }
gone() { ! kill -0 "$1" 2>/dev/null; }
wait_gone() { wait_for "$2" gone "$1"; }

# msgd_start [ARGS...]: start msgd in the foreground on a free port.
# Sets MSGD_PID, MSGD_PORT and MSGD_LOG.
msgd_start() {
	MSGD_LOG=$T/msgd.log
	: > "$MSGD_LOG"
	"$MSGD" -p 0 -L "$MSGD_LOG" "$@" &
	MSGD_PID=$!
	track "$MSGD_PID"
	msgd_wait_started "$MSGD_LOG" "$MSGD_PID"
}

# msgd_wait_started LOG PID: wait for the start line, set MSGD_PORT.
msgd_wait_started() {
	wait_for 10 grep -q 'started: listening on' "$1" ||
	    fail "msgd did not start (pid $2)"
	MSGD_PORT=$(sed -n 's/.*started: listening on [^ ]*:\([0-9]*\).*/\1/p' \
	    "$1" | tail -n 1)
	[ -n "$MSGD_PORT" ] || fail "no port in the msgd log"
}

# msgd_stop: SIGTERM, and expect a clean exit 0 within the drain time.
msgd_stop() {
	local rc
	kill -TERM "$MSGD_PID" || fail "msgd (pid $MSGD_PID) is not running"
	wait "$MSGD_PID"
	rc=$?
	[ "$rc" -eq 0 ] || fail "msgd exited with status $rc after SIGTERM"
}

# metrics_port: set MPORT to the --metrics port msgd logged.
metrics_port() {
	MPORT=$(sed -n \
	    's|.*metrics on http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' \
	    "$MSGD_LOG")
	[ -n "$MPORT" ] || fail "no metrics port in the msgd log"
}
# metric NAME: the value of the unlabelled sample msgd_NAME, scraped now.
metric() {
	curl -sf --max-time 5 "http://127.0.0.1:$MPORT/metrics" |
	    awk -v n="msgd_$1" '$1 == n { print $2 }'
}
# http_code PATH: the status the metrics endpoint answers for PATH.
http_code() {
	curl -s --max-time 5 -o /dev/null -w '%{http_code}' \
	    "http://127.0.0.1:$MPORT$1"
}
draining() { [ "$(http_code /healthz)" = 503 ]; }

# ask [NC-ARGS...] < input: one nc client against msgd, bounded in time.
ask() {
	timeout 10 nc "$@" 127.0.0.1 "$MSGD_PORT"
}

# help_layout FILE: every option line of a --help text in FILE has at
# least two spaces between the option and its description (or none after
# it), as help2man needs to tell them apart; prints the lines that do not.
help_layout() {
	awk '/^ +-/ {
		sub(/^ +/, "")
		# The option ends at the first space not after a comma.
		if (match($0, /[^,] /) && substr($0, RSTART + 2, 1) != " ") {
			print "help: " $0 > "/dev/stderr"
			bad = 1
		}
	} END { exit bad }' "$1"
}

# expect_eq ACTUAL EXPECTED WHAT
expect_eq() {
	[ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"
}

# Measurements of a running process, from /proc.
fd_count() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
vm_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# hold N [LINE]: keep N connections to msgd open until release_hold; with
# a LINE, each one sends it and reads its reply first (else they are idle).
# They connect to $HOLD_HOST (::1 for IPv6), by default 127.0.0.1.
hold() {
	mkfifo "$T/hold.in"
	python3 "${top_srcdir:-..}/tests/hold.py" "$MSGD_PORT" "$1" \
	    "${HOLD_HOST:-127.0.0.1}" ${2+"$2"} < "$T/hold.in" > "$T/hold.out" &
	HOLD_PID=$!
	track "$HOLD_PID"
	exec 7> "$T/hold.in"
	wait_for 10 grep -q '^ready' "$T/hold.out" ||
	    fail "could not open $1 connections"
}
release_hold() {
	exec 7>&-
	wait_gone "$HOLD_PID" 10 || fail "hold.py did not finish"
	rm -f "$T/hold.in"
}
# json_get NAME FILE: a number from msgbench's --json output in FILE.
json_get() {
	sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" "$2"
}
# metrics_hold N: the same for N idle connections to the --metrics port
# ($MPORT), until metrics_release.
metrics_hold() {
	mkfifo "$T/mhold.in"
	python3 "${top_srcdir:-..}/tests/hold.py" "$MPORT" "$1" \
	    < "$T/mhold.in" > "$T/mhold.out" &
	MHOLD_PID=$!
	track "$MHOLD_PID"
	exec 6> "$T/mhold.in"
	wait_for 10 grep -q '^ready' "$T/mhold.out" ||
	    fail "could not open $1 metrics connections"
}
metrics_release() {
	exec 6>&-
	wait_gone "$MHOLD_PID" 10 || fail "hold.py (metrics) did not finish"
	rm -f "$T/mhold.in"
}

# client_start NAME ARGS...: run "tests/hostile.py ARGS" in the background
# with its standard input on a pipe held open (descriptor 8) until
# client_release; its output goes to $T/NAME.out.  Sets CLIENT_PID and
# CLIENT_OUT.  One at a time.
client_start() {
	local name=$1
	shift
	CLIENT_OUT=$T/$name.out
	CLIENT_FIFO=$T/$name.in
	# Emptied here, not by the redirection below: the background shell
	# opens the FIFO first, so until exec 8> it has not truncated the
	# file, and client_wait read an earlier client's lines.
	: > "$CLIENT_OUT"
	mkfifo "$CLIENT_FIFO"
	python3 "${top_srcdir:-..}/tests/hostile.py" "$@" \
	    < "$CLIENT_FIFO" > "$CLIENT_OUT" &
	CLIENT_PID=$!
	track "$CLIENT_PID"
	exec 8> "$CLIENT_FIFO"
}
client_release() {
	exec 8>&-
	wait "$CLIENT_PID" || fail "hostile.py failed: $(cat "$CLIENT_OUT")"
	rm -f "$CLIENT_FIFO"
}
# client_wait WORD SECONDS: wait for a line starting with WORD from it
# (four times as long under valgrind or the sanitizers, as hostile.py
# does).
client_wait() {
	local slow=1
	[ -z "${MSGD_SANITIZED:-}" ] || slow=4
	wait_for $(($2 * slow)) grep -q "^$1" "$CLIENT_OUT" ||
	    fail "hostile.py said no '$1': $(cat "$CLIENT_OUT")"
}

# need_tls: skip unless msgd was built with OpenSSL (make check sets
# MSGD_HAVE_OPENSSL; by hand, an in-tree build is assumed to have it).
need_tls() {
	[ "${MSGD_HAVE_OPENSSL:-yes}" = yes ] ||
	    skip "msgd was built without OpenSSL"
	need openssl
}
# tls_cert NAME [CN]: a self-signed ECDSA P-256 certificate and its key,
# $T/NAME.crt and $T/NAME.key, as README shows.
tls_cert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -days 2 -subj "/CN=${2:-localhost}" -keyout "$T/$1.key" \
	    -out "$T/$1.crt" 2>/dev/null || fail "openssl req failed"
}
# tls_ask [S_CLIENT-ARGS...] < input: one openssl s_client against msgd.
tls_ask() {
	timeout 10 openssl s_client -quiet -connect "127.0.0.1:$MSGD_PORT" \
	    "$@" 2>/dev/null
}
