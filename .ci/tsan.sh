#!/bin/sh
# tsan.sh - build msgd with ThreadSanitizer, from the release tarball in
# its own build directory, and run it with four workers under everything
# that touches state across threads at once: connection load (msgbench
# conn, ping and pipe; clients without a PROXY header; nc -U clients on
# a Unix socket the workers share and hand round), /metrics scrapes
# in a loop, log rotation (mv + SIGHUP) every few milliseconds, SIGUSR1,
# and SIGTERM with connections open; and UDP on every worker, against the
# rate-limit table they share; TLS handshakes while SIGHUP reloads the
# certificate.  Any report fails: msgd halts on the first one (exit 66),
# and the reports' files are searched too.  Races that are not msgd's are
# suppressed, each with its reason, in tsan.supp.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/.ci/lib.sh"
ci_unpack _build-tsan
build=$(pwd)
./configure -q CC="${CC:-gcc}" \
    CFLAGS='-fsanitize=thread -fno-omit-frame-pointer -g -O1' \
    LDFLAGS='-fsanitize=thread'
make -s -j2
for m in src/msgbench/msgbench src/msgbench; do
	[ -x "$m" ] && MSGBENCH=$build/$m && break
done
rm -rf "$build/tsan" && mkdir "$build/tsan"
TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1"
TSAN_OPTIONS="$TSAN_OPTIONS suppressions=$top/.ci/tsan.supp"
TSAN_OPTIONS="$TSAN_OPTIONS log_path=$build/tsan/report"
export TSAN_OPTIONS

# The rest runs like a test: tests/lib.sh starts and stops by PID.
MSGD=$build/src/msgd
top_srcdir=$top
set +e
. "$top/tests/lib.sh"
TEST_NAME=tsan
SECS=${TSAN_SECS:-8}

# start NAME ARGS...: msgd with four workers and metrics; sets NAME_PID,
# NAME_PORT, NAME_MPORT and NAME_LOG.
start() {
	name=$1
	shift
	MSGD_LOG=$T/$name.log
	: > "$MSGD_LOG"
	"$MSGD" -p 0 -L "$MSGD_LOG" -t 4 --metrics 0 "$@" &
	MSGD_PID=$!
	track "$MSGD_PID"
	msgd_wait_started "$MSGD_LOG" "$MSGD_PID"
	metrics_port
	eval "${name}_PID=$MSGD_PID ${name}_PORT=$MSGD_PORT"
	eval "${name}_MPORT=$MPORT ${name}_LOG=\$MSGD_LOG"
}

# churn NAME: for SECS seconds, /metrics scrapes and SIGUSR1 in a loop and
# the log rotated every 2 ms.
churn() {
	eval "pid=\$${1}_PID mport=\$${1}_MPORT log=\$${1}_LOG"
	(
		end=$(($(date +%s) + SECS))
		while [ "$(date +%s)" -lt "$end" ]; do
			curl -sf --max-time 5 -o /dev/null \
			    "http://127.0.0.1:$mport/metrics"
			kill -USR1 "$pid" 2>/dev/null
		done
	) &
	bg=$!
	track $!
	python3 "$top/tests/hostile.py" rotate 0 "$log" "$pid" "$SECS" \
	    > "$T/$1.rotate" &
	track $!
	eval "${1}_BG=\"$bg $!\""
}

# reports: the first report's head, for a failure message.
reports() {
	cat "$build"/tsan/report.* 2>/dev/null | head -n 20
}

# finish NAME: after the churn, SIGTERM with connections open; a clean
# exit, and no report.
finish() {
	eval "pid=\$${1}_PID"
	wait $(eval "echo \$${1}_BG")
	grep -q '^rotations' "$T/$1.rotate" ||
	    fail "$1: msgd died under rotation: $(cat "$T/$1.rotate") $(reports)"
	alive "$pid" || fail "$1: msgd died $(reports)"
	kill -TERM "$pid"
	wait_gone "$pid" 30 || fail "$1: msgd did not stop on SIGTERM"
	wait "$pid"
	rc=$?
	[ "$rc" -eq 0 ] || fail "$1: exit status $rc (66: a report) $(reports)"
	echo "tsan: $1: clean after $(cat "$T/$1.rotate")"
}

# bench MODE PORT ARGS...: load for SECS seconds, every reply checked.
bench() {
	mode=$1 port=$2
	shift 2
	timeout $((SECS + 60)) "$MSGBENCH" -q -p "$port" -d "$SECS" "$@" \
	    "$mode" > "$T/bench.$mode.out" 2>&1 ||
	    fail "msgbench $mode: $(cat "$T/bench.$mode.out")"
}

[ -n "${MSGBENCH:-}" ] || fail "msgbench is not built"

# unix_clients PATH: one-shot nc -U clients, one after another, for SECS
# seconds, every reply checked.
unix_clients() {
	end=$(($(date +%s) + SECS))
	while [ "$(date +%s)" -lt "$end" ]; do
		printf 'hi\n' | timeout 10 nc -U "$1" > "$T/unix.out" ||
		    return 1
		grep -q '^Hello, client!$' "$T/unix.out" || return 1
	done
}

# 1. --proxy-protocol: clients without a header (a warning each, from
# every worker), and idle ones that never send it, open at SIGTERM.
start proxy -k --proxy-protocol
hold 20
client_start churn churn "$MSGD_PORT" 6
client_wait churning 30
churn proxy
finish proxy
client_release
release_hold

# 2. Without it: msgbench conn against a one-shot msgd, ping and pipe
# against a keep-open one, all at once, and nc -U clients on the one-shot
# msgd's Unix socket; held connections at SIGTERM.  Every TCP connection
# is counted in the per-source table all workers share, and checked
# against an access list every worker reads.
start oneshot --max-conns-per-source 1000000 --deny 192.0.2.0/24 \
    -l 127.0.0.1 -l "unix:$T/oneshot.sock"
start keep -k --max-conns-per-source 1000000
MSGD_PORT=$keep_PORT
hold 20 held
churn oneshot
churn keep
bench ping "$keep_PORT" -c 8 & b1=$!
bench pipe "$keep_PORT" -c 8 -D 8 & b2=$!
bench conn "$oneshot_PORT" -c 8 & b3=$!
unix_clients "$T/oneshot.sock" & b4=$!
wait $b1 && wait $b2 && wait $b3 || fail "msgbench failed"
wait $b4 || fail "nc -U: $(cat "$T/unix.out")"
finish oneshot
finish keep
release_hold

# 3. --udp: datagrams from 200 ports of one source at a time reach all
# four workers' sockets, and every worker takes and returns tokens in the
# one per-source table (the burst runs out: some are refused).
start udp -U --udp-rate 100 --udp-burst 100 --deny 192.0.2.0/24
churn udp
end=$(($(date +%s) + SECS))
while [ "$(date +%s)" -lt "$end" ]; do
	python3 "$top/tests/udpports.py" "$udp_PORT" 200 "$udp_PID" \
	    > "$T/udp.out" || fail "udpports.py: $(cat "$T/udp.out")"
done
finish udp

# 4. TLS (unless built without OpenSSL): handshakes on every worker
# while the log rotation's SIGHUPs reload the certificate into a new
# SSL_CTX, swapped under the workers' feet.
if grep -q '^#define HAVE_OPENSSL' "$build/config.h"; then
	tls_cert server
	start tls -k --tls-cert "$T/server.crt" --tls-key "$T/server.key"
	churn tls
	python3 -W ignore "$top/tests/tls.py" load "$tls_PORT" "$SECS" \
	    > "$T/tls.out" || fail "tls.py load: $(cat "$T/tls.out")"
	finish tls
fi

if grep -l 'WARNING: ThreadSanitizer' "$build"/tsan/report.* 2>/dev/null
then
	fail "ThreadSanitizer reports in the files above"
fi
echo "tsan: no ThreadSanitizer reports"
