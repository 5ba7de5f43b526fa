#!/bin/sh
# 0884-wait-upgrade-hold.t: an upgrade in place during a held canary keeps
# the canary and the deploy script that waits for that reload (reload
# --wait=watch): the new image answers it.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/upgrade.sh"
plan 3

port=$(free_port)
app_conf "$T/segue.conf" "$port" "$DEMO" 'workers = 2' 'ready = "notify"' \
	'canary = 1' 'canary-hold = "4s"' 'watch = "2s"'
use_upgradable_segue
start_segue -c "$T/segue.conf"
wait_event -n 2 event=worker_ready
mark=$(log_lines)
"$SEGUECTL" -s "$CONTROL" reload --wait=watch > "$T/waiter.out" 2>&1 &
waiter=$!
wait_event -s "$mark" event=canary_started
wait_for 10 sh -c "[ \"\$('$SEGUECTL' -s '$CONTROL' --json status | '$EVENTS' -f deploy.phase -)\" = canary-hold ]"
install_image "$IMG_NEXT"
ctl upgrade --wait
is "$RC" 0 "upgrade in place during the hold"
wait_event -s "$mark" -t 20 event=watch_passed
ok $? "the canary, the cut-over and the watch go on"
wait_for 20 sh -c "! kill -0 $waiter 2>/dev/null" || kill "$waiter"
wait "$waiter"
is "$?" 0 "the deploy script waiting through the upgrade exits 0: $(cat "$T/waiter.out" | tail -1)"
