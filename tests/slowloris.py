#!/usr/bin/env python3
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
"""slowloris.py - clients that hold msgd's connections by trickling bytes,
and the legitimate client that must still get through.

    slowloris.py trickle PORT FIRST INTERVAL MAXSECS
        Connect, send FIRST (backslash escapes allowed: 'hi\\n', or
        'PROXY TCP4 ' for half a PROXY header, or '' for nothing), then one
        byte 'x' every INTERVAL seconds, reading whatever msgd sends, until
        msgd closes the connection or MAXSECS pass.  Prints "reply REPR"
        (what msgd sent) and "closed SECS" (from the connect to msgd's
        close; once msgd has shut its side, the close shows as the reset
        to the next byte, so up to INTERVAL late) or "open" if msgd never
        closed it.

    slowloris.py attack PORT N INTERVAL [proxy]
        From 127.0.0.1, hold N connections that each trickle one byte every
        INTERVAL seconds and never complete a line (with "proxy": half a
        PROXY header, a byte at a time, never finished), reopening at once
        every one msgd closes, until standard input closes.  Prints
        "holding N" once N are open at the same time, and at the end
        "opened TOTAL" (connections made in all).

    slowloris.py legit PORT SECS EVERY [proxy]
        From 127.0.0.2: every EVERY seconds for SECS seconds start a client
        that connects, sends "hi\\n" (after a complete PROXY header with
        "proxy") and reads the reply.  A try succeeds if "Hello, client!"
        arrives within 1 s of the connect (x4 under sanitizers and
        valgrind).  Prints "answered K of N" and "busy B" (tries told
        "error: server busy").

Nothing here talks to anything but 127.0.0.0/8.
"""
import collections
import errno
import os
import resource
import select
import selectors
import socket
import sys
import threading
import time

HOST = "127.0.0.1"
LEGIT_SOURCE = "127.0.0.2"
SLOW = 4 if os.environ.get("MSGD_SANITIZED") else 1
HALF_PROXY = b"PROXY TCP4 192.0.2.66 127.0.0.1 40000 5000"
FULL_PROXY = b"PROXY TCP4 198.51.100.7 127.0.0.1 40001 5000\r\n"


def nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))


def hung_up(s, wait):
    """Did msgd close s (a reset, or both directions shut)?"""
    p = select.poll()
    p.register(s, 0)
    return any(ev & (select.POLLHUP | select.POLLERR)
               for _, ev in p.poll(wait * 1000))


def trickle(port, first, interval, maxsecs):
    s = socket.create_connection((HOST, port), timeout=10)
    start = time.monotonic()
    s.setblocking(False)
    if first:
        s.send(first)
    reply, eof, closed = b"", False, None
    next_send = start + interval
    while closed is None and time.monotonic() - start < maxsecs:
        # Read until msgd shuts its side; after that, only a reset to a
        # byte sent (or msgd's close before we shut ours) tells the close.
        wait = max(0.0, min(next_send, start + maxsecs) - time.monotonic())
        if not eof:
            if select.select([s], [], [], wait)[0]:
                try:
                    data = s.recv(65536)
                except ConnectionResetError:
                    closed = time.monotonic() - start
                    break
                reply += data
                eof = not data
                continue
        elif hung_up(s, wait):
            closed = time.monotonic() - start
            break
        if time.monotonic() >= next_send:
            try:
                s.send(b"x")
            except OSError:
                closed = time.monotonic() - start
            next_send += interval
    print("reply", repr(reply.decode(errors="replace")))
    print("closed %.2f" % closed if closed is not None else "open")
    return 0


class Attacker:
    """N trickling connections, kept at N: a closed one is reopened."""

    def __init__(self, port, n, interval, proxy):
        self.port, self.n, self.interval = port, n, interval
        self.payload = HALF_PROXY if proxy else b"x"
        self.sel = selectors.DefaultSelector()
        self.sent = {}          # open socket -> bytes sent on it
        self.due = collections.deque()  # (time, socket), in time order
        self.opened = 0
        self.stop = False

    def open_one(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex((HOST, self.port))
        if err not in (0, errno.EINPROGRESS):
            s.close()
            return False
        self.opened += 1
        self.sent[s] = 0
        # The first byte comes a whole interval after the connect, as late
        # as the bounds let a patient attacker send it.
        self.due.append((time.monotonic() + self.interval, s))
        self.sel.register(s, selectors.EVENT_READ)
        return True

    def drop(self, s):
        if s in self.sent:
            self.sel.unregister(s)
            del self.sent[s]
            s.close()

    def trickle(self):
        now = time.monotonic()
        while self.due and self.due[0][0] <= now:
            _, s = self.due.popleft()
            if s not in self.sent:
                continue        # closed meanwhile
            k = self.sent[s] % len(self.payload)
            try:
                s.send(self.payload[k:k + 1])
            except OSError:
                self.drop(s)
                continue
            self.sent[s] += 1
            self.due.append((now + self.interval, s))

    def run(self):
        held = False
        while not self.stop:
            while len(self.sent) < self.n:
                if not self.open_one():
                    time.sleep(0.01)
                    break
            if not held and len(self.sent) >= self.n:
                held = True
                print("holding", self.n, flush=True)
            self.trickle()
            for key, _ in self.sel.select(0.05):
                s = key.fileobj
                try:
                    if s.recv(65536):
                        continue        # a one-shot reply: keep going
                except BlockingIOError:
                    continue
                except OSError:
                    pass
                self.drop(s)
        for s in list(self.sent):
            self.drop(s)


def attack(port, n, interval, proxy):
    nofile(n)
    a = Attacker(port, n, interval, proxy)
    t = threading.Thread(target=a.run)
    t.start()
    sys.stdin.read()
    a.stop = True
    t.join()
    print("opened", a.opened, flush=True)
    return 0


def legit_try(port, proxy, results, i):
    bound = 1.0 * SLOW
    start = time.monotonic()
    got = b""
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((LEGIT_SOURCE, 0))
        s.settimeout(bound)
        s.connect((HOST, port))
        s.sendall((FULL_PROXY if proxy else b"") + b"hi\n")
        while b"\n" not in got:
            left = bound - (time.monotonic() - start)
            if left <= 0:
                break
            s.settimeout(left)
            data = s.recv(1024)
            if not data:
                break
            got += data
        s.close()
    except OSError:
        pass
    results[i] = got


def legit(port, secs, every, proxy):
    n = int(secs / every)
    results = [None] * n
    threads = []
    start = time.monotonic()
    for i in range(n):
        delay = start + i * every - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        t = threading.Thread(target=legit_try, args=(port, proxy, results, i))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    ok = sum(r == b"Hello, client!\n" for r in results)
    busy = sum(r == b"error: server busy\n" for r in results)
    print("answered", ok, "of", n, flush=True)
    print("busy", busy, flush=True)
    return 0


def main(argv):
    mode = argv[1]
    if mode == "trickle":
        first = argv[3].encode().decode("unicode_escape").encode("latin-1")
        return trickle(int(argv[2]), first, float(argv[4]), float(argv[5]))
    if mode == "attack":
        return attack(int(argv[2]), int(argv[3]), float(argv[4]),
                      len(argv) > 5 and argv[5] == "proxy")
    if mode == "legit":
        return legit(int(argv[2]), float(argv[3]), float(argv[4]),
                     len(argv) > 5 and argv[5] == "proxy")
    sys.exit("usage: slowloris.py trickle|attack|legit ...")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
