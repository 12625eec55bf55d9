#!/bin/sh
# manlint.sh - mandoc -Tlint on the manual pages: any message, down to
# style, fails (mandoc then exits non-zero).
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v mandoc >/dev/null 2>&1; then
	echo "manlint: mandoc is not installed (./install-deps --test)" >&2
	exit 1
fi
status=0
for page in doc/msgd.8 doc/msgbench.1; do
	mandoc -Tlint "$top/$page" || status=1
done
[ "$status" -eq 0 ] && echo "manlint: doc/msgd.8 doc/msgbench.1 clean"
exit "$status"
