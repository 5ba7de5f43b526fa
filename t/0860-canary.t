#!/bin/sh
# 0860-canary.t: a reload with a canary first runs its workers beside the
# whole old generation and holds them; a canary that crashes or fails its
# check stops there, and the old generation was never signalled. Under
# load, with zero failed requests in every case.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/upgrade.sh"
plan 36

demo_release A
demo_release B
demo_release C
demo_release D --exit-after 2000
demo_release E
touch "$T/releases/E/unhealthy"
demo_release F
demo_release G
deploy A

# ready_pids: the pids of the ready workers, sorted.
ready_pids() {
	status_json | "$EVENTS" -a -r 'programs[].workers[]' -f pid - state=ready | sort -n | _words
}

port=$(free_port)
conf() {
	app_conf "$T/segue.conf" "$port" ./app "directory = \"$T/current\"" 'workers = 4' \
		'ready = "notify"' 'drain-timeout = "5s"' "canary = $1" 'canary-hold = "5s"' \
		"check = \"test ! -e unhealthy && curl -fsS -o /dev/null http://127.0.0.1:{port:web}/health\"" \
		'check-interval = "300ms"' 'check-failures = 2' "reload = \"$2\""
}
conf 1 all-at-once
use_upgradable_segue
start_segue -c "$T/segue.conf"
wait_event -n 4 event=worker_ready
is "$(status_field release)" A "status names the serving release"
start_load "$port" 8

# 1. a canary that passes, then all at once
deploy B
mark=$(log_lines)
ctl reload --wait
is "$RC" 0 "reload --wait succeeds after the canary"
like "$OUT" 'generation 2 serving release B' "its answer names the release"
wait_event -s "$mark" event=canary_passed
is "$(event_field workers event=canary_started)" 1 "canary_started: one worker"
is "$(event_field release event=canary_started)" B "canary_started names the release"
is "$(event_count event=worker_spawned generation=2 release=B)" 4 \
	"every new worker's events name release B"
check "the old generation drained after the canary passed" -- \
	test "$(event_ms event=drain_started generation=1)" -ge "$(event_ms event=canary_passed)"
like "$(event_json event=reload_succeeded)" '"release": *"B"' "reload_succeeded names the release"
like "$(ctl metrics; echo "$OUT")" 'segue_release_info{program="app",generation="2",release="B",serving="1"} 1' \
	"metrics carry the release"

# 2. a canary that passes, then rolling
conf 1 rolling
deploy C
mark=$(log_lines)
kill -HUP "$SEGUE_PID"
wait_event -s "$mark" -t 30 event=reload_succeeded
ok $? "a rolling reload after its canary succeeds"
check "no old worker was drained before the canary passed" -- \
	test "$(event_ms event=worker_exited generation=2)" -ge "$(event_ms event=canary_passed generation=3)"
is "$(status_field release)" C "release C serves"

# 3. a canary that crashes 2 s into its 5 s hold
old_pids=$(ready_pids)
deploy D
mark=$(log_lines)
ctl reload --wait
is "$RC" 1 "reload --wait fails when the canary crashes"
like "$ERR" 'canary failed' "and says the canary failed"
wait_event -s "$mark" event=canary_failed
reason=$(event_field reason event=canary_failed)
like "$reason" 'STOPPING=1|exited' "canary_failed says why: $reason"
is "$(event_field release event=canary_failed)" D "canary_failed names the release"
is "$(ready_pids)" "$old_pids" "the old workers' pids are unchanged"
is "$(event_count -s "$mark" event=drain_started)" 0 "the old generation was never told to drain"
is "$(event_count -s "$mark" event=worker_spawned generation=4)" 1 "only the canary started"
is "$(status_field release)" C "release C still serves"

# 4. a canary whose check fails
deploy E
mark=$(log_lines)
ctl reload --wait
is "$RC" 1 "reload --wait fails when the canary's check fails"
wait_event -s "$mark" event=canary_failed
like "$(event_field reason event=canary_failed)" 'checks in a row failed: check exited with status 1' \
	"canary_failed names the failing check"
is "$(ready_pids)" "$old_pids" "the old workers are still the same"
is "$(event_count -s "$mark" event=drain_started)" 0 "nor were they told to drain"

# 5. canary = "50%" of 4 workers is 2
conf '"50%"' all-at-once
deploy F
mark=$(log_lines)
kill -HUP "$SEGUE_PID"
wait_event -s "$mark" event=canary_started
is "$(event_field workers event=canary_started generation=6)" 2 'canary = "50%" of 4 starts 2'
phase=$(status_field deploy.phase)
like "$phase" '^canary' "status shows the canary phase ($phase)"
# 6. a reload asked for during the canary waits for it (coalesced as ever)
kill -HUP "$SEGUE_PID"
wait_event -s "$mark" -t 30 -n 2 event=reload_succeeded
ok $? "the queued reload ran after the canary's reload"
is "$(event_field generation event=reload_succeeded reload=6)" 7 "the queued reload took the next generation"
check "and began only when the canary's reload had ended" -- \
	test "$(event_ms event=reload_started reload=6)" -ge "$(event_ms event=reload_succeeded reload=5)"

# 7. an upgrade in place while the canary is held keeps the phase and its
# deadline
conf 1 all-at-once
deploy G
mark=$(log_lines)
kill -HUP "$SEGUE_PID"
wait_for 10 sh -c "[ \"\$(\"$SEGUECTL\" -s \"$CONTROL\" --json status | \"$EVENTS\" -f deploy.phase -)\" = canary-hold ]"
ok $? "the canary is held"
held=$(event_ms -s "$mark" event=worker_ready generation=8)
install_image "$IMG_NEXT"
ctl upgrade --wait
is "$RC" 0 "segue upgrades in place while the canary is held: $OUT$ERR"
wait_event -s "$mark" -t 20 event=reload_succeeded generation=8
is "$(event_count -s "$mark" event=canary_started generation=8)" 1 "the canary was not started again"
check "the hold kept its deadline (5 s from the canary's readiness)" -- \
	test $(($(event_ms event=canary_passed generation=8) - held)) -ge 4900 -a \
	$(($(event_ms event=canary_passed generation=8) - held)) -lt 7000

stop_load
like "$LOAD_RESULT" ' errors=0 ' "zero failed requests through all of it"
is "$(echo "$LOAD_RESULT" | sed -n 's/.* connect_errors=\([0-9]*\).*/\1/p')" 0 "and no refused connection"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
