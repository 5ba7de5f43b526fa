#!/bin/sh
# 0935-steer-fdstore.t: with fdstore = true and handover = "steer", the
# socket in (fake) systemd's fd store is the serving generation's: a
# reload's commit removes the old one and stores the new one, so a segue
# restarted after SIGKILL takes back the socket that serves, and no
# connection is refused meanwhile.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 7

child_changed() { [ -s "$SD/child" ] && [ "$(cat "$SD/child")" != "$1" ]; }
stores() { grep -c "^[0-9]* [0-9]* FDSTORE=1|FDNAME=web" "$SD/notify.log"; }
removals() { grep -c "^[0-9]* [0-9]* FDSTOREREMOVE=1|FDNAME=web" "$SD/notify.log"; }

port=$(free_port)
app_conf "$T/segue.conf" "$port" "$DEMO" 'workers = 2' 'ready = "notify"' 'drain-timeout = "5s"'
set_handover "$T/segue.conf" steer
echo 'fdstore = true' >> "$T/segue.conf"
start_fakesystemd --kill-mode process "$T/sd" -- "$SEGUE" -c "$T/segue.conf"
wait_for 10 sd_ready_from "$SEGUE_PID"
first=$(listen_inode "$port")
start_load "$port" 8

mark=$(log_lines)
kill -HUP "$SEGUE_PID"
wait_event -s "$mark" -t 20 event=drain_finished
second=$(listen_inode "$port")
ok $([ -n "$second" ] && [ "$second" != "$first" ]; echo $?) \
	"generation 2 listens on a socket of its own (inode $first, then $second)"
is "$(removals) $(stores)" "1 2" "the commit removed the old socket from the store and stored the new one"

old=$SEGUE_PID
kill -USR1 "$FAKE_PID" # fakesystemd KILLs segue and starts it again
wait_for 15 child_changed "$old"
SEGUE_PID=$(cat "$SD/child")
wait_for 15 sd_ready_from "$SEGUE_PID"
ok $? "the restarted segue is ready"
is "$(event_text '{inherited}' event=socket_bound)" true "it took the stored socket back"
is "$(listen_inode "$port")" "$second" "the stored socket was the serving generation's"
stop_load "steer with the fd store"
like "$LOAD_RESULT" ' connect_errors=0 ' "no connection refused"
stop_fakesystemd
is "$SD_STATUS" 0 "segue stops cleanly"
