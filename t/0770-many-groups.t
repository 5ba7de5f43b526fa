#!/bin/sh
# 0770-many-groups.t: a member of control-group who is also in more than
# 256 other groups is served (the peer's groups are read whatever their
# number); a non-member with as many is still refused (issue 9, item 18).
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 5

[ "$(id -u)" = 0 ] || skip_all "needs root to act as another user"
command -v setpriv >/dev/null 2>&1 || skip_all "needs setpriv"
command -v groupadd >/dev/null 2>&1 || skip_all "needs groupadd"
group=segue-t$$
groupadd "$group" 2>/dev/null || skip_all "cannot create a group"
gid=$(getent group "$group" | cut -d: -f3)
# 300 groups besides control-group
many=$(seq 40000 40299 | tr '\n' ',' | sed 's/,$//')

chmod 0755 "$T"
SEGUECTL_NOBODY=$(for_nobody "$SEGUECTL")
mkdir -m 0755 "$T/open"
cat > "$T/segue.conf" <<CONF
control = "$T/open/c.sock"
control-mode = "0666"
control-group = "$group"
program app {
  command = "sleep 300"
  ready-delay = "50ms"
}
CONF
start_segue -c "$T/segue.conf"
wait_log 'event=worker_ready'
ok $? "segue serves, control-group $group (gid $gid)"

# as_nobody GROUPS COMMAND...: run as uid and gid 65534 with these groups
as_nobody() {
	local groups=$1; shift
	setpriv --reuid=65534 --regid=65534 --groups="$groups" "$@"
}
as_nobody "$many,$gid" "$SEGUECTL_NOBODY" -s "$T/open/c.sock" status > "$T/member.out" 2>&1
is "$?" 0 "a member of control-group in 301 groups is served"
like "$(cat "$T/member.out")" 'app' "and gets the status"

as_nobody "$many" "$SEGUECTL_NOBODY" -s "$T/open/c.sock" status > "$T/other.out" 2>&1
is "$?" 2 "a non-member in 300 groups is refused (seguectl exits 2)"
like "$(cat "$T/other.out")" 'permission denied' "with permission denied"
stop_segue
groupdel "$group"
