#!/bin/sh
# 0920-steer-fallback.t: where handover = "steer" cannot work, the socket is
# shared as with "shared", and a steer_fallback warning names the socket and
# the reason: a unix socket; a socket systemd passed without SO_REUSEPORT;
# an address held without SO_REUSEPORT (joining its group: EADDRINUSE).
# Reloads still succeed, and lose nothing on the shared socket.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
FAKESD=$top_builddir/t/helpers/fakesystemd
plan 16

# steer_conf FILE LISTEN HANDOVER: the demo app on socket web at LISTEN.
steer_conf() {
	app_conf "$1" "$2" "$DEMO" 'workers = 2' 'ready = "notify"' 'drain-timeout = "5s"'
	sed -i 's/^socket web { listen = "\(.*\)" }$/socket web {\n  listen = "\1"\n  handover = "'"$3"'"\n}/' "$1"
}

# --- with a rolling reload: refused ---------------------------------------
steer_conf "$T/rolling.conf" 8080 steer
sed -i 's/^program app {$/program app {\n  reload = "rolling"/' "$T/rolling.conf"
out=$("$SEGUE" -t -c "$T/rolling.conf" 2>&1)
is "$?" 1 "rolling: the config is refused"
like "$out" 'socket "web" has handover = "steer", which needs reload = "all-at-once"' \
	"rolling: it says why"

# --- a unix socket --------------------------------------------------------
steer_conf "$T/unix.conf" "unix:$T/web.sock" steer
start_segue -c "$T/unix.conf"
wait_event -n 2 event=worker_ready
is "$(event_text '{level} {socket}' event=steer_fallback)" "warn web" \
	"unix: a steer_fallback warning names the socket"
like "$(event_field reason event=steer_fallback)" "unix sockets have no SO_REUSEPORT" \
	"unix: it says why"
kill -HUP "$SEGUE_PID"
wait_event -t 20 "$RELOAD_ENDED"
is "$(event_count event=reload_succeeded)" 1 "unix: the reload succeeds on the shared socket"
is "$(status_json | grep -o '"fd"' | wc -l)" 1 "unix: one socket, shared"
stop_segue

# --- a socket systemd passed without SO_REUSEPORT --------------------------
port=$(free_port)
steer_conf "$T/sd.conf" systemd:web steer
start_fakesystemd --listen "web=127.0.0.1:$port" "$T/sd" -- "$SEGUE" -c "$T/sd.conf"
wait_event -n 2 event=worker_ready
is "$(event_text '{level} {socket}' event=steer_fallback)" "warn web" \
	"systemd: a steer_fallback warning names the socket"
like "$(event_field reason event=steer_fallback)" "ReusePort=yes" \
	"systemd: it says why, and what enables it"
start_load "$port" 8
mark=$(log_lines)
kill -HUP "$SEGUE_PID"
wait_event -s "$mark" -t 20 "$RELOAD_ENDED"
wait_event -s "$mark" -t 20 event=drain_finished
stop_load "systemd, shared"
is "$(event_count event=reload_succeeded)" 1 "systemd: the reload succeeds on the shared socket"
like "$LOAD_RESULT" ' errors=0 ' "systemd: zero failed requests"
stop_fakesystemd

# --- an address held without SO_REUSEPORT: joining fails -------------------
port=$(free_port)
steer_conf "$T/tcp.conf" "$port" shared
start_segue -c "$T/tcp.conf"
wait_event -n 2 event=worker_ready
has_event event=steer_fallback
ok $((! $?)) "shared: no steer_fallback"
start_load "$port" 8
steer_conf "$T/tcp.conf" "$port" steer
mark=$(log_lines)
kill -HUP "$SEGUE_PID"
wait_event -s "$mark" -t 20 "$RELOAD_ENDED"
wait_event -s "$mark" -t 20 event=drain_finished
stop_load "held without SO_REUSEPORT"
is "$(event_text '{level} {socket}' event=steer_fallback)" "warn web" \
	"in use: a steer_fallback warning names the socket"
like "$(event_field reason event=steer_fallback)" "Address already in use" \
	"in use: it says why (EADDRINUSE when joining)"
is "$(event_count event=reload_succeeded)" 1 "in use: the reload succeeds on the shared socket"
like "$LOAD_RESULT" ' errors=0 ' "in use: zero failed requests"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
