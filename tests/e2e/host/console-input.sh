#!/bin/sh
# Console input: start the demo guest with rivet's stdin on a FIFO, wait for
# the guest shell's prompt, type a command whose output only the guest can
# compute, then power off by typing.  Arguments: more rivet options (e.g.
# --board virt --memory 1G).  Exits with rivet's status.
rm -f /tmp/console.in /tmp/console.out
mkfifo /tmp/console.in
rivet run --kernel /guest/Image --initrd /guest/initramfs.cpio.gz \
	--cmdline 'console=ttyS0 quiet' "$@" </tmp/console.in >/tmp/console.out 2>&1 &
pid=$!
exec 3>/tmp/console.in
i=0
while ! grep -q 'rivet-guest# ' /tmp/console.out && [ $i -lt 120 ]; do
	sleep 1
	i=$((i + 1))
done
# Type slowly enough for a 16-byte FIFO to matter: one burst per line.
printf 'echo RIVET-INPUT-$((6 * 7))\n' >&3
sleep 2
printf 'poweroff\n' >&3
wait $pid
rc=$?
exec 3>&-
cat /tmp/console.out
exit $rc
