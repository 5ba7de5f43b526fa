#!/bin/sh
# 0700-hostile-input.t: a log-file that is a symlink (at start and after a
# swap on USR1), a control socket path held by a listener with a full
# backlog or longer than sun_path, and a worker's STATUS= that is not UTF-8
# or is cut mid-character (issue 9, items 8, 2, 4 and 1).
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
DGRAM=$top_builddir/t/helpers/dgram
plan 18

secret=$T/secret
printf 'root only\n' > "$secret"
chmod 600 "$secret"
have_python() { command -v python3 >/dev/null 2>&1; }
# write_conf FILE CONTROL LOG-FILE: one program, ready after 50 ms
write_conf() {
	cat > "$1" <<CONF
control = "$2"
log-file = "$3"
program app {
  command = "sleep 300"
  ready-delay = "50ms"
}
CONF
}

# --- log-file through a symlink, at start ----------------------------------
ln -s "$secret" "$T/link.log"
write_conf "$T/link.conf" "$T/c1.sock" "$T/link.log"
timeout -k 2 10 "$SEGUE" -c "$T/link.conf" > "$T/out1" 2>&1
st=$?
ok "$([ "$st" -ne 0 ] && [ "$st" -lt 124 ]; echo $?)" \
	"segue refuses a log-file that is a symlink (exit $st)"
like "$(cat "$T/out1")" "$T/link.log.*symbolic link" "naming the file, and why"
is "$(cat "$secret")" "root only" "the file behind the symlink is untouched"

# --- log-file swapped for a symlink, then USR1 ----------------------------
# The log file is lib.sh's own $T/segue.log, which segue then appends to.
write_conf "$T/file.conf" "$T/c2.sock" "$T/segue.log"
start_segue -c "$T/file.conf"
ok $? "segue starts with a log-file"
wait_log 'event=worker_ready'
mv "$T/segue.log" "$T/segue.log.1"
ln -s "$secret" "$T/segue.log"
kill -USR1 "$SEGUE_PID"
wait_for 5 grep -q "log-file $T/segue.log: is a symbolic link" "$T/segue.log.1"
ok $? "on USR1 the symlink is refused, with a warning naming the file"
kill -HUP "$SEGUE_PID"
wait_for 10 grep -Eq 'event(=|":")reload_succeeded' "$T/segue.log.1"
ok $? "segue goes on logging to the file it had"
is "$(cat "$secret")" "root only" "the file behind the symlink is untouched"
rm "$T/segue.log"
mv "$T/segue.log.1" "$T/segue.log"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"

# --- a control socket path whose listener has a full backlog --------------
if have_python; then
	timeout 60 python3 - "$T/busy.sock" "$T/busy.ready" <<'PY' &
import socket, sys, time
path, ready = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(0)
clients = []
while True:  # fill the backlog: nobody accepts
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.setblocking(False)
    try:
        c.connect(path)
    except BlockingIOError:
        break
    clients.append(c)
open(ready, "w").close()
time.sleep(60)
PY
	busy=$!
	wait_for 10 test -e "$T/busy.ready"
	ok $? "a listener with a full backlog holds the control socket path"
	start=$(date +%s%N)
	timeout -k 2 10 "$SEGUE" -l 127.0.0.1:0 -s "$T/busy.sock" -- sleep 300 > "$T/out3" 2>&1
	st=$?
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	is "$st" 2 "segue exits 2 (control socket in use)"
	ok "$([ "$ms" -lt 3000 ]; echo $?)" "at once ($ms ms): the probe does not block"
	like "$(cat "$T/out3")" "busy.sock is in use" "saying the socket is in use"
	kill "$busy" 2>/dev/null
	wait "$busy" 2>/dev/null
else
	for i in 1 2 3 4; do ok 0 "# SKIP needs python3 for a listener with a full backlog"; done
fi

# --- a control socket path longer than sun_path ---------------------------
long=$T/$(printf '%0100d' 0 | tr 0 d)
mkdir "$long"
if have_python && python3 -c 'import os, stat, sys
os.mknod(sys.argv[1], stat.S_IFSOCK | 0o600)' "$long/control.sock"; then
	# -s is refused with the config (exit 1); $SEGUE_CONTROL is met at start
	SEGUE_CONTROL="$long/control.sock" timeout -k 2 10 "$SEGUE" -l 127.0.0.1:0 -- sleep 300 \
		> "$T/out4" 2>&1
	is "$?" 2 "a socket file at a control path longer than sun_path: exit 2, no crash"
	like "$(cat "$T/out4")" "control.sock: too long" "saying the path is too long"
else
	for i in 1 2; do ok 0 "# SKIP needs python3 to make a socket file at a long path"; done
fi

# --- STATUS= that is not UTF-8, or cut mid-character ----------------------
cat > "$T/worker.sh" <<'SH'
#!/bin/sh
printf 'READY=1' | "$DGRAM" "$NOTIFY_SOCKET"
exec sleep 300
SH
chmod +x "$T/worker.sh"
export DGRAM
start_segue -l 127.0.0.1:0 -s "$T/c5.sock" -n 2 --ready notify --ready-timeout 60s \
	-- "$T/worker.sh"
wait_log 'event=worker_ready' 2
ok $? "two workers ready"
socket_of() {
	local pid
	pid=$(event_field pid event=worker_spawned "slot=$1")
	tr '\0' '\n' < "/proc/$pid/environ" | sed -n 's/^NOTIFY_SOCKET=//p'
}
# 254 bytes, then a 2-byte character across the 255-byte limit
{ printf 'STATUS='; printf '%0254d' 0 | tr 0 a; printf '\303\251'; } | "$DGRAM" "$(socket_of 0)"
printf 'STATUS=caf\351' | "$DGRAM" "$(socket_of 1)"
status_shows() {
	"$SEGUECTL" -s "$T/c5.sock" --json status > "$T/status.json" 2>&1 &&
		grep -q '"status":"caf' "$T/status.json" &&
		grep -q '"status":"aaaaaaaaaa' "$T/status.json"
}
wait_for 5 status_shows
ok $? "status answers, with both statuses"
is "$(grep -o '"slot":' "$T/status.json" | wc -l)" 2 "both workers are listed"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
