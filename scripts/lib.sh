# shellcheck shell=sh
# Shared helpers for rivet's shell scripts.  Source it; it defines functions
# and RIVET_CACHE only, and runs nothing.

: "${RIVET_CACHE:=/var/cache/rivet}"

die() {
	echo "rivet: $*" >&2
	exit 1
}

say() {
	echo "rivet: $*" >&2
}

# retry N CMD...: run CMD up to N times, 5 s apart (for network operations).
retry() {
	_n=$1
	shift
	_i=1
	while :; do
		if "$@"; then
			return 0
		fi
		if [ "$_i" -ge "$_n" ]; then
			say "failed after $_n tries: $*"
			return 1
		fi
		say "retrying ($_i/$_n failed): $*"
		_i=$((_i + 1))
		sleep 5
	done
}

# load_paths: source $RIVET_CACHE/paths.sh or explain how to create it.
load_paths() {
	[ -r "$RIVET_CACHE/paths.sh" ] ||
		die "$RIVET_CACHE/paths.sh missing; run 'make setup'"
	# shellcheck source=/dev/null
	. "$RIVET_CACHE/paths.sh"
}

# kmod_closure MODULE...: print the module files (relative to the modules
# directory, as modules.dep names them) needed to load MODULE..., each once,
# dependencies first.  Built-in modules (modules.builtin) print nothing.
# Needs RIVET_MODDIR (the lib/modules/<version> directory).
kmod_closure() {
	awk -v want="$*" '
	function base(p,  b) { b = p; sub(/.*\//, "", b); sub(/\.ko(\.xz|\.zst|\.gz)?$/, "", b); gsub(/-/, "_", b); return b }
	function visit(m,  i, n, d) {
		if (m in done) return
		done[m] = 1
		if (!(m in path)) {
			if (!(m in builtin)) { print "rivet: kernel module not found: " m > "/dev/stderr"; bad = 1 }
			return
		}
		n = split(deps[m], d, " ")
		for (i = 1; i <= n; i++) visit(base(d[i]))
		print path[m]
	}
	FILENAME ~ /modules\.builtin$/ { builtin[base($1)] = 1; next }
	{
		f = $1; sub(/:$/, "", f)
		m = base(f); path[m] = f
		$1 = ""; deps[m] = $0
	}
	END {
		n = split(want, w, " ")
		for (i = 1; i <= n; i++) { x = w[i]; gsub(/-/, "_", x); visit(x) }
		exit bad
	}' "$RIVET_MODDIR/modules.builtin" "$RIVET_MODDIR/modules.dep"
}

# kmod_install DESTDIR MODULE...: copy MODULE... and their dependencies,
# decompressed, into DESTDIR/lib/modules/ and write the load order (file
# names, one per line) to DESTDIR/lib/modules/load-order.
kmod_install() {
	_dest=$1/lib/modules
	shift
	mkdir -p "$_dest"
	_list=$(kmod_closure "$@") || return 1
	: >"$_dest/load-order"
	for _m in $_list; do
		_b=$(basename "$_m")
		case $_b in
		*.ko.xz) _b=${_b%.xz}; xz -dc "$RIVET_MODDIR/$_m" >"$_dest/$_b" ;;
		*.ko.zst) _b=${_b%.zst}; zstd -qdc "$RIVET_MODDIR/$_m" >"$_dest/$_b" ;;
		*.ko.gz) _b=${_b%.gz}; gzip -dc "$RIVET_MODDIR/$_m" >"$_dest/$_b" ;;
		*) cp "$RIVET_MODDIR/$_m" "$_dest/$_b" ;;
		esac
		echo "$_b" >>"$_dest/load-order"
	done
}

# newest_mtime FILE...: print the newest modification time (epoch seconds).
newest_mtime() {
	_t=0
	for _f in "$@"; do
		[ -e "$_f" ] || continue
		_x=$(stat -c %Y "$_f")
		[ "$_x" -gt "$_t" ] && _t=$_x
	done
	echo "$_t"
}
