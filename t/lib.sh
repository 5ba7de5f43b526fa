# lib.sh: a small TAP library for segue's shell tests.
# SPDX-License-Identifier: MIT
#
# Each test sources this file, calls plan N (or done_testing at the end),
# and uses ok/is/like. start_segue runs a supervisor whose log is kept in
# $T/segue.log; wait_log waits for a log line with a deadline. Everything a
# test started is killed when it exits, by pid, and $T is removed unless
# the test failed (then it is kept and its path printed).

set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
SEGUE=$top_builddir/src/segue
SEGUECTL=$top_builddir/src/seguectl
DEMO=$top_builddir/examples/demo
PROBE=$top_builddir/t/helpers/probe
LOADGEN=$top_builddir/t/helpers/loadgen
FREEPORT=$top_builddir/t/helpers/freeport

T=$(mktemp -d "${TMPDIR:-/tmp}/segue-test.XXXXXX")
_tap_n=0
_tap_failed=0
_tap_planned=
_pids=

plan() { _tap_planned=$1; echo "1..$1"; }
diag() { printf '# %s\n' "$*"; }

ok() {
	# ok COND-STATUS DESCRIPTION: pass when the status is 0
	local status=$1; shift
	_tap_n=$((_tap_n + 1))
	if [ "$status" -eq 0 ]; then
		echo "ok $_tap_n - $*"
	else
		echo "not ok $_tap_n - $*"
		_tap_failed=$((_tap_failed + 1))
	fi
	return "$status"
}

check() {
	# check DESCRIPTION -- COMMAND...: pass when the command succeeds
	local desc=$1; shift
	[ "${1:-}" = "--" ] && shift
	"$@"
	ok $? "$desc"
}

is() {
	# is GOT WANT DESCRIPTION
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "got:  '$1'"
		diag "want: '$2'"
		return 1
	fi
}

like() {
	# like GOT REGEX DESCRIPTION
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "got:  '$1'"
		diag "want match: '$2'"
		return 1
	fi
}

skip_all() { echo "1..0 # SKIP $*"; _tap_planned=0; exit 0; }

bail() { echo "Bail out! $*"; exit 1; }

done_testing() {
	if [ -z "$_tap_planned" ]; then
		echo "1..$_tap_n"
		_tap_planned=$_tap_n
	fi
}

_cleanup() {
	local status=$?
	for pid in $_pids; do
		kill -KILL "$pid" 2>/dev/null
	done
	# The supervisor's workers are in their own process groups. A pid in
	# the log may have been reused by now, by another test's worker even:
	# only a process whose SEGUE_CONTROL lies in $T is one of ours.
	if [ -f "$T/segue.log" ]; then
		for pid in $(sed -n 's/.*event=worker_spawned.* pid=\([0-9]*\).*/\1/p' "$T/segue.log"); do
			tr '\0' '\n' 2>/dev/null < "/proc/$pid/environ" |
				grep -q "^SEGUE_CONTROL=$T/" && kill -KILL "-$pid" 2>/dev/null
		done
	fi
	# The verdict is the TAP stream's: every planned test ran and passed.
	# A script's last command may fail harmlessly (a kill of a process
	# already gone); an early exit shows as a short plan.
	if [ -n "$_tap_planned" ] && [ "$_tap_n" = "$_tap_planned" ] && [ "$_tap_failed" = 0 ]; then
		status=0
	elif [ "$status" = 0 ]; then
		status=1
	fi
	if [ $status -ne 0 ]; then
		echo "# kept $T for inspection"
		[ -f "$T/segue.log" ] && tail -n 40 "$T/segue.log" | sed 's/^/# log: /'
	else
		rm -rf "$T"
	fi
	exit $status
}
trap _cleanup EXIT
trap 'exit 129' HUP INT TERM

# wait_for SECONDS COMMAND...: run COMMAND until it succeeds or time is up
wait_for() {
	local limit=$1; shift
	local end=$(( $(date +%s%N) / 1000000 + limit * 1000 ))
	while ! "$@"; do
		if [ $(( $(date +%s%N) / 1000000 )) -ge $end ]; then
			return 1
		fi
		sleep 0.02
	done
}

# start_segue ARGS...: starts segue in the background with its log in
# $T/segue.log and waits for its "started" event (5 s at most).
start_segue() {
	: > "$T/segue.log"
	"$SEGUE" "$@" >>"$T/segue.log" 2>&1 &
	SEGUE_PID=$!
	_pids="$_pids $SEGUE_PID"
	if ! wait_for 5 segue_logged 'event=started'; then
		diag "segue did not start:"
		sed 's/^/# /' "$T/segue.log"
		return 1
	fi
}

segue_alive() { kill -0 "$SEGUE_PID" 2>/dev/null; }

# segue_logged PATTERN [N]: the log holds at least N (default 1) lines
# matching the extended regex PATTERN.
segue_logged() {
	local n
	n=$(grep -Ec -- "$1" "$T/segue.log" 2>/dev/null)
	[ "${n:-0}" -ge "${2:-1}" ]
}

# wait_log PATTERN [N] [SECONDS]: waits for N matching lines; fails at
# once if segue died.
wait_log() {
	local pattern=$1 n=${2:-1} limit=${3:-10}
	local end=$(( $(date +%s%N) / 1000000 + limit * 1000 ))
	while ! segue_logged "$pattern" "$n"; do
		if ! segue_alive; then
			diag "segue exited while waiting for /$pattern/"
			return 1
		fi
		if [ $(( $(date +%s%N) / 1000000 )) -ge $end ]; then
			diag "timed out after ${limit}s waiting for $n x /$pattern/"
			return 1
		fi
		sleep 0.02
	done
}

# reload_times N: sends SIGHUP N times, each once the previous reload has
# ended (succeeded or failed; 20 s at most each). Fails at the first reload
# that does not end.
reload_times() {
	local n=$1 i=0 base
	base=$(grep -Ec 'event=reload_(succeeded|failed)' "$T/segue.log")
	while [ $i -lt "$n" ]; do
		kill -HUP "$SEGUE_PID"
		i=$((i + 1))
		wait_log 'event=reload_(succeeded|failed)' $((base + i)) 20 || return 1
	done
}

# stop_segue: TERM, then waits for its exit (10 s); sets SEGUE_STATUS.
stop_segue() {
	kill -TERM "$SEGUE_PID" 2>/dev/null
	wait_for 10 eval '! kill -0 $SEGUE_PID 2>/dev/null'
	wait "$SEGUE_PID" 2>/dev/null
	SEGUE_STATUS=$?
}

# log_field EVENT FIELD: FIELD's value on the last EVENT line.
log_field() {
	grep -E "event=$1( |$)" "$T/segue.log" | tail -n 1 |
		sed -n "s/.* $2=\\(\"[^\"]*\"\\|[^ ]*\\).*/\\1/p" | tr -d '"'
}

free_port() { "$FREEPORT"; }

# zombies_of PID: how many zombie children PID has.
zombies_of() {
	local parent=$1 n=0 stat line
	for stat in /proc/[0-9]*/stat; do
		line=$(cat "$stat" 2>/dev/null) || continue
		# fields after "(comm) ": state ppid ...; comm may hold spaces
		set -- ${line##*) }
		[ "$1" = Z ] && [ "$2" = "$parent" ] && n=$((n + 1))
	done
	echo $n
}

# fd_count PID: open descriptors of PID.
fd_count() { ls "/proc/$1/fd" | wc -l; }

# rss_kib PID: resident set size of PID in KiB.
rss_kib() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
