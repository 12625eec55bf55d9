#!/usr/bin/env python3
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
"""udpports.py PORT COUNT PID - send one datagram from each of COUNT
sockets (127.0.0.1, kernel-chosen ports, so COUNT different address
pairs) to msgd on PORT while msgd (PID, started by the calling test) is
stopped, so that the datagrams wait in msgd's receive queues; print how
many bytes wait in each of msgd's UDP sockets on 127.0.0.1:PORT (from
/proc/net/udp), let msgd run again and collect the replies until every
socket has one or none arrives for 1 s (at most 20 s).  Prints
"sockets N queued Q1,Q2,... replies R seconds S", S being the time from
letting msgd run to the last reply (rounded up to the millisecond).
"""
import math
import os
import select
import signal
import socket
import sys
import time


def queued(port):
    """Receive-queue bytes of every UDP socket bound to 127.0.0.1:port."""
    local = "0100007F:%04X" % port
    q = []
    with open("/proc/net/udp") as f:
        next(f)
        for line in f:
            fields = line.split()
            if fields[1] == local:
                q.append(int(fields[4].split(":")[1], 16))
    return q


def stopped(pid):
    """Wait (at most 5 s) until every thread of pid is stopped: kill()
    returns before a thread running on another CPU has stopped, and it
    could still drain its socket."""
    end = time.monotonic() + 5
    while time.monotonic() < end:
        states = []
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                    states.append(f.read().rsplit(")", 1)[1].split()[0])
            except OSError:
                pass
        if states and all(st in "tT" for st in states):
            return
        time.sleep(0.001)
    sys.exit("udpports.py: msgd %d did not stop" % pid)


def main():
    port, count, pid = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    socks = []
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
        socks.append(s)
    os.kill(pid, signal.SIGSTOP)
    try:
        stopped(pid)
        for i, s in enumerate(socks):
            s.sendto(b"ping %d\n" % i, ("127.0.0.1", port))
        q = queued(port)
    finally:
        start = last = time.monotonic()
        os.kill(pid, signal.SIGCONT)
    waiting = {s.fileno(): s for s in socks}
    replies = 0
    while waiting and time.monotonic() - start < 20:
        ready, _, _ = select.select(list(waiting), [], [], 1.0)
        if not ready:
            break
        for fd in ready:
            waiting.pop(fd).recv(65536)
            replies += 1
            last = time.monotonic()
    secs = math.ceil((last - start) * 1000) / 1000
    print("sockets", len(q), "queued", ",".join(str(n) for n in q),
          "replies", replies, "seconds", "%.3f" % secs)


if __name__ == "__main__":
    main()
