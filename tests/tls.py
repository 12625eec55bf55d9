#!/usr/bin/env python3
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
"""tls.py - TLS clients for msgd's TLS tests, with Python's ssl module.

    tls.py client PORT [OPTION...]
        The seed's client over TLS: connect, send "Hello, server!", read
        once (1024 bytes), print it.  Prints "refused: REASON" and exits 2
        if the handshake fails.  Options: --version 1.1|1.2|1.3 (only
        that one), --cert FILE --key FILE (a client certificate), --proxy
        (send a PROXY v1 header in plaintext first, as HAProxy's
        send-proxy does), --keep (read a line, then wait for a line on
        standard input before each further line; print each reply).

    tls.py fingerprint PORT
        Print the SHA-256 of the certificate msgd serves.

    tls.py load PORT SECS [THREADS]
        For SECS seconds, THREADS (4) clients each connect, handshake,
        send a line and read its reply, again and again (msgd -k or
        not).  Prints "ok N" (replies), or exits 1 at the first failure.

    tls.py halfclose PORT BYTES
        Send BYTES of 64-byte lines and then "tail" with no newline,
        close the write side without close_notify (as a client that
        shuts its socket down does), read everything until msgd closes,
        a little at a time from another thread, and print "got N" (the
        bytes read).  Against msgd -k -e, N is BYTES + 5: every line and
        the tail echoed (with its newline), as in plaintext.

    tls.py burst PORT LINES
        TLS 1.3 through memory BIOs: finish the handshake, then send the
        client's Finished and LINES lines, a TLS record each, in one
        send(2), so that they reach msgd in one segment and OpenSSL reads
        them ahead with the handshake's end.  Read replies until LINES
        lines have come, msgd closes, or 10 seconds pass; print
        "replies N" (the lines that came back).

    tls.py stall PORT SECS
        TLS 1.3 through memory BIOs, over a socket with a 4 KiB receive
        buffer: send the ClientHello and, once the server's flight has
        begun to arrive, a middlebox-compatibility ChangeCipherSpec record
        (which the server drops), and read nothing for SECS seconds: a
        server flight bigger than the buffers waits, with the server's
        socket readable all along.
        Print "stalled" when that starts; then finish the handshake, send
        a line and print the reply.

    tls.py hostile PORT SECS
        Open three connections that never finish a handshake: plaintext
        ("Hello, server!\\n"), the first 40 bytes of a real ClientHello,
        nothing at all.  Print "ready", then wait up to SECS seconds for
        msgd to close each one, and print "closed KIND SECONDS" or
        "open KIND".
"""
import hashlib
import select
import socket
import ssl
import sys
import time

VERSIONS = {"1.1": ssl.TLSVersion.TLSv1_1, "1.2": ssl.TLSVersion.TLSv1_2,
            "1.3": ssl.TLSVersion.TLSv1_3}


def context(version=None, cert=None, key=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if version is not None:
        if version == "1.1":
            # OpenSSL 3 refuses TLS 1.1 at its default security level.
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = VERSIONS[version]
        ctx.maximum_version = VERSIONS[version]
    if cert is not None:
        ctx.load_cert_chain(cert, key)
    return ctx


def client(port, args):
    version = cert = key = None
    proxy = keep = False
    while args:
        a = args.pop(0)
        if a == "--version":
            version = args.pop(0)
        elif a == "--cert":
            cert = args.pop(0)
        elif a == "--key":
            key = args.pop(0)
        elif a == "--proxy":
            proxy = True
        elif a == "--keep":
            keep = True
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    if proxy:
        sock.sendall(b"PROXY TCP4 192.0.2.9 127.0.0.1 40000 %d\r\n" % port)
    try:
        s = context(version, cert, key).wrap_socket(sock)
        s.sendall(b"Hello, server!" + (b"\n" if keep else b""))
        data = s.recv(1024)
    except (ssl.SSLError, OSError) as e:
        print("refused: %s" % e)
        sys.stdout.flush()
        return 2
    sys.stdout.write(data.decode(errors="replace"))
    sys.stdout.flush()
    while keep:
        if not sys.stdin.readline():
            break
        s.sendall(b"again\n")
        sys.stdout.write(s.recv(1024).decode(errors="replace"))
        sys.stdout.flush()
    s.close()
    return 0


def fingerprint(port):
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    s = context().wrap_socket(sock)
    print(hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest())
    s.close()
    return 0


def client_hello():
    """The first bytes a TLS client sends."""
    out = ssl.MemoryBIO()
    obj = context().wrap_bio(ssl.MemoryBIO(), out)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def hostile(port, secs):
    kinds = {"plaintext": b"Hello, server!\n",
             "truncated": client_hello()[:40], "silent": b""}
    socks = {}
    for kind, data in kinds.items():
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(data)
        s.setblocking(False)
        socks[s] = kind
    start = time.monotonic()
    print("ready")
    sys.stdout.flush()
    while socks and time.monotonic() - start < secs:
        r, _, _ = select.select(list(socks), [], [], 0.1)
        for s in r:
            try:
                if s.recv(4096):
                    continue    # an alert: the close follows
            except OSError:
                pass
            print("closed %s %.1f" % (socks.pop(s), time.monotonic() - start))
            sys.stdout.flush()
            s.close()
    for kind in socks.values():
        print("open %s" % kind)
    return 0


def load(port, secs, nthreads):
    import threading
    ctx = context()
    end = time.monotonic() + secs
    count = [0]
    errors = []

    def run():
        while time.monotonic() < end and not errors:
            try:
                sock = socket.create_connection(("127.0.0.1", port),
                                                timeout=30)
                with ctx.wrap_socket(sock) as s:
                    s.sendall(b"Hello, server!\n")
                    if not s.recv(1024).startswith(b"Hello, client!"):
                        errors.append("bad reply")
                count[0] += 1
            except (ssl.SSLError, OSError) as e:
                errors.append(str(e))
    threads = [threading.Thread(target=run) for _ in range(nthreads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        print("failed: %s" % errors[0])
        return 1
    print("ok %d" % count[0])
    return 0


def halfclose(port, nbytes):
    s = context().wrap_socket(
        socket.create_connection(("127.0.0.1", port), timeout=20))
    s.setblocking(False)
    out = (b"x" * 63 + b"\n") * (nbytes // 64) + b"tail"
    sent = got = 0
    shut = False
    end = time.monotonic() + 20
    # One thread (an SSL object is not for two at once): write while
    # msgd takes it, read a little at a time, so that its output backs up.
    while time.monotonic() < end:
        if sent < len(out):
            try:
                sent += s.send(out[sent:sent + 16384])
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                pass
        elif not shut:
            # The socket's, not TLS's: no close_notify.
            socket.socket.shutdown(s, socket.SHUT_WR)
            shut = True
        try:
            data = s.recv(4096)
            if not data:
                break
            got += len(data)
            time.sleep(0.001)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            select.select([s], [s] if sent < len(out) else [], [], 0.01)
        except (ssl.SSLError, OSError) as e:
            print("error after %d: %s" % (got, e))
            break
    print("got %d" % got)
    return 0


def handshake(sock, tls, inc, out):
    """Drive the memory-BIO client tls over sock to the handshake's end.
    TLS 1.3: the client's Finished is then in out, not sent yet.  False
    (and a line) if the server closed first."""
    while True:
        try:
            tls.do_handshake()
            return True
        except ssl.SSLWantReadError:
            sock.sendall(out.read())
            data = sock.recv(65536)
            if not data:
                print("closed in the handshake")
                return False
            inc.write(data)


def burst(port, nlines):
    ctx = context("1.3")
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(inc, out)
    if not handshake(sock, tls, inc, out):
        return 1
    for i in range(nlines):
        tls.write(b"Hello, server! %d\n" % i)
    sock.sendall(out.read())
    got = b""
    end = time.monotonic() + 10
    while got.count(b"\n") < nlines and time.monotonic() < end:
        try:
            got += tls.read(65536)
            continue
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLZeroReturnError:
            break
        try:
            data = sock.recv(16384)
        except socket.timeout:
            break
        if not data:
            break
        inc.write(data)
    print("replies %d" % got.count(b"\n"))
    sock.close()
    return 0


def stall(port, secs):
    ctx = context("1.3")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(20)
    sock.connect(("127.0.0.1", port))
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(inc, out)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    sock.sendall(out.read())
    # Once the server has read the ClientHello and is writing (its first
    # bytes are here), a record that makes its socket readable.
    sock.recv(1, socket.MSG_PEEK)
    sock.sendall(b"\x14\x03\x03\x00\x01\x01")
    print("stalled", flush=True)
    time.sleep(secs)
    if not handshake(sock, tls, inc, out):
        return 1
    tls.write(b"Hello, server!\n")
    sock.sendall(out.read())
    got = b""
    while b"\n" not in got:
        try:
            got += tls.read(1024)
        except ssl.SSLWantReadError:
            data = sock.recv(65536)
            if not data:
                break
            inc.write(data)
    print(got.decode(errors="replace").strip())
    return 0


def main():
    cmd, port = sys.argv[1], int(sys.argv[2])
    if cmd == "client":
        return client(port, sys.argv[3:])
    if cmd == "fingerprint":
        return fingerprint(port)
    if cmd == "load":
        return load(port, float(sys.argv[3]),
                    int(sys.argv[4]) if len(sys.argv) > 4 else 4)
    if cmd == "halfclose":
        return halfclose(port, int(sys.argv[3]))
    if cmd == "burst":
        return burst(port, int(sys.argv[3]))
    if cmd == "stall":
        return stall(port, float(sys.argv[3]))
    if cmd == "hostile":
        return hostile(port, float(sys.argv[3]))
    return 64


if __name__ == "__main__":
    sys.exit(main())
