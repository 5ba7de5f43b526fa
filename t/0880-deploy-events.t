#!/bin/sh
# 0880-deploy-events.t: canary and watch events reach the hook (with
# SEGUE_RELEASE) and DogStatsD (tagged with the release), so a chat channel
# shows "release X canary failed: ..." and dashboards mark deploys.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 13

"$UDPRECV" "$T/statsd.log" > "$T/statsd.port" &
register_pid $!
wait_for 5 test -s "$T/statsd.port"
sport=$(cat "$T/statsd.port")

cat > "$T/hook" <<SH
#!/bin/sh
echo "\$SEGUE_EVENT release=\$SEGUE_RELEASE generation=\$SEGUE_GENERATION msg=\$SEGUE_MESSAGE" >> "$T/hook.log"
SH
chmod +x "$T/hook"
for r in one two three; do demo_release $r; done
touch "$T/releases/two/unhealthy"
deploy one
cat > "$T/segue.conf" <<CONF
control = "$CONTROL"
hook = "$T/hook"
statsd = "127.0.0.1:$sport"
socket web { listen = "127.0.0.1:0" }
program app {
  command = "./app"
  directory = "$T/current"
  sockets = { "web" }
  ready = "notify"
  workers = 2
  canary = 1
  canary-hold = "1s"
  check = "test ! -e unhealthy"
  check-interval = "200ms"
  check-failures = 1
  watch = "1s"
}
CONF
start_segue -c "$T/segue.conf"
wait_event -n 2 event=worker_ready

deploy two
kill -HUP "$SEGUE_PID"
wait_event event=canary_failed
wait_for 5 grep -q '^canary_failed' "$T/hook.log"
ok $? "the hook runs for canary_failed"
like "$(grep '^canary_failed' "$T/hook.log")" '^canary_failed release=two generation=2 msg=release two canary failed: 1 check in a row failed' \
	"with SEGUE_RELEASE and a message for a chat channel"
wait_for 5 grep -q 'event:canary_failed' "$T/statsd.log"
like "$(grep 'event:canary_failed' "$T/statsd.log")" '\|t:error\|.*#event:canary_failed,program:app,generation:2,release:two$' \
	"DogStatsD gets canary_failed, tagged with the release"

deploy three
kill -HUP "$SEGUE_PID"
wait_event -t 20 event=watch_passed
wait_for 5 grep -q '^watch_passed' "$T/hook.log"
ok $? "the hook runs for watch_passed"
for e in canary_started canary_passed reload_succeeded; do
	grep -q "^$e release=three generation=3" "$T/hook.log"
	ok $? "and for $e of release three"
done
wait_for 5 grep -q 'event:watch_passed' "$T/statsd.log"
like "$(grep 'event:watch_passed' "$T/statsd.log")" '\|t:success\|.*release:three$' \
	"DogStatsD marks the release that passed its watch"

# check-always: the check runs for the serving generation at all times and
# feeds health; it restarts nothing
sed -i 's/^  watch = "1s"$/  watch = "1s"\n  check-always = true/' "$T/segue.conf"
mark=$(log_lines)
kill -HUP "$SEGUE_PID"
wait_event -s "$mark" -t 20 event=watch_passed
pids=$(status_json | "$EVENTS" -a -r 'programs[].workers[]' -f pid - state=ready | sort -n | _words)
touch "$T/releases/three/unhealthy"
wait_for 10 sh -c "! '$SEGUECTL' -s '$CONTROL' health >/dev/null"
ok $? "a failing check-always check makes health fail"
like "$(health_json)" 'app: check failed \([0-9]+ in a row\): check exited with status 1' "and says why"
is "$(status_json | "$EVENTS" -a -r 'programs[].workers[]' -f pid - state=ready | sort -n | _words)" "$pids" \
	"it restarts nothing"
rm "$T/releases/three/unhealthy"
wait_for 10 "$SEGUECTL" -s "$CONTROL" health
ok $? "health recovers with the check"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
