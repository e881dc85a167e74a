#!/bin/sh
# sysinject on x86_64 (part of make unit): inject syscalls into a process
# under rivet's own filters and SIGSYS handler (sysinject-target) and check
# that a forbidden call kills it with status 148 and rivet's message, and
# that an allowed call does not (so the e2e test built on it can fail).
# Writes TAP to build/results/unit-sysinject.tap.
# Usage: tests/sysinject/check.sh BUILD_DIR (holding sysinject and
# sysinject-target)
dir=$1
tap=build/results/unit-sysinject.tap
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p build/results
n=0 failed=0
: >"$tap.body"

result() {	# result OK|FAIL NAME [WHY]
	n=$((n + 1))
	if [ "$1" = OK ]; then
		echo "ok $n - $2" >>"$tap.body"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2: $3" >>"$tap.body"
		echo "        not ok - $2: $3"
	fi
}

# start MODE: run sysinject-target MODE; sets pid, main, vcpu.
start() {
	rm -f "$tmp/out" "$tmp/err"	# the redirections below happen in the child
	"$dir/sysinject-target" "$1" >"$tmp/out" 2>"$tmp/err" &
	pid=$!
	i=0
	while ! grep -qs READY "$tmp/out" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	main=$(sed -n 's/^READY main=\([0-9]*\) .*/\1/p' "$tmp/out" 2>/dev/null)
	vcpu=$(sed -n 's/^READY .* vcpu=\([0-9]*\)$/\1/p' "$tmp/out" 2>/dev/null)
	[ -n "$main" ] && [ -n "$vcpu" ] || echo "sysinject-target $1 did not start" >"$tmp/err"
}

# tid_of main|vcpu: sets t to that thread's TID.
tid_of() {
	case $1 in
	main) t=$main ;;
	*) t=$vcpu ;;
	esac
}

# kill_case NAME MODE THREAD ROLE SYSCALL [argN=V]: the injection kills.
kill_case() {
	name=$1 mode=$2 which=$3 role=$4 sys=$5
	shift 5
	start "$mode"
	tid_of "$which"
	"$dir/sysinject" -t 10 "$t" "$sys" "$@" >"$tmp/inj" 2>&1
	irc=$?
	[ $irc -eq 0 ] || kill -KILL $pid 2>/dev/null	# not to wait for ever
	wait $pid 2>/dev/null
	rc=$?
	msg="rivet: seccomp: $role thread made forbidden syscall $sys ("
	if [ $irc -eq 0 ] && [ $rc -eq 148 ] && grep -qF "$msg" "$tmp/err" &&
		grep -q "killed by seccomp" "$tmp/inj"; then
		result OK "$name: status 148, $(cat "$tmp/err")"
	else
		result FAIL "$name" "sysinject $irc, target $rc: $(cat "$tmp/inj" "$tmp/err" | tr '\n' ' ')"
	fi
}

# live_case NAME MODE THREAD SYSCALL [argN=V]: the injection does not kill;
# the process goes on as before.
live_case() {
	name=$1 mode=$2 which=$3 sys=$4
	shift 4
	start "$mode"
	tid_of "$which"
	"$dir/sysinject" -t 10 "$t" "$sys" "$@" >"$tmp/inj" 2>&1
	irc=$?
	sleep 0.2
	if [ $irc -eq 1 ] && kill -0 $pid 2>/dev/null && grep -q "allowed: returned" "$tmp/inj" &&
		! [ -s "$tmp/err" ]; then
		result OK "$name: $(tail -n 1 "$tmp/inj")"
	else
		result FAIL "$name" "sysinject $irc: $(cat "$tmp/inj" "$tmp/err" | tr '\n' ' ')"
	fi
	kill -KILL $pid 2>/dev/null
	wait $pid 2>/dev/null
}

kill_case "vcpu openat" vm vcpu vcpu openat
kill_case "vcpu ioctl KVM_CREATE_VCPU" vm vcpu vcpu ioctl arg1=0xae41
kill_case "main openat" vm main main openat
kill_case "main ioctl KVM_CREATE_VCPU" vm main main ioctl arg1=0xae41
kill_case "monitor openat" monitor main monitor openat
# Allowed calls go through; the thread's own call resumes.
live_case "vcpu rt_sigprocmask allowed" vm vcpu rt_sigprocmask arg3=0
live_case "main rt_sigprocmask allowed" vm main rt_sigprocmask arg3=0
live_case "monitor rt_sigprocmask allowed" monitor main rt_sigprocmask arg3=0
live_case "main getpid allowed" vm main getpid
# Without a filter, the same forbidden calls do not kill: the kill is the
# filter's, not sysinject's.
live_case "unfiltered openat" none vcpu openat
live_case "unfiltered ioctl" none main ioctl arg1=0xae41

{ echo "1..$n"; cat "$tap.body"; } >"$tap"
rm -f "$tap.body"
if [ $failed -eq 0 ]; then
	echo "  PASS  sysinject ($n tests)"
else
	echo "  FAIL  sysinject ($failed of $n)"
fi
[ $failed -eq 0 ]
