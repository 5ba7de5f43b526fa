# appserver.sh: the reload-under-load check shared by the real app server
# tests (t/05NN-*.t). Source it after t/lib.sh.
# SPDX-License-Identifier: MIT
#
# A test writes "$T/segue.conf.in" with @PORT@ where the port goes, then calls
#   reload_under_load NAME KEEPALIVE CONNS READY-WORKERS [KNOWN-LOSS]
# once with KEEPALIVE "" (a new connection per request) and once with "-k".
# Each call runs 4 checks (5 with KNOWN-LOSS): 10 reloads succeed, zero
# failed requests (with KNOWN-LOSS, a defect of that server's own shutdown:
# no connection refused and at most 10 lost per reload), the served
# generation reaches 11, segue stops cleanly.

APPS=$top_srcdir/t/apps
RELOADS=${SEGUE_TEST_RELOADS:-10}
export PYTHONDONTWRITEBYTECODE=1	# no __pycache__ in the source tree

# server_log_diag: the app server's own output (the tests send it to
# $T/server.log), shown when a check failed: its first error lines (a
# worker that died at boot says why there, long before the tail) and its
# tail. Each call of reload_under_load keeps its own in server-N.log.
server_log_diag() {
	[ -s "$T/server.log" ] || return 0
	grep -n -m 20 -iE -A 3 'error|exception|fatal|abort|traceback' "$T/server.log" |
		sed 's/^/# server error: /'
	tail -n 30 "$T/server.log" | sed 's/^/# server: /'
	return 0
}

reload_under_load() {
	local what=$1 ka=$2 conns=$3 nready=$4 todo=${5:-}
	local name="$what, new connections" port result failed=0
	[ -n "$ka" ] && name="$what, keep-alive"
	port=$(free_port)
	sed "s/@PORT@/$port/g" "$T/segue.conf.in" > "$T/segue.conf"
	# SEGUE_TEST_HANDOVER: the socket's handover mode (segue.conf(5))
	[ -z "${SEGUE_TEST_HANDOVER:-}" ] || set_handover "$T/segue.conf" "$SEGUE_TEST_HANDOVER"
	: > "$T/server.log"
	if ! start_segue -c "$T/segue.conf" || ! wait_event -n "$nready" -t 30 event=worker_ready; then
		server_log_diag
		bail "$name: segue or $what did not start"
	fi
	start_load "$port" "$conns" $ka
	reload_times "$RELOADS"
	# keep-alive clients reach the last generation once the one before it
	# has closed their connections
	wait_event -n "$RELOADS" -t 30 event=drain_finished ||
		diag "$name: the old generations did not all finish draining"
	stop_load "$name"
	result=$LOAD_RESULT
	is "$(event_count event=reload_succeeded)" "$RELOADS" \
		"$name: $RELOADS reloads succeeded" || failed=1
	if [ -n "$todo" ]; then
		# The server drops some connections of its own at shutdown
		# (KNOWN-LOSS): segue's part still holds (the socket never
		# closes, nothing is refused), and the loss stays small: a
		# broken segue would refuse or lose thousands.
		diag "$name: known loss: $todo"
		like "$result" ' connect_errors=0 ' "$name: no connection refused" || failed=1
		lost=$(printf '%s\n' "$result" | sed -n 's/.* errors=\([0-9]*\) .*/\1/p')
		ok $([ "${lost:-999999}" -le $((10 * RELOADS)) ]; echo $?) \
			"$name: at most 10 requests lost per reload, all the server's own ($lost)" || failed=1
	else
		like "$result" ' errors=0 ' "$name: zero failed requests" || failed=1
	fi
	like "$result" "generations=.*,$((RELOADS + 1))( |$)" \
		"$name: the served generation advanced to $((RELOADS + 1))" || failed=1
	stop_segue
	is "$SEGUE_STATUS" 0 "$name: segue stops cleanly" || failed=1
	[ "$failed" = 0 ] || server_log_diag
	PHASE=$((${PHASE:-0} + 1))
	cp "$T/server.log" "$T/server-$PHASE.log"
}
