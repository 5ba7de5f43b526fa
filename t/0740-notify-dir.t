#!/bin/sh
# 0740-notify-dir.t: the workers' notify sockets live in one stable place
# beside the control socket, <control>.notify: a segue killed with SIGKILL
# and started again reuses it, with only the new workers' sockets in it,
# and leaves no segue-notify.* directory behind (issue 9, item 12). The
# new workers' sockets are not named as the killed segue's were: the
# killed segue's workers, left running (KillMode=process), send STOPPING=1
# as they drain, and it must reach no new worker.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
DGRAM=$top_builddir/t/helpers/dgram
export DGRAM
plan 11

cat > "$T/worker.sh" <<'SH'
#!/bin/sh
printf 'READY=1' | "$DGRAM" "$NOTIFY_SOCKET"
exec sleep 300
SH
chmod +x "$T/worker.sh"
# write_conf N: N workers
write_conf() {
	cat > "$T/segue.conf" <<CONF
control = "$T/c.sock"
program app {
  command = "$T/worker.sh"
  workers = $1
  ready = "notify"
}
CONF
}
worker_pids() { event_fields pid event=worker_spawned; }
notify_of() { tr '\0' '\n' < "/proc/$1/environ" | sed -n 's/^NOTIFY_SOCKET=//p'; }

write_conf 3
start_segue -c "$T/segue.conf"
wait_log 'event=worker_ready' 3
ok $? "three workers ready"
first_pids=$(worker_pids)
first_dirs=$(for p in $first_pids; do dirname "$(notify_of "$p")"; done | sort -u)
is "$first_dirs" "$T/c.sock.notify" "their notify sockets are in <control>.notify"
first_socks=$(for p in $first_pids; do notify_of "$p"; done)

kill -KILL "$SEGUE_PID"
wait "$SEGUE_PID" 2>/dev/null
# Two workers now: a socket of the third one would be a leftover.
write_conf 2
start_segue -c "$T/segue.conf"
ok $? "segue starts again with the same control path"
wait_log 'event=worker_ready' 2
ok $? "two new workers ready"
pids=$(worker_pids)
dirs=$(for p in $pids; do dirname "$(notify_of "$p")"; done | sort -u)
is "$dirs" "$T/c.sock.notify" "the new workers' notify sockets are in the same directory"
names=$(for p in $pids; do basename "$(notify_of "$p")"; done | sort | tr '\n' ' ')
is "$(ls -A "$T/c.sock.notify" 2>&1 | sort | tr '\n' ' ')" "$names" \
	"it holds only the new workers' sockets"
first_names=$(for s in $first_socks; do basename "$s"; done | sort | tr '\n' ' ')
shared=$(printf '%s\n' $first_names $names | sort | uniq -d | tr '\n' ' ')
is "$shared" "" "no new worker's socket has a name the killed segue gave ($first_names/ $names)"
reached=
for s in $first_socks; do
	printf 'STOPPING=1' | "$DGRAM" "$s" 2>/dev/null && reached="$reached $s"
done
is "$reached" "" "STOPPING=1 sent where the killed segue's workers send it reaches nothing"
leftover=
for d in $first_dirs; do
	[ "$d" != "$T/c.sock.notify" ] && [ -e "$d" ] && leftover="$leftover $d"
done
is "$leftover" "" "the killed segue's notify directory is reused, not left behind"
ok "$(echo "$first_dirs $dirs" | grep -q 'segue-notify\.'; [ $? -ne 0 ]; echo $?)" \
	"no segue-notify.* directory is made"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
# the first segue's workers, if an older segue left them running
for p in $first_pids; do
	tr '\0' '\n' 2>/dev/null < "/proc/$p/environ" | grep -q "^SEGUE_CONTROL=$T/" &&
		kill -KILL "-$p" 2>/dev/null
done
for d in $leftover; do rm -rf "$d"; done
