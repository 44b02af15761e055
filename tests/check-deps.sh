#!/bin/sh
# tests/check-deps.sh -- the include audit of STYLE.md rules 6-8: each
# module includes only what the dependency direction of DESIGN.md
# section 3 allows.  Prints one TAP line per rule; exits non-zero on any
# violation.
set -u
n=0; bad=0
check() {	# description, directory, extended regex of forbidden includes
	n=$((n + 1))
	hits=$(grep -nE "^#[[:space:]]*include[[:space:]]*[<\"]($3)" \
	    $(find "$2" -name '*.[ch]' 2>/dev/null) /dev/null 2>/dev/null)
	if [ -n "$hits" ]; then
		echo "not ok $n - $1"
		echo "$hits" | sed 's/^/# /'
		bad=$((bad + 1))
	else
		echo "ok $n - $1"
	fi
}
# Like check, but only the files not matching the allowed name pattern.
check_only_in() {	# description, directory, allowed basename regex, include regex
	n=$((n + 1))
	files=$(find "$2" -name '*.[ch]' 2>/dev/null | grep -Ev "/($3)\$")
	hits=$(grep -nE "^#[[:space:]]*include[[:space:]]*[<\"]($4)" \
	    $files /dev/null 2>/dev/null)
	if [ -n "$hits" ]; then
		echo "not ok $n - $1"
		echo "$hits" | sed 's/^/# /'
		bad=$((bad + 1))
	else
		echo "ok $n - $1"
	fi
}
check "crypto/ knows no sockets, events, store, wire or TLS" crypto \
    'event2/|lmdb\.h|protobuf-c|eid\.pb-c\.h|openssl/ssl\.h|pthread\.h|sys/socket\.h|\.\./daemon'
check "public headers pull in no third-party headers" include/eid \
    'openssl/|jansson|event2/|lmdb|protobuf'
check "load/ uses public headers only" load \
    'crypto\.h|\.\./crypto|\.\./daemon|daemon/|lmdb\.h'
check "nothing includes tests/ or load/" "crypto include load" \
    'helpers\.h|\.\./tests|tests/|\.\./load'
check_only_in "daemon/: the SSL layer only in tls.c" daemon 'tls\.c' \
    'openssl/ssl\.h'
check_only_in "daemon/: protobuf only in handler.c and codec.[ch]" daemon \
    'handler\.c|codec\.[ch]' 'eid\.pb-c\.h|protobuf-c'
check_only_in "daemon/: libconfig only in cfg.c" daemon 'cfg\.c' 'libconfig\.h'
check_only_in "daemon/: LMDB only in store*.c" daemon 'store[a-z_]*\.c' \
    'lmdb\.h'
check_only_in "daemon/: systemd only in main.c" daemon 'main\.c' 'systemd/'
check_only_in "daemon/: evhttp only in http.c" daemon 'http\.c' 'event2/http'
check "load/ knows nothing of the daemon, client or verifier internals" \
    load 'wire\.h|eidd\.h|store\.h|crypto\.h'
check "client/ knows nothing of the daemon or the verifier internals" \
    client 'daemon/|\.\./daemon|crypto\.h|\.\./crypto|lmdb\.h|libconfig'
check_only_in "client/: libevent only in aclient.c" client 'aclient\.c' \
    'event2/'
[ "$bad" -eq 0 ]
