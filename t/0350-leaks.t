#!/bin/sh
# 0350-leaks.t: hundreds of reloads, some failing, leak no descriptor, no
# memory and no zombie.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
RELOADS=${SEGUE_TEST_LEAK_RELOADS:-500}
plan 5

mode_app "$T/app.sh" "sleep 300"
cat > "$T/segue.conf" <<CONF
control = "$CONTROL"
socket web { listen = "127.0.0.1:0" }
socket admin { listen = "unix:$T/admin.sock" }
program app {
  command = "$T/app.sh"
  sockets = { "web", "admin" }
  workers = 2
  ready-delay = "30ms"
}
CONF
start_segue -c "$T/segue.conf"
wait_event -n 2 event=worker_ready

# reload N times; every 10th deploy is bad and rolled back
reload_n() {
	local from=$1 to=$2 i=$1
	while [ $i -le $to ]; do
		if [ $((i % 10)) = 0 ]; then echo bad > "$T/mode"; else echo good > "$T/mode"; fi
		reload_times 1 || return 1
		i=$((i + 1))
	done
	echo good > "$T/mode"
	# let the last drains finish: two workers of the newest generation only
	wait_for 20 eval '[ $(event_count event=drain_finished) -ge $(event_count event=reload_succeeded) ]'
}

reload_n 1 50
fds0=$(fd_count "$SEGUE_PID"); rss0=$(rss_kib "$SEGUE_PID")
reload_n 51 "$RELOADS"
ok $? "$RELOADS reloads ran"
fds1=$(fd_count "$SEGUE_PID"); rss1=$(rss_kib "$SEGUE_PID")
diag "after 50 reloads: $fds0 fds, $rss0 KiB; after $RELOADS: $fds1 fds, $rss1 KiB"
diag "$(event_count event=reload_failed) of them failed"
is "$fds1" "$fds0" "segue's descriptor count is unchanged"
if ldd "$SEGUE" | grep -q libasan; then
	ok 0 "# SKIP RSS under AddressSanitizer says nothing about leaks"
else
	ok $([ $((rss1 - rss0)) -lt 256 ]; echo $?) "RSS grew by less than 256 KiB ($((rss1 - rss0)) KiB)"
fi
is "$(zombies_of "$SEGUE_PID")" 0 "no zombie is left"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
