#!/bin/sh
# 0240-restart.t: a crashing worker is restarted with a doubling delay, and a
# crash loop is reported.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 6

app_conf "$T/segue.conf" 0 "sh -c 'exit 3'" 'restart-delay = "50ms"' 'restart-max-delay = "400ms"'
start_segue -c "$T/segue.conf"
wait_event -t 20 event=crash_loop
ok $? "five failures in a row raise crash_loop"
is "$(event_field -n 1 status event=worker_exited)" 3 "worker_exited carries the exit status"
wait_event -n 7 -t 20 event=worker_spawned
ok $? "segue keeps retrying after the crash loop"

# gaps between spawns in ms, from the events' timestamps
gaps=$(event_fields @ms event=worker_spawned | head -n 7 |
	awk 'NR > 1 { printf "%d ", $1 - prev } { prev = $1 }')
diag "gaps between spawns (ms): $gaps"
set -- $gaps
ok $([ "${1:-0}" -ge 45 ] && [ "${1:-0}" -lt 300 ]; echo $?) "the first restart waits restart-delay"
ok $([ "${3:-0}" -ge 180 ] && [ "${5:-0}" -ge 360 ]; echo $?) "the delay doubles while the worker keeps crashing"
ok $([ "${6:-0}" -lt 1000 ]; echo $?) "and is capped at restart-max-delay"
stop_segue
