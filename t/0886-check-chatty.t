#!/bin/sh
# 0886-check-chatty.t: a check may print more than a pipe holds (curl of a
# large /health body): it writes as it likes; segue keeps the start.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 2

app_conf "$T/segue.conf" "" "sleep 1000" \
	"check = \"head -c 1000000 /dev/zero 2>>$T/check.err && echo done >> $T/check.out\"" \
	'check-always = true' 'check-interval = "200ms"'
start_segue -c "$T/segue.conf"
wait_event event=worker_ready
wait_for 10 test -s "$T/check.out"
ok $? "a check that prints 1 MB runs to its end"
timeout 5 "$SEGUECTL" -s "$CONTROL" health > "$T/health" 2>&1
is "$?" 0 "and is healthy: $(cat "$T/health" "$T/check.err" 2>/dev/null | _words)"
