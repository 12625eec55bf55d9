#!/usr/bin/env python3
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
"""activate.py [--unix PATH | --sndbuf BYTES] MSGD [ARGS...] - hold a
listening socket as systemd does for msgd.socket, and run msgd on it
again and again, as "systemctl restart msgd" does.

Listens on 127.0.0.1, a kernel-chosen port (backlog 4096, as
contrib/msgd.socket), and prints "port N"; with --unix, on a Unix-domain
socket it binds at PATH instead (and leaves there, as systemd does while
the socket unit runs), and prints "unix PATH"; with --sndbuf, the TCP
socket's SO_SNDBUF is BYTES (as systemd's SendBuffer=), which the
connections msgd accepts on it inherit.  Starts MSGD ARGS with the
socket as descriptor 3 and LISTEN_FDS=1, LISTEN_PID=its pid, and prints
"started PID".  Each line "restart" on stdin stops it (SIGTERM, then waits
for it to exit, printing "exited STATUS") and starts it again; end of
input stops it and exits.  Gives up after 120 seconds.
"""
import os
import select
import signal
import socket
import sys
import time


def spawn(argv):
    pid = os.fork()
    if pid == 0:
        env = dict(os.environ)
        env["LISTEN_FDS"] = "1"
        env["LISTEN_PID"] = str(os.getpid())
        env.pop("LISTEN_FDNAMES", None)
        try:
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    print("started", pid, flush=True)
    return pid


def stop(pid):
    os.kill(pid, signal.SIGTERM)
    _, status = os.waitpid(pid, 0)
    print("exited", os.waitstatus_to_exitcode(status), flush=True)


def main():
    argv = sys.argv[1:]
    if argv[:1] == ["--unix"]:
        path = argv[1]
        argv = argv[2:]
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
    else:
        path = None
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if argv[:1] == ["--sndbuf"]:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, int(argv[1]))
            argv = argv[2:]
        s.bind(("127.0.0.1", 0))
    s.listen(4096)
    if s.fileno() != 3:
        os.dup2(s.fileno(), 3)
    os.set_inheritable(3, True)
    if path is not None:
        print("unix", path, flush=True)
    else:
        print("port", s.getsockname()[1], flush=True)
    pid = spawn(argv)
    deadline = time.monotonic() + 120
    buf = b""
    while time.monotonic() < deadline:
        r, _, _ = select.select([sys.stdin], [], [], 0.5)
        if not r:
            continue
        data = os.read(sys.stdin.fileno(), 4096)
        if not data:
            break
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if line.strip() == b"restart":
                stop(pid)
                pid = spawn(argv)
    stop(pid)


if __name__ == "__main__":
    main()
