#!/bin/sh
# install.sh - make install and make uninstall from the release tarball:
# into a DESTDIR with the unit directory from systemd.pc, with
# --with-systemdsystemunitdir=no and =DIR, and into a --prefix owned by
# an unprivileged user, as that user.  Every directory made and every file
# installed must lie under the staging root (or prefix), exactly the
# expected files must be there, and make uninstall must leave no file.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/.ci/lib.sh"

fail() {
	echo "install: FAIL: $*" >&2
	exit 1
}

ci_unpack _build-install
build=$(pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/msgd-install.XXXXXX")
trap 'rm -rf "$work"' EXIT

# install(1), logging where it writes: make install puts everything
# through $(INSTALL) and $(MKDIR_P), set to this (as "install -d").  Named
# install so that libtool --mode=install recognises it.
mkdir "$work/bin"
cat > "$work/bin/install" <<'EOF'
#!/bin/sh
# Log the destination(s) to $MSGD_INSTALL_LOG, then run the real tool.
case $1 in
-d) for a; do
	case $a in -*) ;; *) printf '%s\n' "$a" >> "$MSGD_INSTALL_LOG" ;; esac
    done ;;
*)  for a; do last=$a; done
    printf '%s\n' "$last" >> "$MSGD_INSTALL_LOG" ;;
esac
exec /usr/bin/install "$@"
EOF
chmod 755 "$work/bin/install"
MSGD_INSTALL_LOG=$work/log
export MSGD_INSTALL_LOG

# run_install ROOT [make arguments]: make install, logged; every path
# written must start with ROOT/.
run_install() {
	root=$1
	shift
	: > "$MSGD_INSTALL_LOG"   # emptied, keeping its mode
	${as_user:-} make -s install INSTALL="$work/bin/install -c" \
	    MKDIR_P="$work/bin/install -d" "$@" > "$work/out" 2>&1 ||
	    fail "make install: $(cat "$work/out")"
	[ -s "$MSGD_INSTALL_LOG" ] || fail "make install wrote nothing"
	while read -r p; do
		case $p in
		"$root"/*) ;;
		*) fail "make install wrote outside $root: $p" ;;
		esac
	done < "$MSGD_INSTALL_LOG"
}

# expect_files ROOT FILE...: exactly these files (and links) under ROOT.
expect_files() {
	root=$1
	shift
	printf '%s\n' "$@" | sort > "$work/want"
	(cd "$root" && find . ! -type d | sed 's|^\./|/|' | sort) \
	    > "$work/have"
	diff -u "$work/want" "$work/have" ||
	    fail "installed files under $root are not the expected ones"
}

# run_uninstall ROOT [make arguments]: nothing but directories is left.
run_uninstall() {
	root=$1
	shift
	${as_user:-} make -s uninstall "$@" > "$work/out" 2>&1 ||
	    fail "make uninstall: $(cat "$work/out")"
	left=$(cd "$root" && find . ! -type d)
	[ -z "$left" ] || fail "make uninstall left: $left"
}

bins="/usr/sbin/msgd /usr/bin/msgbench /usr/share/man/man8/msgd.8
    /usr/share/man/man1/msgbench.1"

# configure must not offer the unit directory as a precious variable.
if ./configure --help | grep -q 'with_systemdsystemunitdir'; then
	fail "./configure --help lists a variable with_systemdsystemunitdir"
fi

# 1. --prefix=/usr, units where systemd.pc says, staged in a DESTDIR.
unitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null) ||
    unitdir=/usr/lib/systemd/system
[ -n "$unitdir" ] || unitdir=/usr/lib/systemd/system
./configure -q --prefix=/usr
make -s -j2 > /dev/null
stage=$work/stage
run_install "$stage" DESTDIR="$stage"
# shellcheck disable=SC2086
expect_files "$stage" $bins "$unitdir/msgd.service" "$unitdir/msgd.socket"
grep -qx 'ExecStart=/usr/sbin/msgd -L syslog $MSGD_OPTS' \
    "$stage$unitdir/msgd.service" ||
    fail "installed unit does not run /usr/sbin/msgd with \$MSGD_OPTS"
[ ! -e "$build/auto" ] && [ ! -e "${stage}auto" ] ||
    fail "units went to a directory named auto"
run_uninstall "$stage" DESTDIR="$stage"
echo "install: DESTDIR with the unit directory from systemd.pc ($unitdir): ok"

# 2. --with-systemdsystemunitdir=no: everything but the units.
./configure -q --prefix=/usr --with-systemdsystemunitdir=no
make -s -j2 > /dev/null
rm -rf "$stage"
run_install "$stage" DESTDIR="$stage"
# shellcheck disable=SC2086
expect_files "$stage" $bins
run_uninstall "$stage" DESTDIR="$stage"
echo "install: --with-systemdsystemunitdir=no: ok"

# 3. --with-systemdsystemunitdir=DIR.
./configure -q --prefix=/usr --with-systemdsystemunitdir=/etc/systemd/system
make -s -j2 > /dev/null
rm -rf "$stage"
run_install "$stage" DESTDIR="$stage"
# shellcheck disable=SC2086
expect_files "$stage" $bins /etc/systemd/system/msgd.service \
    /etc/systemd/system/msgd.socket
run_uninstall "$stage" DESTDIR="$stage"
echo "install: --with-systemdsystemunitdir=DIR: ok"

# 4. A prefix of an unprivileged user's own, installed by that user: the
# units stay under the prefix by default.
prefix=$work/prefix
./configure -q --prefix="$prefix"
make -s -j2 > /dev/null
mkdir "$prefix"
as_user=
if [ "$(id -u)" -eq 0 ]; then
	chown nobody: "$prefix"
	chmod 755 "$work"
	: > "$MSGD_INSTALL_LOG"
	chmod 666 "$MSGD_INSTALL_LOG"
	as_user="setpriv --reuid=nobody --regid=nogroup --clear-groups --"
fi
run_install "$prefix"
expect_files "$prefix" /sbin/msgd /bin/msgbench /share/man/man8/msgd.8 \
    /share/man/man1/msgbench.1 /lib/systemd/system/msgd.service \
    /lib/systemd/system/msgd.socket
grep -qx "ExecStart=$prefix/sbin/msgd -L syslog \$MSGD_OPTS" \
    "$prefix/lib/systemd/system/msgd.service" ||
    fail "unit under the prefix does not run the prefix's msgd"
run_uninstall "$prefix"
echo "install: --prefix of a user's own${as_user:+ (as nobody)}: ok"
