#!/bin/sh
# QMP end to end driven by an independent client library: qmp-go
# (tests/qmp/goclient, built by scripts/setup.sh, stage qmp-go, on Debian's
# golang-github-digitalocean-go-qemu-dev).  A VM started paused whose guest
# waits for the power button (tests/guest/tests/powerbutton): the library
# connects (greeting, negotiation), then prelaunch, cont, the queries, error
# replies, stop/cont with their events, system_reset (the guest boots
# again), system_powerdown (the guest powers off, rivet exits 0); then a
# second VM that the library ends with quit.  qmp-go prints GOQMP-OK and
# GOQMP-FAIL lines, this script QMP-OK/QMP-FAIL; exit 0 when all passed.
# Usage: qmp-go.sh BOARD
board=$1
Q=/tmp/qmpgo-$board.sock
OUT=/tmp/qmpgo-$board.out
DISK=/tmp/qmpgo-disk.img
UUID=0a1b2c3d-4e5f-6789-abcd-ef0123456789
# shellcheck source=tests/e2e/host/qmplib.sh
. "$(dirname "$0")/qmplib.sh"
if ! command -v qmp-go >/dev/null; then
	bad "qmp-go is not in the host (scripts/setup.sh, stage qmp-go, builds it)"
	exit 1
fi
mem=
[ "$board" = virt ] && mem="--memory 1G"
truncate -s 8M "$DISK"

# ---- the whole tour, ending with the guest's power-off ----
rm -f "$Q"
# shellcheck disable=SC2086
rivet run --board "$board" $mem --kernel /guest/Image \
	--initrd /guest/initramfs.cpio.gz \
	--cmdline 'console=ttyS0 quiet rivet.test=powerbutton' --cpus 2 \
	--disk "$DISK,readonly" --qmp "unix:$Q,server,wait=off" --paused \
	--name "qmpgo-$board" --uuid "$UUID" >"$OUT" 2>&1 &
pid=$!
wait_sock "$Q"
qmp-go -socket "$Q" -name "qmpgo-$board" -uuid "$UUID" -cpus 2 \
	-disk "$DISK" -pid "$pid" -console "$OUT"
check "qmp-go exit status (full)" "$?" '^0$'
wait $pid
check "rivet exit status after the guest's power-off" "$?" '^0$'
check "the guest came up twice (system_reset)" "$(grep -c RIVET-POWERBUTTON-READY "$OUT")" '^2$'
check "the guest saw the button" "$(cat "$OUT")" 'RIVET-POWER-BUTTON pressed'
echo "---- rivet's output ----"
tail -n 20 "$OUT"

# ---- quit ----
rm -f "$Q"
# shellcheck disable=SC2086
rivet run --board "$board" $mem --kernel /guest/Image \
	--initrd /guest/initramfs.cpio.gz \
	--cmdline 'console=ttyS0 quiet rivet.test=ticker' \
	--qmp "unix:$Q,server,wait=off" >"$OUT" 2>&1 &
pid=$!
wait_sock "$Q"
qmp-go -socket "$Q" -end quit
check "qmp-go exit status (quit)" "$?" '^0$'
wait $pid
check "rivet exit status after quit" "$?" '^0$'
if [ -e "$Q" ]; then bad "socket removed at exit"; else ok "socket removed at exit"; fi

[ $fails -eq 0 ] && echo "QMP-ALL-OK" && exit 0
exit 1
