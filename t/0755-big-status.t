#!/bin/sh
# 0755-big-status.t: a status answer over 1 MiB is delivered whole. The
# cheapest way there: 250 programs of one worker each, each in a directory
# whose path is 3,800 bytes long, each worker with a STATUS= of 250 quotes
# (500 bytes once escaped in JSON) (issue 9, item 15).
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
PROGRAMS=250
plan 5

command -v python3 >/dev/null 2>&1 || skip_all "needs python3 to read JSON"
name=$(printf '%0250d' 0 | tr 0 d)
dir=$T/d
for i in $(seq 15); do dir=$dir/$name; done
mkdir -p "$dir"
{
	echo "control = \"$T/c.sock\""
	for i in $(seq $PROGRAMS); do
		printf 'program app%d {\n  command = "sleep 300"\n  directory = "%s"\n' "$i" "$dir"
		printf '  ready-delay = "50ms"\n}\n'
	done
} > "$T/segue.conf"
start_segue -c "$T/segue.conf"
wait_log 'event=worker_ready' $PROGRAMS 60
ok $? "$PROGRAMS programs ready, in a directory of ${#dir} bytes"

# One sender for every worker's notify socket (root may speak for any).
event_fields pid event=worker_spawned > "$T/pids"
python3 - "$T/pids" > "$T/sent" <<'PY'
import socket, sys
msg = b"STATUS=" + b'"' * 250
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sent = 0
for pid in open(sys.argv[1]).read().split():
    env = open("/proc/%s/environ" % pid, "rb").read().split(b"\0")
    path = [e[14:] for e in env if e.startswith(b"NOTIFY_SOCKET=")][0]
    s.sendto(msg, path)
    sent += 1
print(sent)
PY
is "$(cat "$T/sent")" $PROGRAMS "each worker's STATUS= is sent"

# all_shown: status answers, over 1 MiB, valid JSON, every status in it
all_shown() {
	"$SEGUECTL" -s "$T/c.sock" --json status > "$T/status.json" 2>"$T/status.err" &&
		[ "$(wc -c < "$T/status.json")" -gt 1048576 ] &&
		python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
w = [x for p in d["programs"] for x in p["workers"]]
sys.exit(not (len(w) == int(sys.argv[2]) and all(x["status"] == "\"" * 250 for x in w)))' \
			"$T/status.json" $PROGRAMS
}
wait_for 20 all_shown
ok $? "seguectl --json status gets the whole answer, valid JSON with every worker's status"
diag "$(wc -c < "$T/status.json") bytes$(sed 's/^/; /' "$T/status.err")"
ok "$(segue_alive; echo $?)" "segue lives"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
