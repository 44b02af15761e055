#!/bin/sh
# tests/fuzz/run.sh FUZZER SECONDS -- seed a corpus and run libFuzzer.
#
# Seeds: tokens of every eid-mint kind and algorithm (target 0), the
# claims of a valid token (target 1) and the development JWKS (target 2).
# The corpus lives under build/fuzz/ and grows across runs.  A crash or
# leak makes libFuzzer exit non-zero, and so this script.
set -eu
fuzzer=$1
seconds=$2
certs=${EID_CERTS:-certs/dev}
corpus=build/fuzz/corpus
mint=build/bin/eid-mint
mkdir -p "$corpus"
if [ -x "$mint" ]; then
	for alg in ES256 ES384 RS256 PS256 EdDSA; do
		for kind in $("$mint" --list-kinds | awk '{print $1}'); do
			tok=$("$mint" --certs "$certs" --alg "$alg" --kind "$kind" \
			    --seed 7 2>/dev/null) || continue
			printf '\000%s' "$tok" >"$corpus/tok-$alg-$kind"
		done
	done
	tok=$("$mint" --certs "$certs" --seed 7)
	payload=$(printf '%s' "$tok" | cut -d. -f2 | tr '_-' '/+')
	while [ $(( ${#payload} % 4 )) -ne 0 ]; do payload="$payload="; done
	{ printf '\001'; printf '%s' "$payload" | base64 -d; } \
	    >"$corpus/claims-valid"
fi
if [ -f "$certs/jwks.json" ]; then
	{ printf '\002'; cat "$certs/jwks.json"; } >"$corpus/jwks-dev"
fi
log=build/fuzz/fuzz.log
EID_CERTS=$certs "$fuzzer" -max_total_time="$seconds" -max_len=20000 \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$corpus" \
    >"$log" 2>&1 || { tail -50 "$log"; echo "fuzz: FAILED (log: $log)"; exit 1; }
runs=$(grep -o 'Done [0-9]* runs' "$log" | awk '{print $2}')
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
echo "fuzz: ${runs:-?} executions in ${seconds} s, ${cov:-cov: ?}, no crash or leak"
