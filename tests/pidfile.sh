#!/bin/sh
# pidfile.sh - -P where the -u user can write the directory: a symbolic
# link, hard link, FIFO or directory planted at the path is refused with
# one error line and status 73, and what it points to is left untouched;
# a plain pidfile is created 0644 with the pid and removed at exit.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"

mkdir "$T/run" "$T/secret"
target=$T/secret/shadow
pidfile=$T/run/msgd.pid
printf 'root:secret:1:\n' > "$target"
chmod 0600 "$target"
want=$(cat "$target")

# refused WHAT [MSGD-ARGS...]: msgd -P $pidfile exits 73 with one line on
# stderr naming the pidfile, and the planted target is as it was.
refused() {
	local what=$1 rc
	shift
	timeout 10 "$MSGD" -p 0 -L "$T/x.log" -P "$pidfile" "$@" \
	    > "$T/out" 2> "$T/err"
	rc=$?
	expect_eq "$rc" 73 "exit status with a $what at the pidfile"
	expect_eq "$(wc -l < "$T/err")" 1 "error lines with a $what"
	grep -qF "cannot open pidfile $pidfile" "$T/err" ||
	    fail "$what: unclear error: $(cat "$T/err")"
	expect_eq "$(cat "$target")" "$want" "target's content after a $what"
	expect_eq "$(stat -c %a "$target")" 600 "target's mode after a $what"
}

ln -s "$target" "$pidfile"
refused "symbolic link"
grep -q 'symbolic link' "$T/err" || fail "symlink: $(cat "$T/err")"
refused "symbolic link" -d
[ -L "$pidfile" ] || fail "the symbolic link was removed or replaced"
rm "$pidfile"

# A dangling link is not followed to create a file either.
ln -s "$T/secret/new" "$pidfile"
refused "dangling symbolic link"
[ ! -e "$T/secret/new" ] || fail "msgd created the dangling link's target"
rm "$pidfile"

ln "$target" "$pidfile"
refused "hard link"
rm "$pidfile"

mkfifo "$pidfile"
refused "FIFO"
grep -q 'not a regular file' "$T/err" || fail "FIFO: $(cat "$T/err")"
rm "$pidfile"

mkdir "$pidfile"
refused "directory"
rmdir "$pidfile"

# A plain pidfile: 0644 whatever the umask, the pid in it, gone at exit.
umask 077
msgd_start -P "$pidfile"
expect_eq "$(stat -c %a "$pidfile")" 644 "pidfile mode"
expect_eq "$(cat "$pidfile")" "$MSGD_PID" "pid in the pidfile"
msgd_stop
[ ! -e "$pidfile" ] || fail "pidfile left behind at exit"
pass "pidfile refuses links, FIFOs and directories"
