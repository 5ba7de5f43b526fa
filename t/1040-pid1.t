#!/bin/sh
# 1040-pid1.t: segue as PID 1 of a PID namespace, as in a container: every
# signal it acts on has a handler (PID 1 has no default action), it reaps
# an orphan a worker left, HUP reloads under load with no failed request,
# and TERM under load answers the requests in flight, then exits 0 within
# drain-timeout.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/pid1.sh"
pid1_or_skip
plan 16

# A worker that serves with the demo app and, once, leaves an orphan: a
# grandchild whose parent exits at once, and which itself exits when the
# test says so.
cat > "$T/worker.sh" <<SH
#!/bin/sh
if mkdir "$T/orphaned" 2>/dev/null; then
	( sh -c 'echo \$\$ > "$T/gc.pid"; while [ ! -e "$T/go" ]; do sleep 0.02; done' & )
fi
exec "$DEMO"
SH
chmod +x "$T/worker.sh"
port=$(free_port)
app_conf "$T/segue.conf" "$port" "$T/worker.sh" 'workers = 2' 'ready = notify' \
	'drain-timeout = 10s'

start_pid1 -c "$T/segue.conf"
is "$(event_field pid event=started)" 1 "segue is PID 1 of its namespace"
wait_event -n 2 event=worker_ready

# SigCgt: a handler; SigIgn: ignored; SigBlk: blocked (hex, bit N-1 for
# signal N).
sigbit() {
	local hex
	hex=$(sed -n "s/^$1:[[:space:]]*//p" "/proc/$SEGUE_PID/status")
	echo $(( (0x$hex >> ($2 - 1)) & 1 ))
}
missing=
for sig in HUP INT TERM USR1 USR2 CHLD TTIN TTOU; do
	[ "$(sigbit SigCgt "$(kill -l "$sig")")" = 1 ] || missing="$missing $sig"
done
is "$missing" "" "HUP, INT, TERM, USR1, USR2, CHLD, TTIN and TTOU each have a handler"
is "$(sigbit SigIgn "$(kill -l PIPE)")" 1 "PIPE is ignored explicitly"
is "$(sed -n 's/^SigBlk:[[:space:]]*//p' "/proc/$SEGUE_PID/status")" 0000000000000000 \
	"no signal stays blocked once segue runs"

# the orphan: reparented to segue, reaped by it once it exits
wait_for 5 test -s "$T/gc.pid"
gc=$(outer_pid "$(cat "$T/gc.pid")")
like "$gc" '^[0-9]+$' "the worker's grandchild runs in the namespace"
is "$(ppid_of "$gc")" "$SEGUE_PID" "its parent gone, the orphan belongs to segue (PID 1)"
touch "$T/go"
check "the orphan exits and is reaped: its pid is gone" -- wait_for 5 eval "[ ! -e /proc/$gc ]"
is "$(ns_zombies)" 0 "no zombie in the namespace"

# HUP reloads under load
start_load "$port" 8
mark=$(log_lines)
kill -HUP "$SEGUE_PID"
wait_event -s "$mark" -t 20 "$RELOAD_ENDED"
is "$("$EVENTS" -s "$mark" -f event "$SEGUE_LOG" "$RELOAD_ENDED")" reload_succeeded \
	"HUP reloads segue as PID 1"
wait_event -t 20 event=drain_finished generation=1
stop_load "HUP under load"
like "$LOAD_RESULT" ' errors=0 ' "zero failed requests through the reload"
like "$LOAD_RESULT" 'generations=1,2( |$)' "the load saw both generations"

# TERM under load: slow requests the workers have accepted are answered
start_load "$port" 4
for i in 1 2 3; do
	curl -s -o "$T/slow$i.out" -w '%{http_code}' "http://127.0.0.1:$port/slow?ms=1500" \
		> "$T/slow$i.code" &
	eval "curl$i=\$!"
done
# accepted: the connection's socket is the demo's, not in the listen queue
slow_accepted() {
	[ "$(ss -Htnp state established "( sport = :$port )" | grep -c '"demo"')" -ge 3 ]
}
wait_for 5 slow_accepted
stop_pid1 TERM
is "$PID1_STATUS" 0 "TERM: segue exits 0"
ok $([ "$PID1_MS" -lt 10000 ] && echo 0 || echo 1) "within drain-timeout (10 s): ${PID1_MS} ms"
wait "$curl1" "$curl2" "$curl3"
is "$(cat "$T/slow1.code" "$T/slow2.code" "$T/slow3.code" | tr -d '\n')" 200200200 \
	"the slow requests in flight at TERM are answered"
stop_load "TERM under load"
like "$LOAD_RESULT" ' bad_status=0 ' "no request got a wrong answer"
check "the stopped event is logged" -- has_event event=stopped status=0
