#!/bin/sh
# 0936-steer-canary-weight.t: with handover = "steer", a canary with
# canary-weight = "50%" gets about half of the new connections once its
# worker is ready, while the serving generation gets the others; a canary
# that fails is steered away from and the serving generation gets every
# connection again; one that passes commits. Under load, with zero failed
# requests in every case.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 21

demo_release A
demo_release B
demo_release C --exit-after 6000
demo_release D
deploy A

port=$(free_port)
conf() {
	app_conf "$T/segue.conf" "$port" ./app "directory = \"$T/current\"" 'workers = 2' \
		'ready = "notify"' 'drain-timeout = "5s"' 'canary = 1' 'canary-weight = "50%"' \
		"canary-hold = \"$1\"" 'check-interval = "300ms"' 'check-failures = 2' \
		"check = \"test ! -e unhealthy && curl -fsS -o /dev/null http://127.0.0.1:{port:web}/health\""
	set_handover "$T/segue.conf" steer
}

conf 20s
start_segue -c "$T/segue.conf"
wait_event -n 2 event=worker_ready
start_load "$port" 8

# 1. a weighted canary, then its check fails during its 20 s hold
deploy B
mark=$(log_lines)
kill -HUP "$SEGUE_PID"
wait_event -s "$mark" event=canary_started
is "$(event_field weight event=canary_started)" 50 "canary_started: its weight"
wait_event -s "$mark" -t 20 event=steer_weighted
ok $? "once the canary is ready, its socket is weighted"
is "$(event_text '{generation} {from_generation} {weight}' event=steer_weighted)" "2 1 50" \
	"steer_weighted: 50% to generation 2, the rest to generation 1"
st=$(status_json | tr -d ' \n')
like "$st" '"generation":2,"group_index":1,"weight":50' "status: the canary's socket and its share"
like "$st" '"generation":1,"group_index":0,"weight":50' "status: the serving socket and the rest"
ctl metrics
like "$OUT" 'segue_socket_weight_percent\{socket="web",generation="2"\} 50' \
	"metrics: the canary socket's share"
if command -v promtool >/dev/null; then
	printf '%s\n' "$OUT" | promtool check metrics >/dev/null 2>&1
	ok $? "promtool accepts the metrics"
else
	ok 1 "# SKIP promtool is not installed"
fi
is "$(generations_answering "$port" 40)" "1 2" "during the hold, both generations answer new connections"
touch "$T/releases/B/unhealthy"
wait_event -s "$mark" -t 30 event=reload_failed
ok $? "the canary fails when its check fails"
wait_event -s "$mark" -t 10 event=steer_finished generation=2
is "$(event_field timed_out event=steer_finished generation=2)" false \
	"its workers drain once its socket's accept queue is empty"
wait_event -s "$mark" -t 10 event=socket_closed
is "$(generations_answering "$port" 20)" 1 "after it, only generation 1 answers"
like "$(status_json | tr -d ' \n')" '"generation":1,"group_index":0,"accept_queue"' \
	"status shows no weight any more"
stop_load "failed check of a weighted canary"
like "$LOAD_RESULT" ' errors=0 ' "a weighted canary that fails its check: zero failed requests"

# 2. a weighted canary whose worker exits 6 s into its 20 s hold
start_load "$port" 8
deploy C
mark=$(log_lines)
kill -HUP "$SEGUE_PID"
wait_event -s "$mark" -t 30 event=reload_failed
ok $? "the canary fails when its worker exits"
wait_event -s "$mark" -t 10 event=socket_closed
is "$(generations_answering "$port" 20)" 1 "after it, only generation 1 answers"
stop_load "exited weighted canary"
errors=$(printf '%s\n' "$LOAD_RESULT" | sed -n 's/.* errors=\([0-9]*\) .*/\1/p')
check "a canary that exits loses at most what was queued on its socket: $errors of 8 clients" -- \
	test "${errors:-99}" -le 8

# 2. a weighted canary that passes, then the cut-over
conf 3s
deploy D
start_load "$port" 8
mark=$(log_lines)
ctl reload --wait
is "$RC" 0 "reload --wait succeeds after the weighted canary"
wait_event -s "$mark" event=steer_weighted generation=4
ok $? "its socket was weighted during the hold"
wait_event -s "$mark" -t 10 event=drain_finished generation=1
stop_load "passed weighted canary"
like "$LOAD_RESULT" ' errors=0 ' "a passed weighted canary: zero failed requests"
is "$(generations_answering "$port" 20)" 4 "generation 4 answers every new connection"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
