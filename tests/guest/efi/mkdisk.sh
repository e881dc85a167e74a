#!/bin/sh
# Build the boot-order test disk: tests/guest/efi/mkdisk.sh OUT.img
# An 8 MiB raw disk, GPT with one EFI system partition (FAT12) holding
# bootprobe (tests/guest/efi/bootprobe.c, built with Debian's gnu-efi for
# riscv64 in the build chroot) as the removable-media loader
# \EFI\BOOT\BOOTRISCV64.EFI.  Rebuilt only when a source is newer than OUT.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
# shellcheck source=scripts/lib.sh
. "$repo/scripts/lib.sh"

[ $# -eq 1 ] || die "usage: $0 OUT.img"
out=$1
if [ -f "$out" ] && [ "$out" -nt "$here/bootprobe.c" ] && [ "$out" -nt "$0" ]; then
	exit 0
fi
work=$repo/build/guest/efi
mkdir -p "$work" "$(dirname "$out")"
# The chroot sees the repository at the same path; build/ is inside it.
"$repo/scripts/in-chroot.sh" sh -euc '
	cd "$1"
	riscv64-linux-gnu-gcc -I/usr/include/efi -I/usr/include/efi/riscv64 \
		-fpic -ffreestanding -fno-stack-protector -fshort-wchar \
		-Wall -Wextra -Werror -O2 -c "$2/bootprobe.c" -o bootprobe.o
	riscv64-linux-gnu-ld -nostdlib --no-undefined -znocombreloc \
		-T /usr/lib/elf_riscv64_efi.lds -shared -Bsymbolic \
		/usr/lib/crt0-efi-riscv64.o bootprobe.o -L/usr/lib -lefi -lgnuefi \
		-o bootprobe.so
	# gnu-efi riscv64: crt0 carries the PE/COFF header; a flat copy.
	riscv64-linux-gnu-objcopy -j .text -j .sdata -j .data -j .dynamic \
		-j .rodata -j .rel -j .rela -j ".rel.*" -j ".rela.*" -j .reloc \
		-j .dynsym -j .dynstr -O binary bootprobe.so bootprobe.efi
	rm -f esp.img disk.img
	mkfs.vfat -C -n PROBE esp.img 6144 >/dev/null
	mmd -i esp.img ::/EFI ::/EFI/BOOT
	mcopy -i esp.img bootprobe.efi ::/EFI/BOOT/BOOTRISCV64.EFI
	truncate -s 8M disk.img
	printf "label: gpt\nstart=2048, size=12288, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=ESP\n" |
		sfdisk -q disk.img
	dd if=esp.img of=disk.img bs=1M seek=1 conv=notrunc status=none
' sh "$work" "$here" || die "cannot build the boot-order test disk"
mv "$work/disk.img" "$out"
