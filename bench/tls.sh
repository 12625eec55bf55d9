#!/bin/sh
# tls.sh - msgd over TLS against nginx's stream module, the reference TLS
# server, in one run, BENCH_REPEAT rounds alternating the servers (see
# "TLS: msgd and nginx" in bench/RESULTS.md).
#
# Both servers get the same self-signed ECDSA P-256 certificate (made here
# with openssl req) and one core's worth of server: msgd -t 1, nginx with
# worker_processes 1, TLS 1.3 (msgbench offers 1.2 and 1.3; both servers
# pick 1.3), OpenSSL's defaults otherwise.  nginx runs from a config
# generated in a temporary directory (daemon off, pid and error_log there,
# the stream module loaded, listen ... ssl, return "Hello, client!\n"),
# as the user running this (root: its worker as nobody), stopped by PID.
# nginx's return does not read the request, so every request arrives after
# nginx's close_notify and nginx logs "application data after close
# notify" at crit for each connection: its error_log is set to alert, so
# that a log write per connection is not counted in its CPU.
#
# Measured, servers on CPU 0, msgbench on CPU 1 (as run.sh):
#   conn  msgbench conn --tls, 50 at a time over 16 source addresses: a
#         full handshake per connection (msgbench never resumes a
#         session); TLS connections a second, handshake p50/p99, and
#         server CPU per connection (utime+stime from /proc/PID/stat
#         before and after, nginx's master and worker summed, over the
#         connections answered), for msgd and nginx;
#   conn-tls-both  the same, msgd and nginx at the same time, each with
#         a msgbench of 25 connections over 8 addresses: the ratio of
#         their CPU per connection over the same seconds, which the
#         machine's drift between runs does not move;
#   ping, pipe  msgd -k with and without TLS (100 connections; pipe 16 in
#         flight each): what TLS costs msgd per message.
# Reported: medians over the rounds, and the ratios within each round
# (msgd/nginx CPU per connection, TLS/plain), their median: drift between
# rounds does not move them.  Loopback only; about 7 x BENCH_SECONDS per
# round plus start-ups: about three minutes with the defaults.
#
# msgd must have --tls-cert and --tls-key; to measure nginx alone (an msgd
# without TLS), BENCH_TLS_SERVERS=nginx.
#
# Environment: BENCH_SECONDS (5), BENCH_REPEAT (3), BENCH_TLS_SERVERS
# ("msgd nginx"), BENCH_OUT, MSGD, MSGBENCH, NGINX (/usr/sbin/nginx),
# NGINX_STREAM_MODULE (its ngx_stream_module.so).
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
set -u

srcdir=$(cd "$(dirname "$0")/.." && pwd)
MSGD=${MSGD:-$srcdir/src/msgd}
MSGBENCH=${MSGBENCH:-$srcdir/src/msgbench/msgbench}
NGINX=${NGINX:-/usr/sbin/nginx}
MODULE=${NGINX_STREAM_MODULE:-/usr/lib/nginx/modules/ngx_stream_module.so}
OUT=${BENCH_OUT:-$srcdir/bench/out}
SECS=${BENCH_SECONDS:-5}
REPEAT=${BENCH_REPEAT:-3}
SERVERS=${BENCH_TLS_SERVERS:-msgd nginx}
CONN_CONNS=50
CONN_SOURCES=16
PING_CONNS=100
PIPE_CONNS=100
PIPE_DEPTH=16
HZ=$(getconf CLK_TCK)

die() { echo "tls.sh: $*" >&2; exit 1; }
note() { echo "tls.sh: $*" >&2; }

SPID= OTHER= WPID= DIR=
cleanup() {
	trap - EXIT INT TERM
	for p in $SPID $OTHER $WPID; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $SPID $OTHER; do
		wait "$p" 2>/dev/null
	done
	[ -z "$DIR" ] || rm -rf "$DIR"
}
trap cleanup EXIT
trap 'echo "tls.sh: interrupted" >&2; exit 130' INT TERM

# What the run needs, checked before anything starts.
[ -x "$MSGBENCH" ] || die "$MSGBENCH is missing (run 'make')"
"$MSGBENCH" --tls --help > /dev/null 2>&1 ||
    die "$MSGBENCH has no --tls (built --without-openssl?)"
command -v openssl > /dev/null || die "openssl is missing (./install-deps --bench)"
for s in $SERVERS; do
	case $s in
	msgd)
		[ -x "$MSGD" ] || die "$MSGD is missing (run 'make')"
		"$MSGD" --help 2>&1 | grep -q -- --tls-cert ||
		    die "$MSGD has no --tls-cert: it cannot serve TLS (built" \
		    "--without-openssl, or from before TLS); BENCH_TLS_SERVERS=nginx" \
		    "measures nginx alone";;
	nginx)
		[ -x "$NGINX" ] || die "$NGINX is missing (./install-deps --bench)"
		[ -f "$MODULE" ] || die "$MODULE is missing: nginx's stream" \
		    "module (./install-deps --bench; or NGINX_STREAM_MODULE=)";;
	*)	die "unknown server '$s' in BENCH_TLS_SERVERS (msgd, nginx)";;
	esac
done
mkdir -p "$OUT" || die "cannot create $OUT"
DIR=$(mktemp -d "${TMPDIR:-/tmp}/msgd-bench-tls.XXXXXX") || die "mktemp"
# nginx's worker runs as nobody: it must reach nothing here but what the
# master opened for it; the directory only needs to be traversable.
chmod 755 "$DIR"

# The whole run is bounded: a watchdog ends it if a step hangs anyway.
budget=$(( REPEAT * 7 * (SECS + 40) + 60 ))
( trap 'kill $! 2>/dev/null; exit 0' TERM
  sleep "$budget" & wait $!
  echo "tls.sh: over the ${budget}s budget" >&2
  kill -TERM $$ ) &
WPID=$!

ulimit -n "$(ulimit -Hn)" 2>/dev/null
if command -v taskset > /dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
	ON_SERVER="taskset -c 0"
	ON_CLIENT="taskset -c 1"
else
	note "not pinning: taskset missing or a single CPU"
	ON_SERVER= ON_CLIENT=
fi

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -days 2 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout "$DIR/key.pem" -out "$DIR/cert.pem" 2> "$DIR/openssl.err" ||
    die "openssl req: $(cat "$DIR/openssl.err")"

# listening PORT: something listens on 127.0.0.1:PORT (from /proc).
listening() {
	awk -v a="$(printf '0100007F:%04X' "$1")" \
	    '$2 == a && $4 == "0A" { f = 1 } END { exit !f }' /proc/net/tcp
}

# A port for nginx, which cannot be given port 0 and say which it got:
# one in 20000-29999 that nothing listens on (a race nginx then loses
# with "Address already in use", said as such).
free_port() {
	local p i=0
	p=$(( 20000 + $$ % 10000 ))
	while listening "$p" && [ $i -lt 100 ]; do
		p=$(( 20000 + (p - 19999) % 10000 ))
		i=$((i + 1))
	done
	echo "$p"
}

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null; }

# server_ticks PID: CPU ticks of the server PID, all its processes.
server_ticks() {
	local p t=0 n
	for p in $1 $(pgrep -P "$1" 2>/dev/null); do
		n=$(ticks "$p")
		t=$((t + ${n:-0}))
	done
	echo "$t"
}

# start_server NAME: msgd-tls, msgd-tls-k, msgd-k (plaintext) or nginx;
# sets SPID and SPORT, ready to serve.
start_server() {
	local log="$OUT/tls-$1.log" i=0 args=
	rm -f "$log"
	case $1 in
	nginx)
		SPORT=$(free_port)
		cat > "$DIR/nginx.conf" <<EOF
# Generated by bench/tls.sh.
load_module $MODULE;
worker_processes 1;
daemon off;
pid $DIR/nginx.pid;
error_log $log alert;
events { worker_connections 4096; }
stream {
	server {
		listen 127.0.0.1:$SPORT ssl;
		ssl_certificate $DIR/cert.pem;
		ssl_certificate_key $DIR/key.pem;
		ssl_protocols TLSv1.3;
		return "Hello, client!\n";
	}
}
EOF
		(cd "$DIR" && exec $ON_SERVER "$NGINX" -p "$DIR/" -e "$log" \
		    -c "$DIR/nginx.conf") > /dev/null 2>> "$log" &
		SPID=$!
		# Listening, and its worker there to accept.
		while [ $i -lt 100 ]; do
			listening "$SPORT" && [ -n "$(pgrep -P "$SPID")" ] &&
			    return 0
			kill -0 "$SPID" 2>/dev/null || break
			sleep 0.1
			i=$((i + 1))
		done
		die "nginx did not start on port $SPORT (see $log)";;
	msgd-tls)	args="--tls-cert $DIR/cert.pem --tls-key $DIR/key.pem";;
	msgd-tls-k)	args="-k --tls-cert $DIR/cert.pem --tls-key $DIR/key.pem";;
	msgd-k)		args="-k";;
	esac
	# shellcheck disable=SC2086
	$ON_SERVER "$MSGD" -p 0 -t 1 -c 30000 -L "$log" $args \
	    > /dev/null 2> "$OUT/tls-msgd.stderr" &
	SPID=$!
	SPORT=
	while [ $i -lt 100 ]; do
		SPORT=$(sed -n \
		    's/.*started: listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' \
		    "$log" 2>/dev/null | head -n 1)
		[ -n "$SPORT" ] && return 0
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	die "msgd did not start (see $log and $OUT/tls-msgd.stderr)"
}

stop_server() {
	local i=0
	kill -TERM "$SPID" 2>/dev/null
	while kill -0 "$SPID" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$SPID" 2>/dev/null
	wait "$SPID" 2>/dev/null
	SPID=
}

json_get() {
	printf '%s\n' "$2" | sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"
}

# one RUN SERVER WORKLOAD: start SERVER, run msgbench WORKLOAD against it,
# append a line to $TSV.  WORKLOAD: conn-tls, ping-tls, ping, pipe-tls,
# pipe.
one() {
	local run="$1" server="$2" w="$3" args tls= t0 t1 j m
	case $w in
	conn*)	args="conn -c $CONN_CONNS -s $CONN_SOURCES";;
	ping*)	args="ping -c $PING_CONNS";;
	pipe*)	args="pipe -c $PIPE_CONNS -D $PIPE_DEPTH";;
	esac
	case $w in *-tls) tls=--tls;; esac
	start_server "$server"
	t0=$(server_ticks "$SPID")
	# shellcheck disable=SC2086
	j=$(timeout $((SECS + 30)) $ON_CLIENT "$MSGBENCH" $args $tls \
	    -d "$SECS" -H 127.0.0.1 -p "$SPORT" --json \
	    2>> "$OUT/tls-msgbench.stderr" | grep '^{' | tail -n 1)
	t1=$(server_ticks "$SPID")
	stop_server
	row "$run" "$server" "$w" "$j" $((t1 - t0))
}

# row RUN SERVER WORKLOAD JSON TICKS: msgbench's JSON and the server's CPU
# ticks over it, as a line of $TSV (and one on stderr).
row() {
	local run="$1" server="$2" w="$3" j="$4" t="$5" m
	[ -n "$j" ] || note "$server $w: msgbench gave no result" \
	    "(see $OUT/tls-msgbench.stderr)"
	m=$(json_get messages "$j")
	[ "$(json_get errors "$j")" = 0 ] ||
	    note "$server $w: $(json_get errors "$j") errors (see" \
	    "$OUT/tls-msgbench.stderr)"
	# server CPU us per message: per connection, in conn mode.
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" \
	    "${server%%-*}" "$w" "${m:-0}" "$(json_get errors "$j")" \
	    "$(json_get msgs_per_sec "$j")" "$(json_get p99_us "$j")" \
	    "$(json_get handshake_p50_us "$j")" \
	    "$(json_get handshake_p99_us "$j")" \
	    "$(awk -v t="$t" -v hz="$HZ" -v m="${m:-0}" \
	    'BEGIN { if (m > 0) printf "%.2f", t / hz / m * 1e6; else print 0 }')" \
	    >> "$TSV"
	tail -n 1 "$TSV" | awk -F '\t' '{ printf "  %s %s: %s/s, %s errors, " \
	    "handshake p50 %s us, server CPU %s us/msg\n", $2, $3, $6, $5, \
	    ($8 == "" ? "-" : $8), $10 }' >&2
}

# both RUN: msgd and nginx at the same time, each with a msgbench conn
# --tls of half the connections (all on CPU 1, servers on CPU 0): what
# the machine's drift does, it does to both, and the ratio of their CPU
# per connection is taken over the same seconds.
both() {
	local run="$1" mpid mport npid nport m0 n0 m1 n1 half bpid
	half=$((CONN_CONNS / 2))
	start_server msgd-tls
	mpid=$SPID mport=$SPORT OTHER=$SPID
	start_server nginx
	npid=$SPID nport=$SPORT
	m0=$(server_ticks "$mpid") n0=$(server_ticks "$npid")
	# shellcheck disable=SC2086
	timeout $((SECS + 30)) $ON_CLIENT "$MSGBENCH" conn -c "$half" \
	    -s $((CONN_SOURCES / 2)) --tls -d "$SECS" -H 127.0.0.1 \
	    -p "$mport" --json > "$DIR/both-msgd.json" \
	    2>> "$OUT/tls-msgbench.stderr" &
	bpid=$!
	# shellcheck disable=SC2086
	timeout $((SECS + 30)) $ON_CLIENT "$MSGBENCH" conn -c "$half" \
	    -s $((CONN_SOURCES / 2)) --tls -d "$SECS" -H 127.0.0.1 \
	    -p "$nport" --json > "$DIR/both-nginx.json" \
	    2>> "$OUT/tls-msgbench.stderr"
	wait "$bpid"
	m1=$(server_ticks "$mpid") n1=$(server_ticks "$npid")
	stop_server
	SPID=$mpid OTHER=
	stop_server
	row "$run" msgd conn-tls-both \
	    "$(grep '^{' "$DIR/both-msgd.json" | tail -n 1)" $((m1 - m0))
	row "$run" nginx conn-tls-both \
	    "$(grep '^{' "$DIR/both-nginx.json" | tail -n 1)" $((n1 - n0))
}

TSV=$OUT/tls.tsv
printf 'run\tserver\tworkload\tmessages\terrors\tper_sec\tp99_us\thandshake_p50_us\thandshake_p99_us\tserver_cpu_us_per_msg\n' > "$TSV"
: > "$OUT/tls-msgbench.stderr"

have_msgd=0
case " $SERVERS " in *" msgd "*) have_msgd=1;; esac
have_nginx=0
case " $SERVERS " in *" nginx "*) have_nginx=1;; esac
r=1
while [ "$r" -le "$REPEAT" ]; do
	note "round $r/$REPEAT"
	# Alternating which goes first, so that neither always runs warm.
	order=$SERVERS
	[ $((r % 2)) -eq 0 ] && order=$(echo "$SERVERS" | awk '{
	    for (i = NF; i > 0; i--) printf "%s%s", $i, (i > 1 ? " " : "") }')
	for s in $order; do
		case $s in
		msgd)	one "$r" msgd-tls conn-tls;;
		nginx)	one "$r" nginx conn-tls;;
		esac
	done
	[ "$have_msgd" -eq 0 ] || [ "$have_nginx" -eq 0 ] || both "$r"
	if [ "$have_msgd" -eq 1 ]; then
		one "$r" msgd-tls-k ping-tls
		one "$r" msgd-k ping
		one "$r" msgd-tls-k pipe-tls
		one "$r" msgd-k pipe
	fi
	r=$((r + 1))
done

# Medians per server and workload, and the medians of the ratios within
# each round: msgd/nginx (TLS conns/s and CPU per connection), TLS/plain
# (msgd ping and pipe: msgs/s and CPU per message).
TABLE=$OUT/tls.md
awk -F '\t' '
function med(k, col,    n, i, j, t, x) {
	n = 0
	for (i = 1; i <= nr; i++) if (key[i] == k && val[i, col] != "")
		x[++n] = val[i, col]
	for (i = 2; i <= n; i++) for (j = i; j > 1 && x[j-1] > x[j]; j--) {
		t = x[j]; x[j] = x[j-1]; x[j-1] = t }
	if (n == 0) return ""
	return n % 2 ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2
}
# rmed(A, B, COL): median over rounds of A/B in column COL.
function rmed(a, b, col,    n, r, i, j, t, x) {
	n = 0
	for (r = 1; r <= rounds; r++)
		if ((r, a, col) in v && v[r, b, col] > 0)
			x[++n] = v[r, a, col] / v[r, b, col]
	for (i = 2; i <= n; i++) for (j = i; j > 1 && x[j-1] > x[j]; j--) {
		t = x[j]; x[j] = x[j-1]; x[j-1] = t }
	if (n == 0) return "-"
	return sprintf("%.2f", n % 2 ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2)
}
NR > 1 {
	k = $2 " " $3; key[++nr] = k
	for (c = 4; c <= 10; c++) { val[nr, c] = $c; v[$1, k, c] = $c }
	if (!(k in seen)) { seen[k]; order[++nk] = k }
	if ($1 > rounds) rounds = $1
}
END {
	print "| server | workload | per second | errors | p99 µs | handshake p50 µs | handshake p99 µs | server CPU µs per message (conn: per connection) |"
	print "|---|---|---:|---:|---:|---:|---:|---:|"
	for (i = 1; i <= nk; i++) { k = order[i]; split(k, f, " ")
		printf "| %s | %s | %.0f | %s | %s | %s | %s | %s |\n", f[1], f[2],
		    med(k, 6), med(k, 5), med(k, 7),
		    (med(k, 8) == "" ? "-" : med(k, 8)),
		    (med(k, 9) == "" ? "-" : med(k, 9)), med(k, 10) }
	print ""
	print "| ratio (median of the rounds) | value |"
	print "|---|---:|"
	printf "| msgd / nginx, server CPU per TLS connection | %s |\n", rmed("msgd conn-tls", "nginx conn-tls", 10)
	printf "| msgd / nginx, server CPU per TLS connection, both at once | %s |\n", rmed("msgd conn-tls-both", "nginx conn-tls-both", 10)
	printf "| msgd / nginx, TLS connections a second | %s |\n", rmed("msgd conn-tls", "nginx conn-tls", 6)
	printf "| msgd ping, TLS / plain, msgs/s | %s |\n", rmed("msgd ping-tls", "msgd ping", 6)
	printf "| msgd ping, TLS / plain, server CPU per message | %s |\n", rmed("msgd ping-tls", "msgd ping", 10)
	printf "| msgd pipe, TLS / plain, msgs/s | %s |\n", rmed("msgd pipe-tls", "msgd pipe", 6)
	printf "| msgd pipe, TLS / plain, server CPU per message | %s |\n", rmed("msgd pipe-tls", "msgd pipe", 10)
}' "$TSV" > "$TABLE"

# The chart's data: the medians, a row per measure, msgd and nginx side by
# side (TLS conns/s; CPU per connection), and msgd plain and TLS.
awk -F '\t' 'NR > 1 { k = $2 " " $3; n[k]++; s6[k, n[k]] = $6; s10[k, n[k]] = $10 }
function m(a, k,    c, i, j, t, x) {
	c = n[k]; if (c == 0) return 0
	for (i = 1; i <= c; i++) x[i] = (a == 6 ? s6[k, i] : s10[k, i])
	for (i = 2; i <= c; i++) for (j = i; j > 1 && x[j-1] > x[j]; j--) {
		t = x[j]; x[j] = x[j-1]; x[j-1] = t }
	return c % 2 ? x[(c + 1) / 2] : (x[c / 2] + x[c / 2 + 1]) / 2
}
END {
	print "measure\tmsgd\tnginx" > (out "/tls-conn.tsv")
	printf "TLS connections/s\t%s\t%s\n", m(6, "msgd conn-tls"), m(6, "nginx conn-tls") > (out "/tls-conn.tsv")
	print "measure\tmsgd\tnginx" > (out "/tls-cpu.tsv")
	printf "server CPU us per TLS connection\t%s\t%s\n", m(10, "msgd conn-tls"), m(10, "nginx conn-tls") > (out "/tls-cpu.tsv")
	print "workload\tplain\tTLS" > (out "/tls-msgd.tsv")
	printf "ping\t%s\t%s\n", m(6, "msgd ping"), m(6, "msgd ping-tls") > (out "/tls-msgd.tsv")
	printf "pipe\t%s\t%s\n", m(6, "msgd pipe"), m(6, "msgd pipe-tls") > (out "/tls-msgd.tsv")
}' out="$OUT" "$TSV"
if command -v gnuplot > /dev/null 2>&1; then
	gnuplot -e "outdir='$OUT'" "$srcdir/bench/plot-tls.gp" \
	    2> "$OUT/tls-gnuplot.stderr" ||
	    note "gnuplot failed (see $OUT/tls-gnuplot.stderr)"
else
	note "gnuplot not found: no chart"
fi

echo
echo "TLS: $SERVERS, $SECS s per workload, $REPEAT rounds; servers on CPU 0," \
    "msgbench on CPU 1"
echo
cat "$TABLE"
echo
echo "raw results: $TSV; chart: $OUT/tls.png"
