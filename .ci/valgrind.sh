#!/bin/sh
# valgrind.sh - run msgd under valgrind memcheck through a representative
# set of the integration tests: MSGD is a wrapper that execs valgrind (same
# PID, so the tests manage it as usual).  Any memcheck error or definite
# leak makes msgd exit 99 (which the tests see) and is also looked for in
# valgrind's logs.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
command -v valgrind > /dev/null || { echo "valgrind: not installed" >&2; exit 77; }
[ -x src/msgd ] || make -s
vg=$(mktemp -d "${TMPDIR:-/tmp}/msgd-valgrind.XXXXXX")
# Valgrind fixes its client's descriptor limits when it starts (soft and
# hard both become the soft limit it was given), so msgd cannot raise its
# soft limit to fit --max-conns as it does without valgrind; at a login's
# 1024 it would log "lowering --max-conns" (a line reply.sh and errors.sh
# count) and hostile-drain.sh's 1010 clients would be refused.  So the
# wrapper raises the soft limit as msgd itself would, before valgrind
# starts: to the hard limit, at most 65536 (enough for every test here).
# The tests' assertions stay as they are.
cat > "$vg/msgd" <<EOS
#!/bin/sh
hard=\$(ulimit -Hn)
want=65536
[ "\$hard" != unlimited ] && [ "\$hard" -lt \$want ] && want=\$hard
[ "\$(ulimit -Sn)" = unlimited ] || [ "\$(ulimit -Sn)" -ge \$want ] ||
    ulimit -Sn \$want
exec valgrind -q --error-exitcode=99 --leak-check=full \\
    --errors-for-leak-kinds=definite --track-fds=no --vgdb=no \\
    --log-file="$vg/vg.%p.log" "$top/src/msgd" "\$@"
EOS
chmod +x "$vg/msgd"
TESTS=${VALGRIND_TESTS:-"reply keep-open errors concurrent hostile-garbage
    limits-max-message limits-idle-timeout limits-per-source acl hostile-linger
    hostile-trickle unix
    hostile-drain hostile-backpressure tls hostile-tls tls-reload"}
status=0
for t in $TESTS; do
	echo "=== $t under valgrind"
	# Memory and CPU bounds do not hold for valgrind itself.
	if ! MSGD=$vg/msgd MSGD_SANITIZED=1 top_srcdir=$top \
	    sh "tests/$t.sh"; then
		echo "valgrind: $t failed" >&2
		status=1
	fi
done
for f in "$vg"/vg.*.log; do
	[ -s "$f" ] || continue
	echo "--- $f" >&2
	cat "$f" >&2
	status=1
done
rm -rf "$vg"
[ $status -eq 0 ] && echo "valgrind: no errors, no definite leaks"
exit $status
