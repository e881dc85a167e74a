#!/bin/sh
# Snapshot and restore of the stock Debian image on the virt board (EDK2,
# GRUB, Linux with ACPI, systemd), booted without the test image's
# self-power-off: once systemd is up, QMP migrate to file:DIR, quit; a new
# rivet restores it (--incoming) and the guest goes on without a new boot:
# its services still answer, shown by systemd-logind acting on the ACPI
# power button (system_powerdown) and systemd powering off cleanly.
# QMP-OK/QMP-FAIL lines.  Usage: debian-snapshot.sh DISK
disk=$1
Q=/tmp/debsnap.qmp
D=/root/debsnap
OUT1=/tmp/debsnap.out1
OUT2=/tmp/debsnap.out2
EV=/tmp/debsnap.events
# shellcheck source=tests/e2e/host/qmplib.sh
. "$(dirname "$0")/qmplib.sh"

rm -rf "$Q" "$D" /root/vars-snap.fd
# run OUT [RIVET-OPTION]...: the VM in the background; $pid.
run() {
	_out=$1
	shift
	rm -f "$Q"
	rivet run --board virt --firmware /fw/RISCV_VIRT_CODE.fd \
		--firmware-vars /root/vars-snap.fd --disk "$disk" --cpus 2 \
		--memory 1G --qmp "unix:$Q,server,wait=off" "$@" >"$_out" 2>&1 &
	pid=$!
	wait_sock "$Q"
}
run "$OUT1"
if wait_for 'RIVET-DEBIAN-UP running' "$OUT1" 780; then
	ok "Debian is up (systemd running)"
else
	bad "Debian did not come up"
fi
sleep 3
migrate_wait "$Q" "$D" 600
check "snapshot completed" "$mig" '"status": "completed"'
echo "snapshot: $mig"
du -k "$D"/* 2>&1
qmp "$Q" '{"execute": "quit"}' >/dev/null
wait $pid

run "$OUT2" --incoming "file:$D"
listen "$Q" "$EV" /tmp/debsnap.stop
wait_for '"return"' "$EV" 30
r=$(qmp "$Q" '{"execute": "query-status"}')
check "restored and running" "$r" '"status": "running"'
# Give the restored guest a moment of its own, then the power button.
sleep 10
r=$(qmp "$Q" '{"execute": "system_powerdown"}')
check "system_powerdown answered" "$r" '"return": \{\}'
power_off $pid 300 "the restored guest"
touch /tmp/debsnap.stop
wait $lpid 2>/dev/null
check "POWERDOWN, then SHUTDOWN by the guest" "$(cat "$EV")" '"event": "SHUTDOWN", "data": \{"guest": true, "reason": "guest-shutdown"\}'
con=$(cat "$OUT2")
check "no new boot after the restore" "$(grep -c 'Loading Linux' "$OUT2")" '^0$'
check "systemd's clean power-off after the restore" "$con" 'systemd-shutdown\[1\]: .*(Powering off|Syncing filesystems)'
check "the kernel powered down" "$con" 'reboot: Power down'
rm -rf "$D"
echo "---- guest console, first run ----"
cat "$OUT1"
echo "---- guest console, restored ----"
cat "$OUT2"
echo "---- end ----"
[ $fails -eq 0 ] && echo "QMP-ALL-OK" || echo "QMP-FAILS $fails"
[ $fails -eq 0 ]
