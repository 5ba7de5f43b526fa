#!/bin/sh
# 1080-journal-native.t: when its stderr is the journal (JOURNAL_STREAM),
# segue sends each event to journald natively, with its fields (MESSAGE,
# PRIORITY, SYSLOG_IDENTIFIER, SEGUE_EVENT, SEGUE_PROGRAM, SEGUE_GENERATION,
# and every other field as SEGUE_<FIELD>), checked against a fake journald;
# when the journal refuses entries they go to stderr, none lost, said once,
# and they go back to the journal when it returns.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/journal.sh"
plan 40

J=$T/journal.jsonl
start_journal "$J"
ok $? "a fake journald listens on $JOURNAL_SOCKET in a mount namespace"

# F FIELD: FIELD of the entry (or event) in $E, as text.
F() { printf '%s\n' "$E" | "$EVENTS" -f "$1" -; }

port=$(free_port)
mode_app "$T/app.sh" "$DEMO"
# A newline in the config's path: config_rejected's file field holds it.
conf="$T/seg
ue.conf"
app_conf "$conf" "$port" "$T/app.sh" 'workers = 2' 'ready = "delay"' 'ready-delay = "200ms"' \
	'drain-timeout = "5s"'
: >"$SEGUE_LOG"
start_segue_in_journal "$(stream_of "$SEGUE_LOG")" -c "$conf"
journal_wait "$J" SEGUE_EVENT=started
ok $? "segue's started event reaches the journal"
journal_wait -n 2 "$J" SEGUE_EVENT=worker_ready
ok $? "so do both workers' worker_ready"

E=$("$EVENTS" -n -1 "$J" SEGUE_EVENT=worker_ready)
diag "worker_ready: $E"
is "$(F SEGUE_PROGRAM)" app "worker_ready: SEGUE_PROGRAM names the program"
is "$(F SEGUE_GENERATION)" 1 "worker_ready: SEGUE_GENERATION=1"
is "$(F PRIORITY)" 6 "worker_ready: PRIORITY=6 (info)"
is "$(F SYSLOG_IDENTIFIER)" segue "worker_ready: SYSLOG_IDENTIFIER=segue"
like "$(F MESSAGE)" '^ready after [0-9]+ ms$' "worker_ready: MESSAGE is the event's msg"
like "$(F SEGUE_PID)" '^[0-9]+$' "worker_ready: SEGUE_PID is the worker's pid"
is "$(F SEGUE_TS)$(F SEGUE_LEVEL)$(F SEGUE_MSG)" "" \
	"ts, level and msg are no SEGUE_ fields (the journal's timestamp, PRIORITY, MESSAGE)"

# The same events, as a control client sees them: every field of each is
# in its entry as SEGUE_<FIELD> (release too, once events carry it).
"$SEGUECTL" -s "$CONTROL" events >"$T/stream" 2>"$T/stream.err" &
register_pid $!
stream_synced() {
	"$SEGUECTL" -s "$CONTROL" scale app 2 >/dev/null 2>&1
	"$EVENTS" -c -n 1 "$T/stream" event=scaled >/dev/null
}
wait_for 10 stream_synced
ok $? "seguectl events follows the same events"

kill -HUP "$SEGUE_PID"
journal_wait "$J" SEGUE_EVENT=reload_succeeded
ok $? "a good reload: reload_succeeded reaches the journal"
E=$("$EVENTS" -n -1 "$J" SEGUE_EVENT=reload_succeeded)
diag "reload_succeeded: $E"
is "$(F SEGUE_GENERATION)" 2 "reload_succeeded: SEGUE_GENERATION=2"
is "$(F PRIORITY)" 6 "reload_succeeded: PRIORITY=6"
like "$(F MESSAGE)" '^generation 2 serving' "reload_succeeded: MESSAGE says so"

echo bad >"$T/mode"
kill -HUP "$SEGUE_PID"
journal_wait "$J" SEGUE_EVENT=reload_failed
ok $? "a bad reload: reload_failed reaches the journal"
E=$("$EVENTS" -n -1 "$J" SEGUE_EVENT=reload_failed)
diag "reload_failed: $E"
is "$(F PRIORITY)" 3 "reload_failed: PRIORITY=3 (error)"
is "$(F SEGUE_GENERATION)" 3 "reload_failed: SEGUE_GENERATION=3, the one rolled back"
like "$(F SEGUE_REASON)" 'exited with status 1' "reload_failed: SEGUE_REASON says why"
like "$(F MESSAGE)" '^generation 3 rolled back: ' "reload_failed: MESSAGE says so"
E=$("$EVENTS" -n 1 "$J" SEGUE_EVENT=worker_exited SEGUE_STATUS=1)
is "$(F SEGUE_PROGRAM)/$(F SEGUE_GENERATION)/$(F PRIORITY)" app/3/4 \
	"the worker that failed: SEGUE_PROGRAM=app, SEGUE_GENERATION=3, PRIORITY=4 (warn)"

# A value with a newline goes in the length-prefixed form, intact.
echo good >"$T/mode"
cp "$conf" "$T/good.conf"
echo 'program {{{' >"$conf"
kill -HUP "$SEGUE_PID"
journal_wait "$J" SEGUE_EVENT=config_rejected
ok $? "a config that does not parse: config_rejected reaches the journal"
E=$("$EVENTS" -n -1 "$J" SEGUE_EVENT=config_rejected)
diag "config_rejected: $E"
is "$(F SEGUE_FILE)" "$conf" "config_rejected: SEGUE_FILE holds the path, its newline intact"
like "$(F _binary)" '"SEGUE_FILE"' "the value with a newline came in the binary-safe form"
cp "$T/good.conf" "$conf"

# every field of each event, as the control client got it
same_fields() {
	local name=$1 ev en key k want got bad=
	ev=$("$EVENTS" -n -1 "$T/stream" "event=$name") || { diag "$name: not streamed"; return 1; }
	en=$("$EVENTS" -n -1 "$J" "SEGUE_EVENT=$name") || return 1
	# segue's keys are [a-z_]: each is a "key": of the compact line
	for key in $(printf '%s\n' "$ev" | grep -o '"[a-z_]*":' | tr -d '":'); do
		case $key in ts | level | msg) continue ;; esac
		k=SEGUE_$(printf '%s' "$key" | tr 'a-z-' 'A-Z_')
		want=$(printf '%s\n' "$ev" | "$EVENTS" -f "$key" -)
		got=$(printf '%s\n' "$en" | "$EVENTS" -f "$k" -)
		[ "$want" = "$got" ] || { bad="$bad $k"; diag "$name: $k='$got', want '$want'"; }
	done
	[ -z "$bad" ]
}
for name in scaled reload_succeeded reload_failed config_rejected; do
	check "$name: every field of the event is in the entry as SEGUE_<FIELD>" -- same_fields "$name"
done
is "$("$EVENTS" -c "$SEGUE_LOG" 'event~.')" 0 "while the journal takes them, no event goes to stderr"

# --- the journal refuses entries: they go to stderr -------------------------
kill -KILL "$JOURNAL_PID"
wait "$JOURNAL_PID" 2>/dev/null
unregister_pid "$JOURNAL_PID"
kill -HUP "$SEGUE_PID"
wait_event event=reload_succeeded
ok $? "journald gone (its socket refuses): reload_succeeded is written to stderr"
is "$(event_count event=message 'msg~journal refused')" 1 "that is said once, on stderr"
rm "/proc/$SEGUE_PID/root$JOURNAL_SOCKET"
kill -HUP "$SEGUE_PID"
wait_event -n 2 event=reload_succeeded
ok $? "its socket removed too: the next reload_succeeded is written to stderr"
is "$(event_count event=message 'msg~journal refused')" 1 "still said only once"
generations=$(event_fields generation event=reload_succeeded | tr '\n' ' ')
is "$generations" "4 5 " "no event was lost: generations 4 and 5 are on stderr"

# --- it comes back ---------------------------------------------------------------
J2=$T/journal2.jsonl
start_journal_in "$SEGUE_PID" "$J2"
ok $? "journald is back"
kill -HUP "$SEGUE_PID"
journal_wait "$J2" SEGUE_EVENT=reload_succeeded
ok $? "the next reload_succeeded goes to the journal again"
is "$("$EVENTS" -c "$SEGUE_LOG" event=reload_succeeded)" 2 "and not to stderr"
kill -TERM "$SEGUE_PID"
# no -p: segue exits right after it sent stopped
"$EVENTS" -c -n 1 -w 10 "$J2" SEGUE_EVENT=stopped >/dev/null
ok $? "stopped reaches the journal"
wait_for 10 gone "$SEGUE_PID"
wait "$SEGUE_PID"
is $? 0 "segue exits 0"
is "$("$EVENTS" -c "$J" _error~.)$("$EVENTS" -c "$J2" _error~.)" 00 \
	"every entry followed the native protocol"
