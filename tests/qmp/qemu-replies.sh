#!/bin/sh
# qemu-replies.sh OUT: record Debian's QEMU's own QMP replies to the queries
# rivet implements (qemu-system-riscv64 -M virt -S -qmp, TCG, on this
# x86_64 machine), one JSON object per line, each with "id": "shape-CMD",
# for tests/qmp/shape.c.  The same requests as tests/e2e/host/qmp.sh sends,
# and query-migrate after a migrate to a file:, as tests/e2e/host/snapshot.sh.
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
# await_reply PATTERN [REQUEST]: wait (a loaded machine is slow; 60 s at most)
# until a reply matching PATTERN is in, sending REQUEST before each look.
await_reply() {
	i=0
	while ! grep -q "$1" "$out" 2>/dev/null && [ $i -lt 120 ]; do
		sleep 0.5
		[ -z "${2:-}" ] || printf '%s\r\n' "$2"
		i=$((i + 1))
	done
}
# Send, then wait until the last reply is in.
{
	printf '{"execute": "qmp_capabilities"}\r\n'
	for c in query-status query-version query-commands query-name \
		query-uuid query-target query-kvm query-cpus-fast query-block \
		query-chardev query-migrate-capabilities; do
		printf '{"execute": "%s", "id": "shape-%s"}\r\n' "$c" "$c"
	done
	printf '{"execute": "no-such-command", "id": "shape-unknown"}\r\n'
	printf '{"execute": "stop", "arguments": {"x": 1}, "id": "shape-badarg"}\r\n'
	await_reply '"id": "shape-badarg"'
	# A snapshot to a file, as rivet's (migrate file:), then its
	# query-migrate once completed.
	printf '{"execute": "migrate", "arguments": {"uri": "file:%s/mig"}}\r\n' "$tmp"
	await_reply '"status": "completed".*"id": "shape-poll"' \
		'{"execute": "query-migrate", "id": "shape-poll"}'
	printf '{"execute": "query-migrate", "id": "shape-query-migrate"}\r\n'
	await_reply '"id": "shape-query-migrate"'
	printf '{"execute": "quit"}\r\n'
	sleep 1
} | socat -t 5 - "UNIX-CONNECT:$tmp/q.sock" >"$out"
grep -q '"id": "shape-badarg"' "$out" && grep -q '"id": "shape-query-migrate"' "$out" ||
	{ echo "qemu-replies: no reply to every request from QEMU" >&2; exit 1; }
