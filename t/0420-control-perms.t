#!/bin/sh
# 0420-control-perms.t: the control socket is 0600 by default, and peers are
# checked by their credentials: others are refused even when the mode allows.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 7

start_segue -l 127.0.0.1:0 -s "$T/sub/c.sock" --ready-delay 10ms -- sleep 300
is "$(stat -c %a "$T/sub/c.sock")" 600 "the control socket is 0600 by default"
is "$(stat -c %a "$T/sub")" 700 "in a directory segue created 0700"
like "$(echo status | "$RAW" -l 1 -t 2 "$T/sub/c.sock")" '"ok":true' "segue's own user is served"
stop_segue

if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
	for i in 1 2 3 4; do ok 0 "# SKIP needs root and setpriv to act as another user"; done
	exit 0
fi
chmod 755 "$T"
RAW_NOBODY=$(for_nobody "$RAW")
cat > "$T/segue.conf" <<CONF
control = "$T/open/c.sock"
control-mode = "0666"
socket web { listen = "127.0.0.1:0" }
program app { command = "sleep 300" sockets = { "web" } }
CONF
mkdir -m 755 "$T/open"
start_segue -c "$T/segue.conf"
out=$(echo status | setpriv --reuid=65534 --regid=65534 --clear-groups "$RAW_NOBODY" -t 2 "$T/open/c.sock")
like "$out" 'permission denied: uid 65534' "another uid is refused with an error line, even at mode 0666"
check "segue logs the refusal" -- has_event 'msg~permission denied: uid 65534'
stop_segue

# a member of control-group is served
group=segue-test-$$
if groupadd "$group" 2>/dev/null; then
	gid=$(getent group "$group" | cut -d: -f3)
	sed -i "s/^control-mode.*/control-mode = \"0660\"\ncontrol-group = \"$group\"/" "$T/segue.conf"
	start_segue -c "$T/segue.conf"
	out=$(echo version | setpriv --reuid=65534 --regid=65534 --groups="$gid" "$RAW_NOBODY" -l 1 -t 2 "$T/open/c.sock")
	like "$out" '"ok":true' "a member of control-group is served"
	is "$(stat -c %G "$T/open/c.sock")" "$group" "the socket belongs to control-group"
	stop_segue
	groupdel "$group"
else
	ok 0 "# SKIP cannot create a group"
	ok 0 "# SKIP cannot create a group"
fi
