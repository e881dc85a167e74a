#!/bin/sh
# Count TAP results across files and print the one summary line
# "N passed, N failed".  Exit non-zero if anything failed or nothing ran.
pass=0; fail=0
for f in "$@"; do
	[ -f "$f" ] || continue
	p=$(grep -c '^ok' "$f"); n=$(grep -c '^not ok' "$f")
	pass=$((pass + p)); fail=$((fail + n))
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
