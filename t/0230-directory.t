#!/bin/sh
# 0230-directory.t: a `current` symlink is resolved again at each spawn.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 4

mkdir -p "$T/releases/one" "$T/releases/two"
for r in one two; do
	cat > "$T/releases/$r/run" <<'SH'
#!/bin/sh
pwd -P > "$OUT/cwd.$$"
exec sleep 300
SH
	chmod +x "$T/releases/$r/run"
done
ln -s releases/one "$T/current"
port=$(free_port)
export OUT=$T
start_segue -l "127.0.0.1:$port" -d "$T/current" --ready delay --ready-delay 50ms \
	-s "$CONTROL" -- ./run
wait_event event=worker_ready
first=$(event_field pid event=worker_spawned)
wait_for 5 test -f "$T/cwd.$first"
is "$(cat "$T/cwd.$first")" "$T/releases/one" "the first worker runs in the release the symlink names"

deploy two
kill -KILL "$first"
wait_event -n 2 event=worker_spawned
second=$(event_field pid event=worker_spawned)
wait_for 5 test -f "$T/cwd.$second"
is "$(cat "$T/cwd.$second")" "$T/releases/two" "the respawned worker follows the moved symlink"
like "$(event_json event=worker_spawned)" "releases/two" "worker_spawned logs the resolved directory"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops"
