#!/bin/sh
# 0100-config-check.t: segue -t reports config problems as FILE:LINE and exits 0/1.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 9

# check_conf FILE: runs segue -t on FILE; sets OUT and STATUS.
check_conf() { OUT=$("$SEGUE" -t -c "$1" 2>&1); STATUS=$?; }

cat > "$T/good.conf" <<'CONF'
# a comment first, so that a misnumbering libconfuse would show
socket web {
  listen = "127.0.0.1:8080"   // another comment
}
program app {
  command = "examples/demo"
  sockets = { "web" /* inline */ }
}
CONF
check_conf "$T/good.conf"
is "$STATUS" 0 "a good config passes -t"
like "$OUT" "configuration OK" "and says so"

cat > "$T/bad.conf" <<'CONF'
# line 1
# line 2
socket web {
  listen = "127.0.0.1:8080"
}
program app {
  command = "examples/demo"
  sockets = { "wbe" }
}
CONF
check_conf "$T/bad.conf"
is "$STATUS" 1 "an unknown socket fails -t with status 1"
like "$OUT" "^$T/bad.conf:8: program \"app\": unknown socket \"wbe\"" "the message names file, line, program and socket"

cat > "$T/bad2.conf" <<'CONF'
socket web {
  listen = "127.0.0.1:99999"
}
program app {
  command = "x"
  sockets = { "web" }
  drain-signal = "TERMINATE"
}
CONF
check_conf "$T/bad2.conf"
is "$STATUS" 1 "bad address and signal fail"
like "$OUT" "bad2.conf:2: .*port" "a bad port is reported on its line"
like "$OUT" "bad2.conf:7: .*TERMINATE" "a bad signal is reported on its line"

check_conf "$T/missing.conf"
is "$STATUS" 1 "a missing file fails with status 1"

out=$(timeout 10 "$SEGUE" -c "$T/bad.conf" 2>&1); status=$?
is "$status" 1 "segue refuses to start on a bad config, status 1"
