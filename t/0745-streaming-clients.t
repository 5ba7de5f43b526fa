#!/bin/sh
# 0745-streaming-clients.t: clients that stream events or wait for a
# reload cannot take the last places on the control socket: with 6
# `reload wait` and 60 `events` clients holding on, status, health and stop
# still get through, and a streaming client over the limit gets an error
# line (issue 9, item 13).
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 9

command -v python3 >/dev/null 2>&1 || skip_all "needs python3 for 66 clients"
# write_conf READY-DELAY
write_conf() {
	cat > "$T/segue.conf" <<CONF
control = "$T/c.sock"
program app {
  command = "sleep 300"
  ready-delay = "$1"
}
CONF
}
write_conf 50ms
start_segue -c "$T/segue.conf"
wait_log 'event=worker_ready'
ok $? "segue serves"
# The next generation takes a minute to be ready: reload waits hold on.
write_conf 60s

python3 - "$T/c.sock" "$T/clients.out" "$T/clients.go" <<'PY' &
import os, socket, sys, time
path, out, go = sys.argv[1:4]
def client(request):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.settimeout(5)
    try:
        c.connect(path)
        c.sendall(request)
    except OSError:
        pass  # refused and closed already: its answer is read below
    return c
def first_line(c):
    buf = b""
    try:
        while not buf.endswith(b"\n"):
            chunk = c.recv(4096)
            if not chunk:
                return "closed"
            buf += chunk
    except OSError as e:
        return "no answer: %s" % e
    return buf.decode("utf-8", "replace").split("\n")[0]
waits = [client(b"reload wait\n") for i in range(6)]
streams, answers = [], []
for i in range(60):
    c = client(b"events\n")
    streams.append(c)
    answers.append(first_line(c))
subscribed = sum('"events":true' in a for a in answers)
refused = [a for a in answers if '"ok":false' in a]
with open(out + ".tmp", "w") as f:
    f.write("subscribed=%d refused=%d\n" % (subscribed, len(refused)))
    f.write("first_refusal=%s\n" % (refused[0] if refused else ""))
os.rename(out + ".tmp", out)
deadline = time.time() + 60
while not os.path.exists(go) and time.time() < deadline:
    time.sleep(0.05)
PY
clients=$!
wait_for 30 test -s "$T/clients.out"
ok $? "6 reload waits and 60 events clients are connected"
diag "$(head -n 1 "$T/clients.out")"
wait_log 'event=reload_(started|requested)'
like "$(head -n 1 "$T/clients.out")" '^subscribed=50 refused=10$' \
	"50 events clients subscribe beside the 6 reload waits; 10 are refused"
like "$(sed -n 's/^first_refusal=//p' "$T/clients.out")" '"error":"too many clients stream' \
	"the streaming client over the limit gets an error line"

"$SEGUECTL" -s "$T/c.sock" --json status > "$T/status.out" 2>&1
ok $? "seguectl status gets through"
like "$(cat "$T/status.out")" '"reloading":true' "while the reload runs"
"$SEGUECTL" -s "$T/c.sock" health > "$T/health.out" 2>&1
like "$?:$(cat "$T/health.out")" '^[01]:(healthy|unhealthy)' "seguectl health gets through"
"$SEGUECTL" -s "$T/c.sock" stop > "$T/stop.out" 2>&1
ok $? "seguectl stop gets through"
wait_for 15 eval '! kill -0 $SEGUE_PID 2>/dev/null' || kill -KILL "$SEGUE_PID"
wait "$SEGUE_PID"
is "$?" 0 "segue stops cleanly"
touch "$T/clients.go"
wait "$clients"
