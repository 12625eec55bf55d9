#!/usr/bin/env python3
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
"""notify.py PATH - a stand-in for systemd's notification socket.

Binds an AF_UNIX datagram socket at PATH and prints every message msgd
sends with sd_notify(3), one line per assignment, until stdin closes or
60 seconds pass.
"""
import os
import select
import socket
import sys


def main():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(sys.argv[1])
    print("bound", flush=True)
    for _ in range(600):
        r, _, _ = select.select([s, sys.stdin], [], [], 0.1)
        if s in r:
            for line in s.recv(4096).decode().splitlines():
                print(line, flush=True)
        if sys.stdin in r and not os.read(sys.stdin.fileno(), 1):
            break


if __name__ == "__main__":
    main()
