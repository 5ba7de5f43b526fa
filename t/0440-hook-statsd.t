#!/bin/sh
# 0440-hook-statsd.t: reload and crash events reach the hook program and
# DogStatsD; a slow hook holds nothing up.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 9

"$UDPRECV" "$T/statsd.log" > "$T/statsd.port" &
register_pid $!
wait_for 5 test -s "$T/statsd.port"
sport=$(cat "$T/statsd.port")

cat > "$T/hook" <<SH
#!/bin/sh
echo "\$SEGUE_EVENT program=\$SEGUE_PROGRAM generation=\$SEGUE_GENERATION msg=\$SEGUE_MESSAGE" >> "$T/hook.log"
# a slow hook: supervision must not wait for it
[ "\$SEGUE_EVENT" = reload_succeeded ] && exec sleep 30
exit 0
SH
chmod +x "$T/hook"
mode_app "$T/app.sh" "sleep 300"
cat > "$T/segue.conf" <<CONF
control = "$CONTROL"
hook = "$T/hook"
statsd = "127.0.0.1:$sport"
socket web { listen = "127.0.0.1:0" }
program app {
  command = "$T/app.sh"
  sockets = { "web" }
  ready-delay = "50ms"
}
CONF
start_segue -c "$T/segue.conf"
wait_event event=worker_ready
kill -HUP "$SEGUE_PID"
wait_event event=reload_succeeded
wait_for 5 grep -q '^reload_succeeded' "$T/hook.log"
ok $? "the hook runs for reload_succeeded"
like "$(grep '^reload_succeeded' "$T/hook.log")" 'program= generation=2 msg=generation 2 serving' "with SEGUE_EVENT, SEGUE_GENERATION and SEGUE_MESSAGE"

echo bad > "$T/mode"
kill -HUP "$SEGUE_PID"
wait_event event=reload_failed
ok $? "a bad deploy fails while the slow hook still runs"
wait_for 5 grep -q '^reload_failed' "$T/hook.log"
ok $? "the hook runs for reload_failed"
like "$(grep '^worker_exited' "$T/hook.log" | head -n 1)" 'program=app generation=3' "and for the crashed worker (SEGUE_PROGRAM)"

wait_for 5 grep -q 'reload_failed' "$T/statsd.log"
ok $? "DogStatsD gets the events"
like "$(grep '_e{' "$T/statsd.log" | grep reload_succeeded)" '^_e\{[0-9]+,[0-9]+\}:segue reload_succeeded\|generation 2 serving.*\|t:success' "a DogStatsD event in its wire format"
like "$(cat "$T/statsd.log")" 'segue.reload.duration:[0-9]+\|ms' "and the reload's duration as a timer"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly, slow hook and all"
