#!/bin/sh
# hostile-user.sh - -u NAME: started as root, msgd runs as NAME once it
# listens (real, effective, saved and filesystem uid and gid are NAME's,
# the only supplementary group is NAME's own) and still answers; an
# unknown user is a clear one-line error and exit 67 (EX_NOUSER); -u
# without root is exit 77 (EX_NOPERM).
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need nc

[ "$(id -u)" -eq 0 ] || skip "needs root"
id nobody > /dev/null 2>&1 || skip "no user 'nobody'"
uid=$(id -u nobody)
gid=$(id -g nobody)

# The log is opened as root before the drop: let nobody into $T anyway,
# in case it is reopened.
chmod 755 "$T"
msgd_start -u nobody
st=/proc/$MSGD_PID/status
expect_eq "$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "$st")" \
    "$uid $uid $uid $uid" "Uid"
expect_eq "$(awk '/^Gid:/ { print $2, $3, $4, $5 }' "$st")" \
    "$gid $gid $gid $gid" "Gid"
groups=$(awk '/^Groups:/ { $1 = ""; print }' "$st" | tr -s ' ' | sed 's/^ //; s/ $//')
[ -z "$groups" ] || [ "$groups" = "$gid" ] ||
    fail "supplementary groups left: '$groups'"
expect_eq "$(awk '/^CapEff:/ { print $2 }' "$st")" 0000000000000000 \
    "effective capabilities"
expect_eq "$(printf 'hi\n' | ask)" "Hello, client!" "reply as nobody"
msgd_stop

"$MSGD" -p 0 -u no-such-user > "$T/out" 2> "$T/err"
expect_eq "$?" 67 "exit status for an unknown user"
expect_eq "$(cat "$T/err")" "msgd: unknown user 'no-such-user'" \
    "message for an unknown user"

if command -v setpriv > /dev/null 2>&1; then
	setpriv --reuid="$uid" --regid="$gid" --clear-groups \
	    "$MSGD" -p 0 -u nobody > "$T/out" 2> "$T/err"
	expect_eq "$?" 77 "exit status for -u without root"
	grep -q 'needs msgd to be started as root' "$T/err" ||
	    fail "message for -u without root: $(cat "$T/err")"
fi
pass "-u nobody drops uid $uid, gid $gid and groups; bad users are refused"
