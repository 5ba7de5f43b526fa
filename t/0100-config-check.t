#!/bin/sh
# 0100-config-check.t: segue -t reports config problems as FILE:LINE and exits 0/1.
# SPDX-License-Identifier: MIT
. "$top_srcdir/t/lib.sh"
plan 19

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

# restart-delay has a floor of 10ms: "0" would respawn a crashing worker
# hundreds of times a second.
cat > "$T/fast.conf" <<'CONF'
program app {
  command = "x"

  restart-delay = "0"
}
CONF
out=$("$SEGUE" -t -c "$T/fast.conf" 2>&1); status=$?
is "$status" 1 "restart-delay 0 fails -t"
like "$out" "^$T/fast.conf:4: program \"app\": restart-delay: must be at least 10ms" \
	"the message names file, line and the floor"

# A control or unix: path longer than sun_path (107 bytes) is refused at
# config time, not overflowed at bind time.
long="/tmp/$(printf '%0103d' 0)"
cat > "$T/long.conf" <<CONF
control = "$long"
program app {
  command = "x"
}
CONF
out=$("$SEGUE" -t -c "$T/long.conf" 2>&1); status=$?
is "$status" 1 "a control path of 108 bytes fails -t"
like "$out" "^$T/long.conf:1: control: bad path \"$long\": unix socket path too long \\(at most 107 bytes\\)" \
	"the control path is reported on its line, with the limit"
cat > "$T/long2.conf" <<CONF
socket s {
  listen = "unix:$long"
}
program app {
  command = "x"
  sockets = { "s" }
}
CONF
out=$("$SEGUE" -t -c "$T/long2.conf" 2>&1)
like "$out" "^$T/long2.conf:2: socket \"s\": listen: bad address \"unix:$long\": unix socket path too long \\(at most 107 bytes\\)" \
	"a unix: listen path of 108 bytes is reported on its line, with the limit"

out=$("$SEGUE" -t -c "$T/good.conf" -s "$long" 2>&1); status=$?
is "$status" 1 "a --control path of 108 bytes fails -t"
like "$out" "^command line: --control: bad path \"$long\": unix socket path too long" \
	"and names the option"

out=$(timeout 10 "$SEGUE" -t -l "unix:$long" -s "$T/c.sock" -- true 2>&1); status=$?
is "$status" 1 "quick mode: a --listen unix: path of 108 bytes fails"
like "$out" "^command line: socket \"listen0\": listen: bad address \"unix:$long\": unix socket path too long \\(at most 107 bytes\\)" \
	"quick mode: the message gives the limit"

out=$(timeout 10 "$SEGUE" -t -l "127.0.0.1:0" -s "$long" -- true 2>&1); status=$?
is "$status" 1 "quick mode: a --control path of 108 bytes fails"
