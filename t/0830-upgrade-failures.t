#!/bin/sh
# 0830-upgrade-failures.t: an upgrade that cannot happen leaves the old
# image serving, the same pid and the workers untouched: a missing binary,
# one not executable, /bin/false, one failing --upgrade-check, one saying
# something else than its version, and a new image whose adoption fails
# (it falls back to the previous image, kept as an fd, even when that file
# was deleted after start).
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/upgrade.sh"
plan 48

use_upgradable_segue
port=$(free_port)
app_conf "$T/segue.conf" "$port" "$DEMO" 'workers = 2' 'ready = "notify"'

# start: a fresh segue from $BIN/segue (the old image).
start() {
	install_image "$IMG_OLD"
	start_segue -c "$T/segue.conf" || bail "segue did not start"
	wait_event -n 2 event=worker_ready || bail "the workers did not become ready"
	pids0=$(worker_pids)
}

# ppid PID: the parent of PID.
ppid() { set -- $(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null); echo "${2:-}"; }

# untouched LABEL VERSION: segue runs VERSION with the same pid and the same
# workers (its children still), none spawned or exited since $mark, and
# requests are served.
untouched() {
	local label=$1 want=$2 v p
	bad_reset
	segue_alive || bad "segue is gone"
	p=$(status_field pid)
	[ "$p" = "$SEGUE_PID" ] || bad "status pid '$p'"
	v=$(segue_version)
	[ "$v" = "$want" ] || bad "version '$v'"
	p=$(worker_pids)
	[ "$p" = "$pids0" ] || bad "workers '$p', were '$pids0'"
	for p in $pids0; do
		[ "$(ppid "$p")" = "$SEGUE_PID" ] || bad "worker $p is not segue's child"
	done
	p=$(events_since "$mark" event~^worker_)
	[ "$p" = 0 ] || bad "$p worker events"
	serves "$port" || bad "requests fail"
	p=$(zombie_count "$SEGUE_PID")
	[ "$p" = 0 ] || bad "$p zombies"
	is "$(bad_report)" "" "$label: $want still serving, same pid, workers untouched"
}

# fails LABEL REASON-REGEX [VERSION]: `seguectl upgrade --wait` fails with a
# reason matching REGEX, in the answer and in upgrade_failed, and nothing
# changed (VERSION, default $V_OLD, still runs).
fails() {
	local label=$1 reason=$2 want=${3:-$V_OLD}
	mark=$(log_lines)
	ctl upgrade --wait
	is "$RC" 1 "$label: seguectl upgrade exits 1"
	like "$OUT $ERR" "upgrade failed: .*($reason)" "$label: it says why"
	wait_event -s "$mark" -t 10 event=upgrade_failed "reason~$reason"
	ok $? "$label: upgrade_failed names the reason"
	diag "reason: $("$EVENTS" -s "$mark" -f reason "$SEGUE_LOG" event=upgrade_failed)"
	is "$(events_since "$mark" event=upgrade_succeeded)" 0 "$label: no upgrade_succeeded"
	untouched "$label" "$want"
}

start

rm -f "$BIN/segue"
fails "missing binary" "$BIN/segue"

install_image "$IMG_NEXT"
chmod -x "$BIN/segue"
fails "binary not executable" "$BIN/segue"

link_image /bin/false
fails "/bin/false" "."

printf '#!/bin/sh\n[ "$1" = --upgrade-check ] && exit 1\nexec "%s" "$@"\n' "$IMG_NEXT" \
	> "$T/check-fails"
install_image "$T/check-fails"
fails "--upgrade-check exits 1" "."

printf '#!/bin/sh\n[ "$1" = --upgrade-check ] && { echo hello; exit 0; }\nexec "%s" "$@"\n' \
	"$IMG_NEXT" > "$T/not-segue"
install_image "$T/not-segue"
fails "--upgrade-check says no version" "."

install_image "$IMG_BROKEN"
fails "adoption fails" "test build"
is "$(events_since "$mark" event=upgrade_started)" 1 "adoption fails: the upgrade had started"

# a good upgrade still works after all that
install_image "$IMG_NEXT"
ctl upgrade --wait
is "$RC" 0 "after the failures, an upgrade to $V_NEXT succeeds"
stop_segue

# --- the binary deleted after start: the fallback goes through the kept fd ---
start
rm -f "$BIN/segue"
like "$(readlink "/proc/$SEGUE_PID/exe")" '\(deleted\)$' "deleted: segue's binary is gone"
install_image "$IMG_BROKEN"
fails "deleted, adoption fails" "test build"

# and the image that falls back is the one that ran, not the first one
install_image "$IMG_NEXT"
ctl upgrade --wait
is "$RC" 0 "deleted: then an upgrade to $V_NEXT succeeds"
rm -f "$BIN/segue"
install_image "$IMG_BROKEN"
fails "deleted again, adoption fails" "test build" "$V_NEXT"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"

# Version skew: the preflight question a newer segue would ask
out=$("$top_builddir/src/segue" --upgrade-check 1 2>&1)
is "$?/$(echo "$out" | head -n 1)" "0/segue 0.1.0" "--upgrade-check 1: segue says what it is and exits 0"
out=$("$top_builddir/src/segue" --upgrade-check 2 2>&1)
is "$?" 1 "--upgrade-check 2 (a newer state format): refused"
like "$out" "reads state formats 1 to 1, not 2" "saying which formats it reads"
