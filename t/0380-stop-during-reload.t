#!/bin/sh
# 0380-stop-during-reload.t: TERM while a reload waits for its new workers stops everything cleanly: exit 0, no process of either generation left, no zombie.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 13

# Generation 1 becomes ready; generation 2 never does, ignores TERM, and
# leaves a child and a double-forked orphan in its process group. Every
# process writes its pid to pids.GENERATION.
cat > "$T/worker.sh" <<SH
#!/bin/sh
out="$T/pids.\$SEGUE_GENERATION"
[ "\$SEGUE_GENERATION" = 1 ] || trap '' TERM
sleep 300 &
echo \$! >> "\$out"
sh -c 'sleep 300 & echo \$! >> "\$1"' orphan "\$out"
echo \$\$ >> "\$out"
if [ "\$SEGUE_GENERATION" = 1 ]; then
	printf 'READY=1' | "$DGRAM" "\$NOTIFY_SOCKET"
fi
while :; do sleep 1; done
SH
chmod +x "$T/worker.sh"
port=$(free_port)
app_conf "$T/segue.conf" "$port" "$T/worker.sh" 'workers = 2' 'ready = "notify"' \
	'ready-timeout = "60s"' 'drain-timeout = "1s"'

start_segue -c "$T/segue.conf"
wait_event -n 2 event=worker_ready
wait_for 5 has_lines "$T/pids.1" 6
ok $? "generation 1 is ready (2 workers, each with a child and an orphan)"
kill -HUP "$SEGUE_PID"
wait_event -n 2 event=worker_spawned program=app generation=2
wait_for 5 has_lines "$T/pids.2" 6
ok $? "generation 2 started its workers, which never become ready"
st=$(status_json)
is "$(printf '%s\n' "$st" | "$EVENTS" -f reloading -)" true "status: a reload is pending"
is "$(printf '%s\n' "$st" | "$EVENTS" -a -r 'programs[].workers[]' -f state - generation=2 | sort -u)" \
	starting "status: generation 2's workers are starting"
all="$(cat "$T/pids.1" "$T/pids.2" | tr '\n' ' ')"
groups=$(event_fields pid event=worker_spawned | tr '\n' ' ')

kill -TERM "$SEGUE_PID"
wait_for 10 gone "$SEGUE_PID"
ok $? "segue exits after TERM"
wait "$SEGUE_PID" 2>/dev/null
is $? 0 "with status 0"
check "no reload_succeeded: the pending generation never took over" -- test "$(event_count event=reload_succeeded)" = 0
like "$(event_field reason event=reload_failed)" 'stopping' "the pending reload is reported as ended by the stop"
check "generation 2's workers, which ignore TERM, were killed" -- has_event -n 2 event=worker_killed program=app generation=2
check "the stopped event is logged" -- has_event event=stopped
left=
for pid in $all; do
	[ -e "/proc/$pid" ] && [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != Z ] && left="$left$pid "
done
is "$left" "" "no process of either generation is alive (workers, children, orphans)"
zombies=
for pid in $all; do [ -e "/proc/$pid" ] && zombies="$zombies$pid "; done
is "$zombies" "" "and none is left as a zombie"
is "$(in_groups $groups)" "" "the workers' process groups are empty"
