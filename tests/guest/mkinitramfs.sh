#!/bin/sh
# Build rivet's guest initramfs (newc cpio, gzip):
#   tests/guest/mkinitramfs.sh OUT
# Contents: the static riscv64 busybox (applet links are made by /init with
# busybox --install), the guest kernel modules and their dependencies
# (decompressed, loaded in order by /init), /init (tests/guest/init), the
# guest tests (tests/guest/tests/* -> /tests/), /lib/rivet-test.sh,
# /bin/adversary and /bin/blkbench.
# Modules: $RIVET_GUEST_MODULES (default: virtio_mmio virtio_blk virtio_rng
# virtio_net efivarfs).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=scripts/lib.sh
. "$repo/scripts/lib.sh"

[ $# -eq 1 ] || die "usage: $0 OUT.cpio.gz"
out=$1
load_paths
[ -x "$RIVET_BUSYBOX" ] || die "no riscv64 busybox at $RIVET_BUSYBOX; run 'make setup'"
modules=${RIVET_GUEST_MODULES:-virtio_mmio virtio_blk virtio_rng virtio_net virtio_input evdev efivarfs}

stage=$(mktemp -d "${TMPDIR:-/tmp}/rivet-guest-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT INT TERM
mkdir -p "$stage/bin" "$stage/sbin" "$stage/lib" "$stage/tests" "$stage/dev" \
	"$stage/proc" "$stage/sys" "$stage/tmp" "$stage/root"
cp "$RIVET_BUSYBOX" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
install -m 755 "$here/init" "$stage/init"
install -m 644 "$here/testlib.sh" "$stage/lib/rivet-test.sh"
for t in "$here"/tests/*; do
	install -m 755 "$t" "$stage/tests/"
done
# /bin/adversary (tests/guest/adversary/adversary.c), /bin/blkbench
# (tests/guest/blkbench/blkbench.c) and /bin/netbench
# (tests/guest/netbench/netbench.c, also the host's /guest/netbench): static riscv64, cross-built in the build
# chroot into build/guest/, rebuilt when the source is newer than the binary.
for prog in adversary blkbench netbench; do
	src=$here/$prog/$prog.c
	bin=$repo/build/guest/$prog
	if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
		mkdir -p "$(dirname "$bin")"
		"$repo/scripts/in-chroot.sh" riscv64-linux-gnu-gcc -static -O2 -Wall -Wextra -pthread \
			-o "$bin.tmp" "$src" || die "cannot build $src"
		mv "$bin.tmp" "$bin"
	fi
	install -m 755 "$bin" "$stage/bin/$prog"
done
# shellcheck disable=SC2086
kmod_install "$stage" $modules || die "cannot collect guest kernel modules ($modules)"
# The kernel needs /dev/console before /init runs (devtmpfs comes later).
# cpio cannot make device nodes as non-root, so add it only when root.
if [ "$(id -u)" -eq 0 ]; then
	mknod -m 600 "$stage/dev/console" c 5 1
fi
mkdir -p "$(dirname "$out")"
(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet) |
	gzip -9n >"$out.tmp"
mv "$out.tmp" "$out"
