# pid1.sh: helpers of the tests that run segue as PID 1 of a PID
# namespace, as a container runtime does (t/104*.t), sourced after lib.sh.
# SPDX-License-Identifier: MIT
#
#   pid1_or_skip                 skips the test when unshare is refused
#   start_pid1 [-w WRAP] ARGS... segue ARGS as PID 1 (unshare --pid --fork
#                                --mount-proc); sets UNSHARE_PID and
#                                SEGUE_PID (segue's pid out here)
#   stop_pid1 [SIGNAL]           sends SIGNAL (TERM) to segue, waits (30 s,
#                                then KILL) for its exit; sets PID1_STATUS
#                                and PID1_MS
#   wait_pid1                    the same without a signal
#   ns_pids, ns_zombies          the namespace's processes, its zombies
#   outer_pid INNER              the pid out here of the namespace's INNER
# Inside, segue's events give the namespace's pids; out here the same
# process has another. segue is killed (and with it the namespace) when
# the test exits.

pid1_or_skip() {
	unshare --pid --fork --mount-proc true 2>/dev/null ||
		skip_all "unshare --pid --fork --mount-proc is refused here (needs root)"
}

# start_pid1 [-w WRAPPER] ARGS...: WRAPPER (words) runs unshare, as
# "python3 -c ..." to start it with a chosen signal mask.
start_pid1() {
	local wrap=
	if [ "$1" = -w ]; then
		wrap=$2
		shift 2
	fi
	fresh_log
	$wrap unshare --pid --fork --mount-proc "$SEGUE" --log-format="$LOG_FORMAT" "$@" \
		>>"$SEGUE_LOG" 2>&1 &
	UNSHARE_PID=$!
	register_pid "$UNSHARE_PID"
	SEGUE_PID=
	wait_for 5 _pid1_found || { diag "segue did not start under unshare"; return 1; }
	register_pid "$SEGUE_PID"
	wait_event -t 5 event=started
}

# _pid1_found: unshare's child runs segue; sets SEGUE_PID.
_pid1_found() {
	local pid
	pid=$(pgrep -P "$UNSHARE_PID" | head -n 1)
	[ -n "$pid" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$(readlink -f "$SEGUE")" ] &&
		SEGUE_PID=$pid
}

stop_pid1() {
	local t0
	t0=$(now_ms)
	kill "-${1:-TERM}" "$SEGUE_PID"
	wait_pid1
	PID1_MS=$(( $(now_ms) - t0 ))
}

# wait_pid1: waits (30 s, then KILL: a segue that does not exit fails the
# test, not hangs it) for segue's exit; sets PID1_STATUS.
wait_pid1() {
	wait_for 30 gone "$SEGUE_PID" || kill -KILL "$SEGUE_PID"
	wait "$UNSHARE_PID"
	PID1_STATUS=$? # unshare exits with its child's status
	unregister_pid "$UNSHARE_PID"
	unregister_pid "$SEGUE_PID"
}

# ns_pids: the pids (out here) of every process in segue's namespace.
ns_pids() {
	local ns p
	ns=$(readlink "/proc/$SEGUE_PID/ns/pid") || return 0
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$ns" ] && echo "${p#/proc/}"
	done
}

# ns_zombies: how many processes of the namespace are zombies.
ns_zombies() {
	local p n=0 line
	for p in $(ns_pids); do
		line=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		set -- ${line##*) }
		[ "$1" = Z ] && n=$((n + 1))
	done
	echo $n
}

outer_pid() {
	local p
	for p in $(ns_pids); do
		sed -n 's/^NSpid:[[:space:]]*\([0-9]*\)[[:space:]]*\([0-9]*\)$/\1 \2/p' \
			"/proc/$p/status" 2>/dev/null
	done | awk -v inner="$1" '$2 == inner { print $1 }'
}

# ppid_of PID: the parent of PID, as out here.
ppid_of() {
	local line
	line=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	set -- ${line##*) }
	echo "$2"
}
