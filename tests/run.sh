#!/bin/sh
# tests/run.sh BUILD TEST... -- run test programs and print one summary.
#
# Each program is a cmocka suite run with TAP output, so every case is one
# "ok"/"not ok" line.  A program that dies without reporting (a crash, a
# sanitizer report) counts as one failure.  Output of passing programs is
# reduced to their counts; failing ones are shown whole.
set -u
build=$1; shift
export EID_BUILD="$build"
logdir="$build/test-logs"
mkdir -p "$logdir"
passed=0; failed=0
for t in "$@"; do
	name=$(basename "$t")
	log="$logdir/$name.log"
	CMOCKA_MESSAGE_OUTPUT=TAP "$t" >"$log" 2>&1
	rc=$?
	p=$(grep -c '^ok ' "$log")
	# cmocka's TAP writes a skipped case as "not ok N # SKIP name".
	f=$(grep '^not ok ' "$log" | grep -vc ' # SKIP')
	s=$(grep -c '^not ok .* # SKIP' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name exited with status $rc"
	fi
	passed=$((passed + p)); failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		echo "FAIL $name ($p passed, $f failed); log: $log"
		cat "$log"
	else
		echo "PASS $name ($p cases$([ "$s" -gt 0 ] && echo ", $s skipped"))"
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
