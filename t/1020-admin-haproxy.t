#!/bin/sh
# 1020-admin-haproxy.t: a real HAProxy balances onto segue's socket and
# checks `option httpchk GET /ready` against the admin port: its traffic
# sees zero failed requests across reloads; the backend goes DOWN while the
# program crash-loops and UP again once it recovers.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
# `sh setup test` installs Debian's haproxy: CI never skips this test.
command -v haproxy >/dev/null 2>&1 || bail "haproxy is not installed (sh setup test)"
plan 13

port=$(free_port)
admin=$(free_port)
front=$(free_port)
mode_app "$T/app" "$DEMO"
app_conf "$T/segue.conf" "$port" "$T/app" 'workers = 2' 'ready = "notify"' \
	'restart-delay = "100ms"' 'restart-max-delay = "300ms"' 'drain-timeout = "10s"'
printf 'admin-listen = "127.0.0.1:%s"\n' "$admin" >> "$T/segue.conf"
start_segue -c "$T/segue.conf"
wait_event -n 2 event=worker_ready

cat > "$T/haproxy.cfg" <<EOF
global
    stats socket $T/haproxy.sock mode 600 level admin
    maxconn 2000
defaults
    mode http
    timeout connect 2s
    timeout client 20s
    timeout server 20s
    retries 3
    option http-server-close
frontend fe
    bind 127.0.0.1:$front
    default_backend app
backend app
    option httpchk GET /ready
    server segue 127.0.0.1:$port check port $admin inter 200ms fall 2 rise 2
EOF
diag "$(haproxy -v 2>&1 | head -n 1)"
haproxy -c -f "$T/haproxy.cfg" > "$T/haproxy.check" 2>&1
ok $? "haproxy accepts the config" || sed 's/^/# /' "$T/haproxy.check"
haproxy -f "$T/haproxy.cfg" -db > "$T/haproxy.log" 2>&1 &
HAPROXY_PID=$!
register_pid "$HAPROXY_PID"

# server_status: the backend server's status in haproxy's `show stat`
server_status() {
	echo "show stat" | "$RAW" -t 2 "$T/haproxy.sock" 2>/dev/null |
		awk -F, '$1 == "app" && $2 == "segue" { print $18 }'
}
is_status() { [ "$(server_status)" = "$1" ]; }

wait_for 10 is_status UP
ok $? "HAProxy marks the backend UP: /ready answers 200"
diag "show stat: app/segue $(server_status)"

start_load "$front" 8
reload_times 10
ok $? "ten reloads under HAProxy's traffic"
stop_load "through HAProxy"
like "$LOAD_RESULT" ' errors=0 ' "zero failed requests through HAProxy across reloads"
like "$LOAD_RESULT" ' connect_errors=0 ' "and no refused connection"
like "$LOAD_RESULT" 'generations=.*11( |$)' "the new generations served"
# econ, eresp, wretr, wredis: HAProxy's own count of failed connections,
# failed responses, retries and redispatches to segue's socket
is "$(echo "show stat" | "$RAW" -t 2 "$T/haproxy.sock" 2>/dev/null |
	awk -F, '$1 == "app" && $2 == "segue" { print $14 + $15 + $16 + $17 }')" 0 \
	"HAProxy had no connection error, response error or retry to hide"
is "$(server_status)" UP "the backend stayed UP through the reloads"
is "$(grep -c 'is DOWN' "$T/haproxy.log")" 0 "HAProxy never saw it DOWN"

# a crash loop: the program's workers exit at once
echo bad > "$T/mode"
mark=$(log_lines)
for pid in $(event_fields pid event=worker_spawned); do
	kill -TERM "$pid" 2>/dev/null
done
wait_event -s "$mark" -t 20 event=crash_loop
ok $? "the program crash-loops"
wait_for 10 is_status DOWN
ok $? "HAProxy marks the backend DOWN (/ready: $(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$admin/ready"))"
diag "show stat: app/segue $(server_status)"

echo good > "$T/mode"
wait_event -s "$mark" -n 2 -t 20 event=worker_ready
ok $? "the program recovers"
wait_for 10 is_status UP
ok $? "HAProxy marks the backend UP again"
diag "show stat: app/segue $(server_status)"

kill -TERM "$HAPROXY_PID"
wait_for 10 gone "$HAPROXY_PID"
stop_segue
