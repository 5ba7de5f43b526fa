#!/bin/sh
# 0725-pidfile-owner.t: a second segue that cannot start (its control
# socket is in use) leaves the running one's pidfile alone, and segue
# removes at stop only a pidfile that still holds its own pid (issue 9,
# item 9).
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 8

start_segue -l 127.0.0.1:0 -s "$T/c.sock" --pidfile "$T/segue.pid" --ready-delay 50ms \
	-- sleep 300
wait_log 'event=worker_ready'
is "$(cat "$T/segue.pid")" "$SEGUE_PID" "the first segue writes its pid"

timeout -k 2 10 "$SEGUE" -l 127.0.0.1:0 -s "$T/c.sock" --pidfile "$T/segue.pid" \
	--ready-delay 50ms -- sleep 300 > "$T/second.out" 2>&1
is "$?" 2 "a second segue with the same control socket and pidfile exits 2"
like "$(cat "$T/second.out")" 'c\.sock.*in use' "saying the control socket is in use"
is "$(cat "$T/segue.pid" 2>/dev/null)" "$SEGUE_PID" "the pidfile still holds the first segue's pid"
"$SEGUECTL" -s "$T/c.sock" status > /dev/null 2>&1
ok $? "the first segue still answers"

# Someone else's pid in the pidfile: it is theirs now, not segue's.
other=$(( SEGUE_PID + 1 ))
echo "$other" > "$T/segue.pid"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
is "$(cat "$T/segue.pid" 2>/dev/null)" "$other" "a pidfile holding another pid is not removed at stop"

rm -f "$T/segue.pid"
start_segue -l 127.0.0.1:0 -s "$T/c.sock" --pidfile "$T/segue.pid" --ready-delay 50ms \
	-- sleep 300
wait_log 'event=worker_ready'
stop_segue
ok "$([ ! -e "$T/segue.pid" ]; echo $?)" "segue's own pidfile is removed at stop"
