#!/bin/sh
# limits-max-message.sh - -M BYTES: a line of BYTES is answered; a longer
# one (in one-shot mode: the first message) gets "error: message too
# long" and a graceful close (no reset, nothing after it).  In one-shot
# mode a first message without a newline is answered at once if it is
# shorter than 16 KiB, read on to EOF if not.  A line that
# never ends costs msgd at most BYTES + 256 KiB of memory (VmHWM growth:
# the line up to the limit, one 16 KiB read buffer, allocator slack).
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need nc
need python3

TOO_LONG="error: message too long"
# line N: N bytes of 'x' and a newline.
line() { head -c "$1" /dev/zero | tr '\0' x; echo; }
py() { python3 "${top_srcdir:-..}/tests/hostile.py" "$@"; }

# One-shot, -M 1024, with nc: at the limit, and one byte over it.
msgd_start -M 1024
expect_eq "$(line 1024 | ask)" "Hello, client!" "reply to 1024 bytes"
expect_eq "$(line 1024 | tr -d '\n' | ask)" "Hello, client!" \
    "reply to 1024 bytes without a newline"
line 1025 | ask > "$T/out"
expect_eq "$?" 0 "nc status after a line of 1025 bytes (a reset?)"
expect_eq "$(cat "$T/out")" "$TOO_LONG" "reply to 1025 bytes"
# CRLF is the terminator, not content: 1024 bytes + CRLF is fine.
expect_eq "$(line 1024 | sed 's/$/\r/' | ask)" "Hello, client!" \
    "reply to 1024 bytes + CRLF"
msgd_stop

# One-shot, the default 65536: a line longer than one read (16 KiB) is
# still one message, answered whole or refused whole.
msgd_start
expect_eq "$(py bigsend "$MSGD_PORT" 65537)" "reply 'Hello, client!\\n'" \
    "reply to a 65536-byte line"
expect_eq "$(py bigsend "$MSGD_PORT" 65538)" "reply '$TOO_LONG\\n'" \
    "reply to a 65537-byte line"
msgd_stop
msgd_start -e
py bigsend "$MSGD_PORT" 65537 > "$T/echo"
expect_eq "$(wc -c < "$T/echo")" $((65536 + 11)) \
    "bytes of the echo of a 65536-byte line (cut short?)"
# A first message shorter than 16 KiB without a newline is answered whole
# while the client waits, even when it takes more than one read (reads
# are 16256 bytes); one of 16 KiB or more is read on to EOF (or newline).
for n in 16255 16256 16257 16300 16383; do
	expect_eq "$(py unterminated "$MSGD_PORT" $n 5)" "reply $((n + 1))" \
	    "echo of $n bytes without a newline, the client waiting"
done
for n in 16384 20000; do
	expect_eq "$(py unterminated "$MSGD_PORT" $n 1 | tr '\n' ' ')" \
	    "no reply in 1 s reply $((n + 1)) at eof " \
	    "echo of $n bytes without a newline"
done
msgd_stop

# Keep-open: lines before the long one are answered, the long one is
# refused, and nothing after it is read.
msgd_start -k -M 1024
{ echo a; line 1025; echo b; } | ask -N > "$T/out"
expect_eq "$?" 0 "nc status in keep-open mode (a reset?)"
printf 'Hello, client!\n%s\n' "$TOO_LONG" > "$T/want"
cmp -s "$T/want" "$T/out" || fail "keep-open replies: $(cat "$T/out")"
# The same when the long line arrives a byte at a time after a good one.
{ echo a; sleep 0.2; line 1025; } | ask -N > "$T/out"
cmp -s "$T/want" "$T/out" || fail "keep-open replies: $(cat "$T/out")"
alive "$MSGD_PID" || fail "msgd died"
msgd_stop

# An endless line (8 MB, no newline) against -M 1 MiB, in both modes and
# with --echo: refused once past the limit, at a bounded cost.
M=1048576
for mode in "-k" "" "-k -e"; do
	msgd_start $mode -M $M
	want=Hello,\ client!
	case $mode in *-e*) want=hi ;; esac
	expect_eq "$(printf 'hi\n' | ask -N)" "$want" "warm-up"
	hwm0=$(vm_kb "$MSGD_PID" VmHWM)
	py endless "$MSGD_PORT" 8000000 > "$T/endless"
	grep -qx "reply '$TOO_LONG\\\\n'" "$T/endless" ||
	    fail "msgd $mode: endless line: $(cat "$T/endless")"
	! grep -q reset "$T/endless" || fail "msgd $mode reset the connection"
	hwm1=$(vm_kb "$MSGD_PID" VmHWM)
	grow=$((hwm1 - hwm0))
	echo "msgd $mode -M $M: VmHWM $hwm0 -> $hwm1 kB (+$grow) for 8 MB"
	[ -n "${MSGD_SANITIZED:-}" ] ||
	[ "$grow" -le $((M / 1024 + 256)) ] ||
	    fail "msgd $mode: an endless line cost $grow kB (limit $((M / 1024 + 256)))"
	expect_eq "$(printf 'hi\n' | ask -N)" "$want" "reply afterwards"
	msgd_stop
done
pass "-M refuses long lines gracefully; an endless line costs <= M + 256 kB"
