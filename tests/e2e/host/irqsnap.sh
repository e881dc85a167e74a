#!/bin/sh
# Interrupts in flight across a snapshot (docs/snapshot.md), with the
# bare-metal guest tests/guest/irqsnap: it holds an IMSIC interrupt pending
# but masked and the UART's level-triggered APLIC source high (disabled),
# and reads its virtio-blk disk 8 MiB at a time, each read to raise exactly
# one interrupt.  The host snapshots it (QMP migrate) until rivet says a
# snapshot completed a request in flight (resuming it after each miss),
# restores that snapshot into a fresh process, saves it again (identical),
# and types 'g': the guest then checks that each interrupt in flight is
# delivered exactly once and nothing else fires.  QMP-OK/QMP-FAIL lines.
# SNAP_RESTORE: options added to the restoring run (another --aia-mode).
# SNAP_TIMER=1 (hosts without Sstc): the snapshot is instead taken with
# the guest's timer interrupt pending, raised during the pause after the
# guest's time stood still (typed 't': the guest arms its timer 10 s
# ahead; the host pauses it at once, waits 15 s, snapshots); after the
# restore a WFI must end, which it does only if KVM raised that interrupt
# again (docs/snapshot.md).
# Usage: irqsnap.sh [RIVET-OPTION]...
T=/tmp/irqsnap
Q=$T.sock
DISK=$T.img
# shellcheck source=tests/e2e/host/qmplib.sh
. "$(dirname "$0")/qmplib.sh"

rm -rf "$T".* "$T"-*
dd if=/dev/urandom of="$DISK" bs=1M count=32 2>/dev/null
# run OUT [RIVET-OPTION]...: the VM in the background, its console input on
# a FIFO held open on fd 3; $pid.
run() {
	_out=$1
	shift
	rm -f "$Q" "$T.in"
	mkfifo "$T.in"
	rivet run --board microvm --memory 128M --cpus 1 \
		--kernel /root/irqsnap.Image --disk "$DISK" --no-rng \
		--qmp "unix:$Q,server,wait=off" -v "$@" <"$T.in" >"$_out" 2>&1 &
	pid=$!
	exec 3>"$T.in"
	wait_sock "$Q"
}
drained() { grep -c 'the snapshot completed [0-9]* request(s) in flight' "$1"; }

# ---- 1. snapshot until one catches a read in flight ----
run "$T.out1" "$@"
if wait_for '^RIVET-IRQSNAP ready' "$T.out1" 60; then ok "guest ready"; else
	bad "the guest never got ready"; cat "$T.out1"; fi
hit=
a=0
if [ -n "${SNAP_TIMER:-}" ]; then
	printf t >&3
	if wait_for '^RIVET-IRQSNAP timer armed' "$T.out1" 30; then
		qmp_ok "paused right after the guest armed its timer" "$Q" '{"execute": "stop"}'
		# KVM's hrtimer runs on host time: the guest's deadline passes
		# while its own time stands still.
		sleep 15
		if migrate_wait "$Q" "$T-snap" 60; then
			ok "snapshot with the timer's interrupt pending"; else
			bad "snapshot: $mig"; fi
	else
		bad "the guest did not arm its timer"
	fi
else
	while [ $a -lt 20 ] && [ -z "$hit" ]; do
		a=$((a + 1))
		if ! migrate_wait "$Q" "$T-snap" 60; then
			bad "snapshot $a: $mig"
			break
		fi
		if [ "$(drained "$T.out1")" -gt 0 ]; then
			hit=$a
		else
			qmp_ok "cont after snapshot $a" "$Q" '{"execute": "cont"}'
			sleep 1
		fi
	done
	if [ -n "$hit" ]; then ok "snapshot $hit completed a read in flight"; else
		bad "no snapshot of $a caught a read in flight"; fi
fi
qmp "$Q" '{"execute": "quit"}' >/dev/null
wait $pid
exec 3>&-

# ---- 2. restore, save again (identical), then check ----
# shellcheck disable=SC2086
run "$T.out2" "$@" ${SNAP_RESTORE:-} --incoming "file:$T-snap" --paused
migrate_wait "$Q" "$T-again" 60
check "restored and saved again: identical" \
	"$(rivet snapshot-info "$T-snap" "$T-again" 2>&1)" '^identical'
qmp_ok "restored guest: cont" "$Q" '{"execute": "cont"}'
sleep 2
printf g >&3
if wait_for '^RIVET-IRQSNAP (PASS|FAIL)' "$T.out2" 120; then
	ok "the restored guest finished"; else
	# Stopped, so that its console and rivet's messages are printed.
	bad "the restored guest never finished"
	kill $pid
fi
wait $pid
rc=$?
exec 3>&-
out2=$(cat "$T.out2")
check "each interrupt in flight delivered exactly once" "$out2" '^RIVET-IRQSNAP PASS'
check "not a new boot" "$(grep -c 'RIVET-IRQSNAP start' "$T.out2")" '^0$'
if [ -n "${SNAP_TIMER:-}" ]; then
	check "restored with the timer's interrupt pending" "$out2" "its timer's interrupt was pending"
	check "a WFI ended for the timer" "$out2" "^RIVET-IRQSNAP wfi with the timer's interrupt pending: [0-9]+ ms"
fi
check "rivet ends with status 0" "$rc" '^0$'
echo "---- first run ----"
cat "$T.out1"
echo "---- restored run ----"
cat "$T.out2"
echo "---- end ----"
rm -rf "$T".* "$T"-*
[ $fails -eq 0 ] && echo "QMP-ALL-OK" || echo "QMP-FAILS $fails"
[ $fails -eq 0 ]
