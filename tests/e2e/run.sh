#!/bin/bash
# rivet's end-to-end tests on the emulated RISC-V host (tools/rvhost).
#
#   tests/e2e/run.sh [-l] [PATTERN]...
#
# Runs the cases (all, or those whose name matches a shell PATTERN), writes
# TAP to build/results/e2e.tap and one console log per case to
# build/results/e2e-logs/NAME.log (each host boot's whole console goes to
# build/results/e2e-logs/boot-GROUP.log).  -l lists the cases.  Exit status 0
# when every case passed.
#
# Cases are grouped by host boot: every case of a group runs, one after the
# other, in the same boot of the emulated host (a boot costs ~5 s, a nested
# guest boot ~15 s), each under its own time limit.
#
# Adding a case: see "The cases" below.
#   group NAME [RVHOST-OPTION]...    the following cases share one host boot
#                                    with these tools/rvhost options
#   testcase NAME SECS 'COMMAND' [CHECK]...
#       COMMAND runs in the emulated host (sh -c, stdin /dev/null, cwd
#       /root) with a limit of SECS seconds.  CHECKs, all must hold:
#         rc=N          COMMAND's exit status is N (default check: rc=0)
#         grep=REGEX    the case's console output matches REGEX (grep -E)
#         nogrep=REGEX  ... does not match REGEX
#         fn=FUNCTION   FUNCTION LOG (in this script, run on x86_64) exits 0;
#                       it may print the reason when it fails
#         last=TEXT     COMMAND ends the host boot (so it must be its group's
#                       last case; it runs as tools/rvhost's COMMAND would,
#                       under the boot's time limit): its exit status is
#                       rvhost's, its output is what rvhost printed (stdout
#                       and stderr), whose line before rvhost's last,
#                       "rvhost: exit status N", must be TEXT: COMMAND's
#                       last line, with or without a newline, must not be
#                       lost (see last_line_test)
#   disk NAME SIZE_MB [FILL]         make build/results/e2e-disks/NAME.img
#                                    (FILL: text written at offset 0); pass
#                                    it to the next group with
#                                    --drive "$(disk_path NAME)": the first
#                                    drive is /dev/vda in the host.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO"
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
load_paths	# RIVET_EDK2_CODE and the other cached pieces
RESULTS=build/results
LOGS=$RESULTS/e2e-logs
TAP=$RESULTS/e2e.tap
TIMES=$RESULTS/e2e-times.txt
DISKS=$RESULTS/e2e-disks
RVHOST=tools/rvhost

g_names=() g_opts=()             # groups: name, rvhost options (\x1f-separated)
c_names=() c_groups=() c_secs=() c_cmds=() c_checks=() c_ends=()
current_group="" group_ended=""
US=$'\x1f'

group() {
	current_group=$1 group_ended=""
	shift
	g_names+=("$current_group")
	local IFS=$US
	g_opts+=("$*")
}

testcase() {
	[ -n "$current_group" ] || { echo "e2e: testcase $1 before any group" >&2; exit 2; }
	local name=$1 secs=$2 cmd=$3 c ends=0
	shift 3
	[ -z "$group_ended" ] ||
		{ echo "e2e: testcase $name after $group_ended, which ends its host boot" >&2; exit 2; }
	for c in "$@"; do
		case $c in last=*) ends=1 group_ended=$name ;; esac
	done
	c_names+=("$name") c_groups+=("$current_group") c_secs+=("$secs") c_cmds+=("$cmd") c_ends+=("$ends")
	local IFS=$US
	c_checks+=("$*")
}

disk_path() {
	echo "$DISKS/$1.img"
}

disk() {
	local f
	[ "$list" -eq 0 ] || return 0	# -l must not touch disks in use
	f=$(disk_path "$1")
	mkdir -p "$DISKS"
	rm -f "$f"
	truncate -s "${2}M" "$f"
	if [ -n "${3:-}" ]; then
		printf '%s' "$3" | dd of="$f" conv=notrunc status=none
	fi
}

# The guest test command line: rivet run on the microvm board with the
# guest initramfs, a guest test (tests/guest/tests/NAME) and rivet options.
# guest_test TEST "EXTRA CMDLINE" [RIVET-OPTION]...
guest_test() {
	local t=$1 extra=$2
	shift 2
	echo "rivet run --board microvm --kernel /guest/Image" \
		"--initrd /guest/initramfs.cpio.gz" \
		"--cmdline 'console=ttyS0 quiet rivet.test=$t${extra:+ $extra}'" "$*"
}

# virt_test TEST "EXTRA CMDLINE" [RIVET-OPTION]...: the guest test on the
# virt board (kernel and initrd given directly, or through the firmware).
virt_test() {
	local t=$1 extra=$2
	shift 2
	echo "rivet run --board virt --memory 1G --kernel /guest/Image" \
		"--initrd /guest/initramfs.cpio.gz" \
		"--cmdline 'console=ttyS0 quiet rivet.test=$t${extra:+ $extra}'" "$*"
}

# board_test BOARD TEST "EXTRA CMDLINE" [RIVET-OPTION]...: guest_test or
# virt_test.
board_test() {
	local b=$1
	shift
	case $b in
	microvm) guest_test "$@" ;;
	virt) virt_test "$@" ;;
	esac
}

# The cases every interrupt controller mode gets, on both boards; the
# group's host must offer MODE.  Options: --irqchip MODE, and more.
# irqs_cases MODE DEV [RIVET-OPTION]...: 1, 2 and 4 vCPUs online, each
#   device's interrupts steered over the harts and counted there (reads of
#   disk DEV, virtio-rng, console output), and --stats naming the mode.
irqs_cases() {
	local mode=$1 dev=$2 b n chip='APLIC-MSI-'
	shift 2
	[ "$mode" != plic ] || chip='SiFive PLIC'
	for b in microvm virt; do
		for n in 1 2 4; do
			testcase "$b-$mode-irqs$n" 240 \
				"$(board_test $b irqs "rivet.expect_cpus=$n rivet.disk=/dev/vda" --cpus $n --disk "$dev,readonly" --stats "$@")" \
				rc=0 grep='^RIVET-TEST irqs PASS' grep="$chip" \
				grep="^rivet: stats: interrupt controller: $mode"
		done
	done
}
# io_cases MODE DEV_MICROVM DEV_VIRT [RIVET-OPTION]...: on both boards a
#   disk write that must land in the x86_64 image (e2e disk MODE-BOARD,
#   the host's DEV_BOARD), console input, a network ping.
io_cases() {
	local mode=$1 devm=$2 devv=$3 b dev
	shift 3
	for b in microvm virt; do
		dev=$devm
		[ "$b" = microvm ] || dev=$devv
		eval "check_${mode}_$b() { check_pattern $mode-$b; }"
		testcase "$b-$mode-diskwrite" 240 \
			"$(board_test $b diskwrite rivet.disk=/dev/vda --disk "$dev" --cpus 2 "$@")" \
			rc=0 grep='^RIVET-TEST diskwrite PASS' fn="check_${mode}_$b"
		testcase "$b-$mode-console-input" 180 \
			"sh /root/e2e-host/console-input.sh --board $b --memory 1G $*" \
			rc=0 grep='^RIVET-INPUT-42'
		testcase "$b-$mode-net-ping" 240 "sh /root/e2e-host/net.sh $b --cpus 2 $*" \
			rc=0 grep='^RIVET-TEST net PASS' grep='3 packets transmitted, 3 packets received'
	done
}

# probe_disks: two copies of the boot-order disk in the host, /tmp/a.img and
# /tmp/b.img.
probe_disks() {
	echo "cp /root/probe.img /tmp/a.img && cp /root/probe.img /tmp/b.img"
}

# ---- checks run on x86_64 after the boot ----------------------------------------
# check_diskwrite LOG: the guest's pattern reached the disk image's file.
check_diskwrite() {
	local f
	f=$(disk_path rw)
	for i in $(seq 0 63); do printf 'RIVET-DISK-PATTERN-%05d\n' "$i"; done >"$RESULTS/e2e-diskwrite.want"
	if ! head -c 1600 "$f" | cmp -s - "$RESULTS/e2e-diskwrite.want"; then
		echo "the pattern is not in $f (starts: $(head -c 40 "$f" | tr -c '[:print:]' .))"
		return 1
	fi
}

# check_pattern NAME: the guest's diskwrite pattern is in disk NAME's file.
check_pattern() {
	local f
	f=$(disk_path "$1")
	[ "$(head -c 24 "$f")" = RIVET-DISK-PATTERN-00000 ] ||
		{ echo "the pattern is not in $f"; return 1; }
}
check_virt_direct() { check_pattern virt-direct; }
check_virt_uefi() { check_pattern virt-uefi; }

# check_diskro LOG: the read-only disk's file is unchanged.
check_diskro() {
	local f
	f=$(disk_path ro)
	if [ "$(head -c 32 "$f")" != "RIVET-READ-ONLY-DISK-0123456789." ]; then
		echo "$f changed: $(head -c 40 "$f" | tr -c '[:print:]' .)"
		return 1
	fi
	if [ "$(tail -c +33 "$f" | tr -d '\0' | wc -c)" -ne 0 ]; then
		echo "$f changed after its first 32 bytes"
		return 1
	fi
}

# check_dtb LOG: the device tree rivet dumped to the "dtb" disk is one dtc
# reads without a single warning, with the AIA nodes in it.
check_dtb() {
	local f size out
	f=$(disk_path dtb)
	size=$(od -An -tu1 -j4 -N4 "$f" | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')
	[ "$size" -gt 64 ] && [ "$size" -le 65536 ] || { echo "no FDT header in $f"; return 1; }
	head -c "$size" "$f" >"$RESULTS/e2e-guest.dtb"
	out=$(dtc -I dtb -O dts -o "$RESULTS/e2e-guest.dts" "$RESULTS/e2e-guest.dtb" 2>&1) ||
		{ echo "dtc failed: $out"; return 1; }
	[ -z "$out" ] || { echo "dtc warned: $out"; return 1; }
	grep -q 'riscv,imsics' "$RESULTS/e2e-guest.dts" || { echo "no IMSIC node"; return 1; }
	grep -q 'riscv,aplic' "$RESULTS/e2e-guest.dts" || { echo "no APLIC node"; return 1; }
	grep -q 'riscv,isa-extensions' "$RESULTS/e2e-guest.dts" || { echo "no riscv,isa-extensions"; return 1; }
}

# check_qmp_shapes LOG: rivet's QMP replies (QMP-SHAPE lines of
# tests/e2e/host/qmp.sh) have the keys and JSON types of Debian's QEMU's
# own replies to the same requests, recorded here and now.
check_qmp_shapes() {
	local q="$RESULTS/e2e-qmp-qemu-replies.txt" r
	r="$RESULTS/e2e-qmp-rivet-replies.$$.txt"
	sed -n 's/^QMP-SHAPE //p' "$1" | tr -d '\r' >"$r"
	tests/qmp/qemu-replies.sh "$q" 2>&1 || { echo "cannot record QEMU's replies"; return 1; }
	build/x86_64/qmp-shape "$q" "$r"
}

# check_reboots LOG: the guest came up exactly twice (reboot, then pass).
check_reboots() {
	local n
	n=$(grep -c '^RIVET-GUEST-UP' "$1")
	[ "$n" -eq 2 ] || { echo "guest came up $n times, expected 2"; return 1; }
}

# check_durability LOG: microvm-dur-kill ended with a power cut of the host
# (tests/e2e/host/durability.sh); every record the console showed as
# acknowledged ("RIVET-ACK RUN N") must be in the x86_64 drive files -- raw
# rounds at byte N*4096 of dur-raw.img, ext4 rounds as a 4 KiB block of
# dur-ext4.img (the image file lives in that filesystem) -- and the canary
# written without a flush just before the cut must be in neither.  The
# record format is tests/guest/tests/records'.
check_durability() {
	grep -q '^DUR-POWER-CUT' "$1" || { echo "the log shows no power cut"; return 1; }
	perl -e '
	use strict; use warnings;
	my ($log, $raw, $ext4) = @ARGV;
	sub rec {
		my ($r, $n) = @_;
		return join "", map { sprintf "RIVET-REC %04d %08d %02d %08x %s\n", $r, $n, $_,
			($r * 2654435761 + $n * 40503 + $_ * 977 + 12345) & 0xffffffff, "-" x 27 } 0 .. 63;
	}
	my (%store, @acks, @canary);
	open(my $lf, "<", $log) or die "$log: $!\n";
	while (<$lf>) {
		s/\r//g;
		$store{$1} = $2 if /^DUR-ROUND run=(\d+) store=(\w+)/;
		push @acks, [$1, $2] if /^RIVET-ACK (\d+) (\d+)$/;
		@canary = ($1, $2) if /^DUR-CANARY run=(\d+) slot=(\d+)/;
	}
	@acks or die "no acknowledged records in the log\n";
	@canary or die "no canary in the log\n";
	my %blocks;	# the ext4 image, 4 KiB blocks holding records
	open(my $ef, "<:raw", $ext4) or die "$ext4: $!\n";
	while (read($ef, my $b, 4096) == 4096) {
		$blocks{$b} = 1 if substr($b, 0, 10) eq "RIVET-REC ";
	}
	open(my $rf, "<:raw", $raw) or die "$raw: $!\n";
	sub raw_at { my $got = ""; seek($rf, $_[0] * 4096, 0); read($rf, $got, 4096); return $got; }
	my (@bad, %runs);
	for (@acks) {
		my ($r, $n) = @$_;
		my $kind = $store{$r} // die "run $r: no DUR-ROUND line\n";
		my $want = rec($r, $n);
		my $ok = $kind eq "raw" ? raw_at($n) eq $want : exists $blocks{$want};
		$ok ? $runs{"$r ($kind)"}++ : push @bad, "$r/$n ($kind)";
	}
	my $c = rec(@canary);
	my @leak = ((raw_at($canary[1]) eq $c ? ("dur-raw.img") : ()), (exists $blocks{$c} ? ("dur-ext4.img") : ()));
	print scalar(@acks) - scalar(@bad), " of ", scalar(@acks), " acknowledged records present after the power cut (run: count): ",
		join(", ", map { "$_: $runs{$_}" } sort keys %runs), "\n";
	die "missing or damaged (run/record): @bad[0 .. ($#bad < 19 ? $#bad : 19)]\n" if @bad;
	die "the unflushed canary survived the power cut in @leak: the cut lost nothing, so it proves nothing\n" if @leak;
	' "$1" "$(disk_path dur-raw)" "$(disk_path dur-ext4)"
}

# check_adversary LOG: the marker the adversary wrote through its own
# virtqueue, and the line the guest's driver wrote after the attack, are in
# the disk image (rivet's warnings are checked in the host:
# tests/e2e/host/adversary.sh).
check_adversary() {
	local f
	f=$(disk_path adversary)
	[ "$(head -c 20 "$f")" = RIVET-ADVERSARY-MARK ] || { echo "no adversary marker in $f"; return 1; }
	[ "$(tail -c +513 "$f" | head -c 24)" = RIVET-ADVERSARY-SURVIVED ] ||
		{ echo "the guest's post-attack write is not in $f"; return 1; }
}
# last_line_test LINES TEXT [NL]: a command whose last action prints LINES
# lines of 256 bytes and TEXT (with a newline if NL is given) in one write
# (cat; 15 lines and TEXT fit the serial driver's 4 KiB transmit buffer),
# while the console's output is held: it prints @@E2E-XOFF and reads a line
# from its tty, the runner answers with XOFF and a newline (so the tty has
# stopped sending when the read returns), and with XON 2 s later.  All of
# the output is still queued when the command ends: what the host does
# then decides whether it reaches rvhost's stdout.
last_line_test() {
	# shellcheck disable=SC2028 # the \n are for the host's printf
	echo "i=0; while [ \$i -lt $1 ]; do printf 'RVHOST-BURST %0242d\n' \$i; i=\$((i + 1)); done >/tmp/last-line;" \
		"printf '%s${3:+\\n}' '$2' >>/tmp/last-line;" \
		"echo @@E2E-XOFF; read -r -t 60 x </dev/tty || { echo 'e2e: no answer to @@E2E-XOFF'; exit 1; };" \
		"exec cat /tmp/last-line"
}

# console_input OUT: rvhost's console input for a host boot whose output
# goes to OUT: XOFF and a newline for each "@@E2E-XOFF" line in OUT, XON
# 2 s later (see last_line_test).  Runs until killed.
console_input() {
	local seen=0 n
	while :; do
		n=$(grep -c '^@@E2E-XOFF' "$1" 2>/dev/null) || n=0
		if [ "$n" -gt "$seen" ]; then
			seen=$n
			printf '\023\n'
			sleep 2
			printf '\021'
		fi
		sleep 0.2
	done
}

# A command that starts rivet in the background with a hanging guest, waits
# for the guest's marker, sends SIGNAL to rivet and exits with rivet's status.
signal_test() {
	local sig=$1
	cat <<EOT
$(guest_test hang '') >/tmp/hang.out 2>&1 &
p=\$!
i=0
while ! grep -q RIVET-HANGING /tmp/hang.out && [ \$i -lt 120 ]; do sleep 1; i=\$((i + 1)); done
kill -$sig \$p
wait \$p
rc=\$?
cat /tmp/hang.out
exit \$rc
EOT
}

# ---- the cases ------------------------------------------------------------------
define_cases() {
	disk rw 16
	disk ro 16 "RIVET-READ-ONLY-DISK-0123456789."
	disk reboot 1
	disk noreboot 1
	disk dtb 1
	disk adversary 16
	disk split-microvm 16
	disk split-virt 16
	disk mq 32

	# Host boot with hardware-accelerated AIA (5 guest interrupt files).
	group aia5 --aia-guests 5 --drive "$(disk_path rw)" --drive "$(disk_path ro)" \
		--drive "$(disk_path reboot)" --drive "$(disk_path noreboot)" \
		--drive "$(disk_path dtb)" --drive "$(disk_path adversary)" \
		--drive "$(disk_path split-microvm)" --drive "$(disk_path split-virt)" \
		--drive "$(disk_path mq)" \
		--modules tun,vhost_net \
		--add tests/e2e/host:/root/e2e-host \
		--add build/riscv64/sysinject:/usr/bin/sysinject \
		--add build/riscv64/sbifail.Image:/root/sbifail.Image \
		--add build/riscv64/irqsnap.Image:/root/irqsnap.Image
	testcase host-kvm-aia5 30 'ls -l /dev/kvm && dmesg | grep -i aia' \
		rc=0 grep='/dev/kvm' grep='kvm.*: AIA available with 5 guest external interrupts'
	testcase bad-inputs 120 'sh /root/e2e-host/bad-inputs.sh' \
		rc=0 grep='^BAD-OK version' nogrep='^BAD-FAIL'
	testcase microvm-smp 180 "$(guest_test smp rivet.expect_cpus=2 --cpus 2)" \
		rc=0 grep='^RIVET-TEST smp PASS'
	testcase microvm-smp1 180 "$(guest_test smp rivet.expect_cpus=1 --cpus 1)" \
		rc=0 grep='^RIVET-TEST smp PASS'
	testcase microvm-dt 180 "$(guest_test dt '' --cpus 1)" \
		rc=0 grep='^RIVET-TEST dt PASS'
	testcase microvm-diskwrite 180 "$(guest_test diskwrite '' --disk /dev/vda)" \
		rc=0 grep='^RIVET-TEST diskwrite PASS' fn=check_diskwrite
	testcase microvm-diskro 180 "$(guest_test diskro '' --disk /dev/vdb,readonly)" \
		rc=0 grep='^RIVET-TEST diskro PASS' fn=check_diskro
	testcase microvm-rng 180 "$(guest_test rng '')" \
		rc=0 grep='^RIVET-TEST rng PASS'
	# Multi-queue disks on I/O threads (the host's /dev/vdi): one queue
	# per vCPU by default, queues=N, and the vCPU-served io=sync path.
	testcase microvm-blkmq 240 "$(guest_test blkmq 'rivet.disk=/dev/vda rivet.expect_queues=4' --cpus 4 --disk /dev/vdi)" \
		rc=0 grep='^RIVET-TEST blkmq PASS' grep='/dev/vda has 4 queues'
	testcase virt-blkmq 240 "$(virt_test blkmq 'rivet.disk=/dev/vda rivet.expect_queues=2' --cpus 4 --disk /dev/vdi,queues=2)" \
		rc=0 grep='^RIVET-TEST blkmq PASS' grep='/dev/vda has 2 queues'
	testcase microvm-blk-sync 240 "$(guest_test blkmq 'rivet.disk=/dev/vda rivet.expect_queues=1' --cpus 2 --disk /dev/vdi,io=sync)" \
		rc=0 grep='^RIVET-TEST blkmq PASS' grep='/dev/vda has 1 queues'
	# io=uring: one restricted io_uring per queue, on both transports.
	testcase microvm-blk-uring 240 "$(guest_test blkmq 'rivet.disk=/dev/vda rivet.expect_queues=2' --cpus 2 --disk /dev/vdi,io=uring)" \
		rc=0 grep='^RIVET-TEST blkmq PASS' grep='/dev/vda has 2 queues'
	testcase virt-blk-uring 240 "$(virt_test blkmq 'rivet.disk=/dev/vda rivet.expect_queues=4' --cpus 4 --disk /dev/vdi,io=uring)" \
		rc=0 grep='^RIVET-TEST blkmq PASS' grep='/dev/vda has 4 queues'
	# Guest RAM on 2 MiB hugetlb pages: 128 MiB takes the host's 64 pages;
	# 256 MiB is refused at once, saying how many it needs.
	testcase microvm-hugepages 180 "echo 64 >/proc/sys/vm/nr_hugepages
$(guest_test smp rivet.expect_cpus=1 --memory 128M --hugepages on) || exit 10
$(guest_test smp rivet.expect_cpus=1 --memory 256M --hugepages on); rc=\$?
echo 0 >/proc/sys/vm/nr_hugepages; exit \$rc" \
		rc=2 grep='^RIVET-TEST smp PASS' \
		grep='--hugepages on: 256 MiB of guest RAM needs 128 huge pages of 2 MiB; the host has 64 available'
	testcase microvm-aia-hwaccel 180 "$(guest_test smp rivet.expect_cpus=2 --cpus 2 --aia-mode hwaccel)" \
		rc=0 grep='^RIVET-TEST smp PASS'
	testcase microvm-aia-emul 180 "$(guest_test smp rivet.expect_cpus=2 --cpus 2 --aia-mode emul)" \
		rc=0 grep='^RIVET-TEST smp PASS'
	# The guest's interrupts: KVM's AIA (auto picks it here), then rivet's
	# APLIC in front of KVM's IMSIC (split).  The aia mode's disk, network
	# and microvm console cases are the ones above and in the virt group.
	testcase microvm-auto-aia 180 "$(guest_test poweroff '')" \
		rc=0 grep="^rivet: note: interrupt controller: aia \\(KVM's in-kernel AIA\\)"
	irqs_cases aia /dev/vda
	testcase virt-aia-console-input 180 'sh /root/e2e-host/console-input.sh --board virt --memory 1G' \
		rc=0 grep='^RIVET-INPUT-42'
	irqs_cases split /dev/vda --irqchip split
	io_cases split /dev/vdg /dev/vdh --irqchip split
	testcase microvm-split-hwaccel 180 "$(guest_test smp rivet.expect_cpus=2 --cpus 2 --irqchip split --aia-mode hwaccel)" \
		rc=0 grep='^RIVET-TEST smp PASS'
	testcase microvm-timer-sstc 180 "$(guest_test timer 'rivet.sstc=yes' --cpus 2)" \
		rc=0 grep='^RIVET-TEST timer PASS'
	testcase microvm-cpu-features 180 "$(guest_test isa 'rivet.absent=zicboz,zicbom rivet.present=zba' --cpu-features=-zicboz,-zicbom)" \
		rc=0 grep='^RIVET-TEST isa PASS'
	testcase microvm-dump-dtb 180 "$(guest_test poweroff '' --cpus 2 --dump-dtb /dev/vde)" \
		rc=0 grep='^RIVET-TEST poweroff PASS' fn=check_dtb
	testcase microvm-reboot 240 "$(guest_test reboot '' --disk /dev/vdc)" \
		rc=0 grep='^RIVET-REBOOTING' grep='^RIVET-TEST reboot PASS' fn=check_reboots
	testcase microvm-no-reboot 180 "$(guest_test reboot '' --disk /dev/vdd --no-reboot)" \
		rc=3 grep='^RIVET-REBOOTING' nogrep='RIVET-TEST reboot'
	testcase microvm-sigterm 180 "$(signal_test TERM)" \
		rc=143 grep='^RIVET-HANGING' grep='signal 15: shutting the VM down'
	testcase microvm-console-input 180 'sh /root/e2e-host/console-input.sh' \
		rc=0 grep='^RIVET-INPUT-42'
	testcase microvm-seccomp 600 'sh /root/e2e-host/seccomp.sh /dev/vdi' \
		rc=0 grep='^SECCOMP-OK main-ioctl: status 148' \
		grep='^SECCOMP-OK io-openat: status 148' grep='^SECCOMP-OK io-ioctl: status 148' \
		grep='^SECCOMP-OK io control' \
		grep='^SECCOMP-OK unfiltered monitor control' nogrep='^SECCOMP-FAIL'
	testcase microvm-jail 300 'sh /root/e2e-host/jail.sh' \
		rc=0 grep='^JAIL-OK the data is in' nogrep='^JAIL-FAIL'
	# QMP, driven by socat: tests/e2e/host/qmp.sh, qmp-panic.sh.
	testcase microvm-qmp 420 'sh /root/e2e-host/qmp.sh microvm' \
		rc=0 grep='^QMP-ALL-OK' nogrep='^QMP-FAIL' fn=check_qmp_shapes
	testcase microvm-qmp-panic 420 'sh /root/e2e-host/qmp-panic.sh microvm' \
		rc=0 grep='^QMP-ALL-OK' nogrep='^QMP-FAIL'
	# QMP driven by an independent library, Debian's go-qemu
	# (tests/qmp/goclient, tests/e2e/host/qmp-go.sh).
	testcase microvm-qmp-go 360 'sh /root/e2e-host/qmp-go.sh microvm' \
		rc=0 grep='^QMP-ALL-OK' grep='^GOQMP-ALL-OK' nogrep='^(GO)?QMP-FAIL'
	# --serial unix and pty with --daemonize (tests/e2e/host/serial.sh).
	testcase microvm-serial 420 'sh /root/e2e-host/serial.sh microvm' \
		rc=0 grep='^QMP-ALL-OK' nogrep='^QMP-FAIL'
	# Snapshot and restore (tests/e2e/host/snapshot.sh, docs/snapshot.md):
	# the in-kernel AIA taken in hwaccel mode (this host has guest files)
	# and restored in emul, then twice more (three restores in a row), a
	# TCP stream running through them on vhost-net;
	# taken in emul with 4 vCPUs, one of them
	# offline (SBI HSM), and restored in hwaccel; split (rivet's APLIC,
	# KVM's IMSIC).
	testcase microvm-snapshot 900 "SNAP_NET=1 SNAP_VHOST=on SNAP_CHAIN=2 SNAP_RESTORE='--aia-mode emul' sh /root/e2e-host/snapshot.sh microvm --aia-mode hwaccel" \
		rc=0 grep='^QMP-ALL-OK' nogrep='^QMP-FAIL' fn=check_qmp_shapes
	testcase microvm-snapshot-emul 900 "SNAP_CPUS=4 SNAP_RESTORE='--aia-mode hwaccel' sh /root/e2e-host/snapshot.sh microvm --aia-mode emul" \
		rc=0 grep='^QMP-ALL-OK' nogrep='^QMP-FAIL'
	testcase microvm-snapshot-split 900 'sh /root/e2e-host/snapshot.sh microvm --irqchip split' \
		rc=0 grep='^QMP-ALL-OK' nogrep='^QMP-FAIL'
	# Interrupts in flight at the snapshot, each delivered exactly once
	# after the restore (a bare-metal guest, tests/guest/irqsnap): an
	# IMSIC identity pending but masked, the UART's level source held
	# high, a virtio-blk completion the snapshot itself finished; KVM's
	# APLIC and IMSIC in both modes (and across them), and split.
	testcase microvm-irqsnap 300 "SNAP_RESTORE='--aia-mode emul' sh /root/e2e-host/irqsnap.sh --aia-mode hwaccel" \
		rc=0 grep='^QMP-ALL-OK' nogrep='^QMP-FAIL'
	testcase microvm-irqsnap-emul 300 "SNAP_RESTORE='--aia-mode hwaccel' sh /root/e2e-host/irqsnap.sh --aia-mode emul" \
		rc=0 grep='^QMP-ALL-OK' nogrep='^QMP-FAIL'
	testcase microvm-irqsnap-split 300 'sh /root/e2e-host/irqsnap.sh --irqchip split' \
		rc=0 grep='^QMP-ALL-OK' nogrep='^QMP-FAIL'
	testcase microvm-poweroff 180 "$(guest_test poweroff '')" \
		rc=0 grep='^RIVET-TEST poweroff PASS'
	# The whole-VM attack (tests/guest/adversary/adversary.c) on /dev/vdf.
	testcase microvm-adversary 300 'sh /root/e2e-host/adversary.sh 20 /dev/vdf' \
		rc=0 grep='^RIVET-TEST adversary PASS' grep='^ADVERSARY DONE ops=[0-9]+ seed=[0-9]+' \
		grep='^ADV-OK warnings rate-limited' nogrep='^ADV-FAIL' nogrep='ADVERSARY ANOMALY' \
		fn=check_adversary
	# The end of the boot: COMMAND's output, to its last line, comes out of
	# rvhost before its exit status, even when all of it is still queued
	# for the UART when COMMAND ends (the host drains its console before
	# the session ends).  Also at the end of the aia0 and virt boots.
	testcase rvhost-last-line-burst 60 "$(last_line_test 15 'RVHOST-LAST-LINE after a burst' nl)" \
		rc=0 grep='^RVHOST-BURST 0{240}14$' last='RVHOST-LAST-LINE after a burst'

	# Host boot without IMSIC guest files: KVM's AIA has no hardware
	# acceleration; rivet must fall back to emulation.
	group aia0 --aia-guests 0
	testcase host-kvm-aia0 30 'ls -l /dev/kvm && dmesg | grep -i aia' \
		rc=0 grep='/dev/kvm' grep='kvm.*: AIA available with 0 guest external interrupts'
	testcase microvm-smp-aia0 180 "$(guest_test smp rivet.expect_cpus=2 --cpus 2)" \
		rc=0 grep='^RIVET-TEST smp PASS'
	testcase microvm-emul-aia0 180 "$(guest_test smp rivet.expect_cpus=2 --cpus 2 --aia-mode emul)" \
		rc=0 grep='^RIVET-TEST smp PASS'
	testcase microvm-hwaccel-refused-aia0 60 "$(guest_test poweroff '' --aia-mode hwaccel)" \
		rc=1 grep='--aia-mode hwaccel: not available on this host' nogrep='RIVET-GUEST-UP'
	# The last line, without a newline, after a burst.
	testcase rvhost-last-partial-line 60 "$(last_line_test 15 'RVHOST-LAST-LINE partial, after a burst')" \
		rc=0 grep='^RVHOST-BURST 0{240}14$' last='RVHOST-LAST-LINE partial, after a burst'

	# Host boot for the virt board: direct kernel boot with the FDT and a
	# virtio-pci disk; UEFI firmware (Debian's EDK2) from CFI flash booting
	# the kernel through fw_cfg, Linux on rivet's ACPI tables.
	disk virt-direct 16
	disk virt-uefi 16
	# The boot-order disk: an ESP whose loader prints where it came from.
	[ "$list" -ne 0 ] || tests/guest/efi/mkdisk.sh build/guest/efi/probe-disk.img
	group virt --aia-guests 5 --drive "$(disk_path virt-direct)" \
		--drive "$(disk_path virt-uefi)" --modules tun,vhost_net \
		--add tests/e2e/host:/root/e2e-host \
		--add build/guest/efi/probe-disk.img:/root/probe.img \
		--add build/riscv64/sbifail.Image:/root/sbifail.Image \
		--add "$RIVET_EDK2_CODE:/fw/RISCV_VIRT_CODE.fd"
	testcase virt-direct-pci-disk 240 "$(virt_test diskwrite rivet.disk=/dev/vda --disk /dev/vda --cpus 2)" \
		rc=0 grep='^RIVET-TEST diskwrite PASS' fn=check_virt_direct
	testcase virt-qmp 420 'sh /root/e2e-host/qmp.sh virt' \
		rc=0 grep='^QMP-ALL-OK' nogrep='^QMP-FAIL' fn=check_qmp_shapes
	testcase virt-qmp-panic 420 'sh /root/e2e-host/qmp-panic.sh virt' \
		rc=0 grep='^QMP-ALL-OK' nogrep='^QMP-FAIL'
	# Snapshot and restore on the virt board: virtio-pci, MSI-X through
	# the in-kernel IMSIC taken in emul mode and restored in hwaccel (the
	# microvm cases go the other way too), and a TCP stream through
	# vhost-net on virtio-pci; split (rivet's APLIC, KVM's IMSIC) with 4
	# vCPUs, one offline (tests/e2e/host/snapshot.sh).
	testcase virt-snapshot 900 "SNAP_NET=1 SNAP_VHOST=on SNAP_RESTORE='--aia-mode hwaccel' sh /root/e2e-host/snapshot.sh virt --aia-mode emul" \
		rc=0 grep='^QMP-ALL-OK' nogrep='^QMP-FAIL' fn=check_qmp_shapes
	testcase virt-snapshot-split 900 'SNAP_CPUS=4 sh /root/e2e-host/snapshot.sh virt --irqchip split' \
		rc=0 grep='^QMP-ALL-OK' nogrep='^QMP-FAIL'
	testcase virt-qmp-go 360 'sh /root/e2e-host/qmp-go.sh virt' \
		rc=0 grep='^QMP-ALL-OK' grep='^GOQMP-ALL-OK' nogrep='^(GO)?QMP-FAIL'
	testcase virt-net-ping 240 'sh /root/e2e-host/net.sh virt' \
		rc=0 grep='^RIVET-TEST net PASS' grep='3 packets transmitted, 3 packets received'
	testcase microvm-net-ping 240 'sh /root/e2e-host/net.sh microvm' \
		rc=0 grep='^RIVET-TEST net PASS' grep='3 packets transmitted, 3 packets received'
	# TCP both ways with every byte checked, over the offloads, merged
	# buffers and control queue a Linux guest negotiates; one queue pair
	# on microvm, two (MQ, a multi-queue TAP rivet creates) on virt.
	# vhost-net (the host has the module) unless vhost=off: then rivet's
	# I/O threads.
	testcase microvm-netbench 300 'sh /root/e2e-host/netbench.sh microvm 1' \
		rc=0 grep='^RIVET-TEST netbench PASS' grep='eth0 has 1 receive queues' \
		grep='vhost-net serves 1 queue pair$' \
		grep='^NETBENCH mode=tx .* verified=1' grep='^NETBENCH mode=rx .* verified=1' \
		grep='^NETBENCH mode=rr n=500' grep='^NETBENCH-SERVER mode=tx .* verified=1'
	testcase virt-netbench-mq 300 'sh /root/e2e-host/netbench.sh virt 2 "" -v' \
		rc=0 grep='^RIVET-TEST netbench PASS' grep='eth0 has 2 receive queues' \
		grep='vhost-net serves 2 queue pairs' grep='KVM irqfd: a device.s interrupts now bypass rivet' \
		grep='^NETBENCH mode=tx .* verified=1' grep='^NETBENCH mode=rx .* verified=1' \
		grep='^NETBENCH mode=rr n=500' grep='^NETBENCH-SERVER mode=tx .* verified=1'
	testcase microvm-netbench-threads 300 'sh /root/e2e-host/netbench.sh microvm 1 ,vhost=off' \
		rc=0 grep='^RIVET-TEST netbench PASS' nogrep='vhost-net serves' \
		grep='^NETBENCH mode=tx .* verified=1' grep='^NETBENCH mode=rx .* verified=1' \
		grep='^NETBENCH-SERVER mode=tx .* verified=1'
	testcase virt-netbench-mq-threads 300 'sh /root/e2e-host/netbench.sh virt 2 ,vhost=off' \
		rc=0 grep='^RIVET-TEST netbench PASS' grep='eth0 has 2 receive queues' nogrep='vhost-net serves' \
		grep='^NETBENCH mode=tx .* verified=1' grep='^NETBENCH mode=rx .* verified=1' \
		grep='^NETBENCH-SERVER mode=tx .* verified=1'
	testcase virt-uefi-acpi 400 "$(virt_test acpi 'rivet.expect_cpus=2 rivet.irqchip=aia' --cpus 2 --firmware /fw/RISCV_VIRT_CODE.fd)" \
		rc=0 grep='^RIVET-TEST acpi PASS' grep='ACPI: RHCT ' grep='ACPI: APIC ' grep='ACPI: SPCR '
	# split: the UART through rivet's APLIC, described in ACPI.
	testcase virt-split-uefi-acpi 400 "$(virt_test acpi 'rivet.expect_cpus=2 rivet.irqchip=aia' --cpus 2 --firmware /fw/RISCV_VIRT_CODE.fd --irqchip split)" \
		rc=0 grep='^RIVET-TEST acpi PASS'
	testcase virt-uefi-efivar 700 "$(virt_test efivar rivet.efivar=write --firmware /fw/RISCV_VIRT_CODE.fd --firmware-vars /root/efivars.fd) && $(virt_test efivar rivet.efivar=read --firmware /fw/RISCV_VIRT_CODE.fd --firmware-vars /root/efivars.fd)" \
		rc=0 grep='rivet-test: .*RivetTest.* = rivet-persists' nogrep='RIVET-TEST efivar FAIL'
	# Two identical EFI disks: the firmware boots the first (PCI slot 1)
	# unless the second has a bootindex (fw_cfg "bootorder").
	testcase virt-uefi-bootorder-default 300 "$(probe_disks) && rivet run --board virt --firmware /fw/RISCV_VIRT_CODE.fd --disk /tmp/a.img --disk /tmp/b.img --no-rng" \
		rc=0 grep='Press ESCAPE within 5 seconds' grep='^RIVET-EFI-BOOT from=PciRoot\(0\)/Pci\(0x1,0x0\)/HD\(1,GPT,'
	testcase virt-uefi-bootorder 300 "$(probe_disks) && rivet run --board virt --firmware /fw/RISCV_VIRT_CODE.fd --disk /tmp/a.img --disk /tmp/b.img,bootindex=0 --boot-timeout 0 --no-rng" \
		rc=0 grep='Press ESCAPE within 0 seconds' grep='^RIVET-EFI-BOOT from=PciRoot\(0\)/Pci\(0x2,0x0\)/HD\(1,GPT,'
	testcase virt-uefi-pci-disk 400 "$(virt_test diskwrite rivet.disk=/dev/vda --disk /dev/vdb --firmware /fw/RISCV_VIRT_CODE.fd --firmware-vars /root/vars.fd)" \
		rc=0 grep='^RIVET-TEST diskwrite PASS' fn=check_virt_uefi
	# A script's last echo, the console not held.
	# shellcheck disable=SC2016 # $i is the host shell's
	testcase rvhost-last-line 60 'for i in 1 2 3; do echo "line $i"; done; echo RVHOST-LAST-LINE' \
		rc=0 last='RVHOST-LAST-LINE'

	# Host boot as a SiFive P550 board: a PLIC, no AIA, no Sstc.  rivet
	# picks its own PLIC by itself (auto) and every kind of device
	# interrupt goes through it: the console, virtio-mmio, PCI INTx.
	disk plic-microvm 16
	disk plic-virt 16
	group plic --host plic-nosstc --drive "$(disk_path plic-microvm)" \
		--drive "$(disk_path plic-virt)" --modules tun \
		--add tests/e2e/host:/root/e2e-host \
		--add "$RIVET_EDK2_CODE:/fw/RISCV_VIRT_CODE.fd" \
		--refvmm --add tests/bench/host.sh:/root/bench-host.sh \
		--add build/riscv64/benchrun:/usr/bin/benchrun
	testcase host-plic 60 "grep -m1 '^isa' /proc/cpuinfo; $(guest_test poweroff '' --irqchip aia)" \
		rc=1 grep="--irqchip aia: this host's KVM has no in-kernel AIA" nogrep='^isa.*sstc'
	testcase microvm-auto-plic 180 "$(guest_test poweroff '')" \
		rc=0 grep='^rivet: note: interrupt controller: plic \(this host.s KVM has no AIA: rivet.s PLIC\)'
	irqs_cases plic /dev/vda
	io_cases plic /dev/vda /dev/vdb
	testcase virt-plic-intx 240 "$(virt_test irqs 'rivet.expect_cpus=2 rivet.disk=/dev/vda' --cpus 2 --disk /dev/vda,readonly)" \
		rc=0 grep='^RIVET-TEST irqs PASS' grep='SiFive PLIC +3[2-5] +[A-Za-z]+ +virtio'
	testcase microvm-plic-timer 180 "$(guest_test timer 'rivet.sstc=no' --cpus 2)" \
		rc=0 grep='^RIVET-TEST timer PASS'
	# Snapshot and restore with rivet's PLIC on a host without Sstc, on
	# both boards (virt: virtio-pci's INTx, the only way without MSI).
	testcase microvm-snapshot-plic 900 'sh /root/e2e-host/snapshot.sh microvm' \
		rc=0 grep='^QMP-ALL-OK' nogrep='^QMP-FAIL'
	testcase virt-snapshot-plic 900 'sh /root/e2e-host/snapshot.sh virt' \
		rc=0 grep='^QMP-ALL-OK' nogrep='^QMP-FAIL'
	# make bench's PLIC part, one run of each case (QEMU with its PLIC).
	testcase bench-smoke-plic 300 'sh /root/bench-host.sh 1 1 plic' \
		rc=0 grep='^BENCH-DONE' nogrep='^BENCH-FAIL' \
		grep='^BENCH case=boot_microvm_plic vmm=qemu .* launch_to_marker_ms=[0-9]' \
		grep='^BENCH case=disk_plic vmm=rivet .* randread_iops=[0-9]' \
		grep='^BENCH case=disk_plic vmm=qemu .* randread_iops=[0-9]'
	testcase virt-plic-uefi-acpi 400 "$(virt_test acpi 'rivet.expect_cpus=2 rivet.irqchip=plic' --cpus 2 --firmware /fw/RISCV_VIRT_CODE.fd)" \
		rc=0 grep='^RIVET-TEST acpi PASS' grep='ACPI: APIC '

	# Host boot as a host with the AIA but no Sstc: the guest's timer
	# through SBI, served by KVM's software path.
	group aia-nosstc --host aia-nosstc --add tests/e2e/host:/root/e2e-host \
		--add build/riscv64/irqsnap.Image:/root/irqsnap.Image
	testcase microvm-timer-nosstc 180 "$(guest_test timer 'rivet.sstc=no' --cpus 2)" \
		rc=0 grep='^RIVET-TEST timer PASS' grep='interrupt controller: aia'
	# Snapshot and restore with the guest's timer through SBI (KVM's
	# hrtimer path and its timer `state` register): sleeps go on, no
	# storm.
	testcase microvm-snapshot-nosstc 900 'sh /root/e2e-host/snapshot.sh microvm' \
		rc=0 grep='^QMP-ALL-OK' nogrep='^QMP-FAIL' grep='^RIVET-SNAP-TIMER-IRQS'
	# The timer's interrupt pending at the snapshot, raised by KVM's
	# hrtimer during the pause (after the guest's time stood still): after
	# the restore a WFI ends for it (tests/e2e/host/irqsnap.sh).
	testcase microvm-irqsnap-timer 300 'SNAP_TIMER=1 sh /root/e2e-host/irqsnap.sh' \
		rc=0 grep='^QMP-ALL-OK' nogrep='^QMP-FAIL' \
		grep="^RIVET-IRQSNAP wfi with the timer's interrupt pending"

	# Host boot for the stock Debian image (scripts/mkdebian.sh: GPT, ESP
	# with GRUB, ext4 root, systemd, linux-image-riscv64), unmodified but
	# for a flag file on the ESP that makes GRUB pick an entry that powers
	# off once systemd is up: EDK2 -> GRUB -> Linux (ACPI) -> systemd.
	# The disks are made just before the boot (debian_image_ready).
	group debian --aia-guests 5 --mem 3G --drive "$(disk_path debian)" \
		--drive "$(disk_path debian-pd)" \
		--add tests/e2e/host:/root/e2e-host \
		--add "$RIVET_EDK2_CODE:/fw/RISCV_VIRT_CODE.fd"
	testcase virt-debian-uefi-systemd 900 \
		"rivet run --board virt --firmware /fw/RISCV_VIRT_CODE.fd --firmware-vars /root/vars.fd --disk /dev/vda --cpus 2 --memory 1536M" \
		rc=0 grep='Loading Linux 6' grep='ACPI: RHCT ' grep='ACPI: PCI Root Bridge' grep='multi-user' \
		grep='RIVET-DEBIAN-UP running .* acpi=yes efi=yes'
	# QMP system_powerdown of the same image, left up: the ACPI power
	# button (GED) reaches systemd's clean power-off.
	testcase virt-debian-powerdown 1200 'sh /root/e2e-host/debian-powerdown.sh /dev/vdb' \
		rc=0 grep='^QMP-ALL-OK' nogrep='^QMP-FAIL' grep='ACPI: button: Power Button' \
		grep='reboot: Power down'
	# The same image snapshotted once systemd is up and restored in a
	# new rivet: it goes on, and its systemd still powers it off cleanly
	# at the power button (tests/e2e/host/debian-snapshot.sh).
	testcase virt-debian-snapshot 1500 'sh /root/e2e-host/debian-snapshot.sh /dev/vdb' \
		rc=0 grep='^QMP-ALL-OK' nogrep='^QMP-FAIL'
	# The same image on a P550-like host: rivet's PLIC, described in ACPI.
	group debian-plic --host plic-nosstc --mem 3G --drive "$(disk_path debian)" \
		--add "$RIVET_EDK2_CODE:/fw/RISCV_VIRT_CODE.fd"
	testcase virt-debian-plic-systemd 900 \
		"rivet run --board virt --firmware /fw/RISCV_VIRT_CODE.fd --firmware-vars /root/vars.fd --disk /dev/vda --cpus 2 --memory 1536M" \
		rc=0 grep='interrupt controller: plic' grep='Loading Linux 6' grep='ACPI: APIC ' \
		grep='riscv-plic' grep='RIVET-DEBIAN-UP running .* acpi=yes efi=yes'

	# Host boot with the reference VMM: make bench's harness, one run of
	# each case (tests/bench/host.sh), so the benchmark keeps working; its
	# figures are make bench's business, not checked here.  Also: the boot
	# timer's line, and --stats.
	group bench --refvmm --modules tun,vhost_net --add tests/bench/host.sh:/root/bench-host.sh \
		--add build/riscv64/benchrun:/usr/bin/benchrun
	testcase bench-smoke 660 'sh /root/bench-host.sh 1 1 aia smoke' \
		rc=0 grep='^BENCH-DONE' nogrep='^BENCH-FAIL' \
		grep='^BENCH case=boot_microvm vmm=rivet .* overhead_rss_kib=[0-9]' \
		grep='^BENCH case=boot_virt vmm=qemu .* launch_to_marker_ms=[0-9]' \
		grep='^BENCH case=startup_qemu vmm=qemu .* launch_to_first_run_ms=[0-9]' \
		grep='^BENCH case=disk vmm=rivet .* seqread_mbs=[0-9]' \
		grep='^BENCH case=disk vmm=rivet .* vcpu_blocked_permille=[0-9]' \
		grep='^BENCH case=disk vmm=qemu .* randread_iops=[0-9]' \
		grep='^BENCH case=disk_sync vmm=rivet .* randread_iops=[0-9]' \
		grep='^BENCH case=boot_microvm_hugepages vmm=rivet .* launch_to_marker_ms=[0-9]' \
		grep='^BENCH case=boot_microvm_hugepages vmm=qemu .* launch_to_marker_ms=[0-9]' \
		grep='^BENCH case=diskq vmm=rivet .* randread_qd32_4j_iops=[0-9]' \
		grep='^BENCH case=diskq vmm=qemu .* seqwrite_qd8_mbs=[0-9]' \
		grep='^BENCH-CMD case=diskq vmm=qemu .*iothread=io0' \
		grep='^BENCH case=net vmm=rivet .* net_tx_mbs=[0-9.]+ net_rx_mbs=[0-9.]+ net_rr_us=[0-9]' \
		grep='^(BENCH case=net vmm=qemu .* net_rr_us=[0-9]|BENCH-QEMU-NET-BROKEN case=net vmm=qemu )' \
		grep='^BENCH case=qmp_idle vmm=rivet .* rtt_p99_us=[0-9.]+ .*pause_resume_ms=[0-9]' \
		grep='^BENCH case=qmp_io vmm=qemu .* rtt_p99_us=[0-9.]+ .*pause_resume_ms=[0-9]' \
		grep='^BENCH case=snapshot vmm=rivet .*snapshot_ms=[0-9.]+ .*snapshot_mib=[0-9.]+ restore_ms=[0-9]' \
		grep='^(BENCH case=snapshot vmm=qemu .*snapshot_ms=[0-9.]+ .*snapshot_mib=[0-9.]+ restore_ms=[0-9]|BENCH-NA case=snapshot vmm=qemu .* reason=.)'
	testcase microvm-boot-timer-stats 120 "$(guest_test poweroff '' --boot-timer --stats)" \
		rc=0 grep='^rivet: boot-timer: guest init \+[0-9.]+ ms, first KVM_RUN \+[0-9.]+ ms' \
		grep='^rivet: stats: vCPU 0: in KVM_RUN [0-9.]+ ms, [0-9]+ exits' \
		grep='^rivet: stats: mmio uart16550@0x10000000: [0-9]+' \
		grep='^rivet: stats: mmio boot-timer@0x10200000: 1$'

	# Host boot for durability: host ENOSPC (a full tmpfs) and EIO (null_blk
	# with bad blocks) reach the guest as I/O errors; then rounds of SIGKILL
	# at random moments (seed: RIVET_DUR_SEED, else random; printed), ended
	# by a power cut of the host, after which the x86_64 drive files must
	# hold every acknowledged record.  The power cut ends this host boot
	# (rvhost reports 125): microvm-dur-kill must stay the group's last case.
	disk dur-raw 32
	disk dur-ext4 64
	group durability --aia-guests 5 --modules crc32c_generic,ext4,configfs,null_blk \
		--drive "$(disk_path dur-raw)" --drive "$(disk_path dur-ext4)" \
		--add tests/e2e/host:/root/e2e-host
	testcase microvm-dur-enospc 180 'sh /root/e2e-host/ioerr.sh enospc' \
		rc=0 grep='^RIVET-TEST ioerr PASS' grep='^RIVET-IOERR first error at byte' \
		grep='write at sector [0-9]+ failed: No space left on device'
	testcase microvm-dur-eio 180 'sh /root/e2e-host/ioerr.sh eio' \
		rc=0 grep='^RIVET-TEST ioerr PASS' grep='flush failed: Input/output error' \
		grep='read at sector [0-9]+ failed: Input/output error' grep='^RIVET-IOERR read at byte'
	# The same host errors through io=uring reach the guest the same way.
	testcase microvm-dur-enospc-uring 180 'sh /root/e2e-host/ioerr.sh enospc ,io=uring' \
		rc=0 grep='^RIVET-TEST ioerr PASS' grep='^RIVET-IOERR first error at byte' \
		grep='write at sector [0-9]+ failed: No space left on device'
	testcase microvm-dur-eio-uring 180 'sh /root/e2e-host/ioerr.sh eio ,io=uring' \
		rc=0 grep='^RIVET-TEST ioerr PASS' grep='flush failed: Input/output error' \
		grep='read at sector [0-9]+ failed: Input/output error' grep='^RIVET-IOERR read at byte'
	testcase microvm-dur-kill 600 \
		"sh /root/e2e-host/durability.sh ${RIVET_DUR_SEED:-$((RANDOM * 32768 + RANDOM))} 6 microvm-dur-kill" \
		rc=0 grep='^DUR-TOTAL' grep='^DUR-POWER-CUT' nogrep='^DUR-FAIL' fn=check_durability
}

# ---- the Debian image ---------------------------------------------------------------
# The host boots that boot the stock Debian image.  If the image is not
# built yet (a fresh machine: make test leaves it to this run, see
# scripts/setup.sh), it is built in the background, niced, from the start
# of the run, while the other host boots use the CPU; those groups wait
# for it.
DEBIAN_GROUPS=" debian debian-plic "
DEBIAN_LOG=$RESULTS/e2e-debian-image.log
debian_pid="" debian_rc=0 debian_made="" debian_t0=0

debian_image_start() {
	if scripts/mkdebian.sh --check >/dev/null 2>&1; then
		return 0
	fi
	echo "e2e: building the Debian image in the background (log: $DEBIAN_LOG)"
	debian_t0=$(date +%s)
	setsid nice -n 10 scripts/mkdebian.sh >"$DEBIAN_LOG" 2>&1 </dev/null &
	debian_pid=$!
}

# The image built, its two test copies made: 0, or 1 (the cases fail).
debian_image_ready() {
	if [ -n "$debian_pid" ]; then
		echo "e2e: waiting for the Debian image (log: $DEBIAN_LOG)"
		wait "$debian_pid" || debian_rc=$?
		debian_pid=""
		echo "e2e: Debian image: status $debian_rc after $(( $(date +%s) - debian_t0 )) s in the background"
	fi
	[ "$debian_rc" -eq 0 ] || return 1
	[ -z "$debian_made" ] || return 0
	mkdir -p "$DISKS"
	scripts/mkdebian.sh --test-copy "$(disk_path debian)" >/dev/null || return 1
	# The image as built, no flag file: it stays up until told.
	cp --sparse=always "$RIVET_CACHE/debian/trixie-riscv64.img" \
		"$(disk_path debian-pd)" || return 1
	debian_made=1
}

# ---- the runner ---------------------------------------------------------------------
list=0
if [ "${1:-}" = -l ]; then
	list=1
	shift
fi
patterns=("$@")
selected() {
	local p
	[ ${#patterns[@]} -eq 0 ] && return 0
	for p in "${patterns[@]}"; do
		# shellcheck disable=SC2053
		[[ $1 == $p ]] && return 0
	done
	return 1
}

mkdir -p "$LOGS"
define_cases
if [ $list -eq 1 ]; then
	for i in "${!c_names[@]}"; do
		selected "${c_names[$i]}" && echo "${c_groups[$i]}: ${c_names[$i]}"
	done
	exit 0
fi

sel=()
for i in "${!c_names[@]}"; do
	selected "${c_names[$i]}" && sel+=("$i")
done
[ ${#sel[@]} -gt 0 ] || { echo "e2e: no case matches ${patterns[*]}" >&2; exit 2; }
echo "1..${#sel[@]}" >"$TAP"
: >"$TIMES"
n=0 failed=0
inputs=$(mktemp -d "${TMPDIR:-/tmp}/rivet-e2e-input.XXXXXX")
fifo=$inputs/console
trap 'rm -rf "$inputs"; [ -z "$debian_pid" ] || kill -- "-$debian_pid" 2>/dev/null' EXIT
for i in "${sel[@]}"; do
	if [[ $DEBIAN_GROUPS == *" ${c_groups[$i]} "* ]]; then
		debian_image_start
		break
	fi
done

# extract_case LOG NAME: the console output between the case's markers.
extract_case() {
	# awk reads to the end: exiting early would SIGPIPE tr (pipefail).
	tr -d '\r' <"$1" | awk -v b="@@E2E-BEGIN $2" -v e="@@E2E-END $2 " '
		!done && $0 == b { on = 1; next }
		on && index($0, e) == 1 { on = 0; done = 1 }
		on { print }'
}

# case_rc LOG NAME: COMMAND's exit status, or nothing if it did not finish.
case_rc() {
	tr -d '\r' <"$1" | sed -n "s/^@@E2E-END $2 rc=\\([0-9]*\\)\$/\\1/p" | tail -n1
}

for gi in "${!g_names[@]}"; do
	g=${g_names[$gi]}
	idx=()
	for i in "${sel[@]}"; do
		[ "${c_groups[$i]}" = "$g" ] && idx+=("$i")
	done
	[ ${#idx[@]} -gt 0 ] || continue
	if [[ $DEBIAN_GROUPS == *" $g "* ]] && ! debian_image_ready; then
		for i in "${idx[@]}"; do
			n=$((n + 1))
			failed=$((failed + 1))
			echo "? ${c_names[$i]}" >>"$TIMES"
			echo "not ok $n - ${c_names[$i]} # no Debian image to boot (status $debian_rc; see $DEBIAN_LOG)" | tee -a "$TAP"
		done
		tail -n 15 "$DEBIAN_LOG" 2>/dev/null | sed 's/^/    | /'
		continue
	fi
	IFS=$US read -r -a opts <<<"${g_opts[$gi]}"
	work=$(mktemp -d "${TMPDIR:-/tmp}/rivet-e2e.XXXXXX")
	total=30
	{
		echo "# rivet e2e: host boot '$g'"
		for i in "${idx[@]}"; do
			printf '%s\n' "${c_cmds[$i]}" >"$work/${c_names[$i]}.sh"
			echo "echo '@@E2E-BEGIN ${c_names[$i]}'"
			total=$((total + c_secs[i] + 5))
			if [ "${c_ends[$i]}" -eq 1 ]; then
				# The boot's last output, as COMMAND of rvhost, under the
				# boot's time limit: no end marker, nothing in between.
				echo "exec sh /root/e2e/${c_names[$i]}.sh </dev/null"
				break
			fi
			echo "_t0=\$(cut -d. -f1 /proc/uptime)"
			echo "timeout ${c_secs[$i]} sh /root/e2e/${c_names[$i]}.sh </dev/null"
			echo "echo \"@@E2E-END ${c_names[$i]} rc=\$?\""
			echo "echo \"@@E2E-SECS ${c_names[$i]} \$((\$(cut -d. -f1 /proc/uptime) - _t0))\""
		done
	} >"$work/run.sh"
	boot_log=$LOGS/boot-$g.log
	echo "e2e: host boot '$g': ${#idx[@]} case(s), limit ${total} s"
	: >"$LOGS/boot-$g.out"
	rm -f "$fifo"
	mkfifo "$fifo"
	console_input "$LOGS/boot-$g.out" >"$fifo" &
	input=$!
	t0=$(date +%s)
	set +e
	# The host's session leader runs run.sh itself (sourced): a case that
	# ends the boot runs just as tools/rvhost's COMMAND would.
	"$RVHOST" "${opts[@]}" --timeout "$total" --log "$boot_log" \
		--add "$work:/root/e2e" -- '. /root/e2e/run.sh' <"$fifo" >"$LOGS/boot-$g.out" 2>&1
	hrc=$?
	set -e
	kill "$input" 2>/dev/null || true
	wait "$input" 2>/dev/null || true
	echo "e2e: host boot '$g' ended with status $hrc after $(( $(date +%s) - t0 )) s"
	rm -rf "$work"
	for i in "${idx[@]}"; do
		name=${c_names[$i]}
		n=$((n + 1))
		log=$LOGS/$name.log
		if [ "${c_ends[$i]}" -eq 1 ]; then
			# What rvhost printed from the case's start marker on (all
			# of it when the marker itself was lost).
			tr -d '\r' <"$LOGS/boot-$g.out" >"$log.tmp"
			if grep -qx "@@E2E-BEGIN $name" "$log.tmp"; then
				sed -n "/^@@E2E-BEGIN $name\$/,\$p" "$log.tmp" | sed 1d >"$log"
			else
				mv "$log.tmp" "$log"
			fi
			rm -f "$log.tmp"
			rc=""
			[ "$(tail -n 1 "$log")" != "rvhost: exit status $hrc" ] || rc=$hrc
		else
			extract_case "$boot_log" "$name" >"$log"
			rc=$(case_rc "$boot_log" "$name")
		fi
		why=""
		if [ -z "$rc" ]; then
			why="did not finish (host boot status $hrc; see $boot_log)"
			[ "${c_ends[$i]}" -eq 0 ] || why="rvhost's last line is not its exit status (status $hrc; see $LOGS/boot-$g.out)"
		else
			IFS=$US read -r -a checks <<<"${c_checks[$i]}"
			[ ${#checks[@]} -gt 0 ] || checks=(rc=0)
			for c in "${checks[@]}"; do
				case $c in
				rc=*) [ "$rc" = "${c#rc=}" ] || why="exit status $rc, expected ${c#rc=}" ;;
				grep=*) grep -qE -- "${c#grep=}" "$log" || why="no output matching '${c#grep=}'" ;;
				nogrep=*) ! grep -qE -- "${c#nogrep=}" "$log" || why="output matches '${c#nogrep=}'" ;;
				fn=*) out=$("${c#fn=}" "$log" 2>&1) || why="${c#fn=}: ${out:-failed}" ;;
				last=*)
					out=$(tail -n 2 "$log" | head -n 1)
					[ "$out" = "${c#last=}" ] || why="the line before rvhost's exit status is '$out', not '${c#last=}'"
					;;
				*) why="bad check '$c'" ;;
				esac
				[ -z "$why" ] || break
			done
		fi
		# How long it ran on the host (the suite must stay well under
		# 45 minutes: build/results/e2e-times.txt, slowest first).
		secs=$(tr -d '\r' <"$boot_log" | sed -n "s/^@@E2E-SECS $name \([0-9]*\)\$/\1/p" | tail -n1)
		echo "${secs:-?} $name" >>"$TIMES"
		if [ -z "$why" ]; then
			echo "ok $n - $name" | tee -a "$TAP"
		else
			failed=$((failed + 1))
			echo "not ok $n - $name # $why" | tee -a "$TAP"
			# The case's own failure lines first (the tail may be
			# its console dump), then how it ended.
			{ grep -m 12 -- 'FAIL' "$log" || true; } | sed 's/^/    ! /'
			tail -n 15 "$log" | sed 's/^/    | /'
		fi
	done
done
sort -rn -o "$TIMES" "$TIMES"
echo "e2e: slowest cases (seconds, all in $TIMES):"
head -n 8 "$TIMES" | sed 's/^/  /'
[ $failed -eq 0 ]
