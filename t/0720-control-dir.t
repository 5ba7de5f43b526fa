#!/bin/sh
# 0720-control-dir.t: segue changes only a control directory it made
# itself: an existing one owned by another user, or writable by others
# without the sticky bit, is refused; a sticky 1777 one keeps its mode; a
# symlink planted in its place is refused and its target left alone; one
# segue makes gets 0750 root:GROUP with control-group (issue 9, item 6).
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 15

[ "$(id -u)" = 0 ] || skip_all "needs root to own directories as another user"
group=
for g in staff daemon nogroup; do
	getent group "$g" >/dev/null && { group=$g; break; }
done
[ -n "$group" ] || skip_all "needs a group staff, daemon or nogroup"
# write_conf DIR: control socket DIR/control.sock, control-group $group
write_conf() {
	cat > "$T/segue.conf" <<CONF
control = "$1/control.sock"
control-mode = "0660"
control-group = "$group"
program app {
  command = "sleep 300"
  ready-delay = "50ms"
}
CONF
}
# refused DIR WHAT: segue exits 2 at once, naming DIR
refused() {
	write_conf "$1"
	timeout -k 2 5 "$SEGUE" -c "$T/segue.conf" > "$T/out" 2>&1
	is "$?" 2 "$2: segue exits 2"
	diag "$(tail -n 1 "$T/out")"
	like "$(cat "$T/out")" "directory $1" "naming the directory"
}
# mode_of PATH: "MODE OWNER:GROUP", numeric ids
mode_of() { stat -c '%a %u:%g' "$1"; }

# --- an existing directory owned by another user --------------------------
mkdir -m 0755 "$T/other"
chown 65534 "$T/other"
refused "$T/other" "a directory owned by uid 65534"
is "$(mode_of "$T/other")" "755 65534:0" "it is left as it was"

# --- writable by others, without the sticky bit ----------------------------
mkdir "$T/open"
chmod 0777 "$T/open"
refused "$T/open" "a world-writable directory"
is "$(mode_of "$T/open")" "777 0:0" "it is left as it was"
mkdir "$T/grp"
chmod 0770 "$T/grp"
chgrp "$group" "$T/grp"
refused "$T/grp" "a group-writable directory"

# --- a sticky 1777 directory is used, and keeps its mode -------------------
mkdir "$T/sticky"
chmod 1777 "$T/sticky"
write_conf "$T/sticky"
start_segue -c "$T/segue.conf"
ok $? "segue uses a sticky 1777 directory"
is "$(stat -c %a "$T/sticky")" 1777 "which keeps its mode 1777"
stop_segue

# --- a symlink planted where the directory should be -----------------------
mkdir "$T/secret"
chmod 0700 "$T/secret"
ln -s "$T/secret" "$T/planted"
refused "$T/planted" "a symlink to a directory"
is "$(mode_of "$T/secret")" "700 0:0" "the symlink's target keeps its mode and owner"
ok "$([ ! -e "$T/secret/control.sock" ]; echo $?)" "and holds no socket"

# --- a directory segue makes ----------------------------------------------
write_conf "$T/made/run"
start_segue -c "$T/segue.conf"
is "$(stat -c '%a %U:%G' "$T/made/run")" "750 root:$group" \
	"a directory segue makes gets 0750 root:$group"
stop_segue
