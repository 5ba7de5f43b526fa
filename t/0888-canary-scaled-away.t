#!/bin/sh
# 0888-canary-scaled-away.t: a program scaled to 0 while its canary is held
# has nothing left to judge: the deploy goes on at once instead of waiting
# out the hold (60 s here).
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 4

app_conf "$T/segue.conf" "" "sleep 1000" 'workers = 2' 'ready-delay = "50ms"' 'canary = 1' \
	'canary-hold = "60s"'
start_segue -c "$T/segue.conf"
wait_event -n 2 event=worker_ready
mark=$(log_lines)
kill -HUP "$SEGUE_PID"
wait_event -s "$mark" event=canary_started
ok $? "the canary starts and is held"
ctl scale app 0
is "$RC" 0 "the program is scaled to 0 during the hold: $OUT$ERR"
wait_event -s "$mark" -t 10 event=reload_succeeded generation=2
ok $? "the reload succeeds long before the 60 s hold would have ended"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
