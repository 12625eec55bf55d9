#!/bin/sh
# daemon-syslog.sh - msgd -d logging to syslog says on the terminal when
# nothing listens on /dev/log, and still starts; with a listener there it
# says nothing and its log arrives.
#
# /dev/log is made absent, a plain file, or our own datagram socket in a
# private mount namespace with a tmpfs over /dev, so the machine's own
# /dev/log (and its syslog daemon, if any) is never touched.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC

if [ -z "${MSGD_TEST_MOUNT_NS:-}" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP: daemon-syslog: needs root for a mount namespace"
		exit 77
	fi
	if ! unshare -m --propagation private true 2>/dev/null; then
		echo "SKIP: daemon-syslog: unshare -m does not work here"
		exit 77
	fi
	MSGD_TEST_MOUNT_NS=1 exec unshare -m --propagation private \
	    /bin/sh "$0" "$@"
fi

. "${top_srcdir:-..}/tests/lib.sh"
need nc
need ss
need python3

# A /dev of our own, with only what msgd and this script use.
mount -t tmpfs -o mode=755 msgd-test-dev /dev ||
    skip "cannot mount a tmpfs over /dev in the namespace"
mknod -m 666 /dev/null c 1 3 && mknod -m 666 /dev/zero c 1 5 &&
    mknod -m 666 /dev/random c 1 8 && mknod -m 666 /dev/urandom c 1 9 &&
    ln -s /proc/self/fd /dev/fd && ln -s /proc/self/fd/0 /dev/stdin &&
    ln -s /proc/self/fd/1 /dev/stdout && ln -s /proc/self/fd/2 /dev/stderr ||
    fail "cannot populate the private /dev"

# daemon NAME: run "msgd -d" logging to syslog by default; sets rc, PID,
# and leaves its terminal output in $T/NAME.out and $T/NAME.err.
daemon() {
	"$MSGD" -d -p 0 -P "$T/$1.pid" > "$T/$1.out" 2> "$T/$1.err"
	rc=$?
	PID=$(cat "$T/$1.pid" 2>/dev/null)
	[ -n "$PID" ] && track "$PID"
	[ ! -s "$T/$1.out" ] || fail "$1: msgd -d wrote to stdout"
}

# port_of PID: the loopback port PID listens on, from ss (its log is lost).
port_of() {
	ss -Hltnp | awk -v p="pid=$1," 'index($0, p) && $4 ~ /^127\.0\.0\.1:/ {
		sub(/.*:/, "", $4); print $4; exit }'
}

# stop_daemon PID: SIGTERM, and wait until it is gone.
stop_daemon() {
	kill -TERM "$1" || fail "daemon $1 is not running"
	wait_gone "$1" 15 || fail "daemon $1 did not exit on SIGTERM"
}

# expect_warning NAME WHY: one line on the terminal, naming -L FILE.
expect_warning() {
	expect_eq "$rc" 0 "$1: msgd -d exit status"
	expect_eq "$(wc -l < "$T/$1.err")" 1 "$1: lines on stderr"
	grep -qF "msgd: cannot reach syslog at /dev/log ($2): the log is lost" \
	    "$T/$1.err" || fail "$1: no warning: $(cat "$T/$1.err")"
	grep -qF "use -L FILE" "$T/$1.err" || fail "$1: no way out named"
}

# expect_answers NAME: the daemon started all the same and answers.
expect_answers() {
	alive "$PID" || fail "$1: daemon (pid '$PID') is not running"
	MSGD_PORT=$(port_of "$PID")
	[ -n "$MSGD_PORT" ] || fail "$1: daemon $PID listens on no port"
	expect_eq "$(printf 'hi\n' | ask)" "Hello, client!" "$1: reply"
}

# No /dev/log at all (a container without a syslog daemon).
[ ! -e /dev/log ] || fail "/dev/log exists in the private /dev"
daemon absent
expect_warning absent "No such file or directory"
expect_answers absent
ABSENT_PID=$PID		# runs on: its log must reach a syslog started later
pass "no /dev/log: warned on the terminal, started and answered"

# Something at /dev/log that is not a socket: the check connects, it does
# not just look for the name.
: > /dev/log
daemon file
expect_warning file "Connection refused"
expect_answers file
stop_daemon "$PID"
rm -f /dev/log
pass "/dev/log not a socket: warned, started and answered"

# A syslog daemon: our own datagram socket on /dev/log, writing what it
# receives to $T/syslog.out.  No warning, and the log arrives there.
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
out = open(sys.argv[1], "ab", buffering=0)
while True:
    out.write(s.recv(65536) + b"\n")
' "$T/syslog.out" &
track $!
wait_for 10 test -S /dev/log || fail "the test syslog did not start"

# The daemon started without syslog logs there once one listens.
kill -USR1 "$ABSENT_PID"
wait_for 10 grep -q "msgd\[$ABSENT_PID\]: stats:" "$T/syslog.out" ||
    fail "the first daemon's SIGUSR1 line did not reach the new syslog"
stop_daemon "$ABSENT_PID"
pass "syslog started later: the daemon's log reaches it"

daemon listened
expect_eq "$rc" 0 "listened: msgd -d exit status"
[ ! -s "$T/listened.err" ] ||
    fail "listened: msgd -d printed: $(cat "$T/listened.err")"
msgd_wait_started "$T/syslog.out" "$PID"
grep -q "msgd\[$PID\]: msgd .* started: listening on" "$T/syslog.out" ||
    fail "listened: start line not from the daemon: $(cat "$T/syslog.out")"
expect_eq "$(port_of "$PID")" "$MSGD_PORT" "listened: port in the log"
expect_answers listened
stop_daemon "$PID"
grep -q 'cannot reach syslog' "$T/syslog.out" &&
    fail "listened: warned about syslog in syslog"
pass "syslog listening: no warning, the log arrives there"
