#!/bin/sh
# rivet's benchmark, the part that runs inside the emulated RISC-V host
# (tools/bench boots it with tools/rvhost --refvmm and reads the output).
#
#   sh host.sh [RUNS] [DISK_RUNS] [aia|plic]
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
#   disk           virt boards, a virtio-blk-pci disk on a 256 MiB file in the
#                  host's RAM (same file, same buffered host I/O: QEMU's
#                  default cache=writeback); the guest runs blkbench
#                  (O_DIRECT: 1 MiB sequential write and read, 4 KiB random
#                  reads, 3 s each)
# Each run prints one line:
#   BENCH case=CASE vmm=rivet|qemu run=N <benchrun's figures> [blkbench's]
# and a failed run prints BENCH-FAIL with the tail of its output.  At the end:
#   BENCH-BINARY vmm=... bytes=N    BENCH-DONE
set -u
RUNS=${1:-5}
DISK_RUNS=${2:-3}
KIND=${3:-aia}
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
QEMU_COMMON="-M virt,aia=$AIA -accel kvm -cpu host -bios none -m ${MEM}M -smp 1 -nodefaults -nographic -serial stdio -no-reboot -kernel $K -initrd $I"
RIVET_COMMON="--kernel $K --initrd $I --memory ${MEM}M --cpus 1 --no-rng --boot-timer --no-reboot"

# run CASE VMM N CMD...: one measured run.
run() {
	c=$1 v=$2 n=$3
	shift 3
	benchrun -t 180 -g $MEM -d 1000 -- "$@" >/tmp/bench-run.log 2>&1
	rc=$?
	res=$(grep '^BENCHRUN ' /tmp/bench-run.log | tail -n 1)
	blk=$(sed -n 's/^BLKBENCH mode=\([a-z]*\) .* mbs=\([0-9.]*\) iops=\([0-9]*\).*/\1_mbs=\2 \1_iops=\3/p' /tmp/bench-run.log | tr '\n' ' ')
	# The guest test's own verdict (blkbench) counts too.
	if grep -q '^RIVET-TEST .* FAIL' /tmp/bench-run.log; then
		rc="guest-test-failed"
	fi
	if [ "${c#disk}" != "$c" ] && [ -z "$blk" ]; then
		rc="no-blkbench-figures"
	fi
	if [ "$rc" != 0 ] || [ -z "$res" ]; then
		echo "BENCH-FAIL case=$c vmm=$v run=$n status=$rc"
		tail -n 30 /tmp/bench-run.log | sed 's/^/  | /'
		return
	fi
	echo "BENCH case=$c vmm=$v run=$n ${res#BENCHRUN } $blk"
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
			run disk$SUFFIX rivet "$n" rivet run --board virt $RIVET_COMMON --cmdline "$DISK_CMDLINE" --disk $DISK
		else
			# shellcheck disable=SC2086
			run disk$SUFFIX qemu "$n" $Q $QEMU_COMMON -append "$DISK_CMDLINE" \
				-drive file=$DISK,format=raw,if=none,id=d0 -device virtio-blk-pci,drive=d0
		fi
	done
}

echo "BENCH-HOST $(uname -r), $(grep -c ^processor /proc/cpuinfo) harts, $KIND, runs=$RUNS disk_runs=$DISK_RUNS"
echo "BENCH-QEMU-VERSION $($Q --version | sed -n '1s/.*version //p')"
# Written, not sparse: reads must not be served from holes.
dd if=/dev/zero of=$DISK bs=1M count=256 status=none || echo "BENCH-FAIL cannot make $DISK"
n=1
while [ $n -le "$RUNS" ]; do
	if [ $((n % 2)) -eq 1 ]; then order="rivet qemu"; else order="qemu rivet"; fi
	boot_case boot_microvm$SUFFIX microvm $n "$order"
	if [ "$KIND" = aia ]; then
		boot_case boot_virt virt $n "$order"
		# shellcheck disable=SC2086
		run startup_qemu qemu $n $Q $QEMU_COMMON -append "$BOOT_CMDLINE" -msg timestamp=on -trace kvm_vcpu_ioctl
	fi
	[ $n -le "$DISK_RUNS" ] && disk_case $n "$order"
	n=$((n + 1))
done
echo "BENCH-BINARY vmm=rivet bytes=$(stat -c %s /usr/bin/rivet)"
echo "BENCH-BINARY vmm=qemu bytes=$(stat -c %s /opt/refvmm/root/usr/bin/qemu-system-riscv64)"
echo "BENCH-DONE"
