#!/bin/sh
# 0390-reload-transaction.t: a reload is a transaction that always ends.
# Scaling a program down during a reload, or a new worker that says
# READY=1 then STOPPING=1, ends the reload at once; a rolled-back reload
# leaves a shared socket's backlog, name and fd-store name as they were;
# a failed rolling reload gives back exactly the old slots it drained.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
DGRAM=$top_builddir/t/helpers/dgram
FAKESD=$top_builddir/t/helpers/fakesystemd
plan 17

# --- scale down during a reload with a never-ready slot --------------------
port=$(free_port)
cat > "$T/app.sh" <<SH
#!/bin/sh
# generation 2's slot 1 never becomes ready
[ "\$SEGUE_GENERATION" = 2 ] && [ "\$SEGUE_WORKER" = 1 ] && exec sleep 300
exec "$DEMO"
SH
chmod +x "$T/app.sh"
cat > "$T/segue.conf" <<CONF
control = "$T/c.sock"
socket web { listen = "127.0.0.1:$port" }
program app {
  command = "$T/app.sh"
  sockets = { "web" }
  workers = 2
  ready = "notify"
  ready-timeout = "60s"
}
CONF
start_segue -c "$T/segue.conf"
wait_log 'event=worker_ready' 2
kill -HUP "$SEGUE_PID"
wait_log 'event=worker_ready.* generation=2 slot=0 ' 1 10 &&
	wait_log 'event=worker_spawned.* generation=2 slot=1 ' 1 10
ok $? "generation 2: slot 0 is ready, slot 1 never will be"
"$SEGUECTL" -s "$T/c.sock" scale app 1 > /dev/null
wait_log 'event=reload_succeeded' 1 5
ok $? "scaling app to 1 ends the reload at once, long before ready-timeout (60 s)"
is "$(log_field reload_succeeded generation)" 2 "generation 2 serves, with one worker"
kill -HUP "$SEGUE_PID"
wait_log 'event=reload_succeeded' 2 10
ok $? "the next reload succeeds"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"

# --- READY=1, then STOPPING=1, from a new worker ---------------------------
cat > "$T/notify.sh" <<SH
#!/bin/sh
if [ "\$SEGUE_GENERATION" = 2 ] && [ "\$SEGUE_WORKER" = 0 ]; then
	printf 'READY=1' | "$DGRAM" "\$NOTIFY_SOCKET"
	printf 'STOPPING=1' | "$DGRAM" "\$NOTIFY_SOCKET"
	exec sleep 300
fi
# slot 1 of generation 2 becomes ready only once slot 0 has said both
[ "\$SEGUE_GENERATION" = 2 ] && while [ ! -e "$T/go" ]; do sleep 0.05; done
printf 'READY=1' | "$DGRAM" "\$NOTIFY_SOCKET"
exec sleep 300
SH
chmod +x "$T/notify.sh"
cat > "$T/notify.conf" <<CONF
control = "$T/c.sock"
program app {
  command = "$T/notify.sh"
  workers = 2
  ready = "notify"
  ready-timeout = "60s"
  drain-timeout = "2s"
}
CONF
start_segue -c "$T/notify.conf"
wait_log 'event=worker_ready' 2
kill -HUP "$SEGUE_PID"
wait_log 'event=reload_(succeeded|failed)' 1 5
ok $? "a new worker that says READY=1 then STOPPING=1 ends the reload"
like "$(log_field reload_failed reason)" 'worker 0 .*STOPPING=1' "it fails, and the reason names the worker and STOPPING=1"
touch "$T/go"
kill -HUP "$SEGUE_PID"
wait_log 'event=reload_(succeeded|failed)' 2 10
ok $? "the next reload ends too"
stop_segue

# --- a rolled-back reload leaves shared sockets as they were ---------------
SD=$T/sd
mkdir -p "$SD"
port=$(free_port)
cat > "$T/fd.conf" <<CONF
control = "$T/c.sock"
fdstore = true
socket web { listen = "127.0.0.1:$port"
  backlog = 64 }
program app { command = "$DEMO"
  sockets = { "web" }
  ready = "notify" }
CONF
cat > "$T/bad.conf" <<CONF
control = "$T/c.sock"
fdstore = true
socket www { listen = "127.0.0.1:$port"
  backlog = 200 }
program app { command = "exit 3"
  sockets = { "www" }
  ready = "notify" }
CONF
: > "$T/segue.log"
"$FAKESD" "$SD" -- "$SEGUE" -c "$T/fd.conf" >> "$T/segue.log" 2>&1 &
_pids="$_pids $!"
wait_for 5 test -s "$SD/child"
SEGUE_PID=$(cat "$SD/child")
wait_log 'event=worker_ready'
backlog() { ss -ltnH "sport = :$port" | awk '{ print $3 }'; }
is "$(backlog)" 64 "the socket listens with backlog 64"
cp "$T/bad.conf" "$T/fd.conf"
kill -HUP "$SEGUE_PID"
wait_log 'event=reload_failed' 1 10
ok $? "a reload that renames the socket and changes its backlog fails (its worker exits)"
is "$(backlog)" 64 "the backlog is still 64"
like "$("$SEGUECTL" -s "$T/c.sock" --json status)" '"sockets": ?\[\{"name": ?"web"' "the socket is still named web"
check "nothing was stored or unstored under another name" -- \
	test "$(grep -c 'FDNAME=www' "$SD/notify.log")" = 0
stop_segue

# --- a failed rolling reload gives back exactly the slots it drained -------
port=$(free_port)
cat > "$T/roll.sh" <<SH
#!/bin/sh
# generation 2's slot 2 cannot start
[ "\$SEGUE_GENERATION" = 2 ] && [ "\$SEGUE_WORKER" = 2 ] && exit 1
exec "$DEMO"
SH
chmod +x "$T/roll.sh"
cat > "$T/roll.conf" <<CONF
control = "$T/c.sock"
socket web { listen = "127.0.0.1:$port" }
program app {
  command = "$T/roll.sh"
  sockets = { "web" }
  workers = 3
  ready = "notify"
  reload = "rolling"
  max-surge = 1
  restart-delay = "30s"
  restart-max-delay = "60s"
}
CONF
start_segue -c "$T/roll.conf"
wait_log 'event=worker_ready' 3
# slot 1's old worker crashes: its restart is 30 s away
pid1=$(event_field pid event=worker_spawned generation=1 slot=1)
pid2=$(event_field pid event=worker_spawned generation=1 slot=2)
kill -KILL "$pid1"
wait_log "event=worker_exited.* pid=$pid1 " 1 5
kill -HUP "$SEGUE_PID"
wait_log 'event=reload_failed' 1 20
ok $? "the rolling reload fails at slot 2"
wait_log 'event=worker_ready.* generation=1 slot=0 ' 2 10
ok $? "old slot 0, drained for its replacement, gets a worker again"
# A respawn of slot 1 would come in the same step as slot 0's, before
# slot 0's new worker is ready.
is "$(event_count event=worker_spawned generation=1 slot=1)" 1 \
	"old slot 1, empty before the reload, waits for its restart delay"
check "old slot 2 was never touched" -- kill -0 "$pid2"
stop_segue
