#!/bin/sh
# 0315-rolling-rollback.t: a rolling reload that fails half-way puts back the
# old workers it had drained, in the old release, with no request lost.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 7

port=$(free_port)
mkdir -p "$T/releases/one" "$T/releases/two"
for r in one two; do
	cat > "$T/releases/$r/run" <<SH
#!/bin/sh
# release two's slot 1 cannot start
[ $r = two ] && [ "\$SEGUE_WORKER" = 1 ] && exit 1
exec "$DEMO"
SH
	chmod +x "$T/releases/$r/run"
done
deploy one
app_conf "$T/segue.conf" "$port" ./run "directory = \"$T/current\"" 'workers = 2' \
	'ready = "notify"' 'reload = "rolling"' 'max-surge = 1'
start_segue -c "$T/segue.conf"
wait_event -n 2 event=worker_ready
start_load "$port" 8

deploy two
kill -HUP "$SEGUE_PID"
wait_event event=reload_failed
ok $? "the rolling reload fails when slot 1 of the new release cannot start"
is "$(event_field -n 1 slot 'event~^(drain_started|worker_ready)$' generation=2)" 0 \
	"slot 0 of the new generation had become ready first"
wait_event -n 2 event=worker_spawned generation=1 slot=0
ok $? "slot 0 gets an old-generation worker again"
wait_event -n 2 event=worker_ready generation=1 slot=0
like "$(event_json event=worker_spawned generation=1 slot=0)" 'releases/one' \
	"in the old release, though current now names release two"
ok $([ "$(curl -s "http://127.0.0.1:$port/" | sed 's/.*generation=\([0-9]*\).*/\1/')" = 1 ]; echo $?) "generation 1 serves"
stop_load
like "$LOAD_RESULT" ' errors=0 ' "zero failed requests"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
