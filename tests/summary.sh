#!/bin/sh
# Count TAP results across files and print the one summary line
# "N passed, N failed".  Exit non-zero if anything failed or nothing ran.
pass=0; fail=0
for f in "$@"; do
	[ -f "$f" ] || continue
	# "not ok ... # SKIP" is how cmocka reports a skipped test.
	p=$(grep -c '^ok' "$f"); n=$(grep '^not ok' "$f" | grep -vc '# SKIP')
	pass=$((pass + p)); fail=$((fail + n))
done
skip=$(cat "$@" 2>/dev/null | grep -c '^not ok.*# SKIP')
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
