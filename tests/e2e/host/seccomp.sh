#!/bin/sh
# seccomp on the emulated host: every thread of a running rivet is filtered
# (Seccomp: 2), each role's filter kills the process with status 148 and a
# message naming the role and the syscall when it makes a forbidden call
# (openat, or an ioctl request number not on its list), and the allowlists
# can be printed.  Prints SECCOMP-OK/SECCOMP-FAIL lines.
fails=0
ok() { echo "SECCOMP-OK $*"; }
bad() { echo "SECCOMP-FAIL $*"; fails=$((fails + 1)); }
G="--kernel /guest/Image --initrd /guest/initramfs.cpio.gz --cpus 2"

# filtered_threads OUT: check every thread of every rivet process.
check_threads() {
	out=$1 want_monitor=$2
	i=0
	while ! grep -q RIVET-HANGING "$out" && [ $i -lt 120 ]; do sleep 1; i=$((i + 1)); done
	grep -q RIVET-HANGING "$out" || { bad "guest did not come up: $(cat "$out")"; return; }
	for p in $(pidof rivet); do
		n=0 filtered=0
		for t in /proc/$p/task/*; do
			n=$((n + 1))
			[ "$(awk '/^Seccomp:/ { print $2 }' $t/status)" = 2 ] && filtered=$((filtered + 1))
		done
		if [ $n -gt 1 ]; then	# the VM process: main + vCPU threads
			[ $filtered -eq $n ] && ok "VM process $p: $filtered/$n threads filtered" ||
				bad "VM process $p: only $filtered of $n threads filtered"
			[ $n -eq 3 ] || bad "VM process $p has $n threads, expected main + 2 vCPUs"
		elif [ "$want_monitor" = 1 ]; then
			[ $filtered -eq 1 ] && ok "monitor $p filtered" || bad "monitor $p not filtered"
		else
			[ $filtered -eq 0 ] && ok "monitor $p unfiltered (it forks per boot)" ||
				bad "monitor $p filtered although it must fork again"
		fi
	done
}

rivet run $G --no-reboot --cmdline 'console=ttyS0 quiet rivet.test=hang' >/tmp/s1.out 2>&1 &
p=$!
check_threads /tmp/s1.out 1
kill -TERM $p; wait $p; rc=$?
[ $rc -eq 143 ] && ok "filtered VM stopped by SIGTERM: $rc" || bad "SIGTERM status $rc: $(tail -n 3 /tmp/s1.out)"

rivet run $G --cmdline 'console=ttyS0 quiet rivet.test=hang' >/tmp/s2.out 2>&1 &
p=$!
check_threads /tmp/s2.out 0
kill -TERM $p; wait $p

for role in vcpu main monitor vcpu-ioctl main-ioctl; do
	case $role in
	*-ioctl) sys=ioctl ;;
	*) sys=openat ;;
	esac
	RIVET_SECCOMP_SELFTEST=$role timeout 120 rivet run $G --no-reboot \
		--cmdline 'console=ttyS0 quiet rivet.test=hang' >/tmp/s3.out 2>&1
	rc=$?
	msg="rivet: seccomp: ${role%-ioctl} thread made forbidden syscall $sys"
	if [ $rc -eq 148 ] && grep -q "$msg" /tmp/s3.out && ! grep -q RIVET-GUEST-UP /tmp/s3.out; then
		ok "$role: status 148, '$(grep -m1 'rivet: seccomp:' /tmp/s3.out)'"
	else
		bad "$role: status $rc, output: $(tail -n 5 /tmp/s3.out)"
	fi
done

for role in vcpu main monitor; do
	n=$(rivet seccomp --board microvm --role $role | grep -c .)
	[ "$n" -gt 5 ] && ok "rivet seccomp --role $role: $n lines" || bad "rivet seccomp --role $role printed $n lines"
done
rivet seccomp --role vcpu | head -n 40
[ $fails -eq 0 ]
