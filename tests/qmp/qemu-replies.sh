#!/bin/sh
# qemu-replies.sh OUT: record Debian's QEMU's own QMP replies to the queries
# rivet implements (qemu-system-riscv64 -M virt -S -qmp, TCG, on this
# x86_64 machine), one JSON object per line, each with "id": "shape-CMD",
# for tests/qmp/shape.c.  The same requests as tests/e2e/host/qmp.sh sends.
set -eu
out=$1
tmp=$(mktemp -d)
trap 'kill $qpid 2>/dev/null || true; rm -rf "$tmp"' EXIT
truncate -s 8M "$tmp/disk.img"
qemu-system-riscv64 -M virt -smp 2 -m 256M -S -display none -nodefaults \
	-name shape -uuid 12345678-90ab-cdef-1234-567890abcdef \
	-drive "file=$tmp/disk.img,if=none,id=d0,format=raw,readonly=on" \
	-device virtio-blk-device,drive=d0 \
	-qmp "unix:$tmp/q.sock,server=on,wait=off" &
qpid=$!
i=0
while [ ! -S "$tmp/q.sock" ] && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
[ -S "$tmp/q.sock" ] || { echo "qemu-replies: QEMU made no QMP socket" >&2; exit 1; }
# Send, then wait (a loaded machine is slow) until the last reply is in.
{
	printf '{"execute": "qmp_capabilities"}\r\n'
	for c in query-status query-version query-commands query-name \
		query-uuid query-target query-kvm query-cpus-fast query-block \
		query-chardev query-migrate-capabilities; do
		printf '{"execute": "%s", "id": "shape-%s"}\r\n' "$c" "$c"
	done
	printf '{"execute": "no-such-command", "id": "shape-unknown"}\r\n'
	printf '{"execute": "stop", "arguments": {"x": 1}, "id": "shape-badarg"}\r\n'
	i=0
	while ! grep -q '"id": "shape-badarg"' "$out" 2>/dev/null && [ $i -lt 120 ]; do
		sleep 0.5
		i=$((i + 1))
	done
	printf '{"execute": "quit"}\r\n'
	sleep 1
} | socat -t 5 - "UNIX-CONNECT:$tmp/q.sock" >"$out"
grep -q '"id": "shape-badarg"' "$out" ||
	{ echo "qemu-replies: no reply to every request from QEMU" >&2; exit 1; }
