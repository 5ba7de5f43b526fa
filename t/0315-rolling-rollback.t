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
ln -s releases/one "$T/current"
cat > "$T/segue.conf" <<CONF
control = "$T/control.sock"
socket web { listen = "127.0.0.1:$port" }
program app {
  command = "./run"
  directory = "$T/current"
  sockets = { "web" }
  workers = 2
  ready = "notify"
  reload = "rolling"
  max-surge = 1
}
CONF
start_segue -c "$T/segue.conf"
wait_log 'event=worker_ready' 2
"$LOADGEN" -a "127.0.0.1:$port" -c 8 -d 120 -s "$T/stop" -w "$T/flowing" > "$T/load.out" 2>"$T/load.err" &
load=$!
wait_for 10 test -e "$T/flowing"

ln -sfn releases/two "$T/current.new" && mv -T "$T/current.new" "$T/current"
kill -HUP "$SEGUE_PID"
wait_log 'event=reload_failed'
ok $? "the rolling reload fails when slot 1 of the new release cannot start"
like "$(grep 'event=drain_started\|event=worker_ready' "$T/segue.log" | grep 'generation=2' | head -n 1)" 'slot=0' "slot 0 of the new generation had become ready first"
wait_log 'event=worker_spawned.* generation=1 slot=0' 2
ok $? "slot 0 gets an old-generation worker again"
wait_log 'event=worker_ready.* generation=1 slot=0' 2
respawned=$(grep 'event=worker_spawned.* generation=1 slot=0' "$T/segue.log" | tail -n 1)
like "$respawned" 'releases/one' "in the old release, though current now names release two"
ok $([ "$(curl -s "http://127.0.0.1:$port/" | sed 's/.*generation=\([0-9]*\).*/\1/')" = 1 ]; echo $?) "generation 1 serves"
touch "$T/stop"; wait $load
result=$(cat "$T/load.out"); diag "$result"
like "$result" ' errors=0 ' "zero failed requests"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
