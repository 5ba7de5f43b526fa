#!/bin/sh
# 0955-ctl-watch.t: seguectl status --watch in a real terminal (tmux): the
# table redrawn in place across a reload, asked for only after an event,
# so segue sleeps while nothing happens; it ends with status 0 on Ctrl-C
# and when segue stops.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/tty.sh"
plan 13

# wakeups PID: how often PID has gone to sleep and been woken.
wakeups() { sed -n 's/^voluntary_ctxt_switches:[[:space:]]*//p' "/proc/$1/status"; }

start_segue -l 127.0.0.1:0 -s "$CONTROL" -n 2 --ready notify -- "$DEMO" --startup-delay 2000 ||
	bail "segue did not start"
wait_event -n 2 -t 20 event=worker_ready || bail "no ready workers"
CTL="$SEGUECTL -s $CONTROL"

pane_start watch "$CTL status --watch"
wait_pane watch 'generation 1, reloading no$'
ok $? "status --watch shows the table"

# Nothing happens: segue is not woken (a client that asked every second
# would wake it three times). A measured interval, not a wait.
before=$(wakeups "$SEGUE_PID")
sleep 3
is "$(wakeups "$SEGUE_PID")" "$before" "while nothing happens segue sleeps: no request from the watch"

$CTL reload > /dev/null
wait_pane watch 'generation 1, reloading yes$'
ok $? "a reload: the table shows it running"
wait_pane watch '^  [0-9]+ +[01] +2 +starting '
ok $? "with the new generation's starting workers"
wait_pane watch 'generation 2, reloading no$'
ok $? "then generation 2 serving"
wait_pane watch '^  [0-9]+ +[01] +2 +ready '
ok $? "with its ready workers"
text=$(pane_text watch)
is "$(printf '%s\n' "$text" | grep -c '^segue ')" 1 "redrawn in place: one table on the screen"
ok "$(printf '%s\n' "$text" | grep -q 'generation 1, reloading' && echo 1 || echo 0)" \
	"the old one is gone"

pane_key watch C-c
wait_pane watch '^(\^C)?rc=0$' # the terminal echoes ^C
ok $? "Ctrl-C ends it with status 0"

# Not a terminal: one table after another, no escape bytes.
$CTL status --watch --interval 100ms > "$T/watch.out" 2>&1 &
plain=$!
register_pid "$plain"
wait_for 10 grep -q '^program app' "$T/watch.out"
ok $? "status --watch into a file writes the table"

pane_start second "$CTL status --watch"
wait_pane second 'generation 2, reloading no$'
stop_segue
wait_pane second '^segue stopped$'
ok $? "when segue stops, the watch says so"
wait_pane second '^rc=0$'
ok $? "and ends with status 0"
wait "$plain"
ok "$([ $? = 0 ] && ! grep -q "$ESC" "$T/watch.out" && echo 0 || echo 1)" \
	"the one writing into a file too, with no escape byte in it"

tty_done
