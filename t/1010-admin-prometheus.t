#!/bin/sh
# 1010-admin-prometheus.t: a real Prometheus server scrapes segue's admin
# endpoint every second: its HTTP API shows up{job="segue"} == 1, the
# target healthy, and segue_generation following a reload.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
# `sh setup test` installs Debian's prometheus: CI never skips this test.
command -v prometheus >/dev/null 2>&1 || bail "prometheus is not installed (sh setup test)"
plan 9

port=$(free_port)
admin=$(free_port)
prom=$(free_port)
app_conf "$T/segue.conf" "$port" "$DEMO" 'ready = "notify"'
printf 'admin-listen = "127.0.0.1:%s"\n' "$admin" >> "$T/segue.conf"
start_segue -c "$T/segue.conf"
wait_event event=worker_ready

mkdir -p "$T/prom"
cat > "$T/prom/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: segue
    static_configs:
      - targets: ["127.0.0.1:$admin"]
EOF
diag "$(prometheus --version 2>&1 | head -n 1)"
(cd "$T/prom" && exec prometheus --config.file="$T/prom/prometheus.yml" \
	--storage.tsdb.path="$T/prom/data" --web.listen-address="127.0.0.1:$prom" \
	> "$T/prom/log" 2>&1) &
PROM_PID=$!
register_pid "$PROM_PID"

api() { curl -s -m 5 "http://127.0.0.1:$prom$1"; }
# query PROMQL: the value of the first sample of an instant query ("" for none)
query() {
	curl -s -m 5 -G "http://127.0.0.1:$prom/api/v1/query" --data-urlencode "query=$1" |
		"$EVENTS" -f data.result.0.value.1 - 2>/dev/null
}

wait_for 30 eval '[ "$(api /-/ready | grep -c Ready)" -ge 1 ]'
ok $? "prometheus is ready" || sed 's/^/# prometheus: /' "$T/prom/log" | tail -n 20
wait_for 30 eval '[ "$(query '\''up{job="segue"}'\'')" = 1 ]'
ok $? "up{job=\"segue\"} is 1"
diag "up{job=\"segue\"} = $(query 'up{job="segue"}')"
targets=$(api /api/v1/targets)
is "$(printf '%s\n' "$targets" | "$EVENTS" -f data.activeTargets.0.health -)" up \
	"the target is healthy"
is "$(printf '%s\n' "$targets" | "$EVENTS" -f data.activeTargets.0.lastError -)" "" \
	"its last scrape had no error (the text parsed)"
wait_for 30 eval '[ "$(query segue_generation)" = 1 ]'
ok $? "segue_generation is 1"
is "$(query 'segue_workers{state="ready",program="app"}')" 1 "the ready worker is counted"

mark=$(log_lines)
kill -HUP "$SEGUE_PID"
wait_event -s "$mark" event=reload_succeeded
ok $? "a reload succeeds"
wait_for 30 eval '[ "$(query segue_generation)" = 2 ]'
ok $? "segue_generation follows it to 2"
diag "segue_generation = $(query segue_generation)," \
	"segue_reloads_total{result=\"succeeded\"} = $(query 'segue_reloads_total{result="succeeded"}')"
is "$(query 'segue_reloads_total{result="succeeded"}')" 1 "and the reload is counted"

kill -TERM "$PROM_PID"
wait_for 20 gone "$PROM_PID"
stop_segue
