#!/bin/sh
# 0290-logs-and-user.t: JSON log lines, log-file reopened on USR1, captured and inherited worker output, user = and env = for workers.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
RAW=$top_builddir/t/helpers/rawclient
plan 28

have_jq() { command -v jq >/dev/null && [ -z "${NO_JQ:-}" ]; }
# start_custom LOG PATTERN ARGS...: like start_segue, for a log that is not
# logfmt on stderr: stderr goes to $T/stderr, LOG is waited on for PATTERN.
start_custom() {
	local log=$1 pattern=$2; shift 2
	: > "$T/stderr"
	"$SEGUE" "$@" 2>>"$T/stderr" &
	SEGUE_PID=$!
	_pids="$_pids $SEGUE_PID"
	wait_for 5 eval 'grep -q -- "$pattern" "$log" 2>/dev/null'
}
# workers of a JSON log are not found by lib.sh's cleanup: list their groups
register_json_workers() {
	for pid in $(grep '"event":"worker_spawned"' "$1" | sed -n 's/.*"pid":\([0-9]*\).*/\1/p'); do
		_pids="$_pids -$pid"
	done
}

# --- --log-format json ------------------------------------------------------
dir="$T/a \"quoted\" dir\\x"
mkdir -p "$dir"
start_custom "$T/stderr" '"event":"started"' --log-format json -l 127.0.0.1:0 -s "$T/c.sock" \
	-n 2 --ready-delay 50ms -d "$dir" -- sleep 300
ok $? "segue starts with --log-format json"
wait_for 10 eval "[ \$(grep -c '\"event\":\"worker_ready\"' \"\$T/stderr\") -ge 2 ]"
kill -HUP "$SEGUE_PID"
wait_for 10 grep -q '"event":"reload_succeeded"' "$T/stderr"
ok $? "a reload succeeds (reload_succeeded as JSON)"
kill -TTIN "$SEGUE_PID"
echo 'bogus request' | "$RAW" -l 1 -t 2 "$T/c.sock" > /dev/null
register_json_workers "$T/stderr"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
cp "$T/stderr" "$T/json.log"
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

# --- log-file and USR1 ----------------------------------------------------
cat > "$T/file.conf" <<CONF
control = "$T/c.sock"
log-file = "$T/segue.log"
program app {
  command = "sleep 300"
  ready-delay = "50ms"
}
CONF
start_custom "$T/segue.log" 'event=started' -c "$T/file.conf"
ok $? "with log-file, events go to that file"
wait_log 'event=worker_ready'
check "nothing of segue's goes to stderr" -- test ! -s "$T/stderr"
mv "$T/segue.log" "$T/segue.log.1"
kill -USR1 "$SEGUE_PID"
wait_for 5 test -e "$T/segue.log"
ok $? "USR1 reopens the log file: a new file appears at the configured path"
kill -TTIN "$SEGUE_PID"
wait_log 'event=worker_spawned program=app generation=1 slot=1 ' 1 5
ok $? "the next events are written to the new file"
check "the moved file gets no new events" -- test "$(grep -c 'slot=1' "$T/segue.log.1")" = 0
wait_log 'event=worker_ready.* slot=1 ' 1 5
_pids="$_pids -$(log_field worker_spawned pid)"
stop_segue
check "segue stops cleanly and logs stopped to the new file" -- \
	test "$SEGUE_STATUS" = 0 -a "$(grep -c 'event=stopped' "$T/segue.log")" = 1

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
control = "$T/c.sock"
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
wait_log 'event=worker_ready' 2
cap=$(grep 'event=worker_spawned program=cap ' "$T/segue.log" | sed -n 's/.* pid=\([0-9]*\).*/\1/p')
inh=$(grep 'event=worker_spawned program=inh ' "$T/segue.log" | sed -n 's/.* pid=\([0-9]*\).*/\1/p')
wait_log "event=output .*msg=\"hello from $cap on stdout\"" 1 5
ok $? "a captured stdout line is logged as event=output"
like "$(grep "hello from $cap on stdout" "$T/segue.log")" "event=output program=cap generation=1 slot=0 pid=$cap " \
	"the output event names the program and the worker's pid"
wait_log "event=output program=cap .*msg=\"hello from $cap on stderr\"" 1 5
ok $? "a captured stderr line is logged as event=output too"
wait_log "event=output program=cap .*au lait from $cap " 1 5
ok $? "a line that is not UTF-8 (Latin-1) is logged too, not dropped"
check "captured lines do not appear raw in segue's stderr" -- test "$(grep -c "^hello from $cap" "$T/segue.log")" = 0
wait_log "^inherited line from $inh\$" 1 5
ok $? "stdout = inherit: the worker's line goes to segue's stderr as is"
stop_segue
like "$(grep 'event=output' "$T/segue.log" | tail -n 1)" "program=cap .*msg=\"last words of $cap\"" \
	"an unterminated last line is logged when the worker exits"

# --- user = and env = ---------------------------------------------------------
mkdir -p "$T/out"
chmod 755 "$T"
chmod 1777 "$T/out"
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	userline='user = "nobody"'
else
	userline=
fi
cat > "$T/user.conf" <<CONF
control = "$T/c.sock"
program app {
  command = "$PROBE $T/out"
  $userline
  env = { "GREETING=hello world", "APP_MODE=inner", "SEGUE_PROGRAM=evil" }
  ready-delay = "50ms"
}
CONF
export APP_MODE=outer
start_segue -c "$T/user.conf"
unset APP_MODE
wait_log 'event=worker_ready'
wpid=$(log_field worker_spawned pid)
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
