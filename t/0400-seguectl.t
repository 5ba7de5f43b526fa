#!/bin/sh
# 0400-seguectl.t: seguectl against a real segue: status, health, reload
# --wait after good and bad deploys, rollback to the previous release,
# --timeout, events, and its exit codes.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 54

[ -x "$SEGUECTL" ] || bail "no $SEGUECTL"

# ctl (lib.sh) runs seguectl on $CONTROL; deploy NAME moves $T/current.
release() {
	curl -s --max-time 5 "http://127.0.0.1:$port/env" | sed -n 's/^RELEASE=//p'
}

# Releases: two good ones that mark themselves, one that exits at once and
# one that never says READY=1.
for r in one two; do
	mkdir -p "$T/releases/$r"
	printf '#!/bin/sh\nRELEASE=%s; export RELEASE\nexec "%s"\n' "$r" "$DEMO" \
		> "$T/releases/$r/run"
done
mkdir -p "$T/releases/exits" "$T/releases/hangs"
printf '#!/bin/sh\necho "broken release" >&2\nexit 1\n' > "$T/releases/exits/run"
printf '#!/bin/sh\nexec "%s" --no-notify\n' "$DEMO" > "$T/releases/hangs/run"
chmod +x "$T"/releases/*/run
deploy one

port=$(free_port)
# conf READY-TIMEOUT
conf() {
	app_conf "$T/segue.conf" "$port" ./run "directory = \"$T/current\"" 'workers = 2' \
		'ready = "notify"' "ready-timeout = \"$1\"" 'drain-timeout = "5s"'
}
conf 1s
start_segue -c "$T/segue.conf" || bail "segue did not start"
wait_event -n 2 event=worker_ready || bail "no ready workers"

# --- status, health, version ---
ctl status
is "$RC" 0 "status exits 0"
pid0=$(event_field pid event=worker_spawned slot=0)
pid1=$(event_field pid event=worker_spawned slot=1)
like "$OUT" "^segue [^ ]+, pid $SEGUE_PID, up [0-9]+s, generation 1, reloading no" "status: a header with pid, version, uptime, generation"
like "$OUT" "^web +127\\.0\\.0\\.1:$port +[0-9]+$" "status: the socket with its address and fd"
like "$OUT" "^program app: 2/2 ready, generation 1, directory $T/releases/one$" "status: the program, ready/desired, generation, resolved directory"
like "$OUT" '^  PID +SLOT +GEN +STATE +AGE +RESTARTS +STATUS$' "status: the worker table's header"
like "$OUT" "^  $pid0 +0 +1 +ready +[0-9]+s +0( |$)" "status: slot 0's worker, its generation and state"
like "$OUT" "^  $pid1 +1 +1 +ready +[0-9]+s +0( |$)" "status: slot 1's worker"

ctl --json status
is "$RC" 0 "status --json exits 0"
is "$(printf '%s\n' "$OUT" | "$EVENTS" -o '{ok} {generation} {programs.0.name}' -) $(
	printf '%s\n' "$OUT" | "$EVENTS" -c -r 'programs[0].workers[]' -)" \
	"true 1 app 2" "status --json prints the object, which parses"

ctl health
is "$RC/$OUT" "0/healthy" "health: exit 0 and 'healthy'"
ctl version
like "$OUT" '^segue [0-9][^ ]* \(seguectl [0-9][^ ]*\)$' "version names both versions"
is "$(release)" one "release one serves"

# --- a good deploy, then a rollback ---
deploy two
ctl reload --wait
is "$RC" 0 "reload --wait after a good deploy exits 0"
like "$OUT" '^generation 2 serving release two \(reload took [0-9]+ ms\)$' "and prints the new generation and its release"
is "$(release)" two "release two serves"
like "$(curl -s "http://127.0.0.1:$port/")" 'generation=2 ' "generation 2 answers"

ctl rollback --wait
is "$RC" 0 "rollback --wait exits 0"
like "$OUT" '^generation 3 serving release one \(rollback took [0-9]+ ms\)$' "and prints the generation it started and its release"
is "$(release)" one "release one serves again after the rollback"
is "$(readlink "$T/current")" releases/two "although current still points at release two"

# --- bad deploys: the caller learns why, nothing changes ---
deploy exits
ctl reload --wait
is "$RC" 1 "reload --wait of a release that exits fails with 1"
like "$ERR" '^reload failed: .*exited with status 1' "the reason names the exit status"
is "$OUT" "" "nothing on stdout"
is "$(release)" one "release one still serves"

deploy hangs
ctl reload --wait
is "$RC" 1 "reload --wait of a release that is never ready fails with 1"
like "$ERR" '^reload failed: .*not ready within 1s' "the reason names the readiness timeout"
ctl --json reload --wait
is "$RC" 1 "with --json too"
like "$OUT" '^\{"ok":false,.*"error":".*not ready within' "--json prints segue's answer"

# --- reload without --wait, seen on the events stream ---
deploy two
"$SEGUECTL" -s "$CONTROL" events > "$T/events.out" 2>"$T/events.err" &
events=$!
register_pid "$events"
# segue says nothing to a new events client, so poke it until a line comes
check "events: the stream carries events" -- \
	wait_for 10 sh -c '"$1" -s "$2" scale app 2 >/dev/null && grep -q "\"event\":" "$3"' \
	sh "$SEGUECTL" "$CONTROL" "$T/events.out"
ctl reload
is "$RC" 0 "reload without --wait exits 0"
like "$OUT" '^reload [0-9]+ started$' "and prints 'reload N started'"
check "the reload's end arrives on the events stream" -- \
	eval '"$EVENTS" -c -w 15 "$T/events.out" event=reload_succeeded >/dev/null'
like "$(grep '"event":"reload_succeeded"' "$T/events.out")" '^\{.*"ts":.*"generation":[0-9]+' "one JSON object a line"
is "$(release)" two "release two serves after it"
kill -TERM "$events"
wait "$events"
is "$?" 0 "events exits 0, quietly, when stopped by a signal"
is "$(cat "$T/events.err")" "" "and says nothing on stderr"

ctl metrics
like "$OUT" '^segue_generation [0-9]+$' "metrics: the Prometheus text"

# --- errors segue reports, and usage errors ---
ctl scale nosuch 2
is "$RC" 1 "scale of an unknown program fails with 1"
like "$ERR" 'no program' "and says why"

"$SEGUECTL" -s "$T/nonexistent.sock" status >/dev/null 2>"$T/err"
is "$?" 2 "exit 2 when segue is not running"
like "$(cat "$T/err")" "cannot connect to $T/nonexistent.sock: No such file or directory \\(is segue running\\?\\)" "with a clear message"
SEGUE_CONTROL=$T/nonexistent.sock "$SEGUECTL" health >/dev/null 2>"$T/err"
like "$?:$(cat "$T/err")" "^2:.*$T/nonexistent.sock" "SEGUE_CONTROL names the socket"

usage_ok=0
for args in "" "frobnicate" "status extra" "reload --timeout soon" "scale app" \
	"scale app many" "reload --frob" "-s"; do
	# shellcheck disable=SC2086 # words are meant to split
	"$SEGUECTL" -s "$CONTROL" $args >/dev/null 2>"$T/err"
	rc=$?
	if [ $rc -ne 2 ] || ! grep -q '^seguectl: ' "$T/err"; then
		diag "'seguectl $args' exited $rc: $(cat "$T/err")"
		usage_ok=1
	fi
done
ok $usage_ok "usage errors exit 2 with a message"

# --- --timeout: a reload that outlives it ---
conf 30s
deploy hangs
start=$(date +%s)
ctl reload --wait --timeout 1
is "$RC" 3 "reload --wait --timeout 1 exits 3 when the reload takes longer"
like "$ERR" 'within 1s.*goes on' "and says the reload goes on"
ok $(( $(date +%s) - start < 5 ? 0 : 1 )) "after about a second"
ctl status
like "$OUT" 'reloading yes' "status shows the reload running"
like "$OUT" "^  [0-9]+ +[01] +[0-9]+ +starting " "and the new generation's starting workers"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"

# --- health during a crash loop ---
printf '#!/bin/sh\nexit 7\n' > "$T/crash.sh"
chmod +x "$T/crash.sh"
app_conf "$T/crash.conf" "$port" "$T/crash.sh" 'restart-delay = "10ms"' 'restart-max-delay = "50ms"'
start_segue -c "$T/crash.conf" || bail "segue did not start"
wait_event -t 20 event=crash_loop
ok $? "a worker that exits at once makes a crash loop"
ctl health
is "$RC" 1 "health exits 1 during a crash loop"
like "$OUT" '^unhealthy:$' "and prints 'unhealthy:'"
like "$OUT" '^  app: crash loop in slot 0$' "followed by the problems, one a line"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
