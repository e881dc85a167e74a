#!/bin/sh
# rivet --jail on the emulated host: every rivet process runs as 1000:1000
# with empty capability sets and no-new-privs, in its own mount, IPC and PID
# namespaces; the guest still boots and writes its disk, and the data lands
# in the image inside the jail directory.  Prints JAIL-OK/JAIL-FAIL lines.
J=/srv/jail
fails=0
ok() { echo "JAIL-OK $*"; }
bad() { echo "JAIL-FAIL $*"; fails=$((fails + 1)); }

mkdir -p $J
chmod 755 /srv $J
cp /guest/Image /guest/initramfs.cpio.gz $J/
dd if=/dev/zero of=$J/disk.img bs=1M count=4 2>/dev/null
chown 1000:1000 $J/disk.img
# The outer rivet must be this shell's own child (not a subshell running a
# function) so that $! is rivet's pid.
JAILED="--jail $J --uid 1000 --gid 1000 --new-pidns --kernel /Image --initrd /initramfs.cpio.gz --disk /disk.img"

# shellcheck disable=SC2086
rivet run $JAILED --cmdline "console=ttyS0 quiet rivet.test=hang" >/tmp/jail.out 2>&1 &
outer=$!
i=0
while ! grep -q RIVET-HANGING /tmp/jail.out && [ $i -lt 120 ]; do sleep 1; i=$((i + 1)); done
grep -q RIVET-HANGING /tmp/jail.out && ok "guest up in the jail" || bad "guest did not come up: $(cat /tmp/jail.out)"
pids=$(pidof rivet)
[ "$(echo $pids | wc -w)" -ge 3 ] && ok "rivet processes: $pids" || bad "expected outer, monitor and VM processes, found: $pids"
for p in $pids; do
	s=/proc/$p/status
	uid=$(awk '/^Uid:/ { print $2 $3 $4 $5 }' $s)
	gid=$(awk '/^Gid:/ { print $2 $3 $4 $5 }' $s)
	caps=$(awk '/^Cap(Inh|Prm|Eff|Bnd|Amb):/ { printf "%s", $2 }' $s)
	nnp=$(awk '/^NoNewPrivs:/ { print $2 }' $s)
	[ "$uid" = 1000100010001000 ] || bad "pid $p: uids $uid"
	[ "$gid" = 1000100010001000 ] || bad "pid $p: gids $gid"
	[ "$caps" = "$(printf '%016d' 0 0 0 0 0)" ] || bad "pid $p: capabilities $caps"
	[ "$nnp" = 1 ] || bad "pid $p: NoNewPrivs $nnp"
	for ns in mnt ipc; do
		mine=$(readlink /proc/self/ns/$ns) theirs=$(readlink /proc/$p/ns/$ns)
		[ -n "$theirs" ] && [ "$theirs" != "$mine" ] ||
			bad "pid $p: $ns namespace '$theirs', the host's is '$mine'"
	done
	if [ "$p" != "$outer" ]; then
		mine=$(readlink /proc/self/ns/pid) theirs=$(readlink /proc/$p/ns/pid)
		[ -n "$theirs" ] && [ "$theirs" != "$mine" ] ||
			bad "pid $p: PID namespace '$theirs', the host's is '$mine'"
	fi
	[ "$(readlink /proc/$p/root)" = / ] && [ -e /proc/$p/root/Image ] ||
		bad "pid $p: root is not the jail"
	ok "pid $p: uid/gid 1000, caps 0, no-new-privs, own mnt/ipc ns, root=jail"
done
pfc=$(readlink /proc/$outer/ns/pid_for_children)
[ -n "$pfc" ] && [ "$pfc" != "$(readlink /proc/self/ns/pid)" ] &&
	ok "VM processes in a new PID namespace ($pfc)" || bad "no new PID namespace: '$pfc'"
kill -TERM $outer
wait $outer
rc=$?
[ $rc -eq 143 ] && ok "SIGTERM: status $rc" || bad "SIGTERM gave status $rc: $(tail -n 3 /tmp/jail.out)"

[ -z "$(pidof rivet)" ] || bad "rivet processes left after SIGTERM: $(pidof rivet)"

# shellcheck disable=SC2086
rivet run $JAILED --cmdline "console=ttyS0 quiet rivet.test=diskwrite" >/tmp/jail2.out 2>&1
rc=$?
cat /tmp/jail2.out
[ $rc -eq 0 ] && grep -q '^RIVET-TEST diskwrite PASS' /tmp/jail2.out &&
	ok "guest wrote its disk from the jail" || bad "diskwrite in the jail: status $rc"
head -c 24 $J/disk.img | grep -q RIVET-DISK-PATTERN-00000 &&
	ok "the data is in $J/disk.img" || bad "pattern not in $J/disk.img"
[ $fails -eq 0 ]
