#!/bin/sh
# systemd.sh - socket activation, readiness notification, and the units.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need nc

free_port() {
	python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

if [ "${MSGD_HAVE_SYSTEMD:-no}" != yes ]; then
	# Built without libsystemd: inherited sockets are refused, clearly.
	LISTEN_FDS=1 LISTEN_PID=$$ "$MSGD" -p 0 2> "$T/err"
	expect_eq "$?" "69" "exit status with LISTEN_FDS but no systemd"
	grep -q 'built without systemd support' "$T/err" ||
	    fail "no clear message: $(cat "$T/err")"
	pass "LISTEN_FDS refused by a build without systemd"
	exit 0
fi
need systemd-socket-activate

# Socket activation: systemd-socket-activate holds the listening socket
# and execs msgd (same PID) on the first connection.
port=$(free_port)
MSGD_LOG=$T/msgd.log
systemd-socket-activate -l "127.0.0.1:$port" "$MSGD" -p 1 -L "$MSGD_LOG" \
    2> "$T/activate.err" &
MSGD_PID=$!
track "$MSGD_PID"
wait_for 10 grep -q "Listening on 127.0.0.1:$port" "$T/activate.err" ||
    fail "systemd-socket-activate did not listen"
MSGD_PORT=$port
expect_eq "$(printf 'hi\n' | ask)" "Hello, client!" "activated reply"
grep -q "started: listening on 127.0.0.1:$port (from systemd)" "$MSGD_LOG" ||
    fail "msgd did not serve the inherited socket"
# -p 1 was ignored: msgd bound nothing of its own.
expect_eq "$(printf 'again\n' | ask)" "Hello, client!" "second reply"
msgd_stop

# Readiness: READY=1 once listening, STOPPING=1 on SIGTERM.
mkfifo "$T/notify.in"
python3 "${top_srcdir:-..}/tests/notify.py" "$T/notify.sock" \
    < "$T/notify.in" > "$T/notify.out" &
np=$!
track "$np"
exec 8> "$T/notify.in"
wait_for 10 grep -q bound "$T/notify.out" || fail "notify socket"
NOTIFY_SOCKET=$T/notify.sock msgd_start
wait_for 5 grep -qx 'READY=1' "$T/notify.out" || fail "no READY=1"
grep -q "^STATUS=serving on 127.0.0.1:$MSGD_PORT" "$T/notify.out" ||
    fail "no STATUS line: $(cat "$T/notify.out")"
msgd_stop
wait_for 5 grep -qx 'STOPPING=1' "$T/notify.out" || fail "no STOPPING=1"

# SIGUSR2: once the new msgd serves, the old one (the main process) names
# it MAINPID=, and does not say STOPPING=1 (the service goes on).
NOTIFY_SOCKET=$T/notify.sock msgd_start
old=$MSGD_PID
n_stopping=$(grep -cx 'STOPPING=1' "$T/notify.out")
msgd_upgrade "$old" 10
new=$NEW
wait_for 5 grep -qx "MAINPID=$new" "$T/notify.out" ||
    fail "no MAINPID=$new: $(cat "$T/notify.out")"
wait "$old" || fail "the old msgd exited with status $?"
expect_eq "$(grep -cx 'STOPPING=1' "$T/notify.out")" "$n_stopping" \
    "STOPPING=1 from the upgraded msgd"
expect_eq "$(printf 'hi\n' | ask)" "Hello, client!" "reply after upgrade"
kill -TERM "$new"
# Its parent is gone: init reaps it, so a zombie counts as stopped.
wait_for 10 sh -c "! kill -0 $new 2>/dev/null ||
    grep -q '^State:.*Z' /proc/$new/status" || fail "new msgd did not stop"
exec 8>&-

# The units pass systemd-analyze verify (with ExecStart at this build).
if command -v systemd-analyze >/dev/null 2>&1; then
	unit=${MSGD_BUILDDIR:-..}/contrib/msgd.service
	[ -f "$unit" ] || fail "contrib/msgd.service was not generated"
	mkdir "$T/units"
	sed "s|^ExecStart=[^ ]*|ExecStart=$MSGD|" "$unit" \
	    > "$T/units/msgd.service"
	cp "${top_srcdir:-..}/contrib/msgd.socket" "$T/units/"
	# --man=no: the manual page is not installed from the build tree.
	(cd "$T/units" &&
	    systemd-analyze verify --man=no msgd.service msgd.socket) \
	    > "$T/verify" 2>&1 || fail "systemd-analyze: $(cat "$T/verify")"
	# Warnings (an unknown or misspelt directive) count as failures too.
	[ ! -s "$T/verify" ] || fail "systemd-analyze: $(cat "$T/verify")"
else
	echo "note: systemd-analyze not installed, units not verified" >&2
fi
pass "socket activation, readiness, MAINPID on SIGUSR2, units"
