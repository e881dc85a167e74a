# shellcheck shell=sh
# Helpers for rivet guest tests (/lib/rivet-test.sh in the guest initramfs).
# A test is a sh script: exit 0 = PASS; call fail REASON to fail with REASON.

# fail REASON...: record the reason that /init prints, and exit 1.
fail() {
	echo "$*" >/tmp/rivet-reason
	echo "rivet-test: FAIL: $*"
	exit 1
}

# param KEY [DEFAULT]: the value of rivet.KEY=VALUE on the kernel cmdline.
param() {
	_v=$2
	for _w in $(cat /proc/cmdline); do
		case $_w in
		"rivet.$1="*) _v=${_w#rivet."$1"=} ;;
		esac
	done
	echo "$_v"
}

# wait_for PATH [SECONDS]: wait until PATH exists (devices appear async).
wait_for() {
	_n=$(( ${2:-10} * 10 ))
	while [ ! -e "$1" ] && [ "$_n" -gt 0 ]; do
		sleep 0.1
		_n=$((_n - 1))
	done
	[ -e "$1" ]
}

# disk_dev: the test disk (rivet.disk=, default /dev/vda), once it exists.
disk_dev() {
	_d=$(param disk /dev/vda)
	wait_for "$_d" 10 || fail "no disk $_d (virtio_mmio/virtio_blk loaded? $(ls /sys/bus/virtio/devices 2>/dev/null | tr '\n' ' '))"
	echo "$_d"
}
