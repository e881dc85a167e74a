#!/bin/sh
# Replay the committed corpus and regression inputs through the gcc-built
# fuzz targets; one TAP line per target in build/results/fuzz-replay.tap.
# Usage: tests/fuzz/replay.sh BINDIR NAME...
dir=$1; shift
out=build/results
tap=$out/fuzz-replay.tap
mkdir -p "$out"
: >"$tap"
echo "1..$#" >>"$tap"
rc=0; n=0
for t in "$@"; do
	n=$((n + 1))
	log=$out/fuzz-replay-$t.log
	dirs=
	for d in tests/fuzz/corpus/$t tests/fuzz/regressions/$t; do
		[ -d "$d" ] && dirs="$dirs $d"
	done
	if [ -z "$dirs" ]; then
		rc=1
		echo "not ok $n - fuzz-replay $t (no corpus)" >>"$tap"
		echo "  FAIL  fuzz-replay/$t (no corpus)"
		continue
	fi
	# shellcheck disable=SC2086 # $dirs: paths without spaces
	"$dir/fuzz_$t" $dirs >"$log" 2>&1
	st=$?
	k=$(sed -n 's/^replayed \([0-9]*\) inputs$/\1/p' "$log")
	if [ $st -eq 0 ] && [ -n "$k" ]; then
		echo "ok $n - fuzz-replay $t ($k inputs)" >>"$tap"
		echo "  PASS  fuzz-replay/$t ($k inputs)"
	else
		rc=1
		last=$(sed -n 's/^replay: \(.*\) ([0-9]* bytes)$/\1/p' "$log" |
		       tail -1)
		echo "not ok $n - fuzz-replay $t (exit $st on $last)" >>"$tap"
		echo "  FAIL  fuzz-replay/$t: exit $st on $last"
		grep -v '^replay: ' "$log" | tail -30 | sed 's/^/        /'
	fi
done
exit $rc
