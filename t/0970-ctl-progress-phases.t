#!/bin/sh
# 0970-ctl-progress-phases.t: reload --wait's progress through the phases
# of a deploy with a canary, a rolling cut-over and a watch window, and
# an automatic rollback at the end of one, with the release named, played
# by a stand-in control socket (t/fakecontrol.py): in a terminal
# (tmux) and as plain lines.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/tty.sh"
command -v python3 >/dev/null 2>&1 || skip_all "no python3"
plan 14

FAKE=$top_srcdir/t/fakecontrol.py
# fake NAME: a stand-in socket $T/NAME.sock playing $T/NAME.script, its
# gates files in $T/NAME.gates/.
fake() {
	mkdir -p "$T/$1.gates"
	python3 "$FAKE" "$T/$1.sock" "$T/$1.script" "$T/$1.gates" > "$T/$1.fake.log" 2>&1 &
	register_pid $!
	wait_for 10 test -S "$T/$1.sock"
}
open_gate() { : > "$T/$1.gates/$2"; }
ev() { printf '{"event":%s}\n' "$1"; }

deploy_script() {
	ev '{"event":"reload_started","reload":1}'
	ev '{"event":"worker_spawned","program":"app","generation":2,"slot":0,"pid":11}'
	ev '{"event":"worker_ready","program":"app","generation":2,"slot":0,"pid":11}'
	ev '{"event":"canary_started","program":"app","generation":2,"release":"r2","workers":1,"hold_s":30}'
	echo '{"gate":"canary"}'
	ev '{"event":"canary_passed","program":"app","generation":2,"release":"r2"}'
	ev '{"event":"worker_spawned","program":"app","generation":2,"slot":1,"pid":12}'
	ev '{"event":"worker_exited","program":"app","generation":1,"slot":0,"pid":5}'
	echo '{"gate":"rolling"}'
	ev '{"event":"worker_ready","program":"app","generation":2,"slot":1,"pid":12}'
	ev '{"event":"reload_succeeded","reload":1,"generation":2,"release":"r2"}'
	ev '{"event":"drain_started","generation":1}'
	echo '{"gate":"draining"}'
	ev '{"event":"watch_started","generation":2,"release":"r2","watch_s":60}'
	echo '{"gate":"watch"}'
	ev '{"event":"drain_finished","generation":1}'
	ev '{"event":"watch_passed","generation":2,"release":"r2"}'
	echo '{"answer":{"ok":true,"reload":1,"generation":2,"duration_ms":1234}}'
}

# --- a terminal ---
deploy_script > "$T/live.script"
fake live
pane_start live "$SEGUECTL -s $T/live.sock reload --wait"
wait_pane live '^app: canary [0-9]+s left, ready 1/2, generation 2, release r2, [0-9]+s$'
ok $? "canary: the time left, the release"
open_gate live canary
wait_pane live '^app: rolling 1/2, ready 1/2, generation 2, release r2, '
ok $? "then rolling 1/2 once an old worker was replaced"
open_gate live rolling
wait_pane live '^app: draining generation 1, ready 2/2, generation 2, release r2, '
ok $? "then draining the old generation"
open_gate live draining
wait_pane live '^app: watch [0-9]+s left, ready 2/2, generation 2, release r2, '
ok $? "then the watch window, while the answer has not come"
open_gate live watch
wait_pane live '^rc=0$'
ok $? "the answer after the watch: exit 0"
like "$(pane_text live)" '^app: serving, ready 2/2, generation 2, release r2, [0-9]+s$' "the line ends as serving"
is "$(pane_text live | grep -c '^app: ')" 1 "redrawn in place all along"

# --- plain lines, one per phase ---
deploy_script > "$T/plain.script"
fake plain
"$SEGUECTL" -s "$T/plain.sock" reload --wait > "$T/plain.out" 2>&1 &
register_pid $!
for gate in canary rolling draining watch; do
	wait_for 10 grep -q "app: $gate" "$T/plain.out" && open_gate plain "$gate"
done
wait_for 10 grep -q '^generation 2 serving' "$T/plain.out"
ok $? "plain: the result at the end"
# The phases in order; between them a line may show a ready count that
# changed before the next phase (how the events were read together).
sed -n 's/^[0-9-]* [0-9:]* //p' "$T/plain.out" | sed 's/ [0-9]*s left/ Ns left/' > "$T/phases"
in_order() {
	local want n=0 at
	for want; do
		at=$(grep -nxF -- "$want" "$T/phases" | head -n 1 | cut -d: -f1)
		[ -n "$at" ] && [ "$at" -gt "$n" ] || { diag "not in order: $want"; return 1; }
		n=$at
	done
}
check "one line per phase, in order" -- in_order \
	"app: starting, ready 0/2" \
	"app: canary Ns left, ready 1/2, generation 2, release r2" \
	"app: rolling 1/2, ready 1/2, generation 2, release r2" \
	"app: draining generation 1, ready 2/2, generation 2, release r2" \
	"app: watch Ns left, ready 2/2, generation 2, release r2" \
	"app: serving, ready 2/2, generation 2, release r2"

# --- a watch that ends in an automatic rollback ---
{
	ev '{"event":"reload_started","reload":1}'
	ev '{"event":"worker_spawned","program":"app","generation":2,"slot":0,"pid":11}'
	ev '{"event":"worker_spawned","program":"app","generation":2,"slot":1,"pid":12}'
	ev '{"event":"worker_ready","program":"app","generation":2,"slot":0,"pid":11}'
	ev '{"event":"worker_ready","program":"app","generation":2,"slot":1,"pid":12}'
	ev '{"event":"reload_succeeded","reload":1,"generation":2,"release":"r3"}'
	ev '{"event":"watch_started","generation":2,"release":"r3","watch_s":60}'
	echo '{"gate":"watch"}'
	ev '{"event":"auto_rollback","generation":2,"release":"r3","reason":"app: worker 1 exited","rollback_to":1}'
	echo '{"gate":"answer"}'
	echo '{"answer":{"ok":false,"error":"rolled back to generation 1: app: worker 1 exited"}}'
} > "$T/bad.script"
fake bad
pane_start bad "$SEGUECTL -s $T/bad.sock reload --wait"
wait_pane bad '^app: watch [0-9]+s left, ready 2/2, generation 2, release r3, '
ok $? "a watch window"
open_gate bad watch
wait_pane bad '^app: failed \(app: worker 1 exited\), '
ok $? "auto_rollback: failed, and why"
open_gate bad answer
wait_pane bad '^rc=1$'
ok $? "the answer: exit 1"
like "$(pane_text bad)" '^reload failed: rolled back to generation 1: app: worker 1 exited$' \
	"with segue's reason"
like "$(pane_escapes bad)" "${ESC}\\[[0-9;]*31[0-9;]*m(${ESC}\\[[0-9;]*m)*failed" "failed in red"

tty_done
