#!/bin/sh
# 0380-stop-during-reload.t: TERM while a reload waits for its new workers stops everything cleanly: exit 0, no process of either generation left, no zombie.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
RAW=$top_builddir/t/helpers/rawclient
DGRAM=$top_builddir/t/helpers/dgram
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
cat > "$T/segue.conf" <<CONF
control = "$T/c.sock"
socket web { listen = "127.0.0.1:$port" }
program app {
  command = "$T/worker.sh"
  sockets = { "web" }
  workers = 2
  ready = "notify"
  ready-timeout = "60s"
  drain-timeout = "1s"
}
CONF
lines() { [ "$(wc -l < "$1" 2>/dev/null || echo 0)" -ge "$2" ]; }
# exists PID: the process exists, zombie or not
exists() { [ -e "/proc/$1" ]; }
# in_groups PGID...: processes (any state) whose process group is one of these
in_groups() {
	local stat line found=
	for stat in /proc/[0-9]*/stat; do
		line=$(cat "$stat" 2>/dev/null) || continue
		set -- ${line##*) }
		for g in $groups; do
			[ "$3" = "$g" ] && found="$found ${stat#/proc/}"
		done
	done
	echo "${found# }" | sed 's|/stat||g'
}

start_segue -c "$T/segue.conf"
wait_log 'event=worker_ready' 2
wait_for 5 lines "$T/pids.1" 6
ok $? "generation 1 is ready (2 workers, each with a child and an orphan)"
kill -HUP "$SEGUE_PID"
wait_log 'event=worker_spawned program=app generation=2 ' 2
wait_for 5 lines "$T/pids.2" 6
ok $? "generation 2 started its workers, which never become ready"
st=$(echo status | "$RAW" -l 1 -t 2 "$T/c.sock")
like "$st" '"reloading": ?true' "status: a reload is pending"
like "$st" '"generation": ?2, ?"state": ?"starting"' "status: generation 2's workers are starting"
all="$(cat "$T/pids.1" "$T/pids.2" | tr '\n' ' ')"
groups=$(sed -n 's/.*event=worker_spawned.* pid=\([0-9]*\).*/\1/p' "$T/segue.log" | tr '\n' ' ')

kill -TERM "$SEGUE_PID"
wait_for 10 eval '! kill -0 $SEGUE_PID 2>/dev/null'
ok $? "segue exits after TERM"
wait "$SEGUE_PID" 2>/dev/null
is $? 0 "with status 0"
check "no reload_succeeded: the pending generation never took over" -- test "$(grep -c 'event=reload_succeeded' "$T/segue.log")" = 0
like "$(grep 'event=reload_failed' "$T/segue.log")" 'stopping' "the pending reload is reported as ended by the stop"
check "generation 2's workers, which ignore TERM, were killed" -- segue_logged 'event=worker_killed program=app generation=2 ' 2
check "the stopped event is logged" -- segue_logged 'event=stopped'
left=
for pid in $all; do
	[ -e "/proc/$pid" ] && [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != Z ] && left="$left$pid "
done
is "$left" "" "no process of either generation is alive (workers, children, orphans)"
zombies=
for pid in $all; do exists "$pid" && zombies="$zombies$pid "; done
is "$zombies" "" "and none is left as a zombie"
is "$(in_groups)" "" "the workers' process groups are empty"
