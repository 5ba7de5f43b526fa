#!/bin/sh
# 0630-units.t: systemd accepts the unit files segue ships.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
command -v systemd-analyze >/dev/null || skip_all "systemd-analyze is not installed"
plan 3

# the units as installed, with this build's binaries in their place
mkdir -p "$T/units"
sed -e "s|@sbindir@|$top_builddir/src|g" -e "s|@bindir@|$top_builddir/src|g" \
	-e "s|@sysconfdir@|$T|g" "$top_srcdir/etc/segue.service.in" > "$T/units/segue.service"
cp "$top_srcdir/etc/segue.socket" "$T/units/segue.socket"
cp "$top_srcdir/etc/segue.conf" "$T/segue.conf"
out=$(cd "$T/units" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no \
	./segue.service ./segue.socket 2>&1)
status=$?
# Running without systemd as PID 1 (a container) is no fault of the units.
out=$(printf '%s\n' "$out" | grep -v -e 'Failed to open /dev/tty' -e 'not booted with systemd' \
	-e 'Cannot find unit for notify-reload' -e '^$' -e 'System has not been booted')
diag "$out"
is "$out" "" "systemd-analyze verify finds nothing to say about the units"
check "ExecReload waits for the reload" -- grep -q 'ExecReload=.*reload --wait' "$T/units/segue.service"
check "TimeoutStopSec leaves room for the 30 s drain" -- grep -q '^TimeoutStopSec=45s' "$T/units/segue.service"
