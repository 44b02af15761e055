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
check "crypto/ knows no sockets, events, store, wire or TLS" crypto \
    'event2/|lmdb\.h|protobuf-c|eid\.pb-c\.h|openssl/ssl\.h|pthread\.h|sys/socket\.h|\.\./daemon'
check "public headers pull in no third-party headers" include/eid \
    'openssl/|jansson|event2/|lmdb|protobuf'
check "load/ uses public headers only" load \
    'crypto\.h|\.\./crypto|\.\./daemon|daemon/|lmdb\.h'
check "nothing includes tests/ or load/" "crypto include load" \
    'helpers\.h|\.\./tests|tests/|\.\./load'
[ "$bad" -eq 0 ]
