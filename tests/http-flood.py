#!/usr/bin/env python3
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
"""http-flood.py PORT N SECS - trickling clients against msgd --metrics.

Opens N connections to 127.0.0.1:PORT, prints "connected N", then on each
open one sends one byte of a request header that never ends ("GET
/metrics HTTP/1.1", then "X: aaaa..."), one byte a second, for SECS
seconds, watching which ones msgd closes and when.  At the end it prints:

    refused R       closed within 4 s of connecting
    slowest S       the latest of those closes, s after connect
    bounded B       closed later, while still trickling
    open O          still open after SECS seconds
    first F         the earliest close of a bounded one, s after connect
    last L          the latest one
    trickled K      the fewest bytes a bounded one sent before its close

Nothing here talks to anything but 127.0.0.1.
"""
import resource
import select
import socket
import sys
import time

HOST = "127.0.0.1"
# msgd closes a kept connection 5 s after accept (METRICS_TIMEOUT_SECS).
REFUSED_SECS = 4
REQUEST = b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 4096


def main():
    port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(n + 64, hard), hard))
    conns, byfd = {}, {}
    for _ in range(n):
        s = socket.create_connection((HOST, port), timeout=10)
        s.setblocking(False)
        conns[s] = {"at": time.monotonic(), "sent": 0, "closed": None}
        byfd[s.fileno()] = s
    print("connected", n, flush=True)
    poll = select.poll()
    for s in conns:
        poll.register(s, select.POLLIN)
    start = time.monotonic()
    next_byte = start
    while time.monotonic() - start < secs:
        now = time.monotonic()
        if now >= next_byte:
            for s, c in conns.items():
                if c["closed"] is not None:
                    continue
                try:
                    s.send(REQUEST[c["sent"]:c["sent"] + 1])
                    c["sent"] += 1
                except OSError:
                    close(poll, s, c)
            next_byte += 1.0
        wait = max(0.0, min(next_byte, start + secs) - time.monotonic())
        for fd, _ in poll.poll(wait * 1000):
            s = byfd[fd]
            try:
                if s.recv(4096):
                    continue        # an answer: it is not closed
            except BlockingIOError:
                continue
            except OSError:
                pass
            close(poll, s, conns[s])
    refused = [c for c in conns.values() if c["closed"] is not None and
               c["closed"] - c["at"] <= REFUSED_SECS]
    bounded = [c for c in conns.values() if c["closed"] is not None and
               c["closed"] - c["at"] > REFUSED_SECS]
    print("refused", len(refused))
    if refused:
        print("slowest", "%.1f" % max(c["closed"] - c["at"] for c in refused))
    print("bounded", len(bounded))
    print("open", sum(c["closed"] is None for c in conns.values()))
    if bounded:
        print("first", "%.1f" % min(c["closed"] - c["at"] for c in bounded))
        print("last", "%.1f" % max(c["closed"] - c["at"] for c in bounded))
        print("trickled", min(c["sent"] for c in bounded))
    sys.stdout.flush()
    return 0


def close(poll, s, c):
    c["closed"] = time.monotonic()
    poll.unregister(s)


if __name__ == "__main__":
    sys.exit(main())
