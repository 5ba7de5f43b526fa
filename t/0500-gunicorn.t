#!/bin/sh
# 0500-gunicorn.t: gunicorn (Debian 12: 20.1) runs under segue unchanged: it
# takes segue's socket through LISTEN_FDS/LISTEN_PID, sends READY=1, drains
# on TERM; 10 reloads under load lose no request.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
command -v gunicorn >/dev/null 2>&1 || skip_all "gunicorn is not installed"
. "$top_srcdir/t/apps/appserver.sh"
plan 8

# --preload: the app is imported before gunicorn sends READY=1, so a deploy
# that cannot import is rolled back (without it gunicorn is "ready" before
# its workers load the app). gthread workers keep connections alive (sync
# workers close each one). segue's drain-timeout is longer than gunicorn's
# own --graceful-timeout.
app_conf "$T/segue.conf.in" @PORT@ "gunicorn --preload --workers 2 --worker-class gthread \
--threads 4 --graceful-timeout 10 --chdir $APPS wsgi:application >>$T/server.log 2>&1" \
	"directory = \"$T\"" 'ready = "notify"' 'ready-timeout = "30s"' \
	'drain-signal = "TERM"' 'drain-timeout = "15s"'

reload_under_load gunicorn "" 16 1
reload_under_load gunicorn -k 16 1
