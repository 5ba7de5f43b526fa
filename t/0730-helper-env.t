#!/bin/sh
# 0730-helper-env.t: a ready-command runs as the program's user, in its
# directory, with the worker's filtered environment; a hook gets the
# filtered environment too: none of the NOTIFY_SOCKET, LISTEN_* and
# WATCHDOG_* that segue's own (fake) systemd gave it (issue 9, item 10).
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
FAKESD=$top_builddir/t/helpers/fakesystemd
plan 14

[ "$(id -u)" = 0 ] || skip_all "needs root to run a ready-command as nobody"
getent passwd nobody >/dev/null || skip_all "needs a user nobody"
nobody=$(id -u nobody)
# nobody must reach the scripts and its directory inside $T
chmod 0755 "$T"
mkdir "$T/app"
chown nobody "$T/app"
SD=$T/sd
mkdir "$SD"
port=$(free_port)

# The ready-command writes what it sees into the program's directory.
cat > "$T/ready.sh" <<'SH'
#!/bin/sh
{ echo "uid=$(id -u)"; echo "cwd=$(pwd)"; env; } > ready.env
SH
cat > "$T/hook.sh" <<SH
#!/bin/sh
env > "$T/hook.env.tmp" && mv "$T/hook.env.tmp" "$T/hook.env"
SH
chmod 0755 "$T/ready.sh" "$T/hook.sh"
cat > "$T/segue.conf" <<CONF
control = "$T/c.sock"
hook = "$T/hook.sh"
socket web { listen = "systemd:web" }
program app {
  command = "sleep 300"
  directory = "$T/app"
  sockets = { "web" }
  user = "nobody"
  env = { "APP_MODE=test" }
  ready = "exec"
  ready-command = "$T/ready.sh"
}
CONF
: > "$T/segue.log"
WATCHDOG_USEC=60000000 "$FAKESD" --listen "web=127.0.0.1:$port" "$SD" -- \
	"$SEGUE" -c "$T/segue.conf" >> "$T/segue.log" 2>&1 &
FAKE_PID=$!
wait_for 5 test -s "$SD/child"
SEGUE_PID=$(cat "$SD/child")
wait_log 'event=worker_ready'
ok $? "segue under (fake) systemd with WATCHDOG_USEC and a socket: the ready-command says ready"
tr '\0' '\n' < "/proc/$SEGUE_PID/environ" > "$T/segue.env"
check "segue itself has NOTIFY_SOCKET, LISTEN_PID and WATCHDOG_USEC" -- \
	sh -c 'grep -q "^NOTIFY_SOCKET=" "$1" && grep -q "^LISTEN_PID=" "$1" &&
		grep -q "^WATCHDOG_USEC=" "$1"' sh "$T/segue.env"

env=$T/app/ready.env
is "$(sed -n 's/^uid=//p' "$env")" "$nobody" "the ready-command runs as the program's user"
is "$(sed -n 's/^cwd=//p' "$env")" "$T/app" "in the program's directory"
is "$(sed -n 's/^SEGUE_WORKER_PID=//p' "$env")" "$(log_field worker_spawned pid)" \
	"with SEGUE_WORKER_PID, the worker's pid"
is "$(sed -n 's/^APP_MODE=//p' "$env")" test "and the program's env"
is "$(grep -c '^\(LISTEN_[A-Z]*\|WATCHDOG_[A-Z]*\)=' "$env")" 0 "without LISTEN_* or WATCHDOG_*"
ok "$(grep -q "^NOTIFY_SOCKET=$SD/" "$env"; [ $? -ne 0 ]; echo $?)" \
	"without the NOTIFY_SOCKET of segue's own systemd"

# --- a hook -------------------------------------------------------------
kill -HUP "$SEGUE_PID"
wait_log 'event=reload_succeeded'
wait_for 10 test -s "$T/hook.env"
ok $? "the hook runs for reload_succeeded"
is "$(sed -n 's/^SEGUE_EVENT=//p' "$T/hook.env")" reload_succeeded "with SEGUE_EVENT"
is "$(grep -c '^\(LISTEN_[A-Z]*\|WATCHDOG_[A-Z]*\)=' "$T/hook.env")" 0 \
	"the hook has no LISTEN_* or WATCHDOG_*"
is "$(grep -c '^NOTIFY_SOCKET=' "$T/hook.env")" 0 "and no NOTIFY_SOCKET"
is "$(grep -c '^PATH=' "$T/hook.env")" 1 "but the rest of segue's environment (PATH)"

kill -TERM "$FAKE_PID"
wait_for 20 eval '! kill -0 $FAKE_PID 2>/dev/null'
wait "$FAKE_PID"
is "$?" 0 "segue stops cleanly"
