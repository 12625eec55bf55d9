#!/usr/bin/env python3
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
"""udpflood.py PORT COUNT [SRC] - send COUNT datagrams from one source
address (default 127.0.0.1) as fast as possible, then collect replies
until none arrives for 0.5 s.  Prints "sent N replies M seconds S", S
being the time from before the first datagram left to the arrival of the
last reply (rounded up to the millisecond), within which the server sent
every reply; then the reply texts that differ from the first one, if any.
"""
import math
import socket
import sys
import time


def main():
    port, count = int(sys.argv[1]), int(sys.argv[2])
    src = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1"
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((src, 0))
    s.setblocking(False)
    replies = []
    start = last = time.monotonic()
    for i in range(count):
        s.sendto(b"ping %d\n" % i, ("127.0.0.1", port))
        try:
            while True:
                replies.append(s.recv(65536))
                last = time.monotonic()
        except BlockingIOError:
            pass
    s.settimeout(0.5)
    try:
        while True:
            replies.append(s.recv(65536))
            last = time.monotonic()
    except socket.timeout:
        pass
    secs = math.ceil((last - start) * 1000) / 1000
    print("sent", count, "replies", len(replies), "seconds", "%.3f" % secs)
    odd = {r for r in replies if r != replies[0]}
    for r in odd:
        print("odd", r)


if __name__ == "__main__":
    main()
