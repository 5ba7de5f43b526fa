#!/bin/sh
# 0910-steer-gunicorn.t: gunicorn (Debian 12: 20.1), which loses nothing with
# a shared socket, still loses nothing with handover = "steer". 20 reloads
# under load, new connections and keep-alive.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
command -v gunicorn >/dev/null 2>&1 || skip_all "gunicorn is not installed"
SEGUE_TEST_RELOADS=${SEGUE_TEST_RELOADS:-20}
. "$top_srcdir/t/apps/appserver.sh"
# SEGUE_TEST_HANDOVER=shared measures the same without steering (doc/segue.8).
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

sed -i 's/^socket web { listen = "\(.*\)" }$/socket web {\n  listen = "\1"\n  handover = "'"${SEGUE_TEST_HANDOVER:-steer}"'"\n}/' "$T/segue.conf.in"

reload_under_load gunicorn "" 16 1
reload_under_load gunicorn -k 16 1
