#!/bin/sh
# msgbench.sh - msgbench runs a second in each mode against msgd, checks
# every reply, and fails when the replies are wrong.
. "${top_srcdir:-..}/tests/lib.sh"
MSGBENCH=${MSGBENCH:-$(dirname "$MSGD")/msgbench}
[ -x "$MSGBENCH" ] || fail "msgbench not built at $MSGBENCH"

# field JSON KEY: a number from msgbench's --json line.
field() { sed -n "s/.*\"$2\": \\([0-9.]*\\).*/\\1/p" "$1"; }
# run NAME ARGS...: msgbench must exit 0 with replies and no errors.
run() {
	name=$1
	shift
	"$MSGBENCH" -p "$MSGD_PORT" --json "$@" > "$T/$name" 2> "$T/$name.err" ||
	    fail "msgbench $*: exit $?: $(cat "$T/$name" "$T/$name.err")"
	expect_eq "$(wc -l < "$T/$name")" "1" "JSON lines from msgbench $*"
	[ "$(field "$T/$name" messages | cut -d. -f1)" -gt 0 ] ||
	    fail "msgbench $*: no replies"
	expect_eq "$(field "$T/$name" errors)" "0" "errors in msgbench $*"
}

msgd_start
run conn conn -c 10 -d 1 -s 4
msgd_stop

msgd_start -k
run ping ping -c 10 -d 1
run pipe pipe -c 10 -D 8 -d 1
# -n: exactly that many messages.
run count ping -c 4 -n 1000
expect_eq "$(field "$T/count" messages)" "1000" "messages with -n 1000"

# A wrong --expect: every reply is a mismatch, exit 1.
"$MSGBENCH" -p "$MSGD_PORT" --json -q -c 2 -n 10 --expect 'Goodbye' \
    > "$T/bad" 2>&1
expect_eq "$?" "1" "exit status with wrong replies"
[ "$(field "$T/bad" mismatch)" -gt 0 ] || fail "no mismatch counted"
msgd_stop

msgd_start -k -e
run echo ping --echo -m 'echo this' -c 5 -d 1
msgd_stop

# Nothing listening: 69.
"$MSGBENCH" -p "$MSGD_PORT" -q -c 2 -n 2 > /dev/null 2>&1
expect_eq "$?" "69" "exit status with nobody listening"
# Usage errors: 64.
"$MSGBENCH" -c 0 2> "$T/err"
expect_eq "$?" "64" "exit status for -c 0"
grep -q "invalid --conns '0'" "$T/err" || fail "usage message"
pass "msgbench in every mode"
