#!/bin/bash
# Check the virt board's ACPI tables with iasl and against golden copies.
#
#   tests/acpi/check.sh            check; TAP in build/results/acpi.tap
#   tests/acpi/check.sh --update   regenerate tests/acpi/golden/ (review the
#                                  printed disassembly diffs, then commit)
#
# The tables: golden/board/ holds what `rivet acpi-dump` writes for the
# virt board (its default configuration, 2 harts; through the dump mode of
# tests/unit/test_acpi_dump.c), golden/aml/SSDT.dat a table that uses every
# AML builder call (tests/unit/test_acpi_tables.c).  For each table:
#   1. iasl -d (trixie's 20250404, in the build chroot) must disassemble it
#      without an error or warning;
#   2. iasl must compile that disassembly back without an error or warning
#      (not RHCT: iasl 20250404 cannot compile any RHCT, not even its own
#      template);
#   3. it must equal its golden copy byte for byte; if not, the diff -u of
#      the two disassemblies is printed.
# iasl cannot read a lone RSDP, so the RSDP is rendered as iasl data-table
# source and compiled; the result must equal our bytes (layout, checksums).
set -u

cd "$(dirname "$0")/../.." || exit 2
REPO=$(pwd)
GOLDEN=tests/acpi/golden
OUT=build/acpi
TAP=build/results/acpi.tap
BIN=build/x86_64/tests/test_acpi_tables
update=false
case ${1:-} in
--update) update=true ;;
"") ;;
*) sed -n '2,8s/^# \{0,1\}//p' "$0"; exit 2 ;;
esac

mkdir -p build/results
tap_lines=()
failed=0
tap() { tap_lines+=("$1"); }

finish() {
	{
		echo "1..${#tap_lines[@]}"
		local i=1
		for l in "${tap_lines[@]}"; do
			echo "${l/ - / $i - }"
			i=$((i + 1))
		done
	} >"$TAP"
	echo "acpi: $((${#tap_lines[@]} - failed)) passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}

iasl() { "$REPO/scripts/in-chroot.sh" iasl "$@"; }

# Lines of iasl output (or a .dsl) that mean trouble.  The disassembler
# reports problems as Error/Warning lines or "****" comments.
BAD='(^|[^a-z])(error|warning)([^a-z]|$)|\*\*\*\*|incorrect|invalid|unknown'

# The RSDP as iasl data-table source (the layout of `iasl -T RSDP`).
render_rsdp() {
	local -a b
	read -r -a b <<<"$(od -An -v -tx1 "$1" | tr '\n' ' ')"
	[ "${#b[@]}" -eq 36 ] || { echo "RSDP: ${#b[@]} bytes, not 36"; return 1; }
	hex() { local s=""; for ((i = $2; i >= $1; i--)); do s+=${b[i]}; done; echo "${s^^}"; }
	str() { local s=""; for ((i = $1; i <= $2; i++)); do s+=$(printf '%b' "\\x${b[i]}"); done; echo "$s"; }
	cat <<EOF
[0008]                          Signature : "$(str 0 7)"
[0001]                           Checksum : $(hex 8 8)
[0006]                             Oem ID : "$(str 9 14)"
[0001]                           Revision : $(hex 15 15)
[0004]                       RSDT Address : $(hex 16 19)
[0004]                             Length : $(hex 20 23)
[0008]                       XSDT Address : $(hex 24 31)
[0001]                  Extended Checksum : $(hex 32 32)
[0003]                           Reserved : $(hex 33 35)
EOF
}

# disasm FILE.dat -> FILE.dsl; prints problems, returns non-zero on any.
disasm() {
	local dat=$1 base=${1%.dat} log
	rm -f "$base.dsl" "$base.log"
	if [ "$(basename "$dat")" = RSDP.dat ]; then
		render_rsdp "$dat" >"$base.dsl" || return 1
		return 0
	fi
	log=$(cd "$(dirname "$dat")" && iasl -d "$(basename "$dat")" 2>&1)
	echo "$log" >"$base.log"
	if [ ! -s "$base.dsl" ]; then
		echo "$log" | tail -5
		return 1
	fi
	# The .dsl names the input file; keep it stable for diffs.
	if grep -Eiq "$BAD" "$base.log" "$base.dsl"; then
		grep -Eih "$BAD" "$base.log" "$base.dsl" | head -10
		return 1
	fi
}

# recompile FILE.dsl: iasl must take its own disassembly back.
recompile() {
	local dsl=$1 name log
	name=$(basename "${dsl%.dsl}")
	[ "$name" = RHCT ] && return 0
	rm -f "${dsl%.dsl}.aml"
	log=$(cd "$(dirname "$dsl")" && iasl "$name.dsl" 2>&1)
	if ! echo "$log" | grep -q 'Compilation successful\. 0 Errors, 0 Warnings'; then
		echo "$log" | grep -Ei 'error|warning|compilation' | head -10
		return 1
	fi
	if [ "$name" = RSDP ] && ! cmp -s "${dsl%.dsl}.aml" "${dsl%.dsl}.dat"; then
		echo "iasl compiles the rendered RSDP differently:"
		cmp -l "${dsl%.dsl}.aml" "${dsl%.dsl}.dat" 2>&1 | head -5
		return 1
	fi
}

# Strip the lines of a disassembly that name the file or the tool.
normalize() { grep -v -e 'Disassembly of' -e 'Disassembler version' "$1"; }

# ---- dump the tables ----------------------------------------------------------
rm -rf "$OUT"
mkdir -p "$OUT/aml" "$OUT/board" "$OUT/board-split" "$OUT/board-plic" \
	"$OUT/golden"
# board/: what `rivet acpi-dump --board virt` writes for the real board
# (its devices' own DSDT parts: UART, fw_cfg, PCIe host with _PRT/_OSC)
# with KVM's AIA; board-split/ with rivet's APLIC (the same tables: the
# guest cannot tell), board-plic/ with rivet's PLIC.
BOARD_BIN=build/x86_64/tests/test_acpi_dump
if ! make --no-print-directory -s "$BIN" "$BOARD_BIN" >"$OUT/make.log" 2>&1 ||
   ! RIVET_AML_DUMP="$OUT/aml" "$BIN" ||
   ! RIVET_ACPI_BOARD_DUMP="$OUT/board" "$BOARD_BIN" ||
   ! RIVET_ACPI_BOARD_IRQCHIP=split RIVET_ACPI_BOARD_DUMP="$OUT/board-split" \
	"$BOARD_BIN" ||
   ! RIVET_ACPI_BOARD_IRQCHIP=plic RIVET_ACPI_BOARD_DUMP="$OUT/board-plic" \
	"$BOARD_BIN"; then
	cat "$OUT/make.log"
	tap "not ok - acpi: build and dump the tables"
	failed=$((failed + 1))
	finish
fi

for dat in "$OUT"/aml/*.dat "$OUT"/board/*.dat "$OUT"/board-split/*.dat \
	"$OUT"/board-plic/*.dat; do
	rel=${dat#"$OUT"/}
	name=${rel%.dat}
	problems=""
	if ! msg=$(disasm "$dat"); then
		problems+="iasl -d: $msg"$'\n'
	elif ! msg=$(recompile "${dat%.dat}.dsl"); then
		problems+="iasl recompile: $msg"$'\n'
	fi
	gold="$GOLDEN/$rel"
	if $update; then
		if [ -f "$gold" ] && ! cmp -s "$dat" "$gold"; then
			mkdir -p "$OUT/golden/$(dirname "$rel")"
			cp "$gold" "$OUT/golden/$rel"
			disasm "$OUT/golden/$rel" >/dev/null
			echo "--- $rel changed:"
			diff -u <(normalize "$OUT/golden/$name.dsl") \
				<(normalize "$OUT/$name.dsl")
		fi
		mkdir -p "$(dirname "$gold")"
		cp "$dat" "$gold"
	elif [ ! -f "$gold" ]; then
		problems+="no golden copy $gold (run tests/acpi/check.sh --update)"$'\n'
	elif ! cmp -s "$dat" "$gold"; then
		mkdir -p "$OUT/golden/$(dirname "$rel")"
		cp "$gold" "$OUT/golden/$rel"
		disasm "$OUT/golden/$rel" >/dev/null
		problems+="differs from $gold:"$'\n'
		problems+=$(diff -u --label "golden/$rel" --label "new/$rel" \
			<(normalize "$OUT/golden/$name.dsl") \
			<(normalize "$OUT/$name.dsl"))$'\n'
	fi
	if [ -z "$problems" ]; then
		echo "  PASS  acpi/$name"
		tap "ok - acpi $name"
	else
		echo "  FAIL  acpi/$name"
		echo "$problems" | sed 's/^/        /'
		tap "not ok - acpi $name"
		failed=$((failed + 1))
	fi
done

# A golden table the build no longer produces is a failure too (--update
# removes it).
if $update; then
	for gold in "$GOLDEN"/aml/*.dat "$GOLDEN"/board*/*.dat; do
		[ -f "$gold" ] && [ ! -f "$OUT/${gold#"$GOLDEN"/}" ] &&
			echo "--- ${gold#"$GOLDEN"/} removed" && rm -f "$gold"
	done
else
	for gold in "$GOLDEN"/aml/*.dat "$GOLDEN"/board*/*.dat; do
		[ -f "$gold" ] || continue
		rel=${gold#"$GOLDEN"/}
		if [ ! -f "$OUT/$rel" ]; then
			echo "  FAIL  acpi/${rel%.dat}: golden table no longer built"
			tap "not ok - acpi ${rel%.dat} (no longer built)"
			failed=$((failed + 1))
		fi
	done
fi
finish
