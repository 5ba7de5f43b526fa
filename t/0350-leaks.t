#!/bin/sh
# 0350-leaks.t: hundreds of reloads, some failing, leak no descriptor, no
# memory and no zombie.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
RELOADS=${SEGUE_TEST_LEAK_RELOADS:-500}
plan 5

echo good > "$T/mode"
cat > "$T/app.sh" <<SH
#!/bin/sh
[ "\$(cat "$T/mode")" = bad ] && exit 1
exec sleep 300
SH
chmod +x "$T/app.sh"
cat > "$T/segue.conf" <<CONF
control = "$T/control.sock"
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
wait_log 'event=worker_ready' 2

# reload N times; every 10th deploy is bad and rolled back
reload_n() {
	local from=$1 to=$2 i=$1 done_n
	while [ $i -le $to ]; do
		if [ $((i % 10)) = 0 ]; then echo bad > "$T/mode"; else echo good > "$T/mode"; fi
		kill -HUP "$SEGUE_PID"
		wait_log 'event=reload_(succeeded|failed)' $i 20 || return 1
		i=$((i + 1))
	done
	echo good > "$T/mode"
	# let the last drains finish: two workers of the newest generation only
	wait_for 20 eval '[ $(grep -c "event=drain_finished" "$T/segue.log") -ge $(grep -c "event=reload_succeeded" "$T/segue.log") ]'
}

reload_n 1 50
fds0=$(fd_count "$SEGUE_PID"); rss0=$(rss_kib "$SEGUE_PID")
reload_n 51 "$RELOADS"
ok $? "$RELOADS reloads ran"
fds1=$(fd_count "$SEGUE_PID"); rss1=$(rss_kib "$SEGUE_PID")
diag "after 50 reloads: $fds0 fds, $rss0 KiB; after $RELOADS: $fds1 fds, $rss1 KiB"
diag "$(grep -c 'event=reload_failed' "$T/segue.log") of them failed"
is "$fds1" "$fds0" "segue's descriptor count is unchanged"
if ldd "$SEGUE" | grep -q libasan; then
	ok 0 "# SKIP RSS under AddressSanitizer says nothing about leaks"
else
	ok $([ $((rss1 - rss0)) -lt 256 ]; echo $?) "RSS grew by less than 256 KiB ($((rss1 - rss0)) KiB)"
fi
is "$(zombies_of "$SEGUE_PID")" 0 "no zombie is left"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
