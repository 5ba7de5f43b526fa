#!/bin/sh
# 1045-crash-loop-exit.t: with exit-on-crash-loop = true, a program that
# enters a crash loop makes segue (PID 1 of a namespace, as in a
# container) drain every other program and exit 3; without it, segue goes
# on serving.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/pid1.sh"
pid1_or_skip
plan 12

# web: the demo app; jobs: sleeps until $T/crash exists, then exits 1 at
# each start.
port=$(free_port)
crash_conf() {
	cat > "$T/segue.conf" <<EOF2
control = "$CONTROL"
$1
socket web { listen = "127.0.0.1:$port" }
program web {
  command = "$DEMO"
  sockets = { "web" }
  ready = notify
  drain-timeout = 10s
}
program jobs {
  command = "sh -c '[ -e $T/crash ] && exit 1; exec sleep 300'"
  ready-delay = 50ms
  restart-delay = 10ms
  restart-max-delay = 20ms
}
EOF2
}

crash_conf 'exit-on-crash-loop = true'
check "the config with exit-on-crash-loop passes -t" -- "$SEGUE" -t -c "$T/segue.conf"
start_pid1 -c "$T/segue.conf"
wait_event -n 2 event=worker_ready
web_pid=$(event_field pid event=worker_ready program=web)

# a slow request in flight on web, then jobs crash-loops
curl -s -o "$T/slow.out" -w '%{http_code}' "http://127.0.0.1:$port/slow?ms=1500" \
	> "$T/slow.code" &
curl_pid=$!
wait_for 5 eval '[ "$(ss -Htnp state established "( sport = :$port )" | grep -c "\"demo\"")" -ge 1 ]'
touch "$T/crash"
ctl signal jobs KILL
wait_event event=crash_loop program=jobs
ok $? "jobs enters a crash loop"
wait_event event=stopping
ok $? "segue stops"
wait_pid1
is "$PID1_STATUS" 3 "and exits 3"
has_event event=worker_exited program=web pid="$web_pid" status=0
ok $? "web's worker drained and exited by itself (status 0)"
wait "$curl_pid"
is "$(cat "$T/slow.code")" 200 "the request in flight on web was answered"
is "$(event_field status event=stopped)" 3 "the stopped event says status 3"
is "$(event_field program event=crash_loop_exit)" jobs "crash_loop_exit names the program"
first_stop=$(event_field -n 1 @ms event=stopping)
ok $([ "$(event_ms event=crash_loop program=jobs)" -le "$first_stop" ] && echo 0 || echo 1) \
	"the stop came after the crash loop"

# Without the key, segue keeps serving through a crash loop.
rm -f "$T/crash"
crash_conf ''
start_pid1 -c "$T/segue.conf"
wait_event -n 2 event=worker_ready
touch "$T/crash"
ctl signal jobs KILL
wait_event event=crash_loop program=jobs
check "without exit-on-crash-loop, segue goes on" -- eval '! has_event event=stopping'
check "and web still answers" -- curl -sf -o /dev/null "http://127.0.0.1:$port/"
stop_pid1 TERM
is "$PID1_STATUS" 0 "a TERM then stops it with status 0"
