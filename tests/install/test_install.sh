#!/bin/sh
# tests/install/test_install.sh -- "make install" and "make uninstall"
# (mk/install.mk) into a scratch DESTDIR: the files and their modes, the
# systemd unit (systemd-analyze verify), the pkg-config file (a program
# using the blocking client compiles and links against the installed
# tree), every man page (groff and man -l without a warning), and an
# uninstall that leaves no file behind.
#
# Run from the repository root after "make"; EID_BUILD (set by
# tests/run.sh) names the build tree, default "build".  Prints TAP lines;
# exits non-zero on any failure.  Temporary files are removed on exit.
set -u

build=${EID_BUILD:-build}
n=0
bad=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/eidd-install.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
dest=$tmp/dest		# DESTDIR with PREFIX=/usr
dest2=$tmp/dest2	# DESTDIR with the default PREFIX
log=$tmp/log

ok() { n=$((n + 1)); echo "ok $n - $1"; }
fail() {
	n=$((n + 1)); bad=$((bad + 1))
	echo "not ok $n - $1"
	[ -s "$log" ] && sed 's/^/# /' "$log" | head -n 40
	return 0
}
skip() { n=$((n + 1)); echo "ok $n - # SKIP $1"; }
# check DESCRIPTION COMMAND...: ok when the command succeeds; its output,
# kept in $log, is shown when it does not.
check() {
	d=$1; shift
	if "$@" >"$log" 2>&1; then ok "$d"; else fail "$d"; fi
}

# Until the Makefile includes mk/install.mk, name both files.
if grep -q '^include mk/install.mk' Makefile 2>/dev/null; then
	mkf=""
else
	mkf="-f Makefile -f mk/install.mk"
fi
run_make() {
	# shellcheck disable=SC2086
	make --no-print-directory -s $mkf BUILD="$build" "$@"
}

prefix=/usr
version=$(sed -n \
    's/^#define[[:space:]]*EIDD_VERSION[[:space:]]*"\([^"]*\)".*/\1/p' \
    daemon/eidd.h)
bins="bin/eidctl bin/eid-mint"
[ -x "$build/bin/eid-load" ] && bins="$bins bin/eid-load"
man1="eidctl.1 eid-mint.1"
[ -f load/eid-load.1 ] && man1="$man1 eid-load.1"
# Every file install must create, with its mode, relative to DESTDIR.
expected() {
	for f in $bins sbin/eidd; do
		echo "755 $prefix/$f"
	done
	for f in client.h verify.h jose.h; do
		echo "644 $prefix/include/eid/$f"
	done
	for f in libeidclient.a libeidproto.a libeidverify.a \
	    pkgconfig/eidclient.pc systemd/system/eidd.service; do
		echo "644 $prefix/lib/$f"
	done
	for f in $man1; do
		echo "644 $prefix/share/man/man1/$f"
	done
	echo "644 $prefix/share/man/man5/eidd.conf.5"
	echo "644 $prefix/share/man/man8/eidd.8"
	echo "644 $prefix/share/doc/eidd/eidd.conf.example"
	echo "644 $prefix/share/doc/eidd/examples/README.md"
	echo "755 $prefix/share/doc/eidd/examples/verify.py"
}

# --- 1. the build is there -----------------------------------------------
: >"$log"
missing=""
for f in bin/eidd bin/eidctl bin/eid-mint lib/libeidclient.a \
    lib/libeidproto.a lib/libeidverify.a; do
	[ -e "$build/$f" ] || missing="$missing $build/$f"
done
if [ -n "$missing" ]; then
	echo "missing:$missing; run make first" >"$log"
	fail "the build is done"
	echo "Bail out! nothing to install"
	exit 1
fi
ok "the build is done ($build)"

# --- 2. install ----------------------------------------------------------
if run_make install DESTDIR="$dest" PREFIX=$prefix >"$log" 2>&1; then
	ok "make install DESTDIR=... PREFIX=$prefix"
else
	fail "make install DESTDIR=... PREFIX=$prefix"
	echo "Bail out! install failed"
	exit 1
fi

expected | sort -k2 >"$tmp/want"
(cd "$dest" && find . \( -type f -o -type l \) -exec stat -c '%a %n' {} + |
    sed 's| \./| /|' | sort -k2) >"$tmp/got"
if diff -u "$tmp/want" "$tmp/got" >"$log"; then
	ok "exactly the expected files, with modes 755 and 644"
else
	fail "exactly the expected files, with modes 755 and 644"
fi

# DESTDIR is a staging root: it must not appear inside any file.
# shellcheck disable=SC2016
check "no installed file names DESTDIR" \
    sh -c '! grep -rl -- "$1" "$1"' sh "$dest"

unit=$dest$prefix/lib/systemd/system/eidd.service
check "the unit starts $prefix/sbin/eidd" \
    grep -q "^ExecStart=$prefix/sbin/eidd -c /etc/eidd/eidd.conf\$" "$unit"

# --- 3. systemd-analyze verify -------------------------------------------
# The unit as installed, but with its binary paths inside DESTDIR so that
# they can be checked to exist, and man pages looked up in DESTDIR so that
# its Documentation= entries are checked too.  Any message is a failure:
# systemd-analyze reports unknown or invalid settings and still exits 0.
if ! command -v systemd-analyze >/dev/null 2>&1 && [ "$(id -u)" = 0 ] &&
    command -v apt-get >/dev/null 2>&1; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends systemd >/dev/null 2>&1 || true
fi
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -p "$tmp/unit"
	sed "s|$prefix/sbin/eidd|$dest$prefix/sbin/eidd|g" "$unit" \
	    >"$tmp/unit/eidd.service"
	MANPATH=$dest$prefix/share/man SYSTEMD_LOG_COLOR=0 \
	    systemd-analyze verify "$tmp/unit/eidd.service" >"$log" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ] && [ ! -s "$log" ]; then
		ok "systemd-analyze verify accepts eidd.service"
	else
		echo "exit status $rc" >>"$log"
		fail "systemd-analyze verify accepts eidd.service"
	fi
else
	skip "systemd-analyze verify: systemd-analyze is not installed"
fi

# --- 4. pkg-config and a program linked against the installed tree -------
export PKG_CONFIG_PATH="$dest$prefix/lib/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$dest"
if pc=$(pkg-config --cflags --libs eidclient 2>"$log") &&
    [ "$(pkg-config --modversion eidclient)" = "$version" ]; then
	ok "pkg-config --cflags --libs eidclient: $pc"
else
	fail "pkg-config --cflags --libs eidclient (version $version)"
	pc=""
fi

cat >"$tmp/prog.c" <<'EOF'
/* Uses the blocking client only: no libevent symbol is needed. */
#include <stdio.h>
#include <string.h>

#include <eid/client.h>

int
main(void)
{
	struct eid_client_config cfg;
	enum eid_client_err	 e = EID_CLIENT_OK;
	char			 err[256] = "";

	memset(&cfg, 0, sizeof(cfg));
	cfg.server = "127.0.0.1:1";
	/* No certificate: refused before any connection is tried. */
	if (eid_client_connect(&cfg, &e, err, sizeof(err)) != NULL ||
	    e != EID_CLIENT_ERR_USAGE)
		return 1;
	printf("%s\n", eid_client_strerror(EID_CLIENT_ERR_TIMEOUT));
	return 0;
}
EOF
cc=${CC:-cc}
san=""
# A sanitizer build's archives need the sanitizer runtime to link.
if nm "$build/lib/libeidclient.a" 2>/dev/null | grep -q '__asan_'; then
	cc=clang
	san="-fsanitize=address,undefined"
fi
# The flags are words: they must split.
# shellcheck disable=SC2046,SC2086
if [ -n "$pc" ] && $cc -std=c11 -Wall -Wextra -Wpedantic -Werror $san \
    $(pkg-config --cflags eidclient) -o "$tmp/prog" "$tmp/prog.c" \
    $(pkg-config --libs eidclient) >"$log" 2>&1 &&
    "$tmp/prog" >"$tmp/prog.out" 2>>"$log" &&
    [ -n "$(cat "$tmp/prog.out")" ]; then
	ok "a program calling eid_client_strerror links with pkg-config's flags"
else
	fail "a program calling eid_client_strerror links with pkg-config's flags"
fi
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR

# --- 5. man pages --------------------------------------------------------
# eidd.conf(5) must describe every option of the table in daemon/cfg.c.
: >"$log"
# shellcheck disable=SC2013
for o in $(sed -n 's/^[[:space:]]*{ "\([a-z0-9_.]*\)", CFG_.*/\1/p' \
    daemon/cfg.c); do
	grep -q "^\.It Cm $o " daemon/eidd.conf.5 || echo "missing: $o" >>"$log"
done
if [ ! -s "$log" ] && grep -q '^\.It Cm verify\.leeway_s ' daemon/eidd.conf.5
then
	ok "eidd.conf.5 documents every option of cfg_opts"
else
	fail "eidd.conf.5 documents every option of cfg_opts"
fi

for page in $(cd "$dest$prefix/share/man" && ls man*/*); do
	f=$dest$prefix/share/man/$page
	: >"$log"
	groff -mandoc -Tutf8 -ww -z "$f" >>"$log" 2>&1
	# 80 columns, what man uses without a terminal.
	MANWIDTH=80 man --warnings=w -l "$f" 2>>"$log" >"$tmp/page"
	if [ ! -s "$log" ] && [ -s "$tmp/page" ]; then
		ok "$page renders without warnings"
	else
		fail "$page renders without warnings"
	fi
done

# --- 6. the example runs -------------------------------------------------
if command -v python3 >/dev/null 2>&1; then
	check "examples/verify.py --help" env PYTHONDONTWRITEBYTECODE=1 \
	    python3 "$dest$prefix/share/doc/eidd/examples/verify.py" --help
else
	skip "examples/verify.py: no python3"
fi

# --- 7. uninstall --------------------------------------------------------
if run_make uninstall DESTDIR="$dest" PREFIX=$prefix >"$log" 2>&1; then
	(cd "$dest" && find . \( -type f -o -type l \) -print) >"$log"
	if [ -s "$log" ]; then
		fail "make uninstall leaves no file behind"
	else
		ok "make uninstall leaves no file behind"
	fi
else
	fail "make uninstall leaves no file behind"
fi
check "make uninstall again succeeds" \
    run_make uninstall DESTDIR="$dest" PREFIX=$prefix

# --- 8. the default prefix -----------------------------------------------
if run_make install DESTDIR="$dest2" >"$log" 2>&1 &&
    grep -q '^ExecStart=/usr/local/sbin/eidd ' \
    "$dest2/usr/local/lib/systemd/system/eidd.service" 2>>"$log" &&
    grep -q '^prefix=/usr/local$' \
    "$dest2/usr/local/lib/pkgconfig/eidclient.pc" 2>>"$log" &&
    run_make uninstall DESTDIR="$dest2" >>"$log" 2>&1 &&
    [ -z "$(cd "$dest2" && find . \( -type f -o -type l \) -print)" ]; then
	ok "PREFIX defaults to /usr/local, and the unit and .pc follow it"
else
	fail "PREFIX defaults to /usr/local, and the unit and .pc follow it"
fi

echo "1..$n"
[ "$bad" -eq 0 ]
