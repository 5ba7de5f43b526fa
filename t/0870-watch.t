#!/bin/sh
# 0870-watch.t: after a cut-over the release is on watch: one that
# survives gets watch_passed, one whose worker fails inside the window is
# rolled back to the previous release (auto_rollback), and reload
# --wait=watch tells the deploy script which. A reload during a watch ends
# it; an upgrade in place keeps it with its deadline. Under load, zero
# failed requests.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/upgrade.sh"
plan 28

demo_release A
demo_release B
demo_release C --exit-after 3000
demo_release D
demo_release E
demo_release F --startup-delay 1000
deploy A

port=$(free_port)
conf() {
	app_conf "$T/segue.conf" "$port" ./app "directory = \"$T/current\"" 'workers = 2' \
		'ready = "notify"' 'drain-timeout = "5s"' "watch = \"$1\""
}
conf 3s
use_upgradable_segue
start_segue -c "$T/segue.conf"
wait_event -n 2 event=worker_ready
start_load "$port" 8

# 1. a release that survives its watch
deploy B
mark=$(log_lines)
ctl reload --wait=watch
is "$RC" 0 "reload --wait=watch exits 0 when the release survives its watch"
like "$OUT" 'passed its watch' "and says so: $OUT"
wait_event -s "$mark" event=watch_passed
is "$(event_field release event=watch_passed)" B "watch_passed names the release"
check "watch_passed comes after the window (3 s)" -- \
	test $(($(event_ms event=watch_passed) - $(event_ms event=watch_started))) -ge 2900
is "$(status_field deploy.phase)" idle "status: no deploy phase afterwards"

# 2. a release that fails 3 s after its cut-over, inside a 10 s watch
conf 10s
deploy C
mark=$(log_lines)
ctl reload --wait=watch
is "$RC" 1 "reload --wait=watch exits 1 when the release was rolled back"
like "$ERR" 'release C failed its watch.*back to release B' "and says why: $ERR"
wait_event -s "$mark" event=auto_rollback
is "$(event_field release event=auto_rollback)" C "auto_rollback names the release"
is "$(event_field rollback_to event=auto_rollback)" B "and the release it returns to"
like "$(event_field reason event=auto_rollback)" 'STOPPING=1|exited' "and the reason"
wait_event -s "$mark" -t 20 event=reload_succeeded rollback=true
ok $? "the rollback's generation serves"
is "$(status_field release)" B "release B serves again"
like "$(curl -s "http://127.0.0.1:$port/env")" 'SEGUE_RELEASE=B' "and answers requests"
check "the rollback came before the end of the window" -- \
	test $(($(event_ms event=auto_rollback) - $(event_ms -s "$mark" event=watch_started))) -lt 9000

# 3. a reload during a watch ends that watch; the new release gets its own
deploy D
mark=$(log_lines)
kill -HUP "$SEGUE_PID"
wait_event -s "$mark" event=watch_started
deploy E
kill -HUP "$SEGUE_PID"
wait_event -s "$mark" event=watch_ended
ok $? "a reload during the watch ends it (watch_ended)"
wait_event -s "$mark" -n 2 event=watch_started
is "$(event_field -n -1 release event=watch_started)" E "the new release is on its own watch"

# 4. an upgrade in place during the watch keeps it and its deadline, and a
# deploy script waiting through the window is answered by the new image
started=$(event_ms -n -1 event=watch_started)
"$SEGUECTL" -s "$CONTROL" reload --wait=watch > "$T/waiter.out" 2>&1 &
waiter=$!
wait_event -s "$mark" -n 3 event=watch_started
started=$(event_ms -n -1 event=watch_started)
install_image "$IMG_NEXT"
ctl upgrade --wait
is "$RC" 0 "segue upgrades in place during the watch"
wait_event -s "$mark" -t 20 event=watch_passed generation=7
ok $? "the watch goes on in the new image and passes"
is "$(event_count -s "$mark" event=watch_started generation=7)" 1 "the watch was not started again"
passed=$(event_ms event=watch_passed generation=7)
check "its deadline was kept (10 s after it started)" -- \
	test $((passed - started)) -ge 9900 -a $((passed - started)) -lt 12000
wait_for 20 sh -c "! kill -0 $waiter 2>/dev/null" || kill "$waiter"
wait "$waiter"
is "$?" 0 "the deploy script waiting through the upgrade exits 0"
like "$(cat "$T/waiter.out")" 'passed its watch' "with the verdict"

# 5. a reload queued behind the one a deploy script waits on begins as that
# one commits: its window ends at once, and the script hears so
deploy F
mark=$(log_lines)
"$SEGUECTL" -s "$CONTROL" reload --wait=watch > "$T/queued.out" 2>&1 &
waiter=$!
wait_event -s "$mark" event=reload_started
kill -HUP "$SEGUE_PID"
wait_event -s "$mark" event=reload_requested msg='queued after the running reload'
ok $? "a second reload is queued"
wait_for 20 sh -c "! kill -0 $waiter 2>/dev/null" || kill "$waiter"
wait "$waiter"
is "$?" 1 "reload --wait=watch exits 1 when a queued reload ends the window at once"
like "$(cat "$T/queued.out")" 'ended early: a new reload began' "and says why"
wait_event -s "$mark" -t 20 -n 2 event=reload_succeeded
ok $? "the queued reload ran"

stop_load
like "$LOAD_RESULT" ' errors=0 ' "zero failed requests through all of it"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
