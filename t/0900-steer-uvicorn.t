#!/bin/sh
# 0900-steer-uvicorn.t: uvicorn (Debian 12: 0.17.6), which resets the
# connections it accepted but did not read when it stops, loses nothing
# with handover = "steer": new connections reach the new generation's
# socket before the old one is told to drain. 20 reloads under load, with
# a new connection per request and with keep-alive.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
command -v uvicorn >/dev/null 2>&1 || skip_all "uvicorn is not installed"
SEGUE_TEST_RELOADS=${SEGUE_TEST_RELOADS:-20}
. "$top_srcdir/t/apps/appserver.sh"
# Readiness: a generation called ready must accept, or the connections
# steered to it wait for nobody (uvicorn may take seconds to start on a
# loaded machine): t/apps/accepting.sh checks that this uvicorn watches its
# socket (fd 3) in its event loop.
# SEGUE_TEST_HANDOVER=shared measures the same without steering (doc/segue.8).
plan 8

cat > "$T/segue.conf.in" <<CONF
control = "$CONTROL"
socket web {
  listen = "127.0.0.1:@PORT@"
  nodelay = true
  handover = "${SEGUE_TEST_HANDOVER:-steer}"
}
program app {
  command = "uvicorn --fd {fd:web} --app-dir $APPS --lifespan off asgi:app >>$T/server.log 2>&1"
  directory = "$T"
  sockets = { "web" }
  workers = 2
  ready = "exec"
  ready-command = "$APPS/accepting.sh \$SEGUE_WORKER_PID 3"
  ready-timeout = "30s"
  drain-signal = "TERM"
  drain-timeout = "15s"
}
CONF

reload_under_load uvicorn "" 16 2
reload_under_load uvicorn -k 16 2
