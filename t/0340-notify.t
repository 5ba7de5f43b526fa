#!/bin/sh
# 0340-notify.t: READY=1 from a helper process credits the right worker; other
# users' datagrams and garbage are ignored.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 8

cat > "$T/worker.sh" <<'SH'
#!/bin/sh
# slot 0 becomes ready through a helper process, as wrapper scripts do
if [ "$SEGUE_WORKER" = 0 ]; then
	sh -c 'printf "READY=1\nSTATUS=helper of %s" "$PPID" | "$DGRAM" "$NOTIFY_SOCKET"'
fi
exec sleep 300
SH
chmod +x "$T/worker.sh"
export DGRAM
start_segue -l 127.0.0.1:0 -s "$CONTROL" -n 2 --ready notify --ready-timeout 60s \
	-- "$T/worker.sh"
wait_event event=worker_ready
ok $? "a READY=1 sent by the worker's child marks a worker ready"
w0=$(event_field pid event=worker_spawned slot=0)
w1=$(event_field pid event=worker_spawned slot=1)
is "$(event_text '{slot} {pid}' event=worker_ready)" "0 $w0" "it is credited to slot 0's worker"

sock1=$(tr '\0' '\n' < "/proc/$w1/environ" | sed -n 's/^NOTIFY_SOCKET=//p')
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	printf 'READY=1' | setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$(for_nobody "$DGRAM")" "$sock1"
	ok $([ $? -ne 0 ]; echo $?) "another user cannot even send to the socket (mode 0600)"
	is "$(event_count event=worker_ready)" 1 "and slot 1 stays not ready"
else
	ok 0 "# SKIP needs root and setpriv to act as another user"
	ok 0 "# SKIP needs root and setpriv to act as another user"
fi
# garbage: binary, no '=', oversized, empty
head -c 3000 /dev/urandom | "$DGRAM" "$sock1"
printf 'READY' | "$DGRAM" "$sock1"
head -c 100000 /dev/zero | tr '\0' 'A' | sed 's/^/READY=1\n/' | "$DGRAM" "$sock1"
printf '' | "$DGRAM" "$sock1"
printf 'READY=1\0STATUS=x' | "$DGRAM" "$sock1"
check "segue survives garbage on the notify socket" -- segue_alive
is "$(event_count event=worker_ready)" 1 "garbage does not mark slot 1 ready"

printf 'STATUS=warming up\nREADY=1\n' | "$DGRAM" "$sock1"
wait_event -n 2 event=worker_ready
ok $? "a proper READY=1 still works afterwards"
is "$(event_text '{slot} {pid}' event=worker_ready)" "1 $w1" "and is credited to slot 1"
stop_segue
