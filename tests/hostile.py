#!/usr/bin/env python3
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
"""hostile.py - clients for msgd's hostile-load tests that nc cannot be.

    hostile.py flood PORT N LINE_BYTES [wait-close SECS]
        Open N connections that pipeline LINE_BYTES-long lines and never
        read.  Once no connection has made progress for 0.5 s, print
        "stalled BYTES_SENT".  Then either hold them until standard input
        closes, or (wait-close) watch them for up to SECS seconds without
        reading and print "closed N SECONDS" when msgd has closed them all
        (or "open N" when some are still open at the end).

    hostile.py endless PORT BYTES
        Send BYTES bytes of one line with no newline, while reading.
        Prints "reply REPR", "sent N", and "reset" if the connection was
        reset.

    hostile.py bigsend PORT BYTES [lines]
        Send BYTES bytes (one line of 'x' ending in a newline, or with
        "lines", 100-byte lines) without reading, half-close, then read to
        EOF.  Prints "reply REPR"; exits 1 on a reset.

    hostile.py unterminated PORT BYTES SECS
        Send BYTES bytes of 'x' with no newline in one write and wait, the
        connection open, up to SECS seconds for msgd to answer; then read
        to EOF and print "reply N" (N: the reply's bytes).  With no answer
        by then, print "no reply in SECS s", half-close, read to EOF and
        print "reply N at eof".

    hostile.py drain PORT METRICS_PORT NLIGHT K NHEAVY
        NHEAVY clients pipeline lines without reading until msgd stops
        reading them (output full); NLIGHT clients each exchange K lines
        and then send K more without reading the replies.  Once /metrics
        shows msgd has received all of those, print "ready" and wait for
        standard input to close (the test sends SIGTERM meanwhile).  Then
        read every connection to EOF and print "replies TOTAL",
        "light_ok N", "resets N", "partial N".

    hostile.py churn PORT N
        N threads connect, send a line without a PROXY header and read to
        EOF, over and over, until standard input closes.  Prints "churning"
        once the first connection has been answered, then at the end
        "connections ANSWERED failed FAILED" (a connection fails when it
        cannot connect or gets no reply in 10 s; without a PROXY header
        no reply counts as answered).

    hostile.py logreader FIFO OUT
        A log reader that stops: copy lines from FIFO (msgd's stderr) to
        OUT until msgd's start line, then read nothing and print "full"
        once the pipe is full; when standard input closes, copy the rest
        to OUT until EOF and print "eof".

    hostile.py rotate PORT LOG PID SECS
        Rotate msgd's log as logrotate does, every 2 ms for SECS seconds:
        rename LOG to LOG.1, LOG.2, ... and send PID a SIGHUP.  Prints
        "rotations N", or "died N" if PID went away (PORT is unused).

Nothing here talks to anything but 127.0.0.1.
"""
import errno
import os
import resource
import select
import selectors
import socket
import sys
import time
import urllib.request

HOST = "127.0.0.1"
# Under valgrind (MSGD_SANITIZED) msgd handles lines tens of times slower:
# filling its socket buffers (megabytes of lines) takes far longer.
SLOW = 4 if os.environ.get("MSGD_SANITIZED") else 1


def nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))


def connect(port):
    return socket.create_connection((HOST, port), timeout=10)


def stall(socks, line_bytes, quiet=0.5, limit=30.0 * SLOW):
    """Send lines on every socket until none makes progress for quiet s."""
    line = b"x" * (line_bytes - 1) + b"\n"
    chunk = line * max(1, 65536 // len(line))
    pos = {s: 0 for s in socks}
    sent = 0
    for s in socks:
        s.setblocking(False)
    start = last = time.monotonic()
    while time.monotonic() - last < quiet:
        if time.monotonic() - start > limit:
            sys.exit("hostile.py: msgd never stopped reading")
        progress = False
        for s in socks:
            try:
                n = s.send(memoryview(chunk)[pos[s]:])
            except BlockingIOError:
                continue
            pos[s] = (pos[s] + n) % len(chunk)
            sent += n
            progress = True
        if progress:
            last = time.monotonic()
        else:
            select.select([], socks, [], 0.05)
    return sent


def hung_up(s):
    """Did msgd close s?  Asked with poll() and no events: no reading."""
    p = select.poll()
    p.register(s, 0)
    return any(ev & (select.POLLHUP | select.POLLERR) for _, ev in p.poll(0))


def flood(port, n, line_bytes, mode=None, secs=0.0):
    nofile(n)
    socks = [connect(port) for _ in range(n)]
    print("stalled", stall(socks, line_bytes), flush=True)
    if mode != "wait-close":
        sys.stdin.read()
        return 0
    start = time.monotonic()
    while time.monotonic() - start < secs:
        if all(hung_up(s) for s in socks):
            print("closed", n, "%.2f" % (time.monotonic() - start),
                  flush=True)
            return 0
        time.sleep(0.02)
    print("open", sum(not hung_up(s) for s in socks), flush=True)
    return 0


def endless(port, total):
    s = connect(port)
    s.setblocking(False)
    chunk = b"x" * 65536
    sent, reply, reset, eof = 0, b"", False, False
    while sent < total and not reset:
        r, w, _ = select.select([s] if not eof else [], [s], [], 5)
        if not r and not w:
            break
        if r:
            try:
                d = s.recv(65536)
                reply += d
                eof = not d
            except ConnectionResetError:
                reset = True
                break
        if w:
            try:
                sent += s.send(chunk[:min(len(chunk), total - sent)])
            except (BrokenPipeError, ConnectionResetError):
                reset = True
    s.setblocking(True)
    s.settimeout(10)
    try:
        while not eof and not reset:
            d = s.recv(65536)
            reply += d
            eof = not d
    except ConnectionResetError:
        reset = True
    print("reply", repr(reply.decode("latin-1")))
    print("sent", sent)
    if reset:
        print("reset")
    s.close()
    return 0


def bigsend(port, total, lines=False):
    s = connect(port)
    s.settimeout(30)
    if lines:
        data = (b"x" * 99 + b"\n") * (total // 100)
    else:
        data = b"x" * (total - 1) + b"\n"
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        reply = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            reply += d
    except OSError as e:
        print("error", e)
        return 1
    print("reply", repr(reply.decode("latin-1")))
    return 0


def read_to_eof(s):
    s.settimeout(10 * SLOW)
    reply = b""
    while True:
        d = s.recv(65536)
        if not d:
            return reply
        reply += d


def unterminated(port, total, secs):
    s = connect(port)
    s.sendall(b"x" * total)
    r, _, _ = select.select([s], [], [], secs * SLOW)
    if r:
        print("reply", len(read_to_eof(s)))
    else:
        print("no reply in %g s" % secs)
        s.shutdown(socket.SHUT_WR)
        print("reply", len(read_to_eof(s)), "at eof")
    s.close()
    return 0


def metric(mport, name):
    with urllib.request.urlopen("http://%s:%d/metrics" % (HOST, mport),
                                timeout=5) as r:
        for line in r.read().decode().splitlines():
            f = line.split()
            if len(f) == 2 and f[0] == name:
                return int(f[1])
    raise KeyError(name)


def drain(port, mport, nlight, k, nheavy):
    nofile(nlight + nheavy)
    heavy = [connect(port) for _ in range(nheavy)]
    stall(heavy, 100)
    base = metric(mport, "msgd_messages_received_total")
    light = [connect(port) for _ in range(nlight)]
    for s in light:
        s.sendall(b"question\n" * k)
    want = b"Hello, client!\n" * k
    for s in light:
        got = b""
        while len(got) < len(want):
            d = s.recv(len(want) - len(got))
            if not d:
                sys.exit("hostile.py: EOF in the first exchange")
            got += d
        if got != want:
            sys.exit("hostile.py: wrong replies in the first exchange")
    for s in light:
        s.sendall(b"question\n" * k)	# mid-conversation: not read yet
    deadline = time.monotonic() + 20
    while metric(mport, "msgd_messages_received_total") < \
            base + 2 * k * nlight:
        if time.monotonic() > deadline:
            sys.exit("hostile.py: msgd did not read the second lines")
        time.sleep(0.02)
    print("ready", flush=True)
    sys.stdin.read()

    sel = selectors.DefaultSelector()
    data = {}
    for s in light + heavy:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        data[s] = bytearray()
    resets = 0
    deadline = time.monotonic() + 30
    while sel.get_map() and time.monotonic() < deadline:
        for key, _ in sel.select(1):
            s = key.fileobj
            try:
                d = s.recv(1 << 20)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                resets += 1
                d = b""
            if d:
                data[s] += d
            else:
                sel.unregister(s)
    if sel.get_map():
        sys.exit("hostile.py: %d connections never reached EOF"
                 % len(sel.get_map()))
    total = sum(bytes(d).count(b"\n") for d in data.values())
    partial = sum(1 for d in data.values() if d and not d.endswith(b"\n"))
    light_ok = sum(1 for s in light if bytes(data[s]) == want)
    print("replies", total)
    print("light_ok", light_ok)
    print("resets", resets)
    print("partial", partial, flush=True)
    return 0


def churn(port, n):
    import threading
    stop = threading.Event()
    count = [0]
    failed = [0]
    lock = threading.Lock()

    def client():
        while not stop.is_set():
            try:
                with connect(port) as s:
                    s.sendall(b"hi\n")
                    while s.recv(4096):
                        pass
            except OSError:
                with lock:
                    failed[0] += 1
                continue
            with lock:
                count[0] += 1
                if count[0] == 1:
                    print("churning", flush=True)

    threads = [threading.Thread(target=client) for _ in range(n)]
    for t in threads:
        t.start()
    sys.stdin.read()
    stop.set()
    for t in threads:
        t.join()
    print("connections", count[0], "failed", failed[0], flush=True)
    return 0


def logreader(fifo, out):
    import fcntl
    import termios
    import threading
    fd = os.open(fifo, os.O_RDONLY)
    size = fcntl.fcntl(fd, 1032)        # F_GETPIPE_SZ
    buf = b""
    with open(out, "ab") as f:
        while True:
            data = os.read(fd, 1)
            if not data:
                break
            buf += data
            if data == b"\n":
                f.write(buf)
                f.flush()
                if b"started: listening on" in buf:
                    break
                buf = b""
        resume = threading.Event()
        threading.Thread(target=lambda: (sys.stdin.read(), resume.set()),
                         daemon=True).start()
        avail = bytearray(4)
        said = False
        while not resume.wait(0.02):
            fcntl.ioctl(fd, termios.FIONREAD, avail)
            if not said and int.from_bytes(avail, sys.byteorder) > \
                    size - 2048:
                print("full", flush=True)
                said = True
        while True:
            data = os.read(fd, 65536)
            if not data:
                break
            f.write(data)
            f.flush()
    print("eof", flush=True)
    return 0


def rotate(log, pid, secs):
    import signal
    n = 0
    end = time.monotonic() + secs
    while time.monotonic() < end:
        n += 1
        try:
            os.rename(log, "%s.%d" % (log, n))
        except FileNotFoundError:
            pass
        try:
            os.kill(pid, signal.SIGHUP)
        except ProcessLookupError:
            print("died", n, flush=True)
            return 1
        time.sleep(0.002)
    print("rotations", n, flush=True)
    return 0


def main(argv):
    cmd = argv[1]
    if cmd == "logreader":
        return logreader(argv[2], argv[3])
    port = int(argv[2])
    if cmd == "flood":
        mode = argv[5] if len(argv) > 5 else None
        secs = float(argv[6]) if len(argv) > 6 else 0.0
        return flood(port, int(argv[3]), int(argv[4]), mode, secs)
    if cmd == "endless":
        return endless(port, int(argv[3]))
    if cmd == "bigsend":
        return bigsend(port, int(argv[3]), argv[4:] == ["lines"])
    if cmd == "unterminated":
        return unterminated(port, int(argv[3]), float(argv[4]))
    if cmd == "drain":
        return drain(port, int(argv[3]), int(argv[4]), int(argv[5]),
                     int(argv[6]))
    if cmd == "rotate":
        return rotate(argv[3], int(argv[4]), float(argv[5]))
    if cmd == "churn":
        return churn(port, int(argv[3]))
    sys.exit("hostile.py: unknown command " + cmd)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
