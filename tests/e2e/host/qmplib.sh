# Shared by the QMP e2e scripts (qmp.sh, qmp-panic.sh): checks that print
# QMP-OK/QMP-FAIL lines and count failures, and a socat QMP client.
fails=0
qmp_t0=$(date +%s)

# Each line says when, in seconds since the script began (where the time
# of a case goes).
ok() { echo "QMP-OK +$(($(date +%s) - qmp_t0))s $*"; }
bad() { echo "QMP-FAIL +$(($(date +%s) - qmp_t0))s $*"; fails=$((fails + 1)); }
# check WHAT TEXT PATTERN: TEXT matches the extended regex PATTERN.
check() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then ok "$1"; else
		bad "$1: no '$3' in:"; printf '%s\n' "$2" | head -20; fi
}
# qmp SOCKET LINE...: negotiate, send each line (a second apart), print
# all that came back: every reply (a loaded host may take its time: 20 s
# at most, or until rivet drops the client or ends), and what else came
# within a second of the last line.  socat's exit status.
qmp() {
	_s=$1
	shift
	_n=$(($# + 1))
	_o=$(mktemp /tmp/qmp.XXXXXX)
	rm -f "$_o.in"
	mkfifo "$_o.in"
	socat -t 1 - "UNIX-CONNECT:$_s" <"$_o.in" >"$_o" 2>&1 &
	_sp=$!
	# A subshell: if socat is gone, SIGPIPE ends only the writer.
	(
		printf '{"execute": "qmp_capabilities"}\r\n'
		for _l in "$@"; do
			printf '%s\r\n' "$_l"
			sleep 1
		done
		_i=0
		while [ "$(grep -Ec '"(return|error)": ' "$_o")" -lt $_n ] &&
		      [ $_i -lt 100 ] && kill -0 $_sp 2>/dev/null; do
			sleep 0.2
			_i=$((_i + 1))
		done
	) >"$_o.in"
	wait $_sp
	_rc=$?
	cat "$_o"
	rm -f "$_o" "$_o.in"
	return $_rc
}
# qmp_ok WHAT SOCKET LINE...: qmp, checked: every line was answered with
# a return, none with an error (else the replies say why).
qmp_ok() {
	_w=$1
	shift
	_r=$(qmp "$@")
	# $# is the socket and the lines: qmp_capabilities' return and one
	# for each line.
	if [ "$(printf '%s\n' "$_r" | grep -c '"return": ')" -ge $# ] &&
	   ! printf '%s\n' "$_r" | grep -q '"error": '; then ok "$_w"; else
		bad "$_w: the replies were:"; printf '%s\n' "$_r" | head -20; fi
}
# qmp_stay SOCKET SECS [LINE]...: negotiate, send the lines at once, stay
# connected SECS seconds (events keep coming) or until rivet ends (it
# removes its socket); print all that came back.
qmp_stay() {
	_s=$1 _t=$2
	shift 2
	{
		printf '{"execute": "qmp_capabilities"}\r\n'
		for _l in "$@"; do printf '%s\r\n' "$_l"; done
		_i=0
		while [ $_i -lt "$_t" ] && [ -S "$_s" ]; do
			sleep 1
			_i=$((_i + 1))
		done
	} | socat -t 3 - "UNIX-CONNECT:$_s" 2>&1
}
# listen SOCKET OUT STOPFILE: a negotiated client in the background that
# stays connected, every event into OUT, until STOPFILE exists; $lpid.
listen() {
	rm -f "$3"
	{
		printf '{"execute": "qmp_capabilities"}\r\n'
		while [ ! -e "$3" ]; do sleep 1; done
	} | socat -t 5 - "UNIX-CONNECT:$1" >"$2" 2>&1 &
	lpid=$!
}
# wait_for PATTERN FILE SECS: until FILE has a line matching the extended
# regex PATTERN; 1 after SECS seconds without.
wait_for() {
	_i=0
	while ! grep -Eq -- "$1" "$2" 2>/dev/null; do
		[ $_i -ge "$3" ] && return 1
		sleep 1
		_i=$((_i + 1))
	done
}
# wait_sock PATH: until PATH is a socket (60 s at most).
wait_sock() {
	_i=0
	while [ ! -S "$1" ] && [ $_i -lt 60 ]; do sleep 1; _i=$((_i + 1)); done
}
# migrate_wait SOCKET DIR SECS [channels]: QMP migrate to file:DIR (a
# snapshot; with "channels", QEMU 10's other form of it), then
# query-migrate until it says completed or failed (SECS at most); the last
# reply in $mig.  1 if it was refused or never finished.
migrate_wait() {
	_a="\"uri\": \"file:$2\""
	[ "${4:-}" = channels ] &&
		_a="\"channels\": [{\"channel-type\": \"main\", \"addr\": {\"transport\": \"file\", \"filename\": \"$2\"}}]"
	mig=$(qmp "$1" "{\"execute\": \"migrate\", \"arguments\": {$_a}}")
	printf '%s\n' "$mig" | grep -q '"return": {}' || return 1
	_i=0
	while [ $_i -lt "$3" ]; do
		mig=$(qmp "$1" '{"execute": "query-migrate"}')
		# The reply, not a MIGRATION event (which says it earlier).
		printf '%s\n' "$mig" | grep -Eq '"return": \{"status": "(completed|failed)"' &&
			return 0
		sleep 1
		_i=$((_i + 1))
	done
	return 1
}
# power_off PID SECS WHAT: after a system_powerdown, wait up to SECS for
# rivet (PID) to end (killed, and counted as failed, if it does not); its
# exit status checked to be 0.
power_off() {
	_i=0
	while kill -0 "$1" 2>/dev/null && [ $_i -lt "$2" ]; do
		sleep 1
		_i=$((_i + 1))
	done
	if kill -0 "$1" 2>/dev/null; then
		bad "$3 did not power off within $2 s"
		kill "$1"
	fi
	wait "$1"
	check "rivet ends with status 0" "$?" '^0$'
}
