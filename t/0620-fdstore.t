#!/bin/sh
# 0620-fdstore.t: with fdstore = true the listening socket is kept in
# (fake) systemd's fd store, so a restarted segue, even after SIGKILL, takes
# the same kernel socket back: connections that queue meanwhile are served,
# none is refused.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
FAKESD=$top_builddir/t/helpers/fakesystemd
RESTARTS=3
plan 24

# inode_of PORT: the inode of the socket listening on 127.0.0.1:PORT
inode_of() {
	awk -v a="$(printf '0100007F:%04X' "$1")" '$2 == a && $4 == "0A" { print $10 }' /proc/net/tcp
}
gone() { ! kill -0 "$1" 2>/dev/null; }
child_changed() { [ -s "$SD/child" ] && [ "$(cat "$SD/child")" != "$1" ]; }
# ready_from PID: PID sent READY=1
ready_from() { grep -Eq "^[0-9]+ $1 (.*\\|)?READY=1(\\||\$)" "$SD/notify.log"; }
# this run's part of segue.log (every run appends to it: the cleanup reads it)
run_log() { tail -n +"$((base + 1))" "$T/segue.log"; }
worker_pids() { sed -n 's/.*event=worker_spawned.* pid=\([0-9]*\).*/\1/p'; }

# run KILLMODE SIGNAL LABEL: segue under fakesystemd --kill-mode KILLMODE,
# restarted RESTARTS times with SIGNAL (USR1: KILL it; USR2: TERM it) under
# load (8 clients, a new connection per request). 8 tests.
run() {
	mode=$1 sig=$2 label=$3
	SD=$T/sd-$mode-$sig
	mkdir -p "$SD"
	port=$(free_port)
	cat > "$T/segue.conf" <<CONF
control = "$T/c.sock"
fdstore = true
socket web { listen = "127.0.0.1:$port" }
program app {
  command = "$DEMO"
  sockets = { "web" }
  workers = 2
  ready = "notify"
  drain-timeout = "5s"
}
CONF
	base=$(wc -l < "$T/segue.log")
	"$FAKESD" --kill-mode "$mode" "$SD" -- "$SEGUE" -c "$T/segue.conf" >> "$T/segue.log" 2>&1 &
	FAKE_PID=$!
	_pids="$_pids $FAKE_PID"
	wait_for 5 test -s "$SD/child"
	SEGUE_PID=$(cat "$SD/child")
	wait_for 10 ready_from "$SEGUE_PID"
	ok $? "$label: segue under fakesystemd is ready"
	like "$(grep -E '^[0-9]+ [0-9]+ (FDSTORE=1|# stored)' "$SD/notify.log" | head -n 2 | tr '\n' ' ')" \
		"^[0-9]+ $SEGUE_PID FDSTORE=1\\|FDNAME=web [0-9]+ [0-9]+ # stored 1 fd\\(s\\) as \"web\"" \
		"$label: FDSTORE=1 with FDNAME=web and the socket attached"
	inode=$(inode_of "$port")

	rm -f "$T/stop" "$T/flowing"
	"$LOADGEN" -a "127.0.0.1:$port" -c 8 -d 120 -s "$T/stop" -w "$T/flowing" \
		> "$T/load.out" 2> "$T/load.err" &
	load=$!
	wait_for 10 test -e "$T/flowing"
	n=0
	while [ $n -lt $RESTARTS ]; do
		old=$SEGUE_PID
		before=$(wc -l < "$T/segue.log")
		kill -"$sig" "$FAKE_PID"
		wait_for 15 child_changed "$old" || break
		SEGUE_PID=$(cat "$SD/child")
		wait_for 15 ready_from "$SEGUE_PID" || break
		n=$((n + 1))
	done
	touch "$T/stop"
	wait $load
	is "$n" $RESTARTS "$label: restarted $RESTARTS times, READY=1 again each time"

	result=$(cat "$T/load.out")
	diag "$label: $result"
	sed 's/^/# /' "$T/load.err" | head -n 10
	grep ' # ' "$SD/notify.log" | grep -v 'stored\|removed' | tail -n 4 | sed 's/^/# fakesystemd: /'
	reused=$(run_log | grep 'event=socket_bound' | tail -n +2)
	diag "$label: the restarted segue says: $(printf '%s\n' "$reused" | tail -n 1 | sed 's/.*event=socket_bound //')"
	is "$(printf '%s\n' "$reused" | grep -c 'inherited=true')" $RESTARTS \
		"$label: each restarted segue took the stored socket back (socket_bound inherited=true)"
	is "$(inode_of "$port")" "$inode" "$label: the same kernel socket listens throughout"
	like "$result" ' connect_errors=0 ' "$label: no connection refused"
	if [ "$mode" = mixed ] && [ "$sig" = USR1 ]; then
		# KillMode=mixed KILLs the old workers: the connections they had
		# accepted (8 clients: at most 8) are lost; nothing else is
		errors=$(printf '%s\n' "$result" | sed -n 's/.* errors=\([0-9]*\) .*/\1/p')
		check "$label: only connections in flight in the killed workers fail ($errors)" -- \
			test "${errors:-999}" -le $((8 * RESTARTS))
	else
		like "$result" ' errors=0 ' "$label: zero failed requests"
	fi

	# what became of the workers of the segues that were restarted
	old_workers=$(head -n "$before" "$T/segue.log" | tail -n +"$((base + 1))" | worker_pids)
	alive=0
	for w in $old_workers; do kill -0 "$w" 2>/dev/null && alive=$((alive + 1)); done
	diag "$label: $alive of $(echo $old_workers | wc -w) workers of the earlier segues are still running"
	kill -TERM "$FAKE_PID"
	wait_for 20 gone "$FAKE_PID"
	wait "$FAKE_PID"
	is $? 0 "$label: segue stops cleanly"
	for w in $old_workers; do kill -KILL "-$w" 2>/dev/null; done
}

: > "$T/segue.log"
run process USR1 "SIGKILL, orphans left running"
run mixed USR1 "SIGKILL, KillMode=mixed"
run mixed USR2 "systemctl restart"
