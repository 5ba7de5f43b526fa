#!/bin/sh
# 0850-upgrade-leaks.t: 50 upgrades in place (through a symlink, resolved at
# each upgrade) leak no descriptor in segue, and a worker started afterwards
# inherits exactly fds 0, 1, 2 and its socket, as one started before.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/upgrade.sh"
UPGRADES=${SEGUE_TEST_LEAK_UPGRADES:-50}
plan 14

# fd_kinds PID: PID's descriptors as "NUMBER KIND" lines, the kind without
# inode numbers (socket, pipe, anon_inode:[eventfd], a path).
fd_kinds() {
	local f
	for f in /proc/"$1"/fd/*; do
		echo "${f##*/} $(readlink "$f")"
	done | sed -E 's/:\[[0-9]+\]$//' | sort -n
}

# probe_fds PID: the fds probe PID reported, "NUMBER KIND" a line.
probe_fds() {
	sed -n 's/^fd=//p' "$T/probe/probe.$1" | sed -E 's/:\[[0-9]+\]$//'
}

mkdir -p "$T/probe"
use_upgradable_segue
link_image "$IMG_OLD"
SEGUE=$BIN/segue
port=$(free_port)
app_conf "$T/segue.conf" "$port" "$PROBE $T/probe" 'workers = 2' 'ready = "notify"' \
	'env = { "PROBE_NOTIFY=1" }' 'stdout = "capture"'
start_segue -c "$T/segue.conf" || bail "segue did not start"
wait_event -n 2 event=worker_ready || bail "the workers did not become ready"
pids0=$(worker_pids)
first=${pids0%% *}
wait_for 5 test -s "$T/probe/probe.$first"
# segue inherits whatever the shell running this test holds open (make's
# jobserver, the test driver's pipes): the first adoption closes those, as
# every inherited fd the state does not name, so they are not counted.
fd_kinds $$ | awk '$1 > 2' > "$T/shell.fds"
fd_kinds "$SEGUE_PID" > "$T/segue0.fds"
kinds0=$(grep -vxF -f "$T/shell.fds" "$T/segue0.fds")
fds0=$(printf '%s\n' "$kinds0" | wc -l)
inherited=$(grep -xF -f "$T/shell.fds" "$T/segue0.fds" | _words)
diag "segue's descriptors: $(wc -l < "$T/segue0.fds"), of which inherited from this shell: ${inherited:-none}"
wfds0=$(for p in $pids0; do fd_count "$p"; done | _words)

bad_reset
cur=$V_OLD
mark=$(log_lines)
i=0
while [ $i -lt "$UPGRADES" ]; do
	img=$IMG_NEXT want=$V_NEXT
	[ "$cur" = "$V_NEXT" ] && img=$IMG_OLD want=$V_OLD
	link_image "$img"
	ctl upgrade --wait
	[ "$RC" = 0 ] || bad "$cur->$want: exit $RC: $OUT $ERR"
	cur=$want
	i=$((i + 1))
done
is "$(bad_report)" "" "$UPGRADES upgrades through a symlink succeeded"
is "$(events_since "$mark" event=upgrade_succeeded)" "$UPGRADES" "$UPGRADES upgrade_succeeded"
is "$(events_since "$mark" event=upgrade_started "binary=$(readlink -f "$IMG_NEXT")")" \
	$((UPGRADES / 2)) "upgrade_started names the symlink's target, resolved at each upgrade"
is "$(segue_version)" "$cur" "segue runs the last image ($cur)"

fds1=$(fd_count "$SEGUE_PID")
kinds1=$(fd_kinds "$SEGUE_PID")
# libev's own descriptors (epoll, eventfd) are made again by each image, at
# the lowest free numbers: compare what is open, not where
kinds0=$(printf '%s\n' "$kinds0" | cut -d' ' -f2- | sort)
kinds1=$(printf '%s\n' "$kinds1" | cut -d' ' -f2- | sort)
is "$fds1" "$fds0" "segue's descriptor count is unchanged after $UPGRADES upgrades (those it inherited left out)"
is "$kinds1" "$kinds0" "and they are the same kinds of descriptor" ||
	diag "$(printf '%s\n' "$kinds0" > "$T/k0"; printf '%s\n' "$kinds1" > "$T/k1";
		diff "$T/k0" "$T/k1" | sed 's/^/  /')"
is "$(worker_pids)" "$pids0" "the same workers"
is "$(for p in $pids0; do fd_count "$p"; done | _words)" "$wfds0" "their descriptors are untouched"

# a worker started after the upgrades
mark=$(log_lines)
ctl scale app 3
wait_event -s "$mark" event=worker_ready
ok $? "a third worker starts after the upgrades"
new=$(event_field pid event=worker_ready)
wait_for 5 test -s "$T/probe/probe.$new"
ok $? "it reported what it inherited"
is "$(probe_fds "$new" | cut -d' ' -f1 | _words)" "0 1 2 3" "it has exactly fds 0, 1, 2 and 3"
check "fd 3 is the listening socket" -- \
	grep -q "^fd=3 socket:\\[$(listen_inode "$port")\\]$" "$T/probe/probe.$new"
is "$(probe_fds "$new")" "$(probe_fds "$first")" "the same kinds as a worker started before the upgrades"
is "$(zombies_of "$SEGUE_PID")" 0 "no zombie"
stop_segue
