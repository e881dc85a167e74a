#!/bin/bash
# Run a command inside rivet's trixie build chroot (made by scripts/setup.sh).
#
#   scripts/in-chroot.sh CMD [ARG]...
#
# The repository is visible inside at the same absolute path as outside, and
# the command starts in the current directory when that lies inside the
# repository (else at the repository's top).  /proc, /sys and /dev are
# mounted in a private mount namespace (unshare -m), so nothing stays mounted
# once the command ends.  Exits with the command's status.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
RIVET_CACHE=${RIVET_CACHE:-/var/cache/rivet}
ROOT=${RIVET_CHROOT:-$RIVET_CACHE/chroot}

if [ $# -eq 0 ] || [ "$1" = --help ] || [ "$1" = -h ]; then
	sed -n '2,10s/^# \{0,1\}//p' "$0"
	[ $# -eq 0 ] && exit 2 || exit 0
fi
[ -x "$ROOT/bin/sh" ] || {
	echo "rivet: no build chroot at $ROOT; run 'make setup'" >&2
	exit 1
}
[ "$(id -u)" -eq 0 ] || {
	echo "rivet: in-chroot.sh needs root (chroot, mounts)" >&2
	exit 1
}

cwd=$(pwd -P)
case $cwd/ in
"$REPO"/*) ;;
*) cwd=$REPO ;;
esac

# shellcheck disable=SC2016
exec unshare -m --propagation private -- /bin/bash -euc '
	root=$1 repo=$2 cwd=$3
	shift 3
	mount -t proc proc "$root/proc"
	mount -t sysfs sysfs "$root/sys"
	mount --rbind /dev "$root/dev"
	if [ -f /etc/resolv.conf ]; then
		touch "$root/etc/resolv.conf"
		mount --bind /etc/resolv.conf "$root/etc/resolv.conf"
	fi
	mkdir -p "$root$repo"
	mount --bind "$repo" "$root$repo"
	export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	export LC_ALL=C.UTF-8
	exec chroot "$root" /bin/sh -c "cd \"\$0\" && exec \"\$@\"" "$cwd" "$@"
' in-chroot "$ROOT" "$REPO" "$cwd" "$@"
