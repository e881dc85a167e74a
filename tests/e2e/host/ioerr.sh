#!/bin/sh
# ioerr.sh enospc|eio [DISK-OPTIONS]: host I/O errors on a guest disk's
# backing store reach the guest as I/O errors and rivet keeps running.
# DISK-OPTIONS (e.g. ",io=uring") are added to the --disk value; each run
# makes its own backing store, so several may run in one host boot.  Runs the guest test
# "ioerr" (tests/guest/tests/ioerr) and exits with rivet's status.
#   enospc  the disk is an 8 MiB sparse file on a 2 MiB tmpfs: writes past
#           ~2 MiB get ENOSPC from pwrite
#   eio     the disk is an 8 MiB memory-backed null_blk device whose sectors
#           4096-8191 (2-4 MiB) are bad: writes there fail (EIO) when rivet
#           flushes them (fdatasync), reads there fail at once.  Needs the
#           host modules configfs and null_blk (rvhost --modules).
mode=${1:?usage: ioerr.sh enospc|eio [DISK-OPTIONS]}
opts=${2:-}
tag=$(echo "$opts" | tr -dc 'a-z0-9')
guest() {
	rivet run --board microvm --kernel /guest/Image --initrd /guest/initramfs.cpio.gz \
		--cmdline "console=ttyS0 quiet rivet.test=ioerr $1" --disk "$2$opts"
}
case $mode in
enospc)
	mkdir -p /mnt/small$tag
	mount -t tmpfs -o size=2m tmpfs /mnt/small$tag || exit 1
	truncate -s 8M /mnt/small$tag/disk.img || exit 1
	guest rivet.min_ok=16 /mnt/small$tag/disk.img
	rc=$?
	echo "ioerr: tmpfs after the test: $(df -k /mnt/small$tag | tail -n1)"
	;;
eio)
	while read -r m; do
		grep -q "^${m%.ko} " /proc/modules && continue
		case $m in
		null_blk.ko) insmod "/lib/modules/extra/$m" nr_devices=0 ;;
		*) insmod "/lib/modules/extra/$m" ;;
		esac || exit 1
	done </lib/modules/extra/load-order
	mkdir -p /sys/kernel/config
	grep -q ' /sys/kernel/config ' /proc/mounts || mount -t configfs configfs /sys/kernel/config || exit 1
	d=/sys/kernel/config/nullb/errdisk$tag
	mkdir $d || exit 1
	echo 8 >$d/size
	echo 1 >$d/memory_backed
	echo 512 >$d/blocksize
	echo +4096-8191 >$d/badblocks
	echo 1 >$d/power
	i=0
	while [ ! -b /dev/errdisk$tag ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	echo "ioerr: /dev/errdisk$tag, bad sectors: $(tr '\n' ' ' <$d/badblocks)"
	guest "rivet.min_ok=32 rivet.readerr=$((3 * 1048576))" /dev/errdisk$tag
	rc=$?
	;;
*)
	echo "ioerr: unknown mode $mode" >&2
	exit 2
	;;
esac
echo "ioerr: rivet exit status $rc"
exit $rc
