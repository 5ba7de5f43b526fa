#!/bin/sh
# 0760-directory-missing.t: a worker that cannot start because its
# directory is missing says so: each failed start is an event worker_failed
# with the reason, and seguectl health shows it (issue 9, item 16).
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 9

dir=$T/releases/current
cat > "$T/segue.conf" <<CONF
control = "$T/c.sock"
program app {
  command = "sleep 300"
  directory = "$dir"
  ready-delay = "50ms"
  restart-delay = "1s"
  restart-max-delay = "1s"
}
CONF
start_segue -c "$T/segue.conf"
ok $? "segue starts with a program whose directory is missing"
reason="worker 0 cannot start: directory $dir: No such file or directory"
wait_log 'event=worker_failed' 1 5
ok $? "the failed start is an event worker_failed"
is "$(log_field worker_failed program) $(log_field worker_failed slot)" "app 0" \
	"naming the program and the slot"
is "$(log_field worker_failed msg)" "$reason" "and why"
"$SEGUECTL" -s "$T/c.sock" health > "$T/health.out" 2>&1
is "$?" 1 "seguectl health: unhealthy"
like "$(cat "$T/health.out")" "app: slot 0: $reason" "showing why the worker cannot start"
wait_log 'event=worker_failed' 3 10
ok $? "each failed start is an event: a third one after two restart-delays"

mkdir -p "$dir"
wait_log 'event=worker_ready' 1 10
ok $? "once the directory exists, the worker starts"
wait_for 5 "$SEGUECTL" -s "$T/c.sock" health > "$T/health.out" 2>&1
ok $? "and health is ok again"
stop_segue
