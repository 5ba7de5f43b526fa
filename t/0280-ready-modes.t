#!/bin/sh
# 0280-ready-modes.t: ready = exec and delay; a ready-timeout in the serving generation kills the worker and restarts it with backoff.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
RAW=$top_builddir/t/helpers/rawclient
DGRAM=$top_builddir/t/helpers/dgram
plan 22

status() { echo status | "$RAW" -l 1 -t 2 "$T/c.sock"; }
# state_of PID: that worker's state in status
state_of() {
	status | grep -o "\"pid\":$1,[^}]*" | sed -n 's/.*"state":"\([a-z]*\)".*/\1/p'
}
# ms_of LINE: the line's ts= in milliseconds since the epoch
ms_of() { date -u -d "$(printf '%s\n' "$1" | sed -n 's/^ts=\([^ ]*\).*/\1/p')" +%s%3N; }
spawned_pid() { grep 'event=worker_spawned' "$T/segue.log" | sed -n "${1}p" | sed -n 's/.* pid=\([0-9]*\).*/\1/p'; }
lines() { [ "$(wc -l < "$1" 2>/dev/null || echo 0)" -ge "$2" ]; }

# --- ready = exec ----------------------------------------------------------
cat > "$T/ready.sh" <<SH
#!/bin/sh
echo "\$SEGUE_WORKER_PID \$SEGUE_WORKER" >> "$T/ready-runs"
test -e "$T/go"
SH
chmod +x "$T/ready.sh"
cat > "$T/exec.conf" <<CONF
control = "$T/c.sock"
program app {
  command = "sleep 300"
  ready = "exec"
  ready-command = "$T/ready.sh"
  ready-timeout = "30s"
}
CONF
start_segue -c "$T/exec.conf"
wait_log 'event=worker_spawned'
wpid=$(log_field worker_spawned pid)
wait_for 10 lines "$T/ready-runs" 3
ok $? "the ready-command is retried while it fails"
is "$(sort -u "$T/ready-runs")" "$wpid 0" "it gets SEGUE_WORKER_PID (the worker's pid) and SEGUE_WORKER"
check "no worker_ready while the ready-command fails" -- test "$(grep -c 'event=worker_ready' "$T/segue.log")" = 0
is "$(state_of "$wpid")" starting "status shows the worker as starting"
like "$(echo health | "$RAW" -l 1 -t 2 "$T/c.sock")" '"ok": ?false' "health is not ok before the worker is ready"
touch "$T/go"
wait_log 'event=worker_ready' 1 5
ok $? "the worker becomes ready once the ready-command succeeds"
like "$(grep 'event=worker_ready' "$T/segue.log")" "pid=$wpid " "worker_ready names the worker"
is "$(state_of "$wpid")" ready "status shows it ready"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"

# --- ready = delay ---------------------------------------------------------
start_segue -l 127.0.0.1:0 -s "$T/c.sock" -n 8 --ready delay --ready-delay 300ms -- sleep 300
wait_log 'event=worker_ready' 8
kill -HUP "$SEGUE_PID"
wait_log 'event=reload_succeeded'
ok $? "delay mode: eight workers ready, then a reload succeeds"
ns=$(grep 'event=worker_ready' "$T/segue.log" | sed -n 's/.*msg="ready after \([0-9]*\) ms".*/\1/p' | tr '\n' ' ')
diag "ready after: $ns"
short=
for n in $ns; do [ "$n" -ge 300 ] || short="$short$n "; done
is "$(echo $ns | wc -w)/$short" "16/" "worker_ready says \"ready after N ms\" with N >= 300 for all sixteen workers"
early=
for pid in $(sed -n 's/.*event=worker_spawned.* pid=\([0-9]*\).*/\1/p' "$T/segue.log"); do
	t0=$(ms_of "$(grep "event=worker_spawned.* pid=$pid " "$T/segue.log")")
	t1=$(ms_of "$(grep "event=worker_ready.* pid=$pid " "$T/segue.log")")
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
cat > "$T/timeout.conf" <<CONF
control = "$T/c.sock"
program app {
  command = "$T/worker.sh"
  ready = "notify"
  ready-timeout = "500ms"
  restart-delay = "200ms"
  restart-max-delay = "10s"
}
CONF
start_segue -c "$T/timeout.conf"
wait_log 'event=worker_ready'
w1=$(spawned_pid 1)
echo hang > "$T/mode"
kill -KILL "$w1"
wait_log 'event=worker_timeout' 1 10
ok $? "the restarted worker that never sends READY=1 times out"
w2=$(spawned_pid 2)
like "$(grep 'event=worker_timeout' "$T/segue.log")" "pid=$w2 .*not ready within 0.5s" "worker_timeout names it and the timeout"
wait_log "event=worker_exited.* pid=$w2 .*signal=TERM" 1 5
ok $? "segue stops it with its drain signal (it may hold connections already)"
wait_log 'event=worker_timeout' 2 10 && wait_log 'event=worker_spawned' 4 10
ok $? "it is restarted in its slot, times out again, and is restarted again"
check "every restart is in slot 0 of generation 1" -- test "$(grep -c 'event=worker_spawned program=app generation=1 slot=0 ' "$T/segue.log")" = 4
w3=$(spawned_pid 3)
w4=$(spawned_pid 4)
gap() { echo $(( $(ms_of "$(grep "event=worker_spawned.* pid=$2 " "$T/segue.log")") - $(ms_of "$(grep "event=worker_exited.* pid=$1 " "$T/segue.log")") )); }
g1=$(gap "$w1" "$w2"); g2=$(gap "$w2" "$w3"); g3=$(gap "$w3" "$w4")
diag "restart delays: ${g1}ms ${g2}ms ${g3}ms"
check "the restart delays double: ~200, ~400, ~800 ms (got $g1 $g2 $g3)" -- \
	test "$g1" -ge 190 -a "$g2" -ge 390 -a "$g3" -ge 790 -a "$g3" -lt 3000
is "$(status | grep -o '"generation":[0-9]*' | head -n 1)" '"generation":1' "no reload happened: generation 1 still serves"
echo good > "$T/mode"
wait_log 'event=worker_ready' 2 10
ok $? "once the worker sends READY=1 again, the slot is ready"
like "$(echo health | "$RAW" -l 1 -t 2 "$T/c.sock")" '^\{"ok": ?true' "health is ok again"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
