# lib.sh - sourced by the .ci suites that build the release tarball in a
# directory of their own (the source tree itself is configured in place).
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC

# ci_unpack DIR: make the tarball, unpack it into $top/DIR (emptied first)
# and cd there.  Needs $top, the source tree.
ci_unpack() {
	cd "$top"
	make -s dist
	tarball=$(ls -t msgd-*.tar.gz | head -n 1)
	rm -rf "${top:?}/$1"
	mkdir "$top/$1"
	tar -xzf "$tarball" -C "$top/$1" --strip-components=1
	cd "$top/$1"
}
