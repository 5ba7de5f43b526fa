#!/bin/sh
# 0620-fdstore.t: with fdstore = true the listening socket is kept in
# (fake) systemd's fd store, so a restarted segue, even after SIGKILL, takes
# the same kernel socket back: connections that queue meanwhile are served,
# none is refused.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
RESTARTS=3
plan 24

child_changed() { [ -s "$SD/child" ] && [ "$(cat "$SD/child")" != "$1" ]; }

# run KILLMODE SIGNAL LABEL: segue under fakesystemd --kill-mode KILLMODE,
# restarted RESTARTS times with SIGNAL (USR1: KILL it; USR2: TERM it) under
# load (8 clients, a new connection per request). 8 tests.
run() {
	mode=$1 sig=$2 label=$3
	port=$(free_port)
	app_conf "$T/segue.conf" "$port" "$DEMO" 'workers = 2' 'ready = "notify"' 'drain-timeout = "5s"'
	echo 'fdstore = true' >> "$T/segue.conf"
	start_fakesystemd --kill-mode "$mode" "$T/sd-$mode-$sig" -- "$SEGUE" -c "$T/segue.conf"
	wait_for 10 sd_ready_from "$SEGUE_PID"
	ok $? "$label: segue under fakesystemd is ready"
	like "$(grep -E '^[0-9]+ [0-9]+ (FDSTORE=1|# stored)' "$SD/notify.log" | head -n 2 | tr '\n' ' ')" \
		"^[0-9]+ $SEGUE_PID FDSTORE=1\\|FDNAME=web [0-9]+ [0-9]+ # stored 1 fd\\(s\\) as \"web\"" \
		"$label: FDSTORE=1 with FDNAME=web and the socket attached"
	inode=$(listen_inode "$port")

	start_load "$port" 8
	n=0
	while [ $n -lt $RESTARTS ]; do
		old=$SEGUE_PID
		before=$(log_lines)
		kill -"$sig" "$FAKE_PID"
		wait_for 15 child_changed "$old" || break
		SEGUE_PID=$(cat "$SD/child")
		wait_for 15 sd_ready_from "$SEGUE_PID" || break
		n=$((n + 1))
	done
	stop_load "$label"
	result=$LOAD_RESULT
	is "$n" $RESTARTS "$label: restarted $RESTARTS times, READY=1 again each time"

	grep ' # ' "$SD/notify.log" | grep -v 'stored\|removed' | tail -n 4 | sed 's/^/# fakesystemd: /'
	# every segue of this run logged socket_bound: the first bound the
	# socket, each restarted one should have taken it back
	diag "$label: the restarted segue says: $(event_json event=socket_bound)"
	is "$(event_fields inherited event=socket_bound | tail -n +2 | grep -c true)" $RESTARTS \
		"$label: each restarted segue took the stored socket back (socket_bound inherited=true)"
	is "$(listen_inode "$port")" "$inode" "$label: the same kernel socket listens throughout"
	like "$result" ' connect_errors=0 ' "$label: no connection refused"
	if [ "$mode" = mixed ] && [ "$sig" = USR1 ]; then
		# KillMode=mixed KILLs the old workers: the connections they had
		# accepted (8 clients: at most 8) are lost; nothing else is
		errors=$(printf '%s\n' "$result" | sed -n 's/.* errors=\([0-9]*\) .*/\1/p')
		check "$label: only connections in flight in the killed workers fail ($errors)" -- \
			test "${errors:-999}" -le $((8 * RESTARTS))
	else
		like "$result" ' errors=0 ' "$label: zero failed requests" ||
			grep -Ev 'level=info|"level":"info"' "$SEGUE_LOG" | head -n 30 | sed 's/^/# seen: /'
	fi

	# what became of the workers of the segues that were restarted
	old_workers=$(head -n "$before" "$SEGUE_LOG" | "$EVENTS" -a -f pid - event=worker_spawned)
	alive=0
	for w in $old_workers; do kill -0 "$w" 2>/dev/null && alive=$((alive + 1)); done
	diag "$label: $alive of $(echo $old_workers | wc -w) workers of the earlier segues are still running"
	stop_fakesystemd
	is "$SD_STATUS" 0 "$label: segue stops cleanly"
	for w in $old_workers; do kill -KILL "-$w" 2>/dev/null; done
}

run process USR1 "SIGKILL, orphans left running"
run mixed USR1 "SIGKILL, KillMode=mixed"
run mixed USR2 "systemctl restart"
