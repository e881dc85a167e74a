#!/bin/sh
# QMP system_powerdown of the stock Debian image on the virt board (EDK2,
# GRUB, Linux with ACPI, systemd), booted without the test image's
# self-power-off: once systemd is up, the power button (the ACPI GED's
# PNP0C0C, and virtio-input) must make systemd-logind power the system off
# cleanly, and rivet end with status 0.  Prints the guest's console at the
# end for the runner's checks.  QMP-OK/QMP-FAIL lines.
# Usage: debian-powerdown.sh DISK
disk=$1
Q=/tmp/debpd.qmp
OUT=/tmp/debpd.out
EV=/tmp/debpd.events
# shellcheck source=tests/e2e/host/qmplib.sh
. "$(dirname "$0")/qmplib.sh"

rm -f "$Q" /root/vars-pd.fd
rivet run --board virt --firmware /fw/RISCV_VIRT_CODE.fd \
	--firmware-vars /root/vars-pd.fd --disk "$disk" --cpus 2 --memory 1536M \
	--qmp "unix:$Q,server,wait=off" >"$OUT" 2>&1 &
pid=$!
wait_sock "$Q"
listen "$Q" "$EV" /tmp/debpd.stop
if wait_for 'RIVET-DEBIAN-UP running' "$OUT" 780; then
	ok "Debian is up (systemd running)"
else
	bad "Debian did not come up"
fi
# logind started before multi-user.target; give the console a moment.
sleep 5
r=$(qmp "$Q" '{"execute": "system_powerdown"}')
check "system_powerdown answered" "$r" '"return": \{\}'
power_off $pid 300 "the guest"
touch /tmp/debpd.stop
wait $lpid 2>/dev/null
ev=$(cat "$EV")
check "POWERDOWN event" "$ev" '"event": "POWERDOWN"'
check "SHUTDOWN by the guest" "$ev" '"event": "SHUTDOWN", "data": \{"guest": true, "reason": "guest-shutdown"\}'
con=$(cat "$OUT")
check "systemd's clean power-off" "$con" 'systemd-shutdown\[1\]: .*(Powering off|Syncing filesystems)'
check "the kernel powered down" "$con" 'reboot: Power down'
echo "---- guest console ----"
cat "$OUT"
echo "---- end ----"
[ $fails -eq 0 ] && echo "QMP-ALL-OK" || echo "QMP-FAILS $fails"
[ $fails -eq 0 ]
