#!/bin/sh
# 0965-ctl-completion.t: seguectl's bash completion, driven as bash drives
# it (complete -p names the function, COMP_WORDS/COMP_CWORD go in,
# COMPREPLY comes out): commands, options, program names asked from segue,
# signal names; loaded by bash-completion from its completions directory;
# and the "common tasks" of --help and seguectl(1).
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 12

command -v bash >/dev/null 2>&1 || skip_all "no bash"
COMPLETION=$top_srcdir/etc/completion/seguectl.bash

start_segue -l 127.0.0.1:0 -s "$CONTROL" -n 1 --ready-delay 10ms -- sleep 300 ||
	bail "segue did not start"
wait_event event=worker_ready || bail "no ready worker"

# complete WORD...: what bash offers for the last WORD of `seguectl WORD...`
# (the socket of this test, given with -s, first).
complete() {
	PATH=$top_builddir/src:$PATH bash -c '
		. "$1"; shift
		f=$(complete -p seguectl | sed -n "s/.* -F \([^ ]*\) .*/\1/p")
		COMP_WORDS=(seguectl "$@"); COMP_CWORD=$(($# ))
		COMPREPLY=()
		"$f" seguectl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' sh "$COMPLETION" "$@"
}

is "$(PATH=$top_builddir/src:$PATH bash -c '. "$1"; complete -p seguectl' sh "$COMPLETION")" \
	"complete -F _seguectl seguectl" "complete -p: a function completes seguectl"
is "$(complete sc)" "scale " "seguectl sc<TAB>: scale"
is "$(complete -s "$CONTROL" scale '')" "app " "seguectl scale <TAB>: the program names, from segue"
is "$(complete -s "$CONTROL" signal app US)" "USR1 USR2 " "seguectl signal app US<TAB>: signal names"
is "$(complete r)" "reload rollback " "seguectl r<TAB>: reload, rollback"
is "$(complete status --w)" "--watch " "status --w<TAB>: --watch"
is "$(complete events --)" "--event --help --json --program --quiet --timeout " "events --<TAB>: its options"
is "$(complete -s "$CONTROL" events --program '')" "app " "events --program <TAB>: the program names"

# bash-completion finds it by the command's name in its completions directory.
loader=/usr/share/bash-completion/bash_completion
if [ -r "$loader" ] && [ -r "$top_builddir/etc/completion/seguectl" ]; then
	mkdir -p "$T/bc/completions"
	cp "$top_builddir/etc/completion/seguectl" "$T/bc/completions/seguectl"
	is "$(BASH_COMPLETION_USER_DIR=$T/bc bash -c '. "$1"; __load_completion seguectl; complete -p seguectl' sh "$loader")" \
		"complete -F _seguectl seguectl" "bash-completion loads it from completions/seguectl"
else
	ok 0 "# SKIP no bash-completion, or the completion file is not built"
fi

# --help and the manual: a short block of common tasks.
"$SEGUECTL" --help > "$T/help.out"
like "$(sed -n '/^Common tasks:/,/^$/p' "$T/help.out")" '^  deploy +seguectl reload --wait' \
	"--help: common tasks, deploy first"
is "$(sed -n '/^Common tasks:/,/^$/p' "$T/help.out" | grep -c '^  [a-z]')" 5 \
	"deploy, roll back, check health, follow events, upgrade segue"
like "$(sed -n '/^\.SH COMMON TASKS/,/^\.SH /p' "$top_srcdir/doc/seguectl.1")" 'reload \\-\\-wait' \
	"seguectl(1) has them too"
