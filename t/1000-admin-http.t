#!/bin/sh
# 1000-admin-http.t: the admin HTTP endpoint (admin-listen) with curl and a
# raw client: its routes and answers, HEAD, keep-alive and pipelining, and
# its limits: oversize requests, garbage, idle clients, 65 clients. Nothing
# over HTTP changes state; its listener is segue's, never a worker's.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"

port=$(free_port)
admin=$(free_port)
A=127.0.0.1:$admin

# the key: any ADDR, one or a list; a bad one is named with its line
app_conf "$T/bad.conf" "$port" "$DEMO"
printf 'admin-listen = { "127.0.0.1:1",\n  "nope" }\n' >> "$T/bad.conf"
"$SEGUE" -t -c "$T/bad.conf" > "$T/bad.out" 2>&1
like "$?/$(cat "$T/bad.out")" "^1/$T/bad.conf:8: admin-listen: bad address \"nope\": missing port" \
	"segue -t names a bad admin-listen address and its line"
# an address segue cannot bind stops it at start, saying which
app_conf "$T/busy.conf" "$port" "$DEMO"
printf 'admin-listen = { "%s", "%s" }\n' "$A" "$A" >> "$T/busy.conf"
"$SEGUE" -c "$T/busy.conf" > "$T/busy.out" 2>&1
status=$?
is "$status" 2 "an admin-listen address in use: segue exits 2"
like "$(cat "$T/busy.out")" "admin-listen $A: bind: Address already in use" "saying why"
app_conf "$T/segue.conf" "$port" "$DEMO" 'workers = 2' 'ready = "notify"'
printf 'admin-listen = { "%s", "unix:%s" }\n' "$A" "$T/admin.sock" >> "$T/segue.conf"
start_segue -c "$T/segue.conf"
wait_event -n 2 event=worker_ready

# get PATH [CURL-OPTIONS...]: "STATUS" then the body, from curl
get() {
	local path=$1
	shift
	curl -s -m 5 -o "$T/body" -w '%{http_code}' "$@" "http://$A$path" > "$T/code"
	cat "$T/code"
}

is "$(get /health)" 200 "GET /health: 200 while healthy"
is "$("$EVENTS" -f ok - < "$T/body")" true "with the health answer"
is "$(get /ready)" 200 "GET /ready: 200 with every worker ready"
is "$("$EVENTS" -f generation - < "$T/body")" 1 "naming the serving generation"
is "$(get /status)" 200 "GET /status: 200"
is "$("$EVENTS" -f generation - < "$T/body") $("$EVENTS" -r 'programs[]' -f name - < "$T/body")" \
	"1 app" "with the status answer"
is "$(get /metrics)" 200 "GET /metrics: 200"
type=$(curl -s -m 5 -o /dev/null -w '%{content_type}' "http://$A/metrics")
is "$type" "text/plain; version=0.0.4; charset=utf-8" "with Prometheus' content type"
echo metrics | "$RAW" -t 5 "$CONTROL" | grep -v '^segue_uptime_seconds ' > "$T/ctl-metrics"
grep -v '^segue_uptime_seconds ' "$T/body" > "$T/http-metrics"
check "the same text as seguectl metrics (but the uptime)" -- cmp "$T/ctl-metrics" "$T/http-metrics"
check "which promtool check metrics accepts" -- sh -c 'promtool check metrics < "$1" >/dev/null 2>&1' sh "$T/body"
is "$(get /health --unix-socket "$T/admin.sock")" 200 "a unix: admin address answers too"
is "$(stat -c %a "$T/admin.sock")" 600 "its socket file is mode 0600"

# HEAD: the headers of GET, no body
head=$(curl -s -m 5 -I "http://$A/status")
like "$head" '^HTTP/1.1 200 OK' "HEAD /status: 200"
like "$head" 'Content-Length: [1-9][0-9]*' "with the length of the body it leaves out"
is "$(curl -s -m 5 -I -o /dev/null -w '%{size_download}' "http://$A/status")" 0 "and no body"

is "$(get /nope)" 404 "another path: 404"
is "$(get /health/)" 404 "a path is matched exactly"
is "$(get /status -X POST)" 405 "another method: 405"
allow=$(curl -s -m 5 -D - -o /dev/null -X DELETE "http://$A/ready" | tr -d '\r' | sed -n 's/^Allow: //p')
is "$allow" "GET, HEAD" "with Allow: GET, HEAD"
get /reload -X POST > /dev/null
get /stop > /dev/null
get /scale/app/5 -X PUT > /dev/null
is "$(status_text '{generation} {reloading}')/$(program_counts)" "1 false/app=2/2" \
	"nothing over HTTP changes state"
is "$(event_count 'event~^(reload_started|stopping)$')" 0 "no reload, no stop was started"

# keep-alive: curl reuses one connection for two requests
conns=$(curl -s -m 5 -o /dev/null -o /dev/null -w '%{num_connects} ' "http://$A/ready" "http://$A/health")
is "$conns" "1 0 " "keep-alive: two requests on one connection"

# raw HTTP through rawclient (reads until the server closes, 8 s at most)
raw() { printf "$1" | "$RAW" -t 8 "$A" 2> "$T/raw.err"; }
answers() { grep -c '^HTTP/1\.[01] ' "$T/raw.out"; }

raw 'GET /ready HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\nHEAD /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' > "$T/raw.out"
is "$(answers)" 3 "three pipelined requests: three answers"
is "$(grep '^HTTP' "$T/raw.out" | tr -d '\r' | _words)" \
	"HTTP/1.1 200 OK HTTP/1.1 200 OK HTTP/1.1 200 OK" "in order, all 200"
is "$(cat "$T/raw.err")" "" "and the connection closes after the one that said close"

raw 'GET /ready HTTP/1.0\r\n\r\n' > "$T/raw.out"
like "$(cat "$T/raw.out")" '^HTTP/1.1 200 OK' "an HTTP/1.0 request (HAProxy's check) is answered"
is "$(cat "$T/raw.err")" "" "and closed, 1.0's default"

raw 'GET /ready HTTP/1.1\r\nHost: x\r\n\r\nthis is not HTTP\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n' > "$T/raw.out"
is "$(grep '^HTTP' "$T/raw.out" | tr -d '\r' | _words)" "HTTP/1.1 200 OK HTTP/1.1 400 Bad Request" \
	"garbage after a request: its 400, then nothing more"
is "$(cat "$T/raw.err")" "" "and the connection is closed"

raw '\026\003\001\002\001\001\001\374\003\003\n' > "$T/raw.out"
is "$(grep -c '^HTTP/1.1 400 ' "$T/raw.out")/$(answers)" "1/1" "a TLS hello: one 400"

{
	printf 'GET /health HTTP/1.1\r\nHost: x\r\nX-Big: '
	head -c 9000 /dev/zero | tr '\0' a
	printf '\r\n\r\n'
} | "$RAW" -t 8 "$A" > "$T/raw.out" 2> "$T/raw.err"
is "$(grep '^HTTP' "$T/raw.out" | tr -d '\r')" "HTTP/1.1 431 Request Header Fields Too Large" \
	"a head over 8 KiB: 431"
is "$(cat "$T/raw.err")" "" "and closed"
raw 'POST /status HTTP/1.1\r\nHost: x\r\nContent-Length: 9000\r\n\r\n' > "$T/raw.out"
is "$(grep '^HTTP' "$T/raw.out" | tr -d '\r')" "HTTP/1.1 413 Content Too Large" \
	"a body that takes it over 8 KiB: 413"
# the refused client is still sending: its bytes are read and dropped
# after the answer, not reset under it (curl would lose the answer)
big=$(head -c 60000 /dev/zero | tr '\0' a)
is "$(get "/$big")" 431 "a path of 60 KB through curl: 431"
head -c 200000 /dev/zero > "$T/200k"
is "$(get /status -X POST --data-binary "@$T/200k")" 413 "a body of 200 KB through curl: 413"

# idle clients are closed after 5 s: one that sends nothing, one that
# stops in the middle of a request (both get no answer)
start=$(now_ms)
printf '' | "$RAW" -t 10 "$A" > "$T/raw.out" 2> "$T/raw.err"
took=$(( $(now_ms) - start ))
ok $([ "$took" -ge 4500 ] && [ "$took" -lt 8000 ]; echo $?) "a silent client is closed after 5 s ($took ms)"
start=$(now_ms)
raw 'GET /health HTTP/1.1\r\nHost: x\r\n' > "$T/raw.out"
took=$(( $(now_ms) - start ))
ok $([ "$took" -ge 4500 ] && [ "$took" -lt 8000 ]; echo $?) "so is one with half a request ($took ms)"
is "$(cat "$T/raw.out")" "" "which gets no answer"

# 64 clients at most: a 65th is answered 503 and closed
established() { ss -Htn state established "( sport = :$admin )" | wc -l; }
printf '' | "$RAW" -c 64 -t 7 "$A" > "$T/many.out" &
many=$!
register_pid "$many"
wait_for 5 eval '[ "$(established)" -ge 64 ]'
ok $? "64 clients are connected ($(established))"
is "$(get /health)" 503 "a 65th gets 503"
like "$(cat "$T/body")" 'too many admin clients' "saying why"
wait "$many"
unregister_pid "$many"
is "$(cat "$T/many.out")" "closed=64" "the 64 idle ones were closed after 5 s"
is "$(get /health)" 200 "then a client is served again"

# the listener is segue's own: no worker holds it
inode=$(listen_inode "$admin")
check "segue holds the admin socket" -- holds_socket "$SEGUE_PID" "$inode"
held=
for pid in $(event_fields pid event=worker_spawned); do
	holds_socket "$pid" "$inode" && held="$held $pid"
done
is "$held" "" "no worker inherited it"

# idle, segue sleeps: the admin endpoint adds no timer
wait_for 10 eval '[ "$(established)" -eq 0 ]'
switches() { awk '/^(voluntary|nonvoluntary)_ctxt_switches/ { n += $2 } END { print n }' "/proc/$SEGUE_PID/status"; }
before=$(switches)
sleep 3 # a measured interval of quiet, not a wait for an event
after=$(switches)
ok $([ $((after - before)) -le 1 ]; echo $?) "segue did not wake while idle for 3 s ($((after - before)) wakeups)"

# a reload that changes admin-listen says it waits for a restart
sed -i 's|^admin-listen = .*|admin-listen = "127.0.0.1:1"|' "$T/segue.conf"
mark=$(log_lines)
kill -HUP "$SEGUE_PID"
wait_event -s "$mark" event=reload_succeeded
wait_event -s "$mark" 'msg~^admin-listen changed in the config: it takes effect when segue restarts'
ok $? "a reload that changes admin-listen warns that it waits for a restart"
is "$(get /ready)" 200 "and the endpoint serves on"

stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
check "the unix admin socket is removed" -- test ! -e "$T/admin.sock"
check "and the port is free again" -- eval '! port_listening "$admin"'

# systemd:NAME: a socket systemd passed (socket activation)
admin=$(free_port)
A=127.0.0.1:$admin
app_conf "$T/sd.conf" "$port" "$DEMO" 'ready = "notify"'
echo 'admin-listen = "systemd:admin"' >> "$T/sd.conf"
fresh_log
exec_with_log_format systemd-socket-activate -l "$A" --fdname=admin -E PATH -- \
	"$SEGUE" -c "$T/sd.conf" >> "$SEGUE_LOG" 2>&1 &
SEGUE_PID=$!
register_pid "$SEGUE_PID"
wait_port "$admin"
like "$(get /ready)" '^(200|503)$' "the request that activated segue is answered"
wait_event event=worker_ready
is "$(get /ready)" 200 "admin-listen = systemd:admin serves on the socket systemd passed"
is "$(event_count 'msg~closing inherited socket')" 0 "and segue did not close it as unclaimed"
stop_segue
is "$SEGUE_STATUS" 0 "segue stops cleanly"
done_testing
