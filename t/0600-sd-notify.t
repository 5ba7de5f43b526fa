#!/bin/sh
# 0600-sd-notify.t: what segue tells systemd (READY, RELOADING, STATUS,
# STOPPING, WATCHDOG) under a fake systemd, and that systemd's NOTIFY_SOCKET
# never reaches a worker.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 26

# segue runs under fakesystemd (start_fakesystemd, stop_fakesystemd):
# SEGUE_PID is its child, FAKE_PID fakesystemd, $SD its state.
# The datagrams in notify.log ("T_MS PID A=1|B=2"), fakesystemd's own lines left out.
sd_msgs() { grep -Ev '^[0-9]+ [0-9]+ # ' "$SD/notify.log"; }
# sd_since MARK: datagrams after line MARK of notify.log, WATCHDOG=1 left out.
sd_since() { tail -n +"$(($1 + 1))" "$SD/notify.log" | grep -Ev '^[0-9]+ [0-9]+ (# |WATCHDOG=1$)'; }
# FIELD as a whole field of a datagram line (stdin)
with_field() { grep -E "^[0-9]+ [0-9]+ (.*\\|)?$1(\\||\$)"; }
sd_count() { sd_msgs | with_field "$1" | wc -l; }
sd_notified() { [ "$(sd_count "$1")" -ge "${2:-1}" ]; }
sd_since_has() { sd_since "$1" | with_field "$2" | grep -q .; }
marks() { wc -l < "$SD/notify.log"; }
ts_of() { cut -d' ' -f1; }
not() { ! "$@"; }
within() { [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }

# check_reload MARK WHAT: RELOADING=1 with MONOTONIC_USEC first, then a
# READY=1 carrying STATUS= (3 tests).
check_reload() {
	wait_for 10 sd_since_has "$1" 'READY=1'
	first=$(sd_since "$1" | head -n 1)
	diag "$2 starts with: $first"
	check "$2: RELOADING=1 with MONOTONIC_USEC= comes first" -- eval \
		'printf "%s\n" "$first" | with_field RELOADING=1 | with_field "MONOTONIC_USEC=[0-9]+" | grep -q .'
	mono=$(printf '%s\n' "$first" | sed -n 's/.*MONOTONIC_USEC=\([0-9]*\).*/\1/p')
	lag=$(( $(printf '%s\n' "$first" | ts_of) - ${mono:-0} / 1000 ))
	check "$2: MONOTONIC_USEC is CLOCK_MONOTONIC in µs (received ${lag} ms after it)" -- \
		within "$lag" 0 1000
	ready=$(sd_since "$1" | tail -n +2 | with_field 'READY=1' | head -n 1)
	diag "$2 ends with: $ready"
	like "$ready" '\|STATUS=[^|]+' "$2: then READY=1, with a STATUS= summary"
}

# --- quick mode, watchdog on ------------------------------------------------
port=$(free_port)
export WATCHDOG_USEC=200000
start_fakesystemd "$T/sd1" -- "$SEGUE" -l "web=127.0.0.1:$port" -s "$T/c1.sock" -- "$DEMO"
ok $? "segue starts under fakesystemd (NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID set)"
unset WATCHDOG_USEC

wait_for 10 sd_notified 'READY=1'
ok $? "READY=1 is sent"
check "the first generation was ready by then" -- has_event event=worker_ready
start_ms=$(grep ' # start 1:' "$SD/notify.log" | ts_of)
ready_line=$(sd_msgs | with_field 'READY=1' | head -n 1)
gap=$(( $(printf '%s\n' "$ready_line" | ts_of) - start_ms ))
check "READY=1 waits for ready-delay (1 s): sent after $gap ms" -- test "$gap" -ge 900
like "$ready_line" '\|STATUS=[^|]+' "READY=1 carries a STATUS= summary"
is "$(sd_msgs | cut -d' ' -f2 | sort -u | tr '\n' ' ')" "$SEGUE_PID " \
	"every datagram comes from segue's main pid (NotifyAccess=main)"

curl -s "http://127.0.0.1:$port/env" > "$T/env"
like "$(grep '^NOTIFY_SOCKET=' "$T/env")" "^NOTIFY_SOCKET=/.*\.sock\.notify/[0-9]+$" \
	"the worker's NOTIFY_SOCKET is segue's own"
check "systemd's NOTIFY_SOCKET does not reach the worker" -- \
	not grep -qF "$SD/notify.sock" "$T/env"
check "WATCHDOG_USEC and WATCHDOG_PID do not reach the worker" -- \
	not grep -Eq '^WATCHDOG_(USEC|PID)=' "$T/env"

# the watchdog: every WATCHDOG_USEC/2 = 100 ms, judged by the log's clock
wait_for 5 sd_notified 'WATCHDOG=1' 11
ok $? "WATCHDOG=1 keeps coming (11 seen)"
gaps=$(sd_msgs | grep -E '^[0-9]+ [0-9]+ WATCHDOG=1$' | head -n 11 | ts_of |
	awk 'NR > 1 { d = $1 - prev; s += d; if (d > max) max = d } { prev = $1 }
	     END { printf "%d %d", s / (NR - 1), max }')
diag "WATCHDOG=1 spacing (mean max, ms): $gaps"
mean=${gaps% *} max=${gaps#* }
check "WATCHDOG=1 every ~100 ms: 8 to 12 a second (mean gap $mean ms)" -- within "$mean" 83 125
# Not "< WATCHDOG_USEC": on a loaded test machine a 100 ms timer can be late
# (libev then fires at once to catch up); a lost or one-shot timer cannot.
check "no long silence between two WATCHDOG=1 (longest $max ms)" -- test "$max" -lt 400

mark=$(marks)
kill -HUP "$SEGUE_PID"
wait_event event=reload_succeeded
ok $? "a good reload succeeds"
check_reload "$mark" "good reload"

stop_fakesystemd "$SEGUE_PID"
is "$SD_STATUS" 0 "TERM stops segue with status 0"
check "STOPPING=1 is sent at stop" -- sd_notified 'STOPPING=1'

# --- config file, a failed reload, watchdog off -------------------------------
port=$(free_port)
mode_app "$T/app.sh" "$DEMO"
CONTROL=$T/c2.sock
app_conf "$T/segue.conf" "$port" "$T/app.sh" 'ready = "delay"' 'ready-delay = "1s"' \
	'drain-timeout = "5s"'
start_fakesystemd "$T/sd2" -- "$SEGUE" -c "$T/segue.conf"
wait_for 10 sd_notified 'READY=1'
ok $? "config mode: READY=1 once the first generation is ready"
echo bad > "$T/mode"
mark=$(marks)
kill -HUP "$SEGUE_PID"
wait_event event=reload_failed
ok $? "a reload whose workers exit 1 fails"
check_reload "$mark" "failed reload"
stop_fakesystemd
is "$SD_STATUS" 0 "TERM through fakesystemd stops segue with status 0"
span=$(( $(tail -n 1 "$SD/notify.log" | ts_of) - $(head -n 1 "$SD/notify.log" | ts_of) ))
is "$(sd_count 'WATCHDOG=1')" 0 "without WATCHDOG_USEC no WATCHDOG=1 is sent (over $span ms)"

# --- WATCHDOG_PID naming another process -----------------------------------
port=$(free_port)
export WATCHDOG_USEC=200000
start_fakesystemd "$T/sd3" -- env WATCHDOG_PID=1 "$SEGUE" -l "127.0.0.1:$port" -s "$T/c3.sock" -- "$DEMO"
unset WATCHDOG_USEC
wait_for 10 sd_notified 'READY=1'
is "$(sd_count 'WATCHDOG=1')" 0 "WATCHDOG_PID naming another process: no WATCHDOG=1 (over 1 s)"
stop_fakesystemd "$SEGUE_PID"
