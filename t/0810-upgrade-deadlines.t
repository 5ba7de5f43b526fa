#!/bin/sh
# 0810-upgrade-deadlines.t: an upgrade in the middle of each worker state
# keeps every deadline's absolute time (within 100 ms): a starting worker's
# ready-timeout, a draining generation's drain-timeout (its slow in-flight
# request still finishes) and a crashed slot's restart delay.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/upgrade.sh"
SLACK=100 # ms a deadline may move
plan 20

# sleep_until MS: waits until the wall clock reaches MS (ms since the epoch):
# the upgrade must come well inside a deadline, so that a deadline re-armed
# from the upgrade's time shows.
sleep_until() {
	local left=$(($1 - $(now_ms)))
	[ "$left" -gt 0 ] && sleep "$(awk -v l="$left" 'BEGIN { printf "%.3f", l / 1000 }')"
	return 0
}

# upgrade_to_next: the next image, `seguectl upgrade --wait`.
upgrade_to_next() {
	install_image "$IMG_NEXT" && ctl upgrade --wait
	[ "$RC" = 0 ] || diag "upgrade: exit $RC: $OUT $ERR"
	[ "$RC" = 0 ]
}

use_upgradable_segue

# --- a starting worker: ready = notify, never ready, ready-timeout 3s ---
app_conf "$T/segue.conf" "" "sleep 300" 'ready = "notify"' 'ready-timeout = "3s"'
start_segue -c "$T/segue.conf" || bail "segue did not start"
wait_event event=worker_spawned
w=$(event_field pid event=worker_spawned)
spawned=$(event_ms event=worker_spawned "pid=$w")
sleep_until $((spawned + 1000))
check "starting: upgrade 1 s after the spawn" -- upgrade_to_next
is "$(worker_state "$w")" starting "starting: the worker is still starting after the upgrade"
wait_event -t 6 event=worker_timeout "pid=$w"
ok $? "starting: worker_timeout for it"
within $SLACK "$(event_ms event=worker_timeout "pid=$w")" $((spawned + 3000)) \
	"starting: ready-timeout fires at spawn + 3 s"
is "$(event_count event=upgrade_failed)" 0 "starting: no upgrade_failed"
stop_segue

# --- a draining generation: a slow in-flight request, a worker ignoring TERM ---
install_image "$IMG_OLD"
printf '#!/bin/sh\ntrap "" TERM\nexec sleep 300\n' > "$T/stubborn.sh"
chmod +x "$T/stubborn.sh"
port=$(free_port)
cat > "$T/segue.conf" <<CONF
control = "$CONTROL"
socket web { listen = "127.0.0.1:$port" }
program app {
  command = "$DEMO"
  sockets = { "web" }
  ready = "notify"
  drain-timeout = "10s"
}
program stubborn {
  command = "$T/stubborn.sh"
  ready-delay = "50ms"
  drain-timeout = "2s"
}
CONF
start_segue -c "$T/segue.conf" || bail "segue did not start"
wait_event -n 2 event=worker_ready
demo=$(event_field pid event=worker_ready program=app)
stub=$(event_field pid event=worker_ready program=stubborn)
fds=$(fd_count "$demo")
"$LOADGEN" -a "127.0.0.1:$port" -c 1 -n 1 -t 10 -p '/slow?ms=2000' > "$T/slow.out" 2>&1 &
slow=$!
register_pid "$slow"
# the old worker holds the connection before the reload begins
wait_for 5 eval '[ "$(fd_count "$demo")" -gt "$fds" ]'
ok $? "draining: the old worker accepted the slow request"
kill -HUP "$SEGUE_PID"
wait_event event=reload_succeeded
wait_event event=drain_started generation=1
drained=$(event_ms event=drain_started generation=1)
sleep_until $((drained + 700))
check "draining: upgrade 0.7 s into the drain" -- upgrade_to_next
check "draining: the slow request is still in flight after the upgrade" -- kill -0 "$slow"
wait "$slow"
unregister_pid "$slow"
slow_out=$(cat "$T/slow.out")
diag "slow request: $slow_out"
like "$slow_out" ' ok=1 errors=0 ' "draining: the slow request finished with a response"
like "$slow_out" 'generations=1( |$)' "draining: served by the old generation"
wait_event -t 6 event=worker_killed "pid=$stub"
ok $? "draining: the worker ignoring TERM is killed"
within $SLACK "$(event_ms event=worker_killed "pid=$stub")" $((drained + 2000)) \
	"draining: drain-timeout fires at drain + 2 s"
wait_event -t 10 event=drain_finished generation=1
ok $? "draining: generation 1 finished draining"
check "draining: the old demo worker exited after its request" -- gone "$demo"
is "$(event_count event=upgrade_failed)" 0 "draining: no upgrade_failed"
stop_segue

# --- a crashed slot: restart-delay 2s pending ---
install_image "$IMG_OLD"
app_conf "$T/segue.conf" "" "sleep 300" 'workers = 2' 'ready-delay = "50ms"' 'restart-delay = "2s"'
start_segue -c "$T/segue.conf" || bail "segue did not start"
wait_event -n 2 event=worker_ready
w=$(event_field pid event=worker_ready slot=0)
kill -KILL "$w"
wait_event event=worker_exited "pid=$w"
mark=$(log_lines)
exited=$(event_ms event=worker_exited "pid=$w")
sleep_until $((exited + 700))
check "crashed: upgrade 0.7 s into the restart delay" -- upgrade_to_next
is "$(events_since "$mark" event=worker_spawned)" 0 "crashed: no respawn before the delay is over"
wait_event -s "$mark" -t 6 event=worker_spawned slot=0
ok $? "crashed: the slot gets a new worker"
within $SLACK "$(event_ms event=worker_spawned slot=0)" $((exited + 2000)) \
	"crashed: the respawn comes at exit + 2 s"
is "$(zombies_of "$SEGUE_PID")" 0 "no zombie"
stop_segue
