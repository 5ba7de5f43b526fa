#!/bin/sh
# 0410-control-abuse.t: bad input and bad clients on the control socket never
# hurt segue: it keeps answering status and its fd count returns to baseline.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 15

start_segue -l 127.0.0.1:0 -s "$CONTROL" --ready-delay 10ms -- sleep 300
wait_event event=worker_ready
base=$(fd_count "$SEGUE_PID")

# status_fast: a status answer arrives within a second
status_fast() { echo status | "$RAW" -l 1 -t 1 "$CONTROL" | grep -q '"ok":true,"pid"'; }

out=$(head -c 1048576 /dev/zero | tr '\0' a | "$RAW" -t 5 "$CONTROL")
like "$out" 'longer than 4096 bytes' "a 1 MiB line gets an error"
check "status answers within a second after it" -- status_fast

out=$(head -c 65536 /dev/urandom | "$RAW" -t 5 "$CONTROL" | head -c 300)
like "$out" '"ok":false' "random binary gets errors"
check "status answers within a second after it" -- status_fast

out=$(echo status | "$RAW" -b -l 1 -t 5 "$CONTROL")
like "$out" '"ok":true,"pid"' "a request sent byte by byte is answered"

out=$(printf 'version\nhealth\n' | "$RAW" -H -t 5 "$CONTROL")
like "$out" '"version"' "a half-closed client still gets its answers"
is "$(echo "$out" | wc -l)" 2 "both of its pipelined requests are answered"

# 200 idle connections: the oldest idle ones make room, status still works
printf '' | "$RAW" -c 200 -t 3 "$CONTROL" > "$T/idle.out" &
idle=$!
wait_for 5 eval '[ $(fd_count $SEGUE_PID) -ge $((base + 60)) ]'
check "status answers within a second while 200 idle clients connect" -- status_fast
wait $idle
like "$(cat "$T/idle.out")" 'closed=1[0-9][0-9]' "idle clients beyond the limit were closed"

# a client that asks for events and never reads them is dropped
echo events | "$RAW" -n -t 30 "$CONTROL" &
lazy=$!
wait_for 5 eval '[ $(fd_count $SEGUE_PID) -gt $base ]'
# each cycle starts and stops 59 workers: some 180 events the client never reads
cycles=0
while [ $cycles -lt 60 ]; do
	mark=$(log_lines)
	echo "scale app 60" | "$RAW" -l 1 -t 5 "$CONTROL" >/dev/null
	wait_event -s "$mark" -n 59 -t 20 event=worker_ready || break
	echo "scale app 1" | "$RAW" -l 1 -t 5 "$CONTROL" >/dev/null
	wait_for 20 eval '[ $(fd_count $SEGUE_PID) -le $((base + 1)) ]' || break
	cycles=$((cycles + 1))
	[ "$(fd_count "$SEGUE_PID")" -le "$base" ] && break
done
diag "dropped after $cycles cycles of scaling"
[ "$(fd_count "$SEGUE_PID")" -le "$base" ]
ok $? "the client that does not read its events is dropped"
kill $lazy 2>/dev/null; wait $lazy 2>/dev/null
check "status answers within a second after it" -- status_fast

# an idle client is closed after 10 s
printf '' | "$RAW" -t 15 "$CONTROL" > "$T/idle1.out"
like "$(cat "$T/idle1.out")" 'idle for 10 s' "an idle client is told and closed after 10 s"

wait_for 20 eval '[ $(fd_count $SEGUE_PID) -le $base ]'
ok $? "segue's fd count returns to its baseline ($(fd_count "$SEGUE_PID") vs $base)"
check "segue is alive" -- segue_alive
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
