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
start_segue -l 127.0.0.1:0 -s "$T/control.sock" --ready-delay 50ms --drain-timeout 500ms \
	-- "$T/stubborn.sh"
wait_log 'event=worker_ready'
old=$(log_field worker_spawned pid)
wait_for 5 test -s "$T/child.$old"
child=$(cat "$T/child.$old")
kill -HUP "$SEGUE_PID"
wait_log 'event=reload_succeeded'
wait_log 'event=worker_killed' 1 5
ok $? "the stubborn worker is killed after drain-timeout"
like "$(grep 'event=worker_killed' "$T/segue.log")" "pid=$old" "worker_killed names it"
wait_for 5 eval "! kill -0 $child 2>/dev/null"
ok $? "its child, which ignored TERM too, is gone with the group"
wait_log 'event=drain_finished' 1 5
ok $? "drain_finished is logged for the old generation"
is "$(zombies_of "$SEGUE_PID")" 0 "no zombie is left"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops"
