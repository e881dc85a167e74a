#!/bin/sh
# QMP end to end on the emulated host, driven by socat (Debian's, not
# rivet's code): start paused, queries, stop/cont (no guest tick while
# stopped, the guest's clock stands still), two clients at once, a client
# that leaves mid-command, floods of garbage, system_reset with a client
# that stays connected, quit.  Prints QMP-OK/QMP-FAIL lines; exits 0 when
# every check passed.  Usage: qmp.sh BOARD [RIVET-OPTION]...
board=$1
shift
Q=/tmp/qmp-$board.sock
Q2=/tmp/qmp2-$board.sock
OUT=/tmp/qmp-$board.out
EV=/tmp/qmp-$board.events
PIDF=/tmp/rivet-$board.pid
# shellcheck source=tests/e2e/host/qmplib.sh
. "$(dirname "$0")/qmplib.sh"
ticks() { grep -c '^RIVET-TICK' "$OUT"; }
# uptime printed with tick N
tick_up() { sed -n "s/^RIVET-TICK $1 up=//p" "$OUT" | head -n1; }

mem=
[ "$board" = virt ] && mem="--memory 1G"
truncate -s 8M /tmp/qmp-disk.img
rm -f "$Q" "$Q2" "$PIDF"
# shellcheck disable=SC2086
rivet run --board "$board" $mem --kernel /guest/Image \
	--initrd /guest/initramfs.cpio.gz \
	--cmdline 'console=ttyS0 quiet rivet.test=ticker' --cpus 2 \
	--disk /tmp/qmp-disk.img,readonly \
	--qmp "unix:$Q,server,wait=off" --qmp "unix:$Q2,server=on,wait=off" \
	--paused --name "qmp-$board" \
	--uuid 12345678-90ab-cdef-1234-567890ABCDEF --pidfile "$PIDF" "$@" \
	>"$OUT" 2>&1 &
pid=$!
i=0
while [ ! -S "$Q2" ] && [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done
[ -S "$Q" ] && [ -S "$Q2" ] || bad "sockets created"
check "socket mode 0600" "$(stat -c %a "$Q")" '^600$'
check "pidfile" "$(cat "$PIDF" 2>/dev/null)" "^$pid\$"

# ---- start paused, negotiation, queries ----
r=$(printf '{"execute": "query-status", "id": 1}\r\n' |
	socat -t 2 - "UNIX-CONNECT:$Q")
check "greeting" "$r" '"QMP": \{"version": \{"qemu": \{"micro": [0-9]+, "minor": [0-9]+, "major": 9\}, "package": "rivet '
check "no command before negotiation" "$r" '"class": "CommandNotFound".*"id": 1|"id": 1.*"class": "CommandNotFound"'
r=$(qmp "$Q" '{"execute": "query-status"}' '{"execute": "query-name"}' \
	'{"execute": "query-uuid"}' '{"execute": "query-target"}' \
	'{"execute": "query-kvm"}' '{"execute": "query-version"}' \
	'{"execute": "query-commands"}' '{"execute": "query-block"}' \
	'{"execute": "query-cpus-fast", "id": "cpus"}' \
	'{"execute": "query-chardev"}' \
	'{"execute": "nosuch"}' \
	'{"execute": "stop", "arguments": {"force": true}}' \
	'{"execute": "qmp_capabilities"}')
check "prelaunch" "$r" '"status": "prelaunch", "running": false'
check "query-name" "$r" "\"name\": \"qmp-$board\""
check "query-uuid" "$r" '"UUID": "12345678-90ab-cdef-1234-567890abcdef"'
check "query-target" "$r" '"arch": "riscv64"'
check "query-kvm" "$r" '"enabled": true, "present": true'
check "query-chardev: the console" "$r" '"label": "serial0", "filename": "stdio"'
check "query-chardev: this client's socket" "$r" \
	"\"label\": \"compat_monitor0\", \"filename\": \"unix:$Q,server=on\""
check "query-chardev: the other, no client yet" "$r" \
	"\"label\": \"compat_monitor1\", \"filename\": \"disconnected:unix:$Q2,server=on\""
check "query-version" "$r" '"return": \{"qemu": \{.*"major": 9\}, "package": "rivet'
check "query-commands" "$r" '"name": "system_powerdown"'
check "query-block" "$r" '"device": "disk0".*"ro": true.*"file": "/tmp/qmp-disk.img"'
check "unknown command" "$r" 'The command nosuch has not been found'
check "unknown argument" "$r" "Parameter 'force' is unexpected"
check "negotiation done" "$r" 'Capabilities negotiation is already complete'
sleep 2
if grep -q RIVET-GUEST-UP "$OUT"; then bad "guest ran before cont"; else
	ok "guest waits for cont"; fi
# The replies the x86_64 side compares with QEMU's (tests/qmp/shape.c):
# the requests of tests/qmp/qemu-replies.sh, each line tagged.
set --
for c in query-status query-version query-commands query-name query-uuid \
	query-target query-kvm query-cpus-fast query-block query-chardev \
	query-migrate-capabilities; do
	set -- "$@" "{\"execute\": \"$c\", \"id\": \"shape-$c\"}"
done
set -- "$@" '{"execute": "no-such-command", "id": "shape-unknown"}' \
	'{"execute": "stop", "arguments": {"x": 1}, "id": "shape-badarg"}'
qmp "$Q" "$@" | grep '"id": "shape-' | sed 's/^/QMP-SHAPE /'
# The vCPU thread ids are threads of rivet's VM process.
cpus=$(printf '%s\n' "$r" | grep '"id": "cpus"')
n=0
for tid in $(printf '%s\n' "$cpus" | grep -o '"thread-id": [0-9]*' | grep -o '[0-9]*$'); do
	vmpid=$(sed -n 's/^Tgid:[[:space:]]*//p' "/proc/$tid/status" 2>/dev/null)
	ppid=$(sed -n 's/^PPid:[[:space:]]*//p' "/proc/$vmpid/status" 2>/dev/null)
	[ "$ppid" = "$pid" ] && n=$((n + 1))
done
check "query-cpus-fast thread ids" "$n" '^2$'

# A second client on the other socket stays connected to the end and
# collects every event.
listen "$Q2" "$EV" /tmp/qmp-$board.stop
sleep 2

r=$(qmp "$Q" '{"execute": "cont", "id": "go"}' '{"execute": "query-status"}')
check "cont" "$r" '"event": "RESUME"'
check "running" "$r" '"status": "running", "running": true'
wait_for '^RIVET-TICK 3 ' "$OUT" 120 || bad "guest ticks after cont"

# ---- stop: no tick, and the guest's clock stands still ----
r=$(qmp "$Q" '{"execute": "stop"}' '{"execute": "query-status"}')
check "stop" "$r" '"event": "STOP"'
check "paused" "$r" '"status": "paused", "running": false'
a=$(ticks)
sleep 4
b=$(ticks)
check "no tick while stopped ($a then $b)" "$b" "^$a\$"
qmp "$Q" '{"execute": "cont"}' >/dev/null
wait_for "^RIVET-TICK $((b + 1)) " "$OUT" 60 || bad "ticks again after cont"
# Ticks are 0.2 s of guest time apart (plus the guest's own work); the
# pause of 5 s or more must not show.
gap=$(awk -v x="$(tick_up $((b - 1)))" -v y="$(tick_up $b)" 'BEGIN {
	if (x == "" || y == "") print "ticks missing"
	else print (y - x < 2.0) ? "still" : "jumped " (y - x) }')
check "guest clock across the stop" "$gap" '^still$'

# ---- a client that leaves mid-command: the command still happens ----
printf '{"execute": "qmp_capabilities"}\r\n{"execute": "stop"}\r\n' |
	socat -t 0 - "UNIX-CONNECT:$Q" >/dev/null 2>&1
i=0
while [ $i -lt 10 ]; do
	r=$(qmp "$Q" '{"execute": "query-status"}')
	printf '%s\n' "$r" | grep -q '"status": "paused"' && break
	i=$((i + 1))
done
check "stop from a client that left" "$r" '"status": "paused"'
qmp "$Q" '{"execute": "cont"}' >/dev/null

# ---- floods: random bytes, garbage lines, a line that never ends ----
head -c 300000 /dev/urandom | socat -t 1 - "UNIX-CONNECT:$Q" >/dev/null 2>&1
yes 'garbage}' | head -n 20000 | socat -t 1 - "UNIX-CONNECT:$Q" >/tmp/qmp-garbage.out 2>&1
tr '\0' '[' </dev/zero | head -c 200000 | socat -t 1 - "UNIX-CONNECT:$Q" >/dev/null 2>&1
check "garbage gets QMP errors" "$(head -n 3 /tmp/qmp-garbage.out)" '"class": "GenericError", "desc": "JSON parse error'
r=$(qmp "$Q" '{"execute": "query-status"}')
check "alive after the floods" "$r" '"status": "running"'

# ---- system_reset: a real reset; the listener stays connected ----
r=$(qmp "$Q" '{"execute": "system_reset"}')
check "system_reset" "$r" '"event": "RESET", "data": \{"guest": false, "reason": "host-qmp-system-reset"\}'
i=0
while [ "$(grep -c RIVET-GUEST-UP "$OUT")" -lt 2 ] && [ $i -lt 120 ]; do sleep 1; i=$((i + 1)); done
check "guest booted again" "$(grep -c RIVET-GUEST-UP "$OUT")" '^2$'
r=$(qmp "$Q2" '{"execute": "query-status"}' '{"execute": "query-cpus-fast"}')
check "status after reset" "$r" '"status": "running"'

# ---- quit ----
r=$(qmp "$Q" '{"execute": "quit", "id": "bye"}')
check "quit" "$r" '"event": "SHUTDOWN", "data": \{"guest": false, "reason": "host-qmp-quit"\}'
check "quit answered" "$r" '"return": \{\}, "id": "bye"'
wait $pid
rc=$?
check "rivet exit status after quit" "$rc" '^0$'
touch /tmp/qmp-$board.stop
wait $lpid
ev=$(cat "$EV")
check "listener saw STOP" "$ev" '"event": "STOP"'
check "listener saw RESUME" "$ev" '"event": "RESUME"'
check "listener saw RESET (connected across the reset)" "$ev" '"event": "RESET"'
check "listener saw SHUTDOWN" "$ev" '"reason": "host-qmp-quit"'
[ -e "$Q" ] || [ -e "$Q2" ] && bad "sockets removed at exit" || ok "sockets removed at exit"
[ -e "$PIDF" ] && bad "pidfile removed at exit" || ok "pidfile removed at exit"
echo "---- rivet's output (ticks left out) ----"
grep -v '^RIVET-TICK' "$OUT" | tail -n 30
[ $fails -eq 0 ] && echo "QMP-ALL-OK" && exit 0
exit 1
