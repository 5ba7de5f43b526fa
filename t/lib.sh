# lib.sh: the shared library of segue's shell tests: TAP, starting segue
# (also under a fake systemd), its events, status queries, load, cleanup.
# SPDX-License-Identifier: MIT
#
# Each test sources this file, calls plan N (or done_testing at the end),
# and uses ok/is/like/check. start_segue runs a supervisor whose log is kept
# in $SEGUE_LOG ($T/segue.log), in the format SEGUE_TEST_LOG_FORMAT names
# (logfmt, the default, or json): the suite passes with either.
#
# Tests read events through t/helpers/events, which understands both
# formats, and match on fields, never on the layout of a line:
#   wait_event -n 2 event=worker_ready          waits, with a deadline
#   event_field pid event=worker_spawned slot=1 the last such event's pid
#   event_count 'event~^reload_(succeeded|failed)$'
# A FILTER is FIELD=VALUE, FIELD!=VALUE, FIELD~REGEX or FIELD!~REGEX; a
# bare word is an event name (see t/helpers/events.c).
#
# Everything a test started is killed when it exits, by pid (register_pid),
# with the process groups of the workers its segues logged; $T is removed
# unless the test failed (then it is kept and its path printed).

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
RAW=$top_builddir/t/helpers/rawclient
DGRAM=$top_builddir/t/helpers/dgram
UDPRECV=$top_builddir/t/helpers/udprecv
FAKESD=$top_builddir/t/helpers/fakesystemd
EVENTS=$top_builddir/t/helpers/events

T=$(mktemp -d "${TMPDIR:-/tmp}/segue-test.XXXXXX")
# The log the event helpers read, and the control socket the status
# helpers ask: a test may point them elsewhere.
SEGUE_LOG=$T/segue.log
CONTROL=$T/control.sock
LOG_FORMAT=${SEGUE_TEST_LOG_FORMAT:-logfmt}
# A filter for the end of a reload, either way.
RELOAD_ENDED='event~^reload_(succeeded|failed)$'

_tap_n=0
_tap_failed=0
_tap_planned=
_pids=
_logs=

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

# for_nobody PROGRAM: the path of a copy of PROGRAM that another user can
# run: in $T/nobody (the build tree may be where only root can reach, as
# a clone under /root, mode 700, and a test acting as nobody would then
# prove nothing).
for_nobody() {
	mkdir -p "$T/nobody" && chmod 755 "$T" "$T/nobody" &&
		cp "$1" "$T/nobody/" && echo "$T/nobody/${1##*/}"
}

# skip_all REASON: the test cannot run here. Before its plan, a plan of
# nothing; after it, the planned tests left, each skipped (a second plan
# line would be an error).
skip_all() {
	if [ -z "$_tap_planned" ]; then
		echo "1..0 # SKIP $*"
		_tap_planned=0
	fi
	while [ "$_tap_n" -lt "$_tap_planned" ]; do
		_tap_n=$((_tap_n + 1))
		echo "ok $_tap_n # SKIP $*"
	done
	exit 0
}

bail() { echo "Bail out! $*"; exit 1; }

done_testing() {
	if [ -z "$_tap_planned" ]; then
		echo "1..$_tap_n"
		_tap_planned=$_tap_n
	fi
}

case $LOG_FORMAT in
logfmt | json) ;;
*) bail "SEGUE_TEST_LOG_FORMAT must be logfmt or json, not '$LOG_FORMAT'" ;;
esac

# --- processes -------------------------------------------------------------

# register_pid PID...: kill these when the test exits; -PGID names a
# process group.
register_pid() { _pids="$_pids $*"; }

# unregister_pid PID: forget PID (reaped: its number may be reused).
unregister_pid() { _pids=$(echo " $_pids " | sed "s/ $1 / /g"); }

# gone PID: PID has exited (a zombie counts as gone).
gone() {
	! kill -0 "$1" 2>/dev/null ||
		[ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c 1)" = Z ]
}

# _register_log FILE: a log whose workers the cleanup kills.
_register_log() {
	case " $_logs " in
	*" $1 "*) ;;
	*) _logs="$_logs $1" ;;
	esac
}

# _kill_workers LOG: the supervisor's workers are in their own process
# groups. A pid in the log may have been reused by now, by another test's
# worker even: only a process whose SEGUE_CONTROL lies in $T is one of ours.
_kill_workers() {
	local pid
	for pid in $("$EVENTS" -a -f pid "$1" event=worker_spawned 2>/dev/null); do
		tr '\0' '\n' 2>/dev/null < "/proc/$pid/environ" |
			grep -q "^SEGUE_CONTROL=$T/" && kill -KILL "-$pid" 2>/dev/null
	done
}

_cleanup() {
	local status=$? pid log
	for pid in $_pids; do
		kill -KILL "$pid" 2>/dev/null
	done
	for log in $_logs; do
		[ -f "$log" ] && _kill_workers "$log"
	done
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
		[ -f "$SEGUE_LOG" ] && tail -n 40 "$SEGUE_LOG" | sed 's/^/# log: /'
	else
		rm -rf "$T"
	fi
	exit $status
}
trap _cleanup EXIT
trap 'exit 129' HUP INT TERM

# --- time --------------------------------------------------------------------

# now_ms: the wall clock in milliseconds since the epoch (as event_ms).
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# wait_for SECONDS COMMAND...: run COMMAND until it succeeds or time is up
wait_for() {
	local limit=$1; shift
	local end=$(( $(now_ms) + limit * 1000 ))
	while ! "$@"; do
		if [ "$(now_ms)" -ge $end ]; then
			return 1
		fi
		sleep 0.02
	done
}

# --- starting and stopping segue ---------------------------------------------

# _has_log_format ARGS...: ARGS choose a log format themselves.
_has_log_format() {
	local a
	for a; do
		case $a in --log-format*) return 0 ;; esac
	done
	return 1
}

# exec_with_log_format COMMAND...: execs COMMAND with --log-format
# $LOG_FORMAT after its first word that is $SEGUE (unless COMMAND chooses
# a format). It replaces the shell: run it in the background or a
# subshell, as `exec_with_log_format systemd-socket-activate ... &`.
exec_with_log_format() {
	local n=$# a added=
	_has_log_format "$@" && added=1
	while [ "$n" -gt 0 ]; do
		a=$1; shift; n=$((n - 1))
		set -- "$@" "$a"
		if [ -z "$added" ] && [ "$a" = "$SEGUE" ]; then
			set -- "$@" "--log-format=$LOG_FORMAT"
			added=1
		fi
	done
	exec "$@"
}

# fresh_log: empties $SEGUE_LOG for a new segue; what it held is appended
# to $SEGUE_LOG.earlier (the cleanup reads both).
fresh_log() {
	[ -s "$SEGUE_LOG" ] && cat "$SEGUE_LOG" >> "$SEGUE_LOG.earlier"
	: > "$SEGUE_LOG"
	_register_log "$SEGUE_LOG"
	_register_log "$SEGUE_LOG.earlier"
}

# start_segue ARGS...: starts segue in the background with --log-format
# $LOG_FORMAT (unless ARGS choose one) and its output in $SEGUE_LOG
# (emptied first; in SEGUE_STDERR instead when that is set, for a segue
# with a log-file), and waits (5 s) for its started event. Sets SEGUE_PID.
start_segue() {
	local out=${SEGUE_STDERR:-$SEGUE_LOG}
	fresh_log
	[ "$out" = "$SEGUE_LOG" ] || : > "$out"
	if _has_log_format "$@"; then
		"$SEGUE" "$@" >>"$out" 2>&1 &
	else
		"$SEGUE" --log-format="$LOG_FORMAT" "$@" >>"$out" 2>&1 &
	fi
	SEGUE_PID=$!
	register_pid "$SEGUE_PID"
	if ! wait_event -t 5 event=started; then
		diag "segue did not start:"
		sed 's/^/# /' "$out"
		return 1
	fi
}

segue_alive() { kill -0 "$SEGUE_PID" 2>/dev/null; }

# stop_segue: TERM, then waits for its exit (10 s); sets SEGUE_STATUS.
stop_segue() {
	kill -TERM "$SEGUE_PID" 2>/dev/null
	wait_for 10 gone "$SEGUE_PID"
	wait "$SEGUE_PID" 2>/dev/null
	SEGUE_STATUS=$?
}

# start_fakesystemd [FAKESYSTEMD-OPTIONS...] DIR -- COMMAND...: runs
# COMMAND under t/helpers/fakesystemd with its state in DIR (set as SD) and
# its output in $SEGUE_LOG (emptied first); the segue in COMMAND gets
# --log-format $LOG_FORMAT. Sets FAKE_PID, then SEGUE_PID to the child
# once it runs (5 s), and waits (5 s) for segue's started event.
start_fakesystemd() {
	local a
	SD=
	for a; do
		[ "$a" = -- ] && break
		SD=$a
	done
	mkdir -p "$SD"
	fresh_log
	exec_with_log_format "$FAKESD" "$@" >>"$SEGUE_LOG" 2>&1 &
	FAKE_PID=$!
	register_pid "$FAKE_PID"
	wait_for 5 test -s "$SD/child" || return 1
	SEGUE_PID=$(cat "$SD/child")
	wait_event -t 5 event=started
}

# stop_fakesystemd [PID]: TERM to PID (default FAKE_PID, which passes it
# to segue), waits (20 s) for fakesystemd to exit; sets SD_STATUS to its
# exit status, which is segue's.
stop_fakesystemd() {
	kill -TERM "${1:-$FAKE_PID}" 2>/dev/null
	wait_for 20 gone "$FAKE_PID"
	wait "$FAKE_PID"
	SD_STATUS=$?
}

# sd_ready_from PID: fakesystemd ($SD) got READY=1 from PID.
sd_ready_from() { grep -Eq "^[0-9]+ $1 (.*\\|)?READY=1(\\||\$)" "$SD/notify.log"; }

# --- events ----------------------------------------------------------------

# log_lines: how many lines $SEGUE_LOG holds now (a mark for wait_event -s).
log_lines() { wc -l < "$SEGUE_LOG"; }

# wait_event [-n N] [-t SECONDS] [-s LINES] FILTER...: waits until
# $SEGUE_LOG holds N (default 1) events matching every FILTER (after its
# first LINES lines), 10 s at most; fails at once if segue ($SEGUE_PID)
# has exited without them.
wait_event() {
	local n=1 limit=10 skip=0 err
	while [ $# -gt 0 ]; do
		case $1 in
		-n) n=$2; shift 2 ;;
		-t) limit=$2; shift 2 ;;
		-s) skip=$2; shift 2 ;;
		*) break ;;
		esac
	done
	err=$("$EVENTS" -c -n "$n" -w "$limit" -s "$skip" ${SEGUE_PID:+-p "$SEGUE_PID"} \
		"$SEGUE_LOG" "$@" 2>&1 >/dev/null) && return 0
	diag "$err"
	return 1
}

# event_count FILTER...: how many events of $SEGUE_LOG match.
event_count() { "$EVENTS" -c "$SEGUE_LOG" "$@"; }

# _take_n DEFAULT ARGS...: _N is N of a leading "-n N" in ARGS, else
# DEFAULT; _SHIFT is how many words that took.
_take_n() {
	_N=$1 _SHIFT=0
	if [ "${2:-}" = -n ]; then
		_N=$3 _SHIFT=2
	fi
}

# has_event [-n N] FILTER...: $SEGUE_LOG holds N (default 1) matching events.
has_event() {
	_take_n 1 "$@"; shift $_SHIFT
	"$EVENTS" -c -n "$_N" "$SEGUE_LOG" "$@" >/dev/null
}

# event_field [-n N] FIELD FILTER...: FIELD of the Nth matching event (1
# the first; the default, -1, the last). The pseudo field @ms is its time.
event_field() {
	local field
	_take_n -1 "$@"; shift $_SHIFT
	field=$1; shift
	"$EVENTS" -n "$_N" -f "$field" "$SEGUE_LOG" "$@"
}

# event_fields FIELD FILTER...: FIELD of every matching event, a line each.
event_fields() {
	local field=$1; shift
	"$EVENTS" -a -f "$field" "$SEGUE_LOG" "$@"
}

# event_json [-n N] FILTER...: the Nth (default the last) matching event as
# one line of JSON.
event_json() { _take_n -1 "$@"; shift $_SHIFT; "$EVENTS" -n "$_N" "$SEGUE_LOG" "$@"; }

# event_text [-n N] TEMPLATE FILTER...: TEMPLATE with each {FIELD} replaced
# by that field of the Nth (default the last) matching event.
event_text() {
	local template
	_take_n -1 "$@"; shift $_SHIFT
	template=$1; shift
	"$EVENTS" -n "$_N" -o "$template" "$SEGUE_LOG" "$@"
}

# event_ms [-n N] FILTER...: the time of that event, in ms since the epoch.
event_ms() { _take_n -1 "$@"; shift $_SHIFT; event_field -n "$_N" @ms "$@"; }

# Older names, kept for the tests that use them: they match an extended
# regex on each line as logfmt (a JSON event is rendered as logfmt first).
# segue_logged PATTERN [N]: the log holds at least N (default 1) such lines.
segue_logged() { has_event -n "${2:-1}" "@text~$1"; }
# wait_log PATTERN [N] [SECONDS]: waits for N such lines (10 s); fails at
# once if segue died.
wait_log() { wait_event -n "${2:-1}" -t "${3:-10}" "@text~$1"; }
# log_field EVENT FIELD: FIELD's value on the last EVENT line.
log_field() { event_field "$2" "event=$1"; }

# reload_times N: sends SIGHUP N times, each once the previous reload has
# ended (succeeded or failed; 20 s at most each). Fails at the first reload
# that does not end.
reload_times() {
	local n=$1 i=0 mark
	while [ $i -lt "$n" ]; do
		mark=$(log_lines)
		kill -HUP "$SEGUE_PID"
		i=$((i + 1))
		wait_event -s "$mark" -t 20 "$RELOAD_ENDED" || return 1
	done
}

# --- the control socket --------------------------------------------------------

# ctl ARGS...: runs seguectl on $CONTROL; sets RC, OUT and ERR.
ctl() {
	"$SEGUECTL" -s "$CONTROL" "$@" >"$T/ctl.out" 2>"$T/ctl.err"
	RC=$?
	OUT=$(cat "$T/ctl.out")
	ERR=$(cat "$T/ctl.err")
}

# control REQUEST: segue's answer to one request line on $CONTROL, as sent.
control() { printf '%s\n' "$1" | "$RAW" -l 1 -t 2 "$CONTROL"; }

# status_json, health_json: segue's answer (seguectl --json), one line.
status_json() { timeout 10 "$SEGUECTL" -s "$CONTROL" --json status 2>/dev/null; }
health_json() { timeout 10 "$SEGUECTL" -s "$CONTROL" --json health 2>/dev/null; }

# status_field FIELD, health_field FIELD: a field of the answer as text
# (generation, reloading; ok, problems as JSON).
status_field() { status_json | "$EVENTS" -f "$1" -; }
health_field() { health_json | "$EVENTS" -f "$1" -; }

# status_text TEMPLATE: TEMPLATE with each {FIELD} replaced from one status
# answer ('{reloading}/{generation}').
status_text() { status_json | "$EVENTS" -o "$1" -; }

# worker_field FIELD [FILTER...]: FIELD of every worker in status that
# matches the filters (pid=42, generation=2...), a line each.
worker_field() {
	local field=$1; shift
	status_json | "$EVENTS" -a -r 'programs[].workers[]' -f "$field" - "$@"
}

# _words: lines joined by spaces.
_words() { tr '\n' ' ' | sed 's/ $//'; }

# worker_state PID: that worker's state in status (empty when not listed).
worker_state() { worker_field state "pid=$1"; }

# worker_states: "GENERATION:STATE ..." of every worker in status, sorted.
worker_states() {
	status_json | "$EVENTS" -a -r 'programs[].workers[]' -o '{generation}:{state}' - |
		sort | _words
}

# program_counts: "NAME=DESIRED/READY ..." for every program, sorted by name.
program_counts() {
	status_json | "$EVENTS" -a -r 'programs[]' -o '{name}={desired}/{ready}' - | sort | _words
}

# program_workers GENERATION STATE: "NAME:COUNT ..." of GENERATION's workers
# in STATE, for every program, sorted by name.
program_workers() {
	local st name
	st=$(status_json)
	for name in $(printf '%s\n' "$st" | "$EVENTS" -a -r 'programs[]' -f name -); do
		echo "$name:$(printf '%s\n' "$st" | "$EVENTS" -c -r 'programs[].workers[]' - \
			"programs.name=$name" "generation=$1" "state=$2")"
	done | sort | _words
}

# --- configs, releases, load -----------------------------------------------------

# app_conf FILE PORT COMMAND [LINE...]: writes a config to FILE: the control
# socket $CONTROL, socket web on 127.0.0.1:PORT (on PORT itself when it
# holds a ':', as systemd:web; no socket when it is ""), and program app
# running COMMAND on it, with each LINE (such as 'workers = 2') added to it.
app_conf() {
	local file=$1 listen=127.0.0.1:$2 command=$3 line
	shift 3
	case $listen in *:*:*) listen=${listen#127.0.0.1:} ;; esac
	: > "$file"
	if [ "$listen" != 127.0.0.1: ]; then
		printf 'socket web { listen = "%s" }\n' "$listen" > "$file"
		set -- 'sockets = { "web" }' "$@"
	fi
	{
		printf 'control = "%s"\nprogram app {\n  command = "%s"\n' "$CONTROL" "$command"
		for line; do printf '  %s\n' "$line"; done
		echo "}"
	} >> "$file"
}

# mode_app FILE COMMAND [STATUS]: writes FILE, a worker that exits STATUS
# (default 1) at once while $T/mode holds "bad", and else execs COMMAND
# (shell words); $T/mode starts as "good".
mode_app() {
	echo good > "$T/mode"
	printf '#!/bin/sh\n[ "$(cat "%s")" = bad ] && exit %s\nexec %s\n' \
		"$T/mode" "${3:-1}" "$2" > "$1"
	chmod +x "$1"
}

# demo_release NAME [DEMO-OPTIONS...]: $T/releases/NAME, a release whose
# ./app runs the demo app with DEMO-OPTIONS.
demo_release() {
	local name=$1
	shift
	mkdir -p "$T/releases/$name"
	printf '#!/bin/sh\nexec %s %s\n' "$DEMO" "$*" > "$T/releases/$name/app"
	chmod +x "$T/releases/$name/app"
}

# deploy RELEASE: points $T/current at releases/RELEASE, as a deploy tool
# does (a new link renamed over the old one).
deploy() { ln -sfn "releases/$1" "$T/current.new" && mv -T "$T/current.new" "$T/current"; }

# set_handover FILE MODE [STEER-QUIESCE]: app_conf's one-line socket web
# in FILE gets handover = MODE (and steer-quiesce).
set_handover() {
	local extra=
	[ -z "${3:-}" ] || extra="\\n  steer-quiesce = \"$3\""
	sed -i 's/^socket web { listen = "\(.*\)" }$/socket web {\n  listen = "\1"\n  handover = "'"$2"'"'"$extra"'\n}/' \
		"$1"
}

# generations_answering PORT N: the generations that answered N requests
# to 127.0.0.1:PORT, each on a new connection, sorted, each once ("1 2"
# when both answered).
generations_answering() {
	local i=0
	while [ "$i" -lt "$2" ]; do
		curl -s -m 5 -D - -o /dev/null "http://127.0.0.1:$1/" |
			tr -d '\r' | sed -n 's/^[Xx]-[Ss]egue-[Gg]eneration: *//p'
		i=$((i + 1))
	done | sort -n | uniq | _words
}

# start_load PORT CONNS [LOADGEN-OPTIONS...]: loadgen's CONNS clients on
# 127.0.0.1:PORT until stop_load; waits (10 s) until requests flow.
start_load() {
	local port=$1 conns=$2
	shift 2
	rm -f "$T/stop" "$T/flowing"
	"$LOADGEN" -a "127.0.0.1:$port" -c "$conns" -d 300 -s "$T/stop" -w "$T/flowing" "$@" \
		> "$T/load.out" 2> "$T/load.err" &
	LOAD_PID=$!
	register_pid "$LOAD_PID"
	wait_for 10 test -e "$T/flowing" || diag "no response within 10 s"
}

# stop_load [LABEL]: ends the load; LOAD_RESULT is loadgen's summary
# ("requests=N errors=N connect_errors=N ... generations=..."), shown with
# the first lines of its errors.
stop_load() {
	touch "$T/stop"
	wait "$LOAD_PID"
	unregister_pid "$LOAD_PID"
	LOAD_RESULT=$(cat "$T/load.out")
	diag "${1:+$1: }$LOAD_RESULT"
	sed 's/^/# /' "$T/load.err" | head -n 20
}

# --- sockets and processes ---------------------------------------------------------

free_port() { "$FREEPORT"; }

# listen_inode PORT: the inode of the socket listening on 127.0.0.1:PORT.
listen_inode() {
	awk -v a="$(printf '0100007F:%04X' "$1")" '$2 == a && $4 == "0A" { print $10 }' /proc/net/tcp
}

# port_listening PORT: a socket listens on 127.0.0.1:PORT.
port_listening() { [ -n "$(listen_inode "$1")" ]; }

# wait_port PORT [SECONDS]: waits (5 s) until 127.0.0.1:PORT listens.
wait_port() { wait_for "${2:-5}" port_listening "$1"; }

# port_connected PORT: a connection to PORT is established.
port_connected() { ss -Htn state established "( dport = :$1 )" | grep -q .; }

# holds_socket PID INODE: PID has that socket open.
holds_socket() { ls -l "/proc/$1/fd" 2>/dev/null | grep -q "socket:\\[$2\\]"; }

# has_lines FILE N: FILE has at least N lines.
has_lines() { [ "$(wc -l < "$1" 2>/dev/null || echo 0)" -ge "$2" ]; }

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

# in_groups PGID...: the pids of processes (any state) in these groups.
in_groups() {
	local groups="$*" stat line g found=
	for stat in /proc/[0-9]*/stat; do
		line=$(cat "$stat" 2>/dev/null) || continue
		# fields after "(comm) ": state ppid pgrp ...; comm may hold spaces
		set -- ${line##*) }
		for g in $groups; do
			[ "$3" = "$g" ] && found="$found ${stat#/proc/}"
		done
	done
	echo "${found# }" | sed 's|/stat||g'
}

# fd_count PID: open descriptors of PID.
fd_count() { ls "/proc/$1/fd" | wc -l; }

# rss_kib PID: resident set size of PID in KiB.
rss_kib() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
