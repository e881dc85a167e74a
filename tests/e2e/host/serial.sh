#!/bin/sh
# --serial with --daemonize: the guest console on a UNIX socket (rivet
# waits for its client, the client types, stays connected across a QMP
# system_reset, quit removes the socket) and on a pseudo-terminal (its name
# printed; typed into).  QMP-OK/QMP-FAIL lines; exit 0 when all passed.
# Usage: serial.sh BOARD
board=$1
Q=/tmp/ser-$board.qmp
C=/tmp/ser-$board.con
P=/tmp/ser-$board.pid
# shellcheck source=tests/e2e/host/qmplib.sh
. "$(dirname "$0")/qmplib.sh"
mem=
[ "$board" = virt ] && mem="--memory 1G"

# launch LOG SERIAL: a daemonized VM of the demo guest, console at SERIAL;
# the launcher's own status in $lrc once it returned ($lpid meanwhile).
launch() {
	rm -f "$Q" "$P"
	# shellcheck disable=SC2086
	rivet run --board "$board" $mem --kernel /guest/Image \
		--initrd /guest/initramfs.cpio.gz --cmdline 'console=ttyS0 quiet' \
		--daemonize --pidfile "$P" --qmp "unix:$Q,server,wait=off" \
		--serial "$2" >"$1" 2>&1 &
	lpid=$!
}
# gone: until the daemon of $P has ended (60 s at most); 1 if it has not.
gone() {
	_p=$(cat "$P" 2>/dev/null)
	_i=0
	while [ -n "$_p" ] && kill -0 "$_p" 2>/dev/null; do
		[ $_i -ge 60 ] && return 1
		sleep 1
		_i=$((_i + 1))
	done
}

# ---- a UNIX socket ----
rm -f "$C" /tmp/ser.in /tmp/ser.out
launch /tmp/ser.launch "unix:$C,server"
wait_sock "$C"
sleep 2
if kill -0 $lpid 2>/dev/null && grep -q "waiting for a console client on $C" /tmp/ser.launch; then
	ok "unix: the caller waits for a console client (wait=on)"
else
	bad "unix: the caller waits for a console client (wait=on)"
	cat /tmp/ser.launch
fi
mode=$(stat -c %a "$C" 2>/dev/null)
check "unix: the socket is 0600" "$mode" '^600$'
mkfifo /tmp/ser.in
socat -t 5 - "UNIX-CONNECT:$C" </tmp/ser.in >/tmp/ser.out 2>&1 &
spid=$!
exec 3>/tmp/ser.in
wait $lpid
check "unix: --daemonize returns 0 once the VM is set up" "$?" '^0$'
if wait_for 'rivet-guest# ' /tmp/ser.out 120; then
	ok "unix: the guest's output reaches the client"
else
	bad "unix: no guest prompt on the socket"
fi
printf 'echo RIVET-SERIAL-$((6 * 7))\n' >&3
if wait_for '^RIVET-SERIAL-42' /tmp/ser.out 30; then
	ok "unix: the client's input reaches the guest"
else
	bad "unix: typed input had no effect"
fi
r=$(qmp "$Q" '{"execute": "query-chardev"}')
check "unix: query-chardev, a client on the console" "$r" \
	"\"label\": \"serial0\", \"filename\": \"unix:$C,server=on\""
sleep 1
n=$(grep -c 'rivet-guest# ' /tmp/ser.out)
r=$(qmp "$Q" '{"execute": "system_reset"}')
check "unix: system_reset" "$r" '"event": "RESET"'
i=0
while [ "$(grep -c 'rivet-guest# ' /tmp/ser.out)" -le "$n" ] && [ $i -lt 120 ]; do
	sleep 1
	i=$((i + 1))
done
printf 'echo RIVET-AGAIN-$((6 * 9))\n' >&3
if wait_for '^RIVET-AGAIN-54' /tmp/ser.out 30; then
	ok "unix: the client stays connected across a reset"
else
	bad "unix: after system_reset the console is gone"
fi
r=$(qmp "$Q" '{"execute": "quit"}')
check "unix: quit" "$r" '"event": "SHUTDOWN"'
gone && ok "unix: rivet ended" || bad "unix: rivet still runs after quit"
[ ! -e "$C" ] && ok "unix: the socket is removed at exit" ||
	bad "unix: $C is left behind"
exec 3>&-
kill $spid 2>/dev/null
wait $spid 2>/dev/null

# ---- a pseudo-terminal ----
rm -f /tmp/pty.out
launch /tmp/pty.launch pty
wait $lpid
check "pty: --daemonize returns 0" "$?" '^0$'
pts=$(sed -n 's/.*serial: the guest console is on \(\/dev\/pts\/[0-9]*\).*/\1/p' /tmp/pty.launch)
check "pty: its name is printed" "$pts" '^/dev/pts/[0-9]+$'
r=$(qmp "$Q" '{"execute": "query-chardev"}')
check "pty: query-chardev names it" "$r" \
	"\"label\": \"serial0\", \"filename\": \"pty:$pts\""
if [ -c "$pts" ]; then
	cat "$pts" >/tmp/pty.out &
	cpid=$!
	# Typed until the guest's shell answers (it may still be booting).
	i=0
	while ! grep -q '^RIVET-PTY-42' /tmp/pty.out && [ $i -lt 40 ]; do
		printf 'echo RIVET-PTY-$((6 * 7))\n' >"$pts"
		sleep 3
		i=$((i + 1))
	done
	if grep -q '^RIVET-PTY-42' /tmp/pty.out; then
		ok "pty: the guest answers what is typed on $pts"
	else
		bad "pty: no answer on $pts"
		tail -20 /tmp/pty.out
	fi
	kill $cpid 2>/dev/null
	wait $cpid 2>/dev/null
else
	cat /tmp/pty.launch
fi
r=$(qmp "$Q" '{"execute": "quit"}')
check "pty: quit" "$r" '"event": "SHUTDOWN"'
gone && ok "pty: rivet ended" || bad "pty: rivet still runs after quit"

[ $fails -eq 0 ] && echo "QMP-ALL-OK" || echo "QMP-FAILS $fails"
[ $fails -eq 0 ]
