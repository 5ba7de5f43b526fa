#!/bin/sh
# 0370-status-states.t: status shows workers starting, ready and draining through a reload; health stays ok then, and is not ok during a crash loop.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 21

states_are() { [ "$(worker_states)" = "$1" ]; }

# Each worker ignores TERM and waits for go.GENERATION before READY=1.
cat > "$T/worker.sh" <<SH
#!/bin/sh
trap '' TERM
while [ ! -e "$T/go.\$SEGUE_GENERATION" ]; do sleep 0.02; done
printf 'READY=1\nSTATUS=serving' | "$DGRAM" "\$NOTIFY_SOCKET"
while :; do sleep 1; done
SH
chmod +x "$T/worker.sh"
app_conf "$T/segue.conf" "" "$T/worker.sh" 'workers = 2' 'ready = "notify"' \
	'ready-timeout = "30s"' 'drain-timeout = "3s"'
start_segue -c "$T/segue.conf"
wait_event -n 2 event=worker_spawned
wait_for 5 states_are "1:starting 1:starting"
is "$(worker_states)" "1:starting 1:starting" "before READY=1 both workers are starting"
touch "$T/go.1"
wait_event -n 2 event=worker_ready
wait_for 5 states_are "1:ready 1:ready"
is "$(worker_states)" "1:ready 1:ready" "after READY=1 both are ready"
is "$(worker_field status | sort -u)" serving "the STATUS= text is shown"

kill -HUP "$SEGUE_PID"
wait_event -n 2 event=worker_spawned program=app generation=2
is "$(worker_states)" "1:ready 1:ready 2:starting 2:starting" "during the reload: the new workers are starting, the old ones ready"
is "$(status_text '{reloading}/{generation}')" "true/1" "status: reloading, generation 1 still serving"
is "$(health_field ok)" true "health is ok during the reload"
touch "$T/go.2"
wait_event event=reload_succeeded
ok $? "the reload succeeds once the new workers are ready"
is "$(worker_states)" "1:draining 1:draining 2:ready 2:ready" "the old workers, which ignore TERM, are draining; the new ones ready"
is "$(status_text '{reloading}/{generation}')" "false/2" "status: no reload runs, generation 2 serves"
is "$(health_field ok)" true "health is ok while the old generation drains"
wait_event -n 2 -t 10 event=worker_killed
ok $? "the old workers are killed after drain-timeout"
t0=$(event_ms event=drain_started)
t1=$(event_ms event=worker_killed)
check "they stayed draining for the whole drain-timeout ($((t1 - t0)) ms of 3000)" -- test $((t1 - t0)) -ge 2990
wait_event event=drain_finished
wait_for 5 states_are "2:ready 2:ready"
is "$(worker_states)" "2:ready 2:ready" "then only generation 2 is listed"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops (its workers ignore TERM: killed after drain-timeout)"

# --- health and a crash loop ----------------------------------------------
mode_app "$T/crash.sh" "sleep 300" 3
app_conf "$T/crash.conf" "" "$T/crash.sh" 'ready-delay = "100ms"' 'restart-delay = "10ms"' \
	'restart-max-delay = "200ms"'
start_segue -c "$T/crash.conf"
wait_event event=worker_ready
is "$(health_field ok)" true "health is ok with the worker ready"
echo bad > "$T/mode"
kill -KILL "$(event_field pid event=worker_spawned)"
wait_event -t 10 event=crash_loop
ok $? "a worker that exits at once, restarted every 10ms and more, is a crash loop"
h=$(health_json)
is "$(printf '%s\n' "$h" | "$EVENTS" -f ok -)" false "health is not ok during the crash loop"
like "$(printf '%s\n' "$h" | "$EVENTS" -f problems -)" '^\[(.*,)?"app: crash loop in slot 0"' "its problems name the crash loop"
echo good > "$T/mode"
wait_event -n 2 -t 10 event=worker_ready
ok $? "after the command is fixed, the next restart becomes ready"
is "$(health_field ok)" true "health is ok again once the crash loop ended"
check "segue stayed up throughout" -- segue_alive
stop_segue
