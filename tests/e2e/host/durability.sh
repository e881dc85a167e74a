#!/bin/sh
# durability.sh SEED [ROUNDS] [CASE]: guest-acknowledged data survives a
# SIGKILL of rivet, and then a power cut of this host.
#
# Each round starts rivet with the guest test "records" (numbered 4 KiB
# records, each acknowledged on the console as "RIVET-ACK <run> <n>" only
# after the guest's fsync of it returned), waits a random time (seeded by
# SEED; printed) after the first acknowledgement, SIGKILLs the rivet
# monitor, checks that the VM process died with it, and then reads the
# backing store: every acknowledged record must be there, intact.  Odd
# rounds give rivet the raw block device /dev/vda, even rounds a
# preallocated image file on /dev/vdb (ext2 made by busybox mke2fs, mounted
# with the ext4 driver; needs rvhost --modules "crc32c_generic ext4").
# Round R writes records (R-1)*500 onwards, so all rounds' records stay.
#
# The host's periodic writeback is off and /dev/vda is held open (its last
# close would sync it), so from the first round to the end nothing reaches
# the disks but what is flushed: rivet's fdatasync on the guest's FLUSH.
# With CASE (the e2e case name) the script ends by cutting the power: it
# writes a canary record to both stores without a flush, prints the runner's
# end marker for CASE itself, and stops QEMU through the sifive,test device
# without the sync /init would do -- dirty page cache of this host is lost.
# tests/e2e/run.sh (check_durability) then reads the x86_64 drive files:
# every acknowledged record of every round must be there and the canaries
# must not (else the power cut lost nothing and proved nothing).
# Prints DUR-OK/DUR-FAIL lines; exit status 0 when all held.
seed=${1:?usage: durability.sh SEED [ROUNDS] [CASE]}
rounds=${2:-6}
case=${3:-}
SLOTS=500 CANARY=7000 CANARY_RUN=9999
RAW=/dev/vda FSDEV=/dev/vdb MNT=/mnt/dur IMG=/mnt/dur/disk.img
fails=0
ok() { echo "DUR-OK $*"; }
bad() { echo "DUR-FAIL $*"; fails=$((fails + 1)); }

# record RUN N: record N of run RUN, as tests/guest/tests/records writes it.
record() {
	_i=0
	while [ $_i -lt 64 ]; do
		printf 'RIVET-REC %04d %08d %02d %08x ---------------------------\n' \
			"$1" "$2" $_i $((($1 * 2654435761 + $2 * 40503 + _i * 977 + 12345) & 0xffffffff))
		_i=$((_i + 1))
	done
}

# rand N: rnd=a pseudo-random number 0..N-1 from the seeded generator.
state=$seed
rand() {
	state=$(((state * 1103515245 + 12345) % 2147483648))
	rnd=$(((state / 65536) % $1))
}

echo "DUR-SEED $seed (rounds $rounds; RIVET_DUR_SEED=$seed reproduces the kill times)"
while read -r m; do
	grep -q "^${m%.ko} " /proc/modules || insmod "/lib/modules/extra/$m" || exit 1
done </lib/modules/extra/load-order
echo 0 >/proc/sys/vm/dirty_writeback_centisecs
echo 360000 >/proc/sys/vm/dirty_expire_centisecs
mke2fs -F -b 4096 $FSDEV >/dev/null || exit 1
mkdir -p $MNT
mount -t ext4 $FSDEV $MNT || exit 1
dd if=/dev/zero of=$IMG bs=1M count=32 conv=fsync 2>/dev/null || exit 1
sync
exec 3<$RAW
ok "set up: $RAW raw, $IMG on $(grep " $MNT " /proc/mounts | cut -d' ' -f1-3), writeback off"

total=0
r=1
while [ $r -le "$rounds" ]; do
	if [ $((r % 2)) -eq 1 ]; then store=$RAW kind=raw; else store=$IMG kind=ext4; fi
	first=$(((r - 1) * SLOTS))
	out=/tmp/round$r.out
	echo "DUR-ROUND run=$r store=$kind first=$first"
	rivet run --board microvm --kernel /guest/Image --initrd /guest/initramfs.cpio.gz \
		--cmdline "console=ttyS0 quiet rivet.test=records rivet.run=$r rivet.first=$first rivet.count=$SLOTS" \
		--disk $store >$out 2>&1 &
	pid=$!
	i=0
	while ! grep -q '^RIVET-ACK' $out && [ $i -lt 600 ]; do sleep 0.2; i=$((i + 1)); done
	rand 8000
	delay=$rnd
	sleep "$((delay / 1000)).$(printf %03d $((delay % 1000)))"
	procs=$(pidof rivet | wc -w)
	kill -KILL $pid
	wait $pid 2>/dev/null
	i=0
	while [ -n "$(pidof rivet)" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ -z "$(pidof rivet)" ] || bad "round $r: rivet processes left after SIGKILL of the monitor: $(pidof rivet)"
	# A kill can cut the console mid-line ("RIVET-ACK 3 10" of "... 1027"):
	# only whole lines count.
	tr -d '\r' <$out >$out.txt
	partial=""
	if [ -n "$(tail -c1 $out.txt)" ]; then
		partial=$(tail -n1 $out.txt)
		sed -i '$d' $out.txt
	fi
	cat $out.txt
	[ -z "$partial" ] || echo "DUR-NOTE round $r: cut console line not counted: '$partial'"
	acks=$(grep -c "^RIVET-ACK $r " $out.txt)
	last=$(sed -n "s/^RIVET-ACK $r \([0-9]*\)\$/\1/p" $out.txt | tail -n1)
	if [ "$acks" -eq 0 ]; then
		bad "round $r: no record acknowledged ($procs rivet processes; output above)"
		r=$((r + 1))
		continue
	fi
	[ "$procs" -ge 2 ] || bad "round $r: only $procs rivet process(es) before the kill"
	[ $((last - first + 1)) -eq "$acks" ] ||
		bad "round $r: $acks acknowledgements for records $first..$last: not one per record"
	i=$first
	while [ $i -le "$last" ]; do record $r $i; i=$((i + 1)); done >/tmp/expect
	if dd if=$store bs=4096 skip=$first count="$acks" 2>/dev/null | cmp -s - /tmp/expect; then
		ok "round $r ($kind): killed ${delay} ms after the first ack; $acks acknowledged records ($first..$last) all intact on $store"
	else
		bad "round $r ($kind): acknowledged records $first..$last differ on $store: $(dd if=$store bs=4096 skip=$first count="$acks" 2>/dev/null | cmp - /tmp/expect 2>&1)"
	fi
	record $r $((last + 1)) >/tmp/next
	if dd if=$store bs=4096 skip=$((last + 1)) count=1 2>/dev/null | cmp -s - /tmp/next; then
		echo "DUR-NOTE round $r: the record after the last acknowledged one was written too (its ack not yet printed)"
	fi
	total=$((total + acks))
	r=$((r + 1))
done
echo "DUR-TOTAL $total acknowledged records in $rounds rounds"

[ -n "$case" ] || { [ $fails -eq 0 ]; exit; }

# The power cut.  Canaries: written like rivet writes (into the page
# cache), never flushed; the x86_64 check wants them absent.
record $CANARY_RUN $CANARY >/tmp/canary
dd if=/tmp/canary of=$RAW bs=4096 seek=$CANARY count=1 conv=notrunc 2>/dev/null
dd if=/tmp/canary of=$IMG bs=4096 seek=$CANARY count=1 conv=notrunc 2>/dev/null
for s in $RAW $IMG; do
	dd if="$s" bs=4096 skip=$CANARY count=1 2>/dev/null | cmp -s - /tmp/canary ||
		bad "canary not readable from $s"
done
echo "DUR-CANARY run=$CANARY_RUN slot=$CANARY (unflushed) in $RAW and $IMG"
echo "DUR-POWER-CUT without sync: $(grep -E '^(Dirty|Writeback):' /proc/meminfo | tr -s ' \n' ' ')"
rc=0
[ $fails -eq 0 ] || rc=1
echo "@@E2E-END $case rc=$rc"
s=$(stty -g </dev/console 2>/dev/null) && timeout 5 stty "$s" </dev/console 2>/dev/null
if [ $rc -eq 0 ]; then
	devmem 0x100000 32 0x5555
else
	devmem 0x100000 32 0x13333
fi
sleep 10
echo "DUR-FAIL the power cut did not stop the host"
exit 1
