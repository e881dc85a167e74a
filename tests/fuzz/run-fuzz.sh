#!/bin/sh
# Run each libFuzzer target for SECONDS and report executions, speed,
# coverage and crashes (also written to DIR/report.txt).
# Usage: tests/fuzz/run-fuzz.sh DIR SECONDS NAME...
# New interesting inputs go to DIR/corpus/NAME (the committed corpus is only
# read), crash/leak/timeout inputs to DIR/artifacts/NAME/.  The regression
# inputs are left out: the replay covers them, and one whose bug is not
# fixed yet would stop the run before it starts.
dir=$1; secs=$2; shift 2
report=$dir/report.txt
rc=0
printf '%-12s %12s %8s %14s %8s %8s\n' target execs exec/s "cov (start)" \
	"+units" crashes | tee "$report"
for t in "$@"; do
	corpus=$dir/corpus/$t; art=$dir/artifacts/$t; log=$dir/fuzz-$t.log
	mkdir -p "$corpus" "$art"
	"$dir/bin/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 \
		-timeout=10 -rss_limit_mb=2048 -max_len=16384 \
		-artifact_prefix="$art/" "$corpus" "tests/fuzz/corpus/$t" \
		>"$log" 2>&1
	st=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	units=$(sed -n 's/^stat::new_units_added: *//p' "$log")
	cov0=$(sed -n 's/.*INITED cov: \([0-9]*\).*/\1/p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	crashes=$(find "$art" -type f | wc -l)
	printf '%-12s %12s %8s %14s %8s %8s\n' "$t" "${execs:-?}" \
		"${speed:-?}" "${cov:-?} (${cov0:-?})" "${units:-?}" \
		"$crashes" | tee -a "$report"
	if [ "$st" -ne 0 ] || [ "$crashes" -ne 0 ]; then
		rc=1
		echo "  $t: exit $st; see $log" | tee -a "$report"
		find "$art" -type f | sed 's/^/    /' | tee -a "$report"
	fi
done
exit $rc
