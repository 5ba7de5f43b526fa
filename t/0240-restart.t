#!/bin/sh
# 0240-restart.t: a crashing worker is restarted with a doubling delay, and a
# crash loop is reported.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 6

cat > "$T/segue.conf" <<CONF
control = "$T/control.sock"
socket web { listen = "127.0.0.1:0" }
program app {
  command = "sh -c 'exit 3'"
  sockets = { "web" }
  restart-delay = "50ms"
  restart-max-delay = "400ms"
}
CONF
start_segue -c "$T/segue.conf"
wait_log 'event=crash_loop' 1 20
ok $? "five failures in a row raise crash_loop"
like "$(grep 'event=worker_exited' "$T/segue.log" | head -n 1)" "status=3" "worker_exited carries the exit status"
wait_log 'event=worker_spawned' 7 20
ok $? "segue keeps retrying after the crash loop"

# gaps between spawns in ms, from the log's timestamps
gaps=$(grep 'event=worker_spawned' "$T/segue.log" | head -n 7 |
	sed 's/^ts=[0-9-]*T\([0-9:.]*\)Z.*/\1/' | awk -F: '
	{ t = ($1 * 60 + $2) * 60000 + $3 * 1000 }
	NR > 1 { printf "%d ", t - prev }
	{ prev = t }')
diag "gaps between spawns (ms): $gaps"
set -- $gaps
ok $([ "${1:-0}" -ge 45 ] && [ "${1:-0}" -lt 300 ]; echo $?) "the first restart waits restart-delay"
ok $([ "${3:-0}" -ge 180 ] && [ "${5:-0}" -ge 360 ]; echo $?) "the delay doubles while the worker keeps crashing"
ok $([ "${6:-0}" -lt 1000 ]; echo $?) "and is capped at restart-max-delay"
stop_segue
