#!/bin/sh
# 0775-notify-no-nss.t: who may notify for a worker is known from its
# spawn: 50 datagrams from the program's user make segue open no user or
# group database file (no NSS or LDAP lookup on the loop) (issue 9,
# item 19).
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
DGRAM=$top_builddir/t/helpers/dgram
N=50
plan 5

[ "$(id -u)" = 0 ] || skip_all "needs root to run workers as nobody"
command -v strace >/dev/null 2>&1 || skip_all "needs strace"
command -v setpriv >/dev/null 2>&1 || skip_all "needs setpriv"
getent passwd nobody >/dev/null || skip_all "needs a user nobody"
chmod 0755 "$T"
DGRAM=$(for_nobody "$DGRAM")
cat > "$T/segue.conf" <<CONF
control = "$T/c.sock"
program app {
  command = "sleep 300"
  user = "nobody"
  ready-delay = "50ms"
}
CONF
start_segue -c "$T/segue.conf"
wait_log 'event=worker_ready'
ok $? "a worker runs as nobody"
pid=$(log_field worker_spawned pid)
sock=$(tr '\0' '\n' < "/proc/$pid/environ" | sed -n 's/^NOTIFY_SOCKET=//p')

strace -p "$SEGUE_PID" -e trace=open,openat -o "$T/strace.out" 2> "$T/strace.err" &
tracer=$!
wait_for 10 grep -q attached "$T/strace.err"
ok $? "strace follows segue"
setpriv --reuid=65534 --regid=65534 --clear-groups sh -c '
	i=1
	while [ $i -le "$3" ]; do
		printf "STATUS=datagram %d" $i | "$1" "$2" || exit 1
		i=$((i + 1))
	done' sh "$DGRAM" "$sock" $N
shown() { "$SEGUECTL" -s "$T/c.sock" --json status | grep -q "\"status\":\"datagram $N\""; }
wait_for 10 shown
ok $? "segue takes the $N datagrams from the worker's user (STATUS= of the last one shown)"
kill "$tracer"
wait "$tracer" 2>/dev/null
opened=$(grep -Ec '"/etc/(passwd|group|shadow|gshadow|nsswitch\.conf)"|nss|sss|ldap' "$T/strace.out")
is "$opened" 0 "segue opened no user or group database meanwhile"
grep -E '"/etc/|nss|sss|ldap' "$T/strace.out" | head -n 3 | sed 's/^/# /'
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
