#!/bin/sh
# virtio-net on the emulated host: a TAP interface (created with busybox
# tunctl, given a link-local address: nothing leaves the emulated host);
# rivet's guest brings eth0 up and pings the host's end (the echo request
# goes out through the TAP, the reply comes back in).
# Usage: net.sh BOARD [RIVET-OPTION]...  (BOARD: microvm or virt).  Exits
# with rivet's status.
board=$1
shift
if ! [ -e /dev/net/tun ] || ! grep -q tun /proc/misc; then
	insmod "$(find /lib/modules -name 'tun.ko*' | head -n1)" || exit 1
fi
tunctl -t tap0 >/dev/null || exit 1
ip addr add 169.254.77.1/24 dev tap0
ip link set tap0 up
rivet run --board "$board" --memory 512M --kernel /guest/Image \
	--initrd /guest/initramfs.cpio.gz --net tap=tap0 \
	--cmdline "console=ttyS0 quiet rivet.test=net" "$@"
rc=$?
tunctl -d tap0 >/dev/null
exit $rc
