# plot.gp - charts for bench/run.sh:
#   gnuplot -e "outdir='bench/out'" bench/plot.gp
# reads outdir/throughput.tsv, latency.tsv and cpu.tsv, writes
# outdir/throughput.png, latency.png and cpu.png.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
if (!exists("outdir")) outdir = "bench/out"

set terminal pngcairo size 900,500 font "sans,10"
set datafile separator "\t"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key top right
set logscale y
set format y "%.0s%c"

set output outdir."/throughput.png"
set title "Throughput (messages/s, log scale) — msgd beside raw epoll and plain libevent"
set ylabel "messages per second"
plot outdir."/throughput.tsv" using 2:xtic(1) title columnheader(2) lc rgb "#d62728", \
     '' using 3 title columnheader(3) lc rgb "#1f77b4", \
     '' using 4 title columnheader(4) lc rgb "#2ca02c"

set output outdir."/latency.png"
set title "Latency percentiles (µs, log scale), per server and workload"
set ylabel "microseconds"
set format y "%.0f"
set xtics rotate by -30
plot outdir."/latency.tsv" using 2:xtic(1) title "p50" lc rgb "#9ecae1", \
     '' using 3 title "p90" lc rgb "#6baed6", \
     '' using 4 title "p99" lc rgb "#3182bd", \
     '' using 5 title "p99.9" lc rgb "#08519c"

set output outdir."/cpu.png"
set title "Server CPU time per message (µs, utime+stime / messages; lower is better)"
set ylabel "CPU microseconds per message"
set key top left
unset logscale y
set yrange [0:*]
set format y "%g"
set xtics norotate
plot outdir."/cpu.tsv" using 2:xtic(1) title columnheader(2) lc rgb "#d62728", \
     '' using 3 title columnheader(3) lc rgb "#1f77b4", \
     '' using 4 title columnheader(4) lc rgb "#2ca02c"
