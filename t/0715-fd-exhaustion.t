#!/bin/sh
# 0715-fd-exhaustion.t: segue out of descriptors: 60 control clients at
# once neither spin segue nor flood its log, and it serves again once they
# go; a scale that needs more descriptors than the limit is refused; the
# soft limit is raised to the hard one at start (issue 9, item 3).
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 10

command -v prlimit >/dev/null 2>&1 || skip_all "needs prlimit"
command -v python3 >/dev/null 2>&1 || skip_all "needs python3 for 60 clients"
cat > "$T/segue.conf" <<CONF
control = "$T/c.sock"
program app {
  command = "sleep 300"
  ready-delay = "50ms"
}
CONF

# --- the soft limit is raised to the hard one ------------------------------
: > "$T/segue.log"
prlimit --nofile=40:200 "$SEGUE" -c "$T/segue.conf" >> "$T/segue.log" 2>&1 &
SEGUE_PID=$!
wait_log 'event=worker_ready'
is "$(awk '/^Max open files/ { print $4 "/" $5 }' "/proc/$SEGUE_PID/limits")" 200/200 \
	"started with a soft limit of 40 under a hard one of 200, segue raises it to 200"
stop_segue

# --- 60 clients with 40 descriptors ----------------------------------------
: > "$T/segue.log"
prlimit --nofile=40:40 "$SEGUE" -c "$T/segue.conf" >> "$T/segue.log" 2>&1 &
SEGUE_PID=$!
wait_log 'event=worker_ready'
ok $? "segue serves with 40 descriptors"

# cpu_ticks PID: user and system time so far, in clock ticks
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
lines0=$(wc -l < "$T/segue.log")
python3 - "$T/c.sock" "$T/clients.up" "$T/clients.go" <<'PY' &
import os, socket, sys, time
path, up, go = sys.argv[1:4]
clients = []
for i in range(60):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.setblocking(False)
    try:
        c.connect(path)
    except (BlockingIOError, InterruptedError):
        pass
    clients.append(c)
open(up, "w").close()
deadline = time.time() + 30
while not os.path.exists(go) and time.time() < deadline:
    time.sleep(0.05)
for c in clients:
    c.close()
PY
clients=$!
wait_for 10 test -e "$T/clients.up"
ok $? "60 clients connect at once"
cpu0=$(cpu_ticks "$SEGUE_PID")
t0=$(date +%s%N)
# Three seconds of the siege: what it costs segue is measured, not awaited.
sleep 3
cpu1=$(cpu_ticks "$SEGUE_PID")
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
hz=$(getconf CLK_TCK)
cpu_ms=$(( (cpu1 - cpu0) * 1000 / hz ))
ok "$([ "$cpu_ms" -lt 300 ]; echo $?)" "segue used $cpu_ms ms of CPU in $ms ms (less than 300): no spin"
lines=$(( $(wc -l < "$T/segue.log") - lines0 ))
ok "$([ "$lines" -le 10 ]; echo $?)" "and wrote $lines log lines (at most 10)"
like "$(tail -n "$lines" "$T/segue.log" | head -n 1)" 'accept.*(Too many open files|pausing)' \
	"saying that accept fails"
touch "$T/clients.go"
wait "$clients"
wait_for 15 "$SEGUECTL" -s "$T/c.sock" status > "$T/status.out" 2>&1
ok $? "once the clients are gone, seguectl status works"

# --- a scale beyond the descriptors --------------------------------------
"$SEGUECTL" -s "$T/c.sock" scale app 100 > "$T/scale.out" 2>&1
is "$?" 1 "scale app 100 with 40 descriptors is refused"
like "$(cat "$T/scale.out")" 'descriptors' "with an error saying descriptors run short"
is "$("$SEGUECTL" -s "$T/c.sock" --json status | sed -n 's/.*"desired":\([0-9]*\).*/\1/p')" 1 \
	"the program keeps its 1 worker"
stop_segue
