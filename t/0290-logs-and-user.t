#!/bin/sh
# 0290-logs-and-user.t: JSON and logfmt log lines, log-file reopened on USR1, captured and inherited worker output, user = and env = for workers.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 36

# The other tests read events in either format; the first two parts check
# each format's lines as they are.
have_jq() { command -v jq >/dev/null && [ -z "${NO_JQ:-}" ]; }

# run_format FORMAT: a segue with --log-format FORMAT and its log in
# $T/FORMAT.log, through a reload, a TTIN and a bad control request; the
# workers run in a directory whose name holds quotes and a backslash.
dir="$T/a \"quoted\" dir\\x"
mkdir -p "$dir"
run_format() {
	SEGUE_LOG=$T/$1.log
	start_segue --log-format "$1" -l 127.0.0.1:0 -s "$CONTROL" \
		-n 2 --ready-delay 50ms -d "$dir" -- sleep 300
	ok $? "segue starts with --log-format $1"
	wait_event -n 2 event=worker_ready
	kill -HUP "$SEGUE_PID"
	wait_event event=reload_succeeded
	case $1 in
	json) grep -q '"event":"reload_succeeded"' "$SEGUE_LOG" ;;
	logfmt) grep -q ' event=reload_succeeded ' "$SEGUE_LOG" ;;
	esac
	ok $? "a reload succeeds (reload_succeeded as $1)"
	kill -TTIN "$SEGUE_PID"
	control 'bogus request' > /dev/null
	stop_segue
	is "$SEGUE_STATUS" 0 "segue stops cleanly"
	SEGUE_LOG=$T/segue.log
}

# --- --log-format json ------------------------------------------------------
run_format json
n=$(wc -l < "$T/json.log")
if have_jq; then
	bad=$(jq -R -r '. as $l | try (fromjson | if type == "object" and (.ts | type) == "string"
		and (.level | type) == "string" and (.event | type) == "string" then empty
		else "not an event: " + $l end) catch ("not JSON: " + $l)' < "$T/json.log")
else
	bad=$(grep -Ev '^\{"ts":"[0-9TZ:.-]+","level":"[a-z]+","event":"[a-z_]+"(,"[a-z_]+":("([^"\\]|\\.)*"|-?[0-9.e+]+|true|false|null|\[[^]]*\]))*\}$' "$T/json.log")
fi
is "$bad" "" "every one of the $n stderr lines is a JSON object with ts, level and event"
events=$(sed -n 's/.*"event":"\([a-z_]*\)".*/\1/p' "$T/json.log" | sort -u | tr '\n' ' ')
like "$events" 'drain_started .*reload_succeeded .*started .*stopped .*worker_ready .*worker_spawned' "the lines are segue's events: $events"
real=$(cd "$dir" && pwd -P)
if have_jq; then
	is "$(jq -r 'select(.event == "worker_spawned") | .msg' < "$T/json.log" | sort -u)" "$real" \
		"a message with quotes and a backslash survives JSON encoding"
	is "$(jq -r 'select(.event == "worker_spawned") | .pid | type' < "$T/json.log" | sort -u)" number \
		"numeric fields (pid) are JSON numbers"
else
	like "$(grep '"event":"worker_spawned"' "$T/json.log" | head -n 1)" '"msg":"[^"]*a \\"quoted\\" dir\\\\x"' \
		"a message with quotes and a backslash survives JSON encoding"
	like "$(grep '"event":"worker_spawned"' "$T/json.log" | head -n 1)" '"pid":[0-9]+[,}]' \
		"numeric fields (pid) are JSON numbers"
fi

# --- --log-format logfmt ----------------------------------------------------
run_format logfmt
n=$(wc -l < "$T/logfmt.log")
bad=$(grep -Ev '^ts=[0-9TZ:.-]+ level=[a-z]+ event=[a-z_]+( [a-z_]+=("([^"\\]|\\.)*"|[^ "=]+))*$' "$T/logfmt.log")
is "$bad" "" "every one of the $n stderr lines is logfmt: ts, level, event, then KEY=VALUE"
events=$(sed -n 's/.* event=\([a-z_]*\) .*/\1/p' "$T/logfmt.log" | sort -u | tr '\n' ' ')
like "$events" 'drain_started .*reload_succeeded .*started .*stopped .*worker_ready .*worker_spawned' "the lines are segue's events: $events"
like "$(grep ' event=worker_spawned ' "$T/logfmt.log" | head -n 1)" \
	'^ts=[^ ]+ level=info event=worker_spawned program=app generation=1 slot=[01] pid=[0-9]+ (release=.* )?msg=' \
	"a worker's event names program, generation, slot and pid, in that order"
like "$(grep ' event=worker_spawned ' "$T/logfmt.log" | head -n 1)" ' msg="[^"]*a \\"quoted\\" dir\\\\x"$' \
	"a message with quotes and a backslash is quoted and escaped"
is "$("$EVENTS" -a -f msg "$T/logfmt.log" event=worker_spawned | sort -u)" "$real" \
	"t/helpers/events reads it back as it was"

# --- log-file and USR1 ----------------------------------------------------
cat > "$T/file.conf" <<CONF
control = "$CONTROL"
log-file = "$T/segue.log"
program app {
  command = "sleep 300"
  ready-delay = "50ms"
}
CONF
SEGUE_STDERR=$T/stderr
start_segue -c "$T/file.conf"
ok $? "with log-file, events go to that file"
unset SEGUE_STDERR
wait_event event=worker_ready
check "nothing of segue's goes to stderr" -- test ! -s "$T/stderr"
mv "$T/segue.log" "$T/segue.log.1"
kill -USR1 "$SEGUE_PID"
wait_for 5 test -e "$T/segue.log"
ok $? "USR1 reopens the log file: a new file appears at the configured path"
kill -TTIN "$SEGUE_PID"
wait_event -t 5 event=worker_spawned program=app generation=1 slot=1
ok $? "the next events are written to the new file"
check "the moved file gets no new events" -- test "$("$EVENTS" -c "$T/segue.log.1" slot=1)" = 0
wait_event -t 5 event=worker_ready slot=1
stop_segue
check "segue stops cleanly and logs stopped to the new file" -- \
	test "$SEGUE_STATUS" = 0 -a "$(event_count event=stopped)" = 1

# --- stdout = "capture" and "inherit" ---------------------------------------
cat > "$T/talk.sh" <<'SH'
#!/bin/sh
echo "hello from $$ on stdout"
echo "hello from $$ on stderr" >&2
printf 'caf\351 au lait from %s (Latin-1)\n' "$$"
printf 'last words of %s' "$$"
exec sleep 300
SH
printf '#!/bin/sh\necho "inherited line from $$"\nexec sleep 300\n' > "$T/inh.sh"
chmod +x "$T/talk.sh" "$T/inh.sh"
cat > "$T/output.conf" <<CONF
control = "$CONTROL"
program cap {
  command = "$T/talk.sh"
  stdout = "capture"
  ready-delay = "50ms"
}
program inh {
  command = "$T/inh.sh"
  ready-delay = "50ms"
}
CONF
start_segue -c "$T/output.conf"
wait_event -n 2 event=worker_ready
cap=$(event_field pid event=worker_spawned program=cap)
inh=$(event_field pid event=worker_spawned program=inh)
wait_event -t 5 event=output "msg=hello from $cap on stdout"
ok $? "a captured stdout line is logged as event=output"
check "the output event names the program and the worker's pid" -- \
	has_event event=output program=cap generation=1 slot=0 "pid=$cap" "msg=hello from $cap on stdout"
wait_event -t 5 event=output program=cap "msg=hello from $cap on stderr"
ok $? "a captured stderr line is logged as event=output too"
wait_event -t 5 event=output program=cap "msg~au lait from $cap "
ok $? "a line that is not UTF-8 (Latin-1) is logged too, not dropped"
check "captured lines do not appear raw in segue's stderr" -- \
	test "$(event_count "@text~^hello from $cap")" = 0
wait_event -t 5 "@text~^inherited line from $inh\$"
ok $? "stdout = inherit: the worker's line goes to segue's stderr as is"
stop_segue
is "$("$EVENTS" -n -1 -o '{program}: {msg}' "$SEGUE_LOG" event=output)" "cap: last words of $cap" \
	"an unterminated last line is logged when the worker exits"

# --- user = and env = ---------------------------------------------------------
mkdir -p "$T/out"
chmod 755 "$T"
chmod 1777 "$T/out"
probe=$(for_nobody "$PROBE")
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	userline='user = "nobody"'
else
	userline=
fi
cat > "$T/user.conf" <<CONF
control = "$CONTROL"
program app {
  command = "$probe $T/out"
  directory = "$T"
  $userline
  env = { "GREETING=hello world", "APP_MODE=inner", "SEGUE_PROGRAM=evil" }
  ready-delay = "50ms"
}
CONF
export APP_MODE=outer
start_segue -c "$T/user.conf"
unset APP_MODE
wait_event event=worker_ready
wpid=$(event_field pid event=worker_spawned)
f="$T/out/probe.$wpid"
wait_for 5 test -f "$f"
ok $? "the probe worker wrote its report"
ids=$(grep '^uid=' "$f")
if [ -n "$userline" ]; then
	nogroup=$(id -g nobody)
	is "$(echo "$ids" | sed -n 's/^uid=\([0-9]*\) .*/\1/p')" "$(id -u nobody)" "user = nobody: the worker runs as nobody's uid"
	is "$(echo "$ids" | sed -n 's/.* gid=\([0-9]*\) .*/\1/p')" "$nogroup" "and with nobody's primary group ($(id -gn nobody))"
	is "$(echo "$ids" | sed -n 's/.* groups=//p' | tr ',' '\n' | sort -n | tr '\n' ' ')" \
		"$(id -G nobody | tr ' ' '\n' | sort -n | tr '\n' ' ')" "supplementary groups are nobody's only, none of root's"
else
	ok 0 "# SKIP user = needs root and a nobody user"
	ok 0 "# SKIP user = needs root and a nobody user"
	ok 0 "# SKIP user = needs root and a nobody user"
fi
envv() { sed -n "s/^env $1=//p" "$f"; }
is "$(envv GREETING)" "hello world" "env = sets a variable with a space"
is "$(envv APP_MODE)" "inner" "env = overrides segue's own environment, once"
is "$(envv SEGUE_PROGRAM)" "app" "env = cannot override SEGUE_PROGRAM"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
