#!/bin/sh
# The whole-VM attack on the emulated host:
#   sh adversary.sh [SECONDS [DISK [EXTRA-CMDLINE]]]
# Runs the guest test "adversary" (tests/guest/adversary/adversary.c: every
# MMIO window, every width, malformed virtqueues, for SECONDS, default 20)
# under rivet with 2 vCPUs, seccomp on (the default) and DISK (default
# /dev/vdf) as its virtio disk, then checks what rivet logged.
#
# rivet's stderr goes to a file, not to the console: the guest reaches ~45
# log_guest() call sites, each allowed 10 lines a second, about 500 lines a
# second in all -- more than the emulated host's serial console carries
# (~150 lines a second), and the vCPU threads write their warnings
# synchronously, so on the console the guest slows to the console's pace.
#
# Prints ADV-OK / ADV-FAIL lines and exits with rivet's status (or 1 if a
# check failed while rivet exited 0).
secs=${1:-20}
disk=${2:-/dev/vdf}
err=/tmp/adversary.err
fails=0
ok() { echo "ADV-OK $*"; }
bad() { echo "ADV-FAIL $*"; fails=$((fails + 1)); }

t0=$(date +%s)
rivet run --board microvm --kernel /guest/Image --initrd /guest/initramfs.cpio.gz \
	--cpus 2 --disk "$disk" \
	--cmdline "console=ttyS0 quiet iomem=relaxed rivet.test=adversary rivet.adversary_secs=$secs${3:+ $3}" \
	2>"$err" &
pid=$!
# The case's time limit signals this shell: pass it on to rivet.
trap 'kill -TERM $pid' TERM INT
wait $pid
rc=$?
if kill -0 $pid 2>/dev/null; then
	wait $pid
	rc=$?
fi
t1=$(date +%s)
t=$((t1 - t0))
echo "ADV rivet exited with status $rc after $t s"

# What rivet said besides guest-triggered warnings (errors, seccomp).
grep -v '^rivet: warning: ' "$err" | head -n 20 | sed 's/^/ADV-STDERR /'
if grep -q '^rivet: seccomp:' "$err"; then
	bad "seccomp violation: $(grep -m1 '^rivet: seccomp:' "$err")"
fi
if grep -q '^rivet: error:' "$err"; then
	bad "rivet error: $(grep -m1 '^rivet: error:' "$err")"
fi
if [ "$rc" -eq 0 ]; then ok "rivet exited 0"; else bad "rivet exited with status $rc"; fi

# The warnings: one format string is one call site (one rate limit; the
# device name is an argument, so blk and rng share one), each allowed 10
# lines per 1-second window plus one "suppressed" summary per window.
echo "ADV some of rivet's warnings:"
grep '^rivet: warning: ' "$err" | grep -v 'similar messages suppressed' |
	awk '{ k = $0; gsub(/0x[0-9a-f]+|[0-9]+/, "N", k); if (!(k in seen)) { seen[k] = 1; print "ADV-SAMPLE " $0 } }' |
	head -n 60
grep '^rivet: warning: ' "$err" | awk -v t="$t" '
	/similar messages suppressed/ { summaries++; split($0, w, " "); dropped += w[3]; next }
	{
		k = $0
		sub(/^rivet: warning: /, "", k)
		gsub(/virtio-mmio (blk|rng)/, "virtio-mmio DEV", k)
		gsub(/0x[0-9a-f]+|[0-9]+/, "N", k)
		n[k]++
		lines++
	}
	END {
		for (k in n) {
			sites++
			if (n[k] > max) { max = n[k]; maxk = k }
		}
		limit = 10 * (t + 2)
		printf "ADV-LOG warnings=%d summaries=%d dropped=%d sites=%d max-per-site=%d (%s) limit=%d secs=%d\n",
			lines, summaries, dropped, sites, max, maxk, limit, t
		if (lines == 0) print "ADV-FAIL no guest-triggered warnings"
		else if (summaries == 0 || dropped == 0) print "ADV-FAIL nothing was suppressed: rate limit not seen"
		else if (max > limit) print "ADV-FAIL a call site logged " max " lines in " t " s, above 10 per second"
		else print "ADV-OK warnings rate-limited: " lines " lines, " dropped " dropped"
	}' | tee /tmp/adversary.log
grep -q '^ADV-FAIL' /tmp/adversary.log && fails=$((fails + 1))
echo "ADV done: rivet status $rc, $fails failed check(s)"
[ "$rc" -ne 0 ] && exit "$rc"
[ $fails -eq 0 ]
