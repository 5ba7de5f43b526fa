#!/bin/sh
# 0270-scale-signals.t: TTIN/TTOU and `scale` change the worker count; a reload keeps an operator's scale unless the config changed `workers`.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 25

counts_are() { [ "$(program_counts)" = "$1" ]; }
# expect_counts WANT DESCRIPTION: waits (10 s) for program_counts, then
# checks them
expect_counts() {
	wait_for 10 counts_are "$1"
	is "$(program_counts)" "$1" "$2"
}

port=$(free_port)
write_conf() {
	cat > "$T/segue.conf" <<CONF
control = "$CONTROL"
socket web { listen = "127.0.0.1:$port" }
program app {
  command = "$DEMO --no-notify"
  sockets = { "web" }
  workers = $1
  ready = "delay"
  ready-delay = "100ms"
  drain-timeout = "5s"
}
program bg {
  command = "sleep 300"
  workers = 1
  ready = "delay"
  ready-delay = "100ms"
  drain-timeout = "5s"
}
CONF
}
write_conf 2
start_segue -c "$T/segue.conf"
wait_event -n 3 event=worker_ready
expect_counts "app=2/2 bg=1/1" "two app workers and one bg worker at start"

kill -TTIN "$SEGUE_PID"
expect_counts "app=3/3 bg=2/2" "TTIN adds one worker to every program"
check "the new app worker takes slot 2" -- has_event event=worker_spawned program=app generation=1 slot=2
check "the new bg worker takes slot 1" -- has_event event=worker_spawned program=bg generation=1 slot=1

app2=$(event_field pid event=worker_spawned program=app generation=1 slot=2)
kill -TTOU "$SEGUE_PID"
expect_counts "app=2/2 bg=1/1" "TTOU removes one worker from every program"
wait_event -t 5 event=worker_exited program=app generation=1 slot=2 "pid=$app2"
ok $? "the worker in the highest slot is drained"

kill -TTOU "$SEGUE_PID"
expect_counts "app=1/1 bg=1/1" "a second TTOU: app down to 1, bg stays at 1"
kill -TTOU "$SEGUE_PID"
# one TTIN and three TTOU, each scaling both programs
wait_event -n 8 -t 5 event=scaled
ok $? "a third TTOU is handled"
is "$(program_counts)" "app=1/1 bg=1/1" "no program goes below one worker"
is "$(program_workers 1 ready)" "app:1 bg:1" "one live worker per program"
is "$(event_count event=worker_exited program=bg)" 1 "bg lost only the worker TTIN had added"
check "segue is still up" -- segue_alive

answer=$(control 'scale app 3')
like "$answer" '"ok": ?true' "scale app 3 over the control socket is accepted"
expect_counts "app=3/3 bg=1/1" "scale app 3 runs three app workers, bg untouched"
check "the scaled event is logged" -- has_event event=scaled program=app desired=3
answer=$(control 'scale nosuch 2')
like "$answer" '"ok": ?false.*"error":.*nosuch' "scaling an unknown program is an error naming it"

kill -TTIN "$SEGUE_PID"
expect_counts "app=4/4 bg=2/2" "TTIN after scale: app 4, bg 2"

# reload with the same config: the operator's scale is kept
kill -HUP "$SEGUE_PID"
wait_event -t 20 event=reload_succeeded
ok $? "a reload with an unchanged config succeeds"
is "$(program_workers 2 ready)" "app:4 bg:2" "the new generation keeps the scaled counts (4 and 2)"
is "$(event_count event=worker_spawned program=app generation=2)" 4 "four app workers were spawned for generation 2"
expect_counts "app=4/4 bg=2/2" "status: desired stays 4 and 2 after the reload"

# reload with `workers` changed in the config: the config wins for that program
write_conf 5
kill -HUP "$SEGUE_PID"
wait_event -n 2 -t 20 event=reload_succeeded
ok $? "a reload with workers = 5 in the config succeeds"
is "$(program_workers 3 ready)" "app:5 bg:2" "the config's new value wins for app (5); bg keeps its scaled 2"
expect_counts "app=5/5 bg=2/2" "status: desired is 5 and 2"

stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
