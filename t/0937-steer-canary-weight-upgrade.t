#!/bin/sh
# 0937-steer-canary-weight-upgrade.t: a weighted canary keeps its share
# when a retired generation's socket leaves the group during its hold (the
# program names the new places), and across an upgrade in place: the new
# image knows the canary is weighted (status shows the shares, and a
# failed check steers back and waits for the canary's accept queue).
# Under load, with zero failed requests.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/upgrade.sh"
plan 12

demo_release A
demo_release B
demo_release C
deploy A

port=$(free_port)
# drain-signal CONT: the demo ignores it, so a retired generation keeps its
# socket in the group until drain-timeout kills it
conf() {
	app_conf "$T/segue.conf" "$port" ./app "directory = \"$T/current\"" 'workers = 2' \
		'ready = "notify"' 'drain-signal = "CONT"' 'drain-timeout = "4s"' 'canary = 1' \
		'canary-weight = "50%"' "canary-hold = \"$1\"" 'check-interval = "300ms"' \
		'check-failures = 2' \
		"check = \"test ! -e unhealthy && curl -fsS -o /dev/null http://127.0.0.1:{port:web}/health\""
	set_handover "$T/segue.conf" steer
}

# places: "generation:place:weight" of each socket, newest first.
places() { status_json | "$EVENTS" -a -o '{generation}:{group_index}:{weight}' -r 'sockets[]' - | _words; }

conf 1s
use_upgradable_segue
start_segue -c "$T/segue.conf"
wait_event -n 2 event=worker_ready
start_load "$port" 8

# generation 2 serves; retired generation 1 keeps its socket for 4 s
deploy B
kill -HUP "$SEGUE_PID"
wait_event -t 20 event=drain_started generation=1

# a weighted canary while generation 1's socket is still in the group
conf 30s
deploy C
mark=$(log_lines)
kill -HUP "$SEGUE_PID"
wait_event -s "$mark" -t 20 event=steer_weighted generation=3
is "$(event_text '{index} {from_generation} {from_index}' event=steer_weighted)" "2 2 1" \
	"the canary's socket at place 2 takes half, generation 2's at place 1 the rest"
wait_event -t 20 event=drain_finished generation=1
check "generation 1 left during the canary's hold" -- \
	test "$(event_ms event=drain_finished generation=1)" -ge "$(event_ms event=steer_weighted generation=3)"
two_sockets() { [ "$(status_json | grep -o '"fd"' | wc -l)" = 2 ]; }
wait_for 5 two_sockets
is "$(places)" "3:0:50 2:1:50" "its socket left; the canary's took its place"
is "$(generations_answering "$port" 40)" "2 3" "the weighted program names the new places: both generations answer"

# an upgrade in place during the hold
install_image "$IMG_NEXT"
upgrade_json
is "$(answer_field ok)" true "the upgrade succeeds during the weighted hold"
is "$(places)" "3:0:50 2:1:50" "the new image knows the canary is weighted"
is "$(generations_answering "$port" 40)" "2 3" "both generations still answer"

# the check fails: the new image steers back and waits for the queue
mark=$(log_lines)
touch "$T/releases/C/unhealthy"
wait_event -s "$mark" -t 20 event=reload_failed
ok $? "the canary fails its check"
wait_event -s "$mark" -t 10 event=steer_finished generation=3
is "$(event_field timed_out event=steer_finished generation=3)" false \
	"it drains once its socket's accept queue is empty"
is "$(generations_answering "$port" 20)" 2 "then only generation 2 answers"
stop_load "weighted canary across an upgrade"
like "$LOAD_RESULT" ' errors=0 ' "zero failed requests"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
