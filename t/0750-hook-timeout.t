#!/bin/sh
# 0750-hook-timeout.t: a hook still running after hook-timeout is killed
# with its process group (event hook_timeout), so four hung hooks no longer
# keep later events from the hook; a hung ready-command ends with its
# worker's ready-timeout (issue 9, item 14).
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 12

# The hook hangs (with a child in its process group) while $T/hang exists.
cat > "$T/hook" <<SH
#!/bin/sh
echo "\$SEGUE_EVENT \$SEGUE_GENERATION" >> "$T/hook.log"
if [ -e "$T/hang" ]; then
	sleep 300 &
	echo \$! >> "$T/hook-children"
	echo \$\$ >> "$T/hook-pids"
	exec sleep 300
fi
exit 0
SH
chmod +x "$T/hook"
cat > "$T/segue.conf" <<CONF
control = "$T/c.sock"
hook = "$T/hook"
hook-timeout = "3s"
program app {
  command = "sleep 300"
  ready-delay = "50ms"
}
CONF
start_segue -c "$T/segue.conf"
ok $? "segue starts with hook-timeout = 3s"
wait_log 'event=worker_ready'

touch "$T/hang"
start=$(date +%s%N)
reload_times 4
# (the count is taken at each try: a $(...) here would be read once)
wait_for 30 sh -c "test \"\$(cat '$T/hook-pids' 2>/dev/null | wc -l)\" = 4"
ok $? "four reloads: four hooks hang"
wait_log 'event=hook_timeout' 1 30
st=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
ok "$([ "$st" = 0 ] && [ "$ms" -ge 2900 ]; echo $?)" \
	"the first hook is killed after hook-timeout, not before ($ms ms)"
wait_log 'event=hook_timeout' 4 30
ok $? "each of the four hung hooks is killed: event hook_timeout"
is "$(log_field hook_timeout hook_event)" reload_succeeded "the event names what the hook ran for"
like "$(log_field hook_timeout generation)" '^[2-5]$' "and the generation"
pids_logged=$(event_fields pid event=hook_timeout | sort -n | tr '\n' ' ')
[ -n "$pids_logged" ] || pids_logged=none
is "$pids_logged" "$(sort -n "$T/hook-pids" 2>/dev/null | tr '\n' ' ')" "and the hooks' pids"
all_gone() {
	for p in $(cat "$T/hook-pids" "$T/hook-children" 2>/dev/null); do
		kill -0 "$p" 2>/dev/null && return 1
	done
	return 0
}
wait_for 5 all_gone && [ -s "$T/hook-children" ]
ok $? "the hooks and their children are gone (the process group was killed)"

rm "$T/hang"
kill -HUP "$SEGUE_PID"
wait_log 'event=reload_succeeded' 5 20
wait_for 5 grep -q '^reload_succeeded 6$' "$T/hook.log" 2>/dev/null
ok $? "a later event reaches the hook again"
ok "$(segue_logged 'hooks still running'; [ $? -ne 0 ]; echo $?)" "no event was refused for want of a hook slot"

# --- a ready-command that hangs ends with its worker's ready-timeout --------
cat > "$T/ready.sh" <<SH
#!/bin/sh
echo \$\$ >> "$T/ready-pids"
exec sleep 300
SH
chmod +x "$T/ready.sh"
stop_segue
# A long restart-delay: no second worker (and ready-command) meanwhile.
cat > "$T/ready.conf" <<CONF
control = "$T/c.sock"
program app {
  command = "sleep 300"
  ready = "exec"
  ready-command = "$T/ready.sh"
  ready-timeout = "2s"
  restart-delay = "20s"
}
CONF
start_segue -c "$T/ready.conf"
wait_log 'event=worker_timeout' 1 20
ok $? "a worker whose ready-command hangs fails at ready-timeout"
first=$(head -n 1 "$T/ready-pids" 2>/dev/null)
wait_for 5 eval '[ -n "$first" ] && ! kill -0 "$first" 2>/dev/null'
ok $? "the hung ready-command (pid ${first:-none}) is killed with its worker"
stop_segue
# what an older segue left behind
for p in $(cat "$T/ready-pids" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
