#!/bin/sh
# run.sh - build msgd's libFuzzer targets with clang and run each for
# FUZZ_SECONDS (default 60) from the seed corpus.  A crash fails the run
# and leaves its input as $FUZZ_OUT/crash-*: add it to corpus/TARGET/ (it
# is then replayed on every run) and to a Check or script case.
#
#     tests/fuzz/run.sh [TARGET...]        (frame options proxy by default)
#
# Runs from a source tree configured once (config.h comes from configure;
# the one made by a plain ./configure is enough).
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
SECONDS_EACH=${FUZZ_SECONDS:-60}
OUT=${FUZZ_OUT:-$top/_fuzz}
CC=${FUZZ_CC:-clang}

command -v "$CC" > /dev/null || { echo "run.sh: $CC not found" >&2; exit 77; }
inc=$top
if [ ! -f "$top/config.h" ]; then
	# Not configured here (a distcheck tree): configure a scratch copy.
	inc=$OUT/config
	mkdir -p "$inc"
	(cd "$inc" && "$top/configure" -q > /dev/null) ||
	    { echo "run.sh: configure failed" >&2; exit 1; }
fi
mkdir -p "$OUT"
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
CPPFLAGS="-I $top/src -I $inc -D_GNU_SOURCE $(pkg-config --cflags libevent)"
LIBS=$(pkg-config --libs libevent)
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

status=0
for t in ${*:-frame options proxy}; do
	echo "=== fuzz_$t: building"
	$CC $CFLAGS $CPPFLAGS -o "$OUT/fuzz_$t" "$here/fuzz_$t.c" \
	    "$top/src/frame.c" "$top/src/options.c" "$top/src/log.c" \
	    "$top/src/proxy.c" "$top/src/acl.c" $LIBS
	# The seeds first, as regression tests; then a bounded run, growing a
	# scratch corpus (the seeds in the tree stay as they are).
	"$OUT/fuzz_$t" -runs=0 "$here/corpus/$t" || { status=1; continue; }
	mkdir -p "$OUT/corpus-$t"
	echo "=== fuzz_$t: ${SECONDS_EACH} s"
	(cd "$OUT" && "$OUT/fuzz_$t" -max_total_time="$SECONDS_EACH" \
	    -max_len=4096 -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
	    "$OUT/corpus-$t" "$here/corpus/$t") || status=1
done
[ $status -eq 0 ] && echo "fuzz: no crashes" || echo "fuzz: crashes in $OUT" >&2
exit $status
