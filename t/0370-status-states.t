#!/bin/sh
# 0370-status-states.t: status shows workers starting, ready and draining through a reload; health stays ok then, and is not ok during a crash loop.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
RAW=$top_builddir/t/helpers/rawclient
DGRAM=$top_builddir/t/helpers/dgram
plan 21

status() { echo status | "$RAW" -l 1 -t 2 "$T/c.sock"; }
health() { echo health | "$RAW" -l 1 -t 2 "$T/c.sock"; }
# states: "GENERATION:STATE ..." of every worker, sorted
states() {
	if command -v jq >/dev/null && [ -z "${NO_JQ:-}" ]; then
		status | jq -r '[.programs[].workers[] | "\(.generation):\(.state)"] | sort | join(" ")'
	else
		status | grep -o '"pid":[0-9]*,"slot":[0-9]*,"generation":[0-9]*,"state":"[a-z]*"' |
			sed 's/.*"generation":\([0-9]*\),"state":"\([a-z]*\)"/\1:\2/' | sort | tr '\n' ' ' | sed 's/ $//'
	fi
}
top() { status | sed -n "s/^{[^[{]*\"$1\":\([a-z0-9]*\).*/\1/p"; }
states_are() { [ "$(states)" = "$1" ]; }
ms_of() { date -u -d "$(printf '%s\n' "$1" | sed -n 's/^ts=\([^ ]*\).*/\1/p')" +%s%3N; }

# Each worker ignores TERM and waits for go.GENERATION before READY=1.
cat > "$T/worker.sh" <<SH
#!/bin/sh
trap '' TERM
while [ ! -e "$T/go.\$SEGUE_GENERATION" ]; do sleep 0.02; done
printf 'READY=1\nSTATUS=serving' | "$DGRAM" "\$NOTIFY_SOCKET"
while :; do sleep 1; done
SH
chmod +x "$T/worker.sh"
cat > "$T/segue.conf" <<CONF
control = "$T/c.sock"
program app {
  command = "$T/worker.sh"
  workers = 2
  ready = "notify"
  ready-timeout = "30s"
  drain-timeout = "3s"
}
CONF
start_segue -c "$T/segue.conf"
wait_log 'event=worker_spawned' 2
wait_for 5 states_are "1:starting 1:starting"
is "$(states)" "1:starting 1:starting" "before READY=1 both workers are starting"
touch "$T/go.1"
wait_log 'event=worker_ready' 2
wait_for 5 states_are "1:ready 1:ready"
is "$(states)" "1:ready 1:ready" "after READY=1 both are ready"
like "$(status)" '"status": ?"serving"' "the STATUS= text is shown"

kill -HUP "$SEGUE_PID"
wait_log 'event=worker_spawned program=app generation=2 ' 2
is "$(states)" "1:ready 1:ready 2:starting 2:starting" "during the reload: the new workers are starting, the old ones ready"
is "$(top reloading)/$(top generation)" "true/1" "status: reloading, generation 1 still serving"
like "$(health)" '^\{"ok": ?true' "health is ok during the reload"
touch "$T/go.2"
wait_log 'event=reload_succeeded'
ok $? "the reload succeeds once the new workers are ready"
is "$(states)" "1:draining 1:draining 2:ready 2:ready" "the old workers, which ignore TERM, are draining; the new ones ready"
is "$(top reloading)/$(top generation)" "false/2" "status: no reload runs, generation 2 serves"
like "$(health)" '^\{"ok": ?true' "health is ok while the old generation drains"
wait_log 'event=worker_killed' 2 10
ok $? "the old workers are killed after drain-timeout"
t0=$(ms_of "$(grep 'event=drain_started' "$T/segue.log")")
t1=$(ms_of "$(grep 'event=worker_killed' "$T/segue.log" | tail -n 1)")
check "they stayed draining for the whole drain-timeout ($((t1 - t0)) ms of 3000)" -- test $((t1 - t0)) -ge 2990
wait_log 'event=drain_finished'
wait_for 5 states_are "2:ready 2:ready"
is "$(states)" "2:ready 2:ready" "then only generation 2 is listed"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops (its workers ignore TERM: killed after drain-timeout)"

# --- health and a crash loop ----------------------------------------------
echo good > "$T/mode"
cat > "$T/crash.sh" <<SH
#!/bin/sh
[ "\$(cat "$T/mode")" = good ] || exit 3
exec sleep 300
SH
chmod +x "$T/crash.sh"
cat > "$T/crash.conf" <<CONF
control = "$T/c.sock"
program app {
  command = "$T/crash.sh"
  ready-delay = "100ms"
  restart-delay = "10ms"
  restart-max-delay = "200ms"
}
CONF
start_segue -c "$T/crash.conf"
wait_log 'event=worker_ready'
like "$(health)" '^\{"ok": ?true' "health is ok with the worker ready"
echo crash > "$T/mode"
kill -KILL "$(log_field worker_spawned pid)"
wait_log 'event=crash_loop' 1 10
ok $? "a worker that exits at once, restarted every 10ms and more, is a crash loop"
h=$(health)
like "$h" '^\{"ok": ?false' "health is not ok during the crash loop"
like "$h" '"problems": ?\[.*"app: crash loop in slot 0"' "its problems name the crash loop"
echo good > "$T/mode"
wait_log 'event=worker_ready' 2 10
ok $? "after the command is fixed, the next restart becomes ready"
like "$(health)" '^\{"ok": ?true' "health is ok again once the crash loop ended"
check "segue stayed up throughout" -- segue_alive
stop_segue
