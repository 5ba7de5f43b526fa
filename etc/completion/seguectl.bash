# seguectl.bash: bash completion for seguectl: commands, options, the
# program names segue runs (asked from it) and signal names.
# Installed as bash-completion/completions/seguectl.
# SPDX-License-Identifier: MIT

# _seguectl_ask WHAT: the words `seguectl --complete WHAT` lists, asking
# the socket the command line names.
_seguectl_ask() {
	"${_seguectl_cmd:-seguectl}" "${_seguectl_sock[@]}" --complete "$1" 2>/dev/null
}

_seguectl() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local i w cmd= nargs=0 _seguectl_cmd=${COMP_WORDS[0]}
	local -a _seguectl_sock=()

	# What is before the cursor: the socket, the command, its arguments.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		-s | --socket | --control)
			_seguectl_sock=(-s "${COMP_WORDS[i + 1]}")
			((i++))
			;;
		--timeout | --interval | --program | --event) ((i++)) ;;
		-*) ;;
		*) if [[ -z $cmd ]]; then cmd=$w; else ((nargs++)); fi ;;
		esac
	done

	case $prev in
	-s | --socket | --control)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--timeout | --interval) return ;;
	--program)
		COMPREPLY=($(compgen -W "$(_seguectl_ask programs)" -- "$cur"))
		return
		;;
	--event)
		COMPREPLY=($(compgen -W "worker_ reload_ canary_ watch_ drain_ upgrade_
			auto_rollback config_rejected crash_loop scaled stopping stopped" -- "$cur"))
		return
		;;
	esac

	if [[ $cur == -* ]]; then
		if [[ -z $cmd ]]; then
			COMPREPLY=($(compgen -W "-s --socket --json -q --quiet -h --help -V --version" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_seguectl_ask "options=$cmd")" -- "$cur"))
		fi
		return
	fi
	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W "$(_seguectl_ask commands)" -- "$cur"))
	elif [[ ($cmd == scale || $cmd == signal) && $nargs -eq 0 ]]; then
		COMPREPLY=($(compgen -W "$(_seguectl_ask programs)" -- "$cur"))
	elif [[ $cmd == signal && $nargs -eq 1 ]]; then
		COMPREPLY=($(compgen -W "$(_seguectl_ask signals)" -- "$cur"))
	fi
}
complete -F _seguectl seguectl
