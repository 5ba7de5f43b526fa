#!/bin/sh
# 0300-reload-load.t: zero failed requests across many reloads under load, for
# each readiness and reload mode, new connections and keep-alive.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
RELOADS=${SEGUE_TEST_RELOADS:-50}
plan 16

# combo READY RELOAD KEEPALIVE(-k or "")
combo() {
	ready=$1 mode=$2 ka=$3
	name="ready=$ready reload=$mode, new connections"
	[ -n "$ka" ] && name="ready=$ready reload=$mode, keep-alive"
	port=$(free_port)
	cat > "$T/segue.conf" <<CONF
control = "$T/control.sock"
socket web { listen = "127.0.0.1:$port" }
program app {
  command = "$DEMO"
  sockets = { "web" }
  workers = 2
  ready = "$ready"
  ready-delay = "50ms"
  reload = "$mode"
  drain-timeout = "10s"
}
CONF
	start_segue -c "$T/segue.conf" || return 1
	wait_log 'event=worker_ready' 2 || return 1
	rm -f "$T/stop" "$T/flowing"
	"$LOADGEN" -a "127.0.0.1:$port" -c 16 $ka -d 300 -s "$T/stop" -w "$T/flowing" \
		> "$T/load.out" 2> "$T/load.err" &
	load=$!
	wait_for 10 test -e "$T/flowing"
	reload_times "$RELOADS"
	touch "$T/stop"
	wait $load
	result=$(cat "$T/load.out")
	diag "$name: $result"
	sed 's/^/# /' "$T/load.err" | head -n 20
	is "$(grep -c 'event=reload_succeeded' "$T/segue.log")" "$RELOADS" "$name: $RELOADS reloads succeeded"
	like "$result" ' errors=0 ' "$name: zero failed requests"
	like "$result" "generations=.*,$((RELOADS + 1))( |$)" "$name: the served generation advanced to $((RELOADS + 1))"
	stop_segue
	is "$SEGUE_STATUS" 0 "$name: segue stops cleanly"
}

combo notify all-at-once ""
combo notify all-at-once -k
combo delay rolling ""
combo delay rolling -k
