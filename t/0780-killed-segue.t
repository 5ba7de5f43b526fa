#!/bin/sh
# 0780-killed-segue.t: when segue is killed (SIGKILL, OOM) its workers get
# their drain signal and finish on their own; a segue started again at once
# on the same port waits for the address (one log line saying so) while a
# leftover process still holds it, then binds and serves with no connection
# refused (issue 9, item 20).
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 10

command -v curl >/dev/null 2>&1 || skip_all "needs curl"
port=$(free_port)
# The worker leaves a helper behind that holds the inherited listening
# socket after segue was killed, as a wrapper's child may: until the new
# segue says it waits for the address (20 s at most).
cat > "$T/worker.sh" <<SH
#!/bin/sh
sh -c 'i=0
while [ \$i -lt 400 ] && ! { [ -e "$T/killed" ] && grep -q retrying "$T/segue.log"; }; do
	sleep 0.05
	i=\$((i + 1))
done' &
exec "$DEMO"
SH
chmod +x "$T/worker.sh"
run_segue() {
	start_segue -l "127.0.0.1:$port" -s "$T/c.sock" --ready notify --drain-timeout 10s \
		-- "$T/worker.sh"
}
# established: a connection to the port is open
established() {
	awk -v p="$(printf ':%04X' "$port")" '$4 == "01" && substr($2, length($2) - 4) == p' \
		/proc/net/tcp | grep -q .
}

run_segue
wait_log 'event=worker_ready'
ok $? "segue serves on port $port"
worker=$(log_field worker_spawned pid)
curl -sS --max-time 20 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/slow?ms=2000" \
	> "$T/slow.code" 2> "$T/slow.err" &
slow=$!
wait_for 5 established
ok $? "a slow request is in flight"

kill -KILL "$SEGUE_PID"
wait "$SEGUE_PID" 2>/dev/null
touch "$T/killed"
cp "$T/segue.log" "$T/segue1.log"
run_segue
ok $? "a segue started again at once on the same port starts"
is "$(grep -c 'listen0.*retrying' "$T/segue.log")" 1 "one log line says it waits for the address"
wait_log 'event=worker_ready'
ok $? "and it serves"
"$LOADGEN" -a "127.0.0.1:$port" -c 4 -n 400 > "$T/load.out" 2> "$T/load.err"
like "$(cat "$T/load.out")" ' connect_errors=0 ' "no connection refused once it is up"
like "$(cat "$T/load.out")" ' errors=0 ' "no request failed"

wait_for 10 eval '! kill -0 $worker 2>/dev/null'
ok $? "the killed segue's worker got its drain signal and exited on its own"
wait "$slow"
is "$(cat "$T/slow.code")" 200 "after answering its slow request"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
# what an older segue left running
tr '\0' '\n' 2>/dev/null < "/proc/$worker/environ" | grep -q "^SEGUE_CONTROL=$T/" &&
	kill -KILL "-$worker" 2>/dev/null
