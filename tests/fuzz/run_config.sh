#!/bin/sh
# tests/fuzz/run_config.sh FUZZER SECONDS -- seed and run the configuration
# parser fuzzer (tests/fuzz/fuzz_config.c) from the repository root.
#
# Seeds: the development and the example configuration, the golden
# normalized ones under tests/config/, a JWKS-only issuer, and an
# @include of a directory; the
# dictionary (tests/fuzz/config.dict) holds the syntax and every option
# name.  The corpus grows under build/fuzz/, and a reproducer lands there
# as build/fuzz/config-crash-* (or -leak-, -timeout-).  A crash, leak or
# hang makes libFuzzer exit non-zero, and so this script.
set -eu
fuzzer=$1
seconds=$2
corpus=build/fuzz/corpus-config
mkdir -p "$corpus"
for f in etc/eidd.dev.conf etc/eidd.conf.example tests/config/*; do
	[ -f "$f" ] && cp "$f" "$corpus/seed-$(basename "$f")"
done
# The input lands in TMP/etc/, next to TMP/certs -> certs (see the harness).
cat >"$corpus/seed-jwks" <<'CONF'
listen = "127.0.0.1:0";
workers = 1;
tls = { certificate = "../certs/dev/server.crt";
  key = "../certs/dev/server.key"; client_ca = "../certs/dev/ca.pem"; };
limits = { max_frame_bytes = 1024; idle_timeout_ms = 100; };
store = { cache_map_bytes = 1048576; sweep_interval_s = 0; };
verify = { leeway_s = 0; max_lifetime_s = 60; };
issuers = ( { iss = "a"; jwks = [ "../certs/dev/jwks.json" ]; } );
principals = ( { name = "o"; subject = "/CN=o"; role = "admin"; } );
CONF
# What runs of 20 and 10 minutes found: libconfig's scanner exit()s
# reading an @include of a directory ("" names the configuration's own,
# and so does a name that a NUL cuts short).
{ printf '@include ""\n'; cat etc/eidd.dev.conf; } >"$corpus/seed-include-dir"
{ printf '@include "\000\000"\n'; cat etc/eidd.dev.conf; } \
    >"$corpus/seed-include-nul"
log=build/fuzz/fuzz-config.log
# The harness's scratch tree; one a crash leaves behind goes with the next.
scratch=$PWD/build/fuzz/tmp-config
rm -rf "$scratch"
mkdir -p "$scratch"
# libconfig 1.5's own leak on a syntax error is excused, nothing else.
TMPDIR=$scratch \
LSAN_OPTIONS="suppressions=tests/fuzz/config.lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}" \
"$fuzzer" -max_total_time="$seconds" -max_len=20000 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=build/fuzz/config- \
    -dict=tests/fuzz/config.dict "$corpus" \
    >"$log" 2>&1 || { tail -50 "$log"; echo "fuzz_config: FAILED (log: $log)"; exit 1; }
runs=$(grep -o 'Done [0-9]* runs' "$log" | awk '{print $2}')
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
echo "fuzz_config: ${runs:-?} executions in ${seconds} s, ${cov:-cov: ?}, no crash or leak"
