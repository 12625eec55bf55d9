#!/bin/sh
# deb.sh - the Debian package, built from the release tarball as a
# packager would (dpkg-buildpackage -us -uc -b), checked with lintian
# (any E: or W: fails), installed on this machine with apt-get, tried
# (the installed msgd answers on a port of its own, man msgd works, the
# installed units pass systemd-analyze verify and keep their hardening),
# then purged.  Needs root; a missing tool fails, it does not skip.
#
# Copyright (c) 2026 the msgd developers
# SPDX-License-Identifier: ISC
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: deb: needs root to install and purge the package" >&2
	exit 77
fi
for t in dpkg-buildpackage dh lintian fakeroot apt-get man \
    systemd-analyze nc; do
	command -v "$t" > /dev/null 2>&1 ||
	    { echo "FAIL: deb: $t is not installed (./install-deps --test)" >&2
	    exit 1; }
done
if dpkg-query -W -f='${Status}' msgd 2>/dev/null | grep -q 'ok installed'; then
	echo "FAIL: deb: a msgd package is already installed here" >&2
	exit 1
fi

. "$top/.ci/lib.sh"
rm -rf "$top/_build-deb"
mkdir "$top/_build-deb"
ci_unpack _build-deb/msgd
out=$top/_build-deb

# The tests' helpers (temporary directory, msgd_start, ask, cleanup of
# what was started), with the installed msgd.
# shellcheck disable=SC2034 # both used by tests/lib.sh
MSGD=/usr/sbin/msgd
. ./tests/lib.sh
# shellcheck disable=SC2034
TEST_NAME=deb
# From here on, as in the tests, every check says what failed.
set +e

# Whatever happens, leave the machine as it was: no msgd package, no
# policy-rc.d of ours.
policy=/usr/sbin/policy-rc.d
our_policy=no
deb_cleanup() {
	set +e
	cleanup
	if dpkg-query -W -f='${Status}' msgd 2>/dev/null | grep -q 'ok installed'
	then
		apt-get purge -y -qq msgd > /dev/null 2>&1 || true
	fi
	[ "$our_policy" = no ] || rm -f "$policy"
}
trap deb_cleanup EXIT

# The package's version is the release's.
v_deb=$(dpkg-parsechangelog -S Version)
v_up=$(./configure --version | sed -n '1s/.* //p')
expect_eq "$v_deb" "$v_up" "debian/changelog version"

# nocheck: the package's make check is the one make check-all ran already
# (same sources, same tests); it cost CI five minutes more.
echo "deb: building the package from the release tarball"
DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b \
    > "$out/build.log" 2>&1 ||
    { tail -n 40 "$out/build.log" >&2; fail "dpkg-buildpackage failed"; }
deb=$(ls "$out"/msgd_*.deb) || fail "no msgd .deb"
bench=$(ls "$out"/msgbench_*.deb) || fail "no msgbench .deb"

# lintian: errors and warnings fail; the rest is shown.
lintian --display-info "$out"/msgd_*.changes > "$out/lintian.log" \
    2>&1 || true
cat "$out/lintian.log"
! grep -q '^[EW]: ' "$out/lintian.log" || fail "lintian reports E: or W:"

# What goes where: the daemon, its units and defaults in msgd; the load
# generator only in msgbench.
dpkg-deb -c "$deb" | awk '{ print $6 }' > "$T/msgd.files" ||
    fail "dpkg-deb -c $deb"
for f in ./usr/sbin/msgd ./usr/share/man/man8/msgd.8.gz \
    ./lib/systemd/system/msgd.service ./lib/systemd/system/msgd.socket \
    ./etc/default/msgd; do
	grep -qx "$f" "$T/msgd.files" || fail "$f is not in the msgd package"
done
! grep -q msgbench "$T/msgd.files" || fail "msgbench is in the msgd package"
dpkg-deb -c "$bench" | grep ' ./usr/bin/msgbench$' > /dev/null ||
    fail "msgbench is not in the msgbench package"

# Install.  Without systemd as PID 1 the postinst starts nothing; where
# it runs, a policy-rc.d that denies every start keeps the service down.
if [ ! -e "$policy" ]; then
	our_policy=yes
	printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" ||
	    fail "cannot write $policy"
fi
echo "deb: apt-get install $deb"
(cd "$out" && apt-get install -y -qq "./$(basename "$deb")") \
    > "$T/apt.log" 2>&1 || fail "apt-get install: $(cat "$T/apt.log")"
for p in /proc/[0-9]*; do
	[ "$(readlink "$p/exe" 2>/dev/null)" != /usr/sbin/msgd ] ||
	    fail "installing started msgd (${p#/proc/})"
done
dpkg-query -W -f='${Conffiles}\n' msgd | grep -q '^ /etc/default/msgd ' ||
    fail "/etc/default/msgd is not a conffile"

# The installed msgd answers, on a kernel-chosen loopback port.
msgd_start
expect_eq "$(printf 'Hello, server!' | ask)" "Hello, client!" \
    "reply of the installed msgd"
msgd_stop

# Its manual page.
MANPAGER=cat MANWIDTH=80 man msgd > "$T/man" 2> "$T/man.err" ||
    fail "man msgd: $(cat "$T/man.err")"
grep -q 'small event-driven TCP message server' "$T/man" ||
    fail "man msgd does not show msgd(8)"
grep -q '/etc/default/msgd' "$T/man" ||
    fail "msgd(8) does not document /etc/default/msgd"

# The installed units: systemd-analyze verify (offline; it needs no
# running systemd) with any output counting as a failure, and the
# service's exposure no higher than 1.5.
systemd-analyze verify /lib/systemd/system/msgd.service \
    /lib/systemd/system/msgd.socket > "$T/verify" 2>&1 ||
    fail "systemd-analyze verify: $(cat "$T/verify")"
[ ! -s "$T/verify" ] || fail "systemd-analyze verify: $(cat "$T/verify")"
systemd-analyze security --offline=true --threshold=15 \
    /lib/systemd/system/msgd.service > "$T/security" 2>&1 ||
    fail "exposure over 1.5: $(tail -n 1 "$T/security")"
tail -n 1 "$T/security"

# Purge: nothing of the package is left.
apt-get purge -y -qq msgd > "$T/apt.log" 2>&1 ||
    fail "apt-get purge: $(cat "$T/apt.log")"
! dpkg-query -W -f='${Status}' msgd 2>/dev/null | grep -q 'ok installed' ||
    fail "msgd is still installed"
for f in /usr/sbin/msgd /usr/share/man/man8/msgd.8.gz /etc/default/msgd \
    /lib/systemd/system/msgd.service /lib/systemd/system/msgd.socket \
    /etc/systemd/system/multi-user.target.wants/msgd.service; do
	[ ! -e "$f" ] && [ ! -L "$f" ] || fail "$f is left after purge"
done
pass "built, lintian-clean, installed, answered, verified, purged"
