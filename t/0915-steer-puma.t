#!/bin/sh
# 0915-steer-puma.t: puma (Debian 12: 5.6), which loses nothing with a
# shared socket, still loses nothing with handover = "steer". 20 reloads
# under load, new connections and keep-alive.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
command -v puma >/dev/null 2>&1 || skip_all "puma is not installed"
SEGUE_TEST_RELOADS=${SEGUE_TEST_RELOADS:-20}
. "$top_srcdir/t/apps/appserver.sh"
# SEGUE_TEST_HANDOVER=shared measures the same without steering (doc/segue.8).
plan 8

# env -u NOTIFY_SOCKET: with the sd_notify gem installed (ruby-sd-notify),
# puma 5.6 connects to NOTIFY_SOCKET at boot and sd_notify 0.1.1 cannot reach
# an abstract socket ("@..."): puma would exit. Readiness is a per-worker
# probe instead: puma.rb starts puma's control server on the abstract socket
# @puma-PID once the app is loaded. (Probing the shared port would be
# answered by the old generation.)
app_conf "$T/segue.conf.in" @PORT@ \
	"env -u NOTIFY_SOCKET puma -C $APPS/puma.rb $APPS/config.ru >>$T/server.log 2>&1" \
	"directory = \"$T\"" 'workers = 2' 'ready = "exec"' \
	'ready-command = "grep -q \" @puma-$SEGUE_WORKER_PID$\" /proc/net/unix"' \
	'ready-timeout = "30s"' 'drain-signal = "TERM"' 'drain-timeout = "15s"'

sed -i 's/^socket web { listen = "\(.*\)" }$/socket web {\n  listen = "\1"\n  handover = "'"${SEGUE_TEST_HANDOVER:-steer}"'"\n}/' "$T/segue.conf.in"

reload_under_load puma "" 16 2
reload_under_load puma -k 16 2
