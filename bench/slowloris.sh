#!/bin/sh
# slowloris.sh - the slowloris attack of tests/hostile-slowloris.sh at
# full size: msgd with its default options (10000 connections), one host
# holding all of them and trickling a byte on each every 3 s (reopening
# every one msgd closes), while a client on another address connects every
# 100 ms for 60 s, in one-shot mode, with -k and with --proxy-protocol.
# Passes if 95% of that client's tries are answered within 1 s in each
# mode, and prints the counts and msgd's RSS (results in bench/RESULTS.md).
# Needs a hard descriptor limit of 10100 or more.  About 4 minutes.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
top=$(cd "$(dirname "$0")/.." && pwd)
SLOWLORIS_CONNS=10000 SLOWLORIS_SECS=60 SLOWLORIS_INTERVAL=3 \
    MSGD=${MSGD:-$top/src/msgd} top_srcdir=$top \
    exec sh "$top/tests/hostile-slowloris.sh"
