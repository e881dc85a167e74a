# Shared by the QMP e2e scripts (qmp.sh, qmp-panic.sh): checks that print
# QMP-OK/QMP-FAIL lines and count failures, and a socat QMP client.
fails=0

ok() { echo "QMP-OK $*"; }
bad() { echo "QMP-FAIL $*"; fails=$((fails + 1)); }
# check WHAT TEXT PATTERN: TEXT matches the extended regex PATTERN.
check() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then ok "$1"; else
		bad "$1: no '$3' in:"; printf '%s\n' "$2" | head -20; fi
}
# qmp SOCKET LINE...: negotiate, send each line (a second apart), print
# all that came back.
qmp() {
	_s=$1
	shift
	{
		printf '{"execute": "qmp_capabilities"}\r\n'
		for _l in "$@"; do
			printf '%s\r\n' "$_l"
			sleep 1
		done
	} | socat -t 3 - "UNIX-CONNECT:$_s" 2>&1
}
# wait_sock PATH: until PATH is a socket (60 s at most).
wait_sock() {
	_i=0
	while [ ! -S "$1" ] && [ $_i -lt 60 ]; do sleep 1; _i=$((_i + 1)); done
}
