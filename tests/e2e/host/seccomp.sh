#!/bin/sh
# seccomp on the emulated host: every thread of a running rivet is filtered
# (Seccomp: 2), each role's filter kills the process with status 148 and a
# message naming the role and the syscall when it makes a forbidden call
# (openat, or an ioctl request number not on its list), and the allowlists
# can be printed.  Prints SECCOMP-OK/SECCOMP-FAIL lines.
#
# The forbidden calls are made by the real rivet, which has no test hook:
# sysinject (tests/sysinject/sysinject.c, in the host as /usr/bin/sysinject)
# stops one thread at its next syscall with ptrace and turns that call into
# the forbidden one.  Controls: an allowed call injected into each role, and
# openat injected into a monitor that has no filter, leave rivet running.
fails=0
ok() { echo "SECCOMP-OK $*"; }
bad() { echo "SECCOMP-FAIL $*"; fails=$((fails + 1)); }
G="--kernel /guest/Image --initrd /guest/initramfs.cpio.gz --cpus 2"
IO_DISK=${1:?usage: seccomp.sh DISK (a disk the I/O thread cases may read)}

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

# vm_of MONITOR: the VM process, the monitor's rivet child.
vm_of() {
	for q in $(pidof rivet); do
		[ "$(awk '/^PPid:/ { print $2 }' /proc/$q/status)" = "$1" ] && echo $q
	done
}

# vcpu_of VM: a vCPU thread, a task of the VM process other than its main.
vcpu_of() {
	for t in /proc/$1/task/*; do
		[ "${t##*/}" != "$1" ] && { echo ${t##*/}; return; }
	done
}

# filtered TID: is the task under a seccomp filter?
filtered() {
	[ "$(awk '/^Seccomp:/ { print $2 }' /proc/$1/status 2>/dev/null)" = 2 ]
}

# wait_filtered MONITOR: until the monitor and every task of its VM process
# (main + 2 vCPUs) are filtered (before the guest's first instruction);
# sets vm and vcpu.
wait_filtered() {
	i=0
	while [ $i -lt 60 ]; do
		vm=$(vm_of $1)
		if [ -n "$vm" ] && [ "$(ls /proc/$vm/task | wc -l)" -eq 3 ] && filtered $1; then
			all=1
			for t in /proc/$vm/task/*; do filtered ${t##*/} || all=0; done
			[ $all = 1 ] && { vcpu=$(vcpu_of $vm); return 0; }
		fi
		sleep 1
		i=$((i + 1))
	done
	return 1
}

# control ROLE TID SYSCALL [argN=V]: injecting the call leaves rivet ($p)
# running: sysinject says it was allowed and restarted the thread's call.
control() {
	role=$1 tid=$2
	shift 2
	out=$(sysinject "$tid" "$@" 2>&1)
	rc=$?
	sleep 1
	if [ $rc -eq 1 ] && kill -0 $p 2>/dev/null && echo "$out" | grep -q "allowed: returned"; then
		ok "$role control: $(echo "$out" | tail -n 1)"
	else
		bad "$role control: sysinject $rc, rivet $(kill -0 $p 2>/dev/null && echo running || echo gone): $(echo "$out" | tr '\n' ' ')"
	fi
}

rivet run $G --no-reboot --cmdline 'console=ttyS0 quiet rivet.test=hang' >/tmp/s1.out 2>&1 &
p=$!
check_threads /tmp/s1.out 1
# An allowed call (rt_sigprocmask with a bad size: EINVAL, no effect) in
# each role: not killed, so the kills below are the filters' verdicts.
vm=$(vm_of $p)
control vcpu "$(vcpu_of $vm)" rt_sigprocmask arg3=0
control main "$vm" rt_sigprocmask arg3=0
control monitor $p rt_sigprocmask arg3=0
kill -TERM $p; wait $p; rc=$?
[ $rc -eq 143 ] && ok "filtered VM stopped by SIGTERM: $rc" || bad "SIGTERM status $rc: $(tail -n 3 /tmp/s1.out)"

rivet run $G --cmdline 'console=ttyS0 quiet rivet.test=hang' >/tmp/s2.out 2>&1 &
p=$!
check_threads /tmp/s2.out 0
# The monitor that forks per boot has no filter: the same openat that kills
# a filtered monitor below just fails here.
control "unfiltered monitor" $p openat arg1=0
kill -TERM $p; wait $p; rc=$?
[ $rc -eq 143 ] && ok "VM stopped by SIGTERM: $rc" || bad "SIGTERM status $rc: $(tail -n 3 /tmp/s2.out)"

# Each role's filter, on a fresh rivet once all its threads are filtered:
# its thread's next syscall becomes openat, or an ioctl KVM_CREATE_VCPU
# (_IO(0xAE, 0x41): on no list).  The hanging guest never exits by itself.
for role in vcpu main monitor vcpu-ioctl main-ioctl; do
	case $role in
	*-ioctl) sys=ioctl set=arg1=0xae41 ;;
	*) sys=openat set= ;;
	esac
	rivet run $G --no-reboot --cmdline 'console=ttyS0 quiet rivet.test=hang' >/tmp/s3.out 2>&1 &
	p=$!
	if ! wait_filtered $p; then
		bad "$role: rivet's threads were not all filtered: $(ls /proc/$vm/task 2>&1 | tr '\n' ' ')"
		kill -KILL $p; wait $p
		continue
	fi
	case $role in
	vcpu*) tid=$vcpu ;;
	main*) tid=$vm ;;
	monitor) tid=$p ;;
	esac
	# shellcheck disable=SC2086
	inj=$(sysinject "$tid" $sys $set 2>&1)
	irc=$?
	[ $irc -eq 0 ] || kill -KILL $p	# else it would hang for ever
	wait $p
	rc=$?
	msg="rivet: seccomp: ${role%-ioctl} thread made forbidden syscall $sys ("
	if [ $irc -eq 0 ] && [ $rc -eq 148 ] && grep -qF "$msg" /tmp/s3.out &&
		echo "$inj" | grep -q "killed by seccomp"; then
		ok "$role: status 148, '$(grep -m1 'rivet: seccomp:' /tmp/s3.out)'; $(echo "$inj" | head -n 1)"
	else
		bad "$role: sysinject $irc: $(echo "$inj" | tr '\n' ' '); rivet status $rc, output: $(tail -n 5 /tmp/s3.out)"
	fi
done

# The I/O threads (a disk: one queue thread, the pool): filtered from the
# start, each kills with its role's message; an allowed call does not.
# io_threads VM: the VM process's tasks named rivet-blk-*.
io_threads() {
	for t in /proc/$1/task/*; do
		case $(cat $t/comm 2>/dev/null) in rivet-blk-*) echo ${t##*/} ;; esac
	done
}
for what in control openat ioctl; do
	rivet run $G --no-reboot --disk "$IO_DISK,readonly,queues=1" \
		--cmdline 'console=ttyS0 quiet rivet.test=hang' >/tmp/s4.out 2>&1 &
	p=$!
	i=0 tid=
	while [ $i -lt 60 ] && ! grep -q RIVET-HANGING /tmp/s4.out; do sleep 1; i=$((i + 1)); done
	vm=$(vm_of $p)
	n=0 f=0
	for t in $(io_threads "$vm"); do
		n=$((n + 1))
		filtered $t && f=$((f + 1))
		tid=$t
	done
	if [ $n -ne 5 ] || [ $f -ne $n ]; then
		bad "io: $f of $n I/O threads filtered (expected 5: 1 queue + 4 pool): $(cat /proc/$vm/task/*/comm 2>&1 | tr '\n' ' ')"
		kill -KILL $p; wait $p
		continue
	fi
	[ "$what" != control ] || ok "io: $f/$n I/O threads filtered"
	case $what in
	control) control io "$tid" rt_sigprocmask arg3=0
		kill -TERM $p; wait $p
		continue ;;
	openat) inj=$(sysinject "$tid" openat 2>&1) ;;
	ioctl) inj=$(sysinject "$tid" ioctl arg1=0xae41 2>&1) ;;
	esac
	irc=$?
	[ $irc -eq 0 ] || kill -KILL $p
	wait $p
	rc=$?
	msg="rivet: seccomp: io thread made forbidden syscall $what ("
	if [ $irc -eq 0 ] && [ $rc -eq 148 ] && grep -qF "$msg" /tmp/s4.out; then
		ok "io-$what: status 148, '$(grep -m1 'rivet: seccomp:' /tmp/s4.out)'"
	else
		bad "io-$what: sysinject $irc: $(echo "$inj" | tr '\n' ' '); rivet status $rc, output: $(tail -n 5 /tmp/s4.out)"
	fi
done

for role in vcpu main monitor io; do
	n=$(rivet seccomp --board microvm --role $role | grep -c .)
	[ "$n" -gt 5 ] && ok "rivet seccomp --role $role: $n lines" || bad "rivet seccomp --role $role printed $n lines"
done
rivet seccomp --role vcpu | head -n 40
[ $fails -eq 0 ]
