#!/bin/sh
# 0360-hup-storm.t: a burst of SIGHUPs is coalesced into at most two reloads
# and leaves one consistent generation.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 5

port=$(free_port)
start_segue -l "127.0.0.1:$port" -s "$CONTROL" -n 2 --ready-delay 300ms -- "$DEMO"
wait_event -n 2 event=worker_ready
i=0
while [ $i -lt 100 ]; do kill -HUP "$SEGUE_PID"; i=$((i + 1)); done
wait_event event=reload_succeeded
# Each request names the reload it began or joined (its reload field): one
# that began, or was queued, is a reload. Wait until each of them ended.
started() { event_fields reload event=reload_requested | sort -u; }
ended() { event_fields reload "$RELOAD_ENDED" | sort -u; }
wait_for 20 eval '[ "$(ended)" = "$(started)" ]'
ok $? "every reload that was started ended"
n=$(event_count "$RELOAD_ENDED")
diag "100 SIGHUPs: $(event_count event=reload_requested) requests seen, reloads $(started | _words), $n ended"
ok $([ "$n" -ge 1 ] && [ "$n" -le 2 ]; echo $?) "they led to one or two reloads"
check "segue is alive" -- segue_alive
gen=$(event_field generation event=reload_succeeded)
like "$(curl -s "http://127.0.0.1:$port/")" "generation=$gen " "the newest generation serves"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
