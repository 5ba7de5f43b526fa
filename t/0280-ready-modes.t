#!/bin/sh
# 0280-ready-modes.t: ready = exec and delay; a ready-timeout in the serving generation kills the worker and restarts it with backoff.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 22

# spawned_pid N: the pid of the Nth worker spawned
spawned_pid() { event_field -n "$1" pid event=worker_spawned; }

# --- ready = exec ----------------------------------------------------------
cat > "$T/ready.sh" <<SH
#!/bin/sh
echo "\$SEGUE_WORKER_PID \$SEGUE_WORKER" >> "$T/ready-runs"
test -e "$T/go"
SH
chmod +x "$T/ready.sh"
app_conf "$T/exec.conf" "" "sleep 300" 'ready = "exec"' "ready-command = \"$T/ready.sh\"" \
	'ready-timeout = "30s"'
start_segue -c "$T/exec.conf"
wait_event event=worker_spawned
wpid=$(event_field pid event=worker_spawned)
wait_for 10 has_lines "$T/ready-runs" 3
ok $? "the ready-command is retried while it fails"
is "$(sort -u "$T/ready-runs")" "$wpid 0" "it gets SEGUE_WORKER_PID (the worker's pid) and SEGUE_WORKER"
check "no worker_ready while the ready-command fails" -- test "$(event_count event=worker_ready)" = 0
is "$(worker_state "$wpid")" starting "status shows the worker as starting"
is "$(health_field ok)" false "health is not ok before the worker is ready"
touch "$T/go"
wait_event -t 5 event=worker_ready
ok $? "the worker becomes ready once the ready-command succeeds"
is "$(event_fields pid event=worker_ready)" "$wpid" "worker_ready names the worker"
is "$(worker_state "$wpid")" ready "status shows it ready"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"

# --- ready = delay ---------------------------------------------------------
start_segue -l 127.0.0.1:0 -s "$CONTROL" -n 8 --ready delay --ready-delay 300ms -- sleep 300
wait_event -n 8 event=worker_ready
kill -HUP "$SEGUE_PID"
wait_event event=reload_succeeded
ok $? "delay mode: eight workers ready, then a reload succeeds"
ns=$(event_fields msg event=worker_ready | sed -n 's/^ready after \([0-9]*\) ms$/\1/p' | tr '\n' ' ')
diag "ready after: $ns"
short=
for n in $ns; do [ "$n" -ge 300 ] || short="$short$n "; done
is "$(echo $ns | wc -w)/$short" "16/" "worker_ready says \"ready after N ms\" with N >= 300 for all sixteen workers"
early=
for pid in $(event_fields pid event=worker_spawned); do
	t0=$(event_ms event=worker_spawned "pid=$pid")
	t1=$(event_ms event=worker_ready "pid=$pid")
	[ $((t1 - t0)) -ge 299 ] || early="$early$pid:$((t1 - t0))ms "
done
is "$early" "" "no worker is marked ready before ready-delay has passed since its spawn"
stop_segue

# --- ready-timeout in the serving generation ------------------------------
echo good > "$T/mode"
cat > "$T/worker.sh" <<SH
#!/bin/sh
if [ "\$(cat "$T/mode")" = good ]; then
	printf 'READY=1' | "$DGRAM" "\$NOTIFY_SOCKET"
fi
exec sleep 300
SH
chmod +x "$T/worker.sh"
app_conf "$T/timeout.conf" "" "$T/worker.sh" 'ready = "notify"' 'ready-timeout = "500ms"' \
	'restart-delay = "200ms"' 'restart-max-delay = "10s"'
start_segue -c "$T/timeout.conf"
wait_event event=worker_ready
w1=$(spawned_pid 1)
echo hang > "$T/mode"
kill -KILL "$w1"
wait_event -t 10 event=worker_timeout
ok $? "the restarted worker that never sends READY=1 times out"
w2=$(spawned_pid 2)
check "worker_timeout names it and the timeout" -- \
	test "$(event_field -n 1 pid event=worker_timeout '@text~not ready within 0\.5s')" = "$w2"
wait_event -t 5 event=worker_exited "pid=$w2" signal=TERM
ok $? "segue stops it with its drain signal (it may hold connections already)"
wait_event -n 2 -t 10 event=worker_timeout && wait_event -n 4 -t 10 event=worker_spawned
ok $? "it is restarted in its slot, times out again, and is restarted again"
check "every restart is in slot 0 of generation 1" -- \
	test "$(event_count event=worker_spawned program=app generation=1 slot=0)" = 4
w3=$(spawned_pid 3)
w4=$(spawned_pid 4)
# gap PID1 PID2: ms from PID1's exit to PID2's spawn
gap() { echo $(( $(event_ms event=worker_spawned "pid=$2") - $(event_ms event=worker_exited "pid=$1") )); }
g1=$(gap "$w1" "$w2"); g2=$(gap "$w2" "$w3"); g3=$(gap "$w3" "$w4")
diag "restart delays: ${g1}ms ${g2}ms ${g3}ms"
check "the restart delays double: ~200, ~400, ~800 ms (got $g1 $g2 $g3)" -- \
	test "$g1" -ge 190 -a "$g2" -ge 390 -a "$g3" -ge 790 -a "$g3" -lt 3000
is "$(status_field generation)" 1 "no reload happened: generation 1 still serves"
echo good > "$T/mode"
wait_event -n 2 -t 10 event=worker_ready
ok $? "once the worker sends READY=1 again, the slot is ready"
is "$(health_field ok)" true "health is ok again"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
