#!/bin/sh
# Run cmocka test binaries with TAP output; each binary's TAP goes to
# build/results/unit-<variant>-<name>.tap for tests/summary.sh.
# Usage: tests/run-unit.sh DIR TEST...
dir=$1; shift
variant=$(basename "$(dirname "$dir")")
out=build/results
mkdir -p "$out"
rc=0
for t in "$@"; do
	tap="$out/unit-$variant-$t.tap"
	CMOCKA_MESSAGE_OUTPUT=TAP "$dir/$t" >"$tap" 2>"$tap.err"
	st=$?
	if [ $st -eq 0 ]; then
		echo "  PASS  $variant/$t ($(grep -c '^ok' "$tap") tests)"
	else
		rc=1
		echo "  FAIL  $variant/$t"
		grep -v '^ok' "$tap" | sed 's/^/        /'
		sed 's/^/        /' "$tap.err" | tail -20
		# A crash leaves no "not ok" line: record one so it is counted.
		grep -q '^not ok' "$tap" || echo "not ok - $t crashed or exited $st" >>"$tap"
	fi
done
exit $rc
