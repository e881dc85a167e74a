#!/bin/sh
# Bad input to `rivet run` (on the emulated host): each case must exit with
# the documented status and print a message naming the problem.  Prints
# "BAD-OK name" or "BAD-FAIL name: why" per case; exits 1 if any failed.
K=/guest/Image
I=/guest/initramfs.cpio.gz
fails=0

# expect NAME STATUS REGEX -- ARGS...
expect() {
	name=$1 want=$2 re=$3
	shift 4
	out=$(timeout 60 rivet "$@" </dev/null 2>&1)
	rc=$?
	if [ "$rc" != "$want" ]; then
		echo "BAD-FAIL $name: exit status $rc, expected $want: $out"
		fails=$((fails + 1))
	elif ! printf '%s\n' "$out" | grep -qE -- "$re"; then
		echo "BAD-FAIL $name: message does not match '$re': $out"
		fails=$((fails + 1))
	elif [ "$(printf '%s\n' "$out" | grep -c 'rivet')" -lt 1 ]; then
		echo "BAD-FAIL $name: no rivet message: $out"
		fails=$((fails + 1))
	else
		echo "BAD-OK $name: $(printf '%s\n' "$out" | head -n1)"
	fi
}

head -c 100 /dev/urandom >/tmp/garbage
head -c 40 $K >/tmp/truncated
: >/tmp/empty
mkdir -p /tmp/adir
dd if=/dev/zero of=/tmp/big.img bs=1M count=40 2>/dev/null

expect no-command 2 'Usage: rivet' --
expect unknown-command 2 "unknown command 'frob'" -- frob
expect no-kernel 2 '--kernel: a kernel Image is required' -- run
expect missing-kernel 2 "kernel '/nonexistent': No such file" -- run --kernel /nonexistent
expect kernel-is-dir 2 "kernel '/tmp/adir'.*directory" -- run --kernel /tmp/adir
expect kernel-empty 2 "kernel '/tmp/empty'.*empty" -- run --kernel /tmp/empty
expect kernel-garbage 2 "not a RISC-V Linux Image" -- run --kernel /tmp/garbage
expect kernel-truncated 2 "kernel '/tmp/truncated'" -- run --kernel /tmp/truncated
expect kernel-is-initrd 2 "not a RISC-V Linux Image" -- run --kernel $I
expect missing-initrd 2 "initrd '/nope': No such file" -- run --kernel $K --initrd /nope
expect ram-too-small 2 "larger --memory" -- run --kernel $K --memory 16M
expect initrd-too-big 2 "larger --memory" -- run --kernel $K --initrd /tmp/big.img --memory 64M
expect missing-disk 2 "cannot open /nope" -- run --kernel $K --disk /nope
expect disk-option 2 "--disk: unknown option 'cache=none'" -- run --kernel $K --disk /tmp/big.img,cache=none
expect dump-dtb-dir 2 "--dump-dtb: cannot open /tmp/adir" -- run --kernel $K --dump-dtb /tmp/adir
expect memory-size 2 "--memory: '12X' is not a size" -- run --kernel $K --memory 12X
expect memory-range 2 "--memory: 128G is out of range" -- run --kernel $K --memory 128G
expect cpus-zero 2 "--cpus: '0'" -- run --kernel $K --cpus 0
expect cpus-many 2 "--cpus: '33'" -- run --kernel $K --cpus 33
expect board 2 "--board: unknown board 'pc'" -- run --kernel $K --board pc
expect aia-mode 2 "--aia-mode: 'fast'" -- run --kernel $K --aia-mode fast
expect irqchip 2 "--irqchip: 'pic' is not one of auto, aia, split, plic" -- run --kernel $K --irqchip pic
expect irqchip-aia-mode 2 "--aia-mode: KVM's in-kernel IMSIC only" -- run --kernel $K --irqchip plic --aia-mode emul
expect cpu-feature 2 "--cpu-features: unknown extension 'zfoo'" -- run --kernel $K --cpu-features=-zfoo
expect cpu-feature-fixed 1 "--cpu-features: 'zbb' cannot be disabled on this host" -- run --kernel $K --cpu-features=-zbb
expect cmdline-long 2 "--cmdline: 2000 bytes" -- run --kernel $K --cmdline "$(head -c 2000 /dev/zero | tr '\0' x)"
expect unknown-option 2 "unknown option '--frobnicate'" -- run --kernel $K --frobnicate
expect help 0 "Usage: rivet run" -- run --help
expect version 0 "^rivet [0-9]" -- --version
[ $fails -eq 0 ]
