#!/bin/sh
# 0885-release-shell.t: a release names a directory that whoever deploys
# chose; it reaches checks and workers as SEGUE_RELEASE, never as shell
# code: {release} is not expanded in a command or a check.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 3

name="x';touch pwned;'"
mkdir -p "$T/releases/$name"
ln -sfn "releases/$name" "$T/current"
app_conf "$T/segue.conf" "" "sleep 1000" "directory = \"$T/current\"" \
	"check = \"echo '{release}' \$SEGUE_RELEASE >> $T/check.out\"" \
	'check-always = true' 'check-interval = "200ms"'
start_segue -c "$T/segue.conf"
wait_event event=worker_spawned
wait_for 10 sh -c "[ \$(wc -l < '$T/check.out' 2>/dev/null || echo 0) -ge 2 ]"
ok $? "the check ran twice"
check "the directory's name ran no command" -- test ! -e "$T/releases/$name/pwned"
is "$(head -n 1 "$T/check.out")" "{release} $name" "the check sees the name in SEGUE_RELEASE"
