#!/bin/sh
# werror.sh - build everything (msgd, msgbench, the unit tests, the bench
# servers) with --enable-werror twice, from the release tarball: with gcc
# and Debian's default hardening flags (dpkg-buildflags), as a Debian
# package build would, and with clang.  No tests run here; the other
# suites run them.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/.ci/lib.sh"
command -v dpkg-buildflags > /dev/null ||
    { echo "werror: dpkg-buildflags (dpkg-dev) not installed" >&2; exit 1; }
command -v clang > /dev/null ||
    { echo "werror: clang not installed" >&2; exit 1; }

werror_build() {	# DIR CONFIGURE-ARGS...
	dir=$1; shift
	ci_unpack "$dir"
	./configure -q --enable-werror "$@"
	make -s -j2
	make -s -j2 check TESTS=
	make -s -j2 bench/epoll-server bench/levent-server bench/idle-conns
}

# dpkg-buildflags prints shell-quoted VAR="value" words.
eval "set -- $(dpkg-buildflags --export=configure)"
werror_build _build-werror-gcc CC=gcc "$@"
echo "werror: gcc with dpkg-buildflags: clean"
werror_build _build-werror-clang CC=clang
echo "werror: clang: clean"
