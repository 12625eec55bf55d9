#!/usr/bin/env python3
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
"""hold.py PORT N [HOST [LINE]] - open N connections to msgd and hold them.

Prints "ready N" once every connection is established -- and, given a
LINE, has sent it on each and read one reply line back -- then holds them,
sending nothing more and ignoring what msgd sends or closes, until its
standard input closes.  Then it closes them all and prints how many bytes msgd sent
in total.  Used by tests that need clients which just sit there.  With
HOLD_TLS=1 in the environment each connection is TLS (the server's
certificate is not checked).
"""
import os
import resource
import socket
import sys


def main():
    port, n = int(sys.argv[1]), int(sys.argv[2])
    host = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1"
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 16 <= hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (n + 16, hard))
    wrap = lambda s: s
    if os.environ.get("HOLD_TLS"):
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        wrap = ctx.wrap_socket
    # One handshake at a time, as clients arriving one by one.
    socks = [wrap(socket.create_connection((host, port), timeout=10))
             for _ in range(n)]
    if len(sys.argv) > 4:
        line = sys.argv[4].encode() + b"\n"
        for s in socks:
            s.sendall(line)
        for s in socks:
            reply = b""
            while not reply.endswith(b"\n"):
                got = s.recv(4096)
                if not got:
                    sys.exit("hold.py: closed before a reply")
                reply += got
    print("ready", n, flush=True)
    sys.stdin.read()
    total = 0
    for s in socks:
        s.setblocking(False)
        try:
            total += len(s.recv(65536))
        except OSError:
            pass
        s.close()
    print("received", total, flush=True)


if __name__ == "__main__":
    main()
