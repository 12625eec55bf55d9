#!/bin/sh
# run.sh - msgd against a raw-epoll server and a plain libevent server, on
# the same workloads in one run (see bench/RESULTS.md); with BENCH_BASE,
# against an earlier msgd as well.
#
# Each server is started fresh for each workload, pinned to CPU 0, with the
# load generator on CPU 1.  Servers: msgd, epoll (bench/epoll-server.c),
# libevent (bench/levent-server.c), and msgd2: msgd -t 2, two workers, for
# the scaling table (it and the load generator share CPUs 0 and 1, as
# there are no more; see "Scaling" in bench/RESULTS.md).  Workloads:
#   ping  msgbench ping, 100 connections, one message in flight each
#   pipe  msgbench pipe, 100 connections, 16 in flight each
#   conn  msgbench conn, a new connection per message, 50 at a time, spread
#         over 16 source addresses (servers in one-shot mode)
#   idle  10,000 idle connections: server RSS growth per connection
#   max   19,000 connections open at once, one line on each, every one
#         answered (bench/idle-conns -x)
# Raw results: $BENCH_OUT/results.tsv; table: $BENCH_OUT/table.md (and
# base.md with BENCH_BASE;
# scaling.md when msgd and msgd2 both ran); charts:
# $BENCH_OUT/throughput.png, latency.png, cpu.png (gnuplot, bench/plot.gp).
#
# BENCH_BASE=COMMIT builds that commit's msgd (git archive, configure,
# make) into $BENCH_OUT/base and runs it too, as server msgd-base right
# after msgd: a before/after measured in the same run, whose ratios
# (against raw epoll, and msgd against msgd-base in the table) the
# machine's drift does not move.  MSGD_BASE=PROGRAM uses a build of it
# already made.
#
# Environment: BENCH_SECONDS (per workload, default 5), BENCH_REPEAT
# (default 3; the table shows the run with the median msgs/s),
# BENCH_SERVERS ("msgd epoll libevent msgd2"), BENCH_WORKLOADS ("ping pipe conn
# idle max"), BENCH_MAX_CONNS (19000), BENCH_IDLE_CONNS (10000), BENCH_OUT,
# MSGD, MSGBENCH, EPOLL_SERVER, LEVENT_SERVER, IDLE_CONNS (programs).
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
set -u

srcdir=${BENCH_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
builddir=${BENCH_BUILDDIR:-$srcdir}
MSGD=${MSGD:-$builddir/src/msgd}
MSGBENCH=${MSGBENCH:-$builddir/src/msgbench/msgbench}
EPOLL_SERVER=${EPOLL_SERVER:-$builddir/bench/epoll-server}
LEVENT_SERVER=${LEVENT_SERVER:-$builddir/bench/levent-server}
IDLE_CONNS=${IDLE_CONNS:-$builddir/bench/idle-conns}
OUT=${BENCH_OUT:-$builddir/bench/out}
SECS=${BENCH_SECONDS:-5}
REPEAT=${BENCH_REPEAT:-3}
SERVERS=${BENCH_SERVERS:-msgd epoll libevent msgd2}
WORKLOADS=${BENCH_WORKLOADS:-ping pipe conn idle max}
PING_CONNS=100
PIPE_CONNS=100
PIPE_DEPTH=16
CONN_CONNS=50
CONN_SOURCES=16
IDLE_N=${BENCH_IDLE_CONNS:-10000}
MAX_N=${BENCH_MAX_CONNS:-19000}
HOST=127.0.0.1

SPID= OPID= WPID=
cleanup() {
	trap - EXIT INT TERM
	for p in $OPID $SPID $WPID; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $OPID $SPID; do
		wait "$p" 2>/dev/null
	done
}
trap cleanup EXIT
trap 'echo "run.sh: interrupted" >&2; exit 130' INT TERM

die() { echo "run.sh: $*" >&2; exit 1; }
note() { echo "run.sh: $*" >&2; }

for p in "$MSGD" "$EPOLL_SERVER" "$LEVENT_SERVER" "$IDLE_CONNS"; do
	[ -x "$p" ] || die "$p is missing (run 'make bench')"
done
case " $WORKLOADS " in
*" ping "*|*" pipe "*|*" conn "*)
	[ -x "$MSGBENCH" ] || die "$MSGBENCH is missing (run 'make bench')";;
esac
mkdir -p "$OUT" || die "cannot create $OUT"

if [ -n "${BENCH_BASE:-}" ] && [ -z "${MSGD_BASE:-}" ]; then
	note "building msgd at $BENCH_BASE in $OUT/base"
	rm -rf "$OUT/base" && mkdir -p "$OUT/base" &&
	    git -C "$srcdir" archive --format=tar "$BENCH_BASE" |
	    tar -x -C "$OUT/base" &&
	    (cd "$OUT/base" && autoreconf -fi && ./configure -q &&
	    make -j2 src/msgd) >"$OUT/base-build.log" 2>&1 ||
	    die "cannot build msgd at $BENCH_BASE (see $OUT/base-build.log)"
	MSGD_BASE=$OUT/base/src/msgd
fi
if [ -n "${MSGD_BASE:-}" ]; then
	[ -x "$MSGD_BASE" ] || die "$MSGD_BASE is missing"
	case " $SERVERS " in
	*" msgd-base "*) ;;
	*" msgd "*) SERVERS=$(echo " $SERVERS " |
	    sed 's/ msgd / msgd msgd-base /; s/^ //; s/ $//');;
	*) SERVERS="$SERVERS msgd-base";;
	esac
fi

# The whole run is bounded: a watchdog ends it if a step hangs anyway.
nserv=$(echo $SERVERS | wc -w)
budget=$(( REPEAT * nserv * (3 * (SECS + 40) + 2 * 150) + 60 ))
( trap 'kill $! 2>/dev/null; exit 0' TERM
  sleep "$budget" & wait $!
  echo "run.sh: over the ${budget}s budget" >&2
  kill -TERM $$ ) &
WPID=$!

# Descriptors: as many as the hard limit allows, for client and server.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
nofile=$(ulimit -n)
if [ "$nofile" != unlimited ] && [ "$MAX_N" -gt $((nofile - 64)) ]; then
	note "descriptor limit $nofile: max workload lowered to $((nofile - 64))"
	MAX_N=$((nofile - 64))
fi

# Server on CPU 0, load on CPU 1, when there are two CPUs to pin to.
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
	ON_SERVER="taskset -c 0"
	ON_CLIENT="taskset -c 1"
	ON_BOTH="taskset -c 0,1"
else
	note "not pinning: taskset missing or a single CPU"
	ON_SERVER= ON_CLIENT= ON_BOTH=
fi
HZ=$(getconf CLK_TCK)

# start_server NAME keep|oneshot: sets SPID and SPORT.
start_server() {
	log=$OUT/$1.log
	rm -f "$log"
	flag=
	[ "$2" = keep ] && flag=-k
	prog=$MSGD
	[ "$1" = msgd-base ] && prog=$MSGD_BASE
	case $1 in
	msgd|msgd-base)
		$ON_SERVER "$prog" -p 0 $flag -L "$log" -c 30000 \
		    >/dev/null 2>"$OUT/msgd.stderr" &
		pat='s/.*started: listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p';;
	msgd2)
		$ON_BOTH "$MSGD" -t 2 -p 0 $flag -L "$log" -c 30000 \
		    >/dev/null 2>"$OUT/msgd.stderr" &
		pat='s/.*started: listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p';;
	epoll)
		$ON_SERVER "$EPOLL_SERVER" -p 0 $flag >"$log" 2>&1 &
		pat='s/^listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p';;
	libevent)
		$ON_SERVER "$LEVENT_SERVER" -p 0 $flag >"$log" 2>&1 &
		pat='s/^listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p';;
	esac
	SPID=$!
	SPORT=
	i=0
	while [ $i -lt 50 ]; do
		SPORT=$(sed -n "$pat" "$log" 2>/dev/null | head -n 1)
		[ -n "$SPORT" ] && return 0
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	die "$1 did not start listening (see $log)"
}

stop_server() {
	[ -n "$SPID" ] || return 0
	kill -TERM "$SPID" 2>/dev/null
	i=0
	while kill -0 "$SPID" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$SPID" 2>/dev/null
	wait "$SPID" 2>/dev/null
	SPID=
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$SPID/stat"; }
status_kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$SPID/status"; }
nfds() { ls "/proc/$SPID/fd" 2>/dev/null | wc -l; }

# json_get KEY JSON
json_get() {
	printf '%s\n' "$2" | sed -n \
	    "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\{0,1\}\([^\",}]*\).*/\1/p"
}

# record RUN SERVER WORKLOAD JSON TICKS RSS_PER_CONN [CLIENT_TICKS]
record() {
	j=$4
	msgs=$(json_get messages "$j")
	msgs=${msgs:-0}
	hwm=$(status_kb VmHWM)
	cpu=$(awk -v t="$5" -v hz="$HZ" 'BEGIN { printf "%.3f", t / hz }')
	cpm=$(per_msg "$5" "$msgs")
	ccpm=$(per_msg "${7:-}" "$msgs")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
	    "$1" "$2" "$3" "$(json_get conns "$j")" \
	    "$(json_get depth "$j")" "$msgs" "$(json_get errors "$j")" \
	    "$(json_get msgs_per_sec "$j")" "$(json_get p50_us "$j")" \
	    "$(json_get p90_us "$j")" "$(json_get p99_us "$j")" \
	    "$(json_get p999_us "$j")" "$(json_get max_us "$j")" \
	    "$cpu" "$cpm" "${hwm:-0}" "$6" "$ccpm" >>"$TSV"
	echo "  $2 $3: $(json_get msgs_per_sec "$j") msgs/s," \
	    "$(json_get errors "$j") errors, p50 $(json_get p50_us "$j") us," \
	    "p99 $(json_get p99_us "$j") us, cpu $cpm us/msg" \
	    "${6:+, $6 B/conn idle}" >&2
}

# per_msg TICKS MESSAGES: CPU microseconds per message, or "-".
per_msg() {
	awk -v t="$1" -v hz="$HZ" -v m="$2" 'BEGIN {
		if (t != "" && m > 0) printf "%.3f", t / hz / m * 1e6
		else print "-" }'
}

# bench_msgbench RUN SERVER WORKLOAD: one msgbench workload.
bench_msgbench() {
	case $3 in
	ping) mode=keep; args="ping -c $PING_CONNS";;
	pipe) mode=keep; args="pipe -c $PIPE_CONNS -D $PIPE_DEPTH";;
	conn) mode=oneshot; args="conn -c $CONN_CONNS -s $CONN_SOURCES";;
	esac
	start_server "$2" "$mode"
	on=$ON_CLIENT
	[ "$2" = msgd2 ] && on=$ON_BOTH
	t0=$(cpu_ticks)
	# The shell's cutime+cstime after msgbench: msgbench's CPU time.
	out=$(timeout $((SECS + 30)) sh -c '"$@";
	    awk "{ print \"ticks \" \$16 + \$17 }" /proc/$$/stat' sh \
	    $on "$MSGBENCH" $args -d "$SECS" -H $HOST -p "$SPORT" --json \
	    2>>"$OUT/msgbench.stderr")
	t1=$(cpu_ticks)
	j=$(printf '%s\n' "$out" | grep '^{' | tail -n 1)
	ct=$(printf '%s\n' "$out" | sed -n 's/^ticks //p')
	[ -n "$j" ] || note "$2 $3: msgbench gave no result" \
	    "(see $OUT/msgbench.stderr)"
	# msgbench sometimes waits out its reply timeout after the run and
	# counts that time in msgs_per_sec: rate over the run's length then.
	el=$(json_get seconds "$j")
	if [ -n "$el" ] && awk -v e="$el" -v s="$SECS" 'BEGIN { exit !(e > s + 0.5) }'; then
		m=$(json_get messages "$j")
		r=$(awk -v m="$m" -v s="$SECS" 'BEGIN { printf "%.1f", m / s }')
		note "$2 $3: msgbench took ${el}s for a ${SECS}s run;" \
		    "msgs/s taken over ${SECS}s: $r"
		j=$(printf '%s\n' "$j" | sed "s/\"msgs_per_sec\"[[:space:]]*:[[:space:]]*[0-9.]*/\"msgs_per_sec\": $r/")
	fi
	record "$1" "$2" "$3" "$j" $((t1 - t0)) "" "$ct"
	stop_server
}

# bench_idle RUN SERVER: RSS growth per idle connection.
bench_idle() {
	start_server "$2" keep
	sleep 0.2
	before=$(status_kb VmRSS)
	fds0=$(nfds)
	t0=$(cpu_ticks)
	$ON_CLIENT "$IDLE_CONNS" -H $HOST -p "$SPORT" -n "$IDLE_N" -P 100 -w -t 120 \
	    >"$OUT/idle.json" 2>>"$OUT/idle-conns.stderr" &
	OPID=$!
	# Established at the client, and accepted by the server.
	i=0
	while [ $i -lt 200 ]; do
		grep -q '^{' "$OUT/idle.json" 2>/dev/null &&
		    [ $(($(nfds) - fds0)) -ge "$IDLE_N" ] && break
		kill -0 "$OPID" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	sleep 0.5
	after=$(status_kb VmRSS)
	accepted=$(($(nfds) - fds0))
	t1=$(cpu_ticks)
	j=$(grep '^{' "$OUT/idle.json" | tail -n 1)
	est=$(json_get established "$j")
	[ "${est:-0}" -eq "$IDLE_N" ] && [ "$accepted" -ge "$IDLE_N" ] ||
	    note "$2 idle: $est established, $accepted accepted of $IDLE_N"
	# Per connection the server really holds: a client can count one as
	# established that a full accept queue dropped (SYN cookies).
	per=$(awk -v a="$after" -v b="$before" -v n="$accepted" \
	    'BEGIN { printf "%.0f", (a - b) * 1024 / n }')
	j="{\"conns\":$IDLE_N,\"depth\":0,\"messages\":0,\"errors\":$(json_get errors "$j")}"
	record "$1" "$2" idle "$j" $((t1 - t0)) "$per"
	kill -TERM "$OPID" 2>/dev/null
	wait "$OPID" 2>/dev/null
	OPID=
	stop_server
}

# bench_max RUN SERVER: MAX_N connections at once, each answered.
bench_max() {
	start_server "$2" keep
	t0=$(cpu_ticks)
	j=$(timeout 300 $ON_CLIENT "$IDLE_CONNS" -H $HOST -p "$SPORT" \
	    -n "$MAX_N" -P 100 -s 4 -x -t 120 2>>"$OUT/idle-conns.stderr" |
	    grep '^{' | tail -n 1)
	t1=$(cpu_ticks)
	[ "$(json_get messages "$j")" = "$MAX_N" ] &&
	    [ "$(json_get errors "$j")" = 0 ] ||
	    note "$2 max: not every connection answered: $j"
	record "$1" "$2" max "$j" $((t1 - t0)) ""
	stop_server
}

TSV=$OUT/results.tsv
[ -n "${BENCH_REPORT_ONLY:-}" ] || printf 'run\tserver\tworkload\tconns\tdepth\tmessages\terrors\tmsgs_per_sec\tp50_us\tp90_us\tp99_us\tp999_us\tmax_us\tcpu_s\tcpu_us_per_msg\tvmhwm_kb\tidle_rss_b_per_conn\tclient_cpu_us_per_msg\n' >"$TSV"
: >"$OUT/msgbench.stderr"
: >"$OUT/idle-conns.stderr"

# BENCH_REPORT_ONLY=1: no runs, only the table and charts again from the
# results.tsv of an earlier run.
[ -n "${BENCH_REPORT_ONLY:-}" ] && REPEAT=0
run=1
while [ $run -le "$REPEAT" ]; do
	for w in $WORKLOADS; do
		for s in $SERVERS; do
			# Two workers are for throughput, not for memory.
			case $s/$w in msgd2/idle|msgd2/max) continue;; esac
			note "run $run/$REPEAT: $s $w"
			case $w in
			ping|pipe|conn) bench_msgbench $run $s $w;;
			idle) bench_idle $run $s;;
			max) bench_max $run $s;;
			*) die "unknown workload $w";;
			esac
		done
	done
	run=$((run + 1))
done

# Per server and workload, the run with the median msgs/s (the median RSS
# growth for idle).
# Rows in the order of $WORKLOADS, then $SERVERS.
MED=$OUT/median.tsv
tail -n +2 "$TSV" | sort -t "$(printf '\t')" -k2,2 -k3,3 -k8,8g -k17,17g |
awk -F '\t' -v ws="$WORKLOADS" -v ss="$SERVERS" '
	{ key = $3 SUBSEP $2; n[key]++; row[key, n[key]] = $0 }
	END { nw = split(ws, w, " "); ns = split(ss, s, " ")
	      for (i = 1; i <= nw; i++) for (j = 1; j <= ns; j++) {
		k = w[i] SUBSEP s[j]
		if (k in n) print row[k, int((n[k] + 1) / 2)] } }' >"$MED"

# The table, with each server against raw epoll on the same workload.
TABLE=$OUT/table.md
# "vs raw epoll" is the median over runs of the ratio within each run (the
# servers run back to back), which drift between runs does not move.
# ratios REF: per server and workload, that median ratio to server REF.
ratios() {
tail -n +2 "$TSV" | awk -F '\t' -v ref="$1" '
	{ v[$1, $2, $3] = ($3 == "idle" ? $17 : $8); if (!(($2, $3) in seen)) {
	  seen[$2, $3]; key[++nk] = $2 "\t" $3 } ; if ($1 > nr) nr = $1 }
	END { for (k = 1; k <= nk; k++) { split(key[k], f, "\t"); n = 0
		for (r = 1; r <= nr; r++) if (v[r, ref, f[2]] > 0 &&
		    v[r, f[1], f[2]] != "")
			x[++n] = v[r, f[1], f[2]] / v[r, ref, f[2]]
		for (i = 2; i <= n; i++) for (j = i; j > 1 && x[j-1] > x[j]; j--) {
			t = x[j]; x[j] = x[j-1]; x[j-1] = t }
		if (n > 0) printf "%s\t%s\t%.2f\n", f[1], f[2],
		    (n % 2 ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2) } }'
}
ratios epoll >"$OUT/ratios.tsv"
ratios libevent >"$OUT/ratios-libevent.tsv"

# BENCH_BASE: before/after, msgd over msgd-base, the median of the ratios
# within each run (msgs/s; for idle, RSS per connection).
BASE=$OUT/base.md
case " $SERVERS " in
*" msgd-base "*)
	ratios msgd-base | awk -F '\t' '
	FILENAME == "-" { if ($1 == "msgd") x[$2] = $3; next }
	$2 == "msgd" || $2 == "msgd-base" { c[$2, $3] = $15; m[$2, $3] = ($3 == "idle" ? $17 : $8)
		if ($2 == "msgd") w[++nw] = $3 }
	END { print "| workload | msgd-base | msgd | msgd / msgd-base (median of runs) | server CPU us/msg, base -> msgd |"
	      print "|---|---:|---:|---:|---:|"
	      for (i = 1; i <= nw; i++) printf "| %s | %s | %s | %s | %s -> %s |\n",
		  w[i], m["msgd-base", w[i]], m["msgd", w[i]],
		  (w[i] in x ? x[w[i]] : "-"), c["msgd-base", w[i]], c["msgd", w[i]] }' - "$MED" >"$BASE";;
*)	rm -f "$BASE";;
esac
awk -F '\t' -v secs="$SECS" -v repeat="$REPEAT" '
	function v(x) { return (x == "" ? "-" : x) }
	FILENAME ~ /ratios-libevent/ { lev_of[$1, $2] = $3; next }
	FILENAME ~ /ratios/ { ratio_of[$1, $2] = $3; next }
	{ r[++nr] = $0 }
	END {
	print "| server | workload | msgs/s | vs raw epoll | vs libevent | p50 µs | p99 µs | server CPU µs/msg | peak RSS (VmHWM) | notes |"
	print "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"
	for (i = 1; i <= nr; i++) { split(r[i], f, "\t")
		ratio = lev = "-"; unit = ""; notes = ""
		if (f[3] == "idle") {
			notes = f[17] " B RSS per idle connection"
			unit = "x RSS"
			rate = "-"
		} else {
			rate = sprintf("%.0f", f[8])
			notes = f[6] " msgs, " v(f[7]) " errors"
		}
		if ((f[2], f[3]) in ratio_of) ratio = ratio_of[f[2], f[3]] unit
		if ((f[2], f[3]) in lev_of) lev = lev_of[f[2], f[3]] unit
		printf "| %s | %s | %s | %s | %s | %s | %s | %s | %.1f MB | %s |\n",
		    f[2], f[3], rate, ratio, lev, v(f[9]), v(f[11]),
		    (f[15] == "" ? "-" : f[15]), f[16] / 1024, notes }
	}' "$OUT/ratios.tsv" "$OUT/ratios-libevent.tsv" "$MED" >"$TABLE"

# Scaling: msgd with two workers against one, on the same workloads.  The
# model: a worker on a core of its own does 1e6 / (server CPU us/msg)
# messages a second, so N workers on N free cores do N times that, as long
# as nothing is shared (CPU per message stays flat) and the load generator
# has cores of its own.  See "Scaling" in bench/RESULTS.md.
SCALE=$OUT/scaling.md
awk -F '\t' '
	$2 == "msgd" || $2 == "msgd2" { r[$2, $3] = $8; c[$2, $3] = $15
		k[$2, $3] = $18; if ($2 == "msgd2") w[++nw] = $3 }
	END { if (nw == 0) exit
	print "| workload | msgs/s, 1 worker | msgs/s, 2 workers | measured 2/1 | server CPU us/msg, 1 -> 2 | cores busy (server), 1 -> 2 | msgbench CPU us/msg | model: 2 workers on 2 free cores |"
	print "|---|---:|---:|---:|---:|---:|---:|---:|"
	for (i = 1; i <= nw; i++) { x = w[i]
		if (!(("msgd", x) in r)) continue
		printf "| %s | %.0f | %.0f | %.2fx | %s -> %s | %.2f -> %.2f | %s | %.2fx one worker |\n",
		    x, r["msgd", x], r["msgd2", x], r["msgd2", x] / r["msgd", x],
		    c["msgd", x], c["msgd2", x],
		    r["msgd", x] * c["msgd", x] / 1e6,
		    r["msgd2", x] * c["msgd2", x] / 1e6, k["msgd", x],
		    2 * c["msgd", x] / c["msgd2", x] } }' "$MED" >"$SCALE"
[ -s "$SCALE" ] || rm -f "$SCALE"

# Data for the charts: msgs/s per workload, and latency percentiles.
# per_workload COLUMN: that column of $MED, a row per workload.
per_workload() {
	awk -F '\t' -v c="$1" '
	$3 != "idle" { t[$3, $2] = $c; if (!($3 in seen)) { seen[$3]; w[++nw] = $3 } }
	END { print "workload\tmsgd\tepoll\tlibevent"
	      for (i = 1; i <= nw; i++)
		printf "%s\t%s\t%s\t%s\n", w[i], t[w[i], "msgd"] + 0,
		    t[w[i], "epoll"] + 0, t[w[i], "libevent"] + 0 }' "$MED"
}
per_workload 8 >"$OUT/throughput.tsv"	# msgs/s
per_workload 15 >"$OUT/cpu.tsv"		# server CPU us/msg
awk -F '\t' '
	{ for (i = 9; i <= 12; i++) p[$2, $3, i] = $i + 0; have[$2, $3] }
	END { print "case\tp50\tp90\tp99\tp999"
	      nw = split("ping pipe conn max", w, " ")
	      ns = split("msgd epoll libevent", s, " ")
	      for (i = 1; i <= nw; i++) for (j = 1; j <= ns; j++)
		if ((s[j], w[i]) in have)
			printf "%s %s\t%s\t%s\t%s\t%s\n", s[j], w[i],
			    p[s[j], w[i], 9], p[s[j], w[i], 10],
			    p[s[j], w[i], 11], p[s[j], w[i], 12] }' \
    "$MED" >"$OUT/latency.tsv"
if command -v gnuplot >/dev/null 2>&1; then
	gnuplot -e "outdir='$OUT'" "$srcdir/bench/plot.gp" 2>"$OUT/gnuplot.stderr" ||
	    note "gnuplot failed (see $OUT/gnuplot.stderr)"
else
	note "gnuplot not found: no charts"
fi

echo
runs=$(tail -n +2 "$TSV" | cut -f 1 | sort -n | tail -n 1)
echo "msgd vs raw epoll vs libevent: $SECS s per workload, median of $runs;" \
    "server on CPU 0, load on CPU 1"
echo
cat "$TABLE"
if [ -f "$SCALE" ]; then
	echo
	echo "msgd, two workers against one:"
	echo
	cat "$SCALE"
fi
echo
echo "raw results: $TSV; charts: $OUT/throughput.png $OUT/latency.png $OUT/cpu.png"
