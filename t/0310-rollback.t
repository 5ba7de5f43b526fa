#!/bin/sh
# 0310-rollback.t: a new generation that exits, never becomes ready, or is
# killed mid-start is rolled back; the old one keeps serving untouched.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 14

port=$(free_port)
echo good > "$T/mode"
cat > "$T/app.sh" <<SH
#!/bin/sh
case \$(cat "$T/mode") in
good) exec "$DEMO" ;;
exit) echo "boom" >&2; exit 1 ;;
hang) exec "$DEMO" --no-notify ;;
killed) kill -KILL \$\$ ;;
esac
SH
chmod +x "$T/app.sh"
app_conf "$T/segue.conf" "$port" "$T/app.sh" 'workers = 2' 'ready = "notify"' \
	'ready-timeout = "1s"' 'drain-timeout = "5s"'
start_segue -c "$T/segue.conf"
wait_event -n 2 event=worker_ready
start_load "$port" 8
old_pids=$(event_fields pid event=worker_spawned | sort | tr '\n' ' ')

n=0
for mode in exit hang killed; do
	n=$((n + 1))
	echo $mode > "$T/mode"
	kill -HUP "$SEGUE_PID"
	wait_event -n $n -t 20 event=reload_failed
	ok $? "a new generation that does '$mode' fails the reload"
	reason=$(event_field reason event=reload_failed)
	case $mode in
	exit) like "$reason" 'exited with status 1' "the reason names the exit status" ;;
	hang) like "$reason" 'not ready within 1s' "the reason names the readiness timeout" ;;
	killed) like "$reason" 'killed by signal KILL' "the reason names the signal" ;;
	esac
	like "$(curl -s "http://127.0.0.1:$port/")" 'generation=1 ' "generation 1 still answers after '$mode'"
done
live=""
for p in $old_pids; do kill -0 "$p" 2>/dev/null && live="$live$p "; done
is "$live" "$old_pids" "the old workers' pids are unchanged"

# and a good deploy after all that still works
echo good > "$T/mode"
kill -HUP "$SEGUE_PID"
wait_event -t 20 event=reload_succeeded
ok $? "a good deploy after three bad ones succeeds"
is "$(event_field generation event=reload_succeeded)" 5 "every attempt took a generation number (1 + 3 failed + this one)"
stop_load
like "$LOAD_RESULT" ' errors=0 ' "zero failed requests through all of it"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
