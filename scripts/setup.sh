#!/bin/bash
# Install and cache everything rivet's build and tests need.  Idempotent: each
# stage leaves a stamp in $RIVET_CACHE/stamps/<stage> and is skipped next
# time, so a second run costs almost nothing.  Run as root on Debian 12.
#
#   scripts/setup.sh            run the missing stages
#   scripts/setup.sh --check    exit 0 if every stage is done, else say so
#   scripts/setup.sh --redo S   forget stage S (and run it again)
#
# RIVET_DEFER_DEBIAN_IMAGE=1 (make test): leave the debian-image stage to
# tests/e2e/run.sh, which builds the image in the background while the
# host boots that do not need it run (it takes ~6 minutes of qemu-user on
# a fresh machine); --check then does not ask for it either.
#
# Stages (in order):
#   host-packages  bookworm-backports source, qemu-system-riscv 10.0, build deps
#   trixie-apt     a private apt configuration for trixie amd64+riscv64 (the
#                  host's apt state is not touched)
#   trixie-pieces  riscv64 kernel Image + modules, busybox-static, EDK2
#   chroot         trixie amd64 chroot with the riscv64 cross toolchain
#   refvmm         trixie's qemu-system-riscv64 for riscv64 + libraries (the
#                  reference VMM, run inside the emulated host)
#   qmp-go         golang-go and go-qemu (bookworm); tests/qmp/goclient built
#                  for riscv64: a QMP client on an independent library
# Where things are: $RIVET_CACHE/paths.sh (sourced by the other scripts).
set -euo pipefail

RIVET_CACHE=${RIVET_CACHE:-/var/cache/rivet}
export RIVET_CACHE
MIRROR=${RIVET_MIRROR:-http://deb.debian.org/debian}
STAGES="host-packages trixie-apt trixie-pieces chroot chroot-libs refvmm qmp-clients debian-image qmp-go"
C=$RIVET_CACHE
STAMPS=$C/stamps
REPO=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$REPO/scripts/lib.sh"

HOST_PKGS="debootstrap cpio xz-utils zstd gzip device-tree-compiler
	libcmocka-dev libfdt-dev libseccomp-dev libjansson-dev gcc make pkg-config git socat
	coreutils util-linux kmod ca-certificates clang libclang-rt-14-dev"
# gnu-efi (riscv64), mtools, dosfstools, fdisk: the boot-order test's EFI
# disk (tests/guest/efi/mkdisk.sh).
CHROOT_PKGS="gcc-riscv64-linux-gnu libc6-dev:riscv64 libfdt-dev:riscv64 libseccomp-dev:riscv64 linux-libc-dev make pkgconf acpica-tools gnu-efi:riscv64 mtools dosfstools fdisk"

# stage_key STAGE: identifies what the stage does (its code and inputs); a
# stamp holding another key is stale and the stage runs again.
stage_key() {
	local inputs
	case $1 in
	host-packages) inputs=$HOST_PKGS ;;
	chroot) inputs="$CHROOT_PKGS $MIRROR" ;;
	# A rebuilt chroot (a new stamp) needs its libraries again.
	chroot-libs) inputs="$CHROOT_LIBS $MIRROR $(cat "$STAMPS/chroot" 2>/dev/null)" ;;
	debian-image) inputs="$MIRROR $(sha256sum <"$REPO/scripts/mkdebian.sh")" ;;
	# The Go client is built from the tree: a changed source rebuilds it.
	qmp-go) inputs="$GOQMP_PKGS $(cat "$REPO"/tests/qmp/goclient/* | sha256sum)" ;;
	*) inputs=$MIRROR ;;
	esac
	{ declare -f "stage_${1//-/_}"; echo "$inputs"; } | sha256sum | cut -c1-16
}

stage_done() {
	[ "$(cat "$STAMPS/$1" 2>/dev/null)" = "$(stage_key "$1")" ]
}

# deferred STAGE: true if this run leaves STAGE to someone else.
deferred() {
	[ "$1" = debian-image ] && [ "${RIVET_DEFER_DEBIAN_IMAGE:-0}" = 1 ]
}

missing_stages() {
	local s out=""
	for s in $STAGES; do
		stage_done "$s" || deferred "$s" || out="$out $s"
	done
	echo "${out# }"
}

# ---- host-packages ----------------------------------------------------------
stage_host_packages() {
	local f=/etc/apt/sources.list.d/rivet-bookworm-backports.sources
	if ! grep -qsr --include='*.list' --include='*.sources' bookworm-backports \
		/etc/apt/sources.list /etc/apt/sources.list.d/; then
		cat >"$f" <<EOF
# Added by rivet's scripts/setup.sh for qemu-system-riscv 10.0.
Types: deb
URIs: $MIRROR
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
	fi
	retry 3 apt-get update -q
	# shellcheck disable=SC2086
	retry 3 apt-get install -y -q --no-install-recommends $HOST_PKGS
	retry 3 apt-get install -y -q --no-install-recommends \
		-t bookworm-backports qemu-system-riscv
	command -v qemu-system-riscv64 >/dev/null || die "qemu-system-riscv64 not installed"
	[ -e /usr/share/qemu/opensbi-riscv64-generic-fw_dynamic.bin ] ||
		die "OpenSBI firmware for QEMU missing (package opensbi)"
}

# ---- trixie-apt: private apt configuration ------------------------------------
APTDIR=$C/apt
TAPT_CONF=$APTDIR/apt.conf
# tapt CMD...: run an apt command with the private trixie configuration.
tapt() {
	APT_CONFIG=$TAPT_CONF "$@"
}
stage_trixie_apt() {
	mkdir -p "$APTDIR"/{state/lists/partial,cache/archives/partial,parts,sources.d,prefs.d}
	: >"$APTDIR/state/status"
	echo "deb [arch=amd64,riscv64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR trixie main" \
		>"$APTDIR/sources.list"
	cat >"$TAPT_CONF" <<EOF
// rivet's private apt configuration for Debian trixie (see scripts/setup.sh).
Dir::Etc::main "/dev/null";
Dir::Etc::parts "$APTDIR/parts";
Dir::Etc::sourcelist "$APTDIR/sources.list";
Dir::Etc::sourceparts "$APTDIR/sources.d";
Dir::Etc::preferences "$APTDIR/preferences";
Dir::Etc::preferencesparts "$APTDIR/prefs.d";
Dir::State "$APTDIR/state";
Dir::State::lists "$APTDIR/state/lists";
Dir::State::status "$APTDIR/state/status";
Dir::Cache "$APTDIR/cache";
Dir::Cache::archives "$APTDIR/cache/archives";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT::Architecture "amd64";
APT::Architectures { "amd64"; "riscv64"; };
Acquire::Languages "none";
Acquire::IndexTargets::deb::DEP-11::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled "false";
Debug::NoLocking "true";
APT::Install-Recommends "false";
APT::Sandbox::User "root";
EOF
	retry 3 tapt apt-get update -q
}

# apt_download DIR PKG...: download PKG... (exact names) into DIR.
apt_download() {
	local d=$1
	shift
	mkdir -p "$d"
	(cd "$d" && retry 3 tapt apt-get download -q "$@")
}

# depends_of PKG: the first package named in PKG's Depends.
depends_of() {
	tapt apt-cache show --no-all-versions "$1" |
		sed -n 's/^Depends: *//p' | head -n1 | sed 's/[ ,(].*//'
}

# ---- trixie-pieces ------------------------------------------------------------
stage_trixie_pieces() {
	local kpkg debs=$C/debs f
	kpkg=$(depends_of linux-image-riscv64:riscv64)
	[ -n "$kpkg" ] || die "cannot resolve linux-image-riscv64's versioned package"
	say "riscv64 kernel package: $kpkg"
	rm -rf "$debs" "$C/kernel" "$C/busybox" "$C/edk2"
	apt_download "$debs" "$kpkg:riscv64" busybox-static:riscv64 qemu-efi-riscv64
	mkdir -p "$C/kernel/root" "$C/busybox/root" "$C/edk2/root"
	dpkg -x "$debs/${kpkg}_"*.deb "$C/kernel/root"
	dpkg -x "$debs"/busybox-static_*.deb "$C/busybox/root"
	dpkg -x "$debs"/qemu-efi-riscv64_*.deb "$C/edk2/root"
	# /boot/vmlinux-* is an uncompressed RISC-V Image (QEMU's -kernel boots it).
	f=$(find "$C/kernel/root/boot" -name 'vmlinu[xz]-*' | head -n1)
	[ -n "$f" ] || die "no kernel image in $kpkg"
	cp "$f" "$C/kernel/Image"
	cp "$(find "$C/kernel/root/boot" -name 'config-*' | head -n1)" "$C/kernel/config"
	basename "$(find "$C/kernel/root/lib/modules" "$C/kernel/root/usr/lib/modules" \
		-mindepth 1 -maxdepth 1 -type d 2>/dev/null | head -n1)" >"$C/kernel/version"
	# The package has no modules.dep (its postinst makes it): run depmod on
	# the unpacked tree (merged /usr: depmod -b wants BASE/lib/modules).
	[ -e "$C/kernel/root/lib" ] || ln -s usr/lib "$C/kernel/root/lib"
	depmod -b "$C/kernel/root" "$(cat "$C/kernel/version")"
	[ -s "$C/kernel/root/lib/modules/$(cat "$C/kernel/version")/modules.dep" ] ||
		die "depmod made no modules.dep"
	cp "$C/busybox/root/bin/busybox" "$C/busybox/busybox" 2>/dev/null ||
		cp "$C/busybox/root/usr/bin/busybox" "$C/busybox/busybox"
	rm -rf "$debs"
}

# ---- chroot -------------------------------------------------------------------
stage_chroot() {
	local root=$C/chroot tmp=$C/chroot.new
	rm -rf "$tmp"
	# A private mount namespace: whatever debootstrap mounts goes with it.
	retry 2 unshare -m -- debootstrap --variant=minbase trixie "$tmp" "$MIRROR" ||
		die "debootstrap of the trixie chroot failed (log: $tmp/debootstrap/debootstrap.log)"
	echo "deb $MIRROR trixie main" >"$tmp/etc/apt/sources.list"
	rm -rf "$root"
	mv "$tmp" "$root"
	RIVET_CHROOT=$root "$REPO/scripts/in-chroot.sh" sh -euc "
		dpkg --add-architecture riscv64
		for i in 1 2 3; do apt-get update -q && break; sleep 5; done
		for i in 1 2 3; do apt-get install -y -q --no-install-recommends $CHROOT_PKGS && break; sleep 5; done
		dpkg -s gcc-riscv64-linux-gnu libfdt-dev:riscv64 libseccomp-dev:riscv64 >/dev/null
		apt-get clean"
}

# ---- chroot-libs ----------------------------------------------------------------
# Libraries added after the chroot was first built (a stage of their own, so
# adding one does not rebuild the chroot): jansson, QMP's JSON (src/qmp/).
CHROOT_LIBS="libjansson-dev:riscv64"
stage_chroot_libs() {
	"$REPO/scripts/in-chroot.sh" sh -euc "
		for i in 1 2 3; do apt-get update -q && break; sleep 5; done
		for i in 1 2 3; do apt-get install -y -q --no-install-recommends $CHROOT_LIBS && break; sleep 5; done
		dpkg -s $CHROOT_LIBS >/dev/null
		apt-get clean"
}

# ---- qmp-clients ----------------------------------------------------------------
# QMP clients that are not rivet's code, for the e2e tests on the emulated
# host: Debian trixie's socat for riscv64 with its own libraries (a wrapper
# runs it through the unpacked dynamic loader; nothing is installed).
stage_qmp_clients() {
	local d=$C/qmpclients tmp=$C/qmpclients.new f
	rm -rf "$tmp"
	mkdir -p "$tmp/debs" "$tmp/all" "$tmp/root/bin" "$tmp/root/lib"
	retry 3 tapt apt-get install -y -q --download-only --no-install-recommends \
		-o APT::Architecture=riscv64 -o Dir::Cache::archives="$tmp/debs" \
		socat:riscv64 >"$tmp/apt.log" ||
		die "cannot download socat for riscv64 (see $tmp/apt.log)"
	for f in "$tmp"/debs/*.deb; do
		dpkg -x "$f" "$tmp/all"
	done
	cp "$tmp/all/usr/bin/socat1" "$tmp/root/bin/socat" 2>/dev/null ||
		cp "$tmp/all/usr/bin/socat" "$tmp/root/bin/socat"
	cp -L "$tmp/all/usr/lib/ld-linux-riscv64-lp64d.so.1" "$tmp/root/lib/"
	cp -a "$tmp"/all/usr/lib/riscv64-linux-gnu/*.so* "$tmp/root/lib/"
	cat >"$tmp/socat" <<'EOF2'
#!/bin/sh
# Debian trixie's socat for riscv64 with its own libraries (unpacked by
# rivet's scripts/setup.sh, stage qmp-clients).
d=$(dirname "$(readlink -f "$0")")/root
exec "$d/lib/ld-linux-riscv64-lp64d.so.1" --library-path "$d/lib" \
	"$d/bin/socat" "$@"
EOF2
	chmod +x "$tmp/socat"
	rm -rf "$tmp/debs" "$tmp/all" "$tmp/apt.log" "$d"
	mv "$tmp" "$d"
}

# ---- qmp-go ---------------------------------------------------------------------
# A QMP client built on an independent QMP library, DigitalOcean's go-qemu as
# Debian packages it (source in /usr/share/gocode): tests/qmp/goclient/
# cross-built by bookworm's Go for riscv64, static (CGO_ENABLED=0), in GOPATH
# mode (Debian's Go libraries have no module proxy behind them; nothing is
# fetched but the two packages).  The e2e cases microvm-qmp-go and
# virt-qmp-go run it in the emulated host (tests/e2e/host/qmp-go.sh).
GOQMP_PKGS="golang-go golang-github-digitalocean-go-qemu-dev"
stage_qmp_go() {
	local d=$C/goqmp tmp=$C/goqmp.new src
	retry 3 apt-get update -q
	# shellcheck disable=SC2086
	retry 3 apt-get install -y -q --no-install-recommends $GOQMP_PKGS
	rm -rf "$tmp"
	src=$tmp/gopath/src/rivet/qmp-go
	mkdir -p "$src"
	cp "$REPO"/tests/qmp/goclient/*.go "$src/"
	(cd "$src" && env GO111MODULE=off GOPATH="$tmp/gopath:/usr/share/gocode" \
		GOCACHE="$tmp/cache" GOENV=off GOFLAGS= GOPROXY=off \
		CGO_ENABLED=0 GOOS=linux GOARCH=riscv64 \
		go build -trimpath -ldflags='-s -w' -o "$tmp/qmp-go" .) >"$tmp/build.log" 2>&1 ||
		die "cannot build the go-qemu QMP client (see $tmp/build.log)"
	# ELF e_machine 243 (EM_RISCV), little-endian.
	[ "$(od -An -tx1 -j18 -N2 "$tmp/qmp-go" | tr -d ' ')" = f300 ] ||
		die "$tmp/qmp-go is not a RISC-V binary"
	rm -rf "$tmp/gopath" "$tmp/cache" "$tmp/build.log" "$d"
	mv "$tmp" "$d"
}

# ---- refvmm ---------------------------------------------------------------------
# The standard Debian trixie riscv64 disk image (GPT, ESP with GRUB, ext4
# root, systemd) that the virt board's UEFI tests boot; mkdebian.sh keeps
# its own cache and stamp, this stage just makes sure it is built.
stage_debian_image() {
	"$REPO/scripts/mkdebian.sh" >"$C/debian-image.log" 2>&1 ||
		die "cannot build the Debian image (see $C/debian-image.log)"
}

stage_refvmm() {
	local d=$C/refvmm arch tmp=$C/refvmm.new
	rm -rf "$tmp"
	mkdir -p "$tmp/debs" "$tmp/root"
	# The closure of qemu-system-riscv for riscv64 as if installed on an empty
	# system (no Recommends); the host's and the chroot's state do not matter.
	retry 3 tapt apt-get install -y -q --download-only --no-install-recommends \
		-o APT::Architecture=riscv64 -o Dir::Cache::archives="$tmp/debs" \
		qemu-system-riscv:riscv64 >"$tmp/apt.log" ||
		die "cannot download the reference VMM (see $tmp/apt.log)"
	for arch in "$tmp"/debs/*.deb; do
		dpkg -x "$arch" "$tmp/root"
	done
	cat >"$tmp/qemu-system-riscv64" <<'EOF'
#!/bin/sh
# Debian trixie's qemu-system-riscv64 for riscv64 with its own libraries
# (unpacked by rivet's scripts/setup.sh; needs no installation).
d=$(cd "$(dirname "$0")" && pwd)/root
QEMU_MODULE_DIR=$d/usr/lib/riscv64-linux-gnu/qemu
export QEMU_MODULE_DIR
exec "$d/usr/lib/ld-linux-riscv64-lp64d.so.1" \
	--library-path "$d/usr/lib/riscv64-linux-gnu" \
	"$d/usr/bin/qemu-system-riscv64" -L "$d/usr/share/qemu" "$@"
EOF
	chmod +x "$tmp/qemu-system-riscv64"
	[ -x "$tmp/root/usr/bin/qemu-system-riscv64" ] || die "reference VMM binary missing"
	[ -e "$tmp/root/usr/lib/ld-linux-riscv64-lp64d.so.1" ] || die "riscv64 dynamic loader missing"
	rm -rf "$tmp/debs" "$d"
	mv "$tmp" "$d"
}

write_paths() {
	local kver=""
	[ -r "$C/kernel/version" ] && kver=$(cat "$C/kernel/version")
	local moddir=$C/kernel/root/lib/modules/$kver
	[ -d "$moddir" ] || moddir=$C/kernel/root/usr/lib/modules/$kver
	cat >"$C/paths.sh.new" <<EOF
# Written by rivet's scripts/setup.sh: where the cached pieces are.
RIVET_CACHE=$C
RIVET_KVER=$kver
RIVET_KERNEL=$C/kernel/Image
RIVET_KCONFIG=$C/kernel/config
RIVET_MODDIR=$moddir
RIVET_BUSYBOX=$C/busybox/busybox
RIVET_EDK2_CODE=$C/edk2/root/usr/share/qemu-efi-riscv64/RISCV_VIRT_CODE.fd
RIVET_EDK2_VARS=$C/edk2/root/usr/share/qemu-efi-riscv64/RISCV_VIRT_VARS.fd
RIVET_CHROOT=$C/chroot
RIVET_REFVMM=$C/refvmm
RIVET_QMPCLIENTS=$C/qmpclients
RIVET_GOQMP=$C/goqmp/qmp-go
RIVET_QEMU=/usr/bin/qemu-system-riscv64
RIVET_OPENSBI=/usr/share/qemu/opensbi-riscv64-generic-fw_dynamic.bin
EOF
	mv "$C/paths.sh.new" "$C/paths.sh"
}

if [ "${1:-}" = --check ]; then
	m=$(missing_stages)
	if [ -n "$m" ] || [ ! -r "$C/paths.sh" ]; then
		echo "rivet: setup incomplete (missing: ${m:-paths.sh}); run 'make setup'" >&2
		exit 1
	fi
	exit 0
fi
if [ "${1:-}" = --redo ]; then
	[ -n "${2:-}" ] || die "usage: $0 --redo STAGE"
	rm -f "$STAMPS/$2"
elif [ $# -gt 0 ]; then
	die "usage: $0 [--check | --redo STAGE]"
fi

[ "$(id -u)" -eq 0 ] || die "setup must run as root (it installs packages and builds a chroot)"
mkdir -p "$STAMPS"
export DEBIAN_FRONTEND=noninteractive

total0=$(date +%s.%N)
for s in $STAGES; do
	if stage_done "$s"; then
		printf 'rivet: setup: %-14s cached\n' "$s"
		continue
	fi
	if deferred "$s"; then
		printf 'rivet: setup: %-14s deferred (the e2e run builds it in the background)\n' "$s"
		continue
	fi
	[ ! -e "$STAMPS/$s" ] || printf 'rivet: setup: %-14s stale (scripts/setup.sh changed)\n' "$s"
	printf 'rivet: setup: %-14s running...\n' "$s"
	t0=$(date +%s.%N)
	"stage_${s//-/_}"
	t1=$(date +%s.%N)
	stage_key "$s" >"$STAMPS/$s"
	printf 'rivet: setup: %-14s done in %s s\n' "$s" "$(awk "BEGIN{printf \"%.1f\", $t1 - $t0}")"
done
write_paths
printf 'rivet: setup complete in %s s (paths: %s)\n' \
	"$(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $total0}")" "$C/paths.sh"
