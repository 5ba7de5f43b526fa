#!/bin/sh
# 0250-orphans.t: segue is a subreaper: a double-forking worker leaves no zombie,
# and stop reaches the worker's whole process group.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 5

cat > "$T/worker.sh" <<'SH'
#!/bin/sh
# a daemon-style grandchild that outlives its parent, then exits
( sleep 0.3 & echo $! > "$OUT/grandchild.$$" ) &
# a child that stays in the group until the worker is stopped
sleep 300 &
echo $! > "$OUT/child.$$"
wait
SH
chmod +x "$T/worker.sh"
export OUT=$T
start_segue -l 127.0.0.1:0 -s "$CONTROL" --ready-delay 100ms -- "$T/worker.sh"
wait_event event=worker_ready
wpid=$(event_field pid event=worker_spawned)
wait_for 5 test -s "$T/grandchild.$wpid"
gc=$(cat "$T/grandchild.$wpid")
wait_for 5 gone "$gc"
ok $? "the orphaned grandchild exits and is reaped"
is "$(zombies_of "$SEGUE_PID")" 0 "segue has no zombie child"
check "segue is still serving" -- segue_alive
child=$(cat "$T/child.$wpid")
stop_segue
is "$SEGUE_STATUS" 0 "segue stops with status 0"
check "the worker's own child was stopped with its group" -- eval "! kill -0 $child 2>/dev/null"
