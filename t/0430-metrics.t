#!/bin/sh
# 0430-metrics.t: metrics pass promtool check metrics, and the accept-queue gauge
# rises when workers stop accepting.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 6

port=$(free_port)
start_segue -l "web=127.0.0.1:$port" -s "$CONTROL" -n 2 --ready notify -- "$DEMO"
wait_event -n 2 event=worker_ready
metrics() { echo metrics | "$RAW" -t 5 "$CONTROL"; }
metrics > "$T/m1"

# Prometheus' own parser and linter (Debian's prometheus package, which
# `sh setup test` installs: never skipped)
command -v promtool >/dev/null 2>&1 || bail "promtool is not installed (sh setup test)"
promtool check metrics < "$T/m1" > "$T/promtool.out" 2>&1
ok $? "promtool check metrics accepts the text" || sed 's/^/# promtool: /' "$T/promtool.out"
# what promtool does not check: a family without a TYPE line is "untyped"
# to it, so each sample's family must be typed before the sample
untyped=$(awk '
	/^# TYPE / { typed[$3] = 1; next }
	/^#/ { next }
	{ name = $1; sub(/\{.*/, "", name); if (!(name in typed)) print "untyped: " $0 }' "$T/m1")
is "$untyped" "" "every sample's family has a TYPE line before it"
like "$(cat "$T/m1")" 'segue_workers\{program="app",generation="1",state="ready"\} 2' "ready workers are counted"
like "$(grep '^segue_socket_accept_queue{' "$T/m1")" 'socket="web"} 0$' "the accept queue is empty while workers accept"

# stop the workers' process groups: connections queue in the kernel
for pid in $(event_fields pid event=worker_spawned); do
	kill -STOP "-$pid"
done
curls=
for i in 1 2 3 4 5; do
	curl -s -m 30 "http://127.0.0.1:$port/" >/dev/null 2>&1 &
	curls="$curls $!"
done
queued() { metrics | sed -n 's/^segue_socket_accept_queue{socket="web"} //p'; }
wait_for 5 eval '[ "$(queued)" -ge 5 ]'
ok $? "the accept-queue gauge rises to the queued connections ($(queued))"
for pid in $(event_fields pid event=worker_spawned); do
	kill -CONT "-$pid"
done
wait_for 10 eval '[ "$(queued)" -eq 0 ]'
ok $? "and falls back once they accept again"
wait $curls
stop_segue
