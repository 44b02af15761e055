#!/bin/sh
# tests/fuzz/run_request.sh FUZZER SECONDS -- seed and run the request-path
# fuzzer (tests/fuzz/fuzz_request.c) from the repository root.
#
# Seeds are Request frames written by hand in protobuf's wire format
# (python3, if present, only to lay out bytes): a Verify of a valid and of
# an expired token, a batch, a Revoke, a Status, for each principal byte.
set -eu
fuzzer=$1
seconds=$2
corpus=build/fuzz/corpus-request
mint=build/bin/eid-mint
mkdir -p "$corpus"
if command -v python3 >/dev/null 2>&1 && [ -x "$mint" ]; then
	valid=$("$mint" --seed 3)
	expired=$("$mint" --seed 3 --kind expired)
	python3 - "$corpus" "$valid" "$expired" <<'PY'
import sys
out, valid, expired = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()
def varint(n):
    b = b""
    while True:
        c = n & 0x7f
        n >>= 7
        if n:
            b += bytes([c | 0x80])
        else:
            return b + bytes([c])
def field(num, data):
    return varint(num << 3 | 2) + varint(len(data)) + data
def vint(num, n):
    return varint(num << 3) + varint(n)
verify = lambda tok, aud=b"": field(1, tok) + (field(2, aud) if aud else b"") + vint(3, 2)
seeds = {
    "verify-valid": vint(1, 1) + field(2, verify(valid)),
    "verify-expired": vint(1, 2) + field(2, verify(expired, b"dichvucong")),
    "batch": vint(1, 3) + field(3, field(1, verify(valid)) + field(1, verify(expired))),
    "revoke": vint(1, 4) + field(4, vint(1, 1) + field(2, b"some-jti")),
    "revoke-batch": vint(1, 5) + field(6, field(1, vint(1, 2) + field(2, b"001090012345"))),
    "list": vint(1, 6) + field(7, vint(5, 10)),
    "status": vint(1, 7) + field(5, b""),
}
for name, body in seeds.items():
    for who in range(3):
        open(f"{out}/{name}-{who}", "wb").write(bytes([who]) + body)
PY
fi
log=build/fuzz/fuzz-request.log
"$fuzzer" -max_total_time="$seconds" -max_len=20000 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 "$corpus" \
    >"$log" 2>&1 || { tail -50 "$log"; echo "fuzz_request: FAILED (log: $log)"; exit 1; }
runs=$(grep -o 'Done [0-9]* runs' "$log" | awk '{print $2}')
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
echo "fuzz_request: ${runs:-?} executions in ${seconds} s, ${cov:-cov: ?}, no crash or leak"
