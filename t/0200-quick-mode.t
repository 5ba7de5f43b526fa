#!/bin/sh
# 0200-quick-mode.t: quick mode serves HTTP through the demo app; pidfile; stop.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 10

port=$(free_port)
start_segue -l "web=127.0.0.1:$port" -n 2 --ready notify --pidfile "$T/segue.pid" \
	-s "$CONTROL" -- "$DEMO"
ok $? "segue starts in quick mode"
wait_event -n 2 event=worker_ready
ok $? "both workers become ready (READY=1 over NOTIFY_SOCKET)"

body=$(curl -s "http://127.0.0.1:$port/")
like "$body" '^pid=[0-9]+ generation=1 worker=[01]$' "the demo app answers through the held socket"

is "$(cat "$T/segue.pid")" "$SEGUE_PID" "the pidfile holds segue's pid"
check "socket_bound names the socket and address" -- \
	has_event event=socket_bound socket=web "address=127.0.0.1:$port"

pids=$(event_fields pid event=worker_spawned | sort -u | wc -l)
is "$pids" 2 "two workers were spawned"

# it retries the bind for drain-timeout (the workers of a killed segue
# let go within it), then gives up
timeout 10 "$SEGUE" -l "127.0.0.1:$port" -s "$T/other.sock" --drain-timeout 1s -- true >"$T/second.log" 2>&1
is $? 2 "a second segue on a port in use exits with status 2"

stop_segue
is "$SEGUE_STATUS" 0 "TERM stops segue with status 0"
check "the pidfile is removed" -- test ! -e "$T/segue.pid"
check "the stopped event is logged" -- has_event event=stopped
