#!/bin/sh
# 0930-steer-upgrade.t: an upgrade in place carries handover steer's state:
# each generation's socket (a retired one still draining among them) and
# its place in the SO_REUSEPORT group. After the upgrade, under load, the
# next reload steers to the right socket, and when the old generation's
# socket leaves the group the program follows the serving one: no request
# fails.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/upgrade.sh"
plan 10

use_upgradable_segue
port=$(free_port)
# drain-signal CONT: the demo ignores it, so a retired generation keeps
# its socket (and serves what it already has) until drain-timeout kills it
app_conf "$T/segue.conf" "$port" "$DEMO" 'workers = 2' 'ready = "notify"' \
	'drain-signal = "CONT"' 'drain-timeout = "4s"'
set_handover "$T/segue.conf" steer
start_segue -c "$T/segue.conf"
wait_event -n 2 event=worker_ready
start_load "$port" 8
kill -HUP "$SEGUE_PID"
wait_event -t 20 event=drain_started generation=1

# sockets: "generation:place" of each, newest first
places() { status_json | "$EVENTS" -a -o '{generation}:{group_index}' -r 'sockets[]' - | _words; }
before=$(places)
is "$before" "2:1 1:0" "before: generation 2's socket at place 1, retired generation 1's at 0"
install_image "$IMG_NEXT"
upgrade_json
is "$(answer_field ok)" true "the upgrade succeeds while generation 1 drains"
is "$(places)" "$before" "after: the same sockets in the same places"

mark=$(log_lines)
kill -HUP "$SEGUE_PID"
wait_event -s "$mark" -t 20 event=steer_finished
is "$(event_text '{generation} {index}' event=steer_started)" "3 2" \
	"the next reload steers to generation 3's socket, at place 2"
wait_event -t 20 event=drain_finished generation=1
wait_event -t 20 event=drain_finished generation=2
is "$(places)" "3:0" "once the old sockets left, generation 3's holds place 0"
sleep 0.5 # load on generation 3 alone
stop_load "across the upgrade"
like "$LOAD_RESULT" ' errors=0 ' "zero failed requests"
like "$LOAD_RESULT" 'generations=1,2,3 ' "generations 1, 2 and 3 served"
serves "$port" 20
ok $? "generation 3 serves after its group shrank"
is "$(event_text '{generation}' event=worker_spawned)" 3 "no worker since generation 3's"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
