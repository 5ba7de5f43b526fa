#!/bin/sh
# 0905-steer-starman.t: Starman (Debian 12: 0.4016, Net::Server 2.013), which
# drops connections on a graceful stop, loses nothing with handover =
# "steer": new connections reach the new generation's socket before the old
# one gets QUIT. 20 reloads under load, new connections and keep-alive.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
command -v starman >/dev/null 2>&1 || skip_all "starman is not installed"
perl -MNet::Server::SS::PreFork -e 1 2>/dev/null ||
	skip_all "Net::Server::SS::PreFork (libnet-server-ss-prefork-perl) is not installed"
SEGUE_TEST_RELOADS=${SEGUE_TEST_RELOADS:-20}
SEGUE_TEST_HANDOVER=${SEGUE_TEST_HANDOVER:-steer}
. "$top_srcdir/t/apps/appserver.sh"
# SEGUE_TEST_HANDOVER=shared measures the same without steering (doc/segue.8).
plan 9

# Starman serves one connection per process: keep-alive clients need as many
# workers as connections, or the others wait.
app_conf "$T/segue.conf.in" @PORT@ \
	"starman --workers 10 --preload-app $APPS/app.psgi >>$T/server.log 2>&1" \
	"directory = \"$T\"" 'fd-protocol = { "server-starter" }' 'ready = "delay"' \
	'ready-delay = "1s"' 'ready-timeout = "30s"' 'drain-signal = "QUIT"' \
	'kill-mode = "process"' 'drain-timeout = "15s"'

reload_under_load starman "" 8 1
# Keep-alive: a connection an old Starman worker holds stays with it; on QUIT
# Starman 0.4016 may close it in the middle of a response (EOF after part of
# it), whatever the socket does. New connections lose nothing.
reload_under_load starman -k 8 1 "Starman 0.4016 cuts a keep-alive response short on QUIT"
