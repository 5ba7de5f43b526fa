#!/bin/sh
# 0610-socket-activation.t: listen = "systemd:NAME" takes the socket systemd
# passed (LISTEN_FDS/LISTEN_FDNAMES); a missing name stops segue; an inherited
# socket no config uses is closed with a warning.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
RELOADS=10
plan 15

# --- (a) systemd-socket-activate, then reloads under load ---------------------
if command -v systemd-socket-activate >/dev/null; then
	port=$(free_port)
	fresh_log
	# without --accept it listens, and execs segue at the first connection
	exec_with_log_format systemd-socket-activate -l "127.0.0.1:$port" --fdname=web -E PATH -- \
		"$SEGUE" -l systemd:web -s "$CONTROL" -- "$DEMO" >> "$SEGUE_LOG" 2>&1 &
	SEGUE_PID=$!
	register_pid "$SEGUE_PID"
	wait_port "$port"
	curl -s --max-time 20 "http://127.0.0.1:$port/" > "$T/first.out" &
	first=$!
	wait_event -t 5 event=started
	ok $? "segue starts when the first connection activates the socket"
	wait $first
	like "$(cat "$T/first.out")" '^pid=[0-9]+ generation=1 ' \
		"the connection that activated the socket is served"
	is "$(event_text '{listen} {address} {inherited}' event=socket_bound)" \
		"systemd:web 127.0.0.1:$port true" \
		"socket_bound: the inherited socket, with its address"

	start_load "$port" 8
	reload_times "$RELOADS"
	stop_load
	is "$(event_count event=reload_succeeded)" $RELOADS "$RELOADS reloads succeeded"
	like "$LOAD_RESULT" ' errors=0 ' "zero failed requests on the inherited socket"
	stop_segue
	is "$SEGUE_STATUS" 0 "segue stops cleanly"
else
	for d in 1 2 3 4 5 6; do ok 0 "# SKIP systemd-socket-activate is not installed"; done
fi

# --- (b) a name nobody passed -------------------------------------------------
port=$(free_port)
CONTROL=$T/c-nope.sock
app_conf "$T/nope.conf" systemd:nope "$DEMO"
mkdir -p "$T/sdb"
exec_with_log_format "$FAKESD" --listen "web=127.0.0.1:$port" "$T/sdb" -- \
	"$SEGUE" -c "$T/nope.conf" > "$T/nope.log" 2>&1 &
fake=$!
register_pid $fake
wait_for 10 gone $fake
wait $fake
is $? 2 "a missing systemd:nope: segue exits with status 2"
problems=$("$EVENTS" -a -f msg "$T/nope.log" 'level!=info')
printf '%s\n' "$problems" | head -n 3 | sed 's/^/# /'
like "$problems" 'nope"' "the message names the missing socket"

# --- (c) an inherited socket the config does not use ---------------------------
port=$(free_port)
extra=$(free_port)
CONTROL=$T/c-extra.sock
app_conf "$T/extra.conf" systemd:web "$DEMO" 'ready = "notify"'
start_fakesystemd --listen "web=127.0.0.1:$port" --listen "extra=127.0.0.1:$extra" "$T/sdc" -- \
	"$SEGUE" -c "$T/extra.conf"
wait_event event=worker_ready
ok $? "segue starts with two inherited sockets"
like "$(curl -s "http://127.0.0.1:$port/")" '^pid=' "the one the config names serves"
like "$(event_fields msg 'level~^warn')" 'extra"' \
	"a warning names the inherited socket no config uses"
inode=$(listen_inode "$extra")
check "fakesystemd still holds 'extra' (the check below can see a socket)" -- holds_socket "$FAKE_PID" "$inode"
check "segue has closed 'extra'" -- eval 'kill -0 "$SEGUE_PID" && ! holds_socket "$SEGUE_PID" "$inode"'
wpid=$(event_field pid event=worker_spawned)
check "the worker never got 'extra'" -- eval 'kill -0 "$wpid" && ! holds_socket "$wpid" "$inode"'
stop_fakesystemd
is "$SD_STATUS" 0 "segue stops cleanly"
