#!/bin/sh
# 0415-events-idle.t: an events stream on a quiet segue stays open past
# the 10 s after which an idle request client is closed, and goes on
# receiving events.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 3

start_segue -l 127.0.0.1:0 -s "$CONTROL" --ready-delay 10ms -- sleep 300
wait_event event=worker_ready
"$SEGUECTL" -s "$CONTROL" events > "$T/events.out" &
stream=$!
register_pid "$stream"
# quiet for longer than the request clients' idle limit (a measured
# interval, not a wait for something to happen)
sleep 11
check "the stream is still open after 11 s of quiet" -- kill -0 "$stream"
kill -HUP "$SEGUE_PID"
wait_for 10 grep -q '"event":"reload_succeeded"' "$T/events.out"
ok $? "and it receives the next reload's events"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
