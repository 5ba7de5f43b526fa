#!/bin/sh
# 0820-upgrade-worker-exit.t: a worker that dies just before or during the
# upgrade's exec is reaped (by whichever image runs then) and respawned;
# no zombie is left, the other workers are untouched.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/upgrade.sh"
# the kill's delay after the upgrade request, per round: "-" kills first
DELAYS=${SEGUE_TEST_KILL_DELAYS:-"- 0 0.001 0.002 0.003 0.005 0.008 0.013 0.02 0.03"}
plan 8

use_upgradable_segue
app_conf "$T/segue.conf" "" "sleep 300" 'workers = 4' 'ready-delay = "50ms"' \
	'restart-delay = "10ms"'
start_segue -c "$T/segue.conf" || bail "segue did not start"
wait_event -n 4 event=worker_ready || bail "the workers did not become ready"

bad_reset
rounds=0
killed=
cur=$V_OLD
mark0=$(log_lines)
for d in $DELAYS; do
	rounds=$((rounds + 1))
	img=$IMG_NEXT want=$V_NEXT
	[ "$cur" = "$V_NEXT" ] && img=$IMG_OLD want=$V_OLD
	install_image "$img"
	set -- $(worker_pids)
	w=$1
	shift
	others="$*"
	killed="$killed $w"
	mark=$(log_lines)
	[ "$d" = - ] && kill -KILL "$w"
	"$SEGUECTL" -s "$CONTROL" upgrade --wait > "$T/up.out" 2>&1 &
	up=$!
	if [ "$d" != - ]; then
		[ "$d" = 0 ] || sleep "$d"
		kill -KILL "$w"
	fi
	wait "$up"
	rc=$?
	[ "$rc" = 0 ] || bad "round $rounds (kill at $d): upgrade exit $rc: $(cat "$T/up.out")"
	cur=$want
	wait_event -s "$mark" -t 5 event=worker_exited "pid=$w" ||
		bad "round $rounds (kill at $d): no worker_exited for $w"
	wait_event -s "$mark" -t 5 event=worker_ready ||
		bad "round $rounds (kill at $d): no worker ready in its place"
	wait_for 5 gone "$w" || bad "round $rounds (kill at $d): $w not reaped"
	z=$(zombie_count "$SEGUE_PID")
	[ "$z" = 0 ] || bad "round $rounds (kill at $d): $z zombies"
	wait_for 5 eval '[ "$(program_counts)" = app=4/4 ]' ||
		bad "round $rounds (kill at $d): status $(program_counts)"
	now=$(worker_pids)
	for p in $others; do
		case " $now " in
		*" $p "*) ;;
		*) bad "round $rounds (kill at $d): worker $p was lost" ;;
		esac
	done
done

is "$(bad_report)" "" "$rounds upgrades, each with a worker killed around it: reaped, replaced, no zombie"
inside=$("$EVENTS" -a -o '{event}' "$SEGUE_LOG" 'event~^(upgrade_started|upgrade_succeeded|worker_exited)$' |
	awk '$1 == "upgrade_started" { up = 1 } $1 == "upgrade_succeeded" { up = 0 }
		$1 == "worker_exited" && up { n++ } END { print n + 0 }')
diag "$inside of the $rounds exits were seen between upgrade_started and upgrade_succeeded"
is "$(events_since "$mark0" event=upgrade_succeeded)" "$rounds" "every upgrade succeeded"
check "no upgrade failed" -- upgrade_events_ok "$mark0"
n=0
for w in $killed; do
	[ "$(event_count event=worker_exited "pid=$w")" = 1 ] && n=$((n + 1))
done
is "$n" "$rounds" "each killed worker has exactly one worker_exited"
is "$(events_since "$mark0" event=worker_exited)" "$rounds" "and no other worker exited"
is "$(segue_version)" "$cur" "segue runs the last image"
is "$(zombies_of "$SEGUE_PID")" 0 "no zombie at the end"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
