#!/usr/bin/env python3
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
"""steps.py PORT - walk msgd -k -e through each way a line is answered.

Every step waits for the echo of what it sent, so msgd has read it all
before the next step begins:
  1. a line and half of the next: the half waits in the connection's
     buffers;
  2. the rest of that line and one more: answered from the buffers, which
     are then empty;
  3. one line: answered straight from the read;
  4. 127-byte lines, sent without reading until no more can be sent: by
     then msgd's writes have fallen short (its replies are queued) and it
     has stopped reading; then the rest is sent while everything is read.
     At 127 bytes both msgd's reads (16256 bytes, CONN_READ_ASK) and these
     sends (65024) end between lines, so msgd answers straight from its
     read buffer until a write falls short, rather than keeping a part
     line in its buffers all along.
Prints "ok LINES" when every echo came back whole and in order; else
"FAIL: ..." and exits 1.
"""
import selectors
import socket
import sys

CHUNK = 127 * 512


def fail(why):
    print("FAIL:", why)
    sys.exit(1)


def expect(s, want):
    got = b""
    while len(got) < len(want):
        d = s.recv(65536)
        if not d:
            fail("closed after %r of %r" % (got, want))
        got += d
    if got != want:
        fail("sent %r, got %r" % (want, got))


def flood(s, count):
    lines = [b"%06d" % i + b"x" * 120 + b"\n" for i in range(count)]
    out = b"".join(lines)
    s.setblocking(False)
    sent = 0
    while sent < len(out):
        try:
            sent += s.send(out[sent:sent + CHUNK])
        except BlockingIOError:
            break
    if sent == len(out):
        fail("%d bytes went out without blocking: raise the count" % sent)
    got = bytearray()
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    while len(got) < len(out):
        events = sel.select(timeout=10)
        if not events:
            fail("stalled with %d of %d bytes back" % (len(got), len(out)))
        for _, mask in events:
            if mask & selectors.EVENT_READ:
                d = s.recv(262144)
                if not d:
                    fail("closed with %d of %d bytes back" %
                         (len(got), len(out)))
                got += d
            if mask & selectors.EVENT_WRITE and sent < len(out):
                sent += s.send(out[sent:sent + CHUNK])
            if sent == len(out):
                sel.modify(s, selectors.EVENT_READ)
    if bytes(got) != out:
        fail("the echo of %d bytes of lines differs" % len(out))
    return count


def main():
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
    s.sendall(b"one\ntw")
    expect(s, b"one\n")
    s.sendall(b"o\nthree\n")
    expect(s, b"two\nthree\n")
    s.sendall(b"four\n")
    expect(s, b"four\n")
    n = flood(s, 160000)
    s.setblocking(True)
    s.sendall(b"five\n")
    expect(s, b"five\n")
    print("ok", 5 + n)


if __name__ == "__main__":
    main()
