#!/bin/sh
# 0710-utf8-reload.t: a config rejected on reload whose bad value is not
# UTF-8, or whose message is cut mid-character, leaves segue answering
# status and health (issue 9, item 1).
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 13

command -v python3 >/dev/null 2>&1 || skip_all "needs python3 to read JSON"
# valid_json FILE: FILE is one JSON object, all of it valid UTF-8
valid_json() {
	python3 -c 'import json, sys; json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))' "$1" 2>/dev/null
}
# write_conf READY-DELAY: the value is written as printf's %b gives it
write_conf() {
	printf 'control = "%s"\nprogram app {\n  command = "sleep 300"\n  ready-delay = "%b"\n}\n' \
		"$T/c.sock" "$1" > "$T/segue.conf"
}
write_conf 50ms
start_segue -c "$T/segue.conf"
wait_log 'event=worker_ready'
ok $? "segue serves"

# --- a bad value that is not UTF-8 ------------------------------------------
write_conf 'caf\351'
"$SEGUECTL" -s "$T/c.sock" reload --wait > "$T/reload.out" 2>&1
is "$?" 1 "the reload fails: the config is rejected"
wait_log 'event=config_rejected'
"$SEGUECTL" -s "$T/c.sock" --json status > "$T/status.json" 2>&1
ok $? "seguectl status answers"
valid_json "$T/status.json"
ok $? "with valid UTF-8 JSON"
like "$(cat "$T/status.json")" 'bad duration \\"caf' "naming the rejected value"
"$SEGUECTL" -s "$T/c.sock" health > "$T/health.out" 2>&1
is "$?" 0 "seguectl health answers: healthy"
ok "$(segue_alive; echo $?)" "segue lives"

# --- a message cut mid-character --------------------------------------------
# 300 two-byte characters, after 0 or 1 byte: wherever the message is cut
# (at 400 to 512 bytes), one of the two cuts falls inside a character.
e=$(printf '%0300d' 0 | sed 's/0/\\303\\251/g')
for pre in '' x; do
	write_conf "$pre$e"
	"$SEGUECTL" -s "$T/c.sock" reload --wait > "$T/reload.out" 2>&1
	"$SEGUECTL" -s "$T/c.sock" --json status > "$T/status.json" 2>&1 &&
		valid_json "$T/status.json"
	ok $? "a rejected value of 300 characters after '$pre': status answers valid JSON"
done
"$SEGUECTL" -s "$T/c.sock" health > "$T/health.out" 2>&1
is "$?" 0 "health still answers: healthy"
write_conf 50ms
kill -HUP "$SEGUE_PID"
wait_log 'event=reload_succeeded'
ok $? "a good config is taken again"
"$SEGUECTL" -s "$T/c.sock" --json status > "$T/status.json" 2>&1 && valid_json "$T/status.json"
ok $? "status answers valid JSON after it"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
