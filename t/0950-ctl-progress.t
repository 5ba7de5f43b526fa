#!/bin/sh
# 0950-ctl-progress.t: seguectl reload --wait shows its progress: in a real
# terminal (tmux) one line per program, redrawn in place from starting to
# serving, then the result; plain timestamped lines without escape bytes
# when piped or with TERM=dumb; no colour with NO_COLOR; nothing but the
# result with --quiet or --json.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/tty.sh"
plan 22

# Workers that take 3 s to boot: the progress has time to show.
start_segue -l 127.0.0.1:0 -s "$CONTROL" -n 2 --ready notify -- "$DEMO" --startup-delay 3000 ||
	bail "segue did not start"
wait_event -n 2 -t 20 event=worker_ready || bail "no ready workers"
CTL="$SEGUECTL -s $CONTROL"
# a plain progress line: local date and time, program, what it does
STAMP='^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} app: '

# --- a terminal: one line, redrawn ---
pane_start live "$CTL reload --wait"
wait_pane live '^app: starting, ready 0/2, generation 2, [0-9]+s$'
ok $? "while the new workers boot the line says starting, ready 0/2"
ok "$(pane_has live serving && echo 1 || echo 0)" "and nothing serves yet"
wait_pane live '^rc=0$' 20
ok $? "reload --wait exits 0"
text=$(pane_text live)
like "$text" '^app: serving, ready 2/2, generation 2, (release [^,]+, )?[0-9]+s$' "the same line ends as serving, ready 2/2"
like "$text" '^generation 2 serving (release [^ ]+ )?\(reload took [0-9]+ ms\)$' "followed by the result"
is "$(printf '%s\n' "$text" | grep -c '^app: ')" 1 "one line for the program, redrawn in place"
like "$(pane_escapes live)" "${ESC}\\[32mserving" "serving in green"

# --- NO_COLOR: redrawn, without colour ---
pane_start nocolor "NO_COLOR=1 $CTL reload --wait"
wait_pane nocolor '^rc=0$' 20
ok $? "NO_COLOR: reload --wait exits 0"
like "$(pane_text nocolor)" '^app: serving, ready 2/2, generation 3, ' "the line is there"
ok "$(pane_escapes nocolor | grep -q "${ESC}\\[[0-9;]*[1-9]m" && echo 1 || echo 0)" "without colour or bold"

# --- TERM=dumb, or a pipe: plain lines, one per change ---
pane_start dumb "TERM=dumb $CTL reload --wait"
wait_pane dumb '^rc=0$' 20
text=$(pane_text dumb)
like "$text" "${STAMP}starting, ready 0/2" "TERM=dumb: a timestamped line when it starts"
like "$text" "${STAMP}serving, ready 2/2, generation 4(, release [^ ]+)?\$" "and one when it serves"
ok "$(pane_escapes dumb | grep -q "$ESC" && echo 1 || echo 0)" "no escape sequence"

pane_start piped "$CTL reload --wait | cat"
wait_pane piped '^rc=0$' 20
text=$(pane_text piped)
like "$text" "${STAMP}starting, ready 0/2" "reload --wait | cat on a terminal: plain lines too"
like "$text" '^generation 5 serving (release [^ ]+ )?\(reload took [0-9]+ ms\)$' "and the result through the pipe"

$CTL reload --wait 2>&1 | cat > "$T/plain.out"
ok "$(grep -q "$ESC" "$T/plain.out" && echo 1 || echo 0)" "no terminal at all: not one escape byte"
like "$(cat "$T/plain.out")" "${STAMP}starting, ready 0/2\$" "a line when it starts"
like "$(cat "$T/plain.out")" "${STAMP}serving, ready 2/2, generation 6(, release [^ ]+)?\$" "a line when it serves"
is "$(tail -n 1 "$T/plain.out" | sed 's/took [0-9]* ms/took N ms/; s/ release [^ ]* / /')" \
	"generation 6 serving (reload took N ms)" "then the result"

# --- --quiet, --json: the result only ---
$CTL reload --wait --quiet > "$T/q.out" 2> "$T/q.err"
is "$?:$(cat "$T/q.err"):$(sed 's/took [0-9]* ms/took N ms/; s/ release [^ ]* / /' "$T/q.out")" \
	"0::generation 7 serving (reload took N ms)" "--quiet: only the result"
$CTL -q rollback --wait > "$T/q.out" 2> "$T/q.err"
is "$?:$(cat "$T/q.err"):$(sed 's/took [0-9]* ms/took N ms/; s/ release [^ ]* / /' "$T/q.out")" \
	"0::generation 8 serving (rollback took N ms)" "-q before the command, with rollback"
$CTL --json reload --wait > "$T/j.out" 2> "$T/j.err"
like "$?:$(cat "$T/j.err"):$(cat "$T/j.out")" '^0::\{"ok":true,"reload":[0-9]+,"generation":9,' \
	"--json: segue's answer only, as before"

tty_done
