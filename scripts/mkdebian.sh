#!/bin/bash
# Build a standard Debian trixie riscv64 disk image from Debian packages and
# cache it: GPT, an EFI system partition with GRUB as the removable-media
# loader (EFI/BOOT/BOOTRISCV64.EFI), an ext4 root with systemd and
# linux-image-riscv64.  It boots unmodified: UEFI (EDK2) -> GRUB -> Linux
# (ACPI or device tree) -> systemd.
#
#   scripts/mkdebian.sh [--out FILE] [--size SIZE] [--force] [--test-copy DEST]
#   scripts/mkdebian.sh --check [--out FILE] [--size SIZE]
#
#   --out FILE   the image (default $RIVET_CACHE/debian/trixie-riscv64.img)
#   --size SIZE  its (sparse) size, as truncate(1) takes it (default 2G)
#   --force      build even if FILE is up to date
#   --check      exit 0 if FILE is up to date, 1 if not; build nothing
#   --test-copy DEST  then copy FILE to DEST (sparse) with the ESP's
#                flag file /rivet-poweroff (below), for one test boot
#
# FILE is up to date when FILE.stamp holds the key of this script, SIZE and
# the mirror; then the script prints FILE's name and does nothing else.  It
# prints FILE's name last on success; FILE.packages lists the guest's
# packages (dpkg-query -W) and FILE.log is the build's log.  Needs
# root, debootstrap on the host (make setup) and a kernel with binfmt_misc:
# the riscv64 packages' maintainer scripts run under qemu-user (the script
# registers qemu-riscv64 with binfmt_misc's F flag if nothing usable is).
# No loop devices or mounts of the image: mke2fs -d, mkfs.vfat + mtools and
# sfdisk work on files.
#
# The guest: root has no password and is logged in automatically on the
# serial console (ttyS0, also console=ttyS0 on the kernel command line);
# rivet-test.service prints
#   RIVET-DEBIAN-UP <systemctl is-system-running> <kernel> up <s> acpi=yes|no efi=yes|no
# to the console once the boot has finished, and then powers the machine off
# if the kernel command line has rivet.poweroff.  GRUB boots the entry with
# rivet.poweroff when the ESP holds a file /rivet-poweroff: --test-copy
# writes FILE.esp-poweroff (the ESP with that file, made with the image) over
# the copy's ESP; no mounts, no mtools needed.
set -euo pipefail
{ # (the whole script is one command: bash reads it all before running it, so
  # editing this file during a build is harmless)

REPO=$(cd "$(dirname "$0")/.." && pwd)
SELF=$REPO/scripts/mkdebian.sh
# shellcheck source=scripts/lib.sh
. "$REPO/scripts/lib.sh"
export RIVET_CACHE
MIRROR=${RIVET_MIRROR:-http://deb.debian.org/debian}
D=$RIVET_CACHE/debian
OUT=$D/trixie-riscv64.img
SIZE=2G
FORCE=0
CHECK=0
TESTCOPY=""

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$SELF"
}

while [ $# -gt 0 ]; do
	case $1 in
	--out) OUT=${2:?--out needs a file}; shift 2 ;;
	--out=*) OUT=${1#*=}; shift ;;
	--size) SIZE=${2:?--size needs a size}; shift 2 ;;
	--size=*) SIZE=${1#*=}; shift ;;
	--force) FORCE=1; shift ;;
	--check) CHECK=1; shift ;;
	--test-copy) TESTCOPY=${2:?--test-copy needs a file}; shift 2 ;;
	--test-copy=*) TESTCOPY=${1#*=}; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
case $OUT in /*) ;; *) OUT=$(pwd)/$OUT ;; esac

# What the guest gets (Priority: required, from --variant=minbase, plus these).
GUEST_PKGS="systemd-sysv udev dbus kmod e2fsprogs dosfstools login passwd
	procps iproute2 linux-image-riscv64 initramfs-tools zstd
	grub-efi-riscv64 grub-efi-riscv64-bin"
# What builds it (in its own trixie amd64 chroot, $D/builder).
BUILDER_PKGS="mmdebstrap arch-test mtools dosfstools fdisk e2fsprogs"

# Fixed identifiers, so that GRUB's configuration and fstab can name them and
# two builds give the same partition table.
DISK_GUID=5ad8c1f0-7a1e-4c49-9b2c-72697665740a
ESP_PARTUUID=5ad8c1f0-7a1e-4c49-9b2c-72697665740b
ROOT_PARTUUID=5ad8c1f0-7a1e-4c49-9b2c-72697665740c
ROOT_UUID=5ad8c1f0-7a1e-4c49-9b2c-72697665740d
ESP_VOLID=52495645 # FAT volume id 5249-5645 ("RIVE")
ESP_MIB=127        # the ESP runs from 1 MiB to 128 MiB; root from 128 MiB to the end - 1 MiB

image_key() {
	{ cat "$SELF"; echo "$SIZE $MIRROR"; } | sha256sum | cut -c1-16
}
builder_key() {
	{ declare -f make_builder; echo "$BUILDER_PKGS $MIRROR"; } | sha256sum | cut -c1-16
}

KEY=$(image_key)
up_to_date() {
	[ -s "$OUT" ] && [ "$(cat "$OUT.stamp" 2>/dev/null)" = "$KEY" ]
}
if [ "$CHECK" = 1 ]; then
	up_to_date
	exit
fi
# test_copy: FILE -> TESTCOPY, with the ESP that has /rivet-poweroff.
test_copy() {
	[ -n "$TESTCOPY" ] || return 0
	[ -s "$OUT.esp-poweroff" ] || die "$OUT.esp-poweroff missing; rebuild with --force"
	cp --sparse=always "$OUT" "$TESTCOPY"
	dd if="$OUT.esp-poweroff" of="$TESTCOPY" bs=1M seek=1 conv=notrunc,sparse status=none
	say "test copy (GRUB boots with rivet.poweroff): $TESTCOPY"
}
cached() {
	say "debian image up to date: $OUT"
	test_copy
	echo "$OUT"
	exit 0
}
[ "$FORCE" = 1 ] || ! up_to_date || cached
[ "$(id -u)" -eq 0 ] || die "mkdebian.sh must run as root (chroot, binfmt_misc)"
command -v debootstrap >/dev/null || die "debootstrap missing; run 'make setup'"
mkdir -p "$D" "$(dirname "$OUT")"
exec 9>"$D/.lock"
flock 9
# Another run may have built it while this one waited for the lock.
[ "$FORCE" = 1 ] || ! up_to_date || cached

B=$D/builder
QEMU_IN_B=/usr/local/lib/rivet/qemu-riscv64 # static qemu-user, from trixie's qemu-user

# in_builder CMD...: run CMD in the builder chroot (see scripts/in-chroot.sh).
in_builder() {
	RIVET_CHROOT=$B "$REPO/scripts/in-chroot.sh" "$@"
}

# ---- the builder: trixie amd64 with mmdebstrap, mtools, ... and qemu-riscv64
make_builder() {
	local tmp=$D/builder.new
	rm -rf "$tmp"
	retry 2 unshare -m -- debootstrap --variant=minbase trixie "$tmp" "$MIRROR" ||
		die "debootstrap of the builder failed (log: $tmp/debootstrap/debootstrap.log)"
	echo "deb $MIRROR trixie main" >"$tmp/etc/apt/sources.list"
	rm -rf "$B"
	mv "$tmp" "$B"
	in_builder sh -euc "
		for i in 1 2 3; do apt-get update -q && break; sleep 5; done
		for i in 1 2 3; do apt-get install -y -q --no-install-recommends $BUILDER_PKGS && break; sleep 5; done
		dpkg -s $BUILDER_PKGS >/dev/null
		# Only qemu-riscv64 from qemu-user (static binaries, 71 MB download).
		cd /tmp && rm -rf q && mkdir q && cd q
		for i in 1 2 3; do apt-get download -q qemu-user && break; sleep 5; done
		dpkg-deb --fsys-tarfile qemu-user_*.deb | tar -x ./usr/bin/qemu-riscv64
		mkdir -p $(dirname $QEMU_IN_B)
		mv usr/bin/qemu-riscv64 $QEMU_IN_B
		cd / && rm -rf /tmp/q
		apt-get clean"
	[ -x "$B$QEMU_IN_B" ] || die "no qemu-riscv64 in the builder"
}

if [ "$(cat "$D/builder.stamp" 2>/dev/null)" != "$(builder_key)" ] || [ ! -x "$B$QEMU_IN_B" ]; then
	say "making the builder chroot ($B)..."
	t0=$(date +%s)
	make_builder
	builder_key >"$D/builder.stamp"
	say "builder ready in $(($(date +%s) - t0)) s"
fi

# ---- binfmt_misc: riscv64 ELF -> qemu-riscv64, with F (the kernel opens the
# interpreter now, so it works inside any chroot).
RV_MAGIC='\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xf3\x00'
RV_MASK='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'
BFM=/proc/sys/fs/binfmt_misc
setup_binfmt() {
	local f name
	if [ ! -e "$BFM/register" ]; then
		mount -t binfmt_misc binfmt_misc "$BFM" ||
			die "cannot mount binfmt_misc on $BFM (needed to run riscv64 maintainer scripts)"
	fi
	[ "$(cat "$BFM/status")" = enabled ] || die "binfmt_misc is disabled ($BFM/status)"
	# A usable entry: enabled, riscv64's magic, fix-binary flag.
	for f in "$BFM"/*; do
		case ${f##*/} in register | status) continue ;; esac
		if grep -qx enabled "$f" 2>/dev/null &&
			grep -q '^flags: .*F' "$f" &&
			grep -q '^magic 7f454c460201010000000000000000000200f300' "$f"; then
			say "binfmt_misc: using ${f##*/} ($(sed -n 's/^interpreter //p' "$f"))"
			return 0
		fi
	done
	name=qemu-riscv64
	[ ! -e "$BFM/$name" ] || name=rivet-riscv64
	printf ':%s:M::%s:%s:%s:POCF\n' "$name" "$RV_MAGIC" "$RV_MASK" "$B$QEMU_IN_B" >"$BFM/register" ||
		die "cannot register qemu-riscv64 with binfmt_misc"
	say "binfmt_misc: registered $name -> $B$QEMU_IN_B (flags POCF)"
}
setup_binfmt

# ---- the image -----------------------------------------------------------------
W=/build # inside the builder
rm -rf "${B:?}$W"
mkdir -p "$B$W"
truncate -s "$SIZE" "$B$W/size" 2>/dev/null || die "bad --size: $SIZE"
size_bytes=$(stat -c %s "$B$W/size")
rm -f "$B$W/size"
root_mib=$((size_bytes / 1048576 - ESP_MIB - 2))
[ "$root_mib" -ge 1024 ] || die "--size $SIZE is too small (want at least 1152M)"

# Files for the guest, written here and copied in by a customize hook.
F=$B$W/files
mkdir -p "$F"
cat >"$F/fstab" <<EOF
# <file system> <mount point> <type> <options> <dump> <pass>
UUID=$ROOT_UUID / ext4 errors=remount-ro 0 1
UUID=${ESP_VOLID:0:4}-${ESP_VOLID:4:4} /boot/efi vfat umask=0077,nofail 0 2
EOF
cat >"$F/early.cfg" <<EOF
search --no-floppy --fs-uuid --set=root $ROOT_UUID
set prefix=(\$root)/boot/grub
configfile \$prefix/grub.cfg
EOF
cat >"$F/autologin.conf" <<'EOF'
# rivet test image: root is logged in on the serial console without a password.
[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin root --noclear --keep-baud 115200,57600,38400,9600 - $TERM
EOF
cat >"$F/rivet-test.service" <<'EOF'
[Unit]
Description=rivet: report that the system is up (and power off on rivet.poweroff)
After=multi-user.target

[Service]
# Not oneshot: is-system-running --wait waits for every start-up job, this one too.
Type=exec
ExecStart=/usr/local/sbin/rivet-test
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
EOF
cat >"$F/rivet-test" <<'EOF'
#!/bin/sh
# rivet test image: print RIVET-DEBIAN-UP <state> once the boot has finished.
state=$(systemctl is-system-running --wait)
[ "$state" = running ] || systemctl --no-pager --failed
echo "RIVET-DEBIAN-UP $state $(uname -r) up $(cut -d' ' -f1 /proc/uptime)s" \
	"acpi=$([ -d /sys/firmware/acpi/tables ] && echo yes || echo no)" \
	"efi=$([ -d /sys/firmware/efi ] && echo yes || echo no)"
case " $(cat /proc/cmdline) " in
*" rivet.poweroff "*) systemctl --no-block poweroff ;;
esac
EOF

# Essential hook: until the customize hook, update-initramfs does nothing
# (else the kernel and every trigger would each build the initrd, slowly,
# under qemu-user); the customize hook builds it once.
cat >"$F/essential.sh" <<'EOF'
#!/bin/sh
set -eu
r=$1
chroot "$r" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs
printf '#!/bin/sh\n# rivet mkdebian.sh: deferred to the end of the build\nexit 0\n' >"$r/usr/sbin/update-initramfs"
chmod 0755 "$r/usr/sbin/update-initramfs"
EOF

cat >"$F/customize.sh" <<EOF
#!/bin/sh
# Runs in the builder with the new root as \$1 (mmdebstrap --customize-hook).
set -eu
r=\$1 f=$W/files
# Keep the downloaded packages for the next build (the cache holds one set).
rm -rf /debcache && mkdir /debcache
cp -l "\$r"/var/cache/apt/archives/*.deb /debcache/ 2>/dev/null || true
echo rivet-debian >"\$r/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\trivet-debian\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"\$r/etc/hosts"
cp "\$f/fstab" "\$r/etc/fstab"
mkdir -p "\$r/boot/efi"
# root: no password (console autologin below).
sed -i 's/^root:[^:]*:/root::/' "\$r/etc/shadow"
mkdir -p "\$r/etc/systemd/system/serial-getty@.service.d"
cp "\$f/autologin.conf" "\$r/etc/systemd/system/serial-getty@.service.d/autologin.conf"
install -m 0755 "\$f/rivet-test" "\$r/usr/local/sbin/rivet-test"
cp "\$f/rivet-test.service" "\$r/etc/systemd/system/"
mkdir -p "\$r/etc/systemd/system/multi-user.target.wants"
ln -sf ../rivet-test.service "\$r/etc/systemd/system/multi-user.target.wants/rivet-test.service"
# The initrd, once (see essential.sh).  The root's type cannot be probed
# here (no block device): name it, so that the initrd gets fsck.ext4.
mkdir -p "\$r/etc/initramfs-tools/conf.d"
echo FSTYPE=ext4 >"\$r/etc/initramfs-tools/conf.d/rivet-fstype.conf"
kver=\$(ls "\$r/usr/lib/modules")
[ \$(echo "\$kver" | wc -l) = 1 ] || { echo "want one kernel, have: \$kver" >&2; exit 1; }
echo "\$kver" >$W/kver
rm -f "\$r/usr/sbin/update-initramfs"
chroot "\$r" dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs
chroot "\$r" update-initramfs -c -k "\$kver"
[ -e "\$r/boot/initrd.img-\$kver" ] || { echo "no initrd for \$kver" >&2; exit 1; }
img=\$(cd "\$r/boot" && ls vmlinu[xz]-"\$kver")
# GRUB: defaults for a later update-grub, and a configuration of our own now
# (grub-mkconfig needs a real block device under /).
[ -e "\$r/etc/default/grub" ] || cp "\$r/usr/share/grub/default/grub" "\$r/etc/default/grub"
sed -i -e 's/^GRUB_TIMEOUT=.*/GRUB_TIMEOUT=1/' \\
	-e 's/^GRUB_CMDLINE_LINUX=.*/GRUB_CMDLINE_LINUX="console=ttyS0"/' "\$r/etc/default/grub"
mkdir -p "\$r/boot/grub/riscv64-efi"
cp "\$r"/usr/lib/grub/riscv64-efi/*.mod "\$r"/usr/lib/grub/riscv64-efi/*.lst "\$r/boot/grub/riscv64-efi/"
cat >"\$r/boot/grub/grub.cfg" <<EOG
# Written by rivet's scripts/mkdebian.sh; update-grub replaces it.
set default=0
set timeout=1
insmod part_gpt
insmod ext2
insmod fat
search --no-floppy --fs-uuid --set=esp ${ESP_VOLID:0:4}-${ESP_VOLID:4:4}
if [ -f (\\\$esp)/rivet-poweroff ]; then
	set default=1
	set timeout=0
fi
search --no-floppy --fs-uuid --set=root $ROOT_UUID
menuentry 'Debian GNU/Linux' {
	echo 'Loading Linux \$kver ...'
	linux /boot/\$img root=UUID=$ROOT_UUID ro console=ttyS0
	echo 'Loading initial ramdisk ...'
	initrd /boot/initrd.img-\$kver
}
menuentry 'Debian GNU/Linux (test: power off when up)' {
	echo 'Loading Linux \$kver (rivet.poweroff) ...'
	linux /boot/\$img root=UUID=$ROOT_UUID ro console=ttyS0 rivet.poweroff
	initrd /boot/initrd.img-\$kver
}
EOG
# The removable-media loader: the modules to find and read the root file
# system built in; the rest load from /boot/grub/riscv64-efi.
cp "\$f/early.cfg" "\$r/tmp/early.cfg"
chroot "\$r" grub-mkimage -O riscv64-efi -o /tmp/BOOTRISCV64.EFI -c /tmp/early.cfg \\
	-p /boot/grub part_gpt part_msdos fat ext2 search search_fs_uuid search_label \\
	normal configfile linux echo test ls cat reboot halt gzio
mv "\$r/tmp/BOOTRISCV64.EFI" $W/BOOTRISCV64.EFI
rm -f "\$r/tmp/early.cfg"
dpkg-query --admindir="\$r/var/lib/dpkg" -W >$W/packages
# The image is built once and booted many times: no apt lists, logs or caches.
rm -rf "\$r"/var/lib/apt/lists/* "\$r"/var/cache/apt/*.bin "\$r"/var/log/*.log "\$r"/var/cache/debconf/*-old
EOF
chmod +x "$F/essential.sh" "$F/customize.sh"

# shellcheck disable=SC2086 # GUEST_PKGS: a list
cat >"$B$W/build.sh" <<EOF
#!/bin/sh
# Runs inside the builder: mmdebstrap the root, then make the image from files.
set -eu
cd $W
mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
mkdir -p /debcache
t0=\$(date +%s)
mmdebstrap --verbose --mode=root --variant=minbase --architectures=riscv64 \\
	--include="$(echo $GUEST_PKGS | tr ' ' ,)" \\
	--dpkgopt='path-exclude=/usr/share/man/*' \\
	--dpkgopt='path-exclude=/usr/share/locale/*' \\
	--dpkgopt='path-include=/usr/share/locale/locale.alias' \\
	--dpkgopt='path-exclude=/usr/share/doc/*' \\
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \\
	--dpkgopt='path-exclude=/usr/share/info/*' \\
	--skip=essential/unlink \\
	--setup-hook='mkdir -p "\$1/var/cache/apt/archives" && cp -l /debcache/*.deb "\$1/var/cache/apt/archives/" 2>/dev/null || true' \\
	--essential-hook='$W/files/essential.sh "\$1"' \\
	--customize-hook='$W/files/customize.sh "\$1"' \\
	trixie $W/root "deb $MIRROR trixie main"
t1=\$(date +%s)
echo "rivet: mkdebian: root file system in \$((t1 - t0)) s, \$(du -sm $W/root | cut -f1) MiB" >&2
# ext4 root, from the directory.
mke2fs -q -F -t ext4 -L debian-root -U $ROOT_UUID -E hash_seed=$ROOT_UUID,root_owner=0:0 \\
	-d $W/root $W/root.img ${root_mib}M
# FAT32 ESP with GRUB at the removable-media path.
rm -f $W/esp.img
mkfs.vfat -C -F 32 -n ESP -i $ESP_VOLID $W/esp.img $((ESP_MIB * 1024)) >/dev/null
mmd -i $W/esp.img ::/EFI ::/EFI/BOOT
mcopy -i $W/esp.img $W/BOOTRISCV64.EFI ::/EFI/BOOT/BOOTRISCV64.EFI
# The same with /rivet-poweroff: GRUB then boots its rivet.poweroff entry.
cp --sparse=always $W/esp.img $W/esp-poweroff.img
echo 'GRUB boots "Debian GNU/Linux (test: power off when up)" while this file exists.' >$W/flag
mcopy -i $W/esp-poweroff.img $W/flag ::/rivet-poweroff
# GPT, then the partitions at their offsets (sparse).
rm -f $W/disk.img
truncate -s $size_bytes $W/disk.img
sfdisk -q $W/disk.img <<EOS
label: gpt
label-id: $DISK_GUID
start=1MiB, size=${ESP_MIB}MiB, type=uefi, uuid=$ESP_PARTUUID, name="EFI system partition"
start=$((ESP_MIB + 1))MiB, size=${root_mib}MiB, type=linux, uuid=$ROOT_PARTUUID, name="Debian root"
EOS
dd if=$W/esp.img of=$W/disk.img bs=1M seek=1 conv=notrunc,sparse status=none
dd if=$W/root.img of=$W/disk.img bs=1M seek=$((ESP_MIB + 1)) conv=notrunc,sparse status=none
sfdisk -d $W/disk.img
echo "rivet: mkdebian: image made in \$(((\$(date +%s) - t1))) s" >&2
EOF
chmod +x "$B$W/build.sh"

say "building the debian image (mmdebstrap; riscv64 maintainer scripts run under qemu-user; log: $OUT.log)..."
t0=$(date +%s)
# The whole log, each line with the seconds since the start, goes to
# $OUT.log; progress lines (rivet:, I:, W:, E:) also to stderr.
if ! in_builder "$W/build.sh" 2>&1 | awk -v t0="$t0" -v lf="$OUT.log.new" '
	{ printf "%5d %s\n", systime() - t0, $0 >lf; fflush(lf) }
	/^(rivet|[IWE]):/ { print >"/dev/stderr" }'; then
	mv -f "$OUT.log.new" "$OUT.log"
	tail -n 30 "$OUT.log" >&2
	die "image build failed (log: $OUT.log; work directory: $B$W)"
fi
mv -f "$OUT.log.new" "$OUT.log"
rm -f "$OUT.stamp"
cp --sparse=always "$B$W/disk.img" "$OUT.new"
mv "$OUT.new" "$OUT"
cp "$B$W/packages" "$OUT.packages"
cp --sparse=always "$B$W/esp-poweroff.img" "$OUT.esp-poweroff"
echo "$KEY" >"$OUT.stamp"
kver=$(cat "$B$W/kver")
rm -rf "${B:?}$W"
say "debian image built in $(($(date +%s) - t0)) s: $OUT ($(du -m "$OUT" | cut -f1) MiB used of $SIZE; kernel $kver; $(wc -l <"$OUT.packages") packages)"
test_copy
echo "$OUT"
exit 0
}
