#!/bin/sh
# 0883-release-utf8.t: a generation whose programs have long multibyte
# releases: their joined name is cut at 255 bytes between characters, and
# status and reload --wait answer.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 3

e=$(printf '\303\251')
r1=x; r2=; i=0
while [ $i -lt 99 ]; do r1=$r1$e; r2=$r2$e; i=$((i + 1)); done
r2=$r2$e
cat > "$T/segue.conf" <<CONF
control = "$CONTROL"
program app {
  command = "sleep 1000"
  release = "$r1"
}
program app2 {
  command = "sleep 1000"
  release = "$r2"
}
CONF
start_segue -c "$T/segue.conf"
wait_event -n 2 event=worker_spawned
ctl reload --wait
is "$RC" 0 "reload --wait succeeds: $OUT $ERR"
ctl status
is "$RC" 0 "status answers: $ERR"
ctl --json status
like "$OUT" '"ok": *true' "status --json answers"
