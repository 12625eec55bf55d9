# plot-tls.gp - the chart for bench/tls.sh:
#   gnuplot -e "outdir='bench/out'" bench/plot-tls.gp
# reads outdir/tls-conn.tsv, tls-cpu.tsv and tls-msgd.tsv, writes
# outdir/tls.png: TLS connections a second and server CPU per TLS
# connection, msgd beside nginx; msgd's ping and pipe, plain and TLS.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
if (!exists("outdir")) outdir = "bench/out"

set terminal pngcairo size 1200,450 font "sans,10"
set output outdir."/tls.png"
set datafile separator "\t"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set yrange [0:*]
set format y "%g"
set key top right
set multiplot layout 1,3 title "TLS 1.3, ECDSA P-256: msgd -t 1 beside nginx stream (one worker); medians of the rounds"

set title "TLS connections a second (higher is better)"
plot outdir."/tls-conn.tsv" using 2:xtic(1) title columnheader(2) lc rgb "#d62728", \
     '' using 3 title columnheader(3) lc rgb "#009639"

set title "Server CPU µs per TLS connection (lower is better)"
plot outdir."/tls-cpu.tsv" using 2:xtic(1) title columnheader(2) lc rgb "#d62728", \
     '' using 3 title columnheader(3) lc rgb "#009639"

set title "msgd messages a second, plain and TLS (log scale)"
set logscale y
set yrange [*:*]
set format y "%.0s%c"
plot outdir."/tls-msgd.tsv" using 2:xtic(1) title columnheader(2) lc rgb "#9ecae1", \
     '' using 3 title columnheader(3) lc rgb "#d62728"

unset multiplot
