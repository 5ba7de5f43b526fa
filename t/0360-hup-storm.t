#!/bin/sh
# 0360-hup-storm.t: a burst of SIGHUPs is coalesced into at most two reloads
# and leaves one consistent generation.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 5

port=$(free_port)
start_segue -l "127.0.0.1:$port" -s "$T/control.sock" -n 2 --ready-delay 300ms -- "$DEMO"
wait_log 'event=worker_ready' 2
i=0
while [ $i -lt 100 ]; do kill -HUP "$SEGUE_PID"; i=$((i + 1)); done
wait_log 'event=reload_succeeded'
# every request that began or queued a reload is one reload; wait for all
started() { grep 'event=reload_requested' "$T/segue.log" | grep -Ec 'msg="(starting a new generation|queued after the running reload)"'; }
ended() { grep -Ec 'event=reload_(succeeded|failed)' "$T/segue.log"; }
wait_for 20 eval '[ "$(ended)" -ge "$(started)" ]'
ok $? "every reload that was started ended"
n=$(ended)
diag "100 SIGHUPs: $(grep -c 'event=reload_requested' "$T/segue.log") requests seen, $n reloads"
ok $([ "$n" -ge 1 ] && [ "$n" -le 2 ]; echo $?) "they led to one or two reloads"
check "segue is alive" -- segue_alive
gen=$(log_field reload_succeeded generation)
like "$(curl -s "http://127.0.0.1:$port/")" "generation=$gen " "the newest generation serves"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
