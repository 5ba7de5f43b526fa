#!/bin/sh
# 1042-pid1-signals.t: no signal segue acts on is left to its default
# action or to the mask segue inherited: INT drains and exits 0 within
# drain-timeout as PID 1, a TERM blocked by segue's parent still stops it,
# and a TERM that came before segue watched signals waits for it.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/pid1.sh"
pid1_or_skip
command -v python3 >/dev/null || skip_all "python3 is not installed"
plan 8

# INT, as PID 1, with a worker that ignores its drain signal: killed at
# drain-timeout (2 s), and segue exits 0 soon after.
start_pid1 -l 127.0.0.1:0 -s "$CONTROL" --ready-delay 50ms --drain-timeout 2s \
	-- sh -c 'trap "" TERM; sleep 300 & wait'
wait_event event=worker_ready
stop_pid1 INT
is "$PID1_STATUS" 0 "INT: segue as PID 1 exits 0"
ok $([ "$PID1_MS" -ge 1900 ] && [ "$PID1_MS" -lt 4000 ] && echo 0 || echo 1) \
	"once the worker was killed at drain-timeout (2 s): ${PID1_MS} ms"

# A parent that blocked TERM and HUP: segue clears the mask it inherits.
# (unshare restores the mask it was started with in its child.)
cat > "$T/blocked" <<'PY'
#!/usr/bin/env python3
import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGHUP})
os.execvp(sys.argv[1], sys.argv[1:])
PY
chmod +x "$T/blocked"
start_pid1 -w "$T/blocked" -l 127.0.0.1:0 -s "$CONTROL" --ready-delay 50ms -- sleep 300
wait_event event=worker_ready
mark=$(log_lines)
kill -HUP "$SEGUE_PID"
check "HUP reaches segue although its parent blocked it" -- \
	wait_event -s "$mark" event=reload_succeeded
stop_pid1 TERM
is "$PID1_STATUS" 0 "and so does TERM: segue exits 0"
check "after a graceful stop" -- has_event event=stopping

# A TERM pending at exec (sent while blocked): segue starts, then stops
# gracefully once it watches TERM, instead of dying before (or ignoring it).
pending="import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
os.kill(os.getpid(), signal.SIGTERM)
os.execvp(sys.argv[1], sys.argv[1:])"
fresh_log
python3 -c "$pending" "$SEGUE" --log-format="$LOG_FORMAT" -l 127.0.0.1:0 \
	-s "$T/control2.sock" --ready-delay 50ms -- sleep 300 >>"$SEGUE_LOG" 2>&1 &
SEGUE_PID=$!
register_pid "$SEGUE_PID"
wait_for 10 gone "$SEGUE_PID" || kill -KILL "$SEGUE_PID"
wait "$SEGUE_PID"
is "$?" 0 "a TERM sent before segue watched it: segue exits 0"
check "it started" -- has_event event=started
check "and stopped gracefully" -- has_event event=stopping
