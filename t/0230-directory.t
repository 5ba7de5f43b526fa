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
	-s "$T/control.sock" -- ./run
wait_log 'event=worker_ready'
first=$(log_field worker_spawned pid)
wait_for 5 test -f "$T/cwd.$first"
is "$(cat "$T/cwd.$first")" "$T/releases/one" "the first worker runs in the release the symlink names"

ln -sfn releases/two "$T/current.new" && mv -T "$T/current.new" "$T/current"
kill -KILL "$first"
wait_log 'event=worker_spawned' 2
second=$(log_field worker_spawned pid)
wait_for 5 test -f "$T/cwd.$second"
is "$(cat "$T/cwd.$second")" "$T/releases/two" "the respawned worker follows the moved symlink"
like "$(grep 'event=worker_spawned' "$T/segue.log" | tail -n 1)" "releases/two" "worker_spawned logs the resolved directory"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops"
