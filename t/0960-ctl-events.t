#!/bin/sh
# 0960-ctl-events.t: seguectl events: --program and repeatable --event
# (a prefix) select the events; not on a terminal the lines are segue's
# JSON as they came; on a terminal (tmux) readable lines, coloured unless
# NO_COLOR or --json.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/tty.sh"
plan 14

start_segue -l 127.0.0.1:0 -s "$CONTROL" -n 2 --ready notify -- "$DEMO" ||
	bail "segue did not start"
wait_event -n 2 event=worker_ready || bail "no ready workers"
CTL="$SEGUECTL -s $CONTROL"

# follow NAME ARGS...: `seguectl events ARGS` into $T/NAME.out, in the background.
follow() {
	local name=$1
	shift
	$CTL events "$@" > "$T/$name.out" 2>&1 &
	register_pid $!
}
follow all
follow app --program app --event worker_r --event scal
follow reload --event reload --event scaled
follow none --program nosuch
pane_start tty "$CTL events --program app"
pane_start plain "NO_COLOR=1 $CTL events --event worker_ready"
pane_start json "$CTL events --json --event scaled"

# segue says nothing to a new events client: poke it (scale to the same
# number) until every stream has the scaled event.
subscribed() {
	$CTL scale app 2 > /dev/null &&
		for f in all app reload; do grep -q '"event":"scaled"' "$T/$f.out" || return 1; done &&
		pane_has tty ' scaled ' && pane_has json '"event":"scaled"'
}
wait_for 10 subscribed
ok $? "every stream is subscribed"

$CTL reload --wait > /dev/null 2>&1
ok $? "a reload"
"$EVENTS" -c -w 10 "$T/app.out" event=worker_ready generation=2 -n 2 > /dev/null
ok $? "--program app --event worker_r: the new workers' worker_ready"
"$EVENTS" -c -w 10 "$T/reload.out" event=reload_succeeded > /dev/null
ok $? "--event reload: reload_succeeded"
"$EVENTS" -c -w 10 "$T/all.out" event=drain_finished > /dev/null
ok $? "no filter: everything, up to drain_finished"

is "$("$EVENTS" -a -o '{event}' "$T/app.out" | sort -u | tr '\n' ' ')" "scaled worker_ready " \
	"--event worker_r --event scal: those two events only"
is "$("$EVENTS" -a -o '{program}' "$T/app.out" | sort -u)" app "--program app: app's only"
is "$("$EVENTS" -a -o '{event}' "$T/reload.out" | grep -v scaled | sort -u | tr '\n' ' ')" \
	"reload_requested reload_started reload_succeeded " "--event reload: a prefix"
is "$(cat "$T/none.out")" "" "--program nosuch: nothing"
like "$(cat "$T/all.out")" '^\{"ts":"[^"]+","level":"info","event":"worker_spawned","program":"app","generation":2,' \
	"not a terminal: segue's JSON lines as they came"

wait_pane tty '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} info +worker_ready +app gen 2 +(release [^ ]+ +)?ready after [0-9]+ ms$'
ok $? "a terminal: time, level, event, program, generation, message"
like "$(pane_escapes tty)" "${ESC}\\[32minfo" "the level in colour"
wait_pane plain ' worker_ready +app gen 2 '
ok "$([ $? = 0 ] && ! pane_escapes plain | grep -q "${ESC}\\[[0-9;]*[1-9]m" && echo 0 || echo 1)" \
	"NO_COLOR: readable, no colour"
like "$(pane_text json)" '^\{"ts":.*"event":"scaled"' "--json on a terminal: JSON"

tty_done
