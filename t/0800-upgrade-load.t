#!/bin/sh
# 0800-upgrade-load.t: segue upgraded in place, old -> new -> old..., under
# load (new connection per request, then keep-alive) and then by SIGUSR2:
# no request fails; the pid, the workers (never signalled), the listening
# socket and the pidfile stay; the version follows each image; status,
# metrics, events and reloads work afterwards.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/upgrade.sh"
UPGRADES=${SEGUE_TEST_UPGRADES:-20}
SIGNALS=${SEGUE_TEST_UPGRADE_SIGNALS:-4}
plan 47

use_upgradable_segue
port=$(free_port)
app_conf "$T/segue.conf" "$port" "$DEMO" 'workers = 4' 'ready = "notify"' \
	'drain-timeout = "10s"'
# a worker that writes down every signal it gets (a trapped signal ends
# the shell's wait at once)
{
	echo '#!/bin/sh'
	for s in HUP INT QUIT USR1 USR2 ALRM PIPE CONT TSTP TTIN TTOU WINCH URG; do
		echo "trap 'echo $s >> \"$T/signals\"' $s"
	done
	echo "trap 'echo TERM >> \"$T/signals\"; exit 0' TERM"
	echo 'while :; do sleep 1 & wait $!; done'
} > "$T/sigwatch.sh"
chmod +x "$T/sigwatch.sh"
printf 'program watch {\n  command = "%s"\n  ready-delay = "50ms"\n}\n' "$T/sigwatch.sh" \
	>> "$T/segue.conf"
start_segue -c "$T/segue.conf" --pidfile "$T/segue.pid" || bail "segue did not start"
wait_event -n 5 event=worker_ready || bail "the workers did not become ready"
pids0=$(worker_pids)
inode0=$(listen_inode "$port")
pidfile0=$(stat -c '%i %y' "$T/segue.pid")
follow_events "$T/events.out" app 4
ok $? "an events stream is open before the upgrades"

cur=$V_OLD # the version running now

# one_upgrade: installs the other image and runs `seguectl upgrade --wait`;
# adds what went wrong to BAD. Sets cur to the version now running.
one_upgrade() {
	local img=$IMG_NEXT want=$V_NEXT
	[ "$cur" = "$V_NEXT" ] && img=$IMG_OLD want=$V_OLD
	install_image "$img" || { bad "cannot install $img"; return; }
	upgrade_json
	if [ "$RC" != 0 ]; then
		bad "$cur->$want: exit $RC, '$OUT' '$ERR'"
		return
	fi
	[ "$(answer_field ok)" = true ] || bad "$cur->$want: answer not ok: '$OUT'"
	[ "$(answer_field pid)" = "$SEGUE_PID" ] || bad "$cur->$want: answer pid: '$OUT'"
	[ "$(answer_field from)" = "$cur" ] || bad "$cur->$want: answer from: '$OUT'"
	[ "$(answer_field version)" = "$want" ] || bad "$cur->$want: answer version: '$OUT'"
	[ "$(answer_field message)" = "segue upgraded: pid $SEGUE_PID, $cur -> $want" ] ||
		bad "$cur->$want: answer message: '$OUT'"
	v=$(segue_version)
	[ "$v" = "$want" ] || bad "$cur->$want: version answers '$v'"
	cur=$want
}

# run_upgrades LABEL LOADGEN-OPTIONS...: UPGRADES upgrades under load, and
# what must hold after them.
run_upgrades() {
	local label=$1 mark i=0
	shift
	mark=$(log_lines)
	bad_reset
	start_load "$port" 16 "$@"
	while [ $i -lt "$UPGRADES" ]; do
		one_upgrade
		i=$((i + 1))
	done
	stop_load "$label"
	is "$(bad_report)" "" "$label: $UPGRADES upgrades, each answered ok with pid, from, version and message"
	like "$LOAD_RESULT" ' errors=0 ' "$label: zero failed requests"
	like "$LOAD_RESULT" '^requests=[1-9]' "$label: requests flowed"
	is "$(events_since "$mark" event=upgrade_succeeded)" "$UPGRADES" \
		"$label: $UPGRADES upgrade_succeeded events"
	check "$label: no upgrade failed, each started one succeeded" -- upgrade_events_ok "$mark"
	is "$(events_since "$mark" event~^worker_)" 0 "$label: no worker event: no worker spawned or exited"
	is "$(worker_pids)" "$pids0" "$label: the same worker pids"
}

run_upgrades "new connection per request"
run_upgrades "keep-alive" -k

# the fields of the events
is "$(event_count event=upgrade_succeeded "pid!=$SEGUE_PID")" 0 "upgrade_succeeded names segue's pid"
is "$(event_count event=upgrade_succeeded "from=$V_OLD" "to=$V_NEXT")" "$UPGRADES" \
	"upgrade_succeeded names from and to ($V_OLD -> $V_NEXT)"
is "$(event_count event=upgrade_succeeded "from=$V_NEXT" "to=$V_OLD")" "$UPGRADES" \
	"upgrade_succeeded names from and to ($V_NEXT -> $V_OLD)"
is "$(event_count event=upgrade_succeeded 'duration_ms!~^[0-9]+$')" 0 "upgrade_succeeded has duration_ms"
is "$(event_count event=upgrade_started "binary!=$(readlink -f "$BIN/segue")")" 0 \
	"upgrade_started names the binary, resolved"
is "$(event_count event=upgrade_started "from=$V_OLD")" "$UPGRADES" "upgrade_started names the version it leaves"

# seguectl's own output, without --json: the message; with and without
# --wait (both answer once the new image runs), and with --timeout
for args in "" "--wait --timeout 30s"; do
	img=$IMG_NEXT want=$V_NEXT
	[ "$cur" = "$V_NEXT" ] && img=$IMG_OLD want=$V_OLD
	install_image "$img"
	ctl upgrade $args
	is "$RC" 0 "seguectl upgrade${args:+ $args} exits 0"
	is "$OUT" "segue upgraded: pid $SEGUE_PID, $cur -> $want" "and prints the message"
	cur=$want
done

# the same by SIGUSR2, under load
bad_reset
mark0=$(log_lines)
start_load "$port" 16
i=0
while [ $i -lt "$SIGNALS" ]; do
	img=$IMG_NEXT want=$V_NEXT
	[ "$cur" = "$V_NEXT" ] && img=$IMG_OLD want=$V_OLD
	install_image "$img"
	mark=$(log_lines)
	kill -USR2 "$SEGUE_PID"
	wait_event -s "$mark" -t 10 event=upgrade_succeeded "from=$cur" "to=$want" "pid=$SEGUE_PID" ||
		bad "SIGUSR2 $cur->$want: no upgrade_succeeded"
	v=$(segue_version)
	[ "$v" = "$want" ] || bad "SIGUSR2 $cur->$want: version answers '$v'"
	cur=$want
	i=$((i + 1))
done
stop_load "SIGUSR2"
is "$(bad_report)" "" "SIGUSR2: $SIGNALS upgrades, each with upgrade_succeeded and the new version"
like "$LOAD_RESULT" ' errors=0 ' "SIGUSR2: zero failed requests"
check "SIGUSR2: no upgrade failed" -- upgrade_events_ok "$mark0"
is "$(events_since "$mark0" event~^worker_)" 0 "SIGUSR2: no worker spawned or exited"
is "$(worker_pids)" "$pids0" "SIGUSR2: the same worker pids"

# the same process, sockets and pidfile
check "segue still runs" -- segue_alive
is "$(status_field pid)" "$SEGUE_PID" "status answers with the same pid"
is "$(status_field version)" "$cur" "status answers the version now running"
is "$(listen_inode "$port")" "$inode0" "the listening socket is the same one"
is "$(cat "$T/segue.pid")" "$SEGUE_PID" "the pidfile names the same pid"
is "$(stat -c '%i %y' "$T/segue.pid")" "$pidfile0" "the pidfile was not rewritten"
is "$(program_counts)" "app=4/4 watch=1/1" "status: every worker ready"
check "no worker got a signal" -- test ! -e "$T/signals"

# metrics, events, health, reload in the upgraded image
metrics=$(echo metrics | "$RAW" -t 5 "$CONTROL")
like "$metrics" '^segue_' "metrics answer"
check "the events stream opened before the upgrades is still open" -- kill -0 "$EVENTS_PID"
total=$((2 * UPGRADES + 2 + SIGNALS))
check "it carried every upgrade_succeeded ($total)" -- \
	eval '"$EVENTS" -c -n "$total" -w 10 "$T/events.out" event=upgrade_succeeded >/dev/null'
ctl health
is "$RC" 0 "health: healthy"
ctl reload --wait
is "$RC" 0 "a reload after the upgrades succeeds"
wait_for 5 test -s "$T/signals"
is "$(cat "$T/signals" 2>/dev/null)" TERM "the old watcher got its drain signal, and only that"
check "and its new workers serve" -- serves "$port"
is "$(zombies_of "$SEGUE_PID")" 0 "no zombie"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
