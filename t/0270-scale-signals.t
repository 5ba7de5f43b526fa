#!/bin/sh
# 0270-scale-signals.t: TTIN/TTOU and `scale` change the worker count; a reload keeps an operator's scale unless the config changed `workers`.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
RAW=$top_builddir/t/helpers/rawclient
plan 25

status() { echo status | "$RAW" -l 1 -t 2 "$T/c.sock"; }
# counts: "NAME=DESIRED/READY ..." for every program, sorted by name
counts() {
	if command -v jq >/dev/null && [ -z "${NO_JQ:-}" ]; then
		status | jq -r '[.programs[] | "\(.name)=\(.desired)/\(.ready)"] | sort | join(" ")'
	else
		status | grep -o '"name":"[^"]*","desired":[0-9]*,"ready":[0-9]*' |
			sed 's/"name":"\([^"]*\)","desired":\([0-9]*\),"ready":\([0-9]*\)/\1=\2\/\3/' |
			sort | tr '\n' ' ' | sed 's/ $//'
	fi
}
# gen_workers G STATE: "NAME:COUNT ..." of generation G's workers in STATE
gen_workers() {
	if command -v jq >/dev/null && [ -z "${NO_JQ:-}" ]; then
		status | jq -r --argjson g "$1" --arg s "$2" '[.programs[] | "\(.name):\([.workers[] | select(.generation == $g and .state == $s)] | length)"] | sort | join(" ")'
	else
		# one line per program: its name, then its workers
		status | sed 's/.*"programs":\[//; s/{"name":"/\n&/g' | sed -n 's/^{"name":"\([^"]*\)".*/\1 &/p' |
			while read -r name rest; do
				n=$(printf '%s\n' "$rest" | grep -o "\"generation\":$1,\"state\":\"$2\"" | wc -l)
				echo "$name:$n"
			done | sort | tr '\n' ' ' | sed 's/ $//'
	fi
}
counts_are() { [ "$(counts)" = "$1" ]; }
# expect_counts WANT DESCRIPTION: waits (10 s) for the counts, then checks them
expect_counts() {
	wait_for 10 counts_are "$1"
	is "$(counts)" "$1" "$2"
}

port=$(free_port)
write_conf() {
	cat > "$T/segue.conf" <<CONF
control = "$T/c.sock"
socket web { listen = "127.0.0.1:$port" }
program app {
  command = "$DEMO --no-notify"
  sockets = { "web" }
  workers = $1
  ready = "delay"
  ready-delay = "100ms"
  drain-timeout = "5s"
}
program bg {
  command = "sleep 300"
  workers = 1
  ready = "delay"
  ready-delay = "100ms"
  drain-timeout = "5s"
}
CONF
}
write_conf 2
start_segue -c "$T/segue.conf"
wait_log 'event=worker_ready' 3
expect_counts "app=2/2 bg=1/1" "two app workers and one bg worker at start"

kill -TTIN "$SEGUE_PID"
expect_counts "app=3/3 bg=2/2" "TTIN adds one worker to every program"
check "the new app worker takes slot 2" -- segue_logged 'event=worker_spawned program=app generation=1 slot=2 '
check "the new bg worker takes slot 1" -- segue_logged 'event=worker_spawned program=bg generation=1 slot=1 '

app2=$(grep 'event=worker_spawned program=app generation=1 slot=2 ' "$T/segue.log" | sed -n 's/.* pid=\([0-9]*\).*/\1/p')
kill -TTOU "$SEGUE_PID"
expect_counts "app=2/2 bg=1/1" "TTOU removes one worker from every program"
wait_log "event=worker_exited program=app generation=1 slot=2 pid=$app2 " 1 5
ok $? "the worker in the highest slot is drained"

kill -TTOU "$SEGUE_PID"
expect_counts "app=1/1 bg=1/1" "a second TTOU: app down to 1, bg stays at 1"
kill -TTOU "$SEGUE_PID"
wait_log 'event=scaled .*SIGTTOU' 6 5
ok $? "a third TTOU is handled"
is "$(counts)" "app=1/1 bg=1/1" "no program goes below one worker"
is "$(gen_workers 1 ready)" "app:1 bg:1" "one live worker per program"
is "$(grep -c 'event=worker_exited program=bg' "$T/segue.log")" 1 "bg lost only the worker TTIN had added"
check "segue is still up" -- segue_alive

answer=$(echo 'scale app 3' | "$RAW" -l 1 -t 2 "$T/c.sock")
like "$answer" '"ok": ?true' "scale app 3 over the control socket is accepted"
expect_counts "app=3/3 bg=1/1" "scale app 3 runs three app workers, bg untouched"
check "the scaled event is logged" -- segue_logged 'event=scaled program=app desired=3'
answer=$(echo 'scale nosuch 2' | "$RAW" -l 1 -t 2 "$T/c.sock")
like "$answer" '"ok": ?false.*"error":.*nosuch' "scaling an unknown program is an error naming it"

kill -TTIN "$SEGUE_PID"
expect_counts "app=4/4 bg=2/2" "TTIN after scale: app 4, bg 2"

# reload with the same config: the operator's scale is kept
kill -HUP "$SEGUE_PID"
wait_log 'event=reload_succeeded' 1 20
ok $? "a reload with an unchanged config succeeds"
is "$(gen_workers 2 ready)" "app:4 bg:2" "the new generation keeps the scaled counts (4 and 2)"
is "$(grep -c 'event=worker_spawned program=app generation=2 ' "$T/segue.log")" 4 "four app workers were spawned for generation 2"
expect_counts "app=4/4 bg=2/2" "status: desired stays 4 and 2 after the reload"

# reload with `workers` changed in the config: the config wins for that program
write_conf 5
kill -HUP "$SEGUE_PID"
wait_log 'event=reload_succeeded' 2 20
ok $? "a reload with workers = 5 in the config succeeds"
is "$(gen_workers 3 ready)" "app:5 bg:2" "the config's new value wins for app (5); bg keeps its scaled 2"
expect_counts "app=5/5 bg=2/2" "status: desired is 5 and 2"

stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
