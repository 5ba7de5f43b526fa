#!/bin/sh
# 0220-sockets.t: TCP over IPv4 and IPv6, dual-stack :PORT, unix sockets.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 12

p4=$(free_port); p6=$(free_port); pany=$(free_port)
have_v6=0
[ -e /proc/net/if_inet6 ] && have_v6=1
cat > "$T/segue.conf" <<CONF
control = "$CONTROL"
socket v4 { listen = "127.0.0.1:$p4" }
socket any { listen = ":$pany" }
socket local {
  listen = "unix:$T/app.sock"
  mode = "0660"
}
program app {
  command = "$DEMO"
  sockets = { "v4", "any", "local" }
  ready = "notify"
}
CONF
if [ $have_v6 = 1 ]; then
	sed -i "s|^socket any|socket v6 { listen = \"[::1]:$p6\" }\nsocket any|; s|\"any\", \"local\"|\"any\", \"local\", \"v6\"|" "$T/segue.conf"
fi

# a stale socket file, as a killed segue would leave it
start_segue -l "unix:$T/app.sock" -s "$T/c0.sock" -- sleep 30
wait_event event=worker_spawned
orphan=$(event_field pid event=worker_spawned)
kill -KILL "$SEGUE_PID"; wait "$SEGUE_PID" 2>/dev/null
# its worker, orphaned, goes too (by its own group: other tests run sleeps);
# kill returns before the process has closed its copy of the socket
kill -KILL "-$orphan" 2>/dev/null
wait_for 5 eval "[ -z \"\$(ls /proc/$orphan/fd 2>/dev/null)\" ]"
check "a killed segue leaves its socket file behind" -- test -S "$T/app.sock"

start_segue -c "$T/segue.conf"
ok $? "segue replaces the stale unix socket file"
wait_event event=worker_ready

like "$(curl -s "http://127.0.0.1:$p4/")" '^pid=' "IPv4 socket serves"
like "$(curl -s "http://127.0.0.1:$pany/")" '^pid=' ":PORT serves IPv4"
if [ $have_v6 = 1 ]; then
	like "$(curl -s -g "http://[::1]:$pany/")" '^pid=' ":PORT serves IPv6 too (dual-stack)"
	like "$(curl -s -g "http://[::1]:$p6/")" '^pid=' "[::1] socket serves"
else
	ok 0 "# SKIP no IPv6 on this host"
	ok 0 "# SKIP no IPv6 on this host"
fi
like "$(curl -s --unix-socket "$T/app.sock" http://x/)" '^pid=' "unix socket serves"
is "$(stat -c %a "$T/app.sock")" 660 "unix socket has the configured mode"

timeout 10 "$SEGUE" --log-format="$LOG_FORMAT" -l "unix:$T/app.sock" -s "$T/c2.sock" \
	--drain-timeout 1s -- true >"$T/thief.log" 2>&1
is $? 2 "a second segue does not steal a live unix socket (status 2)"
like "$("$EVENTS" -a "$T/thief.log")" "in use" "and says why"

stop_segue
is "$SEGUE_STATUS" 0 "segue stops"
check "its unix socket file is removed at stop" -- test ! -e "$T/app.sock"
