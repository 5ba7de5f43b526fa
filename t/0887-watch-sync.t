#!/bin/sh
# 0887-watch-sync.t: a reload that commits inside the request (a program
# scaled to 0) still answers reload --wait=watch at the end of its window.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 2

app_conf "$T/segue.conf" "" "sleep 1000" 'watch = "3s"'
start_segue -c "$T/segue.conf"
wait_event event=worker_spawned
ctl scale app 0
mark=$(log_lines)
ctl reload --wait=watch
has_event -s "$mark" event=watch_passed
ok $? "reload --wait=watch returned after the window: $OUT"
has_event -s "$mark" event=watch_started
ok $? "(the release did go on watch)"
