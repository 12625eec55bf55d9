#!/bin/sh
# without-optional.sh - build msgd with neither libsystemd, OpenSSL nor
# Check, from the release tarball (the source tree itself is configured in
# place), and run make check there on the tests where libsystemd's absence changes
# what msgd does (readiness, socket activation, the SIGUSR2 upgrade, which
# reads LISTEN_FDS without it) and a few plain ones: they must pass, and
# the unit tests and tests/tls.sh must show as SKIP, not as passes (and
# errors.sh checks that the TLS options are refused).  The other integration
# tests run in make check, distcheck and under the sanitizers already;
# running all of them a fourth time here cost CI five minutes.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/.ci/lib.sh"
ci_unpack _build-optional
./configure -q --without-systemd --without-openssl --without-check \
    --with-systemdsystemunitdir=no
if grep -q '^#define HAVE_LIBSYSTEMD' config.h; then
	echo "without-optional: libsystemd is still used" >&2
	exit 1
fi
if grep -q '^#define HAVE_OPENSSL' config.h; then
	echo "without-optional: OpenSSL is still used" >&2
	exit 1
fi
make -s -j2
make -s -j2 check TESTS="tests/no-check.sh tests/reply.sh tests/errors.sh
    tests/daemon.sh tests/systemd.sh tests/upgrade.sh
    tests/restart-activated.sh tests/tls.sh"
if ls tests/check_* 2>/dev/null | grep -qv '\.[ch]$'; then
	echo "without-optional: Check unit tests were built without Check" >&2
	exit 1
fi
grep -q '^:test-result: SKIP' tests/no-check.sh.trs || {
	echo "without-optional: tests/no-check.sh did not report SKIP" >&2
	exit 1
}
grep -q '^:test-result: SKIP' tests/tls.sh.trs || {
	echo "without-optional: tests/tls.sh did not report SKIP" >&2
	exit 1
}
pass=$(sed -n 's/^# PASS: *//p' test-suite.log)
echo "without-optional: $pass integration tests passed, unit tests skipped"
[ "${pass:-0}" -gt 0 ]
