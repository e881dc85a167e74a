#!/bin/sh
# Snapshot and restore end to end on the emulated host (docs/snapshot.md),
# driven by socat: a guest (tests/guest/tests/snapshot) writing synced
# blocks to its disk and checking its clocks is snapshotted mid-run (QMP
# migrate to file:DIR: paused, postmigrate, files 0600 in a 0700 DIR),
# restored paused into a fresh process and snapshotted again (the two
# identical record by record, RAM byte for byte), then resumed: it goes on
# where it was (no new boot), its clocks never went back, every
# acknowledged block is on the disk.  A corrupt, cut, other-version,
# mismatched-memory or wrong-machine snapshot is refused with a message and
# a non-zero exit before the guest runs.  QMP-OK/QMP-FAIL lines.
# With SNAP_CPUS=N (default 2) the guest has N vCPUs and takes the last
# one offline (SBI HSM) before the snapshot: offline after the restore,
# and it comes back online.
# SNAP_NET=1: with a virtio-net on a TAP and the guest streaming TCP lines
# to a socat on the host through every snapshot and restore: the stream
# must arrive whole, in order, and end.  SNAP_VHOST=on: every run on
# vhost-net (the kernel's module must be loadable: rvhost --modules
# tun,vhost_net); a restore needs the same setting, since vhost-net offers
# the guest other features.
# SNAP_CHAIN=N: then N more snapshot-and-restore cycles of the running
# guest (three restores in a row with N=2).
# SNAP_RESTORE: options added to the restoring runs (e.g. another
# --aia-mode: a snapshot taken in hwaccel mode restores in emul and back).
# Usage: snapshot.sh BOARD [RIVET-OPTION]...
board=$1
shift
# The options of every run (no spaces inside any of them).
OPTS="$*"
T=/tmp/snap-$board
Q=$T.sock
DISK=$T.img
ROUNDS=$((30 + 10 * ${SNAP_CHAIN:-0}))
CPUS=${SNAP_CPUS:-2}
gparams=
[ "$CPUS" -gt 2 ] && gparams="rivet.snap_offline=$((CPUS - 1))"
# shellcheck source=tests/e2e/host/qmplib.sh
. "$(dirname "$0")/qmplib.sh"

mem=256M
[ "$board" = virt ] && mem=512M
rm -rf "$T".* "$T"-*
truncate -s 1M "$DISK"
# run OUT [RIVET-OPTION]...: this case's VM in the background; $pid.
run() {
	_out=$1
	shift
	rm -f "$Q"
	rivet run --board "$board" --memory "$mem" --kernel /guest/Image \
		--initrd /guest/initramfs.cpio.gz --cpus "$CPUS" --disk "$DISK" \
		--cmdline "console=ttyS0 quiet rivet.test=snapshot rivet.snap_rounds=$ROUNDS $gparams" \
		--qmp "unix:$Q,server,wait=off" "$@" >"$_out" 2>&1 &
	pid=$!
	wait_sock "$Q"
}
# snap DIR [channels]: migrate to file:DIR (or QEMU 10's channels form)
# and wait until it completed (120 s).
snap() {
	migrate_wait "$Q" "$1" 120 "${2:-}"
	check "snapshot $1 completed" "$mig" '"status": "completed"'
	check "query-migrate sizes" "$mig" '"normal-bytes": [1-9][0-9]*'
	# The reply the x86_64 side compares with QEMU's (check_qmp_shapes).
	qmp "$Q" '{"execute": "query-migrate", "id": "shape-query-migrate"}' |
		grep '"id": "shape-' | sed 's/^/QMP-SHAPE /'
}
rounds() { grep -c '^RIVET-SNAP [0-9]' "$1"; }
# The last round OUT shows whole: not one a snapshot cut (see first_round).
last_round() {
	grep -v 'rivet: note: snapshot: ' "$1" |
		sed -n 's/^RIVET-SNAP \([0-9]*\) .*/\1/p' | tail -n1
}
# first_round OLD NEW: the first round the restored run NEW printed.  A
# snapshot can cut a console line in two: its start is then the last thing
# the guest wrote in OLD, followed on the same line by rivet's note of the
# snapshot, and its rest is the first line of NEW that rivet did not write.
first_round() {
	_cut=$(sed -n 's/^\(..*\)rivet: note: snapshot: .*/\1/p' "$1" | tail -n1)
	{ [ -z "$_cut" ] ||
		printf '%s%s\n' "$_cut" "$(grep -v '^rivet: ' "$2" | head -n1)"
	  cat "$2"; } | sed -n 's/^RIVET-SNAP \([0-9]*\) .*/\1/p' | head -n1
}

SNAP_RESTORE=${SNAP_RESTORE:-}
if [ -n "${SNAP_NET:-}" ]; then
	# tun and vhost_net (rvhost --modules), in dependency order.
	if [ -f /lib/modules/extra/load-order ]; then
		while read -r m; do
			grep -q "^${m%.ko} " /proc/modules ||
				insmod "/lib/modules/extra/$m" || bad "insmod $m"
		done </lib/modules/extra/load-order
	fi
	tunctl -d tap9 >/dev/null 2>&1
	tunctl -t tap9 >/dev/null || bad "tunctl"
	ip addr add 169.254.77.1/24 dev tap9
	ip link set tap9 up
	socat -u TCP-LISTEN:7777,reuseaddr "OPEN:$T.stream,creat,trunc" &
	spid=$!
	gparams="$gparams rivet.snap_net=169.254.77.1:7777"
	OPTS="$OPTS --net tap=tap9,vhost=${SNAP_VHOST:-off}"
	set -- "$@" "--net" "tap=tap9,vhost=${SNAP_VHOST:-off}"
fi

# ---- 1. snapshot a running guest mid-I/O ----
run "$T.out1" "$@"
if wait_for '^RIVET-SNAP 5 ' "$T.out1" 400; then ok "guest running"; else
	bad "the guest did not reach round 5"; cat "$T.out1"; fi
listen "$Q" "$T.ev1" "$T.stop1"
wait_for '"return"' "$T.ev1" 30
# QEMU's MIGRATION events, as libvirt asks for them.
r=$(qmp "$Q" '{"execute": "migrate-set-capabilities", "arguments": {"capabilities": [{"capability": "events", "state": true}]}}' \
	'{"execute": "query-migrate-capabilities"}')
check "migration events on" "$r" '"capability": "events", "state": true'
snap "$T-1"
r=$(qmp "$Q" '{"execute": "query-status"}')
check "paused after the snapshot (postmigrate)" "$r" '"status": "postmigrate", "running": false'
n1=$(rounds "$T.out1")
sleep 3
check "no round while paused" "$(rounds "$T.out1")" "^$n1\$"
check "state file 0600" "$(stat -c %a "$T-1/state")" '^600$'
check "memory file 0600" "$(stat -c %a "$T-1/memory")" '^600$'
check "directory 0700" "$(stat -c %a "$T-1")" '^700$'
check "memory file sparse" "$(du -k "$T-1/memory" | cut -f1)" '^[0-9]{1,6}$'
info=$(rivet snapshot-info "$T-1" 2>&1)
check "snapshot-info" "$info" "board $board, .* $CPUS vCPUs"
check "snapshot-info lists the vCPUs" "$info" "VCPU $((CPUS - 1)) "
check "snapshot-info lists the console" "$info" 'DEV  .*uart'
qmp "$Q" '{"execute": "quit"}' >/dev/null
wait $pid
touch "$T.stop1"
wait $lpid 2>/dev/null
check "STOP event at the snapshot" "$(cat "$T.ev1")" '"event": "STOP"'
check "MIGRATION events setup, active, completed" \
	"$(sed -n 's/.*"event": "MIGRATION", "data": {"status": "\([a-z]*\)"}.*/\1/p' "$T.ev1" | tr '\n' ' ')" \
	'^setup active completed $'
last1=$(last_round "$T.out1")

# ---- 2. refused snapshots: nothing runs ----
# refuse NAME PATTERN [RIVET-OPTION]...: --incoming file:$T-bad fails.
refuse() {
	_n=$1 _p=$2
	shift 2
	# shellcheck disable=SC2086
	rivet run --board "$board" --memory "$mem" --cpus "$CPUS" \
		--disk "$DISK" $OPTS --incoming "file:$T-bad" "$@" >"$T.bad" 2>&1
	_rc=$?
	check "$_n: refused (status $_rc)" "$_rc" '^[1-9][0-9]*$'
	check "$_n: says why" "$(cat "$T.bad")" "$_p"
	check "$_n: the guest never ran" "$(grep -c RIVET-SNAP "$T.bad")" '^0$'
}
# fresh_bad [MEMORY-FROM]: $T-bad, a copy of $T-1's state with a hard link
# to its (or MEMORY-FROM's) memory file (busybox's cp cannot copy sparse).
fresh_bad() {
	rm -rf "$T-bad"
	mkdir -m 700 "$T-bad"
	cp "$T-1/state" "$T-bad/state"
	ln "${1:-$T-1}/memory" "$T-bad/memory"
}
fresh_bad
printf 'X' | dd of="$T-bad/state" bs=1 seek=200 conv=notrunc 2>/dev/null
refuse corrupt 'checksum mismatch: corrupt'
fresh_bad
truncate -s 100 "$T-bad/state"
refuse truncated 'truncated'
fresh_bad
printf '\002' | dd of="$T-bad/state" bs=1 seek=8 conv=notrunc 2>/dev/null
refuse "another version" 'format version 2; this rivet reads version 1'
fresh_bad
rm "$T-bad/memory"
truncate -s $(($(stat -c %s "$T-1/memory") - 4096)) "$T-bad/memory"
refuse "memory file cut" 'memory file is not'
fresh_bad
refuse "other RAM size" 'does not fit this run: .*--memory' --memory 128M
fresh_bad
refuse "other vCPU count" 'does not fit this run: .*--cpus' --cpus $((CPUS + 1))
fresh_bad
refuse "other devices" 'does not fit this run.*same devices' --no-rng
# Another host, as far as this one can play it: another interrupt
# controller (KVM's AIA and split swap; a PLIC host has neither), and
# vCPUs without an extension the snapshot's had.
chip=$(printf '%s\n' "$info" | sed -n 's/.*irqchip \([a-z]*\),.*/\1/p')
other=
[ "$chip" = aia ] && other=split
[ "$chip" = split ] && other=aia
if [ -n "$other" ]; then
	fresh_bad
	refuse "other interrupt controller" "interrupt controller is '$chip', this run's is '$other'" --irqchip "$other"
fi
if grep -q zicboz /proc/cpuinfo; then
	fresh_bad
	refuse "other ISA" 'its vCPUs were .*, this host.s .* are ' --cpu-features=-zicboz
fi
rm -rf "$T-bad"
refuse "no snapshot" 'cannot open'

# ---- 3. restore paused, snapshot again: identical ----
# shellcheck disable=SC2086
run "$T.out2" "$@" $SNAP_RESTORE --incoming "file:$T-1" --paused
r=$(qmp "$Q" '{"execute": "query-status"}' '{"execute": "query-migrate"}')
check "restored, waiting (paused, as QEMU after -incoming -S)" "$r" '"status": "paused", "running": false'
check "restored: query-migrate says completed" "$r" '"return": \{"status": "completed"\}'
snap "$T-2"
# Records and RAM (snapshot-info reads only where either memory file has
# data: busybox's cmp takes ~20 s for 256 MiB here).
cmpout=$(rivet snapshot-info "$T-1" "$T-2" 2>&1)
check "saved again: identical records and RAM" "$cmpout" "^identical: [0-9]+ records and ${mem%M} MiB of RAM"
fresh_bad "$T-2"
refuse "another snapshot's memory" 'memory file belongs to another snapshot'
rm -rf "$T-bad"

# ---- 4. resume: the guest goes on where it was ----
listen "$Q" "$T.ev2" "$T.stop2"
# Negotiated before the cont, so it hears the RESUME.
wait_for '"return"' "$T.ev2" 30
qmp_ok "cont" "$Q" '{"execute": "cont"}'
# SNAP_CHAIN=N: N more times, let it run a few rounds, snapshot it, quit,
# restore that (running at once): each restore goes on from the round
# after the one its snapshot stopped at.
cur=$T.out2
stopped=$last1
c=0
while [ $c -lt "${SNAP_CHAIN:-0}" ]; do
	c=$((c + 1))
	# Just after a restore the guest may not have printed a whole round
	# yet: it is then at the round after the one its snapshot stopped at.
	base=$(last_round "$cur")
	want=$((${base:-$stopped} + 3))
	wait_for "^RIVET-SNAP $want " "$cur" 300 ||
		bad "chain $c: round $want never came"
	# The last one with QEMU 10's channels form of the destination.
	if [ $c = "${SNAP_CHAIN:-0}" ]; then snap "$T-c$c" channels; else
		snap "$T-c$c"; fi
	stopped=$(last_round "$cur")
	qmp "$Q" '{"execute": "quit"}' >/dev/null
	wait $pid
	# shellcheck disable=SC2086
	run "$T.out-c$c" "$@" $SNAP_RESTORE --incoming "file:$T-c$c"
	prev=$cur
	cur=$T.out-c$c
	wait_for '^RIVET-SNAP [0-9]' "$cur" 300
	check "chain $c: went on after round $stopped" \
		"$(first_round "$prev" "$cur")" "^$((stopped + 1))\$"
	rm -rf "$T-c$c"
done
if wait_for '^RIVET-TEST snapshot (PASS|FAIL)' "$cur" 300; then
	ok "the restored guest finished"
else
	# Its console and rivet's messages below say where it stood.
	bad "the restored guest did not finish"
	qmp "$Q" '{"execute": "query-status"}' '{"execute": "query-cpus-fast"}'
	for _p in $(pidof rivet); do
		for _t in /proc/"$_p"/task/*; do
			echo "thread ${_t##*/} of $_p: $(cat "$_t/comm") state $(cut -d' ' -f3 "$_t/stat") wchan $(cat "$_t/wchan" 2>/dev/null)"
		done
	done
	kill $pid
fi
wait $pid
rc=$?
touch "$T.stop2"
wait $lpid 2>/dev/null
out2=$(cat "$cur")
check "restored guest: test passed" "$out2" '^RIVET-TEST snapshot PASS'
check "restored guest: all blocks verified" "$out2" "^RIVET-SNAP-VERIFIED $ROUNDS blocks"
check "restored guest: not a new boot" "$(cat "$T".out[2-]* | grep -c RIVET-GUEST-UP)" '^0$'
first2=$(first_round "$T.out1" "$T.out2")
check "restored guest: went on after round $last1" "$first2" "^$((last1 + 1))\$"
check "rivet ends with status 0" "$rc" '^0$'
if [ "$CPUS" -gt 2 ]; then
	check "the offline hart was offline at the snapshot" "$(cat "$T.out1")" '^RIVET-SNAP-OFFLINE'
	check "offline after the restore, then back online" "$out2" '^RIVET-SNAP-ONLINE'
fi
check "RESUME event" "$(cat "$T.ev2")" '"event": "RESUME"'
# Every acknowledged block is on the image, from both runs.
i=0
miss=0
while [ $i -lt $ROUNDS ]; do
	got=$(dd if="$DISK" bs=4096 skip=$i count=1 2>/dev/null | head -n1)
	[ "$got" = "$(printf 'RIVET-SNAP-BLOCK %05d' $i)" ] || miss=$((miss + 1))
	i=$((i + 1))
done
check "every block on the disk image" "$miss" '^0$'
if [ -n "${SNAP_NET:-}" ]; then
	wait $spid
	n=$(wc -l <"$T.stream")
	check "TCP stream: lines arrived" "$n" '^[1-9][0-9]+$'
	check "TCP stream: whole and in order across the restores" \
		"$(awk '$1 == "L" && $2 != NR - 1 { print "gap at " NR; exit }
			$1 == "END" { print ($2 == NR - 1 ? "whole" : "bad end") }' "$T.stream")" '^whole$'
	tunctl -d tap9 >/dev/null
fi
echo "---- first run ----"
cat "$T.out1"
echo "---- restored runs ----"
cat "$T.out2" "$T".out-c* 2>/dev/null
echo "---- end ----"
[ $fails -eq 0 ] && echo "QMP-ALL-OK" || echo "QMP-FAILS $fails"
[ $fails -eq 0 ]
