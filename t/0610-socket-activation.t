#!/bin/sh
# 0610-socket-activation.t: listen = "systemd:NAME" takes the socket systemd
# passed (LISTEN_FDS/LISTEN_FDNAMES); a missing name stops segue; an inherited
# socket no config uses is closed with a warning.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
FAKESD=$top_builddir/t/helpers/fakesystemd
RELOADS=10
plan 15

# inode_of PORT: the inode of the socket listening on 127.0.0.1:PORT
inode_of() {
	awk -v a="$(printf '0100007F:%04X' "$1")" '$2 == a && $4 == "0A" { print $10 }' /proc/net/tcp
}
# holds PID INODE: PID has that socket open
holds() { ls -l "/proc/$1/fd" 2>/dev/null | grep -q "socket:\\[$2\\]"; }
gone() { ! kill -0 "$1" 2>/dev/null; }

# --- (a) systemd-socket-activate, then reloads under load ---------------------
if command -v systemd-socket-activate >/dev/null; then
	port=$(free_port)
	: > "$T/segue.log"
	# without --accept it listens, and execs segue at the first connection
	systemd-socket-activate -l "127.0.0.1:$port" --fdname=web -E PATH -- \
		"$SEGUE" -l systemd:web -s "$T/c.sock" -- "$DEMO" >> "$T/segue.log" 2>&1 &
	SEGUE_PID=$!
	_pids="$_pids $SEGUE_PID"
	wait_for 5 segue_logged "Listening on 127.0.0.1:$port"
	curl -s --max-time 20 "http://127.0.0.1:$port/" > "$T/first.out" &
	first=$!
	wait_for 5 segue_logged 'event=started'
	ok $? "segue starts when the first connection activates the socket"
	wait $first
	like "$(cat "$T/first.out")" '^pid=[0-9]+ generation=1 ' \
		"the connection that activated the socket is served"
	like "$(grep 'event=socket_bound' "$T/segue.log")" \
		"listen=systemd:web address=127.0.0.1:$port .*inherited=true" \
		"socket_bound: the inherited socket, with its address"

	rm -f "$T/stop" "$T/flowing"
	"$LOADGEN" -a "127.0.0.1:$port" -c 8 -d 120 -s "$T/stop" -w "$T/flowing" \
		> "$T/load.out" 2> "$T/load.err" &
	load=$!
	wait_for 10 test -e "$T/flowing"
	reload_times "$RELOADS"
	touch "$T/stop"
	wait $load
	result=$(cat "$T/load.out")
	diag "$result"
	sed 's/^/# /' "$T/load.err" | head -n 20
	is "$(grep -c 'event=reload_succeeded' "$T/segue.log")" $RELOADS "$RELOADS reloads succeeded"
	like "$result" ' errors=0 ' "zero failed requests on the inherited socket"
	stop_segue
	is "$SEGUE_STATUS" 0 "segue stops cleanly"
else
	for d in 1 2 3 4 5 6; do ok 0 "# SKIP systemd-socket-activate is not installed"; done
fi

# --- (b) a name nobody passed -------------------------------------------------
port=$(free_port)
cat > "$T/nope.conf" <<CONF
control = "$T/c-nope.sock"
socket web { listen = "systemd:nope" }
program app {
  command = "$DEMO"
  sockets = { "web" }
}
CONF
mkdir -p "$T/sdb"
"$FAKESD" --listen "web=127.0.0.1:$port" "$T/sdb" -- "$SEGUE" -c "$T/nope.conf" \
	> "$T/nope.log" 2>&1 &
fake=$!
_pids="$_pids $fake"
wait_for 10 gone $fake
wait $fake
is $? 2 "a missing systemd:nope: segue exits with status 2"
grep -v 'level=info' "$T/nope.log" | head -n 3 | sed 's/^/# /'
like "$(grep -v 'level=info' "$T/nope.log")" 'nope\\?"' "the message names the missing socket"

# --- (c) an inherited socket the config does not use ---------------------------
port=$(free_port)
extra=$(free_port)
cat > "$T/extra.conf" <<CONF
control = "$T/c-extra.sock"
socket web { listen = "systemd:web" }
program app {
  command = "$DEMO"
  sockets = { "web" }
  ready = "notify"
}
CONF
mkdir -p "$T/sdc"
[ -s "$T/segue.log" ] && cat "$T/segue.log" >> "$T/segue-earlier.log"
: > "$T/segue.log"
"$FAKESD" --listen "web=127.0.0.1:$port" --listen "extra=127.0.0.1:$extra" "$T/sdc" -- \
	"$SEGUE" -c "$T/extra.conf" >> "$T/segue.log" 2>&1 &
fake=$!
_pids="$_pids $fake"
wait_for 5 test -s "$T/sdc/child"
SEGUE_PID=$(cat "$T/sdc/child")
wait_log 'event=worker_ready'
ok $? "segue starts with two inherited sockets"
like "$(curl -s "http://127.0.0.1:$port/")" '^pid=' "the one the config names serves"
like "$(grep -E 'level=(warn|warning)' "$T/segue.log")" 'extra\\?"' \
	"a warning names the inherited socket no config uses"
inode=$(inode_of "$extra")
check "fakesystemd still holds 'extra' (the check below can see a socket)" -- holds "$fake" "$inode"
check "segue has closed 'extra'" -- eval 'kill -0 "$SEGUE_PID" && ! holds "$SEGUE_PID" "$inode"'
wpid=$(log_field worker_spawned pid)
check "the worker never got 'extra'" -- eval 'kill -0 "$wpid" && ! holds "$wpid" "$inode"'
kill -TERM "$fake"
wait_for 10 gone $fake
wait $fake
is $? 0 "segue stops cleanly"
