# tty.sh: helpers of the terminal tests (sourced after lib.sh): commands
# run in the panes of a private tmux server, and waits for what a pane
# shows, with a deadline.
# SPDX-License-Identifier: MIT

command -v tmux >/dev/null 2>&1 || skip_all "tmux is not installed"
unset TMUX
TMUX_SOCKET=$T/tmux.sock

# tm ARGS...: tmux on this test's own server.
tm() { tmux -S "$TMUX_SOCKET" -f /dev/null "$@"; }

# pane_start NAME COMMAND: runs the shell line COMMAND in a new 120x40
# session NAME, its first command with TERM=xterm-256color and NO_COLOR
# unset (VAR=VALUE words before it change them); when it ends the pane
# shows rc=STATUS and stays (a Ctrl-C typed into it ends COMMAND only).
pane_start() {
	local first=
	[ -S "$TMUX_SOCKET" ] || first=1
	tm new-session -d -s "$1" -x 120 -y 40 \
		"trap : INT; env -u NO_COLOR TERM=xterm-256color $2; echo rc=\$?; exec sleep 600"
	[ -z "$first" ] || register_pid "$(tm display-message -p -t "$1" '#{pid}')"
}

# pane_text NAME: what the pane shows now, without trailing blank lines.
pane_text() { tm capture-pane -p -t "$1" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'; }

# pane_escapes NAME: the same, with the escape sequences of its attributes.
pane_escapes() { tm capture-pane -e -p -t "$1"; }

# pane_has NAME REGEX: a line of the pane matches REGEX (grep -E).
pane_has() { pane_text "$1" | grep -Eq -- "$2"; }

# wait_pane NAME REGEX [SECONDS]: waits (10 s) until a line of the pane
# matches REGEX; says what the pane showed when it never did.
wait_pane() {
	wait_for "${3:-10}" pane_has "$1" "$2" && return 0
	diag "pane $1 never showed /$2/; it shows:"
	pane_text "$1" | sed 's/^/#   /'
	return 1
}

# pane_key NAME KEY: types KEY (tmux's names: C-c, Enter) into the pane.
pane_key() { tm send-keys -t "$1" "$2"; }

# tty_done: stops the tmux server and what runs in it.
tty_done() { tm kill-server 2>/dev/null; }

# ESC: the escape byte, for grep.
ESC=$(printf '\033')
