#!/bin/sh
# 0881-check-upgrade.t: a check still running when segue upgrades in place
# does not outlive it: the old image kills it before the exec, and the new
# one starts and times out checks of its own, going on from the old image's
# failures in a row (a streak is not forgiven by an upgrade).
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/upgrade.sh"
plan 5

port=$(free_port)
app_conf "$T/segue.conf" "$port" "$DEMO" 'workers = 1' 'ready = "notify"' \
	'check = "exec sleep 7771"' 'check-timeout = "1s"' 'check-interval = "3s"' \
	'check-always = true'
use_upgradable_segue
start_segue -c "$T/segue.conf"
wait_event event=worker_ready
# check_failures: the check's failures in a row, as status shows them
check_failures() { status_json | "$EVENTS" -a -r 'programs[]' -f check.failures -; }
# two runs timed out (3 s apart), the third runs
wait_for 15 sh -c "[ \"\$(\"$SEGUECTL\" -s \"$CONTROL\" --json status |
	\"$EVENTS\" -a -r 'programs[]' -f check.failures -)\" = 2 ]"
ok $? "the check failed twice in a row"
wait_for 10 pgrep -f 'sleep 7771' > /dev/null
old=$(pgrep -f 'sleep 7771' | _words)
install_image "$IMG_NEXT"
ctl upgrade --wait
is "$RC" 0 "upgrade in place while a check runs"
# (without the streak, the new image's count would start over: 1 s for
# its first run to time out, 3 s more for a second)
failures=$(check_failures)
ok $([ "${failures:-0}" -ge 2 ]; echo $?) "the new image goes on from the 2 failures in a row ($failures)"
wait_for 5 sh -c "! kill -0 $old 2>/dev/null"
ok $? "the check that ran at the upgrade is gone"
# the new image's own checks time out, as before
wait_for 10 sh -c "'$SEGUECTL' -s '$CONTROL' health | grep -q 'check timed out after 1s'"
ok $? "the new image runs the check and times it out"
kill $old 2>/dev/null
