#!/bin/sh
# 0925-steer-rollback.t: with handover = "steer", a reload rolled back while
# its generation already listens (one new worker ready, one never) steers
# nothing away: traffic stays with the old generation, 0 failed requests,
# and the new socket closes. `rollback` under load loses nothing either.
# During a reload, status and metrics show each generation's socket with
# its accept queue; after the reloads segue holds as many descriptors as
# before.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 16

port=$(free_port)
echo good > "$T/mode"
cat > "$T/app.sh" <<SH
#!/bin/sh
# mode "half": a new generation's slot 1 never becomes ready
[ "\$(cat "$T/mode")" = half ] && [ "\$SEGUE_WORKER" = 1 ] && exec "$DEMO" --no-notify
[ "\$(cat "$T/mode")" = slow ] && exec "$DEMO" --startup-delay 1000
exec "$DEMO"
SH
chmod +x "$T/app.sh"
app_conf "$T/segue.conf" "$port" "$T/app.sh" 'workers = 2' 'ready = "notify"' \
	'ready-timeout = "5s"' 'drain-timeout = "5s"'
set_handover "$T/segue.conf" steer
start_segue -c "$T/segue.conf"
wait_event -n 2 event=worker_ready
fds_before=$(ls "/proc/$SEGUE_PID/fd" | wc -l)
start_load "$port" 8

# --- a reload rolled back mid-handover -------------------------------------
echo half > "$T/mode"
mark=$(log_lines)
kill -HUP "$SEGUE_PID"
wait_event -s "$mark" -t 20 "$RELOAD_ENDED"
is "$(event_text '{event} {generation}' "$RELOAD_ENDED")" "reload_failed 2" \
	"generation 2 (one worker ready, one never) is rolled back"
has_event -s "$mark" event=worker_ready generation=2
ok $? "one of its workers was ready, on its own socket"
has_event -s "$mark" event=steer_started
ok $((! $?)) "nothing was steered to it"
wait_event -s "$mark" -t 10 event=socket_closed
ok $? "its socket closes with it"
echo good > "$T/mode"
sleep 0.5 # load on the old generation after the rollback
stop_load "rolled back mid-handover"
like "$LOAD_RESULT" ' errors=0 ' "rolled back mid-handover: zero failed requests"
like "$LOAD_RESULT" ' generations=1 ' "every request was served by generation 1"

# --- status and metrics during a reload ------------------------------------
echo slow > "$T/mode"
mark=$(log_lines)
kill -HUP "$SEGUE_PID"
wait_event -s "$mark" -t 10 event=worker_spawned generation=3
st=$(status_json)
like "$(printf '%s' "$st" | tr -d ' \n')" \
	'"sockets":\[\{"name":"web",[^]]*"generation":3,"group_index":1,"accept_queue":0\},\{"name":"web",[^]]*"generation":1,"group_index":0,"accept_queue":[0-9]+\}' \
	"status: each generation's socket, its place in the group and its accept queue"
ctl metrics
like "$OUT" 'segue_socket_accept_queue\{socket="web",generation="3"\} 0' \
	"metrics: the new generation's accept queue"
like "$OUT" 'segue_socket_accept_queue\{socket="web",generation="1"\} [0-9]' \
	"metrics: the serving generation's"
if command -v promtool >/dev/null; then
	printf '%s\n' "$OUT" | promtool check metrics >/dev/null 2>&1
	ok $? "promtool accepts the metrics"
else
	ok 1 "# SKIP promtool is not installed"
fi
wait_event -s "$mark" -t 20 "$RELOAD_ENDED"
wait_event -s "$mark" -t 10 event=steer_finished
is "$(event_text '{generation} {timed_out}' event=steer_finished)" "1 false" \
	"the cut-over waits for generation 1's empty accept queue, not for steer-quiesce"
wait_event -s "$mark" -t 10 event=drain_finished generation=1
echo good > "$T/mode"

# --- rollback under load -----------------------------------------------------
start_load "$port" 8
mark=$(log_lines)
ctl rollback
wait_event -s "$mark" -t 20 "$RELOAD_ENDED"
is "$(event_text '{event} {generation}' "$RELOAD_ENDED")" "reload_succeeded 4" \
	"rollback: generation 4 serves"
wait_event -s "$mark" -t 10 event=drain_finished generation=3
stop_load "rollback"
like "$LOAD_RESULT" ' errors=0 ' "rollback under load: zero failed requests"
is "$(status_json | grep -o '"fd"' | wc -l)" 1 "one socket held once the old generations drained"
is "$(ls "/proc/$SEGUE_PID/fd" | wc -l)" "$fds_before" "as many descriptors as before the reloads"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
