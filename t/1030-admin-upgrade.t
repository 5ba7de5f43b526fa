#!/bin/sh
# 1030-admin-upgrade.t: the admin listeners survive an upgrade in place
# (and its fallback when the new image fails): the same sockets, no request
# of a probe loop fails, they stay close-on-exec (no worker started after
# the upgrade inherits them), and segue's descriptors do not grow.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/upgrade.sh"
plan 19

use_upgradable_segue
port=$(free_port)
admin=$(free_port)
A=127.0.0.1:$admin
app_conf "$T/segue.conf" "$port" "$DEMO" 'workers = 2' 'ready = "notify"'
printf 'admin-listen = { "%s", "unix:%s" }\n' "$A" "$T/admin.sock" >> "$T/segue.conf"
start_segue -c "$T/segue.conf"
wait_event -n 2 event=worker_ready
inode=$(listen_inode "$admin")

# a probe that asks /ready over and over, as a load balancer does: each
# answer's status goes to $T/probe.out until $T/probe.stop appears
probe_loop() {
	rm -f "$T/probe.stop"
	: > "$T/probe.out"
	(
		while [ ! -e "$T/probe.stop" ]; do
			curl -s -m 5 -o /dev/null -w '%{http_code}\n' "http://$A/ready" >> "$T/probe.out"
		done
	) &
	PROBE_LOOP=$!
	register_pid "$PROBE_LOOP"
	wait_for 5 has_lines "$T/probe.out" 3
}
probe_stop() {
	touch "$T/probe.stop"
	wait "$PROBE_LOOP"
	unregister_pid "$PROBE_LOOP"
	PROBES="$(grep -c . "$T/probe.out") probes, $(grep -vc '^200$' "$T/probe.out") failed"
}

# cloexec_admin: the flags of segue's descriptor for the admin socket
# have O_CLOEXEC
cloexec_admin() {
	local fd flags
	fd=$(ls -l "/proc/$SEGUE_PID/fd" | sed -n "s/.* \([0-9]*\) -> socket:\[$inode\]\$/\1/p" | head -n 1)
	flags=$(awk '/^flags:/ { print $2 }' "/proc/$SEGUE_PID/fdinfo/$fd" 2>/dev/null)
	# octal, as the kernel shows them; O_CLOEXEC is 02000000
	[ -n "$flags" ] && [ $((0$flags & 02000000)) -ne 0 ]
}

# admin_fds: segue's descriptors once it holds no admin connection (the
# server's side of a client's last connection stays open until segue reads
# its end: TCP states 01 ESTABLISHED and 08 CLOSE_WAIT)
admin_fds() {
	wait_for 5 sh -c "! awk -v a=$(printf '0100007F:%04X' "$admin") \
		'\$2 == a && (\$4 == \"01\" || \$4 == \"08\")' /proc/net/tcp | grep -q ."
	fd_count "$SEGUE_PID"
}

# six upgrades in place, to each image in turn, under the probe loop
probe_loop
bad_reset
for img in NEXT OLD NEXT OLD NEXT OLD; do
	eval install_image "\$IMG_$img"
	upgrade_json
	eval want="\$V_$img"
	[ "$RC/$(segue_version)" = "0/$want" ] || bad "to $want: $RC '$OUT' '$ERR'"
done
is "$(bad_report)" "" "six upgrades in place under a probe loop"
probe_stop
fds0=$(admin_fds)
diag "$PROBES"
like "$PROBES" ' 0 failed$' "no probe failed across the upgrades"
is "$(listen_inode "$admin")" "$inode" "the admin socket is the same"
check "segue holds it still" -- holds_socket "$SEGUE_PID" "$inode"
check "close-on-exec again after the upgrade" -- cloexec_admin
is "$(curl -s -m 5 -o /dev/null -w '%{http_code}' --unix-socket "$T/admin.sock" http://x/health)" \
	200 "the unix: admin socket answers too"
type=$(curl -s -m 5 -o /dev/null -w '%{http_code} %{content_type}' "http://$A/metrics")
is "$type" "200 text/plain; version=0.0.4; charset=utf-8" "/metrics answers after the upgrade"

# a client in the middle of its keep-alive connection, and of a request,
# at the moment of an upgrade: the next image answers it (bash's /dev/tcp
# is the client: it sends the rest only after the upgrade)
rm -f "$T/half-sent" "$T/upgraded"
bash -c '
	exec 3<>"/dev/tcp/127.0.0.1/$1"
	printf "GET /ready HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n" >&3
	touch "$2/half-sent"
	while [ ! -e "$2/upgraded" ]; do sleep 0.05; done
	printf "Connection: close\r\n\r\n" >&3
	cat <&3 > "$2/handover.out"
' bash "$admin" "$T" &
client=$!
register_pid "$client"
wait_for 5 test -e "$T/half-sent"
sleep 0.2 # a measured moment for segue to read the first request and half the second
install_image "$IMG_OLD"
upgrade_json
touch "$T/upgraded"
wait_for 10 gone "$client"
is "$RC/$(segue_version)" "0/$V_OLD" "an upgrade while a client is in the middle of a request"
is "$(grep '^HTTP' "$T/handover.out" | tr -d '\r' | _words)" "HTTP/1.1 200 OK HTTP/1.1 200 OK" \
	"the next image answers the rest of its request, once, and closes as asked"

# workers started after the upgrade do not inherit it
reload_times 1
ok $? "a reload after the upgrade"
wait_event -n 4 event=worker_ready
held=
for pid in $(event_fields pid event=worker_spawned); do
	holds_socket "$pid" "$inode" && held="$held $pid"
done
is "$held" "" "no worker holds the admin socket"

# a failed upgrade falls back to the image that ran: the listener stays
install_image "$IMG_BROKEN"
probe_loop
upgrade_json
isnt_zero=$([ "$RC" != 0 ]; echo $?)
ok "$isnt_zero" "an upgrade to an image that cannot adopt fails"
probe_stop
diag "$PROBES"
like "$PROBES" ' 0 failed$' "no probe failed across the failed upgrade"
is "$(listen_inode "$admin")" "$inode" "the admin socket is the same after the fallback"
is "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$A/ready")" 200 "and answers"

install_image "$IMG_NEXT"
upgrade_json
is "$RC/$(segue_version)" "0/$V_NEXT" "then an upgrade to $V_NEXT"
is "$(listen_inode "$admin")" "$inode" "the admin socket is still the same"
fds=$(admin_fds)
is "$fds" "$fds0" "segue holds as many descriptors as after the six upgrades"

stop_segue
check "segue stops and removes the unix admin socket" -- test ! -e "$T/admin.sock"
