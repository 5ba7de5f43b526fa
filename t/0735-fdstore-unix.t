#!/bin/sh
# 0735-fdstore-unix.t: with fdstore = true, a unix socket that stays in
# (fake) systemd's fd store keeps its path: after a restart through the
# store (TERM, then start again) the same socket answers on the same path
# (issue 9, item 11).
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
FAKESD=$top_builddir/t/helpers/fakesystemd
plan 8

command -v curl >/dev/null 2>&1 || skip_all "needs curl"
SD=$T/sd
mkdir "$SD"
sock=$T/web.sock
cat > "$T/segue.conf" <<CONF
control = "$T/c.sock"
fdstore = true
socket web { listen = "unix:$sock" }
program app {
  command = "$DEMO"
  sockets = { "web" }
  ready = "notify"
  drain-timeout = "5s"
}
CONF
# ready_from PID: PID sent READY=1 to fakesystemd
ready_from() { grep -Eq "^[0-9]+ $1 (.*\\|)?READY=1(\\||\$)" "$SD/notify.log"; }
child_changed() { [ -s "$SD/child" ] && [ "$(cat "$SD/child")" != "$1" ]; }
get() { curl -sS --max-time 5 --unix-socket "$sock" -o /dev/null -w '%{http_code}' http://segue/; }

: > "$T/segue.log"
"$FAKESD" "$SD" -- "$SEGUE" -c "$T/segue.conf" >> "$T/segue.log" 2>&1 &
FAKE_PID=$!
wait_for 5 test -s "$SD/child"
SEGUE_PID=$(cat "$SD/child")
wait_for 10 ready_from "$SEGUE_PID"
ok $? "segue under fakesystemd with fdstore is ready"
is "$(get)" 200 "the unix socket answers"
inode=$(stat -c %i "$sock")
wait_for 5 grep -q '# stored 1 fd(s) as "web"' "$SD/notify.log"
ok $? "the socket is in the fd store"

old=$SEGUE_PID
kill -USR2 "$FAKE_PID"
wait_for 15 child_changed "$old"
SEGUE_PID=$(cat "$SD/child")
wait_for 15 ready_from "$SEGUE_PID"
ok $? "after a restart (TERM, start again) segue is ready"
is "$(event_field inherited event=socket_bound)" true "it took the stored socket back"
is "$(get 2>&1)" 200 "the socket path still answers"
is "$(stat -c %i "$sock" 2>&1)" "$inode" "the same socket file, never unlinked"

kill -TERM "$FAKE_PID"
wait_for 20 eval '! kill -0 $FAKE_PID 2>/dev/null'
wait "$FAKE_PID"
is "$?" 0 "segue stops cleanly"
