#!/bin/sh
# 0520-starman.t: Starman (Debian 12: 0.4016, Net::Server 2.013) takes
# segue's socket through the Server::Starter convention (fd-protocol
# "server-starter": SERVER_STARTER_PORT) and is reloaded 10 times under load.
# Zero failed requests cannot hold: Starman's graceful stop closes some
# connections unanswered (see doc/recipes.md, "Starman"); the test checks
# that none is refused and the loss stays small.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
command -v starman >/dev/null 2>&1 || skip_all "starman is not installed"
perl -MNet::Server::SS::PreFork -e 1 2>/dev/null ||
	skip_all "Net::Server::SS::PreFork (libnet-server-ss-prefork-perl) is not installed"
. "$top_srcdir/t/apps/appserver.sh"
plan 10

# Starman serves one connection per process: keep-alive clients need as many
# workers as connections, or the others wait.
app_conf "$T/segue.conf.in" @PORT@ \
	"starman --workers 10 --preload-app $APPS/app.psgi >>$T/server.log 2>&1" \
	"directory = \"$T\"" 'fd-protocol = { "server-starter" }' 'ready = "delay"' \
	'ready-delay = "1s"' 'ready-timeout = "30s"' 'drain-signal = "QUIT"' \
	'kill-mode = "process"' 'drain-timeout = "15s"'

todo="Starman 0.4016/Net::Server 2.013 drop connections on a graceful stop"
reload_under_load starman "" 8 1 "$todo"
reload_under_load starman -k 8 1 "$todo"
