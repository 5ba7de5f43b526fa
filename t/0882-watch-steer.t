#!/bin/sh
# 0882-watch-steer.t: with handover = "steer", a release that fails its
# watch while its reload still hands over (the old accept queue is not
# empty yet) is rolled back once the handover has ended, not announced and
# forgotten.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 7

demo_release A
demo_release B --exit-after 500
deploy A
port=$(free_port)
app_conf "$T/segue.conf" "$port" ./app "directory = \"$T/current\"" 'workers = 1' \
	'ready = "notify"' 'drain-timeout = "5s"' 'watch = "20s"'
set_handover "$T/segue.conf" steer 30s
start_segue -c "$T/segue.conf"
wait_event event=worker_ready
old=$(event_field pid event=worker_ready)
# the old worker stops accepting: three connections wait in its accept
# queue, so the handover lasts until it goes on
kill -STOP "$old"
python3 -c '
import socket, sys, time
s = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(3)]
time.sleep(60)' "$port" &
holder=$!
register_pid "$holder"
wait_for 10 sh -c "ss -Hltn 'sport = :$port' | awk '{ q += \$2 } END { exit !(q >= 3) }'"
deploy B
mark=$(log_lines)
"$SEGUECTL" -s "$CONTROL" reload --wait=watch > "$T/waiter.out" 2>&1 &
waiter=$!
wait_event -s "$mark" -t 10 event=worker_stopping generation=2
ok $? "release B fails inside its watch, during the handover"
is "$(status_field deploy.phase)" handover "the handover still runs"
is "$(event_count -s "$mark" event=auto_rollback)" 0 "no rollback is announced while it runs"
kill -CONT "$old"
wait_event -s "$mark" -t 20 event=reload_succeeded rollback=true
ok $? "once it ends, the release is rolled back"
is "$(status_field release)" A "release A serves again"
wait_for 10 sh -c "! kill -0 $waiter 2>/dev/null" || kill "$waiter"
wait "$waiter"
is "$?" 1 "reload --wait=watch exits 1"
like "$(cat "$T/waiter.out")" 'release B failed its watch.*back to release A' "and says why"
kill "$holder" 2>/dev/null
