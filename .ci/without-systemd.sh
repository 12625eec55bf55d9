#!/bin/sh
# without-systemd.sh - build msgd without libsystemd, from the release
# tarball (the source tree itself is configured in place), and run the
# whole make check there.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/.ci/lib.sh"
ci_unpack _build-nosystemd
./configure -q --without-systemd --with-systemdsystemunitdir=no
if grep -q '^#define HAVE_LIBSYSTEMD' config.h; then
	echo "without-systemd: libsystemd is still used" >&2
	exit 1
fi
make -s -j2
make -s -j2 check
