#!/bin/sh
# hostile-garbage.sh - garbage in (NUL bytes, random binary, invalid UTF-8,
# lone CRs, 64 KiB of bare newlines) never crashes msgd, in any mode: each
# garbage client gets the replies its lines call for (--echo: byte for
# byte), and a normal client is answered after each.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
. "${top_srcdir:-..}/tests/lib.sh"
need nc

# Fixed inputs, so a failure can be replayed.
printf 'a\000b\000\000c\n\000\n' > "$T/nul"
awk 'BEGIN { srand(42); for (i = 0; i < 200000; i++)
    printf "%c", int(rand() * 256) }' > "$T/binary"
printf '\300\200 \355\240\200 \377\376 \360\220\200\n\200\n' > "$T/utf8"
printf 'one\rtwo\r\rthree\r\n\r\n\r' > "$T/cr"
head -c 65536 /dev/zero | tr '\0' '\n' > "$T/newlines"
GARBAGE="nul binary utf8 cr newlines"

# lines FILE: how many replies -k owes FILE (its lines, and an
# unterminated last one).
lines() { awk 'END { print NR }' "$1"; }

normal() {
	expect_eq "$(printf 'hi\n' | ask -N | head -n 1)" "$1" \
	    "a normal client after $2 ($3)"
}

for mode in "" "-k" "-e" "-k -e"; do
	msgd_start $mode -M 1048576
	want=Hello,\ client!
	case $mode in *-e*) want=hi ;; esac
	for g in $GARBAGE; do
		ask -N < "$T/$g" > "$T/out" || fail "nc: msgd $mode, $g"
		case $mode in
		"-k")
			expect_eq "$(grep -cvx 'Hello, client!' "$T/out")" 0 \
			    "other replies to $g"
			expect_eq "$(wc -l < "$T/out")" "$(lines "$T/$g")" \
			    "replies to $g" ;;
		"-k -e")
			# The echo is the input, CRLF as LF, LF-terminated.
			awk '{ sub(/\r$/, ""); print }' "$T/$g" > "$T/want"
			cmp -s "$T/want" "$T/out" || fail "echo of $g differs" ;;
		"")
			expect_eq "$(cat "$T/out")" "Hello, client!" \
			    "reply to $g" ;;
		"-e")
			expect_eq "$(wc -l < "$T/out")" 1 "lines echoed of $g" ;;
		esac
		alive "$MSGD_PID" || fail "msgd $mode died on $g"
		normal "$want" "$g" "msgd $mode"
	done
	msgd_stop
done
pass "garbage in every mode: msgd alive, everyone answered"
