#!/bin/sh
# netbench.sh BOARD QUEUES [NET-OPTIONS] [RIVET-OPTION]...: virtio-net
# streams both ways
# and request/response against /guest/netbench's server on the emulated
# host, every byte checked (guest test "netbench").  QUEUES 1: a TAP made
# beforehand (busybox tunctl); more: rivet creates a multi-queue TAP itself
# (busybox cannot) and this script brings the host's end up once it
# exists.  The guest must see QUEUES receive queues and have negotiated
# checksum and segmentation offload both ways, merged receive buffers and
# the control queue (and MQ with several queues).  NET-OPTIONS (e.g.
# ",vhost=off") are added to --net.  Exits with rivet's status.
board=$1 queues=$2 netopts=${3:-}
shift 2
[ $# -eq 0 ] || shift
tap=tapnb0
# tun and vhost_net (rvhost --modules), in dependency order.
if [ -f /lib/modules/extra/load-order ]; then
	while read -r m; do
		grep -q "^${m%.ko} " /proc/modules || insmod "/lib/modules/extra/$m" || exit 1
	done </lib/modules/extra/load-order
fi
up() {
	ip addr add 169.254.79.1/24 dev $tap
	ip link set $tap up
}
if [ "$queues" = 1 ]; then
	tunctl -t $tap >/dev/null || exit 1
	up
else
	( i=0
	  until ip link show $tap >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -lt 600 ] || exit 1; sleep 0.1
	  done
	  up ) &
fi
/guest/netbench server -p 5201 >/tmp/netbench-server.log 2>&1 &
server=$!
# CSUM GUEST_CSUM MRG_RXBUF CTRL_VQ HOST_TSO4 GUEST_TSO4 (+ MQ)
features=0,1,7,11,15,17
[ "$queues" = 1 ] || features=$features,22
rivet run --board "$board" --memory 512M --cpus 2 --kernel /guest/Image \
	--initrd /guest/initramfs.cpio.gz --net tap=$tap,queues="$queues$netopts" \
	--cmdline "console=ttyS0 quiet rivet.test=netbench rivet.addr=169.254.79.2/24 rivet.peer=169.254.79.1 rivet.secs=2 rivet.rr=500 rivet.queues=$queues rivet.features=$features" "$@"
rc=$?
kill $server 2>/dev/null
wait $server 2>/dev/null
cat /tmp/netbench-server.log
[ "$queues" != 1 ] || tunctl -d $tap >/dev/null
exit $rc
