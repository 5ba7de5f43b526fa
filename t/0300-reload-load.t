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
	app_conf "$T/segue.conf" "$port" "$DEMO" 'workers = 2' "ready = \"$ready\"" \
		'ready-delay = "50ms"' "reload = \"$mode\"" 'drain-timeout = "10s"'
	start_segue -c "$T/segue.conf" || return 1
	wait_event -n 2 event=worker_ready || return 1
	start_load "$port" 16 $ka
	reload_times "$RELOADS"
	stop_load "$name"
	is "$(event_count event=reload_succeeded)" "$RELOADS" "$name: $RELOADS reloads succeeded"
	like "$LOAD_RESULT" ' errors=0 ' "$name: zero failed requests"
	like "$LOAD_RESULT" "generations=.*,$((RELOADS + 1))( |$)" "$name: the served generation advanced to $((RELOADS + 1))"
	stop_segue
	is "$SEGUE_STATUS" 0 "$name: segue stops cleanly"
}

combo notify all-at-once ""
combo notify all-at-once -k
combo delay rolling ""
combo delay rolling -k
