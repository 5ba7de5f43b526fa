# journal.sh: helpers of the journal tests (t/108*.t): a fake journald in a
# mount namespace, and segue in it. Sourced after lib.sh.
# SPDX-License-Identifier: MIT
#
# segue sends native entries to the fixed path /run/systemd/journal/socket.
# These tests put a tmpfs over /run/systemd (or what exists of it) in a mount
# namespace of their own, where t/helpers/journalrecv listens on that path
# and writes each entry it receives as a JSON line; segue runs in the same
# namespace, so nothing outside it is touched:
#   start_journal FILE            a receiver in a new namespace (JOURNAL_PID)
#   start_journal_in PID FILE     another one, in PID's namespace
#   start_segue_in_journal STREAM ARGS...
#                                 segue (--log-format $LOG_FORMAT) in the
#                                 receiver's namespace, JOURNAL_STREAM=STREAM,
#                                 its stderr in $SEGUE_LOG (emptied first;
#                                 in $SEGUE_STDERR when set); sets SEGUE_PID
#   stream_of FILE                FILE's "DEVICE:INODE", as systemd sets it
#   journal_wait [-n N] FILE FILTER...
#                                 waits (10 s) for N entries of FILE (1)
#   journal_field FIELD FILE FILTER...  FIELD of the last matching entry
# Entries are read with t/helpers/events, fields by their journal names:
# SEGUE_EVENT=reload_failed, PRIORITY=3.

JOURNALRECV=$top_builddir/t/helpers/journalrecv
JOURNAL_SOCKET=/run/systemd/journal/socket

[ "$(id -u)" = 0 ] || skip_all "needs root for a mount namespace"
command -v unshare >/dev/null && command -v nsenter >/dev/null ||
	skip_all "unshare and nsenter (util-linux) are not installed"
unshare --mount true 2>/dev/null || skip_all "unshare --mount is not allowed here"

# _journal_mount_and_exec FILE: in a new mount namespace, a tmpfs over the
# deepest of /run/systemd/journal, /run/systemd, /run that exists, then the
# receiver.
_journal_script='
for d in /run/systemd/journal /run/systemd /run; do [ -d "$d" ] && break; done
mount -t tmpfs -o mode=0755 segue-test-journal "$d" && mkdir -p /run/systemd/journal &&
	exec "$0" /run/systemd/journal/socket "$1"'

start_journal() {
	rm -f "$1"
	unshare --mount sh -c "$_journal_script" "$JOURNALRECV" "$1" 2>>"$T/journalrecv.err" &
	JOURNAL_PID=$!
	register_pid "$JOURNAL_PID"
	_journal_files="${_journal_files:-} $1"
	wait_for 5 test -e "$1" || { sed 's/^/# /' "$T/journalrecv.err"; return 1; }
}

start_journal_in() {
	rm -f "$2"
	nsenter --mount="/proc/$1/ns/mnt" "$JOURNALRECV" "$JOURNAL_SOCKET" "$2" \
		2>>"$T/journalrecv.err" &
	JOURNAL_PID=$!
	register_pid "$JOURNAL_PID"
	_journal_files="${_journal_files:-} $2"
	wait_for 5 test -e "$2"
}

stream_of() { stat -c '%d:%i' "$1"; }

start_segue_in_journal() {
	local stream=$1 out=${SEGUE_STDERR:-$SEGUE_LOG}
	shift
	fresh_log
	JOURNAL_STREAM=$stream nsenter --mount="/proc/$JOURNAL_PID/ns/mnt" \
		"$SEGUE" --log-format="$LOG_FORMAT" "$@" >>"$out" 2>&1 &
	SEGUE_PID=$!
	register_pid "$SEGUE_PID"
}

journal_wait() {
	local n=1
	[ "$1" = -n ] && { n=$2; shift 2; }
	local err
	err=$("$EVENTS" -c -n "$n" -w 10 -p "$SEGUE_PID" "$@" 2>&1 >/dev/null) && return 0
	diag "$err"
	return 1
}

journal_field() {
	local field=$1
	shift
	"$EVENTS" -n -1 -f "$field" "$@"
}

# The workers of a segue that logged to the journal are named there, not
# in $SEGUE_LOG: killed too when the test exits (as lib.sh's cleanup does).
_journal_cleanup() {
	local f pid
	for f in ${_journal_files:-}; do
		[ -f "$f" ] || continue
		for pid in $("$EVENTS" -a -f SEGUE_PID "$f" SEGUE_EVENT=worker_spawned 2>/dev/null); do
			tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" |
				grep -q "^SEGUE_CONTROL=$T/" && kill -KILL "-$pid" 2>/dev/null
		done
	done
}
trap '_journal_status=$?; _journal_cleanup; (exit $_journal_status); _cleanup' EXIT
