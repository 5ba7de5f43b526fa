# upgrade.sh: helpers of the upgrade-in-place tests (t/08*.t), sourced
# after lib.sh.
# SPDX-License-Identifier: MIT
#
# segue re-executes the path it was started from, resolved at the moment of
# the upgrade. So these tests start a copy, $T/bin/segue, and swap that file
# (or make it a symlink) before each upgrade:
#   use_upgradable_segue           SEGUE becomes $T/bin/segue, a copy of it
#   install_image FILE             atomically replaces $T/bin/segue by FILE
#   link_image TARGET              makes $T/bin/segue a symlink to TARGET
# The images: $IMG_OLD (src/segue), $IMG_NEXT (t/helpers/segue-next) and
# $IMG_BROKEN (t/helpers/segue-broken, whose adoption always fails), with
# their versions $V_OLD, $V_NEXT and $V_BROKEN.

IMG_OLD=$SEGUE
IMG_NEXT=$top_builddir/t/helpers/segue-next
IMG_BROKEN=$top_builddir/t/helpers/segue-broken
BIN=$T/bin

# image_version FILE: the version FILE reports with --version.
image_version() { "$1" --version 2>/dev/null | sed -n 's/^segue //p'; }

V_OLD=$(image_version "$IMG_OLD")
V_NEXT=$(image_version "$IMG_NEXT")
V_BROKEN=$(image_version "$IMG_BROKEN")
[ -n "$V_OLD" ] && [ -n "$V_NEXT" ] && [ -n "$V_BROKEN" ] ||
	bail "the test images do not report versions: run make check to build them"
[ "$V_OLD" != "$V_NEXT" ] || bail "segue-next reports the same version as segue"

use_upgradable_segue() {
	mkdir -p "$BIN" || bail "cannot create $BIN"
	cp "$IMG_OLD" "$BIN/segue" || bail "cannot copy $IMG_OLD"
	SEGUE=$BIN/segue
}

# install_image FILE: a new $BIN/segue, renamed over the old one as a
# package manager does (the old file lives on while segue runs it).
install_image() {
	cp "$1" "$BIN/segue.new" && chmod +x "$BIN/segue.new" && mv -f "$BIN/segue.new" "$BIN/segue"
}

# link_image TARGET: $BIN/segue becomes a symlink to TARGET.
link_image() { ln -sfn "$1" "$BIN/segue.new" && mv -fT "$BIN/segue.new" "$BIN/segue"; }

# upgrade_json [ARGS...]: `seguectl --json upgrade --wait ARGS`; sets RC,
# OUT (the answer, one JSON line) and ERR.
upgrade_json() { ctl --json upgrade --wait "$@"; }

# answer_field FIELD: FIELD of the JSON answer in $OUT.
answer_field() { printf '%s\n' "$OUT" | "$EVENTS" -f "$1" - 2>/dev/null; }

# segue_version: the version segue answers to `version` now.
segue_version() {
	timeout 10 "$SEGUECTL" -s "$CONTROL" --json version 2>/dev/null | "$EVENTS" -f version -
}

# worker_pids: the pids of every worker in status, sorted, on one line.
worker_pids() { worker_field pid | sort -n | _words; }

# serves PORT [N]: N (default 3) requests to 127.0.0.1:PORT all succeed.
serves() {
	local out
	out=$("$LOADGEN" -a "127.0.0.1:$1" -c 1 -n "${2:-3}" -t 5 -q 2>&1)
	printf '%s\n' "$out" | grep -Eq " ok=${2:-3} errors=0 " || {
		diag "serves $1: $out"
		return 1
	}
}

# upgrade_events_ok MARK: since log line MARK, every upgrade_started was
# followed by upgrade_succeeded and nothing failed.
upgrade_events_ok() {
	local started succeeded failed
	started=$("$EVENTS" -c -s "$1" "$SEGUE_LOG" event=upgrade_started)
	succeeded=$("$EVENTS" -c -s "$1" "$SEGUE_LOG" event=upgrade_succeeded)
	failed=$("$EVENTS" -c -s "$1" "$SEGUE_LOG" event=upgrade_failed)
	[ "$started" = "$succeeded" ] && [ "$failed" = 0 ]
}

# events_since MARK FILTER...: how many events after log line MARK match.
events_since() {
	local mark=$1; shift
	"$EVENTS" -c -s "$mark" "$SEGUE_LOG" "$@"
}

# follow_events FILE: `seguectl events` into FILE, in the background
# (EVENTS_PID), once it is seen to carry events (a scale of PROGRAM to N
# pokes segue: follow_events FILE PROGRAM N).
follow_events() {
	"$SEGUECTL" -s "$CONTROL" events > "$1" 2>"$1.err" &
	EVENTS_PID=$!
	register_pid "$EVENTS_PID"
	wait_for 10 sh -c '"$1" -s "$2" scale "$4" "$5" >/dev/null && grep -q "\"event\":" "$3"' \
		sh "$SEGUECTL" "$CONTROL" "$1" "$2" "$3"
}

# abs_diff A B: |A - B|.
abs_diff() { if [ "$1" -ge "$2" ]; then echo $(($1 - $2)); else echo $(($2 - $1)); fi; }

# within MS GOT WANT DESCRIPTION: GOT is within MS of WANT (numbers).
within() {
	local d
	if [ -z "$2" ] || [ -z "$3" ]; then
		ok 1 "$4"
		diag "got: '$2', want: '$3' (a time is missing)"
		return 1
	fi
	d=$(abs_diff "$2" "$3")
	if [ "$d" -le "$1" ]; then
		ok 0 "$4"
		diag "off by $((${2} - ${3})) ms"
	else
		ok 1 "$4"
		diag "got $2, want $3 (+-$1 ms): off by $((${2} - ${3})) ms"
		return 1
	fi
}

# zombie_count PID: how many zombie children PID has, as zombies_of says,
# but from one ps run (zombies_of reads every process with a fork each,
# which takes seconds on a busy machine: too slow inside a loop).
zombie_count() { ps -o stat= --ppid "$1" | grep -c '^Z'; }

# Problems found in a loop, reported by one assertion: bad_reset, then
# bad TEXT for each; bad_report prints the first three (and how many more).
bad_reset() { BAD= NBAD=0; }
bad() {
	NBAD=$((NBAD + 1))
	[ "$NBAD" -le 3 ] && BAD="$BAD $(printf '%s' "$*" | tr '\n' ' ');"
	return 0
}
bad_report() {
	if [ "$NBAD" -gt 3 ]; then echo "$BAD (and $((NBAD - 3)) more)"; else echo "$BAD"; fi
}
bad_reset
