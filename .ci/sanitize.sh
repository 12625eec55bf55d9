#!/bin/sh
# sanitize.sh - build msgd with AddressSanitizer and UBSan, from the
# release tarball in its own build directory (the source tree itself is
# configured in place), and run the whole make check there.  Any sanitizer
# report fails: UBSan halts, ASan aborts (leaks included), and the test
# logs are searched for reports that a test might not have noticed.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/.ci/lib.sh"
ci_unpack _build-sanitize
./configure -q CC="${CC:-gcc}" \
    CFLAGS='-fsanitize=address,undefined -fno-omit-frame-pointer -g'
make -s -j2
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
ASAN_OPTIONS=detect_leaks=1
# Tests that measure memory skip their bounds: ASan's shadow and
# quarantine are not msgd's.
MSGD_SANITIZED=1
export UBSAN_OPTIONS ASAN_OPTIONS MSGD_SANITIZED
status=0
make -s -j2 check || status=1
if grep -l 'runtime error:\|ERROR: AddressSanitizer\|ERROR: LeakSanitizer' \
    tests/*.log test-suite.log 2>/dev/null; then
	echo "sanitize: sanitizer reports in the logs above" >&2
	status=1
fi
[ $status -eq 0 ] && echo "sanitize: make check clean under ASan+UBSan"
exit $status
