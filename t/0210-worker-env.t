#!/bin/sh
# 0210-worker-env.t: what a worker inherits: fds, LISTEN_*, SEGUE_*, fd protocols.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 22

port=$(free_port)
mkdir -p "$T/out"
cat > "$T/segue.conf" <<CONF
control = "$CONTROL"
socket web {
  listen = "127.0.0.1:$port"
}
socket admin {
  listen = "unix:$T/admin.sock"
  mode = "0600"
}
program app {
  command = "$PROBE $T/out {fd:admin} {generation} {worker}"
  sockets = { "web", "admin" }
  env = { "GREETING=hello world", "LISTEN_FDS=99", "PROBE_NOTIFY=1" }
  fd-protocol = { "einhorn", "server-starter" }
  ready = "notify"
}
CONF
# what systemd or a parent segue might have set must not reach the worker
export LISTEN_FDNAMES=bogus SEGUE_WORKER=bogus
start_segue -c "$T/segue.conf"
unset LISTEN_FDNAMES SEGUE_WORKER
wait_event event=worker_ready
ok $? "the probe worker reports ready through NOTIFY_SOCKET"

wpid=$(event_field pid event=worker_spawned)
f="$T/out/probe.$wpid"
wait_for 5 test -f "$f"
ok $? "the probe wrote its report"
field() { sed -n "s/^$1=//p" "$f" | head -n 1; }
envv() { sed -n "s/^env $1=//p" "$f"; }

is "$(sed -n 's/^fd=\([0-9]*\) .*/\1/p' "$f" | tr '\n' ' ')" "0 1 2 3 4 " "exactly fds 0, 1, 2 and the two sockets are open"
like "$(grep '^fd=0 ' "$f")" "/dev/null" "stdin is /dev/null"
like "$(grep '^sock=3 ' "$f")" "127.0.0.1:$port listening=1" "fd 3 is the web socket, listening"
like "$(grep '^sock=4 ' "$f")" "$T/admin.sock listening=1" "fd 4 is the admin socket"
like "$(grep '^fdflags=3 ' "$f")" "nonblock=0 cloexec=0" "the held socket is blocking and inheritable"
is "$(envv LISTEN_PID)" "$wpid" "LISTEN_PID is the worker's own pid"
is "$(envv LISTEN_FDS)" 2 "LISTEN_FDS counts the sockets (config env cannot override it)"
is "$(envv LISTEN_FDNAMES)" "web:admin" "LISTEN_FDNAMES names them in order"
is "$(envv SEGUE_PROGRAM)/$(envv SEGUE_GENERATION)/$(envv SEGUE_WORKER)" "app/1/0" "SEGUE_PROGRAM, SEGUE_GENERATION, SEGUE_WORKER"
is "$(envv SEGUE_CONTROL)" "$CONTROL" "SEGUE_CONTROL names the control socket"
like "$(envv NOTIFY_SOCKET)" "^$CONTROL.notify/[0-9]+$" "NOTIFY_SOCKET is segue's (beside its control socket), not systemd's"
is "$(envv GREETING)" "hello world" "env entries from the config are set"
is "$(envv EINHORN_FD_COUNT) $(envv EINHORN_FD_0) $(envv EINHORN_FD_1) $(envv EINHORN_CHILD_INDEX)" "2 3 4 0" "einhorn variables"
is "$(envv SERVER_STARTER_PORT)" "127.0.0.1:$port=3;$T/admin.sock=4" "SERVER_STARTER_PORT"
is "$(envv SERVER_STARTER_GENERATION)" 1 "SERVER_STARTER_GENERATION"
is "$(sed -n 's/^arg=//p' "$f" | tail -n 3 | tr '\n' ' ')" "4 1 0 " "{fd:admin}, {generation} and {worker} are expanded"
is "$(field pgid)" "$wpid" "the worker leads its own process group"
like "$(grep '^sigmask=' "$f")" '^sigmask=0+ ' "no signal is blocked"
like "$(grep '^sigmask=' "$f")" ' sigign=$' "no signal is ignored"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
