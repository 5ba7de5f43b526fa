#!/bin/sh
# 0765-ttou-zero.t: SIGTTOU takes one worker away but never the last one,
# and a program scaled to 0 stays at 0 (issue 9, item 17).
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 8

cat > "$T/segue.conf" <<CONF
control = "$T/c.sock"
program app {
  command = "sleep 300"
  ready-delay = "50ms"
}
CONF
desired() { "$SEGUECTL" -s "$T/c.sock" --json status | sed -n 's/.*"desired":\([0-9]*\).*/\1/p'; }
workers() { "$SEGUECTL" -s "$T/c.sock" --json status | grep -o '"slot":' | wc -l; }

start_segue -c "$T/segue.conf"
wait_log 'event=worker_ready'
"$SEGUECTL" -s "$T/c.sock" scale app 0 > "$T/scale.out" 2>&1
ok $? "seguectl scale app 0"
wait_log 'event=worker_exited'
ok $? "the worker is drained"
spawned=$(event_count event=worker_spawned)

kill -TTOU "$SEGUE_PID"
wait_log 'event=scaled.*source=SIGTTOU'
ok $? "SIGTTOU is handled"
kill -TTOU "$SEGUE_PID"
wait_log 'event=scaled.*source=SIGTTOU' 2
is "$(desired)" 0 "after two SIGTTOU the program still wants 0 workers"
is "$(workers)" 0 "and runs none"
is "$(event_count event=worker_spawned)" "$spawned" "no worker was started"

kill -TTIN "$SEGUE_PID"
wait_log 'event=worker_ready' 2
ok $? "SIGTTIN brings one back"
kill -TTOU "$SEGUE_PID"
wait_log 'event=scaled.*source=SIGTTOU' 3
is "$(desired)" 1 "and SIGTTOU does not take the last one"
stop_segue
