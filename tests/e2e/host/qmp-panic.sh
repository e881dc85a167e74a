#!/bin/sh
# QMP and how a guest ends: a guest that reports a failure (SBI system
# reset, reason "system failure": /root/sbifail.Image) is GUEST_PANICKED;
# --qmp without wait=off starts the guest only once a client is there;
# --no-shutdown keeps rivet after a panic or a power-off, system_reset
# boots again, quit ends; system_powerdown presses the power button the
# guest waits for (tests/guest/tests/powerbutton); --daemonize.  QMP-OK/QMP-FAIL lines; exit 0 when all passed.
# Usage: qmp-panic.sh BOARD
board=$1
Q=/tmp/qmpp-$board.sock
OUT=/tmp/qmpp-$board.out
# shellcheck source=tests/e2e/host/qmplib.sh
. "$(dirname "$0")/qmplib.sh"
mem=
[ "$board" = virt ] && mem="--memory 1G"

# ---- wait for a client, then a panic that ends rivet ----
rm -f "$Q"
# shellcheck disable=SC2086
rivet run --board "$board" $mem --kernel /root/sbifail.Image \
	--qmp "unix:$Q,server" >"$OUT" 2>&1 &
pid=$!
wait_sock "$Q"
sleep 3
if kill -0 $pid 2>/dev/null && grep -q 'waiting for a QMP client on' "$OUT"; then
	ok "waits for a client (wait=on)"
else
	bad "waits for a client (wait=on)"
	cat "$OUT"
fi
r=$(qmp_stay "$Q" 20)
wait $pid
rc=$?
check "GUEST_PANICKED" "$r" '"event": "GUEST_PANICKED", "data": \{"action": "poweroff"\}'
check "SHUTDOWN guest-panic" "$r" '"event": "SHUTDOWN", "data": \{"guest": true, "reason": "guest-panic"\}'
check "exit status 1 after a panic" "$rc" '^1$'

# ---- --no-shutdown: a panic pauses; cont refused; quit ----
rm -f "$Q"
# shellcheck disable=SC2086
rivet run --board "$board" $mem --kernel /root/sbifail.Image \
	--qmp "unix:$Q,server,wait=off" --no-shutdown --paused >"$OUT" 2>&1 &
pid=$!
wait_sock "$Q"
r=$(qmp "$Q" '{"execute": "cont"}' '{"execute": "query-status"}' \
	'{"execute": "cont"}')
check "GUEST_PANICKED, paused" "$r" '"event": "GUEST_PANICKED", "data": \{"action": "pause"\}'
check "status guest-panicked" "$r" '"status": "guest-panicked", "running": false'
check "cont needs a reset" "$r" 'Resetting the Virtual Machine is required'
r=$(qmp "$Q" '{"execute": "quit"}')
wait $pid
check "quit from guest-panicked" "$?" '^0$'

# ---- --no-shutdown: the guest powers off; system_reset boots it again ----
rm -f "$Q"
# shellcheck disable=SC2086
rivet run --board "$board" $mem --kernel /guest/Image \
	--initrd /guest/initramfs.cpio.gz \
	--cmdline 'console=ttyS0 quiet rivet.test=poweroff' \
	--qmp "unix:$Q,server,wait=off" --no-shutdown >"$OUT" 2>&1 &
pid=$!
wait_sock "$Q"
listen "$Q" /tmp/qmpp-$board.events /tmp/qmpp-$board.stop
wait_for '"guest-shutdown"' /tmp/qmpp-$board.events 120
r=$(qmp "$Q" '{"execute": "query-status"}' '{"execute": "system_reset"}')
check "status shutdown" "$r" '"status": "shutdown", "running": false'
check "reset from shutdown" "$r" '"event": "RESET"'
i=0
while [ "$(grep -c '"guest-shutdown"' /tmp/qmpp-$board.events)" -lt 2 ] && [ $i -lt 120 ]; do sleep 1; i=$((i + 1)); done
check "booted again and powered off again" "$(grep -c 'RIVET-TEST poweroff PASS' "$OUT")" '^2$'
r=$(qmp "$Q" '{"execute": "quit"}')
wait $pid
check "quit after power-off" "$?" '^0$'
touch /tmp/qmpp-$board.stop
wait $lpid
check "one client across both boots" "$(grep -c '"guest-shutdown"' /tmp/qmpp-$board.events)" '^2$'
# ---- system_powerdown: the power button, seen by the guest ----
# powerdown LABEL BUTTON [RIVET-OPTION]...: boot the guest test powerbutton
# waiting on BUTTON (rivet.button: virtio, or acpi: the button virt's GED
# notifies on a firmware boot), press it through QMP, check the power-off.
powerdown() {
	_l=$1 _b=$2
	shift 2
	rm -f "$Q"
	# shellcheck disable=SC2086
	rivet run --board "$board" $mem "$@" --kernel /guest/Image \
		--initrd /guest/initramfs.cpio.gz \
		--cmdline "console=ttyS0 quiet rivet.test=powerbutton rivet.button=$_b" \
		--qmp "unix:$Q,server,wait=off" >"$OUT" 2>&1 &
	pid=$!
	wait_sock "$Q"
	wait_for 'RIVET-POWERBUTTON-READY' "$OUT" 240
	r=$(qmp_stay "$Q" 20 '{"execute": "system_powerdown", "id": "pd"}')
	wait $pid
	rc=$?
	check "${_l}POWERDOWN event" "$r" '"event": "POWERDOWN"'
	check "${_l}system_powerdown answered" "$r" '"return": \{\}, "id": "pd"'
	check "${_l}the guest saw the button" "$(cat "$OUT")" 'RIVET-POWER-BUTTON pressed'
	check "${_l}the guest powered off" "$r" '"event": "SHUTDOWN", "data": \{"guest": true, "reason": "guest-shutdown"\}'
	check "${_l}exit status 0 after the power-off" "$rc" '^0$'
}
powerdown "" virtio
[ "$board" != virt ] ||
	powerdown "ACPI (the GED): " acpi --firmware /fw/RISCV_VIRT_CODE.fd

# ---- --daemonize: back once the VM is set up; setup errors still count ----
rm -f "$Q" /tmp/qmpp-$board.pid
# shellcheck disable=SC2086
rivet run --board "$board" $mem --daemonize --kernel /guest/Image \
	--disk /nonexistent.img --qmp "unix:$Q,server,wait=off" 2>"$OUT"
check "--daemonize: a missing disk is exit status 2" "$?" '^2$'
check "--daemonize: ... with its message" "$(cat "$OUT")" "nonexistent.img"
# shellcheck disable=SC2086
rivet run --board "$board" $mem --daemonize --kernel /guest/Image \
	--initrd /guest/initramfs.cpio.gz \
	--cmdline 'console=ttyS0 quiet rivet.test=ticker' \
	--qmp "unix:$Q,server,wait=off" --pidfile /tmp/qmpp-$board.pid
check "--daemonize: exit status 0 once set up" "$?" '^0$'
dpid=$(cat /tmp/qmpp-$board.pid 2>/dev/null)
check "--daemonize: detached (parent init, no terminal)" \
	"$(sed -n 's/^PPid:[[:space:]]*//p' "/proc/$dpid/status" 2>/dev/null) $(readlink "/proc/$dpid/fd/1")" \
	'^1 /dev/null$'
r=$(qmp "$Q" '{"execute": "query-status"}' '{"execute": "quit"}')
check "--daemonize: QMP drives it" "$r" '"status": "running"'
i=0
while [ -e "/proc/$dpid" ] && [ $i -lt 20 ]; do sleep 1; i=$((i + 1)); done
[ -e "/proc/$dpid" ] && bad "--daemonize: quit ends it" || ok "--daemonize: quit ends it"

[ $fails -eq 0 ] && echo "QMP-ALL-OK" && exit 0
exit 1
