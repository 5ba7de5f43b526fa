#!/bin/sh
# 0330-drain-kill.t: an old worker that ignores the drain signal, with a child
# that ignores it too, is killed with its group after drain-timeout.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 6

cat > "$T/stubborn.sh" <<'SH'
#!/bin/sh
trap '' TERM
sleep 300 &
echo $! > "$OUT/child.$$"
while :; do sleep 1; done
SH
chmod +x "$T/stubborn.sh"
export OUT=$T
start_segue -l 127.0.0.1:0 -s "$CONTROL" --ready-delay 50ms --drain-timeout 500ms \
	-- "$T/stubborn.sh"
wait_event event=worker_ready
old=$(event_field pid event=worker_spawned)
wait_for 5 test -s "$T/child.$old"
child=$(cat "$T/child.$old")
kill -HUP "$SEGUE_PID"
wait_event event=reload_succeeded
wait_event -t 5 event=worker_killed
ok $? "the stubborn worker is killed after drain-timeout"
check "worker_killed names it" -- has_event event=worker_killed "pid=$old"
wait_for 5 gone "$child"
ok $? "its child, which ignored TERM too, is gone with the group"
wait_event -t 5 event=drain_finished
ok $? "drain_finished is logged for the old generation"
is "$(zombies_of "$SEGUE_PID")" 0 "no zombie is left"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops"
