#!/bin/sh
# tests/fuzz/run_response.sh FUZZER SECONDS -- run the client's response
# decoder fuzzer (tests/fuzz/fuzz_response.c); its corpus starts empty and
# grows under build/fuzz/.  A crash or leak makes it, and this, fail.
set -eu
fuzzer=$1
seconds=$2
corpus=build/fuzz/corpus-response
mkdir -p "$corpus"
# A few hand-laid seeds: an Error with id 0, a Verify answer, a Status.
printf '\000\010\001\062\010\010\002\022\004oops' >"$corpus/error"
printf '\000\010\001\022\002\010\001' >"$corpus/verify-ok"
printf '\003\010\001\052\002\012\000' >"$corpus/status"
log=build/fuzz/fuzz-response.log
"$fuzzer" -max_total_time="$seconds" -max_len=70000 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 "$corpus" \
    >"$log" 2>&1 || { tail -50 "$log"; echo "fuzz_response: FAILED (log: $log)"; exit 1; }
runs=$(grep -o 'Done [0-9]* runs' "$log" | awk '{print $2}')
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
echo "fuzz_response: ${runs:-?} executions in ${seconds} s, ${cov:-cov: ?}, no crash or leak"
