#!/bin/sh
# rivet's benchmark, the part that runs inside the emulated RISC-V host
# (tools/bench boots it with tools/rvhost --refvmm and reads the output).
#
#   sh host.sh [RUNS] [DISK_RUNS] [aia|plic] [full|smoke|disk|qmp|snap]
#
# smoke (make test's bench-smoke): every kind of case once, short: no
# growth cases, no boot_microvm_nothp, the deep-queue disk case for 1 s per
# mode and without QEMU's io_uring variant, fewer QMP round trips.  disk:
# the disk cases only, as in full.  qmp: the QMP cases only (DISK_RUNS
# rounds).  snap: the snapshot case only (RUNS rounds; QEMU's in-kernel
# AIA not tried).
#
# plic: the host is a PLIC host (tools/rvhost --host plic-nosstc): QEMU runs
# -M virt,aia=none (its own PLIC, in user space, as rivet's), rivet picks its
# PLIC by itself, and only boot_microvm and disk run, named boot_microvm_plic
# and disk_plic (the guest's virtio-blk interrupts are INTx on both).
#
# Alternates rivet (/usr/bin/rivet) and the reference VMM, Debian's
# qemu-system-riscv64 (/opt/refvmm/qemu-system-riscv64, -accel kvm -cpu host
# -bios none), the order swapped every round, on the same guest kernel
# (/guest/Image) and initramfs, 1 vCPU, 512 MiB, each run launched and
# measured by benchrun (tests/bench/benchrun.c).  Cases:
#   boot_microvm   rivet --board microvm vs QEMU -M virt (QEMU has no RISC-V
#                  microvm); the guest's init prints RIVET-GUEST-UP (its
#                  uptime) and idles 2 s so the memory sample sees a booted
#                  guest, then powers off
#   boot_virt      rivet --board virt (direct boot, FDT, PCIe) vs QEMU -M virt
#   startup_qemu   QEMU -M virt with the kvm_vcpu_ioctl trace event on, for its
#                  first KVM_RUN (the trace slows the rest of the boot down, so
#                  these runs are not used for anything else; rivet's first
#                  KVM_RUN comes from its boot timer in the boot runs)
#   boot_cpusN     (N = 2, 4) boot_microvm with N vCPUs
#   boot_memN      (N = 256, 1024, 2048 MiB) boot_microvm with N MiB
#   boot_microvm_hugepages  boot_microvm on 2 MiB hugetlb pages: rivet
#                  --hugepages on, QEMU a hugetlb memfd memory backend (the
#                  host's pool is filled for it and emptied after);
#                  boot_microvm_nothp: rivet --hugepages off (4 KiB pages)
#                  against QEMU's default (THP), for the choice of default
#   disk           virt boards, 1 vCPU, a virtio-blk-pci disk on a 256 MiB
#                  file in the host's RAM (same file, same buffered host I/O:
#                  QEMU's default cache=writeback); the guest runs blkbench
#                  (O_DIRECT: 1 MiB sequential write and read, 4 KiB random
#                  reads, 3 s each, one request in flight); rivet with
#                  --stats, for the time its vCPU spent in rivet
#   disk_sync      the same with rivet's --disk io=sync (QD1 both ways);
#                  vmm=rivet_uring in disk and diskq: rivet's io=uring
#   diskq          4 vCPUs, the disk with 4 queues (rivet's default; QEMU
#                  num-queues=4 and an iothread, aio=threads as vmm=qemu,
#                  aio=io_uring as vmm=qemu_uring): random reads at queue
#                  depth 1 and 32 with 1 and 4 jobs, 1 MiB sequential read
#                  and write at queue depth 8
#   net            virt boards, 1 vCPU, virtio-net-pci on a TAP (tapb0, the
#                  host's end 169.254.80.1) to /guest/netbench's server:
#                  the guest's netbench sends for 3 s, receives for 3 s
#                  (every byte checked) and times 1000 one-byte round
#                  trips; QEMU with its default TAP backend (vmm=qemu) and
#                  with vhost=on (vmm=qemu_vhost), same MAC
#   qmp_idle       virt boards, 1 vCPU, the disk case's disk, a QMP socket
#                  (rivet --qmp unix:...,server,wait=off, QEMU -qmp
#                  unix:...,server=on,wait=off); once the guest is up and
#                  idle (guest test load), `benchrun qmp` times QMP_RTTS
#                  query-status round trips and QMP_CYCLES stop+cont
#                  cycles, then quits the VMM
#   qmp_io         the same while the guest reads its disk throughout (4 KiB
#                  O_DIRECT random reads, one in flight: load=disk); the
#                  guest's IOPS during the measurement is load_iops
#   snapshot       512 MiB, 1 vCPU, a QMP socket, the guest ticking every
#                  20 ms (guest test ticker): at its 5th tick `benchrun snap`
#                  times QMP migrate to a file (rivet --board microvm: a
#                  directory; QEMU -M virt,aia=none: one file, as QEMU 10
#                  aborts saving KVM's in-kernel AIA), then the VMM is
#                  restarted with --incoming/-incoming and timed to the
#                  guest's first tick; it must tick on to its end.  QEMU's
#                  failures print BENCH-NA case=snapshot vmm=qemu reason=...
#                  (vmm=qemu_aia: the in-kernel AIA tried once a full run)
# Each run prints one line:
#   BENCH case=CASE vmm=rivet|qemu run=N <benchrun's figures> [blkbench's]
# (the QMP cases: benchrun qmp's figures, BENCHQMP in benchrun.c)
# and a failed run prints BENCH-FAIL with the tail of its output.  At the end:
#   BENCH-BINARY vmm=... bytes=N    BENCH-DONE
set -u
RUNS=${1:-5}
DISK_RUNS=${2:-3}
KIND=${3:-aia}
SCOPE=${4:-full}
case $SCOPE in full|smoke|disk|qmp|snap) ;; *) echo "BENCH-FAIL unknown scope '$SCOPE'"; exit 1 ;; esac
case $KIND in
aia) AIA=aplic-imsic SUFFIX= ;;
plic) AIA=none SUFFIX=_plic ;;
*) echo "BENCH-FAIL unknown host kind '$KIND'"; exit 1 ;;
esac
Q=/opt/refvmm/qemu-system-riscv64
K=/guest/Image
I=/guest/initramfs.cpio.gz
MEM=512
DISK=/tmp/bench-disk.img
BOOT_CMDLINE="console=ttyS0 quiet rivet.test=idle rivet.idle=2"
DISK_CMDLINE="console=ttyS0 quiet rivet.test=blkbench rivet.secs=3 rivet.mib=64"
DISKQ_MODES=randread,randread:j4,randread:qd32,randread:qd32:j4,seqread:qd8,seqwrite:qd8
HUGE=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
NET_MAC=52:54:00:12:34:56
QMP_SOCK=/tmp/bench-qmp.sock
QMP_RTTS=1000 QMP_CYCLES=20
[ "$SCOPE" != smoke ] || QMP_RTTS=200 QMP_CYCLES=5
NET_CMDLINE="console=ttyS0 quiet rivet.test=netbench rivet.addr=169.254.80.2/24 rivet.peer=169.254.80.1 rivet.secs=3 rivet.rr=1000"
# QEMU's and rivet's options but the vCPU count and memory size.
QEMU_BASE="-accel kvm -cpu host -bios none -nodefaults -nographic -serial stdio -no-reboot -kernel $K -initrd $I"
RIVET_BASE="--kernel $K --initrd $I --no-rng --boot-timer --no-reboot"
QEMU_COMMON="-M virt,aia=$AIA $QEMU_BASE -m ${MEM}M -smp 1"
RIVET_COMMON="$RIVET_BASE --memory ${MEM}M --cpus 1"
SNAP=/tmp/bench-snap
# The snapshot case's guest ticks every 20 ms of its time and the time
# its loop takes (~50 ms; a restore is timed to its first tick, so late
# by up to that) and powers off after SNAP_TICKS: ~10 s, ample for the
# snapshot at tick 5 however late it comes.
SNAP_TICKS=200
SNAP_CMDLINE="console=ttyS0 quiet rivet.test=ticker rivet.tick=0.02 rivet.ticks=$SNAP_TICKS"
# QEMU 10 aborts migrating KVM's in-kernel AIA (aia=aplic-imsic, also with
# kernel-irqchip=split: an assertion in vmstate_save_state_v); with its
# own PLIC in user space (aia=none) it saves and restores.
QEMU_SNAP="-M virt,aia=none $QEMU_BASE -m ${MEM}M -smp 1"

# run CASE VMM N CMD...: one measured run (GMIB: the guest's RAM in MiB,
# for benchrun to find its mapping).  The first round also prints each
# case's command line (BENCH-CMD), for the report.
GMIB=$MEM
# print_cmd CASE VMM N CMD...: BENCH-CMD, in the first round.
print_cmd() {
	[ "$3" = 1 ] || return 0
	_c=$1 _v=$2 _d=
	shift 3
	for a in "$@"; do
		case $a in *" "*) _d="$_d '$a'" ;; *) _d="$_d $a" ;; esac
	done
	echo "BENCH-CMD case=$_c vmm=$_v$_d"
}
run() {
	c=$1 v=$2 n=$3
	print_cmd "$@"
	shift 3
	benchrun -t 240 -g "$GMIB" -d 1000 -- "$@" >/tmp/bench-run.log 2>&1
	rc=$?
	res=$(grep '^BENCHRUN ' /tmp/bench-run.log | tail -n 1)
	blk=$(sed -n 's/^BLKBENCH mode=\([a-z0-9_]*\) .* mbs=\([0-9.]*\) iops=\([0-9]*\).*/\1_mbs=\2 \1_iops=\3/p' /tmp/bench-run.log | tr '\n' ' ')
	# rivet --stats: the share of its vCPUs' time spent in rivet's exit
	# handlers (blocked, not running the guest), in per mille.
	# "rivet: stats: vCPU 0: in KVM_RUN 812.3 ms, 904 exits handled in
	# 41.2 ms: ..."
	blocked=$(awk '/^rivet: stats: vCPU [0-9]*: in KVM_RUN/ { run += $7; h += $13 }
		END { if (run + h > 0) printf "vcpu_blocked_permille=%.2f", 1000 * h / (run + h) }' /tmp/bench-run.log)
	# The guest test's own verdict (blkbench) counts too.
	if grep -q '^RIVET-TEST .* FAIL' /tmp/bench-run.log; then
		rc="guest-test-failed"
	fi
	if [ "${c#disk}" != "$c" ] && [ -z "$blk" ]; then
		rc="no-blkbench-figures"
	fi
	# netbench: net_tx_mbs, net_rx_mbs, net_rr_us (the median round trip).
	net=$(sed -n -e 's/^NETBENCH mode=tx .* mbs=\([0-9.]*\) verified=1.*/net_tx_mbs=\1/p' \
		-e 's/^NETBENCH mode=rx .* mbs=\([0-9.]*\) verified=1.*/net_rx_mbs=\1/p' \
		-e 's/^NETBENCH mode=rr .* p50_us=\([0-9.]*\).*/net_rr_us=\1/p' /tmp/bench-run.log | tr '\n' ' ')
	if [ "${c#net}" != "$c" ] && [ "$(echo "$net" | wc -w)" != 3 ]; then
		rc="no-netbench-figures"
	fi
	# Debian's QEMU 10 moves almost no frames through a TAP in this
	# emulated host, whatever its options (vhost, MSI-X or INTx, mmio,
	# its own PLIC: docs/benchmarks.md): reported, not counted as a
	# failure of the benchmark, so rivet's figures stand alone.
	if [ "${c#net}" != "$c" ] && [ "${v#qemu}" != "$v" ] && [ "$rc" != 0 ] &&
		grep -q 'RIVET-TEST netbench FAIL no answer' /tmp/bench-run.log; then
		echo "BENCH-QEMU-NET-BROKEN case=$c vmm=$v run=$n $(grep -E '^ *eth0:' /tmp/bench-run.log | tr -s ' ')"
		return
	fi
	if [ "$rc" != 0 ] || [ -z "$res" ]; then
		echo "BENCH-FAIL case=$c vmm=$v run=$n status=$rc"
		tail -n 30 /tmp/bench-run.log | sed 's/^/  | /'
		return
	fi
	echo "BENCH case=$c vmm=$v run=$n ${res#BENCHRUN } $blk $net $blocked"
}

# pair CASE N ORDER CMDLINE RIVET-ARGS -- QEMU-ARGS: rivet (rivet run
# RIVET-ARGS --cmdline CMDLINE) and QEMU (QEMU-ARGS -append CMDLINE) in
# ORDER.  The arguments are split on spaces: no spaces inside them.
pair() {
	c=$1 n=$2 order=$3 cl=$4 ra="" qa=""
	shift 4
	while [ $# -gt 0 ] && [ "$1" != -- ]; do ra="$ra $1"; shift; done
	shift
	qa="$*"
	for v in $order; do
		if [ "$v" = rivet ]; then
			# shellcheck disable=SC2086
			run "$c" rivet "$n" rivet run $ra --cmdline "$cl"
		else
			# shellcheck disable=SC2086
			run "$c" qemu "$n" $Q $qa -append "$cl"
		fi
	done
}

# growth N ORDER: boot to init at other vCPU counts and memory sizes.
growth_cases() {
	n=$1 order=$2
	for cpus in 2 4; do
		pair boot_cpus$cpus "$n" "$order" "$BOOT_CMDLINE" --board microvm $RIVET_BASE --memory ${MEM}M --cpus $cpus -- \
			-M virt,aia=$AIA $QEMU_BASE -m ${MEM}M -smp $cpus
	done
	for mem in 256 1024 2048; do
		GMIB=$mem
		pair boot_mem$mem "$n" "$order" "$BOOT_CMDLINE" --board microvm $RIVET_BASE --memory ${mem}M --cpus 1 -- \
			-M virt,aia=$AIA $QEMU_BASE -m ${mem}M -smp 1
	done
	GMIB=$MEM
}

# hugepage_cases N ORDER: 2 MiB hugetlb pages on both; rivet without THP.
hugepage_cases() {
	n=$1 order=$2
	echo $((MEM / 2 + 8)) >$HUGE 2>/dev/null
	if [ "$(cat $HUGE 2>/dev/null)" -lt $((MEM / 2)) ]; then
		echo "BENCH-FAIL case=boot_microvm_hugepages: only $(cat $HUGE 2>/dev/null) huge pages"
	else
		pair boot_microvm_hugepages "$n" "$order" "$BOOT_CMDLINE" --board microvm $RIVET_COMMON --hugepages on -- \
			-M virt,aia=$AIA,memory-backend=mem -object memory-backend-memfd,id=mem,size=${MEM}M,hugetlb=on,hugetlbsize=2M \
			$QEMU_BASE -m ${MEM}M -smp 1
	fi
	echo 0 >$HUGE 2>/dev/null
	# Not in the smoke: it differs from boot_microvm only in THP.
	[ "$SCOPE" != smoke ] || return 0
	pair boot_microvm_nothp "$n" "$order" "$BOOT_CMDLINE" --board microvm $RIVET_COMMON --hugepages off -- \
		$QEMU_COMMON
}

# diskq N ORDER: 4 vCPUs, 4 queues, deep queues and parallel jobs; QEMU
# with an iothread, with its default aio=threads and with io_uring.
diskq_case() {
	n=$1 order=$2 secs=3
	[ "$SCOPE" != smoke ] || secs=1
	cl="console=ttyS0 quiet rivet.test=blkbench rivet.secs=$secs rivet.mib=64 rivet.modes=$DISKQ_MODES"
	qd="-drive file=$DISK,format=raw,if=none,id=d0,cache=writeback"
	qv="-device virtio-blk-pci,drive=d0,iothread=io0,num-queues=4 -object iothread,id=io0"
	pair diskq "$n" "$order" "$cl" --board virt $RIVET_BASE --memory ${MEM}M --cpus 4 --stats --disk $DISK -- \
		-M virt,aia=$AIA $QEMU_BASE -m ${MEM}M -smp 4 $qd,aio=threads $qv
	[ "$SCOPE" != smoke ] || return 0
	# shellcheck disable=SC2086
	run diskq rivet_uring "$n" rivet run --board virt $RIVET_BASE --memory ${MEM}M --cpus 4 --stats --cmdline "$cl" --disk $DISK,io=uring
	# shellcheck disable=SC2086
	run diskq qemu_uring "$n" $Q -M virt,aia=$AIA $QEMU_BASE -m ${MEM}M -smp 4 -append "$cl" $qd,aio=io_uring $qv
}

# net N ORDER: TCP both ways and round trips through a TAP; QEMU without
# and with vhost-net.
net_case() {
	n=$1 order=$2
	qn="-netdev tap,id=n0,ifname=tapb0,script=no,downscript=no"
	qd="-device virtio-net-pci,netdev=n0,mac=$NET_MAC,romfile="
	pair net "$n" "$order" "$NET_CMDLINE" --board virt $RIVET_COMMON --stats --net tap=tapb0,mac=$NET_MAC -- \
		$QEMU_COMMON $qn $qd
	[ "$SCOPE" != smoke ] || return 0
	# shellcheck disable=SC2086
	run net qemu_vhost "$n" $Q $QEMU_COMMON -append "$NET_CMDLINE" $qn,vhost=on $qd
}

# The TAP and the server for the net case (modules: rvhost --modules).
net_setup() {
	if [ -f /lib/modules/extra/load-order ]; then
		while read -r m; do
			grep -q "^${m%.ko} " /proc/modules || insmod "/lib/modules/extra/$m"
		done </lib/modules/extra/load-order
	fi
	tunctl -t tapb0 >/dev/null || { echo "BENCH-FAIL cannot make the TAP tapb0"; return 1; }
	ip addr add 169.254.80.1/24 dev tapb0
	ip link set tapb0 up
	/guest/netbench server -p 5201 >/tmp/netbench-server.log 2>&1 &
}

# wait_log PATTERN PID: until /tmp/bench-run.log has a line matching
# PATTERN, PID is gone or 180 s passed.
wait_log() {
	_i=0
	while ! grep -q "$1" /tmp/bench-run.log && kill -0 "$2" 2>/dev/null &&
		[ $_i -lt 1800 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
}

# qmp_run CASE VMM N CMD...: CMD (a VMM with a QMP socket at $QMP_SOCK) in
# the background under benchrun; once its guest printed RIVET-LOAD-START,
# benchrun qmp measures and quits it.
qmp_run() {
	c=$1 v=$2 n=$3
	print_cmd "$@"
	shift 3
	rm -f $QMP_SOCK
	benchrun -t 240 -g "$GMIB" -d 1000 -- "$@" >/tmp/bench-run.log 2>&1 &
	bp=$!
	wait_log '^RIVET-LOAD-START' $bp
	# Let the load get going (blkbench's first requests).
	sleep 1
	n0=$(grep -c '^BLKBENCH mode=' /tmp/bench-run.log)
	benchrun qmp -n $QMP_RTTS -c $QMP_CYCLES -q $QMP_SOCK >/tmp/bench-qmp.log 2>&1
	qrc=$?
	# What the guest read meanwhile: the median of the BLKBENCH lines
	# (1 s each) that ended during the measurement.
	liops=$(sed -n 's/^BLKBENCH mode=randread .* iops=\([0-9]*\).*/\1/p' /tmp/bench-run.log |
		tail -n +$((n0 + 1)) | sort -n | awk '{ a[NR] = $1 } END { if (NR) printf "load_iops=%d", a[int((NR + 1) / 2)] }')
	# benchrun passes a SIGTERM on as a SIGKILL to the VMM.
	[ $qrc = 0 ] || kill $bp 2>/dev/null
	wait $bp
	rc=$?
	res=$(grep '^BENCHQMP ' /tmp/bench-qmp.log | tail -n 1)
	[ $qrc = 0 ] || rc="qmp-client-failed"
	if grep -q '^RIVET-TEST .* FAIL' /tmp/bench-run.log; then
		rc="guest-test-failed"
	fi
	if [ "$rc" != 0 ] || [ -z "$res" ]; then
		echo "BENCH-FAIL case=$c vmm=$v run=$n status=$rc"
		tail -n 30 /tmp/bench-run.log /tmp/bench-qmp.log | sed 's/^/  | /'
		return
	fi
	echo "BENCH case=$c vmm=$v run=$n ${res#BENCHQMP } $liops"
}

# qmp N ORDER: QMP against a running guest, idle and reading its disk.
qmp_cases() {
	n=$1 order=$2
	for load in idle disk; do
		c=qmp_idle
		[ $load = idle ] || c=qmp_io
		cl="console=ttyS0 quiet rivet.test=load rivet.load=$load"
		for v in $order; do
			if [ "$v" = rivet ]; then
				# shellcheck disable=SC2086
				qmp_run $c rivet "$n" rivet run --board virt $RIVET_COMMON --cmdline "$cl" --disk $DISK \
					--qmp unix:$QMP_SOCK,server,wait=off
			else
				# shellcheck disable=SC2086
				qmp_run $c qemu "$n" $Q $QEMU_COMMON -append "$cl" \
					-drive file=$DISK,format=raw,if=none,id=d0 -device virtio-blk-pci,drive=d0 \
					-qmp unix:$QMP_SOCK,server=on,wait=off
			fi
		done
	done
}

# snap_run VMM N URI PATH INCOMING CMD...: CMD (a VMM with a QMP socket
# at $QMP_SOCK, the ticker guest) under benchrun; at its 5th tick,
# benchrun snap saves it to URI (written to PATH) and quits it.  Then
# CMD INCOMING URI restores it under benchrun, timed to its first line
# with a tick; the restored guest must tick on from where it was (no new
# boot) to its last tick and power off.  A failure of QEMU's prints
# BENCH-NA and the reason: its row says n/a, rivet's figures stand.
snap_run() {
	v=$1 n=$2 uri=$3 path=$4 inc=$5
	shift 5
	print_cmd snapshot "$v" "$n" "$@"
	print_cmd restore "$v" "$n" "$@" "$inc" "$uri"
	rm -rf $SNAP $QMP_SOCK
	mkdir -p $SNAP
	benchrun -t 240 -g "$GMIB" -d 1000 -- "$@" >/tmp/bench-run.log 2>&1 &
	bp=$!
	wait_log '^RIVET-TICK 5 ' $bp
	if kill -0 $bp 2>/dev/null; then
		benchrun snap -q $QMP_SOCK "$uri" >/tmp/bench-qmp.log 2>&1
		qrc=$?
	else
		echo "benchrun: qmp: the VMM ended before the guest's 5th tick" >/tmp/bench-qmp.log
		qrc=1
	fi
	[ $qrc = 0 ] || kill $bp 2>/dev/null
	wait $bp
	src=$?
	snap=$(sed -n 's/^BENCHSNAP snapshot_ms=\([0-9.]*\) total_time_ms=\([0-9-]*\) ram_bytes=\([0-9-]*\) .*/snapshot_ms=\1 total_time_ms=\2 ram_mib=\3/p' /tmp/bench-qmp.log)
	last=$(sed -n 's/^RIVET-TICK \([0-9]*\) .*/\1/p' /tmp/bench-run.log | tail -n 1)
	mib=$(du -sk "$path" 2>/dev/null | awk '{ printf "%.1f", $1 / 1024 }')
	rm -f $QMP_SOCK
	: >/tmp/bench-restore.log
	rrc=not-run
	if [ $qrc = 0 ] && [ -n "$snap" ] && [ $src = 0 ]; then
		# The restored guest has only its last ticks left to run:
		# 120 s is ample, and all a VMM whose restored guest hangs
		# (QEMU's, once) costs the run.
		benchrun -t 120 -g "$GMIB" -d 1000 -m RIVET-TICK -- "$@" "$inc" "$uri" >/tmp/bench-restore.log 2>&1
		rrc=$?
	fi
	res=$(grep '^BENCHRUN ' /tmp/bench-restore.log | tail -n 1)
	rms=$(echo "$res" | sed -n 's/.* launch_to_marker_ms=\([0-9.]*\) .*/\1/p')
	rss=$(echo "$res" | sed -n 's/.* rss_kib=\([0-9]*\) .*/\1/p')
	first=$(sed -n 's/^RIVET-TICK \([0-9]*\) .*/\1/p' /tmp/bench-restore.log | head -n 1)
	# The guest time from the last tick before the snapshot to the first
	# after the restore: restore_ms holds the part of it after the resume.
	gap=$(sed -n 's/^RIVET-TICK [0-9]* up=\([0-9.]*\).*/\1/p' /tmp/bench-run.log | tail -n 1)
	gap=$(sed -n 's/^RIVET-TICK [0-9]* up=\([0-9.]*\).*/\1/p' /tmp/bench-restore.log |
		awk -v b="$gap" 'NR == 1 && b != "" { printf "%.0f", ($1 - b) * 1000 }')
	end=$(sed -n 's/^RIVET-TICK \([0-9]*\) .*/\1/p' /tmp/bench-restore.log | tail -n 1)
	why=
	if [ $qrc != 0 ] || [ -z "$snap" ]; then
		why="snapshot: $(grep -h -e Assertion -e 'benchrun: qmp:' /tmp/bench-run.log /tmp/bench-qmp.log |
			head -n 1) (VMM status $src)"
	elif [ $src != 0 ]; then
		why="the snapshotted VMM ended with status $src"
	elif [ $rrc != 0 ] || [ -z "$rms" ]; then
		why="restore: status $rrc, $(grep -v '^BENCHRUN' /tmp/bench-restore.log | tail -n 1) (first tick after it: ${first:-none}; last before: ${last:-none})"
	elif grep -q 'RIVET-GUEST-UP' /tmp/bench-restore.log; then
		why="the restored guest booted afresh"
	elif [ -z "$first" ] || [ "$first" -le "${last:-0}" ]; then
		why="no new tick after the restore (last before: $last, first after: $first)"
	elif [ "$end" != $((SNAP_TICKS - 1)) ] || ! grep -q '^RIVET-TEST ticker PASS' /tmp/bench-restore.log; then
		why="the restored guest stopped at tick $end of $SNAP_TICKS"
	fi
	rm -rf $SNAP
	if [ -n "$why" ] && [ "${v#qemu}" != "$v" ]; then
		echo "BENCH-NA case=snapshot vmm=$v run=$n reason=$why"
		return
	fi
	if [ -n "$why" ]; then
		echo "BENCH-FAIL case=snapshot vmm=$v run=$n status=$why"
		tail -n 30 /tmp/bench-run.log /tmp/bench-qmp.log /tmp/bench-restore.log | sed 's/^/  | /'
		return
	fi
	# rivet's own account of the snapshot (the time of each step).
	grep -h 'rivet: note: snapshot: ' /tmp/bench-run.log | sed "s/^/BENCH-INFO vmm=$v run=$n /"
	# ram_mib: query-migrate's normal-bytes, the RAM pages written.
	snap=$(echo "$snap" | awk '{ split($3, b, "="); $3 = sprintf("ram_mib=%.1f", b[2] / 1048576); print }')
	echo "BENCH case=snapshot vmm=$v run=$n $snap snapshot_mib=$mib restore_ms=$rms restore_rss_kib=$rss tick_before=$last tick_after=$first tick_gap_ms=$gap"
}

# snap_case N ORDER: snapshot to a file and restore, 512 MiB, 1 vCPU: rivet
# --board microvm (as boot_microvm) with its in-kernel AIA, QEMU -M virt
# with its own PLIC ($QEMU_SNAP).
snap_case() {
	n=$1 order=$2
	for v in $order; do
		if [ "$v" = rivet ]; then
			# shellcheck disable=SC2086
			snap_run rivet "$n" "file:$SNAP/rivet" "$SNAP/rivet" --incoming \
				rivet run --board microvm $RIVET_COMMON --cmdline "$SNAP_CMDLINE" \
				--qmp unix:$QMP_SOCK,server,wait=off
		else
			# shellcheck disable=SC2086
			snap_run qemu "$n" "file:$SNAP/qemu.mig" "$SNAP/qemu.mig" -incoming \
				$Q $QEMU_SNAP -append "$SNAP_CMDLINE" -qmp unix:$QMP_SOCK,server=on,wait=off
		fi
	done
	# Once a full run: whether QEMU still aborts with KVM's in-kernel AIA.
	if [ "$n" != 1 ] || [ "$SCOPE" = smoke ] || [ "$SCOPE" = snap ]; then
		return 0
	fi
	# shellcheck disable=SC2086
	snap_run qemu_aia "$n" "file:$SNAP/qemu.mig" "$SNAP/qemu.mig" -incoming \
		$Q $QEMU_COMMON -append "$SNAP_CMDLINE" -qmp unix:$QMP_SOCK,server=on,wait=off
}

boot_case() {	# CASE BOARD N ORDER
	c=$1 b=$2 n=$3 order=$4
	for v in $order; do
		if [ "$v" = rivet ]; then
			# shellcheck disable=SC2086
			run "$c" rivet "$n" rivet run --board "$b" $RIVET_COMMON --cmdline "$BOOT_CMDLINE"
		else
			# shellcheck disable=SC2086
			run "$c" qemu "$n" $Q $QEMU_COMMON -append "$BOOT_CMDLINE"
		fi
	done
}

disk_case() {	# N ORDER
	n=$1 order=$2
	for v in $order; do
		if [ "$v" = rivet ]; then
			# shellcheck disable=SC2086
			run disk$SUFFIX rivet "$n" rivet run --board virt $RIVET_COMMON --stats --cmdline "$DISK_CMDLINE" --disk $DISK
			[ "$KIND" != aia ] || [ "$SCOPE" = smoke ] ||
				run disk rivet_uring "$n" rivet run --board virt $RIVET_COMMON --stats --cmdline "$DISK_CMDLINE" --disk $DISK,io=uring
		else
			# shellcheck disable=SC2086
			run disk$SUFFIX qemu "$n" $Q $QEMU_COMMON -append "$DISK_CMDLINE" \
				-drive file=$DISK,format=raw,if=none,id=d0 -device virtio-blk-pci,drive=d0
		fi
	done
}

echo "BENCH-HOST $(uname -r), $(grep -c ^processor /proc/cpuinfo) harts, $KIND, runs=$RUNS disk_runs=$DISK_RUNS scope=$SCOPE"
echo "BENCH-QEMU-VERSION $($Q --version | sed -n '1s/.*version //p')"
# Written, not sparse: reads must not be served from holes.
dd if=/dev/zero of=$DISK bs=1M count=256 status=none || echo "BENCH-FAIL cannot make $DISK"
[ "$SCOPE" != smoke ] || NET_CMDLINE=$(echo "$NET_CMDLINE" | sed 's/rivet.secs=3 rivet.rr=1000/rivet.secs=1 rivet.rr=200/')
NET=0
if [ "$KIND" = aia ] && [ "$SCOPE" != qmp ] && [ "$SCOPE" != snap ] && net_setup; then
	NET=1
fi
n=1
while [ $n -le "$RUNS" ]; do
	if [ $((n % 2)) -eq 1 ]; then order="rivet qemu"; else order="qemu rivet"; fi
	if [ "$SCOPE" = snap ]; then
		[ "$KIND" != aia ] || snap_case $n "$order"
		n=$((n + 1))
		continue
	fi
	boots=1
	[ "$SCOPE" != disk ] && [ "$SCOPE" != qmp ] || boots=0
	[ $boots = 0 ] || boot_case boot_microvm$SUFFIX microvm $n "$order"
	if [ "$KIND" = aia ] && [ $boots = 1 ]; then
		boot_case boot_virt virt $n "$order"
		# shellcheck disable=SC2086
		run startup_qemu qemu $n $Q $QEMU_COMMON -append "$BOOT_CMDLINE" -msg timestamp=on -trace kvm_vcpu_ioctl
		[ "$SCOPE" = smoke ] || growth_cases $n "$order"
		hugepage_cases $n "$order"
		snap_case $n "$order"
	fi
	if [ $n -le "$DISK_RUNS" ] && [ "$SCOPE" = qmp ]; then
		qmp_cases $n "$order"
	elif [ $n -le "$DISK_RUNS" ]; then
		disk_case $n "$order"
		if [ "$KIND" = aia ]; then
			pair disk_sync "$n" "$order" "$DISK_CMDLINE" --board virt $RIVET_COMMON --stats --disk $DISK,io=sync -- \
				$QEMU_COMMON -drive file=$DISK,format=raw,if=none,id=d0 -device virtio-blk-pci,drive=d0
			diskq_case $n "$order"
			[ "$NET" = 0 ] || [ "$SCOPE" = disk ] || net_case $n "$order"
			[ "$SCOPE" = disk ] || qmp_cases $n "$order"
		fi
	fi
	n=$((n + 1))
done
echo "BENCH-BINARY vmm=rivet bytes=$(stat -c %s /usr/bin/rivet)"
echo "BENCH-BINARY vmm=qemu bytes=$(stat -c %s /opt/refvmm/root/usr/bin/qemu-system-riscv64)"
echo "BENCH-DONE"
