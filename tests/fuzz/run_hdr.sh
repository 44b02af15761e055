#!/bin/sh
# tests/fuzz/run_hdr.sh FUZZER SECONDS -- run the fuzzer of eid-load's
# histogram reader (tests/fuzz/fuzz_hdr.c); its corpus grows under
# build/fuzz/.  A crash or leak makes it, and this, fail.
set -eu
fuzzer=$1
seconds=$2
corpus=build/fuzz/corpus-hdr
mkdir -p "$corpus"
# Seeds: a string hdr-histogram-js wrote (see tests/unit/load/test_hdr.c),
# and the uncompressed header of an empty histogram.
printf '\000HISTFAAAADN4nJNpmSzMwMD8iYGBgZGBgYGZAQJA7P8gAOMzjYJRMAqGPfg4j5HrYx7LWgUmAMcBEtk=' \
    >"$corpus/reference"
printf '\001\034\204\223\023\000\000\000\000\000\000\000\000\000\000\000\003\000\000\000\000\000\000\000\001\000\000\000\377\377\377\377\377\077\360\000\000\000\000\000\000' \
    >"$corpus/empty"
log=build/fuzz/fuzz-hdr.log
"$fuzzer" -max_total_time="$seconds" -max_len=70000 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 "$corpus" \
    >"$log" 2>&1 || { tail -50 "$log"; echo "fuzz_hdr: FAILED (log: $log)"; exit 1; }
runs=$(grep -o 'Done [0-9]* runs' "$log" | awk '{print $2}')
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
echo "fuzz_hdr: ${runs:-?} executions in ${seconds} s, ${cov:-cov: ?}, no crash or leak"
