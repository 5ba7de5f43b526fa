#!/bin/sh
# 0840-upgrade-busy.t: an upgrade asked for while a reload runs is refused
# (not queued) with the documented busy answer and upgrade_failed, by
# seguectl and by SIGUSR2; the reload finishes normally, and an upgrade
# afterwards succeeds.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/upgrade.sh"
plan 17

use_upgradable_segue
echo 0 > "$T/delay"
printf '#!/bin/sh\nexec "%s" --startup-delay "$(cat "%s")"\n' "$DEMO" "$T/delay" > "$T/app.sh"
chmod +x "$T/app.sh"
port=$(free_port)
app_conf "$T/segue.conf" "$port" "$T/app.sh" 'workers = 2' 'ready = "notify"' \
	'ready-timeout = "30s"'
start_segue -c "$T/segue.conf" || bail "segue did not start"
wait_event -n 2 event=worker_ready || bail "the workers did not become ready"
pids0=$(worker_pids)

# a reload whose new generation takes 4 s to become ready
echo 4000 > "$T/delay"
install_image "$IMG_NEXT"
mark=$(log_lines)
kill -HUP "$SEGUE_PID"
wait_event -s "$mark" event=reload_started
wait_event -s "$mark" -n 2 event=worker_spawned generation=2
is "$(status_field reloading)" true "a reload is running"

ctl upgrade --wait
is "$RC" 1 "seguectl upgrade during the reload exits 1"
like "$OUT $ERR" 'busy: a reload is running' "it says a reload is running"
ctl --json upgrade
like "$OUT" '^\{"ok":false,"error":"busy: a reload is running' "the answer is ok:false, error busy: ..."
wait_event -s "$mark" -n 2 event=upgrade_failed 'reason~^busy: a reload is running'
ok $? "upgrade_failed with the busy reason, for each"
umark=$(log_lines)
is "$(status_field reloading)" true "the reload is still running"
kill -USR2 "$SEGUE_PID"
wait_event -s "$umark" event=upgrade_failed 'reason~^busy: a reload is running'
ok $? "SIGUSR2 during the reload: upgrade_failed, busy"
is "$(events_since "$mark" event=upgrade_started)" 0 "no upgrade started"
is "$(segue_version)" "$V_OLD" "the old image still runs"

wait_event -s "$mark" -t 20 "$RELOAD_ENDED"
ok $? "the reload ends"
is "$(event_field event "$RELOAD_ENDED")" reload_succeeded "it succeeded"
is "$(status_text '{reloading}/{generation}')" false/2 "generation 2 serves, no reload running"
check "requests are served" -- serves "$port"
is "$(events_since "$mark" event=upgrade_started)" 0 "the refused upgrades were not queued"
is "$(segue_version)" "$V_OLD" "so the old image still runs"

ctl upgrade --wait
is "$RC" 0 "once the reload is over, the upgrade succeeds"
is "$(segue_version)" "$V_NEXT" "and $V_NEXT runs"
stop_segue
