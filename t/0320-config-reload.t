#!/bin/sh
# 0320-config-reload.t: a broken config on SIGHUP changes nothing; sockets
# added, removed and moved by a new config, with the unchanged one untouched.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 12

web=$(free_port); extra=$(free_port); moved=$(free_port)
write_conf() {
	# write_conf SOCKETS-BLOCK PROGRAM-SOCKET-LIST
	cat > "$T/segue.conf" <<CONF
control = "$CONTROL"
socket web { listen = "127.0.0.1:$web" }
$1
program app {
  command = "$DEMO"
  sockets = { $2 }
  workers = 2
  ready = "notify"
}
CONF
}
write_conf "" '"web"'
start_segue -c "$T/segue.conf"
wait_event -n 2 event=worker_ready
start_load "$web" 8

cp "$T/segue.conf" "$T/good.conf"
printf '# broken\nprogram app {\n  comand = "x"\n}\n' >> "$T/segue.conf"
kill -HUP "$SEGUE_PID"
wait_event event=config_rejected
ok $? "a broken config is rejected"
like "$(event_json event=config_rejected)" "segue.conf:[0-9]+: " "the rejection names file and line"
check "no new generation was started" -- test "$(event_count event=worker_spawned generation=2)" = 0
like "$(curl -s "http://127.0.0.1:$web/")" 'generation=1 ' "generation 1 serves on"

write_conf "socket extra { listen = \"127.0.0.1:$extra\" }" '"web", "extra"'
kill -HUP "$SEGUE_PID"
wait_event event=reload_succeeded
ok $? "a config that adds a socket is applied"
like "$(curl -s "http://127.0.0.1:$extra/")" 'generation=2 ' "the new socket serves the new generation (a rejected config takes no number)"
is "$(event_count event=socket_bound socket=web)" 1 "the unchanged socket was not bound again"

write_conf "socket extra { listen = \"127.0.0.1:$moved\" }" '"web", "extra"'
kill -HUP "$SEGUE_PID"
wait_event -n 2 event=reload_succeeded
like "$(curl -s "http://127.0.0.1:$moved/")" 'generation=3 ' "a socket whose port changed serves on the new port"
wait_event event=socket_closed "listen=127.0.0.1:$extra"
curl -s "http://127.0.0.1:$extra/" >/dev/null
ok $([ $? -ne 0 ]; echo $?) "the old port is closed once no worker holds it"

write_conf "" '"web"'
kill -HUP "$SEGUE_PID"
wait_event -n 3 event=reload_succeeded
wait_event event=socket_closed "listen=127.0.0.1:$moved"
ok $? "a socket removed from the config is closed"

stop_load
like "$LOAD_RESULT" ' errors=0 ' "zero failed requests on the unchanged socket"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
