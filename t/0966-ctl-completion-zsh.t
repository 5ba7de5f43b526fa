#!/bin/sh
# 0966-ctl-completion-zsh.t: seguectl's zsh completion, typed into a real
# interactive zsh (in tmux) with compinit and the file on its fpath, as a
# user has it: commands, program names asked from segue, signal names,
# options of a command.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
command -v zsh >/dev/null 2>&1 || skip_all "zsh is not installed"
. "$top_srcdir/t/tty.sh"
plan 5

start_segue -l 127.0.0.1:0 -s "$CONTROL" -n 1 --ready-delay 10ms -- sleep 300 ||
	bail "segue did not start"
wait_event event=worker_ready || bail "no ready worker"

# a zsh of its own: _seguectl on its fpath, compinit, a plain prompt
mkdir -p "$T/zfunc" "$T/zdot"
cp "$top_srcdir/etc/completion/_seguectl" "$T/zfunc/"
cat > "$T/zdot/.zshrc" <<ZSH
fpath=("$T/zfunc" \$fpath)
autoload -Uz compinit && compinit -u -d "$T/zcompdump"
PATH="$top_builddir/src:\$PATH"
PS1='zsh> '
ZSH
pane_start z "ZDOTDIR=$T/zdot zsh -i"
wait_pane z '^zsh> ?$' || bail "zsh did not start"

# typed LINE: what the command line shows after typing LINE and a Tab
# (the line is cleared before and after).
typed() {
	pane_key z C-u
	tm send-keys -t z -l "$1"
	pane_key z Tab
}

typed "seguectl sc"
wait_pane z '^zsh> seguectl scale ?$'
ok $? "seguectl sc<TAB>: scale"
typed "seguectl -s $CONTROL scale "
wait_pane z "scale app ?\$"
ok $? "seguectl scale <TAB>: the program name, from segue"
typed "seguectl -s $CONTROL signal app US"
wait_pane z 'signal app USR$' && pane_key z Tab && wait_pane z 'USR1 +USR2'
ok $? "seguectl signal app US<TAB>: USR, and a second Tab lists USR1 and USR2"
pane_key z C-c
typed "seguectl events --pro"
wait_pane z 'events --program ?$'
ok $? "seguectl events --pro<TAB>: --program"
pane_key z C-c
typed "seguectl -s $CONTROL events --program "
wait_pane z 'events --program app ?$'
ok $? "events --program <TAB>: the program name"
tty_done
stop_segue
