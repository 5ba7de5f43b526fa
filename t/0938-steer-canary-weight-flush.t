#!/bin/sh
# 0938-steer-canary-weight-flush.t: a failed weighted canary is steered
# back and drains once its accept queue is empty; an upgrade in place
# during that wait ends it at once (the wait's timer would not survive the
# exec, and the failed generation would never drain).
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/upgrade.sh"
plan 6

demo_release A
demo_release B
deploy A
port=$(free_port)
# steer-quiesce 30 s: the steer-back waits that long for a queue that a
# stopped canary never empties
app_conf "$T/segue.conf" "$port" ./app "directory = \"$T/current\"" 'workers = 1' \
	'ready = "notify"' 'canary = 1' 'canary-weight = "100%"' 'canary-hold = "60s"' \
	"check = \"test ! -e '$T/unhealthy'\"" 'check-interval = "200ms"' 'check-failures = 1'
set_handover "$T/segue.conf" steer 30s
use_upgradable_segue
start_segue -c "$T/segue.conf"
wait_event event=worker_ready

deploy B
mark=$(log_lines)
kill -HUP "$SEGUE_PID"
wait_event -s "$mark" -t 20 event=steer_weighted generation=2
ok $? "the canary takes every new connection"
canary=$(event_field pid event=worker_spawned generation=2)
kill -STOP "$canary"
# a connection that waits in the stopped canary's accept queue
curl -s -m 30 -o /dev/null "http://127.0.0.1:$port/" &
register_pid $!
queued() { [ "$(status_json | "$EVENTS" -a -f accept_queue -r 'sockets[]' - generation=2)" = 1 ]; }
wait_for 10 queued
ok $? "a connection waits in the canary's accept queue"
touch "$T/unhealthy"
wait_event -s "$mark" -t 10 event=reload_failed
ok $? "the canary fails its check: steered back, its drain waits for the queue"
install_image "$IMG_NEXT"
ctl upgrade --wait
is "$RC" 0 "an upgrade in place during the wait: $OUT$ERR"
kill -CONT "$canary"
wait_event -s "$mark" -t 10 event=worker_exited generation=2
ok $? "the failed canary's worker was drained and is gone (the upgrade ended the wait)"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
