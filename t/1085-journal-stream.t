#!/bin/sh
# 1085-journal-stream.t: segue writes to the journal natively only when its
# stderr is the journal: with JOURNAL_STREAM naming another file, or not
# well formed, or with a log-file, its events go where they went before and
# the journal gets none of them.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/journal.sh"
plan 15

J=$T/journal.jsonl
start_journal "$J"
ok $? "a fake journald listens on $JOURNAL_SOCKET in a mount namespace"

# journal_quiet MARK: the journal holds no entry from segue, judged once a
# marker sent after them has arrived (a socket's datagrams keep their order).
journal_quiet() {
	printf 'MESSAGE=marker %s\n' "$1" |
		nsenter --mount="/proc/$JOURNAL_PID/ns/mnt" "$DGRAM" "$JOURNAL_SOCKET" || return 1
	"$EVENTS" -c -n 1 -w 10 "$J" "MESSAGE=marker $1" >/dev/null || return 1
	[ "$("$EVENTS" -c "$J" SYSLOG_IDENTIFIER=segue)" = 0 ]
}

# run_case WHAT STREAM SEGUE-ARGS...: segue with JOURNAL_STREAM=STREAM, a
# reload and a stop, whose events are read from $SEGUE_LOG (2 tests).
n=0
run_case() {
	local what=$1 stream=$2
	shift 2
	n=$((n + 1))
	start_segue_in_journal "$stream" -s "$T/c$n.sock" "$@"
	wait_event event=started && kill -HUP "$SEGUE_PID" && wait_event event=reload_succeeded
	ok $? "$what: the events are written as before"
	stop_segue
	check "$what: the journal gets none of them" -- journal_quiet "$n"
}

: >"$SEGUE_LOG"
: >"$T/other"
port=$(free_port)
quick="-l 127.0.0.1:$port -- $DEMO"
stream=$(stream_of "$SEGUE_LOG")
diag "segue's stderr is $stream"
run_case "JOURNAL_STREAM of another file" "$(stream_of "$T/other")" $quick
run_case "JOURNAL_STREAM empty" "" $quick
run_case "JOURNAL_STREAM with more after the inode" "${stream}0" $quick
run_case "JOURNAL_STREAM with a sign" "+$stream" $quick
run_case "JOURNAL_STREAM without its inode" "${stream%%:*}" $quick

# stderr is the journal, but a log-file is set: the file gets the events
CONTROL=$T/c-file.sock
app_conf "$T/segue.conf" "$port" "$DEMO" "ready = \"delay\"" "ready-delay = \"100ms\""
printf 'log-file = "%s"\n' "$T/file.log" >>"$T/segue.conf"
SEGUE_STDERR=$SEGUE_LOG
SEGUE_LOG=$T/file.log
: >"$SEGUE_LOG"
run_case "a log-file" "$stream" -c "$T/segue.conf"
SEGUE_LOG=$SEGUE_STDERR
unset SEGUE_STDERR

# and without one, the same stream is the journal
start_segue_in_journal "$stream" -s "$T/c-last.sock" $quick
journal_wait "$J" SYSLOG_IDENTIFIER=segue SEGUE_EVENT=started
ok $? "the same JOURNAL_STREAM without a log-file: started goes to the journal"
journal_wait "$J" SEGUE_EVENT=worker_ready
stop_segue
is "$SEGUE_STATUS" 0 "segue exits 0"
