#!/bin/sh
# 0260-graceful-stop.t: TERM finishes an in-flight request, then exits 0; a
# second TERM stops at once.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 7

port=$(free_port)
start_segue -l "127.0.0.1:$port" -s "$CONTROL" --ready notify -- "$DEMO"
wait_event event=worker_ready
curl -s -o "$T/slow.out" -w '%{http_code}' "http://127.0.0.1:$port/slow?ms=1500" > "$T/slow.code" &
curlpid=$!
wait_for 5 port_connected "$port"
kill -TERM "$SEGUE_PID"
wait_event event=stopping
ok $? "TERM starts a graceful stop"
wait $curlpid
is "$(cat "$T/slow.code")" 200 "the in-flight slow request completes with 200"
like "$(cat "$T/slow.out")" '^pid=' "and carries its body"
wait_for 10 gone "$SEGUE_PID"
wait "$SEGUE_PID"; status=$?
is "$status" 0 "segue exits 0 once the worker has drained"
check "the stopped event is logged" -- has_event event=stopped

# a worker that ignores TERM: the second TERM stops at once
start_segue -l 127.0.0.1:0 -s "$T/control2.sock" --ready-delay 50ms --drain-timeout 60s \
	-- sh -c 'trap "" TERM; sleep 300 & wait'
wait_event event=worker_ready
kill -TERM "$SEGUE_PID"
wait_event event=stopping
kill -TERM "$SEGUE_PID"
wait_for 5 gone "$SEGUE_PID"
ok $? "a second TERM stops segue at once"
wpid=$(event_field pid event=worker_spawned)
check "and its worker group is killed" -- wait_for 5 eval "! kill -0 -$wpid 2>/dev/null"
