#!/bin/sh
# 0530-uvicorn.t: uvicorn (Debian 12: 0.17.6) serves segue's socket with
# --fd {fd:web} and is reloaded 10 times under load. Zero failed requests
# cannot hold: uvicorn's shutdown resets connections it has accepted but not
# read yet (see doc/recipes.md, "uvicorn"); the test checks that none is
# refused and the loss stays small.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
command -v uvicorn >/dev/null 2>&1 || skip_all "uvicorn is not installed"
. "$top_srcdir/t/apps/appserver.sh"
plan 10

# uvicorn has no sd_notify. A ready-delay is a guess that a loaded machine
# proves wrong: two suites at once on 2 cores took uvicorn over 1 s to
# start, so each generation was drained before it served and requests
# timed out. t/apps/accepting.sh calls a worker ready once it watches its
# socket (fd 3), as t/0900 does.
cat > "$T/segue.conf.in" <<CONF
control = "$CONTROL"
socket web {
  listen = "127.0.0.1:@PORT@"
  nodelay = true
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

reload_under_load uvicorn "" 16 2 "uvicorn 0.17.6 resets connections accepted just before it stops"
reload_under_load uvicorn -k 16 2 "uvicorn 0.17.6 resets connections accepted just before it stops"
