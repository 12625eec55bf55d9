#!/bin/sh
# no-check.sh - stands in for the Check unit tests when configure did not
# find Check: reported as SKIP (exit 77), never as a pass.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
echo "Check was not found by configure: unit tests (tests/check_*) not built;" \
    "install it (Debian: apt-get install check) and run ./configure again"
exit 77
